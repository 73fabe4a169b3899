import Foundation
import Logging
import PostgresNIO
import Synchronization
import TestProcesses

@testable import HipKitServer

/// A throwaway PostgreSQL server for the test run, from Debian's `postgresql` package: a new
/// cluster in a temporary folder, on a free loopback port, started once per test process and
/// stopped when the process ends (by a watchdog process, so a crashed or interrupted run leaves
/// no server behind). Each test takes a database of its own with ``createDatabase()``; a test
/// about the server itself can start one of its own with ``start()`` and ``stop()`` it.
///
/// PostgreSQL refuses to run as root, so under root (CI) the cluster belongs to the `postgres`
/// user. When no server can be started the tests that need one fail, saying why; they are
/// never skipped.
actor PostgresServer {
    let port: Int
    let folder: URL
    private let bin: URL
    private let asRoot: Bool
    private var databases = 0

    private static let startup = Mutex<Task<PostgresServer, any Error>?>(nil)

    /// The test process's server, started on first use.
    static func shared() async throws -> PostgresServer {
        let task = startup.withLock { task in
            if let task { return task }
            let started = Task { try await PostgresServer.start() }
            task = started
            return started
        }
        return try await task.value
    }

    /// A new server of the caller's own, beside the shared one; ``stop()`` ends it, and the
    /// watchdog does when the test process ends first.
    static func start(tls: Bool = false) async throws -> PostgresServer {
        try await Blocking.run { try PostgresServer.launch(tls: tls) }
    }

    private init(port: Int, folder: URL, bin: URL, asRoot: Bool) {
        self.port = port
        self.folder = folder
        self.bin = bin
        self.asRoot = asRoot
    }

    /// The server's `postgres` database, which is always there.
    nonisolated var url: String { url("postgres") }

    /// A new empty database; its `postgres://` URL.
    func createDatabase() async throws -> String {
        databases += 1
        let name = "hipkit_test_\(databases)"
        try await execute("CREATE DATABASE \(name)", in: url("postgres"))
        return url(name)
    }

    /// The integers of the first row `sql` answers in the `postgres` database.
    func query(_ sql: String) async throws -> [Int] {
        try await connected(to: url("postgres")) { connection in
            var values: [Int] = []
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Self.logger)
            where values.isEmpty {
                values = try row.makeRandomAccess().map { try $0.decode(Int.self) }
            }
            return values
        }
    }

    /// Runs `sql` in the database at `url` (one of this server's), around the store under test.
    nonisolated func execute(_ sql: String, in url: String) async throws {
        _ = try await connected(to: url) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Self.logger)
        }
    }

    /// The first column of every row `sql` answers in the database at `url`, as integers.
    nonisolated func integers(_ sql: String, in url: String) async throws -> [Int] {
        try await connected(to: url) { connection in
            var values: [Int] = []
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Self.logger) {
                values.append(try row.makeRandomAccess()[0].decode(Int.self))
            }
            return values
        }
    }

    /// The process ids of the server processes that serve a store's listening connection in the
    /// database a query runs in (``PostgresStore/listenerName``).
    static let listeners = processes(named: PostgresStore.listenerName)

    /// The server processes of stores' pooled connections to the database.
    static let pooled = processes(named: PostgresStore.applicationName)

    private static func processes(named name: String) -> String {
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = '\(name)'"
    }

    /// Runs `body` with the server processes that listen for notifications in the database at
    /// `url` stopped (`SIGSTOP`): what is notified meanwhile reaches the listeners once they go
    /// on, and a query on their connections waits, as on a connection a network dropped.
    nonisolated func withListenersHeld<T>(in url: String, _ body: () async throws -> T) async throws -> T {
        try await withHeld(Self.listeners, in: url, body)
    }

    /// Runs `body` with the server processes of the stores' pooled connections to the database
    /// at `url` stopped (`SIGSTOP`), as a database that stops answering.
    nonisolated func withPoolHeld<T>(in url: String, _ body: () async throws -> T) async throws -> T {
        try await withHeld(Self.pooled, in: url, body)
    }

    /// Runs `body` with the server processes `query` names in the database at `url` stopped.
    private nonisolated func withHeld<T>(_ query: String, in url: String, _ body: () async throws -> T)
        async throws -> T
    {
        let pids = try await integers(query, in: url)
        guard !pids.isEmpty else { throw StartError(description: "no such process in \(url): \(query)") }
        for pid in pids { kill(pid_t(pid), SIGSTOP) }
        defer { for pid in pids { kill(pid_t(pid), SIGCONT) } }
        return try await body()
    }

    /// Runs `body` on a connection of its own to the database at `url`, closed afterwards.
    private nonisolated func connected<T>(
        to url: String, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let database = String(url.split(separator: "/").last ?? "postgres")
        let configuration = PostgresConnection.Configuration(
            host: "127.0.0.1", port: port, username: "hipkit", password: nil, database: database, tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: Self.logger)
        do {
            let value = try await body(connection)
            try await connection.close()
            return value
        } catch {
            try? await connection.close()
            throw error
        }
    }

    nonisolated func url(_ database: String) -> String { "postgres://hipkit@127.0.0.1:\(port)/\(database)" }

    private static let logger = Logger(label: "hipkit-test-postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    // MARK: Starting and stopping

    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    /// The newest installed server's programs: /usr/lib/postgresql/VERSION/bin.
    private static func binaries() throws -> URL {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        guard
            let newest = versions.compactMap(Int.init).sorted().last(where: {
                FileManager.default.isExecutableFile(atPath: root.path + "/\($0)/bin/pg_ctl")
            })
        else {
            throw StartError(
                description:
                    "no PostgreSQL server under /usr/lib/postgresql: install Debian's postgresql package (scripts/install-deps does)"
            )
        }
        return root.appendingPathComponent("\(newest)/bin")
    }

    private static func launch(tls: Bool = false) throws -> PostgresServer {
        let bin = try binaries()
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "hipkit-postgres-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let asRoot = getuid() == 0
        if asRoot {
            guard let user = getpwnam("postgres") else {
                throw StartError(description: "running as root, and there is no postgres user to run PostgreSQL as")
            }
            guard chown(folder.path, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
                throw StartError(description: "cannot give \(folder.path) to the postgres user")
            }
        }
        let data = folder.appendingPathComponent("data").path
        try watch(folder: folder, data: data, bin: bin, asRoot: asRoot)
        try run(
            bin.appendingPathComponent("initdb").path,
            ["-D", data, "-A", "trust", "-U", "hipkit", "-E", "UTF8", "--no-sync", "--no-instructions"],
            asRoot: asRoot, folder: folder)
        if tls {
            // A self-signed certificate, made by the user the server runs as so that it can
            // read the key; libpq's sslmode=require encrypts without checking it.
            try run(
                "/usr/bin/openssl",
                [
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "2",
                    "-keyout", data + "/server.key", "-out", data + "/server.crt",
                ],
                asRoot: asRoot, folder: folder)
            try run("/bin/chmod", ["600", data + "/server.key"], asRoot: asRoot, folder: folder)
        }
        var failures: [String] = []
        for _ in 0..<5 {
            let port = try Loopback.freePort()
            let settings: [String] = [
                "-c listen_addresses=127.0.0.1", "-p \(port)", "-c unix_socket_directories='\(folder.path)'",
                // A throwaway cluster: the tests kill hipkit, never PostgreSQL.
                "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
                "-c max_connections=400",
            ]
            let options = ((tls ? ["-c ssl=on"] : []) + settings).joined(separator: " ")
            do {
                try run(
                    bin.appendingPathComponent("pg_ctl").path,
                    [
                        "-D", data, "-l", folder.appendingPathComponent("log").path, "-w", "-t", "60", "-o", options,
                        "start",
                    ],
                    asRoot: asRoot, folder: folder)
                return PostgresServer(port: port, folder: folder, bin: bin, asRoot: asRoot)
            } catch {
                // Another process may have taken the port between the probe and the start.
                failures.append("\(error)")
            }
        }
        throw StartError(description: "PostgreSQL did not start: " + failures.joined(separator: "; "))
    }

    /// Stops the server at once (`pg_ctl -m immediate`, which waits until every process of it
    /// has ended) and removes its folder. Not for the shared server: other tests use it.
    func stop() async throws {
        let (bin, asRoot, folder) = (self.bin, self.asRoot, self.folder)
        try await Blocking.run {
            try Self.run(
                bin.appendingPathComponent("pg_ctl").path,
                ["-D", folder.appendingPathComponent("data").path, "-w", "-t", "60", "-m", "immediate", "stop"],
                asRoot: asRoot, folder: folder)
            try FileManager.default.removeItem(at: folder)
        }
    }

    /// Runs a server program, as the postgres user under root; throws with its output if it fails.
    private static func run(_ program: String, _ arguments: [String], asRoot: Bool, folder: URL) throws {
        let command =
            asRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--", program] + arguments : [program] + arguments
        let output = folder.appendingPathComponent("output-\(UUID().uuidString)")
        let pid = try spawn(command, output: output.path)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            throw StartError(
                description: "\(URL(fileURLWithPath: program).lastPathComponent) failed (\(status)): \(text)")
        }
    }

    /// Starts `command` with its output into the file at `output` (or nowhere), and no other file
    /// of this process open.
    ///
    /// Not Foundation's `Process`: it learns that a child ended when a descriptor the child
    /// inherited closes, and `pg_ctl start` leaves a server running that holds it open, so
    /// `waitUntilExit()` would never return.
    private static func spawn(_ command: [String], output: String?) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(
            &actions, 1, output ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Every other descriptor of the test process stays behind.
        _ = spawnCloseFrom(&actions, 3)
        let argv = command.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, command[0], &actions, nil, argv, environ)
        guard result == 0 else {
            throw StartError(description: "cannot run \(command[0]): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// Stops the server and removes its folder once this test process has ended, however it ends.
    private static func watch(folder: URL, data: String, bin: URL, asRoot: Bool) throws {
        let stop =
            (asRoot ? "/usr/sbin/runuser -u postgres -- " : "")
            + "'\(bin.path)/pg_ctl' -D '\(data)' -m immediate stop"
        let script = """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 0.5; done
            [ -f '\(data)/postmaster.pid' ] && \(stop) >/dev/null 2>&1
            rm -rf '\(folder.path)'
            """
        _ = try spawn(["/usr/bin/setsid", "/bin/sh", "-c", script], output: nil)
    }

}
