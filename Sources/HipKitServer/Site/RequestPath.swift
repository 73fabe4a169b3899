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
    static func decode(_ raw: String) -> String? {
        guard raw.hasPrefix("/") else { return nil }
        let lowered = raw.lowercased()
        if lowered.contains("%2f") || lowered.contains("%5c") || raw.contains("\\") || lowered.contains("%00") {
            return nil
        }
        guard let decoded = percentDecode(raw) else { return nil }
        if decoded.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "\\" }) { return nil }
        let segments = decoded.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        for (i, segment) in segments.enumerated() {
            if segment == "." || segment == ".." { return nil }
            // An empty segment is only allowed last (`/help/`).
            if segment.isEmpty && i != segments.count - 1 { return nil }
        }
        return decoded
    }

    static func percentDecode(_ text: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    return nil
                }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// The value of query parameter `name`, percent-decoded (`+` as a space).
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
}
