import ArgumentParser
import Foundation
import HipKit

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Start a new add-on project from a built-in scaffold.",
        discussion: """
        The `full` scaffold uses every module type (glance, sidebar, dialog, message and input
        actions, webhook, configuration and external pages) with its pages and icons, and passes
        `hipkit validate` with no warnings.

        Examples:
          hipkit init my-addon
          hipkit init incidents --key com.example.incidents --name "Incident Tracker"
        """)

    @Argument(help: "The folder to create.")
    var directory: String

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

    func run() throws {
        let url = URL(fileURLWithPath: directory)
        var values = ProjectScaffolder.Values.defaults(forFolder: url.standardizedFileURL.lastPathComponent)
        if let key { values.key = key }
        if let name { values.name = name }
        if let baseUrl { values.baseUrl = baseUrl }
        do {
            let files = try ProjectScaffolder().create(template: template, in: url, values: values, force: force)
            Output.say("created \(directory) (\(files.count) files) from the \(template) scaffold")
            Output.say("next: hipkit validate \(directory) && hipkit build \(directory)")
        } catch let error as HipKitError {
            throw Output.fail(error)
        }
    }
}
