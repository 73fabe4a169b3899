import Foundation
import Synchronization

/// What the SQLite store answers on every JWT-checked request — an installation by its
/// oauthId, a glance's data — kept in memory, so that a glance query is not a database read (a
/// hop to GRDB's reader queue, a statement, a decryption) each time.
///
/// Every write through the store empties it at once, so within one server a change (an
/// uninstall, a glance update) is seen by the very next request. A write by anything else on
/// the same file — another store on it, another process (`hipkit copy-store`, `rotate-key`, a
/// second server started on the folder by mistake) — is seen by the next read too: every
/// lookup is made at the file's ``SQLiteCommits/current()`` version, and entries kept at
/// another version are dropped.
///
/// A read that raced a write must not put the old value back after the write emptied the
/// cache: a lookup that finds nothing hands out a ticket, the caller reads the database only
/// after that, and its value is kept only if the cache was not emptied since.
final class StoreReadCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private static var limit: Int { 10_000 }

    enum Lookup {
        /// The kept value (which may be a kept "nothing").
        case kept(Value)
        /// Nothing kept: read the database, then ``store(_:for:ticket:)`` what it said.
        case missing(ticket: Int)
    }

    private struct State {
        /// The version of the file the entries were read at; nil before the first lookup.
        var version: Int64?
        var epoch = 0
        var entries: [Key: Value] = [:]
    }

    private let state = Mutex(State())

    /// The value kept for `key`, when what is kept was read at `version` of the file (which the
    /// caller has just taken from ``SQLiteCommits``).
    ///
    /// Why this is sound: entries are kept under one version label, and the label is only ever
    /// set by a lookup that saw that version, so every commit that made it was in before the
    /// label was set; a ticket is handed out under the label, and the read it covers starts
    /// after, so it sees at least those commits. A lookup at another version (a commit since,
    /// or a caller that looked a moment earlier) empties the cache and takes its version as
    /// the label: at worst a value is read again.
    func lookup(_ key: Key, at version: Int64) -> Lookup {
        state.withLock { state in
            if state.version != version {
                state.version = version
                state.epoch += 1
                state.entries.removeAll()
            }
            if let value = state.entries[key] { return .kept(value) }
            return .missing(ticket: state.epoch)
        }
    }

    /// The value for `key` at `version`: the kept one, else what `read` gives, which is kept
    /// unless a write emptied the cache while it was read.
    func value(for key: Key, at version: Int64, read: () async throws -> Value) async rethrows -> Value {
        switch lookup(key, at: version) {
        case .kept(let value):
            return value
        case .missing(let ticket):
            let value = try await read()
            store(value, for: key, ticket: ticket)
            return value
        }
    }

    /// The value kept for `key` at `version`, if any: ``lookup(_:at:)`` without the ticket.
    func kept(_ key: Key, at version: Int64) -> Value? {
        if case .kept(let value) = lookup(key, at: version) { return value }
        return nil
    }

    func store(_ value: Value, for key: Key, ticket: Int) {
        state.withLock { state in
            guard state.epoch == ticket else { return }
            if state.entries.count >= Self.limit { state.entries.removeAll() }
            state.entries[key] = value
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
