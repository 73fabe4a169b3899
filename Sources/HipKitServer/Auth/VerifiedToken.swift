import HipChatConnect

/// A JWT HipChat signed, checked: the installation it came from and what it says about the
/// user and room.
struct VerifiedToken: Sendable {
    let installation: Installation
    /// `sub` (`prn` in old tokens): the HipChat user.
    let userId: String?
    /// `context.room_id`, when the request comes from a room.
    let roomId: Int?
    let claims: [String: JSONNode]

    /// The room the request is seen from: the token's, else a room installation's own (which
    /// HipChat shows in that room only).
    var shownRoom: Int? { roomId ?? installation.roomId }
}
