import Foundation
import HipChatConnect
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import HipKitServer

@Suite("Server: health, logs, limits, storage, shutdown", .serialized)
struct ServerTests {
    @Test("GET /healthz")
    func health() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site) { client, _ in
            let response = try await client.execute(uri: "/healthz", method: .get)
            #expect(response.status == .ok)
            #expect(response.json == .object(["status": .string("ok")]))
        }
    }

    @Test("one log line per request, with method, path, status and duration, never a token or secret")
    func requestLog() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let logs = LogCapture()
        let token = try await Tokens.mint(room: 42)
        try await withServer(site, logs: logs, setup: { try await $0.upsert(Fixture.installation()) }) { client, _ in
            _ = try await client.execute(uri: "/incidents.html?signed_request=\(token)", method: .get)
            _ = try await client.execute(
                uri: "/incidents.html", method: .get, headers: [.authorization: "JWT \(token)"])
            _ = try await client.execute(uri: "/nothing", method: .get)
            _ = try await client.execute(
                uri: "/installed", method: .post, headers: [.contentType: "application/json"],
                body: jsonBody(
                    #"{"oauthId": "x", "oauthSecret": "\#(Fixture.secret)", "capabilitiesUrl": "https://evil.example/c", "groupId": 1}"#
                ))
        }
        let requests = logs.all.filter { $0.message == "request" }
        #expect(requests.count == 4)
        #expect(requests[0].metadata["method"] == "GET")
        #expect(requests[0].metadata["path"] == "/incidents.html")
        #expect(requests[0].metadata["status"] == "200")
        #expect(requests[0].metadata["duration_ms"].flatMap(Double.init) != nil)
        #expect(requests[2].metadata["status"] == "404")
        #expect(requests[3].metadata["status"] == "403")
        #expect(requests[3].metadata["error"]?.contains("trusted") == true)
        for line in logs.all {
            #expect(!line.text.contains(token))
            #expect(!line.text.contains(Fixture.secret))
            #expect(!line.text.contains("signed_request"))
        }
    }

    @Test("bodies over 64 KiB are refused with 413")
    func bodyLimit() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let big = "{\"label\": \"" + String(repeating: "x", count: 70_000) + "\"}"
        try await withServer(site, site.configuration(adminToken: GlanceTests.adminToken)) { client, store in
            let response = try await client.execute(
                uri: "/admin/glances/incidents-glance", method: .post, headers: GlanceTests.bearer,
                body: jsonBody(big))
            #expect(response.status == .contentTooLarge)
            #expect(response.errorMessage?.contains("65536") == true)
            #expect(try await store.glanceData(key: "incidents-glance", room: nil) == nil)
            let install = try await client.execute(
                uri: "/installed", method: .post, headers: [.contentType: "application/json"], body: jsonBody(big))
            #expect(install.status == .contentTooLarge)
        }
        // Also over a real connection, where the body arrives in parts.
        let (server, _) = try site.server(site.configuration(adminToken: GlanceTests.adminToken))
        try await server.makeApplication().test(.live) { client in
            let response = try await client.execute(
                uri: "/hooks/echo", method: .post, headers: [.contentType: "application/json"],
                body: jsonBody(big))
            #expect(response.status == .contentTooLarge)
            let small = try await client.execute(uri: "/healthz", method: .get)
            #expect(small.status == .ok)
        }
    }

    @Test("a client that stops sending mid-request is disconnected")
    func readTimeout() async throws {
        let site = try TestSite()
        defer { site.remove() }
        var configuration = site.configuration()
        configuration.idleTimeout = .seconds(2)
        let (server, _) = try site.server(configuration)
        try await server.makeApplication().test(.live) { client in
            let port = try #require(client.port)
            let started = Date()
            let closed = try await RawConnection.sendAndWaitForClose(
                port: port, bytes: "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ", timeout: 30)
            #expect(closed)
            #expect(Date().timeIntervalSince(started) < 30)
            // The server still serves others (the test client's own idle connection was closed too).
            var answer = ""
            for _ in 0..<5 where !answer.hasPrefix("HTTP/1.1 200") {
                answer = try await RawConnection.exchange(
                    port: port, bytes: "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            }
            #expect(answer.hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test("a new server on the same data folder keeps installations, glance data and settings")
    func restart() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let configuration = site.configuration(adminToken: GlanceTests.adminToken, verifyInstalls: false)
        // First server: install through the API, post glance data and settings.
        do {
            let app = try HipKitServer(configuration: configuration, logger: .init(label: "test")).makeApplication()
            try await app.test(.router) { client in
                let install = try await client.execute(
                    uri: "/installed", method: .post, headers: [.contentType: "application/json"],
                    body: jsonBody(
                        #"{"oauthId": "\#(Fixture.oauthId)", "oauthSecret": "\#(Fixture.secret)", "capabilitiesUrl": "https://api.hipchat.com/v2/capabilities", "groupId": 1}"#
                    ))
                #expect(install.status == .ok)
                #expect(
                    try await client.execute(
                        uri: "/admin/glances/incidents-glance", method: .post, headers: GlanceTests.bearer,
                        body: jsonBody(#"{"label": "kept"}"#)
                    ).status == .ok)
                let token = try await Tokens.mint()
                #expect(
                    try await client.execute(
                        uri: "/_hipkit/settings", method: .post, headers: SettingsTests.headers(token),
                        body: jsonBody(#"{"severity": "high"}"#)
                    ).status == .ok)
            }
        }
        // Second server, new process state, same folder.
        let app = try HipKitServer(configuration: configuration, logger: .init(label: "test")).makeApplication()
        try await app.test(.router) { client in
            let token = try await Tokens.mint()
            #expect(
                try await client.execute(uri: "/incidents.html?signed_request=\(token)", method: .get).status == .ok)
            let glance = try await client.execute(
                uri: "/glances/incidents-glance.json?signed_request=\(token)", method: .get)
            #expect(glance.json?["label"]?["value"]?.stringValue == "kept")
            let settings = try await client.execute(
                uri: "/_hipkit/settings", method: .get, headers: SettingsTests.headers(token))
            #expect(settings.json?["severity"]?.stringValue == "high")
            let list = try await client.execute(uri: "/admin/installations", method: .get, headers: GlanceTests.bearer)
            #expect(list.json?["installations"]?.arrayValue?.count == 1)
        }
        #expect(FileManager.default.fileExists(atPath: site.data.appendingPathComponent("hipkit.sqlite").path))
    }

    @Test("the store is SQLite in WAL mode with synchronous=FULL, readable by its owner only")
    func durability() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let store = try SQLiteStore(file: site.data.appendingPathComponent("hipkit.sqlite"))
        let pragmas = try await store.pragmas()
        #expect(pragmas.journalMode == "wal")
        #expect(pragmas.synchronous == 2)
        try await store.upsert(Fixture.installation())
        for suffix in ["", "-wal", "-shm"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: store.file.path + suffix)
            #expect((attributes[.posixPermissions] as? Int) == 0o600, "hipkit.sqlite\(suffix)")
        }
        try await store.close()
    }

    @Test("graceful shutdown closes the store after the requests")
    func shutdownClosesStore() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let store = RecordingStore(try SQLiteStore(file: site.data.appendingPathComponent("hipkit.sqlite")))
        let server = HipKitServer(configuration: site.configuration(), logger: .init(label: "test"), store: store)
        try await server.makeApplication().test(.router) { client throws in
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            #expect(!store.closed)
        }
        #expect(store.closed)
    }

    @Test("a dist/ that cannot be served fails at start, pointing at the problem")
    func badBuild() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try site.write(
            "{\n  \"version\": 1,\n  \"webhooks\": [{\"path\": \"/h\", \"event\": \"room_message\",\n"
                + "    \"authentication\": \"none\", \"pattern\": \"([\"}]\n}\n",
            to: "_hipkit/runtime.json")
        #expect {
            _ = try HipKitServer(configuration: site.configuration()).makeApplication()
        } throws: { error in
            guard let failure = error as? SiteLoadError else { return false }
            return failure.diagnostics.contains {
                $0.code == .invalidPattern && $0.location?.line == 4 && $0.field == "webhooks[0].pattern"
                    && $0.location?.file.hasSuffix("runtime.json") == true
            }
        }
        try FileManager.default.removeItem(at: site.dist.appendingPathComponent("atlassian-connect.json"))
        #expect(throws: SiteLoadError.self) {
            _ = try HipKitServer(configuration: site.configuration()).makeApplication()
        }
    }
}

/// A store that notes when it is closed.
final class RecordingStore: InstallationStore {
    let base: SQLiteStore
    private let isClosed = Mutex(false)
    var closed: Bool { isClosed.withLock { $0 } }

    init(_ base: SQLiteStore) { self.base = base }

    func upsert(_ installation: Installation) async throws { try await base.upsert(installation) }
    func installation(oauthId: String) async throws -> Installation? { try await base.installation(oauthId: oauthId) }
    func deleteInstallation(oauthId: String) async throws -> Bool {
        try await base.deleteInstallation(oauthId: oauthId)
    }
    func installations() async throws -> [Installation] { try await base.installations() }
    func putGlanceData(_ data: JSONNode, key: String, room: Int?, installation: String?) async throws -> QueuedPushes {
        try await base.putGlanceData(data, key: key, room: room, installation: installation)
    }
    func queueNotification(_ body: JSONNode, room: Int, through oauthId: String?) async throws -> QueuedPushes {
        try await base.queueNotification(body, room: room, through: oauthId)
    }
    func claimPushes(limit: Int, lease: Duration, now: Date) async throws -> [ClaimedOutboxItem] {
        try await base.claimPushes(limit: limit, lease: lease, now: now)
    }
    func finishPush(_ claimed: ClaimedOutboxItem) async throws { try await base.finishPush(claimed) }
    func retryPush(_ claimed: ClaimedOutboxItem, at due: Date) async throws {
        try await base.retryPush(claimed, at: due)
    }
    func nextPushDue() async throws -> Date? { try await base.nextPushDue() }
    func contents() async throws -> StoreContents { try await base.contents() }
    func restore(_ contents: StoreContents) async throws { try await base.restore(contents) }
    func glanceData(key: String, room: Int?, installation: String?) async throws -> JSONNode? {
        try await base.glanceData(key: key, room: room, installation: installation)
    }
    func putSettings(_ values: [String: JSONNode], oauthId: String, room: Int?) async throws {
        try await base.putSettings(values, oauthId: oauthId, room: room)
    }
    func settings(oauthId: String, room: Int?) async throws -> [String: JSONNode]? {
        try await base.settings(oauthId: oauthId, room: room)
    }
    func close() async throws {
        try await base.close()
        isClosed.withLock { $0 = true }
    }
}
