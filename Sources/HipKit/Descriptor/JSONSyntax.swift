import HipChatConnect

/// Strict JSON (RFC 8259), as HipChat read descriptors.
///
/// Descriptor files are composed by the YAML reader, which remembers where every value was
/// written; but YAML also accepts what JSON does not (trailing commas, comments, single quotes,
/// bare keys, anchors), and HipChat refused a descriptor with any of those. Foundation's parser
/// on Linux is no judge: it accepts trailing commas and gives byte offsets at best. So this
/// checks the grammar alone — it builds nothing; the values still come from the YAML reader —
/// and reports the first departure at its line and column, in words that say how to mend it.
enum JSONSyntax {
    /// The first JSON syntax error of `bytes`, or nil when they are JSON. Text that is not
    /// UTF-8 is left to the YAML reader, which points at the bad byte.
    static func problem(in bytes: [UInt8], file: String) -> Diagnostic? {
        guard String(validating: bytes, as: UTF8.self) != nil else { return nil }
        var checker = Checker(bytes: bytes)
        guard let failure = checker.check() else { return nil }
        return .error(
            .jsonSyntax, failure.message, at: SourceLocation(file: file, line: failure.line, column: failure.column),
            hint: failure.hint)
    }

    struct Failure {
        var message: String
        var hint: String
        var line: Int
        var column: Int
    }

    /// A scan over the bytes with an explicit stack, so deep nesting costs memory, not the
    /// call stack. Columns count Unicode scalars, as the YAML reader's do.
    struct Checker {
        let bytes: [UInt8]
        var index = 0
        var line = 1
        var column = 1

        /// What is open: objects and arrays, and where each began.
        enum Container {
            case object, array

            /// The byte that closes it.
            var close: UInt8 { self == .object ? UInt8(ascii: "}") : UInt8(ascii: "]") }
        }
        var stack: [Container] = []

        init(bytes: [UInt8]) {
            self.bytes = bytes
            // A UTF-8 byte-order mark is not JSON, but editors write it and HipChat's parser skipped it.
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        }

        mutating func check() -> Failure? {
            skipBlank()
            if index == bytes.count { return nil }  // an empty file is reported as such elsewhere
            if let failure = value() { return failure }
            skipBlank()
            if index < bytes.count { return unexpected("after the end of the document") }
            return nil
        }

        // MARK: Grammar

        /// One value, with everything nested in it.
        mutating func value() -> Failure? {
            // Each turn reads one value or closes one container; `stack` says what comes next.
            var expectingValue = true
            while true {
                skipBlank()
                if expectingValue {
                    guard index < bytes.count else { return endOfFile("a value") }
                    switch bytes[index] {
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        let container: Container = bytes[index] == UInt8(ascii: "{") ? .object : .array
                        advance()
                        stack.append(container)
                        skipBlank()
                        if peek(container.close) {
                            advance()
                            stack.removeLast()
                            expectingValue = false
                        } else if container == .object, let failure = key() {
                            return failure
                        }
                        continue
                    case UInt8(ascii: "\""):
                        if let failure = string() { return failure }
                    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                        if let failure = number() { return failure }
                    case UInt8(ascii: "t"): if let failure = literal("true") { return failure }
                    case UInt8(ascii: "f"): if let failure = literal("false") { return failure }
                    case UInt8(ascii: "n"): if let failure = literal("null") { return failure }
                    default:
                        return unexpected("where a value should be")
                    }
                    expectingValue = false
                    continue
                }
                // After a value: the document ends, or its container goes on or closes.
                guard let container = stack.last else { return nil }
                guard index < bytes.count else { return endOfFile(container == .object ? "',' or '}'" : "',' or ']'") }
                if bytes[index] == container.close {
                    advance()
                    stack.removeLast()
                    continue
                }
                guard bytes[index] == UInt8(ascii: ",") else {
                    return unexpected(
                        container == .object ? "where ',' or '}' should be" : "where ',' or ']' should be",
                        hint: "members and items are separated by commas")
                }
                let comma = (line, column)
                advance()
                skipBlank()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") || bytes[index] == UInt8(ascii: "]") {
                    return Failure(
                        message: "a comma ends the last member of an object or list; JSON allows none there",
                        hint: "remove this comma", line: comma.0, column: comma.1)
                }
                if container == .object, let failure = key() { return failure }
                expectingValue = true
            }
        }

        /// `"name" :` inside an object.
        mutating func key() -> Failure? {
            skipBlank()
            guard index < bytes.count else { return endOfFile("a member name") }
            guard bytes[index] == UInt8(ascii: "\"") else {
                return unexpected("where a member name should be", hint: "member names are strings in double quotes")
            }
            if let failure = string() { return failure }
            skipBlank()
            guard index < bytes.count else { return endOfFile("':'") }
            guard bytes[index] == UInt8(ascii: ":") else {
                return unexpected("where ':' should be", hint: "a member is \"name\": value")
            }
            advance()
            return nil
        }

        mutating func string() -> Failure? {
            let start = (line, column)
            advance()  // the opening quote
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    advance()
                    return nil
                case UInt8(ascii: "\\"):
                    advance()
                    guard index < bytes.count else { break }
                    switch bytes[index] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                        UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        advance()
                    case UInt8(ascii: "u"):
                        advance()
                        for _ in 0..<4 {
                            guard index < bytes.count, Self.isHexDigit(bytes[index]) else {
                                return failure("\\u takes four hexadecimal digits", hint: "for example \\u00e9")
                            }
                            advance()
                        }
                    default:
                        return failure(
                            "'\\\(Self.shown(bytes[index]))' is not an escape JSON knows",
                            hint: "JSON escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX")
                    }
                case 0x00..<0x20:
                    return failure(
                        "a string holds a raw control character (\(byte == 0x0A ? "a line break" : "code \(byte)"))",
                        hint: byte == 0x0A
                            ? "a string ends on its line; write \\n for a line break"
                            : "escape it as \\u00\(String(byte, radix: 16).count == 1 ? "0" : "")\(String(byte, radix: 16))"
                    )
                default:
                    advance()
                }
            }
            return Failure(
                message: "a string opened here is never closed", hint: "end it with a double quote", line: start.0,
                column: start.1)
        }

        mutating func number() -> Failure? {
            if peek(UInt8(ascii: "-")) { advance() }
            guard index < bytes.count, Self.isDigit(bytes[index]) else {
                return unexpected("in a number", hint: "a number is written like -12.5e3")
            }
            if bytes[index] == UInt8(ascii: "0") {
                advance()
                if index < bytes.count, Self.isDigit(bytes[index]) {
                    return failure(
                        "a number starts with 0",
                        hint: "JSON numbers have no leading zeros; write it without, or as a string")
                }
            } else {
                while index < bytes.count, Self.isDigit(bytes[index]) { advance() }
            }
            if peek(UInt8(ascii: ".")) {
                advance()
                guard index < bytes.count, Self.isDigit(bytes[index]) else {
                    return unexpected("after a decimal point", hint: "write a digit after the point")
                }
                while index < bytes.count, Self.isDigit(bytes[index]) { advance() }
            }
            if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
                advance()
                if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { advance() }
                guard index < bytes.count, Self.isDigit(bytes[index]) else {
                    return unexpected("in an exponent", hint: "write digits after e")
                }
                while index < bytes.count, Self.isDigit(bytes[index]) { advance() }
            }
            return nil
        }

        mutating func literal(_ word: String) -> Failure? {
            for byte in word.utf8 {
                guard index < bytes.count, bytes[index] == byte else {
                    return unexpected(
                        "where \(word) should be",
                        hint: "strings take double quotes; true, false and null are lower-case")
                }
                advance()
            }
            return nil
        }

        // MARK: Reading

        func peek(_ byte: UInt8) -> Bool { index < bytes.count && bytes[index] == byte }

        mutating func advance() {
            let byte = bytes[index]
            index += 1
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1  // the first byte of a scalar
            }
        }

        mutating func skipBlank() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { advance() }
        }

        func failure(_ message: String, hint: String) -> Failure {
            Failure(message: message, hint: hint, line: line, column: column)
        }

        func endOfFile(_ expected: String) -> Failure {
            Failure(
                message: "the file ends where \(expected) should be",
                hint: "the file may be cut short; close every { and [",
                line: line, column: column)
        }

        /// The character here is not what the grammar allows; says what it looks like it meant.
        func unexpected(_ place: String, hint: String = "HipChat reads descriptors as strict JSON") -> Failure {
            guard index < bytes.count else { return endOfFile("more") }
            let byte = bytes[index]
            let next = index + 1 < bytes.count ? bytes[index + 1] : 0
            let (what, better): (String, String) =
                switch byte {
                case UInt8(ascii: "/") where next == UInt8(ascii: "/") || next == UInt8(ascii: "*"):
                    ("a comment", "JSON has no comments; remove it")
                case UInt8(ascii: "#"): ("a comment", "JSON has no comments; remove it")
                case UInt8(ascii: "'"): ("a single quote", "JSON strings and names take double quotes")
                case UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"):
                    ("YAML syntax", "JSON has no anchors, aliases or tags; write the value out")
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"),
                    UInt8(ascii: "$"):
                    ("a bare word", "JSON strings and names take double quotes")
                default: ("'\(Self.shown(byte))'", hint)
                }
            return Failure(
                message: "the file is not valid JSON: \(what) \(place)", hint: better, line: line, column: column)
        }

        static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

        static func isHexDigit(_ byte: UInt8) -> Bool {
            isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
        }

        /// A byte as text for a message: the character when printable ASCII, else its code.
        static func shown(_ byte: UInt8) -> String {
            (0x21..<0x7F).contains(byte) ? String(UnicodeScalar(byte)) : "byte \(byte)"
        }
    }
}
