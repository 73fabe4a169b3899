/// The shape HipChat's descriptor schema gives each part of a descriptor, written as data so
/// one checker applies all of it and reports every problem at its line.
///
/// Transcribed from HipChat's official descriptor schema (draft-07 rewrite). Where the schema
/// writes `minLength: 1` on a list (meant as "non-empty" but ignored by validators), empty lists
/// are accepted, as HipChat accepted them.
public indirect enum Shape: Sendable {
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
public struct StringRule: Sendable {
    public enum Format: Sendable {
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

    public var format: Format = .plain
    public var minLength = 0
    public var maxLength: Int?
    public var allowed: [String]?

    public init(format: Format = .plain, minLength: Int = 0, maxLength: Int? = nil, allowed: [String]? = nil) {
        self.format = format
        self.minLength = minLength
        self.maxLength = maxLength
        self.allowed = allowed
    }

    public static let plain = StringRule()
    public static let nonEmpty = StringRule(minLength: 1)
    public static let url = StringRule(format: .url, minLength: 1)
    public static let moduleKey = StringRule(format: .moduleKey, minLength: 1, maxLength: 40)
    public static func oneOf(_ values: [String]) -> StringRule { StringRule(allowed: values) }
}

/// What an object must hold.
public struct ObjectShape: Sendable {
    /// What to do with members the schema does not name.
    public enum Extra: Sendable {
        /// Allowed and usual (`links.api`): say nothing.
        case allowed
        /// Allowed by the schema but probably a typo: warn, with a suggestion.
        case warn
        /// The schema forbids them: an error.
        case forbidden
    }

    public var name: String
    /// A module list item (glance, dialog, …): messages name it by its key.
    public var isModule = false
    public var properties: [(String, Shape)]
    public var required: [String] = []
    public var extra: Extra = .warn

    public init(
        name: String, isModule: Bool = false, properties: [(String, Shape)], required: [String] = [],
        extra: Extra = .warn
    ) {
        self.name = name
        self.isModule = isModule
        self.properties = properties
        self.required = required
        self.extra = extra
    }

    public func shape(of property: String) -> Shape? {
        properties.first { $0.0 == property }?.1
    }
}

/// The descriptor's vocabulary.
public enum DescriptorShape {
    public static let scopes = Scope.names
    public static let webhookEvents = WebhookEvent.names
    public static let authentication = Authentication.names
    public static let actionLocations = ActionLocation.names
    public static let webPanelLocations = WebPanelLocation.names
    public static let dialogSizes = DialogSize.names
    public static let dialogStyles = DialogStyle.names

    public static let glanceConditions = ConditionName.allowed(in: .glance).map(\.rawValue)
    public static let webPanelConditions = ConditionName.allowed(in: .webPanel).map(\.rawValue)
    public static let actionConditions = ConditionName.allowed(in: .action).map(\.rawValue)
    public static let allConditions = ConditionName.names

    public static let localizable = ObjectShape(
        name: "text",
        properties: [
            ("value", .string(StringRule(minLength: 1, maxLength: 100))),
            ("i18n", .string(StringRule(minLength: 1, maxLength: 40))),
        ],
        required: ["value"], extra: .forbidden)

    public static let icon = ObjectShape(
        name: "icon", properties: [("url", .string(.url)), ("url@2x", .string(.url))],
        required: ["url", "url@2x"])

    public static let target = Shape.stringOrObject(
        .moduleKey,
        ObjectShape(
            name: "target", properties: [("key", .string(.moduleKey)), ("options", .anyObject)],
            required: ["key"]))

    public static let button = ObjectShape(
        name: "button",
        properties: [("name", .object(localizable)), ("key", .string(.nonEmpty)), ("enabled", .boolean)],
        required: ["name"])

    public static let dialogOptions = ObjectShape(
        name: "options",
        properties: [
            ("style", .string(.oneOf(dialogStyles))),
            ("primaryAction", .object(button)),
            ("secondaryActions", .array(.object(button))),
            (
                "size",
                .enumOrObject(
                    dialogSizes,
                    ObjectShape(
                        name: "size",
                        properties: [
                            ("width", .string(StringRule(format: .length))),
                            ("height", .string(StringRule(format: .length))),
                        ],
                        required: ["width", "height"]))
            ),
            ("hint", .object(localizable)),
            ("filter", .object(ObjectShape(name: "filter", properties: [("placeholder", .object(localizable))]))),
        ],
        extra: .forbidden)

    public static let glance = ObjectShape(
        name: ModuleKind.glance.rawValue, isModule: true,
        properties: [
            ("key", .string(.moduleKey)), ("name", .object(localizable)), ("icon", .object(icon)),
            ("queryUrl", .string(.url)), ("target", target), ("weight", .integer),
            ("conditions", .conditions(allowed: glanceConditions)),
        ],
        required: ["key", "name", "icon"])

    public static let webPanel = ObjectShape(
        name: ModuleKind.webPanel.rawValue, isModule: true,
        properties: [
            ("key", .string(.moduleKey)), ("name", .object(localizable)), ("url", .string(.url)),
            ("location", .string(.oneOf(webPanelLocations))), ("icon", .object(icon)), ("weight", .integer),
            ("conditions", .conditions(allowed: webPanelConditions)),
            ("authentication", .string(.oneOf(authentication))),
        ],
        required: ["key", "name", "url", "location"])

    public static let dialog = ObjectShape(
        name: ModuleKind.dialog.rawValue, isModule: true,
        properties: [
            ("key", .string(.moduleKey)), ("title", .object(localizable)), ("url", .string(.url)),
            ("authentication", .string(.oneOf(authentication))), ("options", .object(dialogOptions)),
        ],
        required: ["key", "title", "url"])

    public static let action = ObjectShape(
        name: ModuleKind.action.rawValue, isModule: true,
        properties: [
            ("key", .string(.moduleKey)), ("name", .object(localizable)),
            ("location", .string(.oneOf(actionLocations))), ("target", target), ("weight", .integer),
            ("conditions", .conditions(allowed: actionConditions)),
        ],
        required: ["key", "name", "location", "target"])

    public static let externalPage = ObjectShape(
        name: ModuleKind.externalPage.rawValue, isModule: true,
        properties: [("key", .string(.moduleKey)), ("name", .object(localizable)), ("url", .string(.url))],
        required: ["key", "url"], extra: .forbidden)

    public static let webhook = ObjectShape(
        name: ModuleKind.webhook.rawValue, isModule: true,
        properties: [
            ("url", .string(.url)), ("event", .string(.oneOf(webhookEvents))),
            ("pattern", .string(StringRule(format: .regex))), ("name", .string(.plain)),
            ("key", .string(.moduleKey)), ("authentication", .string(.oneOf(authentication))),
        ],
        required: ["url", "event"])

    public static let capabilities = ObjectShape(
        name: "capabilities",
        properties: [
            (
                ModuleKind.hipchatApiConsumer.rawValue,
                .object(
                    ObjectShape(
                        name: ModuleKind.hipchatApiConsumer.rawValue,
                        properties: [
                            ("scopes", .array(.string(.oneOf(scopes)))), ("fromName", .string(.plain)),
                            (
                                "avatar",
                                .stringOrObject(
                                    .url,
                                    ObjectShape(
                                        name: "avatar",
                                        properties: [("url", .string(.url)), ("url@2x", .string(.url))],
                                        required: ["url"]))
                            ),
                        ],
                        required: ["scopes"]))
            ),
            (
                ModuleKind.installable.rawValue,
                .object(
                    ObjectShape(
                        name: ModuleKind.installable.rawValue,
                        properties: [
                            ("allowGlobal", .boolean), ("allowRoom", .boolean), ("callbackUrl", .string(.url)),
                            ("updateCallbackUrl", .string(.url)), ("installedUrl", .string(.url)),
                            ("updatedUrl", .string(.url)), ("uninstalledUrl", .string(.url)),
                        ]))
            ),
            (
                ModuleKind.configurable.rawValue,
                .object(
                    ObjectShape(
                        name: ModuleKind.configurable.rawValue,
                        properties: [
                            ("url", .string(.url)), ("allowAccessToRoomAdmins", .boolean),
                            ("authentication", .string(.oneOf(authentication))),
                        ],
                        required: ["url"]))
            ),
            (
                ModuleKind.adminPage.rawValue,
                .object(
                    ObjectShape(
                        name: ModuleKind.adminPage.rawValue, properties: [("url", .string(.url))], required: ["url"]))
            ),
            (ModuleKind.webhook.rawValue, .array(.object(webhook))),
            (ModuleKind.glance.rawValue, .array(.object(glance))),
            (ModuleKind.webPanel.rawValue, .array(.object(webPanel))),
            (ModuleKind.dialog.rawValue, .array(.object(dialog))),
            (ModuleKind.action.rawValue, .array(.object(action))),
            (ModuleKind.externalPage.rawValue, .array(.object(externalPage))),
            (
                ModuleKind.oauth2Consumer.rawValue,
                .object(
                    ObjectShape(
                        name: ModuleKind.oauth2Consumer.rawValue,
                        properties: [("redirectionUrls", .array(.string(.url)))], required: ["redirectionUrls"]))
            ),
            (
                ModuleKind.oauth2Provider.rawValue,
                .object(
                    ObjectShape(
                        name: ModuleKind.oauth2Provider.rawValue,
                        properties: [("authorizationUrl", .string(.url)), ("tokenUrl", .string(.url))]))
            ),
        ])

    public static let descriptor = ObjectShape(
        name: "descriptor",
        properties: [
            ("key", .string(.nonEmpty)), ("name", .string(.nonEmpty)), ("description", .string(.plain)),
            (
                "vendor",
                .object(
                    ObjectShape(
                        name: "vendor", properties: [("name", .string(.nonEmpty)), ("url", .string(.nonEmpty))],
                        required: ["name", "url"], extra: .forbidden))
            ),
            (
                "links",
                .object(
                    ObjectShape(
                        name: "links", properties: [("self", .string(.url)), ("homepage", .string(.nonEmpty))],
                        required: ["self"], extra: .allowed))
            ),
            ("apiVersion", .string(StringRule(format: .apiVersion))),
            ("capabilities", .object(capabilities)),
        ],
        required: ["key", "name", "description", "links"])

    /// The module lists, by their descriptor name, with the words used for them in messages.
    public static let modules: [(name: String, shape: ObjectShape)] = [
        (ModuleKind.webhook.rawValue, webhook), (ModuleKind.glance.rawValue, glance),
        (ModuleKind.webPanel.rawValue, webPanel), (ModuleKind.dialog.rawValue, dialog),
        (ModuleKind.action.rawValue, action), (ModuleKind.externalPage.rawValue, externalPage),
    ]
}
