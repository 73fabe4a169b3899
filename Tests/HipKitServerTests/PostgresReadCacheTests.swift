import Foundation
import HipChatConnect
import Testing

@testable import HipKitServer

/// What an instance on PostgreSQL keeps in memory — installations and glance data, which every
/// JWT-checked glance query reads — and that any change to them, by whatever writes it, makes
/// it forget them within moments.
@Suite("PostgreSQL: what an instance keeps in memory")
struct PostgresReadCacheTests {
    static let key = "incidents-glance"

    static func label(_ text: String) -> JSONNode { .object(["label": .string(text)]) }

    /// The data `store` keeps for the glance in `room`: nil when it keeps nothing, `.some(nil)`
    /// when it keeps that there is none.
    static func kept(_ store: any InstallationStore, room: Int?) -> JSONNode?? {
        store.readsWithoutWaiting()?.keptGlanceData(key: key, room: room)
    }

    /// Reads the glance's data in rooms 42 and 7, which `store` then keeps, and checks both.
    static func read(_ store: any InstallationStore, _ room42: String?, _ room7: String?) async throws {
        for (room, value) in [(42, room42), (7, room7)] {
            #expect(try await store.glanceData(key: key, room: room)?["label"]?.stringValue == value)
            #expect(kept(store, room: room).map { $0?["label"]?.stringValue } == .some(value))
        }
    }

    /// Whether `store` forgets the glance's data (it keeps rooms 42 and 7) soon.
    static func forgets(_ store: any InstallationStore) async throws -> Bool {
        try await holdsSoon { kept(store, room: 42) == nil && kept(store, room: 7) == nil }
    }

    @Test("glance data changed by another instance, by SQL by hand, or emptied, is forgotten and read again")
    func anyWriter() async throws {
        let location = try await StoreLocation.make(.postgres)
        let server = try await PostgresServer.shared()
        let sql = { (statement: String) in try await server.execute(statement, in: location.databaseText) }
        // Written before the store under test opens: it hears only of what comes after.
        try await location.with { setup throws in
            try await setup.upsert(Fixture.installation(roomId: 42))
            try await setup.putGlanceData(Self.label("one"), key: Self.key, room: 42)
        }
        try await location.with { store throws in
            try await Self.read(store, "one", nil)
            #expect(try await store.installation(oauthId: Fixture.oauthId) != nil)
            #expect(store.readsWithoutWaiting()?.keptInstallation(oauthId: Fixture.oauthId)??.roomId == 42)

            // Another instance on the same database writes where none was kept.
            try await location.with { other throws in
                try await other.putGlanceData(Self.label("other"), key: Self.key, room: 7)
            }
            #expect(try await Self.forgets(store))
            try await Self.read(store, "one", "other")

            // SQL by hand, which knows nothing of hipkit: the table's trigger tells.
            try await sql(#"UPDATE hipkit_glance_data SET data = '{"label": "by hand"}' WHERE room_id = 42"#)
            #expect(try await Self.forgets(store))
            try await Self.read(store, "by hand", "other")
            try await sql("DELETE FROM hipkit_glance_data WHERE room_id = 42")
            #expect(try await Self.forgets(store))
            try await Self.read(store, nil, "other")
            try await sql("TRUNCATE hipkit_glance_data")
            #expect(try await Self.forgets(store))
            try await Self.read(store, nil, nil)
            try await sql(
                #"INSERT INTO hipkit_glance_data (key, room_id, data, updated_at) VALUES ('\#(Self.key)', 42, '{"label": "three"}', 0)"#
            )
            #expect(try await Self.forgets(store))
            try await Self.read(store, "three", nil)

            // An uninstall through another instance takes the room's data, and the installation.
            try await location.with { other throws in
                #expect(try await other.deleteInstallation(oauthId: Fixture.oauthId))
            }
            #expect(
                try await holdsSoon {
                    Self.kept(store, room: 42) == nil
                        && store.readsWithoutWaiting()?.keptInstallation(oauthId: Fixture.oauthId) == nil
                })
            #expect(try await store.glanceData(key: Self.key, room: 42) == nil)
            #expect(try await store.installation(oauthId: Fixture.oauthId) == nil)
        }
    }

    @Test("its own writes it forgets at once, before it hears of them")
    func ownWrites() async throws {
        let location = try await StoreLocation.make(.postgres)
        let server = try await PostgresServer.shared()
        try await location.with { setup throws in
            try await setup.upsert(Fixture.installation(roomId: 42))
            try await setup.putGlanceData(Self.label("one"), key: Self.key, room: 42)
        }
        let store = try await location.open(heartbeat: .seconds(60))
        try await Self.read(store, "one", nil)
        #expect(try await store.installation(oauthId: Fixture.oauthId) != nil)
        // The listening connection is held back, so what is checked here cannot be its doing.
        try await server.withListenersHeld(in: location.databaseText) {
            try await store.putGlanceData(Self.label("two"), key: Self.key, room: 42)
            #expect(Self.kept(store, room: 42) == nil)
            #expect(Self.kept(store, room: 7) == nil, "a write forgets every room of its glance")
            try await Self.read(store, "two", nil)
            #expect(store.readsWithoutWaiting()?.keptInstallation(oauthId: Fixture.oauthId) != nil)
            #expect(try await store.deleteInstallation(oauthId: Fixture.oauthId))
            #expect(store.readsWithoutWaiting()?.keptInstallation(oauthId: Fixture.oauthId) == nil)
            #expect(Self.kept(store, room: 42) == nil, "an uninstall may take its room's data")
            #expect(try await store.glanceData(key: Self.key, room: 42) == nil)
        }
        try await store.close()
    }

    @Test("a database as schema version 2 left it gets the trigger when opened, and keeps its data")
    func fromVersion2() async throws {
        let location = try await StoreLocation.make(.postgres)
        let server = try await PostgresServer.shared()
        let sealed = try location.secrets.seal(PostgresStore.keyCheckValue, boundTo: PostgresStore.keyCheckContext)
        let statements =
            PostgresStore.version1 + PostgresStore.version2 + [
                "CREATE TABLE hipkit_schema (version INTEGER NOT NULL)",
                "INSERT INTO hipkit_schema (version) VALUES (2)",
                "INSERT INTO hipkit_secret_key_check (value) VALUES ('\(sealed)')",
                #"INSERT INTO hipkit_glance_data (key, room_id, data, updated_at) VALUES ('\#(Self.key)', 42, '{"label": "kept"}', 0)"#,
            ]
        for statement in statements { try await server.execute(statement, in: location.databaseText) }

        try await location.with { store throws in
            #expect(try await store.glanceData(key: Self.key, room: 42)?["label"]?.stringValue == "kept")
            #expect(Self.kept(store, room: 42) != nil)
            try await server.execute(
                #"UPDATE hipkit_glance_data SET data = '{"label": "by hand"}'"#, in: location.databaseText)
            #expect(try await holdsSoon { Self.kept(store, room: 42) == nil })
            #expect(try await store.glanceData(key: Self.key, room: 42)?["label"]?.stringValue == "by hand")
        }
        let versions = try await server.query("SELECT version FROM hipkit_schema", in: location.databaseText)
        #expect(versions == [PostgresStore.schemaVersion])
    }

    @Test("when the connection that hears of changes is lost, nothing is kept; back, changes made meanwhile are read")
    func listenerLost() async throws {
        let location = try await StoreLocation.make(.postgres)
        let server = try await PostgresServer.shared()
        try await location.with { setup throws in
            try await setup.putGlanceData(Self.label("before"), key: Self.key, room: 42)
        }
        try await location.with { store throws in
            try await Self.read(store, "before", nil)
            try await server.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '\(PostgresStore.listenerName)' AND datname = current_database()",
                in: location.databaseText)
            #expect(try await Self.forgets(store))
            try await server.execute(
                #"UPDATE hipkit_glance_data SET data = '{"label": "meanwhile"}'"#, in: location.databaseText)
            #expect(try await store.glanceData(key: Self.key, room: 42)?["label"]?.stringValue == "meanwhile")
            // Listening again (a retry every half second), it keeps what it reads once more.
            #expect(
                try await holdsSoon {
                    _ = try await store.glanceData(key: Self.key, room: 42)
                    return Self.kept(store, room: 42) != nil
                })
        }
    }

    @Test("a listening connection that stops answering, as one a network dropped, is given up: nothing stale is kept")
    func silentListener() async throws {
        let location = try await StoreLocation.make(.postgres)
        let server = try await PostgresServer.shared()
        try await location.with { setup throws in
            try await setup.putGlanceData(Self.label("before"), key: Self.key, room: 42)
        }
        let store = try await location.open(heartbeat: .milliseconds(200))
        try await Self.read(store, "before", nil)
        try await server.withListenersHeld(in: location.databaseText) {
            // Its notification cannot reach the held listener.
            try await server.execute(
                #"UPDATE hipkit_glance_data SET data = '{"label": "unheard"}'"#, in: location.databaseText)
            #expect(try await Self.forgets(store), "the kept data outlived a listener that did not answer")
            #expect(try await store.glanceData(key: Self.key, room: 42)?["label"]?.stringValue == "unheard")
        }
        try await store.close()
    }
}

/// ``PostgresReadCache`` on its own: what it keeps, and when it refuses to.
@Suite("PostgreSQL: the read cache")
struct PostgresReadCacheUnitTests {
    static let slot = GlanceDataKey(key: "g", room: 42)
    static let data: JSONNode = .object(["label": .string("x")])

    @Test("nothing is kept while not listening, and stopping forgets everything")
    func listening() {
        let cache = PostgresReadCache()
        cache.store(Self.data, for: Self.slot, ticket: cache.ticket())
        cache.store(Fixture.installation(), ticket: cache.ticket())
        #expect(cache.glanceData(Self.slot) == nil && cache.installation(Fixture.oauthId) == nil)
        cache.startListening()
        cache.store(Self.data, for: Self.slot, ticket: cache.ticket())
        cache.store(nil, for: GlanceDataKey(key: "g", room: nil), ticket: cache.ticket())
        cache.store(Fixture.installation(), ticket: cache.ticket())
        #expect(cache.glanceData(Self.slot) == .some(Self.data))
        #expect(cache.glanceData(GlanceDataKey(key: "g", room: nil)) == .some(nil), "a kept none")
        #expect(cache.installation(Fixture.oauthId) != nil)
        cache.stopListening()
        #expect(cache.glanceData(Self.slot) == nil && cache.installation(Fixture.oauthId) == nil)
        cache.startListening()
        #expect(cache.glanceData(Self.slot) == nil && cache.installation(Fixture.oauthId) == nil)
    }

    @Test("a read that raced a change of its kind is not kept; one of the other kind does not matter")
    func tickets() {
        let cache = PostgresReadCache()
        cache.startListening()
        let kinds: [(change: () -> Void, glances: Bool, installations: Bool)] = [
            ({ cache.invalidateGlances(key: "other") }, true, false),
            ({ cache.invalidateGlances(key: "") }, true, false),
            ({ cache.invalidateInstallation("someone") }, false, true),
            ({ cache.startListening() }, true, true),
        ]
        for (change, glances, installations) in kinds {
            cache.stopListening()
            cache.startListening()
            let ticket = cache.ticket()
            change()
            cache.store(Self.data, for: Self.slot, ticket: ticket)
            cache.store(Fixture.installation(), ticket: ticket)
            #expect((cache.glanceData(Self.slot) == nil) == glances)
            #expect((cache.installation(Fixture.oauthId) == nil) == installations)
        }
    }

    @Test("a glance's change forgets it in every room, and no other glance; an empty key forgets all")
    func forgetting() {
        let cache = PostgresReadCache()
        cache.startListening()
        for slot in [Self.slot, GlanceDataKey(key: "g", room: nil), GlanceDataKey(key: "h", room: 42)] {
            cache.store(Self.data, for: slot, ticket: cache.ticket())
        }
        cache.invalidateGlances(key: "g")
        #expect(cache.glanceData(Self.slot) == nil && cache.glanceData(GlanceDataKey(key: "g", room: nil)) == nil)
        #expect(cache.glanceData(GlanceDataKey(key: "h", room: 42)) != nil)
        cache.invalidateGlances(key: "")
        #expect(cache.glanceData(GlanceDataKey(key: "h", room: 42)) == nil)
    }

    @Test("at its limit the glance data starts again empty; a value stored twice counts once")
    func limit() {
        let cache = PostgresReadCache()
        cache.startListening()
        cache.store(Self.data, for: Self.slot, ticket: cache.ticket())
        cache.store(nil, for: Self.slot, ticket: cache.ticket())
        for room in 0..<(PostgresReadCache.limit - 2) {
            cache.store(Self.data, for: GlanceDataKey(key: "many", room: room), ticket: cache.ticket())
        }
        // One entry short of the limit: the next is kept beside the rest.
        cache.store(Self.data, for: GlanceDataKey(key: "last", room: nil), ticket: cache.ticket())
        #expect(cache.glanceData(Self.slot) == .some(nil))
        // At the limit: the next starts again.
        cache.store(Self.data, for: GlanceDataKey(key: "next", room: nil), ticket: cache.ticket())
        #expect(cache.glanceData(Self.slot) == nil)
        #expect(cache.glanceData(GlanceDataKey(key: "next", room: nil)) != nil)
    }
}
