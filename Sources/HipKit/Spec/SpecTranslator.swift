import Foundation
import HipChatConnect

/// Turns `addon.yaml` into a capabilities descriptor, keeping every value's source location.
///
/// It checks what only the spec knows (its own field names and types, files that must exist,
/// page references) and leaves HipChat's rules to ``DescriptorValidator``, which then reports
/// on the descriptor at the spec's lines.
struct SpecTranslator {
    /// The project folder, absolute.
    let projectDirectory: URL
    /// How to show project files in diagnostics: the project folder as the user named it.
    let displayDirectory: String
    /// The base URL with no trailing slash.
    let baseUrl: String
    let baseUrlLocation: SourceLocation?

    var diagnostics: [Diagnostic] = []
    var pages: [PageReference] = []
    var assets: Set<String> = []
    var glances: [GlanceDocument] = []
    var webhooks: [RuntimeManifest.Webhook] = []
    /// Where fields the spec reader already warned about, or that `extra:` adds on purpose, are
    /// written: the descriptor check does not warn about them a second time.
    var quietFieldLocations = Set<SourceLocation>()
    /// Where URLs are written relative to the base URL (`/help.html`): the build checks that each
    /// is answered by the build or by `hipkit serve`. A URL written out in full, or added by
    /// `extra:` as written, is the user's own pointer (an endpoint served elsewhere) and is not.
    var relativeURLLocations = Set<SourceLocation>()
    /// Where the spec writes a URL in full (`https://…`), not joined to the base URL.
    var absoluteURLLocations = Set<SourceLocation>()
    /// Where the spec reader already reported a value as invalid, in the spec's own words: the
    /// descriptor check's `invalid-value` there, in the descriptor's words, would repeat it.
    var reportedValueLocations = Set<SourceLocation>()
    /// Descriptor members the spec reader reported a problem with and so left out, by the object
    /// they belong in: the descriptor check does not call them missing as well.
    var reportedFields = Set<ReportedField>()
    /// Descriptor paths of the add-on's own fields reported already (see ``reportedFields``).
    var reportedDescriptorPaths = Set<String>()

    struct ReportedField: Hashable {
        var object: SourceLocation
        var member: String
    }
    var settings: [RuntimeManifest.SettingField]?
    /// A webhook's reply, read while its webhook object is translated.
    private var pendingReply: YAMLNode?

    init(projectDirectory: URL, displayDirectory: String, baseUrl: String, baseUrlLocation: SourceLocation?) {
        self.projectDirectory = projectDirectory
        self.displayDirectory = displayDirectory
        var base = baseUrl
        while base.hasSuffix("/") { base.removeLast() }
        self.baseUrl = base
        self.baseUrlLocation = baseUrlLocation
    }

    /// The descriptor for the spec whose root is `root`.
    mutating func translate(_ root: YAMLNode) -> JSONNode {
        var descriptor = translateObject(root, SpecSchema.addon, subject: "the add-on", isRoot: true)
        if descriptor["links"]?["self"] == nil {
            var links = descriptor["links"] ?? .object(at: baseUrlLocation)
            links["self"] = .string(baseUrl + "/" + ConnectDescriptor.fileName, at: baseUrlLocation)
            descriptor["links"] = links
        }
        if var capabilities = descriptor[DescriptorField.capabilities.rawValue] {
            capabilities.value = .object(Self.ordered(capabilities.members ?? [], by: SpecSchema.capabilitiesOrder))
            descriptor[DescriptorField.capabilities.rawValue] = capabilities
        }
        descriptor.value = .object(Self.ordered(descriptor.members ?? [], by: SpecSchema.descriptorOrder))
        return descriptor
    }

    static func ordered(_ members: [JSONMember], by order: [String]) -> [JSONMember] {
        let known = order.compactMap { name in members.first { $0.name == name } }
        return known + members.filter { !order.contains($0.name) }
    }

    // MARK: Objects

    private mutating func translateObject(_ node: YAMLNode, _ spec: SpecObject, subject: String, isRoot: Bool = false)
        -> JSONNode
    {
        guard let entries = node.mapping else {
            diagnostics.append(
                .error(
                    .wrongType, "\(subject) must be a mapping of fields, not \(node.kindDescription)", at: node.location
                ))
            return .object(at: node.location)
        }
        var out = JSONNode.object(at: node.location)
        var byName: [String: YAMLEntry] = [:]
        for entry in entries {
            guard let name = entry.key.scalar?.value else {
                diagnostics.append(
                    .error(
                        .complexKey, "a field name must be plain text, not \(entry.key.kindDescription)",
                        at: entry.key.location))
                continue
            }
            byName[name] = entry
        }
        if byName["page"] != nil, let url = byName["url"] {
            diagnostics.append(
                .error(
                    .pageAndUrl, "\(subject) has both 'page' and 'url'", at: url.key.location,
                    hint: "use page: for a Markdown page of the project, url: for anything else"))
        }
        let moduleKey = byName["key"]?.value.string
        for field in spec.fields {
            guard let entry = byName[field.name] else {
                if let fixed = spec.fixed.first(where: { $0.0 == field.name }) {
                    out[fixed.0] = .string(fixed.1, at: node.location)
                }
                if field.name == "queryUrl", let data = byName["data"], let key = moduleKey {
                    out["queryUrl"] = .string(resolve("/glances/\(key).json"), at: data.key.location)
                }
                continue
            }
            if case .setting = field.kind { continue }
            if case .listing = field.kind { continue }
            if field.name == "extra" {
                merge(entry.value, into: &out, subject: subject)
                continue
            }
            if case .webhookReply = field.kind {
                pendingReply = entry.value
                continue
            }
            if case .settings = field.kind {
                readSettings(entry.value)
                continue
            }
            if case .glanceData = field.kind {
                readGlanceData(
                    entry.value, key: moduleKey,
                    queryUrl: out["queryUrl"]?.stringValue ?? byName["queryUrl"]?.value.string.map(resolve))
                continue
            }
            let fieldSubject = "'\(field.name)' of \(subject)"
            if field.name == "url", byName["page"] != nil { continue }
            guard
                var value = translateValue(
                    entry.value, field.kind, subject: fieldSubject, parentSubject: subject, moduleKey: moduleKey,
                    spec: spec)
            else {
                // Reported already (a wrong type, a missing page): the descriptor check's "missing
                // required field" for the member it would have written says the same again.
                if let member = field.path.first {
                    reportedFields.insert(ReportedField(object: node.location, member: member))
                }
                // A field of the add-on written deeper in the descriptor (`scopes` is
                // `capabilities.hipchatApiConsumer.scopes`) lands in an object made for it
                // elsewhere, so it is known by its path there.
                if isRoot { reportedDescriptorPaths.insert(field.path.joined(separator: ".")) }
                continue
            }
            if value.location == nil { value.location = entry.value.location }
            Self.set(&out, at: field.path, value, keyLocation: entry.key.location)
        }
        if spec.module == .webhook {
            let reply: JSONNode?? = pendingReply.map { readReply($0) }
            recordWebhook(out, reply: reply, subject: subject)
        }
        pendingReply = nil
        let fieldNames = Suggestion.Candidates(spec.fields.map(\.name))
        var unknown: [JSONMember] = []
        for entry in entries {
            guard let name = entry.key.scalar?.value, spec.field(name) == nil else { continue }
            var ignored: [Diagnostic] = []
            quietFieldLocations.insert(entry.key.location)
            unknown.append(
                JSONMember(name, JSONNode.from(entry.value, diagnostics: &ignored), nameLocation: entry.key.location))
        }
        // Merged as `extra:` is: a field hipkit does not know must not replace what it generates
        // (`capabilities:` at the top level replaced every module, `allowGlobal` under
        // `install:` the spec's `global`). That is an error of its own, not this warning.
        let conflicting = unknown.isEmpty ? [] : deepMerge(JSONNode(.object(unknown)), into: &out, path: "")
        for member in unknown where !conflicting.contains(member.name) {
            diagnostics.append(
                .warning(
                    .unknownField,
                    "unknown field '\(member.name)' in \(subject); it is copied into the descriptor as written",
                    at: member.nameLocation,
                    hint: fieldNames.hint(for: member.name) ?? Self.descriptorNameHint(member.name, in: spec)
                        ?? "if this is deliberate, move it under 'extra:' to silence this warning"))
        }
        return out
    }

    /// The hint for a field named as HipChat's descriptor names what `spec` writes under another
    /// name (`webPanel` for `sidebars`, as one porting a descriptor by hand writes it), when no
    /// spec name is near enough to suggest.
    static func descriptorNameHint(_ name: String, in spec: SpecObject) -> String? {
        guard let field = spec.fields.first(where: { $0.path.last == name && $0.name != name }) else { return nil }
        return "'\(name)' is the descriptor's name (\(field.path.joined(separator: ".")));"
            + " addon.yaml writes it as '\(field.name)'"
    }

    /// Sets each of `members` on the object `node`, replacing a member of the same name, in one
    /// pass: a spec with thousands of fields costs thousands of steps, not millions.
    static func setMembers(_ node: inout JSONNode, _ members: [JSONMember]) {
        guard !members.isEmpty, case .object(var existing) = node.value else { return }
        node.value = .null  // `existing` is then the members' only owner: no copy on change
        var index = [String: Int](minimumCapacity: existing.count + members.count)
        for (i, member) in existing.enumerated() where index[member.name] == nil { index[member.name] = i }
        for member in members {
            if let i = index[member.name] {
                existing[i].value = member.value
            } else {
                index[member.name] = existing.count
                existing.append(member)
            }
        }
        node.value = .object(existing)
    }

    /// Sets `value` at `path` below `node`, creating objects on the way.
    static func set(_ node: inout JSONNode, at path: [String], _ value: JSONNode, keyLocation: SourceLocation?) {
        guard let first = path.first else { return }
        if path.count == 1 {
            setMembers(&node, [JSONMember(first, value, nameLocation: keyLocation)])
            return
        }
        var child = node[first] ?? .object(at: value.location)
        set(&child, at: Array(path.dropFirst()), value, keyLocation: keyLocation)
        node[first] = child
    }

    /// `extra:`: merged into the generated object, member by member; objects merge deeply, and
    /// a value that would replace a generated one is refused.
    private mutating func merge(_ extra: YAMLNode, into out: inout JSONNode, subject: String) {
        guard extra.mapping != nil else {
            diagnostics.append(
                .error(
                    .wrongType, "'extra' of \(subject) must be a mapping, not \(extra.kindDescription)",
                    at: extra.location))
            return
        }
        var ignored: [Diagnostic] = []
        let json = JSONNode.from(extra, diagnostics: &ignored)
        diagnostics += ignored
        deepMerge(json, into: &out, path: "extra")
    }

    /// Merges `source`'s members into `target` (`path` names it in errors, empty for the
    /// object itself); returns the names of those that would have replaced a generated value.
    @discardableResult
    private mutating func deepMerge(_ source: JSONNode, into target: inout JSONNode, path: String) -> Set<String> {
        guard case .object(var members) = target.value else { return [] }
        var conflicting: Set<String> = []
        target.value = .null  // `members` is then their only owner: no copy per change
        var index = [String: Int](minimumCapacity: members.count)
        for (i, member) in members.enumerated() where index[member.name] == nil { index[member.name] = i }
        for member in source.members ?? [] {
            let memberPath = path.isEmpty ? member.name : path + "." + member.name
            if let location = member.nameLocation { quietFieldLocations.insert(location) }
            // Not a mapping's or a list's own location: it is that of its first entry, whose
            // warnings would go quiet with it (`extra: {capabilities: {aaa: 1, bbb: 2}}` warned
            // of bbb alone).
            if let location = member.value.location, !member.value.isObject, member.value.arrayValue == nil {
                quietFieldLocations.insert(location)
            }
            if let i = index[member.name] {
                if members[i].value.isObject, member.value.isObject {
                    var merged = members[i].value
                    members[i].value = JSONNode(.null)
                    if !deepMerge(member.value, into: &merged, path: memberPath).isEmpty {
                        conflicting.insert(member.name)
                    }
                    members[i].value = merged
                } else {
                    conflicting.insert(member.name)
                    diagnostics.append(
                        .error(
                            .extraConflict,
                            "'\(memberPath)' would replace a value hipkit generates from the spec",
                            at: member.nameLocation, hint: "set it with the spec's own field instead"))
                }
            } else {
                index[member.name] = members.count
                members.append(member)
            }
        }
        target.value = .object(members)
        return conflicting
    }

    // MARK: Values

    private mutating func translateValue(
        _ node: YAMLNode, _ kind: SpecField.Kind, subject: String, parentSubject: String, moduleKey: String?,
        spec: SpecObject
    ) -> JSONNode? {
        switch kind {
        case .string:
            guard let s = scalarText(node, subject: subject) else { return nil }
            return .string(s, at: node.location)
        case .boolean:
            guard case .bool(let b)? = node.scalar?.resolved else {
                return typeError(
                    node, subject, "true or false",
                    hint: WrongType.hint(expected: "true or false", given: node.scalar?.value))
            }
            return .bool(b, at: node.location)
        case .integer:
            switch node.scalar?.resolved {
            case .integer(let i)?:
                return JSONNode(.integer(i), at: node.location)
            case .double(let d)? where d == d.rounded() && abs(d) < 9_007_199_254_740_992:
                // `10.0`, as a descriptor's JSON may write a whole number (and `hipkit import`
                // then writes it): the same number, exactly.
                return JSONNode(.integer(Int(d)), at: node.location)
            case .double?:
                diagnostics.append(
                    .error(
                        .wrongType, "\(subject) must be a whole number, not \(node.scalar?.value ?? "a fraction")",
                        at: node.location, hint: WrongType.hint(expected: "a whole number")))
                return nil
            default:
                return typeError(node, subject, "a whole number")
            }
        case .url:
            guard let s = scalarText(node, subject: subject) else { return nil }
            guard !s.trimmingCharacters(in: .whitespaces).isEmpty else {
                diagnostics.append(
                    .error(
                        .emptyValue, "\(subject) must not be empty", at: node.location,
                        hint: "write the URL, or `/` for the base URL itself"))
                return nil
            }
            if URLReference.isAbsolute(s) {
                absoluteURLLocations.insert(node.location)
            } else {
                relativeURLLocations.insert(node.location)
            }
            return .string(resolve(s), at: node.location)
        case .urls:
            guard let items = node.sequence else { return typeError(node, subject, "a list of URLs") }
            return .array(
                items.compactMap { item in
                    scalarText(item, subject: subject).map { text in
                        if URLReference.isAbsolute(text) {
                            absoluteURLLocations.insert(item.location)
                        } else {
                            relativeURLLocations.insert(item.location)
                        }
                        return JSONNode.string(resolve(text), at: item.location)
                    }
                }, at: node.location)
        case .page:
            guard let s = scalarText(node, subject: subject),
                let source = projectFile(s, at: node.location, subject: subject, mustBePage: true)
            else { return nil }
            let urlPath = PageReference.urlPath(forSource: source)
            pages.append(
                PageReference(
                    source: source, urlPath: urlPath, moduleKind: spec.module ?? .externalPage, moduleKey: moduleKey,
                    location: node.location))
            return .string(baseUrl + percentEncoded(urlPath), at: node.location)
        case .icon, .avatar:
            return image(node, subject: subject, asObject: { if case .icon = kind { true } else { false } }())
        case .localizable:
            if node.mapping != nil { return json(node) }
            guard let s = scalarText(node, subject: subject) else { return nil }
            return Self.localized(.string(s, at: node.location))
        case .target:
            if node.mapping != nil { return json(node) }
            guard let s = scalarText(node, subject: subject) else { return nil }
            return .string(s, at: node.location)
        case .conditions:
            guard node.sequence != nil else { return typeError(node, subject, "a list of conditions") }
            return conditions(node)
        case .strings:
            guard node.sequence != nil else { return typeError(node, subject, "a list") }
            return json(node)
        case .json:
            return json(node)
        case .dialogSize:
            guard let entries = node.mapping else {
                guard let s = scalarText(node, subject: subject) else { return nil }
                return .string(s, at: node.location)
            }
            return .object(
                entries.compactMap { entry in
                    guard let name = entry.key.scalar?.value else { return nil }
                    if case .integer(let px)? = entry.value.scalar?.resolved {
                        return JSONMember(
                            name, .string("\(px)px", at: entry.value.location), nameLocation: entry.key.location)
                    }
                    var ignored: [Diagnostic] = []
                    return JSONMember(
                        name, JSONNode.from(entry.value, diagnostics: &ignored), nameLocation: entry.key.location)
                }, at: node.location)
        case .button:
            if node.mapping != nil { return translateObject(node, SpecSchema.button, subject: subject) }
            guard let s = scalarText(node, subject: subject) else { return nil }
            return .object(
                [JSONMember("name", Self.localized(.string(s, at: node.location)))],
                at: node.location)
        case .buttons:
            guard let items = node.sequence else { return typeError(node, subject, "a list of buttons") }
            return .array(
                items.enumerated().compactMap { i, item in
                    translateValue(
                        item, .button, subject: "\(subject)[\(i)]", parentSubject: parentSubject, moduleKey: moduleKey,
                        spec: spec)
                }, at: node.location)
        case .filter:
            if node.mapping != nil {
                // `{placeholder: Search}` as the docs write it: a text placeholder is HipChat's
                // `{value: …}`; an object (with `i18n`) is copied as written.
                var filter = json(node)
                guard var members = filter.members else { return filter }
                if let i = members.firstIndex(where: { $0.name == "placeholder" }),
                    case .string = members[i].value.value
                {
                    let text = members[i].value
                    members[i].value = Self.localized(text)
                    filter.value = .object(members)
                }
                return filter
            }
            guard let s = scalarText(node, subject: subject) else { return nil }
            let text = Self.localized(.string(s, at: node.location))
            return .object([JSONMember("placeholder", text)], at: node.location)
        case .actionLocation:
            guard let s = scalarText(node, subject: subject) else { return nil }
            switch s {
            case "message": return .string("hipchat.message.action", at: node.location)
            case "input": return .string("hipchat.input.action", at: node.location)
            default:
                if !DescriptorShape.actionLocations.contains(s) {
                    let names = ["message", "input"]
                    diagnostics.append(
                        .error(
                            .invalidValue,
                            "\(subject) is '\(s)'; an action sits in each message's menu (message) or beside the input box (input)",
                            at: node.location,
                            hint: Suggestion.hint(for: s, in: names + DescriptorShape.actionLocations)
                                ?? "write message or input"))
                    reportedValueLocations.insert(node.location)
                }
                return .string(s, at: node.location)
            }
        case .object(let objectSpec):
            return translateObject(node, objectSpec, subject: subject)
        case .list(let itemSpec):
            guard let items = node.sequence else { return typeError(node, subject, "a list") }
            return .array(
                items.enumerated().map { i, item in
                    let key = item["key"]?.string
                    return translateObject(
                        item, itemSpec, subject: key.map { "\(itemSpec.name) '\($0)'" } ?? "\(itemSpec.name) #\(i + 1)")
                }, at: node.location)
        case .glanceData, .setting, .image, .listing, .webhookReply, .settings:
            return nil
        }
    }

    /// HipChat's localizable text, `{value: text}`, for a plain `text` (a name, a placeholder).
    private static func localized(_ text: JSONNode) -> JSONNode {
        .object([JSONMember("value", text)], at: text.location)
    }

    private func json(_ node: YAMLNode) -> JSONNode {
        var ignored: [Diagnostic] = []
        return JSONNode.from(node, diagnostics: &ignored)
    }

    /// Conditions with bare names expanded to `{condition: name}`, at every level of nesting.
    private func conditions(_ node: YAMLNode) -> JSONNode {
        guard let items = node.sequence else { return json(node) }
        return .array(
            items.map { item in
                if let name = item.string {
                    return .object([JSONMember("condition", .string(name, at: item.location))], at: item.location)
                }
                guard var object = item.mapping.map({ _ in json(item) }) else { return json(item) }
                if let nested = item["conditions"] { object["conditions"] = conditions(nested) }
                return object
            }, at: node.location)
    }

    /// A scalar as text. Numbers and booleans are taken as written (`name: 2048` is the text
    /// "2048"), which is what a person means; lists, mappings and null are errors.
    private mutating func scalarText(_ node: YAMLNode, subject: String) -> String? {
        guard let scalar = node.scalar, scalar.resolved != .null else {
            _ = typeError(node, subject, "text")
            return nil
        }
        return scalar.value
    }

    private mutating func typeError(_ node: YAMLNode, _ subject: String, _ expected: String, hint: String? = nil)
        -> JSONNode?
    {
        diagnostics.append(
            .error(
                .wrongType, "\(subject) must be \(expected), not \(node.kindDescription)", at: node.location,
                hint: hint ?? WrongType.hint(expected: expected)))
        return nil
    }

    // MARK: URLs and files

    /// Joins a relative URL to the base URL (see ``URLReference/join(_:to:)``).
    func resolve(_ reference: String) -> String { URLReference.join(reference, to: baseUrl) }

    /// A path inside the project that must name an existing file; returns it normalised
    /// (`./pages//a.md` → `pages/a.md`).
    private mutating func projectFile(_ path: String, at location: SourceLocation, subject: String, mustBePage: Bool)
        -> String?
    {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." || path.hasPrefix("/") || path.contains("\\") {
                diagnostics.append(
                    .error(
                        .outsideProject, "\(subject) '\(path)' points outside the project folder", at: location,
                        hint: "keep pages and images inside the project, and name them relative to it"))
                return nil
            }
            parts.append(part)
        }
        let normalised = parts.joined(separator: "/")
        if mustBePage, !(normalised.lowercased().hasSuffix(".md") || normalised.lowercased().hasSuffix(".markdown")) {
            diagnostics.append(
                .error(
                    .notMarkdown, "\(subject) '\(path)' is not a Markdown file (.md)", at: location,
                    hint: "page: takes a Markdown file of the project; use url: for other pages"))
            return nil
        }
        var isDirectory: ObjCBool = false
        let absolute = projectDirectory.appendingPathComponent(normalised).path
        guard !normalised.isEmpty, FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory),
            !isDirectory.boolValue
        else {
            let shown =
                displayDirectory.isEmpty || displayDirectory == "." ? normalised : displayDirectory + "/" + normalised
            diagnostics.append(
                .error(
                    .missingFile, "\(subject) names '\(path)', but there is no such file (\(shown))", at: location,
                    hint: Self.nearbyFileHint(normalised, as: path, in: projectDirectory)))
            return nil
        }
        if let reason = ProjectLayout(directory: projectDirectory).unpublishedReason(normalised) {
            diagnostics.append(
                ProjectLayout.unpublishedError("\(subject) names '\(path)'", reason: reason, at: location))
            return nil
        }
        return normalised
    }

    /// A file of the same folder with a near name, written as `written` was (`pages/sidbar.md`
    /// gives `did you mean 'pages/sidebar.md'?`), so the hint can be copied as it is. Files in
    /// `named` (project paths the same part of the spec already names) are not suggested: the
    /// third highlight's missing image is not the second's.
    static func nearbyFileHint(
        _ path: String, as written: String, in projectDirectory: URL, excluding named: Set<String> = []
    ) -> String? {
        let folder = SitePath.directory(of: path)
        let inFolder = { (name: String) in folder.isEmpty ? name : folder + "/" + name }
        guard
            let names = try? FileManager.default.contentsOfDirectory(
                atPath: ProjectLoader.join(projectDirectory.path, folder)),
            let name = Suggestion.closest(
                to: SitePath.name(of: path),
                in: names.sorted().filter { !named.contains(inFolder($0)) })
        else { return nil }
        let prefix = written.lastIndex(of: "/").map { String(written[...$0]) } ?? ""
        return "did you mean '\(prefix + name)'?"
    }

    /// An image field: a URL string stays a URL; a project file becomes its URL under the base
    /// URL, with its `name@2x.ext` twin for `url@2x` when there is one.
    private mutating func image(_ node: YAMLNode, subject: String, asObject: Bool) -> JSONNode? {
        if let entries = node.mapping {
            return .object(
                entries.compactMap { entry in
                    guard let name = entry.key.scalar?.value else { return nil }
                    guard ["url", "url@2x"].contains(name),
                        let s = scalarText(entry.value, subject: "'\(name)' of \(subject)")
                    else {
                        var ignored: [Diagnostic] = []
                        return JSONMember(
                            name, JSONNode.from(entry.value, diagnostics: &ignored), nameLocation: entry.key.location)
                    }
                    return JSONMember(
                        name,
                        .string(imageURL(s, at: entry.value.location, subject: subject).url, at: entry.value.location),
                        nameLocation: entry.key.location)
                }, at: node.location)
        }
        guard let s = scalarText(node, subject: subject) else { return nil }
        let (url, twin, isFile) = imageURL(s, at: node.location, subject: subject, findTwin: true)
        if !asObject && !isFile { return .string(url, at: node.location) }
        return .object(
            [
                JSONMember("url", .string(url, at: node.location)),
                JSONMember("url@2x", .string(twin ?? url, at: node.location)),
            ], at: node.location)
    }

    private mutating func imageURL(_ s: String, at location: SourceLocation, subject: String, findTwin: Bool = false)
        -> (url: String, twin: String?, isFile: Bool)
    {
        if URLReference.isAbsolute(s) {
            absoluteURLLocations.insert(location)
            return (resolve(s), nil, false)
        }
        if s.hasPrefix("/") {
            relativeURLLocations.insert(location)
            return (resolve(s), nil, false)
        }
        guard let file = projectFile(s, at: location, subject: subject, mustBePage: false) else {
            return (resolve(s), nil, true)
        }
        assets.insert(file)
        checkImage(file, at: location) { "\(subject) names \(s), which \($0)" }
        var twin: String?
        if findTwin {
            let ext = (file as NSString).pathExtension
            let stem = ext.isEmpty ? file : String(file.dropLast(ext.count + 1))
            let candidate = stem + "@2x" + (ext.isEmpty ? "" : "." + ext)
            if FileManager.default.fileExists(atPath: projectDirectory.appendingPathComponent(candidate).path) {
                checkImage(candidate, at: location) { "the @2x twin of \(subject), \(candidate), \($0)" }
                assets.insert(candidate)
                twin = baseUrl + percentEncoded("/" + SitePath.output(forProjectFile: candidate))
            }
        }
        return (baseUrl + percentEncoded("/" + SitePath.output(forProjectFile: file)), twin, true)
    }

    /// A warning when the project file `file`, named as an icon or avatar, is no image a browser
    /// shows: not PNG, JPEG, GIF, WebP, SVG or ICO by its first bytes (a text file renamed
    /// `.png`, an empty file), or a PNG or JPEG whose header is broken or whose data is cut
    /// short. HipChat would show a broken image where the icon goes. `message` makes the
    /// warning of what is wrong ("is not an image …").
    private mutating func checkImage(_ file: String, at location: SourceLocation, message: (String) -> String) {
        let url = projectDirectory.appendingPathComponent(file)
        guard let handle = try? FileHandle(forReadingFrom: url) else { return }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 512)) ?? Data()
        let problem: String?
        if let format = ImageInfo.sniff(head) {
            let whole = (try? Data(contentsOf: url)) ?? head
            problem =
                ImageInfo.read(whole) == nil
                ? "is a \(format.name) whose header is broken" : ImageInfo.damage(in: whole).map { "is damaged: \($0)" }
        } else if ImageInfo.isOtherBrowserImage(head) {
            problem = nil
        } else {
            // SVG is XML: a declaration, comments and a DOCTYPE may come before `<svg` (an
            // Illustrator export's reach past 512 bytes). Read on, as far as 64 KB, for XML text.
            let text = String(decoding: head.prefix(64), as: UTF8.self).drop { $0 == "\u{FEFF}" || $0.isWhitespace }
            let isXML = ["<?xml", "<!--", "<!doctype", "<svg"].contains { text.lowercased().hasPrefix($0) }
            let more = isXML ? ((try? handle.read(upToCount: 65_536 - head.count)) ?? Data()) : Data()
            problem =
                isXML && ImageInfo.isOtherBrowserImage(head + more)
                ? nil : "is not an image (PNG, JPEG, GIF, WebP, AVIF, BMP, SVG or ICO)"
        }
        guard let problem else { return }
        diagnostics.append(
            .warning(
                .imageFormat, message(problem), at: location,
                hint: "HipChat would show a broken image in its place: save it as a PNG"))
    }

    private func percentEncoded(_ path: String) -> String {
        path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
    }

    // MARK: Glance data

    private mutating func readGlanceData(_ node: YAMLNode, key: String?, queryUrl: String?) {
        var normaliser = GlanceDataReader()
        let read = normaliser.read(node)
        diagnostics += normaliser.diagnostics
        guard let read, let key else { return }
        // A status icon named as a project file or a path is joined to the base URL, as a
        // module's icon is: HipChat loads it from its own page.
        let data = GlanceShortForms.resolvingIconURLs(read) { url, node in
            guard !URLReference.isAbsolute(url), let location = node.location else { return url }
            return imageURL(url, at: location, subject: "the status icon of glance '\(key)'").url
        }
        guard let queryUrl, queryUrl.hasPrefix(baseUrl + "/") else {
            diagnostics.append(
                .warning(
                    .glanceDataUnserved,
                    "glance '\(key)' has data, but its queryUrl is not under baseUrl, so no static copy is written",
                    at: node.location, hint: "drop queryUrl to serve the data at /glances/\(key).json"))
            return
        }
        var path = String(queryUrl.dropFirst(baseUrl.count))
        if let q = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = String(path[..<q]) }
        glances.append(GlanceDocument(key: key, urlPath: path.removingPercentEncoding ?? path, data: data))
    }
}
