import Foundation
import GRDB
import HipChatConnect
import HipKit
import Synchronization

/// ``InstallationStore`` in one SQLite file, through GRDB.
///
/// WAL mode with `synchronous=FULL`: every commit reaches the disk before the write returns, so
/// once the server has answered 2xx to an install or a glance update, a `kill -9` or a power
/// cut loses nothing. The file holds shared secrets, so it is created readable by its owner
/// only, and the secrets themselves are encrypted with a ``SecretBox``: the file alone does
/// not give them away.
public final class SQLiteStore: InstallationStore {
    private let pool: DatabasePool
    private let secrets: SecretBox
    public let file: URL
    /// Installations by oauthId, with their secrets opened (nil: none with that id). A pointer
    /// to nothing is kept too, so unknown issuers are not a read each.
    private let installationReads = StoreReadCache<String, Installation?>()
    /// Glance data by glance key and scope.
    private let glanceReads = StoreReadCache<GlanceDataKey, JSONNode?>()
    /// The file's commit version, which both caches are checked against on every read.
    private let commits: SQLiteCommits
    /// The database file opened by the store itself (to create it private, and to `flock` it
    /// while migrating), kept open until ``close()``, after SQLite's connections. Closing any
    /// descriptor of a file drops every POSIX lock the process holds on it, SQLite's own
    /// included: without its shared lock on the database, the next `sqlite3` (a `.backup`) to
    /// close took itself for the last user and deleted the WAL this server was writing to.
    private let fileDescriptor: Int32
    /// Set by the first ``close()``.
    private let closing = Mutex(false)

    private struct GlanceDataKey: Hashable, Sendable {
        var key: String
        var scope: GlanceDataScope
    }

    /// A write that can change an installation or glance data: it empties both caches, before
    /// it runs and after it committed, so no read in flight keeps what the write replaces.
    private func cachedWrite<T: Sendable>(_ updates: @Sendable (Database) throws -> T) async throws -> T {
        installationReads.invalidate()
        glanceReads.invalidate()
        defer {
            installationReads.invalidate()
            glanceReads.invalidate()
        }
        return try await write(updates)
    }

    /// A write through the pool, whose commit every connection of ``commits`` then takes in at
    /// once (``SQLiteCommits/takeInCommit()``): the caches are emptied once for it, not once per
    /// connection. After a failed write too, which is at worst one empty cache more.
    private func write<T: Sendable>(_ updates: @Sendable (Database) throws -> T) async throws -> T {
        defer { commits.takeInCommit() }
        return try await pool.write(updates)
    }

    /// Opens the store with the key file beside it (`secret.key`, created on first use).
    public convenience init(file: URL) throws {
        try self.init(file: file, secretKey: nil)
    }

    /// Opens the store with `secretKey` (`HIPKIT_SECRET_KEY`'s value) when there is one, else
    /// with the key file beside it, created on first use. A key file made here for a database
    /// whose secrets were sealed with another key is removed again: left behind, it would stand
    /// in the way of the right key.
    public convenience init(file: URL, secretKey: String?, releasingClaims: Bool = true) throws {
        let folder = file.deletingLastPathComponent()
        let keyFile = folder.appendingPathComponent(SecretBox.keyFileName).path
        let madeKeyFile = (secretKey ?? "").isEmpty && !FileManager.default.fileExists(atPath: keyFile)
        let secrets = try SecretBox.load(environmentValue: secretKey, dataDirectory: folder)
        do {
            try self.init(file: file, secrets: secrets, releasingClaims: releasingClaims)
        } catch SecretKeyError.wrongKey where madeKeyFile {
            unlink(keyFile)
            throw SecretKeyError.missingKey(folder.path)
        }
    }

    /// Opens (or creates) the store, encrypting secrets with `secrets`.
    ///
    /// Secrets written before they were encrypted are encrypted here, once, by a migration.
    /// Throws ``SecretKeyError/wrongKey`` when the store's secrets were written with another
    /// key, so that a server never starts with installations it cannot check.
    ///
    /// Unless `releasingClaims` is false, pushes claimed when the store was last used are free
    /// again at once: a server that is the only one on its folder knows no other is sending
    /// them. One started beside another (a restart without a gap) passes false, and leaves
    /// them to their leases.
    public init(file: URL, secrets: SecretBox, releasingClaims: Bool = true) throws {
        self.file = file
        self.secrets = secrets
        let directory = file.deletingLastPathComponent()
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Deleted and replaced rows are overwritten, not left in free pages: a secret once
            // stored in clear (before encryption) or a removed installation leaves no trace.
            try db.execute(sql: "PRAGMA secure_delete = ON")
        }
        configuration.busyMode = .timeout(5)
        // Created empty and private before SQLite opens it: SQLite gives the -wal and -shm files
        // the database file's permissions, and the WAL holds secrets too.
        // Opened without O_TRUNC, so a server starting beside another never empties its file.
        let lock = open(file.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw SQLiteStoreError.cannotOpen(file.path, errno) }
        // Held while the schema is checked and migrated: two servers started at once on a new
        // data folder would otherwise both see no tables and both create them. flock is apart
        // from the POSIX locks SQLite itself takes on the file.
        while flock(lock, LOCK_EX) != 0 && errno == EINTR {}
        fileDescriptor = lock
        do {
            pool = try DatabasePool(path: file.path, configuration: configuration)
        } catch {
            _ = Glibc.close(lock)
            throw error
        }
        do {
            try Self.migrator(secrets: secrets).migrate(pool)
            try pool.write { db in
                try Self.checkKey(db, secrets)
                // The only server on the file: pushes it had taken when it last stopped (a
                // `kill -9`, a power cut) are free again at once, not when their lease ends.
                if releasingClaims {
                    try db.execute(
                        sql: "UPDATE push_outbox SET claimed_until = NULL WHERE claimed_until IS NOT NULL")
                }
            }
            // Moves what the migrations rewrote into the database file at once, so older page
            // versions do not linger in the WAL.
            try pool.writeWithoutTransaction { db in _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
            commits = try SQLiteCommits(path: file.path)
            // Another server starting on this folder may read the schema now.
            _ = flock(lock, LOCK_UN)
        } catch {
            try? pool.close()
            _ = Glibc.close(lock)
            throw error
        }
    }

    /// The sealed value kept in `secret_key_check`, and what it must open to.
    private static let keyCheckContext = "key-check"
    private static let keyCheckValue = "hipkit"

    /// Tells a wrong key from a damaged row: a value sealed with the store's key is kept apart
    /// from the installations. When it does not open, the key is not the one the store was
    /// written with, and nothing is read (or written with a second key); when it does, a row
    /// that does not open was altered.
    private static func checkKey(_ db: Database, _ secrets: SecretBox) throws {
        if let sealed = try String.fetchOne(db, sql: "SELECT value FROM secret_key_check") {
            guard (try? secrets.open(sealed, boundTo: keyCheckContext)) == keyCheckValue else {
                throw SecretKeyError.wrongKey
            }
        } else {
            try db.execute(
                sql: "INSERT INTO secret_key_check (value) VALUES (?)",
                arguments: [try secrets.seal(keyCheckValue, boundTo: keyCheckContext)])
        }
    }

    /// The schema, one migration per change. Internal so tests can build a store as an older
    /// version left it.
    static func migrator(secrets: SecretBox) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE installation (
                        oauth_id TEXT PRIMARY KEY NOT NULL,
                        oauth_secret TEXT NOT NULL,
                        capabilities_url TEXT NOT NULL,
                        group_id INTEGER NOT NULL,
                        room_id INTEGER,
                        api_url TEXT,
                        token_url TEXT,
                        installed_at DOUBLE NOT NULL,
                        updated_at DOUBLE NOT NULL
                    );
                    CREATE TABLE glance_data (
                        key TEXT NOT NULL,
                        room_id INTEGER,
                        data TEXT NOT NULL,
                        updated_at DOUBLE NOT NULL
                    );
                    CREATE UNIQUE INDEX glance_data_key_room ON glance_data (key, ifnull(room_id, -1));
                    CREATE TABLE setting (
                        oauth_id TEXT NOT NULL REFERENCES installation (oauth_id) ON DELETE CASCADE,
                        room_id INTEGER,
                        data TEXT NOT NULL,
                        updated_at DOUBLE NOT NULL
                    );
                    CREATE UNIQUE INDEX setting_installation_room ON setting (oauth_id, ifnull(room_id, -1));
                    """)
        }
        // Secrets were kept in plain text up to here: every one is encrypted, in the same
        // transaction as the migration's record, so it happens exactly once and a value is
        // never taken for ciphertext because of how it looks.
        migrator.registerMigration("v2-encrypted-secrets") { db in
            try db.execute(sql: "CREATE TABLE secret_key_check (value TEXT NOT NULL)")
            let rows = try Row.fetchAll(db, sql: "SELECT oauth_id, oauth_secret FROM installation")
            for row in rows {
                let oauthId: String = row["oauth_id"]
                let plaintext: String = row["oauth_secret"]
                try db.execute(
                    sql: "UPDATE installation SET oauth_secret = ? WHERE oauth_id = ?",
                    arguments: [try secrets.seal(plaintext, boundTo: oauthId), oauthId])
            }
        }
        // Glance pushes wait here, not in memory, so a restart or a crash loses none. One row per
        // installation, target and glance: a newer update replaces the data and bumps
        // `generation`, and keeps the lease of a delivery in flight.
        migrator.registerMigration("v3-push-outbox") { db in
            try db.execute(
                sql: """
                    CREATE TABLE glance_push (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        oauth_id TEXT NOT NULL,
                        target TEXT NOT NULL,
                        glance_key TEXT NOT NULL,
                        data TEXT NOT NULL,
                        generation INTEGER NOT NULL DEFAULT 1,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        due_at DOUBLE NOT NULL,
                        claimed_until DOUBLE,
                        created_at DOUBLE NOT NULL
                    );
                    CREATE UNIQUE INDEX glance_push_once ON glance_push (oauth_id, target, glance_key);
                    CREATE INDEX glance_push_due ON glance_push (due_at);
                    """)
        }
        // The outbox carries room notifications as well as glance updates: it is renamed, and a
        // `kind` column says what each item is, instead of a `notification/` prefix on the key.
        // Notifications are never merged (their key is their own id); glance updates stay one
        // item per installation, target and glance.
        migrator.registerMigration("v4-outbox-kind") { db in
            try db.execute(
                sql: """
                    ALTER TABLE glance_push RENAME TO push_outbox;
                    ALTER TABLE push_outbox RENAME COLUMN glance_key TO item_key;
                    ALTER TABLE push_outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'glance';
                    UPDATE push_outbox SET kind = 'notification', item_key = substr(item_key, 14)
                        WHERE substr(item_key, 1, 13) = 'notification/';
                    DROP INDEX glance_push_once;
                    DROP INDEX glance_push_due;
                    CREATE UNIQUE INDEX push_outbox_once ON push_outbox (oauth_id, kind, target, item_key);
                    CREATE INDEX push_outbox_due ON push_outbox (due_at);
                    """)
        }
        // Glance data can be posted for one installation (``GlanceDataScope``): its oauthId, or
        // NULL for every installation, as all data was up to here. It goes with the installation.
        migrator.registerMigration("v5-glance-data-installation") { db in
            try db.execute(
                sql: """
                    ALTER TABLE glance_data ADD COLUMN oauth_id TEXT REFERENCES installation (oauth_id) ON DELETE CASCADE;
                    DROP INDEX glance_data_key_room;
                    CREATE UNIQUE INDEX glance_data_scope ON glance_data (key, ifnull(oauth_id, ''), ifnull(room_id, -1));
                    """)
        }
        return migrator
    }

    public func upsert(_ installation: Installation) async throws {
        let sealed = try secrets.seal(installation.oauthSecret, boundTo: installation.oauthId)
        try await cachedWrite { db in
            try db.execute(
                sql: """
                    INSERT INTO installation (oauth_id, oauth_secret, capabilities_url, group_id, room_id, api_url, token_url, installed_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (oauth_id) DO UPDATE SET
                        oauth_secret = excluded.oauth_secret, capabilities_url = excluded.capabilities_url,
                        group_id = excluded.group_id, room_id = excluded.room_id, api_url = excluded.api_url,
                        token_url = excluded.token_url, updated_at = excluded.updated_at
                    """,
                arguments: [
                    installation.oauthId, sealed, installation.capabilitiesUrl,
                    installation.groupId, installation.roomId, installation.apiUrl, installation.tokenUrl,
                    installation.installedAt.timeIntervalSince1970, installation.updatedAt.timeIntervalSince1970,
                ])
        }
    }

    public func installation(oauthId: String) async throws -> Installation? {
        try await installation(oauthId: oauthId, at: commits.current())
    }

    /// Reads answered from memory at the file's version of this moment: one `data_version` look
    /// for a JWT-checked glance query's three reads (installation, room and add-on-wide glance
    /// data), where a look per read was a tenth of the request.
    public func reads() throws -> any StoreReads {
        Reads(store: self, version: try commits.current())
    }

    /// ``reads()`` when the file's version can be had at once
    /// (``SQLiteCommits/currentWithoutWaiting()``).
    public func readsWithoutWaiting() -> (any StoreReads)? {
        commits.currentWithoutWaiting().map { Reads(store: self, version: $0) }
    }

    private struct Reads: StoreReads {
        let store: SQLiteStore
        let version: Int64

        func installation(oauthId: String) async throws -> Installation? {
            try await store.installation(oauthId: oauthId, at: version)
        }

        func glanceData(key: String, room: Int?, installation: String?) async throws -> JSONNode? {
            try await store.glanceData(
                GlanceDataKey(key: key, scope: GlanceDataScope(installation: installation, room: room)), at: version)
        }

        func keptInstallation(oauthId: String) -> Installation?? {
            store.installationReads.kept(oauthId, at: version)
        }

        func keptGlanceData(key: String, room: Int?, installation: String?) -> JSONNode?? {
            store.glanceReads.kept(
                GlanceDataKey(key: key, scope: GlanceDataScope(installation: installation, room: room)), at: version)
        }
    }

    private func installation(oauthId: String, at version: Int64) async throws -> Installation? {
        try await installationReads.value(for: oauthId, at: version) {
            let stored = try await pool.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM installation WHERE oauth_id = ?", arguments: [oauthId]).map(
                    Self.stored)
            }
            return try stored.map(unseal)
        }
    }

    public func deleteInstallation(oauthId: String) async throws -> Bool {
        try await cachedWrite { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM installation WHERE oauth_id = ?", arguments: [oauthId])
            else {
                return false
            }
            let removed: Int? = row["room_id"]
            try db.execute(sql: "DELETE FROM setting WHERE oauth_id = ?", arguments: [oauthId])
            try db.execute(sql: "DELETE FROM glance_data WHERE oauth_id = ?", arguments: [oauthId])
            try db.execute(sql: "DELETE FROM push_outbox WHERE oauth_id = ?", arguments: [oauthId])
            try db.execute(sql: "DELETE FROM installation WHERE oauth_id = ?", arguments: [oauthId])
            // The data of the rooms it covered (every room, for a global one) that no installation
            // left covers.
            try db.execute(
                sql: """
                    DELETE FROM glance_data WHERE oauth_id IS NULL AND room_id IS NOT NULL
                    AND (? IS NULL OR room_id = ?)
                    AND NOT EXISTS (
                        SELECT 1 FROM installation
                        WHERE installation.room_id IS NULL OR installation.room_id = glance_data.room_id)
                    """, arguments: [removed, removed])
            return true
        }
    }

    public func installations() async throws -> [Installation] {
        let stored = try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM installation ORDER BY installed_at, oauth_id").map(Self.stored)
        }
        return try stored.map(unseal)
    }

    public func putGlanceData(_ data: JSONNode, key: String, room: Int?, installation: String?) async throws
        -> QueuedPushes
    {
        let text = data.jsonString
        return try await cachedWrite { db in
            let now = Date().timeIntervalSince1970
            let installations = try Row.fetchAll(db, sql: "SELECT * FROM installation").map(Self.stored)
            let scope = try GlanceDataScope(installation: installation, room: room).resolved(in: installations)
            let stored = try Row.fetchAll(
                db, sql: "SELECT oauth_id, room_id FROM glance_data WHERE key = ?", arguments: [key]
            )
            .map { GlanceDataScope(installation: $0["oauth_id"], room: $0["room_id"]) }
            let (pushes, update) = OutboxItem.glancePushes(
                key: key, scope: scope, data: data, installations: installations, stored: stored)
            try db.execute(
                sql: "DELETE FROM glance_data WHERE key = ? AND oauth_id IS ? AND room_id IS ?",
                arguments: [key, scope.installation, scope.room])
            try db.execute(
                sql: "INSERT INTO glance_data (key, oauth_id, room_id, data, updated_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [key, scope.installation, scope.room, text, now])
            for push in pushes {
                try db.execute(
                    sql: """
                        INSERT INTO push_outbox (oauth_id, target, kind, item_key, data, due_at, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (oauth_id, kind, target, item_key) DO UPDATE SET
                            data = excluded.data, generation = generation + 1, attempts = 0, due_at = excluded.due_at
                        """,
                    arguments: [push.oauthId, push.target.stored, push.kind.rawValue, push.key, text, now, now])
            }
            return update
        }
    }

    public func queueNotification(_ body: JSONNode, room: Int, through oauthId: String?) async throws -> QueuedPushes {
        let text = body.jsonString
        return try await write { db in
            let now = Date().timeIntervalSince1970
            let installations = try Row.fetchAll(db, sql: "SELECT * FROM installation").map(Self.stored)
            let (pushes, update) = OutboxItem.notifications(
                body: body, room: room, installations: installations.filter { oauthId == nil || $0.oauthId == oauthId })
            for push in pushes {
                try db.execute(
                    sql: """
                        INSERT INTO push_outbox (oauth_id, target, kind, item_key, data, due_at, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [push.oauthId, push.target.stored, push.kind.rawValue, push.key, text, now, now])
            }
            return update
        }
    }

    public func glanceData(key: String, room: Int?, installation: String?) async throws -> JSONNode? {
        try await glanceData(
            GlanceDataKey(key: key, scope: GlanceDataScope(installation: installation, room: room)),
            at: commits.current())
    }

    private func glanceData(_ wanted: GlanceDataKey, at version: Int64) async throws -> JSONNode? {
        try await glanceReads.value(for: wanted, at: version) {
            let text = try await pool.read { db in
                try String.fetchOne(
                    db, sql: "SELECT data FROM glance_data WHERE key = ? AND oauth_id IS ? AND room_id IS ?",
                    arguments: [wanted.key, wanted.scope.installation, wanted.scope.room])
            }
            return text.flatMap { JSONNode.parse(Data($0.utf8)) }
        }
    }

    public func putSettings(_ values: [String: JSONNode], oauthId: String, room: Int?) async throws {
        let text = JSONNode.object(values).jsonString
        try await write { db in
            try db.execute(sql: "DELETE FROM setting WHERE oauth_id = ? AND room_id IS ?", arguments: [oauthId, room])
            try db.execute(
                sql: "INSERT INTO setting (oauth_id, room_id, data, updated_at) VALUES (?, ?, ?, ?)",
                arguments: [oauthId, room, text, Date().timeIntervalSince1970])
        }
    }

    public func settings(oauthId: String, room: Int?) async throws -> [String: JSONNode]? {
        let text = try await pool.read { db in
            try String.fetchOne(
                db, sql: "SELECT data FROM setting WHERE oauth_id = ? AND room_id IS ?", arguments: [oauthId, room])
        }
        return text.flatMap { JSONNode.parse(Data($0.utf8))?.dictionaryValue }
    }

    public func claimPushes(limit: Int, lease: Duration, now: Date) async throws -> [ClaimedOutboxItem] {
        let now = now.timeIntervalSince1970
        let claimed = try await write { db in
            try Row.fetchAll(
                db,
                sql: """
                    UPDATE push_outbox SET claimed_until = ?
                    WHERE id IN (
                        SELECT id FROM push_outbox
                        WHERE due_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)
                        ORDER BY due_at, id LIMIT ?)
                    RETURNING id, generation, oauth_id, target, kind, item_key, data, attempts
                    """,
                arguments: [now + lease / .seconds(1), now, now, limit]
            ).compactMap(Self.claimed)
        }
        return claimed.sorted { $0.id < $1.id }
    }

    public func finishPush(_ claimed: ClaimedOutboxItem) async throws {
        try await write { db in
            try db.execute(
                sql: "DELETE FROM push_outbox WHERE id = ? AND generation = ?",
                arguments: [claimed.id, claimed.generation])
            if db.changesCount == 0 {
                try db.execute(sql: "UPDATE push_outbox SET claimed_until = NULL WHERE id = ?", arguments: [claimed.id])
            }
        }
    }

    public func retryPush(_ claimed: ClaimedOutboxItem, at due: Date) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    UPDATE push_outbox SET attempts = attempts + 1, due_at = ?, claimed_until = NULL
                    WHERE id = ? AND generation = ?
                    """,
                arguments: [due.timeIntervalSince1970, claimed.id, claimed.generation])
            if db.changesCount == 0 {
                try db.execute(sql: "UPDATE push_outbox SET claimed_until = NULL WHERE id = ?", arguments: [claimed.id])
            }
        }
    }

    /// The file's commit version (``SQLiteCommits``): it changes with every commit to the file
    /// from any connection, the pool's writer included. Nil rather than wait for a lock held
    /// elsewhere.
    public func commitVersion() -> Int64? { commits.currentWithoutWaiting() }

    public func nextPushDue() async throws -> Date? {
        let next = try await pool.read { db in
            try Double.fetchOne(db, sql: "SELECT min(max(due_at, ifnull(claimed_until, 0))) FROM push_outbox")
        }
        return next.map(Date.init(timeIntervalSince1970:))
    }

    /// The outbox row in `row` (claimed by ``claimPushes(limit:lease:now:)``); nil for a row this
    /// version cannot read, which stays in the table for the version that wrote it.
    private static func claimed(_ row: Row) -> ClaimedOutboxItem? {
        guard let target = OutboxItem.Target(stored: row["target"]),
            let kind = OutboxItem.Kind(rawValue: row["kind"]),
            let data = JSONNode.parse(Data((row["data"] as String).utf8))
        else { return nil }
        return ClaimedOutboxItem(
            id: row["id"], generation: row["generation"],
            push: OutboxItem(oauthId: row["oauth_id"], target: target, kind: kind, key: row["item_key"], data: data),
            attempts: row["attempts"])
    }

    public func contents() async throws -> StoreContents {
        var contents = StoreContents()
        let (stored, glances, settings) = try await pool.read { db in
            (
                try Row.fetchAll(db, sql: "SELECT * FROM installation ORDER BY installed_at, oauth_id").map(
                    Self.stored),
                try Row.fetchAll(
                    db, sql: "SELECT key, oauth_id, room_id, data FROM glance_data ORDER BY key, oauth_id, room_id"),
                try Row.fetchAll(db, sql: "SELECT oauth_id, room_id, data FROM setting ORDER BY oauth_id, room_id")
            )
        }
        contents.installations = try stored.map(unseal)
        contents.glanceData = glances.compactMap { row in
            JSONNode.parse(Data((row["data"] as String).utf8)).map {
                StoreContents.GlanceRecord(
                    key: row["key"], scope: GlanceDataScope(installation: row["oauth_id"], room: row["room_id"]),
                    data: $0)
            }
        }
        contents.settings = settings.compactMap { row in
            JSONNode.parse(Data((row["data"] as String).utf8))?.dictionaryValue.map {
                StoreContents.SettingsRecord(oauthId: row["oauth_id"], room: row["room_id"], values: $0)
            }
        }
        return contents
    }

    public func restore(_ contents: StoreContents) async throws {
        let sealed = try contents.installations.map { try secrets.seal($0.oauthSecret, boundTo: $0.oauthId) }
        try await cachedWrite { db in
            let rows = try Int.fetchOne(
                db,
                sql:
                    "SELECT (SELECT count(*) FROM installation) + (SELECT count(*) FROM glance_data) + (SELECT count(*) FROM setting)"
            )
            guard rows == 0 else { throw StoreNotEmptyError() }
            let now = Date().timeIntervalSince1970
            for (installation, secret) in zip(contents.installations, sealed) {
                try db.execute(
                    sql: """
                        INSERT INTO installation (oauth_id, oauth_secret, capabilities_url, group_id, room_id, api_url, token_url, installed_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        installation.oauthId, secret, installation.capabilitiesUrl, installation.groupId,
                        installation.roomId, installation.apiUrl, installation.tokenUrl,
                        installation.installedAt.timeIntervalSince1970, installation.updatedAt.timeIntervalSince1970,
                    ])
            }
            for record in contents.glanceData {
                try db.execute(
                    sql: "INSERT INTO glance_data (key, oauth_id, room_id, data, updated_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [
                        record.key, record.scope.installation, record.scope.room, record.data.jsonString, now,
                    ])
            }
            for record in contents.settings {
                try db.execute(
                    sql: "INSERT INTO setting (oauth_id, room_id, data, updated_at) VALUES (?, ?, ?, ?)",
                    arguments: [record.oauthId, record.room, JSONNode.object(record.values).jsonString, now])
            }
        }
    }

    /// Re-encrypts every stored secret, and the key check, under `newSecrets`, in one
    /// transaction: the store is either all under the old key or all under the new one. Returns
    /// how many installations it re-encrypted. This store keeps the old key: close it, and open
    /// the file again with the new one.
    public func rotateKey(to newSecrets: SecretBox) async throws -> Int {
        let secrets = self.secrets
        let count = try await cachedWrite { db -> Int in
            let rows = try Row.fetchAll(db, sql: "SELECT oauth_id, oauth_secret FROM installation")
            for row in rows {
                let oauthId: String = row["oauth_id"]
                let plaintext = try secrets.open(row["oauth_secret"], boundTo: oauthId)
                try db.execute(
                    sql: "UPDATE installation SET oauth_secret = ? WHERE oauth_id = ?",
                    arguments: [try newSecrets.seal(plaintext, boundTo: oauthId), oauthId])
            }
            try db.execute(
                sql: "UPDATE secret_key_check SET value = ?",
                arguments: [try newSecrets.seal(Self.keyCheckValue, boundTo: Self.keyCheckContext)])
            return rows.count
        }
        // The old ciphertext leaves the WAL at once (secure_delete clears it from the file's pages).
        try await pool.writeWithoutTransaction { db in _ = try Row.fetchAll(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
        return count
    }

    /// The journal mode and synchronous level in force, for checking durability settings.
    func pragmas() async throws -> (journalMode: String, synchronous: Int) {
        try await pool.read { db in
            (
                try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "",
                try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
            )
        }
    }

    /// Closes SQLite's connections, then the store's own descriptor of the file: only once
    /// SQLite holds no lock there may it go. A second call does nothing (a caller may close
    /// again after a close that threw: the descriptor's number may be another file's by then).
    public func close() async throws {
        guard
            closing.withLock({ closing in
                defer { closing = true }
                return !closing
            })
        else { return }
        commits.close()
        try pool.close()
        _ = Glibc.close(fileDescriptor)
    }

    /// The installation in `row` as stored: `oauthSecret` still sealed, for ``unseal(_:)``,
    /// which decrypts outside the database's queue (no connection is needed for it).
    private static func stored(_ row: Row) -> Installation {
        Installation(
            oauthId: row["oauth_id"],
            oauthSecret: row["oauth_secret"],
            capabilitiesUrl: row["capabilities_url"],
            groupId: row["group_id"],
            roomId: row["room_id"],
            apiUrl: row["api_url"],
            tokenUrl: row["token_url"],
            installedAt: Date(timeIntervalSince1970: row["installed_at"]),
            updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
    }

    private func unseal(_ stored: Installation) throws -> Installation {
        var installation = stored
        installation.oauthSecret = try secrets.open(stored.oauthSecret, boundTo: stored.oauthId)
        return installation
    }
}

enum SQLiteStoreError: Error, CustomStringConvertible {
    case cannotOpen(String, Int32)

    var description: String {
        switch self {
        case .cannotOpen(let path, let code): "cannot open \(path): \(String(cString: strerror(code)))"
        }
    }
}

extension SQLiteStore {
    /// What to name where a data folder is asked for.
    static let dataFolderHint = "name the data folder `hipkit serve` keeps (--data, or .hipkit/ beside dist/)"

    /// The error for a data folder with no store where one must be (to copy from, to re-encrypt),
    /// with what that means, if anything, after a semicolon.
    static func noStore(in folder: URL, _ consequence: String? = nil) -> HipKitError {
        HipKitError(
            "\(ProjectLoader.displayPath(folder)) holds no hipkit.sqlite" + (consequence.map { "; " + $0 } ?? ""),
            hint: dataFolderHint)
    }
}
