import Foundation
import HipKit

/// A lock file in one of hipkit's folders, held with `flock`. `hipkit.lock` in a SQLite data
/// folder: every server running on the folder holds it shared, and `hipkit rotate-key` and
/// `hipkit copy-store` hold it alone while they work. `dev.lock` in a project's `.hipkit/`: the
/// one `hipkit dev` on the project holds it alone (``forDev(in:address:)``).
///
/// Why: a server keeps the store's key in memory. A rotation under a running server left it
/// unable to open any secret (every JWT-checked request answered 500 until a restart), and a
/// copy taken while one runs can miss what it writes meanwhile. Servers share the lock, so two
/// started for a restart without a gap still both start. The kernel drops a `flock` when its
/// holder dies, so a `kill -9` leaves no stale lock behind.
public final class FolderLock: Sendable {
    static let fileName = "hipkit.lock"

    private let descriptor: Int32

    private init(_ descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
    }

    /// The lock shared, for a server; throws when a rotation or copy holds it.
    static func forServer(in folder: URL) throws -> FolderLock {
        try take(folder, LOCK_SH) {
            HipKitError(
                "\(ProjectLoader.displayPath(folder)) is being worked on by hipkit rotate-key or copy-store",
                hint: "start the server once it has finished")
        }
    }

    /// The lock alone, for `what` (`rotate-key`, `copy-store`); throws when a server runs on
    /// the folder, or another of the two works on it.
    static func alone(in folder: URL, for what: String) throws -> FolderLock {
        try take(folder, LOCK_EX) {
            // Shared holders are servers; when even a shared lock is out of reach, another
            // rotate-key or copy-store holds it alone.
            let servers = (try? take(folder, LOCK_SH, busy: { HipKitError("") })) != nil
            return HipKitError(
                servers
                    ? "a hipkit server (serve or dev) is running on \(ProjectLoader.displayPath(folder)); \(what) changed nothing"
                    : "another hipkit rotate-key or copy-store is working on \(ProjectLoader.displayPath(folder)); \(what) changed nothing",
                hint: servers ? "stop it first, and start it again after \(what)" : "run \(what) once that has finished"
            )
        }
    }

    /// Whether no other server, rotate-key or copy-store holds the folder now: asked once, at
    /// once, by a server starting (it then takes ``forServer(in:)``).
    static func isFree(_ folder: URL) -> Bool {
        (try? take(folder, LOCK_EX, patience: 0, busy: { HipKitError("") })) != nil
    }

    /// `dev.lock` in a project's `.hipkit/`, held alone by the `hipkit dev` running on the
    /// project, which writes `address` (where it serves) into it: a second one would rebuild
    /// the output for another address under the first one's server, and share its local
    /// HipChat's state.
    public static func forDev(in folder: URL, address: String) throws -> FolderLock {
        let lock = try take(folder, LOCK_EX, file: "dev.lock", writable: true) {
            let running = (try? String(contentsOf: folder.appendingPathComponent("dev.lock"), encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return HipKitError(
                "another hipkit dev runs on this project\(running.map { $0.isEmpty ? "" : ", at \($0)" } ?? "")",
                hint: "use that one, or stop it first: they would share the project's local HipChat and its data")
        }
        if lock.descriptor >= 0 {
            _ = ftruncate(lock.descriptor, 0)
            _ = address.utf8CString.withUnsafeBufferPointer { pwrite(lock.descriptor, $0.baseAddress, $0.count - 1, 0) }
        }
        return lock
    }

    /// Takes `operation` on `file` in `folder`, never waiting. The file holds nothing secret,
    /// and is opened read-only unless `writable` (flock needs no write access): one made by
    /// another user (`sudo hipkit rotate-key`) stands in nobody's way. Where locks cannot be
    /// had at all (a read-only folder, NFS without lock support), there is none to respect,
    /// and none is held.
    private static func take(
        _ folder: URL, _ operation: Int32, file: String = fileName, writable: Bool = false, patience: Int = 50,
        busy: () -> HipKitError
    ) throws -> FolderLock {
        try? FileManager.default.createDirectory(
            at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = folder.appendingPathComponent(file).path
        var descriptor = open(path, (writable ? O_RDWR : O_RDONLY) | O_CREAT | O_CLOEXEC, 0o644)
        if descriptor < 0, errno == EACCES || errno == EROFS {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
        }
        guard descriptor >= 0 else { return FolderLock(-1) }
        // A server starting asks for the lock alone for a moment (whether it is the only one):
        // a holder that lets go within half a second is waited for, not taken for a rotation.
        var result: Int32
        var tries = 0
        while true {
            result = flock(descriptor, operation | LOCK_NB)
            if result == 0 || (errno != EINTR && (errno != EWOULDBLOCK || tries >= patience)) { break }
            if errno == EWOULDBLOCK {
                tries += 1
                usleep(10_000)
            }
        }
        guard result == 0 else {
            let code = errno
            _ = Glibc.close(descriptor)
            if code == EWOULDBLOCK { throw busy() }
            return FolderLock(-1)
        }
        return FolderLock(descriptor)
    }
}
