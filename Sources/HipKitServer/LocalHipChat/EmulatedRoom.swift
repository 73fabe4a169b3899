import Foundation
import HipChatConnect

/// Who the developer plays in the local HipChat; conditions such as `user_is_admin` and
/// `user_is_room_owner` are evaluated for this person.
public enum EmulatedRole: String, Sendable, CaseIterable, Codable {
    /// A group admin (who is not the room's owner).
    case admin
    /// The room's owner, not a group admin.
    case owner
    /// A member with no special rights.
    case member
    /// A guest of the room.
    case guest
}

/// A HipChat user as the JavaScript API and webhooks describe one.
struct EmulatedUser: Sendable {
    var id: Int
    var name: String
    var mentionName: String
    var email: String
    var isAdmin: Bool
    var isGuest: Bool

    /// The person behind each role. Each role is a different user, so the room's owner is
    /// exactly the `owner` role and `message_sent_by_current_user` changes with the role.
    static func playing(_ role: EmulatedRole) -> EmulatedUser {
        switch role {
        case .admin:
            EmulatedUser(
                id: 101, name: "Ada Admin", mentionName: "ada", email: "ada@example.com", isAdmin: true, isGuest: false)
        case .owner:
            EmulatedUser(
                id: 102, name: "Otto Owner", mentionName: "otto", email: "otto@example.com", isAdmin: false,
                isGuest: false)
        case .member:
            EmulatedUser(
                id: 103, name: "Mia Member", mentionName: "mia", email: "mia@example.com", isAdmin: false,
                isGuest: false)
        case .guest:
            EmulatedUser(
                id: 104, name: "Gus Guest", mentionName: "gus", email: "gus@example.com", isAdmin: false, isGuest: true)
        }
    }

    /// `HipChat.user.getCurrentUser`'s answer.
    var json: JSONNode {
        .object([
            "id": .integer(id), "name": .string(name), "mention_name": .string(mentionName), "email": .string(email),
            "title": .string(isGuest ? "Guest" : "Engineer"), "photo_url": .null, "is_admin": .bool(isAdmin),
            "is_guest": .bool(isGuest), "presence": .object(["show": .string("chat")]), "timezone": .string("UTC"),
        ])
    }

    /// The `from` of a message in webhook payloads.
    var sender: JSONNode {
        .object([
            "id": .integer(id), "mention_name": .string(mentionName), "name": .string(name),
            "links": .object(["self": .string("https://api.hipchat.local/v2/user/\(id)")]),
        ])
    }
}

/// The one room of the local HipChat.
struct EmulatedRoom: Sendable, Codable {
    static let groupId = 1
    static let groupName = "Local HipChat"

    var id = 1
    var name = "Operations"
    var topic = "Incidents and deploys"
    var isPublic = true
    var ownerId = EmulatedUser.playing(.owner).id

    var json: JSONNode {
        .object([
            "id": .integer(id), "name": .string(name), "topic": .string(topic),
            "privacy": .string(isPublic ? "public" : "private"),
            "owner": .object(["id": .integer(ownerId)]), "is_archived": .bool(false),
        ])
    }

    /// `HipChat.room.getParticipants`: everyone a role can be, plus the room's regulars.
    var participants: JSONNode {
        let members = EmulatedRole.allCases.filter { $0 != .guest }.map { EmulatedUser.playing($0).json }
        return .object(["members": .array(members), "guests": .array([EmulatedUser.playing(.guest).json])])
    }
}
