import Foundation
import HipChatConnect
import Testing

@testable import HipKit

/// What each kind of change renders again, and that an incremental build's output is
/// byte-identical to a clean build's.
@Suite struct IncrementalBuildTests {
    static let spec = """
        key: com.example.inc
        name: Incremental
        description: d
        baseUrl: https://inc.example.com
        sidebars:
          - {key: side, name: Side, page: pages/side.md}
        dialogs:
          - {key: dlg, title: Dialog, page: pages/dlg.md}

        """

    static let files = [
        "pages/side.md": "# Side\n\nSee [help](help.md) and ![logo](../assets/logo.png).\n",
        "pages/dlg.md": "# Dialog\n",
        "pages/help.md": "# Help\n",
        "pages/faq.md": "# FAQ\n\n[back](help.md)\n",
        "assets/logo.png": "not really a png",
    ]

    /// Builds with the cache and reports how many pages were rendered (cache misses).
    func build(_ dir: URL) throws -> (rendered: Int, outcome: SiteBuilder.Outcome?, build: ProjectBuild) {
        let loader = ProjectLoader()
        let outcome = try loader.load(dir.path)
        let project = try #require(outcome.project)
        let cache = BuildCache(project: project.directory)
        var context = BuildContext(project: project, cache: cache)
        _ = BuildStep.run(on: &context)
        let prepared = try ProjectBuild.prepare(dir.path, cached: true)
        let written = prepared.hasErrors ? nil : try prepared.write(to: dir.appendingPathComponent("dist"))
        return (cache.misses, written, prepared)
    }

    func edit(_ dir: URL, _ path: String, _ text: String?) throws {
        let url = dir.appendingPathComponent(path)
        if let text { try TestSupport.write(text, to: url) } else { try FileManager.default.removeItem(at: url) }
    }

    @Test func eachKindOfChangeRendersOnlyWhatItAffects() throws {
        let dir = try TestSupport.project(Self.spec, files: Self.files)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try build(dir).rendered == 4)
        // Nothing changed: nothing rendered, nothing written.
        let again = try build(dir)
        #expect(again.rendered == 0)
        #expect(again.outcome == .unchanged)

        // A page edit renders that page.
        try edit(dir, "pages/dlg.md", "# Dialog, edited\n")
        #expect(try build(dir).rendered == 1)

        // A template edit renders the pages using it: a project sidebar layout touches side.md only.
        try edit(
            dir, "templates/sidebar.mustache",
            "{{<base}}{{$content}}<aside>{{{page.content}}}</aside>{{/content}}{{/base}}")
        #expect(try build(dir).rendered == 1)
        // The base layout is used by every page.
        try edit(dir, "templates/base.mustache", "<html><body>{{$content}}{{{page.content}}}{{/content}}</body></html>")
        #expect(try build(dir).rendered == 4)

        // A spec edit renders the pages whose values changed: a module's name, its page only …
        let spec = dir.appendingPathComponent("addon.yaml")
        try edit(dir, "addon.yaml", Self.spec.replacingOccurrences(of: "name: Side", with: "name: Sidebar"))
        #expect(try build(dir).rendered == 1)
        // … the add-on's name, every page.
        try edit(
            dir, "addon.yaml",
            try String(contentsOf: spec, encoding: .utf8).replacingOccurrences(
                of: "name: Incremental", with: "name: Renamed"))
        #expect(try build(dir).rendered == 4)

        // An asset edit renders no page; the build writes that one file and links the rest.
        try edit(dir, "assets/logo.png", "a new logo")
        let assetBuild = try build(dir)
        #expect(assetBuild.rendered == 0)
        #expect(assetBuild.outcome == .replaced(written: 1, linked: assetBuild.build.files.count - 1))
    }

    @Test func aDeletedPageRendersThePagesLinkingToIt() throws {
        let dir = try TestSupport.project(Self.spec, files: Self.files)
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try build(dir)
        try edit(dir, "pages/help.md", nil)
        let after = try build(dir)
        // side.md and faq.md link to help.md: they render again (and now report the broken link);
        // dlg.md does not.
        #expect(after.rendered == 2)
        let broken = after.build.diagnostics.filter { $0.code == .brokenLink }.compactMap { $0.location?.file }
        #expect(broken.map { ($0 as NSString).lastPathComponent }.sorted() == ["faq.md", "side.md"])
        #expect(after.outcome == nil, "nothing is written with errors")
    }

    @Test func aRenamedAssetRendersThePagesLinkingToIt() throws {
        let dir = try TestSupport.project(Self.spec, files: Self.files)
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try build(dir)
        try FileManager.default.moveItem(
            at: dir.appendingPathComponent("assets/logo.png"), to: dir.appendingPathComponent("assets/brand.png"))
        let renamed = try build(dir)
        #expect(renamed.rendered == 1)
        #expect(renamed.build.diagnostics.contains { $0.code == .brokenLink && $0.location?.line == 3 })
        // Fix the link: that page renders again and the site holds the new name only.
        try edit(dir, "pages/side.md", "# Side\n\nSee [help](help.md) and ![logo](../assets/brand.png).\n")
        let fixed = try build(dir)
        #expect(fixed.rendered == 1)
        let paths = try FileTree.files(under: dir.appendingPathComponent("dist"))
        #expect(paths.contains("assets/brand.png") && !paths.contains("assets/logo.png"))
    }

    /// Files are written by several writers at once: pages in many new nested folders all land,
    /// whole, and a second build links the unchanged ones and writes the changed.
    @Test func manyPagesInManyFoldersAreWrittenWhole() throws {
        var files = Self.files
        for i in 0..<240 {
            files["pages/s\(i % 12)/t\(i % 5)/p\(i).md"] =
                "# Page \(i)\n\n" + String(repeating: "text \(i) ", count: i * 7)
        }
        let dir = try TestSupport.project(Self.spec, files: files)
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try build(dir)
        #expect(first.outcome == .replaced(written: first.build.files.count, linked: 0))
        for file in first.build.files {
            let written = try Data(contentsOf: dir.appendingPathComponent("dist/" + file.path))
            #expect(written == file.data, "\(file.path)")
        }
        try edit(dir, "pages/s3/t3/p3.md", "# Changed\n")
        let second = try build(dir)
        // The page, and the preview at both its paths (the title changed).
        #expect(second.outcome == .replaced(written: 3, linked: first.build.files.count - 3))
        let clean = dir.appendingPathComponent("clean")
        try ProjectBuild.prepare(dir.path, cached: false).write(to: clean)
        #expect(try TestSupport.snapshot(clean) == TestSupport.snapshot(dir.appendingPathComponent("dist")))
    }

    @Test func incrementalOutputIsByteIdenticalToACleanBuild() throws {
        let dir = try TestSupport.project(Self.spec, files: Self.files)
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try build(dir)
        try edit(dir, "pages/faq.md", "# FAQ\n\nChanged.\n")
        try edit(dir, "pages/new.md", "# New\n\n[faq](faq.md)\n")
        try edit(dir, "assets/logo.png", "logo 2")
        try edit(dir, "templates/page.mustache", "<p>{{page.title}}</p>{{{page.content}}}")
        _ = try build(dir)
        let incremental = try TestSupport.snapshot(dir.appendingPathComponent("dist"))

        let clean = dir.appendingPathComponent("clean")
        let fresh = try ProjectBuild.prepare(dir.path, cached: false)
        try fresh.write(to: clean)
        #expect(try TestSupport.snapshot(clean) == incremental)
    }
}
