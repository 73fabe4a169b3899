import Foundation
import Logging
import Testing

@testable import HipKitServer

@Suite struct SiteWatcherTests {
    /// `hipkit dev` refreshes right after writing a build and then tells the pages, which reload
    /// at once: the build they load must be that one, even when a request was already reading
    /// an earlier one — and that earlier one, finishing last, must not replace it.
    @Test("a refresh while a request reads a build serves the newest, and keeps serving it")
    func refreshDuringAReload() async throws {
        let site = try TestSite()
        defer { site.remove() }
        // Enough files that reading the build takes a while.
        for index in 0..<4000 { try site.write("<p>\(index)</p>", to: "bulk/\(index).html") }
        let watcher = try SiteWatcher(
            loader: SiteLoader(dist: site.dist), interval: 0,
            logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))

        try site.write("first", to: "first.txt")
        let earlier = Task.detached { watcher.current() }
        let deadline = ContinuousClock.now + .seconds(20)
        while !watcher.inService.isReloading, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(1))
        }
        try #require(watcher.inService.isReloading, "a request is reading the first build")
        try site.write("second", to: "second.txt")
        watcher.refresh()
        #expect(watcher.inService.snapshot.file(forPath: "/second.txt") != nil, "the second build is served")
        _ = await earlier.value
        #expect(!watcher.inService.isReloading)
        #expect(watcher.inService.snapshot.file(forPath: "/second.txt") != nil, "and stays, the first one ended last")
    }
}
