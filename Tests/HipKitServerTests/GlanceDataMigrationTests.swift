import Foundation
import GRDB
import HipChatConnect
import Testing

@testable import HipKitServer

/// A store written before glance data could be posted for one installation is migrated when it
/// is opened: its data becomes data for every installation, and data for one installation can
/// then be stored beside it.
@Suite struct GlanceDataMigrationTests {
    /// Glance data as the previous schema held it: add-on-wide and for room 5.
    static let stored: [(room: Int?, data: String)] = [(nil, #"{"label":"all"}"#), (5, #"{"label":"five"}"#)]

    /// A store of `kind` as the schema before the change left it, holding ``stored``.
    static func legacy(_ location: StoreLocation) async throws {
        switch location.kind {
        case .sqlite:
            try FileManager.default.createDirectory(at: location.folder, withIntermediateDirectories: true)
            let queue = try DatabaseQueue(path: location.file.path)
            try SQLiteStore.migrator(secrets: location.secrets).migrate(queue, upTo: "v4-outbox-kind")
            try await queue.write { db in
                for row in stored {
                    try db.execute(
                        sql: "INSERT INTO glance_data (key, room_id, data, updated_at) VALUES ('g', ?, ?, 0)",
                        arguments: [row.room, row.data])
                }
            }
            try queue.close()
        case .postgres:
            let server = try await PostgresServer.shared()
            let sealed = try location.secrets.seal(
                PostgresStore.keyCheckValue, boundTo: PostgresStore.keyCheckContext)
            var statements = PostgresStore.version1 + PostgresStore.version2
            statements += [
                "CREATE TABLE hipkit_schema (version INTEGER NOT NULL)",
                "INSERT INTO hipkit_schema (version) VALUES (2)",
                "INSERT INTO hipkit_secret_key_check (value) VALUES ('\(sealed)')",
            ]
            for row in stored {
                statements.append(
                    """
                    INSERT INTO hipkit_glance_data (key, room_id, data, updated_at)
                    VALUES ('g', \(row.room.map(String.init) ?? "NULL"), '\(row.data)', 0)
                    """)
            }
            for statement in statements { try await server.execute(statement, in: location.databaseText) }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func storedDataIsForEveryInstallation(_ kind: StoreKind) async throws {
        let location = try await StoreLocation.make(kind)
        defer { location.remove() }
        try await Self.legacy(location)

        try await location.with { store throws in
            #expect(try await store.glanceData(key: "g", room: nil)?["label"] == .string("all"))
            #expect(try await store.glanceData(key: "g", room: 5)?["label"] == .string("five"))
            try await store.upsert(Fixture.installation("a"))
            try await store.putGlanceData(.object(["label": "a5"]), key: "g", room: 5, installation: "a")
            try await store.putGlanceData(.object(["label": "five again"]), key: "g", room: 5)
        }
        // Opened again, nothing is migrated twice; both rows for room 5 are there.
        try await location.with { store throws in
            #expect(try await store.glanceData(key: "g", room: 5, installation: "a")?["label"] == .string("a5"))
            #expect(try await store.glanceData(key: "g", room: 5)?["label"] == .string("five again"))
            #expect(try await store.contents().glanceData.count == 3)
        }
    }
}
