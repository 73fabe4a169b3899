import HipChatConnect

/// Turns the raw path of a request into the path routes and files are looked up by, refusing
/// anything that could reach outside `dist/` or be read two ways.
///
/// Files are only ever looked up in the index built from `dist/`, so no request path can name a
/// file that was not there; these checks keep that so even for odd clients, and make such
/// requests a plain 404 with a log line rather than a surprise.
enum RequestPath {
    /// The percent-decoded path, or nil for: an encoded slash or backslash, a raw backslash, a
    /// NUL or other control character, `.` or `..` segments (encoded or not), empty segments
    /// (`//`), a path not starting with `/`, and bytes that are not UTF-8.
    ///
    /// One pass over the bytes: this runs for every request, so it neither lowercases nor
    /// searches the path as Foundation strings (which was a tenth of a small file's answer).
    static func decode(_ raw: String) -> String? {
        var raw = raw
        raw.makeContiguousUTF8()
        let decoded: String?? = raw.utf8.withContiguousStorageIfAvailable { input in
            guard input.first == UInt8(ascii: "/") else { return nil }
            if !input.contains(UInt8(ascii: "%")) { return check(input) ? raw : nil }
            // An encoded slash or backslash would make one path readable two ways.
            guard let bytes = percentDecoded(input, refusing: [UInt8(ascii: "/"), UInt8(ascii: "\\")]),
                bytes.withUnsafeBufferPointer(check)
            else { return nil }
            return String(validating: bytes, as: UTF8.self)
        }
        return decoded ?? nil
    }

    /// The decoded path's bytes: no control character or backslash, and no `.`, `..` or empty
    /// segment (but a trailing slash).
    private static func check(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        var segmentStart = 1
        for i in 1...path.count {
            if i == path.count || path[i] == UInt8(ascii: "/") {
                let length = i - segmentStart
                if length == 0 && i != path.count { return false }
                if length == 1 && path[segmentStart] == UInt8(ascii: ".") { return false }
                if length == 2 && path[segmentStart] == UInt8(ascii: ".") && path[segmentStart + 1] == UInt8(ascii: ".")
                {
                    return false
                }
                segmentStart = i + 1
                continue
            }
            let byte = path[i]
            if byte < 0x20 || byte == 0x7F || byte == UInt8(ascii: "\\") { return false }
        }
        return true
    }

    static func percentDecode(_ text: String) -> String? {
        let bytes = Array(text.utf8).withUnsafeBufferPointer { percentDecoded($0, refusing: []) }
        return bytes.flatMap { String(validating: $0, as: UTF8.self) }
    }

    /// `input` with each `%XX` replaced by its byte; nil for a `%` without two hexadecimal
    /// digits, or one that encodes a byte of `refused`.
    private static func percentDecoded(_ input: UnsafeBufferPointer<UInt8>, refusing refused: [UInt8]) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(input.count)
        var i = 0
        while i < input.count {
            var byte = input[i]
            if byte == UInt8(ascii: "%") {
                guard i + 2 < input.count, let high = hexValue(input[i + 1]), let low = hexValue(input[i + 2]) else {
                    return nil
                }
                byte = high << 4 | low
                if refused.contains(byte) { return nil }
                i += 3
            } else {
                i += 1
            }
            bytes.append(byte)
        }
        return bytes
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// The value of query parameter `name`, percent-decoded (`+` as a space); nil when it is
    /// absent or not percent-encoded UTF-8 (``queryParameterNames(in:)`` tells them apart).
    static func queryParameter(_ name: String, in query: String?) -> String? {
        guard let query else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.first.map(String.init) == name else { continue }
            let value = parts.count > 1 ? String(parts[1]).replacingOccurrences(of: "+", with: " ") : ""
            return percentDecode(value)
        }
        return nil
    }

    /// The names of the query's parameters, as sent.
    static func queryParameterNames(in query: String?) -> [String] {
        guard let query else { return [] }
        return query.split(separator: "&").map {
            String($0.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        }
    }
}
