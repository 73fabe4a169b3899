import Foundation
import HipChatConnect
import Hummingbird
import HummingbirdTesting
import Logging
import ServiceLifecycle
import Testing

@testable import HipKitServer

/// The push outbox through the server: an acknowledged update is never lost to a restart. The
/// outbox itself is checked on both stores by ``StoreContractTests``.
@Suite("The glance push outbox")
struct PushOutboxTests {
    static let adminToken = "admin-token-for-tests"
    static let bearer: HTTPFields = [.authorization: "Bearer \(adminToken)", .contentType: "application/json"]

    @Test("an update acknowledged before a restart reaches HipChat after it")
    func survivesRestart() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            // HipChat refuses every push while the first server runs, so none can get through
            // before it stops, however slow the machine.
            hipchat.state.withLock { $0.failingPushes = 1_000_000 }
            let site = try TestSite()
            defer { site.remove() }
            var configuration = site.configuration(
                adminToken: Self.adminToken, trustedHosts: [TrustedHost(host: "127.0.0.1", port: hipchat.port)])
            configuration.pushRetry = RetryPolicy(
                maxAttempts: 1_000, initialDelay: .milliseconds(200), maxDelay: .seconds(1))
            try await withServer(
                site, configuration,
                setup: { store in
                    try await store.upsert(
                        Fixture.installation(roomId: 42, apiUrl: hipchat.apiUrl, tokenUrl: hipchat.tokenUrl))
                }
            ) { client, _ in
                let response = try await client.execute(
                    uri: "/admin/glances/incidents-glance", method: .post, headers: Self.bearer,
                    body: jsonBody(#"{"label": "deployed"}"#))
                #expect(response.json?["pushes"]?.intValue == 1)
                #expect(await hipchat.wait { $0.refusedPushes >= 1 })
            }
            #expect(hipchat.pushes.isEmpty)
            hipchat.state.withLock { $0.failingPushes = 0 }
            let restarted = Date()
            try await withServer(site, configuration) { _, _ in
                #expect(await hipchat.wait { $0.pushes.count == 1 })
            }
            #expect(Date().timeIntervalSince(restarted) < 30)
            let push = try #require(hipchat.pushes.first)
            #expect(push.path == "/v2/addon/ui/room/42")
            #expect(push.body?["glance"]?.arrayValue?.first?["content"]?["label"]?["value"]?.stringValue == "deployed")
        }
    }

    /// A server started beside another on one data folder (a restart without a gap) leaves the
    /// pushes the other has claimed to their leases; the only one frees them at once. Freed by
    /// the second, they were sent twice.
    @Test("a store opened beside another leaves its claimed pushes claimed")
    func claimsKeptBesideAnotherServer() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let file = site.configuration().databaseFile
        let first = try SQLiteStore(file: file)
        try await first.upsert(
            Fixture.installation(
                roomId: 42, apiUrl: "https://api.hipchat.com/v2/", tokenUrl: "https://api.hipchat.com/v2/oauth/token"))
        _ = try await first.queueNotification(.object(["message": .string("hi")]), room: 42, through: nil)
        #expect(try await first.claimPushes(limit: 5, lease: .seconds(60), now: Date()).count == 1)

        let beside = try SQLiteStore(file: file, secretKey: nil, releasingClaims: false)
        #expect(try await beside.claimPushes(limit: 5, lease: .seconds(60), now: Date()).isEmpty)
        try await beside.close()
        let alone = try SQLiteStore(file: file)
        #expect(try await alone.claimPushes(limit: 5, lease: .seconds(60), now: Date()).count == 1)
        try await alone.close()
        try await first.close()
    }

    /// The outbox looks at an idle SQLite store only when something was committed to it: a push
    /// queued through another connection to the file (as another process would) is seen by the
    /// commit, not by the periodic read, and one due later is taken when it is due.
    @Test("an idle outbox reads the store only after a commit, and still delivers what others queue")
    func quietWhileNothingChanges() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            let site = try TestSite()
            defer { site.remove() }
            let file = site.configuration().databaseFile
            let quiet = Logger(label: "outbox-test", factory: { _ in SwiftLogNoOpLogHandler() })
            let served = try SQLiteStore(file: file)
            let other = try SQLiteStore(file: file)
            let api = HipChatAPI(
                http: OutgoingHTTP(timeout: 10),
                trust: URLTrust(trustedHosts: [TrustedHost(host: "127.0.0.1", port: hipchat.port)]))
            let outbox = PushOutboxService(
                store: served, api: api, tokens: AccessTokens(api: api),
                retry: RetryPolicy(maxAttempts: 3, initialDelay: .milliseconds(300), maxDelay: .seconds(1)),
                lease: .seconds(30), pollInterval: .milliseconds(50), logger: quiet)
            let services = ServiceGroup(
                configuration: ServiceGroupConfiguration(services: [outbox], logger: quiet))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await services.run() }
                // Twenty poll intervals with nothing committed: a look or two at the start only.
                try await Task.sleep(for: .seconds(1))
                let idle = outbox.looks.load(ordering: .relaxed)
                #expect(idle <= 3, "\(idle) looks at an unchanged store")

                // Queued through the other connection: nothing rings this outbox.
                try await other.upsert(
                    Fixture.installation(roomId: 42, apiUrl: hipchat.apiUrl, tokenUrl: hipchat.tokenUrl))
                try await other.putGlanceData(.object([JSONMember("label", .string("one"))]), key: "g", room: 42)
                #expect(await hipchat.wait(seconds: 30) { $0.pushes.count == 1 })
                #expect(outbox.looks.load(ordering: .relaxed) > idle)

                // Refused once, the next push is due again 300 ms later, with no commit between.
                hipchat.state.withLock { $0.failingPushes = 1 }
                try await other.putGlanceData(.object([JSONMember("label", .string("two"))]), key: "g", room: 42)
                #expect(await hipchat.wait(seconds: 30) { $0.refusedPushes >= 1 && $0.pushes.count == 2 })
                await services.triggerGracefulShutdown()
                try await group.waitForAll()
            }
            try await served.close()
            try await other.close()
        }
    }
}
