import Foundation
import HipChatConnect
import Hummingbird
import HummingbirdTesting
import Testing

@testable import HipKitServer

@Suite("Webhooks")
struct WebhookTests {
    static func delivery(
        _ message: String, clientId: String = Fixture.oauthId, event: String = "room_message",
        sender: String = "Ada <Lovelace>", room: Int = 42
    ) -> ByteBuffer {
        let body: [String: Any] = [
            "event": event,
            "oauth_client_id": clientId,
            "webhook_id": 77,
            "item": [
                "message": [
                    "message": message, "from": ["id": 1234, "name": sender, "mention_name": "ada"], "type": "message",
                ],
                "room": ["id": room, "name": "Ops & Co"],
            ],
        ]
        return ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: body))
    }

    private func run(_ body: @Sendable @escaping (any TestClientProtocol, SQLiteStore) async throws -> Void)
        async throws
    {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site, setup: { try await $0.upsert(Fixture.installation()) }, body)
    }

    @Test("a JWT webhook that matches answers the canned reply with capture groups, sender, room and settings")
    func cannedReply() async throws {
        try await run { client, store in
            let token = try await Tokens.mint(room: 42)
            let headers: HTTPFields = [.authorization: "JWT \(token)", .contentType: "application/json"]
            let response = try await client.execute(
                uri: "/hooks/incident", method: .post, headers: headers,
                body: Self.delivery("/incident DB-7 <b>disk</b> full"))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json; charset=utf-8")
            let reply = try #require(response.json)
            // Text message: nothing escaped.
            #expect(reply["message"]?.stringValue == "Opened DB-7 (low) for Ada <Lovelace>: <b>disk</b> full")
            #expect(reply["message_format"]?.stringValue == "text")
            #expect(reply["color"]?.stringValue == "red")
            #expect(reply["notify"]?.boolValue == false)
            let card = try #require(reply["card"])
            #expect(card["id"]?.stringValue == "incident-DB-7")
            #expect(card["title"]?.stringValue == "Incident DB-7 in Ops & Co")
            #expect(card["style"]?.stringValue == "application")
            // The add-on's base URL and key, from the descriptor served.
            #expect(
                card["url"]?.stringValue == "https://incidents.example.com/incidents/DB-7?from=com.example.incidents")
            // An HTML description: the message text is escaped, the template's markup is not.
            #expect(
                card["description"]?["value"]?.stringValue == "<b>&lt;b&gt;disk&lt;/b&gt; full</b> reported by @ada")
            #expect(card["attributes"]?.arrayValue?.first?["value"]?["label"]?.stringValue == "low")

            // Settings of the room win over the installation's, which win over defaults.
            try await store.putSettings(["severity": .string("high")], oauthId: Fixture.oauthId, room: nil)
            let installationLevel = try await client.execute(
                uri: "/hooks/incident", method: .post, headers: headers,
                body: Self.delivery("/incident DB-8"))
            #expect(installationLevel.json?["message"]?.stringValue == "Opened DB-8 (high) for Ada <Lovelace>: ")
            try await store.putSettings(["severity": .string("low")], oauthId: Fixture.oauthId, room: 42)
            let roomLevel = try await client.execute(
                uri: "/hooks/incident", method: .post, headers: headers,
                body: Self.delivery("/incident DB-9"))
            #expect(roomLevel.json?["message"]?.stringValue?.contains("(low)") == true)
        }
    }

    @Test("a reply's {{addon.baseUrl}} is the folder of the served descriptor's links.self")
    func addonBaseURLFollowsTheDescriptor() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try site.moveDescriptor(
            to: "https://apps.example.com/addon/capabilities.json?v=2", base: "https://apps.example.com/addon/")
        try await withServer(site, setup: { try await $0.upsert(Fixture.installation()) }) { client, _ in
            let token = try await Tokens.mint(room: 42)
            let response = try await client.execute(
                uri: "/addon/hooks/incident", method: .post,
                headers: [.authorization: "JWT \(token)", .contentType: "application/json"],
                body: Self.delivery("/incident DB-7 full"))
            #expect(response.status == .ok)
            #expect(
                response.json?["card"]?["url"]?.stringValue
                    == "https://apps.example.com/addon/incidents/DB-7?from=com.example.incidents")
        }
    }

    @Test("the base URL is links.self's folder, whatever its path, query or fragment")
    func folderOfTheSelfURL() throws {
        let cases = [
            "https://example.com": "https://example.com",
            "https://example.com/": "https://example.com",
            "https://example.com?v=2": "https://example.com",
            "https://example.com#top": "https://example.com",
            "https://example.com/atlassian-connect.json": "https://example.com",
            "https://example.com:8443/a/b/capabilities.json?next=/x/y#z": "https://example.com:8443/a/b",
            "https://user:pass@example.com/a/atlassian-connect.json": "https://example.com/a",
            "http://localhost:8080/caf%C3%A9/atlassian-connect.json": "http://localhost:8080/caf%C3%A9",
        ]
        for (selfURL, expected) in cases {
            #expect(DescriptorRoutes.folderURL(of: try #require(URL(string: selfURL))) == expected, "\(selfURL)")
        }
    }

    @Test("no match, another event, or no reply: 204")
    func noReply() async throws {
        try await run { client, _ in
            let token = try await Tokens.mint(room: 42)
            let headers: HTTPFields = [.authorization: "JWT \(token)", .contentType: "application/json"]
            let noMatch = try await client.execute(
                uri: "/hooks/incident", method: .post, headers: headers, body: Self.delivery("hello there"))
            #expect(noMatch.status == .noContent)
            let otherEvent = try await client.execute(
                uri: "/hooks/incident", method: .post, headers: headers,
                body: Self.delivery("/incident X", event: "room_notification"))
            #expect(otherEvent.status == .noContent)
            let quiet = try await client.execute(
                uri: "/hooks/quiet", method: .post, headers: [.contentType: "application/json"],
                body: Self.delivery("", event: "room_enter"))
            #expect(quiet.status == .noContent)
        }
    }

    @Test("an unsigned webhook names its installation in oauth_client_id; HTML replies escape what users wrote")
    func unsigned() async throws {
        try await run { client, _ in
            let headers: HTTPFields = [.contentType: "application/json"]
            let response = try await client.execute(
                uri: "/hooks/echo", method: .post, headers: headers,
                body: Self.delivery("/echo <script>x</script> & more"))
            #expect(response.status == .ok)
            #expect(
                response.json?["message"]?.stringValue
                    == "<i>&lt;script&gt;x&lt;/script&gt; &amp; more</i> said Ada &lt;Lovelace&gt; in room 42")
            #expect(response.json?["message_format"]?.stringValue == "html")

            let unknown = try await client.execute(
                uri: "/hooks/echo", method: .post, headers: headers,
                body: Self.delivery("/echo hi", clientId: "not-installed"))
            #expect(unknown.status == .forbidden)
            #expect(unknown.errorField == "oauth_client_id")
            let missing = try await client.execute(
                uri: "/hooks/echo", method: .post, headers: headers,
                body: jsonBody(#"{"event": "room_message", "item": {"message": {"message": "/echo hi"}}}"#))
            #expect(missing.status == .badRequest)
            #expect(missing.errorField == "oauth_client_id")
        }
    }

    /// A signed delivery's settings are its token's room's: the body's room is not signed. A
    /// token of room 7 with a body naming room 42 read room 42's settings; it is refused now, and
    /// a token with no room (a global installation's, from the group) gets the installation's
    /// settings, never a room's the body names.
    @Test("a JWT webhook's settings are its token's room's, never the room its body names")
    func settingsFollowTheTokensRoom() async throws {
        try await run { client, store in
            try await store.putSettings(["severity": .string("high")], oauthId: Fixture.oauthId, room: nil)
            try await store.putSettings(["severity": .string("low")], oauthId: Fixture.oauthId, room: 42)
            func reply(token: String, room: Int) async throws -> (HTTPResponse.Status, String) {
                let response = try await client.execute(
                    uri: "/hooks/incident", method: .post,
                    headers: [.authorization: "JWT \(token)", .contentType: "application/json"],
                    body: Self.delivery("/incident DB-1", room: room))
                return (response.status, response.json?["message"]?.stringValue ?? response.text)
            }
            let own = try await reply(token: try await Tokens.mint(room: 42), room: 42)
            #expect(own.0 == .ok && own.1.contains("(low)"), "\(own)")
            let other = try await reply(token: try await Tokens.mint(room: 7), room: 42)
            #expect(other.0 == .unauthorized, "\(other)")
            #expect(other.1.contains("the delivery names room 42, but its token is for room 7"), "\(other)")
            let roomless = try await reply(token: try await Tokens.mint(room: nil), room: 42)
            #expect(roomless.0 == .ok && roomless.1.contains("(high)"), "\(roomless)")
        }
    }

    /// Anyone can post an unsigned delivery naming any installation: its reply gets the
    /// settings' defaults, never what an installation stored.
    @Test("an unsigned webhook's reply gets the settings' defaults, not an installation's stored values")
    func unsignedRepliesGetDefaults() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try site.replace(
            "said {{sender.name}} in room {{room.id}}", with: "severity {{settings.severity}}",
            in: "_hipkit/runtime.json")
        try await withServer(
            site,
            setup: { store in
                try await store.upsert(Fixture.installation())
                try await store.putSettings(["severity": .string("high")], oauthId: Fixture.oauthId, room: nil)
            }
        ) { client, _ in
            let response = try await client.execute(
                uri: "/hooks/echo", method: .post, headers: [.contentType: "application/json"],
                body: Self.delivery("/echo hi"))
            #expect(response.status == .ok)
            #expect(response.json?["message"]?.stringValue == "<i>hi</i> severity low", "\(response.text)")
        }
    }

    @Test("a JWT webhook refuses deliveries without a valid token, in the header or signed_request")
    func jwtRequired() async throws {
        try await run { client, _ in
            let none = try await client.execute(
                uri: "/hooks/incident", method: .post, headers: [.contentType: "application/json"],
                body: Self.delivery("/incident X"))
            #expect(none.status == .unauthorized)
            let expired = try await Tokens.mint(expiresIn: -3600)
            let old = try await client.execute(
                uri: "/hooks/incident?signed_request=\(expired)", method: .post,
                headers: [.contentType: "application/json"], body: Self.delivery("/incident X"))
            #expect(old.status == .unauthorized)
            let token = try await Tokens.mint()
            let query = try await client.execute(
                uri: "/hooks/incident?signed_request=\(token)", method: .post,
                headers: [.contentType: "application/json"], body: Self.delivery("/incident X"))
            #expect(query.status == .ok)
        }
    }

    @Test(
        "malformed deliveries are 400",
        arguments: [
            ("{", "body"),
            ("\"text\"", "body" as String?),
            (
                #"{"event": "room_message", "oauth_client_id": "5d2e4c1a-0b9f-4e6e-9a51-2f1c0de0a001", "item": {"message": {"message": 5}}}"#,
                "item.message.message"
            ),
            (
                #"{"event": "room_message", "oauth_client_id": "5d2e4c1a-0b9f-4e6e-9a51-2f1c0de0a001", "item": {"room": {"id": "abc"}}}"#,
                "item.room.id"
            ),
            (
                #"{"event": "room_message", "oauth_client_id": "5d2e4c1a-0b9f-4e6e-9a51-2f1c0de0a001", "item": []}"#,
                "item"
            ),
        ])
    func malformed(_ body: String, _ field: String?) async throws {
        try await run { client, _ in
            let response = try await client.execute(
                uri: "/hooks/echo", method: .post, headers: [.contentType: "application/json"], body: jsonBody(body))
            #expect(response.status == .badRequest, "\(response.text)")
            if let field { #expect(response.errorField == field) }
            #expect(try await client.execute(uri: "/hooks/echo", method: .get).status == .methodNotAllowed)
        }
    }
}
