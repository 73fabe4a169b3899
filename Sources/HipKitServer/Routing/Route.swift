import HipChatConnect
import Hummingbird

/// What a request names, worked out from its method, path and query and the build being
/// served (``ServerResponder/resolve(method:path:query:in:)``), before anything is read or
/// checked.
///
/// One function decides it for both ways a request is answered — Hummingbird's responder, and
/// the event loop's own answers for files and glance queries (``EventLoopAnswers``) — so the two
/// can never disagree about what a path names.
enum Route {
    case health
    case dev(DevRoutes)
    case localHipChat(LocalHipChatRoutes)
    case admin(AdminHandler, SiteSnapshot)
    case browserFlow(BrowserFlow)
    case install
    /// A DELETE under the install path; the rest of the path is the installation's OAuth id.
    case uninstall(oauthId: String)
    case update
    case glance(SiteSnapshot.Glance)
    case webhook(SiteSnapshot.Webhook, SiteSnapshot.Settings?)
    case settings(SiteSnapshot.Settings)
    case viewNotifications(RuntimeManifest.ViewNotifications?)
    /// OPTIONS on the descriptor: browsers ask before fetching it from another origin.
    case descriptorPreflight
    /// A view the descriptor names whose page is not in the build.
    case missingView(tokenRequired: Bool)
    /// A file of the build: the descriptor, a view's page, or any other file.
    case file(FileRoute)
    case notFound
}

/// A file of the build as one route answers it.
struct FileRoute {
    var file: StaticFile
    /// The real path of `dist/`, which a file read from disk must still be under.
    var root: String
    /// Over the file's own `Cache-Control`, when set.
    var cacheControl: String?
    /// Added to the file's own headers (a view's `Content-Security-Policy`, the descriptor's CORS).
    var extraHeaders: HTTPFields = [:]
    /// A view that answers only with HipChat's JWT.
    var tokenRequired = false
}
