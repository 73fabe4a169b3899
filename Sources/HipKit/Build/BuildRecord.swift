import Foundation
import HipChatConnect

/// What the last build wrote, kept in `.hipkit/cache/last-build`: each file's digest, size
/// and modification time. A build whose files are all the same as last time, into an output
/// folder nobody has touched since, writes nothing; one with a few changes links the unchanged
/// files from the previous output instead of writing them again.
///
/// The record is a text file of one line per output file, read by bytes: a no-change rebuild
/// reads it first thing, and decoding it as JSON with `JSONDecoder` was half of such a build
/// (47 k instructions a file).
struct BuildRecord: Equatable {
    struct File: Equatable {
        var digest: String
        var size: Int
        /// Seconds since 1970, with the nanoseconds as the fraction.
        var modified: Double

        init(digest: String, size: Int, modified: Double) {
            self.digest = digest
            self.size = size
            self.modified = modified
        }

        /// The file as `stat` finds it now (-1 for size and time when it is not there).
        init(digest: String, stat: FileStat?) {
            self.digest = digest
            size = stat.map { Int($0.size) } ?? -1
            modified = stat.map { Double($0.modifiedSeconds) + Double($0.modifiedNanoseconds) / 1e9 } ?? -1
        }

        /// Whether `stat` says this is still the file: a regular file of the same size and time.
        func matches(_ stat: FileStat) -> Bool {
            stat.kind == .file && File(digest: digest, stat: stat) == self
        }
    }

    var output: String
    var files: [String: File]
    /// The ``InputStamp`` of the build that wrote this output, when it had no diagnostics at all.
    var inputs: String?

    /// The first line; a record without it (an older format) is not read.
    static let header = "hipkit build record 2"

    static func url(in cacheDirectory: URL) -> URL { cacheDirectory.appendingPathComponent("last-build") }

    static func load(from cacheDirectory: URL) -> BuildRecord? {
        guard let data = try? Data(contentsOf: url(in: cacheDirectory)) else { return nil }
        return BuildRecord(text: data)
    }

    func save(to cacheDirectory: URL) {
        try? ProjectLayout.createPrivateDirectory(cacheDirectory)
        try? Data(text.utf8).write(to: Self.url(in: cacheDirectory), options: .atomic)
        // The record in its earlier JSON form, if an older hipkit left one.
        try? FileManager.default.removeItem(at: cacheDirectory.appendingPathComponent("last-build.json"))
    }

    /// The record as text: the header, `output PATH`, `inputs STAMP` (`inputs` alone without
    /// one), then `DIGEST SIZE MODIFIED PATH` per file in path order. Paths come last on their
    /// line, with `\` and line feeds escaped.
    var text: String {
        var text = Self.header + "\noutput " + Self.escaped(output) + "\ninputs"
        if let inputs { text += " " + Self.escaped(inputs) }
        text += "\n"
        for (path, file) in files.sorted(by: { $0.key < $1.key }) {
            text += "\(file.digest) \(file.size) \(file.modified) \(Self.escaped(path))\n"
        }
        return text
    }

    /// Reads ``text``; nil for anything else.
    init?(text data: Data) {
        let bytes = [UInt8](data)
        guard let record = bytes.withUnsafeBufferPointer({ Self.read($0) }) else { return nil }
        self = record
    }

    private static func read(_ bytes: UnsafeBufferPointer<UInt8>) -> BuildRecord? {
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)[...]
        guard lines.last?.isEmpty == true else { return nil }
        lines.removeLast()
        func string(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> String {
            String(decoding: UnsafeBufferPointer(rebasing: bytes), as: UTF8.self)
        }
        /// The value of the line `NAME VALUE` (nil when the line is `NAME` alone).
        func field(_ name: String) -> String?? {
            guard let line = lines.popFirst() else { return nil }
            let text = string(line)
            if text == name { return .some(nil) }
            guard text.hasPrefix(name + " ") else { return nil }
            return unescaped(text.dropFirst(name.count + 1)).map { .some($0) }
        }
        guard lines.popFirst().map(string) == header, case let output?? = field("output"),
            let inputs = field("inputs")
        else { return nil }
        var files: [String: File] = [:]
        files.reserveCapacity(lines.count)
        for line in lines {
            let parts = line.split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count == 4, let size = Int(string(parts[1])), let modified = Double(string(parts[2])),
                let path = unescaped(Substring(string(parts[3])))
            else { return nil }
            files[path] = File(digest: string(parts[0]), size: size, modified: modified)
        }
        return BuildRecord(output: output, files: files, inputs: inputs)
    }

    init(output: String, files: [String: File], inputs: String?) {
        self.output = output
        self.files = files
        self.inputs = inputs
    }

    private static func escaped(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\n") }) else { return text }
        return text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    private static func unescaped(_ text: Substring) -> String? {
        guard text.utf8.contains(UInt8(ascii: "\\")) else { return String(text) }
        var out = ""
        var escaping = false
        for c in text.unicodeScalars {
            if escaping {
                switch c {
                case "\\": out += "\\"
                case "n": out += "\n"
                default: return nil
                }
                escaping = false
            } else if c == "\\" {
                escaping = true
            } else {
                out.unicodeScalars.append(c)
            }
        }
        return escaping ? nil : out
    }

    /// Whether `output` holds exactly the files of this record, each as it was written: no more,
    /// no fewer, the same sizes and modification times. One walk of the folder, whose entries
    /// carry what `lstat` says of each file.
    func isIntact(_ output: URL) -> Bool {
        guard let entries = FileTree.walk(output) else { return false }
        var count = 0
        for entry in entries where entry.stat.kind == .file {
            count += 1
            guard let file = files[entry.path], file.matches(entry.stat) else { return false }
        }
        return count == files.count
    }

    /// Whether `path` in the folder at `folder` is still the file this record describes.
    func isIntact(_ path: String, inFolder folder: String) -> Bool {
        guard let file = files[path], let now = FileStat.read(folder + "/" + path, followingLinks: false) else {
            return false
        }
        return file.matches(now)
    }

    /// A record of the files now in `output`.
    static func make(output: URL, digests: [String: String], inputs: String? = nil) -> BuildRecord {
        let folder = output.path
        var files: [String: File] = [:]
        for (path, digest) in digests {
            let stat = FileStat.read(folder + "/" + path, followingLinks: false).flatMap { $0.kind == .file ? $0 : nil }
            files[path] = File(digest: digest, stat: stat)
        }
        return BuildRecord(output: output.standardizedFileURL.path, files: files, inputs: inputs)
    }
}
