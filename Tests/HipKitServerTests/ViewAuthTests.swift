import Foundation
import HipChatConnect
import Hummingbird
import HummingbirdTesting
import Testing

@testable import HipKitServer

@Suite("JWT on views")
struct ViewAuthTests {
    private func run(_ body: @Sendable @escaping (any TestClientProtocol) async throws -> Void) async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(
            site,
            setup: { store in
                try await store.upsert(Fixture.installation())
                try await store.upsert(Fixture.installation(Fixture.otherId, secret: Fixture.otherSecret))
            }
        ) { client, _ in try await body(client) }
    }

    @Test("a valid token, in signed_request or the Authorization header, opens the view")
    func accepted() async throws {
        try await run { client in
            let token = try await Tokens.mint(room: 42)
            let query = try await client.execute(uri: "/incidents.html?signed_request=\(token)", method: .get)
            #expect(query.status == .ok)
            #expect(query.text.contains("Open incidents"))
            #expect(query.headers[.contentSecurityPolicy] == "frame-ancestors 'self' https://*.hipchat.com")
            #expect(query.headers[.cacheControl] == "private, max-age=60")
            let header = try await client.execute(
                uri: "/incidents.html", method: .get, headers: [.authorization: "JWT \(token)"])
            #expect(header.status == .ok)
            // The other installation's tokens work with its own secret.
            let other = try await Tokens.mint(iss: Fixture.otherId, secret: Fixture.otherSecret)
            #expect(
                try await client.execute(uri: "/incidents.html?signed_request=\(other)", method: .get).status == .ok)
        }
    }

    @Test("without a token: 401 as JSON for programs, as a page for browsers")
    func missing() async throws {
        try await run { client in
            let json = try await client.execute(uri: "/incidents.html", method: .get)
            #expect(json.status == .unauthorized)
            #expect(json.headers[.contentType] == "application/json; charset=utf-8")
            #expect(json.errorMessage?.contains("JWT") == true)
            #expect(json.headers[.wwwAuthenticate] != nil)
            let page = try await client.execute(
                uri: "/incidents.html", method: .get, headers: [.accept: "text/html,application/xhtml+xml"])
            #expect(page.status == .unauthorized)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.text.contains("<h1>401"))
            #expect(!page.text.contains("Open incidents"))
        }
    }

    // Forged, altered and broken tokens: AttackTests.jwt, on views and glances, over a real connection.

    @Test("the algorithm is refused before any key is looked at")
    func algorithmMessage() async throws {
        try await run { client in
            let none = Tokens.forged(header: #"{"alg":"none"}"#)
            let response = try await client.execute(uri: "/incidents.html?signed_request=\(none)", method: .get)
            #expect(response.errorMessage?.contains("only HS256") == true)
        }
    }

    @Test("expiry has a small leeway for clock skew")
    func leeway() async throws {
        try await run { client in
            let justExpired = try await Tokens.mint(expiresIn: -20)
            #expect(
                try await client.execute(uri: "/incidents.html?signed_request=\(justExpired)", method: .get).status
                    == .ok)
            let slightlyEarly = try await Tokens.mint(issuedAgo: -20, notBefore: 20)
            #expect(
                try await client.execute(uri: "/incidents.html?signed_request=\(slightlyEarly)", method: .get).status
                    == .ok)
        }
    }

    @Test("authentication: none views are public; configure and external pages need a token")
    func publicAndProtected() async throws {
        try await run { client in
            let dialog = try await client.execute(uri: "/raise.html", method: .get)
            #expect(dialog.status == .ok)
            #expect(dialog.headers[.contentSecurityPolicy] != nil)
            #expect(dialog.headers[.cacheControl] == "public, max-age=60")
            #expect(try await client.execute(uri: "/configure", method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: "/changelog.html", method: .get).status == .unauthorized)
            let token = try await Tokens.mint()
            let configure = try await client.execute(uri: "/configure?signed_request=\(token)", method: .get)
            #expect(configure.status == .ok)
            #expect(configure.text.contains("Configure incidents"))
            // Pages that are no view stay public.
            #expect(try await client.execute(uri: "/help/faq.html", method: .get).status == .ok)
        }
    }

    @Test("a room installation's token that names another room is refused")
    func roomInstallationTokenOfAnotherRoom() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site, setup: { store in try await store.upsert(Fixture.installation(roomId: 7)) }) {
            client, _ in
            let own = try await Tokens.mint(room: 7)
            #expect(try await client.execute(uri: "/incidents.html?signed_request=\(own)", method: .get).status == .ok)
            let other = try await Tokens.mint(room: 8)
            let refused = try await client.execute(uri: "/incidents.html?signed_request=\(other)", method: .get)
            #expect(refused.status == .unauthorized)
            #expect(refused.errorMessage?.contains("installation is for room 7") == true, "\(refused.text)")
            // Asked again, the refusal is not taken from what the first answer kept.
            #expect(
                try await client.execute(uri: "/incidents.html?signed_request=\(other)", method: .get).status
                    == .unauthorized)
        }
    }

    @Test("a token naming room 0 or a negative room is refused", arguments: [0, -1])
    func tokenOfNoRoom(_ room: Int) async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site, setup: { store in try await store.upsert(Fixture.installation()) }) { client, _ in
            let token = try await Tokens.mint(room: room)
            let refused = try await client.execute(uri: "/incidents.html?signed_request=\(token)", method: .get)
            #expect(refused.status == .unauthorized)
            #expect(refused.errorMessage?.contains("no room id") == true, "\(refused.text)")
            let glance = try await client.execute(
                uri: "/glances/incidents-glance.json", method: .get, headers: [.authorization: "JWT \(token)"])
            #expect(glance.status == .unauthorized)
        }
    }

    @Test("a view's file needs its token at every path that names it")
    func everyPathOfAViewsFile() async throws {
        let site = try TestSite()
        defer { site.remove() }
        // The changelog page becomes a folder's index: `/help/` and `/help/index.html` are one file.
        try site.replace(
            "https://incidents.example.com/changelog.html", with: "https://incidents.example.com/help/",
            in: "atlassian-connect.json")
        try await withServer(site, setup: { store in try await store.upsert(Fixture.installation()) }) { client, _ in
            // The descriptor names `/incidents.html`, `/configure` and `/help/`.
            for path in ["/incidents", "/configure.html", "/help/index.html", "/help/"] {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.status == .unauthorized, "\(path)")
                #expect(!response.text.contains("Open incidents"), "\(path)")
                let token = try await Tokens.mint()
                let opened = try await client.execute(uri: "\(path)?signed_request=\(token)", method: .get)
                #expect(opened.status == .ok, "\(path)")
                #expect(opened.headers[.cacheControl] == "private, max-age=60", "\(path)")
            }
            // A public view is a view at its other path too (its headers), and still public.
            let dialog = try await client.execute(uri: "/raise", method: .get)
            #expect(dialog.status == .ok)
            #expect(dialog.headers[.contentSecurityPolicy] != nil)
            // Other files of the folder are no view.
            #expect(try await client.execute(uri: "/help/faq.html", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/changelog.html", method: .get).status == .ok)
        }
    }

    @Test("a link in dist/ to a view's file, or a public view's path naming it, still needs the token")
    func linksAndPublicPathsToAViewsFile() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try FileManager.default.createSymbolicLink(
            atPath: site.dist.appendingPathComponent("copy.html").path, withDestinationPath: "incidents.html")
        // The public dialog's URL becomes `/incidents`, which is also the JWT sidebar's file.
        try site.replace(
            "https://incidents.example.com/raise.html", with: "https://incidents.example.com/incidents",
            in: "atlassian-connect.json")
        try await withServer(site, setup: { store in try await store.upsert(Fixture.installation()) }) { client, _ in
            for path in ["/copy.html", "/copy", "/incidents"] {
                let response = try await client.execute(uri: path, method: .get)
                #expect(response.status == .unauthorized, "\(path)")
                #expect(!response.text.contains("Open incidents"), "\(path)")
                let token = try await Tokens.mint()
                #expect(
                    try await client.execute(uri: "\(path)?signed_request=\(token)", method: .get).status == .ok,
                    "\(path)")
            }
        }
    }

    @Test("frame-ancestors can be configured")
    func frameAncestors() async throws {
        let site = try TestSite()
        defer { site.remove() }
        var configuration = site.configuration()
        configuration.frameAncestors = ["https://hipchat.example.com"]
        try await withServer(site, configuration) { client, _ in
            let response = try await client.execute(uri: "/raise.html", method: .get)
            #expect(response.headers[.contentSecurityPolicy] == "frame-ancestors https://hipchat.example.com")
        }
    }
}
