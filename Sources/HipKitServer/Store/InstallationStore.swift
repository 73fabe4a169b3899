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

    /// Stores glance data for the whole add-on (`room` nil) or for one room.
    func putGlanceData(_ data: JSONNode, key: String, room: Int?) async throws
    func glanceData(key: String, room: Int?) async throws -> JSONNode?

    /// Stores an installation's settings, for the installation (`room` nil) or one room.
    func putSettings(_ values: [String: JSONNode], oauthId: String, room: Int?) async throws
    func settings(oauthId: String, room: Int?) async throws -> [String: JSONNode]?

    /// Flushes and closes; called once, at shutdown.
    func close() async throws
}
