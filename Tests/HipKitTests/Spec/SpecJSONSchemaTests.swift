import Foundation
import HipChatConnect
import Testing

@testable import HipKit

/// The editor schema of addon.yaml accepts every example and scaffold, and rejects a broken
/// field — checked by an independent validator (Python's jsonschema).
@Suite struct SpecJSONSchemaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..")
        .standardizedFileURL

    /// addon.yaml as JSON, read by hipkit's YAML layer.
    static func json(ofSpec url: URL) throws -> Data {
        let result = YAMLComposer().compose(Array(try Data(contentsOf: url)), file: url.path)
        var diagnostics: [Diagnostic] = []
        let node = JSONNode.from(try #require(result.root), diagnostics: &diagnostics)
        return Data(JSONWriter.string(node.withoutLocations).utf8)
    }

    static func check(_ specs: [URL]) throws -> (Bool, String) {
        let dir = try TestSupport.temporaryDirectory("schema")
        defer { try? FileManager.default.removeItem(at: dir) }
        let schema = dir.appendingPathComponent("schema.json")
        try Data(JSONWriter.string(SpecJSONSchema.make()).utf8).write(to: schema)
        var instances: [String] = []
        for (i, spec) in specs.enumerated() {
            let file = dir.appendingPathComponent("instance-\(i).json")
            try json(ofSpec: spec).write(to: file)
            instances.append(file.path)
        }
        let run = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", TestSupport.fixture("schema/instance.py").path, schema.path] + instances)
        return (run.status == 0, run.stdout + run.stderr)
    }

    @Test func everyExampleAndScaffoldValidates() throws {
        let examples = try FileManager.default.contentsOfDirectory(
            atPath: Self.root.appendingPathComponent("examples").path
        ).sorted()
            .map { Self.root.appendingPathComponent("examples/\($0)/addon.yaml") }
            .filter { FileManager.default.fileExists(atPath: $0.path) }
        let scaffolds = ProjectScaffolder.templates.map {
            Self.root.appendingPathComponent("templates/scaffolds/\($0)/addon.yaml")
        }
        #expect(!examples.isEmpty && !scaffolds.isEmpty)
        let (ok, output) = try Self.check(examples + scaffolds)
        #expect(ok, "\(output)")
    }

    @Test(arguments: [
        ("glances:\n  - {key: g, name: G, icon: /i.png, weight: heavy}\n", "weight"),
        ("actions:\n  - {key: a, name: A, location: sideways, target: d}\n", "location"),
        ("scopes: [view_rooms]\n", "scopes"),
        ("instal: {global: true}\n", "instal"),
        ("dialogs:\n  - {key: 'bad key', title: T, url: /d}\n", "key"),
    ])
    func aBrokenFieldFails(_ body: String, _ field: String) throws {
        let dir = try TestSupport.project(
            "key: com.example.s\nname: S\ndescription: d\nbaseUrl: https://s.example.com\n" + body,
            name: "schema-broken")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (ok, output) = try Self.check([dir.appendingPathComponent("addon.yaml")])
        #expect(!ok)
        #expect(output.contains(field), "\(output)")
        // hipkit's own validator agrees.
        #expect(!(try TestSupport.load(dir).diagnostics.isEmpty))
    }

    @Test func initWritesTheSchemaBesideTheSpec() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let project = root.appendingPathComponent("p")
        _ = try ProjectScaffolder().create(template: "full", in: project, values: .defaults(forFolder: "p"))
        let spec = try String(contentsOf: project.appendingPathComponent("addon.yaml"), encoding: .utf8)
        #expect(spec.hasPrefix("# yaml-language-server: $schema=./addon.schema.json\n"))
        let schema = try Data(contentsOf: project.appendingPathComponent("addon.schema.json"))
        #expect(schema == Data(JSONWriter.string(SpecJSONSchema.make()).utf8))
    }
}
