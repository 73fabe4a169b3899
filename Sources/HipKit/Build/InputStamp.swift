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
        func add(_ text: String) { hasher.update(data: Data(text.utf8)) }
        add(
            "hipkit-input-stamp-3\u{0}\(options.environment ?? "")\u{0}\(options.baseUrl ?? "")\u{0}\(options.hipchatHost ?? "")\u{0}"
        )
        guard
            Self.add(
                FileTree.walk(projectDirectory) { path in
                    !path.contains("/") && (ProjectLayout.ignored.contains(path) || ProjectLayout.isStaging(path))
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
        // One line a file, hashed at once: SHA-256 reads a stream, so the digest is the one a
        // call per line gives, without a buffer and a call for each.
        var text = ""
        text.reserveCapacity(entries.count * 96)
        for entry in entries {
            let file = entry.stat
            switch file.kind {
            case .directory: continue
            case .file:
                text += prefix
                text += entry.path
                text += "\u{0}\(file.size)\u{0}\(file.inode)\u{0}\(file.modifiedSeconds).\(file.modifiedNanoseconds)\n"
            case .link, .other: return false
            }
        }
        hasher.update(data: Data(text.utf8))
        return true
    }
}
