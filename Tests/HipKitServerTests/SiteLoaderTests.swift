import Foundation
import Testing

@testable import HipKitServer

@Suite struct SiteLoaderTests {
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
