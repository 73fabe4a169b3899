import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What `stat(2)` says of a file, read the same way everywhere: the modification time's field
/// is `st_mtim` on Linux and `st_mtimespec` elsewhere, and that difference is kept here.
///
/// The build's up-to-date check and the server's change detection compare these values, so
/// they keep the time to the nanosecond and the device and inode that tell a file replaced by
/// a rename from one rewritten in place.
public struct FileStat: Sendable, Hashable {
    /// What kind of entry the path is. A link is only seen by ``read(_:followingLinks:)`` with
    /// `followingLinks: false`.
    public enum Kind: Sendable, Hashable {
        case file, directory, link, other
    }

    public var kind: Kind
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    /// The modification time: whole seconds since 1970, and nanoseconds within the second.
    public var modifiedSeconds: Int
    public var modifiedNanoseconds: Int

    public init(_ info: stat) {
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = .file
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .link
        default: kind = .other
        }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        #if os(Linux)
            let modified = info.st_mtim
        #else
            let modified = info.st_mtimespec
        #endif
        modifiedSeconds = Int(modified.tv_sec)
        modifiedNanoseconds = Int(modified.tv_nsec)
    }

    /// The file at `path`, or nil when there is none (or it cannot be looked at). Links are
    /// followed unless `followingLinks` is false (`lstat`), when they are reported as links.
    public static func read(_ path: String, followingLinks: Bool = true) -> FileStat? {
        var info = stat()
        let status = followingLinks ? stat(path, &info) : lstat(path, &info)
        return status == 0 ? FileStat(info) : nil
    }

    /// `realpath(3)`: `path` absolute, with every symbolic link resolved, or nil when it does
    /// not exist.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The modification time, to the second.
    public var modified: Date { Date(timeIntervalSince1970: TimeInterval(modifiedSeconds)) }
}
