import Foundation

// TemplateEmbedder FOLDER OUTPUT REPOSITORY FILE…
//
// Writes OUTPUT, a Swift source holding each FILE of FOLDER (its path and its bytes in base64)
// and the commit REPOSITORY is at. Run by the EmbedTemplates build plugin; see there for why.

let arguments = CommandLine.arguments
guard arguments.count >= 4 else {
    FileHandle.standardError.write(Data("usage: TemplateEmbedder FOLDER OUTPUT REPOSITORY FILE…\n".utf8))
    exit(2)
}
let folder = URL(fileURLWithPath: arguments[1])
let output = URL(fileURLWithPath: arguments[2])
let repository = arguments[3]
let files = arguments.dropFirst(4).sorted()

/// A Swift string literal of `text`, which here is always a path or base64: plain ASCII.
func literal(_ text: String) -> String {
    "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}

/// The commit `git` says the repository is at, or "unknown" (a source archive without `.git`).
func commit() -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git", "-C", repository, "rev-parse", "--short=12", "HEAD"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return "unknown" }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    return process.terminationStatus == 0 && !text.isEmpty ? text : "unknown"
}

var source = """
    // Generated at build time by TemplateEmbedder from templates/; edit the files there.

    extension TemplatesBundle {
        /// Each file of `templates/`: its path there, and its bytes in base64.
        static let embedded: [String: String] = [

    """
for file in files {
    guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(file).path) else {
        FileHandle.standardError.write(Data("TemplateEmbedder: cannot read \(file)\n".utf8))
        exit(1)
    }
    source += "        \(literal(file)): \(literal(data.base64EncodedString())),\n"
}
source += """
        ]
    }

    extension BuildInfo {
        /// The commit of hipkit's repository this binary was built from.
        public static let commit = \(literal(commit()))
    }

    """
do {
    // Rewritten only when different, so an unchanged result does not make the module compile again.
    if FileManager.default.contents(atPath: output.path) != Data(source.utf8) {
        try Data(source.utf8).write(to: output, options: .atomic)
    }
} catch {
    FileHandle.standardError.write(Data("TemplateEmbedder: cannot write \(output.path): \(error)\n".utf8))
    exit(1)
}
