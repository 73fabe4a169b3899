import ArgumentParser
import HipChatConnect
import HipKit

@main
struct HipKitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hipkit",
        abstract: "Build, check and serve HipChat Connect add-ons from one YAML file.",
        discussion: """
            Start with `hipkit init my-addon`, describe the add-on in my-addon/addon.yaml, then
            `hipkit build my-addon` writes my-addon/dist/atlassian-connect.json.
            """,
        version: HipKitVersion.full,
        subcommands: [
            InitCommand.self, ValidateCommand.self, BuildCommand.self, ImportCommand.self, SchemaCommand.self,
            ServeCommand.self, CopyStoreCommand.self, RotateKeyCommand.self, DevCommand.self, EmulateCommand.self,
            SpecReferenceCommand.self,
        ]
    )
}
