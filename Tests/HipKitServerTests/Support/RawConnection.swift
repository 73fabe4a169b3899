import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A bare TCP client for what HTTP clients will not do: send half a request and wait.
enum RawConnection {
    /// Connects to localhost:`port`, sends `bytes`, then waits until the server closes the
    /// connection (true) or `timeout` seconds pass (false).
    static func sendAndWaitForClose(port: Int, bytes: String, timeout: TimeInterval) async throws -> Bool {
        try await run(port: port, bytes: bytes, timeout: timeout).closed
    }

    /// Sends a whole request and returns what came back before the server closed.
    static func exchange(port: Int, bytes: String) async throws -> String {
        String(decoding: try await run(port: port, bytes: bytes, timeout: 10).received, as: UTF8.self)
    }

    private static func run(port: Int, bytes: String, timeout: TimeInterval) async throws -> (closed: Bool, received: [UInt8]) {
        try await Task.detached {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            var received: [UInt8] = []
            guard getaddrinfo("localhost", String(port), &hints, &list) == 0, let first = list else { return (false, received) }
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
        }.value
    }
}
