import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// What the SQLite store answers on every JWT-checked request — an installation by its
/// oauthId, a glance's data — kept in memory, so that a glance query is not a database read (a
/// hop to GRDB's reader queue, a statement, a decryption) each time.
///
/// Every write through the store empties it at once, so within one server a change (an
/// uninstall, a glance update) is seen by the very next request. A write by anything else on
/// the same file — another store on it, another process (`hipkit copy-store`, `rotate-key`, a
/// second server started on the folder by mistake) — is seen by the next read too: every
/// lookup is made at the file's ``SQLiteCommits/current()`` version, and entries kept at
/// another version are dropped.
///
/// A read that raced a write must not put the old value back after the write emptied the
/// cache: a lookup that finds nothing hands out a ticket, the caller reads the database only
/// after that, and its value is kept only if the cache was not emptied since.
final class StoreReadCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private static var limit: Int { 10_000 }

    enum Lookup {
        /// The kept value (which may be a kept "nothing").
        case kept(Value)
        /// Nothing kept: read the database, then ``store(_:for:ticket:)`` what it said.
        case missing(ticket: Int)
    }

    private struct State {
        /// The version of the file the entries were read at; nil before the first lookup.
        var version: Int64?
        var epoch = 0
        var entries: [Key: Value] = [:]
    }

    private let state = Mutex(State())

    /// The value kept for `key`, when what is kept was read at `version` of the file (which the
    /// caller has just taken from ``SQLiteCommits``).
    ///
    /// Why this is sound: entries are kept under one version label, and the label is only ever
    /// set by a lookup that saw that version, so every commit that made it was in before the
    /// label was set; a ticket is handed out under the label, and the read it covers starts
    /// after, so it sees at least those commits. A lookup at another version (a commit since,
    /// or a caller that looked a moment earlier) empties the cache and takes its version as
    /// the label: at worst a value is read again.
    func lookup(_ key: Key, at version: Int64) -> Lookup {
        state.withLock { state in
            if state.version != version {
                state.version = version
                state.epoch += 1
                state.entries.removeAll()
            }
            if let value = state.entries[key] { return .kept(value) }
            return .missing(ticket: state.epoch)
        }
    }

    func store(_ value: Value, for key: Key, ticket: Int) {
        state.withLock { state in
            guard state.epoch == ticket else { return }
            if state.entries.count >= Self.limit { state.entries.removeAll() }
            state.entries[key] = value
        }
    }

    /// A write happened: nothing kept is trusted any more.
    func invalidate() {
        state.withLock { state in
            state.epoch += 1
            state.entries.removeAll()
        }
    }
}

/// The commit version of a SQLite file, as one connection of its own sees it: SQLite's
/// `PRAGMA data_version`, which changes whenever any other connection — in this process or
/// another — has committed to the file since the last look.
///
/// A connection of its own, and not one of the pool's, because the value is per connection and
/// must come from the same one every time. Asked through SQLite's C API under a lock, not
/// through a GRDB queue: a `DispatchQueue.sync` per look, with the event loop threads taking
/// turns on it, cost more than the reads the cache saves.
final class SQLiteCommits: Sendable {
    private final class Connection {
        let db: OpaquePointer
        let statement: OpaquePointer

        init(db: OpaquePointer, statement: OpaquePointer) {
            self.db = db
            self.statement = statement
        }

        deinit {
            sqlite3_finalize(statement)
            sqlite3_close_v2(db)
        }
    }

    private let connection: Mutex<Connection?>

    init(path: String) throws {
        var db: OpaquePointer?
        var code = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let db else {
            sqlite3_close_v2(db)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "cannot open \(path)")
        }
        // As the pool's connections wait for a lock held by a writer elsewhere.
        sqlite3_busy_timeout(db, 5000)
        var statement: OpaquePointer?
        code = sqlite3_prepare_v3(db, "PRAGMA data_version", -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else {
            let message = String(cString: sqlite3_errmsg(db))
            sqlite3_close_v2(db)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
        }
        connection = Mutex(Connection(db: db, statement: statement))
    }

    func current() throws -> Int64 {
        let result: Result<Int64, DatabaseError> = connection.withLock { connection in
            guard let connection else { return .failure(DatabaseError(message: "the store is closed")) }
            defer { sqlite3_reset(connection.statement) }
            let code = sqlite3_step(connection.statement)
            guard code == SQLITE_ROW else {
                return .failure(
                    DatabaseError(
                        resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection.db)))
                )
            }
            return .success(sqlite3_column_int64(connection.statement, 0))
        }
        return try result.get()
    }

    func close() {
        connection.withLock { $0 = nil }
    }
}
