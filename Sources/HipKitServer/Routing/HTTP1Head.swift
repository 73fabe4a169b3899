import Foundation
import HTTPTypes
import NIOCore

/// An HTTP/1.1 answer's head as the bytes that go on the wire, for the answers
/// ``EventLoopAnswers`` writes below NIO's response encoder.
///
/// Why not the encoder: turning Swift HTTP Types' fields into NIO's, then into bytes, was a
/// third of the work of answering a 5 KB page (28k of 89k instructions a request, by
/// callgrind). A file's head is made here once, when the build is read, and a request only
/// adds its `Date` line. Field names and values come from `HTTPFields`, which has already
/// refused anything that could break a line.
enum HTTP1Head {
    /// `HTTP/1.1 <status>`, the `fields` and `server: <serverName>`, each on its line; the
    /// blank line that ends a head is left to ``DateLine``.
    static func start(status: HTTPResponse.Status, fields: HTTPFields, serverName: String?) -> ByteBuffer {
        start(
            code: status.code, reason: status.reasonPhrase, fields: fields.lazy.map { ($0.name.rawName, $0.value) },
            serverName: serverName)
    }

    /// The same from a status code, its reason phrase and the fields as names and values (NIO's
    /// `HTTPHeaders`, for the answers ``EventLoopAnswers`` passes down).
    static func start(
        code: Int, reason: String, fields: some Sequence<(String, String)>, serverName: String?
    ) -> ByteBuffer {
        // Gathered in an array and copied once: a `ByteBuffer` write checks its capacity and
        // its storage's uniqueness each time, which was most of the cost of a head.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(512)
        func line(_ name: String, _ value: String) {
            bytes.append(contentsOf: name.utf8)
            bytes.append(contentsOf: ": ".utf8)
            bytes.append(contentsOf: value.utf8)
            bytes.append(contentsOf: "\r\n".utf8)
        }
        bytes.append(contentsOf: "HTTP/1.1 ".utf8)
        bytes.append(contentsOf: String(code).utf8)
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: reason.utf8)
        bytes.append(contentsOf: "\r\n".utf8)
        for (name, value) in fields { line(name, value) }
        if let serverName { line("server", serverName) }
        return ByteBuffer(bytes: bytes)
    }
}

/// The `Date` line that ends an answer's head (`date: …` and the blank line), made again only
/// when the second changes.
struct DateLine {
    private var second = 0
    private var line = ByteBuffer()

    mutating func now() -> ByteBuffer {
        let current = time(nil)
        if current != second || line.readableBytes == 0 {
            second = current
            line.clear()
            line.writeStaticString("date: ")
            line.writeString(HTTPDate.string(Date(timeIntervalSince1970: TimeInterval(current))))
            line.writeStaticString("\r\n\r\n")
        }
        return line
    }
}
