import HipChatConnect

/// Turns a capabilities descriptor into `addon.yaml`, the inverse of what `hipkit build` does.
///
/// URLs that start with a base-URL placeholder (`{{localBaseUrl}}`, `${host}`) become relative,
/// except, when the import is told where the add-on runs (`--base-url`), the views and images its
/// own server answered: those are written in full on that base URL. The build asks that every
/// relative URL be answered by itself or by `hipkit serve`, and these are not until they are
/// moved into pages and assets; written in full, they stay on the old server meanwhile. The
/// install callbacks, webhooks and glance queries, which `hipkit serve` answers, stay relative.
/// Other URLs stay absolute. What the spec has no field for goes under `extra:`, so that building
/// the spec gives the same descriptor back.
public struct DescriptorImporter: Sendable {
    /// The base URL written into the spec for descriptors with placeholders, when none is given.
    public static let defaultBaseUrl = "http://localhost:8080"

    public var baseUrl: String?

    public init(baseUrl: String? = nil) {
        // As the spec's baseUrl is read: without its trailing slashes, so joined paths do not
        // start with `//` (`https://x.example.com//config`).
        var base = baseUrl
        while base?.hasSuffix("/") == true { base?.removeLast() }
        self.baseUrl = base
    }

    /// The spec, as a JSON tree in the order it should be written.
    public func spec(from descriptor: JSONNode) -> JSONNode {
        var spec = Builder()
        let placeholder = Self.findPlaceholder(in: descriptor)
        let base: String
        if let baseUrl {
            base = baseUrl
        } else if placeholder == nil, let selfURL = descriptor["links"]?["self"]?.stringValue,
            let origin = Self.origin(of: selfURL)
        {
            base = origin
        } else {
            base = Self.defaultBaseUrl
        }
        let url = URLMapper(placeholder: placeholder, server: baseUrl)
        var extra = Builder()
        var capabilitiesExtra = Builder()

        for member in descriptor.members ?? [] {
            let v = member.value
            switch member.name {
            case DescriptorField.links.rawValue:
                var links = Builder()
                var linksExtra = Builder()
                for link in v.members ?? [] {
                    switch link.name {
                    case "self":
                        if let s = link.value.stringValue, let p = placeholder,
                            s == p + "/" + ConnectDescriptor.fileName
                        {
                            continue
                        }
                        links.add("self", url.answeredByHipkit(true).map(link.value))
                    case "homepage": links.add("homepage", url.map(link.value))
                    default: linksExtra.add(link.name, link.value)
                    }
                }
                links.addExtra(linksExtra)
                if !links.isEmpty { spec.add("links", links.node) }
                spec.add("baseUrl", .string(base))
            case DescriptorField.capabilities.rawValue:
                for capability in v.members ?? [] {
                    importCapability(capability, into: &spec, extra: &capabilitiesExtra, url: url)
                }
            default:
                if let field = Self.field(writing: [member.name], in: SpecSchema.addon),
                    let value = importValue(v, field.kind, url: url)
                {
                    spec.add(field.name, value)
                } else {
                    extra.add(member.name, v)
                }
            }
        }
        if spec.node["baseUrl"] == nil { spec.add("baseUrl", .string(base)) }
        if !capabilitiesExtra.isEmpty { extra.add(DescriptorField.capabilities.rawValue, capabilitiesExtra.node) }
        spec.addExtra(extra)
        return .object(SpecTranslator.ordered(spec.node.members ?? [], by: Self.specOrder))
    }

    static let specOrder = SpecSchema.addon.fields.map(\.name)

    /// The spec field that writes the descriptor member at `path` (relative to the object `spec`
    /// becomes): the spec's own table, read backwards. A field named as the member wins, so
    /// `url` comes back as `url:`, never as `page:`, which only the translator reads.
    static func field(writing path: [String], in spec: SpecObject) -> SpecField? {
        let candidates = spec.fields.filter { $0.path == path }
        return candidates.first { $0.name == path.last }
            ?? candidates.first {
                if case .page = $0.kind { false } else { true }
            }
    }

    /// A capability becomes the spec field whose path is `capabilities.NAME` (`webPanel` →
    /// `sidebars`); `hipchatApiConsumer`'s members become the top-level fields whose paths lead
    /// into it (`scopes`, `fromName`, `avatar`). What the spec does not model goes under
    /// `extra.capabilities`.
    private func importCapability(
        _ capability: JSONMember, into spec: inout Builder, extra: inout Builder, url: URLMapper
    ) {
        let v = capability.value
        let path = [DescriptorField.capabilities.rawValue, capability.name]
        if let field = Self.field(writing: path, in: SpecSchema.addon),
            let value = importValue(v, field.kind, url: url.answeredByHipkit(Self.isRuntimeField(field)))
        {
            spec.add(field.name, value)
            return
        }
        let spread = SpecSchema.addon.fields.filter { $0.path.count == 3 && Array($0.path.prefix(2)) == path }
        guard !spread.isEmpty, v.isObject else {
            extra.add(capability.name, v)
            return
        }
        var rest = Builder()
        for m in v.members ?? [] {
            if let field = Self.field(writing: path + [m.name], in: SpecSchema.addon),
                let value = importValue(m.value, field.kind, url: url.answeredByHipkit(Self.isRuntimeField(field)))
            {
                spec.add(field.name, value)
            } else {
                rest.add(m.name, m.value)
            }
        }
        if capability.name == ModuleKind.hipchatApiConsumer.rawValue, spec.node["scopes"] == nil,
            spec.node["fromName"] != nil || spec.node["avatar"] != nil
        {
            // The spec writes an empty scope list only when asked; keep the descriptor's shape.
            rest.add("scopes", .array([]))
        }
        if !rest.isEmpty { extra.add(capability.name, rest.node) }
    }

    /// A descriptor object as the spec object `spec` writes it, member by member through the
    /// spec's table: members a field writes are converted back (URLs made relative, texts and
    /// icons shortened), members nested a level down (a dialog's `options`) are lifted to their
    /// fields, a fixed member with its fixed value (a sidebar's location) is left out, and the
    /// rest goes under `extra:` (or stays as written where the object has no `extra:`).
    private func importObject(_ v: JSONNode, _ spec: SpecObject, url: URLMapper) -> JSONNode {
        guard v.isObject else { return v }
        var b = Builder()
        var rest = Builder()
        let hasExtra = spec.field("extra") != nil
        for m in v.members ?? [] {
            if let fixed = spec.fixed.first(where: { $0.0 == m.name }), m.value.stringValue == fixed.1 { continue }
            if m.value.isObject, spec.fields.contains(where: { $0.path.count == 2 && $0.path[0] == m.name }) {
                var nestedRest = Builder()
                for o in m.value.members ?? [] {
                    if let field = Self.field(writing: [m.name, o.name], in: spec),
                        let value = importValue(
                            o.value, field.kind, url: url.answeredByHipkit(Self.isRuntimeField(field, of: spec)))
                    {
                        b.add(field.name, value)
                    } else {
                        nestedRest.add(o.name, o.value)
                    }
                }
                // `options: {}` is kept as written.
                if !nestedRest.isEmpty || m.value.members?.isEmpty == true { rest.add(m.name, nestedRest.node) }
                continue
            }
            if let field = Self.field(writing: [m.name], in: spec),
                let value = importValue(
                    m.value, field.kind, url: url.answeredByHipkit(Self.isRuntimeField(field, of: spec)))
            {
                b.add(field.name, value)
            } else if hasExtra {
                rest.add(m.name, m.value)
            } else {
                b.add(m.name, m.value)
            }
        }
        b.addExtra(rest)
        return b.ordered(by: spec)
    }

    /// A descriptor value as a field of `kind` writes it; nil when it does not have the shape
    /// the field reads, so that it is kept under `extra:` as written.
    private func importValue(_ v: JSONNode, _ kind: SpecField.Kind, url: URLMapper) -> JSONNode? {
        switch kind {
        case .url: return url.map(v)
        case .urls: return v.arrayValue.map { .array($0.map(url.map)) }
        case .localizable: return localizable(v)
        case .icon: return image(v, url: url, collapse: true)
        case .avatar: return image(v, url: url, collapse: false)
        case .conditions: return conditions(v)
        case .button: return button(v, url: url)
        case .buttons: return v.arrayValue.map { .array($0.map { button($0, url: url) }) }
        case .filter: return v.isObject ? filter(v) : nil
        case .actionLocation:
            return v.stringValue.flatMap(ActionLocation.init(rawValue:)).map { .string($0.shortName) } ?? v
        case .object(let spec): return importObject(v, spec, url: url)
        case .list(let spec):
            // HipChat took a lone object where a list belongs (webhooks often came that way).
            // Anything else is kept under `extra:` as written, for the build to report; it was
            // dropped, and the spec said nothing of it.
            guard let items = v.arrayValue ?? (v.isObject ? [v] : nil) else { return nil }
            return .array(items.map { importObject($0, spec, url: url) })
        case .string, .boolean, .integer, .target, .strings, .json, .dialogSize: return v
        case .page, .setting, .image, .listing, .webhookReply, .settings, .glanceData: return nil
        }
    }

    /// A button with nothing but a name is written as that name.
    private func button(_ v: JSONNode, url: URLMapper) -> JSONNode {
        if v.members?.count == 1, let name = v["name"], name["i18n"] == nil, name.members?.count == 1,
            let text = name["value"]?.stringValue
        {
            return .string(text)
        }
        return importObject(v, SpecSchema.button, url: url)
    }

    /// A filter with nothing but a placeholder text is written as that text.
    private func filter(_ v: JSONNode) -> JSONNode {
        if let p = v["placeholder"], v.members?.count == 1, p["i18n"] == nil, let text = p["value"]?.stringValue,
            p.members?.count == 1
        {
            return .string(text)
        }
        return v
    }

    /// `{value: "x"}` is written `x`.
    private func localizable(_ v: JSONNode) -> JSONNode {
        if let members = v.members, members.count == 1, let text = v["value"]?.stringValue { return .string(text) }
        return v
    }

    /// `{condition: x}` is written `x`, at every level.
    private func conditions(_ v: JSONNode) -> JSONNode {
        guard let items = v.arrayValue else { return v }
        return .array(
            items.map { item in
                if let members = item.members, members.count == 1, let name = item["condition"]?.stringValue {
                    return .string(name)
                }
                var copy = item
                if let nested = item["conditions"] { copy["conditions"] = conditions(nested) }
                return copy
            })
    }

    /// An icon `{url, url@2x}` with the same URL twice is written as that one URL.
    private func image(_ v: JSONNode, url: URLMapper, collapse: Bool) -> JSONNode {
        if v.stringValue != nil { return url.map(v) }
        guard let members = v.members else { return v }
        if collapse, members.count == 2, let a = v["url"]?.stringValue, a == v["url@2x"]?.stringValue,
            let mapped = url.map(.string(a)).stringValue, mapped.hasPrefix("/") || URLReference.isAbsolute(mapped)
        {
            return .string(mapped)
        }
        return .object(
            members.map { m in
                ["url", "url@2x"].contains(m.name) ? JSONMember(m.name, url.map(m.value)) : JSONMember(m.name, m.value)
            })
    }

    // MARK: Placeholders

    /// The base-URL placeholder the descriptor uses, spelt as in the file (`{{localBaseUrl}}`).
    static func findPlaceholder(in node: JSONNode) -> String? {
        switch node.value {
        case .string(let s): return URLRule.splitPlaceholder(s)?.placeholder
        case .array(let items): return items.lazy.compactMap(findPlaceholder).first
        case .object(let members): return members.lazy.compactMap { findPlaceholder(in: $0.value) }.first
        default: return nil
        }
    }

    static func origin(of url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !host.isEmpty else { return nil }
        return String(url[..<schemeEnd.upperBound]) + host
    }

    /// Whether `hipkit serve` answers the URL a spec field writes (install callbacks and browser
    /// flows, webhooks, glance queries; see ``RuntimeEndpoint``), so that it stays relative.
    static func isRuntimeField(_ field: SpecField, of object: SpecObject = SpecSchema.addon) -> Bool {
        switch (object.name, field.name) {
        case (SpecSchema.install.name, _), (SpecSchema.webhook.name, "url"), (SpecSchema.glance.name, "queryUrl"):
            return true
        default:
            return false
        }
    }

    /// Resolves placeholder URLs: `{{localBaseUrl}}/x` → `/x` (`{{localBaseUrl}}` → `/`), or
    /// `SERVER/x` for what the add-on's own server answers when that server is known.
    struct URLMapper {
        var placeholder: String?
        /// Where the add-on's server is (`--base-url`), if the import was told.
        var server: String?
        var relative = false

        func answeredByHipkit(_ answered: Bool) -> URLMapper {
            var copy = self
            copy.relative = answered
            return copy
        }

        func map(_ v: JSONNode) -> JSONNode {
            guard let s = v.stringValue, let split = URLRule.splitPlaceholder(s) else { return v }
            let rest = split.rest
            let path = rest.isEmpty ? "/" : (rest.hasPrefix("/") ? rest : "/" + rest)
            guard let server, !relative else { return .string(path) }
            return .string(URLReference.join(path, to: server))
        }
    }

    /// An object under construction, in insertion order.
    struct Builder {
        var node = JSONNode.object()
        var isEmpty: Bool { node.members?.isEmpty ?? true }

        mutating func add(_ name: String, _ value: JSONNode) {
            node[name] = value.withoutLocations
        }

        mutating func addExtra(_ extra: Builder) {
            if !extra.isEmpty { add("extra", extra.node) }
        }

        func ordered(by spec: SpecObject) -> JSONNode {
            .object(SpecTranslator.ordered(node.members ?? [], by: spec.fields.map(\.name)))
        }
    }
}
