import Foundation
import GRDB
import HipChatConnect
import Testing

@testable import HipKitServer

/// A store written before the outbox had a `kind` column — notifications told apart by a
/// `notification/` prefix on the key — is migrated when it is opened: every waiting delivery is
/// kept, with its kind, and glance updates and notifications no longer share a key space.
@Suite struct OutboxMigrationTests {
    /// Two deliveries waiting in the outbox as the previous schema held them.
    static let waiting: [(key: String, data: String)] = [
        ("incidents", #"{"label":"3 open"}"#), ("notification/5f0c2a9e", #"{"message":"deploy done"}"#),
    ]

    /// A store of `kind` as the schema before the change left it, with ``waiting`` in its outbox.
    static func legacy(_ location: StoreLocation) async throws {
        switch location.kind {
        case .sqlite:
            try FileManager.default.createDirectory(at: location.folder, withIntermediateDirectories: true)
            let queue = try DatabaseQueue(path: location.file.path)
            try SQLiteStore.migrator(secrets: location.secrets).migrate(queue, upTo: "v3-push-outbox")
            try await queue.write { db in
                for item in waiting {
                    try db.execute(
                        sql: """
                            INSERT INTO glance_push (oauth_id, target, glance_key, data, due_at, created_at)
                            VALUES ('o1', 'room/7', ?, ?, 0, 0)
                            """, arguments: [item.key, item.data])
                }
            }
            try queue.close()
        case .postgres:
            let server = try await PostgresServer.shared()
            let sealed = try location.secrets.seal(
                PostgresStore.keyCheckValue, boundTo: PostgresStore.keyCheckContext)
            var statements = PostgresStore.version1
            statements += [
                "CREATE TABLE hipkit_schema (version INTEGER NOT NULL)",
                "INSERT INTO hipkit_schema (version) VALUES (1)",
                "INSERT INTO hipkit_secret_key_check (value) VALUES ('\(sealed)')",
            ]
            for item in waiting {
                statements.append(
                    """
                    INSERT INTO hipkit_glance_push (oauth_id, target, glance_key, data, due_at, created_at)
                    VALUES ('o1', 'room/7', '\(item.key)', '\(item.data)', 0, 0)
                    """)
            }
            for statement in statements { try await server.execute(statement, in: location.databaseText) }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func waitingDeliveriesKeepTheirKind(_ kind: StoreKind) async throws {
        let location = try await StoreLocation.make(kind)
        defer { location.remove() }
        try await Self.legacy(location)

        try await location.with { store in
            let claimed = try await store.claimPushes(limit: 10, lease: .seconds(30), now: Date())
            #expect(claimed.map(\.push.kind) == [.glance, .notification])
            #expect(claimed.map(\.push.key) == ["incidents", "5f0c2a9e"])
            #expect(claimed.map(\.push.target) == [.room(7), .room(7)])
            #expect(claimed.last?.push.data["message"] == .string("deploy done"))
            for item in claimed { try await store.finishPush(item) }
            #expect(try await store.nextPushDue() == nil)
        }
        // Opened again, nothing is migrated twice.
        let left = try await location.with { store in
            try await store.claimPushes(limit: 10, lease: .seconds(30), now: Date())
        }
        #expect(left.isEmpty)
    }
}
