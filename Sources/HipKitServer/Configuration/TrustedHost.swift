import Foundation
import HipChatConnect

/// A host the server may call: `api.hipchat.com`, or `hipchat.example.com:8443` for a HipChat
/// Server. Without a port it stands for the scheme's default port only, so trusting a host
/// never trusts whatever else listens on it.
public struct TrustedHost: Sendable, Hashable, CustomStringConvertible {
    /// Lower case, without the brackets of an IPv6 literal.
    public var host: String
    public var port: Int?

    public static let hipchatCloud = TrustedHost(host: "api.hipchat.com")

    public init(host: String, port: Int? = nil) {
        self.host = host.lowercased()
        self.port = port
    }

    /// Parses `HOST`, `HOST:PORT`, `[IPV6]` or `[IPV6]:PORT`; nil for anything else (a URL, a
    /// path, an empty host, a port out of range).
    public init?(_ text: String) {
        let text = text.trimmingCharacters(in: .whitespaces)
        var host = text
        var port: Int?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()) else { return nil }
                port = p
            }
        } else if let colon = text.lastIndex(of: ":") {
            guard text.firstIndex(of: ":") == colon, let p = Int(text[text.index(after: colon)...]) else { return nil }
            host = String(text[..<colon])
            port = p
        }
        guard !host.isEmpty, !host.contains("/"), !host.contains("@"), !host.contains(" ") else { return nil }
        if let port, !(1...65535).contains(port) { return nil }
        self.init(host: host, port: port)
    }

    public var description: String {
        let shown = host.contains(":") ? "[\(host)]" : host
        return port.map { "\(shown):\($0)" } ?? shown
    }

    /// Whether `url` points at this host and port.
    func matches(_ url: URL) -> Bool {
        guard let urlHost = url.host?.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]")),
            urlHost == host
        else { return false }
        let defaultPort = URLOrigin.defaultPort(url.scheme)
        return (url.port ?? defaultPort) == (port ?? defaultPort)
    }
}
