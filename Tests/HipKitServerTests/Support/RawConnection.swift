import Foundation
import HipChatConnect
import TestProcesses

#if canImport(Glibc)
    import Glibc
#endif

/// A bare TCP client for what HTTP clients will not do: send half a request and wait.
///
/// Its sockets block, so they run on a thread of their own (``Blocking``): on Swift's
/// concurrency pool — two threads here — two waiting clients would leave no thread for the
/// server under test, whose handlers run there too, and a request would go unanswered until the
/// client gave up (an empty answer, seen once in CI as a traversal "answered" with nothing).
enum RawConnection {
    /// Connects to localhost:`port`, sends `bytes`, then waits until the server closes the
    /// connection (true) or `timeout` seconds pass (false).
    static func sendAndWaitForClose(port: Int, bytes: String, timeout: TimeInterval) async throws -> Bool {
        try await run(port: port, bytes: bytes, timeout: timeout).closed
    }

    /// Sends a whole request and returns what came back before the server closed (every caller
    /// asks it to). The 30 s are for a server in this process, whose answer other suites can
    /// keep waiting for a thread of the concurrency pool for seconds.
    static func exchange(port: Int, bytes: String) async throws -> String {
        String(decoding: try await run(port: port, bytes: bytes, timeout: 30).received, as: UTF8.self)
    }

    private static func run(port: Int, bytes: String, timeout: TimeInterval) async throws -> (
        closed: Bool, received: [UInt8]
    ) {
        try await Blocking.run {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            var received: [UInt8] = []
            guard getaddrinfo("localhost", String(port), &hints, &list) == 0, let first = list else {
                return (false, received)
            }
            defer { freeaddrinfo(list) }
            var fd: Int32 = -1
            var entry: UnsafeMutablePointer<addrinfo>? = first
            while let current = entry {
                fd = socket(current.pointee.ai_family, current.pointee.ai_socktype, current.pointee.ai_protocol)
                if fd >= 0, connect(fd, current.pointee.ai_addr, current.pointee.ai_addrlen) == 0 { break }
                if fd >= 0 { close(fd) }
                fd = -1
                entry = current.pointee.ai_next
            }
            guard fd >= 0 else { return (false, received) }
            defer { close(fd) }
            _ = bytes.withCString { send(fd, $0, strlen($0), 0) }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let deadline = Date().addingTimeInterval(timeout)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while Date() < deadline {
                let ready = poll(&poller, 1, 100)
                if ready > 0 {
                    let n = recv(fd, &buffer, buffer.count, 0)
                    if n <= 0 { return (true, received) }  // closed (or reset)
                    received += buffer[0..<n]
                }
            }
            return (false, received)
        }
    }
}

extension RawConnection {
    /// What came back on a connection the test drove by hand.
    struct Outcome: Sendable {
        /// The server closed the connection (or reset it) before `timeout`.
        var closed: Bool
        var received: [UInt8]
        /// How many parts were sent whole before the server stopped taking them.
        var partsSent: Int
        /// From the connect to the close (or to the end of `timeout`), timed on the thread that
        /// drove it: a test's own clock also counts the time its task waited for a thread.
        var lasted: Duration = .zero
        /// From the first byte received to the close (or to the end of `timeout`); nil when
        /// nothing came. Timed as `lasted`.
        var sinceFirstByte: Duration?

        var text: String { String(decoding: received, as: UTF8.self) }
        /// The status code of the first answer, if one came.
        var status: Int? {
            guard text.hasPrefix("HTTP/1.1 ") else { return nil }
            return Int(text.dropFirst(9).prefix(3))
        }
        /// The header block of the first answer, one line each.
        var headerLines: [String] {
            guard let end = text.range(of: "\r\n\r\n") else { return [] }
            return text[..<end.lowerBound].components(separatedBy: "\r\n")
        }
    }

    /// Sends `parts` one after the other, waiting `pause` before each part after the first, and
    /// reads until the server closes, `enough` holds for what came, or `timeout` seconds pass
    /// after the last part. Writes use `MSG_NOSIGNAL`: a server that hangs up mid-request must
    /// fail the write, not kill the test process with SIGPIPE.
    static func drive(
        port: Int, parts: [[UInt8]], pause: Duration = .zero, timeout: TimeInterval = 30,
        until enough: @escaping ([UInt8]) -> Bool = { _ in false }
    ) async throws
        -> Outcome
    {
        try await Blocking.run {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_family = AF_INET
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo("127.0.0.1", String(port), &hints, &list) == 0, let first = list else {
                return Outcome(closed: false, received: [], partsSent: 0)
            }
            defer { freeaddrinfo(list) }
            let fd = socket(first.pointee.ai_family, first.pointee.ai_socktype, first.pointee.ai_protocol)
            guard fd >= 0, connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
                if fd >= 0 { close(fd) }
                return Outcome(closed: false, received: [], partsSent: 0)
            }
            defer { close(fd) }
            let connected = ContinuousClock.now
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            var closed = false
            var firstByte: ContinuousClock.Instant?
            /// Reads what is there, for up to `milliseconds`; notes a close.
            func drain(_ milliseconds: Int32) {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                while !closed, poll(&poller, 1, milliseconds) > 0 {
                    let n = recv(fd, &buffer, buffer.count, 0)
                    if n <= 0 {
                        closed = true
                    } else {
                        if firstByte == nil { firstByte = ContinuousClock.now }
                        received += buffer[0..<n]
                    }
                }
            }
            var sent = 0
            for (index, part) in parts.enumerated() {
                if index > 0, pause > .zero {
                    let deadline = ContinuousClock.now + pause
                    while !closed, ContinuousClock.now < deadline { drain(50) }
                }
                if closed { break }
                var offset = 0
                var failed = false
                while offset < part.count {
                    let n = part[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if n <= 0 {
                        failed = true
                        break
                    }
                    offset += n
                    drain(0)
                }
                // A refused write means the server hung up: read what it said before.
                if failed { break }
                sent += 1
            }
            let deadline = Date().addingTimeInterval(timeout)
            while !closed, !enough(received), Date() < deadline { drain(100) }
            let end = ContinuousClock.now
            return Outcome(
                closed: closed, received: received, partsSent: sent, lasted: end - connected,
                sinceFirstByte: firstByte.map { end - $0 })
        }
    }

    /// One request's bytes: `head` (request line and headers, without the blank line) and `body`.
    static func request(_ head: String, body: [UInt8] = []) -> [UInt8] {
        Array((head + "\r\n\r\n").utf8) + body
    }
}
