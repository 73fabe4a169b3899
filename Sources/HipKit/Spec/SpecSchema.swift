import HipChatConnect

/// The vocabulary of `addon.yaml`.
///
/// Names follow HipChat's, so its documentation still applies; the few departures make the file
/// shorter: module lists are plural (`glances`, `dialogs`), a sidebar is HipChat's `webPanel`,
/// dialog options sit on the dialog itself, and `hipchatApiConsumer`'s fields sit at the top.
enum SpecSchema {
    static let extra = SpecField(
        "extra", .json, to: [], "Fields copied into the descriptor object as they are, for what hipkit does not model.")

    static let vendor = SpecObject(
        name: "vendor",
        fields: [
            SpecField("name", .string, "The vendor's name."),
            SpecField("url", .string, "The vendor's web site."),
        ])

    static let links = SpecObject(
        name: "links",
        fields: [
            SpecField("self", .url, "The descriptor's own URL. Default: {baseUrl}/atlassian-connect.json."),
            SpecField("homepage", .url, "The add-on's home page."),
            extra,
        ])

    static let install = SpecObject(
        name: "install", module: .installable,
        fields: [
            SpecField(
                "global", .boolean, to: ["allowGlobal"],
                "Whether a group admin may install it for all rooms (HipChat's allowGlobal; default true)."),
            SpecField(
                "room", .boolean, to: ["allowRoom"],
                "Whether a room admin may install it in one room (HipChat's allowRoom; default true)."),
            SpecField("callbackUrl", .url, "Where HipChat POSTs each new installation."),
            SpecField("updateCallbackUrl", .url, "Where HipChat POSTs an update of an installation."),
            SpecField("installedUrl", .url, "Where the browser goes after an install."),
            SpecField("updatedUrl", .url, "Where the browser goes after an update."),
            SpecField("uninstalledUrl", .url, "Where the browser goes after an uninstall."),
            extra,
        ])

    static let configure = SpecObject(
        name: "configure", module: .configurable,
        fields: [
            SpecField("page", .page, to: ["url"], "The configuration page, a Markdown file of the project."),
            SpecField("url", .url, "The configuration page's URL, when it is not a page of the project."),
            SpecField(
                "allowAccessToRoomAdmins", .boolean, "Let room admins open it for a global install (default false)."),
            SpecField("authentication", .string, "\(orList(Authentication.names, first: "(default)"))."),
            SpecField(
                "settings", .settings, to: [],
                "Settings the page edits and `hipkit serve` stores per installation (and per room with allowAccessToRoomAdmins): a list of {name, type, label, required, default, pattern, options}."
            ),
            extra,
        ])

    static let setting = SpecObject(
        name: "setting",
        fields: [
            SpecField("name", .string, "The setting's name, used as {{settings.NAME}} in replies."),
            SpecField("type", .string, "\(orList(SettingType.names, first: "(default)"))."),
            SpecField("label", .string, "The form label (default: the name)."),
            SpecField("required", .boolean, "Whether a value must be given (default false)."),
            SpecField("default", .json, "The value before anyone sets one."),
            SpecField("pattern", .string, "A regular expression text values must match."),
            SpecField("options", .strings, "The choices of a select."),
        ])

    static let adminPage = SpecObject(
        name: "adminPage", module: .adminPage,
        fields: [
            SpecField("page", .page, to: ["url"], "The admin page, a Markdown file of the project."),
            SpecField("url", .url, "The admin page's URL, when it is not a page of the project."),
            extra,
        ])

    static let webhook = SpecObject(
        name: "webhook", module: .webhook,
        fields: [
            SpecField("key", .string, "A key for the webhook, unique among webhooks."),
            SpecField(
                "event", .string, "room_message, room_enter, room_exit, room_topic_change, … (HipChat's ten events)."),
            SpecField("pattern", .string, "A regular expression a message must match (room_message only)."),
            SpecField("url", .url, "Where HipChat POSTs the event."),
            SpecField("name", .string, "A label for the webhook."),
            SpecField("authentication", .string, "jwt or none (default none)."),
            SpecField(
                "reply", .webhookReply, to: [],
                "A canned reply `hipkit serve` answers with: a message, or {message, format, color, notify, card}; {{sender.name}}, {{room.name}}, {{message}}, {{match.1}}, {{settings.NAME}} (the settings of the room the delivery's token names, else the installation's; for a webhook with authentication: none, the settings' defaults only) and {{addon.baseUrl}}, {{addon.key}}, {{addon.name}} (from the descriptor served, so the dev base URL under --env dev) are filled in."
            ),
            extra,
        ])

    static let glance = SpecObject(
        name: "glance", module: .glance,
        fields: [
            SpecField("key", .string, "The glance's key, unique among glances."),
            SpecField("name", .localizable, "Shown when the glance's data cannot be loaded."),
            SpecField(
                "queryUrl", .url, "Where HipChat fetches the glance's data. Default with data: /glances/{key}.json."),
            SpecField(
                "icon", .icon, "The glance's 16×16 icon; an @2x twin beside it is used for high-density screens."),
            SpecField("target", .target, "The sidebar, dialog or external page a click opens."),
            SpecField("weight", .integer, "Order among glances, smaller first (default 100)."),
            SpecField(
                "conditions", .conditions,
                "When to show it: \(ConditionName.allowed(in: .glance).map(\.rawValue).joined(separator: ", "))."),
            SpecField(
                "data", .glanceData, to: [], "The glance's data, served at its queryUrl: {label, status, metadata}."),
            extra,
        ])

    static let sidebar = SpecObject(
        name: "sidebar", module: .webPanel,
        fields: [
            SpecField("key", .string, "The sidebar's key, unique among sidebars; targets name it."),
            SpecField("name", .localizable, "The sidebar's title."),
            SpecField("page", .page, to: ["url"], "The sidebar's page, a Markdown file of the project."),
            SpecField("url", .url, "The sidebar's URL, when it is not a page of the project."),
            SpecField(
                "location", .string,
                "\(WebPanelLocation.sidebarRight.rawValue), the only location HipChat has (the default)."),
            SpecField("icon", .icon, "An icon for the sidebar."),
            SpecField("weight", .integer, "Order among sidebars (default 100)."),
            SpecField(
                "conditions", .conditions,
                "When to show it: \(ConditionName.allowed(in: .webPanel).map(\.rawValue).joined(separator: ", "))."),
            SpecField("authentication", .string, "\(orList(Authentication.names, first: "(default)"))."),
            extra,
        ], fixed: [("location", WebPanelLocation.sidebarRight.rawValue)])

    static let dialog = SpecObject(
        name: "dialog", module: .dialog,
        fields: [
            SpecField("key", .string, "The dialog's key, unique among dialogs; targets name it."),
            SpecField("title", .localizable, "The dialog's title."),
            SpecField("page", .page, to: ["url"], "The dialog's page, a Markdown file of the project."),
            SpecField(
                "url", .url,
                "The dialog's URL, when it is not a page of the project; may hold {placeholders} for urlTemplateValues."
            ),
            SpecField("authentication", .string, "\(orList(Authentication.names, first: "(default)"))."),
            SpecField("style", .string, to: ["options", "style"], "\(orList(DialogStyle.names, first: "(default)"))."),
            SpecField(
                "size", .dialogSize, to: ["options", "size"],
                "\(DialogSize.list), or {width, height} in px or %."),
            SpecField(
                "primaryAction", .button, to: ["options", "primaryAction"],
                "The primary button: its name, or {name, key, enabled}."),
            SpecField("secondaryActions", .buttons, to: ["options", "secondaryActions"], "Link buttons beside it."),
            SpecField("hint", .localizable, to: ["options", "hint"], "Text at the left of the bottom bar."),
            SpecField(
                "filter", .filter, to: ["options", "filter"], "A filter box in the header: its placeholder text."),
            extra,
        ])

    static let button = SpecObject(
        name: "button",
        fields: [
            SpecField("name", .localizable, "The button's text."),
            SpecField("key", .string, "The event key the dialog's page receives on a click."),
            SpecField("enabled", .boolean, "Whether the button starts enabled (default true)."),
            extra,
        ])

    static let action = SpecObject(
        name: "action", module: .action,
        fields: [
            SpecField("key", .string, "The action's key, unique among actions."),
            SpecField("name", .localizable, "The action's text in the menu."),
            SpecField("location", .actionLocation, "message (a message's menu) or input (beside the chat input)."),
            SpecField("target", .target, "The dialog, sidebar or external page it opens."),
            SpecField("weight", .integer, "Order among actions (default 100)."),
            SpecField(
                "conditions", .conditions,
                "When to show it: room and user conditions, \(ConditionName.allowed(in: .action).filter { !ConditionName.room.contains($0) }.map(\.rawValue).joined(separator: ", "))."
            ),
            extra,
        ])

    static let externalPage = SpecObject(
        name: "externalPage", module: .externalPage,
        fields: [
            SpecField("key", .string, "The page's key, unique among external pages; targets name it."),
            SpecField("name", .localizable, "The page's name."),
            SpecField("page", .page, to: ["url"], "The page, a Markdown file of the project."),
            SpecField(
                "url", .url, "The page's URL, when it is not a page of the project; may hold {message.…} placeholders."),
        ])

    static let oauth2Consumer = SpecObject(
        name: "oauth2Consumer", module: .oauth2Consumer,
        fields: [
            SpecField("redirectionUrls", .urls, "URLs allowed as OAuth 2 redirect targets."),
            extra,
        ])

    static let oauth2Provider = SpecObject(
        name: "oauth2Provider", module: .oauth2Provider,
        fields: [
            SpecField("authorizationUrl", .url, "The OAuth 2 authorization URL."),
            SpecField("tokenUrl", .url, "The OAuth 2 token URL."),
            extra,
        ])

    static let environment = SpecObject(
        name: "environment",
        fields: [
            SpecField("baseUrl", .setting, "The base URL in this environment."),
            SpecField(
                "hipchatJs", .setting,
                "HipChat's JavaScript API for the pages in this environment: a URL, or a file of the project."),
            SpecField(
                "hipchatCss", .setting,
                "HipChat's stylesheet for the pages in this environment: a URL, or a file of the project."),
        ])

    static let addon = SpecObject(
        name: "addon.yaml",
        fields: [
            SpecField("key", .string, "The add-on's key (its Marketplace key), such as com.example.incidents."),
            SpecField("name", .string, "The add-on's name, shown at install."),
            SpecField("description", .string, "A short description, shown at install."),
            SpecField("vendor", .object(vendor), "Who makes it: {name, url}."),
            SpecField("links", .object(links), "{homepage, self}; self defaults to {baseUrl}/atlassian-connect.json."),
            SpecField("apiVersion", .string, "HipChat Connect API version (1:1)."),
            SpecField("baseUrl", .setting, "Where the add-on is served; relative URLs and pages are joined to it."),
            SpecField(
                "environments", .setting,
                "Named settings (baseUrl, hipchatJs, hipchatCss) chosen with --env, such as dev and production."),
            SpecField(
                "hipchatJs", .setting,
                "HipChat's JavaScript API that view pages load. Default: https://www.hipchat.com/atlassian-connect/all.js; a HipChat Server host has its own."
            ),
            SpecField(
                "hipchatCss", .setting,
                "HipChat's stylesheet that view pages load. Default: https://www.hipchat.com/atlassian-connect/all.css."
            ),
            SpecField(
                "unsafe", .setting,
                "Keep raw HTML written in every page's Markdown (default false: it is left out). A page's front matter can say the same for itself."
            ),
            SpecField(
                "viewNotifications", .setting,
                "Let the add-on's views send notifications to their room without a back end of their own: hipkit serve takes POST /_hipkit/notifications with the view's JWT (default false)."
            ),
            SpecField(
                "scopes", .strings,
                to: [DescriptorField.capabilities.rawValue, ModuleKind.hipchatApiConsumer.rawValue, "scopes"],
                "API scopes the add-on asks for (hipchatApiConsumer.scopes)."),
            SpecField(
                "fromName", .string,
                to: [DescriptorField.capabilities.rawValue, ModuleKind.hipchatApiConsumer.rawValue, "fromName"],
                "The sender name on the add-on's messages."),
            SpecField(
                "avatar", .avatar,
                to: [DescriptorField.capabilities.rawValue, ModuleKind.hipchatApiConsumer.rawValue, "avatar"],
                "The image beside the add-on's messages."),
            SpecField(
                "install", .object(install),
                to: [DescriptorField.capabilities.rawValue, ModuleKind.installable.rawValue],
                "How it installs (HipChat's installable)."),
            SpecField(
                "configure", .object(configure),
                to: [DescriptorField.capabilities.rawValue, ModuleKind.configurable.rawValue],
                "The configuration page (HipChat's configurable)."),
            SpecField(
                "adminPage", .object(adminPage),
                to: [DescriptorField.capabilities.rawValue, ModuleKind.adminPage.rawValue], "An admin page."),
            SpecField(
                "webhooks", .list(webhook), to: [DescriptorField.capabilities.rawValue, ModuleKind.webhook.rawValue],
                "Events HipChat sends (HipChat's webhook)."
            ),
            SpecField(
                "glances", .list(glance), to: [DescriptorField.capabilities.rawValue, ModuleKind.glance.rawValue],
                "Status lines in the room's sidebar (HipChat's glance)."),
            SpecField(
                "sidebars", .list(sidebar), to: [DescriptorField.capabilities.rawValue, ModuleKind.webPanel.rawValue],
                "Sidebar views (HipChat's webPanel)."),
            SpecField(
                "dialogs", .list(dialog), to: [DescriptorField.capabilities.rawValue, ModuleKind.dialog.rawValue],
                "Dialogs (HipChat's dialog)."),
            SpecField(
                "actions", .list(action), to: [DescriptorField.capabilities.rawValue, ModuleKind.action.rawValue],
                "Message and input actions (HipChat's action)."),
            SpecField(
                "externalPages", .list(externalPage),
                to: [DescriptorField.capabilities.rawValue, ModuleKind.externalPage.rawValue],
                "Pages opened in a new tab (HipChat's externalPage)."),
            SpecField(
                "oauth2Consumer", .object(oauth2Consumer),
                to: [DescriptorField.capabilities.rawValue, ModuleKind.oauth2Consumer.rawValue],
                "OAuth 2 redirect URLs."),
            SpecField(
                "oauth2Provider", .object(oauth2Provider),
                to: [DescriptorField.capabilities.rawValue, ModuleKind.oauth2Provider.rawValue], "OAuth 2 endpoints."),
            SpecField(
                "listing", .listing, to: [],
                "The Marketplace listing, written to dist/marketplace/ and dist/marketplace.zip when the base URL is https."
            ),
            extra,
        ])

    /// `a (default), b or c`: HipChat's words for a field's documentation, from the enums that
    /// list them, so the reference never drifts from what the checks accept.
    static func orList(_ names: [String], first note: String? = nil) -> String {
        var words = names
        if let note, !words.isEmpty { words[0] += " " + note }
        guard words.count > 1 else { return words.first ?? "" }
        return words.dropLast().joined(separator: ", ") + " or " + words.last!
    }

    /// HipChat's order of top-level members and capabilities, used for every descriptor written.
    static let descriptorOrder = DescriptorField.names
    static let capabilitiesOrder = ModuleKind.descriptorOrder.map(\.rawValue)

    /// The spec object that becomes a module of `kind` (`sidebar` for webPanel).
    /// The spec's word for a module kind (`sidebar`, `configure`), HipChat's where the spec
    /// has no object of its own for it.
    static func word(for kind: ModuleKind) -> String {
        object(for: kind)?.name ?? kind.rawValue
    }

    static func object(for kind: ModuleKind) -> SpecObject? {
        [
            install, configure, adminPage, webhook, glance, sidebar, dialog, action, externalPage, oauth2Consumer,
            oauth2Provider,
        ]
        .first { $0.module == kind }
    }
}
