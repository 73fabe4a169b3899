import Foundation
import HipChatConnect
import Testing

@testable import HipKit

/// The bad-input corpus in `Fixtures/bad-inputs`: broken specs, pages, templates and descriptors,
/// each with the diagnostics it must produce. None may crash, and none may take long.
///
/// `expected.tsv` has one line per expected diagnostic:
/// `case <TAB> code <TAB> file-suffix <TAB> line <TAB> exit [<TAB> text]`.
/// - `case` is a folder (a project) or a `.json` file under `bad-inputs`, or `generate:NAME` for an
///   input too big to commit, which ``generate(_:in:)`` writes at test time.
/// - `code` must be reported on `line` of the file whose path ends in `file-suffix`; a code written
///   `!code` must *not* be (a misleading follow-on diagnostic). `io-error` means hipkit cannot read
///   the input at all: `ProjectBuild.prepare` throws a ``HipKitError``.
/// - `exit` is the status `hipkit validate` must exit with: 0 (warnings only), 1 (errors) or 2 (I/O).
/// - `text`, when given, must appear in the diagnostic's message or hint (a "did you mean" hint).
@Suite(.serialized) struct BadInputCorpusTests {
    struct Expectation: Sendable {
        var code: String
        var file: String
        var line: Int
        var text: String

        var mustBeAbsent: Bool { code.hasPrefix("!") }

        func matches(_ d: Diagnostic, code: String) -> Bool {
            guard d.code.rawValue == code, let location = d.location, location.line == line else { return false }
            guard location.file == file || location.file.hasSuffix("/" + file) else { return false }
            return text.isEmpty || d.message.contains(text) || (d.hint?.contains(text) ?? false)
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var exit: Int32
        var expectations: [Expectation]
        var testDescription: String { name }
        var generated: Bool { name.hasPrefix("generate:") }
        var expectsIOError: Bool { expectations.contains { $0.code == "io-error" } }
    }

    /// Each case's work must stay well within this, in CPU time of the checking thread, even in a
    /// debug build. The bound is on CPU time, not the clock, so that a loaded machine cannot fail it.
    static let timeBound: Duration = .seconds(5)

    /// A case that never finishes would otherwise hang the run; this catches it on the clock, set far
    /// above ``timeBound`` so that load alone cannot reach it.
    static let hangBound: Duration = .seconds(60)

    static var corpus: URL { TestSupport.fixture("bad-inputs") }

    /// The lines of expected.tsv, split into columns; comments left out.
    static let rows: [[String]] = {
        guard let text = try? String(contentsOf: corpus.appendingPathComponent("expected.tsv"), encoding: .utf8) else {
            return []
        }
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
    }()

    static let cases: [Case] = {
        var order: [String] = []
        var byName: [String: Case] = [:]
        for columns in rows {
            guard columns.count >= 5, let line = Int(columns[3]), let exit = Int32(columns[4]) else { continue }
            let expectation = Expectation(
                code: columns[1], file: columns[2], line: line, text: columns.count > 5 ? columns[5] : "")
            if byName[columns[0]] == nil {
                order.append(columns[0])
                byName[columns[0]] = Case(name: columns[0], exit: exit, expectations: [])
            }
            byName[columns[0]]!.expectations.append(expectation)
        }
        return order.compactMap { byName[$0] }
    }()

    @Test func theCorpusHasAtLeastAHundredCasesAllListed() throws {
        #expect(Self.cases.count >= 100)
        var exits: [String: Set<String>] = [:]
        for columns in Self.rows {
            let wellFormed =
                (5...6).contains(columns.count) && Int(columns[3]) != nil && ["0", "1", "2"].contains(columns[4])
            #expect(wellFormed, "malformed line in expected.tsv: \(columns.joined(separator: " | "))")
            if wellFormed { exits[columns[0], default: []].insert(columns[4]) }
        }
        for (name, statuses) in exits where statuses.count > 1 {
            Issue.record("\(name) has lines with different exit statuses: \(statuses.sorted())")
        }
        let listed = Set(Self.cases.map(\.name))
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).filter {
            !["expected.tsv", "README.md", "known-failures.txt"].contains($0) && !$0.hasPrefix(".")
        }
        for name in onDisk where !listed.contains(name) {
            Issue.record("bad-inputs/\(name) has no line in expected.tsv")
        }
        for c in Self.cases where !c.generated && !onDisk.contains(c.name) {
            Issue.record("expected.tsv names \(c.name), which is not in bad-inputs")
        }
        for c in Self.cases where c.generated {
            let dir = try TestSupport.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            do { _ = try Self.generate(c.name, in: dir) } catch { Issue.record("\(error)") }
        }
    }

    /// Runs the case through the command line first (a crash there ends only that process, so it is
    /// reported here instead of ending the test run), then in-process through the loader and the
    /// site renderer, timed, and checks every expectation.
    /// Cases that show open bugs (listed, with what is wrong, in bad-inputs/known-failures.txt).
    /// They stay out of the run until fixed; each fix removes its line.
    static let knownFailures: Set<String> = {
        guard let text = try? String(contentsOf: corpus.appendingPathComponent("known-failures.txt"), encoding: .utf8)
        else { return [] }
        return Set(
            text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }.map {
                String($0.split(separator: " ").first ?? "")
            })
    }()

    static let runnable: [Case] = cases.filter { !knownFailures.contains($0.name) }

    @Test(arguments: runnable)
    func eachCaseGivesItsDiagnosticsQuickly(_ c: Case) throws {
        let scratch = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let path =
            c.generated ? try Self.generate(c.name, in: scratch) : Self.corpus.appendingPathComponent(c.name).path

        let clock = ContinuousClock()
        let start = clock.now
        let run = try TestSupport.hipkit(["validate", path])
        let cliTime = clock.now - start
        guard [0, 1, 2].contains(run.status) else {
            Issue.record("hipkit validate crashed (status \(run.status)) after \(cliTime):\n\(run.stderr.prefix(1500))")
            return
        }
        #expect(
            run.status == c.exit,
            "hipkit validate exited with \(run.status), not \(c.exit):\n\(run.stderr.prefix(2000))")

        var build: ProjectBuild?
        var thrown: (any Error)?
        var cpu: Duration = .zero
        let time = clock.measure {
            cpu = ThreadCPUTime.measure {
                do {
                    let b = try ProjectBuild.prepare(path)
                    _ = DiagnosticRenderer(useColor: false).human(b.diagnostics, sources: b.sources)
                    _ = DiagnosticRenderer.json(b.diagnostics)
                    build = b
                } catch {
                    thrown = error
                }
            }
        }
        #expect(cpu < Self.timeBound, "took \(cpu) of CPU time in-process (\(time) on the clock)")
        #expect(time < Self.hangBound, "took \(time) in-process (and \(cliTime) on the command line)")

        if c.expectsIOError {
            #expect(thrown is HipKitError, "expected an I/O error, got \(thrown.map { "\($0)" } ?? "a build")")
            return
        }
        #expect(thrown == nil, "prepare threw \(thrown.map { "\($0)" } ?? "")")
        let diagnostics = build?.diagnostics ?? []
        let shown =
            diagnostics.prefix(40).map { d in
                "\(d.location.map { "\(($0.file as NSString).lastPathComponent):\($0.line)" } ?? "-") \(d.code): \(d.message.prefix(160))"
            }.joined(separator: "\n") + (diagnostics.count > 40 ? "\n… and \(diagnostics.count - 40) more" : "")
        for e in c.expectations {
            if e.mustBeAbsent {
                let code = String(e.code.dropFirst())
                #expect(
                    !diagnostics.contains { e.matches($0, code: code) },
                    "\(code) must not be reported at \(e.file):\(e.line); got:\n\(shown)")
            } else {
                #expect(
                    diagnostics.contains { e.matches($0, code: e.code) },
                    "expected \(e.code) at \(e.file):\(e.line)\(e.text.isEmpty ? "" : " saying \"\(e.text)\""); got:\n\(shown)"
                )
            }
        }
        #expect(
            diagnostics.hasErrors == (c.exit == 1),
            "errors found: \(diagnostics.hasErrors), but the expected exit is \(c.exit)")
    }

    // MARK: Inputs too big to commit

    static let header =
        "key: com.example.bad\nname: Bad Inputs\ndescription: One defect per case.\nbaseUrl: https://bad.example.com\n"

    /// Writes the generated case `name` (`generate:NNN-what`) into `dir`; returns the path to validate.
    static func generate(_ name: String, in dir: URL) throws -> String {
        let what = String(name.drop { $0 != "-" }.dropFirst())
        let megabytes2 = 2 << 20
        func spec(_ body: String) throws -> String {
            try Data((header + body).utf8).write(to: dir.appendingPathComponent("addon.yaml"))
            return dir.path
        }
        switch what {
        case "input-too-large":
            return try spec("extra:\n  x-pad: '" + String(repeating: "x", count: 9 << 20) + "'\n")
        case "two-megabyte-glance-name":
            return try spec(
                "glances:\n  - key: g\n    name: " + String(repeating: "n", count: megabytes2) + "\n    icon: /i.png\n")
        case "two-megabyte-webhook-event":
            return try spec(
                "webhooks:\n  - url: /hook\n    event: " + String(repeating: "room_mesage", count: megabytes2 / 11)
                    + "\n")
        case "two-hundred-kilobyte-plain-key":
            return try spec(String(repeating: "k", count: 200_000) + ": 1\n")
        case "two-hundred-kilobyte-explicit-key":
            return try spec("? " + String(repeating: "k", count: 200_000) + "\n: 1\n")
        case "two-hundred-kilobyte-condition-name":
            return try spec(
                "glances:\n  - key: g\n    name: G\n    icon: /i.png\n    conditions: ["
                    + String(repeating: "u", count: 200_000) + "]\n")
        case "six-hundred-thousand-list-items":
            return try spec("extra:\n  x-list: [" + String(repeating: "1,", count: 599_999) + "1]\n")
        case "hundred-thousand-deep-lists":
            return try spec(
                "extra:\n  x-deep: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
                    + "\n")
        case "thousand-unknown-targets":
            let dialogs = (0..<1000).map { "  - {key: dialog-\($0), title: D, url: /d\($0)}\n" }.joined()
            let actions = (0..<1000).map { "  - {key: a\($0), name: A, location: input, target: dialgo-\($0)}\n" }
                .joined()
            return try spec("dialogs:\n" + dialogs + "actions:\n" + actions)
        case "ten-thousand-top-level-fields":
            return try spec((0..<10_000).map { "x-field-\($0): \($0)\n" }.joined())
        case "ten-thousand-extra-fields":
            return try spec(
                "extra:\n" + (0..<10_000).map { "  x-field-\($0): \($0)\n" }.joined() + "apiVersion: '1.1'\n")
        case "two-megabyte-page":
            let text =
                "# Help\n\n"
                + String(repeating: "lorem ipsum dolor sit amet, consectetur adipiscing elit.\n", count: 36_800)
                + "\n[missing](missing.md)\n"
            try TestSupport.write(text, to: dir.appendingPathComponent("pages/help.md"))
            return try spec("")
        case "two-megabyte-descriptor-value":
            let file = dir.appendingPathComponent("descriptor.json")
            try TestSupport.write(
                """
                {
                  "key": "com.example.bad",
                  "name": "Bad Inputs",
                  "description": "One defect per case.",
                  "links": {"self": "https://bad.example.com/atlassian-connect.json"},
                  "capabilities": {
                    "glance": [{"key": "g", "name": {"value": "\(String(repeating: "n", count: megabytes2))"}, "icon": {"url": "https://bad.example.com/i.png", "url@2x": "https://bad.example.com/i.png"}}]
                  }
                }

                """, to: file)
            return file.path
        case "empty-folder":
            return dir.path
        case "addon-yaml-symlink-loop":
            try FileManager.default.createSymbolicLink(
                atPath: dir.appendingPathComponent("addon.yaml").path, withDestinationPath: "addon.yaml")
            return dir.path
        default:
            throw HipKitError("no generator for \(name)")
        }
    }
}
