/// The shape HipChat's descriptor schema gives each part of a descriptor, written as data so
/// one checker applies all of it and reports every problem at its line.
///
/// Transcribed from HipChat's official descriptor schema (draft-07 rewrite). Where the schema
/// writes `minLength: 1` on a list (meant as "non-empty" but ignored by validators), empty lists
/// are accepted, as HipChat accepted them.
indirect enum Shape: Sendable {
    case string(StringRule)
    case boolean
    case integer
    case object(ObjectShape)
    case array(Shape)
    /// A string, or an object; `target` and `avatar` take either.
    case stringOrObject(StringRule, ObjectShape)
    /// One of a few words, or an object; a dialog's `size`.
    case enumOrObject([String], ObjectShape)
    /// A module's `conditions`, with the condition names that module allows.
    case conditions(allowed: [String])
    /// Any object; its contents are the add-on's own (`target.options`, condition `params`).
    case anyObject
}

/// What a string must be.
struct StringRule: Sendable {
    enum Format: Sendable {
        case plain
        /// A module key: 1–40 of `A–Z a–z 0–9 _ - .`.
        case moduleKey
        /// `apiVersion`: digits, a colon, digits.
        case apiVersion
        /// A URL HipChat fetches or opens.
        case url
        /// A regular expression HipChat matches messages against.
        case regex
        /// A CSS length in `px` or `%` (dialog width and height).
        case length
    }

    var format: Format = .plain
    var minLength = 0
    var maxLength: Int?
    var allowed: [String]?

    static let plain = StringRule()
    static let nonEmpty = StringRule(minLength: 1)
    static let url = StringRule(format: .url, minLength: 1)
    static let moduleKey = StringRule(format: .moduleKey, minLength: 1, maxLength: 40)
    static func oneOf(_ values: [String]) -> StringRule { StringRule(allowed: values) }
}

/// What an object must hold.
struct ObjectShape: Sendable {
    /// What to do with members the schema does not name.
    enum Extra: Sendable {
        /// Allowed and usual (`links.api`): say nothing.
        case allowed
        /// Allowed by the schema but probably a typo: warn, with a suggestion.
        case warn
        /// The schema forbids them: an error.
        case forbidden
    }

    var name: String
    /// A module list item (glance, dialog, …): messages name it by its key.
    var isModule = false
    var properties: [(String, Shape)]
    var required: [String] = []
    var extra: Extra = .warn

    func shape(of property: String) -> Shape? {
        properties.first { $0.0 == property }?.1
    }
}

/// The descriptor's vocabulary.
enum DescriptorShape {
    static let scopes = ["send_notification", "send_message", "view_room", "admin_room", "view_group",
                         "admin_group", "manage_rooms", "view_messages", "import_data"]
    static let webhookEvents = ["room_archived", "room_created", "room_deleted", "room_enter", "room_exit",
                                "room_file_upload", "room_message", "room_notification", "room_topic_change",
                                "room_unarchived"]
    static let authentication = ["jwt", "none"]
    static let actionLocations = ["hipchat.message.action", "hipchat.input.action"]
    static let webPanelLocations = ["hipchat.sidebar.right"]
    static let dialogSizes = ["small", "medium", "large", "xlarge"]
    static let dialogStyles = ["normal", "warning"]

    static let roomConditions = ["room_is_public", "user_is_admin", "user_is_guest", "user_is_room_owner"]
    static let glanceConditions = roomConditions + ["glance_matches"]
    static let webPanelConditions = roomConditions
    static let actionConditions = roomConditions + ["message_matches", "message_contains_link",
                                                    "message_sent_by_current_user", "card_matches"]
    static let allConditions = actionConditions + ["glance_matches"]

    static let localizable = ObjectShape(
        name: "text",
        properties: [("value", .string(StringRule(minLength: 1, maxLength: 100))),
                     ("i18n", .string(StringRule(minLength: 1, maxLength: 40)))],
        required: ["value"], extra: .forbidden)

    static let icon = ObjectShape(
        name: "icon", properties: [("url", .string(.url)), ("url@2x", .string(.url))],
        required: ["url", "url@2x"])

    static let target = Shape.stringOrObject(.moduleKey, ObjectShape(
        name: "target", properties: [("key", .string(.moduleKey)), ("options", .anyObject)],
        required: ["key"]))

    static let button = ObjectShape(
        name: "button",
        properties: [("name", .object(localizable)), ("key", .string(.nonEmpty)), ("enabled", .boolean)],
        required: ["name"])

    static let dialogOptions = ObjectShape(
        name: "options",
        properties: [
            ("style", .string(.oneOf(dialogStyles))),
            ("primaryAction", .object(button)),
            ("secondaryActions", .array(.object(button))),
            ("size", .enumOrObject(dialogSizes, ObjectShape(
                name: "size",
                properties: [("width", .string(StringRule(format: .length))), ("height", .string(StringRule(format: .length)))],
                required: ["width", "height"]))),
            ("hint", .object(localizable)),
            ("filter", .object(ObjectShape(name: "filter", properties: [("placeholder", .object(localizable))]))),
        ],
        extra: .forbidden)

    static let glance = ObjectShape(
        name: "glance", isModule: true,
        properties: [
            ("key", .string(.moduleKey)), ("name", .object(localizable)), ("icon", .object(icon)),
            ("queryUrl", .string(.url)), ("target", target), ("weight", .integer),
            ("conditions", .conditions(allowed: glanceConditions)),
        ],
        required: ["key", "name", "icon"])

    static let webPanel = ObjectShape(
        name: "webPanel", isModule: true,
        properties: [
            ("key", .string(.moduleKey)), ("name", .object(localizable)), ("url", .string(.url)),
            ("location", .string(.oneOf(webPanelLocations))), ("icon", .object(icon)), ("weight", .integer),
            ("conditions", .conditions(allowed: webPanelConditions)),
            ("authentication", .string(.oneOf(authentication))),
        ],
        required: ["key", "name", "url", "location"])

    static let dialog = ObjectShape(
        name: "dialog", isModule: true,
        properties: [
            ("key", .string(.moduleKey)), ("title", .object(localizable)), ("url", .string(.url)),
            ("authentication", .string(.oneOf(authentication))), ("options", .object(dialogOptions)),
        ],
        required: ["key", "title", "url"])

    static let action = ObjectShape(
        name: "action", isModule: true,
        properties: [
            ("key", .string(.moduleKey)), ("name", .object(localizable)),
            ("location", .string(.oneOf(actionLocations))), ("target", target), ("weight", .integer),
            ("conditions", .conditions(allowed: actionConditions)),
        ],
        required: ["key", "name", "location", "target"])

    static let externalPage = ObjectShape(
        name: "externalPage", isModule: true,
        properties: [("key", .string(.moduleKey)), ("name", .object(localizable)), ("url", .string(.url))],
        required: ["key", "url"], extra: .forbidden)

    static let webhook = ObjectShape(
        name: "webhook", isModule: true,
        properties: [
            ("url", .string(.url)), ("event", .string(.oneOf(webhookEvents))),
            ("pattern", .string(StringRule(format: .regex))), ("name", .string(.plain)),
            ("key", .string(.moduleKey)), ("authentication", .string(.oneOf(authentication))),
        ],
        required: ["url", "event"])

    static let capabilities = ObjectShape(
        name: "capabilities",
        properties: [
            ("hipchatApiConsumer", .object(ObjectShape(
                name: "hipchatApiConsumer",
                properties: [
                    ("scopes", .array(.string(.oneOf(scopes)))), ("fromName", .string(.plain)),
                    ("avatar", .stringOrObject(.url, ObjectShape(
                        name: "avatar", properties: [("url", .string(.url)), ("url@2x", .string(.url))], required: ["url"]))),
                ],
                required: ["scopes"]))),
            ("installable", .object(ObjectShape(
                name: "installable",
                properties: [
                    ("allowGlobal", .boolean), ("allowRoom", .boolean), ("callbackUrl", .string(.url)),
                    ("updateCallbackUrl", .string(.url)), ("installedUrl", .string(.url)),
                    ("updatedUrl", .string(.url)), ("uninstalledUrl", .string(.url)),
                ]))),
            ("configurable", .object(ObjectShape(
                name: "configurable",
                properties: [("url", .string(.url)), ("allowAccessToRoomAdmins", .boolean),
                             ("authentication", .string(.oneOf(authentication)))],
                required: ["url"]))),
            ("adminPage", .object(ObjectShape(name: "adminPage", properties: [("url", .string(.url))], required: ["url"]))),
            ("webhook", .array(.object(webhook))),
            ("glance", .array(.object(glance))),
            ("webPanel", .array(.object(webPanel))),
            ("dialog", .array(.object(dialog))),
            ("action", .array(.object(action))),
            ("externalPage", .array(.object(externalPage))),
            ("oauth2Consumer", .object(ObjectShape(
                name: "oauth2Consumer", properties: [("redirectionUrls", .array(.string(.url)))], required: ["redirectionUrls"]))),
            ("oauth2Provider", .object(ObjectShape(
                name: "oauth2Provider", properties: [("authorizationUrl", .string(.url)), ("tokenUrl", .string(.url))]))),
        ])

    static let descriptor = ObjectShape(
        name: "descriptor",
        properties: [
            ("key", .string(.nonEmpty)), ("name", .string(.nonEmpty)), ("description", .string(.plain)),
            ("vendor", .object(ObjectShape(
                name: "vendor", properties: [("name", .string(.nonEmpty)), ("url", .string(.nonEmpty))],
                required: ["name", "url"], extra: .forbidden))),
            ("links", .object(ObjectShape(
                name: "links", properties: [("self", .string(.url)), ("homepage", .string(.nonEmpty))],
                required: ["self"], extra: .allowed))),
            ("apiVersion", .string(StringRule(format: .apiVersion))),
            ("capabilities", .object(capabilities)),
        ],
        required: ["key", "name", "description", "links"])

    /// The module lists, by their descriptor name, with the words used for them in messages.
    static let modules: [(name: String, shape: ObjectShape)] = [
        ("webhook", webhook), ("glance", glance), ("webPanel", webPanel), ("dialog", dialog),
        ("action", action), ("externalPage", externalPage),
    ]
}
