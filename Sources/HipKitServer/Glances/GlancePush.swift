import HipChatConnect

/// One glance update to deliver to one installation.
struct GlancePush: Sendable {
    enum Target: Sendable, Equatable {
        case room(Int)
        case group(Int)

        var pathComponent: String {
            switch self {
            case .room(let id): "addon/ui/room/\(id)"
            case .group(let id): "addon/ui/group/\(id)"
            }
        }
    }

    var installation: Installation
    var target: Target
    var key: String
    var data: JSONNode

    /// The pushes an update concerns. Room data goes to the room, through every installation
    /// that covers it (the room's own, and group-wide ones); add-on-wide data goes to each
    /// installation: its room for a room installation, its group for a global one.
    /// Installations stored without verification have no API URL or token URL and get none.
    static func pushes(key: String, room: Int?, data: JSONNode, installations: [Installation]) -> [GlancePush] {
        installations.compactMap { installation in
            guard installation.apiUrl != nil, installation.tokenUrl != nil else { return nil }
            if let room {
                guard installation.roomId == nil || installation.roomId == room else { return nil }
                return GlancePush(installation: installation, target: .room(room), key: key, data: data)
            }
            let target: Target = installation.roomId.map(Target.room) ?? .group(installation.groupId)
            return GlancePush(installation: installation, target: target, key: key, data: data)
        }
    }
}
