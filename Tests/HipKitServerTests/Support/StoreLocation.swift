import Foundation
import HipChatConnect
import Logging
import Testing

@testable import HipKitServer

/// The two stores `hipkit serve` can run on; store tests run on each.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { self == .sqlite ? "SQLite" : "PostgreSQL" }
}

/// Where a test keeps its store: a SQLite file in a fresh folder, or a fresh database on the
/// test run's PostgreSQL server. Opened as often as the test likes, always with the same key.
struct StoreLocation: Sendable {
    let kind: StoreKind
    let secrets: SecretBox
    let folder: URL
    let database: DatabaseURL?
    /// The database's URL as given on a command line.
    var databaseText = ""

    /// A new location; `key` (as `HIPKIT_SECRET_KEY` gives it) seals the secrets, else a random key.
    static func make(_ kind: StoreKind, key: String? = nil) async throws -> StoreLocation {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "hipkit-store-\(UUID().uuidString)", isDirectory: true)
        let text = kind == .postgres ? try await PostgresServer.shared().createDatabase() : ""
        let secrets = try key.map { try SecretBox(keyBytes: SecretBox.parseKey($0)) } ?? .random()
        var location = StoreLocation(
            kind: kind, secrets: secrets, folder: folder, database: text.isEmpty ? nil : try DatabaseURL(text))
        location.databaseText = text
        return location
    }

    var file: URL { folder.appendingPathComponent("hipkit.sqlite") }

    /// The store; on PostgreSQL, its listening connection kept to `heartbeat`.
    func open(heartbeat: PostgresStore.Heartbeat = .standard, answerLimit: Duration = PostgresStore.answerLimit)
        async throws -> any InstallationStore
    {
        if let database {
            return try await PostgresStore.open(
                url: database, secrets: secrets, logger: Self.quiet, heartbeat: heartbeat, answerLimit: answerLimit)
        }
        return try SQLiteStore(file: file, secrets: secrets)
    }

    /// Opens the store, runs `body`, closes it (also when `body` throws).
    func with<T: Sendable>(_ body: (any InstallationStore) async throws -> T) async throws -> T {
        let store = try await open()
        do {
            let value = try await body(store)
            try await store.close()
            return value
        } catch {
            try? await store.close()
            throw error
        }
    }

    func remove() {
        try? FileManager.default.removeItem(at: folder)
    }

    static let quiet = Logger(label: "hipkit-test", factory: { _ in SwiftLogNoOpLogHandler() })
}

extension SecretBox {
    /// A new key as `HIPKIT_SECRET_KEY` takes it: 32 random bytes in base64.
    static func randomKeyText() -> String {
        Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    }
}
