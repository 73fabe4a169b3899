import Foundation
import Synchronization

/// Ports on 127.0.0.1 for servers the tests start (PostgreSQL, nginx) that cannot pick their own.
enum Loopback {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A loopback port nobody listens on now, for a server that cannot pick its own.
    ///
    /// Not the kernel's choice (binding port 0): that comes from the ephemeral range
    /// (32768–60999), from which every server the tests start on port 0 is given one too, so
    /// between this call and the server's own bind another test's server could take it — seen
    /// as a `hipkit dev` that found its port taken. Ports here come from below that range, each
    /// handed out once a run (the two test targets use ranges of their own), and only when one
    /// can be bound now.
    static func freePort() throws -> Int {
        try nextPort.withLock { next in
            for _ in 0..<portRange.count {
                let port = next
                next = next + 1 == portRange.upperBound ? portRange.lowerBound : next + 1
                if canBind(port) { return port }
            }
            throw Failure(description: "no free loopback port")
        }
    }

    private static let portRange = 26000..<32000
    private static let nextPort = Mutex(portRange.lowerBound + Int.random(in: 0..<portRange.count))

    /// Whether a server could bind `port` on 127.0.0.1 now (with `SO_REUSEADDR`, as servers do).
    private static func canBind(_ port: Int) -> Bool {
        guard let fd = boundSocket(port) else { return false }
        close(fd)
        return true
    }

    /// A socket listening on a free loopback port, for a test of what a server does when its
    /// port is taken; the caller closes `fd`.
    static func listeningSocket() throws -> (port: Int, fd: Int32) {
        let port = try freePort()
        guard let fd = boundSocket(port) else { throw Failure(description: "cannot bind \(port)") }
        guard listen(fd, 1) == 0 else {
            close(fd)
            throw Failure(description: "cannot listen on \(port)")
        }
        return (port, fd)
    }

    /// A socket bound to 127.0.0.1:`port` with `SO_REUSEADDR`, or nil.
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
