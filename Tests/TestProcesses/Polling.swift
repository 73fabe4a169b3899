import Foundation

/// Waiting in async tests for what another task or process brings about.
public enum Polling {
    /// Whether `condition` holds within `seconds`, asked every `interval`, and once more after
    /// the deadline: a test's task that other suites kept from running past the deadline (they
    /// can hold the concurrency pool's threads for seconds) still sees what happened meanwhile.
    public static func holds(
        within seconds: Double, every interval: Duration, _ condition: () async throws -> Bool
    ) async rethrows -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: interval)
        }
        return try await condition()
    }
}
