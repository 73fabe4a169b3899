/// A URL of the descriptor that `hipkit serve` answers itself, rather than with a file of the
/// build: the install callbacks, HipChat's browser flows, glance queries and webhooks.
///
/// One list, read by the server to route requests and by the build to check that every URL
/// under the base URL is answered, so that the two cannot disagree.
public enum RuntimeEndpoint: Sendable {
    /// `installable.callbackUrl`: POST installs; `DELETE …/{oauthId}` uninstalls.
    case install
    /// `installable.updateCallbackUrl`.
    case update
    /// `installable.installedUrl`, `updatedUrl` or `uninstalledUrl`: HipChat's browser flows.
    case browserFlow(BrowserFlow)
    /// A glance's `queryUrl`.
    case glanceQuery(ConnectDescriptor.Glance)
    /// A webhook's `url`.
    case webhook(ConnectDescriptor.Webhook)

    /// HipChat's browser flows: after an install, an update or an uninstall, HipChat sends the
    /// user's browser to the URL the descriptor names, with `installable_url` and `redirect_url`.
    public enum BrowserFlow: String, Sendable, CaseIterable {
        case installed = "installedUrl"
        case updated = "updatedUrl"
        case uninstalled = "uninstalledUrl"
    }
}

extension ConnectDescriptor {
    /// Each URL the runtime answers, with what it is, in the descriptor's order.
    public var runtimeEndpoints: [(endpoint: RuntimeEndpoint, url: Located<String>)] {
        var endpoints: [(endpoint: RuntimeEndpoint, url: Located<String>)] = []
        if let installable {
            let urls: [(RuntimeEndpoint, Located<String>?)] = [
                (.install, installable.callbackUrl), (.update, installable.updateCallbackUrl),
                (.browserFlow(.installed), installable.installedUrl), (.browserFlow(.updated), installable.updatedUrl),
                (.browserFlow(.uninstalled), installable.uninstalledUrl),
            ]
            for (endpoint, url) in urls { if let url { endpoints.append((endpoint, url)) } }
        }
        for glance in glances { if let url = glance.queryUrl { endpoints.append((.glanceQuery(glance), url)) } }
        for webhook in webhooks { if let url = webhook.url { endpoints.append((.webhook(webhook), url)) } }
        return endpoints
    }
}
