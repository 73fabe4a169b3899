import Foundation
import HipChatConnect
import HipKit
import Hummingbird
import _NIOFileSystem

/// Answers GET and HEAD for one ``StaticFile``: conditional requests (`If-None-Match`,
/// `If-Modified-Since` → 304), single byte ranges (206, or 416 when unsatisfiable; `If-Range`
/// honoured), and the prepared gzip when the client accepts it and asked for no range.
struct StaticResponder: Sendable {
    func respond(
        _ file: StaticFile, request: Request, root: String,
        cacheControl: String? = nil, extraHeaders: HTTPFields = [:]
    ) async throws -> Response {
        let answer = try Self.answer(file, to: request.head, cacheControl: cacheControl, extraHeaders: extraHeaders)
        switch answer.body {
        case .none:
            return Response(status: answer.status, headers: answer.headers)
        case .bytes(let bytes):
            return Response(status: answer.status, headers: answer.headers, body: .init(byteBuffer: bytes))
        case .disk(let path, let range):
            guard let real = Self.checkedDiskPath(path, root: root, size: file.size) else { throw APIError.notFound() }
            return Response(
                status: answer.status, headers: answer.headers, body: Self.fileBody(path: real, range: range))
        }
    }

    /// The real path of a file read from disk, checked again at the moment of reading: it must
    /// still be inside `root` (the real path of `dist/`) and the `size` it had when indexed.
    /// Nil otherwise, which is answered 404.
    static func checkedDiskPath(_ path: String, root: String, size: Int) -> String? {
        guard let real = FileStat.realPath(path), real.hasPrefix(root + "/"),
            let current = SiteSignature.stamp(real), current.size == Int64(size)
        else { return nil }
        return real
    }

    /// The answer to `head` for `file`, with `cacheControl` and `extraHeaders` over the file's
    /// own headers. Throws for methods other than GET and HEAD.
    static func answer(
        _ file: StaticFile, to head: HTTPRequest, cacheControl: String? = nil, extraHeaders: HTTPFields = [:]
    ) throws(APIError) -> PreparedAnswer {
        guard head.method == .get || head.method == .head else {
            throw APIError(.methodNotAllowed, "files answer GET and HEAD", headers: [.allow: "GET, HEAD"])
        }
        let request = head.headerFields
        let rangeHeader = request[.range]
        let useGzip = file.gzip != nil && rangeHeader == nil && acceptsGzip(request[.acceptEncoding])

        // The file's own headers, made when it was read; most answers add nothing to them.
        var headers = useGzip ? file.headersWithGzip! : file.headers
        if let cacheControl { headers[.cacheControl] = cacheControl }
        for field in extraHeaders { headers[field.name] = field.value }

        if notModified(file, request: request) {
            var kept = HTTPFields()
            for name in [
                HTTPFields.Element.Name.eTag, .lastModified, .cacheControl, .vary, .contentSecurityPolicy,
                .accessControlAllowOrigin,
            ] {
                if let value = headers[name] { kept[name] = value }
            }
            return PreparedAnswer(status: .notModified, headers: kept, body: .none)
        }

        var range: ClosedRange<Int>?
        if let rangeHeader, head.method == .get, ifRangeAllows(file, request: request) {
            switch parseRange(rangeHeader, size: file.size) {
            case .none: break
            case .unsatisfiable:
                headers[.contentRange] = "bytes */\(file.size)"
                headers[.contentType] = nil
                headers[.contentLength] = "0"
                return PreparedAnswer(status: .rangeNotSatisfiable, headers: headers, body: .none)
            case .range(let r): range = r
            }
        }

        let status: HTTPResponse.Status = range == nil ? .ok : .partialContent
        if let range {
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(file.size)"
            headers[.contentLength] = String(range.count)
        }
        if head.method == .head { return PreparedAnswer(status: status, headers: headers, body: .none) }

        switch file.storage {
        case .memory(let buffer, let gzip):
            let body: ByteBuffer
            if useGzip, let gzip {
                body = gzip
            } else if let range {
                body = buffer.getSlice(at: buffer.readerIndex + range.lowerBound, length: range.count) ?? ByteBuffer()
            } else {
                body = buffer
            }
            return PreparedAnswer(status: status, headers: headers, body: .bytes(body))
        case .disk(let path):
            return PreparedAnswer(
                status: status, headers: headers, body: .disk(path: path, range: range ?? 0...max(0, file.size - 1)))
        }
    }

    /// How much of a file on disk is read at a time.
    static let chunkLength: Int64 = 64 * 1024

    /// `range` of the file at `path`, read a chunk at a time as the connection takes it.
    ///
    /// Not Hummingbird's `FileIO`: the chunk stream it reads from runs up to eight chunks (1 MiB)
    /// ahead of a slow connection, so 32 downloads of a 1 MiB file at once held 40 MB more
    /// than the idle server. Here a download holds one chunk, and what the connection has not
    /// yet sent (the writer waits for the socket to drain).
    static func fileBody(path: String, range: ClosedRange<Int>) -> ResponseBody {
        ResponseBody(contentLength: range.count) { writer in
            try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(path)) { handle in
                var offset = Int64(range.lowerBound)
                let end = Int64(range.upperBound) + 1
                while offset < end {
                    let chunk = try await handle.readChunk(
                        fromAbsoluteOffset: offset, length: .bytes(min(chunkLength, end - offset)))
                    // A file cut short since it was looked at: the connection closes short of its length.
                    guard chunk.readableBytes > 0 else { break }
                    offset += Int64(chunk.readableBytes)
                    try await writer.write(chunk)
                }
            }
            try await writer.finish(nil)
        }
    }

    /// `If-None-Match` (weak comparison, either representation's tag) wins over
    /// `If-Modified-Since`, as RFC 9110 says.
    private static func notModified(_ file: StaticFile, request: HTTPFields) -> Bool {
        if let ifNoneMatch = request[.ifNoneMatch] {
            let tags = ifNoneMatch.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if tags.contains("*") { return true }
            let ours = [file.etag, file.gzipETag].compactMap { $0 }
            return tags.contains { tag in ours.contains(opaque(tag)) }
        }
        if let since = request[.ifModifiedSince].flatMap(HTTPDate.parse) {
            return file.modified.timeIntervalSince1970.rounded(.down) <= since.timeIntervalSince1970
        }
        return false
    }

    /// `If-Range` with a strong ETag or the exact `Last-Modified` keeps the range; anything
    /// else means the client's copy is stale, so the whole file is sent.
    private static func ifRangeAllows(_ file: StaticFile, request: HTTPFields) -> Bool {
        guard let ifRange = request[.ifRange]?.trimmingCharacters(in: .whitespaces) else { return true }
        if ifRange.hasPrefix("\"") { return ifRange == file.etag }
        return ifRange == file.lastModified
    }

    private static func opaque(_ tag: String) -> String {
        tag.hasPrefix("W/") ? String(tag.dropFirst(2)) : tag
    }

    enum RangeResult: Equatable {
        case none
        case unsatisfiable
        case range(ClosedRange<Int>)
    }

    /// One `bytes=` range. Several ranges, other units and malformed headers are ignored (the
    /// whole file is sent), which RFC 9110 allows.
    static func parseRange(_ header: String, size: Int) -> RangeResult {
        let header = header.trimmingCharacters(in: .whitespaces)
        guard header.lowercased().hasPrefix("bytes=") else { return .none }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { return .none }
        let startText = spec[..<dash].trimmingCharacters(in: .whitespaces)
        let endText = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
        if startText.isEmpty {
            guard let suffix = Int(endText), suffix >= 0 else { return .none }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .range(max(0, size - suffix)...(size - 1))
        }
        guard let start = Int(startText), start >= 0 else { return .none }
        var end = size - 1
        if !endText.isEmpty {
            guard let e = Int(endText), e >= start else { return .none }
            end = min(e, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .range(start...end)
    }

    /// Whether `Accept-Encoding` allows gzip (`gzip` or `*` with a non-zero quality).
    static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        var star: Bool?
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let name = parts.first else { continue }
            var quality = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") {
                quality = Double(parameter.dropFirst(2)) ?? 1
            }
            if name == "gzip" || name == "x-gzip" { return quality > 0 }
            if name == "*" { star = quality > 0 }
        }
        return star ?? false
    }
}
