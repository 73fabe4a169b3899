import Crypto
import Foundation
import HipChatConnect
import HipKitTemplates

#if canImport(Glibc)
    import Glibc
#endif

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
            "hipkit-input-stamp-2\u{0}\(options.environment ?? "")\u{0}\(options.baseUrl ?? "")\u{0}\(options.hipchatHost ?? "")\u{0}"
        )
        guard walk(projectDirectory.path, relative: "", top: true, into: &hasher),
            walk(
                TemplatesBundle.root.appendingPathComponent("layouts").path, relative: "layouts", top: false,
                into: &hasher)
        else {
            return nil
        }
        return BuildCache.hex(hasher.finalize())
    }

    /// Adds every file under `directory` in name order; false when a link or an unreadable
    /// folder makes the stamp untrustworthy.
    private static func walk(_ directory: String, relative: String, top: Bool, into hasher: inout SHA256) -> Bool {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return false }
        for name in names.sorted() {
            if top, ProjectLayout.ignored.contains(name) || ProjectLayout.isStaging(name) { continue }
            let full = directory + "/" + name
            let path = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(full, &info) == 0 else { return false }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                guard walk(full, relative: path, top: false, into: &hasher) else { return false }
            case S_IFREG:
                #if os(Linux)
                    let modified = info.st_mtim
                #else
                    let modified = info.st_mtimespec
                #endif
                hasher.update(
                    data: Data(
                        "\(path)\u{0}\(info.st_size)\u{0}\(info.st_ino)\u{0}\(modified.tv_sec).\(modified.tv_nsec)\n"
                            .utf8))
            default:
                return false
            }
        }
        return true
    }

    /// The number of regular files under `directory`, or nil when it cannot be read.
    static func countFiles(_ directory: String) -> Int? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return nil }
        var count = 0
        for name in names {
            var info = stat()
            guard lstat(directory + "/" + name, &info) == 0 else { return nil }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                guard let inner = countFiles(directory + "/" + name) else { return nil }
                count += inner
            case S_IFREG:
                count += 1
            default:
                break
            }
        }
        return count
    }
}
