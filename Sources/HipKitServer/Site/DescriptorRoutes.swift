import Foundation
import HipChatConnect
import HipKit

/// Which paths the descriptor asks the server to answer, and how.
///
/// HipChat calls the URLs the descriptor names; the server answers them by their path, whatever
/// host the descriptor names (it may sit behind a proxy, or the descriptor may name a
/// production host while the server runs locally). Paths here are full URL paths as requested.
struct DescriptorRoutes: Sendable {
    enum Access: Sendable, Equatable {
        case jwt
        case none
    }

    struct Glance: Sendable, Equatable {
        var key: String
        var path: String
    }

    struct Webhook: Sendable, Equatable {
        var key: String?
        var path: String
        var event: String?
        var pattern: String?
        var authentication: Access
    }

    /// The path of `links.self`, where the descriptor itself is served.
    var selfPath: String
    /// The folder of `links.self` (`""` for `/atlassian-connect.json`): files of `dist/` are
    /// served under it.
    var basePath: String
    /// View pages (sidebars, dialogs, configure, admin and external pages) by path.
    var views: [String: Access] = [:]
    var glances: [Glance] = []
    var installPath: String?
    var updatePath: String?
    var webhooks: [Webhook] = []

    /// Reads the routes from the descriptor. Problems that leave a route unusable are warnings
    /// (the rest still works); a descriptor without `links.self` is an error.
    static func read(_ descriptor: JSONNode, diagnostics: inout [Diagnostic]) -> DescriptorRoutes? {
        guard descriptor.isObject else {
            diagnostics.append(
                .error(
                    .wrongType, "the descriptor must be a JSON object, not \(descriptor.kindDescription)",
                    at: descriptor.location))
            return nil
        }
        guard let selfNode = descriptor["links"]?["self"], let selfText = selfNode.stringValue,
            let selfURL = URL(string: selfText), let selfPath = path(of: selfURL)
        else {
            diagnostics.append(
                .error(
                    .missingField, "the descriptor has no usable links.self URL; the server learns its paths from it",
                    at: descriptor["links"]?.location ?? descriptor.location,
                    hint: "rebuild with `hipkit build`, which always writes links.self"))
            return nil
        }
        var base = selfPath
        if let slash = base.lastIndex(of: "/") { base = String(base[..<slash]) }
        var routes = DescriptorRoutes(selfPath: selfPath, basePath: base)
        let capabilities = descriptor["capabilities"]

        func resolve(_ node: JSONNode?, _ what: String) -> String? {
            guard let node else { return nil }
            guard let text = node.stringValue else {
                diagnostics.append(.warning(.wrongType, "the \(what) URL must be a string", at: node.location))
                return nil
            }
            if text.contains("{") {
                diagnostics.append(
                    .warning(
                        .urlTemplate, "the \(what) URL '\(text)' has placeholders; the server does not answer it",
                        at: node.location))
                return nil
            }
            guard let url = URL(string: text, relativeTo: selfURL), let path = path(of: url.absoluteURL) else {
                diagnostics.append(.warning(.invalidUrl, "the \(what) URL '\(text)' cannot be read", at: node.location))
                return nil
            }
            return path
        }
        func access(_ node: JSONNode, default fallback: Access) -> Access {
            switch node["authentication"]?.stringValue {
            case "none": return .none
            case "jwt": return .jwt
            default: return fallback
            }
        }
        func addView(_ node: JSONNode, _ what: String, access viewAccess: Access) {
            guard let path = resolve(node["url"], what) else { return }
            // Two modules on one page: the page needs a JWT if either asks for one.
            if routes.views[path] != .jwt { routes.views[path] = viewAccess }
        }
        func items(_ name: String) -> [JSONNode] {
            guard let node = capabilities?[name] else { return [] }
            return node.arrayValue ?? [node]
        }

        for panel in items("webPanel") { addView(panel, "webPanel", access: access(panel, default: .jwt)) }
        for dialog in items("dialog") { addView(dialog, "dialog", access: access(dialog, default: .jwt)) }
        for configurable in items("configurable") {
            addView(configurable, "configurable", access: access(configurable, default: .jwt))
        }
        // adminPage and externalPage have no authentication field: HipChat signs them anyway.
        for page in items("adminPage") { addView(page, "adminPage", access: .jwt) }
        for page in items("externalPage") { addView(page, "externalPage", access: .jwt) }
        for glance in items("glance") {
            guard let key = glance["key"]?.stringValue, let path = resolve(glance["queryUrl"], "glance queryUrl") else {
                continue
            }
            routes.glances.append(Glance(key: key, path: path))
        }
        if let installable = capabilities?["installable"] {
            routes.installPath = resolve(installable["callbackUrl"], "installable callbackUrl")
            routes.updatePath = resolve(installable["updateCallbackUrl"], "installable updateCallbackUrl")
        }
        for webhook in items("webhook") {
            guard let path = resolve(webhook["url"], "webhook") else { continue }
            routes.webhooks.append(
                Webhook(
                    key: webhook["key"]?.stringValue, path: path, event: webhook["event"]?.stringValue,
                    pattern: webhook["pattern"]?.stringValue,
                    authentication: access(webhook, default: .none)))
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
