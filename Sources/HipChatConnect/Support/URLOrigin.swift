import Foundation

/// Where a URL points, as browsers compare origins: scheme and host without case, and the port
/// with HTTP's 80 and HTTPS's 443 filled in, so `https://x.example` and `https://x.example:443`
/// are one place. The build's URL check and the server's trust checks compare URLs this way.
public struct URLOrigin: Hashable, Sendable {
    public var scheme: String
    public var host: String
    public var port: Int

    /// The port `scheme` implies when a URL names none: 80 for HTTP, else 443.
    public static func defaultPort(_ scheme: String?) -> Int { scheme?.lowercased() == "http" ? 80 : 443 }

    public init?(_ components: URLComponents) {
        guard let scheme = components.scheme?.lowercased(), let host = components.host?.lowercased(), !host.isEmpty
        else { return nil }
        self.scheme = scheme
        self.host = host
        port = components.port ?? Self.defaultPort(scheme)
    }

    public init?(_ url: URL) {
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: true) else { return nil }
        self.init(components)
    }

    /// The path of `url` below `base` — `""` for the base itself, `a/b.html` for a file under it —
    /// or nil when `url` points elsewhere (another origin, or outside the base's path).
    public static func path(of url: String, below base: String) -> String? {
        guard let base = URLComponents(string: base), let url = URLComponents(string: url),
            let origin = URLOrigin(url), origin == URLOrigin(base)
        else { return nil }
        let basePath = base.path.hasSuffix("/") ? base.path : base.path + "/"
        let path = url.path.isEmpty ? "/" : url.path
        if path + "/" == basePath { return "" }
        return path.hasPrefix(basePath) ? String(path.dropFirst(basePath.count)) : nil
    }
}
