import HipChatConnect

/// Checks a room notification as HipChat's send-notification API takes it: the message, its
/// format and colour, and the card with its style, fields, lengths and the few HTML tags HipChat
/// renders in cards. Used for the canned replies of webhooks.
public struct CardValidator: Sendable {
    public static let colors = NotificationColor.names
    public static let formats = MessageFormat.names
    public static let styles = ["file", "image", "application", "link", "media"]
    public static let cardFormats = ["compact", "medium"]
    public static let attributeStyles = [
        "lozenge", "lozenge-success", "lozenge-error", "lozenge-current", "lozenge-complete", "lozenge-moved",
    ]
    /// Tags HipChat rendered in card HTML; anything else showed as text or was stripped.
    public static let cardTags: Set<String> = ["a", "b", "i", "strong", "span"]
    /// Tags HipChat rendered in an HTML notification message.
    public static let messageTags: Set<String> = [
        "a", "b", "i", "strong", "em", "br", "img", "pre", "code", "lists", "ul", "ol", "li", "table", "tr", "td", "th",
        "p", "span", "div",
    ]

    public init() {}

    public func validate(_ reply: JSONNode, subject: String) -> [Diagnostic] {
        var out: [Diagnostic] = []
        func error(_ code: DiagnosticCode, _ message: String, _ node: JSONNode?, hint: String? = nil) {
            out.append(.error(code, message, at: node?.location ?? reply.location, hint: hint))
        }
        guard reply.isObject else {
            error(.wrongType, "\(subject) must be a mapping with a message, not \(reply.kindDescription)", reply)
            return out
        }
        let known = ["message", "message_format", "color", "notify", "card", "from"]
        for member in reply.members ?? [] where !known.contains(member.name) {
            out.append(
                .warning(
                    .unknownField, "unknown field '\(member.name)' in \(subject); HipChat ignores it",
                    at: member.nameLocation,
                    hint: Suggestion.hint(for: member.name, in: known)))
        }
        let format = reply["message_format"]?.stringValue ?? "html"
        if let node = reply["message_format"], node.stringValue == nil {
            error(.wrongType, "the format of \(subject) must be html or text, not \(node.kindDescription)", node)
        } else if let node = reply["message_format"], !Self.formats.contains(format) {
            error(
                .invalidValue, "message_format of \(subject) is '\(format)'; HipChat accepts html or text", node,
                hint: Suggestion.hint(for: format, in: Self.formats))
        }
        if let message = reply["message"] {
            if let text = message.stringValue {
                if text.isEmpty || text.count > 10_000 {
                    error(
                        .tooLong, "the message of \(subject) must be 1 to 10000 characters, not \(text.count)", message)
                }
                if format == "html", let tag = firstTag(in: text, notIn: Self.messageTags) {
                    out.append(
                        .warning(
                            .htmlTag, "HipChat does not render <\(tag)> in notification messages", at: message.location,
                            hint: "use a, b, i, strong, em, br, img, pre, code, lists, tables and p"))
                }
            } else {
                error(.wrongType, "the message of \(subject) must be text", message)
            }
        } else {
            error(
                .missingField, "\(subject) needs a message (it is also the fallback for clients without cards)", reply)
        }
        if let color = reply["color"] {
            if color.stringValue == nil {
                error(
                    .wrongType,
                    "color of \(subject) must be one of \(Self.colors.joined(separator: ", ")), not \(color.kindDescription)",
                    color)
            } else if let c = color.stringValue, !Self.colors.contains(c) {
                error(
                    .invalidValue,
                    "color of \(subject) is '\(c)'; HipChat accepts \(Self.colors.joined(separator: ", "))", color,
                    hint: Suggestion.hint(for: c, in: Self.colors))
            }
        }
        if let notify = reply["notify"], notify.boolValue == nil {
            error(.wrongType, "notify of \(subject) must be true or false", notify)
        }
        if let card = reply["card"] { out += validateCard(card, subject: subject) }
        return out
    }

    private func validateCard(_ card: JSONNode, subject: String) -> [Diagnostic] {
        var out: [Diagnostic] = []
        func error(_ code: DiagnosticCode, _ message: String, _ node: JSONNode?, hint: String? = nil) {
            out.append(.error(code, message, at: node?.location ?? card.location, hint: hint))
        }
        guard card.isObject else {
            error(.wrongType, "the card of \(subject) must be a mapping", card)
            return out
        }
        for field in ["style", "id", "title"] where card[field]?.stringValue?.isEmpty != false {
            error(
                .missingField, "the card of \(subject) needs '\(field)'", card[field] ?? card,
                hint: field == "style" ? "one of \(Self.styles.joined(separator: ", "))" : nil)
        }
        if let style = card["style"], let s = style.stringValue, !Self.styles.contains(s) {
            error(
                .invalidValue, "card style '\(s)' is not one of \(Self.styles.joined(separator: ", "))", style,
                hint: Suggestion.hint(for: s, in: Self.styles))
        }
        if let title = card["title"]?.stringValue, title.count > 500 {
            error(.tooLong, "the card title is \(title.count) characters long; keep it under 500", card["title"])
        }
        if let format = card["format"], format.stringValue == nil {
            error(.wrongType, "card format must be compact or medium, not \(format.kindDescription)", format)
        } else if let format = card["format"], let f = format.stringValue, !Self.cardFormats.contains(f) {
            error(
                .invalidValue, "card format '\(f)' is not compact or medium", format,
                hint: Suggestion.hint(for: f, in: Self.cardFormats))
        }
        if let description = card["description"] {
            let text = description.stringValue ?? description["value"]?.stringValue
            let format = description["format"]?.stringValue ?? "text"
            if text == nil { error(.wrongType, "the card description must be text or { value, format }", description) }
            if let f = description["format"], !Self.formats.contains(format) {
                error(.invalidValue, "card description format must be html or text", f)
            }
            if let text, format == "html" || description.stringValue != nil,
                let tag = firstTag(in: text, notIn: Self.cardTags)
            {
                error(.htmlTag, "HipChat cards show only a, b, i, strong and span, not <\(tag)>", description)
            }
        }
        for image in ["icon", "thumbnail"] {
            if let node = card[image], node["url"]?.stringValue == nil {
                error(.missingField, "the card's \(image) needs a url", node)
            }
        }
        if let activity = card["activity"] {
            if let html = activity["html"]?.stringValue {
                if let tag = firstTag(in: html, notIn: Self.cardTags) {
                    error(
                        .htmlTag, "card activity HTML shows only a, b, i, strong and span, not <\(tag)>",
                        activity["html"])
                }
            } else {
                error(.missingField, "the card's activity needs html", activity)
            }
        }
        if let attributes = card["attributes"] {
            guard let items = attributes.arrayValue else {
                error(.wrongType, "card attributes must be a list", attributes)
                return out
            }
            for item in items {
                if let label = item["label"]?.stringValue, label.count > 50 {
                    error(
                        .tooLong, "an attribute label is \(label.count) characters long; HipChat allows 50",
                        item["label"])
                }
                guard let value = item["value"], value["label"]?.stringValue != nil else {
                    error(.missingField, "a card attribute needs value: { label }", item)
                    continue
                }
                if let style = value["style"], let s = style.stringValue, !Self.attributeStyles.contains(s) {
                    error(
                        .invalidValue,
                        "attribute style '\(s)' is not one of \(Self.attributeStyles.joined(separator: ", "))", style,
                        hint: Suggestion.hint(for: s, in: Self.attributeStyles))
                }
            }
        }
        return out
    }

    /// The first HTML tag in `html` that is not in `allowed` (`{{…}}` variables are not tags).
    func firstTag(in html: String, notIn allowed: Set<String>) -> String? {
        var rest = Substring(html)
        while let open = rest.firstIndex(of: "<") {
            rest = rest[rest.index(after: open)...]
            let name = rest.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }.lowercased()
            if !name.isEmpty, !allowed.contains(name) { return name }
        }
        return nil
    }
}
