import Foundation
import HipChatConnect
import Mustache
import Testing

@testable import HipKit

/// Layouts escape `{{name}}` with ``HTMLText/escape(_:)`` instead of swift-mustache's default,
/// for speed. It must escape what the default escapes, and a quote it misses as well.
@Suite struct HTMLTextTests {
    /// swift-mustache's own escaping: a template without a content type.
    static func mustacheEscaped(_ text: String) throws -> String {
        try MustacheTemplate(string: "{{x}}").render(["x": text])
    }

    @Test func escapesWhatMustacheEscapes() throws {
        let fixed = ["", "plain", "&<>\"'", "a&&b", "<script>alert('x')</script>", "日本 & 😀", "\r\n<\r\n", "é&"]
        for s in PathAndURLBytesTests.samples(3000) + fixed
        where !s.unicodeScalars.contains(where: { $0.properties.generalCategory == .nonspacingMark }) {
            #expect(HTMLText.escape(s) == (try Self.mustacheEscaped(s)), "\(s.debugDescription)")
        }
    }

    /// A quote with a combining mark after it is one `Character`, which swift-mustache's walk
    /// leaves alone, but a browser still ends the attribute value at the quote.
    @Test func escapesAQuoteACombiningMarkFollows() throws {
        #expect(HTMLText.escape("x\"\u{301} onmouseover=y") == "x&quot;\u{301} onmouseover=y")
        #expect(try Self.mustacheEscaped("x\"\u{301}") == "x\"\u{301}")
    }

    @Test func layoutsAndTemplatesNamingHTMLEscapeThisWay() throws {
        let title = "Tom & \"Jerry\"\u{301} <b>"
        let dir = try TestSupport.project(
            SiteRendererTests.spec,
            files: [
                "pages/side.md": "---\ntitle: '\(title.replacingOccurrences(of: "'", with: "''"))'\n---\n# Side\n",
                "pages/dlg.md": "# Dialog\n",
                "pages/named.md": "---\nlayout: named\ntitle: '\(title)'\n---\n# Named\n",
                "templates/named.mustache": "{{% CONTENT_TYPE: HTML}}\n<title>{{page.title}}</title>\n",
            ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let build = try ProjectBuild.prepare(dir.path)
        #expect(!build.hasErrors, "\(build.diagnostics)")
        let escaped = "<title>Tom &amp; &quot;Jerry&quot;\u{301} &lt;b&gt;</title>"
        let side = build.files.first { $0.path == "side.html" }.map { String(decoding: $0.data, as: UTF8.self) }
        #expect(side?.contains(escaped) == true)
        let named = build.files.first { $0.path == "named.html" }.map { String(decoding: $0.data, as: UTF8.self) }
        #expect(named == escaped + "\n")
    }

    /// The escaping's first line is not the template's: a syntax error is reported at the line
    /// swift-mustache finds in the file's own text.
    @Test(arguments: [
        "<p>{{#page}}unclosed section</p>", "line one\n{{/nothing}}\n", "a\nb\n{{#x}}\n{{/y}}\n", "{{{x}}\n",
    ])
    func syntaxErrorsKeepTheirLine(_ text: String) throws {
        var line = 0
        do { _ = try MustacheTemplate(string: text) } catch let error as MustacheTemplate.ParserError {
            line = error.context.lineNumber
        }
        let dir = try TestSupport.project(
            SiteRendererTests.spec,
            files: ["pages/side.md": "# Side\n", "pages/dlg.md": "# Dialog\n", "templates/page.mustache": text])
        defer { try? FileManager.default.removeItem(at: dir) }
        let build = try ProjectBuild.prepare(dir.path)
        let error = build.diagnostics.first { $0.code == .templateSyntax }
        #expect(line > 0)
        #expect(error?.location?.line == line, "\(build.diagnostics)")
    }
}
