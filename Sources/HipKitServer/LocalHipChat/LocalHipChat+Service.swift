import HipChatConnect
import ServiceLifecycle

extension LocalHipChat: Service {
    /// Runs with the server; at shutdown it writes the state still due and ends the room pages'
    /// event streams, so the server stops even with a room open in a browser.
    public func run() async throws {
        try? await gracefulShutdown()
        flushState()
        log.finishAll()
    }
}
