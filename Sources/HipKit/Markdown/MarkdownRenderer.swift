import CCmarkGFM
import Foundation
import HipChatConnect

#if canImport(Glibc)
    import Glibc
#endif

/// Renders GitHub-flavoured Markdown to HTML with libcmark-gfm.
///
/// The only file that touches cmark's C API: everything it allocates is freed before a call
/// returns, and callers see Swift values only.
public struct MarkdownRenderer: Sendable {
    /// A link or image as written in the Markdown.
    public struct Link: Sendable, Hashable {
        public var url: String
        public var isImage: Bool
        /// 1-based line within the Markdown text given to ``render(_:unsafe:rewrite:)``.
        public var line: Int
        public var column: Int
        /// In raw HTML, the element and attribute holding the URL (`script`, `src`); nil for
        /// Markdown's own links and images.
        public var element: String? = nil
        public var attribute: String? = nil

        /// What the URL is, for messages: `image`, `link`, `script`, `stylesheet or icon` (a
        /// `<link href>`), or the element and attribute (`<iframe src>`) in raw HTML.
        public var noun: String {
            switch (element, attribute) {
            case (nil, _): return isImage ? "image" : "link"
            case ("img"?, "src"?): return "image"
            case ("a"?, "href"?): return "link"
            case ("script"?, "src"?): return "script"
            case ("link"?, "href"?): return "stylesheet or icon"
            case (let element?, let attribute?): return "<\(element) \(attribute)>"
            case (let element?, nil): return "<\(element)>"
            }
        }
    }

    /// The HTML and the links found while rendering it.
    public struct Output: Sendable {
        /// The HTML as cmark wrote it, in UTF-8. Kept as bytes: a page's HTML goes into its file
        /// as it is (see ``TemplateHTML``), and making a `String` of it checks every byte again.
        public var utf8: [UInt8]
        public var html: String { String(decoding: utf8, as: UTF8.self) }
        public var links: [Link]
        /// Raw HTML left out (no `unsafe`), HTML comments aside: how many pieces, and where the
        /// first starts (1-based line and byte column, as ``Link``'s).
        public var omittedHTML: (count: Int, line: Int, column: Int)? = nil
    }

    static let extensions = ["table", "strikethrough", "autolink", "tasklist", "tagfilter"]

    public init() {
        Self.registerExtensions
    }

    /// Registering cmark's extensions mutates a global list: do it once, before any thread uses it.
    private static let registerExtensions: Void = {
        cmark_gfm_core_extensions_ensure_registered()
    }()

    /// Held while a parser parses, from its first feed to its finish. libcmark-gfm keeps the
    /// characters its extensions react to (`~` for strikethrough, `|` for tables) in one table
    /// for the whole process: a parser adds them when it starts feeding and removes them when it
    /// finishes. Two pages parsed at once on two threads could each remove the other's, and
    /// `~~gone~~` then came out as text in some builds and as `<del>` in others. What follows the
    /// parse (walking the tree, rewriting links, rendering HTML, freeing) reads no shared state
    /// and runs outside the lock, on every core.
    private static let parserLock = NSLock()

    /// Renders `markdown`. Raw HTML is left out unless `unsafe` (cmark's safe mode); links to
    /// `javascript:`, `vbscript:` and `data:` (but images) never survive either way. `rewrite`
    /// sees each link and image and may return a new URL for it.
    public func render(_ markdown: String, unsafe: Bool = false, rewrite: (Link) -> String? = { _ in nil }) -> Output {
        // No CMARK_OPT_VALIDATE_UTF8: a Swift string is valid UTF-8 already, and the check was
        // 2% of a page's instructions, spent under the parser lock. (NUL is replaced with U+FFFD
        // either way, as CommonMark asks.)
        var options = CMARK_OPT_SMART
        if unsafe { options |= CMARK_OPT_UNSAFE }
        // Everything cmark allocates for this page comes from the thread's arena, and goes when
        // the arena is left: the parser, the tree, the rendered HTML.
        // Nil only when no memory is left for the arena's bookkeeping.
        guard let arena = hipkit_arena_enter() else { fatalError("MarkdownRenderer: no memory for cmark's arena") }
        defer { hipkit_arena_leave(arena) }
        guard let parser = cmark_parser_new_with_mem(options, hipkit_arena_allocator()) else {
            return Output(utf8: [], links: [])
        }
        for name in Self.extensions {
            if let ext = cmark_find_syntax_extension(name) { cmark_parser_attach_syntax_extension(parser, ext) }
        }
        let parsed =
            markdown.utf8.withContiguousStorageIfAvailable { Self.parse($0, with: parser) }
            ?? Array(markdown.utf8).withUnsafeBufferPointer { Self.parse($0, with: parser) }
        guard let document = parsed else { return Output(utf8: [], links: []) }

        var links: [Link] = []
        var omittedHTML: (count: Int, line: Int, column: Int)?
        let iterator = cmark_iter_new(document)
        while case let event = cmark_iter_next(iterator), event != CMARK_EVENT_DONE {
            guard event == CMARK_EVENT_ENTER, let node = cmark_iter_get_node(iterator) else { continue }
            let type = cmark_node_get_type(node)
            switch type {
            case CMARK_NODE_LINK, CMARK_NODE_IMAGE:
                let url = cmark_node_get_url(node).map { String(cString: $0) } ?? ""
                let link = Link(
                    url: url, isImage: type == CMARK_NODE_IMAGE,
                    line: Int(cmark_node_get_start_line(node)), column: Int(cmark_node_get_start_column(node)))
                links.append(link)
                var final = rewrite(link) ?? url
                if Self.isDangerous(final, isImage: link.isImage) { final = "" }
                if final != url { _ = cmark_node_set_url(node, final) }
            case CMARK_NODE_HTML_BLOCK where unsafe, CMARK_NODE_HTML_INLINE where unsafe:
                // Authors who allow raw HTML still get no javascript: URLs in it, and its links
                // (`href`, `src`) are checked and rewritten as Markdown's are.
                if let literal = cmark_node_get_literal(node) {
                    let text = String(cString: literal)
                    let line = Int(cmark_node_get_start_line(node))
                    let column = Int(cmark_node_get_start_column(node))
                    let cleaned = RawHTMLAttributes.rewrite(text) { attribute in
                        // A value holding a character reference is left as written: its URL is
                        // not the text, and rewriting would have to encode it again.
                        guard attribute.name == "href" || attribute.name == "src",
                            !attribute.value.contains(UInt8(ascii: "&"))
                        else { return nil }
                        let url = String(decoding: attribute.value, as: UTF8.self)
                        let link = Link(
                            url: url, isImage: attribute.element == "img" && attribute.name == "src",
                            line: line + attribute.line,
                            column: attribute.line == 0 ? column + attribute.column - 1 : attribute.column,
                            element: attribute.element, attribute: attribute.name)
                        links.append(link)
                        guard let new = rewrite(link), new != url else { return nil }
                        return new
                    }
                    if cleaned != text { _ = cmark_node_set_literal(node, cleaned) }
                }
            case CMARK_NODE_HTML_BLOCK, CMARK_NODE_HTML_INLINE:
                // Left out by safe mode, which says so only in an HTML comment. A comment of the
                // author's own is left out too, and is no loss.
                guard let literal = cmark_node_get_literal(node), !Self.isComment(literal) else { break }
                if let first = omittedHTML {
                    omittedHTML?.count = first.count + 1
                } else {
                    omittedHTML = (
                        1, Int(cmark_node_get_start_line(node)), Int(cmark_node_get_start_column(node))
                    )
                }
            default:
                break
            }
        }
        guard let rendered = cmark_render_html(document, options, cmark_parser_get_syntax_extensions(parser)) else {
            return Output(utf8: [], links: links, omittedHTML: omittedHTML)
        }
        // cmark's output is UTF-8: its input came from a Swift string, and cmark writes what it
        // read, ASCII markup and characters it decoded from entities.
        let html = Array(UnsafeRawBufferPointer(start: rendered, count: strlen(rendered)))
        return Output(utf8: html, links: links, omittedHTML: omittedHTML)
    }

    /// Whether raw HTML `literal` is one HTML comment (`<!-- … -->`) and nothing else but space:
    /// `<!-- a --> <b>x</b> <!-- b -->` starts and ends as one, and holds a tag.
    static func isComment(_ literal: UnsafePointer<CChar>) -> Bool {
        let text = String(cString: literal).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("<!--"),
            let end = text.range(of: "-->", range: text.index(text.startIndex, offsetBy: 4)..<text.endIndex)
        else { return false }
        return end.upperBound == text.endIndex
    }

    /// `parser`'s document for the UTF-8 `text`, parsed under ``parserLock``.
    private static func parse(_ text: UnsafeBufferPointer<UInt8>, with parser: OpaquePointer)
        -> OpaquePointer?
    {
        parserLock.withLock {
            if let base = text.baseAddress {
                base.withMemoryRebound(to: CChar.self, capacity: text.count) {
                    cmark_parser_feed(parser, $0, text.count)
                }
            }
            return cmark_parser_finish(parser)
        }
    }

    /// Schemes that run code when followed. cmark's safe mode drops them too; this also covers
    /// unsafe mode and mixed case or whitespace tricks (`JaVaScRiPt:`, ` javascript:`).
    static func isDangerous(_ url: String, isImage: Bool) -> Bool {
        // The first 20 scalars that are not whitespace or control characters, lower-cased, as
        // UTF-8: every prefix compared below is ASCII, so bytes compare as characters would.
        // Links are nearly always ASCII there: those bytes are gathered on the stack, and only
        // a non-ASCII scalar among them takes the road through Unicode's properties.
        var bytes = url
        let ascii: Bool? = bytes.withUTF8 { bytes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
                var count = 0
                for byte in bytes {
                    if count == 20 { break }
                    if byte >= 0x80 { return nil }
                    guard let byte = headByte(byte) else { continue }
                    buffer[count] = byte
                    count += 1
                }
                return isDangerous(head: UnsafeBufferPointer(rebasing: buffer[..<count]), isImage: isImage)
            }
        }
        if let ascii { return ascii }
        var head: [UInt8] = []
        head.reserveCapacity(24)
        var taken = 0
        for scalar in url.unicodeScalars where taken < 20 {
            if scalar.value < 0x80 {
                guard let byte = headByte(UInt8(scalar.value)) else { continue }
                head.append(byte)
            } else {
                if scalar.properties.isWhitespace { continue }
                head += scalar.properties.lowercaseMapping.utf8
            }
            taken += 1
        }
        return head.withUnsafeBufferPointer { isDangerous(head: $0, isImage: isImage) }
    }

    /// An ASCII byte of a URL's head as compared: lower-cased; nil for the controls and the
    /// space (the only ASCII whitespace left), which are skipped.
    @inline(__always) private static func headByte(_ byte: UInt8) -> UInt8? {
        byte <= 0x20 ? nil : byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }

    /// ``isDangerous(_:isImage:)`` of a URL whose first scalars, lower-cased and without
    /// whitespace, are `head` in UTF-8.
    private static func isDangerous(head: UnsafeBufferPointer<UInt8>, isImage: Bool) -> Bool {
        func starts(_ prefix: StaticString) -> Bool {
            head.count >= prefix.utf8CodeUnitCount
                && head.starts(with: UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount))
        }
        if starts("javascript:") || starts("vbscript:") { return true }
        if starts("data:") {
            return
                !(isImage
                && (starts("data:image/png") || starts("data:image/gif") || starts("data:image/jpe")
                    || starts("data:image/web")))
        }
        return false
    }

    /// `html` with the boxes of its task lists (`- [ ] item`) enabled, so they can be ticked.
    ///
    /// cmark-gfm writes every task-list box disabled, which suits a document. In a view — a dialog
    /// or sidebar running inside HipChat — a task list is a checklist the user works through (a
    /// rollback's "I checked the dashboards"), so the page renderer enables them there: Markdown's
    /// own form control, with no raw HTML needed. Only the extension's exact output is changed.
    static func enablingTaskListBoxes(in html: String) -> String {
        html.replacingOccurrences(of: #"<input type="checkbox" disabled="" />"#, with: #"<input type="checkbox" />"#)
            .replacingOccurrences(
                of: #"<input type="checkbox" checked="" disabled="" />"#, with: #"<input type="checkbox" checked="" />"#
            )
    }
}
