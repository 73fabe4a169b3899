import GRDB
import GRDBSQLite
import Synchronization

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
    /// Milliseconds ``current()`` waits for a lock held elsewhere.
    private static let busyTimeout: Int32 = 5000

    init(path: String) throws {
        var db: OpaquePointer?
        var code = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let db else {
            sqlite3_close_v2(db)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "cannot open \(path)")
        }
        // As the pool's connections wait for a lock held by a writer elsewhere.
        sqlite3_busy_timeout(db, Self.busyTimeout)
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
            return Self.step(connection)
        }
        return try result.get()
    }

    /// ``current()`` when it can be had at once: nil when another thread is asking, or SQLite
    /// would have to wait for a lock (recovery after a crash, a writer holding the file
    /// exclusively), which ``current()`` waits up to five seconds for.
    func currentWithoutWaiting() -> Int64? {
        let result = connection.withLockIfAvailable { connection -> Result<Int64, DatabaseError>? in
            guard let connection else { return nil }
            sqlite3_busy_timeout(connection.db, 0)
            defer { sqlite3_busy_timeout(connection.db, Self.busyTimeout) }
            return Self.step(connection)
        }
        return try? result??.get()
    }

    /// One look at `data_version` on `connection`, whose lock the caller holds.
    private static func step(_ connection: Connection) -> Result<Int64, DatabaseError> {
        defer { sqlite3_reset(connection.statement) }
        let code = sqlite3_step(connection.statement)
        guard code == SQLITE_ROW else {
            return .failure(
                DatabaseError(
                    resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection.db))))
        }
        return .success(sqlite3_column_int64(connection.statement, 0))
    }

    func close() {
        connection.withLock { $0 = nil }
    }
}
