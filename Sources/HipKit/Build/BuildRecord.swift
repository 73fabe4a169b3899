import Foundation
import HipChatConnect

#if canImport(Glibc)
    import Glibc
#endif

/// What the last build wrote, kept in `.hipkit/cache/last-build.json`: each file's digest, size
/// and modification time. A build whose files are all the same as last time, into an output
/// folder nobody has touched since, writes nothing; one with a few changes links the unchanged
/// files from the previous output instead of writing them again.
struct BuildRecord: Codable {
    struct File: Codable, Equatable {
        var digest: String
        var size: Int
        var modified: Double
    }

    var output: String
    var files: [String: File]
    /// The ``InputStamp`` of the build that wrote this output, when it had no diagnostics at all.
    var inputs: String?

    static func url(in cacheDirectory: URL) -> URL { cacheDirectory.appendingPathComponent("last-build.json") }

    static func load(from cacheDirectory: URL) -> BuildRecord? {
        guard let data = try? Data(contentsOf: url(in: cacheDirectory)) else { return nil }
        return try? JSONDecoder().decode(BuildRecord.self, from: data)
    }

    func save(to cacheDirectory: URL) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(self) else { return }
        try? ProjectLayout.createPrivateDirectory(cacheDirectory)
        try? data.write(to: Self.url(in: cacheDirectory), options: .atomic)
    }

    /// Whether `path` in `output` is still the file this record describes.
    func isIntact(_ path: String, in output: URL) -> Bool {
        guard let file = files[path], let now = Self.stamp(output.path + "/" + path) else { return false }
        return now.size == file.size && now.modified == file.modified
    }

    /// Size and modification time (seconds, with the nanoseconds as the fraction) from one
    /// `lstat`: Foundation's attribute dictionary cost more than the rest of an up-to-date check.
    static func stamp(_ path: String) -> (size: Int, modified: Double)? {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { return nil }
        #if os(Linux)
            let time = info.st_mtim
        #else
            let time = info.st_mtimespec
        #endif
        return (Int(info.st_size), Double(time.tv_sec) + Double(time.tv_nsec) / 1e9)
    }

    /// A record of the files now in `output`.
    static func make(output: URL, digests: [String: String], inputs: String? = nil) -> BuildRecord {
        var files: [String: File] = [:]
        for (path, digest) in digests {
            let stamp = Self.stamp(output.path + "/" + path)
            files[path] = File(digest: digest, size: stamp?.size ?? -1, modified: stamp?.modified ?? -1)
        }
        return BuildRecord(output: output.standardizedFileURL.path, files: files, inputs: inputs)
    }
}
