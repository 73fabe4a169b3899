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

    static func make(_ kind: StoreKind) async throws -> StoreLocation {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "hipkit-store-\(UUID().uuidString)", isDirectory: true)
        let database: DatabaseURL? =
            kind == .postgres ? try DatabaseURL(try await PostgresServer.shared().createDatabase()) : nil
        return StoreLocation(kind: kind, secrets: .random(), folder: folder, database: database)
    }

    var file: URL { folder.appendingPathComponent("hipkit.sqlite") }

    func open() async throws -> any InstallationStore {
        if let database {
            return try await PostgresStore.open(url: database, secrets: secrets, logger: Self.quiet)
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
