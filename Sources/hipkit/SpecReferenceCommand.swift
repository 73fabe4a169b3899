import ArgumentParser
import HipChatConnect
import HipKit

/// Prints docs/spec.md; `make docs` uses it. Hidden: users read the file.
struct SpecReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spec-reference",
        abstract: "Print the addon.yaml field reference (docs/spec.md).",
        shouldDisplay: false)

    func run() {
        print(SpecReference.markdown(), terminator: "")
    }
}
