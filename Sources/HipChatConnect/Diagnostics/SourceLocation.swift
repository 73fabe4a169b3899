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

extension SourceLocation {
    /// Where the first byte of `bytes` that is not UTF-8 is (the start when all of it is), so
    /// that an encoding error points at the bad character, not at the top of the file.
    public static func firstInvalidUTF8(in bytes: some Collection<UInt8>, file: String) -> SourceLocation {
        var line = 1
        var column = 1
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            case .emptyInput: return SourceLocation(file: file, line: 1, column: 1)
            case .error: break loop
            }
        }
        return SourceLocation(file: file, line: line, column: column)
    }
}
