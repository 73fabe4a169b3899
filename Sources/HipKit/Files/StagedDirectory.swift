import Foundation
import HipChatConnect

#if canImport(Glibc)
    import Glibc
#endif

/// Replaces an output folder as one step: the new content is written to a staging folder beside
/// it, flushed to disk, and swapped in whole, so a build that fails or is killed midway leaves
/// the previous output exactly as it was.
/// A folder holding hipkit's own `_hipkit/runtime.json` beside the descriptor is taken for an
/// earlier build, safe to replace.
public enum StagedDirectory {
    /// Fills a fresh staging folder with `fill`, then puts it in place of `target`.
    ///
    /// Refuses to replace a non-empty folder that does not look like an earlier build, so a
    /// mistyped `--out` can never wipe a source folder.
    ///
    /// With `durable` (the default) the new files reach the disk before the swap, so even a
    /// power cut leaves the old or the new build. Without it the swap is still atomic for every
    /// reader, only not across a power cut: for `hipkit dev`, whose output is rebuilt from the
    /// project at every start, and where a flush of the whole file system on every save would
    /// cost more than the rest of the rebuild.
    public static func replace(_ target: URL, durable: Bool = true, fill: (URL) throws -> Void) throws {
        let target = try linkedFolder(target) ?? target
        let fm = FileManager.default
        let parent = target.deletingLastPathComponent()
        let name = target.lastPathComponent
        try checkReplaceable(target)
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw HipKitError("cannot create \(parent.path): \(error.localizedDescription)")
        }
        removeLeftovers(in: parent, of: name)
        let staging = parent.appendingPathComponent(".\(name).staging-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw HipKitError("cannot write in \(parent.path): \(error.localizedDescription)")
        }
        do {
            try fill(staging)
            // One flush of the whole file system instead of one per file: every file of the new
            // site is on disk before the swap makes it visible.
            if durable { syncFileSystem(of: staging) }
            try swap(staging, into: target)
            if durable { syncDirectory(parent) }
        } catch {
            try? fm.removeItem(at: staging)
            throw error
        }
    }

    /// Writes `data` to `url`, creating folders on the way. Inside ``replace(_:fill:)`` the
    /// staging folder is flushed whole before the swap; elsewhere pass `flush: true`.
    ///
    /// Plain `open`, `write` and `close`: the staging folder is what makes a build atomic, so
    /// each file needs no atomic write of its own. (Foundation's `createFile` writes through a
    /// temporary file and a rename, and checking the folder first costs a `stat` per level:
    /// together about three times the system calls per file.) The folder is made only when the
    /// first `open` says it is missing.
    public static func write(_ data: Data, to url: URL, flush: Bool = false) throws {
        try write(data, toPath: url.path, flush: flush)
    }

    /// ``write(_:to:flush:)`` to a path: a build writes thousands of files, and making a `URL`
    /// of each (and its path back) cost more than the `open`, `write` and `close`.
    public static func write(_ data: Data, toPath path: String, flush: Bool = false) throws {
        var fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        if fd < 0, errno == ENOENT, let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) {
            try FileManager.default.createDirectory(
                atPath: String(path[..<slash]), withIntermediateDirectories: true)
            fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        }
        guard fd >= 0 else { throw HipKitError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { Glibc.close(fd) }
        try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < bytes.count {
                let count = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw HipKitError("cannot write \(path): \(String(cString: strerror(errno)))")
                }
                offset += count
            }
        }
        if flush, fsync(fd) != 0 {
            throw HipKitError("cannot flush \(path) to disk: \(String(cString: strerror(errno)))")
        }
    }

    /// Links `source` to `url` (same file system, so no bytes are copied), or copies it.
    public static func link(_ source: URL, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if Glibc.link(source.path, url.path) != 0 {
            try FileManager.default.copyItem(at: source, to: url)
        }
    }

    /// The folder `target` leads to when it is a symbolic link (`dist` → `/srv/www/addon`): that
    /// folder is replaced and the link kept, where a swap would have put a folder in the link's
    /// place and left the folder it pointed to stale. Nil when `target` is no link.
    private static func linkedFolder(_ target: URL) throws -> URL? {
        guard FileStat.read(target.path, followingLinks: false)?.kind == .link else { return nil }
        guard let resolved = FileStat.realPath(target.path) else {
            throw HipKitError(
                "\(target.path) is a symbolic link to a folder that does not exist",
                hint: "create the folder it points to, or remove the link")
        }
        return URL(fileURLWithPath: resolved, isDirectory: true)
    }

    private static func checkReplaceable(_ target: URL) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: target.path, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else {
            throw HipKitError("\(target.path) exists and is not a folder", hint: "choose another --out")
        }
        if isMountPoint(target) { throw mountPointError(target) }
        let contents = (try? fm.contentsOfDirectory(atPath: target.path)) ?? []
        if !contents.isEmpty && !isEarlierBuild(target) {
            throw HipKitError(
                "refusing to replace \(target.path): it is not empty and is not an earlier hipkit build (it holds no \(RuntimeManifest.path))",
                hint:
                    "hipkit replaces its output folder whole; choose an empty or new folder for --out, or delete this one if it is an old build"
            )
        }
    }

    /// Whether `folder` holds what every hipkit build writes: the descriptor and the runtime
    /// manifest. The descriptor alone is not enough: a hand-written add-on (an
    /// atlassian-connect-express project, say) has one at its root beside its sources.
    private static func isEarlierBuild(_ folder: URL) -> Bool {
        [ConnectDescriptor.fileName, RuntimeManifest.path].allSatisfy { name in
            FileStat.read(folder.appendingPathComponent(name).path, followingLinks: false)?.kind == .file
        }
    }

    /// Whether `folder` is where a file system is mounted (a volume, a tmpfs): its device is not
    /// its parent's. A bind mount of a folder of the same file system is not seen here; its
    /// rename fails with `EBUSY`, which ``swap(_:into:)`` reports the same way.
    static func isMountPoint(_ folder: URL) -> Bool {
        var own = stat()
        var parent = stat()
        guard stat(folder.path, &own) == 0, stat(folder.path + "/..", &parent) == 0 else { return false }
        return own.st_dev != parent.st_dev || own.st_ino == parent.st_ino
    }

    /// A mount point cannot be swapped for another folder: the build goes in a folder inside it.
    private static func mountPointError(_ target: URL) -> HipKitError {
        HipKitError(
            "cannot replace \(target.path): it is a mount point",
            hint: "hipkit swaps its output folder whole, which a mount point cannot be; build into a folder "
                + "inside it (--out \(target.appendingPathComponent("dist").path)) and serve that")
    }

    private static func swap(_ staging: URL, into target: URL) throws {
        let fm = FileManager.default
        if !fm.fileExists(atPath: target.path) {
            guard rename(staging.path, target.path) == 0 else {
                throw HipKitError("cannot move the build into \(target.path): \(String(cString: strerror(errno)))")
            }
            return
        }
        if exchange(staging.path, target.path) {
            // The staging name now holds the previous build.
            try? fm.removeItem(at: staging)
            return
        }
        // No atomic exchange on this system: two renames, with a moment where target is absent.
        let old = target.deletingLastPathComponent().appendingPathComponent(
            ".\(target.lastPathComponent).old-\(getpid())")
        try? fm.removeItem(at: old)
        guard rename(target.path, old.path) == 0 else {
            if errno == EBUSY { throw mountPointError(target) }
            throw HipKitError("cannot replace \(target.path): \(String(cString: strerror(errno)))")
        }
        guard rename(staging.path, target.path) == 0 else {
            _ = rename(old.path, target.path)
            throw HipKitError("cannot replace \(target.path): \(String(cString: strerror(errno)))")
        }
        try? fm.removeItem(at: old)
    }

    /// Linux's `renameat2(RENAME_EXCHANGE)` swaps two paths atomically. Swift's Glibc module
    /// does not export it, so it is looked up at run time.
    private static func exchange(_ a: String, _ b: String) -> Bool {
        #if os(Linux)
            typealias RenameAt2 =
                @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return false }
            let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
            let renameExchange: UInt32 = 2
            return renameat2(AT_FDCWD, a, AT_FDCWD, b, renameExchange) == 0
        #else
            return false
        #endif
    }

    /// Staging and old folders left by a build that was killed.
    private static func removeLeftovers(in parent: URL, of name: String) {
        let fm = FileManager.default
        for entry in (try? fm.contentsOfDirectory(atPath: parent.path)) ?? []
        where entry.hasPrefix(".\(name).staging-") || entry.hasPrefix(".\(name).old-") {
            let pid = entry.split(separator: "-").dropFirst().first.flatMap { Int32($0) }
            if let pid, pid != getpid(), kill(pid, 0) == 0 { continue }  // another build is running
            try? fm.removeItem(at: parent.appendingPathComponent(entry))
        }
    }

    /// Linux's `syncfs` flushes the file system holding `url`; `sync` flushes them all.
    private static func syncFileSystem(of url: URL) {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else {
            sync()
            return
        }
        defer { close(fd) }
        typealias SyncFS = @convention(c) (Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "syncfs") {
            _ = unsafeBitCast(symbol, to: SyncFS.self)(fd)
        } else {
            sync()
        }
    }

    private static func syncDirectory(_ url: URL) {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
