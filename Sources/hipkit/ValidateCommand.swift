import ArgumentParser
import HipChatConnect
import HipKit

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check an add-on spec or a descriptor against every rule HipChat applies.",
        discussion: """
            PATH is a project folder holding addon.yaml, an addon.yaml file, or a descriptor .json \
            file (checked as HipChat would; {{localBaseUrl}} and ${host} stand for the base URL).

            Exit status: 0 no errors (warnings allowed), 1 errors found, 2 usage or I/O problem.

            Examples:
              hipkit validate
              hipkit validate examples/incident-tracker --format json
              hipkit validate atlassian-connect.json
            """)

    @Argument(help: "Project folder, addon.yaml, or descriptor .json.")
    var path: String = "."

    @Option(help: "Output format: human or json.")
    var format: OutputFormat = .human

    @Option(name: .customLong("env"), help: "Environment of addon.yaml's environments: to use.")
    var environment: String?

    func run() throws {
        let outcome = try Output.run(format: format) {
            try ProjectBuild.prepare(path, options: LoadOptions(environment: environment), checkOnly: true)
        }
        Output.report(outcome.diagnostics, sources: outcome.sources, format: format)
        if format == .human && outcome.diagnostics.isEmpty {
            Output.say("\(outcome.project?.specFile ?? path): valid")
        }
        if outcome.hasErrors { throw ExitCode(1) }
    }
}
