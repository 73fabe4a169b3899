import HipChatConnect

/// The text of every file a run read, so diagnostics can quote the line they point at.
public struct SourceStore: Sendable {
    private var lines: [String: [Substring]] = [:]

    public init() {}

    public mutating func add(_ text: String, for file: String) {
        // Split on the newline byte: as a `Character`, `\r\n` is one grapheme, not a `\n`, and a
        // file with CRLF endings was a single line with nothing quoted under its diagnostics.
        lines[file] = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map {
            Substring($0)
        }
    }

    public func contains(_ file: String) -> Bool { lines[file] != nil }

    /// Line `number` (1-based) of `file`, without its line ending.
    public func line(_ number: Int, of file: String) -> String? {
        guard let fileLines = lines[file], number >= 1, number <= fileLines.count else { return nil }
        let line = fileLines[number - 1]
        return String(line.utf8.last == UInt8(ascii: "\r") ? line.utf8.dropLast() : line.utf8[...]) ?? String(line)
    }
}
