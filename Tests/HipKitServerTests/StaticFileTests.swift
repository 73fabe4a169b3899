import Foundation
import HipChatConnect
import Hummingbird
import HummingbirdTesting
import Testing

@testable import HipKitServer

@Suite("Static files")
struct StaticFileTests {
    @Test("content types, HEAD, and X-Content-Type-Options")
    func contentTypes() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site) { client, _ in
            let cases: [(String, String)] = [
                ("/index.html", "text/html; charset=utf-8"),
                ("/assets/app.3f2a9c1e.css", "text/css; charset=utf-8"),
                ("/assets/logo.png", "image/png"),
                ("/help/faq.html", "text/html; charset=utf-8"),
            ]
            for (path, type) in cases {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.status == .ok, "\(path)")
                #expect(response.headers[.contentType] == type, "\(path)")
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                let head = try await client.execute(uri: path, method: .head)
                #expect(head.status == .ok)
                #expect(head.body.readableBytes == 0)
                #expect(head.headers[.contentLength] == String(response.body.readableBytes))
                #expect(head.headers[.eTag] == response.headers[.eTag])
            }
            let png = try await client.execute(uri: "/assets/logo.png", method: .get)
            #expect(Array(png.body.readableBytesView.prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
            let post = try await client.execute(uri: "/index.html", method: .post)
            #expect(post.status == .methodNotAllowed)
        }
    }

    @Test("directory paths serve index.html")
    func directoryIndex() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site) { client, _ in
            let root = try await client.execute(uri: "/", method: .get)
            #expect(root.status == .ok)
            #expect(root.text.contains("Incident Tracker — preview"))
            let help = try await client.execute(uri: "/help/", method: .get)
            #expect(help.text.contains("<h1>Help</h1>"))
            let missing = try await client.execute(uri: "/nothing-here.html", method: .get)
            #expect(missing.status == .notFound)
            #expect(missing.errorMessage != nil)
        }
    }

    @Test("ETag and Last-Modified give 304s")
    func conditionalRequests() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site) { client, _ in
            let first = try await client.execute(uri: "/index.html", method: .get)
            let etag = try #require(first.headers[.eTag])
            let lastModified = try #require(first.headers[.lastModified])
            #expect(etag.hasPrefix("\"") && etag.hasSuffix("\""))
            #expect(lastModified.hasSuffix(" GMT"))

            let byTag = try await client.execute(uri: "/index.html", method: .get, headers: [.ifNoneMatch: etag])
            #expect(byTag.status == .notModified)
            #expect(byTag.body.readableBytes == 0)
            #expect(byTag.headers[.eTag] == etag)
            let weak = try await client.execute(
                uri: "/index.html", method: .get, headers: [.ifNoneMatch: "\"other\", W/\(etag)"])
            #expect(weak.status == .notModified)
            let stale = try await client.execute(uri: "/index.html", method: .get, headers: [.ifNoneMatch: "\"0000\""])
            #expect(stale.status == .ok)

            let byDate = try await client.execute(
                uri: "/index.html", method: .get, headers: [.ifModifiedSince: lastModified])
            #expect(byDate.status == .notModified)
            let old = try await client.execute(
                uri: "/index.html", method: .get, headers: [.ifModifiedSince: "Sun, 06 Nov 1994 08:49:37 GMT"])
            #expect(old.status == .ok)
            // If-None-Match wins over If-Modified-Since.
            let both = try await client.execute(
                uri: "/index.html", method: .get,
                headers: [.ifNoneMatch: "\"0000\"", .ifModifiedSince: lastModified])
            #expect(both.status == .ok)
        }
    }

    @Test("byte ranges: 206, suffix ranges, If-Range, 416")
    func ranges() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site) { client, _ in
            let full = try await client.execute(uri: "/assets/site.css", method: .get)
            let bytes = Array(full.body.readableBytesView)
            let size = bytes.count

            let part = try await client.execute(uri: "/assets/site.css", method: .get, headers: [.range: "bytes=10-19"])
            #expect(part.status == .partialContent)
            #expect(part.headers[.contentRange] == "bytes 10-19/\(size)")
            #expect(Array(part.body.readableBytesView) == Array(bytes[10...19]))
            #expect(part.headers[.contentEncoding] == nil)

            let suffix = try await client.execute(uri: "/assets/site.css", method: .get, headers: [.range: "bytes=-5"])
            #expect(suffix.status == .partialContent)
            #expect(Array(suffix.body.readableBytesView) == Array(bytes[(size - 5)...]))

            let open = try await client.execute(
                uri: "/assets/site.css", method: .get, headers: [.range: "bytes=\(size - 3)-"])
            #expect(open.body.readableBytes == 3)

            let tooFar = try await client.execute(
                uri: "/assets/site.css", method: .get, headers: [.range: "bytes=\(size + 10)-"])
            #expect(tooFar.status == .rangeNotSatisfiable)
            #expect(tooFar.headers[.contentRange] == "bytes */\(size)")

            let staleRange = try await client.execute(
                uri: "/assets/site.css", method: .get,
                headers: [.range: "bytes=0-9", .ifRange: "\"not-the-tag\""])
            #expect(staleRange.status == .ok)
            #expect(staleRange.body.readableBytes == size)
            let freshRange = try await client.execute(
                uri: "/assets/site.css", method: .get,
                headers: [.range: "bytes=0-9", .ifRange: full.headers[.eTag]!])
            #expect(freshRange.status == .partialContent)

            let several = try await client.execute(
                uri: "/assets/site.css", method: .get, headers: [.range: "bytes=0-1,5-6"])
            #expect(several.status == .ok)
        }
    }

    @Test("gzip when Accept-Encoding allows it, prepared once")
    func gzip() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site) { client, _ in
            let identity = try await client.execute(uri: "/assets/site.css", method: .get)
            #expect(identity.headers[.contentEncoding] == nil)
            #expect(identity.headers[.vary] == "Accept-Encoding")

            let zipped = try await client.execute(
                uri: "/assets/site.css", method: .get, headers: [.acceptEncoding: "br, gzip;q=0.8"])
            #expect(zipped.status == .ok)
            #expect(zipped.headers[.contentEncoding] == "gzip")
            #expect(zipped.headers[.vary] == "Accept-Encoding")
            #expect(zipped.headers[.eTag] != identity.headers[.eTag])
            let gz = Array(zipped.body.readableBytesView)
            #expect(gz.prefix(3) == [0x1F, 0x8B, 0x08])
            #expect(gz.count < identity.body.readableBytes)
            // The gzip trailer holds the length of the original.
            let size = gz.suffix(4).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            #expect(size == identity.body.readableBytes)
            // Either representation's tag revalidates.
            let revalidated = try await client.execute(
                uri: "/assets/site.css", method: .get,
                headers: [.acceptEncoding: "gzip", .ifNoneMatch: zipped.headers[.eTag]!])
            #expect(revalidated.status == .notModified)

            let refused = try await client.execute(
                uri: "/assets/site.css", method: .get, headers: [.acceptEncoding: "gzip;q=0, deflate"])
            #expect(refused.headers[.contentEncoding] == nil)
            let star = try await client.execute(uri: "/assets/site.css", method: .get, headers: [.acceptEncoding: "*"])
            #expect(star.headers[.contentEncoding] == "gzip")
            // Images are not compressed again.
            let png = try await client.execute(
                uri: "/assets/logo.png", method: .get, headers: [.acceptEncoding: "gzip"])
            #expect(png.headers[.contentEncoding] == nil)
        }
    }

    @Test("Cache-Control: short for HTML and JSON, immutable for fingerprinted names, medium otherwise")
    func cacheControl() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site) { client, _ in
            let expectations: [(String, String)] = [
                ("/index.html", "public, max-age=60"),
                ("/atlassian-connect.json", "public, max-age=60"),
                ("/assets/app.3f2a9c1e.css", "public, max-age=31536000, immutable"),
                ("/assets/site.css", "public, max-age=3600"),
                ("/assets/logo.png", "public, max-age=3600"),
            ]
            for (path, policy) in expectations {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.headers[.cacheControl] == policy, "\(path)")
            }
        }
    }

    @Test("the descriptor is served at links.self with CORS")
    func descriptor() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site) { client, _ in
            let response = try await client.execute(uri: "/atlassian-connect.json", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.accessControlAllowOrigin] == "*")
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            #expect(response.json?["key"]?.stringValue == "com.example.incidents")
            let preflight = try await client.execute(uri: "/atlassian-connect.json", method: .options)
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowOrigin] == "*")
        }
    }

    @Test(
        "nothing outside dist/ and nothing under _hipkit/ is ever served",
        arguments: [
            "/../etc/passwd",
            "/%2e%2e/%2e%2e/etc/passwd",
            "/%2E%2E/atlassian-connect.json",
            "/assets/%2e%2e/%2e%2e/etc/passwd",
            "/assets/..%2f..%2fetc%2fpasswd",
            "/assets%2fapp.3f2a9c1e.css",
            "/assets%2Fsite.css",
            "/assets\\..\\index.html",
            "/assets/%5c..%5cindex.html",
            "/index.html%00.png",
            "/%00",
            "//etc/passwd",
            "/etc/passwd",
            "/./index.html",
            "/assets/./site.css",
            "/_hipkit/runtime.json",
            "/_hipkit/",
            "/%5fhipkit/runtime.json",
            "/%zz",
            "/%c0%ae%c0%ae/etc/passwd",
            "/outside-link.txt",
            "/linked-dir/secret.txt",
            "/.hidden",
        ])
    func traversal(_ path: String) async throws {
        let site = try TestSite()
        defer { site.remove() }
        // A secret beside dist/, and links pointing at it from inside.
        let secret = site.root.appendingPathComponent("secret.txt")
        try Data("do not serve".utf8).write(to: secret)
        try FileManager.default.createSymbolicLink(
            atPath: site.dist.appendingPathComponent("outside-link.txt").path, withDestinationPath: secret.path)
        try FileManager.default.createSymbolicLink(
            atPath: site.dist.appendingPathComponent("linked-dir").path, withDestinationPath: site.root.path)
        try site.write("hidden", to: ".hidden")
        try await withServer(site) { client, _ in
            let response = try await client.execute(uri: path, method: .get)
            #expect(response.status == .notFound, "\(path)")
            #expect(!response.text.contains("do not serve"))
            #expect(!response.text.contains("root:"))
            #expect(!response.text.contains("\"version\": 1"))
        }
    }

    @Test("a link that stays inside dist/ is served")
    func insideLink() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try FileManager.default.createSymbolicLink(
            atPath: site.dist.appendingPathComponent("faq.html").path, withDestinationPath: "help/faq.html")
        try await withServer(site) { client, _ in
            let response = try await client.execute(uri: "/faq.html", method: .get)
            #expect(response.status == .ok)
            #expect(response.text.contains("<h1>FAQ</h1>"))
        }
    }

    @Test("files of 1 MiB and more are served from disk, with ranges")
    func largeFile() async throws {
        let site = try TestSite()
        defer { site.remove() }
        var bytes = Data(count: (1 << 20) + 123)
        for i in 0..<bytes.count { bytes[i] = UInt8(truncatingIfNeeded: i &* 31 &+ 7) }
        let big = bytes
        try big.write(to: site.dist.appendingPathComponent("assets/video.mp4"))
        try await withServer(site) { client, _ in
            let response = try await client.execute(
                uri: "/assets/video.mp4", method: .get, headers: [.acceptEncoding: "gzip"])
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "video/mp4")
            #expect(response.headers[.contentEncoding] == nil)
            #expect(Data(response.body.readableBytesView) == big)
            let part = try await client.execute(
                uri: "/assets/video.mp4", method: .get, headers: [.range: "bytes=1048570-1048579"])
            #expect(part.status == .partialContent)
            #expect(Data(part.body.readableBytesView) == big[1_048_570...1_048_579])
            // Read a chunk at a time: a range over several, from an offset inside one.
            let long = try await client.execute(
                uri: "/assets/video.mp4", method: .get, headers: [.range: "bytes=100-300000"])
            #expect(long.status == .partialContent)
            #expect(Data(long.body.readableBytesView) == big[100...300_000])
            let again = try await client.execute(
                uri: "/assets/video.mp4", method: .get, headers: [.ifNoneMatch: response.headers[.eTag]!])
            #expect(again.status == .notModified)
            let head = try await client.execute(uri: "/assets/video.mp4", method: .head)
            #expect(head.headers[.contentLength] == String(big.count))
        }
    }

    @Test("a new build swapped in by rename is picked up; a broken one is not")
    func rebuild() async throws {
        let site = try TestSite()
        defer { site.remove() }
        // Looking at dist/ on every request, as the other tests' once a minute would not.
        try await withServer(site, site.configuration(checkInterval: 0)) { client, _ in
            let before = try await client.execute(uri: "/help/faq.html", method: .get)
            #expect(before.text.contains("Ask in the room."))

            // What `hipkit build` does: a full copy beside it, swapped in by rename.
            let staging = site.root.appendingPathComponent(".dist.staging")
            try FileManager.default.copyItem(at: site.dist, to: staging)
            try Data("<h1>FAQ</h1><p>Rebuilt.</p>".utf8).write(to: staging.appendingPathComponent("help/faq.html"))
            try Data("new".utf8).write(to: staging.appendingPathComponent("new.txt"))
            let old = site.root.appendingPathComponent(".dist.old")
            try FileManager.default.moveItem(at: site.dist, to: old)
            try FileManager.default.moveItem(at: staging, to: site.dist)
            try FileManager.default.removeItem(at: old)

            let after = try await client.execute(uri: "/help/faq.html", method: .get)
            #expect(after.text.contains("Rebuilt."))
            #expect(try await client.execute(uri: "/new.txt", method: .get).status == .ok)

            // A broken manifest: the previous build stays in service.
            try Data("{\"version\": 99}".utf8).write(to: site.dist.appendingPathComponent("_hipkit/runtime.json"))
            let still = try await client.execute(uri: "/help/faq.html", method: .get)
            #expect(still.status == .ok)
            #expect(still.text.contains("Rebuilt."))
        }
    }

    @Test("a descriptor under a base path: files are served under it, the descriptor at its own name")
    func basePath() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try site.moveDescriptor(
            to: "https://apps.example.com/addon/capabilities.json", base: "https://apps.example.com/addon/")
        try await withServer(site) { client, _ throws in
            #expect(
                try await client.execute(uri: "/addon/capabilities.json", method: .get).json?["key"]?.stringValue
                    == "com.example.incidents")
            #expect(try await client.execute(uri: "/addon/help/faq.html", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/help/faq.html", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/addon/incidents.html", method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: "/addon/raise.html", method: .get).status == .ok)
        }
    }
}
