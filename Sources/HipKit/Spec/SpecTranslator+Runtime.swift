import Foundation
import HipChatConnect

/// What `hipkit serve` needs beyond the descriptor: webhooks' canned replies and the settings a
/// configuration page edits.
extension SpecTranslator {
    /// A reply in HipChat's room-notification shape; `reply: text` is a plain-text message.
    mutating func readReply(_ node: YAMLNode) -> JSONNode? {
        var reply: JSONNode
        if let text = node.scalar?.value, node.scalar?.resolved != .null {
            reply = .object(
                [
                    JSONMember("message", .string(text, at: node.location)),
                    JSONMember("message_format", .string(MessageFormat.text.rawValue, at: node.location)),
                ], at: node.location)
        } else if node.mapping != nil {
            var ignored: [Diagnostic] = []
            reply = JSONNode.from(node, diagnostics: &ignored)
            if let format = reply["format"] {
                reply["format"] = nil
                reply["message_format"] = format
            }
            if reply["message_format"] == nil {
                reply["message_format"] = .string(MessageFormat.text.rawValue, at: node.location)
            }
        } else {
            diagnostics.append(
                .error(
                    .wrongType,
                    "a webhook reply must be a message or { message, format, color, notify, card }, not \(node.kindDescription)",
                    at: node.location))
            return nil
        }
        let problems = CardValidator().validate(reply, subject: "the reply")
        diagnostics += problems
        return problems.hasErrors ? nil : reply
    }

    mutating func recordWebhook(_ node: JSONNode, reply: JSONNode??, subject: String) {
        let webhook = ConnectDescriptor.Webhook(node)
        guard let url = webhook.url?.value else { return }
        guard url.hasPrefix(baseUrl + "/") else {
            if case .some(.some) = reply {
                diagnostics.append(
                    .warning(
                        .replyUnserved,
                        "\(subject) has a reply, but its url is not under baseUrl, so hipkit serve never sees it",
                        at: webhook.url?.location, hint: "use a relative url such as /hooks/NAME"))
            }
            return
        }
        if webhook.authentication == .none, case .some(.some(let json)) = reply,
            JSONWriter.string(json.withoutLocations).range(
                of: #"\{\{[#^&{]?\s*settings\b"#, options: .regularExpression)
                != nil
        {
            diagnostics.append(
                .warning(
                    .settingsInUnsignedReply,
                    "\(subject) has authentication: none, so its reply gets the settings' defaults only: anyone can "
                        + "post a delivery naming any installation",
                    at: json.location ?? webhook.url?.location,
                    hint: "use authentication: jwt to reply with each installation's settings"))
        }
        var path = String(url.dropFirst(baseUrl.count))
        if let q = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = String(path[..<q]) }
        webhooks.append(
            RuntimeManifest.Webhook(
                key: webhook.key, path: path.removingPercentEncoding ?? path, event: webhook.event?.value ?? "",
                pattern: webhook.pattern, authentication: webhook.authentication,
                reply: (reply ?? nil).flatMap(RuntimeManifest.Reply.init(json:))))
    }

    static let settingTypes = SettingType.names

    mutating func readSettings(_ node: YAMLNode) {
        guard let items = node.sequence else {
            diagnostics.append(
                .error(
                    .wrongType, "settings must be a list of { name, type, … }, not \(node.kindDescription)",
                    at: node.location))
            return
        }
        var fields: [RuntimeManifest.SettingField] = []
        var names = Set<String>()
        for item in items {
            guard item.mapping != nil else {
                diagnostics.append(
                    .error(
                        .wrongType, "a setting must be a mapping such as { name: channel, type: text }",
                        at: item.location))
                continue
            }
            var wrongTypes = Set<String>()
            for entry in item.mapping ?? [] {
                guard let name = entry.key.scalar?.value else { continue }
                guard let known = SpecSchema.setting.field(name) else {
                    diagnostics.append(
                        .warning(
                            .unknownField, "unknown field '\(name)' in a setting", at: entry.key.location,
                            hint: Suggestion.hint(for: name, in: SpecSchema.setting.fields.map(\.name))))
                    continue
                }
                // `name` has its own check below, with its rules for the characters.
                if name != "name", let expected = Self.settingTypeProblem(entry.value, known.kind) {
                    diagnostics.append(
                        .error(
                            .wrongType,
                            "'\(name)' of a setting must be \(expected), not \(entry.value.kindDescription)",
                            at: entry.value.location))
                    wrongTypes.insert(name)
                }
            }
            var ignored: [Diagnostic] = []
            var field = JSONNode.from(item, diagnostics: &ignored)
            for name in wrongTypes { field[name] = nil }
            guard let name = field["name"]?.stringValue, !name.isEmpty,
                name.unicodeScalars.allSatisfy({ ShapeChecker.isKeyCharacter($0) && $0 != "." })
            else {
                diagnostics.append(
                    .error(
                        .invalidValue, "a setting needs a name of letters, digits, '_' and '-'",
                        at: item["name"]?.location ?? item.location))
                continue
            }
            if !names.insert(name).inserted {
                diagnostics.append(
                    .error(.duplicateSetting, "two settings are called '\(name)'", at: item["name"]?.location))
            }
            let type = field["type"]?.stringValue ?? "text"
            if !Self.settingTypes.contains(type) {
                diagnostics.append(
                    .error(
                        .invalidValue,
                        "setting type '\(type)' is not one of \(Self.settingTypes.joined(separator: ", "))",
                        at: item["type"]?.location, hint: Suggestion.hint(for: type, in: Self.settingTypes)))
            }
            field["type"] = .string(type)
            let options = field["options"]?.arrayValue?.compactMap(\.stringValue) ?? []
            if type == "select" && options.isEmpty {
                diagnostics.append(
                    .error(.missingField, "the select setting '\(name)' needs options", at: item.location))
            }
            if let pattern = field["pattern"]?.stringValue, let problem = ShapeChecker.regexProblem(pattern) {
                diagnostics.append(
                    .error(
                        .invalidRegex, "the pattern of setting '\(name)' is not a valid regular expression: \(problem)",
                        at: item["pattern"]?.location))
            }
            if let value = field["default"], !Self.settingAccepts(type: type, options: options, value: value) {
                diagnostics.append(
                    .error(
                        .invalidValue, "the default of setting '\(name)' is not a valid \(type)",
                        at: item["default"]?.location))
            }
            if let typed = RuntimeManifest.SettingField(json: field) { fields.append(typed) }
        }
        settings = fields
    }

    /// What a setting's field must be, when `value` is not that; nil when it is.
    static func settingTypeProblem(_ value: YAMLNode, _ kind: SpecField.Kind) -> String? {
        switch kind {
        case .string: return value.scalar == nil ? "text" : nil
        case .boolean: if case .bool? = value.scalar?.resolved { return nil } else { return "true or false" }
        case .strings: return value.sequence?.allSatisfy({ $0.scalar != nil }) == true ? nil : "a list of text"
        default: return nil
        }
    }

    static func settingAccepts(type: String, options: [String], value: JSONNode) -> Bool {
        switch (type, value.value) {
        case ("number", .integer), ("number", .double), ("boolean", .bool), ("text", .string): return true
        case ("select", .string(let s)): return options.contains(s)
        default: return false
        }
    }
}

extension RuntimeManifest.Reply {
    /// A reply in HipChat's notification shape, as checked by ``CardValidator``; nil without a
    /// message or with a format or colour HipChat does not know.
    init?(json: JSONNode) {
        guard let message = json["message"]?.stringValue,
            let format = MessageFormat(rawValue: json["message_format"]?.stringValue ?? MessageFormat.html.rawValue)
        else { return nil }
        let color = json["color"]?.stringValue.flatMap(NotificationColor.init(rawValue:))
        if json["color"] != nil && color == nil { return nil }
        self.init(
            message: message, messageFormat: format, color: color, notify: json["notify"]?.boolValue,
            card: json["card"].map(\.withoutLocations))
    }
}

extension RuntimeManifest.SettingField {
    /// A setting as the spec reader checked it.
    init?(json: JSONNode) {
        guard let name = json["name"]?.stringValue,
            let type = SettingType(rawValue: json["type"]?.stringValue ?? "text")
        else { return nil }
        self.init(
            name: name, type: type, label: json["label"]?.stringValue, required: json["required"]?.boolValue ?? false,
            defaultValue: json["default"].flatMap { $0.isNull ? nil : $0.withoutLocations },
            pattern: json["pattern"]?.stringValue,
            options: json["options"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }
}
