import Foundation
import HipChatConnect
import Testing

@testable import HipKit

/// `hipkit build` skipping its work when nothing it reads has changed (``InputStamp``), and
/// never skipping it when something has.
@Suite struct UpToDateTests {
    static let spec = """
        key: com.example.stamp
        name: Stamp
        description: Checks when a build may be skipped.
        vendor: {name: Example, url: "https://example.com"}
        baseUrl: https://stamp.example.com
        sidebars:
          - {key: side, name: Side, page: pages/side.md}
        """

    /// Whether a build of `dir` into dist/ may be skipped now.
    func skippable(_ dir: URL, baseUrl: String? = nil) -> Bool {
        ProjectBuild.check(dir.path, options: LoadOptions(baseUrl: baseUrl), output: dir.appendingPathComponent("dist"))
            .upToDateFiles != nil
    }

    func build(_ dir: URL, _ extra: [String] = []) throws -> String {
        let run = try TestSupport.hipkit(["build", dir.path] + extra)
        #expect(run.status == 0, "\(run.stderr)")
        return run.stdout + run.stderr
    }

    /// The record of the last build reads back as written, whatever its paths hold, and
    /// anything else (a damaged or older record) reads as none.
    @Test func theBuildRecordReadsBackAsWritten() throws {
        let files = [
            "index.html": BuildRecord.File(
                digest: String(repeating: "ab", count: 32), size: 7267, seconds: 1_700_000_000, nanoseconds: 123_456_789
            ),
            "a b/c d.html": BuildRecord.File(digest: "", size: -1, seconds: -1, nanoseconds: 0),
            "back\\slash\\n.png": BuildRecord.File(digest: "d", size: 1 << 40, seconds: 0, nanoseconds: 1),
            "line\nfeed é 日本.html": BuildRecord.File(
                digest: "e", size: 3, seconds: 1_733_440_000, nanoseconds: 987_654_321),
        ]
        for inputs in ["0123abcd", nil, "with space\\and\nline"] as [String?] {
            let record = BuildRecord(output: "/tmp/x y\\z/dist", files: files, inputs: inputs)
            #expect(BuildRecord(text: Data(record.text.utf8)) == record)
        }
        let empty = BuildRecord(output: "/d", files: [:], inputs: nil)
        #expect(BuildRecord(text: Data(empty.text.utf8)) == empty)
        let text = BuildRecord(output: "/d", files: files, inputs: "s").text
        for damaged in [
            "", String(text.dropLast()), text.replacingOccurrences(of: "7267", with: "x"),
            text.replacingOccurrences(of: BuildRecord.header, with: "hipkit build record 2"),
            text.replacingOccurrences(of: ".123456789 ", with: ".12345678 "),
            text.replacingOccurrences(of: ".123456789 ", with: ".-23456789 "),
            text.replacingOccurrences(of: ".123456789 ", with: " "),
            text.replacingOccurrences(of: "1700000000.", with: "1.7e9."),
            text.replacingOccurrences(of: " 7267 ", with: " 12345678901234567890 "),
            text + "abc 1\n", text + "abc 1 2 bad\\qpath\n", #"{"output": "/d", "files": {}}"# + "\n",
        ] {
            #expect(BuildRecord(text: Data(damaged.utf8)) == nil, "\(damaged.prefix(60).debugDescription)")
        }
    }

    @Test func skipsOnlyWhenNothingChanged() throws {
        let dir = try TestSupport.project(Self.spec, files: ["pages/side.md": "# Side\n\nFirst.\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(!skippable(dir))
        #expect(try build(dir).contains("built"))
        let first = try TestSupport.snapshot(dir.appendingPathComponent("dist"))
        #expect(skippable(dir))
        #expect(try build(dir).contains("is up to date"))
        #expect(try TestSupport.snapshot(dir.appendingPathComponent("dist")) == first)

        // An edit: built again, and the output is what a clean build gives.
        try TestSupport.write("# Side\n\nSecond.\n", to: dir.appendingPathComponent("pages/side.md"))
        #expect(!skippable(dir))
        #expect(try build(dir).contains("built"))
        let edited = try TestSupport.snapshot(dir.appendingPathComponent("dist"))
        #expect(edited != first)
        let clean = try TestSupport.temporaryDirectory("clean")
        defer { try? FileManager.default.removeItem(at: clean) }
        _ = try build(dir, ["--no-cache", "--out", clean.appendingPathComponent("dist").path])
        #expect(try TestSupport.snapshot(clean.appendingPathComponent("dist")) == edited)
        #expect(skippable(dir))

        // A new file anywhere in the project, other options, or a damaged output: not skipped.
        try TestSupport.write("notes", to: dir.appendingPathComponent("notes.txt"))
        #expect(!skippable(dir))
        _ = try build(dir)
        #expect(skippable(dir))
        #expect(!skippable(dir, baseUrl: "https://other.example.com"))
        try TestSupport.write("tampered", to: dir.appendingPathComponent("dist/side.html"))
        #expect(!skippable(dir))
        _ = try build(dir)
        #expect(
            try TestSupport.snapshot(dir.appendingPathComponent("dist")) == edited, "the tampered file is written again"
        )
        try TestSupport.write("stray", to: dir.appendingPathComponent("dist/stray.html"))
        #expect(!skippable(dir), "a file added to the output")
    }

    @Test func neverSkipsABuildWithWarnings() throws {
        // An unknown field draws a warning, which must be shown on every build.
        let dir = try TestSupport.project(Self.spec + "\nfromNme: Stamp\n", files: ["pages/side.md": "# Side\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try build(dir).contains("warning"))
        #expect(!skippable(dir))
        #expect(try build(dir).contains("warning"), "shown again on the next build")
    }

    @Test func aProjectWithSymbolicLinksHasNoStamp() throws {
        let dir = try TestSupport.project(Self.spec, files: ["pages/real.md": "# Side\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createSymbolicLink(
            atPath: dir.appendingPathComponent("pages/side.md").path, withDestinationPath: "real.md")
        #expect(InputStamp.compute(projectDirectory: dir, options: LoadOptions()) == nil)
        let plain = try TestSupport.project(Self.spec, files: ["pages/side.md": "# Side\n"])
        defer { try? FileManager.default.removeItem(at: plain) }
        #expect(InputStamp.compute(projectDirectory: plain, options: LoadOptions()) != nil)
    }
}
