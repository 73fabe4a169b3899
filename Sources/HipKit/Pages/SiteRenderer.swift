import Foundation
import HipChatConnect

/// Renders a project's whole site in memory: every Markdown page under `pages/` (and any page a
/// module names), the files under `assets/` and those the descriptor and pages refer to, static
/// glance data, and the `index.html` preview. Nothing is written here, so `hipkit validate`
/// checks pages too, and a build writes only a site that rendered without errors.
public struct SiteRenderer: Sendable {
    /// Where rendered pages are kept between builds; nil renders every page.
    public var cache: BuildCache?

    public init(cache: BuildCache? = nil) {
        self.cache = cache
    }

    public struct Output: Sendable {
        public var files: [SiteFile]
        public var diagnostics: [Diagnostic]
    }

    public func render(_ project: AddonProject) -> Output {
        let display = (project.specFile as NSString).deletingLastPathComponent
        var diagnostics: [Diagnostic] = []

        // Pages: every Markdown file under pages/, and pages modules name from elsewhere.
        var sources = ((try? FileTree.files(under: project.directory.appendingPathComponent("pages"))) ?? [])
            .filter(SitePath.isMarkdown).map { "pages/" + $0 }
        for reference in project.pages where !sources.contains(reference.source) { sources.append(reference.source) }
        sources.sort()
        var pageOutputs: [String: String] = [:]
        var pagesByOutput: [String: String] = [:]
        for source in sources {
            let output = SitePath.output(forProjectFile: source)
            if let other = pagesByOutput[output] {
                diagnostics.append(
                    .error(
                        .pageCollision, "\(source) and \(other) would both become \(output)",
                        at: SourceLocation(file: ProjectLoader.join(display, source), line: 1, column: 1),
                        hint: "rename one of them"))
                continue
            }
            pageOutputs[source] = output
            pagesByOutput[output] = source
        }

        let layouts = LayoutLibrary.load(
            projectDirectory: project.directory, displayDirectory: display, diagnostics: &diagnostics)
        let links = LinkResolver(
            projectDirectory: project.directory, pageOutputs: pageOutputs, pagesByOutput: pagesByOutput)
        let renderer = PageRenderer(project: project, displayDirectory: display, layouts: layouts, links: links)
        let cache = diagnostics.hasErrors ? nil : self.cache
        let outputs = pageOutputs
        let ordered = sources.compactMap { source in outputs[source].map { (source, $0) } }
        let references = Dictionary(grouping: project.pages, by: \.source)

        // Pages render on every core; results land in fixed slots, so output order never varies.
        let results = ResultSlots<PageRenderer.Result>(count: ordered.count)
        DispatchQueue.concurrentPerform(iterations: ordered.count) { i in
            let (source, output) = ordered[i]
            let refs = references[source] ?? []
            let key = cache.flatMap { _ in renderer.cacheKey(source: source, output: output, references: refs) }
            if let cache, let key,
                let hit = cache.lookup(
                    key, output: output,
                    stillValid: { entry in
                        entry.links.allSatisfy { url, summary in
                            links.resolve(url, fromSource: source, output: output).summary == summary
                        }
                    })
            {
                results[i] = hit
                return
            }
            let result = renderer.render(source: source, output: output, references: refs)
            if let cache, let key { cache.store(key, result) }
            results[i] = result
        }
        var files: [SiteFile] = []
        var linkedAssets: [String] = []
        var titles: [String: String] = [:]
        for (i, (source, _)) in ordered.enumerated() {
            guard let result = results[i] else { continue }
            diagnostics += result.diagnostics
            if let file = result.file { files.append(file) }
            linkedAssets += result.assets
            titles[source] = result.title
        }

        // Files: assets/, what the descriptor and pages refer to, and HipChat's scripts when local.
        var copies = Set(
            ((try? FileTree.files(under: project.directory.appendingPathComponent("assets"))) ?? []).map {
                "assets/" + $0
            })
        copies.formUnion(project.assets)
        copies.formUnion(linkedAssets)
        let settings = project.pageSettings
        for (name, resource, location) in [
            ("hipchatJs", settings.hipchatJs, settings.hipchatJsLocation),
            ("hipchatCss", settings.hipchatCss, settings.hipchatCssLocation),
        ]
        where !SpecTranslator.isAbsolute(resource) && !resource.hasPrefix("/") {
            guard let path = SitePath.normalised(resource),
                FileManager.default.fileExists(atPath: project.directory.appendingPathComponent(path).path)
            else {
                diagnostics.append(
                    .error(
                        .missingFile, "\(name) names '\(resource)', which is neither a URL nor a file of the project",
                        at: location ?? SourceLocation(file: project.specFile, line: 1, column: 1),
                        hint: "give a full https:// URL, or a path from the project folder to the file"))
                continue
            }
            copies.insert(path)
        }
        for path in copies.sorted() {
            guard let data = FileManager.default.contents(atPath: project.directory.appendingPathComponent(path).path)
            else {
                diagnostics.append(
                    .error(
                        .unreadableFile, "cannot read \(ProjectLoader.join(display, path))",
                        at: SourceLocation(file: ProjectLoader.join(display, path), line: 1, column: 1)))
                continue
            }
            files.append(SiteFile(path: SitePath.output(forProjectFile: path), data: data))
        }

        for glance in project.glances {
            files.append(
                SiteFile(
                    path: String(glance.urlPath.drop { $0 == "/" }),
                    data: Data(JSONWriter.string(glance.data.withoutLocations).utf8)))
        }

        if layouts.has("preview") {
            let preview = PreviewPage(project: project, pageOutputs: pageOutputs, titles: titles)
            if let html = layouts.render(preview.context(), layout: "preview") {
                files.append(SiteFile(path: "index.html", data: Data(html.utf8)))
            }
        }

        if let listing = project.listing {
            do {
                let descriptor = Data(JSONWriter.string(project.descriptor.json.withoutLocations).utf8)
                let bundle = try ListingBundle(project: project, listing: listing, layouts: layouts).files(
                    descriptor: descriptor)
                files += bundle.files
                diagnostics += bundle.diagnostics
            } catch {
                diagnostics.append(
                    .error(
                        .listingBundle, "cannot make the Marketplace bundle: \(error)", at: project.listingLocation))
            }
        }

        // Two sources of one output path would overwrite each other: refuse instead.
        var seen: [String: Int] = [:]
        for (i, file) in files.enumerated() {
            if let first = seen[file.path] {
                if files[first].data != file.data {
                    diagnostics.append(
                        .error(
                            .outputCollision, "two files of the project would both be written to \(file.path)",
                            at: SourceLocation(file: project.specFile, line: 1, column: 1),
                            hint: "rename one; pages lose their pages/ prefix in the site"))
                }
            } else {
                seen[file.path] = i
            }
        }
        let unique = files.enumerated().filter { seen[$0.element.path] == $0.offset }.map(\.element)
        return Output(files: unique.sorted { $0.path < $1.path }, diagnostics: diagnostics)
    }
}

/// Fixed slots written from `concurrentPerform`, one per index, each by one thread.
final class ResultSlots<T: Sendable>: @unchecked Sendable {
    private var slots: [T?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    subscript(i: Int) -> T? {
        get { lock.withLock { slots[i] } }
        set { lock.withLock { slots[i] = newValue } }
    }
}
