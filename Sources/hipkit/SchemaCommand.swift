import ArgumentParser
import HipChatConnect
import HipKit

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the JSON Schema of addon.yaml, for editors.",
        discussion: """
            Made from the same tables hipkit validates with. `hipkit init` writes it beside addon.yaml \
            as addon.schema.json; the first line of addon.yaml points the YAML language server at it:

              # yaml-language-server: $schema=./addon.schema.json

            Example:
              hipkit schema > addon.schema.json
            """)

    func run() {
        print(JSONWriter.string(SpecJSONSchema.make()), terminator: "")
    }
}
