import Logging
import ServiceLifecycle
import UnixSignals

/// Services that run until SIGTERM or SIGINT. The first signal stops them gracefully: no new
/// connections, and the requests in flight finish. A second, while those finish (a request
/// waiting on a HipChat that does not answer takes up to the outgoing timeout), stops them at
/// once, as a second Ctrl-C is expected to.
///
/// The signals are counted here, not by ServiceLifecycle: it refuses a signal that is both a
/// graceful-shutdown and a cancellation signal, and two handlers of their own (the group's and
/// one counting) could each see a first signal the other missed.
struct SignalledServices: Sendable {
    let group: ServiceGroup

    /// A second signal this soon after the first is the same Ctrl-C delivered twice: a wrapper
    /// such as `npm run` passes its own on to the process it started, which has the terminal's.
    static let sameSignal: Duration = .milliseconds(500)

    init(_ services: [any Service], logger: Logger) {
        group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: logger))
    }

    func run() async throws {
        // Trapped before the group starts, so that no signal comes between.
        let signals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                var received = signals.makeAsyncIterator()
                guard await received.next() != nil else { return }
                let first = ContinuousClock.now
                await group.triggerGracefulShutdown()
                while await received.next() != nil {
                    if ContinuousClock.now - first >= Self.sameSignal { return }
                }
            }
            // The group's end (or error), or a second signal: the other task is then cancelled,
            // which for the group means stopping at once.
            try await tasks.next()
            tasks.cancelAll()
        }
    }
}
