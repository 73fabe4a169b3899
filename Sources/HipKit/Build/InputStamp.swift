import Crypto
import Foundation
import HipChatConnect
import HipKitTemplates

/// A fingerprint of everything a build reads, taken from file metadata alone: every file of the
/// project (path, size, inode and modification time to the nanosecond), hipkit's built-in
/// layouts, and the build options. When it equals the one recorded by the last build, that build
/// had no diagnostics, and its output is intact, `hipkit build` has nothing to do and need not
/// read a single page — the way `make` decides, with the same caveat: a file rewritten in place
/// within one nanosecond at the same size goes unnoticed.
///
/// A project holding symbolic links gets no stamp (their targets' changes would not show),
/// so it always takes the full path, which still reuses rendered pages from the cache.
enum InputStamp {
    static func compute(projectDirectory: URL, options: LoadOptions) -> String? {
        var hasher = SHA256()
        func add(_ text: String) {
            var text = text
            text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        }
        add(
            "hipkit-input-stamp-5\u{0}\(options.environment ?? "")\u{0}\(options.baseUrl ?? "")\u{0}\(options.hipchatHost ?? "")\u{0}"
        )
        guard
            Self.add(
                FileTree.walk(projectDirectory) { path in
                    // Over the bytes: Foundation's `contains` of a string searched each path at
                    // length, and the UTF-8 view's took 200 instructions a path.
                    var path = path
                    return path.withUTF8 { !$0.contains(UInt8(ascii: "/")) }
                        && (ProjectLayout.ignored.contains(path) || ProjectLayout.isStaging(path))
                }, under: "", to: &hasher)
        else {
            return nil
        }
        // The built-in layouts are part of the binary: a hipkit with other layouts renders again.
        for path in TemplatesBundle.paths(under: "layouts/") {
            add("\(path)\u{0}")
            hasher.update(data: TemplatesBundle.data(path) ?? Data())
        }
        return BuildCache.hex(hasher.finalize())
    }

    /// Adds every file of a walk, in its order; false when the walk was incomplete or found a
    /// link or something other than files and folders, which make the stamp untrustworthy.
    private static func add(_ entries: [FileTree.Entry]?, under prefix: String, to hasher: inout SHA256) -> Bool {
        guard let entries else { return false }
        // One record a file (`PATH NUL`, then size, inode, seconds and nanoseconds as 8-byte
        // little-endian integers), gathered as bytes and hashed at once: SHA-256 reads a stream,
        // so the digest is the one a call per file gives. The numbers in decimal took a third of
        // the stamp's instructions, and made more bytes to hash.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.count * 80)
        /// Four numbers written as one: a call per number was a sixth of this loop.
        func integers(_ a: Int64, _ b: Int64, _ c: Int64, _ d: Int64) {
            withUnsafeBytes(of: (a.littleEndian, b.littleEndian, c.littleEndian, d.littleEndian)) {
                bytes.append(contentsOf: $0)
            }
        }
        for entry in entries {
            let file = entry.stat
            switch file.kind {
            case .directory: continue
            case .file:
                bytes.append(contentsOf: prefix.utf8)
                bytes.append(contentsOf: entry.path.utf8)
                bytes.append(0)
                integers(
                    file.size, Int64(bitPattern: file.inode), Int64(file.modifiedSeconds),
                    Int64(file.modifiedNanoseconds))
            case .link, .other: return false
            }
        }
        hasher.update(data: bytes)
        return true
    }
}
