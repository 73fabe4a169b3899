import ArgumentParser
import Foundation
import HipChatConnect
import HipKit

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Start a new add-on project from a built-in scaffold.",
        discussion: """
            The `full` scaffold (the default) uses every module type (glance, sidebar, dialog, message \
            and input actions, webhook, configuration and external pages) with its pages, icons and a \
            complete Marketplace listing. `--list` shows the others. Every scaffold passes \
            `hipkit validate` with no warnings, and writes addon.schema.json beside addon.yaml so \
            editors with the YAML language server complete and check the spec.

            Examples:
              hipkit init my-addon
              hipkit init --list
              hipkit init standup --template slash-command
              hipkit init incidents --key com.example.incidents --name "Incident Tracker"
            """)

    @Argument(help: "The folder to create.")
    var directory: String?

    @Flag(help: "List the scaffolds, one a line: its name, then what it makes.")
    var list = false

    @Option(help: "Scaffold to start from.")
    var template: String = "full"

    @Option(help: "The add-on key (default: com.example.FOLDER).")
    var key: String?

    @Option(help: "The add-on name (default: from the folder name).")
    var name: String?

    @Option(help: "The production base URL.")
    var baseUrl: String?

    @Flag(help: "Write into a folder that is not empty.")
    var force = false

    func validate() throws {
        if !list && directory == nil { throw ValidationError("give the folder to create, or --list") }
    }

    func run() throws {
        if list {
            let names = ProjectScaffolder.templates
            let width = names.map(\.count).max() ?? 0
            for name in names {
                Output.say(
                    name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + ProjectScaffolder.about(name))
            }
            return
        }
        guard let directory else { return }
        let url = URL(fileURLWithPath: directory)
        var values = ProjectScaffolder.Values.defaults(forFolder: url.standardizedFileURL.lastPathComponent)
        if let key { values.key = key }
        if let name { values.name = name }
        if let baseUrl { values.baseUrl = baseUrl }
        let files = try Output.run {
            try ProjectScaffolder().create(template: template, in: url, values: values, force: force)
        }
        Output.say("created \(directory) (\(files.count) files) from the \(template) scaffold")
        Output.say("next: hipkit validate \(directory) && hipkit build \(directory)")
    }
}
