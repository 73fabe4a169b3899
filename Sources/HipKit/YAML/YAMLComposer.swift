import CLibYAML
import HipChatConnect

/// Builds a ``YAMLNode`` tree from YAML or JSON text with libyaml's event API.
///
/// libyaml's own document loader is not used because it drops source positions of mapping keys,
/// cannot report duplicate keys, and expands aliases without a bound.
public struct YAMLComposer: Sendable {
    public var limits: YAMLLimits

    public init(limits: YAMLLimits = .default) {
        self.limits = limits
    }

    /// The result of composing one document: its root (nil for an empty file) and every problem
    /// found. Syntax errors end composition (root is nil); duplicate keys do not.
    public struct Result: Sendable {
        public var root: YAMLNode?
        public var diagnostics: [Diagnostic]
    }

    /// Composes the single document in `bytes`, naming `file` in locations.
    public func compose(_ bytes: [UInt8], file: String) -> Result {
        guard bytes.count <= limits.maxInputBytes else {
            return Result(
                root: nil,
                diagnostics: [
                    .error(
                        .inputTooLarge,
                        "file is \(bytes.count) bytes; the limit is \(limits.maxInputBytes)",
                        at: SourceLocation(file: file, line: 1, column: 1),
                        hint: "an add-on spec or descriptor is a few kilobytes; check that this is the right file")
                ])
        }
        let rewritten = SurrogateEscapes.rewrite(bytes)
        return (rewritten?.bytes ?? bytes).withUnsafeBufferPointer { buffer in
            var run = ComposerRun(file: file, limits: limits, escapes: rewritten?.escapes)
            return run.compose(buffer)
        }
    }

    /// Composes the single document in `text`.
    public func compose(_ text: String, file: String) -> Result {
        compose(Array(text.utf8), file: file)
    }
}

/// The state of one composition; kept apart from ``YAMLComposer`` so the composer stays a value
/// that can be shared across threads.
private struct ComposerRun {
    let file: String
    let limits: YAMLLimits
    /// Surrogate pairs rewritten before libyaml read the input, whose positions they move.
    let escapes: SurrogateEscapes?
    var diagnostics: [Diagnostic] = []
    var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    var nodeCount = 0

    init(file: String, limits: YAMLLimits, escapes: SurrogateEscapes?) {
        self.file = file
        self.limits = limits
        self.escapes = escapes
    }

    /// A list or mapping being filled. A class, so appending to it never copies what it holds.
    private final class Frame {
        let isMapping: Bool
        let location: SourceLocation
        let anchor: String?
        var items: [YAMLNode] = []
        var entries: [YAMLEntry] = []
        var keys: [String: SourceLocation] = [:]
        var pendingKey: YAMLNode?
        var size = 1

        init(isMapping: Bool, location: SourceLocation, anchor: String?) {
            self.isMapping = isMapping
            self.location = location
            self.anchor = anchor
        }
    }

    private struct Stop: Error { var diagnostic: Diagnostic }

    mutating func compose(_ input: UnsafeBufferPointer<UInt8>) -> YAMLComposer.Result {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            return .init(root: nil, diagnostics: [.error(.yamlInternal, "could not start the YAML parser", at: nil)])
        }
        defer { yaml_parser_delete(&parser) }
        // libyaml reads an empty buffer through a null pointer; give it a valid one.
        let empty: [UInt8] = [0]
        empty.withUnsafeBufferPointer { e in
            let base = input.count > 0 ? input.baseAddress! : e.baseAddress!
            yaml_parser_set_input_string(&parser, base, input.count)
        }

        var stack: [Frame] = []
        var root: YAMLNode?
        var documents = 0
        do {
            loop: while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    throw Stop(diagnostic: syntaxError(parser, input: input))
                }
                defer { yaml_event_delete(&event) }
                let location = self.location(event.start_mark)
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    break loop
                case YAML_DOCUMENT_START_EVENT:
                    documents += 1
                    if documents > 1 {
                        throw Stop(
                            diagnostic: .error(
                                .yamlMultipleDocuments, "this file holds more than one YAML document", at: location,
                                hint: "remove the `---` line, or split the documents into separate files"))
                    }
                case YAML_SCALAR_EVENT:
                    let s = event.data.scalar
                    let value = string(s.value, length: s.length)
                    let style: YAMLScalar.Style
                    switch s.style {
                    case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
                    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
                    case YAML_LITERAL_SCALAR_STYLE: style = .literal
                    case YAML_FOLDED_SCALAR_STYLE: style = .folded
                    default: style = .plain
                    }
                    let node = YAMLNode(.scalar(YAMLScalar(value, style: style, tag: cString(s.tag))), at: location)
                    try count(1, at: location)
                    if let anchor = cString(s.anchor) { anchors[anchor] = (node, 1) }
                    try add(node, size: 1, to: &stack, root: &root)
                case YAML_ALIAS_EVENT:
                    let name = cString(event.data.alias.anchor) ?? ""
                    guard let target = anchors[name] else {
                        throw Stop(
                            diagnostic: .error(
                                .yamlUnknownAlias, "alias *\(name) names no anchor defined before it", at: location))
                    }
                    try count(target.size, at: location)
                    // Re-locate the copy's root at the alias so diagnostics about it point where it is used.
                    var node = target.node
                    node.location = location
                    try add(node, size: target.size, to: &stack, root: &root)
                case YAML_SEQUENCE_START_EVENT:
                    try count(1, at: location)
                    try push(
                        Frame(isMapping: false, location: location, anchor: cString(event.data.sequence_start.anchor)),
                        onto: &stack)
                case YAML_MAPPING_START_EVENT:
                    try count(1, at: location)
                    try push(
                        Frame(isMapping: true, location: location, anchor: cString(event.data.mapping_start.anchor)),
                        onto: &stack)
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    guard let frame = stack.popLast() else { break }
                    let (node, size, anchor) = finish(frame)
                    if let anchor { anchors[anchor] = (node, size) }
                    try add(node, size: size, to: &stack, root: &root)
                default:
                    break
                }
            }
        } catch let stop as Stop {
            return .init(root: nil, diagnostics: diagnostics + [stop.diagnostic])
        } catch {
            return .init(root: nil, diagnostics: diagnostics)
        }
        return .init(root: root, diagnostics: diagnostics)
    }

    private mutating func count(_ n: Int, at location: SourceLocation) throws {
        nodeCount += n
        if nodeCount > limits.maxNodes {
            throw Stop(
                diagnostic: .error(
                    .yamlTooManyNodes,
                    "the document grows past \(limits.maxNodes) nodes here (aliases count every node they copy)",
                    at: location,
                    hint: "this looks like an alias bomb; expand fewer aliases"))
        }
    }

    private func push(_ frame: Frame, onto stack: inout [Frame]) throws {
        if stack.count >= limits.maxDepth {
            throw Stop(
                diagnostic: .error(
                    .yamlTooDeep, "lists and mappings nest more than \(limits.maxDepth) levels deep here",
                    at: frame.location,
                    hint: "add-on specs and descriptors need only a few levels"))
        }
        stack.append(frame)
    }

    private mutating func add(_ node: YAMLNode, size: Int, to stack: inout [Frame], root: inout YAMLNode?) throws {
        guard let top = stack.last else {
            root = node
            return
        }
        top.size += size
        guard top.isMapping else {
            top.items.append(node)
            return
        }
        guard let key = top.pendingKey else {
            top.pendingKey = node
            return
        }
        top.pendingKey = nil
        let name = key.scalar.flatMap { $0.style == .plain && $0.value == "<<" ? nil : $0.value }
        if let name, let first = top.keys[name] {
            diagnostics.append(
                .error(
                    .yamlDuplicateKey,
                    "duplicate key '\(name)' (first written at line \(first.line))",
                    at: key.location,
                    hint: "a key may appear once in a mapping; remove or merge one of them"))
            return
        }
        if let name { top.keys[name] = key.location }
        top.entries.append(YAMLEntry(key: key, value: node))
    }

    private func finish(_ frame: Frame) -> (YAMLNode, Int, String?) {
        let node =
            frame.isMapping
            ? YAMLNode(.mapping(applyingMergeKeys(frame.entries)), at: frame.location)
            : YAMLNode(.sequence(frame.items), at: frame.location)
        return (node, frame.size, frame.anchor)
    }

    /// YAML's `<<: *defaults` merge key: the merged mappings' entries fill in keys that the
    /// mapping does not set itself. Widely used to share settings between environments.
    private func applyingMergeKeys(_ entries: [YAMLEntry]) -> [YAMLEntry] {
        let merge = YAMLScalar("<<")
        guard entries.contains(where: { $0.key.scalar == merge }) else { return entries }
        var own = entries.filter { $0.key.scalar != merge }
        var present = Set(own.compactMap { $0.key.scalar?.value })
        for entry in entries where entry.key.scalar == merge {
            let sources: [YAMLNode]
            switch entry.value.content {
            case .mapping: sources = [entry.value]
            case .sequence(let items): sources = items
            case .scalar: sources = []
            }
            for source in sources {
                for inherited in source.mapping ?? [] {
                    guard let name = inherited.key.scalar?.value, !present.contains(name) else { continue }
                    present.insert(name)
                    own.append(inherited)
                }
            }
        }
        return own
    }

    private func location(ofByte offset: Int, in input: UnsafeBufferPointer<UInt8>) -> SourceLocation {
        var line = 1
        var column = 1
        for byte in input.prefix(offset) {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return SourceLocation(
            file: file, line: line, column: (escapes?.column(column - 1, line: line - 1) ?? column - 1) + 1)
    }

    private func location(_ mark: yaml_mark_t) -> SourceLocation {
        let line = Int(mark.line)
        let column = Int(mark.column)
        return SourceLocation(file: file, line: line + 1, column: (escapes?.column(column, line: line) ?? column) + 1)
    }

    private func syntaxError(_ parser: yaml_parser_t, input: UnsafeBufferPointer<UInt8>) -> Diagnostic {
        let problem = cString(parser.problem) ?? "unknown syntax error"
        var message = problem
        if let context = cString(parser.context) {
            let start = Int(parser.context_mark.line) + 1
            message =
                start == Int(parser.problem_mark.line) + 1
                ? "\(problem) \(context)" : "\(problem) \(context) (which starts at line \(start))"
        }
        var hint = Self.hint(forProblem: problem, context: cString(parser.context))
        if problem.contains("mapping values are not allowed"),
            let indented = Self.overIndentedKeyHint(in: input, line: Int(parser.problem_mark.line) + 1)
        {
            hint = indented
        }
        // Reader errors (bad encoding) carry a byte offset instead of a mark. Bytes that are not
        // UTF-8 are that, as in a page or a template, not a syntax error.
        if parser.error == YAML_READER_ERROR {
            let code: DiagnosticCode = problem.contains("UTF-8") ? .invalidUtf8 : .yamlSyntax
            // libyaml points at the trailing byte it could not take; the character that is
            // broken starts at its lead byte (`Gl\xE4nce` is broken at the \xE4, not the n).
            var offset = min(parser.problem_offset, input.count)
            if problem.contains("trailing") {
                while offset > 0, input[offset - 1] & 0xC0 == 0x80 { offset -= 1 }
                if offset > 0, input[offset - 1] >= 0xC0 { offset -= 1 }
            }
            return .error(code, message, at: location(ofByte: offset, in: input), hint: hint)
        }
        // At the end of a file with no final newline libyaml points past the last line, where
        // there is nothing to show: point at the end of the last line instead.
        var at = location(parser.problem_mark)
        let end = location(ofByte: input.count, in: input)
        if at.line > end.line || (at.line == end.line && at.column > end.column) { at = end }
        return .error(.yamlSyntax, message, at: at, hint: hint)
    }

    /// What to do about the syntax errors libyaml reports most, by its wording (libyaml's
    /// messages say what it found, not what was meant): the first entry whose words are in the
    /// problem (or, for `context:` entries, in the context) gives the hint.
    static let syntaxHints: [(words: [String], inContext: Bool, hint: String)] = [
        (["tab"], false, "YAML indents with spaces only; replace tabs with spaces"),
        (
            ["found character that cannot start any token"], false,
            "a value starting with @ or ` must be quoted (\"@oncall\"); YAML indents with spaces, not tabs"
        ),
        (["UTF-8", "UTF-16", "control characters"], false, "save the file as UTF-8 text"),
        (
            ["mapping values are not allowed"], false,
            "a value holding ': ' must be quoted, such as name: \"Ops: Alerts\""
        ),
        (
            ["flow sequence", "flow mapping"], true,
            "a value starting with [ or { is a list or mapping: close it with ] or }, or quote the text"
        ),
        (
            ["invalid Unicode character escape"], false,
            "\\u takes the 4 hex digits of a character (\\u00E9); for one beyond U+FFFF write \\U and 8 (\\U0001F3C6), or the character itself"
        ),
        (
            ["quoted scalar"], true,
            "a quoted value is not closed: add the closing quote (inside '…', write '' for one ')"
        ),
        (
            ["could not find expected ':'"], false,
            "each field is written name: value on a line of its own; a value broken over lines must be quoted"
        ),
        (
            ["did not find expected key", "did not find expected '-' indicator"], false,
            "check the indentation: fields of one mapping, and items of one list, start in the same column"
        ),
        (["<document start>"], false, "the file's own fields start in the first column, with no spaces before them"),
        (
            ["block sequence entries are not allowed"], false,
            "a list item (- …) starts a line of its own, under its field and indented"
        ),
        (
            ["found undefined alias", "did not find expected alphabetic"], false,
            "a value starting with * or & must be quoted"
        ),
    ]

    /// For "mapping values are not allowed" at `line`: when the line is indented more than the
    /// field on the line above (`name:` under `- key: x`, two spaces too far), YAML read it as
    /// the rest of that field's value, and the fix is the indentation, not quotes. Nil when the
    /// line is not indented past the field above (a value holding ': ' is the likelier cause).
    static func overIndentedKeyHint(in input: UnsafeBufferPointer<UInt8>, line: Int) -> String? {
        // The lines up to `line`, as byte ranges.
        var lines: [Range<Int>] = []
        var start = 0
        for (i, byte) in input.enumerated() where byte == UInt8(ascii: "\n") {
            lines.append(start..<i)
            start = i + 1
            if lines.count == line { break }
        }
        if lines.count < line, start <= input.count { lines.append(start..<input.count) }
        guard line >= 2, lines.count >= line else { return nil }
        func indentation(_ range: Range<Int>) -> Int {
            range.prefix { input[$0] == UInt8(ascii: " ") }.count
        }
        /// The column (from 0) where the line's field name starts, after any `- ` of list items.
        func fieldColumn(_ range: Range<Int>) -> Int {
            var i = range.lowerBound + indentation(range)
            while i + 1 < range.upperBound, input[i] == UInt8(ascii: "-"), input[i + 1] == UInt8(ascii: " ") {
                i += 2
                while i < range.upperBound, input[i] == UInt8(ascii: " ") { i += 1 }
            }
            return i - range.lowerBound
        }
        let here = lines[line - 1]
        // The nearest line above with content (not blank, not only a comment; CRLF files too).
        guard
            let above = lines[..<(line - 1)].lastIndex(where: { range in
                let text = range.drop { input[$0] == UInt8(ascii: " ") || input[$0] == UInt8(ascii: "\r") }
                return !text.isEmpty && input[text.first!] != UInt8(ascii: "#")
            })
        else { return nil }
        let previous = lines[above]
        // A field whose value is on the lines below (`glances:`) is followed by deeper lines.
        let content = previous.prefix {
            !(input[$0] == UInt8(ascii: "#") && $0 > previous.lowerBound && input[$0 - 1] == UInt8(ascii: " "))
        }
        let trimmed = content.reversed().drop { input[$0] == UInt8(ascii: " ") || input[$0] == UInt8(ascii: "\r") }
        guard let last = trimmed.first, input[last] != UInt8(ascii: ":") else { return nil }
        let column = fieldColumn(previous)
        guard indentation(here) > column else { return nil }
        return
            "this line is indented more than the field on line \(above + 1), so YAML reads it as the rest of that field's value: start a field of its own in column \(column + 1), under the fields it belongs with; or, if it continues that value, quote the value"
    }

    static func hint(forProblem problem: String, context: String?) -> String? {
        syntaxHints.first { entry in
            let text = entry.inContext ? context ?? "" : problem
            return entry.words.contains { text.contains($0) }
        }?.hint
    }

    private func cString(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    private func cString(_ pointer: UnsafePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, length: Int) -> String {
        guard let pointer, length > 0 else { return "" }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
    }
}
