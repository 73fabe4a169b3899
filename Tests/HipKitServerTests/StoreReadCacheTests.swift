import Foundation
import HipChatConnect
import Testing

@testable import HipKitServer

/// The SQLite store keeps what every JWT-checked request reads (the installation, the glance
/// data) in memory: a write through the store, or by another process on the same file, is seen
/// by the next read.
@Suite struct StoreReadCacheTests {
    @Test func writesThroughTheStoreAreSeenAtOnce() async throws {
        let location = try await StoreLocation.make(.sqlite)
        defer { location.remove() }
        try await location.with { store in
            try await store.upsert(Fixture.installation())
            #expect(try await store.installation(oauthId: Fixture.oauthId)?.oauthSecret == Fixture.secret)
            var changed = Fixture.installation()
            changed.oauthSecret = Fixture.otherSecret
            try await store.upsert(changed)
            #expect(try await store.installation(oauthId: Fixture.oauthId)?.oauthSecret == Fixture.otherSecret)
            #expect(try await store.deleteInstallation(oauthId: Fixture.oauthId))
            #expect(try await store.installation(oauthId: Fixture.oauthId) == nil)

            #expect(try await store.glanceData(key: "g", room: 7) == nil)
            _ = try await store.putGlanceData(.object(["label": .string("one")]), key: "g", room: 7)
            #expect(try await store.glanceData(key: "g", room: 7)?["label"] == .string("one"))
            #expect(try await store.glanceData(key: "g", room: nil, installation: nil) == nil)
            _ = try await store.putGlanceData(.object(["label": .string("two")]), key: "g", room: 7)
            #expect(try await store.glanceData(key: "g", room: 7)?["label"] == .string("two"))
        }
    }

    /// A server's store and another on the same file, which stands for another process
    /// (`hipkit copy-store`, `rotate-key`, a second server): its own connections, its own caches.
    static func withTwoStoresOnOneFile(
        _ body: (_ server: any InstallationStore, _ other: any InstallationStore) async throws -> Void
    ) async throws {
        let location = try await StoreLocation.make(.sqlite)
        defer { location.remove() }
        let server = try await location.open()
        let other = try await location.open()
        do {
            try await body(server, other)
        } catch {
            try? await server.close()
            try? await other.close()
            throw error
        }
        try await server.close()
        try await other.close()
    }

    @Test func aWriteByAnotherStoreOnTheFileIsSeenByTheNextRead() async throws {
        try await Self.withTwoStoresOnOneFile { server, other in
            try await server.upsert(Fixture.installation())
            #expect(try await server.installation(oauthId: Fixture.oauthId)?.oauthSecret == Fixture.secret)
            #expect(try await server.installation(oauthId: Fixture.otherId) == nil)
            #expect(try await server.glanceData(key: "g", room: nil, installation: nil) == nil)

            var changed = Fixture.installation()
            changed.oauthSecret = Fixture.otherSecret
            try await other.upsert(changed)
            #expect(try await server.installation(oauthId: Fixture.oauthId)?.oauthSecret == Fixture.otherSecret)
            try await other.upsert(Fixture.installation(Fixture.otherId))
            #expect(try await server.installation(oauthId: Fixture.otherId) != nil)

            _ = try await other.putGlanceData(.object(["label": .string("elsewhere")]), key: "g", room: nil)
            #expect(
                try await server.glanceData(key: "g", room: nil, installation: nil)?["label"] == .string("elsewhere"))
            _ = try await other.putGlanceData(.object(["label": .string("again")]), key: "g", room: nil)
            #expect(try await server.glanceData(key: "g", room: nil, installation: nil)?["label"] == .string("again"))

            #expect(try await other.deleteInstallation(oauthId: Fixture.oauthId))
            #expect(try await server.installation(oauthId: Fixture.oauthId) == nil)
        }
    }

    /// A request's reads look at the file's version once, when taken: a write through the same
    /// store after that is still seen by them (it empties the cache), and a write by another
    /// store is seen by the next request's reads.
    @Test func aRequestsReadsSeeWritesAsTheStoreDoes() async throws {
        try await Self.withTwoStoresOnOneFile { server, other in
            try await server.upsert(Fixture.installation())
            _ = try await server.putGlanceData(.object(["label": .string("one")]), key: "g", room: nil)
            let before = try server.reads()
            #expect(try await before.installation(oauthId: Fixture.oauthId) != nil)
            #expect(try await before.glanceData(key: "g", room: nil, installation: nil)?["label"] == .string("one"))
            _ = try await server.putGlanceData(.object(["label": .string("two")]), key: "g", room: nil)
            #expect(try await server.deleteInstallation(oauthId: Fixture.oauthId))
            #expect(try await before.installation(oauthId: Fixture.oauthId) == nil)
            #expect(try await before.glanceData(key: "g", room: nil, installation: nil)?["label"] == .string("two"))

            try await other.upsert(Fixture.installation())
            _ = try await other.putGlanceData(.object(["label": .string("three")]), key: "g", room: nil)
            let next = try server.reads()
            #expect(try await next.installation(oauthId: Fixture.oauthId) != nil)
            #expect(try await next.glanceData(key: "g", room: nil, installation: nil)?["label"] == .string("three"))
        }
    }

    @Test func aValueReadBeforeAWriteIsNotKept() throws {
        let cache = StoreReadCache<String, Int>()
        let ticket = try #require(cache.lookup("a", at: 1).ticket, "an empty cache had a value")
        cache.invalidate()  // a write committed while the value was being read
        cache.store(1, for: "a", ticket: ticket)
        let fresh = try #require(cache.lookup("a", at: 1).ticket, "the value read before the write was kept")
        cache.store(2, for: "a", ticket: fresh)
        #expect(cache.lookup("a", at: 1).kept == 2, "the value read after the write was not kept")
    }

    @Test func valuesKeptAtOneVersionAreNotAnsweredAtAnother() throws {
        let cache = StoreReadCache<String, Int>()
        let ticket = try #require(cache.lookup("a", at: 1).ticket, "an empty cache had a value")
        cache.store(1, for: "a", ticket: ticket)
        #expect(cache.lookup("a", at: 1).kept == 1, "the value was not kept")
        let later = try #require(
            cache.lookup("a", at: 2).ticket, "a value kept at version 1 was answered at version 2")
        // A reader that took its ticket before another looked at a new version.
        _ = cache.lookup("a", at: 3)
        cache.store(2, for: "a", ticket: later)
        #expect(cache.lookup("a", at: 3).ticket != nil, "a value read under version 2 was kept at version 3")
    }
}

extension StoreReadCache.Lookup {
    /// The ticket of a lookup that found nothing kept; nil when it found a value.
    var ticket: Int? {
        if case .missing(let ticket) = self { ticket } else { nil }
    }

    /// The value a lookup found kept.
    var kept: Value? {
        if case .kept(let value) = self { value } else { nil }
    }
}
