import HipChatConnect

/// The text of every file a run read, so diagnostics can quote the line they point at.
public struct SourceStore: Sendable {
    private var lines: [String: [Substring]] = [:]

    public init() {}

    public mutating func add(_ text: String, for file: String) {
        lines[file] = text.split(separator: "\n", omittingEmptySubsequences: false)
    }

    public func contains(_ file: String) -> Bool { lines[file] != nil }

    /// Line `number` (1-based) of `file`, without its line ending.
    public func line(_ number: Int, of file: String) -> String? {
        guard let fileLines = lines[file], number >= 1, number <= fileLines.count else { return nil }
        var line = fileLines[number - 1]
        if line.hasSuffix("\r") { line = line.dropLast() }
        return String(line)
    }
}
