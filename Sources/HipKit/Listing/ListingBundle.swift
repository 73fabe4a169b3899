import Foundation
import HipChatConnect
import ZIPFoundation

/// The Marketplace bundle: `marketplace/` with the app-level and version payloads in the shapes
/// of Marketplace's REST API v2, the images under clear names, a copy of the descriptor and a
/// preview of the listing page; and `marketplace.zip`, the same folder zipped, byte for byte the
/// same for the same input.
struct ListingBundle {
    let project: AddonProject
    let listing: MarketplaceListing
    let layouts: LayoutLibrary

    static let folder = "marketplace"

    /// What ``files(descriptor:)`` would say of the listing, without making anything: the
    /// crops are checked against their sources' headers (size and format), not made. For
    /// `hipkit validate`, where making them was nearly all of the time.
    func check() -> [Diagnostic] {
        listing.highlights.compactMap { highlight in
            guard highlight.crop == nil, let source = highlight.screenshot else { return nil }
            do {
                try ImageCropper.check(
                    source.info, toWidth: ListingSchema.cropSize.width, height: ListingSchema.cropSize.height)
                return nil
            } catch {
                return Self.cropProblem(source, error)
            }
        }
    }

    static func cropProblem(_ source: MarketplaceListing.Image, _ error: any Error) -> Diagnostic {
        // A damaged screenshot goes into the bundle as it is: a crop of one's own would hide it.
        let damaged = (error as? ImageError)?.kind == .corrupt
        return .error(
            .listingCrop, "cannot make the 580×330 crop of \(source.source): \(error)", at: source.location,
            hint: damaged
                ? "the screenshot itself is damaged, and would go into the bundle so: export it again from its source"
                : "give the crop yourself with crop: (a 580×330 PNG or JPEG)")
    }

    /// The bundle's files, with the highlight crops from `crops` (started earlier in the build;
    /// nil makes them here).
    func files(descriptor: Data, crops: ListingCrops? = nil) throws -> (files: [SiteFile], diagnostics: [Diagnostic]) {
        let crops = crops ?? ListingCrops(listing, cacheDirectory: nil)
        var diagnostics: [Diagnostic] = []
        var images: [SiteFile] = []
        func add(_ image: MarketplaceListing.Image, as name: String) -> String {
            let path =
                "images/\(name)-\(image.info.width)x\(image.info.height).\(image.info.format == .png ? "png" : "jpg")"
            images.append(SiteFile(path: path, data: image.data))
            return path
        }
        let logo = listing.logo.map { add($0, as: "logo") }
        let banner = listing.banner.map { add($0, as: "banner") }
        var highlights: [(screenshot: String?, crop: String?)] = []
        for (i, highlight) in listing.highlights.enumerated() {
            let screenshot = highlight.screenshot.map { add($0, as: "highlight-\(i + 1)") }
            var crop = highlight.crop.map { add($0, as: "highlight-\(i + 1)") }
            if crop == nil, let source = highlight.screenshot, let result = crops.result(i) {
                do {
                    let data = try result.get()
                    let path =
                        "images/highlight-\(i + 1)-\(ListingSchema.cropSize.width)x\(ListingSchema.cropSize.height).png"
                    images.append(SiteFile(path: path, data: data))
                    crop = path
                } catch {
                    diagnostics.append(Self.cropProblem(source, error))
                }
            }
            highlights.append((screenshot, crop))
        }
        let shots = listing.screenshots.enumerated().map { i, shot in
            shot.image.map { add($0, as: "screenshot-\(i + 1)") }
        }

        let listingJSON = appPayload(logo: logo, banner: banner)
        let versionJSON = versionPayload(highlights: highlights, screenshots: shots)
        var files = images
        files.append(SiteFile(path: "listing.json", data: Data(JSONWriter.string(listingJSON).utf8)))
        files.append(SiteFile(path: "version.json", data: Data(JSONWriter.string(versionJSON).utf8)))
        files.append(SiteFile(path: "descriptor.json", data: descriptor))
        if let html = layouts.render(
            previewContext(logo: logo, banner: banner, highlights: highlights, screenshots: shots), layout: "listing")
        {
            files.append(SiteFile(path: "preview.html", data: Data(html.utf8)))
        }
        files.sort { $0.path < $1.path }
        let zip = try Self.zip(files, under: Self.folder)
        return (
            files.map { SiteFile(path: Self.folder + "/" + $0.path, data: $0.data) } + [
                SiteFile(path: Self.folder + ".zip", data: zip)
            ], diagnostics
        )
    }

    // MARK: Payloads

    /// `POST /rest/2/addons`: the app-level fields (name, key, tagLine, summary, links, logo).
    private func appPayload(logo: String?, banner: String?) -> JSONNode {
        let d = project.descriptor
        var payload = JSONNode.object([
            JSONMember("name", .string(d.name ?? "")),
            JSONMember("key", .string(d.key ?? "")),
            JSONMember("tagLine", .string(listing.tagline)),
            JSONMember("summary", .string(listing.summary)),
            JSONMember("status", .string(listing.status)),
        ])
        if let stores = listing.storesPersonalData { payload["storesPersonalData"] = .bool(stores) }
        var vendorLinks = JSONNode.object()
        for (field, name) in [
            ("issueTracker", "issueTracker"), ("support", "supportTicketSystem"), ("privacy", "privacy"),
        ] {
            if let url = listing.links[field] { vendorLinks[name] = .string(url) }
        }
        if !(vendorLinks.members?.isEmpty ?? true) { payload["vendorLinks"] = vendorLinks }
        var links = JSONNode.object()
        if let logo { links["logo"] = .object([JSONMember("href", .string(logo))]) }
        if let banner { links["banner"] = .object([JSONMember("href", .string(banner))]) }
        payload["_links"] = links
        var embedded = JSONNode.object()
        if !listing.categories.isEmpty {
            embedded["categories"] = .array(listing.categories.map { .object([JSONMember("name", .string($0))]) })
        }
        if let vendor = d.vendor { embedded["vendor"] = vendor.json.withoutLocations }
        if !(embedded.members?.isEmpty ?? true) { payload["_embedded"] = embedded }
        return payload
    }

    /// `POST /rest/2/addons/{key}/versions`: a Connect-style version whose artifact is the
    /// descriptor URL, so no build number.
    private func versionPayload(highlights: [(screenshot: String?, crop: String?)], screenshots: [String?]) -> JSONNode
    {
        let href = { (path: String?) -> JSONNode in .object([JSONMember("href", .string(path ?? ""))]) }
        var payload = JSONNode.object([
            JSONMember(
                "_links",
                .object([
                    JSONMember("artifact", href(project.descriptor.selfURL?.value)),
                    JSONMember("agreement", href("http://www.atlassian.com/licensing/marketplace/publisheragreement")),
                ])),
            JSONMember(
                "_embedded",
                .object([
                    JSONMember(
                        "highlights",
                        .array(
                            listing.highlights.enumerated().map { i, h in
                                var item = JSONNode.object([
                                    JSONMember(
                                        "_links",
                                        .object([
                                            JSONMember("screenshot", href(highlights[i].screenshot)),
                                            JSONMember("thumbnail", href(highlights[i].crop)),
                                        ])),
                                    JSONMember("title", .string(h.title)),
                                    JSONMember("body", .string(h.summary)),
                                ])
                                if let caption = h.caption { item["explanation"] = .string(caption) }
                                return item
                            })),
                    JSONMember(
                        "screenshots",
                        .array(
                            listing.screenshots.enumerated().map { i, s in
                                var item = JSONNode.object([
                                    JSONMember("_links", .object([JSONMember("image", href(screenshots[i]))]))
                                ])
                                if let caption = s.caption { item["caption"] = .string(caption) }
                                return item
                            })),
                ])),
        ])
        if let version = listing.release.version { payload["name"] = .string(version) }
        payload["status"] = .string(listing.status)
        payload["paymentModel"] = .string(listing.payment)
        var release = JSONNode.object()
        if let date = listing.release.date { release["date"] = .string(date) }
        release["beta"] = .bool(listing.release.beta ?? false)
        release["supported"] = .bool(listing.release.supported ?? true)
        payload["release"] = release
        var vendorLinks = JSONNode.object()
        for field in ["documentation", "eula"] {
            if let url = listing.links[field] { vendorLinks[field] = .string(url) }
        }
        if !(vendorLinks.members?.isEmpty ?? true) { payload["vendorLinks"] = vendorLinks }
        payload["compatibilities"] = .array(
            listing.compatibility.map { hosting in
                .object([
                    JSONMember("application", .string("hipchat")),
                    JSONMember("hosting", .object([JSONMember(hosting, .object())])),
                ])
            })
        payload["deployment"] = .object([
            JSONMember("cloud", .bool(listing.compatibility.contains("cloud"))),
            JSONMember("server", .bool(listing.compatibility.contains("server"))),
            JSONMember("dataCenter", .bool(listing.compatibility.contains("dataCenter"))),
            JSONMember("connect", .bool(true)),
        ])
        var text = JSONNode.object()
        if let details = listing.detailsHTML { text["moreDetails"] = .string(details) }
        if let summary = listing.release.summary { text["releaseSummary"] = .string(summary) }
        if let notes = listing.release.notesHTML { text["releaseNotes"] = .string(notes) }
        if !(text.members?.isEmpty ?? true) { payload["text"] = text }
        if let youtube = listing.youtube { payload["youtubeId"] = .string(youtube) }
        return payload
    }

    private func previewContext(
        logo: String?, banner: String?, highlights: [(screenshot: String?, crop: String?)], screenshots: [String?]
    ) -> [String: Any] {
        let d = project.descriptor
        var context: [String: Any] = [
            "name": d.name ?? "", "key": d.key ?? "",
            "tagline": listing.tagline, "summary": listing.summary,
            "details": listing.detailsHTML ?? "", "payment": listing.payment, "status": listing.status,
            "compatibility": listing.compatibility.joined(separator: ", "),
            "categories": listing.categories,
        ]
        context["vendor"] = d.vendor.flatMap { TemplateValue.from($0.json) }
        context["logo"] = logo
        context["banner"] = banner
        context["highlights"] = listing.highlights.enumerated().map { i, h -> [String: Any] in
            [
                "index": i + 1, "title": h.title, "summary": h.summary, "caption": h.caption ?? "",
                "screenshot": highlights[i].screenshot ?? "", "crop": highlights[i].crop ?? "", "checked": i == 0,
            ]
        }
        context["screenshots"] = listing.screenshots.enumerated().compactMap { i, s -> [String: Any]? in
            screenshots[i].map { ["image": $0, "caption": s.caption ?? ""] }
        }
        let names = [
            "support": "Support", "issueTracker": "Issue tracker", "documentation": "Documentation",
            "privacy": "Privacy policy", "eula": "EULA",
        ]
        context["links"] = ["support", "issueTracker", "documentation", "privacy", "eula"].compactMap {
            field -> [String: Any]? in
            listing.links[field].map { ["name": names[field]!, "url": $0] }
        }
        var release: [String: Any] = [:]
        release["version"] = listing.release.version
        release["date"] = listing.release.date
        release["notes"] = listing.release.notesHTML
        context["release"] = release
        return context
    }

    // MARK: Zip

    /// Entries in path order, each with the same fixed time stamp and permissions, so the archive
    /// depends on nothing but the files.
    static func zip(_ files: [SiteFile], under folder: String) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        let stamp = fixedTimestamp
        for file in files.sorted(by: { $0.path < $1.path }) {
            let data = file.data
            try archive.addEntry(
                with: folder + "/" + file.path, type: .file, uncompressedSize: Int64(data.count),
                modificationDate: stamp, permissions: 0o644, compressionMethod: .deflate
            ) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        guard let data = archive.data else { throw HipKitError("could not make marketplace.zip") }
        return data
    }

    /// 1 January 1980, 00:00 UTC, the earliest time a zip can hold (ZIPFoundation stores UTC
    /// fields), so the archive is the same whenever and wherever it is made.
    static let fixedTimestamp = Date(timeIntervalSince1970: 315_532_800)
}
