import Foundation
import HipChatConnect
import HipKit

/// Decides which URLs the server may call: only on a `--trust-host`, only over HTTPS (plain
/// HTTP is allowed for loopback hosts, for local stand-ins and tests), and never with
/// credentials in the URL.
///
/// Every URL an install hands the server passes here, so a forged install naming
/// `capabilitiesUrl: https://attacker.example/…` is refused before anything is fetched.
struct URLTrust: Sendable {
    let trustedHosts: [TrustedHost]

    func check(_ text: String, _ what: String) throws(APIError) -> URL {
        let url = try Self.parse(text, what)
        guard trustedHosts.contains(where: { $0.matches(url) }) else {
            throw APIError(
                .forbidden,
                "\(what) is on \(Self.shownHost(url)), which is not a trusted HipChat host (trusted: "
                    + trustedHosts.map(\.description).joined(separator: ", ") + "); see --trust-host", field: what)
        }
        return url
    }

    /// Where a browser flow may send the browser back (`redirect_url`): to the HipChat that
    /// handed out the installation, never elsewhere, so the add-on is no open redirect.
    ///
    /// That is the `installable_url`'s own host and port, or another trusted host. HipChat Cloud
    /// answers its API at `api.hipchat.com` but shows the group at `<group>.hipchat.com`, so an
    /// installation from `api.hipchat.com` may also go back to any HTTPS host under `hipchat.com`.
    func checkRedirect(_ text: String, from installable: URL) throws(APIError) -> URL {
        let what = "redirect_url"
        let url = try Self.parse(text, what)
        let host = url.host?.lowercased() ?? ""
        let sameHost =
            host == installable.host?.lowercased() && Self.port(of: url) == Self.port(of: installable)
        let cloud =
            TrustedHost.hipchatCloud.matches(installable) && url.scheme?.lowercased() == "https"
            && Self.port(of: url) == 443 && (host == "hipchat.com" || host.hasSuffix(".hipchat.com"))
        guard sameHost || cloud || trustedHosts.contains(where: { $0.matches(url) }) else {
            throw APIError(
                .forbidden,
                "redirect_url is on \(Self.shownHost(url)), not on the HipChat that sent the browser "
                    + "(\(Self.shownHost(installable))); the browser is not sent elsewhere", field: what)
        }
        return url
    }

    /// An absolute HTTPS URL (HTTP for loopback) without credentials or control characters.
    private static func parse(_ text: String, _ what: String) throws(APIError) -> URL {
        // Foundation percent-encodes what a URL cannot hold (spaces, CR/LF) instead of refusing
        // it; a URL from HipChat never has any, so such a string is refused, not repaired.
        guard !text.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }),
            let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty
        else {
            throw APIError(.badRequest, "\(what) is not an absolute URL", field: what)
        }
        guard url.user == nil, url.password == nil else {
            throw APIError(.forbidden, "\(what) must not carry credentials", field: what)
        }
        guard scheme == "https" || (scheme == "http" && URLReference.isLoopback(host)) else {
            throw APIError(.forbidden, "\(what) must use https", field: what)
        }
        return url
    }

    private static func port(of url: URL) -> Int {
        url.port ?? URLOrigin.defaultPort(url.scheme)
    }

    private static func shownHost(_ url: URL) -> String {
        let host = url.host ?? ""
        return url.port.map { "\(host):\($0)" } ?? host
    }
}
