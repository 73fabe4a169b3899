import Foundation
import HipChatConnect
import HipKit

/// A message in the local HipChat's room: one a person typed, or a notification an add-on
/// sent (a webhook's reply or `POST /v2/room/{id}/notification`), possibly with a card.
struct RoomMessage: Sendable, Codable {
    enum Kind: String, Sendable, Codable { case message, notification }

    var id: String
    var date: Date
    var kind: Kind
    var senderId: Int?
    var senderName: String
    var senderMention: String?
    /// The text as typed, or the notification's `message` (what `message_matches` reads).
    var body: String
    /// What the room shows: escaped text, or the notification's HTML cut down to what HipChat allowed.
    var html: String
    var color: String?
    /// The card, its HTML fields sanitised to `a`, `b`, `i`, `strong`, `span`.
    var card: JSONNode?

    /// The message as `message_matches` / `card_matches` and the JavaScript API's action events
    /// see it.
    var json: JSONNode {
        var object: [String: JSONNode] = [
            "mid": .string(id), "id": .string(id), "body": .string(body), "type": .string(kind.rawValue),
            "date": .string(ISO8601DateFormatter().string(from: date)),
            "sender": .object([
                "id": senderId.map { JSONNode.integer($0) } ?? .null, "name": .string(senderName),
                "mention": senderMention.map(JSONNode.text) ?? .null,
            ]),
        ]
        if let card {
            object["card"] = .object([
                "title": card["title"] ?? .null, "description": card["description"] ?? .null,
                "url": card["url"] ?? .null,
                "style": card["style"] ?? .null,
            ])
            object["metadata"] = card["metadata"] ?? .null
        }
        return .object(object)
    }

    /// A notification from a reply body or the notification API; throws a message for the
    /// add-on when the body is not one HipChat would have shown.
    static func notification(_ body: JSONNode, id: String, from defaultFrom: String) throws(NotificationError)
        -> RoomMessage
    {
        guard body.dictionaryValue != nil else { throw NotificationError("the notification must be a JSON object") }
        guard let text = body["message"]?.stringValue, !text.isEmpty else {
            throw NotificationError("message is required (1 to 10,000 characters)")
        }
        guard text.count <= 10_000 else { throw NotificationError("message is longer than 10,000 characters") }
        guard let format = MessageFormat(rawValue: body["message_format"]?.stringValue ?? MessageFormat.html.rawValue)
        else {
            throw NotificationError("message_format must be \(MessageFormat.names.joined(separator: " or "))")
        }
        guard let color = NotificationColor(rawValue: body["color"]?.stringValue ?? NotificationColor.yellow.rawValue)
        else {
            throw NotificationError("color must be one of \(NotificationColor.list)")
        }
        var card: JSONNode?
        if let value = body["card"], !value.isNull {
            card = try sanitisedCard(value)
        }
        let html =
            format == .text ? HTMLText.escape(text) : LimitedHTML.sanitize(text, allowing: LimitedHTML.messageTags)
        return RoomMessage(
            id: id, date: Date(), kind: .notification, senderId: nil,
            senderName: body["from"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? defaultFrom, senderMention: nil,
            body: text, html: html, color: Self.shown(color).rawValue, card: card)
    }

    struct NotificationError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static let cardStyles = ["file", "image", "application", "link", "media"]

    /// Checks what HipChat required of a card and sanitises its HTML.
    /// `random` is one of the other colours, chosen per message, as in HipChat.
    static func shown(_ color: NotificationColor) -> NotificationColor {
        guard color == .random else { return color }
        return NotificationColor.allCases.filter { $0 != .random }.randomElement() ?? .yellow
    }

    private static func sanitisedCard(_ card: JSONNode) throws(NotificationError) -> JSONNode {
        guard var object = card.dictionaryValue else { throw NotificationError("card must be an object") }
        guard let style = object["style"]?.stringValue, cardStyles.contains(style) else {
            throw NotificationError("card.style must be one of \(cardStyles.joined(separator: ", "))")
        }
        guard object["id"]?.stringValue?.isEmpty == false else { throw NotificationError("card.id is required") }
        guard object["title"]?.stringValue?.isEmpty == false else { throw NotificationError("card.title is required") }
        func html(_ text: String) -> JSONNode { .string(LimitedHTML.sanitize(text, allowing: LimitedHTML.cardTags)) }
        switch object["description"]?.value {
        case .string(let text)?:
            object["description"] = .object(["value": .string(HTMLText.escape(text)), "format": .string("html")])
        case .object?:
            let description = object["description"]?.dictionaryValue ?? [:]
            let value = description["value"]?.stringValue ?? ""
            object["description"] = .object([
                "value": description["format"]?.stringValue == "html" ? html(value) : .string(HTMLText.escape(value)),
                "format": .string("html"),
            ])
        default:
            break
        }
        if var activity = object["activity"]?.dictionaryValue, let text = activity["html"]?.stringValue {
            activity["html"] = html(text)
            object["activity"] = .object(activity)
        }
        return .object(object)
    }
}
