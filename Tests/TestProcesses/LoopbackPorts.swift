import Foundation
import Synchronization

/// Loopback ports for servers the tests start that cannot pick their own (PostgreSQL, nginx,
/// `hipkit dev`), and sockets that hold one taken.
///
/// Not the kernel's choice (binding port 0): that comes from the ephemeral range
/// (32768–60999), from which every server the tests start on port 0 is given one too, so between
/// handing one out and the server's own bind another test's server could take it — seen as a
/// `hipkit dev` that found its port taken. Ports here come from below that range, each handed
/// out once a run (each test target has a range of its own), and only when one can be bound now.
public final class LoopbackPorts: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let range: Range<Int>
    private let next: Mutex<Int>

    public init(_ range: Range<Int>) {
        self.range = range
        next = Mutex(range.lowerBound + Int.random(in: 0..<range.count))
    }

    /// A loopback port nobody listens on now.
    public func free() throws -> Int {
        try next.withLock { next in
            for _ in 0..<range.count {
                let port = next
                next = next + 1 == range.upperBound ? range.lowerBound : next + 1
                if let fd = Self.boundSocket(port) {
                    close(fd)
                    return port
                }
            }
            throw Failure(description: "no free loopback port in \(range)")
        }
    }

    /// A socket listening on a free loopback port, for a test of what a server does when its
    /// port is taken; the caller closes `fd`.
    public func listening() throws -> (port: Int, fd: Int32) {
        let port = try free()
        guard let fd = Self.boundSocket(port) else { throw Failure(description: "cannot bind \(port)") }
        guard listen(fd, 1) == 0 else {
            close(fd)
            throw Failure(description: "cannot listen on \(port)")
        }
        return (port, fd)
    }

    /// A socket bound to 127.0.0.1:`port` with `SO_REUSEADDR` (as servers bind), or nil.
    private static func boundSocket(_ port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        guard bound else {
            close(fd)
            return nil
        }
        return fd
    }
}
