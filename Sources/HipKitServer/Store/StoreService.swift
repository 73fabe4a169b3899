import HipChatConnect
import ServiceLifecycle

/// Closes the store when the server shuts down, after the HTTP server has finished its
/// in-flight requests (services stop in the reverse order they were listed, and this one is
/// listed first).
struct StoreService: Service {
    let store: any InstallationStore

    func run() async throws {
        try? await gracefulShutdown()
        try await store.close()
    }
}
