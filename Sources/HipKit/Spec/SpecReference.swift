import HipChatConnect

/// The reference of every `addon.yaml` field, in Markdown, made from the same tables the
/// translator and the validator use, so the documentation cannot drift from the tool.
public enum SpecReference {
    public static func markdown() -> String {
        var out = """
            # addon.yaml reference

            Every field of `addon.yaml`, its type, what it becomes (the descriptor field, HipChat's name
            for it, so HipChat's documentation applies; or, under `listing`, the Marketplace payload
            field or bundle file), and the rules `hipkit validate` checks. This file is
            generated from hipkit's own tables: `make docs` rewrites it, and a test fails when it is
            out of date.

            Conventions:
            - A URL may be relative: it is joined to `baseUrl` (or the `--env` environment's, or
              `--base-url`). `/` alone stands for `baseUrl` itself. Something must answer a
              relative URL: a file of the build (a page, an asset) or a path `hipkit serve`
              answers (install callbacks and browser flows, glance queries, webhooks); anything
              else is an `unanswered-url` error. A URL written in full is not checked: use one
              for what is served apart from the build.
            - Text users see (names, titles, hints) is a string, or `{value, i18n}` with an i18n key.
            - Every object also takes `extra:`, copied into the descriptor object as written, for
              fields hipkit does not model. Unknown fields are copied too, with a warning. Neither may
              replace a value hipkit generates from the spec (`extra-conflict`): objects merge member by
              member, and a member the spec already sets is an error naming its path.
            - A condition is a name (`user_is_admin`), `{condition, invert, params}`, or a composite
              `{type: and|or, conditions: [...]}` (two levels deep at most).


            """
        for (object, shape) in sections {
            out += "## \(object.name == "addon.yaml" ? "Top level" : "`\(object.name)`")\n\n"
            out += "| field | type | becomes | rules | meaning |\n| --- | --- | --- | --- | --- |\n"
            for field in object.fields {
                let target = descriptorPath(field, in: object)
                let (fieldShape, required) = shape.map { lookup(field.path, in: $0) } ?? (nil, false)
                var rules: [String] = []
                if let note = requirement(field, in: object, requiredByHipChat: required) { rules.append(note) }
                if let fieldShape { rules += describe(fieldShape) }
                out +=
                    "| `\(field.name)` | \(type(of: field)) | \(target) | \(rules.joined(separator: "; ").escapedForTable) | \(field.doc.escapedForTable) |\n"
            }
            out += "\n"
        }
        return out
    }

    /// Each spec object with the descriptor object it becomes.
    static let sections: [(SpecObject, ObjectShape?)] =
        [
            (SpecSchema.addon, DescriptorShape.descriptor),
            (SpecSchema.vendor, DescriptorShape.descriptor.nested("vendor")),
            (SpecSchema.links, DescriptorShape.descriptor.nested("links")),
            (SpecSchema.environment, nil),
            (SpecSchema.install, DescriptorShape.capabilities.nested(ModuleKind.installable.rawValue)),
            (SpecSchema.configure, DescriptorShape.capabilities.nested(ModuleKind.configurable.rawValue)),
            (SpecSchema.setting, nil),
            (SpecSchema.adminPage, DescriptorShape.capabilities.nested(ModuleKind.adminPage.rawValue)),
            (SpecSchema.webhook, DescriptorShape.webhook),
            (SpecSchema.glance, DescriptorShape.glance),
            (SpecSchema.sidebar, DescriptorShape.webPanel),
            (SpecSchema.dialog, DescriptorShape.dialog),
            (SpecSchema.button, DescriptorShape.button),
            (SpecSchema.action, DescriptorShape.action),
            (SpecSchema.externalPage, DescriptorShape.externalPage),
            (SpecSchema.oauth2Consumer, DescriptorShape.capabilities.nested(ModuleKind.oauth2Consumer.rawValue)),
            (SpecSchema.oauth2Provider, DescriptorShape.capabilities.nested(ModuleKind.oauth2Provider.rawValue)),
        ] + ListingSchema.all.map { ($0, nil) }

    /// Whether the spec needs the field, which differs from the descriptor where hipkit fills a
    /// value in (links.self, a sidebar's location) or offers `page` as the other way to a URL.
    private static func requirement(_ field: SpecField, in object: SpecObject, requiredByHipChat: Bool) -> String? {
        let hasPage = object.field("page") != nil
        switch (object.name, field.name) {
        case (_, "page") where hasPage: return "this or url"
        case (_, "url") where hasPage: return requiredByHipChat ? "this or page" : nil
        case ("addon.yaml", "links"), ("links", "self"), ("sidebar", "location"): return nil
        case ("addon.yaml", "scopes"): return "required with fromName or avatar"
        case ("addon.yaml", "baseUrl"): return "required unless --base-url is given"
        default: return requiredByHipChat ? "required" : nil
        }
    }

    private static func descriptorPath(_ field: SpecField, in object: SpecObject) -> String {
        switch field.kind {
        case .setting: return "— (setting)"
        case .listing: return "— (Marketplace bundle)"
        case .webhookReply, .settings: return "— (`hipkit serve`)"
        case .glanceData: return "— (served at queryUrl)"
        default: break
        }
        if field.name == "extra" { return "— (merged)" }
        if let first = field.path.first, first.hasSuffix(".json") {
            return "`\(first)`"
                + (field.path.count > 1 ? " `" + field.path.dropFirst().joined(separator: ".") + "`" : "")
        }
        return "`" + field.path.joined(separator: ".") + "`"
    }

    /// Whether addon.yaml must give the field (as the JSON Schema for editors says too).
    static func isRequired(_ field: SpecField, in object: SpecObject, shape: ObjectShape?) -> Bool {
        let (_, requiredByHipChat) = shape.map { lookup(field.path, in: $0) } ?? (nil, false)
        return requirement(field, in: object, requiredByHipChat: requiredByHipChat) == "required"
    }

    static func lookup(_ path: [String], in shape: ObjectShape) -> (Shape?, Bool) {
        guard let first = path.first, let next = shape.shape(of: first) else { return (nil, false) }
        if path.count == 1 { return (next, shape.required.contains(first)) }
        guard case .object(let inner) = next else { return (nil, false) }
        return lookup(Array(path.dropFirst()), in: inner)
    }

    private static func describe(_ shape: Shape) -> [String] {
        switch shape {
        case .string(let rule): return describe(rule)
        case .boolean, .integer, .anyObject: return []
        case .object(let object):
            if object.name == "text" { return ["value 1–100 characters, i18n 1–40"] }
            if object.name == "icon" { return ["url and url@2x"] }
            return []
        case .array(let item): return describe(item).map { "each: " + $0 }
        case .stringOrObject(let rule, _): return describe(rule)
        case .enumOrObject(let words, _):
            return ["one of " + words.joined(separator: ", ") + ", or {width, height} in px or %"]
        case .conditions(let allowed): return ["conditions: " + allowed.joined(separator: ", ")]
        }
    }

    private static func describe(_ rule: StringRule) -> [String] {
        var out: [String] = []
        if let allowed = rule.allowed { out.append("one of " + allowed.joined(separator: ", ")) }
        switch rule.format {
        case .plain: if rule.minLength > 0 { out.append("not empty") }
        case .moduleKey: out.append("1–40 of A–Z a–z 0–9 _ - .")
        case .apiVersion: out.append("digits:digits")
        case .url: out.append("an https URL (http only on loopback), fully expanded")
        case .regex: out.append("a regular expression that compiles")
        case .length: out.append("px or %")
        }
        if let max = rule.maxLength, rule.format != .moduleKey { out.append("at most \(max) characters") }
        return out
    }

    /// The field's type in words. The loader's own settings (`.setting`) each have their own.
    private static func type(of field: SpecField) -> String {
        if case .setting = field.kind {
            switch field.name {
            case "environments": return "mapping of names to {baseUrl, hipchatJs, hipchatCss}"
            case "unsafe", "viewNotifications": return "true/false"
            default: return "text"
            }
        }
        // A setting's default is whatever its type takes: text, a number, true/false.
        if case .json = field.kind, field.name == "default" { return "any value" }
        return type(of: field.kind)
    }

    private static func type(of kind: SpecField.Kind) -> String {
        switch kind {
        case .string: return "text"
        case .boolean: return "true/false"
        case .integer: return "whole number"
        case .url: return "URL"
        case .urls: return "list of URLs"
        case .page: return "Markdown file"
        case .icon: return "image file or URL, or {url, url@2x}"
        case .avatar: return "image file or URL, or {url, url@2x}"
        case .localizable: return "text or {value, i18n}"
        case .target: return "key or {key, options}"
        case .conditions: return "list of conditions"
        case .strings: return "list of text"
        case .json: return "mapping"
        case .dialogSize: return "size name or {width, height}"
        case .button: return "text or button"
        case .buttons: return "list of buttons"
        case .filter: return "text or {placeholder}"
        case .actionLocation: return "message or input"
        case .glanceData: return "{label, status, metadata}"
        case .object(let o): return "`\(o.name)`"
        case .list(let o): return "list of `\(o.name)`"
        case .setting: return "text"
        case .image: return "PNG or JPEG file"
        case .listing: return "`listing`"
        case .webhookReply: return "text or reply"
        case .settings: return "list of `setting`"
        }
    }
}

extension ObjectShape {
    /// The object shape of member `name`, when it is an object.
    func nested(_ name: String) -> ObjectShape? {
        if case .object(let inner)? = shape(of: name) { return inner }
        return nil
    }
}

extension String {
    fileprivate var escapedForTable: String {
        var s = ""
        for c in self { s += c == "|" ? "\\|" : String(c) }
        return s
    }
}
