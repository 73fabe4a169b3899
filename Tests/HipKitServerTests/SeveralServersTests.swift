import Foundation
import HipChatConnect
import Testing

@testable import HipKitServer

/// Several `hipkit serve` processes on one PostgreSQL database behave as one server: what one
/// is told, the others know at once, and a glance update is pushed once, by one of them, even
/// when the one that took it is killed.
@Suite("Several servers on one PostgreSQL database", .serialized)
struct SeveralServersTests {
    typealias Server = ServeCommandTests.Server

    static let admin = ["Authorization": "Bearer \(GlanceTests.adminToken)", "Content-Type": "application/json"]

    /// `count` servers started at the same moment on a new, empty database, trusting `hipchat`.
    static func withServers(
        _ count: Int, hipchat: StandInHipChat, _ body: ([Server], TestSite) async throws -> Void
    ) async throws {
        let site = try TestSite()
        defer { site.remove() }
        let database = try await PostgresServer.shared().createDatabase()
        let key = SecretBox.randomKeyText()
        let servers = try (0..<count).map { _ in
            try Server(
                arguments: [
                    "serve", site.dist.path, "--port", "0", "--database", database,
                    "--trust-host", "127.0.0.1:\(hipchat.port)",
                ],
                logFolder: site.root, environment: [SecretBox.environmentVariable: key])
        }
        for server in servers { try await server.waitUntilListening() }
        defer { for server in servers { kill(server.process.processIdentifier, SIGKILL) } }
        try await body(servers, site)
    }

    static func install(through server: Server, _ hipchat: StandInHipChat) async throws -> Int {
        try await server.request(
            "/installed", method: "POST", headers: ["Content-Type": "application/json"],
            body:
                #"{"oauthId": "\#(Fixture.oauthId)", "oauthSecret": "\#(Fixture.secret)", "capabilitiesUrl": "\#(hipchat.capabilitiesUrl)", "groupId": 9001}"#
        ).0
    }

    static func glance(from server: Server, room: Int = 42) async throws -> (Int, JSONNode?) {
        let token = try await Tokens.mint(room: room)
        let (status, data) = try await server.request(
            "/glances/incidents-glance.json", headers: ["Authorization": "JWT \(token)"])
        return (status, JSONNode.parse(data))
    }

    @Test(
        "an install, a glance update and an uninstall through one are honoured by the other at once; one push per update"
    )
    func behaveAsOne() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await Self.withServers(2, hipchat: hipchat) { servers, _ throws in
                let (a, b) = (servers[0], servers[1])
                #expect(try await Self.glance(from: b).0 == 401)
                #expect(try await Self.install(through: a, hipchat) == 200)
                #expect(try await Self.glance(from: b).0 == 200)

                let update = try await a.request(
                    "/admin/glances/incidents-glance?room=42", method: "POST", headers: Self.admin,
                    body: #"{"label": "<b>7</b> open"}"#)
                #expect(update.0 == 200)
                #expect(JSONNode.parse(update.1)?["pushes"]?.intValue == 1)
                #expect(try await Self.glance(from: b).1?["label"]?["value"]?.stringValue == "<b>7</b> open")
                #expect(await hipchat.wait { $0.pushes.count == 1 })
                // Both servers look at the outbox every second: give the other time to send it again.
                try await Task.sleep(for: .seconds(2.5))
                #expect(hipchat.pushes.count == 1)
                #expect(hipchat.pushes.first?.path == "/v2/addon/ui/room/42")

                // Both have the installation in memory now; an uninstall through one reaches the other.
                #expect(try await Self.glance(from: a).0 == 200)
                let token = try await Tokens.mint()
                let uninstall = try await a.request(
                    "/installed/\(Fixture.oauthId)", method: "DELETE", headers: ["Authorization": "JWT \(token)"])
                #expect(uninstall.0 == 204)
                let uninstalled = ContinuousClock.now
                var refused = false
                while ContinuousClock.now - uninstalled < .seconds(1) {
                    if try await Self.glance(from: b).0 == 401 {
                        refused = true
                        break
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(refused, "the other server still took the uninstalled installation's token after 1 s")
            }
        }
    }

    @Test("the same install through two servers at once ends as one installation both honour")
    func concurrentInstalls() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await Self.withServers(2, hipchat: hipchat) { servers, _ throws in
                async let first = Self.install(through: servers[0], hipchat)
                async let second = Self.install(through: servers[1], hipchat)
                #expect(try await [first, second] == [200, 200])
                let list = try await servers[1].request("/admin/installations", headers: Self.admin)
                let installations = JSONNode.parse(list.1)?["installations"]?.arrayValue ?? []
                #expect(installations.count == 1)
                #expect(installations.first?["apiUrl"]?.stringValue == hipchat.apiUrl)
                for server in servers { #expect(try await Self.glance(from: server).0 == 200) }
            }
        }
    }

    @Test("kill -9 of a server after an acknowledged update: the other serves it and pushes it, once")
    func killedServer() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await Self.withServers(2, hipchat: hipchat) { servers, _ throws in
                let (a, b) = (servers[0], servers[1])
                #expect(try await Self.install(through: a, hipchat) == 200)
                // HipChat fails the first push: the update waits in the outbox for its retry.
                hipchat.state.withLock { $0.failingPushes = 1 }
                let update = try await a.request(
                    "/admin/glances/incidents-glance?room=42", method: "POST", headers: Self.admin,
                    body: #"{"label": "after the crash"}"#)
                #expect(update.0 == 200)
                #expect(await hipchat.wait { $0.refusedPushes == 1 })
                kill(a.process.processIdentifier, SIGKILL)
                #expect(await a.waitForExit(seconds: 60))

                #expect(try await Self.glance(from: b).1?["label"]?["value"]?.stringValue == "after the crash")
                #expect(await hipchat.wait { $0.pushes.count == 1 })
                try await Task.sleep(for: .seconds(2.5))
                #expect(hipchat.pushes.count == 1)
                let push = hipchat.pushes.first?.body?["glance"]?.arrayValue?.first
                #expect(push?["content"]?["label"]?["value"]?.stringValue == "after the crash")
            }
        }
    }

    @Test("three servers started at once on an empty database all serve")
    func threeAtOnce() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await Self.withServers(3, hipchat: hipchat) { servers, _ throws in
                #expect(try await Self.install(through: servers[2], hipchat) == 200)
                for server in servers {
                    #expect(try await server.request("/healthz").0 == 200)
                    #expect(try await Self.glance(from: server).0 == 200)
                }
            }
        }
    }
}
