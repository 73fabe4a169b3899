/// The attribute values of raw HTML's start tags, for pages with `unsafe: true`: script URLs
/// made `#`, and the links in `href` and `src` checked and rewritten as Markdown's are.
///
/// A value is read as a browser reads it before it looks at the scheme: character references
/// decoded (`&#106;avascript:`, `javascript&colon;`, `java&#x09;script:`), then tabs, newlines
/// and other control characters and spaces taken out. Only attribute values inside tags are
/// looked at, so prose and code that mention `href="javascript:…"` stay as written.
enum RawHTMLAttributes {
    /// One attribute value met in the HTML: the attribute's name (lower-cased), its value as
    /// written, and where the value starts (lines after the first, and the column, 1-based, in
    /// bytes of its line).
    struct Attribute {
        /// The element's name, lower-cased (`img`, `script`).
        var element: String
        var name: String
        var value: ArraySlice<UInt8>
        var line: Int
        var column: Int
    }

    /// `html` with every script URL made `#`, and each other attribute value replaced by what
    /// `replace` returns for it (nil keeps it).
    static func rewrite(_ html: String, _ replace: (Attribute) -> String?) -> String {
        let bytes = Array(html.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var changed = false
        var line = 0
        var lineStart = 0
        var i = 0
        func copy() {
            if bytes[i] == UInt8(ascii: "\n") {
                line += 1
                lineStart = i + 1
            }
            out.append(bytes[i])
            i += 1
        }
        while i < bytes.count {
            // A start tag: `<` and a letter; anything else is text, copied as it is.
            guard bytes[i] == UInt8(ascii: "<"), i + 1 < bytes.count, isLetter(bytes[i + 1]) else {
                copy()
                continue
            }
            // The tag's name, then its attributes up to `>`.
            let elementStart = i + 1
            while i < bytes.count, bytes[i] != UInt8(ascii: ">"), !isSpace(bytes[i]) { copy() }
            let element = String(decoding: bytes[elementStart..<i], as: UTF8.self).lowercased()
            let attributesStart = i
            while i < bytes.count, bytes[i] != UInt8(ascii: ">") {
                guard bytes[i] == UInt8(ascii: "=") else {
                    copy()
                    continue
                }
                // The attribute's name: the word before the `=`, spaces allowed between.
                var end = i
                while end > attributesStart, isSpace(bytes[end - 1]) { end -= 1 }
                var begin = end
                while begin > attributesStart, !isSpace(bytes[begin - 1]), bytes[begin - 1] != UInt8(ascii: "\""),
                    bytes[begin - 1] != UInt8(ascii: "'"), bytes[begin - 1] != UInt8(ascii: "/")
                {
                    begin -= 1
                }
                let name = String(decoding: bytes[begin..<end], as: UTF8.self).lowercased()
                copy()
                while i < bytes.count, isSpace(bytes[i]) { copy() }
                guard i < bytes.count else { break }
                // The value: quoted, or up to a space or `>`.
                let quote = bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") ? bytes[i] : nil
                if quote != nil { copy() }
                let start = i
                let attribute = (line: line, column: start - lineStart + 1)
                while i < bytes.count,
                    quote.map({ bytes[i] != $0 }) ?? (!isSpace(bytes[i]) && bytes[i] != UInt8(ascii: ">"))
                {
                    if bytes[i] == UInt8(ascii: "\n") {
                        line += 1
                        lineStart = i + 1
                    }
                    i += 1
                }
                let value = bytes[start..<i]
                if isScriptURL(value) {
                    out.append(UInt8(ascii: "#"))
                    changed = true
                } else if let new = replace(
                    Attribute(
                        element: element, name: name, value: value, line: attribute.line, column: attribute.column))
                {
                    out += new.utf8
                    changed = true
                } else {
                    out += value
                }
                if quote != nil, i < bytes.count { copy() }
            }
        }
        return changed ? String(decoding: out, as: UTF8.self) : html
    }

    /// Whether an attribute value, as a browser decodes it, starts with a script scheme.
    static func isScriptURL(_ value: ArraySlice<UInt8>) -> Bool {
        var head: [UInt8] = []
        var i = value.startIndex
        while i < value.endIndex, head.count < 12 {
            var byte = value[i]
            i += 1
            if byte == UInt8(ascii: "&"), let (decoded, end) = reference(in: value, at: i) {
                i = end
                guard let decoded else { continue }
                byte = decoded
            }
            if byte <= 0x20 || byte == 0x7F { continue }
            head.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
        }
        return head.starts(with: "javascript:".utf8) || head.starts(with: "vbscript:".utf8)
    }

    /// The character reference after an `&` at `i` (`#106;`, `#x6A`, `colon;`), decoded when it is
    /// ASCII (nil otherwise: it cannot be part of a scheme), and where it ends; nil when there is
    /// none there. The `;` may be missing, as browsers allow for numeric references.
    private static func reference(in value: ArraySlice<UInt8>, at start: Int) -> (UInt8?, Int)? {
        var i = start
        if i < value.endIndex, value[i] == UInt8(ascii: "#") {
            i += 1
            let hex = i < value.endIndex && (value[i] | 0x20) == UInt8(ascii: "x")
            if hex { i += 1 }
            var number = 0
            let digitsStart = i
            while i < value.endIndex, let digit = digitValue(value[i], hex: hex), number < 0x110000 {
                number = number * (hex ? 16 : 10) + digit
                i += 1
            }
            guard i > digitsStart else { return nil }
            if i < value.endIndex, value[i] == UInt8(ascii: ";") { i += 1 }
            return (number < 0x80 ? UInt8(number) : nil, i)
        }
        var name: [UInt8] = []
        while i < value.endIndex, isLetter(value[i]), name.count < 10 {
            name.append(value[i])
            i += 1
        }
        guard !name.isEmpty, i < value.endIndex, value[i] == UInt8(ascii: ";") else { return nil }
        let named: [String: UInt8] = ["colon": 0x3A, "Tab": 0x09, "NewLine": 0x0A, "amp": 0x26, "sol": 0x2F]
        return (named[String(decoding: name, as: UTF8.self)], i + 1)
    }

    private static func digitValue(_ byte: UInt8, hex: Bool) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f") where hex: Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F") where hex: Int(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D
    }
}
