import Foundation
import HipChatConnect
import Testing

@testable import HipKit

/// `hipkit import` then `hipkit build --base-url U` gives back the original descriptor, with its
/// placeholder replaced by U, once schema defaults are filled in and a lone webhook is a list.
@Suite struct ImportRoundTripTests {
    static let base = "https://round-trip.example.net"

    @Test(arguments: DescriptorFileTests.shapes)
    func importThenBuildGivesTheDescriptorBack(_ name: String) throws {
        let fixture = TestSupport.fixture("descriptors/" + name)
        let original = try ProjectLoader().loadDescriptorFile(fixture.path)
        let source = try #require(original.project?.descriptor.json)

        let spec = DescriptorImporter().spec(from: source)
        let text = SpecFileWriter.text(for: spec, header: ["test"])
        let dir = try TestSupport.project(text, name: "roundtrip")
        defer { try? FileManager.default.removeItem(at: dir) }

        let built = try TestSupport.load(dir, options: LoadOptions(baseUrl: Self.base))
        // The imported views and images were the add-on's own server's: this build does not
        // answer them, which is its only complaint (unanswered-url). The descriptor must match.
        #expect(
            built.diagnostics.filter { $0.severity == .error && $0.code != .unansweredUrl }.isEmpty,
            "\(built.diagnostics)\n\(text)")
        let descriptor = try #require(built.project?.descriptor.json)

        let rawText = try String(contentsOf: fixture, encoding: .utf8)
        let expectedText = rawText.replacingOccurrences(of: "{{localBaseUrl}}", with: Self.base).replacingOccurrences(
            of: "${host}", with: Self.base)
        let expectedRoot = try #require(YAMLComposer().compose(expectedText, file: "expected").root)
        var ignored: [Diagnostic] = []
        let expected = JSONNode.from(expectedRoot, diagnostics: &ignored)

        #expect(Self.normalised(descriptor) == Self.normalised(expected), "spec was:\n\(text)")
    }

    /// Object members sorted, schema defaults filled in, a lone webhook wrapped in a list.
    static func normalised(_ node: JSONNode) -> JSONNode {
        var d = node.withoutLocations
        if var caps = d["capabilities"] {
            if let w = caps["webhook"], w.isObject { caps["webhook"] = .array([w]) }
            if var inst = caps["installable"] {
                if inst["allowGlobal"] == nil { inst["allowGlobal"] = .bool(true) }
                if inst["allowRoom"] == nil { inst["allowRoom"] = .bool(true) }
                caps["installable"] = inst
            }
            if var conf = caps["configurable"] {
                if conf["authentication"] == nil { conf["authentication"] = .string("jwt") }
                if conf["allowAccessToRoomAdmins"] == nil { conf["allowAccessToRoomAdmins"] = .bool(false) }
                caps["configurable"] = conf
            }
            func fill(_ list: String, _ defaults: [(String, JSONNode)]) {
                guard let items = caps[list]?.arrayValue else { return }
                caps[list] = .array(
                    items.map { item in
                        var m = item
                        for (k, v) in defaults where m[k] == nil { m[k] = v }
                        return m
                    })
            }
            fill("webhook", [("authentication", .string("none"))])
            fill("glance", [("weight", JSONNode(.integer(100)))])
            fill("webPanel", [("weight", JSONNode(.integer(100))), ("authentication", .string("jwt"))])
            fill("action", [("weight", JSONNode(.integer(100)))])
            fill("dialog", [("authentication", .string("jwt"))])
            d["capabilities"] = caps
        }
        if d["apiVersion"] == nil { d["apiVersion"] = .string("1:1") }
        return sorted(d)
    }

    static func sorted(_ node: JSONNode) -> JSONNode {
        switch node.value {
        case .object(let members):
            return .object(members.sorted { $0.name < $1.name }.map { JSONMember($0.name, sorted($0.value)) })
        case .array(let items): return .array(items.map(sorted))
        default: return node
        }
    }

    @Test func placeholderURLsBecomeRelativeAndOthersStayAbsolute() throws {
        let source = JSONNode.object([
            JSONMember("key", .string("k")),
            JSONMember(
                "links",
                .object([
                    JSONMember("self", .string("{{localBaseUrl}}/atlassian-connect.json")),
                    JSONMember("homepage", .string("https://elsewhere.example.org/home")),
                ])),
            JSONMember(
                "capabilities",
                .object([
                    JSONMember(
                        "installable", .object([JSONMember("callbackUrl", .string("{{ localBaseUrl }}/installed"))]))
                ])),
        ])
        let spec = DescriptorImporter(baseUrl: "https://x.example.com").spec(from: source)
        #expect(spec["links"]?["self"] == nil)  // derived again by build
        #expect(spec["links"]?["homepage"]?.stringValue == "https://elsewhere.example.org/home")
        #expect(spec["install"]?["callbackUrl"]?.stringValue == "/installed")
        #expect(spec["baseUrl"]?.stringValue == "https://x.example.com")
    }

    /// `--base-url` with a trailing slash joins as the spec's baseUrl does, without `//`.
    @Test func aBaseUrlWithATrailingSlashJoinsWithOneSlash() throws {
        let source = try #require(
            JSONNode.parse(
                Data(
                    #"""
                    {"key": "com.example.slash", "name": "Slash", "description": "d",
                     "links": {"self": "{{localBaseUrl}}/atlassian-connect.json"},
                     "capabilities": {"webPanel": [{"key": "p", "name": {"value": "P"},
                                                    "url": "{{localBaseUrl}}/panel",
                                                    "location": "hipchat.sidebar.right"}]}}
                    """#.utf8)))
        let spec = DescriptorImporter(baseUrl: "https://x.example.com/sub/").spec(from: source)
        #expect(spec["baseUrl"]?.stringValue == "https://x.example.com/sub")
        let text = SpecFileWriter.text(for: spec, header: [])
        #expect(text.contains("https://x.example.com/sub/panel"), "\(text)")
        #expect(!text.contains("sub//"), "\(text)")
    }

    /// A module list of the wrong type is kept under `extra:` as written, so nothing is lost and
    /// the build reports it; it was dropped (`glances: []`), and the spec built without a word.
    @Test func aModuleListOfTheWrongTypeIsKeptUnderExtra() throws {
        let source = try #require(
            JSONNode.parse(
                Data(
                    #"{"key": "com.example.typed", "name": "T", "description": "d", "capabilities": {"glance": "nope", "webPanel": 3}}"#
                        .utf8)))
        let spec = DescriptorImporter(baseUrl: "https://x.example.com").spec(from: source)
        #expect(spec["glances"] == nil)
        #expect(spec["sidebars"] == nil)
        #expect(spec["extra"]?["capabilities"]?["glance"]?.stringValue == "nope")
        #expect(spec["extra"]?["capabilities"]?["webPanel"]?.value == .integer(3))
    }

    @Test func writtenSpecReadsWell() throws {
        let fixture = TestSupport.fixture("descriptors/shape04-dialog-options.json.tmpl")
        let source = try #require(try ProjectLoader().loadDescriptorFile(fixture.path).project?.descriptor.json)
        let text = SpecFileWriter.text(for: DescriptorImporter().spec(from: source), header: ["Imported"])
        #expect(text.hasPrefix("# Imported\n\nkey: "))
        #expect(text.contains("baseUrl: http://localhost:8080"))
        #expect(text.contains("location: input"))
        #expect(!text.contains("{{localBaseUrl}}"))
    }
}
