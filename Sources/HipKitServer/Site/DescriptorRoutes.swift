import Foundation
import HipChatConnect
import HipKit

/// Which paths the descriptor asks the server to answer, and how.
///
/// HipChat calls the URLs the descriptor names; the server answers them by their path, whatever
/// host the descriptor names (it may sit behind a proxy, or the descriptor may name a
/// production host while the server runs locally). Paths here are full URL paths as requested.
struct DescriptorRoutes: Sendable {
    /// A module of the descriptor, as read, at the full request path its URL names.
    struct Routed<Module: ConnectModule>: Sendable {
        var path: String
        var module: Module
    }

    /// The path of `links.self`, where the descriptor itself is served.
    var selfPath: String
    /// The folder of `links.self` (`""` for `/atlassian-connect.json`): files of `dist/` are
    /// served under it.
    var basePath: String
    /// The folder of `links.self` as a whole URL, without a final slash
    /// (`https://example.com` for `https://example.com/atlassian-connect.json`): the base URL
    /// the descriptor was built for, `--env dev`'s under `hipkit build --env dev`.
    var baseURL: String
    /// View pages (sidebars, dialogs, configure, admin and external pages) by path.
    var views: [String: Authentication] = [:]
    /// Glances with a usable `queryUrl`.
    var glances: [Routed<ConnectDescriptor.Glance>] = []
    var installPath: String?
    var updatePath: String?
    /// HipChat's browser flows (`installedUrl`, `updatedUrl`, `uninstalledUrl`) by path.
    var browserFlows: [String: BrowserFlow] = [:]
    /// Webhooks with a usable `url`.
    var webhooks: [Routed<ConnectDescriptor.Webhook>] = []

    /// `url` without its last path segment, query, fragment or user: `https://example.com/a`
    /// for `https://example.com/a/atlassian-connect.json?v=2`, `https://example.com` for
    /// `https://example.com` and `https://example.com/`.
    static func folderURL(of url: URL) -> String {
        guard var parts = URLComponents(url: url, resolvingAgainstBaseURL: false) else { return "" }
        parts.query = nil
        parts.fragment = nil
        parts.user = nil
        parts.password = nil
        var path = parts.percentEncodedPath
        if let slash = path.lastIndex(of: "/") { path = String(path[..<slash]) } else { path = "" }
        parts.percentEncodedPath = path
        return parts.string ?? ""
    }

    /// Reads the routes from the descriptor's modules. Problems that leave a route unusable are
    /// warnings (the rest still works); a descriptor without `links.self` is an error.
    static func read(_ descriptor: ConnectDescriptor, diagnostics: inout [Diagnostic]) -> DescriptorRoutes? {
        let json = descriptor.json
        guard json.isObject else {
            diagnostics.append(
                .error(
                    .wrongType, "the descriptor must be a JSON object, not \(json.kindDescription)",
                    at: json.location))
            return nil
        }
        guard let selfURLText = descriptor.selfURL, let selfURL = URL(string: selfURLText.value),
            let selfPath = path(of: selfURL)
        else {
            diagnostics.append(
                .error(
                    .missingField, "the descriptor has no usable links.self URL; the server learns its paths from it",
                    at: descriptor.selfURL?.location ?? json.location,
                    hint: "rebuild with `hipkit build`, which always writes links.self"))
            return nil
        }
        var base = selfPath
        if let slash = base.lastIndex(of: "/") { base = String(base[..<slash]) }
        var routes = DescriptorRoutes(selfPath: selfPath, basePath: base, baseURL: Self.folderURL(of: selfURL))

        func resolve(_ url: Located<String>?, _ what: String) -> String? {
            guard let url else { return nil }
            if url.value.contains("{") {
                diagnostics.append(
                    .warning(
                        .urlTemplate, "the \(what) URL '\(url.value)' has placeholders; the server does not answer it",
                        at: url.location))
                return nil
            }
            guard let absolute = URL(string: url.value, relativeTo: selfURL), let path = path(of: absolute.absoluteURL)
            else {
                diagnostics.append(
                    .warning(.invalidUrl, "the \(what) URL '\(url.value)' cannot be read", at: url.location))
                return nil
            }
            return path
        }
        for view in descriptor.views {
            guard let path = resolve(view.url, view.kind.rawValue) else { continue }
            // Two modules on one page: the page needs a JWT if either asks for one.
            if routes.views[path] != .jwt { routes.views[path] = view.authentication }
        }
        for (endpoint, url) in descriptor.runtimeEndpoints {
            switch endpoint {
            case .install: routes.installPath = resolve(url, "installable callbackUrl")
            case .update: routes.updatePath = resolve(url, "installable updateCallbackUrl")
            case .browserFlow(let flow):
                guard let path = resolve(url, "installable \(flow.rawValue)") else { continue }
                // One path for two flows: HipChat's parameters do not say which, so the first wins.
                if routes.browserFlows[path] == nil { routes.browserFlows[path] = flow }
            case .glanceQuery(let glance):
                guard let path = resolve(url, "glance queryUrl") else { continue }
                routes.glances.append(Routed(path: path, module: glance))
            case .webhook(let webhook):
                guard let path = resolve(url, ModuleKind.webhook.rawValue) else { continue }
                routes.webhooks.append(Routed(path: path, module: webhook))
            }
        }
        return routes
    }

    /// The decoded path of `url`, `/` when it has none.
    static func path(of url: URL) -> String? {
        // URLComponents keeps a trailing slash, which URL.path drops.
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: true) else { return nil }
        let path = components.path
        guard path.isEmpty || path.hasPrefix("/") else { return nil }
        return path.isEmpty ? "/" : path
    }
}
