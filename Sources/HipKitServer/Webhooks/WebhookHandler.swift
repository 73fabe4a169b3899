import HipChatConnect
import Hummingbird
import Logging

/// HipChat's webhook deliveries on the manifest's webhook paths, answered with the spec's
/// canned reply when the message matches.
///
/// A `jwt` webhook is authenticated like a view; a `none` webhook names its installation in
/// `oauth_client_id`, which must be installed. A match with a reply answers 200 with the
/// room notification (HipChat posts it to the room); anything else is 204.
struct WebhookHandler: Sendable {
    let store: any InstallationStore
    let verifier: JWTVerifier
    let logger: Logger

    func handle(
        _ webhook: SiteSnapshot.Webhook, request: Request, body: JSONNode,
        settings: SiteSnapshot.Settings?
    ) async throws(APIError) -> Response {
        guard body.dictionaryValue != nil else {
            throw APIError.badRequest("a webhook delivery must be a JSON object", field: "body")
        }
        let delivery = try Delivery(body)

        let installation: Installation
        // The room a signed delivery is from: its token's (else a room installation's own). The
        // body's room is not signed: taken for the settings, it let a token of one room read
        // another room's.
        var signedRoom: Int?
        switch webhook.authentication {
        case .jwt:
            let token = try await verifier.verify(request)
            installation = token.installation
            signedRoom = token.shownRoom
            if let signed = signedRoom, let named = delivery.roomId, named != signed {
                throw JWTVerifier.refusal(
                    "the delivery names room \(named), but its token is for room \(signed)", field: "item.room.id")
            }
        case .none:
            guard let clientId = delivery.oauthClientId else {
                throw APIError.badRequest("oauth_client_id is missing", field: "oauth_client_id")
            }
            let found: Installation?
            do {
                found = try await store.installation(oauthId: clientId)
            } catch {
                throw APIError(.internalServerError, "the installation store cannot be read")
            }
            guard let found else {
                throw APIError(
                    .forbidden, "oauth_client_id names no installation of this add-on", field: "oauth_client_id")
            }
            installation = found
        }

        if let expected = webhook.event, let event = delivery.event, event != expected {
            return Response(status: .noContent)
        }
        let text = delivery.message ?? ""
        let groups: [String]
        if let pattern = webhook.pattern {
            guard delivery.message != nil, let match = pattern.match(text) else { return Response(status: .noContent) }
            groups = match
        } else {
            groups = [text]
        }
        guard let reply = webhook.reply else { return Response(status: .noContent) }

        var settingValues: [String: JSONNode] = [:]
        if let settings {
            switch webhook.authentication {
            case .jwt:
                let room = settings.perRoom ? signedRoom : nil
                settingValues = try await EffectiveSettings(store: store).values(
                    fields: settings.fields, oauthId: installation.oauthId, room: room)
            case .none:
                // Anyone can post an unsigned delivery naming any installation: its stored
                // settings are not for them. (The build warns of settings in such a reply.)
                settingValues = EffectiveSettings.defaults(settings.fields)
            }
        }
        var match: [String: Any] = [:]
        for (i, group) in groups.enumerated() { match[String(i)] = group }
        let context: [String: Any] = [
            "sender": [
                "name": delivery.senderName ?? "", "mention_name": delivery.senderMention ?? "",
                "id": delivery.senderId ?? "",
            ],
            "room": ["name": delivery.roomName ?? "", "id": delivery.roomId.map(String.init) ?? ""],
            "message": text,
            "match": match,
            "settings": settingValues.mapValues { value -> Any in value.boolValue ?? value.templateText },
        ]
        logger.debug(
            "webhook answered",
            metadata: [
                ModuleKind.webhook.rawValue: "\(webhook.key ?? webhook.path)", "oauthId": "\(installation.oauthId)",
            ])
        return JSONResponse.make(reply.render(context))
    }

    /// The parts of HipChat's delivery body a reply uses, type-checked.
    struct Delivery {
        var event: String?
        var oauthClientId: String?
        var message: String?
        var senderId: String?
        var senderName: String?
        var senderMention: String?
        var roomId: Int?
        var roomName: String?

        init(_ body: JSONNode) throws(APIError) {
            func string(_ value: JSONNode?, _ field: String) throws(APIError) -> String? {
                guard let value, !value.isNull else { return nil }
                guard let s = value.stringValue else {
                    throw APIError.badRequest("\(field) must be a string, not \(value.kindDescription)", field: field)
                }
                return s
            }
            func object(_ value: JSONNode?, _ field: String) throws(APIError) -> JSONNode? {
                guard let value, !value.isNull else { return nil }
                guard value.dictionaryValue != nil else {
                    throw APIError.badRequest("\(field) must be an object, not \(value.kindDescription)", field: field)
                }
                return value
            }
            event = try string(body["event"], "event")
            oauthClientId = try string(body["oauth_client_id"], "oauth_client_id")
            let item = try object(body["item"], "item")
            let messageObject = try object(item?["message"], "item.message")
            message = try string(messageObject?["message"], "item.message.message")
            let from = try object(messageObject?["from"], "item.message.from")
            if let id = from?["id"], !id.isNull {
                guard id.intValue != nil || id.stringValue != nil else {
                    throw APIError.badRequest("item.message.from.id must be a number", field: "item.message.from.id")
                }
                senderId = id.templateText
            }
            senderName = try string(from?["name"], "item.message.from.name")
            senderMention = try string(from?["mention_name"], "item.message.from.mention_name")
            let room = try object(item?["room"], "item.room")
            if let id = room?["id"], !id.isNull {
                guard let value = id.intValue else {
                    throw APIError.badRequest("item.room.id must be a number", field: "item.room.id")
                }
                roomId = value
            }
            roomName = try string(room?["name"], "item.room.name")
        }
    }
}
