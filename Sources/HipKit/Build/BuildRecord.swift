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
        /// The modification time: seconds since 1970, and nanoseconds within the second.
        var seconds: Int
        var nanoseconds: Int

        init(digest: String, size: Int, seconds: Int, nanoseconds: Int) {
            self.digest = digest
            self.size = size
            self.seconds = seconds
            self.nanoseconds = nanoseconds
        }

        /// The file as `stat` finds it now (-1 for size and seconds when it is not there).
        init(digest: String, stat: FileStat?) {
            self.digest = digest
            size = stat.map { Int($0.size) } ?? -1
            seconds = stat?.modifiedSeconds ?? -1
            nanoseconds = stat?.modifiedNanoseconds ?? 0
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
    static let header = "hipkit build record 3"

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
    /// one), then `DIGEST SIZE SECONDS.NANOSECONDS PATH` per file in path order, nanoseconds in
    /// nine digits. Paths come last on their line, with `\` and line feeds escaped.
    var text: String {
        var text = Self.header + "\noutput " + Self.escaped(output) + "\ninputs"
        if let inputs { text += " " + Self.escaped(inputs) }
        text += "\n"
        for (path, file) in files.sorted(by: { $0.key < $1.key }) {
            let nanoseconds = String(file.nanoseconds)
            text += "\(file.digest) \(file.size) \(file.seconds)."
            text += String(repeating: "0", count: max(0, 9 - nanoseconds.utf8.count)) + nanoseconds
            text += " " + Self.escaped(path) + "\n"
        }
        return text
    }

    /// Reads ``text``; nil for anything else.
    init?(text data: Data) {
        guard let record = data.withUnsafeBytes({ Self.read($0.bindMemory(to: UInt8.self)) }) else { return nil }
        self = record
    }

    /// Reads the text in one pass over its bytes, without splitting it into arrays first: a
    /// no-change rebuild reads the record on its critical path, and splitting, `Double(String)`
    /// and a string per field took 7 k instructions a file.
    private static func read(_ bytes: UnsafeBufferPointer<UInt8>) -> BuildRecord? {
        typealias Bytes = Slice<UnsafeBufferPointer<UInt8>>
        guard let base = bytes.baseAddress else { return nil }
        /// Where `byte` is first found in `range` (by `memchr`, which reads many bytes at a time).
        func find(_ byte: UInt8, in range: Range<Int>) -> Int? {
            guard !range.isEmpty, let found = memchr(base + range.lowerBound, Int32(byte), range.count) else {
                return nil
            }
            return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
        var position = 0
        /// The next line without its line feed; nil at the end, and for a last line without one.
        func nextLine() -> Range<Int>? {
            guard let end = find(UInt8(ascii: "\n"), in: position..<bytes.count) else { return nil }
            defer { position = end + 1 }
            return position..<end
        }
        func string(_ range: Range<Int>) -> String {
            String(decoding: UnsafeBufferPointer(start: base + range.lowerBound, count: range.count), as: UTF8.self)
        }
        /// The value of the line `NAME VALUE` (nil when the line is `NAME` alone).
        func field(_ name: String) -> String?? {
            guard let line = nextLine() else { return nil }
            let text = string(line)
            if text == name { return .some(nil) }
            guard text.hasPrefix(name + " ") else { return nil }
            return unescaped(text.dropFirst(name.count + 1)).map { .some($0) }
        }
        /// Splits off the bytes before the next space, and the space.
        func word(_ line: inout Range<Int>) -> Range<Int>? {
            guard let end = find(UInt8(ascii: " "), in: line) else { return nil }
            defer { line = (end + 1)..<line.upperBound }
            return line.lowerBound..<end
        }
        func integer(_ range: Range<Int>) -> Int? { Self.integer(bytes[range]) }
        guard nextLine().map(string) == header, case let output?? = field("output"),
            let inputs = field("inputs")
        else { return nil }
        var files: [String: File] = [:]
        // A line is about 100 bytes; a dictionary grown as it goes hashes every path again.
        files.reserveCapacity(bytes.count / 80)
        while position < bytes.count {
            guard var line = nextLine(), let digest = word(&line), let size = word(&line).flatMap(integer),
                let time = word(&line), let dot = find(UInt8(ascii: "."), in: time),
                let seconds = integer(time.lowerBound..<dot), time.upperBound - dot == 10,
                let nanoseconds = integer((dot + 1)..<time.upperBound), nanoseconds >= 0,
                let path = find(UInt8(ascii: "\\"), in: line) == nil ? string(line) : unescaped(Substring(string(line)))
            else { return nil }
            files[path] = File(digest: string(digest), size: size, seconds: seconds, nanoseconds: nanoseconds)
        }
        return BuildRecord(output: output, files: files, inputs: inputs)
    }

    /// A decimal integer with an optional minus sign, of at most 18 digits; nil for anything else.
    private static func integer(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
        let negative = bytes.first == UInt8(ascii: "-")
        let digits = negative ? bytes.dropFirst() : bytes
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var value = 0
        for byte in digits {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
        }
        return negative ? -value : value
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
        guard let entries = FileTree.walk(output, sorted: false) else { return false }
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
