import Foundation
import HipChatConnect
import Hummingbird
import HummingbirdTesting

@testable import HipKitServer

/// Everything an attack could change in the store, read through the store's own API, so a test
/// can say "refused, and nothing changed".
struct StoreSnapshot: Equatable, CustomStringConvertible {
    var installations: [Installation]
    var glances: [String: JSONNode]
    var settings: [String: JSONNode]

    static let glanceKeys = ["incidents-glance"]
    static let rooms: [Int?] = [nil, 7, 42]

    static func take(_ store: any InstallationStore) async throws -> StoreSnapshot {
        let installations = try await store.installations()
        var glances: [String: JSONNode] = [:]
        for key in glanceKeys {
            for room in rooms {
                if let data = try await store.glanceData(key: key, room: room) {
                    glances["\(key)@\(room.map(String.init) ?? "-")"] = data
                }
            }
        }
        var settings: [String: JSONNode] = [:]
        for installation in installations {
            for room in rooms {
                if let values = try await store.settings(oauthId: installation.oauthId, room: room) {
                    settings["\(installation.oauthId)@\(room.map(String.init) ?? "-")"] = .object(values)
                }
            }
        }
        return StoreSnapshot(installations: installations, glances: glances, settings: settings)
    }

    var description: String {
        "\(installations.map { "\($0.oauthId) group \($0.groupId) room \($0.roomId.map(String.init) ?? "-") via \($0.capabilitiesUrl)" }) "
            + "glances \(glances.keys.sorted()) settings \(settings.keys.sorted())"
    }

    /// What the attack tests start from: two installations, glance data and settings.
    static func plant(
        _ store: any InstallationStore, apiUrl: String? = nil, tokenUrl: String? = nil,
        capabilitiesUrl: String? = nil
    ) async throws {
        var first = Fixture.installation(roomId: 42, apiUrl: apiUrl, tokenUrl: tokenUrl)
        var second = Fixture.installation(
            Fixture.otherId, secret: Fixture.otherSecret, groupId: 9002, apiUrl: apiUrl, tokenUrl: tokenUrl)
        if let capabilitiesUrl {
            first.capabilitiesUrl = capabilitiesUrl
            second.capabilitiesUrl = capabilitiesUrl
        }
        try await store.upsert(first)
        try await store.upsert(second)
        try await store.putGlanceData(
            .object(["label": .object(["type": .string("html"), "value": .string("<b>1</b> planted")])]),
            key: "incidents-glance", room: nil)
        try await store.putGlanceData(
            .object(["label": .object(["type": .string("html"), "value": .string("<b>2</b> in 42")])]),
            key: "incidents-glance", room: 42)
        try await store.putSettings(["severity": .string("high")], oauthId: Fixture.oauthId, room: nil)
    }
}

/// Runs `body` against the server listening on a real loopback port, with the store planted.
func withLiveServer<T: Sendable>(
    _ site: TestSite, _ configuration: ServerConfiguration? = nil, logs: LogCapture? = nil,
    setup: @Sendable (SQLiteStore) async throws -> Void = { try await StoreSnapshot.plant($0) },
    _ body: @Sendable (any TestClientProtocol, Int, SQLiteStore) async throws -> T
) async throws -> T {
    let (server, store) = try site.server(configuration, logs: logs)
    try await setup(store)
    return try await server.makeApplication().test(.live) { client in
        try await body(client, client.port ?? 0, store)
    }
}
