import Foundation
import HipChatConnect
import HipKitTemplates

/// Writes a new project from one of the built-in scaffolds.
public struct ProjectScaffolder: Sendable {
    /// The values filled into a scaffold's text files, where it writes `__KEY__`, `__NAME__`
    /// and `__BASE_URL__`. (Not `{{…}}`: pages use Mustache variables of their own.)
    public struct Values: Sendable {
        public var key: String
        public var name: String
        public var baseUrl: String

        public init(key: String, name: String, baseUrl: String) {
            self.key = key
            self.name = name
            self.baseUrl = baseUrl
        }

        /// Sensible values for a project folder named `folder`: `my-addon` gives the key
        /// `com.example.my-addon` and the name `My Addon`; `café-bot` the key
        /// `com.example.cafe-bot` and the name `Café Bot`.
        ///
        /// The name keeps the folder's own letters, in any script; the key, which HipChat takes
        /// in ASCII only, spells them in Latin letters (`Запуск` gives `zapusk`).
        public static func defaults(forFolder folder: String) -> Values {
            let ascii = folder.applyingTransform(StringTransform("Any-Latin; Latin-ASCII"), reverse: false) ?? folder
            var slug = ""
            for character in ascii.lowercased() {
                let kept = character.isASCII && ShapeChecker.isKeyCharacter(character.unicodeScalars.first!)
                // A run of characters a key cannot hold is one dash.
                if kept {
                    slug.append(character)
                } else if !slug.hasSuffix("-") {
                    slug.append("-")
                }
            }
            let trimmed = slug.trimmingCharacters(in: CharacterSet(charactersIn: "-."))
            let keyPart = trimmed.isEmpty ? "addon" : trimmed
            // Words of letters and digits; words Marketplace's naming rules forbid ("my-addon")
            // are left out.
            let words = folder.split(whereSeparator: { !$0.isLetter && !$0.isNumber })
                .filter { !ListingSchema.bannedNameWords.contains($0.lowercased()) }
                .map { $0.prefix(1).uppercased() + $0.dropFirst() }
            return Values(
                key: "com.example.\(keyPart)",
                name: words.isEmpty ? "Untitled Integration" : words.joined(separator: " "),
                baseUrl: "https://\(keyPart.replacingOccurrences(of: ".", with: "-")).example.com")
        }
    }

    /// The scaffolds that ship with hipkit, by name.
    public static var templates: [String] {
        let names = TemplatesBundle.paths(under: "scaffolds/").compactMap { path -> String? in
            let parts = path.split(separator: "/")
            return parts.count > 2 ? String(parts[1]) : nil
        }
        return Set(names).sorted()
    }

    /// The files of scaffold `template`, relative to it, sorted; none when there is no such scaffold.
    static func files(of template: String) -> [String] {
        let prefix = "scaffolds/\(template)/"
        return TemplatesBundle.paths(under: prefix).map { String($0.dropFirst(prefix.count)) }
    }

    /// A scaffold's one-line description, from its `about.txt` (which is not copied).
    public static func about(_ template: String) -> String {
        (TemplatesBundle.text("scaffolds/\(template)/\(aboutFile)") ?? "").trimmingCharacters(
            in: .whitespacesAndNewlines)
    }

    static let aboutFile = "about.txt"

    public init() {}

    /// Writes scaffold `template` into `directory` and returns the files written (relative).
    ///
    /// Refuses a non-empty folder unless `force`; files are written to a staging folder first and
    /// moved in one by one only once all of them exist, so a failure leaves nothing half-written.
    public func create(template: String, in directory: URL, values: Values, force: Bool = false) throws -> [String] {
        let fm = FileManager.default
        let files = Self.files(of: template).filter { $0 != Self.aboutFile }
        guard !files.isEmpty else {
            throw HipKitError(
                "no scaffold called '\(template)'",
                hint: Suggestion.hint(for: template, in: Self.templates)
                    ?? "scaffolds: \(Self.templates.joined(separator: ", "))")
        }
        guard !values.key.isEmpty, values.key.unicodeScalars.allSatisfy(ShapeChecker.isKeyCharacter) else {
            throw HipKitError("--key '\(values.key)' may hold only letters, digits, '_', '-' and '.'")
        }
        try ProjectLoader.checkBaseUrl(values.baseUrl)
        guard !values.name.trimmingCharacters(in: .whitespaces).isEmpty,
            !values.name.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) })
        else {
            throw HipKitError(
                "--name '\(values.name)' must be one line of text",
                hint: "pass the add-on's name as HipChat shows it, e.g. --name \"Incident Tracker\"")
        }
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: directory.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw HipKitError("\(directory.path) is a file") }
            let contents = (try? fm.contentsOfDirectory(atPath: directory.path)) ?? []
            if !contents.isEmpty && !force {
                throw HipKitError(
                    "\(directory.path) is not empty",
                    hint: "choose a new folder, or pass --force to write into it (files of the same name are replaced)")
            }
        }
        let staging = directory.deletingLastPathComponent().appendingPathComponent(
            ".\(directory.lastPathComponent).init-\(getpid())")
        try? fm.removeItem(at: staging)
        defer { try? fm.removeItem(at: staging) }
        do {
            for file in files {
                guard var data = TemplatesBundle.data("scaffolds/\(template)/\(file)") else {
                    throw HipKitError("the scaffold file \(template)/\(file) is missing from this hipkit")
                }
                if Self.isText(file), let text = String(data: data, encoding: .utf8) {
                    var filled = fill(text, values, yaml: Self.isYAML(file))
                    if file == "addon.yaml" {
                        filled = "# yaml-language-server: $schema=./\(SpecJSONSchema.fileName)\n" + filled
                    }
                    data = Data(filled.utf8)
                }
                try StagedDirectory.write(data, to: staging.appendingPathComponent(file))
            }
            // The schema beside addon.yaml lets editors check and complete the spec as it is typed.
            try StagedDirectory.write(
                Data(JSONWriter.string(SpecJSONSchema.make()).utf8),
                to: staging.appendingPathComponent(SpecJSONSchema.fileName))
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
            for file in files + [SpecJSONSchema.fileName] {
                let target = directory.appendingPathComponent(file)
                try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                if fm.fileExists(atPath: target.path) { try fm.removeItem(at: target) }
                try fm.moveItem(at: staging.appendingPathComponent(file), to: target)
            }
        } catch let error as HipKitError {
            throw error
        } catch {
            throw HipKitError("cannot write \(directory.path): \(error.localizedDescription)")
        }
        return files + [SpecJSONSchema.fileName]
    }

    private func fill(_ text: String, _ values: Values, yaml: Bool) -> String {
        var text = text
        if yaml {
            // Where the name is a whole value (`name: __NAME__`), it is written as YAML that reads
            // back as itself: `Team #1` or `Ops: Alerts` written plain would be cut at the `#`, or
            // not read at all. (In a comment, the rest of the line is the comment's.)
            text = text.replacingOccurrences(of: ": __NAME__\n", with: ": \(Self.yamlScalar(values.name))\n")
        }
        return text.replacingOccurrences(of: "__KEY__", with: values.key)
            .replacingOccurrences(of: "__NAME__", with: values.name)
            .replacingOccurrences(of: "__BASE_URL__", with: values.baseUrl)
    }

    /// `text` as a one-line YAML scalar: plain when it reads back as itself, quoted otherwise.
    static func yamlScalar(_ text: String) -> String {
        var emitter = YAMLEmitter()
        emitter.flowWidth = 0  // `v: …`, not `{v: …}`
        let document = emitter.emit(.object([JSONMember("v", .string(text))]))
        return String(document.dropFirst("v: ".count)).trimmingCharacters(in: .newlines)
    }

    static func isYAML(_ file: String) -> Bool {
        ["yaml", "yml"].contains((file as NSString).pathExtension.lowercased())
    }

    static func isText(_ file: String) -> Bool {
        ["yaml", "yml", "md", "markdown", "json", "html", "mustache", "txt", "css", "js"].contains(
            (file as NSString).pathExtension.lowercased())
    }
}
