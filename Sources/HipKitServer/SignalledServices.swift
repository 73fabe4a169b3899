import Logging
import ServiceLifecycle
import UnixSignals

/// Services that run until SIGTERM or SIGINT. The first signal stops them gracefully: no new
/// connections, and the requests in flight finish. A second, while those finish (a request
/// waiting on a HipChat that does not answer takes up to the outgoing timeout), stops them at
/// once, as a second Ctrl-C is expected to.
///
/// ServiceLifecycle cannot do both itself: it refuses a signal that is both a graceful shutdown
/// signal and a cancellation signal, so the second one is counted here.
struct SignalledServices: Sendable {
    let group: ServiceGroup

    init(_ services: [any Service], logger: Logger) {
        group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
    }

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                var signals = await UnixSignalsSequence(trapping: .sigterm, .sigint).makeAsyncIterator()
                // The first is the group's graceful shutdown; the second ends the wait for it.
                for _ in 0..<2 {
                    guard await signals.next() != nil else { return }
                }
            }
            // The group's end (or error), or the second signal: the other task is then
            // cancelled, which for the group means stopping at once.
            try await tasks.next()
            tasks.cancelAll()
        }
    }
}
