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
        let arena = Arena.enter()
        defer { Arena.leave(arena) }
        guard let parser = cmark_parser_new_with_mem(options, Arena.allocator) else {
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

    /// A bump allocator for the pages one thread renders, one page at a time: cmark's
    /// allocations (about a thousand small ones a page, each zeroed) come from a few large
    /// blocks, nothing is freed one by one, and the blocks are reused for the next page (up to
    /// 1 MiB of them: a huge page's are given back after it).
    ///
    /// The `cmark-gfm` program allocates the same way (its own arena, which is one for the whole
    /// process and cannot serve pages rendered side by side). With `malloc` and `free`, cmark's
    /// parse, render and freeing of a generated 2.7 KB page took 0.95 M instructions; with the
    /// arena, 0.70 M.
    ///
    /// cmark's allocator functions take no context, so each thread finds its arena in a
    /// thread-specific slot; ``enter()`` puts one there for a render and ``leave(_:)`` resets it.
    /// The arena is a plain struct behind a pointer, not a class: allocation is cmark's most
    /// frequent call, and a class's reference counting and exclusivity checks tripled its cost.
    private struct Arena {
        /// cmark's allocator functions, reading the calling thread's arena.
        nonisolated(unsafe) static let allocator: UnsafeMutablePointer<cmark_mem> = {
            let mem = UnsafeMutablePointer<cmark_mem>.allocate(capacity: 1)
            mem.initialize(
                to: cmark_mem(
                    calloc: { count, size in
                        let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
                        return overflow ? nil : Arena.current.pointee.allocate(bytes, zeroed: true)
                    },
                    realloc: { old, size in Arena.current.pointee.reallocate(old, size) },
                    free: { _ in }))
            return mem
        }()

        /// The slot holding each thread's arena, freed with its blocks when the thread ends.
        private static let slot: pthread_key_t = {
            var key = pthread_key_t()
            let created = pthread_key_create(&key) { arena in
                arena?.assumingMemoryBound(to: Arena.self).pointee.release()
                arena?.deallocate()
            }
            precondition(created == 0, "MarkdownRenderer: no thread-specific slot for cmark's arena")
            return key
        }()

        private static var current: UnsafeMutablePointer<Arena> {
            pthread_getspecific(slot)!.assumingMemoryBound(to: Arena.self)
        }

        /// Each block starts with the next block's address and its own size; allocations are
        /// 16-byte aligned, as `malloc`'s are, after a 16-byte header holding their size (for
        /// `realloc`).
        private static let header = 16
        private static let blockSize = 256 * 1024
        /// How much of its blocks an arena keeps between pages.
        private static let kept = 1024 * 1024

        private var first: UnsafeMutableRawPointer?
        /// The block allocations come from, and how much of it (its header included) is taken.
        private var block: UnsafeMutableRawPointer?
        private var used = 0
        /// The last allocation, which `realloc` may grow where it is.
        private var last: UnsafeMutableRawPointer?
        private var inUse = false
        /// The arena this one stands in for, when a render starts inside another on one thread.
        private var outer: UnsafeMutablePointer<Arena>?

        /// The calling thread's arena, ready for a page.
        static func enter() -> UnsafeMutablePointer<Arena> {
            if let held = pthread_getspecific(slot)?.assumingMemoryBound(to: Arena.self), !held.pointee.inUse {
                held.pointee.inUse = true
                return held
            }
            let arena = UnsafeMutablePointer<Arena>.allocate(capacity: 1)
            arena.initialize(
                to: Arena(inUse: true, outer: pthread_getspecific(slot)?.assumingMemoryBound(to: Arena.self)))
            pthread_setspecific(slot, arena)
            return arena
        }

        /// Ends the render: everything allocated since ``enter()`` is given back at once.
        static func leave(_ arena: UnsafeMutablePointer<Arena>) {
            // Blocks past the first `kept` bytes go back to the system.
            var total = 0
            var previous: UnsafeMutableRawPointer?
            var next = arena.pointee.first
            while let block = next {
                next = block.load(as: UnsafeMutableRawPointer?.self)
                total += block.load(fromByteOffset: 8, as: Int.self)
                if total > kept, let previous {
                    previous.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
                    free(block)
                } else {
                    previous = block
                }
            }
            arena.pointee.block = arena.pointee.first
            arena.pointee.used = header
            arena.pointee.last = nil
            arena.pointee.inUse = false
            if let outer = arena.pointee.outer {
                pthread_setspecific(slot, outer)
                arena.pointee.release()
                arena.deallocate()
            }
        }

        private init(inUse: Bool, outer: UnsafeMutablePointer<Arena>?) {
            self.inUse = inUse
            self.outer = outer
        }

        /// Frees every block.
        private func release() {
            var next = first
            while let block = next {
                next = block.load(as: UnsafeMutableRawPointer?.self)
                free(block)
            }
        }

        mutating func allocate(_ bytes: Int, zeroed: Bool) -> UnsafeMutableRawPointer? {
            guard bytes >= 0, bytes <= Int.max / 2 else { return nil }
            let needed = Self.header + ((bytes + 15) & ~15)
            while true {
                if let block {
                    if used + needed <= block.load(fromByteOffset: 8, as: Int.self) { break }
                    if let next = block.load(as: UnsafeMutableRawPointer?.self) {
                        self.block = next
                        used = Self.header
                        continue
                    }
                }
                // No block left with room: a new one, after the last.
                let size = max(Self.blockSize, Self.header + needed)
                guard let fresh = malloc(size) else { return nil }
                fresh.storeBytes(of: nil, as: UnsafeMutableRawPointer?.self)
                fresh.storeBytes(of: size, toByteOffset: 8, as: Int.self)
                if let block { block.storeBytes(of: fresh, as: UnsafeMutableRawPointer?.self) } else { first = fresh }
                block = fresh
                used = Self.header
            }
            let start = block! + used
            used += needed
            start.storeBytes(of: bytes, as: Int.self)
            let memory = start + Self.header
            if zeroed { memset(memory, 0, bytes) }
            last = memory
            return memory
        }

        mutating func reallocate(_ old: UnsafeMutableRawPointer?, _ bytes: Int) -> UnsafeMutableRawPointer? {
            guard let old else { return allocate(bytes, zeroed: false) }
            let oldBytes = (old - Self.header).load(as: Int.self)
            // The last allocation grows in place while its block has room.
            if old == last, let block, bytes >= 0, bytes <= Int.max / 2 {
                let end = old - block + ((bytes + 15) & ~15)
                if end <= block.load(fromByteOffset: 8, as: Int.self) {
                    used = end
                    (old - Self.header).storeBytes(of: bytes, as: Int.self)
                    return old
                }
            }
            guard let memory = allocate(bytes, zeroed: false) else { return nil }
            memory.copyMemory(from: old, byteCount: min(oldBytes, bytes))
            return memory
        }
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
        let ascii: Bool? = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var count = 0
            for byte in url.utf8 {
                if count == 20 { break }
                if byte >= 0x80 { return nil }
                guard let byte = headByte(byte) else { continue }
                buffer[count] = byte
                count += 1
            }
            return isDangerous(head: UnsafeBufferPointer(rebasing: buffer[..<count]), isImage: isImage)
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
