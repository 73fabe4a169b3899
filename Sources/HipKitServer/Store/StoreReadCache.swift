import Foundation
import Synchronization

/// What the SQLite store answers on every JWT-checked request — an installation by its
/// oauthId, a glance's data — kept in memory for a short while, so that a glance query is not a
/// database read (a hop to GRDB's reader queue, a statement, a decryption) each time.
///
/// Every write through the store empties it at once, so within one server a change (an
/// uninstall, a glance update) is seen by the very next request. A write by another process on
/// the same file — which hipkit does not do while a server runs (`rotate-key` and `copy-store`
/// want it stopped) — is seen within ``lifetime``.
///
/// A read that raced a write must not put the old value back after the write emptied the
/// cache: each read takes a ``ticket()`` first, and its value is kept only if no write came
/// since.
final class StoreReadCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// How long an entry is trusted without a write having emptied the cache.
    static var lifetime: Duration { .seconds(1) }
    private static var limit: Int { 10_000 }

    private struct State {
        var epoch = 0
        var entries: [Key: (value: Value, until: ContinuousClock.Instant)] = [:]
    }

    private let state = Mutex(State())

    /// The kept value (which may be a kept "nothing", as `.some(nil)`), or nil when there is none.
    func lookup(_ key: Key) -> Value? {
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let entry = state.entries[key], entry.until > now else { return nil }
            return entry.value
        }
    }

    func ticket() -> Int { state.withLock { $0.epoch } }

    func store(_ value: Value, for key: Key, ticket: Int) {
        let until = ContinuousClock.now + Self.lifetime
        state.withLock { state in
            guard state.epoch == ticket else { return }
            if state.entries.count >= Self.limit { state.entries.removeAll() }
            state.entries[key] = (value, until)
        }
    }

    /// A write happened: nothing kept is trusted any more.
    func invalidate() {
        state.withLock { state in
            state.epoch += 1
            state.entries.removeAll()
        }
    }
}
