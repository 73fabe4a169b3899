import Foundation
import HipChatConnect
import Testing

/// HipKit's stage folders depend in one direction: a folder may use the types of the folders
/// before it in ``order`` and never those after it, so the data path reads one way (read →
/// model → validate → render → write) and a stage can be understood without the ones after it.
///
/// SwiftPM cannot enforce this inside one target, so this test does: it finds each folder's
/// type declarations and fails on a file that names a type of a later folder.
@Suite struct FolderDependencyTests {
    static let order = [
        "Diagnostics", "YAML", "Descriptor", "Files", "Markdown", "Validation", "Images", "Spec", "Pages", "Listing",
        "Import", "Scaffold", "Watch", "Build",
    ]
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../Sources/HipKit").standardizedFileURL

    @Test func everyFolderIsInTheOrder() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Self.sources.path).filter {
            !$0.hasPrefix(".")
        }
        #expect(Set(folders) == Set(Self.order), "folders: \(folders.sorted())")
    }

    @Test func noFolderUsesALaterOne() throws {
        var files: [(folder: String, path: String, text: String)] = []
        for folder in Self.order {
            let dir = Self.sources.appendingPathComponent(folder)
            guard let walker = FileManager.default.enumerator(atPath: dir.path) else { continue }
            for case let name as String in walker where name.hasSuffix(".swift") {
                let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
                files.append((folder, folder + "/" + name, Self.code(text)))
            }
        }
        var owner: [String: String] = [:]
        let declaration =
            /(?m)^(?:(?:public|internal|private|fileprivate|final|indirect)\s+)*(?:struct|enum|class|protocol|actor)\s+(\w+)/
        for file in files {
            for match in file.text.matches(of: declaration) { owner[String(match.1)] = file.folder }
        }
        let word = /[A-Za-z_][A-Za-z0-9_]*/
        var problems: [String] = []
        for file in files {
            let rank = Self.order.firstIndex(of: file.folder)!
            let used = Set(file.text.matches(of: word).map { String($0.0) })
            for name in used.sorted() {
                guard let folder = owner[name], let other = Self.order.firstIndex(of: folder), other > rank else {
                    continue
                }
                problems.append("\(file.path) uses \(name) of \(folder)/")
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// The text without comments and string literals, which name types without using them.
    static func code(_ text: String) -> String {
        var out = ""
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).makeIterator()
        while let line = lines.next() {
            var kept = ""
            var inString = false
            var previous: Character = " "
            var iterator = line.makeIterator()
            while let c = iterator.next() {
                if !inString && c == "/" && previous == "/" {
                    kept.removeLast()
                    break
                }
                if c == "\"" && previous != "\\" { inString.toggle() }
                if !inString && c != "\"" { kept.append(c) }
                previous = c
            }
            out += kept + "\n"
        }
        return out
    }
}
