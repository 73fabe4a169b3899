import Foundation
import HipChatConnect

/// One delivery to one installation's HipChat — a glance update or a room notification — as the
/// store's push outbox holds it.
public struct OutboxItem: Sendable, Equatable {
    /// What the item delivers, which says what its key is.
    public enum Kind: String, Sendable, Equatable {
        /// Glance data: the key is the glance's, and the outbox keeps one item per installation,
        /// target and glance, newer data replacing older.
        case glance
        /// A room notification: the key is the notification's own id, so none replaces another.
        case notification
    }

    public enum Target: Sendable, Hashable {
        case room(Int)
        case group(Int)

        var pathComponent: String {
            switch self {
            case .room(let id): "addon/ui/room/\(id)"
            case .group(let id): "addon/ui/group/\(id)"
            }
        }

        /// How the outbox stores the target: `room/42`, `group/9001`.
        public var stored: String {
            switch self {
            case .room(let id): "room/\(id)"
            case .group(let id): "group/\(id)"
            }
        }

        public init?(stored: String) {
            let parts = stored.split(separator: "/")
            guard parts.count == 2, let id = Int(parts[1]) else { return nil }
            switch parts[0] {
            case "room": self = .room(id)
            case "group": self = .group(id)
            default: return nil
            }
        }
    }

    public var oauthId: String
    public var target: Target
    public var kind: Kind
    /// The glance's key, or the notification's id.
    public var key: String
    /// The glance data, or the body HipChat's `POST room/{id}/notification` takes.
    public var data: JSONNode

    /// Where HipChat's API takes it, after the API URL: `addon/ui/room/42`, `room/42/notification`.
    /// (Notifications go to rooms only: the outbox queues none for a group, which HipChat would
    /// refuse.)
    var apiPath: String {
        switch (kind, target) {
        case (.glance, _): target.pathComponent
        case (.notification, .room(let id)): "room/\(id)/notification"
        case (.notification, .group(let id)): "group/\(id)/notification"
        }
    }

    public init(oauthId: String, target: Target, kind: Kind = .glance, key: String, data: JSONNode) {
        self.oauthId = oauthId
        self.target = target
        self.kind = kind
        self.key = key
        self.data = data
    }

    /// The pushes an update concerns. Room data goes to the room, through every installation
    /// that covers it (the room's own, and group-wide ones); add-on-wide data goes to each
    /// installation: its room for a room installation, its group for a global one.
    /// Installations stored without verification have no API URL or token URL and get none.
    ///
    /// Stores call this inside the transaction that saves the data, so the pushes queued are
    /// exactly those of the installations at that moment.
    public static func pushes(key: String, room: Int?, data: JSONNode, installations: [Installation]) -> [OutboxItem] {
        installations.compactMap { installation in
            guard installation.apiUrl != nil, installation.tokenUrl != nil else { return nil }
            let target: Target
            if let room {
                guard installation.roomId == nil || installation.roomId == room else { return nil }
                target = .room(room)
            } else {
                target = installation.roomId.map(Target.room) ?? .group(installation.groupId)
            }
            return OutboxItem(oauthId: installation.oauthId, target: target, key: key, data: data)
        }
    }
}

/// A room notification travels through the same outbox as glance updates, so it gets the same
/// durability, leases and retries: its kind is `notification`, its key a fresh id, its target
/// the room.
extension OutboxItem {
    /// One delivery of `body` to `room` per installation covering it (the room's own and global
    /// ones of any group; HipChat scopes each by its token), each under its own key, so that none
    /// replaces another. Installations stored without verification have no API URL and get none.
    public static func notifications(body: JSONNode, room: Int, installations: [Installation]) -> (
        [OutboxItem], QueuedPushes
    ) {
        var pushes: [OutboxItem] = []
        var unverified: [String] = []
        for installation in installations where installation.roomId == nil || installation.roomId == room {
            guard installation.apiUrl != nil, installation.tokenUrl != nil else {
                unverified.append(installation.oauthId)
                continue
            }
            pushes.append(
                OutboxItem(
                    oauthId: installation.oauthId, target: .room(room), kind: .notification,
                    key: UUID().uuidString.lowercased(), data: body))
        }
        return (pushes, QueuedPushes(pushes: pushes.count, unverified: unverified.sorted()))
    }
}

/// What storing a glance update queued: the pushes, and the installations it could not be pushed
/// to because they were stored without verification (no API URL), which the admin API warns of.
public struct QueuedPushes: Sendable, Equatable {
    public var pushes: Int
    public var unverified: [String]
}

/// A push taken from the outbox by one server: while its lease runs, no other server takes it.
///
/// `generation` tells whether newer data for the same installation, target and glance arrived
/// while this one was being delivered: the outbox keeps one row per (installation, target,
/// glance) — only the latest data is worth pushing — and a newer update bumps the generation
/// instead of racing the delivery in flight.
public struct ClaimedOutboxItem: Sendable, Equatable {
    public var id: Int64
    public var generation: Int
    public var push: OutboxItem
    /// Failed attempts before this one.
    public var attempts: Int

    public init(id: Int64, generation: Int, push: OutboxItem, attempts: Int) {
        self.id = id
        self.generation = generation
        self.push = push
        self.attempts = attempts
    }
}
