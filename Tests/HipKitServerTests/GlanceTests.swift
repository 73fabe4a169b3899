import Foundation
import HipChatConnect
import Hummingbird
import HummingbirdTesting
import Testing

@testable import HipKitServer

@Suite("Glances and the admin API", .serialized)
struct GlanceTests {
    static let adminToken = "adm1n-t0ken-0123456789-abcdefghij-KLMNOP"
    static let bearer: HTTPFields = [.authorization: "Bearer \(adminToken)", .contentType: "application/json"]

    @Test("the glance query needs a JWT, answers CORS preflights, and serves the static data first")
    func staticData() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site, setup: { try await $0.upsert(Fixture.installation()) }) { client, _ in
            let refused = try await client.execute(uri: "/glances/incidents-glance.json", method: .get)
            #expect(refused.status == .unauthorized)
            #expect(refused.headers[.accessControlAllowOrigin] == "*")

            let preflight = try await client.execute(
                uri: "/glances/incidents-glance.json", method: .options,
                headers: [.accessControlRequestMethod: "GET", .origin: "https://www.hipchat.com"])
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowOrigin] == "*")
            #expect(preflight.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)

            let token = try await Tokens.mint(room: 42)
            let response = try await client.execute(
                uri: "/glances/incidents-glance.json?signed_request=\(token)", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.accessControlAllowOrigin] == "*")
            #expect(response.json?["label"]?["value"]?.stringValue == "<b>3</b> open")
            #expect(response.json?["status"]?["value"]?["type"]?.stringValue == "new")
            let expired = try await Tokens.mint(room: 42, expiresIn: -3600)
            #expect(
                try await client.execute(uri: "/glances/incidents-glance.json?signed_request=\(expired)", method: .get)
                    .status == .unauthorized)
        }
    }

    @Test("an update is served from then on: room data for that room, add-on-wide data elsewhere")
    func updateThenQuery() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(
            site, site.configuration(adminToken: Self.adminToken),
            setup: { try await $0.upsert(Fixture.installation()) }
        ) { client, store in
            let wide = try await client.execute(
                uri: "/admin/glances/incidents-glance", method: .post, headers: Self.bearer,
                body: jsonBody(#"{"label": "<b>5</b> open", "status": {"lozenge": {"label": "BAD", "type": "error"}}}"#)
            )
            #expect(wide.status == .ok)
            #expect(wide.json?["data"]?["label"]?["type"]?.stringValue == "html")
            let room = try await client.execute(
                uri: "/admin/glances/incidents-glance?room=42", method: .post, headers: Self.bearer,
                body: jsonBody(#"{"label": {"type": "html", "value": "<b>1</b> here"}, "metadata": {"open": 1}}"#))
            #expect(room.status == .ok)
            #expect(room.json?["room"]?.intValue == 42)

            let in42 = try await client.execute(
                uri: "/glances/incidents-glance.json?signed_request=\(try await Tokens.mint(room: 42))", method: .get)
            #expect(in42.json?["label"]?["value"]?.stringValue == "<b>1</b> here")
            #expect(in42.json?["metadata"]?["open"]?.intValue == 1)
            let in7 = try await client.execute(
                uri: "/glances/incidents-glance.json?signed_request=\(try await Tokens.mint(room: 7))", method: .get)
            #expect(in7.json?["label"]?["value"]?.stringValue == "<b>5</b> open")
            #expect(in7.json?["status"]?["value"]?["type"]?.stringValue == "error")
            let noRoom = try await client.execute(
                uri: "/glances/incidents-glance.json", method: .get,
                headers: [.authorization: "JWT \(try await Tokens.mint())"])
            #expect(noRoom.json?["label"]?["value"]?.stringValue == "<b>5</b> open")
            // Stored durably, not only in memory.
            #expect(
                try await store.glanceData(key: "incidents-glance", room: 42)?["label"]?["value"]?.stringValue
                    == "<b>1</b> here")
        }
    }

    /// Two HipChat Servers, the add-on installed globally on each: both have a room 5, and data
    /// posted for room 5 of one installation is shown there alone.
    @Test("installation=: data for a room of one installation, not the same room number of another")
    func dataForOneInstallation() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(
            site, site.configuration(adminToken: Self.adminToken),
            setup: {
                try await $0.upsert(Fixture.installation())
                try await $0.upsert(Fixture.installation(Fixture.otherId, secret: Fixture.otherSecret))
                try await $0.upsert(Fixture.installation("room7", roomId: 7))
            }
        ) { client, store in
            func post(_ query: String, _ label: String) async throws -> TestResponse {
                try await client.execute(
                    uri: "/admin/glances/incidents-glance?" + query, method: .post, headers: Self.bearer,
                    body: jsonBody(#"{"label": "\#(label)"}"#))
            }
            let mine = try await post("room=5&installation=\(Fixture.oauthId)", "mine in 5")
            #expect(mine.status == .ok, "\(mine.text)")
            #expect(mine.json?["installation"]?.stringValue == Fixture.oauthId)
            #expect(try await post("room=5", "everyone's 5").status == .ok)
            #expect(try await post("installation=\(Fixture.otherId)", "theirs").status == .ok)

            func shown(_ iss: String, _ secret: String, room: Int?) async throws -> String? {
                let token = try await Tokens.mint(iss: iss, secret: secret, room: room)
                return try await client.execute(
                    uri: "/glances/incidents-glance.json?signed_request=\(token)", method: .get
                ).json?["label"]?["value"]?.stringValue
            }
            #expect(try await shown(Fixture.oauthId, Fixture.secret, room: 5) == "mine in 5")
            #expect(try await shown(Fixture.otherId, Fixture.otherSecret, room: 5) == "everyone's 5")
            #expect(try await shown(Fixture.otherId, Fixture.otherSecret, room: 6) == "theirs")
            #expect(try await shown(Fixture.oauthId, Fixture.secret, room: 6) == "<b>3</b> open", "the build's data")

            // A room installation's data is for its room.
            let roomInstallation = try await post("installation=room7", "room 7's")
            #expect(roomInstallation.json?["room"]?.intValue == 7, "\(roomInstallation.text)")
            #expect(try await shown("room7", Fixture.secret, room: 7) == "room 7's")
            #expect(
                try await shown("room7", Fixture.secret, room: nil) == "room 7's", "a room installation is in its room")

            // What is not understood is refused, never taken as "every installation".
            let before = try await store.contents().glanceData
            for (query, status, field) in [
                ("installation=nobody", HTTPResponse.Status.notFound, "installation"),
                ("room=8&installation=room7", .notFound, "installation"),
                ("installation=", .badRequest, "installation"),
                ("installation=abc%2", .badRequest, "installation"), ("installation=%FF", .badRequest, "installation"),
                ("installations=\(Fixture.oauthId)", .badRequest, "installations"),
                ("room=5&room=6", .badRequest, "room"), ("room=%zz", .badRequest, "room"),
            ] {
                let refused = try await post(query, "x")
                #expect(refused.status == status, "\(query): \(refused.text)")
                #expect(refused.errorField == field, "\(query)")
            }
            #expect(try await store.contents().glanceData == before, "nothing stored")
        }
    }

    /// The server keeps installations and glance data in memory; a change made to its file by
    /// another process (here another store on the same file) is served by the very next query.
    @Test("a change another process makes to the data folder is seen by the next glance query")
    func changesFromAnotherProcess() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site, setup: { try await $0.upsert(Fixture.installation()) }) { client, _ in
            let other = try SQLiteStore(file: site.configuration().databaseFile)
            let uri = "/glances/incidents-glance.json"
            let token = try await Tokens.mint(room: 42)
            let first = try await client.execute(uri: uri, method: .get, headers: [.authorization: "JWT \(token)"])
            #expect(first.json?["label"]?["value"]?.stringValue == "<b>3</b> open")

            for (room, label) in [(nil, "<b>8</b> elsewhere"), (42, "<b>9</b> in 42"), (42, "<b>10</b> in 42")] {
                _ = try await other.putGlanceData(
                    .object(["label": .object(["type": .string("html"), "value": .string(label)])]),
                    key: "incidents-glance", room: room)
                let next = try await client.execute(uri: uri, method: .get, headers: [.authorization: "JWT \(token)"])
                #expect(next.json?["label"]?["value"]?.stringValue == label)
            }

            try await other.upsert(Fixture.installation(secret: Fixture.otherSecret))
            let oldSecret = try await client.execute(uri: uri, method: .get, headers: [.authorization: "JWT \(token)"])
            #expect(oldSecret.status == .unauthorized)
            let newToken = try await Tokens.mint(secret: Fixture.otherSecret, room: 42)
            let newSecret = try await client.execute(
                uri: uri, method: .get, headers: [.authorization: "JWT \(newToken)"])
            #expect(newSecret.status == .ok)

            #expect(try await other.deleteInstallation(oauthId: Fixture.oauthId))
            let gone = try await client.execute(uri: uri, method: .get, headers: [.authorization: "JWT \(newToken)"])
            #expect(gone.status == .unauthorized)
            try await other.close()
        }
    }

    /// The rule docs/runtime.md gives: a number or boolean label is its text, as in addon.yaml.
    @Test(
        "a label given as a number or boolean is taken as its text",
        arguments: [("5", "5"), ("2.5", "2.5"), ("true", "true")])
    func scalarLabels(_ label: String, _ shown: String) async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site, site.configuration(adminToken: Self.adminToken)) { client, _ in
            let response = try await client.execute(
                uri: "/admin/glances/incidents-glance", method: .post, headers: Self.bearer,
                body: jsonBody(#"{"label": \#(label)}"#))
            #expect(response.status == .ok)
            #expect(response.json?["data"]?["label"]?["type"]?.stringValue == "html")
            #expect(response.json?["data"]?["label"]?["value"]?.stringValue == shown)
        }
    }

    @Test("posted data whose status icon is no http or https URL is refused, and nothing is stored")
    func scriptIconRefused() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site, site.configuration(adminToken: Self.adminToken)) { client, store in
            for url in ["javascript:alert(1)", "data:image/png;base64,AAAA", "JavaScript:x"] {
                let response = try await client.execute(
                    uri: "/admin/glances/incidents-glance", method: .post, headers: Self.bearer,
                    body: jsonBody(#"{"label": "x", "status": {"icon": "\#(url)"}}"#))
                #expect(response.status == .badRequest, "\(url): \(response.text)")
            }
            #expect(try await store.glanceData(key: "incidents-glance", room: nil) == nil)
        }
    }

    /// HipChat loads a status icon from its own page: a path was stored as it was, pushed,
    /// and refused by HipChat (400, "needs value.url, an http(s) URL"). It is joined to the
    /// add-on's base URL, the folder of the served descriptor; a full URL stays as it is.
    @Test("a posted status icon's path is made a URL under the add-on's base URL")
    func iconPathJoinedToTheBaseURL() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site, site.configuration(adminToken: Self.adminToken)) { client, store in
            for (given, stored) in [
                ("/assets/glance.png", "https://incidents.example.com/assets/glance.png"),
                ("assets/ok.png", "https://incidents.example.com/assets/ok.png"),
                ("https://cdn.example.net/ok.png", "https://cdn.example.net/ok.png"),
            ] {
                let response = try await client.execute(
                    uri: "/admin/glances/incidents-glance", method: .post, headers: Self.bearer,
                    body: jsonBody(#"{"label": "x", "status": {"icon": "\#(given)"}}"#))
                #expect(response.status == .ok, "\(given): \(response.text)")
                let data = try await store.glanceData(key: "incidents-glance", room: nil)
                #expect(data?["status"]?["value"]?["url"]?.stringValue == stored, "\(given)")
                #expect(data?["status"]?["value"]?["url@2x"]?.stringValue == stored, "\(given)")
            }
        }
    }

    /// A configured token is read without the spaces around it, as a request's header is: one
    /// from a line of an EnvironmentFile with a trailing space matched no request, ever; one of
    /// spaces alone is no token.
    @Test("an admin token is trimmed, and one of spaces alone is none")
    func adminTokenTrimmed() async throws {
        #expect(ServerConfiguration(distDirectory: URL(fileURLWithPath: "/x"), adminToken: "  \n").adminToken == nil)
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site, site.configuration(adminToken: " \(Self.adminToken)\n")) { client, _ in
            let list = try await client.execute(uri: "/admin/installations", method: .get, headers: Self.bearer)
            #expect(list.status == .ok, "\(list.text)")
        }
    }

    /// A misspelt field was dropped with a 200: `stauts` posted, no status shown, no word.
    @Test("posted glance data with a field HipChat does not read is refused, naming it")
    func unknownGlanceFieldRefused() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site, site.configuration(adminToken: Self.adminToken)) { client, store in
            let response = try await client.execute(
                uri: "/admin/glances/incidents-glance", method: .post, headers: Self.bearer,
                body: jsonBody(#"{"label": "x", "stauts": {"lozenge": {"label": "NEW", "type": "new"}}}"#))
            #expect(response.status == .badRequest)
            #expect(response.text.contains("unknown field 'stauts'"), "\(response.text)")
            #expect(response.text.contains("did you mean 'status'?"), "\(response.text)")
            #expect(try await store.glanceData(key: "incidents-glance", room: nil) == nil)
        }
    }

    @Test("admin routes: 404 without a configured token, 401 with a wrong one")
    func adminAuthorization() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site) { client, _ in
            let response = try await client.execute(
                uri: "/admin/glances/incidents-glance", method: .post, headers: Self.bearer,
                body: jsonBody(#"{"label": "x"}"#))
            #expect(response.status == .notFound)
            #expect(response.text.contains("the admin API is off"), "\(response.text)")
            let list = try await client.execute(uri: "/admin/installations", method: .get, headers: Self.bearer)
            #expect(list.status == .notFound)
            #expect(list.text.contains("HIPKIT_ADMIN_TOKEN"), "\(list.text)")
        }
        try await withServer(site, site.configuration(adminToken: Self.adminToken)) { client, _ in
            for header in ["Bearer wrong", "Bearer \(Self.adminToken)x", "Basic \(Self.adminToken)", "Bearer", ""] {
                var headers: HTTPFields = [.contentType: "application/json"]
                if !header.isEmpty { headers[.authorization] = header }
                let response = try await client.execute(
                    uri: "/admin/glances/incidents-glance", method: .post, headers: headers,
                    body: jsonBody(#"{"label": "x"}"#))
                #expect(response.status == .unauthorized, "\(header)")
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            }
        }
    }

    @Test(
        "bad updates are refused, naming the field, and change nothing",
        arguments: [
            ("{\"label\": ", nil as String?, 400, "body"),
            ("[1, 2]", nil, 400, "body"),
            ("{\"status\": {\"lozenge\": {\"label\": \"X\", \"type\": \"new\"}}}", nil, 400, "label"),
            (
                "{\"label\": \"x\", \"status\": {\"type\": \"lozenge\", \"value\": {\"label\": \"X\", \"type\": \"purple\"}}}",
                nil, 400, "status.value.type"
            ),
            (
                "{\"label\": \"x\", \"status\": {\"type\": \"lozenge\", \"value\": {\"type\": \"new\"}}}", nil, 400,
                "status.value.label"
            ),
            ("{\"label\": \"x\", \"status\": {\"type\": \"banner\"}}", nil, 400, "status"),
            ("{\"label\": \"x\", \"metadata\": [1]}", nil, 400, "metadata"),
            ("{\"label\": {\"type\": \"text\", \"value\": \"x\"}}", nil, 400, "label.type"),
            ("{\"label\": \"x\"}", "room=abc", 400, "room"),
            ("{\"label\": \"x\"}", "room=-1", 400, "room"),
        ])
    func badUpdates(_ body: String, _ query: String?, _ status: Int, _ field: String) async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(
            site, site.configuration(adminToken: Self.adminToken),
            setup: { try await $0.upsert(Fixture.installation()) }
        ) { client, store in
            let uri = "/admin/glances/incidents-glance" + (query.map { "?" + $0 } ?? "")
            let response = try await client.execute(uri: uri, method: .post, headers: Self.bearer, body: jsonBody(body))
            #expect(response.status.code == status)
            #expect(response.errorField == field, "\(response.text)")
            #expect(try await store.glanceData(key: "incidents-glance", room: nil) == nil)
            let token = try await Tokens.mint()
            let served = try await client.execute(
                uri: "/glances/incidents-glance.json?signed_request=\(token)", method: .get)
            #expect(served.json?["label"]?["value"]?.stringValue == "<b>3</b> open")
        }
    }

    @Test("an unknown glance key is 404")
    func unknownGlance() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site, site.configuration(adminToken: Self.adminToken)) { client, _ in
            let response = try await client.execute(
                uri: "/admin/glances/no-such-glance", method: .post, headers: Self.bearer,
                body: jsonBody(#"{"label": "x"}"#))
            #expect(response.status == .notFound)
            #expect(response.errorMessage?.contains("no-such-glance") == true)
        }
    }

    @Test("GET /admin/installations lists installations without their secrets")
    func listInstallations() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(
            site, site.configuration(adminToken: Self.adminToken),
            setup: { store in
                try await store.upsert(Fixture.installation(roomId: 42))
                try await store.upsert(
                    Fixture.installation(
                        Fixture.otherId, secret: Fixture.otherSecret, apiUrl: "https://api.hipchat.com/v2/",
                        tokenUrl: "https://api.hipchat.com/v2/oauth/token"))
            }
        ) { client, _ in
            let response = try await client.execute(uri: "/admin/installations", method: .get, headers: Self.bearer)
            #expect(response.status == .ok)
            let list = response.json?["installations"]?.arrayValue ?? []
            #expect(list.count == 2)
            #expect(Set(list.compactMap { $0["oauthId"]?.stringValue }) == [Fixture.oauthId, Fixture.otherId])
            #expect(list.first { $0["oauthId"]?.stringValue == Fixture.oauthId }?["roomId"]?.intValue == 42)
            #expect(list.first { $0["oauthId"]?.stringValue == Fixture.oauthId }?["verified"] == .bool(false))
            #expect(list.first { $0["oauthId"]?.stringValue == Fixture.otherId }?["verified"] == .bool(true))
            #expect(!response.text.contains(Fixture.secret))
            #expect(!response.text.contains(Fixture.otherSecret))
            #expect(!response.text.lowercased().contains("secret"))
        }
    }

    @Test("updates are pushed to HipChat: room data to the room, add-on-wide data to the group")
    func pushReachesHipChat() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            let site = try TestSite()
            defer { site.remove() }
            let configuration = site.configuration(
                adminToken: Self.adminToken,
                trustedHosts: [TrustedHost(host: "127.0.0.1", port: hipchat.port)])
            try await withServer(
                site, configuration,
                setup: { store in
                    try await store.upsert(
                        Fixture.installation(groupId: 9001, apiUrl: hipchat.apiUrl, tokenUrl: hipchat.tokenUrl))
                }
            ) { client, _ in
                let room = try await client.execute(
                    uri: "/admin/glances/incidents-glance?room=42", method: .post, headers: Self.bearer,
                    body: jsonBody(#"{"label": "<b>2</b> open"}"#))
                #expect(room.json?["pushes"]?.intValue == 1)
                #expect(await hipchat.wait { $0.pushes.count == 1 })
                let push = try #require(hipchat.pushes.first)
                #expect(push.path == "/v2/addon/ui/room/42")
                #expect(push.authorization?.hasPrefix("Bearer token-") == true)
                let glance = push.body?["glance"]?.arrayValue?.first
                #expect(glance?["key"]?.stringValue == "incidents-glance")
                #expect(glance?["content"]?["label"]?["value"]?.stringValue == "<b>2</b> open")

                _ = try await client.execute(
                    uri: "/admin/glances/incidents-glance", method: .post, headers: Self.bearer,
                    body: jsonBody(#"{"label": "<b>9</b> open"}"#))
                #expect(await hipchat.wait { $0.pushes.count == 2 })
                #expect(hipchat.pushes.last?.path == "/v2/addon/ui/group/9001")
                // One token served both pushes.
                #expect(hipchat.state.withLock { $0.tokenRequests.count } == 1)
            }
        }
    }

    @Test("a failed push is retried with backoff and logged")
    func pushRetried() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            hipchat.state.withLock { $0.failingPushes = 2 }
            let site = try TestSite()
            defer { site.remove() }
            let logs = LogCapture()
            let configuration = site.configuration(
                adminToken: Self.adminToken,
                trustedHosts: [TrustedHost(host: "127.0.0.1", port: hipchat.port)])
            try await withServer(
                site, configuration, logs: logs,
                setup: { store in
                    try await store.upsert(
                        Fixture.installation(roomId: 42, apiUrl: hipchat.apiUrl, tokenUrl: hipchat.tokenUrl))
                }
            ) { client, _ in
                let response = try await client.execute(
                    uri: "/admin/glances/incidents-glance", method: .post, headers: Self.bearer,
                    body: jsonBody(#"{"label": "x"}"#))
                #expect(response.status == .ok)
                #expect(await hipchat.wait { $0.pushes.count == 1 })
                #expect(hipchat.pushes.first?.path == "/v2/addon/ui/room/42")
                let deadline = Date().addingTimeInterval(60)
                while Date() < deadline, !logs.all.contains(where: { $0.message == "glance pushed" }) {
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(logs.all.filter { $0.message.contains("will retry") }.count >= 2)
                #expect(
                    logs.all.contains { $0.message == "glance pushed" && Int($0.metadata["attempt"] ?? "") ?? 0 >= 3 })
            }
        }
    }

    /// The outbox retries on its own schedule; a HipChat that is down (nothing listens) fails an
    /// attempt at once, not after the HTTP client's own 10 seconds of connection retries.
    @Test("a push to a HipChat that is down fails at once and waits for the outbox's retry")
    func pushToAHipChatThatIsDown() async throws {
        let port = try Loopback.freePort()
        let site = try TestSite()
        defer { site.remove() }
        let logs = LogCapture()
        let configuration = site.configuration(
            adminToken: Self.adminToken, trustedHosts: [TrustedHost(host: "127.0.0.1", port: port)])
        try await withServer(
            site, configuration, logs: logs,
            setup: { store in
                try await store.upsert(
                    Fixture.installation(
                        roomId: 42, apiUrl: "http://127.0.0.1:\(port)/v2/",
                        tokenUrl: "http://127.0.0.1:\(port)/v2/oauth/token"))
            }
        ) { client, _ in
            let posted = ContinuousClock.now
            let response = try await client.execute(
                uri: "/admin/glances/incidents-glance", method: .post, headers: Self.bearer,
                body: jsonBody(#"{"label": "x"}"#))
            #expect(response.status == .ok)
            let deadline = posted + .seconds(30)
            while ContinuousClock.now < deadline, !logs.all.contains(where: { $0.message.contains("will retry") }) {
                try await Task.sleep(for: .milliseconds(20))
            }
            let retry = try #require(logs.all.first { $0.message.contains("will retry") }, "\(logs.all.map(\.message))")
            // Timed to the log line, not to when this task looked; the outbox's own task can
            // still be kept waiting on a loaded machine, so the bound is below the client's
            // 10 s of connection retries, not at "at once".
            let failed = retry.at - posted
            #expect(failed < .seconds(8), "the first attempt failed after \(failed)")
        }
    }

    @Test("a push that keeps failing is given up after the last attempt, and logged")
    func pushGivenUp() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            hipchat.state.withLock { $0.failingPushes = 100 }
            let site = try TestSite()
            defer { site.remove() }
            let logs = LogCapture()
            let configuration = site.configuration(
                adminToken: Self.adminToken,
                trustedHosts: [TrustedHost(host: "127.0.0.1", port: hipchat.port)])
            try await withServer(
                site, configuration, logs: logs,
                setup: { store in
                    try await store.upsert(
                        Fixture.installation(roomId: 42, apiUrl: hipchat.apiUrl, tokenUrl: hipchat.tokenUrl))
                }
            ) { client, _ in
                _ = try await client.execute(
                    uri: "/admin/glances/incidents-glance", method: .post, headers: Self.bearer,
                    body: jsonBody(#"{"label": "x"}"#))
                let deadline = Date().addingTimeInterval(60)
                while Date() < deadline, !logs.all.contains(where: { $0.message == "glance push given up" }) {
                    try await Task.sleep(for: .milliseconds(20))
                }
                let givenUp = logs.all.first { $0.message == "glance push given up" }
                #expect(givenUp?.level == .error)
                #expect(givenUp?.metadata["attempts"] == "4")
            }
        }
    }
}
