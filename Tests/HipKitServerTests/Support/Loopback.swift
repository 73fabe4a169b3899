import TestProcesses

/// This target's loopback ports (see ``LoopbackPorts``); HipKitTests hands out others.
enum Loopback {
    static let ports = LoopbackPorts(26000..<32000)

    /// A loopback port nobody listens on now, for a server that cannot pick its own.
    static func freePort() throws -> Int { try ports.free() }

    /// A socket listening on a free loopback port; the caller closes `fd`.
    static func listeningSocket() throws -> (port: Int, fd: Int32) { try ports.listening() }
}
