import Foundation
import HipKit

/// `hipkit.lock` in a SQLite data folder: every server running on the folder holds it shared,
/// and `hipkit rotate-key` and `hipkit copy-store` hold it alone while they work.
///
/// Why: a server keeps the store's key in memory. A rotation under a running server left it
/// unable to open any secret (every JWT-checked request answered 500 until a restart), and a
/// copy taken while one runs can miss what it writes meanwhile. Servers share the lock, so two
/// started for a restart without a gap still both start. The kernel drops a `flock` when its
/// holder dies, so a `kill -9` leaves no stale lock behind.
public final class DataFolderLock: Sendable {
    static let fileName = "hipkit.lock"

    private let descriptor: Int32

    private init(_ descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        _ = Glibc.close(descriptor)
    }

    /// The lock shared, for a server; throws when a rotation or copy holds it.
    static func forServer(in folder: URL) throws -> DataFolderLock {
        try take(folder, LOCK_SH) {
            HipKitError(
                "\(ProjectLoader.displayPath(folder)) is being worked on by hipkit rotate-key or copy-store",
                hint: "start the server once it has finished")
        }
    }

    /// The lock alone, for `what` (`rotate-key`, `copy-store`); throws when a server runs on
    /// the folder.
    static func alone(in folder: URL, for what: String) throws -> DataFolderLock {
        try take(folder, LOCK_EX) {
            HipKitError(
                "a hipkit server (serve or dev) is running on \(ProjectLoader.displayPath(folder)); \(what) changed nothing",
                hint: "stop it first, and start it again after \(what)")
        }
    }

    /// `dev.lock` in a project's `.hipkit/`, held alone by the `hipkit dev` running on the
    /// project, which writes `address` (where it serves) into it: a second one would rebuild
    /// the same output for another address, under the first one's server and local HipChat.
    public static func forDev(in folder: URL, address: String) throws -> DataFolderLock {
        let lock = try take(folder, LOCK_EX, file: "dev.lock") {
            let running = (try? String(contentsOf: folder.appendingPathComponent("dev.lock"), encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return HipKitError(
                "another hipkit dev runs on this project\(running.map { $0.isEmpty ? "" : ", at \($0)" } ?? "")",
                hint: "use that one, or stop it first: two would rebuild the same output for two addresses")
        }
        _ = ftruncate(lock.descriptor, 0)
        _ = address.utf8CString.withUnsafeBufferPointer { pwrite(lock.descriptor, $0.baseAddress, $0.count - 1, 0) }
        return lock
    }

    private static func take(
        _ folder: URL, _ operation: Int32, file: String = fileName, busy: () -> HipKitError
    ) throws -> DataFolderLock {
        try FileManager.default.createDirectory(
            at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = folder.appendingPathComponent(file).path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw HipKitError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        var result: Int32
        repeat { result = flock(descriptor, operation | LOCK_NB) } while result != 0 && errno == EINTR
        guard result == 0 else {
            let code = errno
            _ = Glibc.close(descriptor)
            if code == EWOULDBLOCK { throw busy() }
            throw HipKitError("cannot lock \(path): \(String(cString: strerror(code)))")
        }
        return DataFolderLock(descriptor)
    }
}
