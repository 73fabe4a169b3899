import Foundation
import HipChatConnect
import Synchronization
import Testing

@testable import HipKit

@Suite struct MarkdownRendererTests {
    let renderer = MarkdownRenderer()

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
