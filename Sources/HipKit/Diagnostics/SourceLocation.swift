/// A position in a source file, as people count it: lines and columns start at 1.
///
/// Columns count Unicode scalars, so a caret drawn under a source line lands on the right
/// character for the ASCII and accented text that add-on specs are written in.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    /// The path of the file as the user named it (relative paths stay relative).
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}
