import Foundation
import HipChatConnect
import Testing

@testable import HipKit

/// Every scaffold makes a project that validates with no warnings and builds, every example
/// builds with no warnings, and every descriptor they give passes HipChat's official schema.
@Suite struct ScaffoldsAndExamplesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..")
        .standardizedFileURL
    static let examples: [String] =
        ((try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("examples").path)) ?? [])
        .filter {
            FileManager.default.fileExists(atPath: root.appendingPathComponent("examples/\($0)/addon.yaml").path)
        }.sorted()

    @Test func thereAreFiveScaffoldsAndFourExamples() {
        #expect(
            Set(ProjectScaffolder.templates).isSuperset(of: [
                "full", "glance", "slash-command", "configurable", "dialog",
            ]))
        #expect(Self.examples.count >= 4)
        for name in ProjectScaffolder.templates {
            #expect(!ProjectScaffolder.about(name).isEmpty, "\(name) has no about.txt")
        }
    }

    @Test(arguments: ProjectScaffolder.templates)
    func scaffoldBuildsCleanly(_ template: String) throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let project = root.appendingPathComponent("made-from-\(template)")
        _ = try ProjectScaffolder().create(
            template: template, in: project,
            values: .init(key: "com.example.made", name: "Made", baseUrl: "https://made.example.com"))
        try check(project, name: template)
    }

    /// Names that YAML would read as something else, or not at all, if written plain.
    @Test(arguments: [
        "Team #1", "Ops: Alerts", "Yes", "100", "'Quoted' \"name\"", "[Build] bot", "- dash", "Ünïcödé ✓",
    ])
    func anyOneLineNameReadsBackAsItself(_ name: String) throws {
        let project = try TestSupport.temporaryDirectory("named")
        defer { try? FileManager.default.removeItem(at: project) }
        for template in ProjectScaffolder.templates {
            let folder = project.appendingPathComponent(template)
            _ = try ProjectScaffolder().create(
                template: template, in: folder,
                values: .init(key: "com.example.named", name: name, baseUrl: "https://named.example.com"))
            let build = try ProjectBuild.prepare(folder.path, checkOnly: true)
            #expect(!build.hasErrors, "\(template): \(build.diagnostics.map(\.message))")
            #expect(build.project?.descriptor.name == name, "\(template)")
        }
    }

    @Test func aNameOfMoreThanOneLineIsRefused() throws {
        let project = try TestSupport.temporaryDirectory("named")
        defer { try? FileManager.default.removeItem(at: project) }
        #expect(throws: HipKitError.self) {
            try ProjectScaffolder().create(
                template: "full", in: project.appendingPathComponent("x"),
                values: .init(key: "com.example.named", name: "Two\nlines", baseUrl: "https://named.example.com"))
        }
        #expect(!FileManager.default.fileExists(atPath: project.appendingPathComponent("x").path))
    }

    @Test(arguments: examples)
    func exampleBuildsCleanly(_ example: String) throws {
        try check(Self.root.appendingPathComponent("examples/\(example)"), name: example)
    }

    func check(_ project: URL, name: String) throws {
        let build = try ProjectBuild.prepare(project.path)
        #expect(
            build.diagnostics.isEmpty,
            "\(name): \(build.diagnostics.map { "\($0.code) \($0.location?.description ?? ""): \($0.message)" })")
        let out = try TestSupport.temporaryDirectory("out")
        defer { try? FileManager.default.removeItem(at: out) }
        try build.write(to: out.appendingPathComponent("dist"))
        let (ok, output) = try SchemaConformanceTests.conforms([
            out.appendingPathComponent("dist/atlassian-connect.json")
        ])
        #expect(ok, "\(name): \(output)")
    }
}
