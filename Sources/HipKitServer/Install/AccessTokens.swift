import Foundation
import HipChatConnect

/// API tokens per installation, kept until shortly before they expire so that a burst of
/// glance pushes costs one token request, not one each.
actor AccessTokens {
    private struct Entry {
        var value: String
        var expires: Date
    }

    /// A token is renewed this long before HipChat says it expires.
    static let margin: TimeInterval = 60

    private let api: HipChatAPI
    private var entries: [String: Entry] = [:]

    init(api: HipChatAPI) {
        self.api = api
    }

    /// Remembers a token obtained elsewhere (the install's verification).
    func remember(_ token: HipChatAPI.AccessToken, for oauthId: String) {
        entries[oauthId] = Entry(value: token.value, expires: Date().addingTimeInterval(token.expiresIn))
    }

    func forget(_ oauthId: String) {
        entries[oauthId] = nil
    }

    /// A valid token for `installation`, from the cache or freshly requested. Its callers are
    /// the outbox's deliveries, which follow their own retry schedule: the request fails at once
    /// when HipChat cannot be reached (``OutgoingHTTP/send(_:retryingConnections:)``).
    func token(for installation: Installation) async throws(APIError) -> String {
        if let entry = entries[installation.oauthId], entry.expires.timeIntervalSinceNow > Self.margin {
            return entry.value
        }
        guard let tokenUrl = installation.tokenUrl else {
            throw APIError(
                .conflict, "installation \(installation.oauthId) has no token URL (installed without verification)")
        }
        switch try await api.token(
            tokenUrl: tokenUrl, oauthId: installation.oauthId, oauthSecret: installation.oauthSecret,
            retryingConnections: false)
        {
        case .granted(let token):
            remember(token, for: installation.oauthId)
            return token.value
        case .refused(let status):
            throw APIError(.forbidden, "HipChat refused a token for installation \(installation.oauthId) (\(status))")
        }
    }
}
