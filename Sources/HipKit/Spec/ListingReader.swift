import Foundation
import HipChatConnect

/// Reads `listing:` from `addon.yaml` and checks it against Marketplace's rules: lengths, counts,
/// image formats and exact pixel sizes read from the files, HTTPS links, enums, the name rules,
/// and the descriptor's `links.self` as the version's artifact.
struct ListingReader {
    let project: AddonProject
    let displayDirectory: String
    var diagnostics: [Diagnostic] = []
    /// Every project path the listing names (its text values as paths), not to be suggested for
    /// a file that is missing.
    private var namedPaths: Set<String> = []

    init(project: AddonProject) {
        self.project = project
        self.displayDirectory = (project.specFile as NSString).deletingLastPathComponent
    }

    mutating func read(_ node: YAMLNode, root: YAMLNode) -> MarketplaceListing? {
        guard node.mapping != nil else {
            error(.wrongType, "listing must be a mapping of fields, not \(node.kindDescription)", node.location)
            return nil
        }
        checkFields(node, ListingSchema.listing, subject: "the listing")
        namedPaths = Self.paths(in: node)
        var listing = MarketplaceListing()
        listing.tagline = text(node, "tagline", max: ListingSchema.taglineMax, required: true) ?? ""
        listing.summary = text(node, "summary", max: ListingSchema.summaryMax, required: true) ?? ""
        if let details = node["details"] { listing.detailsHTML = markdownFile(details) }
        listing.logo = image(node["logo"], field: "logo", parent: node, sizes: [ListingSchema.logoSize], required: true)
        listing.banner = image(
            node["banner"], field: "banner", parent: node, sizes: [ListingSchema.bannerSize], required: true,
            hint:
                "Atlassian's guidelines also mention 560×274; hipkit asks for the 1120×548 size they require for display"
        )
        readHighlights(node, into: &listing)
        if let shots = node["screenshots"] {
            if let items = shots.sequence {
                for item in items {
                    checkFields(item, ListingSchema.screenshot, subject: "a screenshot")
                    listing.screenshots.append(
                        MarketplaceListing.Screenshot(
                            image: image(
                                item["image"], field: "image", parent: item,
                                sizes: [ListingSchema.screenshotSize, ListingSchema.smallScreenshotSize], required: true
                            ),
                            caption: text(item, "caption", max: ListingSchema.captionMax, required: false)))
                }
            } else {
                error(
                    .wrongType, "screenshots must be a list of { image, caption }, not \(shots.kindDescription)",
                    shots.location)
            }
        }
        listing.categories = strings(node["categories"], field: "categories")
        if let links = node["links"], links.mapping == nil {
            error(
                .wrongType, "links must be a mapping of link names to URLs, not \(links.kindDescription)",
                links.location,
                hint: "for example links: { support: https://support.example.com }")
        } else if let links = node["links"] {
            checkFields(links, ListingSchema.links, subject: "the listing's links")
            for field in ListingSchema.links.fields {
                guard let value = links[field.name] else { continue }
                guard let url = value.string, let components = URLComponents(string: url),
                    components.host?.isEmpty == false,
                    components.scheme?.lowercased() == "https"
                else {
                    error(
                        .insecureUrl, "listing link '\(field.name)' must be an https URL", value.location,
                        hint: "Marketplace shows these links to buyers; give full https:// URLs")
                    continue
                }
                listing.links[field.name] = url
            }
        }
        // Links of the wrong kind, or a support link that is not https, are reported at their
        // line already.
        let reported = node["links"].map { $0.mapping == nil || $0["support"] != nil || $0["issueTracker"] != nil }
        if listing.links["support"] == nil && listing.links["issueTracker"] == nil && reported != true {
            error(
                .missingField, "the listing needs a support or issue-tracker link", node.location,
                hint: "add links: { support: https://… } so buyers can reach you")
        }
        listing.payment = choice(node, "payment", ListingSchema.paymentModels) ?? "free"
        listing.status = choice(node, "status", ListingSchema.statuses) ?? "private"
        listing.storesPersonalData = bool(node, "storesPersonalData")
        listing.compatibility = strings(node["compatibility"], field: "compatibility")
        for (i, hosting) in listing.compatibility.enumerated() where !ListingSchema.hostings.contains(hosting) {
            let item = node["compatibility"]?.sequence?[i]
            error(
                .invalidValue,
                "compatibility '\(hosting)' is not one of \(ListingSchema.hostings.joined(separator: ", "))",
                item?.location ?? node.location,
                hint: Suggestion.hint(for: hosting, in: ListingSchema.hostings))
        }
        if listing.compatibility.isEmpty {
            error(
                .missingField, "the listing needs at least one compatibility (cloud, server or dataCenter)",
                node["compatibility"]?.location ?? node.location, hint: "Marketplace refuses a version without one")
        }
        listing.youtube = text(node, "youtube", max: 64, required: false)
        if let release = node["release"] { listing.release = readRelease(release) }
        checkName(root)
        checkArtifact()
        return listing
    }

    private mutating func readHighlights(_ node: YAMLNode, into listing: inout MarketplaceListing) {
        guard let list = node["highlights"] else {
            error(
                .missingField, "the listing needs exactly three highlights", node.location,
                hint: "each: { title, summary, screenshot } with a 1840×900 screenshot")
            return
        }
        guard let items = list.sequence else {
            error(.wrongType, "highlights must be a list, not \(list.kindDescription)", list.location)
            return
        }
        if items.count != ListingSchema.highlightCount {
            error(
                .highlightCount,
                "the listing has \(items.count) highlight\(items.count == 1 ? "" : "s"); Marketplace wants exactly three",
                list.location,
                hint: items.count < ListingSchema.highlightCount
                    ? "add highlights, each with a title, a summary and a "
                        + "\(ListingSchema.screenshotSize.width)×\(ListingSchema.screenshotSize.height) screenshot"
                    : "keep the three that show the add-on best")
        }
        for item in items {
            checkFields(item, ListingSchema.highlight, subject: "a highlight")
            let screenshot = image(
                item["screenshot"], field: "screenshot", parent: item, sizes: [ListingSchema.screenshotSize],
                required: true,
                hint: "Atlassian's notes also quote 920×450; hipkit asks for the full 1840×900")
            let crop = image(
                item["crop"], field: "crop", parent: item, sizes: [ListingSchema.cropSize], required: false)
            listing.highlights.append(
                MarketplaceListing.Highlight(
                    title: text(item, "title", max: ListingSchema.highlightTitleMax, required: true) ?? "",
                    summary: text(item, "summary", max: ListingSchema.highlightSummaryMax, required: true) ?? "",
                    caption: text(item, "caption", max: ListingSchema.captionMax, required: false),
                    screenshot: screenshot, crop: crop))
        }
    }

    private mutating func readRelease(_ node: YAMLNode) -> MarketplaceListing.Release {
        checkFields(node, ListingSchema.release, subject: "the release")
        var release = MarketplaceListing.Release()
        release.version = text(node, "version", max: 64, required: false)
        if let date = node["date"] {
            let s = date.scalar?.value ?? ""
            if Self.isDate(s) {
                release.date = s
            } else if Self.dateParts(s) != nil {
                error(
                    .invalidValue, "release date '\(s)' is not a day of the calendar", date.location,
                    hint:
                        "check the month (01–12) and the day: a month has 28 to 31 days, February 29 only in leap years"
                )
            } else {
                error(
                    .invalidValue, "release date '\(s)' is not a date of the form YYYY-MM-DD", date.location,
                    hint: "write the year, month and day with dashes, such as 2026-03-31")
            }
        }
        release.summary = text(node, "summary", max: 250, required: false)
        if let notes = text(node, "notes", max: 20_000, required: false) {
            release.notesHTML = MarkdownRenderer().render(notes).html
        }
        release.beta = bool(node, "beta")
        release.supported = bool(node, "supported")
        return release
    }

    // MARK: The descriptor's side

    /// Atlassian's naming rules, checked on the add-on's name.
    private mutating func checkName(_ root: YAMLNode) {
        guard let node = root["name"], let name = node.scalar?.value else { return }
        if name.count > ListingSchema.nameMax {
            error(
                .listingName,
                "the name is \(name.count) characters long; Marketplace allows at most \(ListingSchema.nameMax)",
                node.location)
        }
        let words = name.lowercased().split { !($0.isLetter || $0.isNumber || $0 == "-") }.map(String.init)
        if let banned = words.first(where: ListingSchema.bannedNameWords.contains) {
            error(
                .listingName, "the name contains '\(banned)', which Marketplace's naming rules forbid", node.location,
                hint: "names must not contain Atlassian, plugin, beta, add-on or app")
        }
        if let first = words.first, ListingSchema.productNames.contains(first) {
            error(
                .listingName, "the name starts with the Atlassian product name '\(first)'", node.location,
                hint:
                    "put the product last: \"\(name.split(separator: " ").dropFirst().joined(separator: " ")) for \(name.split(separator: " ").first ?? "")\""
            )
        }
        if let key = project.descriptor.key, key.count > ListingSchema.keyMax, let keyNode = root["key"] {
            error(
                .listingKey,
                "the key is \(key.count) characters long; Marketplace allows at most \(ListingSchema.keyMax)",
                keyNode.location)
        }
    }

    /// The version's artifact is the descriptor's URL, which Marketplace fetches itself. Checked
    /// only in a build for Marketplace: a build for a plain-http base URL leaves the bundle out
    /// (``AddonProject/listingLeftOut`` says so) rather than warning about it.
    private mutating func checkArtifact() {
        guard project.isMarketplaceBuild, let url = project.descriptor.selfURL?.value,
            let components = URLComponents(string: url)
        else { return }
        let location = project.descriptor.selfURL?.location
        if components.scheme?.lowercased() != "https" {
            diagnostics.append(
                .warning(
                    .listingArtifact, "the listing's artifact is the descriptor URL \(url), which is not https",
                    at: location,
                    hint: "Marketplace fetches the descriptor over https; build the listing for the production baseUrl")
            )
        } else if let port = components.port, ![80, 443, 8080].contains(port) {
            diagnostics.append(
                .warning(
                    .listingArtifact, "Marketplace fetches descriptors only on ports 80, 443 and 8080, not \(port)",
                    at: location))
        }
    }

    // MARK: Values

    private mutating func checkFields(_ node: YAMLNode, _ spec: SpecObject, subject: String) {
        for entry in node.mapping ?? [] {
            guard let name = entry.key.scalar?.value, spec.field(name) == nil else { continue }
            diagnostics.append(
                .warning(
                    .unknownField, "unknown field '\(name)' in \(subject); hipkit ignores it", at: entry.key.location,
                    hint: Suggestion.hint(for: name, in: spec.fields.map(\.name))))
        }
    }

    private mutating func text(_ node: YAMLNode, _ field: String, max: Int, required: Bool) -> String? {
        guard let value = node[field] else {
            if required { error(.missingField, "'\(field)' is required", node.location) }
            return nil
        }
        guard let s = value.scalar?.value, value.scalar?.resolved != .null else {
            error(
                .wrongType, "'\(field)' must be text, not \(value.kindDescription)", value.location,
                hint: WrongType.hint(expected: "text"))
            return nil
        }
        if s.count > max {
            error(
                .tooLong, "'\(field)' is \(s.count) characters long; Marketplace allows at most \(max)", value.location,
                hint: "shorten it to \(max) characters or fewer")
        }
        if required && s.trimmingCharacters(in: .whitespaces).isEmpty {
            error(.emptyValue, "'\(field)' must not be empty", value.location)
        }
        return s
    }

    private mutating func choice(_ node: YAMLNode, _ field: String, _ allowed: [String]) -> String? {
        guard let value = node[field] else { return nil }
        guard value.scalar != nil else {
            error(
                .wrongType,
                "'\(field)' must be one of \(allowed.joined(separator: ", ")), not \(value.kindDescription)",
                value.location)
            return nil
        }
        guard let s = value.string, allowed.contains(s) else {
            let s = value.scalar?.value ?? ""
            error(
                .invalidValue, "'\(field)' is '\(s)'; Marketplace accepts one of \(allowed.joined(separator: ", "))",
                value.location,
                hint: Suggestion.hint(for: s, in: allowed))
            return nil
        }
        return s
    }

    private mutating func bool(_ node: YAMLNode, _ field: String) -> Bool? {
        guard let value = node[field] else { return nil }
        guard case .bool(let b)? = value.scalar?.resolved else {
            error(
                .wrongType, "'\(field)' must be true or false, not \(value.kindDescription)", value.location,
                hint: WrongType.hint(expected: "true or false"))
            return nil
        }
        return b
    }

    private mutating func strings(_ node: YAMLNode?, field: String) -> [String] {
        guard let node else { return [] }
        guard let items = node.sequence else {
            error(
                .wrongType, "'\(field)' must be a list, not \(node.kindDescription)", node.location,
                hint: WrongType.hint(expected: "a list"))
            return []
        }
        var seen = Set<String>()
        return items.compactMap { item in
            guard let s = item.string, !s.isEmpty else {
                error(.wrongType, "each of '\(field)' must be text", item.location)
                return nil
            }
            // Listed twice, it went into listing.json twice.
            guard seen.insert(s).inserted else {
                diagnostics.append(
                    .warning(
                        .invalidValue, "'\(field)' lists '\(s)' twice; it is kept once", at: item.location,
                        hint: "remove the second"))
                return nil
            }
            return s
        }
    }

    private mutating func markdownFile(_ node: YAMLNode) -> String? {
        guard let path = node.string, let file = projectFile(path, at: node.location, field: "details") else {
            if node.string == nil {
                error(.wrongType, "'details' must name a Markdown file of the project", node.location)
            }
            return nil
        }
        let shown = ProjectLoader.join(displayDirectory, file)
        guard [".md", ".markdown"].contains(where: file.lowercased().hasSuffix) else {
            error(
                .notMarkdown, "'details' names '\(path)', which is not a Markdown file (.md)", node.location,
                hint: "Marketplace shows the details as formatted text; write them in a .md file")
            return nil
        }
        guard let data = FileManager.default.contents(atPath: project.directory.appendingPathComponent(file).path)
        else {
            error(.unreadableFile, "cannot read \(shown)", node.location)
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            error(
                .invalidUtf8, "\(shown) is not UTF-8 text", SourceLocation.firstInvalidUTF8(in: data, file: shown),
                hint: "save it as UTF-8")
            return nil
        }
        let matter = FrontMatter.parse(text, file: shown, diagnostics: &diagnostics)
        return MarkdownRenderer().render(matter.body).html
    }

    /// An image field: the file must exist, be PNG or JPEG by its header, and have one of `sizes`.
    private mutating func image(
        _ node: YAMLNode?, field: String, parent: YAMLNode, sizes: [(width: Int, height: Int)],
        required: Bool, hint: String? = nil
    ) -> MarketplaceListing.Image? {
        let wanted = sizes.map { "\($0.width)×\($0.height)" }.joined(separator: " or ")
        guard let node else {
            if required {
                error(
                    .missingField, "'\(field)' is required: a \(wanted) PNG or JPEG file", parent.location, hint: hint)
            }
            return nil
        }
        guard let path = node.string else {
            error(.wrongType, "'\(field)' must name an image file of the project", node.location)
            return nil
        }
        guard let file = projectFile(path, at: node.location, field: field),
            let data = FileManager.default.contents(atPath: project.directory.appendingPathComponent(file).path)
        else { return nil }
        guard let info = ImageInfo.read(data) else {
            error(
                .imageFormat, "\(field): \(path) is not a PNG or JPEG image", node.location,
                hint: "Marketplace takes PNG and JPEG; the format is read from the file, not its name")
            return nil
        }
        if let damage = ImageInfo.damage(in: data) {
            // Copied into the bundle as it is, it would show as a broken image on the Marketplace.
            error(
                .imageFormat, "\(field): \(path) is damaged: \(damage)", node.location,
                hint: "the file was cut short or changed on the way; save or export the image again")
            return nil
        }
        if !sizes.contains(where: { $0.width == info.width && $0.height == info.height }) {
            error(
                .imageSize, "\(field): \(path) is \(info.width)×\(info.height) px; Marketplace wants \(wanted)",
                node.location, hint: hint ?? "resize or crop the image to \(wanted) px")
        }
        return MarketplaceListing.Image(source: file, info: info, data: data, location: node.location)
    }

    /// The text values under `node`, each read as a project path.
    private static func paths(in node: YAMLNode) -> Set<String> {
        if let value = node.scalar?.value { return SitePath.normalised(value).map { [$0] } ?? [] }
        if let items = node.sequence { return items.reduce(into: []) { $0.formUnion(paths(in: $1)) } }
        return (node.mapping ?? []).reduce(into: []) { $0.formUnion(paths(in: $1.value)) }
    }

    private mutating func projectFile(_ path: String, at location: SourceLocation, field: String) -> String? {
        guard let normalised = SitePath.normalised(path), !normalised.isEmpty, !path.hasPrefix("/") else {
            error(.outsideProject, "'\(field)' '\(path)' points outside the project folder", location)
            return nil
        }
        let kind = FileStat.read(ProjectLoader.join(project.directory.path, normalised))?.kind
        if kind == .directory {
            error(.missingFile, "'\(field)' names '\(path)', which is a folder, not a file", location)
            return nil
        }
        guard kind != nil else {
            error(
                .missingFile,
                "'\(field)' names '\(path)', but there is no such file (\(ProjectLoader.join(displayDirectory, normalised)))",
                location,
                hint: SpecTranslator.nearbyFileHint(normalised, as: path, in: project.directory, excluding: namedPaths))
            return nil
        }
        if let reason = ProjectLayout(directory: project.directory).unpublishedReason(normalised) {
            diagnostics.append(
                ProjectLayout.unpublishedError("'\(field)' names '\(path)'", reason: reason, at: location))
            return nil
        }
        return normalised
    }

    /// Whether `s` is a `YYYY-MM-DD` date of the calendar: 2024-02-29 is, 2023-02-29 and
    /// 2024-04-31 are not.
    static func isDate(_ s: String) -> Bool {
        guard let (year, month, day) = dateParts(s), (1...12).contains(month) else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return (1...days).contains(day)
    }

    /// The year, month and day of `s` written `YYYY-MM-DD` in digits, whether or not such a day
    /// exists; nil for any other form.
    static func dateParts(_ s: String) -> (year: Int, month: Int, day: Int)? {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        return (year, month, day)
    }

    private mutating func error(
        _ code: DiagnosticCode, _ message: String, _ location: SourceLocation?, hint: String? = nil
    ) {
        diagnostics.append(.error(code, message, at: location, hint: hint))
    }
}
