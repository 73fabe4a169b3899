import Foundation
import HipChatConnect

/// What the runtime keeps between requests and restarts: installations, glance data posted by
/// the add-on's owner, and configuration settings.
///
/// Kept narrow on purpose, so another database (PostgreSQL for several servers behind one
/// load balancer) needs only these methods. Every write must be durable when it returns: the
/// server answers 2xx right after, and HipChat will not send an install twice.
public protocol InstallationStore: Sendable {
    /// Adds the installation, or replaces the one with the same `oauthId`.
    func upsert(_ installation: Installation) async throws
    func installation(oauthId: String) async throws -> Installation?
    /// Removes the installation with its settings, and the room glance data of a room
    /// installation no other installation shares. False when there was none.
    @discardableResult
    func deleteInstallation(oauthId: String) async throws -> Bool
    func installations() async throws -> [Installation]

    /// Stores glance data for the whole add-on (`room` nil) or for one room, and queues its
    /// pushes (``OutboxItem/pushes(key:room:data:installations:)``) in the push outbox, in the
    /// same transaction: once this returns, the update reaches HipChat even if the server stops
    /// right after. A push still queued for the same installation, target and glance is
    /// replaced, so only the latest data is sent.
    @discardableResult
    func putGlanceData(_ data: JSONNode, key: String, room: Int?) async throws -> QueuedPushes
    func glanceData(key: String, room: Int?) async throws -> JSONNode?
    /// The reads one request makes of installations and glance data: what they answer includes
    /// every write committed before this call. A store that keeps those reads in memory checks
    /// here, once per request, whether anything else has changed it, rather than once per read.
    func reads() throws -> any StoreReads
    /// ``reads()`` for the event loop: nil rather than wait for anything (a lock, the database).
    func readsWithoutWaiting() -> (any StoreReads)?
    /// Queues a room notification (HipChat's notification body) for every installation covering
    /// `room` — or only `oauthId`'s, when given and it covers the room — in one transaction:
    /// acknowledged means it will be delivered, through the outbox.
    func queueNotification(_ body: JSONNode, room: Int, through oauthId: String?) async throws -> QueuedPushes

    /// Stores an installation's settings, for the installation (`room` nil) or one room.
    func putSettings(_ values: [String: JSONNode], oauthId: String, room: Int?) async throws
    func settings(oauthId: String, room: Int?) async throws -> [String: JSONNode]?

    // MARK: The push outbox

    /// Takes up to `limit` queued pushes that are due at `now` and not taken, for `lease`: until
    /// it runs out no other caller (in this process or another server) gets them. A server that
    /// dies while delivering leaves them to be taken again when the lease ends. `now` is the
    /// caller's clock (the server's `Date()`), so that tests can look ahead without waiting.
    func claimPushes(limit: Int, lease: Duration, now: Date) async throws -> [ClaimedOutboxItem]
    /// Removes a push that was delivered, or given up. When newer data arrived meanwhile, the
    /// newer push stays, due at once.
    func finishPush(_ claimed: ClaimedOutboxItem) async throws
    /// Releases a push that failed, to be taken again at `due`, with one more failed attempt
    /// counted. When newer data arrived meanwhile, that is due at once, counted afresh.
    func retryPush(_ claimed: ClaimedOutboxItem, at due: Date) async throws
    /// When the next queued push can be taken (due, and its lease over); nil when none is queued.
    func nextPushDue() async throws -> Date?
    /// A number that changes whenever anything may have been committed to the store, by this
    /// process or another; nil when the store cannot tell without reading. The push outbox skips
    /// its periodic look while it stays the same and nothing queued is due.
    func commitVersion() -> Int64?

    // MARK: Copying

    /// Everything the store holds, in a stable order.
    func contents() async throws -> StoreContents
    /// Fills an empty store with `contents`, in one transaction. Throws ``StoreNotEmptyError``,
    /// changing nothing, when the store holds anything already.
    func restore(_ contents: StoreContents) async throws

    /// Flushes and closes; called once, at shutdown.
    func close() async throws
}

/// A request's reads of an ``InstallationStore`` (``InstallationStore/reads()``).
public protocol StoreReads: Sendable {
    func installation(oauthId: String) async throws -> Installation?
    func glanceData(key: String, room: Int?) async throws -> JSONNode?
    /// What ``installation(oauthId:)`` would give, when the store holds it in memory at this
    /// version; nil when only a read can tell. Never waits, so the event loop may ask.
    func keptInstallation(oauthId: String) -> Installation??
    /// What ``glanceData(key:room:)`` would give, when held in memory; nil when only a read can tell.
    func keptGlanceData(key: String, room: Int?) -> JSONNode??
}

extension StoreReads {
    public func keptInstallation(oauthId: String) -> Installation?? { nil }
    public func keptGlanceData(key: String, room: Int?) -> JSONNode?? { nil }
}

extension InstallationStore {
    /// Reads that are the store's own, for a store with nothing to check once per request.
    public func reads() throws -> any StoreReads { DirectReads(store: self) }
    /// Reads for the event loop: like ``reads()``, but nil rather than wait for anything.
    /// A store that keeps nothing in memory has nothing to offer there.
    public func readsWithoutWaiting() -> (any StoreReads)? { nil }
    /// A store that cannot see commits cheaply is looked at every time.
    public func commitVersion() -> Int64? { nil }
    /// ``queueNotification(_:room:through:)`` for every installation covering `room`.
    func queueNotification(_ body: JSONNode, room: Int) async throws -> QueuedPushes {
        try await queueNotification(body, room: room, through: nil)
    }
}

/// ``StoreReads`` that ask the store each time.
private struct DirectReads<Store: InstallationStore>: StoreReads {
    let store: Store

    func installation(oauthId: String) async throws -> Installation? { try await store.installation(oauthId: oauthId) }
    func glanceData(key: String, room: Int?) async throws -> JSONNode? {
        try await store.glanceData(key: key, room: room)
    }
}
