import Crypto
import Foundation
import HipChatConnect
import Testing

@testable import HipKit

/// `hipkit build` of every example and scaffold gives the bytes recorded in
/// `Fixtures/golden/NAME/`: the whole descriptor, and a SHA-256 of every other file of `dist/`.
///
/// The record is what keeps refactoring honest: a change to any output byte fails here, and
/// lands only with the record written again (`HIPKIT_UPDATE_GOLDEN=1 swift test --filter
/// GoldenOutputTests`) and the change named in CHANGELOG.md.
@Suite struct GoldenOutputTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..")
        .standardizedFileURL
    static let goldenFolder = root.appendingPathComponent("Tests/HipKitTests/Fixtures/golden")
    static var updating: Bool { ProcessInfo.processInfo.environment["HIPKIT_UPDATE_GOLDEN"] == "1" }

    /// `example NAME` (built for its default and `dev` environments) and `scaffold NAME`.
    static let cases: [String] =
        ScaffoldsAndExamplesTests.examples.flatMap { ["example \($0)", "example \($0) --env dev"] }
        + ProjectScaffolder.templates.map { "scaffold \($0)" }

    @Test(arguments: cases)
    func buildGivesTheRecordedBytes(_ name: String) throws {
        let parts = name.split(separator: " ").map(String.init)
        let scratch = try TestSupport.temporaryDirectory("golden")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let project = scratch.appendingPathComponent("project")
        if parts[0] == "example" {
            try FileManager.default.copyItem(at: Self.root.appendingPathComponent("examples/\(parts[1])"), to: project)
            try? FileManager.default.removeItem(at: project.appendingPathComponent("dist"))
            try? FileManager.default.removeItem(at: project.appendingPathComponent(".hipkit"))
        } else {
            let made = try TestSupport.hipkit([
                "init", project.path, "--template", parts[1], "--key", "com.example.golden", "--name", "Golden",
                "--base-url", "https://golden.example.com",
            ])
            #expect(made.status == 0, "\(made.stderr)")
        }
        let out = scratch.appendingPathComponent("dist")
        let built = try TestSupport.hipkit(["build", project.path, "--out", out.path] + parts.dropFirst(2))
        try #require(built.status == 0, "\(name): \(built.stderr)")

        let record = Self.goldenFolder.appendingPathComponent(
            parts.joined(separator: "-").replacingOccurrences(of: "--", with: ""))
        let descriptor = try Data(contentsOf: out.appendingPathComponent("atlassian-connect.json"))
        let digests = try Self.digests(of: out)
        if Self.updating {
            try FileManager.default.createDirectory(at: record, withIntermediateDirectories: true)
            try descriptor.write(to: record.appendingPathComponent("atlassian-connect.json"))
            try Data(digests.utf8).write(to: record.appendingPathComponent("files.sha256"))
            return
        }
        let recordedDescriptor = try Data(contentsOf: record.appendingPathComponent("atlassian-connect.json"))
        #expect(
            descriptor == recordedDescriptor,
            "\(name): atlassian-connect.json differs from \(record.lastPathComponent)/atlassian-connect.json")
        let recorded = try String(contentsOf: record.appendingPathComponent("files.sha256"), encoding: .utf8)
        let changed = Self.differences(recorded, digests)
        #expect(changed.isEmpty, "\(name): files differ from the record: \(changed.joined(separator: ", "))")
    }

    /// `SHA256  path` lines for every file under `folder`, sorted by path.
    static func digests(of folder: URL) throws -> String {
        try FileTree.files(under: folder).sorted().map { path in
            let digest = SHA256.hash(data: try Data(contentsOf: folder.appendingPathComponent(path)))
            return digest.map { String(format: "%02x", $0) }.joined() + "  " + path + "\n"
        }.joined()
    }

    /// The paths whose digest differs, or that only one side has.
    static func differences(_ recorded: String, _ actual: String) -> [String] {
        func table(_ text: String) -> [String: Substring] {
            Dictionary(
                text.split(separator: "\n").map { line in
                    let parts = line.split(separator: " ", maxSplits: 1)
                    return (parts.last.map { String($0.drop { $0 == " " }) } ?? "", parts[0])
                }, uniquingKeysWith: { a, _ in a })
        }
        let a = table(recorded)
        let b = table(actual)
        return Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted()
    }
}
