import Foundation
import HipChatConnect
import HipKit

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

/// A room of the local HipChat's group, with its messages.
///
/// Public rooms are open to everyone, guests included; private rooms to the group's members
/// only (guests do not see them). Whoever creates a room owns it, so `user_is_room_owner`
/// follows the room as it did in HipChat.
struct EmulatedRoom: Sendable, Codable {
    static let groupId = 1
    static let groupName = "Local HipChat"
    /// HipChat's limit on a room's name.
    static let maxNameLength = 50

    var id = 1
    var name = "Operations"
    var topic = "Incidents and deploys"
    var isPublic = true
    var ownerId = EmulatedUser.playing(.owner).id
    var messages: [RoomMessage] = []

    /// The rooms a new local HipChat has: a public one, with messages for message actions to be
    /// tried on, and a private one, so that a room install can be seen to stay in its room.
    static func seeded() -> [EmulatedRoom] {
        let seeds: [(room: Int, role: EmulatedRole, text: String)] = [
            (1, .owner, "Morning! Deploy of api 2.4 starts at 10:00."),
            (
                1, .member,
                "The checkout service is down again: error rate 12% since 09:41 https://status.example.com/checkout"
            ),
            (2, .admin, "Budget review moves to Thursday."),
        ]
        var rooms = [
            EmulatedRoom(),
            EmulatedRoom(id: 2, name: "Leadership", topic: "Plans and budgets", isPublic: false),
        ]
        for (index, seed) in seeds.enumerated() {
            let user = EmulatedUser.playing(seed.role)
            rooms[seed.room - 1].messages.append(
                RoomMessage(
                    id: "seed-\(index + 1)", date: Date(), kind: .message, senderId: user.id, senderName: user.name,
                    senderMention: user.mentionName, body: seed.text, html: HTMLText.escape(seed.text), color: nil,
                    card: nil))
        }
        return rooms
    }

    /// Whether `user` sees the room: guests see public rooms only.
    func isVisible(to user: EmulatedUser) -> Bool { isPublic || !user.isGuest }

    /// Whether `user` may rename the room, install an add-on in it or remove one: a group admin
    /// or the room's owner.
    func isAdministered(by user: EmulatedUser) -> Bool { user.isAdmin || ownerId == user.id }

    var privacy: String { isPublic ? "public" : "private" }

    var json: JSONNode {
        .object([
            "id": .integer(id), "name": .string(name), "topic": .string(topic), "privacy": .string(privacy),
            "owner": .object(["id": .integer(ownerId)]), "is_archived": .bool(false),
        ])
    }

    /// `HipChat.room.getParticipants`: everyone a role can be who sees the room.
    var participants: JSONNode {
        let members = EmulatedRole.allCases.filter { $0 != .guest }.map { EmulatedUser.playing($0).json }
        let guests = isPublic ? [EmulatedUser.playing(.guest).json] : []
        return .object(["members": .array(members), "guests": .array(guests)])
    }

    /// A room name as HipChat took one: 1 to 50 characters, no control characters, and not the
    /// name of another room (compared without case).
    static func checkedName(_ name: String, among rooms: [EmulatedRoom], except id: Int? = nil) -> Result<
        String, LocalHipChat.Failure
    > {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return .failure(.init("a room needs a name")) }
        guard trimmed.count <= maxNameLength else {
            return .failure(.init("a room's name is at most \(maxNameLength) characters"))
        }
        guard !trimmed.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) else {
            return .failure(.init("a room's name cannot hold control characters"))
        }
        if rooms.contains(where: { $0.id != id && $0.name.lowercased() == trimmed.lowercased() }) {
            return .failure(.init("there is already a room called \(trimmed)", status: 409))
        }
        return .success(trimmed)
    }
}
