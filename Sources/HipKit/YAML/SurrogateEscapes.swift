import Foundation
import HipChatConnect

/// JSON's way of writing a character beyond U+FFFF: a pair of escaped UTF-16 surrogates
/// (`"\uD83C\uDFC6"` for 🏆, as Python's `json.dump` and many other writers put it), which
/// libyaml refuses, reading each `\u` as a character of its own and a lone surrogate as none.
///
/// Before libyaml reads a document that is JSON (it parses as JSON, with its first character
/// `{` or `[`), each such pair inside a string is written as YAML's own escape for the
/// character, `\U0001F3C6`: two characters shorter, so positions after it on its line are moved
/// back by ``column(_:line:)``. Any other document is left alone: in YAML, flow style included,
/// a backslash outside double quotes is text, and quotes may stand inside plain text.
struct SurrogateEscapes: Sendable {
    /// For each line (0-based, as libyaml counts) with a rewritten pair, the columns (0-based,
    /// in characters of the rewritten text) where each starts.
    private var rewritten: [Int: [Int]] = [:]

    /// `bytes` with every surrogate pair escape rewritten, and where; nil when there is none (or
    /// the document is not in JSON's style), which is nearly always.
    static func rewrite(_ bytes: [UInt8]) -> (bytes: [UInt8], escapes: SurrogateEscapes)? {
        guard startsLikeJSON(bytes), containsSurrogateEscape(bytes), JSONNode.parse(Data(bytes)) != nil else {
            return nil
        }
        // In JSON every quote outside a string opens one, and a string has no quote but its
        // escaped ones: one flag follows them.
        var inString = false
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var escapes = SurrogateEscapes()
        var line = 0
        var column = 0
        var i = 0
        /// Copies the byte at `i`, counting lines and characters.
        func copy() {
            let byte = bytes[i]
            out.append(byte)
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 0
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            i += 1
        }
        while i < bytes.count {
            let byte = bytes[i]
            if inString, byte == UInt8(ascii: "\\"), let scalar = pair(in: bytes, at: i) {
                escapes.rewritten[line, default: []].append(column)
                let hex = String(scalar, radix: 16, uppercase: true)
                let text = "\\U" + String(repeating: "0", count: 8 - hex.count) + hex
                out.append(contentsOf: text.utf8)
                column += text.count
                i += 12
            } else if inString, byte == UInt8(ascii: "\\") {
                copy()
                if i < bytes.count { copy() }  // the escaped character, which ends nothing
            } else {
                if byte == UInt8(ascii: "\"") { inString.toggle() }
                copy()
            }
        }
        return escapes.rewritten.isEmpty ? nil : (out, escapes)
    }

    /// The file's column (0-based) of `column` on `line` of the rewritten text: each pair
    /// rewritten before it on the line took two characters away.
    func column(_ column: Int, line: Int) -> Int {
        guard let starts = rewritten[line] else { return column }
        return column + 2 * starts.count { $0 < column }
    }

    /// Whether the first character, past a byte order mark and white space, opens a JSON object
    /// or array.
    private static func startsLikeJSON(_ bytes: [UInt8]) -> Bool {
        var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while i < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[i]) { i += 1 }
        return i < bytes.count && (bytes[i] == UInt8(ascii: "{") || bytes[i] == UInt8(ascii: "["))
    }

    /// Whether `\uD` or `\ud` (the start of a surrogate's escape) is anywhere in `bytes`.
    private static func containsSurrogateEscape(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 3 else { return false }
        for i in 0..<(bytes.count - 2)
        where bytes[i] == UInt8(ascii: "\\") && bytes[i + 1] == UInt8(ascii: "u")
            && (bytes[i + 2] == UInt8(ascii: "D") || bytes[i + 2] == UInt8(ascii: "d"))
        {
            return true
        }
        return false
    }

    /// The character a high and a low surrogate escape at `i` (`\uD83C\uDFC6`, 12 bytes) stand
    /// for; nil when there is no such pair there.
    private static func pair(in bytes: [UInt8], at i: Int) -> UInt32? {
        guard i + 12 <= bytes.count, bytes[i + 1] == UInt8(ascii: "u"), bytes[i + 6] == UInt8(ascii: "\\"),
            bytes[i + 7] == UInt8(ascii: "u"), let high = hex(bytes[(i + 2)..<(i + 6)]),
            let low = hex(bytes[(i + 8)..<(i + 12)]), (0xD800...0xDBFF).contains(high),
            (0xDC00...0xDFFF).contains(low)
        else { return nil }
        return 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
    }

    private static func hex(_ digits: ArraySlice<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        for digit in digits {
            guard let nibble = Character(Unicode.Scalar(digit)).hexDigitValue else { return nil }
            value = value << 4 | UInt32(nibble)
        }
        return value
    }
}
