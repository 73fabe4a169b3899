import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// The commit version of a SQLite file: a number that changes whenever any connection — in
/// this process or another — has committed to the file since the last look.
///
/// It is made from SQLite's `PRAGMA data_version`, which changes when any *other* connection
/// has committed since that connection's last look. The value is per connection, so the looks
/// go to connections kept for them, none of the pool's. Every JWT-checked request on the event
/// loop makes one, and a look (a read transaction begun and ended, with SQLite's file locks)
/// takes a few microseconds: with one connection, the event-loop threads took turns on its
/// lock, and spent a tenth of their time waiting for it. So there are several, one per core
/// and one more; a look takes the calling thread's own when it is free, else any free one.
///
/// What they see is made one number, the epoch: a look that finds its connection's
/// `data_version` changed adds one. A commit by another process is so counted by each
/// connection at its next look (a value kept at the version is then read again, at worst once
/// per connection). A commit of this process's own store is taken in by every connection at
/// once (``takeInCommit()``), and counted once, as one connection would.
///
/// A connection's lock is held only for a look that does not wait (SQLite's busy timeout is 0
/// on these connections): a look that finds the file locked (a writer holding it exclusively,
/// recovery after another process's crash) lets go, and ``current()`` tries again.
/// ``currentWithoutWaiting()``, which the event loop asks, waits for nothing: not for SQLite,
/// and not for a connection another look holds.
///
/// Most asks need no look at all: while the WAL index's change counter (``WALIndexHeader``)
/// reads as it did before the last look, nothing was committed since, and that look's version
/// stands. A look takes SQLite's shared-memory lock, which the event-loop threads contended
/// for (two `fcntl` calls and a futex wait or wake per JWT-checked query); the counter is read
/// from memory.
final class SQLiteCommits: Sendable {
    /// Used only with its slot's lock held (unchecked: several are held at once in
    /// ``takeInCommit()``, which the compiler cannot follow).
    private final class Connection: @unchecked Sendable {
        let db: OpaquePointer
        let statement: OpaquePointer
        /// `data_version` at this connection's last look.
        var seen: Int64 = 0

        init(db: OpaquePointer, statement: OpaquePointer) {
            self.db = db
            self.statement = statement
        }

        deinit {
            sqlite3_finalize(statement)
            sqlite3_close_v2(db)
        }
    }

    /// A connection behind its lock (a `Mutex` cannot be an array's element itself).
    private final class Slot: Sendable {
        let connection: Mutex<Connection?>

        init(_ connection: Connection) {
            self.connection = Mutex(connection)
        }
    }

    private let connections: [Slot]
    /// The version handed out: one more for every change a connection's look has found.
    private let epoch = Atomic<Int64>(0)
    /// The WAL index's change counter as read before a look that then handed out the current
    /// epoch; `noCounter` when none is known. While the counter still reads so, the epoch stands.
    private let counterBeforeLook = Atomic<UInt64>(noCounter)
    private static let noCounter = UInt64.max
    /// Reads the counter; nil when the file is not in WAL mode or its index cannot be read so.
    /// Its mapping belongs to `anchor`, a connection kept open until this object goes, so
    /// that it outlives every ask, ``close()`` included.
    private let header: WALIndexHeader?
    private let anchor: Connection?
    /// How many looks were made (steps of `PRAGMA data_version`), for tests and diagnostics.
    let looks = Atomic<Int>(0)
    /// How long ``current()`` tries again while the file is locked.
    private static let busyTimeout: Duration = .seconds(5)

    /// Opens `count` connections on the file at `path`; by default one per core (as many as
    /// event-loop threads) and one more. Each looks once here, so that every later look counts
    /// only what was committed after: a cache is empty until the store is open.
    init(path: String, count: Int = min(ProcessInfo.processInfo.activeProcessorCount, 8) + 1) throws {
        connections = try (0..<max(count, 1)).map { _ in Slot(try Self.open(path)) }
        let anchor = try Self.open(path)
        header = WALIndexHeader(anchor.db)
        self.anchor = header == nil ? nil : anchor
    }

    private static func open(_ path: String) throws -> Connection {
        var db: OpaquePointer?
        var code = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let db else {
            sqlite3_close_v2(db)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "cannot open \(path)")
        }
        var statement: OpaquePointer?
        code = sqlite3_prepare_v3(db, "PRAGMA data_version", -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else {
            let message = String(cString: sqlite3_errmsg(db))
            sqlite3_close_v2(db)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
        }
        sqlite3_busy_timeout(db, 0)
        let connection = Connection(db: db, statement: statement)
        connection.seen = try retryingWhileLocked { step(connection) }
        return connection
    }

    /// What `look` gives, tried again while the file is locked, up to five seconds (as the
    /// pool's connections wait for a lock held by a writer elsewhere).
    private static func retryingWhileLocked(_ look: () -> Result<Int64, DatabaseError>) throws -> Int64 {
        let deadline = ContinuousClock.now + busyTimeout
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

    /// The version, waiting while the file is locked (``retryingWhileLocked(_:)``) and for a
    /// connection when every one is in another look.
    func current() throws -> Int64 {
        let counter = header?.changeCounter()
        if let version = standing(counter) { return version }
        let version = try Self.retryingWhileLocked {
            lookOnAFreeConnection(rounds: 1) ?? connections[ownConnection].connection.withLock { look(on: $0) }
        }
        looked(after: counter)
        return version
    }

    /// ``current()`` when it can be had at once: nil when SQLite would have to wait for a lock,
    /// which ``current()`` waits for, or when every connection is in another look. Never
    /// waits, so the event loop may ask.
    func currentWithoutWaiting() -> Int64? {
        let counter = header?.changeCounter()
        if let version = standing(counter) { return version }
        // Twice round: a connection is held for one look, a few microseconds.
        guard let version = try? lookOnAFreeConnection(rounds: 2)?.get() else { return nil }
        looked(after: counter)
        return version
    }

    /// The epoch, when `counter` (just read) is what it was before the look that handed it out:
    /// nothing has been committed since that look began.
    private func standing(_ counter: UInt32?) -> Int64? {
        guard let counter, counterBeforeLook.load(ordering: .acquiring) == UInt64(counter) else { return nil }
        return epoch.load(ordering: .sequentiallyConsistent)
    }

    /// A look that began after the counter read `counter` has handed out the epoch. (Two looks
    /// racing may leave the older counter: a later ask then looks again, which is only slower.)
    private func looked(after counter: UInt32?) {
        guard let counter else { return }
        counterBeforeLook.store(UInt64(counter), ordering: .releasing)
    }

    /// A look on the calling thread's own connection when it is free, else on the first free
    /// one after it, going `rounds` times round; nil when none was free.
    private func lookOnAFreeConnection(rounds: Int) -> Result<Int64, DatabaseError>? {
        let own = ownConnection
        for offset in 0..<(rounds * connections.count) {
            let slot = connections[(own + offset) % connections.count]
            if let result = slot.connection.withLockIfAvailable({ look(on: $0) }) { return result }
        }
        return nil
    }

    /// A look on connection `index` alone, nil when it is in another look or the file is
    /// locked: for tests that must reach every connection, which ``currentWithoutWaiting()``
    /// picks by the calling thread.
    func currentWithoutWaiting(onConnection index: Int) -> Int64? {
        connections[index].connection.withLockIfAvailable { look(on: $0) }.flatMap { try? $0.get() }
    }

    /// How many connections look.
    var connectionCount: Int { connections.count }

    /// Whether asks are answered from the WAL index's counter while nothing is committed.
    var readsTheChangeCounter: Bool { header != nil }

    /// After a commit through this process's own connections: every connection looks at once,
    /// with all of them held, and the version changes once if anything was committed. Without
    /// this each connection would count the commit at its next look, and the caches kept at the
    /// version would be emptied once per connection instead of once per write.
    ///
    /// All are held so that no look comes between two of them: such a look could find nothing
    /// new on a connection that has just taken in another process's commit, and answer the
    /// version under which values read before that commit are kept. A connection SQLite cannot
    /// look on at once (the file locked elsewhere) is left to count the commit at its next look.
    func takeInCommit() {
        holdingEvery { held in
            var changed = false
            for connection in held {
                if case .success(let version) = Self.step(connection), version != connection.seen {
                    connection.seen = version
                    changed = true
                }
            }
            // A write that changed nothing (an UPDATE of no rows) commits nothing SQLite counts.
            if changed { epoch.add(1, ordering: .sequentiallyConsistent) }
        }
    }

    /// `body` with the lock of every open connection held, taken in order (a look holds one).
    private func holdingEvery(from index: Int = 0, _ held: [Connection] = [], _ body: ([Connection]) -> Void) {
        guard index < connections.count else { return body(held) }
        connections[index].connection.withLock { connection in
            holdingEvery(from: index + 1, connection.map { held + [$0] } ?? held, body)
        }
    }

    /// The connection the calling thread tries first: spread over threads by a hash of the
    /// thread's identity, so that the event-loop threads usually each have one.
    private var ownConnection: Int {
        Int((UInt(pthread_self()) &* 0x9E37_79B9_7F4A_7C15) >> 33) % connections.count
    }

    /// A look on `connection`, whose lock the caller holds.
    private func look(on connection: Connection?) -> Result<Int64, DatabaseError> {
        guard let connection else { return .failure(DatabaseError(message: "the store is closed")) }
        looks.add(1, ordering: .relaxed)
        return Self.step(connection).map { version in
            if version != connection.seen {
                connection.seen = version
                // Ordered with the step: a look that starts after this one ends sees the count.
                epoch.add(1, ordering: .sequentiallyConsistent)
            }
            return epoch.load(ordering: .sequentiallyConsistent)
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
        // The counter is not read again: the epoch stands no more.
        counterBeforeLook.store(Self.noCounter, ordering: .sequentiallyConsistent)
        for slot in connections { slot.connection.withLock { $0 = nil } }
    }
}

/// The header of a WAL database's index (its `-shm` file), as SQLite's own connection has it
/// mapped, read without a lock: for its change counter, which every commit to the file, by any
/// process, increases.
///
/// Read as SQLite's readers read it before they take a lock (`walIndexTryHdr`): the header is
/// kept twice, a writer writes the second copy, then the first; a reader reads the first, then
/// the second, and trusts them only if they are the same. The layout is SQLite's documented
/// WAL-index format (sqlite.org/walformat.html), unchanged since 3.7.0; a header of another
/// version, not initialised, or caught mid-write gives nil, and the caller looks instead.
///
/// The mapping is the one SQLite made for `db` (`xShmMap` of region 0 through the file's own
/// methods): no other descriptor is opened on the `-shm` file, since closing one would drop
/// the process's POSIX locks on it, SQLite's own among them.
final class WALIndexHeader: @unchecked Sendable {
    /// `WALINDEX_MAX_VERSION`, the format this reads.
    private static let version: UInt32 = 3_007_000
    /// One copy of `WalIndexHdr`: 48 bytes, the counter at byte 8, `isInit` at 12.
    private static let copySize = 48
    /// For ordering the two copies' reads (an acquiring load keeps the second from moving
    /// before the first).
    private static let order = Atomic<Int>(0)
    private let base: UnsafeRawPointer

    /// The header `db` (open on a WAL database, and kept open while this is read) maps; nil
    /// when there is none.
    init?(_ db: OpaquePointer) {
        var file: UnsafeMutablePointer<sqlite3_file>?
        guard sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) == SQLITE_OK, let file,
            let methods = file.pointee.pMethods, methods.pointee.iVersion >= 2, let map = methods.pointee.xShmMap
        else { return nil }
        var region: UnsafeMutableRawPointer?
        // Region 0 (32 KiB, SQLite's size): mapped already when the file is in WAL mode and was
        // read, as every connection here was when it opened; not made otherwise.
        let code = withUnsafeMutablePointer(to: &region) { pointer in
            pointer.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 1) { map(file, 0, 32_768, 0, $0) }
        }
        guard code == SQLITE_OK, let region else { return nil }
        base = UnsafeRawPointer(region)
        guard changeCounter() != nil else { return nil }
    }

    /// The change counter, when both copies agree on an initialised header of the known format.
    func changeCounter() -> UInt32? {
        var first = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var second = first
        withUnsafeMutableBytes(of: &first) {
            $0.copyMemory(from: UnsafeRawBufferPointer(start: base, count: Self.copySize))
        }
        _ = Self.order.load(ordering: .acquiring)
        withUnsafeMutableBytes(of: &second) {
            $0.copyMemory(from: UnsafeRawBufferPointer(start: base + Self.copySize, count: Self.copySize))
        }
        guard first == second else { return nil }
        return withUnsafeBytes(of: first) { bytes in
            guard bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self) == Self.version,
                bytes[12] == 1
            else { return nil }
            return bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        }
    }
}
