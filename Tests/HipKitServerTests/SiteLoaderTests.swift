import Foundation
import Testing

@testable import HipKitServer

@Suite struct SiteLoaderTests {
    /// `hipkit serve` named a project, or run inside a build (where it looks for dist/dist):
    /// the hint names the build to serve, where "run hipkit build" sent the user in a circle.
    @Test func aProjectOrABuildNamedWronglyGetsTheBuildToServe() throws {
        let site = try TestSite()
        defer { site.remove() }
        func hint(_ dist: URL) -> String? {
            do {
                _ = try SiteLoader(dist: dist).load()
                return nil
            } catch {
                return error.diagnostics.first?.hint
            }
        }
        let project = site.root.path
        try Data("key: x\n".utf8).write(to: site.root.appendingPathComponent("addon.yaml"))
        #expect(
            hint(site.root) == "\(project) is a project, and its build is \(project)/dist: hipkit serve \(project)/dist"
        )
        #expect(
            hint(site.dist.appendingPathComponent("dist"))
                == "\(site.dist.path) is a build itself: hipkit serve \(site.dist.path)")
        try FileManager.default.removeItem(at: site.dist)
        #expect(
            hint(site.root)
                == "\(project) is a project: build it (hipkit build \(project)), then serve its build: hipkit serve \(project)/dist"
        )
        try FileManager.default.removeItem(at: site.root.appendingPathComponent("addon.yaml"))
        #expect(hint(site.root) == "run `hipkit build`; the server reads the descriptor it writes")
    }

    @Test("past the memory limit, files are served from disk; those held keep their bytes, and a reload keeps them")
    func memoryLimit() throws {
        let site = try TestSite()
        defer { site.remove() }
        var loader = SiteLoader(dist: site.dist)
        let whole = try loader.load()
        let all = whole.files.values.filter(\.isInMemory)
        let used = all.reduce(0) { $0 + $1.size + ($1.gzip?.readableBytes ?? 0) }
        #expect(all.count > 2)

        loader.limits.maxMemoryBytes = used / 2
        let limited = try loader.load()
        let held = limited.files.values.filter(\.isInMemory)
        #expect(!held.isEmpty && held.count < all.count)
        #expect(held.reduce(0) { $0 + $1.size + ($1.gzip?.readableBytes ?? 0) } <= used / 2)
        #expect(limited.files.count == whole.files.count)
        for file in held {
            let unlimited = try #require(whole.files[file.relativePath])
            #expect(file.etag == unlimited.etag && file.gzipETag == unlimited.gzipETag, "\(file.relativePath)")
            #expect(file.wireHeads?.identity == unlimited.wireHeads?.identity)
        }

        let again = try loader.load(reusing: limited)
        #expect(
            Set(again.files.values.filter(\.isInMemory).map(\.relativePath)) == Set(held.map(\.relativePath)))
    }
}
