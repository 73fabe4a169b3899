import Foundation
import HipChatConnect

/// An add-on's descriptor read the way HipChat's web client read it: module lists, localisable
/// names, targets given as a key or as `{key, options}`, `webhook` as one object or a list, and
/// every URL made absolute against the descriptor's own address.
struct EmulatedAddon: Sendable {
    /// A sidebar panel, dialog, external page or configuration page: something that opens.
    struct View: Sendable {
        enum Kind: String, Sendable { case webPanel, dialog, externalPage, configurable }
        var kind: Kind
        var key: String
        var name: String
        var url: String
        /// `authentication: none` views get no `signed_request`.
        var signed: Bool
        /// The dialog's `options` (size, style, buttons, hint, filter); `{}` for the others.
        var options: JSONValue
        var weight: Int
        var conditions: JSONValue?
    }

    struct Glance: Sendable {
        var key: String
        var name: String
        var iconURL: String?
        var iconURL2x: String?
        var queryUrl: String?
        var target: Target?
        var weight: Int
        var conditions: JSONValue?
    }

    struct Action: Sendable {
        enum Location: String, Sendable {
            case message = "hipchat.message.action"
            case input = "hipchat.input.action"
        }
        var key: String
        var name: String
        var location: Location
        var target: Target?
        var weight: Int
        var conditions: JSONValue?
    }

    struct Webhook: Sendable {
        var key: String?
        var name: String?
        var event: String
        var pattern: String?
        var url: String
        var jwt: Bool
    }

    /// A module key to open, with the options the referrer gives it.
    struct Target: Sendable {
        var key: String
        var options: JSONValue?
    }

    var descriptor: JSONValue
    var descriptorURL: URL
    var key: String
    var name: String
    var description: String
    var scopes: [String]
    var fromName: String?
    var avatarURL: String?
    var allowGlobal: Bool
    var allowRoom: Bool
    var callbackUrl: String?
    var updateCallbackUrl: String?
    var glances: [Glance] = []
    var views: [View] = []
    var actions: [Action] = []
    var webhooks: [Webhook] = []

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads `descriptor`, fetched from `url`. Throws when it is not a descriptor at all; what
    /// HipChat would have ignored (a module with no key, an unknown member) is skipped.
    init(descriptor: JSONValue, url: URL) throws(Invalid) {
        guard descriptor.objectValue != nil else {
            throw Invalid(description: "the descriptor at \(url) is not a JSON object")
        }
        self.descriptor = descriptor
        self.descriptorURL = url
        guard let key = descriptor["key"]?.stringValue, !key.isEmpty else {
            throw Invalid(description: "the descriptor at \(url) has no key")
        }
        self.key = key
        self.name = Self.text(descriptor["name"]) ?? key
        self.description = Self.text(descriptor["description"]) ?? ""
        let capabilities = descriptor["capabilities"] ?? descriptor["modules"] ?? .object([:])
        let consumer = capabilities["hipchatApiConsumer"]
        scopes = consumer?["scopes"]?.arrayValue?.compactMap(\.stringValue) ?? []
        fromName = consumer?["fromName"]?.stringValue
        let avatar = consumer?["avatar"]
        avatarURL = Self.absolute(avatar?.stringValue ?? avatar?["url"]?.stringValue, against: url)
        let installable = capabilities["installable"]
        allowGlobal = installable?["allowGlobal"]?.boolValue ?? true
        allowRoom = installable?["allowRoom"]?.boolValue ?? true
        callbackUrl = Self.absolute(installable?["callbackUrl"]?.stringValue, against: url)
        updateCallbackUrl = Self.absolute(installable?["updateCallbackUrl"]?.stringValue, against: url)

        for glance in Self.list(capabilities["glance"]) {
            guard let key = glance["key"]?.stringValue else { continue }
            glances.append(
                Glance(
                    key: key, name: Self.text(glance["name"]) ?? key,
                    iconURL: Self.absolute(glance["icon"]?["url"]?.stringValue, against: url),
                    iconURL2x: Self.absolute(glance["icon"]?["url@2x"]?.stringValue, against: url),
                    queryUrl: Self.absolute(glance["queryUrl"]?.stringValue, against: url),
                    target: Self.target(glance["target"]), weight: glance["weight"]?.intValue ?? 100,
                    conditions: glance["conditions"]))
        }
        glances.sort { ($0.weight, $0.key) < ($1.weight, $1.key) }
        for (member, kind) in [("webPanel", View.Kind.webPanel), ("dialog", .dialog), ("externalPage", .externalPage)] {
            for module in Self.list(capabilities[member]) {
                guard let key = module["key"]?.stringValue,
                    let address = Self.absolute(module["url"]?.stringValue, against: url)
                else { continue }
                views.append(
                    View(
                        kind: kind, key: key, name: Self.text(module["name"]) ?? Self.text(module["title"]) ?? key,
                        url: address,
                        signed: module["authentication"]?.stringValue != "none",
                        options: module["options"] ?? .object([:]),
                        weight: module["weight"]?.intValue ?? 100, conditions: module["conditions"]))
            }
        }
        if let configurable = capabilities["configurable"],
            let address = Self.absolute(configurable["url"]?.stringValue, against: url)
        {
            views.append(
                View(
                    kind: .configurable, key: "configurable", name: "Configure \(name)", url: address,
                    signed: configurable["authentication"]?.stringValue != "none", options: .object([:]), weight: 100,
                    conditions: nil))
        }
        for action in Self.list(capabilities["action"]) {
            guard let key = action["key"]?.stringValue,
                let location = action["location"]?.stringValue.flatMap(Action.Location.init)
            else { continue }
            actions.append(
                Action(
                    key: key, name: Self.text(action["name"]) ?? key, location: location,
                    target: Self.target(action["target"]),
                    weight: action["weight"]?.intValue ?? 100, conditions: action["conditions"]))
        }
        actions.sort { ($0.weight, $0.key) < ($1.weight, $1.key) }
        for webhook in Self.list(capabilities["webhook"]) {
            guard let event = webhook["event"]?.stringValue,
                let address = Self.absolute(webhook["url"]?.stringValue, against: url)
            else { continue }
            webhooks.append(
                Webhook(
                    key: webhook["key"]?.stringValue, name: webhook["name"]?.stringValue, event: event,
                    pattern: webhook["pattern"]?.stringValue, url: address,
                    jwt: webhook["authentication"]?.stringValue == "jwt"))
        }
    }

    func view(_ key: String) -> View? { views.first { $0.key == key } }

    /// A localisable text: a string, or `{value, i18n}`.
    static func text(_ value: JSONValue?) -> String? {
        value?.stringValue ?? value?["value"]?.stringValue
    }

    /// Module lists; `webhook` was often given as a single object, which HipChat accepted.
    private static func list(_ value: JSONValue?) -> [JSONValue] {
        if let array = value?.arrayValue { return array }
        if let value, value.objectValue != nil { return [value] }
        return []
    }

    private static func target(_ value: JSONValue?) -> Target? {
        if let key = value?.stringValue { return Target(key: key, options: nil) }
        if let key = value?["key"]?.stringValue { return Target(key: key, options: value?["options"]) }
        return nil
    }

    /// URLs in a descriptor are absolute in practice; a relative one is read against the
    /// descriptor's address, as a browser would.
    static func absolute(_ value: String?, against base: URL) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return URL(string: value, relativeTo: base)?.absoluteURL.absoluteString ?? value
    }
}
