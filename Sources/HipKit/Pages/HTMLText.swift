import Foundation
import Mustache

/// Escaping for text put into HTML, as a layout's `{{name}}` does it.
public enum HTMLText {
    /// `text` with `&`, `<`, `>`, `"` and `'` written as `&amp;`, `&lt;`, `&gt;`, `&quot;` and
    /// `&#39;`: the five characters Mustache escapes, safe in element content and in quoted
    /// attribute values.
    ///
    /// They are found by their bytes. A browser reads code points, so a quote followed by a
    /// combining mark still ends an attribute value: it is escaped here, where a walk over
    /// `Character`s (swift-mustache's own) sees one grapheme that is not a quote and leaves it.
    public static func escape(_ text: String) -> String {
        var text = text
        let escaped: String? = text.withUTF8 { bytes in
            guard let first = bytes.firstIndex(where: { escapes($0) }) else { return nil }
            var out = [UInt8]()
            out.reserveCapacity(bytes.count + 32)
            out.append(contentsOf: bytes[..<first])
            for byte in bytes[first...] {
                switch byte {
                case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
                case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
                case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
                case UInt8(ascii: "\""): out.append(contentsOf: "&quot;".utf8)
                case UInt8(ascii: "'"): out.append(contentsOf: "&#39;".utf8)
                default: out.append(byte)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
        return escaped ?? text
    }

    private static func escapes(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "&") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
            || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
    }

    /// The Mustache tag `{{% CONTENT_TYPE: HTML}}`, with ``escape(_:)`` registered as `HTML`
    /// before the tag can be read: a template that starts with it escapes `{{name}}` this way.
    ///
    /// swift-mustache's default escaping walks `Character`s through a dictionary, about a
    /// thousand instructions a character (a tenth of a 1,000-page build went to it), and the
    /// default cannot be replaced; a template's content type can. `HTML` itself is registered
    /// again so that a template naming it gets the same escaping as one that does not.
    public static var mustacheContentType: String {
        _ = registered
        return "{{% CONTENT_TYPE: HTML}}"
    }

    private static let registered: Void = MustacheContentTypes.register(MustacheEscaping(), named: "HTML")

    private struct MustacheEscaping: MustacheContentType {
        func escapeText(_ text: String) -> String { HTMLText.escape(text) }
    }
}
