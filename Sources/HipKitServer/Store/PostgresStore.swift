import Foundation
import HipChatConnect
import Logging
import PostgresNIO
import Synchronization

/// ``InstallationStore`` on PostgreSQL, through postgres-nio's connection pool: the store that
/// several `hipkit serve` instances share behind one load balancer.
///
/// Every write is one transaction, committed before it returns. The secrets are sealed with the
/// ``SecretBox`` every instance shares (`HIPKIT_SECRET_KEY`), as in the SQLite store.
///
/// Installations are kept in memory once read, since every JWT-checked request needs one, and
/// every instance learns of a change at once: a write that changes or removes an installation
/// sends `NOTIFY hipkit_installation` in its transaction, and each instance listens on a
/// connection of its own. While that connection is down, nothing is kept in memory, so an
/// instance that missed a notification never answers from a stale entry.
public final class PostgresStore: InstallationStore {
    /// The schema version this binary writes; a database at a higher one was written by a newer
    /// hipkit, and is not touched.
    public static let schemaVersion = 3
    static let channel = "hipkit_installation"
    /// What an instance's connections call themselves (`application_name`, in
    /// `pg_stat_activity`), the one that listens for changes apart.
    static let applicationName = "hipkit"
    static let listenerName = "hipkit (listening)"
    /// The advisory lock the migrations hold, so instances started at once migrate one by one.
    static let migrationLock: Int64 = 0x6869_706B_6974  // "hipkit"

    private let client: PostgresClient
    /// Connections each instance keeps open to the database.
    static let poolSize = 8
    private let secrets: SecretBox
    private let logger: Logger
    private let cache = InstallationCache()
    /// ``answerLimit``, or a shorter one a test gave.
    private let answerLimitForRequests: Duration
    /// The statements in flight, given up past their time by a task that looks four times a
    /// second.
    private let watch = StatementWatch()
    /// Whether the listening connection has `LISTEN` in place, so that installations read are
    /// kept. Its connection shows in `pg_stat_activity` before that.
    var isListening: Bool { cache.isListening }
    private let tasks: Task<Void, Never>
    public let url: DatabaseURL

    /// How the listening connection shows it is still there: asked `SELECT 1` every `interval`,
    /// and given up when the answer takes longer than `timeout`.
    ///
    /// Why: that connection only ever receives, so one that a network drops without a word (a
    /// NAT's or firewall's idle timeout, a failover to another address) would never end, and
    /// this instance would trust the installations it keeps for good while changes to them went
    /// unheard. Given up, the cache is emptied and a new connection listens. The timeout is
    /// generous because a busy database can be seconds late, and each time the cache is emptied
    /// every installation is read again.
    public struct Heartbeat: Sendable {
        public var interval: Duration
        public var timeout: Duration

        public init(interval: Duration, timeout: Duration) {
            self.interval = interval
            self.timeout = timeout
        }

        public static let standard = Heartbeat(interval: .seconds(10), timeout: .seconds(30))
    }

    /// Connects, migrates the schema (or checks it), and checks the key. Throws a
    /// ``PostgresStoreError`` that says what to do. `heartbeat` and `answerLimit` are for tests.
    public static func open(
        url: DatabaseURL, secrets: SecretBox, logger: Logger, heartbeat: Heartbeat = .standard,
        answerLimit: Duration = PostgresStore.answerLimit
    ) async throws -> PostgresStore {
        let store = PostgresStore(
            url: url, secrets: secrets, logger: logger, heartbeat: heartbeat, answerLimit: answerLimit)
        do {
            try await store.migrate()
            try await store.cache.waitUntilListening(timeout: .seconds(10))
        } catch {
            try? await store.close()
            throw error
        }
        return store
    }

    private init(url: DatabaseURL, secrets: SecretBox, logger: Logger, heartbeat: Heartbeat, answerLimit: Duration) {
        self.answerLimitForRequests = answerLimit
        self.url = url
        self.secrets = secrets
        self.logger = logger
        var configuration = PostgresClient.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
            tls: Self.poolTLS(url.tls))
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", Self.applicationName)]
        // A fixed pool without keep-alive: each time a connection went back to the pool, it
        // armed a keep-alive and an idle timer (Task.sleep of 30 and 60 s), cancelled at the next
        // lease; on Linux a cancelled sleep keeps its task and timer until its deadline, so under
        // load memory grew by about 3 KB a request for a minute. With as many connections kept as
        // allowed no idle timer is armed, and without keep-alive none either.
        configuration.options.minimumConnections = Self.poolSize
        configuration.options.maximumConnections = Self.poolSize
        configuration.options.keepAliveBehavior = nil
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        let cache = self.cache
        let watch = self.watch
        tasks = Task {
            await withDiscardingTaskGroup { group in
                group.addTask { await client.run() }
                group.addTask { await Self.listen(url: url, cache: cache, heartbeat: heartbeat, logger: logger) }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(250))
                        watch.expire(at: .now)
                    }
                }
            }
        }
    }

    /// What libpq's `sslmode` asks for: no TLS (nil), or TLS with this configuration, which the
    /// connection must get (`required`) or takes when the server offers it.
    private static func tls(_ mode: DatabaseURL.TLSMode) -> (configuration: TLSConfiguration, required: Bool)? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch mode {
        case .disable: return nil
        case .allow, .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: break
        }
        return (configuration, mode != .allow && mode != .prefer)
    }

    private static func poolTLS(_ mode: DatabaseURL.TLSMode) -> PostgresClient.Configuration.TLS {
        guard let tls = tls(mode) else { return .disable }
        return tls.required ? .require(tls.configuration) : .prefer(tls.configuration)
    }

    /// Runs `body` on a connection of its own, closed afterwards.
    private static func withConnection<T: Sendable>(
        _ url: DatabaseURL, name: String = applicationName, logger: Logger,
        _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await connect(url, name: name, logger: logger)
        do {
            let value = try await body(connection)
            try? await connection.close()
            return value
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// A connection of its own, outside the pool: for the migrations, and for `LISTEN`, which
    /// holds its connection for as long as the store is open.
    private static func connect(_ url: DatabaseURL, name: String, logger: Logger) async throws -> PostgresConnection {
        var tls = PostgresConnection.Configuration.TLS.disable
        if let mode = Self.tls(url.tls) {
            let context = try NIOSSLContext(configuration: mode.configuration)
            tls = mode.required ? .require(context) : .prefer(context)
        }
        var configuration = PostgresConnection.Configuration(
            host: url.host, port: url.port, username: url.user, password: url.password, database: url.database,
            tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", name)]
        return try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
    }

    /// Keeps a connection listening for installation changes, and the cache in step with it:
    /// emptied and off whenever the connection is not listening, or does not answer within the
    /// ``Heartbeat``'s timeout.
    private static func listen(url: DatabaseURL, cache: InstallationCache, heartbeat: Heartbeat, logger: Logger) async {
        while !Task.isCancelled {
            do {
                try await withConnection(url, name: listenerName, logger: logger) { connection in
                    try await connection.listen(on: channel) { notifications in
                        cache.startListening()
                        // Whichever ends first (the connection lost or given up) ends the other.
                        try await withThrowingDiscardingTaskGroup { group in
                            group.addTask {
                                for try await notification in notifications {
                                    cache.invalidate(notification.payload)
                                }
                                throw CancellationError()
                            }
                            group.addTask {
                                while true {
                                    try await Task.sleep(for: heartbeat.interval)
                                    try await answers(connection, within: heartbeat.timeout, logger: logger)
                                }
                            }
                        }
                    }
                }
            } catch {
                if !Task.isCancelled {
                    logger.warning(
                        "lost the database connection that hears of installation changes; reconnecting",
                        metadata: ["error": "\(String(reflecting: error))"])
                }
            }
            cache.stopListening()
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    /// Asks `connection` a question; throws if the answer does not come `within` the time,
    /// closing the connection, so that what waits on it (its notifications, the question) ends.
    private static func answers(_ connection: PostgresConnection, within limit: Duration, logger: Logger)
        async throws
    {
        let answered = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await connection.query("SELECT 1", logger: logger)
                return true
            }
            group.addTask {
                try await Task.sleep(for: limit)
                return false
            }
            // Closed unless answered: the group waits for the question, which only an answer
            // or a closed connection ends.
            let first: Bool
            do {
                first = try await group.next() ?? false
            } catch {
                try? await connection.close()
                throw error
            }
            if !first { try? await connection.close() }
            group.cancelAll()
            return first
        }
        guard answered else { throw Unanswered(limit: limit) }
    }

    private struct Unanswered: Error, CustomStringConvertible {
        var limit: Duration
        var description: String { "the connection did not answer a query within \(limit)" }
    }

    // MARK: Schema

    private func migrate() async throws {
        let secrets = self.secrets
        try await Self.unwrapping {
            try await Self.withConnection(url, logger: logger) { connection in
                try await connection.withTransaction(logger: self.logger) { connection in
                    // The schema is read after the lock's wait: READ COMMITTED takes each
                    // statement's snapshot then, whatever the database's default isolation.
                    try await connection.query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED", logger: self.logger)
                    try await connection.query(
                        "SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: self.logger)
                    try await connection.query(
                        "CREATE TABLE IF NOT EXISTS hipkit_schema (version INTEGER NOT NULL)", logger: self.logger)
                    var version = 0
                    for try await value in try await connection.query(
                        "SELECT version FROM hipkit_schema", logger: self.logger
                    )
                    .decode(Int.self) {
                        version = value
                    }
                    guard version <= Self.schemaVersion else {
                        throw PostgresStoreError.newerSchema(version, known: Self.schemaVersion)
                    }
                    if version < 1 {
                        for statement in Self.version1 {
                            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                        }
                        try await connection.query(
                            "INSERT INTO hipkit_secret_key_check (value) VALUES (\(try secrets.seal(Self.keyCheckValue, boundTo: Self.keyCheckContext)))",
                            logger: self.logger)
                    }
                    if version < 2 {
                        for statement in Self.version2 {
                            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                        }
                    }
                    if version < 3 {
                        for statement in Self.version3 {
                            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: self.logger)
                        }
                    }
                    if version < Self.schemaVersion {
                        try await connection.query("DELETE FROM hipkit_schema", logger: self.logger)
                        try await connection.query(
                            "INSERT INTO hipkit_schema (version) VALUES (\(Self.schemaVersion))", logger: self.logger)
                    }
                    var sealed: String?
                    for try await value in try await connection.query(
                        "SELECT value FROM hipkit_secret_key_check", logger: self.logger
                    ).decode(String.self) {
                        sealed = value
                    }
                    guard let sealed, (try? secrets.open(sealed, boundTo: Self.keyCheckContext)) == Self.keyCheckValue
                    else {
                        throw PostgresStoreError.wrongKey
                    }
                }
            }
        }
    }

    // Internal, with the schema's versions, so tests can build a database as an older version
    // left it.
    static let keyCheckContext = "key-check"
    static let keyCheckValue = "hipkit"

    static let version1 = [
        """
        CREATE TABLE hipkit_installation (
            oauth_id TEXT PRIMARY KEY,
            oauth_secret TEXT NOT NULL,
            capabilities_url TEXT NOT NULL,
            group_id BIGINT NOT NULL,
            room_id BIGINT,
            api_url TEXT,
            token_url TEXT,
            installed_at DOUBLE PRECISION NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL
        )
        """,
        """
        CREATE TABLE hipkit_glance_data (
            key TEXT NOT NULL,
            room_id BIGINT,
            data TEXT NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX hipkit_glance_data_key_room ON hipkit_glance_data (key, (coalesce(room_id, -1)))",
        """
        CREATE TABLE hipkit_setting (
            oauth_id TEXT NOT NULL REFERENCES hipkit_installation (oauth_id) ON DELETE CASCADE,
            room_id BIGINT,
            data TEXT NOT NULL,
            updated_at DOUBLE PRECISION NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX hipkit_setting_installation_room ON hipkit_setting (oauth_id, (coalesce(room_id, -1)))",
        "CREATE TABLE hipkit_secret_key_check (value TEXT NOT NULL)",
        """
        CREATE TABLE hipkit_glance_push (
            id BIGSERIAL PRIMARY KEY,
            oauth_id TEXT NOT NULL,
            target TEXT NOT NULL,
            glance_key TEXT NOT NULL,
            data TEXT NOT NULL,
            generation BIGINT NOT NULL DEFAULT 1,
            attempts BIGINT NOT NULL DEFAULT 0,
            due_at DOUBLE PRECISION NOT NULL,
            claimed_until DOUBLE PRECISION,
            created_at DOUBLE PRECISION NOT NULL,
            UNIQUE (oauth_id, target, glance_key)
        )
        """,
        "CREATE INDEX hipkit_glance_push_due ON hipkit_glance_push (due_at)",
    ]

    /// The outbox carries room notifications as well as glance updates: it is renamed, and a
    /// `kind` column says what each item is, instead of a `notification/` prefix on the key.
    /// Notifications are never merged (their key is their own id); glance updates stay one item
    /// per installation, target and glance.
    static let version2 = [
        "ALTER TABLE hipkit_glance_push RENAME TO hipkit_push_outbox",
        "ALTER TABLE hipkit_push_outbox RENAME COLUMN glance_key TO item_key",
        "ALTER TABLE hipkit_push_outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'glance'",
        """
        UPDATE hipkit_push_outbox SET kind = 'notification', item_key = substr(item_key, 14)
        WHERE substr(item_key, 1, 13) = 'notification/'
        """,
        "ALTER TABLE hipkit_push_outbox DROP CONSTRAINT hipkit_glance_push_oauth_id_target_glance_key_key",
        "ALTER TABLE hipkit_push_outbox ADD CONSTRAINT hipkit_push_outbox_once UNIQUE (oauth_id, kind, target, item_key)",
        "ALTER INDEX hipkit_glance_push_pkey RENAME TO hipkit_push_outbox_pkey",
        "ALTER INDEX hipkit_glance_push_due RENAME TO hipkit_push_outbox_due",
        "ALTER SEQUENCE hipkit_glance_push_id_seq RENAME TO hipkit_push_outbox_id_seq",
    ]

    /// Glance data can be posted for one installation (``GlanceDataScope``): its oauthId, or
    /// NULL for every installation, as all data was up to here. It goes with the installation,
    /// even one removed while the data was being written.
    static let version3 = [
        "ALTER TABLE hipkit_glance_data ADD COLUMN oauth_id TEXT REFERENCES hipkit_installation (oauth_id) ON DELETE CASCADE",
        "DROP INDEX hipkit_glance_data_key_room",
        """
        CREATE UNIQUE INDEX hipkit_glance_data_scope
        ON hipkit_glance_data (key, (coalesce(oauth_id, '')), (coalesce(room_id, -1)))
        """,
    ]

    // MARK: Installations

    public func upsert(_ installation: Installation) async throws {
        let sealed = try secrets.seal(installation.oauthSecret, boundTo: installation.oauthId)
        try await withTransaction { connection in
            try await connection.query(
                """
                INSERT INTO hipkit_installation (oauth_id, oauth_secret, capabilities_url, group_id, room_id, api_url, token_url, installed_at, updated_at)
                VALUES (\(installation.oauthId), \(sealed), \(installation.capabilitiesUrl), \(installation.groupId),
                        \(installation.roomId), \(installation.apiUrl), \(installation.tokenUrl),
                        \(installation.installedAt.timeIntervalSince1970), \(installation.updatedAt.timeIntervalSince1970))
                ON CONFLICT (oauth_id) DO UPDATE SET
                    oauth_secret = excluded.oauth_secret, capabilities_url = excluded.capabilities_url,
                    group_id = excluded.group_id, room_id = excluded.room_id, api_url = excluded.api_url,
                    token_url = excluded.token_url, updated_at = excluded.updated_at
                """, logger: self.logger)
            try await self.notify(installation.oauthId, on: connection)
        }
        cache.invalidate(installation.oauthId)
    }

    public func installation(oauthId: String) async throws -> Installation? {
        if let cached = cache.lookup(oauthId) { return cached }
        let ticket = cache.ticket()
        let row = try await withConnection { connection in
            var row: StoredRow?
            for try await value in try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM hipkit_installation WHERE oauth_id = \(oauthId)",
                logger: self.logger
            ).decode(StoredRow.self) {
                row = value
            }
            return row
        }
        let found = try row.map(unseal)
        if let found { cache.store(found, ticket: ticket) }
        return found
    }

    public func deleteInstallation(oauthId: String) async throws -> Bool {
        let removed = try await withTransaction { connection -> Bool in
            var found = false
            var room: Int?
            for try await value in try await connection.query(
                "SELECT room_id FROM hipkit_installation WHERE oauth_id = \(oauthId) FOR UPDATE", logger: self.logger
            ).decode(Int?.self) {
                found = true
                room = value
            }
            guard found else { return false }
            try await connection.query(
                "DELETE FROM hipkit_push_outbox WHERE oauth_id = \(oauthId)", logger: self.logger)
            try await connection.query("DELETE FROM hipkit_setting WHERE oauth_id = \(oauthId)", logger: self.logger)
            try await connection.query(
                "DELETE FROM hipkit_glance_data WHERE oauth_id = \(oauthId)", logger: self.logger)
            try await connection.query(
                "DELETE FROM hipkit_installation WHERE oauth_id = \(oauthId)", logger: self.logger)
            // The data of the rooms it covered (every room, for a global one) that no installation
            // left covers.
            try await connection.query(
                """
                DELETE FROM hipkit_glance_data AS d WHERE d.oauth_id IS NULL AND d.room_id IS NOT NULL
                AND (\(room)::BIGINT IS NULL OR d.room_id = \(room))
                AND NOT EXISTS (SELECT 1 FROM hipkit_installation AS i WHERE i.room_id IS NULL OR i.room_id = d.room_id)
                """, logger: self.logger)
            try await self.notify(oauthId, on: connection)
            return true
        }
        cache.invalidate(oauthId)
        return removed
    }

    public func installations() async throws -> [Installation] {
        try await withConnection { connection in
            var all: [StoredRow] = []
            for try await row in try await connection.query(
                "SELECT \(unescaped: Self.columns) FROM hipkit_installation ORDER BY installed_at, oauth_id",
                logger: self.logger
            ).decode(StoredRow.self) {
                all.append(row)
            }
            return all
        }.map(unseal)
    }

    // MARK: Glance data and settings

    public func putGlanceData(_ data: JSONNode, key: String, room: Int?, installation: String?) async throws
        -> QueuedPushes
    {
        let text = data.jsonString
        return try await withTransaction { connection -> QueuedPushes in
            let now = Date().timeIntervalSince1970
            // Two updates of one glance at once: the second waits here, then sees the first's row
            // (which decides where it is pushed) — in a snapshot taken after the wait, which READ
            // COMMITTED gives whatever the database's default isolation is.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED", logger: self.logger)
            try await connection.query(
                "SELECT pg_advisory_xact_lock(hashtextextended(\("hipkit glance " + key), 0))", logger: self.logger)
            if let installation {
                // An uninstall of it waits for this update (and takes its data), or went first and
                // this one finds no installation.
                try await connection.query(
                    "SELECT 1 FROM hipkit_installation WHERE oauth_id = \(installation) FOR KEY SHARE",
                    logger: self.logger)
            }
            let installations = try await self.allInstallations(on: connection)
            let scope = try GlanceDataScope(installation: installation, room: room).resolved(in: installations)
            var stored: [GlanceDataScope] = []
            for try await row in try await connection.execute(GlanceScopesQuery(key: key), logger: self.logger) {
                stored.append(row)
            }
            let (pushes, update) = OutboxItem.glancePushes(
                key: key, scope: scope, data: data, installations: installations, stored: stored)
            try await self.run(GlanceDataUpsert(key: key, scope: scope, data: text, now: now), on: connection)
            for push in pushes {
                try await self.run(OutboxUpsert(push: push, data: text, now: now), on: connection)
            }
            return update
        }
    }

    public func queueNotification(_ body: JSONNode, room: Int, through oauthId: String?) async throws -> QueuedPushes {
        let text = body.jsonString
        return try await withTransaction { connection -> QueuedPushes in
            let now = Date().timeIntervalSince1970
            let installations = try await self.allInstallations(on: connection)
            let (pushes, update) = OutboxItem.notifications(
                body: body, room: room, installations: installations.filter { oauthId == nil || $0.oauthId == oauthId })
            for push in pushes {
                try await connection.query(
                    """
                    INSERT INTO hipkit_push_outbox (oauth_id, target, kind, item_key, data, due_at, created_at)
                    VALUES (\(push.oauthId), \(push.target.stored), \(push.kind.rawValue), \(push.key), \(text), \(now), \(now))
                    """, logger: self.logger)
            }
            return update
        }
    }

    /// Runs a prepared statement that answers no rows, and waits for its end, so that its error
    /// is thrown here. (postgres-nio 1.33's overload of `execute` for such statements, which
    /// answers the command tag, traps when the answer comes before the end of the rows: "commandTag
    /// may only be called if all rows have been consumed".)
    private func run<Statement: PostgresPreparedStatement>(_ statement: Statement, on connection: PostgresConnection)
        async throws where Statement.Row == ()
    {
        for try await _ in try await connection.execute(statement, logger: logger) {}
    }

    /// Every installation, its secret still sealed (a push needs only where it goes), read in the
    /// transaction of an update.
    private func allInstallations(on connection: PostgresConnection) async throws -> [Installation] {
        var installations: [Installation] = []
        for try await row in try await connection.execute(AllInstallationsQuery(), logger: logger) {
            installations.append(Self.installation(row))
        }
        return installations
    }

    public func glanceData(key: String, room: Int?, installation: String?) async throws -> JSONNode? {
        let text = try await single(GlanceDataQuery(key: key, installation: installation, room: room))
        return text.flatMap { JSONNode.parse(Data($0.utf8)) }
    }

    /// The glance data query, prepared once on each connection of the pool.
    ///
    /// Why: it is the query every JWT-checked glance query makes. Sent as text each time,
    /// PostgreSQL parsed, analysed and planned it again for every request.
    struct GlanceDataQuery: PostgresPreparedStatement {
        static let sql = """
            SELECT data FROM hipkit_glance_data
            WHERE key = $1 AND oauth_id IS NOT DISTINCT FROM $2 AND room_id IS NOT DISTINCT FROM $3
            """
        typealias Row = String
        var key: String
        var installation: String?
        var room: Int?

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(key)
            bindings.append(installation)
            bindings.append(room)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
    }

    /// One query, not one per scope: a JWT-checked glance query on PostgreSQL is a round trip
    /// to the database each, and the lookups are up to four.
    public func shownGlanceData(key: String, installation: String, room: Int?) async throws -> ShownGlanceData? {
        let lookups = GlanceDataScope.lookups(installation: installation, room: room)
        return try await withConnection { connection in
            var best: (rank: Int, shown: ShownGlanceData)?
            for try await (text, scope) in try await connection.execute(
                ShownGlanceDataQuery(key: key, installation: installation, room: room), logger: self.logger)
            {
                guard let rank = lookups.firstIndex(of: scope), rank < best?.rank ?? .max,
                    let data = JSONNode.parse(Data(text.utf8))
                else { continue }
                best = (rank, ShownGlanceData(data: data, scope: scope))
            }
            return best?.shown
        }
    }

    /// The rows of a glance's data a view of `installation` in `room` may see (up to four), each
    /// found through the unique index's expressions.
    struct ShownGlanceDataQuery: PostgresPreparedStatement {
        static let sql = """
            SELECT data, oauth_id, room_id FROM hipkit_glance_data
            WHERE key = $1 AND (coalesce(oauth_id, ''), coalesce(room_id, -1)) IN (($2, $3), ('', $3), ($2, -1), ('', -1))
            """
        typealias Row = (String, GlanceDataScope)
        var key: String
        var installation: String
        var room: Int?

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(key)
            bindings.append(installation)
            bindings.append(room ?? -1)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> (String, GlanceDataScope) {
            let (data, installation, room) = try row.decode((String, String?, Int?).self)
            return (data, GlanceDataScope(installation: installation, room: room))
        }
    }

    /// Whom a glance's stored data is for, row by row.
    struct GlanceScopesQuery: PostgresPreparedStatement {
        static let sql = "SELECT oauth_id, room_id FROM hipkit_glance_data WHERE key = $1"
        typealias Row = GlanceDataScope
        var key: String

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(key)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> GlanceDataScope {
            let (installation, room) = try row.decode((String?, Int?).self)
            return GlanceDataScope(installation: installation, room: room)
        }
    }

    // An update of glance data (`putGlanceData`) is a transaction of three kinds of statement,
    // prepared once on each connection like the query above: sent as text, PostgreSQL parsed and
    // planned each of them again for every update.

    /// Writes a glance's data for a room (or every room), replacing what was there.
    struct GlanceDataUpsert: PostgresPreparedStatement {
        static let sql = """
            INSERT INTO hipkit_glance_data (key, oauth_id, room_id, data, updated_at) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (key, (coalesce(oauth_id, '')), (coalesce(room_id, -1)))
            DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at
            """
        typealias Row = ()
        var key: String
        var scope: GlanceDataScope
        var data: String
        var now: Double

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(key)
            bindings.append(scope.installation)
            bindings.append(scope.room)
            bindings.append(data)
            bindings.append(now)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws {}
    }

    /// Every installation, as stored.
    struct AllInstallationsQuery: PostgresPreparedStatement {
        static let sql = "SELECT \(PostgresStore.columns) FROM hipkit_installation"
        typealias Row = StoredRow

        func makeBindings() throws -> PostgresBindings { PostgresBindings() }

        func decodeRow(_ row: PostgresRow) throws -> StoredRow { try row.decode(StoredRow.self) }
    }

    /// Queues a push of new data to one installation's target, or replaces the data of the one
    /// already queued there (a new generation, tried again from the start).
    struct OutboxUpsert: PostgresPreparedStatement {
        static let sql = """
            INSERT INTO hipkit_push_outbox (oauth_id, target, kind, item_key, data, due_at, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $6)
            ON CONFLICT (oauth_id, kind, target, item_key) DO UPDATE SET
                data = excluded.data, generation = hipkit_push_outbox.generation + 1, attempts = 0,
                due_at = excluded.due_at
            """
        typealias Row = ()
        var push: OutboxItem
        var data: String
        var now: Double

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings()
            bindings.append(push.oauthId)
            bindings.append(push.target.stored)
            bindings.append(push.kind.rawValue)
            bindings.append(push.key)
            bindings.append(data)
            bindings.append(now)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws {}
    }

    public func putSettings(_ values: [String: JSONNode], oauthId: String, room: Int?) async throws {
        let text = JSONNode.object(values).jsonString
        let now = Date().timeIntervalSince1970
        try await execute(
            """
            INSERT INTO hipkit_setting (oauth_id, room_id, data, updated_at) VALUES (\(oauthId), \(room), \(text), \(now))
            ON CONFLICT (oauth_id, (coalesce(room_id, -1))) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at
            """)
    }

    public func settings(oauthId: String, room: Int?) async throws -> [String: JSONNode]? {
        let text = try await single(
            "SELECT data FROM hipkit_setting WHERE oauth_id = \(oauthId) AND room_id IS NOT DISTINCT FROM \(room)",
            as: String.self)
        return text.flatMap { JSONNode.parse(Data($0.utf8))?.dictionaryValue }
    }

    // MARK: The push outbox

    public func claimPushes(limit: Int, lease: Duration, now: Date) async throws -> [ClaimedOutboxItem] {
        let now = now.timeIntervalSince1970
        let until = now + lease / .seconds(1)
        return try await withConnection { connection in
            var claimed: [ClaimedOutboxItem] = []
            for try await (id, generation, oauthId, target, kind, key, data, attempts) in try await connection.query(
                """
                UPDATE hipkit_push_outbox SET claimed_until = \(until)
                WHERE id IN (
                    SELECT id FROM hipkit_push_outbox
                    WHERE due_at <= \(now) AND (claimed_until IS NULL OR claimed_until <= \(now))
                    ORDER BY due_at, id LIMIT \(limit)
                    FOR UPDATE SKIP LOCKED)
                RETURNING id, generation, oauth_id, target, kind, item_key, data, attempts
                """, logger: self.logger
            ).decode((Int64, Int, String, String, String, String, String, Int).self) {
                guard let target = OutboxItem.Target(stored: target), let kind = OutboxItem.Kind(rawValue: kind),
                    let data = JSONNode.parse(Data(data.utf8))
                else {
                    continue
                }
                claimed.append(
                    ClaimedOutboxItem(
                        id: id, generation: generation,
                        push: OutboxItem(oauthId: oauthId, target: target, kind: kind, key: key, data: data),
                        attempts: attempts))
            }
            return claimed.sorted { $0.id < $1.id }
        }
    }

    public func finishPush(_ claimed: ClaimedOutboxItem) async throws {
        try await execute(
            """
            WITH gone AS (
                DELETE FROM hipkit_push_outbox WHERE id = \(claimed.id) AND generation = \(claimed.generation)
                RETURNING id)
            UPDATE hipkit_push_outbox SET claimed_until = NULL
            WHERE id = \(claimed.id) AND NOT EXISTS (SELECT 1 FROM gone)
            """)
    }

    public func retryPush(_ claimed: ClaimedOutboxItem, at due: Date) async throws {
        try await execute(
            """
            UPDATE hipkit_push_outbox SET
                attempts = CASE WHEN generation = \(claimed.generation) THEN attempts + 1 ELSE attempts END,
                due_at = CASE WHEN generation = \(claimed.generation) THEN \(due.timeIntervalSince1970) ELSE due_at END,
                claimed_until = NULL
            WHERE id = \(claimed.id)
            """)
    }

    public func nextPushDue() async throws -> Date? {
        let next = try await single(
            "SELECT min(greatest(due_at, coalesce(claimed_until, 0))) FROM hipkit_push_outbox", as: Double?.self)
        return next.flatMap { $0 }.map(Date.init(timeIntervalSince1970:))
    }

    // MARK: Key rotation

    /// Re-encrypts every stored secret, and the key check, under `newSecrets`, in one
    /// transaction, and tells every instance (NOTIFY) to forget what it holds: an instance still
    /// on the old key then refuses those installations' requests until it is restarted with the
    /// new one. Returns how many installations it re-encrypted.
    public func rotateKey(to newSecrets: SecretBox) async throws -> Int {
        let secrets = self.secrets
        return try await withTransaction(timed: false) { connection -> Int in
            try await connection.query(
                "LOCK TABLE hipkit_installation, hipkit_secret_key_check IN EXCLUSIVE MODE", logger: self.logger)
            var rows: [(String, String)] = []
            for try await row in try await connection.query(
                "SELECT oauth_id, oauth_secret FROM hipkit_installation", logger: self.logger
            ).decode((String, String).self) {
                rows.append(row)
            }
            for (oauthId, sealed) in rows {
                let resealed = try newSecrets.seal(try secrets.open(sealed, boundTo: oauthId), boundTo: oauthId)
                try await connection.query(
                    "UPDATE hipkit_installation SET oauth_secret = \(resealed) WHERE oauth_id = \(oauthId)",
                    logger: self.logger)
                try await self.notify(oauthId, on: connection)
            }
            try await connection.query(
                "UPDATE hipkit_secret_key_check SET value = \(try newSecrets.seal(Self.keyCheckValue, boundTo: Self.keyCheckContext))",
                logger: self.logger)
            return rows.count
        }
    }

    // MARK: Copying

    public func contents() async throws -> StoreContents {
        var contents = StoreContents()
        contents.installations = try await installations()
        for try await (key, installation, room, data) in try await client.query(
            """
            SELECT key, oauth_id, room_id, data FROM hipkit_glance_data
            ORDER BY key, oauth_id NULLS FIRST, room_id NULLS FIRST
            """, logger: logger
        ).decode((String, String?, Int?, String).self) {
            if let data = JSONNode.parse(Data(data.utf8)) {
                contents.glanceData.append(
                    StoreContents.GlanceRecord(
                        key: key, scope: GlanceDataScope(installation: installation, room: room), data: data))
            }
        }
        for try await (oauthId, room, data) in try await client.query(
            "SELECT oauth_id, room_id, data FROM hipkit_setting ORDER BY oauth_id, room_id NULLS FIRST", logger: logger
        ).decode((String, Int?, String).self) {
            if let values = JSONNode.parse(Data(data.utf8))?.dictionaryValue {
                contents.settings.append(StoreContents.SettingsRecord(oauthId: oauthId, room: room, values: values))
            }
        }
        return contents
    }

    public func restore(_ contents: StoreContents) async throws {
        let sealed = try contents.installations.map { try secrets.seal($0.oauthSecret, boundTo: $0.oauthId) }
        try await withTransaction(timed: false) { connection in
            // Another copy or a server writing at the same moment waits here, then finds rows.
            try await connection.query(
                "LOCK TABLE hipkit_installation, hipkit_glance_data, hipkit_setting IN EXCLUSIVE MODE",
                logger: self.logger)
            var rows = 0
            for try await count in try await connection.query(
                """
                SELECT (SELECT count(*) FROM hipkit_installation) + (SELECT count(*) FROM hipkit_glance_data)
                    + (SELECT count(*) FROM hipkit_setting)
                """, logger: self.logger
            ).decode(Int.self) {
                rows = count
            }
            guard rows == 0 else { throw StoreNotEmptyError() }
            let now = Date().timeIntervalSince1970
            for (installation, secret) in zip(contents.installations, sealed) {
                try await connection.query(
                    """
                    INSERT INTO hipkit_installation (oauth_id, oauth_secret, capabilities_url, group_id, room_id, api_url, token_url, installed_at, updated_at)
                    VALUES (\(installation.oauthId), \(secret), \(installation.capabilitiesUrl), \(installation.groupId),
                            \(installation.roomId), \(installation.apiUrl), \(installation.tokenUrl),
                            \(installation.installedAt.timeIntervalSince1970), \(installation.updatedAt.timeIntervalSince1970))
                    """, logger: self.logger)
                try await self.notify(installation.oauthId, on: connection)
            }
            for record in contents.glanceData {
                try await connection.query(
                    """
                    INSERT INTO hipkit_glance_data (key, oauth_id, room_id, data, updated_at)
                    VALUES (\(record.key), \(record.scope.installation), \(record.scope.room), \(record.data.jsonString), \(now))
                    """, logger: self.logger)
            }
            for record in contents.settings {
                try await connection.query(
                    """
                    INSERT INTO hipkit_setting (oauth_id, room_id, data, updated_at)
                    VALUES (\(record.oauthId), \(record.room), \(JSONNode.object(record.values).jsonString), \(now))
                    """, logger: self.logger)
            }
        }
    }

    public func close() async throws {
        tasks.cancel()
        await tasks.value
    }

    // MARK: Helpers

    private func withTransaction<T: Sendable>(
        timed: Bool = true, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await Self.unwrapping {
            try await withConnection(timed: timed) { connection in
                try await connection.withTransaction(logger: self.logger) { connection in try await body(connection) }
            }
        }
    }

    /// How long a request waits for the database. One that does not answer (stopped, or the
    /// network to it gone) would otherwise hold requests while the pool goes on trying to
    /// connect — past a minute, longer than HipChat or a proxy waits — and a write given up by
    /// its caller could still be made when the database came back.
    public static let answerLimit: Duration = .seconds(10)

    /// A connection of the pool for `body`, within ``answerLimit`` when `timed`: past it,
    /// ``PostgresStoreError/noAnswer`` is thrown at once, the work cancelled and the connection
    /// it had closed (the pool opens another), so that queries stuck on a database that stopped
    /// answering do not keep the pool's connections. A wait for a connection ends there; a query
    /// already sent may still be carried out when the database answers again, as with any client
    /// that gave up. Key rotation and `copy-store`, whose transactions take as long as the data
    /// needs, are not timed.
    ///
    /// `body` runs in a task of its own, not a child task: a task group would wait for it to
    /// end, and a query on a connection to a database that stopped answering does not end.
    private func withConnection<T: Sendable>(
        timed: Bool = true, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        guard timed else { return try await client.withConnection(body) }
        let (client, watch) = (self.client, self.watch)
        let call = TimedCall<T>()
        let deadline = ContinuousClock.now + answerLimitForRequests
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                call.start(continuation)
                let id = watch.add(deadline: deadline) { call.giveUp(PostgresStoreError.noAnswer) }
                call.began(
                    Task {
                        let result: Result<T, any Error>
                        do {
                            result = .success(
                                try await client.withConnection { connection in
                                    guard call.connected(connection) else { throw CancellationError() }
                                    return try await body(connection)
                                })
                        } catch {
                            result = .failure(error)
                        }
                        watch.remove(id)
                        call.finish(result)
                    })
            }
        } onCancel: {
            call.giveUp(CancellationError(), closing: false)
        }
    }

    /// One statement's end: its result, or its time running out, whichever comes first.
    private final class TimedCall<T: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<T, any Error>?
            var work: Task<Void, Never>?
            var connection: PostgresConnection?
            var over = false
        }

        private let state = Mutex(State())

        func start(_ continuation: CheckedContinuation<T, any Error>) {
            state.withLock { $0.continuation = continuation }
        }

        /// The task doing the work; cancelled at once if the statement was given up already.
        func began(_ work: Task<Void, Never>) {
            let over = state.withLock { state in
                state.work = work
                return state.over
            }
            if over { work.cancel() }
        }

        /// The connection the work got; false (and the connection closed) when the statement
        /// was given up meanwhile.
        func connected(_ connection: PostgresConnection) -> Bool {
            let over = state.withLock { state in
                state.connection = connection
                return state.over
            }
            if over { Self.close(connection) }
            return !over
        }

        func finish(_ result: Result<T, any Error>) {
            let continuation = state.withLock { state in
                state.over = true
                defer { state.continuation = nil }
                return state.continuation
            }
            continuation?.resume(with: result)
        }

        func giveUp(_ error: any Error, closing: Bool = true) {
            let (continuation, work, connection) = state.withLock { state in
                guard !state.over else {
                    return (nil, nil, nil)
                        as (CheckedContinuation<T, any Error>?, Task<Void, Never>?, PostgresConnection?)
                }
                state.over = true
                defer { state.continuation = nil }
                return (state.continuation, state.work, state.connection)
            }
            continuation?.resume(throwing: error)
            work?.cancel()
            if closing, let connection { Self.close(connection) }
        }

        private static func close(_ connection: PostgresConnection) {
            Task { try? await connection.close() }
        }
    }

    /// postgres-nio wraps what a transaction's body threw in a `PostgresTransactionError`; the
    /// body's own error (``StoreNotEmptyError``, ``PostgresStoreError``) is what callers act on.
    private static func unwrapping<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PostgresTransactionError {
            if let inner = error.closureError, error.rollbackError == nil { throw inner }
            throw error
        }
    }

    /// Runs `query`, a statement that gives no rows, on a pooled connection.
    private func execute(_ query: PostgresQuery) async throws {
        _ = try await withConnection { connection in try await connection.query(query, logger: self.logger) }
    }

    /// The one value `query` gives (nil for no row), its rows read to the end so that the
    /// connection goes back to the pool clean.
    private func single<T: PostgresDecodable & Sendable>(_ query: PostgresQuery, as type: T.Type) async throws -> T? {
        try await withConnection { connection in
            var value: T?
            for try await row in try await connection.query(query, logger: self.logger).decode(T.self)
            where value == nil {
                value = row
            }
            return value
        }
    }

    /// ``single(_:as:)`` for a prepared statement.
    private func single<Statement: PostgresPreparedStatement & Sendable>(_ statement: Statement) async throws
        -> Statement.Row?
    where Statement.Row: Sendable {
        try await withConnection { connection in
            var value: Statement.Row?
            for try await row in try await connection.execute(statement, logger: self.logger) where value == nil {
                value = row
            }
            return value
        }
    }

    private func notify(_ oauthId: String, on connection: PostgresConnection) async throws {
        try await connection.query("SELECT pg_notify(\(Self.channel), \(oauthId))", logger: logger)
    }

    private static let columns =
        "oauth_id, oauth_secret, capabilities_url, group_id, room_id, api_url, token_url, installed_at, updated_at"
    typealias StoredRow = (String, String, String, Int, Int?, String?, String?, Double, Double)

    /// The installation in `row` as stored: `oauthSecret` still sealed.
    private static func installation(_ row: StoredRow) -> Installation {
        Installation(
            oauthId: row.0, oauthSecret: row.1, capabilitiesUrl: row.2, groupId: row.3, roomId: row.4, apiUrl: row.5,
            tokenUrl: row.6, installedAt: Date(timeIntervalSince1970: row.7),
            updatedAt: Date(timeIntervalSince1970: row.8))
    }

    private func unseal(_ row: StoredRow) throws -> Installation {
        var installation = Self.installation(row)
        installation.oauthSecret = try secrets.open(row.1, boundTo: row.0)
        return installation
    }
}

/// Why the PostgreSQL store cannot be used.
public enum PostgresStoreError: Error, Equatable, CustomStringConvertible {
    case newerSchema(Int, known: Int)
    case wrongKey
    case notListening
    /// The database did not answer within ``PostgresStore/answerLimit``.
    case noAnswer

    public var description: String {
        switch self {
        case .newerSchema(let found, let known):
            "the database's schema is version \(found), written by a newer hipkit; this one knows up to \(known). "
                + "Run the newer hipkit, or point --database at another database"
        case .wrongKey:
            "the database's secrets were sealed with another key: HIPKIT_SECRET_KEY must be the key every "
                + "instance on this database shares"
        case .notListening:
            "the database does not take LISTEN for installation changes"
        case .noAnswer:
            "the database did not answer within \(PostgresStore.answerLimit)"
        }
    }
}

/// Installations read from the database, kept while the change notifications are heard.
///
/// A read that raced a change must not put the old row back after the change's notification
/// emptied the entry: each read takes a ``ticket()`` first, and its row is kept only if no
/// invalidation came since.
final class InstallationCache: Sendable {
    private struct State {
        var listening = false
        var epoch = 0
        var entries: [String: Installation] = [:]
    }

    private let state = Mutex(State())
    private static let limit = 10_000

    func lookup(_ oauthId: String) -> Installation? {
        state.withLock { $0.listening ? $0.entries[oauthId] : nil }
    }

    func ticket() -> Int { state.withLock { $0.epoch } }

    var isListening: Bool { state.withLock { $0.listening } }

    func store(_ installation: Installation, ticket: Int) {
        state.withLock {
            guard $0.listening, $0.epoch == ticket else { return }
            if $0.entries.count >= Self.limit { $0.entries.removeAll() }
            $0.entries[installation.oauthId] = installation
        }
    }

    func invalidate(_ oauthId: String) {
        state.withLock {
            $0.epoch += 1
            $0.entries[oauthId] = nil
        }
    }

    func startListening() {
        state.withLock {
            $0.epoch += 1
            $0.entries.removeAll()
            $0.listening = true
        }
    }

    func stopListening() {
        state.withLock {
            $0.epoch += 1
            $0.listening = false
            $0.entries.removeAll()
        }
    }

    /// Waits until the first `LISTEN` is in place, so a store that opened hears every change.
    func waitUntilListening(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while !isListening {
            guard ContinuousClock.now < deadline else { throw PostgresStoreError.notListening }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}

/// The statements of a ``PostgresStore`` in flight, each with the time it may take: one task
/// asks for those past it (``expire(at:)``) a few times a second. A timer per statement would
/// leave a sleeping task behind each one that ended in time — on Linux a cancelled sleep keeps
/// its task until its deadline — and nearly every statement does.
final class StatementWatch: Sendable {
    private struct Entry {
        var deadline: ContinuousClock.Instant
        var giveUp: @Sendable () -> Void
    }

    private let state = Mutex<(next: Int, entries: [Int: Entry])>((0, [:]))

    /// Watches a statement; `giveUp` is called once, when `deadline` has passed first.
    func add(deadline: ContinuousClock.Instant, giveUp: @escaping @Sendable () -> Void) -> Int {
        state.withLock { state in
            state.next += 1
            state.entries[state.next] = Entry(deadline: deadline, giveUp: giveUp)
            return state.next
        }
    }

    /// The statement ended: it is watched no more.
    func remove(_ id: Int) {
        _ = state.withLock { $0.entries.removeValue(forKey: id) }
    }

    /// Gives up every statement past its deadline at `now`.
    func expire(at now: ContinuousClock.Instant) {
        let due = state.withLock { state -> [@Sendable () -> Void] in
            let ids = state.entries.filter { $0.value.deadline <= now }.map(\.key)
            return ids.compactMap { state.entries.removeValue(forKey: $0)?.giveUp }
        }
        for giveUp in due { giveUp() }
    }
}
