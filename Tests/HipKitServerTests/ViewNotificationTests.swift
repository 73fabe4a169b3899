import Foundation
import HipChatConnect
import Hummingbird
import HummingbirdTesting
import Testing

@testable import HipKitServer

/// `POST /_hipkit/notifications` with a view's JWT: off unless the spec turns it on, to the
/// token's room through the token's installation only, checked and rate-limited.
@Suite("Notifications from the add-on's views", .serialized)
struct ViewNotificationTests {
    static let json: HTTPFields = [.contentType: "application/json"]
    static let hello = #"{"message": "hello from the sidebar", "message_format": "text"}"#

    /// The fixture site, its runtime manifest turning view notifications on (`perMinute`), or not.
    static func withSite(
        _ hipchat: StandInHipChat, perMinute: Int?,
        _ body: @Sendable (any TestClientProtocol, SQLiteStore) async throws -> Void
    ) async throws {
        let site = try TestSite()
        defer { site.remove() }
        if let perMinute {
            let file = site.dist.appendingPathComponent(RuntimeManifest.path)
            var manifest = try JSONDecoder().decode(RuntimeManifest.self, from: Data(contentsOf: file))
            manifest.viewNotifications = .init(perMinute: perMinute)
            try JSONEncoder().encode(manifest).write(to: file)
        }
        let configuration = site.configuration(trustedHosts: [TrustedHost(host: "127.0.0.1", port: hipchat.port)])
        try await withServer(
            site, configuration,
            setup: { store in
                hipchat.accept(Fixture.oauthId, Fixture.secret)
                hipchat.accept(Fixture.otherId, Fixture.otherSecret)
                try await store.upsert(
                    Fixture.installation(roomId: 42, apiUrl: hipchat.apiUrl, tokenUrl: hipchat.tokenUrl))
                // A global installation covers room 42 too; a view's notification must not go through it.
                try await store.upsert(
                    Fixture.installation(
                        Fixture.otherId, secret: Fixture.otherSecret, apiUrl: hipchat.apiUrl, tokenUrl: hipchat.tokenUrl
                    ))
            }, body)
    }

    static func post(
        _ client: any TestClientProtocol, token: String?, query: String = "", body: String = hello
    ) async throws -> TestResponse {
        var headers = json
        if let token { headers[.authorization] = "JWT \(token)" }
        return try await client.execute(
            uri: "/_hipkit/notifications" + query, method: .post, headers: headers, body: jsonBody(body))
    }

    @Test("refused when the spec has not turned it on")
    func offByDefault() async throws {
        try await StandInHipChat.with { hipchat in
            try await Self.withSite(hipchat, perMinute: nil) { client, _ in
                let response = try await Self.post(client, token: try await Tokens.mint(room: 42))
                #expect(response.status == .forbidden)
                #expect(response.errorMessage?.contains("viewNotifications: true") == true)
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(hipchat.pushes.isEmpty)
        }
    }

    @Test("sent to the token's room through the token's installation only")
    func toTheTokensRoom() async throws {
        try await StandInHipChat.with { hipchat in
            try await Self.withSite(hipchat, perMinute: 10) { client, _ in
                let response = try await Self.post(client, token: try await Tokens.mint(room: 42))
                #expect(response.status == .accepted, "\(response.text)")
                #expect(await hipchat.wait { $0.pushes.count >= 1 })
                try await Task.sleep(for: .milliseconds(500))
            }
            let pushes = hipchat.pushes
            #expect(pushes.count == 1)
            #expect(pushes.first?.path == "/v2/room/42/notification")
            #expect(pushes.first?.body?["message"]?.stringValue == "hello from the sidebar")
            #expect(pushes.first?.authorization?.hasPrefix("Bearer token-\(Fixture.oauthId.prefix(8))") == true)
        }
    }

    @Test("refused for another room, without a room, without or with a forged token, and for a bad message")
    func refusals() async throws {
        try await StandInHipChat.with { hipchat in
            try await Self.withSite(hipchat, perMinute: 10) { client, _ in
                let token = try await Tokens.mint(room: 42)
                let otherRoom = try await Self.post(client, token: token, query: "?room=43")
                #expect(otherRoom.status == .forbidden)
                #expect(otherRoom.errorField == "room")
                let noRoom = try await Self.post(client, token: try await Tokens.mint())
                #expect(noRoom.status == .forbidden)
                #expect(try await Self.post(client, token: nil).status == .unauthorized)
                let forged = try await Tokens.mint(secret: "F0rgedSecretF0rgedSecretF0rgedSecretF0rg", room: 42)
                #expect(try await Self.post(client, token: forged).status == .unauthorized)
                let bad = try await Self.post(client, token: token, body: #"{"message": "x", "color": "blue"}"#)
                #expect(bad.status == .badRequest)
                #expect(bad.errorField == "color")
                let get = try await client.execute(
                    uri: "/_hipkit/notifications", method: .get, headers: [.authorization: "JWT \(token)"])
                #expect(get.status == .methodNotAllowed)
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(hipchat.pushes.isEmpty)
        }
    }

    @Test("at most perMinute a minute per installation: then 429 with Retry-After")
    func rateLimited() async throws {
        try await StandInHipChat.with { hipchat in
            try await Self.withSite(hipchat, perMinute: 3) { client, _ in
                let token = try await Tokens.mint(room: 42)
                for _ in 0..<3 { #expect(try await Self.post(client, token: token).status == .accepted) }
                let refused = try await Self.post(client, token: token)
                #expect(refused.status == .tooManyRequests)
                let retry = try #require(refused.headers[.retryAfter].flatMap(Int.init))
                #expect((1...20).contains(retry))
                #expect(await hipchat.wait { $0.pushes.count >= 3 })
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(hipchat.pushes.count == 3)
        }
    }
}

@Suite struct RateLimiterTests {
    @Test func refillsEvenlyOverTheMinute() {
        let clock = ClockBox()
        let limiter = RateLimiter(now: { clock.now })
        for _ in 0..<6 { #expect(limiter.take("a", perMinute: 6) == nil) }
        #expect(limiter.take("a", perMinute: 6) == .seconds(10))
        // Another key has its own bucket.
        #expect(limiter.take("b", perMinute: 6) == nil)
        clock.advance(.seconds(10))
        #expect(limiter.take("a", perMinute: 6) == nil)
        #expect(limiter.take("a", perMinute: 6) != nil)
    }
}

/// A clock the test moves by hand.
final class ClockBox: @unchecked Sendable {
    private let lock = NSLock()
    private var instant = ContinuousClock.now
    var now: ContinuousClock.Instant { lock.withLock { instant } }
    func advance(_ by: Duration) { lock.withLock { instant += by } }
}
