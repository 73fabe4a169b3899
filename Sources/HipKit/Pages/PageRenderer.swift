import Foundation
import HipChatConnect

/// Renders one Markdown page of the project into its finished HTML view.
///
/// A class, immutable: as a struct, each page's render copied it whole (a dozen references
/// retained and released), 9.6 M instructions at 1,000 pages.
final class PageRenderer: Sendable {
    let project: AddonProject
    let displayDirectory: String
    let layouts: LayoutLibrary
    let links: LinkResolver
    let markdown = MarkdownRenderer()
    /// What every page no module shows reads of the project, and its view's script
    /// configuration: the same for all of them, so made once rather than once a page.
    private let plainInputs: PageInputs
    private let plainConfig: String
    /// `addon` of those pages' template context. Made of immutable strings and
    /// ``TemplateObject``s, so pages rendered side by side can read it.
    nonisolated(unsafe) private let plainAddon: [String: Any]
    /// `environment` of those pages' context.
    private let plainEnvironment: [String: String]
    /// The project folder's path, to which page sources are joined.
    private let projectPath: String
    /// The base URL when it has a path (`https://example.com/addon`): a root-relative link
    /// (`/help.html`) then leaves the add-on.
    private let baseWithPath: (url: String, host: String, path: String)?

    init(project: AddonProject, displayDirectory: String, layouts: LayoutLibrary, links: LinkResolver) {
        self.project = project
        self.displayDirectory = displayDirectory
        self.layouts = layouts
        self.links = links
        plainInputs = PageInputs(project: project, references: [], displayDirectory: displayDirectory)
        plainConfig = TemplateValue.scriptJSON(Self.viewConfig(view: "page", module: nil, addon: plainInputs.addon))
        plainAddon = Self.addonContext(plainInputs.addon)
        plainEnvironment = Self.environmentContext(plainInputs)
        projectPath = project.directory.path
        baseWithPath = Self.baseWithPath(project.baseUrl)
    }

    /// `baseUrl`, its scheme and host (`https://example.com`) and its path (`/addon`), when that
    /// path is more than `/`.
    static func baseWithPath(_ baseUrl: String) -> (url: String, host: String, path: String)? {
        guard let components = URLComponents(string: baseUrl), !components.path.isEmpty, components.path != "/",
            let range = components.rangeOfPath
        else { return nil }
        return (baseUrl, String(baseUrl[..<range.lowerBound]), String(baseUrl[range]))
    }

    /// The warning for a root-relative `url` (`/help.html`) written as `what`, when the base URL
    /// has a path: the site is served under that path, and the URL leaves it. Not for a URL
    /// under that path (`/addon/help.html`), nor one a browser reads as naming another host
    /// (`//cdn.example.com/x`, `/\cdn.example.com/x`).
    /// `location` is worked out only for a warning: a link's column costs a walk of its line.
    func rootRelativeWarning(_ url: String, _ what: String, at location: @autoclosure () -> SourceLocation?)
        -> Diagnostic?
    {
        guard let base = baseWithPath, url.hasPrefix("/"), !url.hasPrefix("//"), !url.hasPrefix("/\\"),
            url != base.path, !url.hasPrefix(base.path + "/"), !url.hasPrefix(base.path + "?"),
            !url.hasPrefix(base.path + "#")
        else { return nil }
        return .warning(
            .brokenLink,
            "\(what) '\(url)' starts at the host's root: the add-on is at \(base.url), so it points to \(base.host)\(url), outside the add-on",
            at: location(),
            hint:
                "write it relative to this page, as links between pages are, or as a full URL if it is meant to leave the add-on"
        )
    }

    /// The error for `naming` (`link '../README.md'`), which points to `target`, a Markdown file
    /// of the project outside `pages/`: it exists, but only the Markdown under `pages/` is built.
    static func notAPageError(_ naming: String, _ target: String, at location: SourceLocation?) -> Diagnostic {
        .error(
            .brokenLink,
            "\(naming) points to \(target), a Markdown file outside pages/: only the Markdown under pages/ becomes pages",
            at: location,
            hint: "move it under pages/ to make it a page of the site, or link to where it is published (a full URL)")
    }

    /// What rendering one page gave.
    struct Result: Sendable {
        var file: SiteFile?
        var title: String
        var diagnostics: [Diagnostic] = []
        /// Project files the page links to, to copy into the site.
        var assets: [String] = []
        /// Each relative link as written, and what it resolved to: a cached page is reused only
        /// while every one of its links still resolves the same way.
        var links: [String: String] = [:]
    }

    /// The build cache's key for a page: its bytes, the layouts it uses and its ``PageInputs``,
    /// which are all of the project that rendering it reads. Nil when the page cannot be read
    /// (it is rendered, and reported, instead).
    func cacheKey(source: String, output: String, references: [PageReference]) -> String? {
        guard
            let bytes = FileManager.default.contents(
                atPath: ProjectLoader.join(projectPath, source)),
            let text = String(data: bytes, encoding: .utf8)
        else { return nil }
        var ignored: [Diagnostic] = []
        let matter = FrontMatter.parse(text, file: source, diagnostics: &ignored)
        let layout = matter.layout ?? Self.layout(forModuleKind: references.first?.moduleKind)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let inputs = try? encoder.encode(inputs(references)) else { return nil }
        return BuildCache.key([
            Data(BuildCache.formatVersion.utf8), Data(source.utf8), Data(output.utf8), bytes,
            Data(layouts.closure(of: layout).joined(separator: "\n\u{0}").utf8), inputs,
        ])
    }

    /// What rendering a page shown by `references` reads of the project.
    func inputs(_ references: [PageReference]) -> PageInputs {
        references.isEmpty
            ? plainInputs : PageInputs(project: project, references: references, displayDirectory: displayDirectory)
    }

    /// The largest page rendered, in bytes.
    static let maxPageBytes = 8 << 20

    /// The layout for pages shown by each kind of module.
    static func layout(forModuleKind kind: ModuleKind?) -> String {
        ViewLayout(showing: kind).rawValue
    }

    /// Renders the page `source` to `output`. Each link's resolution is recorded in the result
    /// for the build cache, unless `recordingLinks` is false (a build without one).
    func render(source: String, output: String, references: [PageReference], recordingLinks: Bool = true) -> Result {
        let inputs = inputs(references)
        let shown = ProjectLoader.join(displayDirectory, source)
        let start = SourceLocation(file: shown, line: 1, column: 1)
        var result = Result(title: Self.fallbackTitle(source))
        guard
            let bytes = FileManager.default.contents(
                atPath: ProjectLoader.join(projectPath, source))
        else {
            result.diagnostics.append(
                .error(
                    .unreadableFile, "cannot read \(shown)", at: start,
                    hint: "check that the file exists and is readable"))
            return result
        }
        // Rendering takes some fifty times a page's size in memory: a page the size of a book
        // (2 MB) is fine; one of 26 MB took 1.5 GB.
        guard bytes.count <= Self.maxPageBytes else {
            result.diagnostics.append(
                .error(
                    .inputTooLarge,
                    "\(shown) is \(bytes.count) bytes; a page may be at most \(Self.maxPageBytes >> 20) MB", at: start,
                    hint: "split it into several pages, or put a large text under assets/ and link to it"))
            return result
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            result.diagnostics.append(
                .error(
                    .invalidUtf8, "\(shown) is not UTF-8 text",
                    at: SourceLocation.firstInvalidUTF8(in: bytes, file: shown),
                    hint: "save the page as UTF-8"))
            return result
        }
        var diagnostics: [Diagnostic] = []
        let matter = FrontMatter.parse(text, file: shown, diagnostics: &diagnostics)
        var assets: [String] = []
        var resolutions: [String: String] = [:]
        let rendered = markdown.render(matter.body, unsafe: matter.unsafe ?? inputs.unsafe) { link in
            let line = matter.bodyFirstLine + link.line - 1
            // cmark counts columns in bytes; diagnostics count characters, as addon.yaml's do.
            var location: SourceLocation {
                SourceLocation(
                    file: shown, line: line, column: Self.characterColumn(max(1, link.column), line: line, in: text))
            }
            let resolution = links.resolve(link.url, fromSource: source, output: output)
            if recordingLinks { resolutions[link.url] = resolution.summary }
            switch resolution {
            case .untouched:
                if let warning = rootRelativeWarning(link.url, "\(link.noun)", at: location) {
                    diagnostics.append(warning)
                }
                return nil
            case .rewritten(let url, let asset):
                if let asset { assets.append(asset) }
                return url
            case .missing(let target):
                diagnostics.append(
                    .error(
                        .brokenLink,
                        "\(link.noun) '\(link.url)' points to \(target), which is not a page or file of the project",
                        at: location,
                        hint: Suggestion.hint(
                            for: link.url,
                            in: links.pageOutputs.keys.map { SitePath.relative(from: source, to: $0) }.sorted())))
                return nil
            case .notAPage(let target):
                diagnostics.append(Self.notAPageError("\(link.noun) '\(link.url)'", target, at: location))
                return nil
            case .outside:
                diagnostics.append(
                    .error(
                        .brokenLink, "\(link.noun) '\(link.url)' points outside the project", at: location,
                        hint: "link only to pages and files inside the project"))
                return nil
            case .unpublished(let target, let reason):
                diagnostics.append(
                    ProjectLayout.unpublishedError(
                        "\(link.noun) '\(link.url)' points to \(target)", reason: reason,
                        at: location))
                return nil
            }
        }
        if let omitted = rendered.omittedHTML {
            let line = matter.bodyFirstLine + omitted.line - 1
            let places = omitted.count == 1 ? "" : " (\(omitted.count) pieces; the first is here)"
            diagnostics.append(
                .warning(
                    .rawHtmlOmitted, "raw HTML is left out of this page\(places): pages are Markdown",
                    at: SourceLocation(
                        file: shown, line: line,
                        column: Self.characterColumn(max(1, omitted.column), line: line, in: text)),
                    hint:
                        "write it in Markdown, or put unsafe: true in the page's front matter to keep its HTML (only HTML you trust)"
                ))
        }
        var scripts: [String] = []
        for script in matter.scripts {
            switch links.resolve(script.path, fromSource: source, output: output) {
            case .untouched:
                if let warning = rootRelativeWarning(script.path, "script", at: script.location) {
                    diagnostics.append(warning)
                }
                scripts.append(script.path)
            case .rewritten(let url, let asset):
                if let asset { assets.append(asset) }
                scripts.append(url)
            case .missing(let target):
                diagnostics.append(
                    .error(
                        .brokenLink, "script '\(script.path)' points to \(target), which is not a file of the project",
                        at: script.location, hint: "paths are relative to the page, as links are"))
            case .notAPage(let target):
                diagnostics.append(Self.notAPageError("script '\(script.path)'", target, at: script.location))
            case .outside:
                diagnostics.append(
                    .error(
                        .brokenLink, "script '\(script.path)' points outside the project", at: script.location,
                        hint: "keep the page's scripts inside the project, for example under assets/"))
            case .unpublished(let target, let reason):
                diagnostics.append(
                    ProjectLayout.unpublishedError(
                        "script '\(script.path)' points to \(target)", reason: reason, at: script.location))
            }
        }
        let reference = references.first
        let module = reference.map { _ in moduleContext(inputs) }
        let title =
            matter.title ?? Self.firstHeading(in: rendered.html) ?? (module?["title"] as? String)
            ?? (module?["name"] as? String) ?? Self.fallbackTitle(source)
        result.title = title
        let layout = matter.layout ?? Self.layout(forModuleKind: reference?.moduleKind)
        if layouts.failed.contains(layout) {
            // The template's own error says what is wrong; repeating it per page would mislead.
            result.diagnostics = diagnostics
            return result
        }
        guard layouts.has(layout) else {
            diagnostics.append(
                .error(
                    .unknownLayout, "there is no layout called '\(layout)'", at: matter.layoutLocation ?? start,
                    hint: Suggestion.hint(for: layout, in: layouts.layoutNames)
                        ?? "layouts: \(layouts.layoutNames.joined(separator: ", ")); add templates/\(layout).mustache to make one"
                ))
            result.diagnostics = diagnostics
            return result
        }
        let view = reference.map { Self.layout(forModuleKind: $0.moduleKind) } ?? "page"
        // Title, content, source, scripts, path and root follow.
        var page = TemplateValue.dictionary(from: matter.fields, extra: 6)
        page["title"] = TemplateText(title)
        // In views, task lists are checklists to tick (see MarkdownRenderer.enablingTaskListBoxes).
        let content = TemplateHTML(
            utf8: reference == nil
                ? rendered.utf8 : Array(MarkdownRenderer.enablingTaskListBoxes(in: rendered.html).utf8))
        let marked = layouts.takesHTMLMarker.contains(layout)
        page["content"] = marked ? content : TemplateText(content.text)
        page["source"] = TemplateText(source)
        page["scripts"] = scripts.map(TemplateText.init)
        page["path"] = TemplateText("/" + output)
        let depth = SitePath.components(of: output).count - 1
        page["root"] = TemplateText(depth == 0 ? "./" : String(repeating: "../", count: depth))

        var context: [String: Any] = [
            "page": page,
            "addon": references.isEmpty ? plainAddon : Self.addonContext(inputs.addon),
            "environment": references.isEmpty ? plainEnvironment : Self.environmentContext(inputs),
            "view": TemplateText(view),
        ]
        if let module { context["module"] = module }
        if let settings = inputs.settings {
            context["settings"] = settingsContext(settings, output: output)
        }
        if reference != nil {
            // Views run inside HipChat and load its JavaScript API; other pages are plain documents.
            context["hipchat"] = [
                "js": TemplateText(resourceURL(inputs.hipchatJs, from: output)),
                "css": TemplateText(resourceURL(inputs.hipchatCss, from: output)),
            ]
        }
        context["config"] = TemplateText(
            reference == nil
                ? plainConfig
                : TemplateValue.scriptJSON(Self.viewConfig(view: view, module: module, addon: inputs.addon)))
        guard let html = layouts.render(context, layout: layout) else {
            diagnostics.append(.error(.templateRender, "the layout '\(layout)' could not be rendered", at: start))
            result.diagnostics = diagnostics
            return result
        }
        result.diagnostics = diagnostics
        result.assets = assets
        result.links = resolutions
        guard !diagnostics.hasErrors else { return result }
        guard marked else {
            result.file = SiteFile(path: output, data: Data(html.utf8))
            return result
        }
        if let data = content.splice(into: html) {
            result.file = SiteFile(path: output, data: data)
        } else {
            // The layout does more with the HTML than put it in place: it gets the text itself.
            page["content"] = TemplateText(content.text)
            context["page"] = page
            result.file = layouts.render(context, layout: layout).map { SiteFile(path: output, data: Data($0.utf8)) }
        }
        return result
    }

    /// `environment` of a page's template context: its name and base URL.
    private static func environmentContext(_ inputs: PageInputs) -> [String: String] {
        ["name": inputs.environment ?? "", "baseUrl": inputs.addon.baseUrl]
    }

    /// The settings form of a configuration page: one entry per field, with flags a Mustache
    /// template can branch on, and the runtime's endpoint relative to the page.
    private func settingsContext(_ fields: [RuntimeManifest.SettingField], output: String) -> [String: Any] {
        let items = fields.map { field -> [String: Any] in
            let name = field.name
            let type = field.type.rawValue
            let defaultValue = field.defaultValue
            var item: [String: Any] = [
                "name": name, "label": field.label ?? name, "type": type, "required": field.required,
                "is" + type.prefix(1).uppercased() + type.dropFirst(): true,
            ]
            if let pattern = field.pattern { item["pattern"] = pattern }
            switch defaultValue?.value {
            case .string(let v)?: item["value"] = v
            case .integer(let v)?: item["value"] = String(v)
            case .double(let v)?: item["value"] = String(v)
            case .bool(let v)?: item["checked"] = v
            default: break
            }
            item["options"] = field.options.map {
                option -> [String: Any] in
                ["value": option, "selected": defaultValue?.stringValue == option]
            }
            return item
        }
        return [
            "fields": items,
            "endpoint": SitePath.relative(from: output, to: String(RuntimeManifest.settingsPath.dropFirst())),
        ]
    }

    private static func addonContext(_ addon: PageInputs.Addon) -> [String: Any] {
        var context: [String: Any] = ["baseUrl": addon.baseUrl]
        context["key"] = addon.key
        context["name"] = addon.name
        context["description"] = addon.description
        if let vendor = addon.vendor { context["vendor"] = TemplateValue.from(vendor) }
        context["descriptorUrl"] = addon.descriptorUrl
        return context
    }

    /// The module showing the page, as the descriptor has it, with its kind (the spec's word for
    /// it: `sidebar`, `configure`) and plain-text name.
    private func moduleContext(_ inputs: PageInputs) -> [String: Any] {
        let json = inputs.module
        var module = json.map { TemplateValue.dictionary(from: $0) } ?? [:]
        if let kind = inputs.moduleKind { module["kind"] = SpecSchema.word(for: kind) }
        if let key = inputs.moduleKey { module["key"] = key }
        if let name = TemplateValue.text(json?["name"]) { module["name"] = name }
        if let title = TemplateValue.text(json?["title"]) { module["title"] = title }
        if inputs.moduleKind == .dialog, let options = json?["options"] {
            var keys: [String] = []
            if let primary = options["primaryAction"] {
                keys.append(primary["key"]?.stringValue ?? "primary-action-selected")
            }
            keys += options["secondaryActions"]?.arrayValue?.compactMap { $0["key"]?.stringValue } ?? []
            module["actionKeys"] = keys
        }
        return module
    }

    private static func viewConfig(view: String, module: [String: Any]?, addon: PageInputs.Addon) -> JSONNode {
        var moduleNode = JSONNode.object()
        if let module {
            if let kind = module["kind"] as? String { moduleNode["kind"] = .string(kind) }
            if let key = module["key"] as? String { moduleNode["key"] = .string(key) }
            if let keys = module["actionKeys"] as? [String] {
                moduleNode["actionKeys"] = .array(keys.map { .string($0) })
            }
        }
        return .object([
            JSONMember("view", .string(view)),
            JSONMember(
                "addon",
                .object([
                    JSONMember("key", .string(addon.key ?? "")),
                    JSONMember("name", .string(addon.name ?? "")),
                    JSONMember("baseUrl", .string(addon.baseUrl)),
                ])),
            JSONMember("module", moduleNode),
        ])
    }

    /// A URL as given, or a project file's path relative to the page.
    private func resourceURL(_ value: String, from output: String) -> String {
        if URLReference.isAbsolute(value) || value.hasPrefix("/") { return value }
        return SitePath.relative(from: output, to: SitePath.output(forProjectFile: SitePath.normalised(value) ?? value))
    }

    /// The 1-based column, in Unicode scalars, of the 1-based byte column `byteColumn` of line
    /// `line` of `text` (cmark's columns are bytes).
    static func characterColumn(_ byteColumn: Int, line: Int, in text: String) -> Int {
        let bytes = text.utf8
        var start = bytes.startIndex
        var number = 1
        while number < line, let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            start = bytes.index(after: newline)
            number += 1
        }
        let end = bytes.index(start, offsetBy: byteColumn - 1, limitedBy: bytes.endIndex) ?? bytes.endIndex
        // Every byte that does not continue a UTF-8 sequence starts a scalar.
        return bytes[start..<end].reduce(1) { $1 & 0xC0 == 0x80 ? $0 : $0 + 1 }
    }

    static func firstHeading(in html: String) -> String? {
        guard let open = html.range(of: "<h1>"),
            let close = html.range(of: "</h1>", range: open.upperBound..<html.endIndex)
        else { return nil }
        var text = ""
        var inTag = false
        for c in html[open.upperBound..<close.lowerBound] {
            if c == "<" { inTag = true } else if c == ">" { inTag = false } else if !inTag { text.append(c) }
        }
        // `&amp;` last: first, it would turn the text `&lt;` (written `&amp;lt;`) into `<`.
        let decoded = text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
        return decoded.isEmpty ? nil : decoded
    }

    /// The file name without its extension (`pages/help/faq.md` → `faq`), for a page with no
    /// title of its own. Every result starts with it, so the usual name (ASCII, ending `.md`,
    /// not starting with a dot) is cut in bytes; anything else goes through NSString's rules.
    static func fallbackTitle(_ source: String) -> String {
        let bytes = source.utf8
        let start = bytes.lastIndex(of: UInt8(ascii: "/")).map { bytes.index(after: $0) } ?? bytes.startIndex
        let name = bytes[start...]
        if name.count > 3, name.first != UInt8(ascii: "."), name.allSatisfy({ $0 < 0x80 }), source.hasSuffix(".md") {
            return String(source[start..<bytes.index(bytes.endIndex, offsetBy: -3)])
        }
        let last = (source as NSString).lastPathComponent
        return (last as NSString).deletingPathExtension
    }
}
