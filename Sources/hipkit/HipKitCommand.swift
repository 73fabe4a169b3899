import ArgumentParser
import Foundation
import HipChatConnect
import HipKit

@main
struct HipKitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hipkit",
        abstract: "Build, check and serve HipChat Connect add-ons from one YAML file.",
        discussion: """
            Start with `hipkit init my-addon`, describe the add-on in my-addon/addon.yaml, then \
            `hipkit build my-addon` writes my-addon/dist/atlassian-connect.json.
            """,
        version: HipKitVersion.full,
        subcommands: [
            InitCommand.self, ValidateCommand.self, BuildCommand.self, ImportCommand.self, SchemaCommand.self,
            ServeCommand.self, CopyStoreCommand.self, RotateKeyCommand.self, DevCommand.self, EmulateCommand.self,
            SpecReferenceCommand.self,
        ]
    )

    /// As ArgumentParser's own, but a usage error (an unknown flag, a bad value) exits with 2,
    /// hipkit's documented status for usage problems, not ArgumentParser's 64 (`EX_USAGE`).
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Self.exit(withError: ExitCode(2))
            }
            Self.exit(withError: error)
        }
    }
}
