import Foundation
import HipChatConnect
import Hummingbird
import Logging
import Synchronization
import TestProcesses

@testable import HipKitServer

/// A stand-in for HipChat's API on loopback: a capabilities document (and broken variants),
/// the token endpoint, the glance push and room notification endpoints (recorded alike, as
/// pushes), and single-use installable URLs.
final class StandInHipChat: Sendable {
    struct Push: Sendable {
        var path: String
        var authorization: String?
        var body: JSONNode?
    }

    struct State {
        var port = 0
        /// oauthId → secret that the token endpoint accepts.
        var credentials: [String: String] = [:]
        var tokenRequests: [(oauthId: String, body: String)] = []
        var capabilityRequests = 0
        var pushes: [Push] = []
        /// Glance pushes to answer 503 before accepting.
        var failingPushes = 0
        /// Glance pushes answered 503 so far.
        var refusedPushes = 0
        var issued = 0
        /// oauthId → the group_id the token endpoint names (9001 when not set).
        var groups: [String: Int] = [:]
        /// What `/v2/capabilities/custom` serves: overrides of links.self, tokenUrl and the API URL.
        var customSelf: String?
        var customTokenUrl: String?
        var customApiUrl: String?
        /// Where `/v2/capabilities/redirect-to` sends the client.
        var redirectTarget = ""
        /// How the token endpoint answers everyone: nil grants as usual; a status answers that
        /// status; 200 answers an empty access_token.
        var tokenFailure: Int?
        /// Installation details the browser flows read, by id: each is answered once, then 404.
        var installables: [String: String] = [:]
        var installableRequests = 0
    }

    let state = Mutex(State())

    var port: Int { state.withLock { $0.port } }
    var base: String { "http://127.0.0.1:\(port)" }
    var capabilitiesUrl: String { base + "/v2/capabilities" }
    var tokenUrl: String { base + "/v2/oauth/token" }
    var apiUrl: String { base + "/v2/" }
    var pushes: [Push] { state.withLock { $0.pushes } }

    func accept(_ oauthId: String, _ secret: String, group: Int? = nil) {
        state.withLock {
            $0.credentials[oauthId] = secret
            $0.groups[oauthId] = group
        }
    }
    func revoke(_ oauthId: String) { state.withLock { $0.credentials[oauthId] = nil } }

    /// A single-use `installable_url` answering an installation's details, as HipChat's did.
    func installable(
        oauthId: String = Fixture.oauthId, secret: String? = Fixture.secret, roomId: Int? = nil,
        capabilitiesUrl: String? = nil
    ) -> String {
        var details: [String: Any] = [
            "oauthId": oauthId, "capabilitiesUrl": capabilitiesUrl ?? self.capabilitiesUrl, "groupId": 9001,
        ]
        if let secret { details["oauthSecret"] = secret }
        if let roomId { details["roomId"] = roomId }
        let text = String(decoding: try! JSONSerialization.data(withJSONObject: details), as: UTF8.self)
        let id = UUID().uuidString
        state.withLock { $0.installables[id] = text }
        return base + "/v2/oauth/installable/" + id
    }

    /// Runs `body` while the stand-in listens on 127.0.0.1 on a free port.
    static func with<T: Sendable>(_ body: @Sendable (StandInHipChat) async throws -> T) async throws -> T {
        let hipchat = StandInHipChat()
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: hipchat.router(),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "stand-in", factory: { _ in SwiftLogNoOpLogHandler() }))
        let task = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        let port = await iterator.next() ?? 0
        hipchat.state.withLock { $0.port = port }
        do {
            let value = try await body(hipchat)
            task.cancel()
            _ = await task.result
            return value
        } catch {
            task.cancel()
            _ = await task.result
            throw error
        }
    }

    /// Waits until `condition` holds for the recorded state, or `seconds` pass.
    func wait(seconds: Double = 60, until condition: (State) -> Bool) async -> Bool {
        await Polling.holds(within: seconds, every: .milliseconds(20)) { state.withLock { condition($0) } }
    }

    private func capabilities(selfURL: String, tokenUrl: String? = nil, apiUrl: String? = nil) -> Response {
        let apiUrl = apiUrl ?? self.apiUrl
        let document: [String: Any] = [
            "name": "HipChat",
            "links": ["self": selfURL, "api": apiUrl],
            "capabilities": [
                "oauth2Provider": [
                    "authorizationUrl": base + "/users/authorize", "tokenUrl": tokenUrl ?? self.tokenUrl,
                ],
                "hipchatApiProvider": ["url": apiUrl],
            ],
        ]
        let data = try! JSONSerialization.data(withJSONObject: document)
        return Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/v2/capabilities") { _, _ in
            self.state.withLock { $0.capabilityRequests += 1 }
            return self.capabilities(selfURL: self.capabilitiesUrl)
        }
        router.get("/v2/capabilities/mismatch") { _, _ in
            self.state.withLock { $0.capabilityRequests += 1 }
            return self.capabilities(selfURL: self.capabilitiesUrl)
        }
        router.get("/v2/capabilities/untrusted-token") { _, _ in
            self.state.withLock { $0.capabilityRequests += 1 }
            return self.capabilities(
                selfURL: self.capabilitiesUrl + "/untrusted-token",
                tokenUrl: "https://tokens.example.net/v2/oauth/token")
        }
        router.get("/v2/capabilities/custom") { _, _ in
            let (selfURL, tokenUrl, apiUrl) = self.state.withLock { state in
                state.capabilityRequests += 1
                return (state.customSelf, state.customTokenUrl, state.customApiUrl)
            }
            return self.capabilities(
                selfURL: selfURL ?? self.capabilitiesUrl + "/custom", tokenUrl: tokenUrl, apiUrl: apiUrl)
        }
        router.get("/v2/capabilities/redirect-to") { _, _ in
            let target = self.state.withLock { state in
                state.capabilityRequests += 1
                return state.redirectTarget
            }
            return Response(status: .found, headers: [.location: target])
        }
        router.get("/v2/capabilities/redirect") { _, _ in
            self.state.withLock { $0.capabilityRequests += 1 }
            return Response(status: .found, headers: [.location: self.capabilitiesUrl])
        }
        router.post("/v2/oauth/token") { request, _ -> Response in
            var request = request
            let body = String(buffer: try await request.collectBody(upTo: 10_000))
            let basic = request.headers[.authorization].flatMap { header -> (String, String)? in
                guard header.hasPrefix("Basic "), let data = Data(base64Encoded: String(header.dropFirst(6))),
                    let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
                else { return nil }
                return (String(text[..<colon]), String(text[text.index(after: colon)...]))
            }
            let (granted, group, failure) = self.state.withLock { state -> (String?, Int, Int?) in
                state.tokenRequests.append((basic?.0 ?? "", body))
                guard let basic, state.credentials[basic.0] == basic.1, body.contains("grant_type=client_credentials")
                else {
                    return (nil, 0, state.tokenFailure)
                }
                state.issued += 1
                return ("token-\(basic.0.prefix(8))-\(state.issued)", state.groups[basic.0] ?? 9001, state.tokenFailure)
            }
            if let failure {
                let body = failure == 200 ? #"{"access_token":"","expires_in":3599}"# : #"{"error":"server_error"}"#
                return Response(
                    status: .init(code: failure), headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: body)))
            }
            guard let granted else {
                return Response(
                    status: .unauthorized, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"error":"invalid_client"}"#)))
            }
            let json =
                #"{"access_token":"\#(granted)","expires_in":3599,"group_id":\#(group),"group_name":"Example","token_type":"bearer","scope":"send_notification"}"#
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: json)))
        }
        let push: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 100_000)
            let fail = self.state.withLock { state -> Bool in
                if state.failingPushes > 0 {
                    state.failingPushes -= 1
                    state.refusedPushes += 1
                    return true
                }
                state.pushes.append(
                    Push(
                        path: request.uri.path, authorization: request.headers[.authorization],
                        body: JSONNode.parse(Data(buffer: body))))
                return false
            }
            return Response(status: fail ? .serviceUnavailable : .noContent)
        }
        router.post("/v2/addon/ui/room/:room", use: push)
        router.post("/v2/addon/ui/group/:group", use: push)
        router.post("/v2/room/:room/notification", use: push)
        router.get("/v2/oauth/installable/:id") { _, context -> Response in
            let id = context.parameters.get("id") ?? ""
            let answer = self.state.withLock { state -> String? in
                state.installableRequests += 1
                return state.installables.removeValue(forKey: id)
            }
            switch (id, answer) {
            case (_, let text?):
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: text)))
            case ("huge", _):
                // More than the 1 MiB a server reads of an answer.
                let padding = String(repeating: "x", count: 2 << 20)
                return Response(
                    status: .ok, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"oauthId": "a", "padding": "\#(padding)"}"#)))
            case ("page", _):
                return Response(
                    status: .ok, headers: [.contentType: "text/html"],
                    body: .init(byteBuffer: ByteBuffer(string: "<html>not the details</html>")))
            case ("redirect", _):
                return Response(status: .found, headers: [.location: self.base + "/v2/oauth/installable/page"])
            default:
                return Response(status: .notFound)
            }
        }
        return router
    }
}
