import Foundation
import HipChatConnect

extension LocalHipChat {
    /// Everything the room page draws, with the conditions already evaluated for the role
    /// being played: which glances show, which actions each message offers.
    func state() -> JSONValue {
        let user = self.user
        let context = ConditionEvaluator.Context(user: user, room: room, message: nil, glanceData: nil)
        var object: [String: JSONValue] = [
            "room": room.json, "user": user.json, "role": .string(role.rawValue),
            "roles": .array(EmulatedRole.allCases.map { .string($0.rawValue) }),
            "descriptorUrl": .string(configuration.descriptorURL.absoluteString),
            "addonError": addonError.map(JSONValue.string) ?? .null,
        ]
        object["addon"] =
            (installed?.addon ?? addon).map { addon in
                .object([
                    "key": .string(addon.key), "name": .string(addon.name), "description": .string(addon.description),
                    "scopes": .array(addon.scopes.map(JSONValue.string)), "allowGlobal": .bool(addon.allowGlobal),
                    "allowRoom": .bool(addon.allowRoom), "avatar": addon.avatarURL.map(JSONValue.string) ?? .null,
                    "hasUpdateCallback": .bool(addon.updateCallbackUrl != nil),
                    "configurable": .bool(addon.view("configurable")?.kind == .configurable),
                    "webhookEvents": .array(Array(Set(addon.webhooks.map(\.event))).sorted().map(JSONValue.string)),
                ])
            } ?? .null
        guard let installed else {
            object["installation"] = .null
            object["glances"] = .array([])
            object["inputActions"] = .array([])
            object["messages"] = .array(messages.map { messageJSON($0, actions: []) })
            return .object(object)
        }
        object["installation"] = .object([
            "oauthId": .string(installed.oauthId), "scope": .string(installed.roomId == nil ? "global" : "room"),
            "installedAt": .string(ISO8601DateFormatter().string(from: installed.installedAt)),
        ])
        let addon = installed.addon
        object["glances"] = .array(
            addon.glances.compactMap { glance in
                let data = glanceData[glance.key]
                var evaluator = ConditionEvaluator(context: context)
                evaluator.context.glanceData = data
                guard evaluator.evaluate(glance.conditions) else { return nil }
                return .object([
                    "key": .string(glance.key), "name": .string(glance.name),
                    "icon": glance.iconURL.map(JSONValue.string) ?? .null,
                    "icon2x": glance.iconURL2x.map(JSONValue.string) ?? .null,
                    "target": glance.target.map { .string($0.key) } ?? .null,
                    "targetOptions": glance.target?.options ?? .null,
                    "data": data ?? .null, "error": glanceErrors[glance.key].map(JSONValue.string) ?? .null,
                ])
            })
        object["inputActions"] = .array(
            addon.actions.filter {
                $0.location == .input && ConditionEvaluator(context: context).evaluate($0.conditions)
            }
            .map(actionJSON))
        object["messages"] = .array(
            messages.map { message in
                var evaluator = ConditionEvaluator(context: context)
                evaluator.context.message = message
                return messageJSON(
                    message,
                    actions: addon.actions.filter { $0.location == .message && evaluator.evaluate($0.conditions) })
            })
        object["webPanels"] = .array(
            addon.views.filter { $0.kind == .webPanel && ConditionEvaluator(context: context).evaluate($0.conditions) }
                .map { .object(["key": .string($0.key), "name": .string($0.name)]) })
        return .object(object)
    }

    private func actionJSON(_ action: EmulatedAddon.Action) -> JSONValue {
        .object([
            "key": .string(action.key), "name": .string(action.name),
            "target": action.target.map { .string($0.key) } ?? .null,
            "targetOptions": action.target?.options ?? .null,
        ])
    }

    private func messageJSON(_ message: RoomMessage, actions: [EmulatedAddon.Action]) -> JSONValue {
        .object([
            "id": .string(message.id), "kind": .string(message.kind.rawValue), "sender": .string(message.senderName),
            "mine": .bool(message.senderId == user.id), "html": .string(message.html),
            "color": message.color.map(JSONValue.string) ?? .null,
            "card": message.card ?? .null, "date": .string(ISO8601DateFormatter().string(from: message.date)),
            "actions": .array(actions.map(actionJSON)),
        ])
    }

    /// `HipChat.user.getCurrentUser`, `room.getRoomDetails`, `room.getParticipants`: answered
    /// only when the add-on holds `view_room`, as HipChat's client enforced.
    func scopedAPI(_ call: String) throws(Failure) -> JSONValue {
        guard let installed else { throw Failure("the add-on is not installed") }
        guard installed.addon.scopes.contains("view_room") else {
            throw Failure("\(call) needs the view_room scope, which the descriptor does not ask for", status: 403)
        }
        switch call {
        case "user.getCurrentUser": return user.json
        case "room.getRoomDetails": return room.json
        case "room.getParticipants": return room.participants
        default: throw Failure("no such call \(call)", status: 404)
        }
    }
}
