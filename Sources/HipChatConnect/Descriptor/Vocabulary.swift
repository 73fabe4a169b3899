/// HipChat Connect's words, each listed once: the descriptor's capability names, scopes,
/// webhook events, conditions and the rest. The raw values are HipChat's own spelling, so
/// `rawValue` is what a descriptor holds and `allCases` is what documentation and "did you
/// mean" suggestions list.

/// A member of a descriptor's `capabilities`: the module lists and the single objects.
public enum ModuleKind: String, Sendable, Hashable, CaseIterable, Codable {
    case hipchatApiConsumer
    case installable
    case configurable
    case adminPage
    case webhook
    case glance
    case webPanel
    case dialog
    case action
    case externalPage
    case oauth2Consumer
    case oauth2Provider

    /// HipChat's order of capabilities, used for every descriptor written.
    public static let descriptorOrder: [ModuleKind] = allCases

    /// Whether the capability is a list of keyed modules (rather than one object).
    public var isList: Bool {
        switch self {
        case .webhook, .glance, .webPanel, .dialog, .action, .externalPage: true
        default: false
        }
    }

    /// Whether HipChat opens the module as a page at its `url`.
    public var isView: Bool {
        switch self {
        case .webPanel, .dialog, .configurable, .adminPage, .externalPage: true
        default: false
        }
    }

    /// The module lists, in HipChat's order.
    public static let lists: [ModuleKind] = allCases.filter(\.isList)
}

/// The members of a descriptor's top level, in HipChat's order.
public enum DescriptorField: String, Sendable, CaseIterable {
    case key, name, description, vendor, links, apiVersion, capabilities
}

/// A REST API scope an add-on asks for (`hipchatApiConsumer.scopes`).
public enum Scope: String, Sendable, Hashable, CaseIterable, Codable {
    case sendNotification = "send_notification"
    case sendMessage = "send_message"
    case viewRoom = "view_room"
    case adminRoom = "admin_room"
    case viewGroup = "view_group"
    case adminGroup = "admin_group"
    case manageRooms = "manage_rooms"
    case viewMessages = "view_messages"
    case importData = "import_data"
}

/// The room events HipChat sends to webhooks.
public enum WebhookEvent: String, Sendable, Hashable, CaseIterable, Codable {
    case roomArchived = "room_archived"
    case roomCreated = "room_created"
    case roomDeleted = "room_deleted"
    case roomEnter = "room_enter"
    case roomExit = "room_exit"
    case roomFileUpload = "room_file_upload"
    case roomMessage = "room_message"
    case roomNotification = "room_notification"
    case roomTopicChange = "room_topic_change"
    case roomUnarchived = "room_unarchived"
}

/// How HipChat authenticates its requests to a module's URL.
public enum Authentication: String, Sendable, Hashable, CaseIterable, Codable {
    case jwt
    case none
}

/// Where an action sits.
public enum ActionLocation: String, Sendable, Hashable, CaseIterable, Codable {
    /// In each message's menu.
    case message = "hipchat.message.action"
    /// Beside the chat input.
    case input = "hipchat.input.action"

    /// The short name `addon.yaml` uses (`message`, `input`).
    public var shortName: String {
        switch self {
        case .message: "message"
        case .input: "input"
        }
    }

    public init?(shortName: String) {
        guard let location = Self.allCases.first(where: { $0.shortName == shortName }) else { return nil }
        self = location
    }
}

/// Where a web panel sits: HipChat has one place.
public enum WebPanelLocation: String, Sendable, Hashable, CaseIterable, Codable {
    case sidebarRight = "hipchat.sidebar.right"
}

/// A dialog's named sizes.
public enum DialogSize: String, Sendable, Hashable, CaseIterable, Codable {
    case small, medium, large, xlarge
}

/// A dialog's look.
public enum DialogStyle: String, Sendable, Hashable, CaseIterable, Codable {
    case normal, warning
}

/// A condition HipChat evaluates before showing a module.
public enum ConditionName: String, Sendable, Hashable, CaseIterable, Codable {
    case roomIsPublic = "room_is_public"
    case userIsAdmin = "user_is_admin"
    case userIsGuest = "user_is_guest"
    case userIsRoomOwner = "user_is_room_owner"
    case glanceMatches = "glance_matches"
    case messageMatches = "message_matches"
    case messageContainsLink = "message_contains_link"
    case messageSentByCurrentUser = "message_sent_by_current_user"
    case cardMatches = "card_matches"

    /// The `params` the condition reads; HipChat ignored any other.
    public var parameters: [String] {
        switch self {
        case .messageMatches: ["type", "file_type", "regex", "sender"]
        case .cardMatches: ["style", "metadata"]
        case .glanceMatches: ["metadata"]
        default: []
        }
    }

    /// Conditions on the room and the user, which every module kind with conditions takes.
    public static let room: [ConditionName] = [.roomIsPublic, .userIsAdmin, .userIsGuest, .userIsRoomOwner]

    /// The conditions a module of `kind` may use (none for kinds without conditions).
    public static func allowed(in kind: ModuleKind) -> [ConditionName] {
        switch kind {
        case .glance: room + [.glanceMatches]
        case .webPanel: room
        case .action: room + [.messageMatches, .messageContainsLink, .messageSentByCurrentUser, .cardMatches]
        default: []
        }
    }
}

/// The colour of a room notification.
public enum NotificationColor: String, Sendable, Hashable, CaseIterable, Codable {
    case yellow, green, red, purple, gray, random
}

/// How a room notification's message is written.
public enum MessageFormat: String, Sendable, Hashable, CaseIterable, Codable {
    case html, text
}

/// The type of a glance lozenge.
public enum LozengeType: String, Sendable, Hashable, CaseIterable, Codable {
    case `default`, success, error, current, complete, new, moved
}

/// The type of a value a configuration page's setting holds.
public enum SettingType: String, Sendable, Hashable, CaseIterable, Codable {
    case text, number, boolean, select
}

extension CaseIterable where Self: RawRepresentable, RawValue == String {
    /// Every raw value, in declaration order.
    public static var names: [String] { allCases.map(\.rawValue) }

    /// The raw values joined for a sentence: `a, b, c`.
    public static var list: String { names.joined(separator: ", ") }
}
