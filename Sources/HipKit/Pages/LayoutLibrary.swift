import Foundation
import HipChatConnect
import HipKitTemplates
import Mustache

/// The built-in layouts: one per kind of view, and `page` for the rest.
public enum ViewLayout: String, Sendable, CaseIterable {
    case sidebar, dialog, configure, external, page

    /// The layout for pages shown by a module of `kind` (`page` for pages no module shows).
    public init(showing kind: ModuleKind?) {
        switch kind {
        case .webPanel?: self = .sidebar
        case .dialog?: self = .dialog
        case .configurable?, .adminPage?: self = .configure
        case .externalPage?: self = .external
        default: self = .page
        }
    }
}

/// The Mustache layouts pages are rendered with: hipkit's built-in ones, overridden by any file
/// of the same name in the project's `templates/` folder, which may also add partials.
public struct LayoutLibrary: Sendable {
    /// The layout each kind of page uses unless its front matter names another.
    public static let viewLayouts = ViewLayout.names

    /// A template's text, where it was read from (for messages), and whether it is hipkit's own.
    struct Source {
        var text: String
        var origin: String
        var isBuiltIn: Bool
    }

    let library: MustacheLibrary
    /// Layout name → where it was read from, for messages.
    let origins: [String: String]
    /// The templates that are hipkit's own, none overridden by the project.
    let builtIns: Set<String>
    /// The layouts a page's HTML may be put in by ``TemplateHTML``'s marker: none of the
    /// templates they go through includes a partial, a parent or a block anywhere but at the
    /// start of a line. swift-mustache indents what such an indented tag renders after each line
    /// feed it has written, and the marker, unlike the HTML, ends with none.
    let takesHTMLMarker: Set<String>
    /// Layout name → its text, for the build cache's keys.
    let texts: [String: String]
    /// Layouts that exist but could not be read; their error is reported once, not per page.
    let failed: Set<String>
    /// Template name → the templates it includes or extends, found once when loading rather
    /// than for every page's cache key.
    let references: [String: [String]]

    /// Reads the built-in layouts and the project's overrides, reporting template syntax errors
    /// at their file and line.
    public static func load(projectDirectory: URL, displayDirectory: String, diagnostics: inout [Diagnostic])
        -> LayoutLibrary
    {
        let texts = sources(
            projectDirectory: projectDirectory, displayDirectory: displayDirectory, diagnostics: &diagnostics)
        // Each template's tags, read once for every check below and the cache keys.
        let tagsByName = texts.mapValues { TemplateTags($0.text) }
        let references = tagsByName.mapValues(\.partials)
        // The templates another extends (`{{<name}}`): written out, they keep their blocks.
        let extended = Set(tagsByName.values.flatMap { $0.all.filter { $0.sigil == "<" }.map(\.name) })
        // Each template is checked in name order; those that pass are parsed side by side below.
        var problems: [String: Diagnostic] = [:]
        var toParse: [(name: String, text: String)] = []
        for (name, entry) in texts.sorted(by: { $0.key < $1.key }) {
            if let problem = problem(name, entry, tags: tagsByName[name]!, texts: texts, references: references) {
                problems[name] = problem
                continue
            }
            // A first line of its own for the escaping: standalone, Mustache drops it, and the
            // template's own first line reads as it would without it.
            toParse.append(
                (
                    name,
                    HTMLText.mustacheContentType + "\n"
                        + (flattened(name, in: texts, keepingBlocks: extended.contains(name)) ?? entry.text)
                ))
        }
        var library = MustacheLibrary()
        var origins: [String: String] = [:]
        for ((name, _), result) in zip(toParse, parsedSideBySide(toParse.map(\.text))) {
            let origin = texts[name]!.origin
            switch result {
            case .success(let compiled):
                library.register(compiled, named: name)
                origins[name] = origin
            case .failure(let error as MustacheTemplate.ParserError):
                problems[name] =
                    .error(
                        .templateSyntax, "template syntax error: \(describe(error.error))",
                        at: SourceLocation(
                            file: origin, line: max(1, error.context.lineNumber - 1),  // less the escaping's line
                            column: max(1, error.context.columnNumber)),
                        hint: "Mustache tags are {{name}}, {{{raw}}}, {{#section}}…{{/section}} and {{> partial}}")
            case .failure(let error):
                problems[name] =
                    .error(
                        .templateSyntax, "template syntax error: \(error)",
                        at: SourceLocation(file: origin, line: 1, column: 1))
            }
        }
        for name in problems.keys.sorted() { diagnostics.append(problems[name]!) }
        let failed = Set(problems.keys)
        let builtIns = Set(texts.filter(\.value.isBuiltIn).keys)
        func indentsNothing(_ name: String) -> Bool {
            reachable(from: name, in: references).allSatisfy { next in
                !(tagsByName[next]?.all.contains {
                    $0.column > 1 && ($0.sigil == ">" || $0.sigil == "<" || $0.sigil == "$")
                }
                    ?? false)
            }
        }
        return LayoutLibrary(
            library: library, origins: origins, builtIns: builtIns,
            takesHTMLMarker: Set(texts.keys.filter(indentsNothing)), texts: texts.mapValues(\.text), failed: failed,
            references: references)
    }

    /// The built-in layouts, and the project's `templates/` over them; a template that cannot be
    /// read, or is not UTF-8, is reported and left out.
    private static func sources(projectDirectory: URL, displayDirectory: String, diagnostics: inout [Diagnostic])
        -> [String: Source]
    {
        var texts: [String: Source] = [:]
        for path in TemplatesBundle.paths(under: "layouts/") where path.hasSuffix(".mustache") {
            let name = String(path.dropFirst("layouts/".count).dropLast(".mustache".count))
            if !name.contains("/"), let text = TemplatesBundle.text(path) {
                texts[name] = Source(text: text, origin: "built-in \(name).mustache", isBuiltIn: true)
            }
        }
        let projectTemplates = projectDirectory.appendingPathComponent("templates")
        for (name, url) in templates(in: projectTemplates) {
            let shown = ProjectLoader.join(displayDirectory, "templates/" + url.lastPathComponent)
            guard let data = try? Data(contentsOf: url) else {
                diagnostics.append(
                    .error(
                        .unreadableFile, "cannot read the template \(shown)",
                        at: SourceLocation(file: shown, line: 1, column: 1)))
                continue
            }
            guard let text = String(data: data, encoding: .utf8) else {
                diagnostics.append(
                    .error(
                        .invalidUtf8, "the template \(shown) is not UTF-8 text",
                        at: SourceLocation.firstInvalidUTF8(in: data, file: shown),
                        hint: "save it as UTF-8"))
                continue
            }
            texts[name] = Source(text: text, origin: shown, isBuiltIn: false)
        }
        return texts
    }

    /// The first of the checks made before a template is parsed that `name` fails, if any: what
    /// would exhaust the stack, unbalanced sections, a partial named while rendering, a missing
    /// partial, a template that includes itself.
    private static func problem(
        _ name: String, _ entry: Source, tags: TemplateTags, texts: [String: Source], references: [String: [String]]
    ) -> Diagnostic? {
        // Mustache's parser and renderer recurse: refuse what would exhaust the stack.
        if let line = deepestNesting(tags) {
            return .error(
                .templateTooDeep, "sections nest more than \(maxNesting) levels deep here",
                at: SourceLocation(file: entry.origin, line: line, column: 1),
                hint: "a layout needs only a few levels of {{#section}}")
        }
        if let problem = sectionProblem(tags) {
            return .error(
                .templateSyntax, "template syntax error: \(problem.message)",
                at: SourceLocation(file: entry.origin, line: problem.line, column: problem.column),
                hint: problem.hint)
        }
        if let dynamic = tags.dynamicPartial {
            // Which template it includes is known only while rendering: it could be the layout
            // itself, and swift-mustache would recurse until the stack ran out.
            return .error(
                .templateSyntax,
                "template syntax error: {{\(dynamic.content)}} names its partial while rendering, which hipkit cannot check",
                at: SourceLocation(file: entry.origin, line: dynamic.line, column: dynamic.column),
                hint:
                    "name the partial itself: {{> \(dynamic.name.dropFirst())}} includes templates/\(dynamic.name.dropFirst()).mustache"
            )
        }
        if let missing = tags.partials.first(where: { texts[$0] == nil }) {
            // swift-mustache renders a missing partial as nothing, which would hide a typo.
            return .error(
                .missingPartial,
                "the template '\(name)' includes '\(missing)', which is neither built in nor in templates/",
                at: referenceLocation(to: missing, in: tags, file: entry.origin),
                hint: Suggestion.hint(for: missing, in: texts.keys)
                    ?? "add templates/\(missing).mustache, or remove the tag")
        }
        if let cycle = cycle(from: name, in: references) {
            return .error(
                .templateRecursion, "the template '\(name)' includes itself: \(cycle.joined(separator: " → "))",
                at: referenceLocation(to: cycle[1], in: tags, file: entry.origin),
                hint: "a partial cannot include the template that includes it")
        }
        return nil
    }

    /// Each text parsed, in the order given, side by side: parsing is most of loading
    /// (swift-mustache reads a template a character at a time, and measures the rest of it at
    /// each `{`), and each parse needs nothing of the others. The longest go first, so that the
    /// cores finish together; results go to fixed slots.
    private static func parsedSideBySide(_ texts: [String]) -> [Result<MustacheTemplate, any Error>] {
        let byLength = texts.indices.sorted { texts[$0].utf8.count > texts[$1].utf8.count }
        let parsed = ResultSlots<Result<MustacheTemplate, any Error>>(count: texts.count)
        DispatchQueue.concurrentPerform(iterations: byLength.count) { i in
            let index = byLength[i]
            parsed[index] = Result { try MustacheTemplate(string: texts[index]) }
        }
        return texts.indices.map { parsed[$0]! }
    }

    public func has(_ name: String) -> Bool { library.getTemplate(named: name) != nil }

    /// The built-in `page` layout with the built-in `base` it extends written out around its
    /// blocks, and the partials without tags that `base` includes on lines of their own (the
    /// stylesheet, the view script) written in place: what swift-mustache would render, as one
    /// template instead of four. It spends on each template a page goes through, and on each line
    /// of one: a plain page cost 19 k instructions more through `{{<base}}` and the partials.
    /// Only `page`, the layout of most of a site's pages: swift-mustache's parser costs more than
    /// a template's length (it measures the rest of the template at each `{`), and the five view
    /// layouts written out, 4 KB longer each, took 36 M instructions more to parse.
    ///
    /// `keepingBlocks`: base's blocks stay blocks around what fills them, for a project's template
    /// that extends `page` to fill them in turn; without it (the rule), they are written out too,
    /// two blocks fewer to expand for each page.
    ///
    /// Nil, and the layout compiled as written, unless the layout, `base` and those partials are
    /// all hipkit's own (a project's own are rendered as they are) and in the shapes this knows:
    /// the layout nothing but `{{$name}}` blocks on lines of their own inside `{{<base}}`, and
    /// `base`'s blocks either on lines of their own or `{{$head}}{{/head}}` empty on one line.
    static func flattened(_ name: String, in texts: [String: Source], keepingBlocks: Bool) -> String? {
        func builtIn(_ name: String) -> String? {
            texts[name].flatMap { $0.isBuiltIn ? $0.text : nil }
        }
        guard name == ViewLayout.page.rawValue, let layout = builtIn(name), let base = builtIn("base") else {
            return nil
        }
        /// A text's lines, each with its line feed but a last one without.
        func lines(_ text: String) -> [Substring] {
            var lines: [Substring] = []
            var start = text.startIndex
            while let end = text[start...].firstIndex(of: "\n") {
                lines.append(text[start...end])
                start = text.index(after: end)
            }
            if start < text.endIndex { lines.append(text[start...]) }
            return lines
        }
        func isLine(_ line: Substring, _ tag: String) -> Bool { line == tag + "\n" || line == tag }
        // The layout's blocks: {{<base}}, then {{$name}} … {{/name}} on lines of their own.
        let own = lines(layout)
        guard let first = own.first, isLine(first, "{{<base}}"), let last = own.last, isLine(last, "{{/base}}") else {
            return nil
        }
        var blocks: [String: String] = [:]
        var i = 1
        while i < own.count - 1 {
            guard own[i].hasPrefix("{{$"), let end = own[i].range(of: "}}"),
                isLine(own[i], String(own[i][..<end.upperBound]))
            else { return nil }
            let blockName = String(own[i][own[i].index(own[i].startIndex, offsetBy: 3)..<end.lowerBound])
            guard let close = own[(i + 1)...].firstIndex(where: { isLine($0, "{{/\(blockName)}}") }) else { return nil }
            let body = own[(i + 1)..<close].joined()
            // Inside `{{<base}}`, swift-mustache takes the first line's indentation off every line
            // of a block; written out, nothing would.
            guard !body.contains("{{$"), !body.contains("{{<"), !body.contains("{{="),
                !own[(i + 1)..<close].contains(where: { $0.first == " " || $0.first == "\t" })
            else { return nil }
            blocks[blockName] = body
            i = close + 1
        }
        // Base, with the blocks filled and its plain partials written in place.
        var out = ""
        let lines = lines(base)
        var j = 0
        while j < lines.count {
            let line = lines[j]
            j += 1
            if line.hasPrefix("{{$"), let end = line.range(of: "}}") {
                let blockName = String(line[line.index(line.startIndex, offsetBy: 3)..<end.lowerBound])
                if isLine(line, "{{$\(blockName)}}") {
                    // A block on lines of its own keeps its tags around the layout's body (or
                    // base's own), so that a project's template extending `page` still fills it.
                    guard let close = lines[j...].firstIndex(where: { isLine($0, "{{/\(blockName)}}") }) else {
                        return nil
                    }
                    let body = blocks[blockName] ?? lines[j..<close].joined()
                    out += keepingBlocks ? line + body + lines[close] : body
                    j = close + 1
                    continue
                }
                // An empty block on a line of its own, which the layout leaves empty.
                guard blocks[blockName] == nil, isLine(line, "{{$\(blockName)}}{{/\(blockName)}}") else { return nil }
                out += keepingBlocks ? String(line) : line.hasSuffix("\n") ? "\n" : ""
                continue
            }
            guard !line.contains("{{$"), !line.contains("{{<"), !line.contains("{{=") else { return nil }
            if line.hasPrefix("{{> "), line.hasSuffix("}}\n") {
                let partial = String(line.dropFirst(4).dropLast(3))
                if let text = builtIn(partial), !text.contains("{{"), text.hasSuffix("\n") {
                    out += text
                    continue
                }
            }
            out += line
        }
        return out
    }

    /// Whether the template `name` and every template it includes or extends are hipkit's own,
    /// none overridden by the project: what it renders is then known in advance.
    func isBuiltIn(_ name: String) -> Bool {
        Self.reachable(from: name, in: references).allSatisfy(builtIns.contains)
    }

    /// `name` and every template it includes or extends, transitively, whether it exists or not,
    /// sorted: the templates a page rendered with `name` goes through.
    static func reachable(from name: String, in references: [String: [String]]) -> [String] {
        var seen: Set<String> = []
        var queue = [name]
        while let next = queue.popLast() {
            guard seen.insert(next).inserted else { continue }
            queue += references[next] ?? []
        }
        return seen.sorted()
    }

    static let maxNesting = 64

    /// The line where section nesting first goes past ``maxNesting``, if it does.
    static func deepestNesting(_ tags: TemplateTags) -> Int? {
        var depth = 0
        for tag in tags.all {
            switch tag.sigil {
            case "#", "^", "$", "<": depth += 1
            case "/": depth = max(0, depth - 1)
            default: break
            }
            if depth > maxNesting { return tag.line }
        }
        return nil
    }

    /// A section that does not close: one closed by a tag naming another (at that tag), or one
    /// still open at the end of the template (at its opening tag). swift-mustache notices both,
    /// but only at the end of the text, and the tag is where the fix goes. Nil when every
    /// section closes.
    static func sectionProblem(_ tags: TemplateTags) -> (message: String, hint: String, line: Int, column: Int)? {
        var open: [TemplateTags.Tag] = []
        for tag in tags.all {
            switch tag.sigil {
            case "#", "^", "$", "<": open.append(tag)
            case "/":
                guard let innermost = open.last else {
                    return (
                        "{{/\(tag.name)}} closes a section that was never opened",
                        "remove it, or open the section with {{#\(tag.name)}}", tag.line, tag.column
                    )
                }
                guard innermost.name == tag.name else {
                    return (
                        "{{/\(tag.name)}} does not match the open section '\(innermost.name)' (opened at line \(innermost.line))",
                        "close it with {{/\(innermost.name)}}", tag.line, tag.column
                    )
                }
                open.removeLast()
            default: break
            }
        }
        return open.last.map {
            (
                "the section '\($0.name)' opened here is never closed", "close it with {{/\($0.name)}}", $0.line,
                $0.column
            )
        }
    }

    /// Where the first `{{> name}}` or `{{< name}}` among `tags` (of the template in `file`) is.
    static func referenceLocation(to name: String, in tags: TemplateTags, file: String) -> SourceLocation {
        let tag = tags.all.first { $0.partial == name }
        return SourceLocation(file: file, line: tag?.line ?? 1, column: tag?.column ?? 1)
    }

    /// A chain of partials that leads from `start` back to itself, if there is one, in the
    /// templates' `references` (name → the partials it names).
    static func cycle(from start: String, in references: [String: [String]]) -> [String]? {
        var stack: [(String, [String])] = [(start, [start])]
        var seen = Set<String>()
        while let (name, path) = stack.popLast() {
            for next in references[name] ?? [] {
                if next == start { return path + [next] }
                if references[next] != nil, seen.insert(next).inserted { stack.append((next, path + [next])) }
            }
        }
        return nil
    }

    /// The texts of `layout` and of every template it includes (`{{> name}}`) or extends
    /// (`{{< name}}`), transitively, in a stable order: what a page rendered with it depends on.
    func closure(of layout: String) -> [String] {
        Self.reachable(from: layout, in: references).compactMap { name in texts[name].map { "\(name)\n\($0)" } }
    }

    /// The layouts a page may name: every template but the partials hipkit itself includes.
    public var layoutNames: [String] { origins.keys.filter { !Self.partials.contains($0) }.sorted() }

    static let partials: Set<String> = ["base", "view-script", "style", "preview", "listing", "settings-script"]

    public func render(_ context: [String: Any], layout: String) -> String? {
        library.render(context, withTemplate: layout)
    }

    private static func templates(in folder: URL) -> [(String, URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".mustache") && !$0.hasPrefix(".") }.sorted().map {
            (String($0.dropLast(".mustache".count)), folder.appendingPathComponent($0))
        }
    }

    private static func describe(_ error: Error) -> String {
        switch error as? MustacheTemplate.Error {
        case .sectionCloseNameIncorrect?: return "a section is closed with a different name than it was opened with"
        case .unfinishedName?: return "a tag is not closed with }}"
        case .expectedSectionEnd?: return "a section is never closed ({{/name}} missing)"
        case .invalidSetDelimiter?: return "a set-delimiter tag is malformed"
        default: return "\(error)"
        }
    }
}
