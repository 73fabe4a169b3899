import Foundation
import HipChatConnect

/// An add-on's descriptor read the way HipChat's web client read it: module lists, localisable
/// names, targets given as a key or as `{key, options}`, `webhook` as one object or a list, and
/// every URL made absolute against the descriptor's own address.
struct EmulatedAddon: Sendable {
    /// A sidebar panel, dialog, external page or configuration page: something that opens.
    struct View: Sendable {
        /// A web panel, dialog, external page or the configuration page.
        var kind: ModuleKind
        var key: String
        var name: String
        var url: String
        /// `authentication: none` views get no `signed_request`.
        var signed: Bool
        /// The dialog's `options` (size, style, buttons, hint, filter); `{}` for the others.
        var options: JSONNode
        var weight: Int
        var conditions: JSONNode?
    }

    var descriptor: JSONNode
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
    /// HipChat's browser flows: where the user's browser goes after an install or an uninstall.
    var installedUrl: String?
    var updatedUrl: String?
    var uninstalledUrl: String?
    /// The glances, by weight then key.
    var glances: [ConnectDescriptor.Glance] = []
    var views: [View] = []
    /// The actions with a location, by weight then key.
    var actions: [ConnectDescriptor.Action] = []
    /// The webhooks with an event and a URL.
    var webhooks: [ConnectDescriptor.Webhook] = []

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads `descriptor`, fetched from `url`. Throws when it is not a descriptor at all; what
    /// HipChat would have ignored (a module with no key, an unknown member) is skipped.
    init(descriptor json: JSONNode, url: URL) throws(Invalid) {
        guard json.isObject else {
            throw Invalid(description: "the descriptor at \(url) is not a JSON object")
        }
        let descriptor = ConnectDescriptor(json)
        self.descriptor = json
        self.descriptorURL = url
        guard let key = descriptor.key, !key.isEmpty else {
            throw Invalid(description: "the descriptor at \(url) has no key")
        }
        self.key = key
        // HipChat's client also showed `{value, i18n}` here, which the model reads as a string only.
        self.name = descriptor.name ?? LocalizedText(json[DescriptorField.name.rawValue])?.value ?? key
        self.description =
            descriptor.description ?? LocalizedText(json[DescriptorField.description.rawValue])?.value ?? ""
        scopes = descriptor.consumer?.scopes.map(\.value) ?? []
        fromName = descriptor.consumer?.fromName
        avatarURL = Self.absolute(descriptor.consumer?.avatar?.url?.value, against: url)
        allowGlobal = descriptor.installable?.allowGlobal ?? true
        allowRoom = descriptor.installable?.allowRoom ?? true
        callbackUrl = Self.absolute(descriptor.installable?.callbackUrl?.value, against: url)
        updateCallbackUrl = Self.absolute(descriptor.installable?.updateCallbackUrl?.value, against: url)
        installedUrl = Self.absolute(descriptor.installable?.installedUrl?.value, against: url)
        updatedUrl = Self.absolute(descriptor.installable?.updatedUrl?.value, against: url)
        uninstalledUrl = Self.absolute(descriptor.installable?.uninstalledUrl?.value, against: url)

        glances = descriptor.glances.sorted { ($0.weight, $0.key ?? "") < ($1.weight, $1.key ?? "") }
        for view in descriptor.webPanels as [any ConnectView] + descriptor.dialogs + descriptor.externalPages {
            guard let key = view.key, let address = Self.absolute(view.url?.value, against: url) else { continue }
            views.append(
                View(
                    kind: view.kind, key: key, name: view.displayName?.value ?? key, url: address,
                    signed: view.authentication != .none,
                    options: (view as? ConnectDescriptor.Dialog)?.options ?? .object([]),
                    weight: (view as? ConnectDescriptor.WebPanel)?.weight ?? 100,
                    conditions: (view as? ConnectDescriptor.WebPanel)?.conditions))
        }
        if let configurable = descriptor.configurable,
            let address = Self.absolute(configurable.url?.value, against: url)
        {
            views.append(
                View(
                    kind: .configurable, key: ModuleKind.configurable.rawValue, name: "Configure \(name)",
                    url: address, signed: configurable.authentication != .none, options: .object([]), weight: 100,
                    conditions: nil))
        }
        actions = descriptor.actions.filter { $0.location != nil }
            .sorted { ($0.weight, $0.key ?? "") < ($1.weight, $1.key ?? "") }
        webhooks = descriptor.webhooks.filter { $0.event != nil && Self.absolute($0.url?.value, against: url) != nil }
    }

    func view(_ key: String) -> View? { views.first { $0.key == key } }

    /// `value` (a URL of the descriptor) made absolute against the descriptor's address.
    func absolute(_ value: Located<String>?) -> String? {
        Self.absolute(value?.value, against: descriptorURL)
    }

    /// URLs in a descriptor are absolute in practice; a relative one is read against the
    /// descriptor's address, as a browser would.
    static func absolute(_ value: String?, against base: URL) -> String? {
        guard let value, !value.isEmpty else { return nil }
        return URL(string: value, relativeTo: base)?.absoluteURL.absoluteString ?? value
    }
}

extension ConnectDescriptor.Glance {
    /// What HipChat shows for the glance: its name, else its key.
    var shownName: String { name?.value ?? key ?? "" }
}

extension ConnectDescriptor.Action {
    /// What HipChat shows for the action: its name, else its key.
    var shownName: String { name?.value ?? key ?? "" }
}
