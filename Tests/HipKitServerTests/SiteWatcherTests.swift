import Foundation
import Logging
import Synchronization
import Testing

@testable import HipKitServer

@Suite struct SiteWatcherTests {
    /// `hipkit dev` refreshes right after writing a build and then tells the pages, which reload
    /// at once: the build they load must be that one, even when a request was already reading
    /// an earlier one — and that earlier one, finishing last, must not replace it.
    ///
    /// The request and the watch on it run on threads of their own, not on the test pool, so
    /// the watch sees the request's read begin however busy the pool is.
    @Test("a refresh while a request reads a build serves the newest, and keeps serving it")
    func refreshDuringAReload() async throws {
        let site = try TestSite()
        defer { site.remove() }
        // Enough files that reading the build takes a while.
        for index in 0..<6000 { try site.write("<p>\(index)</p>", to: "bulk/\(index).html") }
        let watcher = try SiteWatcher(
            loader: SiteLoader(dist: site.dist), interval: 0,
            logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }))
        try site.write("first", to: "first.txt")

        let (sawTheRead, servedAtOnce) = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let requestDone = Mutex(false)
                let request = DispatchGroup()
                request.enter()
                Thread.detachNewThread {
                    _ = watcher.current()
                    requestDone.withLock { $0 = true }
                    request.leave()
                }
                var sawTheRead = false
                while !sawTheRead && !requestDone.withLock({ $0 }) { sawTheRead = watcher.inService.isReloading }
                var servedAtOnce = false
                if sawTheRead {
                    try? site.write("second", to: "second.txt")
                    watcher.refresh()
                    servedAtOnce = watcher.inService.snapshot.file(forPath: "/second.txt") != nil
                }
                request.wait()
                continuation.resume(returning: (sawTheRead, servedAtOnce))
            }
        }
        try #require(sawTheRead, "a request was reading the first build")
        #expect(servedAtOnce, "the second build is served when refresh returns")
        #expect(!watcher.inService.isReloading)
        #expect(watcher.inService.snapshot.file(forPath: "/second.txt") != nil, "and stays, the first one ended last")
    }
}
