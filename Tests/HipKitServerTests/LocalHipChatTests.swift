import Foundation
import HipChatConnect
import HipKit
import Hummingbird
import Logging
import Synchronization
import Testing

@testable import HipKitServer

/// The local HipChat's decisions, without a browser: conditions as HipChat's web client
/// evaluated them, the JWTs it signs (checked by the runtime's own verifier), the
/// notifications and cards it accepts, and the descriptor as it reads it.
@Suite struct LocalHipChatTests {
    static func message(_ body: String, from role: EmulatedRole = .member, card: JSONNode? = nil) -> RoomMessage {
        let user = EmulatedUser.playing(role)
        return RoomMessage(
            id: "m1", date: Date(), kind: card == nil ? .message : .notification, senderId: user.id,
            senderName: user.name,
            senderMention: user.mentionName, body: body, html: body, color: nil, card: card)
    }

    static func evaluate(
        _ conditions: String, as role: EmulatedRole = .member, message: RoomMessage? = nil, glance: JSONNode? = nil,
        publicRoom: Bool = true
    ) -> Bool {
        var room = EmulatedRoom()
        room.isPublic = publicRoom
        let evaluator = ConditionEvaluator(
            context: .init(user: .playing(role), room: room, message: message, glanceData: glance))
        return evaluator.evaluate(JSONNode.parse(Data(conditions.utf8)))
    }

    @Test func rolesDecideTheUserConditions() {
        #expect(Self.evaluate(#"[{"condition": "user_is_admin"}]"#, as: .admin))
        #expect(!Self.evaluate(#"[{"condition": "user_is_admin"}]"#, as: .owner))
        #expect(Self.evaluate(#"[{"condition": "user_is_room_owner"}]"#, as: .owner))
        #expect(!Self.evaluate(#"[{"condition": "user_is_room_owner"}]"#, as: .admin))
        #expect(Self.evaluate(#"[{"condition": "user_is_guest"}]"#, as: .guest))
        #expect(!Self.evaluate(#"[{"condition": "user_is_guest"}]"#, as: .member))
        #expect(Self.evaluate(#"[{"condition": "room_is_public"}]"#))
        #expect(!Self.evaluate(#"[{"condition": "room_is_public"}]"#, publicRoom: false))
    }

    @Test func listsAreAndedInvertNegatesAndCompositesNest() {
        // The full scaffold's glance: admins who are not guests.
        let glance = #"[{"condition": "user_is_admin"}, {"condition": "user_is_guest", "invert": true}]"#
        #expect(Self.evaluate(glance, as: .admin))
        #expect(!Self.evaluate(glance, as: .member))
        #expect(!Self.evaluate(glance, as: .guest))
        let either =
            #"[{"type": "OR", "conditions": [{"condition": "user_is_admin"}, {"condition": "user_is_room_owner"}]}]"#
        #expect(Self.evaluate(either, as: .admin))
        #expect(Self.evaluate(either, as: .owner))
        #expect(!Self.evaluate(either, as: .member))
        let neither =
            #"[{"type": "or", "invert": true, "conditions": [{"condition": "user_is_admin"}, {"condition": "user_is_room_owner"}]}]"#
        #expect(Self.evaluate(neither, as: .member))
        #expect(!Self.evaluate(neither, as: .owner))
        // `and` is the default type, and composites nest.
        let nested =
            #"[{"conditions": [{"condition": "room_is_public"}, {"type": "or", "conditions": [{"condition": "user_is_guest"}, {"condition": "user_is_admin"}]}]}]"#
        #expect(Self.evaluate(nested, as: .guest))
        #expect(!Self.evaluate(nested, as: .member))
        #expect(!Self.evaluate(nested, as: .guest, publicRoom: false))
    }

    @Test func emptyShowsAndUnknownOrMalformedConditionsAreFalse() {
        #expect(Self.evaluate("[]", as: .guest))
        #expect(Self.evaluate("null", as: .guest))
        #expect(!Self.evaluate(#"[{"condition": "user_is_wizard"}]"#, as: .admin))
        #expect(Self.evaluate(#"[{"condition": "user_is_wizard", "invert": true}]"#, as: .admin))
        #expect(!Self.evaluate(#"["user_is_admin"]"#, as: .admin))
    }

    @Test func messageMatchesReadsRegexFlagsTypeAndSender() {
        let down = Self.message("The checkout service is DOWN again", from: .member)
        let regex =
            #"[{"condition": "message_matches", "params": {"regex": {"pattern": "down|outage|error", "flags": "i"}}}]"#
        #expect(Self.evaluate(regex, message: down))
        #expect(
            !Self.evaluate(
                #"[{"condition": "message_matches", "params": {"regex": {"pattern": "down|outage"}}}]"#, message: down),
            "without the i flag the match is case-sensitive")
        #expect(!Self.evaluate(regex, message: Self.message("all good")))
        #expect(!Self.evaluate(regex), "no message, no match")
        #expect(
            Self.evaluate(
                #"[{"condition": "message_matches", "params": {"type": "message", "sender": "Mia Member"}}]"#,
                message: down))
        #expect(
            !Self.evaluate(#"[{"condition": "message_matches", "params": {"type": "notification"}}]"#, message: down))
        #expect(
            !Self.evaluate(#"[{"condition": "message_matches", "params": {"sender": "Ada Admin"}}]"#, message: down))
        #expect(
            !Self.evaluate(
                #"[{"condition": "message_matches", "params": {"regex": {"pattern": "(unclosed"}}}]"#, message: down),
            "a pattern that does not compile matches nothing")
        #expect(
            Self.evaluate(
                #"[{"condition": "message_contains_link"}]"#, message: Self.message("see https://status.example.com")))
        #expect(!Self.evaluate(#"[{"condition": "message_contains_link"}]"#, message: down))
        #expect(Self.evaluate(#"[{"condition": "message_sent_by_current_user"}]"#, as: .member, message: down))
        #expect(!Self.evaluate(#"[{"condition": "message_sent_by_current_user"}]"#, as: .admin, message: down))
    }

    @Test func cardAndGlanceMatchesCompareMetadata() {
        let card: JSONNode = .object([
            "style": .string("application"), "id": .string("c"), "title": .string("t"),
            "metadata": .object([
                "kind": .string("event"), "count": .integer(7), "nested": .object(["level": .string("3")]),
            ]),
        ])
        let message = Self.message("event", card: card)
        #expect(
            Self.evaluate(
                #"[{"condition": "card_matches", "params": {"style": "application", "metadata": [{"attr": "kind", "eq": "event"}]}}]"#,
                message: message))
        #expect(!Self.evaluate(#"[{"condition": "card_matches", "params": {"style": "link"}}]"#, message: message))
        #expect(
            Self.evaluate(
                #"[{"condition": "card_matches", "params": {"metadata": [{"attr": "count", "gt": 5}, {"attr": "count", "lt": 8}]}}]"#,
                message: message))
        #expect(
            !Self.evaluate(
                #"[{"condition": "card_matches", "params": {"metadata": [{"attr": "count", "gt": 7}]}}]"#,
                message: message))
        #expect(
            Self.evaluate(
                #"[{"condition": "card_matches", "params": {"metadata": [{"attr": "nested.level", "eq": 3}]}}]"#,
                message: message),
            "dotted paths, and 3 equals \"3\" as in JavaScript")
        #expect(
            !Self.evaluate(
                #"[{"condition": "card_matches", "params": {"metadata": [{"attr": "missing", "eq": 1}]}}]"#,
                message: message))
        #expect(!Self.evaluate(#"[{"condition": "card_matches"}]"#, message: Self.message("no card")))

        let glance = #"[{"condition": "glance_matches", "params": {"metadata": [{"attr": "open", "gt": 0}]}}]"#
        #expect(Self.evaluate(glance, glance: .object(["metadata": .object(["open": .integer(3)])])))
        #expect(!Self.evaluate(glance, glance: .object(["metadata": .object(["open": .integer(0)])])))
        #expect(!Self.evaluate(glance), "a glance whose data is not loaded yet does not show")
    }

    @Test func signedTokensPassTheRuntimesVerifier() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "hipkit-hostjwt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteStore(file: folder.appendingPathComponent("hipkit.sqlite"))
        let secret = LocalHipChat.randomSecret()
        #expect(secret.count == 40)
        try await store.upsert(
            Installation(
                oauthId: "local-1", oauthSecret: secret, capabilitiesUrl: "http://127.0.0.1:1/_hipchat/v2/capabilities",
                groupId: 1, installedAt: Date(), updatedAt: Date()))
        let verifier = JWTVerifier(store: store, leeway: 60)
        let signer = HostTokenSigner()

        let claims = signer.claims(oauthId: "local-1", userId: 101, roomId: 1)
        let token = try await signer.sign(claims, secret: secret)
        let verified = try await verifier.verify(token)
        #expect(verified.installation.oauthId == "local-1")
        #expect(verified.userId == "101")
        #expect(verified.roomId == 1)
        #expect(verified.claims["context"]?["user_tz"]?.stringValue == "UTC")
        #expect(verified.claims["jti"]?.stringValue?.count == 20)
        let header = try #require(JWTVerifier.decodeSegment(token.split(separator: ".")[0]))
        #expect(header["alg"]?.stringValue == "HS256")
        #expect((claims.exp - claims.iat) == 3600)
        #expect(HostTokenSigner.decodedClaims(token)?["iss"]?.stringValue == "local-1")

        // Another secret, another installation, or an old token: the runtime refuses each.
        await #expect(throws: APIError.self) {
            try await verifier.verify(try await signer.sign(claims, secret: LocalHipChat.randomSecret()))
        }
        await #expect(throws: APIError.self) {
            try await verifier.verify(
                try await signer.sign(signer.claims(oauthId: "someone-else", userId: 101, roomId: 1), secret: secret))
        }
        var past = HostTokenSigner()
        past.now = { Date().addingTimeInterval(-7200) }
        await #expect(throws: APIError.self) {
            try await verifier.verify(
                try await past.sign(past.claims(oauthId: "local-1", userId: 1, roomId: 1), secret: secret))
        }
        var tampered = token.split(separator: ".").map(String.init)
        tampered[1] = HostTokenSigner.Claims.base64URL(#"{"iss":"local-1","sub":"1","exp":9999999999}"#)
        await #expect(throws: APIError.self) { try await verifier.verify(tampered.joined(separator: ".")) }
    }

    /// A token seen again is not worked through again, but it is still refused once its
    /// installation's secret changes, the installation is gone, or it has expired.
    @Test func aTokenSeenAgainIsCheckedAgainstTheCurrentInstallationAndTime() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "hipkit-jwt-again-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteStore(file: folder.appendingPathComponent("hipkit.sqlite"))
        let (secret, other) = (LocalHipChat.randomSecret(), LocalHipChat.randomSecret())
        func install(_ secret: String) async throws {
            try await store.upsert(
                Installation(
                    oauthId: "local-1", oauthSecret: secret, capabilitiesUrl: "http://127.0.0.1:1/v2/capabilities",
                    groupId: 1, installedAt: Date(), updatedAt: Date()))
        }
        try await install(secret)
        var verifier = JWTVerifier(store: store, leeway: 60)
        let signer = HostTokenSigner()
        let token = try await signer.sign(signer.claims(oauthId: "local-1", userId: 101, roomId: 1), secret: secret)
        #expect(try await verifier.verify(token).roomId == 1)
        #expect(try await verifier.verify(token).userId == "101", "the second time too")
        try await install(other)
        await #expect(throws: APIError.self, "another secret now") { try await verifier.verify(token) }
        try await install(secret)
        #expect(try await verifier.verify(token).roomId == 1)
        verifier.now = { Date().addingTimeInterval(7200) }
        await #expect(throws: APIError.self, "expired by now") { try await verifier.verify(token) }
        verifier.now = { Date() }
        #expect(try await store.deleteInstallation(oauthId: "local-1"))
        await #expect(throws: APIError.self, "uninstalled") { try await verifier.verify(token) }
        try await store.close()
    }

    @Test func notificationsAreCheckedAndTheirHTMLCutDown() throws {
        let card: JSONNode = .object([
            "style": .string("application"), "id": .string("x"), "title": .string("Incident"),
            "description": .object([
                "value": .string(
                    "<b>db</b> <img src=x onerror=alert(1)><script>bad()</script><a href=\"https://e.example/?a=1&amp;b=2\" onclick=\"x()\">link</a>"
                ),
                "format": .string("html"),
            ]),
        ])
        let message = try RoomMessage.notification(
            .object([
                "message": .string("<p>Hi <em>there</em><iframe src=x></iframe></p>"), "card": card,
                "color": .string("red"),
            ]), id: "n1", from: "Add-on")
        #expect(message.html == "<p>Hi <em>there</em></p>")
        #expect(message.color == "red")
        #expect(message.senderName == "Add-on")
        #expect(
            message.card?["description"]?["value"]?.stringValue
                == #"<b>db</b> <a href="https://e.example/?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">link</a>"#
        )
        let text = try RoomMessage.notification(
            .object(["message": .string("<b>as text</b>"), "message_format": .string("text"), "from": .string("Bot")]),
            id: "n2", from: "Add-on")
        #expect(text.html == "&lt;b&gt;as text&lt;/b&gt;")
        #expect(text.senderName == "Bot")
        #expect(
            LimitedHTML.sanitize(#"<a href="javascript:alert(1)">x</a>"#, allowing: LimitedHTML.cardTags) == "<a>x</a>")
        #expect(
            LimitedHTML.sanitize(
                #"<a data-target="incident-dialog" onclick="x()">open</a>"#, allowing: LimitedHTML.messageTags)
                == #"<a data-target="incident-dialog">open</a>"#, "a link may open one of the add-on's modules")
        #expect(
            LimitedHTML.sanitize(
                #"<a data-target="x&quot; onclick=&quot;y">open</a>"#, allowing: LimitedHTML.messageTags)
                == "<a>open</a>")

        #expect(throws: RoomMessage.NotificationError.self) {
            try RoomMessage.notification(.object([:]), id: "n", from: "A")
        }
        #expect(throws: RoomMessage.NotificationError.self) {
            try RoomMessage.notification(
                .object(["message": .string("m"), "color": .string("blue")]), id: "n", from: "A")
        }
        #expect(throws: RoomMessage.NotificationError.self) {
            try RoomMessage.notification(
                .object([
                    "message": .string("m"),
                    "card": .object(["style": .string("tweet"), "id": .string("1"), "title": .string("t")]),
                ]),
                id: "n", from: "A")
        }
        #expect(throws: RoomMessage.NotificationError.self) {
            try RoomMessage.notification(
                .object(["message": .string("m"), "card": .object(["style": .string("link"), "title": .string("t")])]),
                id: "n", from: "A")
        }
    }

    @Test func descriptorsAreReadAsHipChatReadThem() throws {
        let url = URL(string: "https://addon.example.com/addon/atlassian-connect.json")!
        let json = try #require(
            JSONNode.parse(
                Data(
                    #"""
                    {"key": "k", "name": "Demo", "description": "d", "links": {"self": "https://addon.example.com/addon/atlassian-connect.json"},
                     "capabilities": {
                       "hipchatApiConsumer": {"scopes": ["send_notification"], "fromName": "Demo bot"},
                       "installable": {"callbackUrl": "/installed", "allowGlobal": false},
                       "webhook": {"event": "room_message", "pattern": "^/demo", "url": "hooks/demo"},
                       "glance": [{"key": "b", "name": {"value": "Second"}, "weight": 20, "icon": {"url": "i.png", "url@2x": "i2.png"}},
                                  {"key": "a", "name": "First", "weight": 10, "target": {"key": "panel", "options": {"x": 1}}, "icon": {"url": "i.png", "url@2x": "i2.png"}}],
                       "webPanel": [{"key": "panel", "name": "Panel", "url": "https://views.example.com/panel?x={room_id}", "location": "hipchat.sidebar.right"}],
                       "dialog": [{"key": "d", "title": {"value": "Dialog"}, "url": "/dialog", "authentication": "none", "options": {"size": "small"}}],
                       "action": [{"key": "act", "name": {"value": "Act"}, "location": "hipchat.message.action", "target": "d"}]
                     }}
                    """#.utf8)))
        let addon = try EmulatedAddon(descriptor: json, url: url)
        #expect(addon.name == "Demo")
        #expect(addon.fromName == "Demo bot")
        #expect(!addon.allowGlobal && addon.allowRoom)
        #expect(addon.callbackUrl == "https://addon.example.com/installed")
        #expect(addon.webhooks.count == 1, "a single webhook object is accepted, as HipChat did")
        #expect(addon.absolute(addon.webhooks.first?.url) == "https://addon.example.com/addon/hooks/demo")
        #expect(addon.webhooks.first?.authentication == Authentication.none, "webhooks default to authentication: none")
        #expect(addon.glances.map(\.key) == ["a", "b"], "ordered by weight")
        #expect(addon.glances.first?.target?.key.value == "panel")
        #expect(addon.glances.last?.shownName == "Second")
        #expect(addon.absolute(addon.glances.last?.icon?.url) == "https://addon.example.com/addon/i.png")
        #expect(addon.view("d")?.signed == false)
        #expect(addon.view("d")?.name == "Dialog")
        #expect(addon.view("panel")?.signed == true)
        #expect(addon.actions.first?.location == .message)
        #expect(throws: EmulatedAddon.Invalid.self) { try EmulatedAddon(descriptor: .array([]), url: url) }
        #expect(throws: EmulatedAddon.Invalid.self) {
            try EmulatedAddon(descriptor: .object(["name": .string("no key")]), url: url)
        }
    }

    @Test func roomsFollowHipChatsRulesForNamesPrivacyAndOwners() {
        let rooms = EmulatedRoom.seeded()
        #expect(rooms.map(\.name) == ["Operations", "Leadership"])
        let (open, closed) = (rooms[0], rooms[1])
        let guest = EmulatedUser.playing(.guest)
        let member = EmulatedUser.playing(.member)
        #expect(open.isVisible(to: guest) && !closed.isVisible(to: guest))
        #expect(closed.isVisible(to: member))
        #expect(open.isAdministered(by: .playing(.owner)) && open.isAdministered(by: .playing(.admin)))
        #expect(!open.isAdministered(by: member))
        #expect(closed.participants["guests"]?.arrayValue?.isEmpty == true, "a private room has no guests")
        #expect(closed.json["privacy"] == .string("private"))

        func name(_ text: String, except id: Int? = nil) -> String {
            switch EmulatedRoom.checkedName(text, among: rooms, except: id) {
            case .success(let name): return name
            case .failure(let failure): return "\(failure.status): \(failure.description)"
            }
        }
        #expect(name("  Payments ") == "Payments")
        #expect(name(String(repeating: "é", count: 50)) == String(repeating: "é", count: 50))
        #expect(name(String(repeating: "é", count: 51)) == "400: a room's name is at most 50 characters")
        #expect(name("") == "400: a room needs a name")
        #expect(name("line\nbreak") == "400: a room's name cannot hold control characters")
        #expect(name("operations") == "409: there is already a room called operations")
        #expect(name("Operations", except: 1) == "Operations", "a room keeps its own name")
    }

    /// An add-on that is not running is told at once, in words: NIO's text came after 10
    /// seconds of connection retries ("connection reset (error set): Connection refused").
    /// (Not timed: under the whole suite's load even the failing-fast call took 25 s once.)
    @Test func anAddonThatIsNotRunningIsToldAtOnce() async throws {
        let port = try Loopback.freePort()
        let url = URL(string: "http://127.0.0.1:\(port)/atlassian-connect.json")!
        let hipchat = LocalHipChat(configuration: .init(descriptorURL: url, publicURL: "http://127.0.0.1:9/_hipchat"))
        #expect(await hipchat.http.failsFast(for: url))
        #expect(await hipchat.loadDescriptor() == nil)
        let error = await hipchat.addonError ?? ""
        #expect(
            error == "cannot fetch the descriptor at \(url): connection refused: nothing listens at that address",
            "\(error)")
    }

    /// Only the local HipChat's calls to this machine fail at once; an add-on elsewhere, and the
    /// server's calls to HipChat, keep AsyncHTTPClient's connection retries.
    @Test func onlyLoopbackCallsFailFast() {
        let local = OutgoingHTTP(timeout: 10, retryingLoopback: false)
        for host in ["127.0.0.1", "127.0.0.5", "localhost", "[::1]"] {
            #expect(local.failsFast(for: URL(string: "http://\(host):8080/atlassian-connect.json")!), "\(host)")
        }
        for host in ["addon.example.com", "10.0.0.2", "[2001:db8::1]"] {
            #expect(!local.failsFast(for: URL(string: "https://\(host)/atlassian-connect.json")!), "\(host)")
        }
        #expect(!OutgoingHTTP(timeout: 10).failsFast(for: URL(string: "http://127.0.0.1:8080/x")!))
    }

    /// The page shows an uninstall as soon as the installation is gone, while the add-on is still
    /// being told: an install clicked then waits for the uninstall to end and goes on (it was
    /// refused, 409 "still running", which a page clicked quickly met under load).
    @Test func anInstallDuringAnUninstallWaitsForItsTurn() async throws {
        struct Calls {
            var installs = 0
            var uninstallsArrived = 0
            var uninstallReleased = false
        }
        let calls = Mutex(Calls())
        let router = Router()
        let port = Mutex(0)
        router.get("/atlassian-connect.json") { _, _ in
            let base = "http://127.0.0.1:\(port.withLock { $0 })"
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(
                    byteBuffer: ByteBuffer(
                        string: """
                            {"key": "k", "name": "Demo", "description": "d", "links": {"self": "\(base)/atlassian-connect.json"},
                             "capabilities": {"installable": {"callbackUrl": "\(base)/installed", "allowGlobal": true, "allowRoom": true}}}
                            """)))
        }
        router.post("/installed") { _, _ in
            calls.withLock { $0.installs += 1 }
            return HTTPResponse.Status.ok
        }
        router.delete("/installed/:id") { _, _ in
            calls.withLock { $0.uninstallsArrived += 1 }
            while !calls.withLock({ $0.uninstallReleased }) { try await Task.sleep(for: .milliseconds(10)) }
            return HTTPResponse.Status.noContent
        }
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { portContinuation.yield($0.localAddress?.port ?? 0) },
            logger: Logger(label: "add-on", factory: { _ in SwiftLogNoOpLogHandler() }))
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        defer { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        let addonPort = try #require(await iterator.next())
        port.withLock { $0 = addonPort }

        let hipchat = LocalHipChat(
            configuration: .init(
                descriptorURL: URL(string: "http://127.0.0.1:\(addonPort)/atlassian-connect.json")!,
                // The DELETE is held until this test's task lets it go, which other suites can
                // keep from running for seconds: more than the default 10 s to wait for it.
                publicURL: "http://127.0.0.1:9/_hipchat", timeout: 60))
        try await hipchat.install(inRoom: true)
        let uninstall = Task { try await hipchat.uninstall() }
        let deadline = ContinuousClock.now + .seconds(10)
        while calls.withLock({ $0.uninstallsArrived }) == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        try #require(calls.withLock { $0.uninstallsArrived } == 1)
        // The page already shows no installation.
        #expect(await hipchat.installations.isEmpty)

        let install = Task { try await hipchat.install(inRoom: false) }
        try await Task.sleep(for: .milliseconds(300))
        #expect(calls.withLock { $0.installs } == 1, "the install went on before the uninstall ended")
        calls.withLock { $0.uninstallReleased = true }
        try await uninstall.value
        try await install.value
        #expect(calls.withLock { $0.installs } == 2)
        #expect(await hipchat.installations.map(\.roomId) == [nil])
        // One more, checked against what that install left, is refused.
        await #expect(throws: LocalHipChat.Failure.self) { try await hipchat.install(inRoom: false) }
    }

    @Test func aBurstOfChangesWritesTheStateFileOnce() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hipchat-state-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("local-hipchat.json")
        let hipchat = LocalHipChat(
            configuration: .init(
                descriptorURL: URL(string: "http://127.0.0.1:9/atlassian-connect.json")!,
                publicURL: "http://127.0.0.1:9/_hipchat", stateFile: file))
        let start = ContinuousClock.now
        for index in 1...50 { try await hipchat.say("message \(index)") }
        // At most one write per tick that passed, and one at shutdown for what is still due.
        let ticks = Int((ContinuousClock.now - start) / LocalHipChat.saveTick)
        await hipchat.flushState()
        await hipchat.flushState()
        let writes = await hipchat.stateWrites
        #expect(writes >= 1 && writes <= ticks + 1, "\(writes) writes in \(ticks) ticks")
        let saved = try #require(LocalHipChat.savedState(from: file, logger: Logger(label: "test")))
        #expect(saved.rooms.first?.messages.last?.body == "message 50")
        // Left alone, a change is written within the tick.
        try await hipchat.say("one more")
        let deadline = ContinuousClock.now + .seconds(10)
        while await hipchat.stateWrites == writes, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(await hipchat.stateWrites == writes + 1)
        #expect(
            LocalHipChat.savedState(from: file, logger: Logger(label: "test"))?.rooms.first?.messages.last?.body
                == "one more")
    }

    @Test func theMessageBoxSuggestsTheAddonsOwnSlashCommands() throws {
        let descriptor = try #require(
            JSONNode.parse(
                Data(
                    #"""
                    {"key": "k", "capabilities": {"webhook": [
                      {"key": "a", "event": "room_message", "pattern": "^/deploy(\\s+\\S+)?$", "url": "https://x/a"},
                      {"key": "b", "event": "room_message", "pattern": "^\\/roll-back", "url": "https://x/b"},
                      {"key": "c", "event": "room_message", "pattern": "deploy", "url": "https://x/c"},
                      {"key": "d", "event": "room_enter", "url": "https://x/d"},
                      {"key": "e", "event": "room_message", "pattern": "^/deploy now", "url": "https://x/e"}
                    ]}}
                    """#.utf8)))
        #expect(LocalHipChat.slashCommands(ConnectDescriptor(descriptor).webhooks) == ["/deploy", "/roll-back"])
    }

    @Test func viewURLsGetTheirPlaceholdersFilled() {
        let message = Self.message(
            "db is down & out", from: .member,
            card: .object([
                "style": .string("link"), "id": .string("c"), "title": .string("t"),
                "metadata": .object(["incident": .object(["id": .integer(42)])]),
            ]))
        let filled = LocalHipChat.fill(
            "https://a.example/view/{id}?q={message.body}&who={message.sender.name}&i={message.metadata.incident.id}&none={nothing}",
            values: .object(["id": .string("a/b")]), message: message)
        #expect(filled == "https://a.example/view/a%2Fb?q=db%20is%20down%20%26%20out&who=Mia%20Member&i=42&none=")
        #expect(
            LocalHipChat.appending(["signed_request": "a.b.c"], to: "https://a.example/v?x=1#top")
                == "https://a.example/v?x=1&signed_request=a.b.c#top")
        #expect(LocalHipChat.origin("http://127.0.0.1:8080/_hipchat") == "http://127.0.0.1:8080")
    }
}

extension HostTokenSigner.Claims {
    static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(
            of: "/", with: "_"
        )
        .replacingOccurrences(of: "=", with: "")
    }
}
