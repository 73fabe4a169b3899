import HipChatConnect

/// A Markdown page of the project that a module shows, and the URL path it is served at.
public struct PageReference: Sendable, Hashable {
    /// The Markdown file, relative to the project folder (`pages/incidents.md`).
    public var source: String
    /// The path of the rendered page under the base URL (`/incidents.html`).
    public var urlPath: String
    /// The kind of module that shows it (a web panel, dialog, configurable, …).
    public var moduleKind: ModuleKind
    /// That module's key, when it has one.
    public var moduleKey: String?
    /// Where `addon.yaml` names the page.
    public var location: SourceLocation?

    /// The URL path a Markdown file is served at: `pages/help/faq.md` → `/help/faq.html`.
    ///
    /// Files under `pages/` lose that prefix, so a site's pages sit at its root; files elsewhere
    /// keep their folders. The same rule applies to every page, referenced by a module or not.
    public static func urlPath(forSource source: String) -> String {
        var path = source.hasPrefix("pages/") ? String(source.dropFirst("pages/".count)) : source
        for ext in [".markdown", ".md"] where path.lowercased().hasSuffix(ext) {
            path = String(path.dropLast(ext.count)) + ".html"
            break
        }
        return "/" + path
    }
}

/// Static glance data from `addon.yaml`, written where the glance's `queryUrl` points.
public struct GlanceDocument: Sendable, Hashable {
    public var key: String
    /// The URL path of the glance's `queryUrl` under the base URL (`/glances/incidents.json`).
    public var urlPath: String
    /// The glance data in HipChat's shape: `{label: {type, value}, status?, metadata?}`.
    public var data: JSONNode
}
