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

    /// The subcommands that run synchronously. Asking `as? any AsyncParsableCommand` of one
    /// searches all of the binary's 12,000 conformance records (1.2 M instructions, 3% of a
    /// no-change `hipkit build`); comparing its type with these costs nothing. A command not
    /// listed here still runs, after that search.
    private static let synchronous: [any ParsableCommand.Type] = [
        InitCommand.self, ValidateCommand.self, BuildCommand.self, ImportCommand.self, SchemaCommand.self,
        SpecReferenceCommand.self,
    ]

    /// As ArgumentParser's own, but a usage error (an unknown flag, a bad value) exits with 2,
    /// hipkit's documented status for usage problems, not ArgumentParser's 64 (`EX_USAGE`).
    static func main() async {
        do {
            // The debug build the tests run checks the list: a command on it that became
            // asynchronous would otherwise print its help instead of running.
            assert(!synchronous.contains { $0 is any AsyncParsableCommand.Type }, "an asynchronous command is listed")
            var command = try parseAsRoot()
            let type = ObjectIdentifier(Swift.type(of: command))
            if synchronous.contains(where: { ObjectIdentifier($0) == type }) {
                try command.run()
            } else if var command = command as? any AsyncParsableCommand {
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
