import Foundation
import HipChatConnect

/// Decides which URLs the server may call: only on a `--trust-host`, only over HTTPS (plain
/// HTTP is allowed for loopback hosts, for local stand-ins and tests), and never with
/// credentials in the URL.
///
/// Every URL an install hands the server passes here, so a forged install naming
/// `capabilitiesUrl: https://attacker.example/…` is refused before anything is fetched.
struct URLTrust: Sendable {
    let trustedHosts: [TrustedHost]

    func check(_ text: String, _ what: String) throws(APIError) -> URL {
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
        guard scheme == "https" || (scheme == "http" && Self.isLoopback(host)) else {
            throw APIError(.forbidden, "\(what) must use https", field: what)
        }
        guard trustedHosts.contains(where: { $0.matches(url) }) else {
            let shown = url.port.map { "\(host):\($0)" } ?? host
            throw APIError(
                .forbidden,
                "\(what) is on \(shown), which is not a trusted HipChat host (trusted: "
                    + trustedHosts.map(\.description).joined(separator: ", ") + "); see --trust-host", field: what)
        }
        return url
    }

    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".")
        return octets.count == 4 && octets.first == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
