import Foundation
import HipChatConnect

/// Walking a folder the same way everywhere: paths relative to the folder with `/`, names in
/// sorted order (unless the caller asks for none) so every run sees the same order, and links
/// reported rather than followed, so a walk never leaves the folder or loops.
public enum FileTree {
    /// One entry found by ``walk(_:complete:sorted:skipping:)``.
    public struct Entry: Sendable, Hashable {
        /// The path relative to the folder walked, with `/`.
        public var path: String
        /// The entry itself, not what a link points to.
        public var stat: FileStat
    }

    /// Every entry under `root`, depth first: each folder's names sorted (with `sorted`), a
    /// folder before what it holds. `skipping` is asked about each path before it is looked at;
    /// a skipped folder is not entered.
    ///
    /// Nil when `root` cannot be read, and with `complete`, also when anything under it cannot:
    /// for callers that must not trust a partial answer (a fingerprint of the inputs). Without
    /// it, what cannot be read is passed over. A name that is not UTF-8 cannot be a path here
    /// (a String would replace its bad bytes, naming another file): it counts as unreadable.
    ///
    /// - Parameter sorted: false for a caller that looks each entry up by path and so needs no
    ///   order: each folder's entries then come in the order the file system lists them. Sorting
    ///   a thousand names listed in hash order (ext4) or write order costs more than looking at
    ///   their files.
    public static func walk(
        _ root: URL, complete: Bool = true, sorted: Bool = true, skipping skip: (String) -> Bool = { _ in false }
    ) -> [Entry]? {
        var entries: [Entry] = []
        let top = root.path
        func visit(_ directory: String, relative: String) -> Bool {
            guard let found = list(directory, relative: relative, complete: complete, sorted: sorted, skipping: skip)
            else {
                return false
            }
            for entry in found {
                entries.append(entry)
                if entry.stat.kind == .directory, !visit(top + "/" + entry.path, relative: entry.path), complete {
                    return false
                }
            }
            return true
        }
        return visit(top, relative: "") ? entries : nil
    }

    /// The entries of one folder, sorted by name when `sorted`. Each is looked at with `fstatat`
    /// relative to the open folder, by the name `readdir` gave: a `stat` of the whole path would
    /// walk every folder on the way again, which was most of the time a no-change build spends
    /// looking at its files. The folder is closed before its subfolders are visited, so deep
    /// trees hold one descriptor.
    private static func list(
        _ directory: String, relative: String, complete: Bool, sorted: Bool, skipping skip: (String) -> Bool
    ) -> [Entry]? {
        // The root may be a link to a folder; a subfolder was seen as a folder, not a link, and
        // must still be one.
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (relative.isEmpty ? 0 : O_NOFOLLOW))
        guard descriptor >= 0 else { return nil }
        guard let stream = fdopendir(descriptor) else {
            close(descriptor)
            return nil
        }
        defer { closedir(stream) }
        // Each path is made in one piece from these bytes and the name: joining strings made
        // two more and took a fifth of a walk's instructions.
        let prefix: [UInt8] = relative.isEmpty ? [] : Array(relative.utf8) + [UInt8(ascii: "/")]
        var found: [Entry] = []
        while true {
            // readdir says "no more" and "failed" both with NULL, and only errno tells them apart;
            // what runs between two calls (an allocation, a failed fstatat) may set it.
            errno = 0
            guard let item = readdir(stream) else {
                if errno != 0 { return nil }
                break
            }
            // The name is read where readdir left it, valid until the next call.
            let looked = withUnsafeBytes(of: &item.pointee.d_name) { bytes -> Bool in
                let name = bytes.baseAddress!.assumingMemoryBound(to: CChar.self)
                if name[0] == 0x2E && (name[1] == 0 || (name[1] == 0x2E && name[2] == 0)) { return true }
                let length = strlen(name)
                // A name of ASCII, nearly every one, is UTF-8; any other must be as it stands.
                if bytes[..<length].contains(where: { $0 >= 0x80 }), String(validatingCString: name) == nil {
                    return !complete
                }
                let path = String(unsafeUninitializedCapacity: prefix.count + length) { buffer in
                    let start = UnsafeMutableRawPointer(buffer.baseAddress!)
                    prefix.withUnsafeBytes { bytes in
                        if let from = bytes.baseAddress { start.copyMemory(from: from, byteCount: bytes.count) }
                    }
                    (start + prefix.count).copyMemory(from: name, byteCount: length)
                    return prefix.count + length
                }
                if skip(path) { return true }
                var info = stat()
                guard fstatat(descriptor, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return !complete }
                found.append(Entry(path: path, stat: FileStat(info)))
                return true
            }
            if !looked { return nil }
        }
        // Every path here starts with the same `relative/`: in the order of their names.
        if sorted { found.sort { $0.path < $1.path } }
        return found
    }

    /// The regular files under `root`, sorted by path, passing over what cannot be read; none
    /// when `root` is not a folder. Throws when `root` is a folder that cannot be read.
    public static func files(under root: URL) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            return []
        }
        guard let entries = walk(root, complete: false, sorted: false) else {
            throw CocoaError(.fileReadNoPermission, userInfo: [NSFilePathErrorKey: root.path])
        }
        return entries.filter { $0.stat.kind == .file }.map(\.path).sorted()
    }
}
