import Foundation
import GRDBSQLite
import Synchronization
import Testing

@testable import HipKitServer

/// The commit version of the SQLite file, which every JWT-checked request on the event loop
/// asks for: threads asking at once each get it, and a locked file is waited for only by the
/// caller that may wait.
@Suite struct SQLiteCommitsTests {
    /// A store, and its file's commit version as connections of their own see it.
    private static func withCommits(
        count: Int? = nil, _ body: (_ store: SQLiteStore, _ commits: SQLiteCommits) async throws -> Void
    ) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hipkit-commits-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("hipkit.sqlite")
        let store = try SQLiteStore(file: file, secrets: SecretBox.random())
        let commits = try count.map { try SQLiteCommits(path: file.path, count: $0) } ?? SQLiteCommits(path: file.path)
        defer { commits.close() }
        try await body(store, commits)
        try await store.close()
    }

    /// `body` on a thread of its own, awaited without holding one of the tasks' threads.
    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: body()) }.start()
        }
    }

    /// As the event-loop threads ask, one look each per JWT-checked request: none is turned
    /// away, as none waits for another's look.
    @Test func eventLoopThreadsAskingAtOnceEachGetTheVersion() async throws {
        try await Self.withCommits { _, commits in
            let missed = await withTaskGroup(of: Int.self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        await Self.onThread { (0..<20_000).count { _ in commits.currentWithoutWaiting() == nil } }
                    }
                }
                return await group.reduce(0, +)
            }
            #expect(missed == 0)
        }
    }

    /// The version each connection answers.
    private static func versions(_ commits: SQLiteCommits) throws -> [Int64] {
        try (0..<commits.connectionCount).map { try #require(commits.currentWithoutWaiting(onConnection: $0)) }
    }

    /// A commit elsewhere is seen by each connection at its next look: every look made after
    /// it, on whichever connection, answers a version no look before it answered.
    @Test func aCommitChangesTheVersionEveryConnectionAnswers() async throws {
        try await Self.withCommits(count: 4) { store, commits in
            for _ in 0..<3 {
                let before = try Self.versions(commits)
                try await store.upsert(Fixture.installation())
                let after = try Self.versions(commits)
                #expect(after.min()! > before.max()!, "a look after the commit answered a version seen before it")
            }
        }
    }

    /// A commit taken in (as the store does after its own writes) changes the version once, for
    /// every connection: a value kept at it is read again once, not once per connection.
    @Test func aCommitTakenInIsCountedOnce() async throws {
        try await Self.withCommits(count: 4) { store, commits in
            let before = Set(try Self.versions(commits))
            #expect(before.count == 1, "no commit, yet the version changed")
            try await store.upsert(Fixture.installation())
            commits.takeInCommit()
            #expect(Set(try Self.versions(commits)) == [before.first! + 1])
        }
    }

    /// The store takes in its own writes: after one, every thread, whichever connection it
    /// lands on, is answered the same version, one more than before.
    ///
    /// Sixteen threads share the connections (one per core and one more): an ask that finds each
    /// of them in another thread's look (or SQLite busy) is answered nil, "not without waiting",
    /// as documented; under the whole suite's load that happened to 1 ask of 16 once. So each
    /// thread asks until it is answered, for at most two seconds; what it is answered is what
    /// this checks.
    @Test func theStoresWritesAreCountedOnce() async throws {
        try await Self.withCommits { store, _ in
            let before = try #require(store.commitVersion())
            try await store.upsert(Fixture.installation())
            let seen = await withTaskGroup(of: Int64?.self) { group in
                for _ in 0..<16 { group.addTask { await Self.onThread { Self.firstAnswer { store.commitVersion() } } } }
                return await group.reduce(into: Set<Int64?>()) { $0.insert($1) }
            }
            #expect(seen == [before + 1])
        }
    }

    /// What `ask` answers first, asked again while it answers nil, for at most two seconds.
    private static func firstAnswer(_ ask: () -> Int64?) -> Int64? {
        let deadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < deadline {
            if let answer = ask() { return answer }
            sched_yield()
        }
        return nil
    }

    /// While nothing is committed, the version stands without a look (the WAL index's change
    /// counter reads as before); a commit by another connection is seen by the next ask, with
    /// one look; after ``SQLiteCommits/close()`` no ask is answered.
    @Test func nothingCommittedNoLook() async throws {
        try await Self.withCommits { store, commits in
            #expect(commits.readsTheWALIndex)
            let version = try commits.current()
            let looks = commits.looks.load(ordering: .relaxed)
            for _ in 0..<1000 {
                #expect(commits.currentWithoutWaiting() == version)
                #expect(try commits.current() == version)
            }
            #expect(commits.looks.load(ordering: .relaxed) == looks, "asked with nothing committed, it looked")

            // The store's write is, for these connections, another connection's commit.
            try await store.upsert(Fixture.installation())
            let after = try #require(commits.currentWithoutWaiting())
            #expect(after > version)
            #expect(commits.looks.load(ordering: .relaxed) == looks + 1)
            #expect(commits.currentWithoutWaiting() == after)
            #expect(try commits.current() == after)
            #expect(commits.looks.load(ordering: .relaxed) == looks + 1)

            commits.close()
            #expect(commits.currentWithoutWaiting() == nil)
            #expect(throws: (any Error).self) { try commits.current() }
        }
    }

    /// Closed, the store leaves its file alone, with nothing in a `-wal` or `-shm` file beside
    /// it: a copy of `hipkit.sqlite` made after a stop has every acknowledged write.
    @Test func closingLeavesOneFile() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hipkit-commits-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("hipkit.sqlite")
        let store = try SQLiteStore(file: file, secrets: SecretBox.random())
        try await store.upsert(Fixture.installation())
        #expect(store.commitVersion() != nil)
        try await store.close()
        for suffix in ["-wal", "-shm"] {
            #expect(!FileManager.default.fileExists(atPath: file.path + suffix), "\(suffix) left after close")
        }
    }

    /// On a file in rollback-journal mode, which another connection can lock exclusively (the
    /// store's WAL file is locked so only while it is recovered after a crash).
    ///
    /// `current()` waits five seconds at most, so the lock is held, and let go, on a thread of
    /// its own: held by the test's task, it was let go only when the task next ran, and with
    /// the concurrency pool's threads (one per core) busy with other tests, that once came after
    /// the five seconds.
    @Test func aLockedFileIsWaitedForOnlyWhereWaitingIsAllowed() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hipkit-commits-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("plain.sqlite")
        var opened: OpaquePointer?
        #expect(sqlite3_open_v2(file.path, &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK)
        // Used by one thread at a time: this task's, then the holder's, then this task's again.
        nonisolated(unsafe) let db = opened
        defer { sqlite3_close_v2(db) }
        #expect(sqlite3_exec(db, "CREATE TABLE t (x)", nil, nil, nil) == SQLITE_OK)
        // One connection, so that the version the waiting look answers is the one answered next.
        let commits = try SQLiteCommits(path: file.path, count: 1)
        defer { commits.close() }
        #expect(!commits.readsTheWALIndex, "a file not in WAL mode has no WAL index")
        #expect(!FileManager.default.fileExists(atPath: file.path + "-shm"), "looking for one made one")
        let before = try commits.current()
        #expect(sqlite3_exec(db, "BEGIN EXCLUSIVE; INSERT INTO t VALUES (1);", nil, nil, nil) == SQLITE_OK)

        let asked = ContinuousClock.now
        #expect(commits.currentWithoutWaiting() == nil)
        #expect(ContinuousClock.now - asked < .milliseconds(100), "the event loop's look does not wait")

        // current() on a thread of its own, asked before the commit: the commit waits until it is.
        let asking = Flag()
        async let waited = Self.onThread {
            asking.set()
            return (Result { try commits.current() }, ContinuousClock.now)
        }
        let holder = await Self.onThread {
            while !asking.isSet { usleep(5_000) }
            usleep(200_000)
            let looked = ContinuousClock.now
            let answer = commits.currentWithoutWaiting()
            let answered = ContinuousClock.now
            // takeInCommit() waits for the connection's lock: current() does not hold it between tries.
            commits.takeInCommit()
            let released = ContinuousClock.now
            let committed = sqlite3_exec(db, "COMMIT", nil, nil, nil)
            return (
                answer: answer, answering: answered - looked, takingIn: released - answered, released: released,
                committed: committed
            )
        }
        #expect(holder.answer == nil, "the file is still locked")
        #expect(holder.answering < .milliseconds(100), "the event loop's look does not wait")
        #expect(holder.takingIn < .milliseconds(100), "current() held the connection while it waited")
        #expect(holder.committed == SQLITE_OK)
        let (result, returned) = await waited
        let version = try result.get()
        #expect(returned >= holder.released, "current() waited for the lock")
        #expect(version != before, "the other connection committed")
        #expect(commits.currentWithoutWaiting() == version)
    }
}

/// A flag one thread sets and another waits for.
private final class Flag: Sendable {
    private let value = Atomic<Bool>(false)

    func set() { value.store(true, ordering: .releasing) }

    var isSet: Bool { value.load(ordering: .acquiring) }
}
