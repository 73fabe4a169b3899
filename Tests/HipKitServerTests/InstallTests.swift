import Foundation
import HipChatConnect
import Hummingbird
import HummingbirdTesting
import Testing

@testable import HipKitServer

@Suite("Install, update and uninstall", .serialized)
struct InstallTests {
    static let json: HTTPFields = [.contentType: "application/json"]

    static func body(
        _ hipchat: StandInHipChat, oauthId: String = Fixture.oauthId, secret: String = Fixture.secret,
        capabilities: String? = nil, roomId: Int? = nil
    ) -> ByteBuffer {
        var text =
            #"{"oauthId": "\#(oauthId)", "oauthSecret": "\#(secret)", "capabilitiesUrl": "\#(capabilities ?? hipchat.capabilitiesUrl)", "groupId": 9001"#
        if let roomId { text += #", "roomId": \#(roomId)"# }
        return jsonBody(text + "}")
    }

    /// The fixture site trusting the stand-in.
    static func withInstallServer(
        _ hipchat: StandInHipChat, verify: Bool = true, logs: LogCapture? = nil,
        _ body: @Sendable (any TestClientProtocol, SQLiteStore) async throws -> Void
    ) async throws {
        let site = try TestSite()
        defer { site.remove() }
        let configuration = site.configuration(
            trustedHosts: [TrustedHost(host: "127.0.0.1", port: hipchat.port)], verifyInstalls: verify)
        try await withServer(site, configuration, logs: logs, body)
    }

    @Test("a verified install is stored with HipChat's API URL, and its JWTs then work")
    func verifiedInstall() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await Self.withInstallServer(hipchat) { client, store in
                let response = try await client.execute(
                    uri: "/installed", method: .post, headers: Self.json, body: Self.body(hipchat, roomId: 42))
                #expect(response.status == .ok)
                #expect(response.text.trimmingCharacters(in: .whitespacesAndNewlines) == "{}")
                let stored = try #require(try await store.installation(oauthId: Fixture.oauthId))
                #expect(stored.oauthSecret == Fixture.secret)
                #expect(stored.apiUrl == hipchat.apiUrl)
                #expect(stored.tokenUrl == hipchat.tokenUrl)
                #expect(stored.groupId == 9001)
                #expect(stored.roomId == 42)
                let request = try #require(hipchat.state.withLock { $0.tokenRequests.first })
                #expect(request.oauthId == Fixture.oauthId)
                #expect(request.body == "grant_type=client_credentials")
                let token = try await Tokens.mint()
                #expect(
                    try await client.execute(uri: "/incidents.html?signed_request=\(token)", method: .get).status == .ok
                )
            }
        }
    }

    @Test(
        "installs naming an untrusted host are refused before anything is fetched",
        arguments: [
            "https://api.hipchat.evil.example/v2/capabilities",
            "http://127.0.0.2:1/v2/capabilities",
            "http://api.hipchat.com/v2/capabilities",
            "https://user:pw@api.hipchat.com/v2/capabilities",
            "not a url",
        ])
    func untrustedHost(_ capabilitiesUrl: String) async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            let site = try TestSite()
            defer { site.remove() }
            // The default: only api.hipchat.com is trusted.
            try await withServer(site) { client, store in
                let response = try await client.execute(
                    uri: "/installed", method: .post, headers: Self.json,
                    body: Self.body(hipchat, capabilities: capabilitiesUrl))
                #expect(response.status == .forbidden || response.status == .badRequest)
                #expect(response.errorField == "capabilitiesUrl")
                #expect(try await store.installations().isEmpty)
            }
            #expect(hipchat.state.withLock { $0.capabilityRequests } == 0)
        }
    }

    @Test(
        "refused verifications store nothing",
        arguments: ["mismatch", "redirect", "untrusted-token", "wrong-secret", "not-found"])
    func refusedVerification(_ kind: String) async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await Self.withInstallServer(hipchat) { client, store in
                var capabilities = hipchat.capabilitiesUrl
                var secret = Fixture.secret
                switch kind {
                case "mismatch": capabilities += "/mismatch"
                case "redirect": capabilities += "/redirect"
                case "untrusted-token": capabilities += "/untrusted-token"
                case "not-found": capabilities += "/nothing"
                default: secret = "F0rgedSecretF0rgedSecretF0rgedSecretF0rg"
                }
                let response = try await client.execute(
                    uri: "/installed", method: .post, headers: Self.json,
                    body: Self.body(hipchat, secret: secret, capabilities: capabilities))
                #expect(response.status == .forbidden, "\(kind): \(response.text)")
                #expect(response.errorMessage != nil)
                #expect(try await store.installations().isEmpty)
            }
            if kind == "redirect" {
                // The redirect was not followed.
                #expect(hipchat.state.withLock { $0.capabilityRequests } == 1)
            }
        }
    }

    @Test("a forged reinstall cannot overwrite an installation's secret")
    func forgedReinstall() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            hipchat.accept(Fixture.otherId, Fixture.otherSecret)
            try await Self.withInstallServer(hipchat) { client, store in
                #expect(
                    try await client.execute(
                        uri: "/installed", method: .post, headers: Self.json, body: Self.body(hipchat)
                    ).status == .ok)
                #expect(
                    try await client.execute(
                        uri: "/installed", method: .post, headers: Self.json,
                        body: Self.body(hipchat, oauthId: Fixture.otherId, secret: Fixture.otherSecret)
                    ).status == .ok)
                let forged = "F0rgedSecretF0rgedSecretF0rgedSecretF0rg"
                let response = try await client.execute(
                    uri: "/installed", method: .post, headers: Self.json, body: Self.body(hipchat, secret: forged))
                #expect(response.status == .forbidden)
                #expect(try await store.installation(oauthId: Fixture.oauthId)?.oauthSecret == Fixture.secret)
                #expect(try await store.installation(oauthId: Fixture.otherId)?.oauthSecret == Fixture.otherSecret)
                let forgedToken = try await Tokens.mint(secret: forged)
                #expect(
                    try await client.execute(uri: "/incidents.html?signed_request=\(forgedToken)", method: .get).status
                        == .unauthorized)
                // A genuine reinstall replaces only its own record.
                #expect(
                    try await client.execute(
                        uri: "/installed", method: .post, headers: Self.json, body: Self.body(hipchat, roomId: 77)
                    ).status == .ok)
                #expect(try await store.installation(oauthId: Fixture.oauthId)?.roomId == 77)
                #expect(try await store.installation(oauthId: Fixture.otherId)?.roomId == nil)
            }
        }
    }

    @Test(
        "malformed install bodies are 400 naming the field",
        arguments: [
            ("not json", "body"),
            ("[]", "body"),
            (
                #"{"oauthSecret": "Zq8xR2mN7vK4pL9sT3wY6bH1cF5gJ0dA2eU8iO4n", "capabilitiesUrl": "https://api.hipchat.com/v2/capabilities", "groupId": 1}"#,
                "oauthId"
            ),
            (
                #"{"oauthId": 5, "oauthSecret": "Zq8xR2mN7vK4pL9sT3wY6bH1cF5gJ0dA2eU8iO4n", "capabilitiesUrl": "https://api.hipchat.com/v2/capabilities", "groupId": 1}"#,
                "oauthId"
            ),
            (
                #"{"oauthId": "a", "capabilitiesUrl": "https://api.hipchat.com/v2/capabilities", "groupId": 1}"#,
                "oauthSecret"
            ),
            (
                #"{"oauthId": "a", "oauthSecret": "short", "capabilitiesUrl": "https://api.hipchat.com/v2/capabilities", "groupId": 1}"#,
                "oauthSecret"
            ),
            (
                #"{"oauthId": "a", "oauthSecret": "Zq8xR2mN7vK4pL9sT3wY6bH1cF5gJ0dA2eU8iO4n", "groupId": 1}"#,
                "capabilitiesUrl"
            ),
            (
                #"{"oauthId": "a", "oauthSecret": "Zq8xR2mN7vK4pL9sT3wY6bH1cF5gJ0dA2eU8iO4n", "capabilitiesUrl": "https://api.hipchat.com/v2/capabilities"}"#,
                "groupId"
            ),
            (
                #"{"oauthId": "a", "oauthSecret": "Zq8xR2mN7vK4pL9sT3wY6bH1cF5gJ0dA2eU8iO4n", "capabilitiesUrl": "https://api.hipchat.com/v2/capabilities", "groupId": "x"}"#,
                "groupId"
            ),
            (
                #"{"oauthId": "a", "oauthSecret": "Zq8xR2mN7vK4pL9sT3wY6bH1cF5gJ0dA2eU8iO4n", "capabilitiesUrl": "https://api.hipchat.com/v2/capabilities", "groupId": 1, "roomId": true}"#,
                "roomId"
            ),
            (
                #"{"oauthId": "a", "oauthSecret": "Zq8xR2mN7vK4pL9sT3wY6bH1cF5gJ0dA2eU8iO4n", "capabilitiesUrl": "https://api.hipchat.com/v2/capabilities", "groupId": 1, "roomId": -1}"#,
                "roomId"
            ),
            (
                #"{"oauthId": "a", "oauthSecret": "Zq8xR2mN7vK4pL9sT3wY6bH1cF5gJ0dA2eU8iO4n", "capabilitiesUrl": "https://api.hipchat.com/v2/capabilities", "groupId": 1, "roomId": 0}"#,
                "roomId"
            ),
        ])
    func malformed(_ body: String, _ field: String) async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site) { client, store in
            let response = try await client.execute(
                uri: "/installed", method: .post, headers: Self.json, body: jsonBody(body))
            #expect(response.status == .badRequest, "\(response.text)")
            #expect(response.errorField == field)
            #expect(try await store.installations().isEmpty)
        }
    }

    @Test(
        "a JWT of the installation does not vouch for an uninstall; once HipChat forgets it, it goes with its settings")
    func uninstallRevokes() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await Self.withInstallServer(hipchat) { client, store in
                #expect(
                    try await client.execute(
                        uri: "/installed", method: .post, headers: Self.json, body: Self.body(hipchat)
                    ).status == .ok)
                try await store.putSettings(["severity": .string("high")], oauthId: Fixture.oauthId, room: nil)
                let token = try await Tokens.mint()
                #expect(
                    try await client.execute(uri: "/incidents.html?signed_request=\(token)", method: .get).status == .ok
                )

                // Any user of a view holds such a token: it is no proof that HipChat uninstalled.
                let byAUser = try await client.execute(
                    uri: "/installed/\(Fixture.oauthId)?signed_request=\(token)", method: .delete,
                    headers: [.authorization: "JWT \(token)"])
                #expect(byAUser.status == .forbidden)
                #expect(try await store.installation(oauthId: Fixture.oauthId) != nil)

                hipchat.revoke(Fixture.oauthId)
                let response = try await client.execute(uri: "/installed/\(Fixture.oauthId)", method: .delete)
                #expect(response.status == .noContent)
                #expect(try await store.installation(oauthId: Fixture.oauthId) == nil)
                #expect(try await store.settings(oauthId: Fixture.oauthId, room: nil) == nil)
                #expect(
                    try await client.execute(uri: "/incidents.html?signed_request=\(token)", method: .get).status
                        == .unauthorized)
                #expect(
                    try await client.execute(uri: "/installed/\(Fixture.oauthId)", method: .delete).status == .notFound)
            }
        }
    }

    @Test("a reinstall with a new secret refuses tokens of the old one at once, though they were just accepted")
    func newSecretRefusesOldTokens() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await Self.withInstallServer(hipchat) { client, _ in
                #expect(
                    try await client.execute(
                        uri: "/installed", method: .post, headers: Self.json, body: Self.body(hipchat)
                    ).status == .ok)
                let old = try await Tokens.mint()
                #expect(
                    try await client.execute(uri: "/incidents.html?signed_request=\(old)", method: .get).status == .ok)

                let secret = "N3wSecretN3wSecretN3wSecretN3wSecretN3wS"
                hipchat.accept(Fixture.oauthId, secret)
                #expect(
                    try await client.execute(
                        uri: "/installed", method: .post, headers: Self.json, body: Self.body(hipchat, secret: secret)
                    ).status == .ok)
                #expect(
                    try await client.execute(uri: "/incidents.html?signed_request=\(old)", method: .get).status
                        == .unauthorized)
                let new = try await Tokens.mint(secret: secret)
                #expect(
                    try await client.execute(uri: "/incidents.html?signed_request=\(new)", method: .get).status == .ok)
            }
        }
    }

    @Test("an unsigned uninstall goes through only once HipChat has forgotten the credentials")
    func uninstallChecked() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await Self.withInstallServer(hipchat) { client, store in
                #expect(
                    try await client.execute(
                        uri: "/installed", method: .post, headers: Self.json, body: Self.body(hipchat)
                    ).status == .ok)
                let early = try await client.execute(uri: "/installed/\(Fixture.oauthId)", method: .delete)
                #expect(early.status == .forbidden)
                #expect(try await store.installation(oauthId: Fixture.oauthId) != nil)
                let wrongToken = try await Tokens.mint(secret: "F0rgedSecretF0rgedSecretF0rgedSecretF0rg")
                let forged = try await client.execute(
                    uri: "/installed/\(Fixture.oauthId)", method: .delete,
                    headers: [.authorization: "JWT \(wrongToken)"])
                #expect(forged.status == .forbidden)
                #expect(try await store.installation(oauthId: Fixture.oauthId) != nil)

                hipchat.revoke(Fixture.oauthId)
                let response = try await client.execute(uri: "/installed/\(Fixture.oauthId)", method: .delete)
                #expect(response.status == .noContent)
                #expect(try await store.installation(oauthId: Fixture.oauthId) == nil)
            }
        }
    }

    @Test("updateCallbackUrl replaces the record after verification, with the stored secret when none is sent")
    func update() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await Self.withInstallServer(hipchat) { client, store in
                #expect(
                    try await client.execute(
                        uri: "/installed", method: .post, headers: Self.json, body: Self.body(hipchat, roomId: 1)
                    ).status == .ok)
                let update = jsonBody(
                    #"{"oauthId": "\#(Fixture.oauthId)", "capabilitiesUrl": "\#(hipchat.capabilitiesUrl)", "roomId": 1}"#
                )
                let response = try await client.execute(
                    uri: "/updated", method: .post, headers: Self.json, body: update)
                #expect(response.status == .ok)
                let stored = try await store.installation(oauthId: Fixture.oauthId)
                #expect(stored?.roomId == 1)
                #expect(stored?.oauthSecret == Fixture.secret)
                #expect(hipchat.state.withLock { $0.tokenRequests.count } == 2)

                // Anyone who knows the oauthId can post an update without the secret: it cannot
                // move the installation to another room or to the whole group.
                for room in ["2", "null"] {
                    let moved = try await client.execute(
                        uri: "/updated", method: .post, headers: Self.json,
                        body: jsonBody(
                            #"{"oauthId": "\#(Fixture.oauthId)", "capabilitiesUrl": "\#(hipchat.capabilitiesUrl)", "roomId": \#(room)}"#
                        ))
                    #expect(moved.status == .forbidden, "roomId \(room)")
                    #expect(try await store.installation(oauthId: Fixture.oauthId)?.roomId == 1)
                }
                // With the secret (checked with HipChat) it can.
                let withSecret = try await client.execute(
                    uri: "/updated", method: .post, headers: Self.json,
                    body: jsonBody(
                        #"{"oauthId": "\#(Fixture.oauthId)", "oauthSecret": "\#(Fixture.secret)", "capabilitiesUrl": "\#(hipchat.capabilitiesUrl)", "roomId": 2}"#
                    ))
                #expect(withSecret.status == .ok)
                #expect(try await store.installation(oauthId: Fixture.oauthId)?.roomId == 2)

                let unknown = jsonBody(#"{"oauthId": "nobody", "capabilitiesUrl": "\#(hipchat.capabilitiesUrl)"}"#)
                #expect(
                    try await client.execute(uri: "/updated", method: .post, headers: Self.json, body: unknown).status
                        == .notFound)

                hipchat.revoke(Fixture.oauthId)
                let refused = try await client.execute(
                    uri: "/updated", method: .post, headers: Self.json,
                    body: jsonBody(
                        #"{"oauthId": "\#(Fixture.oauthId)", "capabilitiesUrl": "\#(hipchat.capabilitiesUrl)", "roomId": 2}"#
                    ))
                #expect(refused.status == .forbidden)
                #expect(refused.errorMessage?.contains("refused these credentials") == true)
                #expect(try await store.installation(oauthId: Fixture.oauthId)?.roomId == 2)
            }
        }
    }

    @Test("with --no-verify-installs, installs are stored as posted")
    func unverified() async throws {
        try await StandInHipChat.with { hipchat in
            try await Self.withInstallServer(hipchat, verify: false) { client, store in
                let response = try await client.execute(
                    uri: "/installed", method: .post, headers: Self.json,
                    body: Self.body(hipchat, capabilities: "https://anywhere.example/v2/capabilities"))
                #expect(response.status == .ok)
                #expect(try await store.installation(oauthId: Fixture.oauthId)?.apiUrl == nil)
                #expect(
                    try await client.execute(uri: "/installed/\(Fixture.oauthId)", method: .delete).status == .noContent
                )
            }
            #expect(hipchat.state.withLock { $0.capabilityRequests + $0.tokenRequests.count } == 0)
        }
    }
}
