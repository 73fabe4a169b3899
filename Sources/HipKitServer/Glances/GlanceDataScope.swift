import HipChatConnect

/// Whom posted glance data is for: one room or every room (`room` nil), of one installation or of
/// every installation (`installation` nil, an oauthId otherwise).
///
/// Why installations: room ids are HipChat's, and every HipChat Server numbers its rooms from 1.
/// With an add-on installed globally on two of them, data for room 5 alone would show in room 5
/// of both; data for room 5 of one installation shows only there.
///
/// A view sees the most specific data that applies to it (``rank(installation:room:)``), the
/// order HipChat itself keeps for pushed data, where a room's value hides the group's: the
/// room's data for its installation, the room's, the installation's, the add-on's.
public struct GlanceDataScope: Sendable, Hashable {
    public var installation: String?
    public var room: Int?

    public init(installation: String?, room: Int?) {
        self.installation = installation
        self.room = room
    }

    /// The scopes a view of `installation` in `room` (nil: no room, or the whole group) may read,
    /// most specific first.
    public static func lookups(installation: String, room: Int?) -> [GlanceDataScope] {
        var scopes: [GlanceDataScope] = []
        if let room {
            scopes.append(GlanceDataScope(installation: installation, room: room))
            scopes.append(GlanceDataScope(installation: nil, room: room))
        }
        scopes.append(GlanceDataScope(installation: installation, room: nil))
        scopes.append(GlanceDataScope(installation: nil, room: nil))
        return scopes
    }

    /// Where this data stands for a view of `installation` in `room` (nil: the whole group):
    /// its place in ``lookups(installation:room:)``, 0 for the most specific; nil when it does
    /// not apply there.
    func rank(installation: String, room: Int?) -> Int? {
        Self.lookups(installation: installation, room: room).firstIndex(of: self)
    }
}

/// Glance data was posted for an installation that cannot show it.
public enum GlanceScopeError: Error, Equatable, CustomStringConvertible {
    /// No installation has this oauthId.
    case notInstalled(String)
    /// The installation is for another room.
    case roomNotCovered(installation: String, room: Int, installedIn: Int)

    public var description: String {
        switch self {
        case .notInstalled(let id):
            "no installation has oauthId '\(id)'; GET /admin/installations lists them"
        case .roomNotCovered(let id, let room, let installedIn):
            "installation '\(id)' is installed in room \(installedIn) only, not in room \(room)"
        }
    }
}

extension GlanceDataScope {
    /// This scope as data is stored for it: data for a room installation is for its room (HipChat
    /// shows a room installation in that room only, and keeps one value there). Throws when
    /// it names an installation that is not among `installations` or does not cover its room.
    func resolved(in installations: [Installation]) throws(GlanceScopeError) -> GlanceDataScope {
        guard let id = installation else { return self }
        guard let named = installations.first(where: { $0.oauthId == id }) else { throw .notInstalled(id) }
        guard let installedIn = named.roomId else { return self }
        if let room, room != installedIn {
            throw .roomNotCovered(installation: id, room: room, installedIn: installedIn)
        }
        return GlanceDataScope(installation: id, room: installedIn)
    }
}

extension OutboxItem {
    /// The pushes glance data posted for `scope` (``GlanceDataScope/resolved(in:)``) makes, and
    /// the installations left out for lack of verification: one per installation the scope
    /// concerns, to the place HipChat shows it (``pushes(key:room:data:installations:)``) —
    /// unless `stored` holds data of that glance more specific there, which HipChat shows
    /// instead and which this must not overwrite.
    ///
    /// Stores call this inside the transaction that saves the data, with the installations and
    /// the glance's stored scopes of that moment.
    static func glancePushes(
        key: String, scope: GlanceDataScope, data: JSONNode, installations: [Installation], stored: [GlanceDataScope]
    ) -> ([OutboxItem], QueuedPushes) {
        var concerned = installations
        if let id = scope.installation {
            concerned = installations.filter { $0.oauthId == id }
        }
        if let room = scope.room {
            concerned = concerned.filter { $0.roomId == nil || $0.roomId == room }
        }
        concerned = concerned.filter { installation in
            // Where HipChat shows it: the room, or a room installation's room, or the group.
            let shownIn = scope.room ?? installation.roomId
            guard let rank = scope.rank(installation: installation.oauthId, room: shownIn) else { return false }
            return !stored.contains { other in
                guard other != scope, let shadows = other.rank(installation: installation.oauthId, room: shownIn) else {
                    return false
                }
                return shadows < rank
            }
        }
        let pushes = pushes(key: key, room: scope.room, data: data, installations: concerned)
        let unverified = concerned.filter { $0.apiUrl == nil || $0.tokenUrl == nil }.map(\.oauthId)
        return (pushes, QueuedPushes(pushes: pushes.count, unverified: unverified))
    }
}
