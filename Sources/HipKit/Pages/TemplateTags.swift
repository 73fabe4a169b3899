/// The tags of a Mustache template as swift-mustache reads them, for the checks hipkit makes
/// before handing a layout to it (nesting depth, sections that do not close, the partials a
/// layout includes).
///
/// Why not a regular expression for `{{…}}`: a template may change its delimiters
/// (`{{=<% %>=}}`), after which a partial is `<%> name %>`, and partial names may hold `?()*`.
/// A partial the checks did not see could include the layout itself, and swift-mustache would
/// recurse until the stack ran out. The text is walked by its UTF-8 bytes (walking it by
/// `Character` cost 34 M instructions for the built-in layouts alone).
struct TemplateTags {
    /// One tag: the text between its delimiters, and where it starts (line, and column in
    /// Unicode scalars, as editors count them; both from 1).
    struct Tag {
        var content: Substring
        var line: Int
        var column: Int

        /// The tag's kind: `#`, `^`, `/`, `>`, `<`, `$`, `=`, `!`, `&`, `{`, or nil for a variable.
        var sigil: Character? {
            content.first.flatMap { "#^/><$=!&{".contains($0) ? $0 : nil }
        }

        /// What follows the sigil, without the spaces around it (a section's or partial's name).
        var name: String {
            content.dropFirst().trimmingCharacters(in: .whitespaces)
        }

        /// For `{{> name}}` and `{{< name}}`: the partial's name; nil for other tags.
        var partial: String? {
            sigil == ">" || sigil == "<" ? name : nil
        }
    }

    let all: [Tag]

    init(_ text: String) {
        let bytes = Array(text.utf8)
        var tags: [Tag] = []
        var open = Array("{{".utf8)
        var close = Array("}}".utf8)
        var i = 0
        var line = 1
        var column = 1
        func starts(_ sequence: [UInt8], at index: Int) -> Bool {
            index + sequence.count <= bytes.count && bytes[index..<(index + sequence.count)].elementsEqual(sequence)
        }
        func find(_ sequence: [UInt8], from index: Int) -> Int? {
            guard !sequence.isEmpty else { return nil }
            var j = index
            while j + sequence.count <= bytes.count {
                if bytes[j] == sequence[0], starts(sequence, at: j) { return j }
                j += 1
            }
            return nil
        }
        func advance(to end: Int) {
            while i < end {
                if bytes[i] == UInt8(ascii: "\n") {
                    line += 1
                    column = 1
                } else if bytes[i] & 0xC0 != 0x80 {
                    column += 1
                }
                i += 1
            }
        }
        while let start = find(open, from: i) {
            advance(to: start)
            let contentStart = start + open.count
            // `{{{raw}}}` ends with a third brace, with the default delimiters only.
            let triple =
                open == Array("{{".utf8) && contentStart < bytes.count && bytes[contentStart] == UInt8(ascii: "{")
            let ending = triple ? Array("}".utf8) + close : close
            // A tag left open is swift-mustache's to report.
            guard let end = find(ending, from: contentStart) else { break }
            let content = Substring(String(decoding: bytes[contentStart..<end], as: UTF8.self))
            tags.append(Tag(content: content, line: line, column: column))
            advance(to: end + ending.count)
            if content.count >= 2, content.first == "=", content.last == "=" {
                let delimiters = content.dropFirst().dropLast().split(whereSeparator: \.isWhitespace)
                if delimiters.count == 2 {
                    open = Array(delimiters[0].utf8)
                    close = Array(delimiters[1].utf8)
                }
            }
        }
        all = tags
    }

    /// The partials included or extended (`{{> name}}`, `{{< name}}`), in order, those named at
    /// render time (`{{>*name}}`) left out.
    var partials: [String] {
        all.compactMap(\.partial).filter { !$0.hasPrefix("*") }
    }

    /// The first partial named at render time (`{{>*name}}`): which one is only known then, so
    /// it cannot be checked to exist or not to include the layout itself.
    var dynamicPartial: Tag? {
        all.first { $0.partial?.hasPrefix("*") == true }
    }
}
