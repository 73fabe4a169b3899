import Foundation
import HipChatConnect

/// Reads an `addon.yaml` project, or a descriptor `.json` file, and checks it.
public struct ProjectLoader: Sendable {
    public var limits: YAMLLimits

    public init(limits: YAMLLimits = .default) {
        self.limits = limits
    }

    /// What a run learnt: the project when the spec could be read, every diagnostic (sorted), and
    /// the text of the files read, for quoting lines.
    public struct Outcome: Sendable {
        public var project: AddonProject?
        public var diagnostics: [Diagnostic]
        public var sources: SourceStore
        public var hasErrors: Bool { diagnostics.hasErrors }
    }

    /// What a PATH argument names.
    public enum Input: Sendable, Equatable {
        /// An `addon.yaml` (the file itself, or the project folder holding it).
        case spec(file: String)
        /// A descriptor `.json` file.
        case descriptor(file: String)
    }

    /// Works out what `path` names. Throws when it names nothing usable.
    public static func input(for path: String) throws -> Input {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw missing(path, "no such file or folder")
        }
        if isDirectory.boolValue {
            let spec = join(path, "addon.yaml")
            guard FileManager.default.fileExists(atPath: spec) else {
                // Inside a project (`pages/`, `assets/`): starting another one there is not the way.
                if let project = enclosingProject(of: path) {
                    throw HipKitError(
                        "no addon.yaml in \(path); it is inside the project at \(project)",
                        hint: "run hipkit there, or give it as the path: `hipkit validate \(project)`")
                }
                throw HipKitError(
                    "no addon.yaml in \(path)",
                    hint: "run `hipkit init \(path)` to start a project, or name the spec or descriptor file")
            }
            return .spec(file: spec)
        }
        return looksLikeDescriptor(path) ? .descriptor(file: path) : .spec(file: path)
    }

    /// The nearest folder above `folder` that holds an `addon.yaml`, if there is one within a
    /// few levels: from `.` as `..` or `../..`, else as a full path.
    static func enclosingProject(of folder: String) -> String? {
        var url = URL(fileURLWithPath: folder).standardizedFileURL
        var relative: [String] = []
        for _ in 0..<4 {
            let parent = url.deletingLastPathComponent()
            guard parent.path != url.path else { return nil }
            url = parent
            relative.append("..")
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("addon.yaml").path) {
                return folder == "." ? relative.joined(separator: "/") : url.path
            }
        }
        return nil
    }

    /// A `.json` file (also `x.json.tmpl` and the like), or any file whose text opens with `{`:
    /// descriptors are JSON objects, and a spec is never written as one flow mapping.
    static func looksLikeDescriptor(_ path: String) -> Bool {
        let name = (path as NSString).lastPathComponent.lowercased()
        if name.hasSuffix(".json") || name.contains(".json.") { return true }
        if name.hasSuffix(".yaml") || name.hasSuffix(".yml") { return false }
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 512)) ?? Data()
        return head.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) } == UInt8(ascii: "{")
    }

    /// Reads and checks whatever `path` names.
    public func load(_ path: String, options: LoadOptions = LoadOptions()) throws -> Outcome {
        switch try Self.input(for: path) {
        case .spec(let file): return try loadSpec(file, options: options)
        case .descriptor(let file): return try loadDescriptorFile(file)
        }
    }

    /// Reads a hand-written descriptor and checks it as HipChat would.
    public func loadDescriptorFile(_ file: String) throws -> Outcome {
        var sources = SourceStore()
        let bytes = try Self.read(file)
        var (root, diagnostics) = compose(bytes, file, into: &sources)
        let blank = bytes.allSatisfy { [0x20, 0x09, 0x0A, 0x0D].contains($0) }
        // A YAML syntax error in a descriptor is a JSON one, told in JSON's words; the YAML
        // reader's other findings (encoding, size and depth limits) stand.
        if !blank, !diagnostics.contains(where: { $0.code != .yamlSyntax && $0.severity == .error }),
            let problem = JSONSyntax.problem(in: bytes, file: file)
        {
            diagnostics.removeAll { $0.code == .yamlSyntax }
            diagnostics.append(problem)
            root = nil
        }
        var descriptor: JSONNode?
        if let root {
            let json = JSONNode.from(root, diagnostics: &diagnostics)
            diagnostics += DescriptorValidator(origin: .descriptorFile).validate(json)
            descriptor = json
        } else if !diagnostics.hasErrors {
            diagnostics.append(
                .error(
                    .emptyFile, "the file is empty", at: SourceLocation(file: file, line: 1, column: 1),
                    hint: "a descriptor is a JSON object with key, name, description, links and capabilities"))
        }
        let project = descriptor.map {
            AddonProject(
                directory: URL(fileURLWithPath: file).deletingLastPathComponent(), specFile: file, baseUrl: "",
                descriptor: ConnectDescriptor($0), pages: [], assets: [], glances: [])
        }
        return Outcome(project: project, diagnostics: diagnostics.sortedByLocation(), sources: sources)
    }

    /// Reads `addon.yaml`, builds the descriptor, and checks both.
    public func loadSpec(_ file: String, options: LoadOptions) throws -> Outcome {
        var sources = SourceStore()
        let (rootNode, composeDiagnostics) = try compose(file, into: &sources)
        var diagnostics = composeDiagnostics
        let start = SourceLocation(file: file, line: 1, column: 1)
        guard let root = rootNode else {
            if !diagnostics.hasErrors {
                diagnostics.append(
                    .error(
                        .emptyFile, "addon.yaml is empty", at: start,
                        hint: "run `hipkit init` in an empty folder for a complete example"))
            }
            return Outcome(project: nil, diagnostics: diagnostics.sortedByLocation(), sources: sources)
        }
        guard root.mapping != nil else {
            diagnostics.append(
                .error(
                    .wrongType, "addon.yaml must be a mapping of fields (key: value), not \(root.kindDescription)",
                    at: root.location))
            return Outcome(project: nil, diagnostics: diagnostics.sortedByLocation(), sources: sources)
        }
        let (baseUrl, baseLocation) = try selectBaseUrl(root, options: options, diagnostics: &diagnostics)
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().standardizedFileURL
        var translator = SpecTranslator(
            projectDirectory: directory,
            displayDirectory: (file as NSString).deletingLastPathComponent,
            baseUrl: baseUrl ?? "https://addon.invalid", baseUrlLocation: baseLocation)
        let descriptor = translator.translate(root)
        diagnostics += translator.diagnostics
        let validation = DescriptorValidator(origin: .built).check(descriptor)
        var checked = validation.diagnostics.filter { d in
            !(d.code == .unknownField && d.severity == .warning
                && d.location.map(translator.quietFieldLocations.contains) == true)
                && !(d.code == .invalidValue && d.location.map(translator.reportedValueLocations.contains) == true)
                && !(d.code == .missingField && d.field.map(translator.reportedDescriptorPaths.contains) == true)
                && !(d.code == .missingField
                    && d.location.map { location in
                        let member = d.field?.split(separator: ".").last.map(String.init) ?? ""
                        return translator.reportedFields.contains(.init(object: location, member: member))
                    } == true)
        }
        if baseUrl == nil {
            // Without a base URL every URL would be reported; report the cause once instead.
            checked = checked.filter { ![DiagnosticCode.relativeUrl, .insecureUrl].contains($0.code) }
        } else {
            checked = Self.insecureBaseOnce(
                checked, baseUrl: translator.baseUrl, at: baseLocation, writtenInFull: translator.absoluteURLLocations)
        }
        diagnostics += checked
        let reported = Set(checked.filter { $0.code == .unexpandedPlaceholder }.compactMap(\.location))
        diagnostics += Self.basePlaceholders(in: descriptor).filter { $0.location.map(reported.contains) != true }
        var project = AddonProject(
            directory: directory, specFile: file, baseUrl: translator.baseUrl,
            descriptor: ConnectDescriptor(descriptor),
            pages: translator.pages, assets: translator.assets.sorted(), glances: translator.glances)
        project.descriptorURLs = validation.urls.filter { url in
            url.location.map(translator.relativeURLLocations.contains) ?? false
        }
        // HipChat's schema lets the home page be any text, so the descriptor's checks do not
        // take it for a URL; written relative to the base URL, it is one this build must answer.
        if let homepage = descriptor["links"]?["homepage"], let url = homepage.stringValue,
            let location = homepage.location, translator.relativeURLLocations.contains(location)
        {
            project.descriptorURLs.append(
                DescriptorURL(url: url, what: "the add-on's home page (links.homepage)", location: location))
        }
        project.pageSettings = pageSettings(root, environment: options.environment, diagnostics: &diagnostics)
        if let host = options.hipchatHost {
            let base = host.hasSuffix("/") ? String(host.dropLast()) : host
            for (file, keyPath) in [("all.js", \PageSettings.hipchatJs), ("all.css", \PageSettings.hipchatCss)]
            where project.pageSettings[keyPath: keyPath].contains("://") {
                project.pageSettings[keyPath: keyPath] = "\(base)/atlassian-connect/\(file)"
            }
        }
        if let node = root["listing"] {
            var reader = ListingReader(project: project)
            let listing = reader.read(node, root: root)
            diagnostics += reader.diagnostics
            project.listing = reader.diagnostics.hasErrors ? nil : listing
            project.listingLocation = node.location
        }
        project.webhooks = translator.webhooks
        project.settings = translator.settings
        return Outcome(project: project, diagnostics: Self.unique(diagnostics).sortedByLocation(), sources: sources)
    }

    /// The base URL in force: `--base-url`, else the chosen environment's, else the spec's.
    private func selectBaseUrl(_ root: YAMLNode, options: LoadOptions, diagnostics: inout [Diagnostic]) throws -> (
        String?, SourceLocation?
    ) {
        var environmentBase: YAMLNode?
        if let environments = root["environments"] {
            if let entries = environments.mapping {
                for entry in entries {
                    guard let settings = entry.value.mapping else {
                        diagnostics.append(
                            .error(
                                .wrongType,
                                "environment '\(entry.key.scalar?.value ?? "")' must be a mapping such as { baseUrl: https://… }",
                                at: entry.value.location))
                        continue
                    }
                    for setting in settings where SpecSchema.environment.field(setting.key.scalar?.value ?? "") == nil {
                        diagnostics.append(
                            .warning(
                                .unknownField,
                                "unknown setting '\(setting.key.scalar?.value ?? "")' in environment '\(entry.key.scalar?.value ?? "")'",
                                at: setting.key.location,
                                hint: Suggestion.hint(
                                    for: setting.key.scalar?.value ?? "", in: SpecSchema.environment.fields.map(\.name))
                            ))
                    }
                }
            } else {
                diagnostics.append(
                    .error(
                        .wrongType,
                        "environments must be a mapping of names to settings, not \(environments.kindDescription)",
                        at: environments.location))
            }
        }
        if let name = options.environment {
            let names = root["environments"]?.mapping?.compactMap { $0.key.scalar?.value } ?? []
            guard let settings = root["environments"]?[name] else {
                throw HipKitError(
                    "no environment '\(name)' in \(root.location.file)",
                    hint: names.isEmpty
                        ? "declare it under environments:, e.g. environments: { \(name): { baseUrl: https://… } }"
                        : (Suggestion.hint(for: name, in: names) ?? "environments: \(names.joined(separator: ", "))"))
            }
            environmentBase = settings["baseUrl"]
        }
        if let override = options.baseUrl {
            try Self.checkBaseUrl(override)
            return (override, nil)
        }
        guard let node = environmentBase ?? root["baseUrl"] else {
            diagnostics.append(
                .error(
                    .missingBaseUrl, "addon.yaml has no baseUrl, so its relative URLs and pages have no address",
                    at: root.location,
                    hint: "add `baseUrl: https://your-addon.example.com`, or pass --base-url"))
            return (nil, nil)
        }
        guard let value = node.string, let components = URLComponents(string: value),
            let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme),
            components.host?.isEmpty == false,
            components.query == nil, components.fragment == nil
        else {
            diagnostics.append(
                .error(
                    .invalidBaseUrl, "baseUrl must be an http or https URL with no query or fragment",
                    at: node.location,
                    hint: "for example https://incidents.example.com"))
            return (nil, nil)
        }
        return (value, node.location)
    }

    /// The page settings: the chosen environment's, else the spec's, else HipChat's defaults.
    private func pageSettings(_ root: YAMLNode, environment: String?, diagnostics: inout [Diagnostic]) -> PageSettings {
        var settings = PageSettings(environment: environment)
        let scopes = [root] + (environment.flatMap { root["environments"]?[$0] }.map { [$0] } ?? [])
        for scope in scopes {
            for (name, keyPath, locationPath) in [
                ("hipchatJs", \PageSettings.hipchatJs, \PageSettings.hipchatJsLocation),
                ("hipchatCss", \PageSettings.hipchatCss, \PageSettings.hipchatCssLocation),
            ] {
                guard let node = scope[name] else { continue }
                if let value = node.string, !value.isEmpty {
                    settings[keyPath: keyPath] = value
                    settings[keyPath: locationPath] = node.location
                } else {
                    diagnostics.append(
                        .error(
                            .wrongType, "\(name) must be a URL or a file of the project, not \(node.kindDescription)",
                            at: node.location))
                }
            }
        }
        for (name, keyPath) in [
            ("unsafe", \PageSettings.unsafe), ("viewNotifications", \PageSettings.viewNotifications),
        ] {
            guard let node = root[name] else { continue }
            if case .bool(let b)? = node.scalar?.resolved {
                settings[keyPath: keyPath] = b
            } else {
                diagnostics.append(
                    .error(.wrongType, "\(name) must be true or false, not \(node.kindDescription)", at: node.location))
            }
        }
        return settings
    }

    static func checkBaseUrl(_ value: String) throws {
        guard let components = URLComponents(string: value), let scheme = components.scheme?.lowercased(),
            ["http", "https"].contains(scheme), components.host?.isEmpty == false,
            components.query == nil, components.fragment == nil
        else {
            throw HipKitError(
                "--base-url '\(value)' is not an http or https URL",
                hint: "for example --base-url https://incidents.example.com")
        }
    }

    private func compose(_ file: String, into sources: inout SourceStore) throws -> (YAMLNode?, [Diagnostic]) {
        compose(try Self.read(file), file, into: &sources)
    }

    private func compose(_ bytes: [UInt8], _ file: String, into sources: inout SourceStore) -> (YAMLNode?, [Diagnostic])
    {
        sources.add(String(decoding: bytes, as: UTF8.self), for: file)
        let result = YAMLComposer(limits: limits).compose(bytes, file: file)
        return (result.root, result.diagnostics)
    }

    /// The error for a `path` that names nothing: a web address is told as one, since hipkit
    /// reads files (`hipkit import https://…/atlassian-connect.json` said "no such file").
    private static func missing(_ path: String, _ what: String) -> HipKitError {
        let lower = path.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { return HipKitError("\(what): \(path)") }
        return HipKitError(
            "\(path) is a web address; hipkit reads files",
            hint: "download it first: curl -fsSo atlassian-connect.json '\(path)'")
    }

    static func read(_ file: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
            throw missing(file, "no such file")
        }
        guard !isDirectory.boolValue else { throw HipKitError("\(file) is a folder, not a file") }
        guard let handle = FileHandle(forReadingAtPath: file) else {
            throw HipKitError("cannot read \(file): permission denied")
        }
        defer { try? handle.close() }
        do {
            return Array(try handle.readToEnd() ?? Data())
        } catch {
            throw HipKitError("cannot read \(file): \(error.localizedDescription)")
        }
    }

    /// `url` relative to the working folder when it is inside it, for messages.
    public static func displayPath(_ url: URL) -> String {
        let cwd = FileManager.default.currentDirectoryPath
        let path = url.standardizedFileURL.path
        if path.hasPrefix(cwd + "/") { return String(path.dropFirst(cwd.count + 1)) }
        return path
    }

    /// `diagnostics` with the http warnings of URLs under an http `baseUrl` (every page, icon
    /// and endpoint of a project, fourteen for `full`) made one, at the base URL: the cause, and
    /// the one place to fix it. URLs written in full elsewhere keep their own.
    static func insecureBaseOnce(
        _ diagnostics: [Diagnostic], baseUrl: String, at location: SourceLocation?,
        writtenInFull: Set<SourceLocation> = []
    ) -> [Diagnostic] {
        // Joined to the base URL, not written in full (one written in full is fixed where it is).
        func isUnder(_ d: Diagnostic) -> Bool {
            d.code == .insecureUrl && !(d.location.map(writtenInFull.contains) ?? false)
                && (d.message.contains("'\(baseUrl)/") || d.message.contains("'\(baseUrl)'"))
        }
        let under = diagnostics.filter(isUnder)
        guard under.count > 1, let first = under.first else { return diagnostics }
        var kept = diagnostics.filter { !isUnder($0) }
        kept.append(
            .warning(
                .insecureUrl,
                "the base URL is '\(baseUrl)', which uses http, and so do the \(under.count) URLs of the descriptor under it; HipChat requires https outside local development",
                at: location ?? first.location, hint: first.hint))
        return kept
    }

    /// A base-URL placeholder of a hand-written descriptor (`{{localBaseUrl}}`, `${host}`) left
    /// in any string of the built descriptor: under `extra:`, `hipkit import` copies fields it does
    /// not know as they are, and nothing would fill the placeholder in. One error per string,
    /// at it.
    static func basePlaceholders(in node: JSONNode) -> [Diagnostic] {
        switch node.value {
        case .string(let s):
            // Two byte searches first: nearly no string holds either, and the pattern (for
            // `{{ localBaseUrl }}`) costs a regular expression.
            guard let location = node.location, s.utf8.contains(UInt8(ascii: "{")),
                s.contains("localBaseUrl") || s.contains("${host}"),
                let found = ["{{localBaseUrl}}", "${host}"].first(where: { s.contains($0) })
                    ?? (s.range(of: #"\{\{\s*localBaseUrl\s*\}\}"#, options: .regularExpression).map { String(s[$0]) })
            else { return [] }
            return [
                .error(
                    .unexpandedPlaceholder,
                    "'\(s)' still holds the base-URL placeholder '\(found)' of a hand-written descriptor, which nothing fills in here",
                    at: location,
                    hint: "write the URL in full, or, for a field addon.yaml knows, a path relative to baseUrl")
            ]
        case .array(let items): return items.flatMap(basePlaceholders)
        case .object(let members): return members.flatMap { basePlaceholders(in: $0.value) }
        default: return []
        }
    }

    /// Joins path parts the way people write them (`.` + `addon.yaml` is `addon.yaml`).
    public static func join(_ directory: String, _ name: String) -> String {
        if directory.isEmpty || directory == "." { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// The same problem found by two checks (a spec value broken in two ways) is shown once.
    private static func unique(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
        var seen = Set<Diagnostic>()
        return diagnostics.filter { seen.insert($0).inserted }
    }
}
