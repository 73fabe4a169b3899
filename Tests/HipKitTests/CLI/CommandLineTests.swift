import Foundation
import HipChatConnect
import Testing

@testable import HipKit

/// The `hipkit` executable as users and scripts run it: exit codes, output formats, files.
@Suite(.serialized) struct CommandLineTests {
    static let broken = """
        key: com.example.broken
        name: Broken
        description: Two problems.
        baseUrl: https://broken.example.com
        dialogs:
          - {key: d, title: D, url: /d, style: loud}
        install: {callbackUrl: 'http://hooks.example.com/installed'}

        """
    /// The page the broken spec's dialog shows (`/d`), so that its only problems are the two.
    static let brokenFiles = ["pages/d.md": "# D\n"]

    @Test func validateExitCodes() throws {
        let dir = try TestSupport.project(Self.broken, files: Self.brokenFiles)
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try TestSupport.hipkit(["validate", dir.path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("addon.yaml:6:40: error: 'options.style' of dialog 'd' is 'loud'"), "\(run.stderr)")
        #expect(run.stderr.contains(" 6 |   - {key: d, title: D, url: /d, style: loud}"))
        #expect(run.stderr.contains("warning: 'capabilities.installable.callbackUrl'"))
        #expect(run.stderr.contains("1 error, 1 warning"))
        #expect(!run.stderr.contains("\u{1B}["), "no colour when not a terminal")

        let missing = try TestSupport.hipkit(["validate", dir.appendingPathComponent("nope").path])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("no such file or folder"))

        let empty = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: empty) }
        let noSpec = try TestSupport.hipkit(["validate", empty.path])
        #expect(noSpec.status == 2)
        #expect(noSpec.stderr.contains("no addon.yaml"))

        // Inside a project, the hint names the project, not `hipkit init` of a second one.
        let inPages = try TestSupport.hipkit(["validate", dir.appendingPathComponent("pages").path])
        #expect(inPages.status == 2)
        let fromPages = try TestSupport.hipkit(["validate"], in: dir.appendingPathComponent("pages"))
        #expect(fromPages.stderr.contains("it is inside the project at .."), "\(fromPages.stderr)")
        #expect(fromPages.stderr.contains("`hipkit validate ..`"))
        #expect(
            inPages.stderr.contains("it is inside the project at \(dir.standardizedFileURL.path)"), "\(inPages.stderr)")
        #expect(!inPages.stderr.contains("hipkit init"))
    }

    /// Usage problems exit with 2, as README says (ArgumentParser's own status would be 64),
    /// with its message and usage line; help and the version still exit with 0.
    @Test func usageErrorsExitWithTwo() throws {
        for (arguments, message) in [
            (["build", "--outt", "x"], "Unknown option '--outt'. Did you mean '--out'?"),
            (["frobnicate"], "Unexpected argument 'frobnicate'"),
            (["validate", "--format", "xml"], "The value 'xml' is invalid for '--format <format>'"),
            (["serve", "--trust-host", "a b"], "--trust-host 'a b' is not HOST or HOST:PORT"),
        ] {
            let run = try TestSupport.hipkit(arguments)
            #expect(run.status == 2, "\(arguments)")
            #expect(run.stderr.contains(message), "\(arguments): \(run.stderr)")
            #expect(run.stderr.contains("Usage: hipkit"), "\(arguments)")
        }
        let help = try TestSupport.hipkit(["build", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE: hipkit build"))
        #expect(try TestSupport.hipkit(["--version"]).status == 0)
    }

    /// Help is wrapped once, by ArgumentParser, at the width it prints: paragraphs are not
    /// broken again where the source broke them (a short line inside a paragraph), and each
    /// example is one command, or continued with a backslash, so it can be pasted.
    @Test(arguments: [
        "init", "validate", "build", "import", "schema", "serve", "copy-store", "rotate-key", "dev", "emulate",
    ])
    func helpIsWrappedOnceAndItsExamplesPaste(_ command: String) throws {
        let run = try TestSupport.hipkit([command, "--help"])
        #expect(run.status == 0)
        let lines = run.stdout.components(separatedBy: "\n")
        let end = lines.firstIndex { $0.hasPrefix("USAGE:") } ?? lines.count
        let discussion = Array(lines[..<end])
        var inExamples = false
        for (i, line) in discussion.enumerated() {
            let next = i + 1 < discussion.count ? discussion[i + 1] : ""
            if line.hasPrefix("Example") {
                inExamples = true
                continue
            }
            if line.isEmpty {
                inExamples = false
                continue
            }
            if inExamples {
                let continued = i > 0 && discussion[i - 1].hasSuffix("\\")
                #expect(
                    line.hasPrefix("  hipkit ") || line.hasPrefix("  HIPKIT_")
                        || (continued && line.hasPrefix("      ")),
                    "\(command): example line \(line.debugDescription)")
            } else if !line.hasPrefix(" "), !next.isEmpty, !next.hasPrefix(" "), !line.hasSuffix(":") {
                // A line ArgumentParser filled: the next word would not fit in its 79 columns.
                let nextWord = next.split(separator: " ").first.map(String.init) ?? ""
                #expect(
                    line.count + 1 + nextWord.count >= 80,
                    "\(command): paragraph broken early at \(line.debugDescription)")
            }
        }
    }

    @Test func validateJSONFormat() throws {
        let dir = try TestSupport.project(Self.broken, files: Self.brokenFiles)
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try TestSupport.hipkit(["validate", dir.path, "--format", "json"])
        #expect(run.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["valid"] as? Bool == false)
        let diagnostics = try #require(object["diagnostics"] as? [[String: Any]])
        #expect(diagnostics.count == 2)
        let first = diagnostics[0]
        #expect(first["severity"] as? String == "error")
        #expect(first["code"] as? String == "invalid-value")
        #expect(first["line"] as? Int == 6)
        #expect(first["column"] as? Int == 40)
        #expect((first["file"] as? String)?.hasSuffix("addon.yaml") == true)
        #expect(first["hint"] is String)
        #expect(diagnostics[1]["severity"] as? String == "warning")
    }

    /// A usage or I/O problem answers `--format json` too: one error of code `usage`, exit 2 (stdout
    /// was empty, and a script reading it had nothing to parse).
    @Test func usageProblemsAreJSONWithFormatJSON() throws {
        let dir = try TestSupport.project(Self.broken, files: Self.brokenFiles)
        defer { try? FileManager.default.removeItem(at: dir) }
        for arguments in [
            ["validate", dir.appendingPathComponent("nosuch").path], ["validate", dir.path, "--env", "nope"],
            ["build", dir.appendingPathComponent("nosuch").path], ["import", dir.path, "--out", dir.path],
        ] {
            let run = try TestSupport.hipkit(arguments + ["--format", "json"])
            #expect(run.status == 2, "\(arguments)")
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any],
                "\(arguments): \(run.stdout)")
            #expect(object["valid"] as? Bool == false)
            let diagnostics = try #require(object["diagnostics"] as? [[String: Any]])
            #expect(diagnostics.count == 1)
            #expect(diagnostics.first?["code"] as? String == "usage")
            #expect(diagnostics.first?["severity"] as? String == "error")
            #expect((diagnostics.first?["message"] as? String)?.isEmpty == false)
            #expect(run.stderr.contains("hipkit: error:"), "people still read it on stderr")
        }
    }

    /// A web address is told as one (it was "no such file"), and `--out` naming a file as a file
    /// (it was Foundation's "A file with the same name already exists").
    @Test func importSaysWhatItCannotUse() throws {
        let web = try TestSupport.hipkit(["import", "https://addon.example.com/atlassian-connect.json", "--out", "x"])
        #expect(web.status == 2)
        #expect(
            web.stderr.contains("https://addon.example.com/atlassian-connect.json is a web address; hipkit reads files")
        )
        #expect(web.stderr.contains("hint: download it first: curl"))

        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let descriptor = dir.appendingPathComponent("d.json")
        try TestSupport.write(#"{"key": "k", "name": "n", "description": "d"}"#, to: descriptor)
        let file = dir.appendingPathComponent("notes")
        try TestSupport.write("mine", to: file)
        let run = try TestSupport.hipkit(["import", descriptor.path, "--out", file.path])
        #expect(run.status == 2)
        #expect(run.stderr.contains("\(file.path) is a file, not a folder"), "\(run.stderr)")
        #expect(try String(contentsOf: file, encoding: .utf8) == "mine")
    }

    @Test func githubActionsAnnotations() throws {
        let dir = try TestSupport.project(Self.broken, files: Self.brokenFiles)
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try TestSupport.hipkit(["validate", dir.path], environment: ["GITHUB_ACTIONS": "true"])
        #expect(run.stderr.contains("::error file="))
        #expect(run.stderr.contains(",line=6,col=40,title=invalid-value::"))
        #expect(run.stderr.contains("::warning file="))
    }

    /// A folder named in any script gives a name in its own letters and an ASCII key spelled in
    /// Latin letters (`café-bot` gave `Caf Bot` and `caf--bot`; `Запуск` "Untitled Integration"
    /// and `addon`), and the project validates as made.
    @Test(arguments: [
        ("café-bot", "Café Bot", "com.example.cafe-bot"), ("Запуск", "Запуск", "com.example.zapusk"),
        ("Ærø straße 2", "Ærø Straße 2", "com.example.aero-strasse-2"), ("🚀 launch", "Launch", "com.example.launch"),
    ])
    func initNamesAProjectAfterAFolderInAnyScript(folder: String, name: String, key: String) throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let project = root.appendingPathComponent(folder)
        let created = try TestSupport.hipkit(["init", project.path, "--template", "glance"])
        #expect(created.status == 0, "\(created.stderr)")
        let spec = try String(contentsOf: project.appendingPathComponent("addon.yaml"), encoding: .utf8)
        #expect(spec.contains("\nname: \(name)\n"), "\(spec)")
        #expect(spec.contains("\nkey: \(key)\n"), "\(spec)")
        let validated = try TestSupport.hipkit(["validate", project.path])
        #expect(validated.status == 0, "\(validated.stderr)")
    }

    @Test func initProjectValidatesWithoutWarningsAndBuilds() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        // "addon" is a word Marketplace forbids in names: the name made from the folder leaves it out.
        let project = root.appendingPathComponent("my-addon")
        let created = try TestSupport.hipkit(["init", project.path])
        #expect(created.status == 0, "\(created.stderr)")
        let validated = try TestSupport.hipkit(["validate", project.path])
        #expect(validated.status == 0)
        #expect(validated.stderr.isEmpty, "warnings: \(validated.stderr)")

        // Real PNG icons of the sizes HipChat draws them at.
        for (file, size) in [
            ("assets/glance.png", 16), ("assets/glance@2x.png", 32), ("assets/sidebar.png", 16),
            ("assets/avatar.png", 64),
        ] {
            let data = try Data(contentsOf: project.appendingPathComponent(file))
            #expect(data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
            let width = data[16..<20].reduce(0) { $0 << 8 | Int($1) }
            let height = data[20..<24].reduce(0) { $0 << 8 | Int($1) }
            #expect(width == size && height == size, "\(file)")
        }

        // Every module type is used.
        let outcome = try TestSupport.load(project)
        let capabilities = try #require(outcome.project?.descriptor.json["capabilities"])
        for module in [
            "glance", "webPanel", "dialog", "action", "webhook", "configurable", "externalPage", "installable",
            "hipchatApiConsumer",
        ] {
            #expect(capabilities[module] != nil, "\(module)")
        }
        let locations = capabilities["action"]?.arrayValue?.compactMap { $0["location"]?.stringValue } ?? []
        #expect(Set(locations) == ["hipchat.message.action", "hipchat.input.action"])

        let built = try TestSupport.hipkit(["build", project.path])
        #expect(built.status == 0, "\(built.stderr)")
        #expect(
            FileManager.default.fileExists(atPath: project.appendingPathComponent("dist/atlassian-connect.json").path))

        let again = try TestSupport.hipkit(["init", project.path])
        #expect(again.status == 2)
        #expect(again.stderr.contains("not empty"))
    }

    /// `--timings` prints each named step of the build with its time, then the total; the
    /// output is otherwise unchanged, and a second build's only timed work is the check.
    @Test func buildTimingsNameEveryStep() throws {
        let dir = try TestSupport.temporaryDirectory("timings")
        defer { try? FileManager.default.removeItem(at: dir) }
        let project = dir.appendingPathComponent("p")
        #expect(try TestSupport.hipkit(["init", project.path, "--template", "glance"]).status == 0)
        let run = try TestSupport.hipkit(["build", project.path, "--timings"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("built ") == true, "\(run.stdout)")
        let steps = ["up-to-date check", "load project"] + BuildStep.all.map(\.name) + ["write", "total"]
        for step in steps {
            let line = lines.first { $0.hasPrefix(step + " ") }
            #expect(line?.wholeMatch(of: /[a-z -]+ +[0-9]+\.[0-9] ms/) != nil, "\(step): \(run.stdout)")
        }
        let again = try TestSupport.hipkit(["build", project.path, "--timings"])
        #expect(again.stdout.contains("is up to date") && again.stdout.contains("up-to-date check"))
        #expect(!again.stdout.contains("render pages"), "\(again.stdout)")
        let plain = try TestSupport.hipkit(["build", project.path, "--no-cache"])
        #expect(!plain.stdout.contains(" ms"), "\(plain.stdout)")
        // With --format json, standard output is the JSON alone; the table goes to standard error.
        let json = try TestSupport.hipkit(["build", project.path, "--no-cache", "--timings", "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        #expect((try? JSONSerialization.jsonObject(with: Data(json.stdout.utf8))) != nil, "\(json.stdout)")
        #expect(json.stderr.contains("total"), "\(json.stderr)")
    }

    @Test func buildIsDeterministic() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let project = root.appendingPathComponent("p")
        #expect(try TestSupport.hipkit(["init", project.path]).status == 0)
        #expect(
            try TestSupport.hipkit(["build", project.path, "--out", root.appendingPathComponent("a").path]).status == 0)
        #expect(
            try TestSupport.hipkit(["build", project.path, "--out", root.appendingPathComponent("b").path]).status == 0)
        let a = try TestSupport.snapshot(root.appendingPathComponent("a"))
        let b = try TestSupport.snapshot(root.appendingPathComponent("b"))
        #expect(!a.isEmpty)
        #expect(a == b)
    }

    @Test func buildRefusesErrorsAndKeepsThePreviousOutput() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let project = root.appendingPathComponent("p")
        #expect(try TestSupport.hipkit(["init", project.path]).status == 0)
        #expect(try TestSupport.hipkit(["build", project.path]).status == 0)
        let dist = project.appendingPathComponent("dist")
        let before = try TestSupport.snapshot(dist)

        let spec = project.appendingPathComponent("addon.yaml")
        let text = try String(contentsOf: spec, encoding: .utf8)
        try TestSupport.write(
            text.replacingOccurrences(of: "target: incident-dialog", with: "target: no-such-dialog"), to: spec)
        let failed = try TestSupport.hipkit(["build", project.path])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("unknown-target") || failed.stderr.contains("names no dialog"))
        #expect(failed.stderr.contains("nothing written"))
        #expect(try TestSupport.snapshot(dist) == before)
        // No staging folder is left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: project.path).filter {
            $0.hasPrefix(".dist")
        }
        #expect(leftovers.isEmpty)
    }

    @Test func buildRefusesToReplaceAFolderItDidNotWrite() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let project = root.appendingPathComponent("p")
        #expect(try TestSupport.hipkit(["init", project.path]).status == 0)
        let precious = root.appendingPathComponent("precious")
        try TestSupport.write("keep me", to: precious.appendingPathComponent("notes.txt"))
        let run = try TestSupport.hipkit(["build", project.path, "--out", precious.path])
        #expect(run.status == 2)
        #expect(try String(contentsOf: precious.appendingPathComponent("notes.txt"), encoding: .utf8) == "keep me")
        // A hand-written add-on has a descriptor at its root too, beside its sources
        // (atlassian-connect-express's layout): that is no earlier build either.
        try TestSupport.write("{}", to: precious.appendingPathComponent("atlassian-connect.json"))
        let handWritten = try TestSupport.hipkit(["build", project.path, "--out", precious.path])
        #expect(handWritten.status == 2)
        #expect(handWritten.stderr.contains("is not an earlier hipkit build"), "\(handWritten.stderr)")
        #expect(try String(contentsOf: precious.appendingPathComponent("notes.txt"), encoding: .utf8) == "keep me")
        // An earlier build is replaced.
        let earlier = root.appendingPathComponent("earlier")
        #expect(try TestSupport.hipkit(["build", project.path, "--out", earlier.path]).status == 0)
        #expect(try TestSupport.hipkit(["build", project.path, "--out", earlier.path]).status == 0)
        let intoProject = try TestSupport.hipkit(["build", project.path, "--out", project.path])
        #expect(intoProject.status == 2)
        #expect(FileManager.default.fileExists(atPath: project.appendingPathComponent("addon.yaml").path))
        // assets/ is copied whole into every build: a build inside it would copy the last one.
        let assets = try FileManager.default.contentsOfDirectory(atPath: project.appendingPathComponent("assets").path)
        let intoAssets = try TestSupport.hipkit(["build", project.path, "--out", project.path + "/assets/out"])
        #expect(intoAssets.status == 2)
        #expect(intoAssets.stderr.contains("inside the project's assets/"), "\(intoAssets.stderr)")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: project.appendingPathComponent("assets").path)
                == assets)
    }

    @Test func importWritesASpecThatBuildsBack() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let fixture = TestSupport.fixture("descriptors/shape01-object-webhook.json.tmpl")
        let out = root.appendingPathComponent("imported")
        let run = try TestSupport.hipkit([
            "import", fixture.path, "--out", out.path, "--base-url", "https://imported.example.com",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("webhook-not-list") || run.stderr.contains("single object"))
        // Told where the add-on runs, the import writes its views and images in full on that
        // server, and the endpoints hipkit serve answers relative: the spec builds.
        let spec = try String(contentsOf: out.appendingPathComponent("addon.yaml"), encoding: .utf8)
        #expect(spec.contains("url: https://imported.example.com/sidebar"), "\(spec)")
        #expect(spec.contains("url: /hooks/room-message") || spec.contains("callbackUrl: /"), "\(spec)")
        let built = try TestSupport.hipkit(["build", out.path])
        #expect(built.status == 0, "\(built.stderr)")
        let refused = try TestSupport.hipkit(["import", fixture.path, "--out", out.path])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("--force"))
        // With --format json, the refusal is the one JSON document: the descriptor's warnings
        // were printed as a document of their own before it.
        let json = try TestSupport.hipkit(["import", fixture.path, "--out", out.path, "--format", "json"])
        #expect(json.status == 2)
        let parsed = try? JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(parsed?["valid"] as? Bool == false, "\(json.stdout)")
    }

    @Test func importOfABrokenDescriptorReportsItsLines() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let fixture = TestSupport.fixture("descriptors/bug07-mixed-placeholder.json.tmpl")
        let run = try TestSupport.hipkit(["import", fixture.path, "--out", root.path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("bug07-mixed-placeholder.json.tmpl:28:25: error:"))
        // The spec is written all the same, and validate shows the problem at its own line.
        let validated = try TestSupport.hipkit(["validate", root.path])
        #expect(validated.status == 1)
        #expect(validated.stderr.contains("uninstalledUrl"))
    }

    @Test func helpHasExamplesAndVersionPrints() throws {
        for command in ["init", "validate", "build", "import"] {
            let run = try TestSupport.hipkit([command, "--help"])
            #expect(run.status == 0)
            #expect(run.stdout.contains("Example"), "\(command)")
        }
        // The release and the commit the binary was built from: the repository's HEAD here.
        let version = try TestSupport.hipkit(["--version"])
        #expect(version.status == 0)
        let line = version.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let release = line.split(separator: " ").first.map(String.init) ?? ""
        #expect(release.split(separator: ".").count == 3 && release.allSatisfy { $0.isNumber || $0 == "." }, "\(line)")
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../..")
        let head = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/env"), ["git", "-C", repository.path, "rev-parse", "--short=12", "HEAD"]
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(head.count == 12)
        #expect(line == "\(release) (commit \(head))")
    }
}
