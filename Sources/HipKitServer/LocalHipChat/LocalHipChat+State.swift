import Foundation
import HipChatConnect

extension LocalHipChat {
    /// Everything the room page draws, with the conditions already evaluated for the role
    /// being played: the rooms they see, which glances show in the room shown, which actions
    /// each message offers, and what they may do (install, rename, manage installations).
    func state() -> JSONNode {
        let user = self.user
        let room = self.room
        let context = ConditionEvaluator.Context(user: user, room: room, message: nil, glanceData: nil)
        var object: [String: JSONNode] = [
            "room": room.json, "user": user.json, "role": .string(role.rawValue),
            "group": .object(["id": .integer(EmulatedRoom.groupId), "name": .string(EmulatedRoom.groupName)]),
            "rooms": .array(
                rooms.filter { $0.isVisible(to: user) }.map { listed in
                    .object([
                        "id": .integer(listed.id), "name": .string(listed.name), "privacy": .string(listed.privacy),
                        "current": .bool(listed.id == room.id),
                        "installed": installation(covering: listed.id).map {
                            .string($0.roomId == nil ? "global" : "room")
                        }
                            ?? .null,
                    ])
                }),
            "installations": .array(installations.map(installationJSON)),
            "may": .object([
                "installInRoom": .bool((try? checkInstall(room)) != nil),
                "installGlobally": .bool((try? checkInstall(nil)) != nil),
                "administerRoom": .bool(room.isAdministered(by: user)),
                "createRooms": .bool(!user.isGuest),
                "administerGroup": .bool(user.isAdmin),
            ]),
            "roles": .array(EmulatedRole.allCases.map { .string($0.rawValue) }),
            "descriptorUrl": .string(configuration.descriptorURL.absoluteString),
            "addonError": addonError.map(JSONNode.text) ?? .null,
        ]
        object["addon"] =
            (installed?.addon ?? addon).map { addon in
                .object([
                    "key": .string(addon.key), "name": .string(addon.name), "description": .string(addon.description),
                    "scopes": .array(addon.scopes.map(JSONNode.text)), "allowGlobal": .bool(addon.allowGlobal),
                    "allowRoom": .bool(addon.allowRoom), "avatar": addon.avatarURL.map(JSONNode.text) ?? .null,
                    "hasUpdateCallback": .bool(addon.updateCallbackUrl != nil),
                    ModuleKind.configurable.rawValue: .bool(
                        addon.view(ModuleKind.configurable.rawValue)?.kind == .configurable),
                    "webhookEvents": .array(
                        Array(Set(addon.webhooks.compactMap(\.event?.value))).sorted().map(JSONNode.text)),
                    "commands": .array(Self.slashCommands(addon.webhooks).map(JSONNode.text)),
                ])
            } ?? .null
        guard let installed else {
            object["installation"] = .null
            object["glances"] = .array([])
            object["inputActions"] = .array([])
            object["messages"] = .array(room.messages.map { messageJSON($0, actions: []) })
            return .object(object)
        }
        object["installation"] = installationJSON(installed)
        let addon = installed.addon
        object["glances"] = .array(
            addon.glances.compactMap { glance in
                guard let key = glance.key else { return nil }
                let data = glanceData(key, inRoom: room.id, installation: installed)
                var evaluator = ConditionEvaluator(context: context)
                evaluator.context.glanceData = data
                guard evaluator.evaluate(glance.conditions) else { return nil }
                let icon: JSONNode = addon.absolute(glance.icon?.url).map(JSONNode.text) ?? .null
                let icon2x: JSONNode = addon.absolute(glance.icon?.url2x).map(JSONNode.text) ?? .null
                let target: JSONNode = glance.target.map { JSONNode.text($0.key.value) } ?? .null
                let targetOptions: JSONNode = glance.target?.options ?? .null
                let error: JSONNode = glanceErrors[room.id]?[key].map(JSONNode.text) ?? .null
                let item: JSONNode = .object([
                    "key": .string(key), "name": .string(glance.shownName), "icon": icon, "icon2x": icon2x,
                    "target": target, "targetOptions": targetOptions, "data": data ?? .null, "error": error,
                ])
                return item
            })
        object["inputActions"] = .array(
            addon.actions.filter {
                $0.location == .input && ConditionEvaluator(context: context).evaluate($0.conditions)
            }
            .map(actionJSON))
        object["messages"] = .array(
            room.messages.map { message in
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

    /// An installation as the room's bar and the group admin's list show it. `descriptorChanged`:
    /// the descriptor served now differs from the one installed; HipChat kept the installed one
    /// until an update, and the page offers that update.
    private func installationJSON(_ installed: Installed) -> JSONNode {
        let changed =
            addon.map { $0.descriptor.withoutLocations != installed.addon.descriptor.withoutLocations } ?? false
        return .object([
            "oauthId": .string(installed.oauthId), "scope": .string(installed.roomId == nil ? "global" : "room"),
            "roomId": installed.roomId.map { .integer($0) } ?? .null,
            "roomName": installed.roomId.flatMap(room).map { .string($0.name) } ?? .null,
            "installedAt": .string(ISO8601DateFormatter().string(from: installed.installedAt)),
            "descriptorChanged": .bool(changed), "manageable": .bool(mayManage(installed)),
        ])
    }

    private func actionJSON(_ action: ConnectDescriptor.Action) -> JSONNode {
        .object([
            "key": action.key.map(JSONNode.text) ?? .null, "name": .string(action.shownName),
            "target": action.target.map { .string($0.key.value) } ?? .null,
            "targetOptions": action.target?.options ?? .null,
        ])
    }

    private func messageJSON(_ message: RoomMessage, actions: [ConnectDescriptor.Action]) -> JSONNode {
        .object([
            "id": .string(message.id), "kind": .string(message.kind.rawValue), "sender": .string(message.senderName),
            "mine": .bool(message.senderId == user.id), "html": .string(message.html),
            "color": message.color.map(JSONNode.text) ?? .null,
            "card": message.card ?? .null, "date": .string(ISO8601DateFormatter().string(from: message.date)),
            "actions": .array(actions.map(actionJSON)),
        ])
    }

    /// `HipChat.user.getCurrentUser`, `room.getRoomDetails`, `room.getParticipants`: answered
    /// only when the add-on holds `view_room`, as HipChat's client enforced.
    func scopedAPI(_ call: String) throws(Failure) -> JSONNode {
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

    /// The slash commands the add-on's `room_message` webhooks answer (`^/incident…` gives
    /// `/incident`), for the message box's hint.
    static func slashCommands(_ webhooks: [ConnectDescriptor.Webhook]) -> [String] {
        var commands: [String] = []
        for webhook in webhooks where webhook.event?.value == WebhookEvent.roomMessage.rawValue {
            guard var pattern = webhook.pattern else { continue }
            if pattern.hasPrefix("^") { pattern.removeFirst() }
            if pattern.hasPrefix("\\/") { pattern.removeFirst() }
            guard pattern.hasPrefix("/") else { continue }
            let name = pattern.dropFirst().prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
            if !name.isEmpty, !commands.contains("/" + name) { commands.append("/" + name) }
        }
        return commands
    }
}
