import Foundation
import HipChatConnect
import Synchronization
import Testing

@testable import HipKit

/// The Marketplace listing: one failing input per rule with its diagnostic and line, the
/// generated crop, the payloads, and a zip that is the same every time.
@Suite struct ListingTests {
    /// A PNG of the given size, real bytes from the PNG encoder; made once per size and shade.
    static func png(_ width: Int, _ height: Int, shade: UInt8 = 90) throws -> Data {
        let key = "\(width)x\(height)x\(shade)"
        if let cached = cache.withLock({ $0[key] }) { return cached }
        let data = try makePNG(width, height, shade: shade)
        cache.withLock { $0[key] = data }
        return data
    }

    static let cache = Mutex<[String: Data]>([:])

    static func makePNG(_ width: Int, _ height: Int, shade: UInt8) throws -> Data {
        var pixels = [UInt8](repeating: 255, count: width * height * 4)
        for i in stride(from: 0, to: pixels.count, by: 4) {
            let x = (i / 4) % width
            pixels[i] = shade
            pixels[i + 1] = UInt8(x * 255 / max(1, width - 1))
            pixels[i + 2] = 200
        }
        return try RGBAImage(width: width, height: height, pixels: pixels).pngData()
    }

    static let header = """
        key: com.example.listed
        name: Listed Tracker
        description: A listed add-on.
        baseUrl: https://listed.example.com
        vendor: {name: Example, url: "https://example.com"}

        """

    /// A valid listing; cases replace one of its lines. Its first line is line 6.
    static let listing = """
        listing:
          tagline: Short and clear.
          summary: What it does, in a sentence.
          details: listing/details.md
          logo: listing/logo.png
          banner: listing/banner.png
          highlights:
            - {title: One, summary: First, screenshot: listing/h1.png}
            - {title: Two, summary: Second, screenshot: listing/h2.png, crop: listing/c2.png}
            - {title: Three, summary: Third, screenshot: listing/h3.png, caption: A caption.}
          screenshots:
            - {image: listing/s1.png, caption: Another view.}
          categories: [Integrations]
          links: {support: "https://example.com/help", documentation: "https://example.com/docs"}
          payment: free
          status: private
          compatibility: [cloud]
          release: {version: 1.2.0, date: 2026-01-31, notes: "**Bold** notes"}

        """

    func project(_ spec: String, extraFiles: [String: Data] = [:], name: String = #function) throws -> URL {
        let dir = try TestSupport.project(
            spec, files: ["listing/details.md": "# Details\n\nMore *details*.\n"], name: name)
        var files: [String: Data] = [
            "listing/logo.png": try Self.png(144, 144), "listing/banner.png": try Self.png(1120, 548),
            "listing/h1.png": try Self.png(1840, 900, shade: 10), "listing/h2.png": try Self.png(1840, 900, shade: 60),
            "listing/h3.png": try Self.png(1840, 900, shade: 120), "listing/c2.png": try Self.png(580, 330),
            "listing/s1.png": try Self.png(920, 450),
        ]
        for (k, v) in extraFiles { files[k] = v }
        for (path, data) in files {
            try FileManager.default.createDirectory(
                at: dir.appendingPathComponent(path).deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: dir.appendingPathComponent(path))
        }
        return dir
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var replace: String
        var with: String
        var code: DiagnosticCode
        var line: Int
        var hint: String? = nil
        var files: [String: String] = [:]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "a category listed twice is kept once", replace: "categories: [Integrations]",
            with: "categories: [Integrations, Integrations]", code: .invalidValue, line: 18, hint: "remove the second"),
        Case(
            name: "tagline at most 130", replace: "tagline: Short and clear.",
            with: "tagline: \(String(repeating: "t", count: 131))", code: .tooLong, line: 7),
        Case(
            name: "summary at most 250", replace: "summary: What it does, in a sentence.",
            with: "summary: \(String(repeating: "s", count: 251))", code: .tooLong, line: 8),
        Case(
            name: "tagline is required", replace: "  tagline: Short and clear.\n", with: "", code: .missingField,
            line: 7),
        Case(
            name: "exactly three highlights",
            replace: "    - {title: Three, summary: Third, screenshot: listing/h3.png, caption: A caption.}\n",
            with: "", code: .highlightCount, line: 13,
            hint: "add highlights, each with a title, a summary and a 1840×900 screenshot"),
        Case(
            name: "highlight title at most 50", replace: "title: One,",
            with: "title: \(String(repeating: "o", count: 51)),", code: .tooLong, line: 13),
        Case(
            name: "highlight summary at most 220", replace: "summary: Second,",
            with: "summary: \(String(repeating: "x", count: 221)),", code: .tooLong, line: 14),
        Case(
            name: "caption at most 220", replace: "caption: A caption.",
            with: "caption: \(String(repeating: "c", count: 221))", code: .tooLong, line: 15),
        Case(
            name: "screenshot is 1840x900", replace: "screenshot: listing/h1.png", with: "screenshot: listing/s1.png",
            code: .imageSize, line: 13),
        Case(
            name: "crop is 580x330", replace: "crop: listing/c2.png", with: "crop: listing/logo.png", code: .imageSize,
            line: 14),
        Case(
            name: "logo is 144x144", replace: "logo: listing/logo.png", with: "logo: listing/c2.png", code: .imageSize,
            line: 10, hint: "resize or crop the image to 144×144 px"),
        Case(
            name: "banner is 1120x548", replace: "banner: listing/banner.png", with: "banner: listing/logo.png",
            code: .imageSize, line: 11),
        Case(
            name: "images are PNG or JPEG by content", replace: "logo: listing/logo.png",
            with: "logo: listing/fake.png", code: .imageFormat, line: 10,
            files: ["listing/fake.png": "GIF89a not really a png"]),
        Case(
            name: "image files exist", replace: "banner: listing/banner.png", with: "banner: listing/baner.png",
            code: .missingFile, line: 11, hint: "did you mean 'listing/banner.png'?"),
        Case(
            // h1.png and h3.png are as near to h4.png; h1.png is the first highlight's.
            name: "a missing image's suggestion is not one the listing already names",
            replace: "screenshot: listing/h3.png", with: "screenshot: listing/h4.png", code: .missingFile, line: 15,
            hint: "did you mean 'listing/h3.png'?"),
        Case(
            name: "the logo is required", replace: "  logo: listing/logo.png\n", with: "", code: .missingField, line: 7),
        Case(
            name: "details file exists", replace: "details: listing/details.md", with: "details: listing/missing.md",
            code: .missingFile, line: 9),
        Case(
            name: "links are https", replace: "support: \"https://example.com/help\"",
            with: "support: \"http://example.com/help\"", code: .insecureUrl, line: 19),
        Case(
            name: "a support link is required",
            replace: "links: {support: \"https://example.com/help\", documentation: \"https://example.com/docs\"}",
            with: "links: {documentation: \"https://example.com/docs\"}", code: .missingField, line: 7),
        Case(
            name: "payment model", replace: "payment: free", with: "payment: fre", code: .invalidValue, line: 20,
            hint: "did you mean 'free'?"),
        Case(name: "status", replace: "status: private", with: "status: rejected", code: .invalidValue, line: 21),
        Case(
            name: "at least one compatibility", replace: "compatibility: [cloud]", with: "compatibility: []",
            code: .missingField, line: 22),
        Case(
            name: "compatibility names", replace: "compatibility: [cloud]", with: "compatibility: [clud]",
            code: .invalidValue, line: 22, hint: "did you mean 'cloud'?"),
        Case(
            name: "release date format", replace: "date: 2026-01-31", with: "date: 31/01/2026", code: .invalidValue,
            line: 23),
        Case(
            name: "release date of the calendar", replace: "date: 2026-01-31", with: "date: 2026-02-29",
            code: .invalidValue, line: 23,
            hint: "check the month (01–12) and the day: a month has 28 to 31 days, February 29 only in leap years"),
        Case(
            name: "release date in a month of 30 days", replace: "date: 2026-01-31", with: "date: 2026-04-31",
            code: .invalidValue, line: 23),
        Case(
            name: "unknown listing field", replace: "status: private", with: "status: private\n  tagLine: typo",
            code: .unknownField, line: 22, hint: "did you mean 'tagline'?"),
        Case(
            name: "name at most 60", replace: "name: Listed Tracker",
            with: "name: \(String(repeating: "N", count: 61))", code: .listingName, line: 2),
        Case(
            name: "no banned words in the name", replace: "name: Listed Tracker", with: "name: Listed Tracker Plugin",
            code: .listingName, line: 2),
        Case(
            name: "name does not start with a product", replace: "name: Listed Tracker", with: "name: HipChat Tracker",
            code: .listingName, line: 2),
    ]

    /// A support link that is not https is that one error: the listing does not also say it
    /// has no support link, at the tagline's line.
    @Test func anInsecureSupportLinkIsOneError() throws {
        let spec = (Self.header + Self.listing).replacingOccurrences(
            of: "support: \"https://example.com/help\"", with: "support: \"http://example.com/help\"")
        let dir = try project(spec, name: "listing-http")
        defer { try? FileManager.default.removeItem(at: dir) }
        let errors = try ProjectBuild.prepare(dir.path, checkOnly: true).diagnostics.filter { $0.severity == .error }
        #expect(errors.map(\.code) == [.insecureUrl], "\(errors.map(\.message))")
    }

    @Test(arguments: cases)
    func reportsTheRuleAtItsLine(_ c: Case) throws {
        let spec = (Self.header + Self.listing).replacingOccurrences(of: c.replace, with: c.with)
        #expect(spec != Self.header + Self.listing, "the case changed nothing")
        let dir = try project(spec, extraFiles: c.files.mapValues { Data($0.utf8) }, name: "listing-rule")
        defer { try? FileManager.default.removeItem(at: dir) }
        let build = try ProjectBuild.prepare(dir.path)
        let match = build.diagnostics.first { $0.code == c.code && $0.location?.line == c.line }
        #expect(
            match != nil,
            "expected \(c.code) at line \(c.line); got \(build.diagnostics.map { "\($0.code) \($0.location?.line ?? 0): \($0.message)" })"
        )
        if let hint = c.hint { #expect(match?.hint == hint) }
        // `hipkit validate` checks without making the crops or the bundle, and finds the same.
        let check = try ProjectBuild.prepare(dir.path, checkOnly: true)
        #expect(check.diagnostics == build.diagnostics)
    }

    @Test func aCheckFindsWhatTheBuildFindsWithoutMakingTheBundle() throws {
        let dir = try project(Self.header + Self.listing)
        defer { try? FileManager.default.removeItem(at: dir) }
        let build = try ProjectBuild.prepare(dir.path)
        let check = try ProjectBuild.prepare(dir.path, checkOnly: true)
        #expect(build.diagnostics == check.diagnostics)
        #expect(build.files.contains { $0.path == "marketplace.zip" })
        #expect(!check.files.contains { $0.path.hasPrefix("marketplace") })
        // A check lacks files, so it is never written.
        #expect(throws: HipKitError.self) {
            try check.write(to: dir.appendingPathComponent("dist"))
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("dist").path))
    }

    /// A screenshot cut short is an error at its line even when its crop is given (it used to
    /// ship in the bundle), and a CMYK screenshot to crop is refused by `hipkit validate` as by
    /// the build (it passed the check).
    @Test func damagedAndCMYKImagesAreFoundByTheCheckAsByTheBuild() throws {
        let h2 = try Self.png(1840, 900, shade: 60)
        let cut = try project(Self.header + Self.listing, extraFiles: ["listing/h2.png": h2.prefix(h2.count / 2)])
        defer { try? FileManager.default.removeItem(at: cut) }
        let cmyk = try project(
            Self.header + Self.listing,
            extraFiles: ["listing/h1.png": try Data(contentsOf: TestSupport.fixture("images/cmyk-1840x900.jpg"))],
            name: "listing-cmyk")
        defer { try? FileManager.default.removeItem(at: cmyk) }
        for checkOnly in [true, false] {
            let diagnostics = try ProjectBuild.prepare(cut.path, checkOnly: checkOnly).diagnostics
            let damaged = diagnostics.first { $0.code == .imageFormat }
            #expect(damaged?.location?.line == 14, "\(diagnostics.map(\.message))")
            #expect(damaged?.message == "screenshot: listing/h2.png is damaged: it ends inside its IDAT chunk")
            let refused = try ProjectBuild.prepare(cmyk.path, checkOnly: checkOnly).diagnostics
            let crop = refused.first { $0.code == .listingCrop }
            #expect(crop?.location?.line == 13, "\(refused.map(\.message))")
            #expect(crop?.message.contains("CMYK JPEG images are not supported") == true, "\(crop?.message ?? "")")
        }
    }

    /// A folder where an image is named is called a folder (it was "no such file").
    @Test func aFolderNamedAsAnImageIsCalledOne() throws {
        let dir = try project(Self.header + Self.listing)
        defer { try? FileManager.default.removeItem(at: dir) }
        let banner = dir.appendingPathComponent("listing/banner.png")
        try FileManager.default.removeItem(at: banner)
        try FileManager.default.createDirectory(at: banner, withIntermediateDirectories: false)
        let d = try ProjectBuild.prepare(dir.path, checkOnly: true).diagnostics.first { $0.code == .missingFile }
        #expect(d?.message == "'banner' names 'listing/banner.png', which is a folder, not a file")
        #expect(d?.location?.line == 11)
    }

    @Test func imageSizeMessagesSayFoundAndWanted() throws {
        let spec = (Self.header + Self.listing).replacingOccurrences(
            of: "logo: listing/logo.png", with: "logo: listing/c2.png")
        let dir = try project(spec)
        defer { try? FileManager.default.removeItem(at: dir) }
        let d = try ProjectBuild.prepare(dir.path).diagnostics.first { $0.code == .imageSize }
        #expect(d?.message == "logo: listing/c2.png is 580×330 px; Marketplace wants 144×144")
    }

    @Test func aValidListingWritesTheBundle() throws {
        let dir = try project(Self.header + Self.listing)
        defer { try? FileManager.default.removeItem(at: dir) }
        let build = try ProjectBuild.prepare(dir.path)
        #expect(!build.hasErrors, "\(build.diagnostics)")
        let files = Dictionary(uniqueKeysWithValues: build.files.map { ($0.path, $0.data) })
        for path in [
            "marketplace/listing.json", "marketplace/version.json", "marketplace/descriptor.json",
            "marketplace/preview.html",
            "marketplace/images/logo-144x144.png", "marketplace/images/banner-1120x548.png",
            "marketplace/images/highlight-1-1840x900.png", "marketplace/images/highlight-1-580x330.png",
            "marketplace/images/highlight-2-580x330.png", "marketplace/images/screenshot-1-920x450.png",
            "marketplace.zip",
        ] {
            #expect(files[path] != nil, "\(path)")
        }
        // The generated crop is exactly 580×330; the given one is copied as it is.
        let crop = try #require(files["marketplace/images/highlight-1-580x330.png"])
        #expect(ImageInfo.read(crop) == ImageInfo(format: .png, width: 580, height: 330))
        #expect(files["marketplace/images/highlight-2-580x330.png"] == (try Self.png(580, 330)))
        // The descriptor copy is the built descriptor; its key and name are the listing's.
        #expect(files["marketplace/descriptor.json"] == files["atlassian-connect.json"])
        let listing = try #require(
            try JSONSerialization.jsonObject(with: files["marketplace/listing.json"]!) as? [String: Any])
        #expect(listing["key"] as? String == "com.example.listed")
        #expect(listing["name"] as? String == "Listed Tracker")
        #expect(listing["tagLine"] as? String == "Short and clear.")
        let version = try #require(
            try JSONSerialization.jsonObject(with: files["marketplace/version.json"]!) as? [String: Any])
        #expect(
            (version["_links"] as? [String: Any]).flatMap { ($0["artifact"] as? [String: Any])?["href"] as? String }
                == "https://listed.example.com/atlassian-connect.json")
        #expect(version["name"] as? String == "1.2.0")
        #expect(
            (version["text"] as? [String: Any])?["moreDetails"] as? String
                == "<h1>Details</h1>\n<p>More <em>details</em>.</p>\n")
        #expect(
            (version["text"] as? [String: Any])?["releaseNotes"] as? String == "<p><strong>Bold</strong> notes</p>\n")
        let highlights = (version["_embedded"] as? [String: Any])?["highlights"] as? [[String: Any]]
        #expect(highlights?.count == 3)
        #expect(
            ((highlights?.first?["_links"] as? [String: Any])?["thumbnail"] as? [String: Any])?["href"] as? String
                == "images/highlight-1-580x330.png")
    }

    /// A cached build keeps each highlight crop under `.hipkit/cache/crops`; the next build takes
    /// it from there (same bytes), and a kept file that is no longer a 580×330 PNG is made again.
    @Test func cropsAreKeptPerSourceImage() throws {
        let dir = try project(Self.header + Self.listing)
        defer { try? FileManager.default.removeItem(at: dir) }
        func crops(_ build: ProjectBuild) -> [Data?] {
            ["marketplace/images/highlight-1-580x330.png", "marketplace/images/highlight-3-580x330.png"].map { path in
                build.files.first { $0.path == path }?.data
            }
        }
        let uncached = try ProjectBuild.prepare(dir.path)
        let keptFolder = ProjectLayout(directory: dir).cropCacheDirectory
        #expect(!FileManager.default.fileExists(atPath: keptFolder.path))

        let first = try ProjectBuild.prepare(dir.path, cached: true)
        #expect(!first.hasErrors, "\(first.diagnostics)")
        #expect(crops(first) == crops(uncached))
        // Two crops are made (the second highlight brings its own), from two different images.
        let kept = try FileManager.default.contentsOfDirectory(atPath: keptFolder.path).filter { $0.hasSuffix(".png") }
            .sorted()
        #expect(kept.count == 2)
        #expect(
            Set(try kept.map { try Data(contentsOf: keptFolder.appendingPathComponent($0)) })
                == Set(crops(uncached).compactMap { $0 }))

        // What is kept is what the next build uses: a kept file changed to another valid crop shows.
        let other = try Self.png(580, 330, shade: 200)
        for name in kept { try other.write(to: keptFolder.appendingPathComponent(name)) }
        #expect(crops(try ProjectBuild.prepare(dir.path, cached: true)) == [other, other])

        // A damaged one is made again, and kept again.
        for name in kept { try Data("not a png".utf8).write(to: keptFolder.appendingPathComponent(name)) }
        let again = try ProjectBuild.prepare(dir.path, cached: true)
        #expect(crops(again) == crops(uncached))
        for name in kept {
            #expect(ImageInfo.read(try Data(contentsOf: keptFolder.appendingPathComponent(name)))?.width == 580)
        }
    }

    @Test func theZipIsTheSameEveryTimeAndHoldsTheFolder() throws {
        let dir = try project(Self.header + Self.listing)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try ProjectBuild.prepare(dir.path).files.first { $0.path == "marketplace.zip" }
        let b = try ProjectBuild.prepare(dir.path).files.first { $0.path == "marketplace.zip" }
        #expect(a != nil)
        #expect(a == b)
        // Unzip with Python's zipfile, an independent reader: the same files, the fixed date.
        let zip = dir.appendingPathComponent("bundle.zip")
        try a!.data.write(to: zip)
        let unzip = try TestSupport.run(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", "-c",
                "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1]); z.testzip(); print('\\n'.join(f'{i.filename} {i.date_time[0]}' for i in z.infolist()))",
                zip.path,
            ])
        #expect(unzip.status == 0, "\(unzip.stderr)")
        let lines = unzip.stdout.split(separator: "\n")
        #expect(lines.contains("marketplace/listing.json 1980"))
        #expect(lines.contains("marketplace/images/logo-144x144.png 1980"))
        #expect(lines.count == 13)  // 9 images, listing.json, version.json, descriptor.json, preview.html
    }

    /// A dev build is not a Marketplace build: `hipkit build --env dev` of the `full` scaffold
    /// leaves the bundle out with one line saying why, and warns of nothing; the production
    /// build of the same project still makes the bundle and checks its artifact.
    @Test func onlyAnHttpsBuildMakesTheBundle() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let project = dir.appendingPathComponent("full")
        #expect(try TestSupport.hipkit(["init", project.path, "--template", "full"]).status == 0)

        let dev = try TestSupport.hipkit(["build", project.path, "--env", "dev"])
        #expect(dev.status == 0)
        #expect(dev.stderr.isEmpty, "\(dev.stderr)")
        let notes = dev.stdout.split(separator: "\n").filter { $0.hasPrefix("note:") }
        #expect(notes.count == 1)
        #expect(notes.first?.contains("http://localhost:8080 is not https") == true, "\(dev.stdout)")
        let dist = project.appendingPathComponent("dist")
        #expect(!FileManager.default.fileExists(atPath: dist.appendingPathComponent("marketplace.zip").path))
        #expect(!FileManager.default.fileExists(atPath: dist.appendingPathComponent("marketplace").path))

        let production = try TestSupport.hipkit(["build", project.path])
        #expect(production.status == 0)
        #expect(!production.stdout.contains("note:"), "\(production.stdout)")
        #expect(FileManager.default.fileExists(atPath: dist.appendingPathComponent("marketplace.zip").path))

        let odd = try ProjectBuild.prepare(project.path, options: LoadOptions(baseUrl: "https://x.example.com:9443"))
        #expect(odd.diagnostics.contains { $0.code == .listingArtifact && $0.message.contains("9443") })
        #expect(odd.files.contains { $0.path == "marketplace.zip" })
    }

    @Test func noListingNoBundle() throws {
        let dir = try project(Self.header)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try ProjectBuild.prepare(dir.path).files.allSatisfy { !$0.path.hasPrefix("marketplace") })
    }

    /// A screenshot whose pixels are damaged cannot be cropped, and would go into the bundle as
    /// it is: the hint says to export it again, not to give a crop of one's own (which let the
    /// damaged screenshot through). A screenshot too small to crop keeps that hint.
    @Test func aDamagedScreenshotsHintIsToExportItAgain() {
        let image = MarketplaceListing.Image(
            source: "listing/highlight-2.png", info: ImageInfo(format: .png, width: 1840, height: 900), data: Data(),
            location: SourceLocation(file: "addon.yaml", line: 9, column: 7))
        let damaged = ListingBundle.cropProblem(image, ImageError(.corrupt, "the PNG data is damaged: IDAT"))
        #expect(damaged.hint?.contains("export it again") == true, "\(damaged)")
        #expect(damaged.hint?.contains("crop:") == false)
        let small = ListingBundle.cropProblem(image, ImageError(.tooSmall, "the image is 100×50 pixels"))
        #expect(small.hint == "give the crop yourself with crop: (a 580×330 PNG or JPEG)")
    }
}
