import ArgumentParser
import Foundation
import HipChatConnect
import HipKit

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Validate the project and write its descriptor and files to the output folder.",
        discussion: """
            Writes the site to OUT: atlassian-connect.json, the pages, assets, static glance data, \
            the preview of every module (_preview/index.html, and index.html unless pages/index.md \
            is the site's root) and, for an https base URL, the Marketplace bundle. The output folder is replaced whole, and only when \
            the build succeeds; nothing is written when there are errors. The same input always gives \
            the same bytes. Pages unchanged since the last build come from .hipkit/cache.

            Examples:
              hipkit build
              hipkit build examples/incident-tracker --env dev
              hipkit build my-addon --base-url https://addon.example.com --out /srv/addon
            """)

    @Argument(help: "Project folder or addon.yaml.")
    var path: String = "."

    @Option(name: .shortAndLong, help: "Output folder (default: PATH/dist).")
    var out: String?

    @Option(name: .customLong("env"), help: "Environment of addon.yaml's environments: to use.")
    var environment: String?

    @Option(help: "Base URL that replaces the spec's baseUrl.")
    var baseUrl: String?

    @Option(help: "Output format of diagnostics: human or json.")
    var format: OutputFormat = .human

    @Flag(help: "Render every page again instead of reusing those unchanged since the last build (.hipkit/cache).")
    var noCache = false

    @Flag(help: "Print how long each step of the build took.")
    var timings = false

    func run() throws {
        let builder = ProjectBuilder(
            path: path, options: LoadOptions(environment: environment, baseUrl: baseUrl),
            output: out.map { URL(fileURLWithPath: $0) }, cached: !noCache)
        let report = try Output.run(format: format) { try builder.run() }
        Output.report(report.diagnostics, sources: report.sources, format: format)
        if format == .human {
            let shown = out ?? ProjectLoader.displayPath(report.output)
            switch report.result {
            case .upToDate(let files): Output.say("\(shown) is up to date (\(files) files)")
            case .replaced(let files, let changed):
                Output.say(
                    "built \(files) file\(files == 1 ? "" : "s") into \(shown)"
                        + (changed.map { " (\($0) changed)" } ?? ""))
            case .failed: FileHandle.standardError.write(Data("hipkit: nothing written\n".utf8))
            }
            if report.result != .failed, let note = report.listingLeftOut { Output.say("note: \(note)") }
        }
        // With --format json, standard output holds the JSON alone: the table goes to standard error.
        if timings {
            if format == .human {
                Output.say(report.timings.table)
            } else {
                FileHandle.standardError.write(Data((report.timings.table + "\n").utf8))
            }
        }
        if report.result == .failed { throw ExitCode(1) }
    }
}
