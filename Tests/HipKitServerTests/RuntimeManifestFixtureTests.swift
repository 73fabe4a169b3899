import Foundation
import HipChatConnect
import HipKit
import Testing

/// The server tests' `dist/_hipkit/runtime.json` is what `hipkit build` would write for those
/// values: decoding it and encoding it again with the build's encoder gives the same bytes, and
/// the build's validator finds nothing wrong. So the fixture cannot drift from the contract the
/// build and the server share.
@Suite struct RuntimeManifestFixtureTests {
    static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/dist/_hipkit/runtime.json")

    @Test func theFixtureIsWhatTheBuildWrites() throws {
        let bytes = try Data(contentsOf: Self.source)
        let (manifest, problems) = RuntimeManifest.decode(bytes, file: RuntimeManifest.path)
        let decoded = try #require(manifest, "\(problems)")
        #expect(RuntimeManifestValidator().validate(decoded).isEmpty)
        if ProcessInfo.processInfo.environment["HIPKIT_UPDATE_GOLDEN"] == "1" {
            try decoded.encoded().write(to: Self.source)
            return
        }
        #expect(
            decoded.encoded() == bytes,
            "Fixtures/dist/_hipkit/runtime.json is not in the build's encoding; HIPKIT_UPDATE_GOLDEN=1 rewrites it")
        #expect(decoded.webhooks.count == 3 && decoded.settings?.fields.count == 4 && decoded.glances.count == 1)
    }
}
