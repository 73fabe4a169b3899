import Foundation
import HipChatConnect
import Synchronization
import Testing

@testable import HipKit

@Suite struct MarkdownRendererTests {
    let renderer = MarkdownRenderer()

    /// A page's HTML goes into its file as cmark's bytes, unchecked: they must be UTF-8 whatever
    /// the Markdown holds — characters of every length, entities naming surrogates, NUL or code
    /// points past Unicode, numeric entities, raw HTML, and text cut anywhere by smart punctuation.
    @Test func theHTMLIsUTF8WhateverTheMarkdownHolds() {
        let inputs = [
            "é 日本 😀 \u{10FFFF} \u{0}x \u{FEFF}",
            "&#xD800; &#xDFFF; &#0; &#x110000; &#99999999; &#x1F600; &eacute; &bogus;",
            "\"é\" 'ü' -- --- ... “x”", "<b>é</b> <!-- 😀 --> <span title=\"日本\">x</span>",
            "[é](é 'ü') ![😀](a😀.png) <https://例え.jp/é> www.é.com", "| é | 😀 |\n|---|---|\n| ~~ü~~ | x |",
            "- [x] é\n- [ ] 😀", "```é\n😀\n```", String(repeating: "é😀", count: 5000),
        ]
        for input in inputs {
            for unsafe in [false, true] {
                let bytes = renderer.render(input, unsafe: unsafe).utf8
                #expect(Array(String(decoding: bytes, as: UTF8.self).utf8) == bytes, "\(input.prefix(40))")
            }
        }
    }

    /// Pages render on several threads at once; cmark-gfm's table of special characters is
    /// global, so without the renderer's lock some of these came out with `~~` left as text.
    @Test func strikethroughSurvivesPagesRenderedAtOnce() {
        let renderer = MarkdownRenderer()
        let results = Mutex([String]())
        DispatchQueue.concurrentPerform(iterations: 400) { i in
            let html = renderer.render("line \(i)\n\n| a | b |\n|---|---|\n| ~~x~~ | y |\n\n- ~~gone~~ item\n").html
            results.withLock { $0.append(html) }
        }
        let broken = results.withLock { $0.filter { !$0.contains("<del>gone</del>") || !$0.contains("<del>x</del>") } }
        #expect(broken.isEmpty, "\(broken.count) of 400 pages lost their strikethrough: \(broken.first ?? "")")
    }

    /// cmark allocates from an arena per thread, reused page after page. Pages of every size
    /// (past the arena's first 256 KiB block, with tables whose buffers grow), on several
    /// threads, each come out as the same page rendered alone on a fresh thread; and a render
    /// started inside another (from its link rewriter) leaves the outer one's memory alone.
    @Test func pagesRenderedOnOneThreadAfterAnotherAreEachWhole() throws {
        let sizes = Array(0..<24)
        // Each page alone, on a thread of its own that renders nothing else.
        let alone = sizes.map { n in
            let html = Mutex("")
            let done = DispatchSemaphore(value: 0)
            Thread {
                html.withLock { $0 = MarkdownRenderer().render(Self.page(n)).html }
                done.signal()
            }.start()
            done.wait()
            return html.withLock { $0 }
        }
        #expect(alone.contains { $0.utf8.count > 300_000 }, "no page is larger than the arena's first block")
        let results = Mutex([Int: String]())
        DispatchQueue.concurrentPerform(iterations: sizes.count * 3) { i in
            let html = renderer.render(Self.page(sizes[i % sizes.count])).html
            results.withLock { $0[i] = html }
        }
        for (i, html) in results.withLock({ $0 }) {
            #expect(html == alone[i % sizes.count], "page \(i % sizes.count) differs")
        }
        var inner: [String] = []
        let outer = renderer.render(Self.page(7)) { link in
            inner.append(renderer.render(Self.page(3)).html)
            return link.url + "?x"
        }
        #expect(outer.html == alone[7].replacingOccurrences(of: ".md\"", with: ".md?x\""))
        #expect(!inner.isEmpty && inner.allSatisfy { $0 == alone[3] })
    }

    /// Page `n` of the arena test: up to about 330 KB of text and a table of up to 400 rows.
    static func page(_ n: Int) -> String {
        let rows = (0..<(n * 37 % 400)).map { "| \($0) | ~~\(n)~~ [l](p\($0).md) |" }.joined(separator: "\n")
        return "# Page \(n)\n\n" + String(repeating: "Some *text* and `code`. ", count: n * 997 % 14000)
            + "\n\n| a | b |\n|---|---|\n" + rows + "\n\n- [ ] task \(n)\n"
    }

    /// Text reaches cmark as the Swift string's UTF-8, which needs no check: NUL becomes U+FFFD
    /// (CommonMark's rule), and every other character comes out as it went in.
    @Test func nulBecomesTheReplacementCharacterAndTheRestIsKept() {
        let html = renderer.render("a\u{0}b é 日本 😀 e\u{301}\n").html
        #expect(html == "<p>a\u{FFFD}b é 日本 😀 e\u{301}</p>\n")
    }

    @Test func rendersGitHubFlavouredMarkdown() {
        let html = renderer.render(
            """
            | a | b |
            | - | - |
            | 1 | 2 |

            - [x] done
            - [ ] todo

            ~~gone~~ and https://example.com

            ```swift
            let x = 1
            ```

            "Smart" quotes -- and dashes...
            """
        ).html
        #expect(html.contains("<table>"))
        #expect(html.contains("<td>1</td>"))
        #expect(html.contains("<input type=\"checkbox\" checked=\"\" disabled=\"\" /> done"))
        #expect(html.contains("<del>gone</del>"))
        #expect(html.contains("<a href=\"https://example.com\">https://example.com</a>"))
        #expect(html.contains("<pre><code class=\"language-swift\">let x = 1\n</code></pre>"))
        #expect(html.contains("“Smart” quotes – and dashes…"))
    }

    @Test func leavesRawHTMLOutUnlessAllowed() {
        let source = "Hello <span class=\"x\">there</span>\n\n<script>alert(1)</script>\n"
        let safe = renderer.render(source).html
        #expect(!safe.contains("<script>"))
        #expect(!safe.contains("<span"))
        #expect(safe.contains("raw HTML omitted"))
        let unsafe = renderer.render(source, unsafe: true).html
        #expect(unsafe.contains("<span class=\"x\">there</span>"))
        // The tagfilter extension still disarms <script> even when raw HTML is allowed.
        #expect(!unsafe.contains("<script>"))
        #expect(unsafe.contains("&lt;script>"))
    }

    @Test(arguments: [false, true])
    func dropsScriptURLs(unsafe: Bool) {
        let html = renderer.render(
            "[a](javascript:alert(1)) [b](JaVaScRiPt:alert(2)) [c](vbscript:x) ![i](data:image/png;base64,AAAA) [d](data:text/html,x)",
            unsafe: unsafe
        ).html
        #expect(!html.lowercased().contains("javascript:"))
        #expect(!html.contains("vbscript:"))
        #expect(!html.contains("data:text/html"))
        #expect(html.contains("data:image/png;base64,AAAA"))
    }

    @Test func neutralisesScriptURLsInAllowedRawHTML() {
        let html = renderer.render(
            "<a href=\"javascript:alert(1)\">x</a> <img src='  JAVASCRIPT:alert(2)'>\n", unsafe: true
        ).html
        #expect(!html.lowercased().contains("javascript"))
        #expect(html.contains("href=\"#\""))
    }

    /// Written with character references or a tab in the scheme, as a browser still reads them;
    /// and text that only mentions such a URL is left as written (it was rewritten too).
    @Test func neutralisesEncodedScriptURLsInAttributesOnly() {
        let html = renderer.render(
            """
            <a href="&#106;avascript:alert(1)">a</a> <a href="javascript&colon;alert(2)">b</a>
            <a href='java&#x09;script:alert(3)'>c</a> <a href=&#x6A&#x61vascript:alert(4)>d</a>
            <form action="  VBScript&#58;x"><button formaction="java&NewLine;script:y">e</button></form>
            <p>Write href="javascript:void(0)" for a dead link: <code>javascript:x</code></p>
            <a href="https://example.com/javascript:ok" title="&#106;ava">fine</a>

            """, unsafe: true
        ).html
        for n in 1...4 { #expect(!html.contains("alert(\(n))"), "\(n): \(html)") }
        #expect(!html.contains("VBScript") && !html.contains("script:y"), "\(html)")
        #expect(
            html.contains(#"Write href="javascript:void(0)" for a dead link: <code>javascript:x</code>"#), "\(html)")
        #expect(html.contains(#"<a href="https://example.com/javascript:ok" title="&#106;ava">fine</a>"#), "\(html)")
    }

    @Test func reportsLinksWithTheirPositionAndRewritesThem() {
        let output = renderer.render("intro\n\nsee [faq](faq.md#top) and ![logo](../assets/logo.png)\n") { link in
            link.url == "faq.md#top" ? "faq.html#top" : nil
        }
        #expect(output.links.map(\.url) == ["faq.md#top", "../assets/logo.png"])
        #expect(output.links.map(\.line) == [3, 3])
        #expect(output.links.first?.column == 5)
        #expect(output.links.last?.isImage == true)
        #expect(output.html.contains("href=\"faq.html#top\""))
    }
}
