import Foundation
import HipChatConnect

extension BuildStep {
    /// Every Markdown file under `pages/`, and the pages modules name from elsewhere, with the
    /// path each becomes; two sources of one page are an error.
    static let collectPages = BuildStep("collect pages") { context in
        let project = context.project
        var sources = ((try? FileTree.files(under: project.directory.appendingPathComponent("pages"))) ?? [])
            .filter(SitePath.isMarkdown).map { "pages/" + $0 }
        for reference in project.pages where !sources.contains(reference.source) { sources.append(reference.source) }
        sources.sort()
        for source in sources {
            let output = SitePath.output(forProjectFile: source)
            if let other = context.pagesByOutput[output] {
                context.diagnostics.append(
                    .error(
                        .pageCollision, "\(source) and \(other) would both become \(output)",
                        at: SourceLocation(
                            file: ProjectLoader.join(context.displayDirectory, source), line: 1, column: 1),
                        hint: "rename one of them"))
                continue
            }
            context.pageOutputs[source] = output
            context.pagesByOutput[output] = source
        }
        context.pageSources = sources
    }

    /// The built-in layouts, overridden and extended by the project's `templates/`.
    static let loadLayouts = BuildStep("load layouts") { context in
        context.layouts = LayoutLibrary.load(
            projectDirectory: context.project.directory, displayDirectory: context.displayDirectory,
            diagnostics: &context.diagnostics)
    }

    /// Every page rendered on every core, or taken from the cache when nothing it reads changed.
    static let renderPages = BuildStep("render pages") { context in
        guard let layouts = context.layouts else { return }
        let project = context.project
        let links = LinkResolver(
            projectDirectory: project.directory, pageOutputs: context.pageOutputs,
            pagesByOutput: context.pagesByOutput)
        let renderer = PageRenderer(
            project: project, displayDirectory: context.displayDirectory, layouts: layouts, links: links)
        // A broken layout or page collision would be cached with the pages it broke.
        let cache = context.diagnostics.hasErrors ? nil : context.cache
        let outputs = context.pageOutputs
        let ordered = context.pageSources.compactMap { source in outputs[source].map { (source, $0) } }
        let references = Dictionary(grouping: project.pages, by: \.source)
        context.diagnostics += Self.pagesShownAsTwoViews(references)

        // Results land in fixed slots, so output order never varies.
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
            let result = renderer.render(source: source, output: output, references: refs, recordingLinks: cache != nil)
            if let cache, let key { cache.store(key, result) }
            results[i] = result
        }
        for (i, (source, _)) in ordered.enumerated() {
            guard let result = results[i] else { continue }
            context.diagnostics += result.diagnostics
            if let file = result.file { context.add(file, from: source) }
            context.linkedAssets += result.assets
            context.titles[source] = result.title
        }
    }

    /// A page shown by modules that need different views (a sidebar and a dialog) is rendered
    /// once, as the first module's view: the other gets none of its own (a dialog shown with the
    /// sidebar's view never hears its buttons). A warning at each later module's `page:`.
    static func pagesShownAsTwoViews(_ references: [String: [PageReference]]) -> [Diagnostic] {
        references.keys.sorted().flatMap { source -> [Diagnostic] in
            let refs = references[source]!
            guard let first = refs.first else { return [] }
            let view = ViewLayout(showing: first.moduleKind)
            return refs.dropFirst().filter { ViewLayout(showing: $0.moduleKind) != view }.map { other in
                .warning(
                    .pageCollision,
                    "\(source) is shown as a \(view.rawValue) by the \(SpecSchema.word(for: first.moduleKind)) '\(first.moduleKey ?? "")' and as a \(ViewLayout(showing: other.moduleKind).rawValue) here; it is rendered once, as a \(view.rawValue)",
                    at: other.location,
                    hint: "give this module a page of its own (a partial in templates/ can hold what they share)")
            }
        }
    }

    /// `assets/` (but its hidden files, `.env` or `.DS_Store`, which `hipkit serve` would never
    /// serve either), the files the descriptor and the pages refer to, and HipChat's script and
    /// stylesheet when they are project files.
    static let copyAssets = BuildStep("copy assets") { context in
        let project = context.project
        var copies = Set(
            ((try? FileTree.files(under: project.directory.appendingPathComponent("assets"))) ?? []).map {
                "assets/" + $0
            }.filter { ProjectLayout.unpublishedReason($0) == nil })
        copies.formUnion(project.assets)
        copies.formUnion(context.linkedAssets)
        let settings = project.pageSettings
        for (name, resource, location) in [
            ("hipchatJs", settings.hipchatJs, settings.hipchatJsLocation),
            ("hipchatCss", settings.hipchatCss, settings.hipchatCssLocation),
        ]
        where !URLReference.isAbsolute(resource) && !resource.hasPrefix("/") {
            guard let path = SitePath.normalised(resource),
                FileManager.default.fileExists(atPath: project.directory.appendingPathComponent(path).path)
            else {
                context.diagnostics.append(
                    .error(
                        .missingFile, "\(name) names '\(resource)', which is neither a URL nor a file of the project",
                        at: location ?? SourceLocation(file: project.specFile, line: 1, column: 1),
                        hint: "give a full https:// URL, or a path from the project folder to the file"))
                continue
            }
            if let reason = ProjectLayout(directory: project.directory).unpublishedReason(path) {
                context.diagnostics.append(
                    ProjectLayout.unpublishedError(
                        "\(name) names '\(resource)'", reason: reason,
                        at: location ?? SourceLocation(file: project.specFile, line: 1, column: 1)))
                continue
            }
            copies.insert(path)
        }
        for path in copies.sorted() {
            let shown = ProjectLoader.join(context.displayDirectory, path)
            guard let data = FileManager.default.contents(atPath: project.directory.appendingPathComponent(path).path)
            else {
                context.diagnostics.append(
                    .error(.unreadableFile, "cannot read \(shown)", at: SourceLocation(file: shown, line: 1, column: 1))
                )
                continue
            }
            context.add(SiteFile(path: SitePath.output(forProjectFile: path), data: data), from: path)
        }
    }

    /// Each glance's static `data:`, where its `queryUrl` points.
    static let glanceData = BuildStep("glance data") { context in
        for glance in context.project.glances {
            context.add(
                SiteFile(
                    path: String(glance.urlPath.drop { $0 == "/" }),
                    data: Data(JSONWriter.string(glance.data.withoutLocations).utf8)),
                from: "the data of glance '\(glance.key)'")
        }
    }

    /// The preview of the whole add-on, at ``SitePath/preview``, and at `index.html` too when the
    /// project has no root page of its own.
    static let preview = BuildStep("preview") { context in
        guard let layouts = context.layouts, layouts.has("preview") else { return }
        let (project, outputs, titles) = (context.project, context.pageOutputs, context.titles)
        let builtIn = layouts.isBuiltIn("preview")
        func render(at path: String) -> String? {
            layouts.render(
                PreviewPage(project: project, pageOutputs: outputs, titles: titles, path: path, givesPages: !builtIn)
                    .context(),
                layout: "preview")
        }
        guard let html = render(at: SitePath.preview) else { return }
        context.add(SiteFile(path: SitePath.preview, data: Data(html.utf8)), from: "the preview")
        guard !context.files.contains(where: { $0.path == "index.html" }) else { return }
        // The root's copy lists every page too; rather than render it again with links from the
        // root, it is the same document with a `<base>` pointing its links into `_preview/` —
        // when the layout is hipkit's own, which has no link a `<base>` would change otherwise
        // (`#top`, `?q`). A project's own preview is rendered again for the root.
        let root =
            builtIn
            ? PreviewPage.rebased(html, onto: SitePath.previewFolder.dropFirst()) : render(at: "index.html")
        if let root { context.add(SiteFile(path: "index.html", data: Data(root.utf8)), from: "the preview") }
    }

    /// Starts the listing's highlight crops (see ``ListingCrops``), to run beside the pages;
    /// ``listing`` takes them.
    static let startCrops = BuildStep("start crops") { context in
        let project = context.project
        guard let listing = project.listing, project.isMarketplaceBuild, !context.checkOnly else { return }
        context.crops = ListingCrops(
            listing,
            cacheDirectory: context.cache == nil ? nil : ProjectLayout(directory: project.directory).cropCacheDirectory)
    }

    /// `marketplace/` and `marketplace.zip`, from the listing the loader read; only in a build
    /// Marketplace can take (see ``AddonProject/isMarketplaceBuild``). A check only checks the
    /// highlight crops it would make.
    static let listing = BuildStep("listing") { context in
        guard let listing = context.project.listing, context.project.isMarketplaceBuild,
            let layouts = context.layouts
        else { return }
        let project = context.project
        if context.checkOnly {
            context.diagnostics += ListingBundle(project: project, listing: listing, layouts: layouts).check()
            return
        }
        do {
            let descriptor = Data(JSONWriter.string(project.descriptor.json.withoutLocations).utf8)
            let bundle = try ListingBundle(project: project, listing: listing, layouts: layouts).files(
                descriptor: descriptor, crops: context.crops)
            for file in bundle.files { context.add(file, from: "the Marketplace listing") }
            context.diagnostics += bundle.diagnostics
        } catch {
            context.diagnostics.append(
                .error(.listingBundle, "cannot make the Marketplace bundle: \(error)", at: project.listingLocation))
        }
    }

    /// `atlassian-connect.json`.
    static let descriptor = BuildStep("descriptor") { context in
        context.add(
            SiteFile(
                path: ConnectDescriptor.fileName,
                data: Data(JSONWriter.string(context.project.descriptor.json.withoutLocations).utf8)),
            from: BuildStep.generated)
    }

    /// `_hipkit/runtime.json`, checked with the rules the server will apply to it.
    static let runtimeManifest = BuildStep("runtime manifest") { context in
        let manifest = RuntimeManifest(project: context.project)
        // The server's check of what it will read, as a net under the spec's own checks. Those
        // report the same problems at their lines first; a second report at line 1 of the spec
        // would only repeat them, so the net speaks only when they found no error.
        if !context.specHasErrors && !context.diagnostics.hasErrors {
            context.diagnostics += RuntimeManifestValidator(file: context.project.specFile).validate(manifest)
                .filter { $0.severity == .error }
        }
        context.add(SiteFile(path: RuntimeManifest.path, data: manifest.encoded()), from: BuildStep.generated)
    }

    /// Every URL the spec writes relative to the base URL must be answered when the build is
    /// served: by a file of the build (a page, an asset, the descriptor), or by `hipkit serve`
    /// itself (``RuntimeEndpoint``). Anything else is a link HipChat would follow to a 404,
    /// reported at the spec's line. A URL written in full (or added by `extra:`) is the user's
    /// own pointer, to an endpoint served elsewhere, and is not checked.
    static let answeredURLs = BuildStep("url check") { context in
        let project = context.project
        func relative(_ url: String) -> String? { URLOrigin.path(of: url, below: project.baseUrl) }
        let files = Set(context.files.map(\.path))
        var answered = Set(project.descriptor.runtimeEndpoints.compactMap { relative($0.url.value) })
        // The server answers links.self with the descriptor, wherever it points.
        if let path = project.descriptor.selfURL.flatMap({ relative($0.value) }) { answered.insert(path) }
        var reported = Set<String>()
        for url in project.descriptorURLs where !url.url.contains("{") {
            guard let path = relative(url.url), !answered.contains(path),
                !SitePath.files(for: path).contains(where: files.contains)
            else { continue }
            guard reported.insert("\(url.location.map(\.description) ?? "")|\(url.url)").inserted else { continue }
            let name = path.split(separator: "/").last.map(String.init) ?? ""
            let isPage = path.isEmpty || path.hasSuffix("/") || !name.contains(".") || name.hasSuffix(".html")
            var add: String
            if isPage {
                var page = path.hasSuffix(".html") ? String(path.dropLast(5)) : path
                if page.isEmpty || page.hasSuffix("/") { page += "index" }
                // A module's own url (a dialog's, a sidebar's, the configuration page's) is a
                // view: a page becomes one only when the module names it with page:, which
                // gives it the view's layout and HipChat's script. Added as a plain page, it
                // would be answered, and show as no view.
                let isModuleURL =
                    url.what.hasPrefix("'url' of ") || url.what.hasPrefix("'capabilities.configurable.url'")
                    || url.what.hasPrefix("'capabilities.adminPage.url'")
                add =
                    isModuleURL
                    ? "add pages/\(page).md and write page: pages/\(page).md in place of this url (hipkit renders it as this module's view, at \(page).html)"
                    : "add pages/\(page).md (it becomes \(page).html)"
            } else {
                add = "name a project file instead of a URL (assets/\(name), say, which the build copies)"
            }
            context.diagnostics.append(
                .error(
                    .unansweredUrl,
                    "\(url.what) is \(url.url), under the base URL, but nothing answers it: no file of the build "
                        + "is there, and it is no path hipkit serve answers",
                    at: url.location,
                    hint: "\(add); or, for something served apart from this build, write its URL in full "
                        + "(https://…)"))
        }
    }

    /// Two files for one output path would overwrite each other: an error naming both sources,
    /// unless they are the same bytes (a page linking an asset also under `assets/`).
    static let collisionCheck = BuildStep("collision check") { context in
        var first: [String: Int] = [:]
        var keep: [Bool] = []
        for (i, file) in context.files.enumerated() {
            guard let j = first[file.path] else {
                first[file.path] = i
                keep.append(true)
                continue
            }
            keep.append(false)
            let (a, b) = (context.origins[j], context.origins[i])
            let generated = [a, b].contains(BuildStep.generated)
            guard generated || context.files[j].data != file.data else { continue }
            let source = generated ? (a == BuildStep.generated ? b : a) : b
            let message =
                generated
                ? "\(source) would be written to \(file.path), where hipkit writes the add-on's own \(file.path)"
                : "\(a) and \(b) would both be written to \(file.path)"
            // At the project file among the two, where there is one.
            let file = [source, a].first {
                FileManager.default.fileExists(atPath: context.project.directory.appendingPathComponent($0).path)
            }
            let location = SourceLocation(
                file: file.map { ProjectLoader.join(context.displayDirectory, $0) } ?? context.project.specFile,
                line: 1, column: 1)
            context.diagnostics.append(
                .error(
                    .outputCollision, message, at: location,
                    hint: generated
                        ? "rename or move \(source); the path is the add-on's"
                        : "rename one; pages lose their pages/ prefix in the site"))
        }
        context.files = zip(context.files, keep).filter(\.1).map(\.0)
        context.origins = zip(context.origins, keep).filter(\.1).map(\.0)
    }

    /// The origin of the files the build itself makes (descriptor, runtime manifest).
    static let generated = "hipkit"
}
