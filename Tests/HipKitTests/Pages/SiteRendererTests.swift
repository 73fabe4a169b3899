import Foundation
import HipChatConnect
import Testing

@testable import HipKit

/// Whole projects rendered to sites: layouts, overrides, links, front matter and bad input.
@Suite struct SiteRendererTests {
    static let spec = """
        key: com.example.pages
        name: Pages
        description: A site of pages.
        baseUrl: https://pages.example.com/addon
        sidebars:
          - {key: side, name: Side, page: pages/side.md}
        dialogs:
          - key: dlg
            title: Dialog
            page: pages/dlg.md
            primaryAction: {key: ok, name: OK}
            secondaryActions: [{key: nope, name: No}]

        """

    func build(_ files: [String: String], spec: String = SiteRendererTests.spec, name: String = #function) throws -> (
        ProjectBuild, URL
    ) {
        var all = ["pages/side.md": "# Side\n", "pages/dlg.md": "# Dialog\n"]
        for (k, v) in files { all[k] = v }
        let dir = try TestSupport.project(spec, files: all, name: name)
        return (try ProjectBuild.prepare(dir.path), dir)
    }

    /// The build's diagnostics as `hipkit build` prints them, without colour.
    func printedDiagnostics(_ files: [String: String], name: String = #function) throws -> String {
        let (build, dir) = try build(files, name: name)
        defer { try? FileManager.default.removeItem(at: dir) }
        return DiagnosticRenderer(useColor: false).human(build.diagnostics, sources: build.sources)
    }

    func page(_ build: ProjectBuild, _ path: String) -> String? {
        build.files.first { $0.path == path }.map { String(decoding: $0.data, as: UTF8.self) }
    }

    /// `unsafe: yes` is told to write true or false, not to take away quotes it does not have.
    @Test func aBooleanHintFitsWhatWasWritten() throws {
        for (written, hint) in [("yes", "write true or false"), (#""true""#, "write true or false, without quotes")] {
            let (build, dir) = try build(["pages/home.md": "---\nunsafe: \(written)\n---\n# Home\n"], name: "unsafe")
            defer { try? FileManager.default.removeItem(at: dir) }
            let d = build.diagnostics.first { $0.code == .wrongType }
            #expect(d?.hint == hint, "\(written): \(build.diagnostics.map(\.message))")
        }
    }

    /// The preview links to a page whose name holds `#` or `?` by its encoded name, as a page's
    /// own links do; `../a#b.html` pointed at `a`.
    @Test func thePreviewEncodesPageNames() throws {
        let (build, dir) = try build(["pages/a#b.md": "# A\n", "pages/c?d.md": "# C\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let preview = try #require(page(build, SitePath.preview))
        #expect(preview.contains(#"href="../a%23b.html""#), "\(preview)")
        #expect(preview.contains(#"href="../c%3Fd.html""#), "\(preview)")
        #expect(!preview.contains("a#b.html\""))
    }

    /// The preview lists every page with its title and source, escaped; a project's own preview
    /// still gets the list as `pages`.
    @Test func thePreviewListsEveryPageEscaped() throws {
        let files = ["pages/x&y.md": "---\ntitle: \"Fish & <Chips> 'n' \\\"Peas\\\"\"\n---\nText\n"]
        let (site, dir) = try build(files)
        defer { try? FileManager.default.removeItem(at: dir) }
        let preview = try #require(page(site, SitePath.preview))
        #expect(
            preview.contains(
                #"<li><a href="../x&amp;y.html">Fish &amp; &lt;Chips&gt; &#39;n&#39; &quot;Peas&quot;</a> <span class="meta">pages/x&amp;y.md</span></li>"#
            ), "\(preview)")
        #expect(preview.contains(#"<li><a href="../side.html">Side</a> <span class="meta">pages/side.md</span></li>"#))

        let (own, ownDir) = try build(
            files.merging(["templates/preview.mustache": "{{#pages}}[{{title}}|{{href}}|{{source}}]{{/pages}}"]) {
                a, _ in a
            }
        )
        defer { try? FileManager.default.removeItem(at: ownDir) }
        #expect(
            page(own, SitePath.preview)
                == "[Dialog|../dlg.html|pages/dlg.md][Side|../side.html|pages/side.md]"
                + "[Fish &amp; &lt;Chips&gt; &#39;n&#39; &quot;Peas&quot;|../x&amp;y.html|pages/x&amp;y.md]")
    }

    /// With `unsafe: true`, the links of raw HTML (`href`, `src`) are checked, rewritten and
    /// their files copied as Markdown's are; they were left as written, `.md` and all.
    @Test func linksInRawHTMLAreCheckedAndRewritten() throws {
        let raw = "---\nunsafe: true\n---\n# Raw\n<img src=\"../img/pic.png\"> <a href = \"other.md#x\">o</a>\n"
        let (build, dir) = try build([
            "pages/raw.md": raw + "<div>\n<a href=\"nope.md\">n</a>\n</div>\n", "pages/other.md": "# O\n",
            "img/pic.png": "png",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = build.diagnostics.first { $0.code == .brokenLink }
        #expect(broken?.location?.line == 7, "\(build.diagnostics.map(\.message))")
        #expect(broken?.location?.column == 10)

        let (fixed, fixedDir) = try self.build(
            ["pages/raw.md": raw, "pages/other.md": "# O\n", "img/pic.png": "png"], name: "raw-fixed")
        defer { try? FileManager.default.removeItem(at: fixedDir) }
        #expect(!fixed.hasErrors, "\(fixed.diagnostics)")
        let html = try #require(page(fixed, "raw.html"))
        #expect(html.contains(#"<img src="img/pic.png"> <a href = "other.html#x">o</a>"#), "\(html)")
        #expect(fixed.files.contains { $0.path == "img/pic.png" })
    }

    /// A link to a folder is a link to its index page, as `hipkit serve` answers the folder; it
    /// was "not a page or file of the project".
    @Test func aLinkToAFolderIsItsIndexPage() throws {
        let (build, dir) = try build([
            "pages/docs/index.md": "# Docs\n", "pages/home.md": "[a](docs/) [b](docs) [c](docs/#part)\n",
            "pages/docs/more.md": "[up](../) [here](./)\n", "pages/index.md": "# Root\n",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(!build.hasErrors, "\(build.diagnostics.map(\.message))")
        let home = try #require(page(build, "home.html"))
        #expect(
            home.contains(
                #"<a href="docs/index.html">a</a> <a href="docs/index.html">b</a> <a href="docs/index.html#part">c</a>"#
            ), "\(home)")
        let more = try #require(page(build, "docs/more.html"))
        #expect(more.contains(#"<a href="../index.html">up</a> <a href="index.html">here</a>"#), "\(more)")
    }

    /// A message quoting a value decoded from the input stays one line, with nothing a terminal
    /// acts on: `%0a` printed a line break, `%1b` an escape sequence.
    @Test func aMessageQuotingControlCharactersStaysOneLine() throws {
        let text = try printedDiagnostics(["pages/home.md": "[x](java%0ascript:alert)\n[y](a%1b[31mb.md)\n"])
        #expect(text.contains("points to pages/java\\nscript:alert, which"), "\(text)")
        #expect(text.contains("points to pages/a\\u{1B}[31mb.md, which"), "\(text)")
        #expect(!text.unicodeScalars.contains { $0.value == 0x1B })
    }

    /// A link naming a file in another Unicode form than the disk's (`café` composed in the page,
    /// decomposed on disk, as macOS writes names) finds the file, as page links already did; it
    /// was "not a page or file of the project", with both names printed alike.
    @Test func aLinkFindsAFileNamedInAnotherUnicodeForm() throws {
        let decomposed = "img/cafe\u{301}.png"
        let (build, dir) = try build(["pages/home.md": "![c](../img/caf\u{E9}.png)\n", decomposed: "png"])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(!build.hasErrors, "\(build.diagnostics.map(\.message))")
        #expect(build.files.contains { $0.path.utf8.elementsEqual(decomposed.utf8) })
        let html = try #require(page(build, "home.html"))
        #expect(html.contains(#"src="img/cafe%CC%81.png""#), "\(html)")
    }

    /// A page shown as a sidebar and as a dialog is rendered once, as the first: the dialog is
    /// warned of at its `page:` (it got the sidebar's view without a word).
    @Test func aPageShownAsTwoKindsOfViewIsWarnedOf() throws {
        let (build, dir) = try build(
            [:], spec: Self.spec + "  - {key: side-dialog, title: Again, page: pages/side.md}\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let warned = build.diagnostics.filter { $0.code == .pageCollision }
        #expect(warned.map(\.severity) == [.warning], "\(build.diagnostics.map(\.message))")
        #expect(
            warned.first?.message
                == "pages/side.md is shown as a sidebar by the sidebar 'side' and as a dialog here; it is rendered once, as a sidebar"
        )
        #expect(warned.first?.location?.line == 13)
    }

    /// A link's column counts characters, as addon.yaml's diagnostics do; cmark's columns are
    /// bytes, and `Café ünïcödé [bad]` put the link at 19.
    @Test func aLinksColumnCountsCharacters() throws {
        let (build, dir) = try build(["pages/home.md": "---\ntitle: Hé\n---\n# Home\n\nCafé ünïcödé [bad](nope.md)\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = build.diagnostics.first { $0.code == .brokenLink }
        #expect(broken?.location?.line == 6)
        #expect(broken?.location?.column == 14)
    }

    /// A title taken from the first heading is its text once: `&lt;` written in Markdown stays
    /// `&lt;` in the page's title, as in its heading (it became `<`).
    @Test func aTitleFromTheHeadingIsDecodedOnce() throws {
        let (build, dir) = try build(["pages/home.md": "# Fish &amp;lt; chips & \"peas\"\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let html = try #require(page(build, "home.html"))
        #expect(html.contains("<h1>Fish &amp;lt; chips &amp; “peas”</h1>"), "\(html)")
        #expect(html.contains("<title>Fish &amp;lt; chips &amp; “peas”</title>"), "\(html)")
    }

    /// A file with CRLF line endings gets its line quoted under the diagnostic, as any other: as
    /// `Character`s, `\r\n` is one grapheme, and the whole file was one line.
    @Test func aCRLFPageHasItsLineQuoted() throws {
        let text = try printedDiagnostics(["pages/home.md": "# Home\r\n\r\nSee [bad](nope.md).\r\n"])
        #expect(text.contains(" 3 | See [bad](nope.md).\n"), "\(text)")
        #expect(text.contains("|     ^"), "\(text)")
    }

    /// `{{page.root}}` climbs from a page to the site's root, whatever the page's depth, as the
    /// scaffolds' `{{page.root}}assets/…` links need.
    @Test func pageRootClimbsToTheSitesRoot() throws {
        let layout = "---\nlayout: where\n---\n"
        let (build, dir) = try build([
            "templates/where.mustache": "{{page.root}} {{page.path}}", "pages/a.md": layout,
            "pages/x/b.md": layout, "pages/x/y/c.md": layout,
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(!build.hasErrors, "\(build.diagnostics)")
        #expect(page(build, "a.html") == "./ /a.html")
        #expect(page(build, "x/b.html") == "../ /x/b.html")
        #expect(page(build, "x/y/c.html") == "../../ /x/y/c.html")
    }

    /// A project file that would land where the build writes the descriptor (or the runtime
    /// manifest) is an error naming it; it was dropped without a word.
    @Test(arguments: [ConnectDescriptor.fileName, RuntimeManifest.path])
    func aFileAtTheDescriptorsPathIsAnError(_ path: String) throws {
        let (build, dir) = try build([
            "pages/home.md": "# Home\n\nThe [descriptor](\(path)).\n", "pages/\(path)": "{\"not\": \"it\"}",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let collision = build.diagnostics.first { $0.code == .outputCollision }
        #expect(
            collision?.message.contains("pages/\(path) would be written to \(path)") == true, "\(build.diagnostics)")
        #expect(collision?.location?.file.hasSuffix("pages/\(path)") == true)
        #expect(build.hasErrors)
    }

    @Test func twoFilesForOnePathNameBothSources() throws {
        let (build, dir) = try build([
            "pages/side/logo.png": "one", "assets/../pages/x.md": "", "pages/y.md": "[logo](side/logo.png)",
            "side/logo.png": "two", "pages/z.md": "[other](../side/logo.png)",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let collision = build.diagnostics.first { $0.code == .outputCollision }
        #expect(
            collision?.message == "pages/side/logo.png and side/logo.png would both be written to side/logo.png",
            "\(build.diagnostics)")
    }

    /// A page's Markdown and a file of its output's name (`pages/reviews.md` and
    /// `pages/reviews.html`): a link to `reviews.html` names that file, which would land on the
    /// page — an error naming both; the file was dropped without a word. Without the file, the
    /// same link is the page's.
    @Test func aLinkedFileAtAPagesOutputIsAnErrorNamingBoth() throws {
        let files = [
            "pages/reviews.md": "# Reviews\n", "pages/home.md": "[raw](reviews.html) and [page](reviews.md)\n",
        ]
        let (build, dir) = try build(files.merging(["pages/reviews.html": "<p>raw</p>"]) { $1 })
        defer { try? FileManager.default.removeItem(at: dir) }
        let collision = build.diagnostics.first { $0.code == .outputCollision }
        #expect(
            collision?.message == "pages/reviews.html and pages/reviews.md would both be written to reviews.html"
                || collision?.message
                    == "pages/reviews.md and pages/reviews.html would both be written to reviews.html",
            "\(build.diagnostics)")
        #expect(build.hasErrors)

        let (plain, plainDir) = try self.build(files)
        defer { try? FileManager.default.removeItem(at: plainDir) }
        #expect(!plain.hasErrors, "\(plain.diagnostics)")
        #expect(page(plain, "home.html")?.contains("<a href=\"reviews.html\">raw</a>") == true)
    }

    /// `pages/index.md` is the site's root, as in any static site generator; the preview is then
    /// only at its own path, linking up to the pages. Without a root page the root is the preview.
    @Test func aRootPageIsTheSitesIndexAndThePreviewKeepsItsOwnPath() throws {
        let (build, dir) = try build(["pages/index.md": "# Welcome\n\nSee [the sidebar](side.md).\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(!build.hasErrors, "\(build.diagnostics)")
        let root = try #require(page(build, "index.html"))
        #expect(root.contains("<title>Welcome</title>"))
        #expect(root.contains("<a href=\"side.html\">the sidebar</a>"))
        let preview = try #require(page(build, SitePath.preview))
        #expect(preview.contains("<a href=\"../side.html\">"))
        #expect(preview.contains("<a href=\"../index.html\">Welcome</a>"))
        #expect(preview.contains("href=\"../atlassian-connect.json\""))

        let (plain, plainDir) = try self.build([:])
        defer { try? FileManager.default.removeItem(at: plainDir) }
        // The root's copy is the preview's document, its links resolved from `_preview/`.
        let index = try #require(page(plain, "index.html"))
        let ownPath = try #require(page(plain, SitePath.preview))
        #expect(ownPath.contains("<a href=\"../side.html\">"))
        #expect(index == ownPath.replacingOccurrences(of: "<head>", with: "<head><base href=\"_preview/\">"))
    }

    /// A project's own preview layout, or a partial of the built-in one in templates/, gets the
    /// root's copy rendered with links from the root: only hipkit's own preview is known to have
    /// no link a `<base>` would change (`#top`).
    @Test(arguments: [
        [
            "templates/preview.mustache":
                "<html><head><title>x</title></head><body><a href=\"#top\">top</a>{{#pages}}<a href=\"{{href}}\">{{title}}</a>{{/pages}}</body></html>"
        ],
        ["templates/preview.mustache": "{{#pages}}<a href=\"{{href}}\">{{title}}</a>{{/pages}}"],
        ["templates/style.mustache": "<style>body { margin: 0 }</style>"],
    ])
    func aPreviewThatIsNotHipkitsOwnIsRenderedForTheRoot(_ files: [String: String]) throws {
        let (build, dir) = try build(files)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(!build.hasErrors, "\(build.diagnostics)")
        let index = try #require(page(build, "index.html"))
        #expect(index.contains("<a href=\"side.html\">"), "\(index)")
        #expect(!index.contains("_preview/"), "\(index)")
        #expect(page(build, SitePath.preview)?.contains("<a href=\"../side.html\">") == true)
    }

    /// A link to a Markdown file of the project outside pages/ names what it is: the file is
    /// there, but it is no page. It was called "not a page or file of the project".
    @Test func aLinkToMarkdownOutsidePagesSaysItIsNoPage() throws {
        let (build, dir) = try build([
            "README.md": "# Read me\n", "pages/home.md": "# Home\n\n[readme](../README.md) [gone](../gone.md)\n",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let messages = build.diagnostics.filter { $0.code == .brokenLink }.map(\.message)
        #expect(
            messages == [
                "link '../README.md' points to README.md, a Markdown file outside pages/: only the Markdown under pages/ becomes pages",
                "link '../gone.md' points to gone.md, which is not a page or file of the project",
            ], "\(build.diagnostics)")
        #expect(
            build.diagnostics.first?.hint
                == "move it under pages/ to make it a page of the site, or link to where it is published (a full URL)")
    }

    /// Raw HTML in a page without `unsafe: true` is left out, as documented; a warning at the
    /// first piece says so, where only an HTML comment in the output did. The author's own
    /// comments are no loss and no warning; with `unsafe: true` the HTML stays, and nothing is said.
    @Test func rawHTMLLeftOutIsAWarningAtItsFirstPiece() throws {
        let body = "# Help\n\n<!-- a note -->\n\nSee <b>this</b>.\n\n<div>gone</div>\n"
        let (build, dir) = try build(["pages/help.md": "---\ntitle: Help\n---\n" + body])
        defer { try? FileManager.default.removeItem(at: dir) }
        let warnings = build.diagnostics.filter { $0.code == .rawHtmlOmitted }
        #expect(warnings.count == 1, "\(build.diagnostics)")
        #expect(
            warnings.first?.message
                == "raw HTML is left out of this page (3 pieces; the first is here): pages are Markdown")
        #expect(warnings.first?.location?.line == 8)
        #expect(warnings.first?.location?.column == 5)
        #expect(page(build, "help.html")?.contains("<b>") == false)

        let (kept, keptDir) = try self.build(["pages/help.md": "---\nunsafe: true\n---\n" + body])
        defer { try? FileManager.default.removeItem(at: keptDir) }
        #expect(kept.diagnostics.isEmpty, "\(kept.diagnostics)")
        #expect(page(kept, "help.html")?.contains("<b>this</b>") == true)

        let (mixed, mixedDir) = try self.build(["pages/help.md": "# Help\n\n<!-- a --> <b>x</b> <!-- b -->\n"])
        defer { try? FileManager.default.removeItem(at: mixedDir) }
        #expect(mixed.diagnostics.map(\.code) == [.rawHtmlOmitted], "\(mixed.diagnostics)")

        let (comment, commentDir) = try self.build(["pages/help.md": "# Help\n\n<!-- only a note -->\n"])
        defer { try? FileManager.default.removeItem(at: commentDir) }
        #expect(comment.diagnostics.isEmpty, "\(comment.diagnostics)")
    }

    /// A glance's status icon named as a project file, or as a path, is written as a URL under
    /// the base URL, the file copied: it was written as given (`assets/ok.png`), which HipChat,
    /// loading it from its own page, refused.
    @Test func aGlanceStatusIconIsAURLUnderTheBaseURL() throws {
        let png = Data(
            base64Encoded:
                "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")!
        let spec =
            Self.spec + "glances:\n  - key: g\n    name: G\n    icon: https://cdn.example.com/g.png\n"
            + "    data: {label: x, status: {icon: assets/ok.png}}\n"
        let dir = try TestSupport.project(spec, files: ["pages/side.md": "# Side\n", "pages/dlg.md": "# Dialog\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(
            at: dir.appendingPathComponent("assets"), withIntermediateDirectories: true)
        try png.write(to: dir.appendingPathComponent("assets/ok.png"))
        let build = try ProjectBuild.prepare(dir.path)
        #expect(!build.hasErrors, "\(build.diagnostics)")
        let data = try #require(page(build, "glances/g.json").flatMap { JSONNode.parse(Data($0.utf8)) })
        #expect(data["status"]?["value"]?["url"]?.stringValue == "https://pages.example.com/addon/assets/ok.png")
        #expect(build.files.contains { $0.path == "assets/ok.png" })
    }

    /// An icon file is read far enough to know it: an SVG whose `<svg` comes after a long
    /// comment (as an Illustrator export's does, past 512 bytes) is an image; text is not.
    @Test func anIconFileIsReadFarEnoughToKnowIt() throws {
        let svg =
            "<?xml version=\"1.0\"?>\n<!-- " + String(repeating: "Generator: an illustration program. ", count: 40)
            + "-->\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"16\" height=\"16\"/>\n"
        for (icon, content, warned) in [("i.svg", svg, false), ("t.png", "<?xml but no image here?>\n", true)] {
            let spec =
                Self.spec + "glances:\n  - {key: g, name: G, icon: assets/\(icon), data: {label: x}}\n"
            let dir = try TestSupport.project(
                spec, files: ["pages/side.md": "# Side\n", "pages/dlg.md": "# Dialog\n", "assets/\(icon)": content])
            defer { try? FileManager.default.removeItem(at: dir) }
            let outcome = try TestSupport.load(dir)
            let warnings = outcome.diagnostics.filter { $0.code == .imageFormat }
            #expect(warnings.isEmpty != warned, "\(icon): \(outcome.diagnostics)")
        }
    }

    /// Under a base URL with a path, a root-relative URL leaves the add-on: a warning where it is
    /// written, in a link, an image or a page's script. At a host's root it is left alone, as are
    /// relative and protocol-relative URLs.
    @Test func aRootRelativeLinkUnderABasePathIsAWarning() throws {
        let page = #"""
            ---
            scripts: [/lib.js]
            unsafe: true
            ---
            # Home

            [help](/help.html) ![logo](/logo.png) [side](side.md) [cdn](//cdn.example.com/x.js)
            [in](/addon/side.html) [also](/addon) [slash](/\cdn.example.com/x)

            <p><img src="/raw.png" alt=""></p>
            """#
        let (build, dir) = try build(["pages/home.md": page])
        defer { try? FileManager.default.removeItem(at: dir) }
        let warnings = build.diagnostics.filter { $0.severity == .warning && $0.code == .brokenLink }
        #expect(!build.hasErrors, "\(build.diagnostics)")
        #expect(
            warnings.map(\.message) == [
                "script '/lib.js' starts at the host's root: the add-on is at https://pages.example.com/addon, so it points to https://pages.example.com/lib.js, outside the add-on",
                "link '/help.html' starts at the host's root: the add-on is at https://pages.example.com/addon, so it points to https://pages.example.com/help.html, outside the add-on",
                "image '/logo.png' starts at the host's root: the add-on is at https://pages.example.com/addon, so it points to https://pages.example.com/logo.png, outside the add-on",
                "image '/raw.png' starts at the host's root: the add-on is at https://pages.example.com/addon, so it points to https://pages.example.com/raw.png, outside the add-on",
            ], "\(warnings)")
        #expect(warnings.map { $0.location?.line } == [2, 7, 7, 10])
        #expect(warnings.map { $0.location?.column } == [11, 1, 20, 14])
        #expect(warnings.allSatisfy { $0.location?.file.hasSuffix("pages/home.md") == true })

        let atRoot = Self.spec.replacingOccurrences(
            of: "baseUrl: https://pages.example.com/addon", with: "baseUrl: https://pages.example.com")
        let (plain, plainDir) = try self.build(["pages/home.md": page], spec: atRoot)
        defer { try? FileManager.default.removeItem(at: plainDir) }
        #expect(plain.diagnostics.isEmpty, "\(plain.diagnostics)")
    }

    /// The preview's path is hipkit's: a page written there is an error naming both.
    @Test func aPageAtThePreviewsPathIsAnErrorNamingBoth() throws {
        let (build, dir) = try build(["pages/_preview/index.md": "# Mine\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let collision = build.diagnostics.first { $0.code == .outputCollision }
        #expect(
            collision?.message
                == "pages/_preview/index.md and the preview would both be written to _preview/index.html",
            "\(build.diagnostics)")
        #expect(collision?.location?.file.hasSuffix("pages/_preview/index.md") == true)
    }

    /// A view's task list is a checklist that can be ticked; a plain page's stays a document.
    /// `scripts:` in front matter loads project files after hipkit's own script, copied as assets;
    /// one that names no file is an error at its line.
    @Test func viewsTickTaskListsAndLoadTheirScripts() throws {
        let (build, dir) = try build([
            "pages/dlg.md":
                "---\nscripts: [../assets/dlg.js, \"https://cdn.example.com/x.js\"]\n---\n- [ ] one\n- [x] two\n",
            "assets/dlg.js": "console.log('hi')", "pages/help.md": "- [ ] one\n",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(!build.hasErrors, "\(build.diagnostics)")
        let dialog = try #require(page(build, "dlg.html"))
        #expect(dialog.contains("<li><input type=\"checkbox\" /> one</li>"))
        #expect(dialog.contains("<li><input type=\"checkbox\" checked=\"\" /> two</li>"))
        #expect(!dialog.contains("disabled"))
        let own = try #require(dialog.range(of: "id=\"hipkit-view\""))
        let loaded = try #require(dialog.range(of: "<script src=\"assets/dlg.js\"></script>"))
        #expect(own.lowerBound < loaded.lowerBound, "the page's script runs after hipkit's")
        #expect(dialog.contains("<script src=\"https://cdn.example.com/x.js\"></script>"))
        #expect(build.files.contains { $0.path == "assets/dlg.js" })
        #expect(page(build, "help.html")?.contains("<input type=\"checkbox\" disabled=\"\" />") == true)

        let (broken, brokenDir) = try self.build([
            "pages/dlg.md": "---\ntitle: D\nscripts: ../assets/nope.js\n---\n# D\n"
        ])
        defer { try? FileManager.default.removeItem(at: brokenDir) }
        let missing = broken.diagnostics.first { $0.code == .brokenLink }
        #expect(missing?.message.contains("script '../assets/nope.js'") == true, "\(broken.diagnostics)")
        #expect(missing?.location?.line == 3)
    }

    @Test func everyPageUnderPagesBecomesHTMLAtItsPath() throws {
        let (build, dir) = try build([
            "pages/help/faq.md": "# FAQ\n\nBack to [the sidebar](../side.md).\n", "assets/logo.png": "png",
            "notes.txt": "x",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(!build.hasErrors, "\(build.diagnostics)")
        let paths = build.files.map(\.path)
        #expect(
            paths == [
                "_hipkit/runtime.json", "_preview/index.html", "assets/logo.png", "atlassian-connect.json",
                "dlg.html", "help/faq.html", "index.html", "side.html",
            ])
        #expect(page(build, "help/faq.html")?.contains("<a href=\"../side.html\">the sidebar</a>") == true)
        // The descriptor's page URLs are those files, under the base URL's own path.
        let descriptor = try #require(build.project?.descriptor.json)
        #expect(
            descriptor["capabilities"]?["webPanel"]?.arrayValue?.first?["url"]?.stringValue
                == "https://pages.example.com/addon/side.html")
    }

    @Test func viewsLoadHipChatsScriptAndPlainPagesDoNot() throws {
        let (build, dir) = try build(["pages/help.md": "# Help\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let side = try #require(page(build, "side.html"))
        #expect(side.contains("<script src=\"https://www.hipchat.com/atlassian-connect/all.js\"></script>"))
        #expect(side.contains("href=\"https://www.hipchat.com/atlassian-connect/all.css\""))
        #expect(side.contains("class=\"hipkit-view hipkit-sidebar\""))
        let help = try #require(page(build, "help.html"))
        #expect(!help.contains("all.js"))
        // Dialogs register their button keys.
        let dialog = try #require(page(build, "dlg.html"))
        #expect(dialog.contains("\"actionKeys\": [\n      \"ok\",\n      \"nope\"\n    ]"))
        #expect(dialog.contains("dialog-button-click"))
    }

    @Test func environmentsPointTheScriptElsewhere() throws {
        let spec =
            Self.spec
            + "environments:\n  test: {baseUrl: 'http://localhost:8080', hipchatJs: stand-in/all.js, hipchatCss: 'http://localhost:9/all.css'}\n"
        let dir = try TestSupport.project(
            spec,
            files: [
                "pages/side.md": "# S\n", "pages/dlg.md": "# D\n", "pages/sub/deep.md": "x",
                "stand-in/all.js": "window.HipChat = {};",
            ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let build = try ProjectBuild.prepare(dir.path, options: LoadOptions(environment: "test"))
        #expect(!build.hasErrors, "\(build.diagnostics)")
        #expect(page(build, "side.html")?.contains("<script src=\"stand-in/all.js\"></script>") == true)
        #expect(page(build, "side.html")?.contains("href=\"http://localhost:9/all.css\"") == true)
        #expect(build.files.contains { $0.path == "stand-in/all.js" })
    }

    @Test func frontMatterSetsTitleLayoutAndVariables() throws {
        let (build, dir) = try build([
            "pages/side.md": "---\ntitle: Custom title\nteam: Platform\nlayout: page\n---\n# Heading\n",
            "templates/page.mustache":
                "<title>{{page.title}}</title><p>{{page.team}} · {{addon.name}} · {{module.key}} · {{environment.baseUrl}}</p>{{{page.content}}}",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(!build.hasErrors, "\(build.diagnostics)")
        #expect(
            page(build, "side.html")
                == "<title>Custom title</title><p>Platform · Pages · side · https://pages.example.com/addon</p><h1>Heading</h1>\n"
        )
    }

    @Test func projectTemplatesOverrideBuiltInOnesAndAddPartials() throws {
        let (build, dir) = try build([
            "templates/sidebar.mustache":
                "{{<base}}{{$content}}<aside>{{> badge}}{{{page.content}}}</aside>{{/content}}{{/base}}",
            "templates/badge.mustache": "<b class=\"badge\">{{module.name}}</b>",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(!build.hasErrors, "\(build.diagnostics)")
        let side = try #require(page(build, "side.html"))
        #expect(side.contains("<aside><b class=\"badge\">Side</b><h1>Side</h1>\n</aside>"))
        #expect(side.contains("all.js"), "the built-in base layout still applies")
    }

    /// A mapping of front matter printed by a template is its JSON, the same bytes every build
    /// (a Swift dictionary's order changes from run to run); fields, sections and `enumerated`
    /// read it in the order written.
    @Test func aMappingInATemplateIsTheSameBytesEveryBuild() throws {
        let files = [
            "templates/sidebar.mustache":
                "{{<base}}{{$content}}<p>[{{{page.env}}}] [{{page.env.zeta}}] [{{#page.env}}{{alpha}}{{/page.env}}] "
                + "[{{#enumerated(page.env)}}{{key}}={{value}};{{/enumerated(page.env)}}] "
                + "[{{#sorted(page.env)}}{{key}};{{/sorted(page.env)}}] [{{count(page.env)}}]</p>{{/content}}{{/base}}",
            "pages/side.md": "---\nenv: {zeta: 1, alpha: two, mid: true, nested: {b: 1, a: 2}}\n---\n# Side\n",
        ]
        // (Swift's hashing is seeded per process, so one process alone would not show a
        // dictionary's order change; the exact text is what is checked.)
        let (build, dir) = try build(files)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(!build.hasErrors, "\(build.diagnostics)")
        let side = try #require(page(build, "side.html"))
        let json =
            "{\n  \"zeta\": 1,\n  \"alpha\": \"two\",\n  \"mid\": true,\n  \"nested\": {\n    \"b\": 1,\n    \"a\": 2\n  }\n}"
        let nested = "{\n  &quot;b&quot;: 1,\n  &quot;a&quot;: 2\n}"
        for part in [
            "<p>[\(json)] [1] [two] [zeta=1;alpha=two;mid=true;nested=\(nested);] [alpha;mid;nested;zeta;] [4]</p>"
        ] {
            #expect(side.contains(part), "\(part)")
        }
    }

    @Test func rawHTMLNeedsTheSwitch() throws {
        let raw = "# Raw\n\n<div class=\"custom\">hi</div>\n"
        let (safe, d1) = try build(["pages/side.md": raw])
        defer { try? FileManager.default.removeItem(at: d1) }
        #expect(page(safe, "side.html")?.contains("<div class=\"custom\">") == false)
        let (perPage, d2) = try build(["pages/side.md": "---\nunsafe: true\n---\n" + raw])
        defer { try? FileManager.default.removeItem(at: d2) }
        #expect(page(perPage, "side.html")?.contains("<div class=\"custom\">hi</div>") == true)
        let (spec, d3) = try build(["pages/side.md": raw], spec: Self.spec + "unsafe: true\n")
        defer { try? FileManager.default.removeItem(at: d3) }
        #expect(page(spec, "side.html")?.contains("<div class=\"custom\">hi</div>") == true)
    }

    @Test func brokenLinksAreErrorsAtTheirLine() throws {
        let (build, dir) = try build([
            "pages/side.md":
                "---\ntitle: S\n---\n# Side\n\nSee [the guide](guide.md) and\n![a chart](../assets/chart.png).\n\n[out](../../etc/passwd)\n"
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let broken = build.diagnostics.filter { $0.code == .brokenLink }
        #expect(broken.map(\.location?.line) == [6, 7, 9])
        #expect(broken.first?.location?.file.hasSuffix("pages/side.md") == true)
        #expect(broken.first?.location?.column == 5)
        #expect(broken.first?.message.contains("guide.md") == true)
    }

    @Test func linksToAssetsAreCopiedAndRelative() throws {
        let (build, dir) = try build([
            "pages/help/howto.md": "![chart](../../assets/img/chart.png) [pdf](../../docs/guide.pdf)\n",
            "assets/img/chart.png": "png", "docs/guide.pdf": "pdf",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(!build.hasErrors, "\(build.diagnostics)")
        let html = try #require(page(build, "help/howto.html"))
        #expect(html.contains("src=\"../assets/img/chart.png\""))
        #expect(html.contains("href=\"../docs/guide.pdf\""))
        #expect(build.files.contains { $0.path == "docs/guide.pdf" })
    }

    /// Hidden files (`.hipkit/secret.key`, `.env`, `.git/`) and the output of earlier builds
    /// (`dist/`) are refused wherever a page or the spec names them, not copied into the site;
    /// the key that seals installation secrets once was, by a link. Other folders, such as
    /// `node_modules/`, are published as linked.
    @Test func hiddenAndOutputFilesAreNotPublished() throws {
        let spec = SiteRendererTests.spec.replacingOccurrences(
            of: "side, name: Side,", with: "side, name: Side, icon: .hipkit/secret.key,")
        let (build, dir) = try build(
            [
                "pages/side.md":
                    "---\nscripts: [../node_modules/lib/x.js]\n---\n[key](../.hipkit/secret.key) [env](../.env)\n[old](../dist/index.html) [cfg](../.git/config) [ok](../docs/guide.pdf)\n",
                ".hipkit/secret.key": "KEY", ".env": "TOKEN=1", "dist/index.html": "old", ".git/config": "cfg",
                "node_modules/lib/x.js": "js", "docs/guide.pdf": "pdf", "assets/.env": "TOKEN=2",
                "assets/.git/config": "cfg", "assets/app.js": "js",
            ], spec: spec)
        defer { try? FileManager.default.removeItem(at: dir) }
        let refused = build.diagnostics.filter { $0.code == .unpublishedFile }
        #expect(refused.count == 5, "\(build.diagnostics)")
        #expect(refused.contains { $0.message.contains("'../.hipkit/secret.key'") && $0.message.contains("hidden") })
        #expect(refused.contains { $0.message.contains("'../.env'") && $0.message.contains("hidden") })
        #expect(refused.contains { $0.message.contains("'../.git/config'") && $0.message.contains("hidden") })
        #expect(refused.contains { $0.message.contains("dist/ holds the output of builds") })
        #expect(refused.contains { $0.location?.file.hasSuffix("addon.yaml") == true && $0.message.contains("icon") })
        #expect(refused.allSatisfy { $0.hint?.contains("assets/") == true })
        let published = Set(build.files.map(\.path))
        #expect(
            published.isDisjoint(with: [
                ".hipkit/secret.key", ".env", "dist/index.html", ".git/config", "assets/.env", "assets/.git/config",
            ]))
        #expect(published.isSuperset(of: ["assets/app.js", "docs/guide.pdf", "node_modules/lib/x.js"]))
        #expect(!build.diagnostics.contains { $0.message.contains("guide.pdf") || $0.message.contains("x.js") })
    }

    /// A symbolic link in the project to a file that is never published is refused as that
    /// file is; links elsewhere are followed, in the project or out of it (assets shared
    /// between projects).
    @Test func aSymbolicLinkToAHiddenFileIsNotPublished() throws {
        let outside = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: outside) }
        try TestSupport.write("shared", to: outside.appendingPathComponent("shared.txt"))
        let spec = SiteRendererTests.spec.replacingOccurrences(
            of: "side, name: Side,", with: "side, name: Side, icon: assets/key.png,")
        let (_, dir) = try build(["assets/app.js": "js", ".hipkit/secret.key": "KEY"], spec: spec)
        defer { try? FileManager.default.removeItem(at: dir) }
        try TestSupport.write(
            "[a](../assets/key.txt) [b](../assets/near.txt) [c](../assets/shared.txt)\n",
            to: dir.appendingPathComponent("pages/side.md"))
        try TestSupport.write("near", to: dir.appendingPathComponent("docs/near.txt"))
        let fm = FileManager.default
        for (link, target) in [
            ("assets/key.txt", "../.hipkit/secret.key"), ("assets/key.png", "../.hipkit/secret.key"),
            ("assets/near.txt", "../docs/near.txt"), ("assets/shared.txt", outside.path + "/shared.txt"),
        ] {
            try fm.createSymbolicLink(atPath: dir.appendingPathComponent(link).path, withDestinationPath: target)
        }
        let build = try ProjectBuild.prepare(dir.path)
        let refused = build.diagnostics.filter { $0.code == .unpublishedFile }
        #expect(refused.count == 2, "\(build.diagnostics)")
        #expect(refused.allSatisfy { $0.message.contains("symbolic link to .hipkit/secret.key") })
        #expect(!build.files.contains { $0.data == Data("KEY".utf8) })
        #expect(!build.diagnostics.contains { $0.message.contains("near.txt") || $0.message.contains("shared.txt") })
    }

    /// A page over the limit is refused before it is rendered, which would take some fifty
    /// times its size in memory.
    @Test func aPageOverTheLimitIsRefused() throws {
        let huge = String(repeating: "A page of great length. ", count: PageRenderer.maxPageBytes / 24 + 1)
        let (build, dir) = try build(["pages/huge.md": huge])
        defer { try? FileManager.default.removeItem(at: dir) }
        let refused = build.diagnostics.filter { $0.code == .inputTooLarge }
        #expect(refused.count == 1, "\(build.diagnostics)")
        #expect(refused.first?.location?.file.hasSuffix("pages/huge.md") == true)
        #expect(refused.first?.message.contains("at most 8 MB") == true)
    }

    /// The values hipkit puts in a page's context read in a layout as strings do: transformed,
    /// as sections, inverted sections, lists, and with no members.
    @Test func pageValuesReadAsStringsInALayout() throws {
        let (build, dir) = try build([
            "pages/home.md": "---\ntitle: Mixed Case\nscripts: [../assets/b.js, ../assets/a.js]\n---\n# Home\n",
            "assets/a.js": "// a\n", "assets/b.js": "// b\n",
            "templates/page.mustache":
                "{{uppercased(page.title)}}|{{#page.title}}[{{.}}]{{/page.title}}|{{^page.title}}none{{/page.title}}"
                + "|{{page.title.text}}|{{#page.scripts}}<{{.}}>{{/page.scripts}}|{{capitalized(view)}}"
                + "|{{#empty(page.source)}}empty{{/empty(page.source)}}{{page.source}}|{{page.root}}"
                + "|{{#sorted(page.scripts)}}<{{.}}>{{/sorted(page.scripts)}}\n",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(build.diagnostics.filter { $0.severity == .error }.isEmpty, "\(build.diagnostics)")
        #expect(
            page(build, "home.html")
                == "MIXED CASE|[Mixed Case]|||<assets/b.js><assets/a.js>|Page|pages/home.md|./"
                + "|<assets/a.js><assets/b.js>\n")
    }

    /// A page's HTML reads as its text wherever a layout puts it: in place (twice), escaped,
    /// transformed, as a section, and under the text content type; what a page's file holds is
    /// the HTML itself, never the marker that stands in for it while the layout renders.
    @Test(arguments: [
        ("{{{page.content}}}|{{{page.content}}}", "<p>a &amp; “b” é</p>\n|<p>a &amp; “b” é</p>\n"),
        ("{{page.content}}", "&lt;p&gt;a &amp;amp; “b” é&lt;/p&gt;\n"),
        ("{{{page.content}}}{{page.content}}", "<p>a &amp; “b” é</p>\n&lt;p&gt;a &amp;amp; “b” é&lt;/p&gt;\n"),
        ("{{{uppercased(page.content)}}}", "<P>A &AMP; “B” É</P>\n"),
        (
            "{{#page.content}}[{{{.}}}]{{/page.content}}{{^page.content}}none{{/page.content}}",
            "[<p>a &amp; “b” é</p>\n]"
        ),
        ("{{%CONTENT_TYPE:TEXT}}{{page.content}}", "<p>a &amp; “b” é</p>\n"),
    ])
    func aPagesHTMLReadsAsItsTextInALayout(_ layout: String, _ expected: String) throws {
        let (build, dir) = try build([
            "pages/home.md": "---\ntitle: Home\n---\na & \"b\" é\n", "templates/page.mustache": layout,
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(build.diagnostics.filter { $0.severity == .error }.isEmpty, "\(build.diagnostics)")
        #expect(page(build, "home.html") == expected)
    }

    /// hipkit renders its own `page` layout written out around `base` (``LayoutLibrary/flattened``);
    /// every page comes out as it does through `{{<base}}` and its partials, which a project's own
    /// `base.mustache` (here the built-in text itself) keeps.
    @Test func builtInLayoutsWrittenOutRenderAsTheyDo() async throws {
        let project = try await TestSupport.scaffold("full", in: "flattened-layouts")
        defer { try? FileManager.default.removeItem(at: project.deletingLastPathComponent()) }
        var diagnostics: [Diagnostic] = []
        let library = LayoutLibrary.load(projectDirectory: project, displayDirectory: "p", diagnostics: &diagnostics)
        let texts = library.texts.mapValues { LayoutLibrary.Source(text: $0, origin: "built-in", isBuiltIn: true) }
        for keepingBlocks in [false, true] {
            #expect(LayoutLibrary.flattened(ViewLayout.page.rawValue, in: texts, keepingBlocks: keepingBlocks) != nil)
        }
        func pages() throws -> [String: Data] {
            let build = try ProjectBuild.prepare(project.path)
            #expect(!build.hasErrors, "\(build.diagnostics)")
            return Dictionary(
                uniqueKeysWithValues: build.files.filter { $0.path.hasSuffix(".html") }.map { ($0.path, $0.data) })
        }
        let written = try pages()
        try FileManager.default.createDirectory(
            at: project.appendingPathComponent("templates"), withIntermediateDirectories: true)
        try #require(library.texts["base"]).write(
            to: project.appendingPathComponent("templates/base.mustache"), atomically: true, encoding: .utf8)
        let extended = try pages()
        #expect(Set(written.keys) == Set(extended.keys))
        #expect(written.keys.count >= 6, "\(written.keys.sorted())")
        for (path, data) in extended {
            #expect(written[path] == data, "\(path) differs")
        }
    }

    /// A project's layout that extends the built-in `page` fills base's blocks through it, as
    /// with `page` not written out (a project's `base.mustache` keeps it so): its `head` and its
    /// `content`.
    @Test func aLayoutExtendingPageFillsBasesBlocks() throws {
        var files = [
            "pages/home.md": "---\nlayout: article\n---\nText\n",
            "templates/article.mustache":
                "{{<page}}\n{{$head}}<meta name=\"x\" content=\"y\">{{/head}}\n{{$content}}\n<article>\n{{{page.content}}}\n</article>\n{{/content}}\n{{/page}}\n",
        ]
        let (build, dir) = try build(files)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(!build.hasErrors, "\(build.diagnostics)")
        let home = try #require(page(build, "home.html"))
        #expect(home.contains("<meta name=\"x\" content=\"y\">\n</head>"), "\(home)")
        #expect(home.contains("<article>\n<p>Text</p>\n\n</article>"), "\(home)")
        #expect(!home.contains("hipkit-page-page"), "\(home)")
        var diagnostics: [Diagnostic] = []
        files["templates/base.mustache"] = try #require(
            LayoutLibrary.load(projectDirectory: dir, displayDirectory: "p", diagnostics: &diagnostics).texts["base"])
        let (extended, extendedDir) = try self.build(files, name: "aLayoutExtendingPageFillsBasesBlocks-2")
        defer { try? FileManager.default.removeItem(at: extendedDir) }
        #expect(page(extended, "home.html") == home)
    }

    /// A partial included with indentation indents what it renders, the page's HTML included,
    /// as swift-mustache does it with the HTML as text: before each piece that starts a line.
    /// (The HTML's marker, ending without a line feed, would leave the next line unindented.)
    @Test func anIndentedPartialIndentsAsWithTheHTMLAsText() throws {
        let (build, dir) = try build([
            "pages/home.md": "---\ntitle: Home\n---\nOne\n\nTwo\n",
            "templates/page.mustache": "<body>\n  {{> main}}\n</body>\n",
            "templates/main.mustache": "<main>\n{{{page.content}}}\n</main>\n",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(page(build, "home.html") == "<body>\n  <main>\n  <p>One</p>\n<p>Two</p>\n  \n  </main>\n</body>\n")
    }

    /// A page whose own values hold U+0001, the byte that starts the HTML's marker, is rendered
    /// with the HTML's text, whole.
    @Test func aPageWhoseTitleHoldsU0001IsWhole() throws {
        let (build, dir) = try build([
            "pages/home.md": "---\ntitle: \"a\\x01b\"\n---\nText\n",
            "templates/page.mustache": "{{{page.title}}}|{{{page.content}}}",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(page(build, "home.html") == "a\u{1}b|<p>Text</p>\n")
    }

    /// A layout that could include itself is refused before swift-mustache renders it, which
    /// would recurse until the stack ran out (hipkit crashed): through a partial named while
    /// rendering, after a change of delimiters, or by a name with characters such as `()`.
    @Test(arguments: [
        (["templates/sidebar.mustache": "<p>{{>*view}}</p>\n"], DiagnosticCode.templateSyntax, 1, 4),
        (["templates/sidebar.mustache": "{{=<% %>=}}\n<p><%> sidebar %></p>\n"], .templateRecursion, 2, 4),
        (
            [
                "templates/sidebar.mustache": "<p>{{> side(bar)}}</p>\n",
                "templates/side(bar).mustache": "{{> sidebar}}",
            ],
            .templateRecursion, 1, 4
        ),
    ])
    func aLayoutThatCouldIncludeItselfIsRefused(
        _ files: [String: String], _ code: DiagnosticCode, _ line: Int, _ column: Int
    ) throws {
        let (build, dir) = try build(files)
        defer { try? FileManager.default.removeItem(at: dir) }
        let found = build.diagnostics.first { $0.location?.file.hasSuffix("templates/sidebar.mustache") == true }
        #expect(found?.code == code, "\(build.diagnostics)")
        #expect(found?.location?.line == line)
        #expect(found?.location?.column == column)
    }

    @Test func badPagesGetDiagnostics() throws {
        let (build, dir) = try build([
            "pages/side.md": "---\ntitle: [unclosed\n---\n# S\n",
            "pages/dlg.md": "---\nlayout: sidebr\n---\n# D\n",
            "pages/open.md": "---\ntitle: never closed\n# body\n",
            "templates/page.mustache": "<p>{{#page}}unclosed section</p>",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data([0x23, 0x20, 0x4F, 0x4B, 0x0A, 0x62, 0x61, 0x64, 0xFF, 0x0A]).write(
            to: dir.appendingPathComponent("pages/binary.md"))
        let rebuilt = try ProjectBuild.prepare(dir.path)
        let byFile = Dictionary(grouping: rebuilt.diagnostics) {
            ($0.location?.file as NSString?)?.lastPathComponent ?? ""
        }
        #expect(byFile["side.md"]?.first?.code == .yamlSyntax)
        #expect(byFile["side.md"]?.first?.location?.line == 3)
        #expect(byFile["side.md"]?.first?.message.contains("starts at line 2") == true)
        #expect(byFile["dlg.md"]?.first?.code == .unknownLayout)
        #expect(byFile["dlg.md"]?.first?.location?.line == 2)
        #expect(byFile["dlg.md"]?.first?.hint == "did you mean 'sidebar'?")
        #expect(byFile["open.md"]?.first?.code == .frontMatterUnclosed)
        #expect(byFile["binary.md"]?.first?.code == .invalidUtf8)
        #expect(byFile["binary.md"]?.first?.location?.line == 2)
        #expect(byFile["binary.md"]?.first?.location?.column == 4)
        #expect(byFile["page.mustache"]?.first?.code == .templateSyntax)
        _ = build
    }

    /// The template checks count lines by line feeds (CRLF files too) and columns in Unicode
    /// scalars, as editors show them.
    @Test func templateChecksFindTheirTagsLine() {
        let deep = "é\r\nb\r\n" + String(repeating: "{{#x}}", count: LayoutLibrary.maxNesting + 1)
        #expect(LayoutLibrary.deepestNesting(TemplateTags(deep)) == 3)
        #expect(LayoutLibrary.deepestNesting(TemplateTags(String(repeating: "{{#x}}{{/x}}", count: 100))) == nil)
        let stray = LayoutLibrary.sectionProblem(TemplateTags("é日\r\n  {{#a}}{{/a}} {{/x}}"))
        #expect(stray?.line == 2)
        #expect(stray?.column == 16)
        let unclosed = LayoutLibrary.sectionProblem(TemplateTags("{{{raw}}}\n😀 {{# outer }}\n{{^inner}}{{/inner}}"))
        #expect(unclosed?.message == "the section 'outer' opened here is never closed")
        #expect(unclosed?.line == 2)
        #expect(unclosed?.column == 3)
        // Tags after a change of delimiters are read with the new ones.
        let changed = LayoutLibrary.sectionProblem(TemplateTags("{{=<% %>=}}\n<%#a%>{{/a}}"))
        #expect(changed?.message == "the section 'a' opened here is never closed")
        #expect(changed?.line == 2)
        #expect(LayoutLibrary.sectionProblem(TemplateTags("{{=<% %>=}}<%#a%><%/a%>")) == nil)
        #expect(LayoutLibrary.sectionProblem(TemplateTags("{{#a}} {{/a"))?.line == 1)
        // A missing or recursive partial is shown at its tag (it was always column 1).
        let partial = LayoutLibrary.referenceLocation(
            to: "footer", in: TemplateTags("é\r\n  日 {{> footer}}"), file: "t")
        #expect(partial.line == 2)
        #expect(partial.column == 5)
    }

    @Test func outputIsDeterministic() throws {
        let files = (1...40).reduce(into: [String: String]()) {
            $0["pages/p\($1).md"] = "# Page \($1)\n\n[next](p\($1 % 40 + 1).md)\n"
        }
        let (a, dir) = try build(files)
        defer { try? FileManager.default.removeItem(at: dir) }
        let b = try ProjectBuild.prepare(dir.path)
        #expect(a.files == b.files)
        // 40 pages, the two view pages, the descriptor, the runtime manifest, the preview twice
        #expect(a.files.count == 40 + 2 + 4)
    }
}
