import Foundation
import HipChatConnect
import Testing

@testable import HipKit

@Suite(.serialized) struct ProjectWatcherTests {
    /// Collects a watcher's batches as they come, so a test can wait for one with a deadline
    /// (awaiting the stream itself would wait forever for a batch that never comes).
    final class Batches: @unchecked Sendable {  // `items` is guarded by `lock`
        private let lock = NSLock()
        private var items: [Set<String>] = []
        private var task: Task<Void, Never>?

        init(_ stream: AsyncStream<Set<String>>) {
            task = Task { [weak self] in
                for await batch in stream { self?.lock.withLock { self?.items.append(batch) } }
            }
        }

        deinit { task?.cancel() }

        /// The union of the batches that arrive until one holds `path`, or nil after `seconds`
        /// of polling.
        ///
        /// The bound counts polls 10 ms apart, not the clock: other suites that block the
        /// concurrency pool's two threads (child processes waited for) can keep both this task
        /// and the one collecting batches from running for many seconds, and a clock deadline
        /// then ran out with the batch already waiting in the stream (a failure seen in CI).
        func until(_ path: String, seconds: Double = 20) async -> Set<String>? {
            var seen = Set<String>()
            for _ in 0..<Int(seconds * 100) {
                let taken: [Set<String>] = lock.withLock {
                    defer { items.removeAll() }
                    return items
                }
                // Every batch taken counts, also those after the one holding `path`: they are
                // gone from `items`, and dropping them lost paths when several had queued up.
                for batch in taken { seen.formUnion(batch) }
                if seen.contains(path) { return seen }
                try? await Task.sleep(for: .milliseconds(10))
            }
            return nil
        }
    }

    @Test func reportsEditsRenamesNewFoldersAndDeletionsInBatches() async throws {
        let dir = try TestSupport.project("key: k\n", files: ["pages/a.md": "# A\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let watcher = ProjectWatcher(root: dir)
        defer { watcher.stop() }
        let changes = Batches(watcher.changes())
        try await Task.sleep(for: .milliseconds(200))  // let the watches be set up

        try TestSupport.write("# A, edited\n", to: dir.appendingPathComponent("pages/a.md"))
        #expect(await changes.until("pages/a.md") == ["pages/a.md"])

        // An editor's save: write a temporary file, then rename it over the page.
        try TestSupport.write("# A again\n", to: dir.appendingPathComponent("pages/.a.md.tmp"))
        _ = rename(dir.appendingPathComponent("pages/.a.md.tmp").path, dir.appendingPathComponent("pages/a.md").path)
        #expect(await changes.until("pages/a.md") != nil)

        // A new folder is watched too.
        try TestSupport.write("# Deep\n", to: dir.appendingPathComponent("pages/help/deep.md"))
        #expect(await changes.until("pages/help/deep.md") != nil)
        try TestSupport.write("# Deeper\n", to: dir.appendingPathComponent("pages/help/deep.md"))
        #expect(await changes.until("pages/help/deep.md") == ["pages/help/deep.md"])

        try FileManager.default.removeItem(at: dir.appendingPathComponent("pages/a.md"))
        #expect(await changes.until("pages/a.md") == ["pages/a.md"])

        // Pages written into new nested folders at once (an unpacked archive, a `git checkout`):
        // each is reported, although it was written before its folder could be watched.
        let nested = (1...10).map { "pages/batch/n\($0)/deeper/page.md" }
        for path in nested { try TestSupport.write("# N\n", to: dir.appendingPathComponent(path)) }
        var seen = Set<String>()
        while let missing = nested.first(where: { !seen.contains($0) }) {
            guard let batches = await changes.until(missing) else { break }
            seen.formUnion(batches)
        }
        #expect(Set(nested).subtracting(seen).isEmpty, "not reported: \(Set(nested).subtracting(seen).sorted())")

        // The output folder and a build's staging folder are not the project's source: ignored.
        try TestSupport.write("x", to: dir.appendingPathComponent("dist/x.html"))
        try TestSupport.write("x", to: dir.appendingPathComponent(".dist.staging-1-2/x.html"))
        try TestSupport.write("key: k2\n", to: dir.appendingPathComponent("addon.yaml"))
        let reported = await changes.until("addon.yaml")
        // Named in the failure: nil (nothing within the wait), an ignored path, or a late report.
        #expect(reported == ["addon.yaml"], "reported: \(String(describing: reported?.sorted()))")
    }
}
