import Foundation
import HipChatConnect

/// Cuts HTML down to the few tags HipChat shows in a place: glance labels (`b`, `i`, `strong`,
/// `em`, `span`), card fields (`a`, `b`, `i`, `strong`, `span`) and HTML notifications.
///
/// HipChat curates label HTML itself, but labels often carry text from elsewhere (an issue
/// title, a build name) and the runtime answers glance queries straight to HipChat's client, so
/// the runtime does not count on that: every other tag is dropped (`script` and `style` with
/// their content), attributes go (no `onclick`, no `style`), except an `http(s)` `href` on
/// `a`; stray `<` and `>` and bare `&` are escaped, and comments are removed. Text is kept;
/// entities are kept.
public enum LimitedHTML {
    public static let glanceTags: Set<String> = ["b", "i", "strong", "em", "span"]
    public static let cardTags: Set<String> = ["a", "b", "i", "strong", "span"]
    /// What an HTML room notification may use.
    public static let messageTags: Set<String> = [
        "a", "b", "i", "strong", "em", "span", "br", "p", "code", "pre", "ul", "ol", "li",
        "table", "tr", "td", "th", "tbody", "thead",
    ]
    /// Dropped with everything up to their closing tag: their content is code, not text.
    private static let droppedWithContent: Set<String> = ["script", "style"]

    /// Linear in the length of `html`: every search moves past what it scanned, and the next
    /// `>` is looked up in a table, so a body full of `<` costs no more than any other.
    public static func sanitize(_ html: String, allowing allowedTags: Set<String>) -> String {
        let scalars = Array(html.unicodeScalars)
        let lowered = scalars.map { ("A"..."Z").contains($0) ? Unicode.Scalar($0.value + 32)! : $0 }
        var nextClose = [Int?](repeating: nil, count: scalars.count + 1)
        for k in stride(from: scalars.count - 1, through: 0, by: -1) {
            nextClose[k] = scalars[k] == ">" ? k : nextClose[k + 1]
        }
        var out = String.UnicodeScalarView()
        var i = 0
        func append(_ text: String) { out.append(contentsOf: text.unicodeScalars) }
        while i < scalars.count {
            let c = scalars[i]
            switch c {
            case "<":
                if matches(scalars, at: i, "<!--") {
                    i = index(of: "-->", in: scalars, from: i + 4).map { $0 + 3 } ?? scalars.count
                    continue
                }
                guard let close = nextClose[i + 1] else {
                    append("&lt;")
                    i += 1
                    continue
                }
                var j = i + 1
                let closing = j < close && scalars[j] == "/"
                if closing { j += 1 }
                var name = ""
                while j < close, scalars[j].properties.isAlphabetic || ("0"..."9").contains(scalars[j]) {
                    name.unicodeScalars.append(scalars[j])
                    j += 1
                }
                name = name.lowercased()
                guard !name.isEmpty else {
                    // `< 3` or `<>`: text, not a tag.
                    append("&lt;")
                    i += 1
                    continue
                }
                if allowedTags.contains(name) {
                    if !closing, name == "a" {
                        append(link(String(String.UnicodeScalarView(scalars[j..<close]))))
                    } else {
                        append(closing ? "</\(name)>" : "<\(name)>")
                    }
                    i = close + 1
                } else if !closing, droppedWithContent.contains(name) {
                    let end = index(of: "</\(name)", in: lowered, from: close + 1)
                    i = end.flatMap { nextClose[$0].map { $0 + 1 } } ?? scalars.count
                } else {
                    i = close + 1
                }
            case ">":
                append("&gt;")
                i += 1
            case "&":
                append(isEntity(scalars, at: i) ? "&" : "&amp;")
                i += 1
            default:
                out.append(c)
                i += 1
            }
        }
        return String(out)
    }

    /// An `a` tag keeps an http(s) `href` (opened in a new tab) and a `data-target`, the key of
    /// one of the add-on's modules that HipChat opened on a click.
    private static func link(_ attributes: String) -> String {
        var tag = "<a"
        if let href = attribute("href", in: attributes) {
            let lowered = href.lowercased()
            if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") {
                tag += " href=\"\(escapeAttribute(href))\" target=\"_blank\" rel=\"noopener noreferrer\""
            }
        }
        if let target = attribute("data-target", in: attributes), target.wholeMatch(of: /[A-Za-z0-9_.\-]{1,40}/) != nil
        {
            tag += " data-target=\"\(target)\""
        }
        return tag + ">"
    }

    private static func escapeAttribute(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    private static func attribute(_ name: String, in attributes: String) -> String? {
        let pattern =
            "(?i)(?:^|\\s)" + NSRegularExpression.escapedPattern(for: name)
            + "\\s*=\\s*(?:\"([^\"]*)\"|'([^']*)'|([^\\s\"'>]+))"
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let match = regex.firstMatch(in: attributes, range: NSRange(attributes.startIndex..., in: attributes))
        else { return nil }
        for group in 1...3 {
            if let range = Range(match.range(at: group), in: attributes) {
                return String(attributes[range]).trimmingCharacters(in: .whitespaces).replacingOccurrences(
                    of: "&amp;", with: "&")
            }
        }
        return nil
    }

    /// `&name;`, `&#123;` or `&#x7B;` starts at `start`.
    private static func isEntity(_ scalars: [Unicode.Scalar], at start: Int) -> Bool {
        var j = start + 1
        var body = ""
        while j < scalars.count, j - start <= 32, scalars[j] != ";" {
            body.unicodeScalars.append(scalars[j])
            j += 1
        }
        guard j < scalars.count, scalars[j] == ";", !body.isEmpty else { return false }
        if body.hasPrefix("#x") || body.hasPrefix("#X") {
            return body.count > 2 && body.dropFirst(2).allSatisfy(\.isHexDigit)
        }
        if body.hasPrefix("#") { return body.count > 1 && body.dropFirst().allSatisfy(\.isNumber) }
        return body.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) }
    }

    private static func matches(_ scalars: [Unicode.Scalar], at start: Int, _ text: String) -> Bool {
        let needle = Array(text.unicodeScalars)
        guard start + needle.count <= scalars.count else { return false }
        return Array(scalars[start..<(start + needle.count)]) == needle
    }

    private static func index(of text: String, in scalars: [Unicode.Scalar], from start: Int) -> Int? {
        var k = start
        while k < scalars.count {
            if matches(scalars, at: k, text) { return k }
            k += 1
        }
        return nil
    }
}
