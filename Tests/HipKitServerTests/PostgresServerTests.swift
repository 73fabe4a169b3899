import Foundation
import HipKitServer
import Logging
import PostgresNIO
import Testing

/// The throwaway PostgreSQL server the store's tests run against (Support/PostgresServer.swift):
/// it answers on the URL it gives, hands out databases of their own, and is gone once stopped.
@Suite("PostgreSQL test server")
struct PostgresServerTests {
    static let logger = Logger(label: "hipkit-test-postgres-client", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Runs `body` with a pool client on the database at `url`, the client running meanwhile.
    static func withClient<T: Sendable>(
        _ url: String, _ body: @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let parsed = try DatabaseURL(url)
        var configuration = PostgresClient.Configuration(
            host: parsed.host, port: parsed.port, username: parsed.user, password: parsed.password,
            database: parsed.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(10)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    /// The first column of the one row `sql` returns.
    static func value<T: PostgresDecodable & Sendable>(
        _ sql: String, as type: T.Type = T.self, on client: PostgresClient
    ) async throws -> T? {
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        var values: [T] = []
        for try await (value) in rows.decode(T.self) { values.append(value) }
        return values.count == 1 ? values[0] : nil
    }

    @Test("the shared server answers on its URL")
    func answers() async throws {
        let server = try await PostgresServer.shared()
        #expect(server.url == "postgres://hipkit@127.0.0.1:\(server.port)/postgres")
        let (one, version) = try await Self.withClient(server.url) { client in
            (
                try await Self.value("SELECT 1", as: Int.self, on: client),
                try await Self.value("SELECT current_setting('server_version')", as: String.self, on: client)
            )
        }
        #expect(one == 1)
        #expect(version?.first?.isNumber == true, "server_version: \(version ?? "none")")
    }

    @Test("each test gets an empty database of its own")
    func databases() async throws {
        let server = try await PostgresServer.shared()
        let first = try await server.createDatabase()
        let second = try await server.createDatabase()
        #expect(first != second)
        let firstName = try await Self.withClient(first) { client in
            try await client.query("CREATE TABLE mark (x integer)", logger: Self.logger)
            return try await Self.value("SELECT current_database()", as: String.self, on: client)
        }
        let (secondName, tables) = try await Self.withClient(second) { client in
            (
                try await Self.value("SELECT current_database()", as: String.self, on: client),
                try await Self.value(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", as: Int.self, on: client)
            )
        }
        #expect(firstName != nil && secondName != nil && firstName != secondName)
        #expect(first.hasSuffix("/" + (firstName ?? "?")) && second.hasSuffix("/" + (secondName ?? "?")))
        #expect(tables == 0)
    }

    @Test("a stopped server leaves no process, port or folder behind")
    func stops() async throws {
        let server = try await PostgresServer.start()
        #expect(try await Self.withClient(server.url) { try await Self.value("SELECT 1", as: Int.self, on: $0) } == 1)
        let pidFile = server.folder.appendingPathComponent("data/postmaster.pid")
        let postmaster = try #require(
            pid_t(String(contentsOf: pidFile, encoding: .utf8).split(separator: "\n").first ?? ""))
        #expect(!Self.processes(in: server.folder).isEmpty)

        try await server.stop()

        #expect(!Self.running(postmaster), "the postmaster \(postmaster) still runs")
        #expect(Self.processes(in: server.folder).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: server.folder.path))
        var connection: PostgresConnection?
        do {
            connection = try await PostgresConnection.connect(
                configuration: .init(
                    host: "127.0.0.1", port: server.port, username: "hipkit", password: nil, database: "postgres",
                    tls: .disable),
                id: 1, logger: Self.logger)
        } catch {}
        #expect(connection == nil, "something still answers on port \(server.port)")
        try? await connection?.close()
    }

    /// Whether process `pid` runs: it exists and has not ended. An orphan that ended stays a
    /// zombie until its new parent waits for it, which some machines' first process never does.
    static func running(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let name = stat.range(of: ") ", options: .backwards)
        else { return false }
        return stat[name.upperBound...].first != "Z"
    }

    /// The processes working in `folder`: PostgreSQL's server and its children work in their data
    /// folder, so this is every process of a cluster, whatever it is called.
    static func processes(in folder: URL) -> [Int] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int.init).filter { pid in
            guard let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd") else {
                return false
            }
            return cwd.hasPrefix(folder.path + "/")
        }
    }
}

/// `sslmode` in `--database`: encrypted when the URL asks for it, refused when the server cannot.
@Suite("TLS to the database")
struct DatabaseTLSTests {
    @Test("sslmode=require encrypts every connection of the store, and fails on a server without TLS")
    func requireMeansEncrypted() async throws {
        let plain = try await PostgresServer.shared()
        let database = try await plain.createDatabase()
        await #expect(throws: (any Error).self) {
            let store = try await PostgresStore.open(
                url: DatabaseURL(database + "?sslmode=require"), secrets: .random(), logger: StoreLocation.quiet)
            try await store.close()
        }
        // The default, prefer, takes what the server offers.
        let preferred = try await PostgresStore.open(
            url: DatabaseURL(database), secrets: .random(), logger: StoreLocation.quiet)
        try await preferred.close()

        let server = try await PostgresServer.start(tls: true)
        do {
            let url = try await server.createDatabase()
            let store = try await PostgresStore.open(
                url: DatabaseURL(url + "?sslmode=require"), secrets: .random(), logger: StoreLocation.quiet)
            try await store.upsert(Fixture.installation())
            #expect(try await store.installation(oauthId: Fixture.oauthId)?.oauthSecret == Fixture.secret)
            // Seen from the server: the store's connections (its pool and its listener) use TLS, and
            // none of them goes without.
            let counts = try await server.query(
                """
                SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl)
                FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
                WHERE a.datname = '\(url.split(separator: "/").last ?? "")'
                """)
            #expect((counts.first ?? 0) >= 2)
            #expect(counts.last == 0)
            try await store.close()
        } catch {
            try? await server.stop()
            throw error
        }
        try await server.stop()
    }
}
