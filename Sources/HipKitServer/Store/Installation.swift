import Foundation
import HipChatConnect

/// One HipChat installation of the add-on: a group (global install) or a single room.
///
/// `oauthSecret` signs the JWTs HipChat sends for this installation and, with `oauthId`,
/// obtains API tokens; it never leaves the server (``summary`` omits it).
public struct Installation: Sendable, Hashable {
    public var oauthId: String
    public var oauthSecret: String
    public var capabilitiesUrl: String
    public var groupId: Int
    /// Set for a room installation; nil when installed for the whole group.
    public var roomId: Int?
    /// HipChat's REST base (`https://api.hipchat.com/v2/`), from the capabilities document.
    public var apiUrl: String?
    /// Where API tokens come from, from the capabilities document.
    public var tokenUrl: String?
    public var installedAt: Date
    public var updatedAt: Date

    public init(
        oauthId: String, oauthSecret: String, capabilitiesUrl: String, groupId: Int, roomId: Int? = nil,
        apiUrl: String? = nil, tokenUrl: String? = nil, installedAt: Date = Date(), updatedAt: Date = Date()
    ) {
        self.oauthId = oauthId
        self.oauthSecret = oauthSecret
        self.capabilitiesUrl = capabilitiesUrl
        self.groupId = groupId
        self.roomId = roomId
        self.apiUrl = apiUrl
        self.tokenUrl = tokenUrl
        self.installedAt = installedAt
        self.updatedAt = updatedAt
    }

    /// What the admin listing shows: everything but the secret, and whether it was verified
    /// (stored with HipChat's API and token URLs): only a verified installation can be pushed
    /// glance data and notifications.
    public var summary: JSONNode {
        var object: [String: JSONNode] = [
            "oauthId": .string(oauthId),
            "capabilitiesUrl": .string(capabilitiesUrl),
            "groupId": .integer(groupId),
            "roomId": roomId.map { JSONNode.integer($0) } ?? .null,
            "installedAt": .string(ISO8601DateFormatter().string(from: installedAt)),
            "updatedAt": .string(ISO8601DateFormatter().string(from: updatedAt)),
        ]
        if let apiUrl { object["apiUrl"] = .string(apiUrl) }
        object["verified"] = .bool(apiUrl != nil && tokenUrl != nil)
        return .object(object)
    }
}
