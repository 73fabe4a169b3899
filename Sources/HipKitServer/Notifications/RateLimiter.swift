import Foundation
import Synchronization

/// A token bucket per key: `perMinute` at once, refilled evenly over the minute. In memory, per
/// server: several servers behind a balancer each allow their own share, which bounds a runaway
/// page well enough without a database round trip per request.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let buckets = Mutex<[String: Bucket]>([:])
    /// Keys kept at most; the fullest buckets (which would allow anyway) are dropped first.
    private let capacity: Int
    private let now: @Sendable () -> ContinuousClock.Instant

    init(capacity: Int = 10_000, now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }) {
        self.capacity = capacity
        self.now = now
    }

    /// Takes one request for `key`: nil when allowed, else how long until one would be.
    func take(_ key: String, perMinute: Int) -> Duration? {
        let rate = Double(max(perMinute, 1)) / 60
        let limit = Double(max(perMinute, 1))
        let now = self.now()
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: limit, updated: now)
            let elapsed = (now - bucket.updated) / .seconds(1)
            bucket.tokens = min(limit, bucket.tokens + max(elapsed, 0) * rate)
            bucket.updated = now
            defer {
                buckets[key] = bucket
                if buckets.count > capacity {
                    let full = buckets.filter { $0.value.tokens >= limit }.keys.prefix(buckets.count - capacity)
                    for key in full { buckets[key] = nil }
                }
            }
            guard bucket.tokens >= 1 else {
                return .milliseconds(Int64(((1 - bucket.tokens) / rate * 1000).rounded(.up)))
            }
            bucket.tokens -= 1
            return nil
        }
    }
}
