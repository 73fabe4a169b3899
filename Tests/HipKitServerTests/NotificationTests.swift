import Foundation
import HipChatConnect
import Hummingbird
import HummingbirdTesting
import Testing

@testable import HipKitServer

/// `POST /admin/notifications?room=ID`: a notification the add-on sends on its own, delivered to
/// HipChat's room notification endpoint through the store's outbox.
@Suite("Notifications from the admin API", .serialized)
struct NotificationTests {
    static let adminToken = "admin-token-for-notification-tests"
    static let bearer: HTTPFields = [.authorization: "Bearer \(adminToken)", .contentType: "application/json"]
    static let deployDone = #"{"message": "deploy done", "message_format": "text", "color": "green"}"#

    /// Installations of the stand-in: one global, one for room 7, one for room 8.
    static func plant(_ store: SQLiteStore, _ hipchat: StandInHipChat) async throws {
        let ids = [
            "global-0000000000000000000000000001", "room7-00000000000000000000000000001",
            "room8-000000000000000000000000000001",
        ]
        for (id, room) in zip(ids, [nil, 7, 8] as [Int?]) {
            let secret = String(repeating: "s", count: 40 - id.prefix(1).count) + id.prefix(1)
            hipchat.accept(id, secret)
            try await store.upsert(
                Fixture.installation(
                    id, secret: secret, roomId: room, apiUrl: hipchat.apiUrl, tokenUrl: hipchat.tokenUrl))
        }
    }

    static func configuration(_ site: TestSite, _ hipchat: StandInHipChat) -> ServerConfiguration {
        site.configuration(adminToken: adminToken, trustedHosts: [TrustedHost(host: "127.0.0.1", port: hipchat.port)])
    }

    @Test("a notification reaches room 7 once through each installation covering it, and no other room")
    func deliveredOncePerInstallation() async throws {
        try await StandInHipChat.with { hipchat in
            let site = try TestSite()
            defer { site.remove() }
            let logs = LogCapture()
            try await withServer(
                site, Self.configuration(site, hipchat), logs: logs, setup: { try await Self.plant($0, hipchat) }
            ) {
                client, _ in
                let response = try await client.execute(
                    uri: "/admin/notifications?room=7", method: .post, headers: Self.bearer,
                    body: jsonBody(Self.deployDone))
                #expect(response.status == .accepted, "\(response.text)")
                #expect(response.json?["deliveries"]?.intValue == 2)
                #expect(await hipchat.wait { $0.pushes.count >= 2 })
                // Time for a duplicate to show up, if one were coming.
                try await Task.sleep(for: .milliseconds(500))
            }
            // The logs call them notifications, not glance pushes.
            let sent = logs.all.filter { $0.message == "notification sent" }
            #expect(sent.count == 2, "\(logs.all.map(\.message))")
            #expect(sent.allSatisfy { $0.metadata["target"] == "room/7/notification" }, "\(sent.map(\.metadata))")
            #expect(!logs.all.contains { $0.message.contains("glance") }, "\(logs.all.map(\.message))")
            let pushes = hipchat.pushes
            #expect(pushes.count == 2)
            #expect(pushes.allSatisfy { $0.path == "/v2/room/7/notification" })
            for push in pushes {
                #expect(push.body?["message"]?.stringValue == "deploy done")
                #expect(push.body?["color"]?.stringValue == "green")
                #expect(push.body?["message_format"]?.stringValue == "text")
            }
            // One through the global installation's token, one through room 7's.
            let tokens = Set(pushes.compactMap(\.authorization))
            #expect(tokens.count == 2)
            #expect(tokens.contains { $0.hasPrefix("Bearer token-global") })
            #expect(tokens.contains { $0.hasPrefix("Bearer token-room7") })
        }
    }

    @Test("a notification accepted before a restart is delivered after it")
    func survivesRestart() async throws {
        try await StandInHipChat.with { hipchat in
            // HipChat refuses everything while the first server runs.
            hipchat.state.withLock { $0.failingPushes = 1_000_000 }
            let site = try TestSite()
            defer { site.remove() }
            var configuration = Self.configuration(site, hipchat)
            configuration.pushRetry = RetryPolicy(
                maxAttempts: 1_000, initialDelay: .milliseconds(200), maxDelay: .seconds(1))
            try await withServer(site, configuration, setup: { try await Self.plant($0, hipchat) }) { client, _ in
                let response = try await client.execute(
                    uri: "/admin/notifications?room=8", method: .post, headers: Self.bearer,
                    body: jsonBody(Self.deployDone))
                #expect(response.status == .accepted)
                #expect(await hipchat.wait { $0.refusedPushes >= 1 })
            }
            #expect(hipchat.pushes.isEmpty)
            hipchat.state.withLock { $0.failingPushes = 0 }
            try await withServer(site, configuration) { _, _ in
                #expect(await hipchat.wait { $0.pushes.count == 2 })
            }
            #expect(hipchat.pushes.map(\.path) == ["/v2/room/8/notification", "/v2/room/8/notification"])
        }
    }

    @Test(
        "a notification HipChat would refuse is 400 naming the field, and nothing is queued",
        arguments: [
            (#"{"message": "x", "color": "blue"}"#, "color"),
            (#"{"message": "x", "message_format": "markdown"}"#, "message_format"),
            (#"{"color": "green"}"#, "message"),
            (#"{"message": ""}"#, "message"),
            (#"["deploy done"]"#, "body"),
            (#"{"message": "x", "card": {"style": "poster", "id": "1", "title": "t"}}"#, "card"),
        ])
    func refused(_ body: String, _ field: String) async throws {
        try await StandInHipChat.with { hipchat in
            let site = try TestSite()
            defer { site.remove() }
            try await withServer(site, Self.configuration(site, hipchat), setup: { try await Self.plant($0, hipchat) })
            {
                client, _ in
                let response = try await client.execute(
                    uri: "/admin/notifications?room=7", method: .post, headers: Self.bearer, body: jsonBody(body))
                #expect(response.status == .badRequest, "\(response.text)")
                #expect(response.errorField == field, "\(response.text)")
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(hipchat.pushes.isEmpty)
        }
    }

    @Test("the room is required, must be covered by an installation, and the admin token is checked")
    func roomAndToken() async throws {
        try await StandInHipChat.with { hipchat in
            let site = try TestSite()
            defer { site.remove() }
            let configuration = Self.configuration(site, hipchat)
            try await withServer(site, configuration) { client, store in
                let body = jsonBody(Self.deployDone)
                // No installation at all: nothing covers room 7.
                let uncovered = try await client.execute(
                    uri: "/admin/notifications?room=7", method: .post, headers: Self.bearer, body: body)
                #expect(uncovered.status == .notFound)
                #expect(uncovered.errorField == "room")
                try await store.upsert(
                    Fixture.installation(roomId: 8, apiUrl: hipchat.apiUrl, tokenUrl: hipchat.tokenUrl))
                #expect(
                    try await client.execute(
                        uri: "/admin/notifications?room=7", method: .post, headers: Self.bearer, body: body
                    ).status == .notFound)
                for query in ["", "?room=abc", "?room=0", "?room=-3"] {
                    let response = try await client.execute(
                        uri: "/admin/notifications" + query, method: .post, headers: Self.bearer, body: body)
                    #expect(response.status == .badRequest, "\(query)")
                    #expect(response.errorField == "room")
                }
                let wrong = try await client.execute(
                    uri: "/admin/notifications?room=8", method: .post,
                    headers: [.authorization: "Bearer not-the-token", .contentType: "application/json"], body: body)
                #expect(wrong.status == .unauthorized)
                let get = try await client.execute(
                    uri: "/admin/notifications?room=8", method: .get, headers: Self.bearer)
                #expect(get.status == .methodNotAllowed)
            }
            #expect(hipchat.pushes.isEmpty)
        }
    }

    @Test("installation= sends through that installation alone, and only to a room it covers")
    func throughOneInstallation() async throws {
        try await StandInHipChat.with { hipchat in
            let site = try TestSite()
            defer { site.remove() }
            try await withServer(
                site, Self.configuration(site, hipchat), setup: { try await Self.plant($0, hipchat) }
            ) { client, _ in
                let body = jsonBody(Self.deployDone)
                let one = try await client.execute(
                    uri: "/admin/notifications?room=7&installation=room7-00000000000000000000000000001", method: .post,
                    headers: Self.bearer, body: body)
                #expect(one.status == .accepted, "\(one.text)")
                #expect(one.json?["deliveries"]?.intValue == 1)
                for (installation, status, says) in [
                    ("room8-000000000000000000000000000001", HTTPResponse.Status.notFound, "installed in room 8 only"),
                    ("nobody", .notFound, "no installation has oauthId 'nobody'"), ("", .badRequest, "oauthId"),
                ] {
                    let refused = try await client.execute(
                        uri: "/admin/notifications?room=7&installation=\(installation)", method: .post,
                        headers: Self.bearer, body: body)
                    #expect(refused.status == status, "\(installation): \(refused.text)")
                    #expect(refused.errorField == "installation")
                    #expect(refused.json?["error"]?.stringValue?.contains(says) == true, "\(refused.text)")
                }
                #expect(await hipchat.wait { $0.pushes.count >= 1 })
                // Time for another delivery to show up, if one were coming.
                try await Task.sleep(for: .milliseconds(500))
            }
            let pushes = hipchat.pushes
            #expect(pushes.count == 1)
            #expect(pushes.first?.path == "/v2/room/7/notification")
            #expect(pushes.first?.authorization?.hasPrefix("Bearer token-room7") == true)
        }
    }
}
