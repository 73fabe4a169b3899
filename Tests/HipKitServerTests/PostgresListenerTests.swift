import Foundation
import HipChatConnect
import TestProcesses
import Testing

@testable import HipKitServer

/// An instance on PostgreSQL keeps the installations it reads (every JWT-checked request needs
/// one) only while its listening connection hears of changes: lost, or silent, it is given up,
/// what was kept is forgotten, and a new connection listens.
@Suite("PostgreSQL: the connection that hears of installation changes")
struct PostgresListenerTests {
    /// Whether `condition` holds within twenty seconds (a retry every 10 ms), asked once more
    /// after them. Met in milliseconds; the bound is for this test's task, which other suites
    /// can keep from running for seconds on a small machine. (It stays below the standard
    /// heartbeat's 10 s and 30 s, which `silentListener` relies on.)
    static func soon(_ condition: () async throws -> Bool) async throws -> Bool {
        try await Polling.holds(within: 20, every: .milliseconds(10), condition)
    }

    static func room(_ store: any InstallationStore) async throws -> Int? {
        try await store.installation(oauthId: Fixture.oauthId)?.roomId
    }

    @Test("lost, what was kept is forgotten: a change made without a notification meanwhile is read")
    func listenerLost() async throws {
        let location = try await StoreLocation.make(.postgres)
        let server = try await PostgresServer.shared()
        let sql = { (statement: String) in try await server.execute(statement, in: location.databaseText) }
        try await location.with { try await $0.upsert(Fixture.installation(roomId: 42)) }
        try await location.with { store throws in
            #expect(try await Self.room(store) == 42)
            // Kept: a change that tells no one is not seen.
            try await sql("UPDATE hipkit_installation SET room_id = 7")
            #expect(try await Self.room(store) == 42)

            let before = try await server.integers(PostgresServer.listeners, in: location.databaseText)
            try #require(before.count == 1)
            try await sql("SELECT pg_terminate_backend(pid) FROM (\(PostgresServer.listeners)) AS listener")
            // A new connection listens (a retry every half second)... The new connection shows
            // before its LISTEN is in place; only then does the store keep what it reads again.
            let postgres = try #require(store as? PostgresStore)
            #expect(
                try await Self.soon {
                    let now = try await server.integers(PostgresServer.listeners, in: location.databaseText)
                    return now.count == 1 && now != before && postgres.isListening
                })
            // ...and what was kept went with the old one.
            #expect(try await Self.room(store) == 7)
            // Listening again, it keeps what it reads and hears of changes.
            try await sql("UPDATE hipkit_installation SET room_id = 8")
            #expect(try await Self.room(store) == 7)
            try await sql("SELECT pg_notify('\(PostgresStore.channel)', '\(Fixture.oauthId)')")
            #expect(try await Self.soon { try await Self.room(store) == 8 })
        }
    }

    /// A database that stops answering: a request fails within the store's answer limit rather
    /// than waiting for as long as it takes (a minute and more, while the pool reconnects), and
    /// the store answers again once the database does.
    @Test("a request to a database that stops answering fails within the answer limit")
    func unansweringDatabase() async throws {
        let location = try await StoreLocation.make(.postgres)
        let server = try await PostgresServer.shared()
        try await location.with { try await $0.upsert(Fixture.installation(roomId: 42)) }
        let store = try await location.open(answerLimit: .seconds(1))
        // Every connection of its pool open, so that every one is held below.
        #expect(
            try await Self.soon {
                try await server.integers(PostgresServer.pooled, in: location.databaseText).count
                    == PostgresStore.poolSize
            })
        try await server.withPoolHeld(in: location.databaseText) {
            for attempt in 0..<2 {
                let start = ContinuousClock.now
                await #expect(throws: PostgresStoreError.noAnswer, "attempt \(attempt)") {
                    try await store.putSettings(["on": .bool(true)], oauthId: Fixture.oauthId, room: nil)
                }
                // Far below the minute and more it took without the limit; above the limit by
                // what a loaded machine can add (the limit is kept by a task of the pool).
                #expect(ContinuousClock.now - start < .seconds(20), "attempt \(attempt)")
            }
        }
        // The connections given up were closed; the pool opens others. (The statements sent to
        // the held processes may still run once they go on, as documented: a write is tried
        // until it is the one read back.)
        #expect(
            try await Self.soon {
                guard (try? await store.putSettings(["on": .bool(false)], oauthId: Fixture.oauthId, room: nil)) != nil
                else { return false }
                return (try? await store.settings(oauthId: Fixture.oauthId, room: nil)) == ["on": .bool(false)]
            })
        try await store.close()
    }

    @Test("one that stops answering, as one a network dropped, is given up within its heartbeat: nothing stale is kept")
    func silentListener() async throws {
        let location = try await StoreLocation.make(.postgres)
        let server = try await PostgresServer.shared()
        try await location.with { try await $0.upsert(Fixture.installation(roomId: 42)) }
        let quick = try await location.open(heartbeat: .init(interval: .milliseconds(200), timeout: .milliseconds(300)))
        let standard = try await location.open()
        #expect(try await Self.room(quick) == 42)
        #expect(try await Self.room(standard) == 42)
        try await server.withListenersHeld(in: location.databaseText) {
            // The change's notification cannot reach the held listeners.
            try await location.with { try await $0.upsert(Fixture.installation(roomId: 7)) }
            #expect(
                try await Self.soon { try await Self.room(quick) == 7 },
                "the kept installation outlived a silent listener")
            // The hold is real: a store whose heartbeat gives up after 30 s still answers what it kept.
            #expect(try await Self.room(standard) == 42)
        }
        #expect(try await Self.soon { try await Self.room(standard) == 7 })
        try await quick.close()
        try await standard.close()
    }
}
