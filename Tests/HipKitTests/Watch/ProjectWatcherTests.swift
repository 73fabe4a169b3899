import Foundation
import Testing
@testable import HipKit

@Suite(.serialized) struct ProjectWatcherTests {
    /// The next batch of changes, or nil after `seconds`.
    func next(_ iterator: inout AsyncStream<Set<String>>.AsyncIterator, seconds: Double = 5) async -> Set<String>? {
        await withTaskGroup(of: Set<String>?.self) { group in
            var it = iterator
            group.addTask { try? await Task.sleep(for: .seconds(seconds)); return nil }
            let value = await it.next()
            group.cancelAll()
            iterator = it
            return value
        }
    }

    @Test func reportsEditsRenamesNewFoldersAndDeletionsInBatches() async throws {
        let dir = try TestSupport.project("key: k\n", files: ["pages/a.md": "# A\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let watcher = ProjectWatcher(root: dir)
        defer { watcher.stop() }
        var changes = watcher.changes().makeAsyncIterator()
        try await Task.sleep(for: .milliseconds(200))  // let the watches be set up

        try TestSupport.write("# A, edited\n", to: dir.appendingPathComponent("pages/a.md"))
        #expect(await next(&changes) == ["pages/a.md"])

        // An editor's save: write a temporary file, then rename it over the page.
        try TestSupport.write("# A again\n", to: dir.appendingPathComponent("pages/.a.md.tmp"))
        _ = rename(dir.appendingPathComponent("pages/.a.md.tmp").path, dir.appendingPathComponent("pages/a.md").path)
        let saved = await next(&changes)
        #expect(saved?.contains("pages/a.md") == true)

        // A new folder is watched too.
        try TestSupport.write("# Deep\n", to: dir.appendingPathComponent("pages/help/deep.md"))
        var seen = await next(&changes) ?? []
        if !seen.contains("pages/help/deep.md") { seen.formUnion(await next(&changes) ?? []) }
        #expect(seen.contains("pages/help/deep.md"))
        try TestSupport.write("# Deeper\n", to: dir.appendingPathComponent("pages/help/deep.md"))
        #expect(await next(&changes) == ["pages/help/deep.md"])

        try FileManager.default.removeItem(at: dir.appendingPathComponent("pages/a.md"))
        #expect(await next(&changes) == ["pages/a.md"])

        // The output folder is not the project's source: its changes are ignored.
        try TestSupport.write("x", to: dir.appendingPathComponent("dist/x.html"))
        try TestSupport.write("key: k2\n", to: dir.appendingPathComponent("addon.yaml"))
        #expect(await next(&changes) == ["addon.yaml"])
    }
}
