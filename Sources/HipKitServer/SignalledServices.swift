import Dispatch
import Foundation
import Logging
import ServiceLifecycle

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
        let (arrivals, sources) = await Self.signals()
        defer { for source in sources { source.cancel() } }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            tasks.addTask {
                var received = arrivals.makeAsyncIterator()
                guard let first = await received.next() else { return }
                await group.triggerGracefulShutdown()
                while let next = await received.next() {
                    if next - first >= Self.sameSignal { return }
                }
            }
            // The group's end (or error), or a second signal: the other task is then cancelled,
            // which for the group means stopping at once.
            try await tasks.next()
            tasks.cancelAll()
        }
    }

    /// When each SIGTERM or SIGINT came, timed by Dispatch's handler as it is delivered rather
    /// than by the task that reads it: a task reading the second one late, on a busy machine,
    /// made one Ctrl-C delivered twice look like two, and the server stopped its requests at once.
    /// (swift-service-lifecycle's `UnixSignalsSequence`, used before, yields the signal alone.)
    /// Returns once both are registered, so that none comes unseen.
    private static func signals() async -> (AsyncStream<ContinuousClock.Instant>, [any DispatchSourceSignal]) {
        let (stream, continuation) = AsyncStream.makeStream(of: ContinuousClock.Instant.self)
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            #if canImport(Darwin)
                // Dispatch's signal sources use kqueue there, below signal handling: the default
                // action must be off for them to see the signal.
                signal(number, SIG_IGN)
            #endif
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield(.now) }
            await withCheckedContinuation { (registered: CheckedContinuation<Void, Never>) in
                source.setRegistrationHandler { registered.resume() }
                source.resume()
            }
            sources.append(source)
        }
        return (stream, sources)
    }

    private static let queue = DispatchQueue(label: "hipkit.signals")
}
