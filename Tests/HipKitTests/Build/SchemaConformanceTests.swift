import Foundation
import HipChatConnect
import Testing

@testable import HipKit

/// What `hipkit build` writes passes HipChat's official schema, checked by an independent
/// validator (Python's jsonschema), not by hipkit's own rules.
@Suite struct SchemaConformanceTests {
    static func conforms(_ files: [URL]) throws -> (Bool, String) {
        let run = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            ["python3", TestSupport.fixture("schema/conformance.py").path] + files.map(\.path))
        return (run.status == 0, run.stdout + run.stderr)
    }

    @Test func scaffoldDescriptorConforms() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let project = root.appendingPathComponent("p")
        _ = try ProjectScaffolder().create(template: "full", in: project, values: .defaults(forFolder: "p"))
        let build = try ProjectBuild.prepare(project.path)
        #expect(!build.hasErrors, "\(build.diagnostics)")
        try build.write(to: root.appendingPathComponent("dist"))
        let (ok, output) = try Self.conforms([root.appendingPathComponent("dist/atlassian-connect.json")])
        #expect(ok, "\(output)")
    }

    @Test(arguments: DescriptorFileTests.shapes)
    func importedDescriptorsRebuildToConformingOnes(_ name: String) throws {
        let source = try #require(
            try ProjectLoader().loadDescriptorFile(TestSupport.fixture("descriptors/" + name).path).project?.descriptor
                .json)
        let dir = try TestSupport.project(
            SpecFileWriter.text(for: DescriptorImporter().spec(from: source), header: []), name: "conform")
        defer { try? FileManager.default.removeItem(at: dir) }
        let build = try ProjectBuild.prepare(dir.path, options: LoadOptions(baseUrl: "https://c.example.com"))
        // The imported views and images were the add-on's own server's; this build does not
        // answer them, which is its only complaint. The descriptor is what is checked here.
        #expect(build.diagnostics.filter { $0.severity == .error && $0.code != .unansweredUrl }.isEmpty)
        let descriptor = try #require(build.files.first { $0.path == ConnectDescriptor.fileName })
        let file = dir.appendingPathComponent("atlassian-connect.json")
        try descriptor.data.write(to: file)
        let (ok, output) = try Self.conforms([file])
        #expect(ok, "\(output)")
    }

    @Test func theCheckerCanFail() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.json")
        try TestSupport.write(#"{"key": "k", "name": "n", "description": "d", "links": {}}"#, to: file)
        #expect(try Self.conforms([file]).0 == false)
    }
}
