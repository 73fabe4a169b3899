import HipChatConnect

/// Turns a capabilities descriptor into `addon.yaml`, the inverse of what `hipkit build` does.
///
/// URLs that start with a base-URL placeholder (`{{localBaseUrl}}`, `${host}`) become relative;
/// other URLs stay absolute. What the spec has no field for goes under `extra:`, so that building
/// the spec gives the same descriptor back.
public struct DescriptorImporter: Sendable {
    /// The base URL written into the spec for descriptors with placeholders, when none is given.
    public static let defaultBaseUrl = "http://localhost:8080"

    public var baseUrl: String?

    public init(baseUrl: String? = nil) {
        self.baseUrl = baseUrl
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
        let url = URLMapper(placeholder: placeholder)
        var extra = Builder()
        var capabilitiesExtra = Builder()

        for member in descriptor.members ?? [] {
            let v = member.value
            switch member.name {
            case "key", "name", "description", "vendor", "apiVersion":
                spec.add(member.name, v)
            case "links":
                var links = Builder()
                var linksExtra = Builder()
                for link in v.members ?? [] {
                    switch link.name {
                    case "self":
                        if let s = link.value.stringValue, let p = placeholder, s == p + "/atlassian-connect.json" {
                            continue
                        }
                        links.add("self", url.map(link.value))
                    case "homepage": links.add("homepage", url.map(link.value))
                    default: linksExtra.add(link.name, link.value)
                    }
                }
                links.addExtra(linksExtra)
                if !links.isEmpty { spec.add("links", links.node) }
                spec.add("baseUrl", .string(base))
            case "capabilities":
                for capability in v.members ?? [] {
                    importCapability(capability, into: &spec, extra: &capabilitiesExtra, url: url)
                }
            default:
                extra.add(member.name, v)
            }
        }
        if spec.node["baseUrl"] == nil { spec.add("baseUrl", .string(base)) }
        if !capabilitiesExtra.isEmpty { extra.add("capabilities", capabilitiesExtra.node) }
        spec.addExtra(extra)
        return .object(SpecTranslator.ordered(spec.node.members ?? [], by: Self.specOrder))
    }

    static let specOrder = SpecSchema.addon.fields.map(\.name)

    private func importCapability(
        _ capability: JSONMember, into spec: inout Builder, extra: inout Builder, url: URLMapper
    ) {
        let v = capability.value
        switch capability.name {
        case "hipchatApiConsumer":
            var rest = Builder()
            for m in v.members ?? [] {
                switch m.name {
                case "scopes": spec.add("scopes", m.value)
                case "fromName": spec.add("fromName", m.value)
                case "avatar": spec.add("avatar", image(m.value, url: url, collapse: false))
                default: rest.add(m.name, m.value)
                }
            }
            if spec.node["scopes"] == nil && v.isObject && (spec.node["fromName"] != nil || spec.node["avatar"] != nil)
            {
                // The spec writes an empty scope list only when asked; keep the descriptor's shape.
                rest.add("scopes", .array([]))
            }
            if !rest.isEmpty { extra.add("hipchatApiConsumer", rest.node) }
        case "installable":
            spec.add(
                "install",
                object(
                    v, renames: ["allowGlobal": "global", "allowRoom": "room"],
                    urls: ["callbackUrl", "updateCallbackUrl", "installedUrl", "updatedUrl", "uninstalledUrl"], url: url
                ))
        case "configurable":
            spec.add("configure", object(v, urls: ["url"], url: url))
        case "adminPage":
            spec.add("adminPage", object(v, urls: ["url"], url: url))
        case "oauth2Consumer":
            var b = Builder()
            var rest = Builder()
            for m in v.members ?? [] {
                if m.name == "redirectionUrls", let items = m.value.arrayValue {
                    b.add(m.name, .array(items.map(url.map)))
                } else {
                    rest.add(m.name, m.value)
                }
            }
            b.addExtra(rest)
            spec.add("oauth2Consumer", b.node)
        case "oauth2Provider":
            spec.add("oauth2Provider", object(v, urls: ["authorizationUrl", "tokenUrl"], url: url))
        case "webhook":
            let items = v.arrayValue ?? (v.isObject ? [v] : [])
            spec.add("webhooks", .array(items.map { object($0, urls: ["url"], url: url, known: SpecSchema.webhook) }))
        case "glance":
            spec.add("glances", .array((v.arrayValue ?? []).map { glance($0, url: url) }))
        case "webPanel":
            spec.add("sidebars", .array((v.arrayValue ?? []).map { sidebar($0, url: url) }))
        case "dialog":
            spec.add("dialogs", .array((v.arrayValue ?? []).map { dialog($0, url: url) }))
        case "action":
            spec.add("actions", .array((v.arrayValue ?? []).map { action($0) }))
        case "externalPage":
            spec.add(
                "externalPages",
                .array(
                    (v.arrayValue ?? []).map {
                        object(
                            $0, localizable: ["name"], urls: ["url"], url: url, known: SpecSchema.externalPage,
                            allowExtra: false)
                    }))
        default:
            extra.add(capability.name, v)
        }
    }

    private func glance(_ v: JSONNode, url: URLMapper) -> JSONNode {
        var b = Builder()
        var rest = Builder()
        for m in v.members ?? [] {
            switch m.name {
            case "key", "target", "weight": b.add(m.name, m.value)
            case "name": b.add("name", localizable(m.value))
            case "queryUrl": b.add("queryUrl", url.map(m.value))
            case "icon": b.add("icon", image(m.value, url: url, collapse: true))
            case "conditions": b.add("conditions", conditions(m.value))
            default: rest.add(m.name, m.value)
            }
        }
        b.addExtra(rest)
        return b.ordered(by: SpecSchema.glance)
    }

    private func sidebar(_ v: JSONNode, url: URLMapper) -> JSONNode {
        var b = Builder()
        var rest = Builder()
        for m in v.members ?? [] {
            switch m.name {
            case "key", "weight", "authentication": b.add(m.name, m.value)
            case "location": if m.value.stringValue != "hipchat.sidebar.right" { b.add(m.name, m.value) }
            case "name": b.add("name", localizable(m.value))
            case "url": b.add("url", url.map(m.value))
            case "icon": b.add("icon", image(m.value, url: url, collapse: true))
            case "conditions": b.add("conditions", conditions(m.value))
            default: rest.add(m.name, m.value)
            }
        }
        b.addExtra(rest)
        return b.ordered(by: SpecSchema.sidebar)
    }

    private func dialog(_ v: JSONNode, url: URLMapper) -> JSONNode {
        var b = Builder()
        var rest = Builder()
        for m in v.members ?? [] {
            switch m.name {
            case "key", "authentication": b.add(m.name, m.value)
            case "title": b.add("title", localizable(m.value))
            case "url": b.add("url", url.map(m.value))
            case "options" where m.value.isObject:
                var options = Builder()
                for o in m.value.members ?? [] {
                    switch o.name {
                    case "style", "size": b.add(o.name, o.value)
                    case "hint": b.add("hint", localizable(o.value))
                    case "primaryAction": b.add("primaryAction", button(o.value))
                    case "secondaryActions" where o.value.arrayValue != nil:
                        b.add("secondaryActions", .array(o.value.arrayValue!.map(button)))
                    case "filter" where o.value.isObject:
                        let p = o.value["placeholder"]
                        if let p, o.value.members?.count == 1, p["i18n"] == nil, let text = p["value"]?.stringValue,
                            p.members?.count == 1
                        {
                            b.add("filter", .string(text))
                        } else {
                            b.add("filter", o.value)
                        }
                    default: options.add(o.name, o.value)
                    }
                }
                // `options: {}` is kept as written.
                if !options.isEmpty || m.value.members?.isEmpty == true { rest.add("options", options.node) }
            default: rest.add(m.name, m.value)
            }
        }
        b.addExtra(rest)
        return b.ordered(by: SpecSchema.dialog)
    }

    private func button(_ v: JSONNode) -> JSONNode {
        guard v.isObject else { return v }
        if v.members?.count == 1, let name = v["name"], name["i18n"] == nil, name.members?.count == 1,
            let text = name["value"]?.stringValue
        {
            return .string(text)
        }
        var b = Builder()
        var rest = Builder()
        for m in v.members ?? [] {
            switch m.name {
            case "name": b.add("name", localizable(m.value))
            case "key", "enabled": b.add(m.name, m.value)
            default: rest.add(m.name, m.value)
            }
        }
        b.addExtra(rest)
        return b.ordered(by: SpecSchema.button)
    }

    private func action(_ v: JSONNode) -> JSONNode {
        var b = Builder()
        var rest = Builder()
        for m in v.members ?? [] {
            switch m.name {
            case "key", "target", "weight": b.add(m.name, m.value)
            case "name": b.add("name", localizable(m.value))
            case "location":
                switch m.value.stringValue {
                case "hipchat.message.action": b.add("location", .string("message"))
                case "hipchat.input.action": b.add("location", .string("input"))
                default: b.add("location", m.value)
                }
            case "conditions": b.add("conditions", conditions(m.value))
            default: rest.add(m.name, m.value)
            }
        }
        b.addExtra(rest)
        return b.ordered(by: SpecSchema.action)
    }

    /// An object copied member by member: `renames` map descriptor names to spec names, `urls`
    /// are made relative, `localizable` ones shortened, and unknown members go to `extra:`.
    private func object(
        _ v: JSONNode, renames: [String: String] = [:], localizable names: [String] = [], urls: [String],
        url: URLMapper, known: SpecObject? = nil, allowExtra: Bool = true
    ) -> JSONNode {
        guard v.isObject else { return v }
        var b = Builder()
        var rest = Builder()
        let knownNames = Set((known?.fields.map(\.name) ?? []) + urls + names + Array(renames.keys))
        for m in v.members ?? [] {
            if urls.contains(m.name) {
                b.add(m.name, url.map(m.value))
            } else if names.contains(m.name) {
                b.add(m.name, localizable(m.value))
            } else if let renamed = renames[m.name] {
                b.add(renamed, m.value)
            } else if known == nil || knownNames.contains(m.name) || !allowExtra {
                b.add(m.name, m.value)
            } else {
                rest.add(m.name, m.value)
            }
        }
        b.addExtra(rest)
        return known.map { b.ordered(by: $0) } ?? b.node
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
            let mapped = url.map(.string(a)).stringValue, mapped.hasPrefix("/") || SpecTranslator.isAbsolute(mapped)
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

    /// Makes placeholder URLs relative: `{{localBaseUrl}}/x` → `/x`, `{{localBaseUrl}}` → `/`.
    struct URLMapper {
        var placeholder: String?

        func map(_ v: JSONNode) -> JSONNode {
            guard let s = v.stringValue, let split = URLRule.splitPlaceholder(s) else { return v }
            let rest = split.rest
            if rest.isEmpty { return .string("/") }
            return .string(rest.hasPrefix("/") ? rest : "/" + rest)
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
