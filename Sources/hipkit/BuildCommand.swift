import ArgumentParser
import Foundation
import HipChatConnect
import HipKit

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Validate the project and write its descriptor and files to the output folder.",
        discussion: """
            Writes the site to OUT: atlassian-connect.json, the pages, assets, static glance data,
            index.html and the Marketplace bundle. The output folder is replaced whole, and only when
            the build succeeds; nothing is written when there are errors. The same input always gives
            the same bytes. Pages unchanged since the last build come from .hipkit/cache.

            Examples:
              hipkit build
              hipkit build examples/incidents --env dev
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

    func run() throws {
        do {
            if case .descriptor(let file) = try ProjectLoader.input(for: path) {
                throw HipKitError(
                    "\(file) is a descriptor; build reads addon.yaml",
                    hint: "run `hipkit import \(file) --out DIR` to make a spec of it")
            }
            let options = LoadOptions(environment: environment, baseUrl: baseUrl)
            var inputStamp: String?
            if !noCache, case .spec(let spec) = try ProjectLoader.input(for: path) {
                let output =
                    out.map { URL(fileURLWithPath: $0) }
                    ?? URL(fileURLWithPath: spec).deletingLastPathComponent().appendingPathComponent("dist")
                let freshness = ProjectBuild.check(path, options: options, output: output)
                if let count = freshness.upToDateFiles {
                    Output.report([], sources: SourceStore(), format: format)
                    if format == .human {
                        Output.say("\(out ?? ProjectLoader.displayPath(output)) is up to date (\(count) files)")
                    }
                    return
                }
                inputStamp = freshness.inputStamp
            }
            let build = try ProjectBuild.prepare(path, options: options, cached: !noCache, inputStamp: inputStamp)
            Output.report(build.diagnostics, sources: build.sources, format: format)
            guard let project = build.project, !build.hasErrors else {
                if format == .human { FileHandle.standardError.write(Data("hipkit: nothing written\n".utf8)) }
                throw ExitCode(1)
            }
            let output = out.map { URL(fileURLWithPath: $0) } ?? project.directory.appendingPathComponent("dist")
            let outcome = try build.write(to: output)
            if format == .human {
                let shown = out ?? ProjectLoader.displayPath(output)
                switch outcome {
                case .unchanged: Output.say("\(shown) is up to date (\(build.files.count) files)")
                case .replaced(let written, let linked):
                    Output.say(
                        "built \(build.files.count) file\(build.files.count == 1 ? "" : "s") into \(shown)"
                            + (linked > 0 ? " (\(written) changed)" : ""))
                }
            }
        } catch let error as HipKitError {
            throw Output.fail(error)
        }
    }
}
