import Crypto
import Foundation
import HipChatConnect
import HipKit
import Hummingbird
import HummingbirdTesting
import Testing

@testable import HipKitServer

/// Attacks on the server running on a loopback port. Every one must be refused and leave the
/// store as it was (installations, glance data, settings).
@Suite("Attacks on the running server", .serialized)
struct AttackTests {
    // MARK: Path traversal

    static let leaks = ["do not serve", "root:x:0", "\"webhooks\"", "hidden-file"]

    @Test(
        "no request target reaches a file outside dist/ or a hidden one, in any encoding",
        arguments: [
            "/../secret.txt", "/help/../../secret.txt", "/..%2fsecret.txt", "/%2e%2e/secret.txt", "/%2E%2e/secret.txt",
            "/%2e%2E%2fsecret.txt", "/.%2e/secret.txt", "/%2e./secret.txt", "/%252e%252e/secret.txt",
            "/%252e%252e%252fsecret.txt",
            "/assets/%252e%252e/%252e%252e/secret.txt", "/..\\secret.txt", "/%5c..%5csecret.txt",
            "/assets/..%5c..%5csecret.txt",
            "/%255c..%255csecret.txt", "/secret.txt%00.html", "/index.html%00", "/%00/../secret.txt",
            "/%c0%ae%c0%ae/secret.txt",
            "/%c0%ae%c0%ae%c0%afsecret.txt", "/%e0%80%ae%e0%80%ae/secret.txt", "/%ef%bc%8e%ef%bc%8e/secret.txt",
            "/%c1%9csecret.txt",
            "/..;/secret.txt", "/.../secret.txt", "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "../secret.txt",
            "http://localhost/../secret.txt", "/outside-link.txt", "/linked-dir/secret.txt",
            "/linked-dir/dist/index.html",
            "/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/_hipkit/runtime.json", "/_hipkit%2fruntime.json", "/.hidden",
        ])
    func traversal(_ target: String) async throws {
        let site = try Self.siteWithSecrets()
        defer { site.remove() }
        try await withLiveServer(site) { _, port, store in
            let before = try await StoreSnapshot.take(store)
            let outcome = try await RawConnection.drive(
                port: port,
                parts: [RawConnection.request("GET \(target) HTTP/1.1\r\nHost: localhost\r\nConnection: close")])
            #expect(outcome.status == 404 || outcome.status == 400, "\(target): \(outcome.text.prefix(200))")
            for leak in Self.leaks { #expect(!outcome.text.contains(leak), "\(target)") }
            #expect(try await StoreSnapshot.take(store) == before)
        }
    }

    @Test(
        "a file swapped for a link to outside dist/ after the server started is not served",
        arguments: ["memory", "disk"])
    func linkSwappedIn(_ storage: String) async throws {
        let site = try Self.siteWithSecrets()
        defer { site.remove() }
        // Files of 1 MiB and more are read from disk at request time; smaller ones are held in memory.
        let size = storage == "disk" ? (1 << 20) + 10 : 100
        let inside = site.dist.appendingPathComponent("assets/big.bin")
        try Data(repeating: UInt8(ascii: "i"), count: size).write(to: inside)
        let outside = site.root.appendingPathComponent("outside.bin")
        try (Data("do not serve".utf8) + Data(repeating: UInt8(ascii: "o"), count: size - 12)).write(to: outside)
        try await withLiveServer(site) { _, port, store in
            let before = try await StoreSnapshot.take(store)
            let first = try await RawConnection.drive(
                port: port,
                parts: [RawConnection.request("GET /assets/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close")])
            #expect(first.status == 200)
            try FileManager.default.removeItem(at: inside)
            try FileManager.default.createSymbolicLink(atPath: inside.path, withDestinationPath: outside.path)
            let after = try await RawConnection.drive(
                port: port,
                parts: [RawConnection.request("GET /assets/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close")])
            #expect(after.status != nil)
            #expect(!after.text.contains("do not serve"))
            #expect(!after.text.contains("ooooo"))
            #expect(try await StoreSnapshot.take(store) == before)
        }
    }

    /// A site with a secret beside dist/, links from inside pointing at it, and a hidden file.
    static func siteWithSecrets() throws -> TestSite {
        let site = try TestSite()
        let secret = site.root.appendingPathComponent("secret.txt")
        try Data("do not serve".utf8).write(to: secret)
        try FileManager.default.createSymbolicLink(
            atPath: site.dist.appendingPathComponent("outside-link.txt").path, withDestinationPath: secret.path)
        try FileManager.default.createSymbolicLink(
            atPath: site.dist.appendingPathComponent("linked-dir").path, withDestinationPath: site.root.path)
        try site.write("hidden-file", to: ".hidden")
        return site
    }

    // MARK: JWT

    /// Tokens an attacker can make: knowing the oauthIds (they are no secret) and holding a
    /// genuine token at most, never an installation's secret.
    static func attackToken(_ kind: String) -> String {
        let now = Int(Date().timeIntervalSince1970)
        let hs256 = #"{"alg":"HS256","typ":"JWT"}"#
        func claims(iss: String = Fixture.oauthId, exp: String = "\(now + 3600)", extra: String = "") -> String {
            #"{"iss":"\#(iss)","sub":"1234","iat":\#(now),"exp":\#(exp),"context":{"room_id":42}\#(extra)}"#
        }
        func sign(_ header: String, _ payload: String, secret: String = Fixture.secret, digest: String = "256")
            -> String
        {
            let input = Tokens.base64URL(header) + "." + Tokens.base64URL(payload)
            let key = SymmetricKey(data: Data(secret.utf8))
            let mac: Data
            switch digest {
            case "384": mac = Data(HMAC<SHA384>.authenticationCode(for: Data(input.utf8), using: key))
            case "512": mac = Data(HMAC<SHA512>.authenticationCode(for: Data(input.utf8), using: key))
            default: mac = Data(HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: key))
            }
            return input + "." + base64URL(mac)
        }
        // What a genuine token looks like; the attacker may have seen one.
        let genuine = sign(hs256, claims())
        let parts = genuine.split(separator: ".").map(String.init)
        switch kind {
        case "alg-none":
            return Tokens.base64URL(#"{"alg":"none","typ":"JWT"}"#) + "." + Tokens.base64URL(claims()) + "."
        case "alg-none-with-hmac": return sign(#"{"alg":"none","typ":"JWT"}"#, claims())
        case "alg-None": return Tokens.base64URL(#"{"alg":"None"}"#) + "." + Tokens.base64URL(claims()) + "."
        case "alg-lowercase-hs256": return sign(#"{"alg":"hs256","typ":"JWT"}"#, claims())
        case "alg-HS384": return sign(#"{"alg":"HS384","typ":"JWT"}"#, claims(), digest: "384")
        case "alg-HS512": return sign(#"{"alg":"HS512","typ":"JWT"}"#, claims(), digest: "512")
        case "alg-RS256-hmac": return sign(#"{"alg":"RS256","typ":"JWT"}"#, claims())
        case "alg-ES256-hmac": return sign(#"{"alg":"ES256","typ":"JWT"}"#, claims())
        case "alg-array": return sign(#"{"alg":["HS256"],"typ":"JWT"}"#, claims())
        case "alg-missing": return sign(#"{"typ":"JWT"}"#, claims())
        case "wrong-secret": return sign(hs256, claims(), secret: "Wr0ngSecretWr0ngSecretWr0ngSecretWr0ngSe")
        case "other-installations-secret": return sign(hs256, claims(), secret: Fixture.otherSecret)
        case "empty-secret": return sign(hs256, claims(), secret: "")
        case "expired": return sign(hs256, claims(exp: "\(now - 120)"))
        case "expired-long-ago": return sign(hs256, claims(exp: "1"))
        case "nbf-future": return sign(hs256, claims(extra: #","nbf":\#(now + 120)"#))
        case "iat-future":
            return sign(hs256, #"{"iss":"\#(Fixture.oauthId)","iat":\#(now + 120),"exp":\#(now + 3600)}"#)
        case "no-exp": return sign(hs256, #"{"iss":"\#(Fixture.oauthId)","iat":\#(now)}"#)
        case "exp-string": return sign(hs256, claims(exp: #""9999999999""#))
        case "exp-null": return sign(hs256, claims(exp: "null"))
        case "unknown-iss": return sign(hs256, claims(iss: "not-installed"))
        case "no-iss": return sign(hs256, #"{"exp":\#(now + 3600)}"#)
        case "iss-number": return sign(hs256, #"{"iss":5,"exp":\#(now + 3600)}"#)
        case "tampered-room":
            return parts[0] + "." + Tokens.base64URL(claims().replacingOccurrences(of: "42", with: "7")) + "."
                + parts[2]
        case "tampered-iss": return parts[0] + "." + Tokens.base64URL(claims(iss: Fixture.otherId)) + "." + parts[2]
        case "tampered-exp":
            let expired = sign(hs256, claims(exp: "\(now - 3600)")).split(separator: ".").map(String.init)
            return expired[0] + "." + Tokens.base64URL(claims()) + "." + expired[2]
        case "tampered-header-kid":
            return Tokens.base64URL(#"{"alg":"HS256","typ":"JWT","kid":"../../secret.key"}"#) + "." + parts[1] + "."
                + parts[2]
        case "signature-stripped": return parts[0] + "." + parts[1] + "."
        case "signature-flipped":
            var signature = Array(parts[2])
            signature[5] = signature[5] == "A" ? "B" : "A"
            return parts[0] + "." + parts[1] + "." + String(signature)
        case "signature-truncated": return parts[0] + "." + parts[1] + "." + parts[2].prefix(20)
        case "oversized": return sign(hs256, claims(extra: #","pad":"\#(String(repeating: "A", count: 100_000))""#))
        case "oversized-20k": return sign(hs256, claims(extra: #","pad":"\#(String(repeating: "A", count: 20_000))""#))
        case "garbage-header": return "!!!." + parts[1] + "." + parts[2]
        case "garbage-payload": return parts[0] + ".%%%." + parts[2]
        case "garbage-signature": return parts[0] + "." + parts[1] + ".***"
        case "header-not-json": return Tokens.base64URL("alg=HS256") + "." + parts[1] + "." + parts[2]
        case "payload-not-object": return sign(hs256, "[1,2,3]")
        case "one-part": return parts[0]
        case "two-parts": return parts[0] + "." + parts[1]
        case "four-parts": return genuine + "." + parts[2]
        case "empty-parts": return ".."
        default: return ""
        }
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static let jwtAttacks = [
        "alg-none", "alg-none-with-hmac", "alg-None", "alg-lowercase-hs256", "alg-HS384", "alg-HS512", "alg-RS256-hmac",
        "alg-ES256-hmac", "alg-array", "alg-missing", "wrong-secret", "other-installations-secret", "empty-secret",
        "expired",
        "expired-long-ago", "nbf-future", "iat-future", "no-exp", "exp-string", "exp-null", "unknown-iss", "no-iss",
        "iss-number",
        "tampered-room", "tampered-iss", "tampered-exp", "tampered-header-kid", "signature-stripped",
        "signature-flipped",
        "signature-truncated", "oversized", "oversized-20k", "garbage-header", "garbage-payload", "garbage-signature",
        "header-not-json",
        "payload-not-object", "one-part", "two-parts", "four-parts", "empty-parts", "empty",
    ]

    @Test(
        "forged, altered and broken JWTs open neither a view nor a glance, in the header or signed_request",
        arguments: jwtAttacks)
    func jwt(_ kind: String) async throws {
        let token = Self.attackToken(kind)
        let site = try TestSite()
        defer { site.remove() }
        try await withLiveServer(site) { client, port, store in
            let before = try await StoreSnapshot.take(store)
            // The control: a token signed with the secret opens both.
            let valid = try await Tokens.mint(room: 42)
            #expect(
                try await client.execute(uri: "/incidents.html?signed_request=\(valid)", method: .get).status == .ok)
            #expect(
                try await client.execute(uri: "/glances/incidents-glance.json?signed_request=\(valid)", method: .get)
                    .status == .ok)

            // 100 KB is beyond what the HTTP layer takes in a request line or header (400); the
            // verifier refuses any token over 8 KiB itself (401).
            let expected = kind == "oversized" ? 400 : 401
            let query =
                token.addingPercentEncoding(
                    withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_."))) ?? ""
            for (path, content) in [
                ("/incidents.html", "Open incidents"), ("/glances/incidents-glance.json", "planted"),
            ] {
                let byQuery = try await RawConnection.drive(
                    port: port,
                    parts: [
                        RawConnection.request(
                            "GET \(path)?signed_request=\(query) HTTP/1.1\r\nHost: x\r\nConnection: close")
                    ])
                #expect(byQuery.status == expected, "\(kind) on \(path) by query: \(byQuery.text.prefix(120))")
                #expect(!byQuery.text.contains(content))
                #expect(!byQuery.text.contains("in 42"))
                let byHeader = try await RawConnection.drive(
                    port: port,
                    parts: [
                        RawConnection.request(
                            "GET \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: JWT \(token)\r\nConnection: close")
                    ])
                #expect(byHeader.status == expected, "\(kind) on \(path) by header: \(byHeader.text.prefix(120))")
                #expect(!byHeader.text.contains(content))
                #expect(!byHeader.text.contains("in 42"))
            }
            #expect(try await StoreSnapshot.take(store) == before)
        }
    }

    // MARK: Forged installs

    static let json: HTTPFields = [.contentType: "application/json"]

    @Test(
        "forged installs and updates cannot replace, move or plant an installation",
        arguments: [
            "other-hipchat-replaces-secret", "other-hipchat-update", "reinstall-moves-group", "update-moves-group",
            "token-names-another-group", "links-self-trailing-slash", "links-self-other-hipchat", "token-endpoint-500",
            "token-endpoint-empty-token", "uninstall-with-other-installations-jwt", "uninstall-with-other-hipchat-jwt",
        ])
    func forgedInstall(_ kind: String) async throws {
        let forged = Self.forged
        try await withRealAndRogueHipChat(TestSite.init) { real, rogue, client, store, before in
            real.accept(Fixture.otherId, Fixture.otherSecret, group: 9002)
            func post(_ path: String, _ body: String) async throws -> TestResponse {
                try await client.execute(uri: path, method: .post, headers: Self.json, body: jsonBody(body))
            }
            func install(
                _ id: String = Fixture.oauthId, secret: String? = Fixture.secret, capabilities: String,
                group: Int = 9001
            ) -> String {
                #"{"oauthId": "\#(id)", "# + (secret.map { #""oauthSecret": "\#($0)", "# } ?? "")
                    + #""capabilitiesUrl": "\#(capabilities)", "groupId": \#(group), "roomId": 42}"#
            }
            let response: TestResponse
            var field: String? = nil
            switch kind {
            case "other-hipchat-replaces-secret":
                response = try await post(
                    "/installed", install(secret: forged, capabilities: rogue.capabilitiesUrl))
                field = "capabilitiesUrl"
            case "other-hipchat-update":
                response = try await post(
                    "/updated", install(secret: forged, capabilities: rogue.capabilitiesUrl))
                field = "capabilitiesUrl"
            case "reinstall-moves-group":
                response = try await post("/installed", install(capabilities: real.capabilitiesUrl, group: 666))
                field = "groupId"
            case "update-moves-group":
                response = try await post(
                    "/updated", install(secret: nil, capabilities: real.capabilitiesUrl, group: 666))
                field = "groupId"
            case "token-names-another-group":
                real.accept("brand-new-installation", Fixture.otherSecret, group: 9002)
                response = try await post(
                    "/installed",
                    install(
                        "brand-new-installation", secret: Fixture.otherSecret,
                        capabilities: real.capabilitiesUrl, group: 9001))
                field = "groupId"
            case "links-self-trailing-slash":
                let trailing = real.capabilitiesUrl + "/custom/"
                real.state.withLock { $0.customSelf = trailing }
                response = try await post(
                    "/installed",
                    install("brand-new-installation", capabilities: real.capabilitiesUrl + "/custom"))
                field = "capabilitiesUrl"
            case "links-self-other-hipchat":
                let rogueURL = rogue.capabilitiesUrl
                real.state.withLock { $0.customSelf = rogueURL }
                response = try await post(
                    "/installed",
                    install("brand-new-installation", capabilities: real.capabilitiesUrl + "/custom"))
                field = "capabilitiesUrl"
            case "token-endpoint-500":
                real.accept("brand-new-installation", Fixture.secret)
                real.state.withLock { $0.tokenFailure = 500 }
                response = try await post(
                    "/installed", install("brand-new-installation", capabilities: real.capabilitiesUrl))
            case "token-endpoint-empty-token":
                real.accept("brand-new-installation", Fixture.secret)
                real.state.withLock { $0.tokenFailure = 200 }
                response = try await post(
                    "/installed", install("brand-new-installation", capabilities: real.capabilitiesUrl))
                field = "oauthSecret"
            case "uninstall-with-other-installations-jwt":
                let token = try await Tokens.mint(iss: Fixture.otherId, secret: Fixture.otherSecret)
                response = try await client.execute(
                    uri: "/installed/\(Fixture.oauthId)", method: .delete,
                    headers: [.authorization: "JWT \(token)"])
            default:
                // The rogue HipChat's idea of the secret signs nothing here.
                let token = try await Tokens.mint(secret: forged)
                response = try await client.execute(
                    uri: "/installed/\(Fixture.oauthId)", method: .delete,
                    headers: [.authorization: "JWT \(token)"])
            }
            #expect(
                (400..<600).contains(Int(response.status.code)) && response.status != .notFound,
                "\(kind): \(response.status) \(response.text)")
            if let field { #expect(response.errorField == field, "\(kind): \(response.text)") }
            try await Self.expectNothingChanged(client, store, before, kind)
            // The forged secret's tokens do not work.
            #expect(
                try await client.execute(
                    uri: "/incidents.html?signed_request=\(try await Tokens.mint(secret: forged))", method: .get
                ).status == .unauthorized)
        }
    }

    // MARK: SSRF through capabilitiesUrl

    @Test(
        "capabilitiesUrl cannot make the server call loopback, private or link-local addresses",
        arguments: [
            "loopback-other-port", "localhost", "localhost-dot", "ipv6-loopback", "ipv4-mapped-ipv6", "decimal", "hex",
            "octal",
            "short-form", "zero", "userinfo", "fragment-host", "private-10", "private-192", "private-172",
            "metadata-169-254",
            "ipv6-unique-local", "ipv6-link-local", "redirect-to-loopback", "redirect-to-metadata",
            "token-url-loopback",
            "api-url-metadata", "percent-encoded-host",
        ])
    func ssrf(_ kind: String) async throws {
        try await StandInHipChat.with { trusted in
            try await StandInHipChat.with { target in
                trusted.accept("brand-new-installation", Fixture.secret)
                target.accept("brand-new-installation", Fixture.secret)
                let t = trusted.port
                let p = target.port
                var url = trusted.capabilitiesUrl + "/custom"
                switch kind {
                case "loopback-other-port": url = "http://127.0.0.1:\(p)/v2/capabilities"
                case "localhost": url = "http://localhost:\(p)/v2/capabilities"
                case "localhost-dot": url = "http://localhost.:\(t)/v2/capabilities"
                case "ipv6-loopback": url = "http://[::1]:\(t)/v2/capabilities"
                case "ipv4-mapped-ipv6": url = "http://[::ffff:127.0.0.1]:\(t)/v2/capabilities"
                case "decimal": url = "http://2130706433:\(t)/v2/capabilities"
                case "hex": url = "http://0x7f000001:\(t)/v2/capabilities"
                case "octal": url = "http://0177.0.0.1:\(t)/v2/capabilities"
                case "short-form": url = "http://127.1:\(t)/v2/capabilities"
                case "zero": url = "http://0:\(t)/v2/capabilities"
                case "userinfo": url = "http://127.0.0.1:\(t)@127.0.0.1:\(p)/v2/capabilities"
                case "fragment-host": url = "http://127.0.0.1:\(p)#@127.0.0.1:\(t)/v2/capabilities"
                case "private-10": url = "https://10.0.0.1/v2/capabilities"
                case "private-192": url = "https://192.168.1.1/v2/capabilities"
                case "private-172": url = "https://172.16.0.1/v2/capabilities"
                case "metadata-169-254": url = "http://169.254.169.254/latest/meta-data/"
                case "ipv6-unique-local": url = "https://[fd00::1]/v2/capabilities"
                case "ipv6-link-local": url = "https://[fe80::1]/v2/capabilities"
                case "percent-encoded-host": url = "http://127.0.0.%31:\(p)/v2/capabilities"
                case "redirect-to-loopback":
                    url = trusted.capabilitiesUrl + "/redirect-to"
                    trusted.state.withLock { $0.redirectTarget = target.capabilitiesUrl }
                case "redirect-to-metadata":
                    url = trusted.capabilitiesUrl + "/redirect-to"
                    trusted.state.withLock { $0.redirectTarget = "http://169.254.169.254/latest/meta-data/" }
                case "token-url-loopback": trusted.state.withLock { $0.customTokenUrl = target.tokenUrl }
                default: trusted.state.withLock { $0.customApiUrl = "http://169.254.169.254/v2/" }
                }
                let capabilitiesUrl = url
                let site = try TestSite()
                defer { site.remove() }
                let configuration = site.configuration(trustedHosts: [TrustedHost(host: "127.0.0.1", port: t)])
                try await withLiveServer(site, configuration) { client, _, store in
                    let before = try await StoreSnapshot.take(store)
                    let body =
                        #"{"oauthId": "brand-new-installation", "oauthSecret": "\#(Fixture.secret)", "capabilitiesUrl": "\#(capabilitiesUrl)", "groupId": 9001}"#
                    let response = try await client.execute(
                        uri: "/installed", method: .post, headers: Self.json, body: jsonBody(body))
                    #expect(
                        response.status == .forbidden || response.status == .badRequest,
                        "\(kind): \(response.status) \(response.text)")
                    #expect(try await StoreSnapshot.take(store) == before)
                }
                // Nothing reached the other listener; the trusted one saw at most the capabilities request.
                #expect(target.state.withLock { $0.capabilityRequests + $0.tokenRequests.count } == 0, "\(kind)")
                #expect(trusted.state.withLock { $0.tokenRequests.count } == 0, "\(kind)")
            }
        }
    }

    // MARK: The browser flows

    @Test(
        "installedUrl and uninstalledUrl links cannot plant, replace or remove an installation, reach elsewhere, or redirect elsewhere",
        arguments: [
            "replayed", "rogue-hipchat-replaces", "rogue-hipchat-uninstalls", "loopback-other-port", "localhost",
            "decimal", "userinfo", "fragment-host", "percent-encoded-host", "metadata", "installable-redirects",
            "oversized", "redirect-elsewhere", "redirect-userinfo", "redirect-header-injection",
            "redirect-other-port", "uninstall-while-issued",
        ])
    func browserFlows(_ kind: String) async throws {
        let forged = Self.forged
        try await withRealAndRogueHipChat({ try BrowserFlowTests.flowSite() }) { real, rogue, client, store, before in
            let t = real.port
            let back = BrowserFlowTests.back(real)
            var path = "/installed-browser"
            var installable = real.installable(oauthId: "brand-new-installation")
            var redirect = back
            var field = "installable_url"
            let id = "/v2/oauth/installable/none"
            switch kind {
            case "replayed":
                real.accept("brand-new-installation", Fixture.secret)
                let link = real.installable(oauthId: "brand-new-installation")
                let first = try await client.execute(
                    uri: path + "?" + BrowserFlowTests.query(link, back), method: .get)
                #expect(first.status == .seeOther)
                _ = try await store.deleteInstallation(oauthId: "brand-new-installation")
                installable = link
            case "rogue-hipchat-replaces":
                installable = rogue.installable(secret: forged)
                field = "installable_url.capabilitiesUrl"
            case "rogue-hipchat-uninstalls":
                path = "/uninstalled"
                installable = rogue.installable(secret: nil)
            case "loopback-other-port": installable = "http://127.0.0.1:1\(id)"
            case "localhost": installable = "http://localhost:\(t)\(id)"
            case "decimal": installable = "http://2130706433:\(t)\(id)"
            case "userinfo": installable = "http://127.0.0.1:\(t)@127.0.0.1:1\(id)"
            case "fragment-host": installable = "http://127.0.0.1:1#@127.0.0.1:\(t)\(id)"
            case "percent-encoded-host": installable = "http://127.0.0.%31:\(t)\(id)"
            case "metadata": installable = "http://169.254.169.254/latest/meta-data/"
            case "installable-redirects": installable = real.base + "/v2/oauth/installable/redirect"
            case "oversized": installable = real.base + "/v2/oauth/installable/huge"
            case "redirect-elsewhere":
                redirect = "https://evil.example/phish"
                field = "redirect_url"
            case "redirect-userinfo":
                redirect = "http://127.0.0.1:\(t)@evil.example/"
                field = "redirect_url"
            case "redirect-header-injection":
                redirect = back + "\r\nSet-Cookie: a=b"
                field = "redirect_url"
            case "redirect-other-port":
                redirect = "http://127.0.0.1:1/"
                field = "redirect_url"
            default:
                // HipChat still issues the credentials: nothing is removed.
                path = "/uninstalled"
                installable = real.installable(secret: nil)
                field = ""
            }
            let response = try await client.execute(
                uri: path + "?" + BrowserFlowTests.query(installable, redirect), method: .get)
            #expect(
                (400..<500).contains(Int(response.status.code)) && response.status != .notFound,
                "\(kind): \(response.status) \(response.text)")
            #expect(response.headers[.location] == nil, "\(kind)")
            #expect(response.headers[.setCookie] == nil, "\(kind)")
            if !field.isEmpty { #expect(response.errorField == field, "\(kind): \(response.text)") }
            try await Self.expectNothingChanged(client, store, before, kind)
            // Only trusted HipChats were asked, and the rogue one never for a token.
            #expect(rogue.state.withLock { $0.tokenRequests.count } == 0, "\(kind)")
        }
    }

    /// After an attack on installs: the store is as it was, nothing new was installed, and the
    /// real installation's tokens still open its pages.
    static func expectNothingChanged(
        _ client: any TestClientProtocol, _ store: SQLiteStore, _ before: StoreSnapshot, _ kind: String
    ) async throws {
        #expect(try await StoreSnapshot.take(store) == before, "\(kind)")
        #expect(try await store.installation(oauthId: "brand-new-installation") == nil)
        #expect(
            try await client.execute(
                uri: "/incidents.html?signed_request=\(try await Tokens.mint())", method: .get
            ).status == .ok, "\(kind)")
    }

    /// A secret the rogue HipChat of ``withRealAndRogueHipChat(_:_:)`` vouches for.
    static let forged = "F0rgedSecretF0rgedSecretF0rgedSecretF0rg"

    /// The setting of the attacks on installs: a real HipChat vouching for the planted
    /// installation, a second HipChat the server also trusts — run by someone else — vouching for
    /// the same oauthId with ``forged``, and the server live on the site `makeSite` gives, its
    /// store planted with the real HipChat's URLs. `body` gets both HipChats, the client, the
    /// store and what it held before the attack.
    func withRealAndRogueHipChat(
        _ makeSite: @Sendable () throws -> TestSite,
        _ body:
            @Sendable (StandInHipChat, StandInHipChat, any TestClientProtocol, SQLiteStore, StoreSnapshot)
            async throws -> Void
    ) async throws {
        try await StandInHipChat.with { real in
            try await StandInHipChat.with { rogue in
                real.accept(Fixture.oauthId, Fixture.secret)
                rogue.accept(Fixture.oauthId, AttackTests.forged)
                let site = try makeSite()
                defer { site.remove() }
                let configuration = site.configuration(trustedHosts: [
                    TrustedHost(host: "127.0.0.1", port: real.port), TrustedHost(host: "127.0.0.1", port: rogue.port),
                ])
                try await withLiveServer(
                    site, configuration,
                    setup: {
                        try await StoreSnapshot.plant(
                            $0, apiUrl: real.apiUrl, tokenUrl: real.tokenUrl, capabilitiesUrl: real.capabilitiesUrl)
                    }
                ) { client, _, store in
                    try await body(real, rogue, client, store, try await StoreSnapshot.take(store))
                }
            }
        }
    }

    // MARK: Bodies

    static func chunked(_ text: String, chunk: Int = 1024) -> [UInt8] {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let part = bytes.prefix(chunk)
            bytes = bytes.dropFirst(part.count)
            out += Array((String(part.count, radix: 16) + "\r\n").utf8) + part + Array("\r\n".utf8)
        }
        return out + Array("0\r\n\r\n".utf8)
    }

    @Test(
        "bodies beyond the limit, by Content-Length or chunked, and smuggling framings are refused",
        arguments: [
            "length-install", "length-glance", "chunked-install", "chunked-glance", "chunked-webhook",
            "chunked-settings", "chunked-notification", "length-view-notification",
            "length-and-chunked", "length-overflow", "length-negative", "two-lengths",
        ])
    func bodies(_ kind: String) async throws {
        let site = try TestSite()
        defer { site.remove() }
        let big = #"{"label": ""# + String(repeating: "x", count: 70_000) + #""}"#
        let admin = "Authorization: Bearer \(GlanceTests.adminToken)\r\nContent-Type: application/json"
        let token = try await Tokens.mint(room: 42)
        try await withLiveServer(site, site.configuration(adminToken: GlanceTests.adminToken)) { _, port, store in
            let before = try await StoreSnapshot.take(store)
            let request: [UInt8]
            var expected: Set<Int> = [413]
            switch kind {
            case "length-install":
                request = RawConnection.request(
                    "POST /installed HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 1000000",
                    body: Array("{".utf8))
            case "length-glance":
                request = RawConnection.request(
                    "POST /admin/glances/incidents-glance HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\(admin)\r\nContent-Length: \(big.utf8.count)",
                    body: Array(big.utf8))
            case "chunked-install":
                request = RawConnection.request(
                    "POST /installed HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked",
                    body: Self.chunked(big))
            case "chunked-glance":
                request = RawConnection.request(
                    "POST /admin/glances/incidents-glance HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\(admin)\r\nTransfer-Encoding: chunked",
                    body: Self.chunked(big))
            case "chunked-webhook":
                let delivery =
                    #"{"event": "room_message", "oauth_client_id": "\#(Fixture.oauthId)", "item": {"message": {"message": "/echo "#
                    + String(repeating: "y", count: 70_000) + #""}}}"#
                request = RawConnection.request(
                    "POST /hooks/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked",
                    body: Self.chunked(delivery))
            case "chunked-settings":
                request = RawConnection.request(
                    "POST /_hipkit/settings HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: JWT \(token)\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked",
                    body: Self.chunked(#"{"severity": ""# + String(repeating: "z", count: 70_000) + #""}"#))
            case "chunked-notification":
                let notification = #"{"message": ""# + String(repeating: "n", count: 70_000) + #""}"#
                request = RawConnection.request(
                    "POST /admin/notifications?room=42 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\(admin)\r\nTransfer-Encoding: chunked",
                    body: Self.chunked(notification))
            case "length-view-notification":
                request = RawConnection.request(
                    "POST /_hipkit/notifications HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: JWT \(token)\r\nContent-Type: application/json\r\nContent-Length: 1000000",
                    body: Array("{".utf8))
            case "length-and-chunked":
                // Request smuggling: two framings that disagree.
                let small = #"{"label": "smuggled"}"#
                request = RawConnection.request(
                    "POST /admin/glances/incidents-glance HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\(admin)\r\nContent-Length: 4\r\nTransfer-Encoding: chunked",
                    body: Self.chunked(small))
                expected = [400]
            case "length-overflow":
                request = RawConnection.request(
                    "POST /admin/glances/incidents-glance HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\(admin)\r\nContent-Length: 99999999999999999999999",
                    body: Array("{}".utf8))
                expected = [400, 413]
            case "length-negative":
                request = RawConnection.request(
                    "POST /admin/glances/incidents-glance HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\(admin)\r\nContent-Length: -1",
                    body: Array("{}".utf8))
                expected = [400]
            default:
                let small = #"{"label": "smuggled"}"#
                request = RawConnection.request(
                    "POST /admin/glances/incidents-glance HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\(admin)\r\nContent-Length: 4\r\nContent-Length: \(small.utf8.count)",
                    body: Array(small.utf8))
                expected = [400]
            }
            let outcome = try await RawConnection.drive(port: port, parts: [request], timeout: 15)
            // Refused with the expected status, or — for framings the HTTP parser rejects — a closed connection without an answer.
            let refused = outcome.status.map(expected.contains) ?? (outcome.closed && expected.contains(400))
            #expect(refused, "\(kind): \(outcome.text.prefix(300))")
            #expect(!outcome.text.contains("HTTP/1.1 200"))
            #expect(try await StoreSnapshot.take(store) == before, "\(kind)")
        }
    }

    @Test("a body trickled slower than the idle timeout is cut off, not stored")
    func slowBody() async throws {
        let site = try TestSite()
        defer { site.remove() }
        var configuration = site.configuration(adminToken: GlanceTests.adminToken)
        configuration.idleTimeout = .seconds(1)
        try await withLiveServer(site, configuration) { _, port, store in
            let before = try await StoreSnapshot.take(store)
            let body = Array(#"{"label": "<b>slow</b> but whole"}"#.utf8)
            let head = RawConnection.request(
                "POST /admin/glances/incidents-glance HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(GlanceTests.adminToken)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: \(body.count)")
            // The head and a few bytes, then the rest a few bytes at a time, 2.5 s apart.
            var parts = [head + body.prefix(4)]
            var rest = body.dropFirst(4)
            while !rest.isEmpty {
                parts.append(Array(rest.prefix(8)))
                rest = rest.dropFirst(8)
            }
            let outcome = try await RawConnection.drive(
                port: port, parts: parts, pause: .milliseconds(2500), timeout: 5)
            #expect(outcome.closed)
            #expect(outcome.partsSent < parts.count, "the server kept waiting for the whole body")
            #expect(!outcome.text.contains("HTTP/1.1 200"))
            #expect(try await StoreSnapshot.take(store) == before)
            // The server still answers others.
            let health = try await RawConnection.drive(
                port: port, parts: [RawConnection.request("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close")])
            #expect(health.status == 200)
        }
    }

    @Test(
        "headers or a body trickled faster than the idle timeout are cut off at the request deadline",
        arguments: ["headers", "body"])
    func slowloris(_ part: String) async throws {
        let site = try TestSite()
        defer { site.remove() }
        var configuration = site.configuration(adminToken: GlanceTests.adminToken)
        configuration.idleTimeout = .seconds(10)
        configuration.requestTimeout = .seconds(1)
        try await withLiveServer(site, configuration) { _, port, store in
            let before = try await StoreSnapshot.take(store)
            let body = Array(#"{"label": "<b>slow</b> but never silent"}"#.utf8)
            let request = RawConnection.request(
                "POST /admin/glances/incidents-glance HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(GlanceTests.adminToken)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: \(body.count)", body: body)
            // Never silent for long (a part every 300 ms, the idle timeout is 10 s), but the
            // whole would take over 4 s against a deadline of 1 s.
            let headEnd = request.count - body.count
            let slow = part == "headers" ? Array(request[..<headEnd]) : Array(request[headEnd...])
            var parts: [[UInt8]] = part == "headers" ? [] : [Array(request[..<headEnd])]
            var rest = slow[...]
            let size = max(1, slow.count / 14)
            while !rest.isEmpty {
                parts.append(Array(rest.prefix(size)))
                rest = rest.dropFirst(size)
            }
            if part == "headers" { parts.append(body) }
            let outcome = try await RawConnection.drive(port: port, parts: parts, pause: .milliseconds(300), timeout: 8)
            #expect(outcome.closed)
            #expect(outcome.partsSent < parts.count, "the server kept waiting for the whole request")
            #expect(!outcome.text.contains("HTTP/1.1 200"))
            #expect(try await StoreSnapshot.take(store) == before)
            // A request sent at once, on a connection kept alive across two answers, is unaffected.
            let health = RawConnection.request("GET /healthz HTTP/1.1\r\nHost: x")
            let twice = try await RawConnection.drive(
                port: port,
                parts: [health, RawConnection.request("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close")],
                pause: .milliseconds(500))
            #expect(twice.text.components(separatedBy: "HTTP/1.1 200").count == 3, "\(twice.text.prefix(500))")
            // The next request on a kept-alive connection is due within the deadline of the
            // answer before it: silent after an answer, the connection is closed then, long
            // before the idle timeout.
            let kept = try await RawConnection.drive(port: port, parts: [health], timeout: 20)
            #expect(kept.closed)
            #expect(kept.text.hasPrefix("HTTP/1.1 200"))
            // Timed from the answer: the responder that makes it runs on the concurrency pool,
            // which other suites can keep busy for seconds.
            let silent = try #require(kept.sinceFirstByte)
            #expect(silent < .seconds(4), "closed \(silent) after the answer")
        }
    }

    // MARK: Injection

    @Test(
        "CR/LF in glance data, webhook deliveries and paths never becomes a header",
        arguments: [
            "glance-label", "glance-metadata", "webhook-sender", "webhook-message", "path", "install-url",
        ])
    func headerInjection(_ kind: String) async throws {
        let site = try TestSite()
        defer { site.remove() }
        let token = try await Tokens.mint(room: 42)
        try await withLiveServer(site, site.configuration(adminToken: GlanceTests.adminToken)) { _, port, store in
            let before = try await StoreSnapshot.take(store)
            let injected = "x\r\nX-Injected: 1\r\nSet-Cookie: session=attacker\r\n\r\n<script>alert(1)</script>"
            let escaped = injected.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(
                of: "\n", with: "\\n")
            let admin = "Authorization: Bearer \(GlanceTests.adminToken)\r\nContent-Type: application/json"
            func send(_ head: String, _ body: String = "") async throws -> RawConnection.Outcome {
                let bytes = Array(body.utf8)
                let framed = body.isEmpty ? head : head + "\r\nContent-Length: \(bytes.count)"
                return try await RawConnection.drive(
                    port: port, parts: [RawConnection.request(framed + "\r\nConnection: close", body: bytes)])
            }
            var outcomes: [RawConnection.Outcome] = []
            var changesStore = false
            switch kind {
            case "glance-label", "glance-metadata":
                let data =
                    kind == "glance-label"
                    ? #"{"label": "\#(escaped)"}"# : #"{"label": "ok", "metadata": {"note": "\#(escaped)"}}"#
                let posted = try await send(
                    "POST /admin/glances/incidents-glance?room=42 HTTP/1.1\r\nHost: x\r\n\(admin)", data)
                #expect(posted.status == 200)
                outcomes = [
                    posted,
                    try await send(
                        "GET /glances/incidents-glance.json HTTP/1.1\r\nHost: x\r\nAuthorization: JWT \(token)"),
                ]
                #expect(outcomes[1].status == 200)
                changesStore = true
            case "webhook-sender", "webhook-message":
                let sender = kind == "webhook-sender" ? escaped : "Ada"
                let message = kind == "webhook-message" ? "/echo " + escaped : "/echo hi"
                let delivery =
                    #"{"event": "room_message", "oauth_client_id": "\#(Fixture.oauthId)", "item": {"message": {"message": "\#(message)", "from": {"id": 1, "name": "\#(sender)"}}, "room": {"id": 42, "name": "Ops"}}}"#
                outcomes = [
                    try await send("POST /hooks/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json", delivery)
                ]
                if kind == "webhook-sender" {
                    #expect(outcomes[0].status == 200)
                    #expect(outcomes[0].text.contains("X-Injected"), "the reply carries the text, in the body")
                } else {
                    // The echo pattern matches one line: a message with a line break gets no reply.
                    #expect(outcomes[0].status == 204)
                }
            case "path":
                outcomes = [
                    try await send(
                        "GET /index.html%0d%0aX-Injected:%201%0d%0aSet-Cookie:%20session=attacker HTTP/1.1\r\nHost: x")
                ]
                #expect(outcomes[0].status == 404)
            default:
                let body =
                    #"{"oauthId": "brand-new-installation", "oauthSecret": "\#(Fixture.secret)", "capabilitiesUrl": "https://api.hipchat.com/v2/capabilities\#(escaped)", "groupId": 1}"#
                outcomes = [
                    try await send("POST /installed HTTP/1.1\r\nHost: x\r\nContent-Type: application/json", body)
                ]
                #expect(outcomes[0].status == 400, "\(outcomes[0].text)")
            }
            for outcome in outcomes {
                let names = outcome.headerLines.dropFirst().map {
                    $0.split(separator: ":").first.map { $0.lowercased() } ?? ""
                }
                #expect(!names.isEmpty)
                #expect(!names.contains("x-injected"), "\(kind): \(outcome.headerLines)")
                #expect(!names.contains("set-cookie"), "\(kind): \(outcome.headerLines)")
                // One answer, whose body is JSON with the text escaped in it.
                #expect(outcome.text.components(separatedBy: "HTTP/1.1 ").count == 2)
            }
            if !changesStore { #expect(try await StoreSnapshot.take(store) == before) }
        }
    }

    @Test("HTML in a posted glance label is cut down to the tags HipChat shows")
    func glanceLabelSanitised() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let token = try await Tokens.mint(room: 42)
        try await withLiveServer(site, site.configuration(adminToken: GlanceTests.adminToken)) { client, _, store in
            let label =
                #"<b>3</b> open <script>alert(1)</script><img src=x onerror=alert(1)><a href=\"javascript:alert(1)\">link</a><span style=\"color:red\" onclick=\"steal()\">s</span><iframe src=//evil></iframe><STRONG>!</STRONG> 1 < 2 & 3 &amp; <!-- c -->"#
            let posted = try await client.execute(
                uri: "/admin/glances/incidents-glance?room=42", method: .post, headers: GlanceTests.bearer,
                body: jsonBody(#"{"label": "\#(label)"}"#))
            #expect(posted.status == .ok)
            let expected = "<b>3</b> open link<span>s</span><strong>!</strong> 1 &lt; 2 &amp; 3 &amp; "
            #expect(posted.json?["data"]?["label"]?["value"]?.stringValue == expected)
            let served = try await client.execute(
                uri: "/glances/incidents-glance.json?signed_request=\(token)", method: .get)
            #expect(served.json?["label"]?["value"]?.stringValue == expected)
            #expect(
                try await store.glanceData(key: "incidents-glance", room: 42)?["label"]?["value"]?.stringValue
                    == expected)
            // The long form is sanitised too.
            let long = try await client.execute(
                uri: "/admin/glances/incidents-glance", method: .post, headers: GlanceTests.bearer,
                body: jsonBody(#"{"label": {"type": "html", "value": "<i onmouseover=x>hi</i><style>b{}</style>"}}"#))
            #expect(long.json?["data"]?["label"]?["value"]?.stringValue == "<i>hi</i>")
        }
    }

    @Test(
        "the label sanitiser",
        arguments: [
            ("plain & simple", "plain &amp; simple"),
            ("<b>bold</b> <em>em</em>", "<b>bold</b> <em>em</em>"),
            ("<b title=\">\"><script>x</script>", "<b>\"&gt;"),
            ("<scr<script>ipt>alert(1)</script>", "ipt&gt;alert(1)"),
            ("<SCRIPT>alert(1)</SCRIPT>after", "after"),
            ("<script>never closed", ""),
            ("a <!-- unterminated", "a "),
            ("&#60;script&#62; &lt; &#x3C; &bogus", "&#60;script&#62; &lt; &#x3C; &amp;bogus"),
            ("<", "&lt;"),
            ("<<<<", "&lt;&lt;&lt;&lt;"),
            ("< b>x", "&lt; b&gt;x"),
            ("<svg/onload=alert(1)>", ""),
            ("café <i>ünï</i>", "café <i>ünï</i>"),
        ])
    func sanitiser(_ input: String, _ output: String) {
        #expect(LimitedHTML.sanitize(input, allowing: LimitedHTML.glanceTags) == output)
    }
}
