import Foundation
import HipChatConnect

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Checks that the data folder is private to its owner.
///
/// The server creates the folder 0700 and the database 0600, but a folder made by hand, a
/// restored backup or a `chmod -R` can open them up. Secrets are encrypted, yet whoever can
/// write the database can delete installations or plant glance data, and whoever can read the
/// folder may read `secret.key` with it. So the server says so at start — a warning, not a
/// refusal, because some deployments share a group with a backup user on purpose.
public enum DataFolderPermissions {
    /// One sentence per path (the folder, `hipkit.sqlite` and its `-wal`/`-shm` files) that
    /// group or others may read or write.
    public static func warnings(dataDirectory: URL, databaseFile: URL) -> [String] {
        var out: [String] = []
        let paths = [dataDirectory.path, databaseFile.path, databaseFile.path + "-wal", databaseFile.path + "-shm"]
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            let mode = info.st_mode & 0o777
            guard mode & 0o066 != 0 else { continue }
            let isFolder = info.st_mode & mode_t(S_IFMT) == mode_t(S_IFDIR)
            out.append(
                "\(path) is \(mode & 0o060 != 0 ? "open to its group" : "open to others")"
                    + "\(mode & 0o006 != 0 && mode & 0o060 != 0 ? " and others" : "") (mode \(String(mode, radix: 8))); "
                    + "it holds the installations\(isFolder ? " and may hold the secrets' key" : ""): run `chmod \(isFolder ? "700" : "600") \(path)`"
            )
        }
        return out
    }
}
