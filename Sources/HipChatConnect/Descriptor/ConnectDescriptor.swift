import Foundation

/// A capabilities descriptor read once into typed modules: what the build's pages and preview,
/// the runtime manifest, the server's routes and the local HipChat consume.
///
/// Reading is lenient, as HipChat's web client was: a module without a key, or a field of the
/// wrong type, is left out here (``DescriptorShape`` is what reports it), `webhook` may be a
/// single object, and texts may be a string or `{value, i18n}`. Every value keeps the location
/// it was read from. ``json`` is the descriptor as read, which is what is written back, so
/// reading changes no byte of the output.
public struct ConnectDescriptor: Sendable {
    /// The descriptor's file name in a built site, and the last part of its default URL.
    public static let fileName = "atlassian-connect.json"

    /// The descriptor as read: written back as it is.
    public var json: JSONNode
    public var key: String?
    public var name: String?
    public var description: String?
    public var vendor: Vendor?
    /// `links.self`: the descriptor's own URL.
    public var selfURL: Located<String>?
    public var homepage: String?
    public var apiVersion: String?
    public var consumer: APIConsumer?
    public var installable: Installable?
    public var configurable: Configurable?
    public var adminPage: AdminPage?
    public var webhooks: [Webhook] = []
    public var glances: [Glance] = []
    public var webPanels: [WebPanel] = []
    public var dialogs: [Dialog] = []
    public var actions: [Action] = []
    public var externalPages: [ExternalPage] = []

    public init(_ json: JSONNode) {
        self.json = json
        key = json[DescriptorField.key.rawValue]?.stringValue
        name = json[DescriptorField.name.rawValue]?.stringValue
        description = json[DescriptorField.description.rawValue]?.stringValue
        vendor = json[DescriptorField.vendor.rawValue].map(Vendor.init)
        let links = json[DescriptorField.links.rawValue]
        selfURL = Located(string: links?["self"])
        homepage = links?["homepage"]?.stringValue
        apiVersion = json[DescriptorField.apiVersion.rawValue]?.stringValue
        // Early descriptors called the capabilities `modules`; HipChat read both.
        let capabilities = json[DescriptorField.capabilities.rawValue] ?? json["modules"]
        func single(_ kind: ModuleKind) -> JSONNode? {
            capabilities?[kind.rawValue].flatMap { $0.isObject ? $0 : nil }
        }
        func list(_ kind: ModuleKind) -> [JSONNode] {
            guard let node = capabilities?[kind.rawValue] else { return [] }
            if let items = node.arrayValue { return items.filter(\.isObject) }
            return node.isObject ? [node] : []
        }
        consumer = single(.hipchatApiConsumer).map(APIConsumer.init)
        installable = single(.installable).map(Installable.init)
        configurable = single(.configurable).map(Configurable.init)
        adminPage = single(.adminPage).map(AdminPage.init)
        webhooks = list(.webhook).map(Webhook.init)
        glances = list(.glance).compactMap(Glance.init)
        webPanels = list(.webPanel).compactMap(WebPanel.init)
        dialogs = list(.dialog).compactMap(Dialog.init)
        actions = list(.action).compactMap(Action.init)
        externalPages = list(.externalPage).compactMap(ExternalPage.init)
    }

    /// The views: modules HipChat opens as pages, with their URL.
    public var views: [any ConnectView] {
        var views: [any ConnectView] = webPanels + dialogs + externalPages
        if let configurable { views.append(configurable) }
        if let adminPage { views.append(adminPage) }
        return views
    }

    /// The module of `kind` called `key` (the single ones — configurable, adminPage — have no key).
    public func view(_ kind: ModuleKind, key: String?) -> (any ConnectView)? {
        views.first { $0.kind == kind && ($0.key == key || !kind.isList) }
    }

    /// The keyed module lists, in HipChat's order.
    public var keyedModules: [(kind: ModuleKind, modules: [any ConnectModule])] {
        [
            (.webhook, webhooks), (.glance, glances), (.webPanel, webPanels), (.dialog, dialogs), (.action, actions),
            (.externalPage, externalPages),
        ]
    }

    /// The keyed module a target names, of any kind.
    public func module(forTarget key: String) -> (any ConnectModule)? {
        let keyed: [any ConnectModule] = glances + webPanels + dialogs + actions + externalPages
        return keyed.first { $0.key == key }
    }
}

/// A value with where it was written.
public struct Located<Value: Sendable>: Sendable {
    public var value: Value
    public var location: SourceLocation?

    public init(_ value: Value, at location: SourceLocation?) {
        self.value = value
        self.location = location
    }
}

extension Located: Equatable where Value: Equatable {}

extension Located where Value == String {
    /// The string `node` holds, located; nil when it holds no string.
    init?(string node: JSONNode?) {
        guard let node, let text = node.stringValue else { return nil }
        self.init(text, at: node.location)
    }
}

/// A member of `capabilities` read into a type.
public protocol ConnectModule: Sendable {
    var kind: ModuleKind { get }
    /// The module's key; the single capabilities (configurable, adminPage) have none.
    var key: String? { get }
    /// The module as the descriptor has it, for templates that show its fields.
    var json: JSONNode { get }
}

/// A module HipChat opens as a page: a web panel, dialog, external, configuration or admin page.
public protocol ConnectView: ConnectModule {
    var url: Located<String>? { get }
    /// Whether HipChat signs the page's requests (`authentication`, JWT unless `none`).
    var authentication: Authentication { get }
    /// The name people see: a panel's or page's `name`, a dialog's `title`.
    var displayName: LocalizedText? { get }
}

/// Text people see: HipChat's `{value, i18n}`, or a plain string.
public struct LocalizedText: Sendable, Equatable {
    public var value: String
    public var i18n: String?

    public init?(_ node: JSONNode?) {
        guard let node else { return nil }
        if let text = node.stringValue {
            value = text
        } else if let text = node["value"]?.stringValue {
            value = text
            i18n = node["i18n"]?.stringValue
        } else {
            return nil
        }
    }
}

/// An image in two densities.
///
/// A glance's `icon: assets/open.png` in `addon.yaml` is read by the spec's `.icon` field kind
/// (HipKit's `SpecTranslator`), which records the file and its `open@2x.png` twin as project
/// assets — copied into `dist/` by the build — and writes their URLs into the descriptor as
/// `{url, url@2x}`; ``ConnectDescriptor`` reads them back here for the preview, the served
/// routes and the local HipChat.
public struct Icon: Sendable, Equatable {
    public var url: Located<String>?
    public var url2x: Located<String>?

    /// `{url, url@2x}`, or a URL string (an avatar may be one).
    public init?(_ node: JSONNode?) {
        guard let node else { return nil }
        if node.stringValue != nil {
            url = Located(string: node)
        } else if node.isObject {
            url = Located(string: node["url"])
            url2x = Located(string: node["url@2x"])
        } else {
            return nil
        }
    }
}

/// A module key to open, with the options the referrer gives it.
public struct Target: Sendable {
    public var key: Located<String>
    public var options: JSONNode?

    /// A key, or `{key, options}`.
    public init?(_ node: JSONNode?) {
        if let key = Located(string: node) {
            self.key = key
        } else if let key = Located(string: node?["key"]) {
            self.key = key
            options = node?["options"]
        } else {
            return nil
        }
    }
}

extension ConnectDescriptor {
    public struct Vendor: Sendable {
        public var name: String?
        public var url: String?
        public var json: JSONNode

        public init(_ node: JSONNode) {
            json = node
            name = node["name"]?.stringValue
            url = node["url"]?.stringValue
        }
    }

    /// `hipchatApiConsumer`: the REST API scopes and how the add-on's messages look.
    public struct APIConsumer: Sendable {
        public var json: JSONNode
        public var scopes: [Located<String>]
        public var fromName: String?
        public var avatar: Icon?

        public init(_ node: JSONNode) {
            json = node
            scopes = node["scopes"]?.arrayValue?.compactMap { Located(string: $0) } ?? []
            fromName = node["fromName"]?.stringValue
            avatar = Icon(node["avatar"])
        }
    }

    /// `installable`: who may install the add-on and where HipChat says so.
    public struct Installable: Sendable {
        public var json: JSONNode
        public var allowGlobal: Bool
        public var allowRoom: Bool
        public var callbackUrl: Located<String>?
        public var updateCallbackUrl: Located<String>?
        public var installedUrl: Located<String>?
        public var updatedUrl: Located<String>?
        public var uninstalledUrl: Located<String>?

        public init(_ node: JSONNode) {
            json = node
            allowGlobal = node["allowGlobal"]?.boolValue ?? true
            allowRoom = node["allowRoom"]?.boolValue ?? true
            callbackUrl = Located(string: node["callbackUrl"])
            updateCallbackUrl = Located(string: node["updateCallbackUrl"])
            installedUrl = Located(string: node["installedUrl"])
            updatedUrl = Located(string: node["updatedUrl"])
            uninstalledUrl = Located(string: node["uninstalledUrl"])
        }
    }

    /// `configurable`: the configuration page.
    public struct Configurable: ConnectView {
        public var kind: ModuleKind { .configurable }
        public var key: String? { nil }
        public var json: JSONNode
        public var url: Located<String>?
        public var authentication: Authentication
        public var displayName: LocalizedText? { nil }
        /// Whether room admins may open it for a global install; settings are then per room.
        public var allowAccessToRoomAdmins: Bool

        public init(_ node: JSONNode) {
            json = node
            url = Located(string: node["url"])
            authentication = Authentication(node["authentication"]) ?? .jwt
            allowAccessToRoomAdmins = node["allowAccessToRoomAdmins"]?.boolValue ?? false
        }
    }

    /// `adminPage`. HipChat signs it whatever it says.
    public struct AdminPage: ConnectView {
        public var kind: ModuleKind { .adminPage }
        public var key: String? { nil }
        public var json: JSONNode
        public var url: Located<String>?
        public var authentication: Authentication { .jwt }
        public var displayName: LocalizedText? { nil }

        public init(_ node: JSONNode) {
            json = node
            url = Located(string: node["url"])
        }
    }

    /// A webhook: a room event HipChat posts to `url`.
    public struct Webhook: ConnectModule {
        public var kind: ModuleKind { .webhook }
        public var key: String?
        public var json: JSONNode
        public var url: Located<String>?
        /// The event as written; ``WebhookEvent`` when it is one HipChat knows.
        public var event: Located<String>?
        public var pattern: String?
        public var name: String?
        /// `none` unless the webhook asks for a JWT.
        public var authentication: Authentication

        public init(_ node: JSONNode) {
            json = node
            key = node["key"]?.stringValue
            url = Located(string: node["url"])
            event = Located(string: node["event"])
            pattern = node["pattern"]?.stringValue
            name = node["name"]?.stringValue
            authentication = Authentication(node["authentication"]) ?? .none
        }
    }

    /// A glance: a line in the room's sidebar, with data from `queryUrl`.
    public struct Glance: ConnectModule {
        public var kind: ModuleKind { .glance }
        public var key: String?
        public var json: JSONNode
        public var name: LocalizedText?
        public var queryUrl: Located<String>?
        public var icon: Icon?
        public var target: Target?
        public var weight: Int
        public var conditions: JSONNode?

        public init?(_ node: JSONNode) {
            guard let key = node["key"]?.stringValue else { return nil }
            self.key = key
            json = node
            name = LocalizedText(node["name"])
            queryUrl = Located(string: node["queryUrl"])
            icon = Icon(node["icon"])
            target = Target(node["target"])
            weight = node["weight"]?.intValue ?? 100
            conditions = node["conditions"]
        }
    }

    /// A web panel: a page in the room's right sidebar.
    public struct WebPanel: ConnectView {
        public var kind: ModuleKind { .webPanel }
        public var key: String?
        public var json: JSONNode
        public var url: Located<String>?
        public var name: LocalizedText?
        public var icon: Icon?
        public var weight: Int
        public var conditions: JSONNode?
        public var authentication: Authentication
        public var displayName: LocalizedText? { name }

        public init?(_ node: JSONNode) {
            guard let key = node["key"]?.stringValue else { return nil }
            self.key = key
            json = node
            url = Located(string: node["url"])
            name = LocalizedText(node["name"])
            icon = Icon(node["icon"])
            weight = node["weight"]?.intValue ?? 100
            conditions = node["conditions"]
            authentication = Authentication(node["authentication"]) ?? .jwt
        }
    }

    /// A dialog, with its options (size, style, buttons, hint, filter).
    public struct Dialog: ConnectView {
        public var kind: ModuleKind { .dialog }
        public var key: String?
        public var json: JSONNode
        public var url: Located<String>?
        public var title: LocalizedText?
        public var authentication: Authentication
        /// `options` as the descriptor has it, which HipChat's dialog reads as a whole.
        public var options: JSONNode?
        public var displayName: LocalizedText? { title }

        /// A named size, or width and height as written (`"500px"`, `"50%"`).
        public enum Size: Sendable, Equatable {
            case named(String)
            case custom(width: String?, height: String?)
        }

        public var size: Size? {
            guard let node = options?["size"] else { return nil }
            if let name = node.stringValue { return .named(name) }
            return .custom(width: node["width"]?.stringValue, height: node["height"]?.stringValue)
        }

        public var style: DialogStyle? { options?["style"]?.stringValue.flatMap(DialogStyle.init) }
        public var primaryActionName: LocalizedText? { LocalizedText(options?["primaryAction"]?["name"]) }

        public init?(_ node: JSONNode) {
            guard let key = node["key"]?.stringValue else { return nil }
            self.key = key
            json = node
            url = Located(string: node["url"])
            title = LocalizedText(node["title"])
            authentication = Authentication(node["authentication"]) ?? .jwt
            options = node["options"]
        }
    }

    /// An action in a message's menu or beside the input.
    public struct Action: ConnectModule {
        public var kind: ModuleKind { .action }
        public var key: String?
        public var json: JSONNode
        public var name: LocalizedText?
        public var location: ActionLocation?
        public var target: Target?
        public var weight: Int
        public var conditions: JSONNode?

        public init?(_ node: JSONNode) {
            guard let key = node["key"]?.stringValue else { return nil }
            self.key = key
            json = node
            name = LocalizedText(node["name"])
            location = node["location"]?.stringValue.flatMap(ActionLocation.init(rawValue:))
            target = Target(node["target"])
            weight = node["weight"]?.intValue ?? 100
            conditions = node["conditions"]
        }
    }

    /// A page HipChat opens in a new tab.
    public struct ExternalPage: ConnectView {
        public var kind: ModuleKind { .externalPage }
        public var key: String?
        public var json: JSONNode
        public var url: Located<String>?
        public var name: LocalizedText?
        /// HipChat signs external pages; they have no `authentication` field.
        public var authentication: Authentication { .jwt }
        public var displayName: LocalizedText? { name }

        public init?(_ node: JSONNode) {
            guard let key = node["key"]?.stringValue else { return nil }
            self.key = key
            json = node
            url = Located(string: node["url"])
            name = LocalizedText(node["name"])
        }
    }
}

extension Authentication {
    init?(_ node: JSONNode?) {
        guard let text = node?.stringValue else { return nil }
        self.init(rawValue: text)
    }
}

extension ConnectDescriptor {
    /// The `links.self` of the build in the folder `dist`, read from its descriptor alone; nil
    /// when it cannot be read (loading the build then says why).
    public static func selfURL(ofBuild dist: URL) -> String? {
        guard let data = FileManager.default.contents(atPath: dist.appendingPathComponent(fileName).path),
            let json = JSONNode.parse(data)
        else { return nil }
        return ConnectDescriptor(json).selfURL?.value
    }
}
