import Foundation
import HipChatConnect
import Hummingbird
import HummingbirdTesting
import Testing

@testable import HipKitServer

/// HipChat's browser flows: `installedUrl`, `updatedUrl` and `uninstalledUrl`, each reached
/// with `installable_url` (read once) and `redirect_url`.
@Suite("Browser install flows", .serialized)
struct BrowserFlowTests {
    /// Where the browser goes back to: on the stand-in HipChat, as HipChat's own page was.
    static func back(_ hipchat: StandInHipChat) -> String { hipchat.base + "/rooms/show/42?installed=1" }

    static func query(_ installable: String, _ redirect: String) -> String {
        func encode(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
        }
        return "installable_url=\(encode(installable))&redirect_url=\(encode(redirect))"
    }

    /// The fixture site, its descriptor declaring the three browser flows.
    static func flowSite(installedUrl: String = "https://incidents.example.com/installed-browser") throws -> TestSite {
        let site = try TestSite()
        let file = site.dist.appendingPathComponent("atlassian-connect.json")
        var descriptor = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        var capabilities = try #require(descriptor["capabilities"] as? [String: Any])
        var installable = try #require(capabilities["installable"] as? [String: Any])
        installable["installedUrl"] = installedUrl
        installable["updatedUrl"] = "https://incidents.example.com/updated-browser"
        installable["uninstalledUrl"] = "/uninstalled"
        capabilities["installable"] = installable
        descriptor["capabilities"] = capabilities
        try JSONSerialization.data(withJSONObject: descriptor, options: [.sortedKeys]).write(to: file)
        return site
    }

    /// ``flowSite()`` trusting the stand-in.
    static func withFlowServer(
        _ hipchat: StandInHipChat, verify: Bool = true,
        _ body: @Sendable (any TestClientProtocol, SQLiteStore) async throws -> Void
    ) async throws {
        let site = try flowSite()
        defer { site.remove() }
        let configuration = site.configuration(
            trustedHosts: [TrustedHost(host: "127.0.0.1", port: hipchat.port)], verifyInstalls: verify)
        try await withServer(site, configuration, body)
    }

    @Test("installedUrl stores the installation read once from installable_url, then sends the browser back")
    func install() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await Self.withFlowServer(hipchat) { client, store in
                let installable = hipchat.installable(roomId: 42)
                let uri = "/installed-browser?" + Self.query(installable, Self.back(hipchat))
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .seeOther, "\(response.text)")
                #expect(response.headers[.location] == Self.back(hipchat))
                let stored = try #require(try await store.installation(oauthId: Fixture.oauthId))
                #expect(stored.oauthSecret == Fixture.secret)
                #expect(stored.roomId == 42)
                #expect(stored.apiUrl == hipchat.apiUrl)
                #expect(hipchat.state.withLock { $0.tokenRequests.count } == 1)
                // Its JWTs now open the views.
                let token = try await Tokens.mint()
                #expect(
                    try await client.execute(uri: "/incidents.html?signed_request=\(token)", method: .get).status == .ok
                )

                // The same link again: HipChat answers 404 now; nothing changes, and a browser
                // gets a page saying why.
                let before = try await store.installations()
                let again = try await client.execute(uri: uri, method: .get, headers: [.accept: "text/html"])
                #expect(again.status == .badRequest)
                #expect(again.headers[.location] == nil)
                #expect(again.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(again.text.contains("once only"))
                #expect(try await store.installations() == before)
            }
        }
    }

    @Test("updatedUrl updates the installation it reads")
    func update() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await Self.withFlowServer(hipchat) { client, store in
                let first = "/installed-browser?" + Self.query(hipchat.installable(roomId: 42), Self.back(hipchat))
                #expect(try await client.execute(uri: first, method: .get).status == .seeOther)
                let update = "/updated-browser?" + Self.query(hipchat.installable(roomId: 43), Self.back(hipchat))
                let response = try await client.execute(uri: update, method: .get)
                #expect(response.status == .seeOther, "\(response.text)")
                #expect(try await store.installation(oauthId: Fixture.oauthId)?.roomId == 43)
                #expect(try await store.installations().count == 1)
            }
        }
    }

    @Test("credentials HipChat's token endpoint refuses store nothing and send the browser nowhere")
    func forgedCredentials() async throws {
        try await StandInHipChat.with { hipchat in
            // The stand-in hands out details whose secret it does not accept.
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await Self.withFlowServer(hipchat) { client, store in
                let forged = hipchat.installable(secret: "F0rgedSecretF0rgedSecretF0rgedSecretF0rg")
                let response = try await client.execute(
                    uri: "/installed-browser?" + Self.query(forged, Self.back(hipchat)), method: .get)
                #expect(response.status == .forbidden, "\(response.text)")
                #expect(response.headers[.location] == nil)
                #expect(response.errorMessage?.contains("token endpoint refused") == true)
                #expect(try await store.installations().isEmpty)
            }
        }
    }

    @Test(
        "an installable_url off the trusted hosts is refused before anything is fetched",
        arguments: [
            "https://installable.example.net/v2/oauth/installable/1",
            "http://127.0.0.2:1/v2/oauth/installable/1",
            "http://api.hipchat.com/v2/oauth/installable/1",
            "https://user:pw@api.hipchat.com/v2/oauth/installable/1",
            "file:///etc/passwd",
            "/v2/oauth/installable/1",
            "not a url",
        ])
    func untrustedInstallable(_ installable: String) async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await Self.withFlowServer(hipchat) { client, store in
                let response = try await client.execute(
                    uri: "/installed-browser?" + Self.query(installable, Self.back(hipchat)), method: .get)
                #expect(response.status == .forbidden || response.status == .badRequest, "\(response.text)")
                #expect(response.errorField == "installable_url")
                #expect(response.headers[.location] == nil)
                #expect(try await store.installations().isEmpty)
            }
            #expect(hipchat.state.withLock { $0.installableRequests } == 0)
        }
    }

    @Test(
        "a redirect_url off the HipChat that sent the browser is refused: no open redirect",
        arguments: [
            "https://evil.example/after-install",
            "//evil.example/after-install",
            "javascript:alert(1)",
            "https://api.hipchat.com@evil.example/",
            "http://127.0.0.1:1/elsewhere",
            "https://hipchat.com.evil.example/",
            "/rooms/show/42",
        ])
    func openRedirect(_ redirect: String) async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await Self.withFlowServer(hipchat) { client, store in
                let response = try await client.execute(
                    uri: "/installed-browser?" + Self.query(hipchat.installable(), redirect), method: .get)
                #expect(response.status == .forbidden || response.status == .badRequest, "\(response.text)")
                #expect(response.errorField == "redirect_url")
                #expect(response.headers[.location] == nil)
                #expect(try await store.installations().isEmpty)
            }
            // Checked before the single-use link is spent.
            #expect(hipchat.state.withLock { $0.installableRequests } == 0)
        }
    }

    @Test(
        "an installable_url answering anything but the details stores nothing",
        arguments: ["huge", "page", "redirect", "used-already"])
    func badAnswers(_ kind: String) async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await Self.withFlowServer(hipchat) { client, store in
                let installable = hipchat.base + "/v2/oauth/installable/" + kind
                let response = try await client.execute(
                    uri: "/installed-browser?" + Self.query(installable, Self.back(hipchat)), method: .get)
                #expect(response.status == .badRequest, "\(kind): \(response.text)")
                #expect(response.errorField == "installable_url")
                #expect(try await store.installations().isEmpty)
            }
            if kind == "redirect" {
                // Not followed.
                #expect(hipchat.state.withLock { $0.installableRequests } == 1)
            }
        }
    }

    @Test(
        "details that are not an installation are refused naming the field",
        arguments: [
            (nil as String?, "installable_url.oauthSecret"),
            ("short", "installable_url.oauthSecret"),
        ])
    func badDetails(_ secret: String?, _ field: String) async throws {
        try await StandInHipChat.with { hipchat in
            try await Self.withFlowServer(hipchat) { client, store in
                let response = try await client.execute(
                    uri: "/installed-browser?" + Self.query(hipchat.installable(secret: secret), Self.back(hipchat)),
                    method: .get)
                #expect(response.status == .badRequest, "\(response.text)")
                #expect(response.errorField == field)
                #expect(try await store.installations().isEmpty)
            }
        }
    }

    @Test("a request without the two parameters, or not a GET, is refused")
    func malformed() async throws {
        try await StandInHipChat.with { hipchat in
            try await Self.withFlowServer(hipchat) { client, store in
                let missing = try await client.execute(uri: "/installed-browser", method: .get)
                #expect(missing.status == .badRequest)
                #expect(missing.errorField == "installable_url")
                let noRedirect = try await client.execute(
                    uri: "/installed-browser?installable_url=\(hipchat.installable())", method: .get)
                #expect(noRedirect.status == .badRequest)
                #expect(noRedirect.errorField == "redirect_url")
                let head = try await client.execute(
                    uri: "/installed-browser?" + Self.query(hipchat.installable(), Self.back(hipchat)), method: .head)
                #expect(head.status == .methodNotAllowed)
                #expect(try await store.installations().isEmpty)
                #expect(hipchat.state.withLock { $0.installableRequests } == 0)
            }
        }
    }

    @Test("a browser flow at a page's path leaves the page to visitors without installable_url")
    func flowAtAPage() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            // installedUrl at the site's root, which is also index.html.
            let site = try Self.flowSite(installedUrl: "https://incidents.example.com/")
            defer { site.remove() }
            let configuration = site.configuration(
                trustedHosts: [TrustedHost(host: "127.0.0.1", port: hipchat.port)])
            try await withServer(site, configuration) { client, store in
                let page = try await client.execute(uri: "/", method: .get)
                #expect(page.status == .ok)
                #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
                let flow = try await client.execute(
                    uri: "/?" + Self.query(hipchat.installable(), Self.back(hipchat)), method: .get)
                #expect(flow.status == .seeOther, "\(flow.text)")
                #expect(try await store.installations().count == 1)
            }
        }
    }

    @Test("uninstalledUrl removes the installation only once HipChat no longer issues its credentials")
    func uninstall() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await Self.withFlowServer(hipchat) { client, store in
                let install = "/installed-browser?" + Self.query(hipchat.installable(), Self.back(hipchat))
                #expect(try await client.execute(uri: install, method: .get).status == .seeOther)

                // HipChat still issues the credentials: a forged uninstall link changes nothing.
                let early = try await client.execute(
                    uri: "/uninstalled?" + Self.query(hipchat.installable(secret: nil), Self.back(hipchat)),
                    method: .get)
                #expect(early.status == .forbidden, "\(early.text)")
                #expect(try await store.installation(oauthId: Fixture.oauthId) != nil)

                // Another HipChat cannot remove it either.
                hipchat.revoke(Fixture.oauthId)
                let otherHipChat = hipchat.installable(
                    secret: nil, capabilitiesUrl: "https://api.hipchat.com/v2/capabilities")
                let elsewhere = try await client.execute(
                    uri: "/uninstalled?" + Self.query(otherHipChat, Self.back(hipchat)), method: .get)
                #expect(elsewhere.status == .forbidden, "\(elsewhere.text)")
                #expect(try await store.installation(oauthId: Fixture.oauthId) != nil)

                let response = try await client.execute(
                    uri: "/uninstalled?" + Self.query(hipchat.installable(secret: nil), Self.back(hipchat)),
                    method: .get)
                #expect(response.status == .seeOther, "\(response.text)")
                #expect(response.headers[.location] == Self.back(hipchat))
                #expect(try await store.installations().isEmpty)
                let token = try await Tokens.mint()
                #expect(
                    try await client.execute(uri: "/incidents.html?signed_request=\(token)", method: .get).status
                        == .unauthorized)

                // Already gone (HipChat's server-side DELETE came first): the browser goes back.
                let again = try await client.execute(
                    uri: "/uninstalled?" + Self.query(hipchat.installable(secret: nil), Self.back(hipchat)),
                    method: .get)
                #expect(again.status == .seeOther)
            }
        }
    }

    /// One raw GET, so that the redirect is seen rather than followed.
    static func rawGet(port: Int, _ path: String) async throws -> (status: Int, location: String?) {
        let text = try await RawConnection.exchange(
            port: port, bytes: "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        let lines = text.components(separatedBy: "\r\n")
        let status = lines.first.flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) } ?? 0
        let location = lines.first { $0.lowercased().hasPrefix("location:") }.map {
            String($0.dropFirst("location:".count)).trimmingCharacters(in: .whitespaces)
        }
        return (status, location)
    }

    @Test("a spec declaring installedUrl builds, and hipkit serve --trust-host answers it as HipChat's browser flow")
    func servedByHipkit() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            let project = FileManager.default.temporaryDirectory.appendingPathComponent("browser-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: project, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: project) }
            try Data(
                """
                key: com.example.browser-install
                name: Browser install
                description: Installed through HipChat's browser flow.
                vendor: {name: Example Inc., url: "https://example.com"}
                baseUrl: https://addon.example.com
                scopes: [send_notification]
                install:
                  installedUrl: /installed-browser
                  uninstalledUrl: /uninstalled

                """.utf8
            ).write(to: project.appendingPathComponent("addon.yaml"))
            let (status, output) = try await CopyStoreTests.hipkit(["build", project.path], environment: [:])
            #expect(status == 0, "\(output)")

            let server = try ServeCommandTests.Server(
                arguments: [
                    "serve", project.appendingPathComponent("dist").path, "--port", "0", "--data",
                    project.appendingPathComponent(".hipkit").path, "--trust-host", "127.0.0.1:\(hipchat.port)",
                ], logFolder: project)
            try await server.waitUntilListening()
            defer { kill(server.process.processIdentifier, SIGKILL) }

            let link = hipchat.installable()
            let path = "/installed-browser?" + Self.query(link, Self.back(hipchat))
            let first = try await Self.rawGet(port: server.port, path)
            #expect(first.status == 303, "\(server.log)")
            #expect(first.location == Self.back(hipchat))
            let admin = ["Authorization": "Bearer \(GlanceTests.adminToken)"]
            func installations() async throws -> [String] {
                let (status, data) = try await server.request("/admin/installations", headers: admin)
                #expect(status == 200)
                return JSONNode.parse(data)?["installations"]?.arrayValue?.compactMap { $0["oauthId"]?.stringValue }
                    ?? []
            }
            #expect(try await installations() == [Fixture.oauthId])

            // The same link again: HipChat answers 404 now. 4xx, and nothing more is stored.
            let again = try await Self.rawGet(port: server.port, path)
            #expect((400..<500).contains(again.status))
            #expect(again.location == nil)
            #expect(try await installations() == [Fixture.oauthId])

            // Uninstall once HipChat has let go of the credentials.
            hipchat.revoke(Fixture.oauthId)
            let gone = try await Self.rawGet(
                port: server.port, "/uninstalled?" + Self.query(hipchat.installable(secret: nil), Self.back(hipchat)))
            #expect(gone.status == 303)
            #expect(try await installations().isEmpty)
        }
    }
}
