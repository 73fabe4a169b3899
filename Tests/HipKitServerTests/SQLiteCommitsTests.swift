import Foundation
import GRDBSQLite
import Testing

@testable import HipKitServer

/// The commit version of the SQLite file, which every JWT-checked request on the event loop
/// asks for: threads asking at once each get it, and a locked file is waited for only by the
/// caller that may wait.
@Suite struct SQLiteCommitsTests {
    /// A store's file, and its commit version as a second connection sees it.
    private static func withCommits(_ body: (_ file: URL, _ commits: SQLiteCommits) async throws -> Void)
        async throws
    {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hipkit-commits-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("hipkit.sqlite")
        let store = try SQLiteStore(file: file, secrets: SecretBox.random())
        let commits = try SQLiteCommits(path: file.path)
        defer { commits.close() }
        try await body(file, commits)
        try await store.close()
    }

    /// `body` on a thread of its own, awaited without holding one of the tasks' threads.
    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    @Test func threadsAskingAtOnceEachGetTheVersion() async throws {
        try await Self.withCommits { _, commits in
            let missed = await withTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        await Self.onThread { (0..<20_000).count { _ in commits.currentWithoutWaiting() == nil } }
                    }
                }
                return await group.reduce(0, +)
            }
            #expect(missed == 0)
        }
    }

    /// On a file in rollback-journal mode, which another connection can lock exclusively (the
    /// store's WAL file is locked so only while it is recovered after a crash).
    @Test func aLockedFileIsWaitedForOnlyWhereWaitingIsAllowed() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hipkit-commits-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("plain.sqlite")
        var db: OpaquePointer?
        #expect(sqlite3_open_v2(file.path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK)
        defer { sqlite3_close_v2(db) }
        #expect(sqlite3_exec(db, "CREATE TABLE t (x)", nil, nil, nil) == SQLITE_OK)
        let commits = try SQLiteCommits(path: file.path)
        defer { commits.close() }
        let before = try commits.current()
        #expect(sqlite3_exec(db, "BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);", nil, nil, nil) == SQLITE_OK)

        let asked = ContinuousClock.now
        #expect(commits.currentWithoutWaiting() == nil)
        #expect(ContinuousClock.now - asked < .milliseconds(100), "the event loop's look does not wait")

        async let waited = Self.onThread { (Result { try commits.current() }, ContinuousClock.now) }
        try await Task.sleep(for: .milliseconds(200))
        #expect(commits.currentWithoutWaiting() == nil, "current() waits without holding the lock meanwhile")
        let released = ContinuousClock.now
        #expect(sqlite3_exec(db, "COMMIT", nil, nil, nil) == SQLITE_OK)
        let (result, returned) = await waited
        let version = try result.get()
        #expect(returned >= released, "current() waited for the lock")
        #expect(version != before, "the other connection committed")
        #expect(commits.currentWithoutWaiting() == version)
    }
}
