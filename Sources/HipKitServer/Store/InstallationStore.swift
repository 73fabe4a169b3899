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
    /// Removes the installation with its settings and the glance data posted for it, and the
    /// glance data of the rooms it covered (every room, for a global one) that no installation
    /// left covers. False when there was none.
    @discardableResult
    func deleteInstallation(oauthId: String) async throws -> Bool
    func installations() async throws -> [Installation]

    /// Stores glance data for the whole add-on (`room` nil) or for one room — of every
    /// installation (`installation` nil) or of one, named by its oauthId (a room installation's
    /// data is for its room) — and queues its pushes
    /// (``OutboxItem/glancePushes(key:scope:data:installations:stored:)``) in the
    /// push outbox, in the same transaction: once this returns, the update reaches HipChat even
    /// if the server stops right after. A push still queued for the same installation, target
    /// and glance is replaced, so only the latest data is sent. Throws ``GlanceScopeError``,
    /// storing nothing, when `installation` is not installed or does not cover `room`.
    @discardableResult
    func putGlanceData(_ data: JSONNode, key: String, room: Int?, installation: String?) async throws
        -> QueuedPushes
    /// The data stored for exactly this glance, room and installation (nil: for all of them).
    func glanceData(key: String, room: Int?, installation: String?) async throws -> JSONNode?
    /// The data a view of `installation` in `room` shows for glance `key`, and whom it was
    /// posted for: the most specific there is (``GlanceDataScope/lookups(installation:room:)``).
    func shownGlanceData(key: String, installation: String, room: Int?) async throws -> ShownGlanceData?
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
    func glanceData(key: String, room: Int?, installation: String?) async throws -> JSONNode?
    /// ``InstallationStore/shownGlanceData(key:installation:room:)`` with these reads.
    func shownGlanceData(key: String, installation: String, room: Int?) async throws -> ShownGlanceData?
    /// What ``installation(oauthId:)`` would give, when the store holds it in memory at this
    /// version; nil when only a read can tell. Never waits, so the event loop may ask.
    func keptInstallation(oauthId: String) -> Installation??
    /// What ``glanceData(key:room:installation:)`` would give, when held in memory; nil when only
    /// a read can tell.
    func keptGlanceData(key: String, room: Int?, installation: String?) -> JSONNode??
}

extension StoreReads {
    public func keptInstallation(oauthId: String) -> Installation?? { nil }
    public func keptGlanceData(key: String, room: Int?, installation: String?) -> JSONNode?? { nil }
    /// One read per scope, most specific first.
    public func shownGlanceData(key: String, installation: String, room: Int?) async throws -> ShownGlanceData? {
        try await ShownGlanceData.first(installation: installation, room: room) { scope in
            try await glanceData(key: key, room: scope.room, installation: scope.installation)
        }
    }
}

/// Glance data a view shows, and whom it was posted for.
public struct ShownGlanceData: Sendable, Equatable {
    public var data: JSONNode
    public var scope: GlanceDataScope

    /// The data of the first of ``GlanceDataScope/lookups(installation:room:)`` that `read`
    /// finds some for.
    static func first(
        installation: String, room: Int?, read: (GlanceDataScope) async throws -> JSONNode?
    ) async throws -> ShownGlanceData? {
        for scope in GlanceDataScope.lookups(installation: installation, room: room) {
            if let data = try await read(scope) { return ShownGlanceData(data: data, scope: scope) }
        }
        return nil
    }
}

extension InstallationStore {
    /// Reads that are the store's own, for a store with nothing to check once per request.
    public func reads() throws -> any StoreReads { DirectReads(store: self) }
    /// Reads for the event loop: like ``reads()``, but nil rather than wait for anything.
    /// A store that keeps nothing in memory has nothing to offer there.
    public func readsWithoutWaiting() -> (any StoreReads)? { nil }
    /// A store that cannot see commits cheaply is looked at every time.
    public func commitVersion() -> Int64? { nil }
    /// One read per scope, most specific first.
    public func shownGlanceData(key: String, installation: String, room: Int?) async throws -> ShownGlanceData? {
        try await ShownGlanceData.first(installation: installation, room: room) { scope in
            try await glanceData(key: key, room: scope.room, installation: scope.installation)
        }
    }
    /// ``putGlanceData(_:key:room:installation:)`` for every installation.
    @discardableResult
    func putGlanceData(_ data: JSONNode, key: String, room: Int?) async throws -> QueuedPushes {
        try await putGlanceData(data, key: key, room: room, installation: nil)
    }
    /// ``glanceData(key:room:installation:)`` of the data stored for every installation.
    func glanceData(key: String, room: Int?) async throws -> JSONNode? {
        try await glanceData(key: key, room: room, installation: nil)
    }
    /// ``queueNotification(_:room:through:)`` for every installation covering `room`.
    func queueNotification(_ body: JSONNode, room: Int) async throws -> QueuedPushes {
        try await queueNotification(body, room: room, through: nil)
    }
}

/// ``StoreReads`` that ask the store each time.
private struct DirectReads<Store: InstallationStore>: StoreReads {
    let store: Store

    func installation(oauthId: String) async throws -> Installation? { try await store.installation(oauthId: oauthId) }
    func glanceData(key: String, room: Int?, installation: String?) async throws -> JSONNode? {
        try await store.glanceData(key: key, room: room, installation: installation)
    }
    func shownGlanceData(key: String, installation: String, room: Int?) async throws -> ShownGlanceData? {
        try await store.shownGlanceData(key: key, installation: installation, room: room)
    }
}
