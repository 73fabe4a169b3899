import Foundation
import HipChatConnect
import Hummingbird
import HummingbirdTesting
import Testing

@testable import HipKitServer

/// The push outbox: glance updates wait in the store, not in memory, each taken by one server
/// at a time and never lost to a restart.
@Suite("The glance push outbox")
struct PushOutboxTests {
    static let adminToken = "admin-token-for-tests"
    static let bearer: HTTPFields = [.authorization: "Bearer \(adminToken)", .contentType: "application/json"]

    private static func pushable(_ oauthId: String = Fixture.oauthId, roomId: Int? = nil) -> Installation {
        Fixture.installation(
            oauthId, roomId: roomId, apiUrl: "https://api.hipchat.com/v2/",
            tokenUrl: "https://api.hipchat.com/v2/oauth/token")
    }

    @Test("an update queues one push per installation and target, in the same write as the data")
    func queued() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let store = try SQLiteStore(file: site.configuration().databaseFile)
        try await store.upsert(Self.pushable())
        try await store.upsert(Self.pushable("room-install", roomId: 42))
        try await store.upsert(Fixture.installation("unverified"))
        #expect(try await store.putGlanceData(.object(["label": "a"]), key: "g", room: nil) == 2)
        let claimed = try await store.claimPushes(limit: 10, lease: .seconds(30))
        #expect(Set(claimed.map(\.push.target)) == [.group(9001), .room(42)])
        #expect(Set(claimed.map(\.push.oauthId)) == [Fixture.oauthId, "room-install"])
        #expect(claimed.allSatisfy { $0.attempts == 0 && $0.push.data["label"]?.stringValue == "a" })
        // Room data reaches the room through the group's installation and the room's own.
        #expect(try await store.putGlanceData(.object(["label": "b"]), key: "g", room: 42) == 2)
        #expect(try await store.putGlanceData(.object(["label": "c"]), key: "g", room: 7) == 1)
        try await store.close()
    }

    @Test("queued pushes survive closing the store, and a taken one is nobody else's until its lease ends")
    func durableAndLeased() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let file = site.configuration().databaseFile
        let first = try SQLiteStore(file: file)
        try await first.upsert(Self.pushable())
        try await first.putGlanceData(.object(["label": "a"]), key: "g", room: nil)
        try await first.close()

        let store = try SQLiteStore(file: file)
        let taken = try await store.claimPushes(limit: 10, lease: .milliseconds(300))
        #expect(taken.count == 1)
        #expect(try await store.claimPushes(limit: 10, lease: .seconds(30)).isEmpty)
        let due = try #require(try await store.nextPushDue())
        #expect(due > Date())
        try await Task.sleep(until: .now + .milliseconds(350))
        let again = try await store.claimPushes(limit: 10, lease: .seconds(30))
        #expect(again.map(\.id) == taken.map(\.id))
        try await store.finishPush(again[0])
        #expect(try await store.claimPushes(limit: 10, lease: .seconds(30)).isEmpty)
        #expect(try await store.nextPushDue() == nil)
        try await store.close()
    }

    @Test("newer data while a push is out waits for it, then goes alone; a retry counts attempts")
    func newerDataWaits() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let store = try SQLiteStore(file: site.configuration().databaseFile)
        try await store.upsert(Self.pushable())
        try await store.putGlanceData(.object(["label": "old"]), key: "g", room: nil)
        let out = try #require(try await store.claimPushes(limit: 10, lease: .seconds(30)).first)
        try await store.putGlanceData(.object(["label": "new"]), key: "g", room: nil)
        // The delivery of "old" still holds the lease: "new" is not sent beside it.
        #expect(try await store.claimPushes(limit: 10, lease: .seconds(30)).isEmpty)
        try await store.finishPush(out)
        let next = try #require(try await store.claimPushes(limit: 10, lease: .seconds(30)).first)
        #expect(next.id == out.id && next.generation == out.generation + 1)
        #expect(next.push.data["label"]?.stringValue == "new")

        try await store.retryPush(next, at: Date().addingTimeInterval(0.2))
        #expect(try await store.claimPushes(limit: 10, lease: .seconds(30)).isEmpty)
        try await Task.sleep(until: .now + .milliseconds(250))
        let retried = try #require(try await store.claimPushes(limit: 10, lease: .seconds(30)).first)
        #expect(retried.attempts == 1)
        try await store.finishPush(retried)
        #expect(try await store.nextPushDue() == nil)
        try await store.close()
    }

    @Test("an uninstall drops the installation's queued pushes")
    func uninstallDrops() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let store = try SQLiteStore(file: site.configuration().databaseFile)
        try await store.upsert(Self.pushable())
        try await store.upsert(Self.pushable("other"))
        try await store.putGlanceData(.object(["label": "a"]), key: "g", room: nil)
        #expect(try await store.deleteInstallation(oauthId: Fixture.oauthId))
        #expect(try await store.claimPushes(limit: 10, lease: .seconds(30)).map(\.push.oauthId) == ["other"])
        try await store.close()
    }

    @Test("an update acknowledged before a restart reaches HipChat after it")
    func survivesRestart() async throws {
        try await StandInHipChat.with { hipchat in
            hipchat.accept(Fixture.oauthId, Fixture.secret)
            hipchat.state.withLock { $0.failingPushes = 1 }
            let site = try TestSite()
            defer { site.remove() }
            var configuration = site.configuration(
                adminToken: Self.adminToken, trustedHosts: [TrustedHost(host: "127.0.0.1", port: hipchat.port)])
            // Long enough that the retry falls after the restart.
            configuration.pushRetry = RetryPolicy(maxAttempts: 3, initialDelay: .seconds(2))
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
                #expect(await hipchat.wait { $0.refusedPushes == 1 })
            }
            #expect(hipchat.pushes.isEmpty)
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
}
