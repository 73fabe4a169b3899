import Foundation
import HipChatConnect
import JWTKit

/// JWTs as HipChat mints them (HS256 with the installation's secret), and broken ones.
enum Tokens {
    struct Claims: JWTPayload {
        struct Context: Codable, Sendable {
            var room_id: Int?
            var user_tz: String?
        }

        var iss: String
        var sub: String?
        var iat: Int?
        var exp: Int?
        var nbf: Int?
        var jti: String?
        var context: Context?

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func mint(
        iss: String = Fixture.oauthId, secret: String = Fixture.secret, room: Int? = nil, user: String = "1234",
        expiresIn: TimeInterval = 3600, issuedAgo: TimeInterval = 0, notBefore: TimeInterval? = nil,
        omitExpiry: Bool = false
    ) async throws -> String {
        let now = Date().timeIntervalSince1970
        let claims = Claims(
            iss: iss, sub: user, iat: Int(now - issuedAgo), exp: omitExpiry ? nil : Int(now + expiresIn),
            nbf: notBefore.map { Int(now + $0) }, jti: "abcdefghij0123456789",
            context: Context(room_id: room, user_tz: "Europe/Paris"))
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(claims)
    }

    typealias Context = Claims.Context

    /// A token with any header, signed with nothing that matters.
    static func forged(header: String, iss: String = Fixture.oauthId, signature: String = "") -> String {
        let exp = Int(Date().timeIntervalSince1970) + 3600
        return base64URL(header) + "." + base64URL(#"{"iss":"\#(iss)","sub":"1","exp":\#(exp)}"#) + "." + signature
    }

    static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_"
        )
        .replacingOccurrences(of: "=", with: "")
    }
}
