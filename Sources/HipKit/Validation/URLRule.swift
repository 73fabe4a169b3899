import Foundation
import HipChatConnect

/// Checks URLs the way HipChat uses them: absolute, fully expanded, and HTTPS outside local
/// development.
struct URLRule: Sendable {
    /// Placeholders that stand for the add-on's base URL in hand-written descriptors: the
    /// atlassian-connect-express `{{localBaseUrl}}` and the lodash/serverless `${host}`.
    /// Allowed only when checking a descriptor file, never in what `hipkit build` writes.
    var acceptsBasePlaceholders: Bool

    static let basePlaceholder = try! NSRegularExpression(pattern: #"^(\{\{\s*localBaseUrl\s*\}\}|\$\{host\})"#)

    /// Splits a leading base placeholder off `url`: the placeholder and the rest.
    static func splitPlaceholder(_ url: String) -> (placeholder: String, rest: String)? {
        let range = NSRange(url.startIndex..., in: url)
        guard let match = basePlaceholder.firstMatch(in: url, range: range), let r = Range(match.range, in: url) else {
            return nil
        }
        return (String(url[r]), String(url[r.upperBound...]))
    }

    func check(_ url: String, at location: SourceLocation?, what: String) -> [Diagnostic] {
        var rest = url
        var hasBase = false
        if acceptsBasePlaceholders, let split = Self.splitPlaceholder(url) {
            rest = split.rest
            hasBase = true
        }
        if let template = Self.unexpandedTemplate(in: rest) {
            // The base-URL placeholder further in (`…?back={{localBaseUrl}}/cb`), which hipkit
            // fills in only where a URL starts; any other placeholder is a template's own.
            let isBase = Self.splitPlaceholder(template) != nil
            let hint =
                !acceptsBasePlaceholders
                ? "HipChat would fetch this text literally; write the real value"
                : isBase
                    ? "hipkit fills in the base-URL placeholder where a URL starts only; write this one in full, with the base URL in its place"
                    : "HipChat would fetch this text literally; write the real value, or the base-URL placeholder ({{localBaseUrl}} or ${host}) where the URL starts"
            return [
                .error(
                    .unexpandedPlaceholder,
                    "\(what) is '\(url)', which still holds the template placeholder '\(template)'",
                    at: location, hint: hint)
            ]
        }
        if let bad = rest.unicodeScalars.first(where: Self.neverInURL) {
            return [
                .error(
                    .invalidUrl, "\(what) is '\(url)', which holds \(Self.describe(bad)); no URL does",
                    at: location,
                    hint: bad == " "
                        ? "percent-encode it (a space is %20), or check that this is the URL meant"
                        : "percent-encode it, or check that this is the URL meant")
            ]
        }
        if hasBase { return [] }
        if Self.hasOtherScheme(url) {
            return [
                .error(
                    .invalidUrl, "\(what) is '\(url)', which is not an http or https URL", at: location,
                    hint: "HipChat opens and fetches add-on URLs over https")
            ]
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            return [
                .error(
                    .relativeUrl, "\(what) is '\(url)', which is not an absolute URL", at: location,
                    hint:
                        "HipChat needs full URLs such as https://addon.example.com/path; in addon.yaml, relative URLs are joined to baseUrl"
                )
            ]
        }
        switch scheme {
        case "https":
            return []
        case "http":
            if URLReference.isLoopback(host, localhostSubdomains: true) { return [] }
            return [
                .warning(
                    .insecureUrl,
                    "\(what) is '\(url)', which uses http; HipChat requires https outside local development",
                    at: location,
                    hint: "serve the add-on over https (a reverse proxy with TLS in front of `hipkit serve`)")
            ]
        default:
            return [.error(.invalidUrl, "\(what) is '\(url)', which is not an http or https URL", at: location)]
        }
    }

    /// Characters no URL holds as they are, and no browser or HTTP client takes in one: white
    /// space and other control characters, `"`, `<` and `>`. (RFC 3986 excludes `\`, `^`, `` ` ``,
    /// `|`, `{` and `}` too, but browsers take them, and URLs in use hold them: `family=A|B`,
    /// HipChat's own `/view/{room_id}`.) A relative URL is joined to the base URL as text, so
    /// `not a url` would otherwise pass as `https://addon.example.com/not a url`.
    static func neverInURL(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value <= 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
            || #""<>"#.unicodeScalars.contains(scalar) || scalar.properties.isWhitespace
    }

    private static func describe(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case " ": "a space"
        case "\t": "a tab"
        case "\n", "\r": "a line break"
        case _ where scalar.properties.isWhitespace || scalar.value < 0x20 || scalar.value >= 0x7F:
            "the character U+\(String(format: "%04X", scalar.value))"
        default: "'\(scalar)'"
        }
    }

    /// `{{…}}`, `${…}` or `<%…%>` left in a string: a template that was never filled in.
    /// Single braces (`/view/{id}`) are HipChat's own URL templates and are fine.
    static func unexpandedTemplate(in s: String) -> String? {
        for (open, close) in [("{{", "}}"), ("${", "}"), ("<%", "%>")] {
            guard let start = s.range(of: open) else { continue }
            if let end = s.range(of: close, range: start.upperBound..<s.endIndex) {
                return String(s[start.lowerBound..<end.upperBound])
            }
            return open
        }
        return nil
    }

    /// Whether `url` names a scheme other than http and https (`javascript:`, `data:`, `ftp:`);
    /// a relative reference names none.
    static func hasOtherScheme(_ url: String) -> Bool {
        guard let colon = url.firstIndex(of: ":"), URLReference.isAbsolute(url), !url.hasPrefix("//") else {
            return false
        }
        return !["http", "https"].contains(url[..<colon].lowercased())
    }
}
