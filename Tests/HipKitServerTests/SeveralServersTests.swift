import Foundation
import HipChatConnect
import TestProcesses
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
                database: database, secretKey: key,
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

    /// Whether `server` answers `status` (a refusal, 401, unless told) to `token` within ten
    /// seconds of now: what another instance writes reaches this one through LISTEN/NOTIFY, in
    /// milliseconds, not at once. (Without the notification, what it keeps would stand for as
    /// long as it runs; the ten seconds are for this test's task, which other suites can keep
    /// from running for seconds on a small machine.)
    static func answersSoon(_ server: Server, token: String, status: Int = 401) async throws -> Bool {
        try await Polling.holds(within: 10, every: .milliseconds(20)) {
            try await glance(from: server, token: token).0 == status
        }
    }

    static func glance(from server: Server, room: Int = 42, token: String? = nil) async throws -> (Int, JSONNode?) {
        var token = token
        if token == nil { token = try await Tokens.mint(room: room) }
        let (status, data) = try await server.request(
            "/glances/incidents-glance.json", headers: ["Authorization": "JWT \(token ?? "")"])
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

                // A reinstall with a new secret through one: the other refuses the old secret's
                // tokens at once, and takes the new one's.
                let newSecret = "Nw7xR2mN7vK4pL9sT3wY6bH1cF5gJ0dA2eU8iO4q"
                hipchat.accept(Fixture.oauthId, newSecret)
                #expect(
                    try await a.request(
                        "/installed", method: "POST", headers: ["Content-Type": "application/json"],
                        body:
                            #"{"oauthId": "\#(Fixture.oauthId)", "oauthSecret": "\#(newSecret)", "capabilitiesUrl": "\#(hipchat.capabilitiesUrl)", "groupId": 9001}"#
                    ).0 == 200)
                #expect(try await Self.answersSoon(b, token: Tokens.mint(room: 42)))
                #expect(try await Self.glance(from: b, token: Tokens.mint(secret: newSecret, room: 42)).0 == 200)
                hipchat.accept(Fixture.oauthId, Fixture.secret)
                #expect(try await Self.install(through: b, hipchat) == 200)

                // Back to the first secret, through the other server this time; then both have the
                // installation in memory, and an uninstall through one reaches the other.
                #expect(try await Self.answersSoon(a, token: Tokens.mint(room: 42), status: 200))
                #expect(try await Self.glance(from: b).0 == 200)
                // HipChat forgets the credentials, then sends the DELETE (unsigned).
                hipchat.revoke(Fixture.oauthId)
                let uninstall = try await a.request("/installed/\(Fixture.oauthId)", method: "DELETE")
                #expect(uninstall.0 == 204)
                #expect(try await Self.answersSoon(b, token: Tokens.mint(room: 42)))
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

    @Test(
        "rotate-key on the shared database: the running servers stop using the old key at once, and serve again on the new one"
    )
    func rotateKey() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await Self.withServers(2, hipchat: hipchat) { servers, site throws in
                #expect(try await Self.install(through: servers[0], hipchat) == 200)
                for server in servers { #expect(try await Self.glance(from: server).0 == 200) }
                let newKey = SecretBox.randomKeyText()
                let (status, output) = try await CopyStoreTests.hipkit(
                    ["rotate-key", "--database", servers[0].database],
                    environment: [
                        SecretBox.environmentVariable: servers[0].secretKey, SecretBox.newEnvironmentVariable: newKey,
                    ])
                #expect(status == 0, "\(output)")
                #expect(output.contains("1 installation secret re-encrypted"), "\(output)")
                // Still on the old key, neither takes the installation's tokens any more.
                for server in servers {
                    #expect(
                        try await Self.answersSoon(server, token: Tokens.mint(room: 42), status: 500))
                }
                let restarted = try Server(
                    arguments: [
                        "serve", site.dist.path, "--port", "0", "--database", servers[0].database,
                        "--trust-host", "127.0.0.1:\(hipchat.port)",
                    ],
                    logFolder: site.root, environment: [SecretBox.environmentVariable: newKey])
                defer { kill(restarted.process.processIdentifier, SIGKILL) }
                try await restarted.waitUntilListening()
                #expect(try await Self.glance(from: restarted).0 == 200)
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

/// nginx from Debian's package in front of two instances, on the configuration docs/runtime.md
/// gives (docs/nginx/several-servers.conf), with only the test's ports and paths put in.
@Suite("nginx in front of several servers", .serialized)
struct LoadBalancerTests {
    static let documented = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/nginx/several-servers.conf")

    /// nginx on a free loopback port, balancing `servers`; stopped when `body` returns.
    static func withNginx(
        in folder: URL, dist: URL, servers: [Int], _ body: (Int) async throws -> Void
    ) async throws {
        var text = try String(contentsOf: documented, encoding: .utf8)
        let port = try Loopback.freePort()
        let replacements = [
            "server 127.0.0.1:8081": "server 127.0.0.1:\(servers[0])",
            "server 127.0.0.1:8082": "server 127.0.0.1:\(servers[1])",
            "listen 80;": "listen 127.0.0.1:\(port);",
            "/srv/my-addon/dist": dist.path,
        ]
        for (from, to) in replacements {
            #expect(text.contains(from), "docs/nginx/several-servers.conf no longer has '\(from)'")
            text = text.replacingOccurrences(of: from, with: to)
        }
        let tmp = folder.appendingPathComponent("nginx", isDirectory: true)
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        try text.write(to: tmp.appendingPathComponent("site.conf"), atomically: true, encoding: .utf8)
        let main = """
            \(getuid() == 0 ? "user root;" : "")
            worker_processes 1;
            daemon off;
            pid \(tmp.path)/nginx.pid;
            error_log \(tmp.path)/error.log warn;
            events { worker_connections 256; }
            http {
                include /etc/nginx/mime.types;
                access_log off;
                client_body_temp_path \(tmp.path)/body;
                proxy_temp_path \(tmp.path)/proxy;
                fastcgi_temp_path \(tmp.path)/fastcgi;
                uwsgi_temp_path \(tmp.path)/uwsgi;
                scgi_temp_path \(tmp.path)/scgi;
                include \(tmp.path)/site.conf;
            }
            """
        try main.write(to: tmp.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
        let nginx = try ChildProcess(
            URL(fileURLWithPath: "/usr/sbin/nginx"),
            ["-c", tmp.appendingPathComponent("nginx.conf").path, "-e", tmp.path + "/error.log"])
        defer {
            nginx.signal(SIGQUIT)
            if !nginx.wait(timeout: 10) { nginx.signal(SIGKILL) }
        }
        let deadline = Date().addingTimeInterval(60)
        while (try? await ServeCommandTests.Server.request(port: port, "/healthz").0) != 200 {
            let log = (try? String(contentsOf: tmp.appendingPathComponent("error.log"), encoding: .utf8)) ?? ""
            guard nginx.isRunning, Date() < deadline else {
                Issue.record("nginx did not start: \(log)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        try await body(port)
    }

    @Test("install, JWT view, glance update and query, uninstall: all through nginx, across two instances")
    func fullFlow() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            try await SeveralServersTests.withServers(2, hipchat: hipchat) { servers, site throws in
                try await Self.withNginx(in: site.root, dist: site.dist, servers: servers.map(\.port)) { port in
                    func request(
                        _ path: String, method: String = "GET", headers: [String: String] = [:], body: String? = nil
                    )
                        async throws -> (Int, Data)
                    {
                        try await ServeCommandTests.Server.request(
                            port: port, path, method: method, headers: headers, body: body)
                    }
                    let install = try await request(
                        "/installed", method: "POST", headers: ["Content-Type": "application/json"],
                        body:
                            #"{"oauthId": "\#(Fixture.oauthId)", "oauthSecret": "\#(Fixture.secret)", "capabilitiesUrl": "\#(hipchat.capabilitiesUrl)", "groupId": 9001}"#
                    )
                    #expect(install.0 == 200)
                    let token = try await Tokens.mint(room: 42)
                    // Round robin: consecutive requests reach both instances.
                    for _ in 0..<4 {
                        #expect(try await request("/incidents.html?signed_request=\(token)").0 == 200)
                    }
                    #expect(try await request("/incidents.html").0 == 401)
                    let update = try await request(
                        "/admin/glances/incidents-glance?room=42", method: "POST", headers: SeveralServersTests.admin,
                        body: #"{"label": "through nginx"}"#)
                    #expect(update.0 == 200)
                    for _ in 0..<2 {
                        let glance = try await request(
                            "/glances/incidents-glance.json", headers: ["Authorization": "JWT \(token)"])
                        #expect(JSONNode.parse(glance.1)?["label"]?["value"]?.stringValue == "through nginx")
                    }
                    #expect(await hipchat.wait { $0.pushes.count == 1 })
                    hipchat.revoke(Fixture.oauthId)
                    let uninstall = try await request("/installed/\(Fixture.oauthId)", method: "DELETE")
                    #expect(uninstall.0 == 204)
                    // The instance that took the DELETE refuses at once; the other soon after (it
                    // hears of the uninstall through LISTEN/NOTIFY, in milliseconds; ten seconds
                    // as in answersSoon). Two refusals in a row means both have it, since nginx
                    // alternates.
                    let deadline = ContinuousClock.now + .seconds(10)
                    var refusedInARow = 0
                    while refusedInARow < 2, ContinuousClock.now < deadline {
                        let status = try await request("/incidents.html?signed_request=\(token)").0
                        refusedInARow = status == 401 ? refusedInARow + 1 : 0
                    }
                    #expect(
                        refusedInARow == 2, "an instance behind nginx still took the token 10 s after the uninstall")
                    // nginx serves the build's assets itself, with no instance left running.
                    for server in servers { kill(server.process.processIdentifier, SIGKILL) }
                    for server in servers { _ = await server.waitForExit(seconds: 60) }
                    let css = try await request("/assets/site.css")
                    #expect(css.0 == 200)
                    #expect(
                        css.1 == (try Data(contentsOf: site.dist.appendingPathComponent("assets/site.css"))))
                    #expect(try await request("/healthz").0 == 502)
                }
            }
        }
    }
}

/// What `hipkit serve --database` refuses at start, and how it says so.
@Suite("hipkit serve --database refusals")
struct DatabaseStartTests {
    static func serve(_ arguments: [String], environment: [String: String] = [:]) async throws -> (Int32, String) {
        let site = try TestSite()
        defer { site.remove() }
        return try await CopyStoreTests.hipkit(
            ["serve", site.dist.path, "--port", "0"] + arguments,
            environment: [SecretBox.environmentVariable: ""].merging(environment) { _, new in new })
    }

    @Test("without HIPKIT_SECRET_KEY, with a URL that is not postgres://, or with no server there")
    func refusals() async throws {
        let database = try await PostgresServer.shared().createDatabase()
        let noKey = try await Self.serve(["--database", database])
        #expect(noKey.0 != 0)
        #expect(noKey.1.contains("--database needs HIPKIT_SECRET_KEY"), "\(noKey.1)")

        let key = [SecretBox.environmentVariable: SecretBox.randomKeyText()]
        let notPostgres = try await Self.serve(["--database", "mysql://u@h/db"], environment: key)
        #expect(notPostgres.0 != 0)
        #expect(notPostgres.1.contains("is not a postgres:// URL"), "\(notPostgres.1)")
        #expect(notPostgres.1.contains("Usage: hipkit serve"), "\(notPostgres.1)")
        let badMode = try await Self.serve(["--database", database + "?sslmode=maybe"], environment: key)
        #expect(badMode.1.contains("sslmode is 'maybe'"), "\(badMode.1)")

        let port = try Loopback.freePort()
        let nobody = try await Self.serve(
            ["--database", "postgres://hipkit:hunter2@127.0.0.1:\(port)/hipkit"], environment: key)
        #expect(nobody.0 != 0)
        #expect(nobody.1.contains("cannot use postgres://hipkit:***@127.0.0.1:\(port)/hipkit"), "\(nobody.1)")
        #expect(!nobody.1.contains("hunter2"))
    }

    @Test("a database written by a newer hipkit, or sealed with another key, is refused and left alone")
    func newerSchemaAndWrongKey() async throws {
        let location = try await StoreLocation.make(.postgres, key: SecretBox.randomKeyText())
        try await location.with { store throws in try await store.upsert(Fixture.installation()) }
        let wrongKey = try await Self.serve(
            ["--database", location.databaseText],
            environment: [SecretBox.environmentVariable: SecretBox.randomKeyText()])
        #expect(wrongKey.0 != 0)
        #expect(wrongKey.1.contains("sealed with another key"), "\(wrongKey.1)")

        try await PostgresServer.shared().execute("UPDATE hipkit_schema SET version = 99", in: location.databaseText)
        await #expect(throws: PostgresStoreError.newerSchema(99, known: PostgresStore.schemaVersion)) {
            try await location.with { _ in }
        }
        try await PostgresServer.shared().execute(
            "UPDATE hipkit_schema SET version = \(PostgresStore.schemaVersion)", in: location.databaseText)
        try await location.with { store throws in
            #expect(try await store.installation(oauthId: Fixture.oauthId)?.oauthSecret == Fixture.secret)
        }
    }
}
