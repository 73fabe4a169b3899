import HipChatConnect
import Testing

@testable import HipKit

@Suite struct YAMLEmitterTests {
    /// Emitting and reading back gives the same value, whatever the strings hold.
    @Test(arguments: [
        "true", "100", "1:1", "yes", "null", "", " padded ", "a: b", "#hash", "- dash", "line\nbreak\n",
        "{{localBaseUrl}}", "${host}/x", "quote \" and ' both", "ünïcödé ✓", "0x10", "1e3", "@at", "`tick`", "*star",
    ])
    func roundTripsStrings(_ s: String) throws {
        let node = JSONNode.object([JSONMember("v", .string(s)), JSONMember("list", .array([.string(s)]))])
        let text = YAMLEmitter().emit(node)
        let back = try #require(YAMLComposer().compose(text, file: "t").root)
        var diagnostics: [Diagnostic] = []
        #expect(JSONNode.from(back, diagnostics: &diagnostics).withoutLocations == node, "emitted: \(text)")
    }

    @Test func writesSmallCollectionsOnOneLine() {
        let node = JSONNode.object([
            JSONMember(
                "vendor",
                .object([JSONMember("name", .string("Example")), JSONMember("url", .string("https://example.com"))])),
            JSONMember("scopes", .array([.string("send_notification"), .string("view_room")])),
        ])
        let text = YAMLEmitter().emit(node)
        #expect(
            text.contains("vendor: {name: Example, url: 'https://example.com'}")
                || text.contains("vendor: {name: Example, url: https://example.com}"))
        #expect(text.contains("scopes: [send_notification, view_room]"))
    }
}
