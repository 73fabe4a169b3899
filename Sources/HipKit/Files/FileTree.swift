import Foundation
import HipChatConnect

/// Walking a folder the same way everywhere: paths relative to the folder with `/`, names in
/// sorted order so every run sees the same order, and links reported rather than followed, so a
/// walk never leaves the folder or loops.
public enum FileTree {
    /// One entry found by ``walk(_:skipping:)``.
    public struct Entry: Sendable, Hashable {
        /// The path relative to the folder walked, with `/`.
        public var path: String
        /// The entry itself, not what a link points to.
        public var stat: FileStat
    }

    /// Every entry under `root`, depth first: each folder's names sorted, a folder before what it
    /// holds. `skipping` is asked about each path before it is looked at; a skipped folder is not
    /// entered.
    ///
    /// Nil when `root` cannot be read, and with `complete`, also when anything under it cannot:
    /// for callers that must not trust a partial answer (a fingerprint of the inputs). Without
    /// it, what cannot be read is passed over.
    public static func walk(_ root: URL, complete: Bool = true, skipping skip: (String) -> Bool = { _ in false })
        -> [Entry]?
    {
        var entries: [Entry] = []
        func visit(_ directory: String, relative: String) -> Bool {
            guard let found = list(directory, relative: relative, complete: complete, skipping: skip) else {
                return false
            }
            for (name, entry) in found {
                entries.append(entry)
                if entry.stat.kind == .directory, !visit(directory + "/" + name, relative: entry.path), complete {
                    return false
                }
            }
            return true
        }
        return visit(root.path, relative: "") ? entries : nil
    }

    /// The entries of one folder, sorted by name, each with its name. Each is looked at with
    /// `fstatat` relative to the open folder: a `stat` of the whole path would walk every folder
    /// on the way again, which was most of the time a no-change build spends looking at its files.
    /// The folder is closed before its subfolders are visited, so deep trees hold one descriptor.
    private static func list(
        _ directory: String, relative: String, complete: Bool, skipping skip: (String) -> Bool
    ) -> [(name: String, entry: Entry)]? {
        // The root may be a link to a folder; a subfolder was seen as a folder, not a link, and
        // must still be one.
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (relative.isEmpty ? 0 : O_NOFOLLOW))
        guard descriptor >= 0 else { return nil }
        guard let stream = fdopendir(descriptor) else {
            close(descriptor)
            return nil
        }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            // readdir says "no more" and "failed" both with NULL, and only errno tells them apart;
            // what runs between two calls (an allocation) may set it.
            errno = 0
            guard let item = readdir(stream) else {
                if errno != 0 { return nil }
                break
            }
            let name = withUnsafeBytes(of: item.pointee.d_name) { bytes in
                String(cString: bytes.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        var found: [(name: String, entry: Entry)] = []
        found.reserveCapacity(names.count)
        for name in names.sorted() {
            let path = relative.isEmpty ? name : relative + "/" + name
            if skip(path) { continue }
            var info = stat()
            guard fstatat(dirfd(stream), name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                if complete { return nil } else { continue }
            }
            found.append((name, Entry(path: path, stat: FileStat(info))))
        }
        return found
    }

    /// The regular files under `root`, sorted by path, passing over what cannot be read; none
    /// when `root` is not a folder. Throws when `root` is a folder that cannot be read.
    public static func files(under root: URL) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return []
        }
        guard let entries = walk(root, complete: false) else {
            throw CocoaError(.fileReadNoPermission, userInfo: [NSFilePathErrorKey: root.path])
        }
        return entries.filter { $0.stat.kind == .file }.map(\.path).sorted()
    }
}
