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
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return false }
            for name in names.sorted() {
                let path = relative.isEmpty ? name : relative + "/" + name
                if skip(path) { continue }
                let full = directory + "/" + name
                guard let stat = FileStat.read(full, followingLinks: false) else {
                    if complete { return false } else { continue }
                }
                entries.append(Entry(path: path, stat: stat))
                if stat.kind == .directory, !visit(full, relative: path), complete { return false }
            }
            return true
        }
        return visit(root.path, relative: "") ? entries : nil
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
