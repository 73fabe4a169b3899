import Foundation
import HipChatConnect
import HipKit
import Mustache

/// A canned webhook reply, compiled once per build of `dist/`: the message and every string of
/// the card that holds `{{…}}` become Mustache templates.
///
/// Escaping follows what HipChat does with each string: HTML-escaped where HipChat reads HTML
/// (an `html` message, a card's `activity.html`, a description whose format is html), left as
/// it is where HipChat shows text, so `{{sender.name}}` never turns into `&amp;` in a text
/// message and never into markup in an HTML one.
struct ReplyTemplate: Sendable {
    indirect enum Tree: Sendable {
        case template(MustacheTemplate)
        case value(JSONNode)
        case array([Tree])
        case object([String: Tree])
    }

    enum Escaping {
        case html, text

        var pragma: String {
            switch self {
            case .html: HTMLText.mustacheContentType
            case .text: "{{% CONTENT_TYPE: TEXT}}"
            }
        }
    }

    /// The add-on as every reply may name it: `{{addon.baseUrl}}`, `{{addon.key}}`,
    /// `{{addon.name}}`.
    ///
    /// Why the base URL comes from the descriptor being served: a reply linking to the add-on's
    /// own pages then links to the environment it was built for (`--env dev`'s localhost), where
    /// a URL written into the spec would always name production.
    struct Addon: Sendable, Equatable {
        var baseUrl: String
        var key: String
        var name: String
    }

    let message: MustacheTemplate
    let messageFormat: MessageFormat
    let color: NotificationColor?
    let notify: Bool?
    let card: Tree?
    /// `addon` as a template reads it, made once rather than on every delivery.
    private let addonValues: [String: String]

    init(_ reply: RuntimeManifest.Reply, addon: Addon) throws {
        addonValues = ["baseUrl": addon.baseUrl, "key": addon.key, "name": addon.name]
        message = try Self.compile(reply.message, reply.messageFormat == .text ? .text : .html)
        messageFormat = reply.messageFormat
        color = reply.color
        notify = reply.notify
        card = try reply.card.map { try Self.tree($0, path: []) }
    }

    /// The room notification for one delivery.
    func render(_ delivery: [String: Any]) -> JSONNode {
        var context = delivery
        context["addon"] = addonValues
        var object: [String: JSONNode] = [
            "message": .string(message.render(context)),
            "message_format": .string(messageFormat.rawValue),
        ]
        if let color { object["color"] = .string(color.rawValue) }
        if let notify { object["notify"] = .bool(notify) }
        if let card { object["card"] = Self.render(card, context) }
        return .object(object)
    }

    private static func compile(_ text: String, _ escaping: Escaping) throws -> MustacheTemplate {
        try MustacheTemplate(string: escaping.pragma + text)
    }

    private static func tree(_ value: JSONNode, path: [String], parent: [String: JSONNode]? = nil) throws -> Tree {
        switch value.value {
        case .string(let s) where s.contains("{{"):
            return .template(try compile(s, escaping(for: path, parent: parent)))
        case .array(let items):
            return .array(try items.map { try tree($0, path: path + ["[]"]) })
        case .object:
            let members = value.dictionaryValue ?? [:]
            var out: [String: Tree] = [:]
            for (name, member) in members { out[name] = try tree(member, path: path + [name], parent: members) }
            return .object(out)
        default:
            return .value(value)
        }
    }

    /// HTML for the card strings HipChat renders as HTML, text for the rest.
    private static func escaping(for path: [String], parent: [String: JSONNode]?) -> Escaping {
        guard let last = path.last else { return .text }
        if last == "html" { return .html }
        if path == ["description"] { return .text }
        if path == ["description", "value"], parent?["format"]?.stringValue == "html" { return .html }
        return .text
    }

    private static func render(_ tree: Tree, _ context: [String: Any]) -> JSONNode {
        switch tree {
        case .template(let template): return .string(template.render(context))
        case .value(let value): return value
        case .array(let items): return .array(items.map { render($0, context) })
        case .object(let members): return .object(members.mapValues { render($0, context) })
        }
    }
}
