import Crypto
import Foundation
import HipChatConnect

/// Rendered pages kept under `.hipkit/cache` in the project, keyed by a SHA-256 of everything
/// that went into them, so a build of an unchanged project — in this run or a later one —
/// renders nothing again.
///
/// A page's key covers its bytes, the layouts it uses (its layout and every template that layout
/// includes, transitively), the values its templates see (add-on, module, environment, HipChat
/// script URLs, settings) and the cache format. Links are checked apart: an entry records how
/// each of the page's relative links resolved, and is reused only while every one still resolves
/// the same way, so deleting a page re-renders exactly the pages that link to it.
public final class BuildCache: @unchecked Sendable {
    /// Bump when rendering changes in a way keys do not capture.
    public static let formatVersion = "hipkit-page-cache-2"

    public let directory: URL
    private let lock = NSLock()
    private(set) public var hits = 0
    private(set) public var misses = 0
    private var directoryExists = false

    /// A cache in `directory` (created on first store).
    public init(directory: URL) {
        self.directory = directory
    }

    /// The cache of the project in `projectDirectory`.
    public convenience init(project projectDirectory: URL) {
        self.init(directory: ProjectLayout(directory: projectDirectory).pageCacheDirectory)
    }

    struct Entry: Codable {
        var title: String
        var assets: [String]
        var links: [String: String]
    }

    static func key(_ parts: [Data]) -> String {
        var hasher = SHA256()
        for part in parts {
            var length = UInt64(part.count).bigEndian
            withUnsafeBytes(of: &length) { hasher.update(bufferPointer: $0) }
            hasher.update(data: part)
        }
        return hex(hasher.finalize())
    }

    static func digest(_ data: Data) -> String { key([data]) }

    /// Lower-case hex without `String(format:)`, which goes through Foundation's formatter per
    /// byte and showed up in profiles of no-change builds.
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The cached result for `key`, when it exists and its links still resolve as recorded.
    func lookup(_ key: String, output: String, stillValid: (Entry) -> Bool) -> PageRenderer.Result? {
        let meta = directory.appendingPathComponent(key + ".json", isDirectory: false)
        guard let data = try? Data(contentsOf: meta), let entry = try? JSONDecoder().decode(Entry.self, from: data),
            stillValid(entry),
            let html = try? Data(contentsOf: directory.appendingPathComponent(key + ".html", isDirectory: false))
        else {
            lock.withLock { misses += 1 }
            return nil
        }
        lock.withLock { hits += 1 }
        var result = PageRenderer.Result(file: SiteFile(path: output, data: html), title: entry.title)
        result.assets = entry.assets
        result.links = entry.links
        return result
    }

    /// Keeps a page that rendered without any diagnostic (pages with warnings render again, so
    /// their warnings are shown every time).
    func store(_ key: String, _ result: PageRenderer.Result) {
        guard let file = result.file, result.diagnostics.isEmpty else { return }
        let entry = Entry(title: result.title, assets: result.assets, links: result.links)
        guard let meta = try? JSONEncoder().encode(entry) else { return }
        lock.withLock {
            if !directoryExists {
                try? ProjectLayout.createPrivateDirectory(directory)
                directoryExists = true
            }
        }
        // The HTML first and the record last, each through a rename: a record always points to
        // a whole page. No flush: a cache entry lost in a crash is only rendered again.
        Self.put(file.data, as: key + ".html", in: directory)
        Self.put(meta, as: key + ".json", in: directory)
    }

    /// Writes `data` as `name` in `directory` through a rename, so a reader finds the whole file
    /// or none; failures are ignored (a cache entry not kept is only made again).
    static func put(_ data: Data, as name: String, in directory: URL) {
        let temporary = directory.appendingPathComponent(".\(name).\(UInt32.random(in: 0...UInt32.max))")
        // Plain POSIX writes: Foundation's createFile flushes each file, which costs seconds over
        // a thousand pages.
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { return }
        let complete = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let n = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        close(fd)
        if !complete || rename(temporary.path, directory.appendingPathComponent(name).path) != 0 {
            unlink(temporary.path)
        }
    }
}
