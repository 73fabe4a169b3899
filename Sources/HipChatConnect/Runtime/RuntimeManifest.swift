import Foundation

/// `_hipkit/runtime.json`: what `hipkit serve` needs beyond the descriptor — static glance data,
/// webhooks' canned replies and the configuration page's settings.
///
/// One Codable type is the contract between the two sides: `hipkit build` encodes it and
/// `hipkit serve` decodes it, and both check it with the same validator (HipKit's
/// `RuntimeManifestValidator`). It sits in the built site so the runtime reads one folder; the
/// runtime never serves `_hipkit/` itself.
public struct RuntimeManifest: Codable, Sendable, Equatable {
    /// Where the manifest sits in `dist/`.
    public static let path = "_hipkit/runtime.json"
    /// Where the runtime answers the configuration page's settings requests.
    public static let settingsPath = "/_hipkit/settings"
    /// The format this hipkit writes and reads; a server refuses a newer one.
    public static let currentVersion = 1

    public var version: Int
    /// The add-on's key.
    public var key: String
    public var glances: [Glance]
    public var webhooks: [Webhook]
    public var settings: Settings?
    /// Notifications the add-on's views may send to their room with their JWT; nil (and left out
    /// of the file) unless the spec turns them on.
    public var viewNotifications: ViewNotifications?

    public init(
        key: String, glances: [Glance] = [], webhooks: [Webhook] = [], settings: Settings? = nil,
        viewNotifications: ViewNotifications? = nil
    ) {
        self.version = Self.currentVersion
        self.key = key
        self.glances = glances
        self.webhooks = webhooks
        self.settings = settings
        self.viewNotifications = viewNotifications
    }

    /// Where the runtime takes the views' notifications.
    public static let notificationsPath = "/_hipkit/notifications"

    /// `viewNotifications: true` in addon.yaml: `POST /_hipkit/notifications` with a view's JWT
    /// sends a notification to the room the token names, through that installation only.
    public struct ViewNotifications: Codable, Sendable, Equatable {
        public var path: String
        /// At most this many per installation and minute, per server.
        public var perMinute: Int

        /// Ten a minute: a view's button, pressed by people, never comes near it, while a page
        /// stuck in a loop cannot flood a room (HipChat itself limited notifications per room).
        public static let defaultPerMinute = 10

        public init(path: String = RuntimeManifest.notificationsPath, perMinute: Int = defaultPerMinute) {
            self.path = path
            self.perMinute = perMinute
        }
    }

    /// Static glance data, served at the glance's `queryUrl` until data is posted.
    public struct Glance: Codable, Sendable, Equatable {
        public var key: String
        /// The URL path under the base URL (`/glances/incidents.json`).
        public var path: String
        /// HipChat's shape: `{label: {type, value}, status?, metadata?}`.
        public var data: JSONNode

        public init(key: String, path: String, data: JSONNode) {
            self.key = key
            self.path = path
            self.data = data
        }
    }

    /// A webhook `hipkit serve` answers.
    public struct Webhook: Codable, Sendable, Equatable {
        public var key: String?
        /// The URL path under the base URL (`/hooks/incident`).
        public var path: String
        public var event: String
        public var pattern: String?
        public var authentication: Authentication
        /// The room notification to answer with, with `{{…}}` variables; nil answers 204.
        public var reply: Reply?

        public init(
            key: String?, path: String, event: String, pattern: String?, authentication: Authentication, reply: Reply?
        ) {
            self.key = key
            self.path = path
            self.event = event
            self.pattern = pattern
            self.authentication = authentication
            self.reply = reply
        }
    }

    /// A room notification in HipChat's shape.
    public struct Reply: Codable, Sendable, Equatable {
        public var message: String
        public var messageFormat: MessageFormat
        public var color: NotificationColor?
        public var notify: Bool?
        public var card: JSONNode?

        enum CodingKeys: String, CodingKey {
            case message
            case messageFormat = "message_format"
            case color, notify, card
        }

        public init(
            message: String, messageFormat: MessageFormat, color: NotificationColor? = nil, notify: Bool? = nil,
            card: JSONNode? = nil
        ) {
            self.message = message
            self.messageFormat = messageFormat
            self.color = color
            self.notify = notify
            self.card = card
        }
    }

    /// The settings a configuration page edits.
    public struct Settings: Codable, Sendable, Equatable {
        public var path: String
        public var fields: [SettingField]
        /// Stored per room as well as per installation (`allowAccessToRoomAdmins`).
        public var perRoom: Bool

        public init(path: String = RuntimeManifest.settingsPath, fields: [SettingField], perRoom: Bool) {
            self.path = path
            self.fields = fields
            self.perRoom = perRoom
        }
    }

    /// One setting of the configuration page.
    public struct SettingField: Codable, Sendable, Equatable {
        public var name: String
        public var type: SettingType
        public var label: String?
        public var required: Bool
        public var defaultValue: JSONNode?
        public var pattern: String?
        public var options: [String]

        enum CodingKeys: String, CodingKey {
            case name, type, label, required
            case defaultValue = "default"
            case pattern, options
        }

        public init(
            name: String, type: SettingType, label: String? = nil, required: Bool = false,
            defaultValue: JSONNode? = nil,
            pattern: String? = nil, options: [String] = []
        ) {
            self.name = name
            self.type = type
            self.label = label
            self.required = required
            self.defaultValue = defaultValue
            self.pattern = pattern
            self.options = options
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            name = try c.decode(String.self, forKey: .name)
            type = try c.decodeIfPresent(SettingType.self, forKey: .type) ?? .text
            label = try c.decodeIfPresent(String.self, forKey: .label)
            required = try c.decodeIfPresent(Bool.self, forKey: .required) ?? false
            defaultValue = try c.decodeIfPresent(JSONNode.self, forKey: .defaultValue).flatMap { $0.isNull ? nil : $0 }
            pattern = try c.decodeIfPresent(String.self, forKey: .pattern)
            options = try c.decodeIfPresent([String].self, forKey: .options) ?? []
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(type, forKey: .type)
            try c.encodeIfPresent(label, forKey: .label)
            if required { try c.encode(required, forKey: .required) }
            try c.encodeIfPresent(defaultValue, forKey: .defaultValue)
            try c.encodeIfPresent(pattern, forKey: .pattern)
            if !options.isEmpty { try c.encode(options, forKey: .options) }
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decode(Int.self, forKey: .version)
        key = try c.decodeIfPresent(String.self, forKey: .key) ?? ""
        glances = try c.decodeIfPresent([Glance].self, forKey: .glances) ?? []
        webhooks = try c.decodeIfPresent([Webhook].self, forKey: .webhooks) ?? []
        settings = try c.decodeIfPresent(Settings.self, forKey: .settings)
        viewNotifications = try c.decodeIfPresent(ViewNotifications.self, forKey: .viewNotifications)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(key, forKey: .key)
        if !glances.isEmpty { try c.encode(glances, forKey: .glances) }
        if !webhooks.isEmpty { try c.encode(webhooks, forKey: .webhooks) }
        try c.encodeIfPresent(settings, forKey: .settings)
        try c.encodeIfPresent(viewNotifications, forKey: .viewNotifications)
    }

    enum CodingKeys: String, CodingKey {
        case version, key, glances, webhooks, settings, viewNotifications
    }

    /// The manifest as `hipkit build` writes it: indented, keys sorted, so the same build
    /// always gives the same bytes.
    public func encoded() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding plain values cannot fail.
        var data = (try? encoder.encode(self)) ?? Data()
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// Reads a manifest written by `hipkit build`. A manifest that is not one — not JSON, a
    /// field of the wrong type, a version this hipkit does not know — gives an error diagnostic
    /// at `file` naming the field, and no manifest.
    public static func decode(_ data: Data, file: String) -> (RuntimeManifest?, [Diagnostic]) {
        let start = SourceLocation(file: file, line: 1, column: 1)
        struct Version: Decodable { var version: Int? }
        guard let probe = try? JSONDecoder().decode(Version.self, from: data) else {
            return (nil, [.error(.jsonSyntax, "the runtime manifest is not a JSON object", at: start)])
        }
        guard let version = probe.version else {
            return (
                nil,
                [
                    .error(
                        .missingField, "the runtime manifest needs \"version\": \(currentVersion)", at: start,
                        field: "version")
                ]
            )
        }
        guard version <= currentVersion else {
            return (
                nil,
                [
                    .error(
                        .unsupportedVersion,
                        "runtime manifest version \(version) is newer than this hipkit understands (\(currentVersion))",
                        at: start, hint: "serve with the hipkit that built dist/", field: "version")
                ]
            )
        }
        do {
            return (try JSONDecoder().decode(RuntimeManifest.self, from: data), [])
        } catch let error as DecodingError {
            let (path, what) = Self.describe(error)
            return (
                nil,
                [
                    .error(
                        .wrongType, "the runtime manifest's \(path.isEmpty ? "root" : path) \(what)", at: start,
                        field: path)
                ]
            )
        } catch {
            return (nil, [.error(.wrongType, "the runtime manifest cannot be read: \(error)", at: start)])
        }
    }

    /// The field a decoding error is about, as a path (`webhooks[0].authentication`), and what
    /// is wrong with it.
    private static func describe(_ error: DecodingError) -> (String, String) {
        func path(_ keys: [any CodingKey]) -> String {
            keys.reduce(into: "") { out, key in
                if let index = key.intValue {
                    out += "[\(index)]"
                } else {
                    out += (out.isEmpty ? "" : ".") + key.stringValue
                }
            }
        }
        switch error {
        case .typeMismatch(_, let context):
            return (path(context.codingPath), "has the wrong type")
        case .valueNotFound(_, let context):
            return (path(context.codingPath), "is missing")
        case .keyNotFound(let key, let context):
            return (path(context.codingPath + [key]), "is missing")
        case .dataCorrupted(let context):
            return (path(context.codingPath), "is not a value this hipkit knows")
        @unknown default:
            return ("", "cannot be read")
        }
    }
}
