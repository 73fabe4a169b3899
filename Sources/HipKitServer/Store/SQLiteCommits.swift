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
/// Most asks need no look at all: while the WAL index's header (``WALIndexHeader``: its change
/// counter and checksum) reads as it did before the last look, nothing was committed since, and
/// that look's version stands. A look takes SQLite's shared-memory lock, which the event-loop
/// threads contended for (two `fcntl` calls and a futex wait or wake per JWT-checked query);
/// the header is read from memory.
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
        /// Threads reading the WAL index header that tried this slot first, so that ``close()``
        /// waits for them before SQLite unmaps it. One count per slot, not one for all: each
        /// event-loop thread mostly has its own, and a count both moved at every ask would
        /// bounce between their caches.
        let readers = Atomic<Int>(0)

        init(_ connection: Connection) {
            self.connection = Mutex(connection)
        }
    }

    private let connections: [Slot]
    /// The version handed out: one more for every change a connection's look has found.
    private let epoch = Atomic<Int64>(0)
    /// The WAL index header's fingerprint as read before a look that then handed out the
    /// current epoch; `unknown` when none is. While the header still reads so, the epoch stands.
    private let fingerprintBeforeLook = Atomic<UInt64>(unknown)
    private static let unknown = UInt64.max
    /// Reads the fingerprint; nil when the file is not in WAL mode or its index cannot be read
    /// so. Its mapping belongs to `anchor`, a connection of its own, closed last by ``close()``.
    private let header: WALIndexHeader?
    private let anchor: Slot?
    private let closed = Atomic<Bool>(false)
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
        header = Self.isWAL(anchor.db) ? WALIndexHeader(anchor.db) : nil
        self.anchor = header == nil ? nil : Slot(anchor)
    }

    /// Whether the file is in WAL mode (asked before its index is mapped: asking SQLite for
    /// the map of a file that is not would make it a `-shm` file).
    private static func isWAL(_ db: OpaquePointer) -> Bool {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &statement, nil) == SQLITE_OK, let statement else {
            return false
        }
        defer { sqlite3_finalize(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW, let mode = sqlite3_column_text(statement, 0) else { return false }
        return String(cString: mode).lowercased() == "wal"
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
        // A look that waits gives a version or throws, so there is always one.
        try unlessStanding {
            try Self.retryingWhileLocked {
                lookOnAFreeConnection(rounds: 1) ?? connections[ownConnection].connection.withLock { look(on: $0) }
            }
        }!
    }

    /// ``current()`` when it can be had at once: nil when SQLite would have to wait for a lock,
    /// which ``current()`` waits for, or when every connection is in another look. Never
    /// waits, so the event loop may ask.
    func currentWithoutWaiting() -> Int64? {
        // Twice round: a connection is held for one look, a few microseconds.
        unlessStanding { try? lookOnAFreeConnection(rounds: 2)?.get() }
    }

    /// The epoch while the WAL index header reads as it did before the last look that handed
    /// it out; else what `look` gives (nil: no version), the header's reading from before it
    /// then kept for the asks after.
    private func unlessStanding(_ look: () throws -> Int64?) rethrows -> Int64? {
        let fingerprint = self.fingerprint()
        if let version = standing(fingerprint) { return version }
        guard let version = try look() else { return nil }
        looked(after: fingerprint)
        return version
    }

    /// The WAL index header's fingerprint now; nil when there is none to read, or once closed.
    private func fingerprint() -> UInt64? {
        guard let header else { return nil }
        let slot = connections[ownConnection]
        // Counted in before `closed` is read, as close() sets `closed` before it reads the
        // counts: either this sees it closed, or close() waits for this read.
        slot.readers.add(1, ordering: .sequentiallyConsistent)
        defer { slot.readers.subtract(1, ordering: .sequentiallyConsistent) }
        guard !closed.load(ordering: .sequentiallyConsistent) else { return nil }
        return header.fingerprint { slot.readers.add(0, ordering: .sequentiallyConsistent) }
    }

    /// The epoch, when `fingerprint` (just read) is what it was before the look that handed it
    /// out: nothing has been committed since that look began.
    private func standing(_ fingerprint: UInt64?) -> Int64? {
        guard let fingerprint, fingerprint != Self.unknown,
            fingerprintBeforeLook.load(ordering: .acquiring) == fingerprint
        else { return nil }
        return epoch.load(ordering: .sequentiallyConsistent)
    }

    /// A look that began after the header read `fingerprint` has handed out the epoch. (Two
    /// looks racing may leave the older one: a later ask then looks again, which is only slower.)
    private func looked(after fingerprint: UInt64?) {
        guard let fingerprint else { return }
        fingerprintBeforeLook.store(fingerprint, ordering: .releasing)
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

    /// Whether asks are answered from the WAL index header while nothing is committed.
    var readsTheWALIndex: Bool { header != nil }

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

    /// Closes every connection, the anchor last, once no thread reads the header it maps. The
    /// file is then left to the store's own connections: the last of them to close checkpoints
    /// the WAL into the file and removes it.
    func close() {
        closed.store(true, ordering: .sequentiallyConsistent)
        for slot in connections {
            while slot.readers.load(ordering: .sequentiallyConsistent) != 0 { sched_yield() }
        }
        for slot in connections { slot.connection.withLock { $0 = nil } }
        anchor?.connection.withLock { $0 = nil }
    }
}

/// The header of a WAL database's index (its `-shm` file), as SQLite's own connection has it
/// mapped, read without a lock: for a fingerprint of it — the change counter, which every
/// commit increases, and the header's checksum, which also changes when a recovery after a
/// crash writes the header anew with the counter from zero.
///
/// Read as SQLite's readers read it before they take a lock (`walIndexTryHdr`): the header is
/// kept twice, a writer writes the second copy, then the first; a reader reads the first, then
/// the second, and trusts them only if they are the same. The layout is SQLite's documented
/// WAL-index format (sqlite.org/walformat.html), unchanged since 3.7.0; a header of another
/// version, not initialised, or caught mid-write gives nil, and the caller looks instead.
///
/// The mapping is the one SQLite made for `db` (`xShmMap` of region 0 through the file's own
/// methods): no other descriptor is opened on the `-shm` file, since closing one would drop
/// the process's POSIX locks on it, SQLite's own among them. It stays while `db` is open.
final class WALIndexHeader: @unchecked Sendable {
    /// `WALINDEX_MAX_VERSION`, the format this reads.
    private static let version: UInt32 = 3_007_000
    /// One copy of `WalIndexHdr`: 48 bytes; `iChange` at byte 8, `isInit` at 12, `aCksum` at 40.
    private static let copySize = 48
    private let base: UnsafeRawPointer

    /// The header `db` (open on a WAL database it has read, and kept open while this is read)
    /// maps; nil when there is none, or it does not read as a known, initialised header.
    init?(_ db: OpaquePointer) {
        var file: UnsafeMutablePointer<sqlite3_file>?
        guard sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &file) == SQLITE_OK, let file,
            let methods = file.pointee.pMethods, methods.pointee.iVersion >= 2, let map = methods.pointee.xShmMap
        else { return nil }
        var region: UnsafeMutableRawPointer?
        // Region 0 (32 KiB, SQLite's size), mapped when the connection first read the file.
        let code = withUnsafeMutablePointer(to: &region) { pointer in
            pointer.withMemoryRebound(to: UnsafeMutableRawPointer?.self, capacity: 1) { map(file, 0, 32_768, 0, $0) }
        }
        guard code == SQLITE_OK, let region else { return nil }
        base = UnsafeRawPointer(region)
        // A writer mid-header gives nil for the moment it takes.
        guard (0..<100).contains(where: { _ in fingerprint {} != nil }) else { return nil }
    }

    /// The change counter (high half) and the second checksum word (low half), when both copies
    /// agree on an initialised header of the known format. `barrier` runs between the two
    /// copies' reads and must keep them in that order (a sequentially consistent atomic).
    func fingerprint(_ barrier: () -> Void) -> UInt64? {
        var first = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var second = first
        withUnsafeMutableBytes(of: &first) {
            $0.copyMemory(from: UnsafeRawBufferPointer(start: base, count: Self.copySize))
        }
        barrier()
        withUnsafeMutableBytes(of: &second) {
            $0.copyMemory(from: UnsafeRawBufferPointer(start: base + Self.copySize, count: Self.copySize))
        }
        guard first == second else { return nil }
        return withUnsafeBytes(of: first) { bytes in
            guard bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self) == Self.version, bytes[12] == 1 else {
                return nil
            }
            let counter = UInt64(bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            return counter << 32 | UInt64(bytes.loadUnaligned(fromByteOffset: 44, as: UInt32.self))
        }
    }
}
