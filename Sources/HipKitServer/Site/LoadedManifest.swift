import Foundation
import HipChatConnect
import HipKit

/// `dist/_hipkit/runtime.json` as the server reads it: what `hipkit build` (HipKit's
/// `RuntimeManifest`) tells the server beyond the descriptor — static glance data, canned
/// webhook replies and the configuration settings' fields. Never served over HTTP.
struct LoadedManifest: Sendable {
    static let supportedVersion = RuntimeManifest.currentVersion

    struct Glance: Sendable {
        var key: String
        /// Path under the descriptor's base (`/glances/k.json`).
        var path: String?
        var data: JSONValue?
    }

    struct Reply: Sendable {
        var message: String
        var messageFormat: String
        var color: String?
        var notify: Bool?
        var card: JSONValue?
    }

    struct Webhook: Sendable {
        var key: String?
        var path: String
        var event: String?
        var pattern: String?
        var authentication: DescriptorRoutes.Access?
        var reply: Reply?
        var location: SourceLocation?
    }

    struct SettingField: Sendable {
        enum Kind: String, Sendable, CaseIterable {
            case text, number, boolean, select
        }
        var name: String
        var kind: Kind
        var options: [String]
        var defaultValue: JSONValue?
        var required: Bool
        var pattern: String?
        var location: SourceLocation?
    }

    struct Settings: Sendable {
        var path: String
        var fields: [SettingField]
        var perRoom: Bool
    }

    var key: String?
    var glances: [Glance] = []
    var webhooks: [Webhook] = []
    var settings: Settings?

    static let empty = LoadedManifest()

    static let colors = ["yellow", "green", "red", "purple", "gray", "random"]

    /// Reads the manifest; errors make it unusable (the server refuses to start on it, or
    /// keeps the previous build), warnings are logged.
    static func read(_ root: JSONNode, diagnostics: inout [Diagnostic]) -> LoadedManifest? {
        let start = diagnostics.count
        func error(_ code: DiagnosticCode, _ message: String, _ node: JSONNode?, hint: String? = nil) {
            diagnostics.append(.error(code, message, at: node?.location ?? root.location, hint: hint))
        }
        func string(_ node: JSONNode?, _ what: String, required: Bool = false) -> String? {
            guard let node, node.value != .null else {
                if required { error(.missingField, "\(what) is missing", nil) }
                return nil
            }
            guard let s = node.stringValue else {
                error(.wrongType, "\(what) must be a string, not \(node.kindDescription)", node)
                return nil
            }
            return s
        }
        func list(_ node: JSONNode?, _ what: String) -> [JSONNode] {
            guard let node, node.value != .null else { return [] }
            guard let items = node.arrayValue else {
                error(.wrongType, "\(what) must be a list, not \(node.kindDescription)", node)
                return []
            }
            return items
        }
        func checkPattern(_ pattern: String?, _ node: JSONNode?) {
            guard let pattern else { return }
            if (try? NSRegularExpression(pattern: pattern)) == nil {
                error(.invalidPattern, "'\(pattern)' is not a regular expression this server can use", node)
            }
        }

        guard root.isObject else {
            error(.wrongType, "the runtime manifest must be an object, not \(root.kindDescription)", root)
            return nil
        }
        switch root["version"]?.value {
        case .integer(supportedVersion)?: break
        case .integer(let v)?:
            error(
                .unsupportedVersion,
                "runtime manifest version \(v) is newer than this hipkit understands (\(supportedVersion))",
                root["version"], hint: "serve with the hipkit that built dist/")
        default:
            error(.missingField, "the runtime manifest needs \"version\": \(supportedVersion)", root["version"])
        }
        var manifest = LoadedManifest()
        manifest.key = string(root["key"], "key")

        for node in list(root["glances"], "glances") {
            guard let key = string(node["key"], "a glance's key", required: true) else { continue }
            var glance = Glance(key: key, path: string(node["path"], "the path of glance '\(key)'"))
            if let data = node["data"], data.value != .null {
                let problems = GlanceDataValidator().validate(data, subject: "the data of glance '\(key)'")
                diagnostics += problems
                glance.data = JSONValue(data)
            }
            manifest.glances.append(glance)
        }

        for node in list(root["webhooks"], "webhooks") {
            guard let path = string(node["path"], "a webhook's path", required: true) else { continue }
            var webhook = Webhook(
                key: string(node["key"], "a webhook's key"), path: path,
                event: string(node["event"], "a webhook's event"),
                pattern: string(node["pattern"], "a webhook's pattern"), location: node.location)
            checkPattern(webhook.pattern, node["pattern"])
            switch string(node["authentication"], "a webhook's authentication") {
            case "jwt"?: webhook.authentication = .jwt
            case "none"?: webhook.authentication = DescriptorRoutes.Access.none
            case nil: break
            case let other?:
                error(
                    .invalidValue, "webhook authentication is '\(other)'; it must be jwt or none",
                    node["authentication"])
            }
            if let replyNode = node["reply"], replyNode.value != .null {
                if let message = string(replyNode["message"], "the reply's message", required: true) {
                    let format = string(replyNode["message_format"], "the reply's message_format") ?? "html"
                    if format != "html" && format != "text" {
                        error(
                            .invalidValue, "message_format is '\(format)'; HipChat accepts html or text",
                            replyNode["message_format"])
                    }
                    let color = string(replyNode["color"], "the reply's color")
                    if let color, !colors.contains(color) {
                        error(
                            .invalidValue, "color is '\(color)'; HipChat accepts \(colors.joined(separator: ", "))",
                            replyNode["color"])
                    }
                    var notify: Bool?
                    if let node = replyNode["notify"], node.value != .null {
                        notify = node.boolValue
                        if notify == nil { error(.wrongType, "notify must be true or false", node) }
                    }
                    var card: JSONValue?
                    if let node = replyNode["card"], node.value != .null {
                        if node.isObject {
                            card = JSONValue(node)
                        } else {
                            error(.wrongType, "the reply's card must be an object", node)
                        }
                    }
                    webhook.reply = Reply(
                        message: message, messageFormat: format, color: color, notify: notify, card: card)
                }
            }
            manifest.webhooks.append(webhook)
        }

        if let node = root["settings"], node.value != .null {
            if let path = string(node["path"], "the settings path", required: true) {
                var fields: [SettingField] = []
                for fieldNode in list(node["fields"], "settings fields") {
                    guard let name = string(fieldNode["name"], "a setting's name", required: true) else { continue }
                    let typeName = string(fieldNode["type"], "the type of setting '\(name)'") ?? "text"
                    guard let kind = SettingField.Kind(rawValue: typeName) else {
                        error(
                            .invalidValue,
                            "setting '\(name)' has type '\(typeName)'; use one of text, number, boolean, select",
                            fieldNode["type"])
                        continue
                    }
                    let options = list(fieldNode["options"], "the options of setting '\(name)'").compactMap {
                        option -> String? in
                        string(option, "an option of setting '\(name)'")
                    }
                    if kind == .select && options.isEmpty {
                        error(.missingField, "select setting '\(name)' needs options", fieldNode)
                    }
                    let pattern = string(fieldNode["pattern"], "the pattern of setting '\(name)'")
                    checkPattern(pattern, fieldNode["pattern"])
                    var required = false
                    if let node = fieldNode["required"], node.value != .null {
                        if let b = node.boolValue {
                            required = b
                        } else {
                            error(.wrongType, "required must be true or false", node)
                        }
                    }
                    let defaultValue = fieldNode["default"].flatMap { $0.value == .null ? nil : JSONValue($0) }
                    fields.append(
                        SettingField(
                            name: name, kind: kind, options: options, defaultValue: defaultValue,
                            required: required, pattern: pattern, location: fieldNode.location))
                }
                manifest.settings = Settings(path: path, fields: fields, perRoom: node["perRoom"]?.boolValue ?? false)
            }
        }
        return diagnostics[start...].hasErrors ? nil : manifest
    }
}

extension ArraySlice where Element == Diagnostic {
    var hasErrors: Bool { contains { $0.severity == .error } }
}
