import Foundation

/// Blocking work for async tests: child processes, browser sessions, polling loops.
///
/// Swift's concurrency pool has as many threads as the machine has cores — two here — and a
/// test that blocks one of them for seconds stalls every async test of the process meanwhile,
/// long enough for a time limit to fire in an unrelated suite. The work runs on a thread of its
/// own instead, and the test awaits it; expectations stay in the test's task.
public enum Blocking {
    /// `work` may capture what is not `Sendable`: the awaiting test is suspended until it
    /// returns, so nothing it touches is used from two threads at once.
    public static func run<T>(_ work: @escaping () throws -> T) async throws -> T {
        nonisolated(unsafe) let work = work
        let box: Box<T> = try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { Box(value: try work()) }) }
            thread.stackSize = 8 << 20
            thread.start()
        }
        return box.value
    }

    private struct Box<T>: @unchecked Sendable {
        var value: T
    }
}
