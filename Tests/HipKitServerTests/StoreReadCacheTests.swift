import Foundation
import HipChatConnect
import Testing

@testable import HipKitServer

/// The SQLite store keeps what every JWT-checked request reads (the installation, the glance
/// data) in memory: a write through the store is seen by the next read, and one by another
/// process on the same file within ``StoreReadCache/lifetime``.
@Suite struct StoreReadCacheTests {
    @Test func writesThroughTheStoreAreSeenAtOnce() async throws {
        let location = try await StoreLocation.make(.sqlite)
        defer { location.remove() }
        try await location.with { store in
            try await store.upsert(Fixture.installation())
            #expect(try await store.installation(oauthId: Fixture.oauthId)?.oauthSecret == Fixture.secret)
            var changed = Fixture.installation()
            changed.oauthSecret = Fixture.otherSecret
            try await store.upsert(changed)
            #expect(try await store.installation(oauthId: Fixture.oauthId)?.oauthSecret == Fixture.otherSecret)
            #expect(try await store.deleteInstallation(oauthId: Fixture.oauthId))
            #expect(try await store.installation(oauthId: Fixture.oauthId) == nil)

            #expect(try await store.glanceData(key: "g", room: 7) == nil)
            _ = try await store.putGlanceData(.object(["label": .string("one")]), key: "g", room: 7)
            #expect(try await store.glanceData(key: "g", room: 7)?["label"] == .string("one"))
            #expect(try await store.glanceData(key: "g", room: nil) == nil)
            _ = try await store.putGlanceData(.object(["label": .string("two")]), key: "g", room: 7)
            #expect(try await store.glanceData(key: "g", room: 7)?["label"] == .string("two"))
        }
    }

    @Test func aWriteByAnotherProcessIsSeenWithinTheLifetime() async throws {
        let location = try await StoreLocation.make(.sqlite)
        defer { location.remove() }
        let server = try await location.open()
        let other = try await location.open()
        do {
            try await server.upsert(Fixture.installation())
            #expect(try await server.installation(oauthId: Fixture.oauthId) != nil)
            #expect(try await server.glanceData(key: "g", room: nil) == nil)
            #expect(try await other.deleteInstallation(oauthId: Fixture.oauthId))
            _ = try await other.putGlanceData(.object(["label": .string("elsewhere")]), key: "g", room: nil)
            let deadline = ContinuousClock.now + StoreReadCache<String, Int>.lifetime * 3
            var seen = false
            while ContinuousClock.now < deadline {
                if try await server.installation(oauthId: Fixture.oauthId) == nil,
                    try await server.glanceData(key: "g", room: nil)?["label"] == .string("elsewhere")
                {
                    seen = true
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(seen, "the other process's uninstall and glance update were seen")
        }
        try await server.close()
        try await other.close()
    }

    @Test func base64URLSegmentsDecodeAsFoundationDecodesBase64() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let standard = Data(bytes).base64EncodedString()
            let url = standard.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            let unpadded = url.replacingOccurrences(of: "=", with: "")
            for form in [standard, url, unpadded] {
                #expect(Base64URL.decode(Substring(form)) == Data(bytes), "\(form)")
            }
        }
        for bad in ["a", "abcde", "ab=c", "a b", "ab.c", "é"] {
            #expect(Base64URL.decode(Substring(bad)) == nil, "\(bad)")
        }
    }
}
