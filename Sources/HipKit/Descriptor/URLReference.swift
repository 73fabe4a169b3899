import Foundation

/// What hipkit needs to know of a URL as written: whether it stands on its own or is to be
/// joined to the base URL (or to a page's folder), and the joining.
///
/// Kept apart from the spec's translator because the pages, the link checker, validation and
/// the importer ask the same questions of URLs, and the server asks the one of loopback hosts.
public enum URLReference {
    /// `scheme:` at the start (RFC 3986), or a protocol-relative `//host`.
    public static func isAbsolute(_ reference: String) -> Bool {
        var reference = reference
        if let answer = reference.withUTF8({ asciiIsAbsolute($0) }) { return answer }
        if reference.hasPrefix("//") { return true }
        guard let colon = reference.firstIndex(of: ":"), colon != reference.startIndex else { return false }
        let scheme = reference[..<colon]
        return scheme.first!.isLetter && scheme.allSatisfy { $0.isLetter || $0.isNumber || "+-.".contains($0) }
    }

    /// Whether `host` (as a URL has it, IPv6 in brackets or not) names this machine: `localhost`,
    /// `::1`, or an IPv4 address in 127.0.0.0/8 — not a name such as `127.example.com`.
    ///
    /// `*.localhost` names count only with `localhostSubdomains`: RFC 6761 reserves them for
    /// loopback and browsers resolve them so, which is enough for the build to treat them as
    /// local development, but a resolver may send them elsewhere, so the server does not trust
    /// them.
    public static func isLoopback(_ host: String, localhostSubdomains: Bool = false) -> Bool {
        let host = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if host == "localhost" || host == "::1" { return true }
        if localhostSubdomains, host.hasSuffix(".localhost") { return true }
        // Four decimal octets as written by `inet_pton`: 1–3 digits, no sign, no leading zero.
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.first == "127"
            && octets.allSatisfy { octet in
                (1...3).contains(octet.count) && octet.allSatisfy(\.isASCIIDigit)
                    && (octet.count == 1 || octet.first != "0") && UInt8(octet) != nil
            }
    }

    /// ``isAbsolute(_:)`` in bytes, for a reference that is ASCII up to the answer: nil when a
    /// non-ASCII byte comes first, which could be a letter of a scheme or a combining mark that
    /// changes a `Character`, and leaves the answer to the `Character` rules.
    private static func asciiIsAbsolute(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool? {
        var i = bytes.startIndex
        var first = true
        while i != bytes.endIndex {
            let byte = bytes[i]
            let next = bytes.index(after: i)
            if byte >= 0x80 { return nil }
            let afterIsASCII = next == bytes.endIndex || bytes[next] < 0x80
            let isLetter = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
            if byte == UInt8(ascii: ":") { return afterIsASCII ? !first : nil }
            if first, byte == UInt8(ascii: "/"), next != bytes.endIndex, bytes[next] == UInt8(ascii: "/") {
                let third = bytes.index(after: next)
                return third == bytes.endIndex || bytes[third] < 0x80 ? true : nil
            }
            let inScheme =
                first
                ? isLetter
                : isLetter || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "+")
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            // A character no scheme holds, before any colon: not absolute, whatever follows.
            if !inScheme { return false }
            first = false
            i = next
        }
        return false
    }

    /// `reference` joined to `base` (a base URL without a trailing `/`): an absolute reference
    /// stays as it is, and `/` alone stands for the base URL itself, so an imported
    /// `{{localBaseUrl}}` comes back exactly.
    public static func join(_ reference: String, to base: String) -> String {
        if isAbsolute(reference) { return reference }
        if reference == "/" { return base }
        if reference.hasPrefix("/") { return base + reference }
        return base + "/" + reference
    }
}
