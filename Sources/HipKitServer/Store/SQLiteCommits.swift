import Foundation
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
///
/// The lock is held only for a look that does not wait (SQLite's busy timeout is 0 on this
/// connection): a look that finds the file locked (recovery after a crash, a writer holding it
/// exclusively) lets go and tries again. So the event loop threads wait their turn for the lock
/// (usually a microsecond or two; longer only while SQLite itself retries the start of a read, as
/// during another process's crash recovery) instead of giving up on it: when they gave up whenever the other was
/// looking, one JWT-checked glance query in seven under load took the slow path.
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
    /// How long ``current()`` tries again while the file is locked.
    private static let busyTimeout: Duration = .seconds(5)

    init(path: String) throws {
        var db: OpaquePointer?
        var code = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let db else {
            sqlite3_close_v2(db)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "cannot open \(path)")
        }
        sqlite3_busy_timeout(db, 0)
        var statement: OpaquePointer?
        code = sqlite3_prepare_v3(db, "PRAGMA data_version", -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else {
            let message = String(cString: sqlite3_errmsg(db))
            sqlite3_close_v2(db)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
        }
        connection = Mutex(Connection(db: db, statement: statement))
    }

    /// The version, waiting up to five seconds while the file is locked (as the pool's
    /// connections wait for a lock held by a writer elsewhere).
    func current() throws -> Int64 {
        let deadline = ContinuousClock.now + Self.busyTimeout
        var pause = Duration.microseconds(100)
        while true {
            switch look() {
            case .success(let version):
                return version
            case .failure(let error) where error.resultCode == .SQLITE_BUSY && ContinuousClock.now < deadline:
                Thread.sleep(forTimeInterval: pause / .seconds(1))
                pause = min(pause * 2, .milliseconds(50))
            case .failure(let error):
                throw error
            }
        }
    }

    /// ``current()`` when it can be had at once: nil when SQLite would have to wait for a lock,
    /// which ``current()`` waits for.
    func currentWithoutWaiting() -> Int64? {
        try? look().get()
    }

    private func look() -> Result<Int64, DatabaseError> {
        connection.withLock { connection in
            guard let connection else { return .failure(DatabaseError(message: "the store is closed")) }
            return Self.step(connection)
        }
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
