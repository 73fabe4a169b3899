import Foundation
import HipChatConnect
import Hummingbird
import HummingbirdTesting

@testable import HipKitServer

extension TestResponse {
    var json: JSONNode? { JSONNode.parse(Data(buffer: body)) }
    var text: String { String(buffer: body) }
    var errorField: String? { json?["field"]?.stringValue }
    var errorMessage: String? { json?["error"]?.stringValue }
}

func jsonBody(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

/// Runs `body` against the fixture site with HummingbirdTesting's router framework.
func withServer<T: Sendable>(
    _ site: TestSite, _ configuration: ServerConfiguration? = nil, logs: LogCapture? = nil,
    setup: @Sendable (SQLiteStore) async throws -> Void = { _ in },
    _ body: @Sendable (any TestClientProtocol, SQLiteStore) async throws -> T
) async throws -> T {
    let (server, store) = try site.server(configuration, logs: logs)
    try await setup(store)
    let app = try server.makeApplication()
    return try await app.test(.router) { client in try await body(client, store) }
}
