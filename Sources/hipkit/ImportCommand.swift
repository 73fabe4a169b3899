import ArgumentParser
import Foundation
import HipChatConnect
import HipKit

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn an existing descriptor into an addon.yaml spec.",
        discussion: """
            URLs that start with {{localBaseUrl}} or ${host} become relative to the spec's baseUrl \
            (--base-url, default http://localhost:8080); other URLs stay as they are. Fields hipkit \
            does not model are kept under `extra:`. Building the spec gives the descriptor back.

            The descriptor is checked first; its problems are reported at its own lines and the \
            spec is written all the same (exit status 1), so they can be fixed in addon.yaml.

            Example:
              hipkit import atlassian-connect.json --out my-addon \\
                  --base-url https://addon.example.com
            """)

    @Argument(help: "The descriptor .json file.")
    var descriptor: String

    @Option(name: .shortAndLong, help: "Folder to write addon.yaml into.")
    var out: String

    @Option(help: "Base URL written into the spec.")
    var baseUrl: String?

    @Flag(help: "Replace an existing addon.yaml.")
    var force = false

    @Option(help: "Output format of diagnostics: human or json.")
    var format: OutputFormat = .human

    func run() throws {
        try Output.run(format: format) {
            if let baseUrl { _ = try LoadOptions.validatedBaseUrl(baseUrl) }
            // Before the descriptor's report: with --format json, one document says it all.
            let target = URL(fileURLWithPath: out).appendingPathComponent("addon.yaml")
            try SpecFileWriter.checkWritable(target, replacing: force)
            let outcome = try ProjectLoader().loadDescriptorFile(descriptor)
            Output.report(outcome.diagnostics, sources: outcome.sources, format: format)
            guard let source = outcome.project?.descriptor.json, source.isObject else {
                throw ExitCode(1)
            }
            let text = SpecFileWriter.text(
                for: DescriptorImporter(baseUrl: baseUrl).spec(from: source),
                header: [
                    "Imported from \((descriptor as NSString).lastPathComponent) by `hipkit import`.",
                    "Relative URLs and pages are joined to baseUrl.",
                ])
            try SpecFileWriter.write(text, to: target, replacing: force)
            if format == .human { Output.say("wrote \(ProjectLoader.join(out, "addon.yaml"))") }
            if outcome.hasErrors { throw ExitCode(1) }
        }
    }
}
