import HipChatConnect

/// The YAML block between `---` lines at the top of a Markdown page.
///
/// `title`, `layout`, `unsafe` and `scripts` steer rendering; every other key becomes a template
/// variable under `page`.
public struct FrontMatter: Sendable {
    public var title: String?
    public var layout: String?
    public var layoutLocation: SourceLocation?
    public var unsafe: Bool?
    /// Project files the page loads as scripts, after HipChat's and hipkit's own, each with where
    /// it is named.
    ///
    /// This is how a Markdown page gets behaviour: raw HTML may add markup (`unsafe: true`), but
    /// GitHub's tag filter never lets a `<script>` through, so a script is a file of the project,
    /// checked and copied like any linked file.
    public var scripts: [(path: String, location: SourceLocation)] = []
    /// All keys, including the three above, for templates.
    public var fields: JSONNode = .object()
    /// The Markdown after the front matter.
    public var body: String
    /// The file line the body starts on, to turn cmark's line numbers into the file's.
    public var bodyFirstLine: Int

    /// Splits `text` (the file `file`) into front matter and body, reporting problems.
    public static func parse(_ text: String, file: String, diagnostics: inout [Diagnostic]) -> FrontMatter {
        // Only the lines up to the closing `---` are looked at one by one; the body is taken whole
        // from there. (Splitting every line of the page and joining the body again cost about a
        // quarter of a cached build.)
        var lines: [Substring] = []
        var position = text.startIndex
        var closeLine: Int?
        var bodyStart = text.endIndex
        while position < text.endIndex {
            let end = text.utf8[position...].firstIndex(of: UInt8(ascii: "\n")) ?? text.endIndex
            var line = text[position..<end]
            if lines.isEmpty {
                if line.utf8.starts(with: [0xEF, 0xBB, 0xBF]) { line = line.dropFirst() }  // U+FEFF
                guard line.isLine("---") else { return FrontMatter(body: text, bodyFirstLine: 1) }
            } else if line.isLine("---") || line.isLine("...") {
                closeLine = lines.count
                bodyStart = end < text.endIndex ? text.utf8.index(after: end) : end
                break
            }
            lines.append(line)
            position = end < text.endIndex ? text.utf8.index(after: end) : end
        }
        guard let close = closeLine else {
            if lines.isEmpty { return FrontMatter(body: text, bodyFirstLine: 1) }
            diagnostics.append(
                .error(
                    .frontMatterUnclosed, "the front matter that starts here is never closed",
                    at: SourceLocation(file: file, line: 1, column: 1),
                    hint: "end it with a line holding only ---"))
            return FrontMatter(body: text, bodyFirstLine: 1)
        }
        // From the first line's line feed to the closing line: the leading line feed keeps
        // libyaml's line numbers equal to the file's, and the final one puts the end of the YAML
        // on the closing `---` line, where errors at its end are shown.
        let yaml = "\n" + (close == 1 ? "" : String(text[lines[1].startIndex..<lines[close - 1].endIndex])) + "\n"
        let body = String(text[bodyStart...])
        var matter = FrontMatter(body: body, bodyFirstLine: close + 2)
        let result = YAMLComposer().compose(yaml, file: file)
        diagnostics += result.diagnostics
        guard let root = result.root else { return matter }
        guard root.mapping != nil else {
            diagnostics.append(
                .error(
                    .wrongType, "front matter must be a mapping such as `title: Help`, not \(root.kindDescription)",
                    at: root.location))
            return matter
        }
        var ignored: [Diagnostic] = []
        matter.fields = JSONNode.from(root, diagnostics: &ignored)
        diagnostics += ignored
        if let node = root["title"] {
            if let s = node.scalar?.value, node.scalar?.resolved != .null {
                matter.title = s
            } else {
                diagnostics.append(
                    .error(
                        .wrongType, "title must be text, not \(node.kindDescription)", at: node.location,
                        hint: WrongType.hint(expected: "text")))
            }
        }
        if let node = root["layout"] {
            if let s = node.string {
                matter.layout = s
                matter.layoutLocation = node.location
            } else {
                diagnostics.append(
                    .error(
                        .wrongType, "layout must be a layout name such as page or sidebar, not \(node.kindDescription)",
                        at: node.location))
            }
        }
        if let node = root["scripts"] {
            let items = node.sequence ?? [node]
            for item in items {
                if let path = item.string, !path.isEmpty {
                    matter.scripts.append((path, item.location))
                } else {
                    diagnostics.append(
                        .error(
                            .wrongType,
                            "scripts must be a path or a list of paths of the project's files, not \(item.kindDescription)",
                            at: item.location, hint: "for example scripts: [assets/checklist.js]"))
                }
            }
        }
        if let node = root["unsafe"] {
            if case .bool(let b)? = node.scalar?.resolved {
                matter.unsafe = b
            } else {
                diagnostics.append(
                    .error(
                        .wrongType, "unsafe must be true or false, not \(node.kindDescription)", at: node.location,
                        hint: WrongType.hint(expected: "true or false", given: node.scalar?.value)))
            }
        }
        return matter
    }
}

extension Substring {
    /// Without a final carriage return (always a character of its own before the line feed cut
    /// off), looked at as a byte: `hasSuffix` compares characters, a thousand instructions a line.
    fileprivate func trimmingTrailingCR() -> Substring { utf8.last == UInt8(ascii: "\r") ? dropLast() : self }

    /// Whether the line is `text` and nothing else, compared by bytes (`text` is ASCII).
    fileprivate func isLine(_ text: StaticString) -> Bool {
        let line = trimmingTrailingCR().utf8
        return line.count == text.utf8CodeUnitCount
            && line.elementsEqual(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
