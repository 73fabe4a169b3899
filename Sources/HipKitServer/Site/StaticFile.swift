import Foundation
import HipChatConnect
import HipKit
import Hummingbird

/// One file of `dist/` as the server answers it: its validators and headers worked out once
/// when `dist/` is indexed, and for small files the bytes themselves (and their gzip).
struct StaticFile: Sendable {
    enum Storage: Sendable {
        /// Files under ``StaticFile/memoryLimit``: served from memory, gzip prepared.
        case memory(ByteBuffer, gzip: ByteBuffer?)
        /// Larger files, read from disk for each request (the path is checked again then).
        case disk(path: String)
    }

    /// Files smaller than this are held in memory.
    static let memoryLimit = 1 << 20
    /// Smaller text gains too little from gzip to be worth a second copy.
    static let gzipThreshold = 256

    /// What a file is; kept in one ``Contents``.
    private struct Fields: Sendable {
        var relativePath: String
        var contentType: String
        var size: Int
        var modified: Date
        var etag: String
        var gzipETag: String?
        var lastModified: String
        var cacheControl: String
        var storage: Storage
        var wireHeads: (identity: ByteBuffer, gzip: ByteBuffer?)? = nil
        var identity: FileIdentity? = nil
    }

    /// The file's fields, in one object: copying a file — each request answered on the event
    /// loop takes one out of the snapshot — is then one reference count to move, not one for
    /// each of its strings and buffers, counts that both network threads moved at once
    /// (`swift_retain` and `swift_release` are a sixth of a profile of a 5 KB page under load).
    private final class Contents: Sendable {
        let fields: Fields

        init(_ fields: Fields) {
            self.fields = fields
        }
    }

    private var contents: Contents

    init(
        relativePath: String, contentType: String, size: Int, modified: Date, etag: String, gzipETag: String?,
        lastModified: String, cacheControl: String, storage: Storage
    ) {
        contents = Contents(
            Fields(
                relativePath: relativePath, contentType: contentType, size: size, modified: modified, etag: etag,
                gzipETag: gzipETag, lastModified: lastModified, cacheControl: cacheControl, storage: storage))
    }

    /// Changes a field set after loading, in a new object: the snapshots sharing the old one
    /// keep it as it was.
    private mutating func change(_ body: (inout Fields) -> Void) {
        var fields = contents.fields
        body(&fields)
        contents = Contents(fields)
    }

    /// What makes two files of `dist/` one: the file on disk (a link or a hard link to a file
    /// is that file), or the path where the file was made in memory.
    enum Key: Hashable, Sendable {
        case identity(device: UInt64, inode: UInt64)
        case path(String)
    }

    var key: Key {
        identity.map { .identity(device: $0.device, inode: $0.inode) } ?? .path(relativePath)
    }

    /// The path in `dist/` (`assets/app.css`).
    var relativePath: String { contents.fields.relativePath }
    var contentType: String { contents.fields.contentType }
    var size: Int { contents.fields.size }
    var modified: Date { contents.fields.modified }
    /// Strong validator of the identity bytes (quoted).
    var etag: String { contents.fields.etag }
    /// Validator of the gzip bytes, when there are some.
    var gzipETag: String? { contents.fields.gzipETag }
    var lastModified: String { contents.fields.lastModified }
    var cacheControl: String { contents.fields.cacheControl }
    /// Set once more after loading, when the bytes are packed (``packed(_:)``).
    var storage: Storage {
        get { contents.fields.storage }
        set { change { $0.storage = newValue } }
    }
    /// The headers of a whole answer with the identity bytes; ``headersWithGzip`` with the gzip.
    ///
    /// Made when asked, not kept: two `HTTPFields` a file were 1.5–2 MB of the idle server's
    /// heap on a 1,000-page site, while the answers that use them (conditional, ranged, views)
    /// are few; a plain GET writes ``wireHeads``.
    var headers: HTTPFields {
        var fields = sharedFields(etag: etag)
        if gzip != nil { fields[.vary] = "Accept-Encoding" }
        fields[.contentLength] = String(size)
        return fields
    }

    var headersWithGzip: HTTPFields? {
        guard let gzip, let gzipETag else { return nil }
        var fields = sharedFields(etag: gzipETag)
        fields[.vary] = "Accept-Encoding"
        fields[.contentEncoding] = "gzip"
        fields[.contentLength] = String(gzip.readableBytes)
        return fields
    }

    /// The fields both representations have, in the order answers carry them.
    private func sharedFields(etag: String) -> HTTPFields {
        var fields = HTTPFields()
        fields[.contentType] = contentType
        fields[.eTag] = etag
        fields[.lastModified] = lastModified
        fields[.cacheControl] = cacheControl
        fields[.acceptRanges] = "bytes"
        fields[.xContentTypeOptions] = "nosniff"
        return fields
    }

    /// For a file in memory, the start of a whole 200 answer's head (``headers`` as bytes, and
    /// ``headersWithGzip``'s): what ``EventLoopAnswers`` writes for a plain GET or HEAD, before
    /// the `Date` line.
    var wireHeads: (identity: ByteBuffer, gzip: ByteBuffer?)? {
        get { contents.fields.wireHeads }
        set { change { $0.wireHeads = newValue } }
    }
    /// Which file on disk this was read from, so a reload after a new build can keep the files
    /// that did not change (a build hard-links those) instead of reading and compressing again.
    var identity: FileIdentity? {
        get { contents.fields.identity }
        set { change { $0.identity = newValue } }
    }

    var isInMemory: Bool {
        if case .memory = storage { true } else { false }
    }

    var gzip: ByteBuffer? {
        if case .memory(_, let gzip) = storage { gzip } else { nil }
    }

    /// A file's bytes read and compressed, and their hash: the part of loading a file held in
    /// memory that allocates its bytes, done on ``BytesThread``.
    struct ReadBytes {
        var bytes: ByteBuffer
        var gzip: ByteBuffer?
        var hash: UInt64
    }

    /// Reads and compresses `file`, whose path in `dist/` is `relativePath`.
    static func read(file: URL, relativePath: String) throws -> ReadBytes {
        let data = try Data(contentsOf: file)
        var gzip: ByteBuffer?
        if ContentType.isCompressible(ContentType.forPath(relativePath)), data.count >= gzipThreshold,
            let compressed = Gzip.compress(data), compressed.count < data.count
        {
            gzip = ByteBuffer(bytes: compressed)
        }
        return ReadBytes(bytes: ByteBuffer(bytes: data), gzip: gzip, hash: fnv1a(data))
    }

    /// Reads `file` (at `relativePath` in `dist/`) and prepares it.
    static func load(file: URL, relativePath: String, size: Int, modified: Date, inMemory: Bool = true) throws
        -> StaticFile
    {
        guard inMemory, size < memoryLimit else {
            return make(file: file, relativePath: relativePath, size: size, modified: modified, read: nil)
        }
        let read = try BytesThread.shared.run { try Self.read(file: file, relativePath: relativePath) }
        return make(file: file, relativePath: relativePath, size: size, modified: modified, read: read)
    }

    /// The file with its `read` bytes held in memory, or read from disk for each answer when
    /// nil. Its strings and headers, which stay, are made on the calling thread.
    static func make(file: URL, relativePath: String, size: Int, modified: Date, read: ReadBytes?) -> StaticFile {
        let contentType = ContentType.forPath(relativePath)
        let lastModified = HTTPDate.string(modified)
        let cacheControl = CachePolicy.forPath(relativePath)
        guard let read else {
            let seconds = Int(modified.timeIntervalSince1970)
            let etag = "\"\(String(size, radix: 16))-\(String(seconds, radix: 16))\""
            return StaticFile(
                relativePath: relativePath, contentType: contentType, size: size, modified: modified, etag: etag,
                gzipETag: nil, lastModified: lastModified, cacheControl: cacheControl, storage: .disk(path: file.path))
        }
        let hash = hex(read.hash)
        let count = read.bytes.readableBytes
        let etag = "\"\(hash)-\(String(count, radix: 16))\""
        let gzipETag = read.gzip.map { _ in "\"\(hash)-\(String(count, radix: 16))-gz\"" }
        var prepared = StaticFile(
            relativePath: relativePath, contentType: contentType, size: count, modified: modified, etag: etag,
            gzipETag: gzipETag, lastModified: lastModified, cacheControl: cacheControl,
            storage: .memory(read.bytes, gzip: read.gzip))
        let start = { HTTP1Head.start(status: .ok, fields: $0, serverName: HipKitServer.serverName) }
        prepared.wireHeads = (start(prepared.headers), prepared.headersWithGzip.map(start))
        return prepared
    }

    /// FNV-1a, 64 bits: enough to tell builds apart, and no cryptography is needed for a cache
    /// validator.
    static func fnv1a(_ data: Data) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        // Over the raw bytes: Data's iterator costs several times more per byte.
        data.withUnsafeBytes { bytes in
            for byte in bytes {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01B3
            }
        }
        return hash
    }

    /// Sixteen hex digits.
    private static func hex(_ value: UInt64) -> String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// A file's place and version on disk: device, inode, size and modification time to the
/// nanosecond. Equal identities mean the same bytes, short of someone rewriting a file in place
/// within the same nanosecond at the same size.
struct FileIdentity: Sendable, Hashable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var seconds: Int
    var nanoseconds: Int

    init(_ info: stat) {
        let file = FileStat(info)
        device = file.device
        inode = file.inode
        size = file.size
        seconds = file.modifiedSeconds
        nanoseconds = file.modifiedNanoseconds
    }
}
