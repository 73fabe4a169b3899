import Foundation

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
        try? FileManager.default.createDirectory(at: cacheDirectory, withIntermediateDirectories: true)
        try? data.write(to: Self.url(in: cacheDirectory), options: .atomic)
    }

    /// Whether `path` in `output` is still the file this record describes.
    func isIntact(_ path: String, in output: URL) -> Bool {
        guard let file = files[path],
              let attributes = try? FileManager.default.attributesOfItem(atPath: output.appendingPathComponent(path).path),
              let size = attributes[.size] as? Int, let modified = attributes[.modificationDate] as? Date else { return false }
        return size == file.size && modified.timeIntervalSince1970 == file.modified
    }

    /// A record of the files now in `output`.
    static func make(output: URL, digests: [String: String], inputs: String? = nil) -> BuildRecord {
        var files: [String: File] = [:]
        for (path, digest) in digests {
            let attributes = try? FileManager.default.attributesOfItem(atPath: output.appendingPathComponent(path).path)
            files[path] = File(digest: digest, size: attributes?[.size] as? Int ?? -1,
                               modified: (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1)
        }
        return BuildRecord(output: output.standardizedFileURL.path, files: files, inputs: inputs)
    }
}
