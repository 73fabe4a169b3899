import Foundation
import HipChatConnect
import HipKit

extension LocalHipChat {
    /// Someone typed `text` into the room shown: it is posted, and when the add-on is installed
    /// there, every `room_message` webhook whose pattern matches gets HipChat's payload; a reply
    /// in the notification format is shown in that room.
    func say(_ text: String) async throws(Failure) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw Failure("type a message first") }
        guard trimmed.count <= 10_000 else { throw Failure("a message is at most 10,000 characters") }
        let user = self.user
        let room = self.room
        let message = RoomMessage(
            id: nextMessageId(), date: Date(), kind: .message, senderId: user.id, senderName: user.name,
            senderMention: user.mentionName, body: trimmed, html: HTMLText.escape(trimmed), color: nil, card: nil)
        post(message, inRoom: room.id)
        guard let installed else { return }
        for (index, webhook) in installed.addon.webhooks.enumerated()
        where webhook.event?.value == WebhookEvent.roomMessage.rawValue {
            if let pattern = webhook.pattern {
                guard let regex = ConditionEvaluator.javaScriptRegex(pattern, flags: ""),
                    regex.firstMatch(in: trimmed, range: NSRange(trimmed.startIndex..., in: trimmed)) != nil
                else { continue }
            }
            let item: JSONNode = .object([
                "message": .object([
                    "id": .string(message.id), "date": .string(ISO8601DateFormatter().string(from: message.date)),
                    "from": user.sender, "message": .string(trimmed), "type": .string("message"),
                    "message_format": .string(MessageFormat.text.rawValue), "mentions": .array([]),
                ]),
                "room": payload(room),
            ])
            await deliver(webhook, index: index, item: item, through: installed, inRoom: room.id)
        }
    }

    /// `room_enter`, `room_exit` or `room_topic_change`, as the buttons under the room fire them.
    func roomEvent(_ event: String, topic: String?) async throws(Failure) {
        let fired: [WebhookEvent] = [.roomEnter, .roomExit, .roomTopicChange]
        guard let known = WebhookEvent(rawValue: event), fired.contains(known) else {
            throw Failure("the room can fire room_enter, room_exit and room_topic_change")
        }
        if known == .roomTopicChange, let index = rooms.firstIndex(where: { $0.id == currentRoomId }) {
            rooms[index].topic =
                topic.flatMap { $0.isEmpty ? nil : $0 }
                ?? "Topic changed at \(ISO8601DateFormatter().string(from: Date()))"
            changed()
        }
        let room = self.room
        guard let installed else { return }
        var item: [String: JSONNode] = ["room": payload(room), "sender": user.sender]
        if known == .roomTopicChange { item["topic"] = .string(room.topic) }
        for (index, webhook) in installed.addon.webhooks.enumerated() where webhook.event?.value == event {
            await deliver(webhook, index: index, item: .object(item), through: installed, inRoom: room.id)
        }
    }

    /// The room as webhook payloads describe it.
    private func payload(_ room: EmulatedRoom) -> JSONNode {
        .object([
            "id": .integer(room.id), "name": .string(room.name),
            "privacy": .string(room.isPublic ? "public" : "private"),
            "is_archived": .bool(false), "version": .string("1"),
            "links": .object(["self": .string(configuration.apiURL + "room/\(room.id)")]),
        ])
    }

    /// POSTs one webhook delivery of `installed` for an event in room `roomId`; JWT in the
    /// `Authorization` header when the webhook asks for `authentication: jwt`, `oauth_client_id`
    /// in the body always. A reply goes to that room, even if the page shows another by then.
    private func deliver(
        _ webhook: ConnectDescriptor.Webhook, index: Int, item: JSONNode, through installed: Installed,
        inRoom roomId: Int
    ) async {
        guard let event = webhook.event?.value, let address = installed.addon.absolute(webhook.url),
            let url = URL(string: address)
        else { return }
        let payload: JSONNode = .object([
            "event": .string(event), "webhook_id": .integer(index + 1),
            "oauth_client_id": .string(installed.oauthId), "item": item,
        ])
        var request = OutgoingRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = payload.jsonData
        if webhook.authentication == .jwt, let jwt = try? await token(inRoom: roomId) {
            request.setValue("JWT \(jwt)", forHTTPHeaderField: "Authorization")
        }
        let name = webhook.key ?? webhook.name ?? event
        do {
            let response = try await send(request, note: "webhook \(name)")
            guard response.isSuccess else {
                systemNote("Webhook \(name) answered \(response.status): \(Self.errorText(response))", inRoom: roomId)
                return
            }
            guard !response.body.isEmpty, let reply = response.json, reply.dictionaryValue != nil else { return }
            let message = try RoomMessage.notification(
                reply, id: nextMessageId(), from: installed.addon.fromName ?? installed.addon.name)
            post(message, inRoom: roomId)
        } catch let error as RoomMessage.NotificationError {
            systemNote("Webhook \(name) replied with a notification HipChat would refuse: \(error)", inRoom: roomId)
        } catch {
            systemNote("Webhook \(name) cannot be reached: \(error)", inRoom: roomId)
        }
    }

    /// A grey line from the local HipChat itself, for what went wrong with the add-on.
    func systemNote(_ text: String, inRoom roomId: Int) {
        post(
            RoomMessage(
                id: nextMessageId(), date: Date(), kind: .notification, senderId: nil, senderName: "Local HipChat",
                senderMention: nil, body: text, html: HTMLText.escape(text), color: "gray", card: nil),
            inRoom: roomId)
    }
}
