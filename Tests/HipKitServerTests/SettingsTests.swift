import Foundation
import HipChatConnect
import Hummingbird
import HummingbirdTesting
import Testing

@testable import HipKitServer

@Suite("Configuration settings")
struct SettingsTests {
    private func run(_ body: @Sendable @escaping (any TestClientProtocol, SQLiteStore) async throws -> Void)
        async throws
    {
        let site = try TestSite()
        defer { site.remove() }
        try await withServer(site, setup: { try await $0.upsert(Fixture.installation()) }, body)
    }

    static func headers(_ token: String) -> HTTPFields {
        [.authorization: "JWT \(token)", .contentType: "application/json"]
    }

    @Test("GET gives the defaults, POST stores per installation and per room, room over installation")
    func storeAndRead() async throws {
        try await run { client, store in
            let global = try await Tokens.mint()
            let room42 = try await Tokens.mint(room: 42)
            let defaults = try await client.execute(
                uri: "/_hipkit/settings", method: .get, headers: Self.headers(global))
            #expect(defaults.status == .ok)
            #expect(defaults.json == .object(["severity": .string("low"), "notify": .bool(true)]))

            let saved = try await client.execute(
                uri: "/_hipkit/settings", method: .post, headers: Self.headers(global),
                body: jsonBody(##"{"severity": "high", "threshold": 3, "channel": "#ops"}"##))
            #expect(saved.status == .ok)
            #expect(saved.json?["severity"]?.stringValue == "high")
            #expect(try await store.settings(oauthId: Fixture.oauthId, room: nil)?["threshold"]?.intValue == 3)

            // Room 42 inherits the installation's values until it has its own.
            let inherited = try await client.execute(
                uri: "/_hipkit/settings", method: .get, headers: Self.headers(room42))
            #expect(inherited.json?["severity"]?.stringValue == "high")
            let roomSaved = try await client.execute(
                uri: "/_hipkit/settings", method: .put, headers: Self.headers(room42),
                body: jsonBody(#"{"severity": "low", "notify": false}"#))
            #expect(roomSaved.status == .ok)
            let room = try await client.execute(uri: "/_hipkit/settings", method: .get, headers: Self.headers(room42))
            #expect(room.json?["severity"]?.stringValue == "low")
            #expect(room.json?["notify"]?.boolValue == false)
            #expect(room.json?["channel"]?.stringValue == "#ops")
            let stillGlobal = try await client.execute(
                uri: "/_hipkit/settings", method: .get, headers: Self.headers(global))
            #expect(stillGlobal.json?["severity"]?.stringValue == "high")
            #expect(stillGlobal.json?["notify"]?.boolValue == true)
        }
    }

    @Test(
        "each field is checked; the first bad one is named and nothing is stored",
        arguments: [
            (#"{"severity": "urgent"}"#, "severity"),
            (#"{"severity": 1}"#, "severity"),
            (#"{"threshold": "3"}"#, "threshold"),
            (#"{"channel": "ops"}"#, "channel"),
            (#"{"channel": 5}"#, "channel"),
            (#"{"notify": "yes"}"#, "notify"),
            (#"{"colour": "red"}"#, "colour"),
            (#"["severity"]"#, "body" as String?),
            (#"{"severity": "#, "body"),
        ])
    func validation(_ body: String, _ field: String?) async throws {
        try await run { client, store in
            let token = try await Tokens.mint()
            let response = try await client.execute(
                uri: "/_hipkit/settings", method: .post, headers: Self.headers(token), body: jsonBody(body))
            #expect(response.status == .badRequest, "\(response.text)")
            #expect(response.errorField == field)
            #expect(response.errorMessage != nil)
            #expect(try await store.settings(oauthId: Fixture.oauthId, room: nil) == nil)
        }
    }

    @Test("required fields without a default must be given")
    func required() throws {
        let fields = [
            RuntimeManifest.SettingField(name: "project", type: .text, required: true),
            RuntimeManifest.SettingField(
                name: "level", type: .select, required: true, defaultValue: .string("a"), options: ["a", "b"]),
        ]
        let validator = SettingsValidator(fields: fields)
        #expect(throws: APIError.self) { try validator.validate(.object([:])) }
        #expect(throws: APIError.self) { try validator.validate(.object(["project": .string("")])) }
        #expect(try validator.validate(.object(["project": .string("x")])) == ["project": .string("x")])
    }

    @Test("settings need a JWT")
    func jwtRequired() async throws {
        try await run { client, _ in
            #expect(try await client.execute(uri: "/_hipkit/settings", method: .get).status == .unauthorized)
            let response = try await client.execute(
                uri: "/_hipkit/settings", method: .post, headers: [.contentType: "application/json"],
                body: jsonBody(#"{"severity": "high"}"#))
            #expect(response.status == .unauthorized)
            #expect(
                try await client.execute(
                    uri: "/_hipkit/settings", method: .delete,
                    headers: Self.headers(try await Tokens.mint())
                ).status == .methodNotAllowed)
        }
    }
}
