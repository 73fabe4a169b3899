import Foundation
import HipChatConnect
import Hummingbird
import HummingbirdTesting
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
}
