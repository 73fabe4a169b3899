import HipChatConnect

/// How the project's pages are rendered: what the spec and the chosen environment say.
public struct PageSettings: Sendable, Hashable {
    public static let hipchatJsDefault = "https://www.hipchat.com/atlassian-connect/all.js"
    public static let hipchatCssDefault = "https://www.hipchat.com/atlassian-connect/all.css"

    /// The environment chosen with `--env`, if any.
    public var environment: String?
    /// HipChat's JavaScript API: a URL, or a project file (copied into the site).
    public var hipchatJs: String = hipchatJsDefault
    /// HipChat's stylesheet: a URL, or a project file.
    public var hipchatCss: String = hipchatCssDefault
    /// Where `hipchatJs` and `hipchatCss` were set, for diagnostics about the files they name.
    public var hipchatJsLocation: SourceLocation?
    public var hipchatCssLocation: SourceLocation?
    /// Raw HTML in Markdown is kept for every page (front matter can still say otherwise).
    public var unsafe = false
    /// The views may send notifications to their room through `hipkit serve`, with their JWT
    /// (`viewNotifications: true`; off by default).
    public var viewNotifications = false

    public init(environment: String? = nil) {
        self.environment = environment
    }
}
