import Foundation

/// CPU time spent by the calling thread, for bounds on work rather than on waiting.
///
/// A wall-clock bound measures the machine as much as the code: with both cores busy (CI runs the
/// suites in parallel, and a loaded runner adds more) a case that needs one second of work can take
/// six on the clock. The thread's own CPU time does not grow with load, so a bound on it fails only
/// when the work itself grows — the quadratic blow-up such bounds exist to catch.
enum ThreadCPUTime {
    static func now() -> Duration {
        var spec = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec) == 0 else { return .zero }
        return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
    }

    /// Runs `body` and returns the CPU time the calling thread spent in it.
    static func measure(_ body: () throws -> Void) rethrows -> Duration {
        let start = now()
        try body()
        return now() - start
    }
}
