import Foundation
import HipChatConnect
import JWTKit

/// Signs the JWTs the local HipChat puts on what it sends an add-on (view URLs, glance
/// queries, webhooks, `HipChat.auth.withToken`): HS256 with the installation's `oauthSecret`,
/// claims as HipChat's docs give them — `iss` the oauthId, `sub` the user, `iat`, `exp`, a
/// random `jti`, and `context` with `room_id` and `user_tz`.
struct HostTokenSigner: Sendable {
    /// HipChat's tokens lived an hour.
    static let lifetime: TimeInterval = 3600

    struct Claims: JWTPayload, Equatable {
        struct Context: Codable, Equatable, Sendable {
            var room_id: Int?
            var user_tz: String
        }

        var iss: String
        var sub: String
        var iat: Int
        var exp: Int
        var jti: String
        var context: Context

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    var now: @Sendable () -> Date = { Date() }

    func claims(oauthId: String, userId: Int, roomId: Int?, timeZone: String = "UTC") -> Claims {
        let issued = Int(now().timeIntervalSince1970)
        return Claims(
            iss: oauthId, sub: String(userId), iat: issued, exp: issued + Int(Self.lifetime),
            jti: LocalHipChat.randomCharacters(20),
            context: .init(room_id: roomId, user_tz: timeZone))
    }

    func sign(_ claims: Claims, secret: String) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(claims, header: ["typ": "JWT"])
    }

    /// A token's claims without checking it, for the event log.
    static func decodedClaims(_ token: String) -> JSONNode? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        return JWTVerifier.decodeSegment(parts[1])
    }
}
