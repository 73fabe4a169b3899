import Foundation
import HipChatConnect
import HipKitTemplates
import Hummingbird
import NIOCore
import ServiceLifecycle

/// The local HipChat's HTTP side, under `/_hipchat/`: the group's page and its scripts, the
/// views' JavaScript API (`atlassian-connect/all.js`), the room page's own API (`api/…`) and
/// the REST API an add-on calls (`v2/…`).
struct LocalHipChatRoutes: Sendable {
    static let prefix = LocalHipChat.path
    static let maxBodyBytes = 256 * 1024

    let hipchat: LocalHipChat
    /// Read once: these files are part of the installed hipkit, not of the project.
    private let assets: [String: (type: String, bytes: ByteBuffer)]

    init(hipchat: LocalHipChat) {
        self.hipchat = hipchat
        var assets: [String: (String, ByteBuffer)] = [:]
        for (path, file, type) in [
            ("/", "room.html", "text/html; charset=utf-8"), ("/room.js", "room.js", "text/javascript; charset=utf-8"),
            ("/room.css", "room.css", "text/css; charset=utf-8"),
            ("/atlassian-connect/all.js", "all.js", "text/javascript; charset=utf-8"),
            ("/atlassian-connect/all-debug.js", "all.js", "text/javascript; charset=utf-8"),
            ("/atlassian-connect/all.css", "all.css", "text/css; charset=utf-8"),
            ("/atlassian-connect/all-debug.css", "all.css", "text/css; charset=utf-8"),
        ] {
            let data = TemplatesBundle.data("hipchat/\(file)") ?? Data("/* \(file) is missing from this hipkit */".utf8)
            assets[path] = (type, ByteBuffer(bytes: data))
        }
        self.assets = assets
    }

    static func claims(_ path: String) -> Bool { path == prefix || path.hasPrefix(prefix + "/") }

    func handle(path: String, request: Request) async throws -> Response {
        if path == Self.prefix {
            return Response(status: .found, headers: [.location: Self.prefix + "/"])
        }
        let sub = String(path.dropFirst(Self.prefix.count))
        if sub.hasPrefix("/v2/") {
            let body = try await Self.body(request)
            let answer = await hipchat.restAPI(
                method: request.method.rawValue, path: String(sub.dropFirst(4)),
                authorization: request.headers[.authorization], contentType: request.headers[.contentType],
                body: body)
            guard let json = answer.body else { return Response(status: .init(code: answer.status)) }
            return JSONResponse.make(json, status: .init(code: answer.status))
        }
        if sub.hasPrefix("/api/") {
            return try await api(String(sub.dropFirst(5)), request: request)
        }
        if let asset = assets[sub] {
            guard request.method == .get || request.method == .head else {
                throw APIError(.methodNotAllowed, "GET \(path)", headers: [.allow: "GET, HEAD"])
            }
            // Views on other origins load all.js and all.css, as they loaded HipChat's.
            let response = Response(
                status: .ok,
                headers: [
                    .contentType: asset.type, .cacheControl: "no-cache",
                    .accessControlAllowOrigin: "*", .xContentTypeOptions: "nosniff",
                ],
                body: .init(byteBuffer: asset.bytes))
            return request.method == .head ? response.createHeadResponse() : response
        }
        throw APIError.notFound("the local HipChat has no \(path)")
    }

    /// The room page's own calls.
    private func api(_ name: String, request: Request) async throws -> Response {
        if request.method == .get {
            switch name {
            case "state":
                // The page asks for a fresh descriptor when it loads; installed add-ons keep the
                // descriptor they were installed with until they are updated, as in HipChat.
                if await hipchat.addon == nil || RequestPath.queryParameter("fresh", in: request.uri.query) != nil {
                    await hipchat.loadDescriptor()
                }
                var state = await hipchat.state()
                if state.isObject { state["log"] = .array(hipchat.log.entries.map(\.json)) }
                return JSONResponse.make(state)
            case "events":
                return events()
            default:
                throw APIError.notFound("no such call")
            }
        }
        guard request.method == .post else {
            throw APIError(.methodNotAllowed, "the room's API is called with GET or POST")
        }
        try Self.checkSameOrigin(request)
        let data = try await Self.body(request)
        let body = data.isEmpty ? JSONNode.object([:]) : (JSONNode.parse(data) ?? .null)
        guard body.dictionaryValue != nil else { throw APIError.badRequest("the body must be a JSON object") }
        do {
            switch name {
            case "install":
                return Self.done(redirect: try await hipchat.install(inRoom: try Self.flag(body, "room")))
            case "update":
                // Without an oauthId: the installation covering the room shown.
                return Self.done(redirect: try await hipchat.update(body["oauthId"]?.stringValue))
            case "uninstall":
                return Self.done(redirect: try await hipchat.uninstall(body["oauthId"]?.stringValue))
            case "rooms":
                let room = try await hipchat.createRoom(
                    name: body["name"]?.stringValue ?? "", isPublic: try Self.privacy(body) != "private")
                return JSONResponse.make(.object(["ok": .bool(true), "room": .integer(room.id)]))
            case "rooms/rename":
                try await hipchat.renameRoom(Self.roomId(body), to: body["name"]?.stringValue ?? "")
            case "enter":
                try await hipchat.enter(Self.roomId(body))
            case "role":
                guard let role = body["role"]?.stringValue.flatMap(EmulatedRole.init) else {
                    throw LocalHipChat.Failure(
                        "role must be one of \(EmulatedRole.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                await hipchat.play(role)
            case "messages": try await hipchat.say(body["text"]?.stringValue ?? "")
            case "room-event":
                try await hipchat.roomEvent(body["event"]?.stringValue ?? "", topic: body["topic"]?.stringValue)
            case "glances/refresh": await hipchat.refreshGlances()
            case "open":
                guard let target = body["target"]?.stringValue else { throw LocalHipChat.Failure("target is missing") }
                let answer = try await hipchat.open(
                    target: target, actionKey: body[ModuleKind.action.rawValue]?.stringValue,
                    messageId: body["message"]?.stringValue,
                    urlTemplateValues: body["urlTemplateValues"], options: body["options"],
                    roomOrigin: body["roomOrigin"]?.stringValue)
                return JSONResponse.make(answer)
            case "token":
                return JSONResponse.make(.object(["token": .string(try await hipchat.token())]))
            case "scoped":
                return JSONResponse.make(
                    .object(["result": try await hipchat.scopedAPI(body["call"]?.stringValue ?? "")]))
            default:
                throw APIError.notFound("no such call")
            }
        } catch let failure as LocalHipChat.Failure {
            return JSONResponse.make(
                .object(["error": .string(failure.description)]), status: .init(code: failure.status))
        }
        return Self.done(redirect: nil)
    }

    /// A call's answer: `ok`, and where to send the browser when one of HipChat's browser flows
    /// goes on through the add-on.
    private static func done(redirect: String?) -> Response {
        var answer: [String: JSONNode] = ["ok": .bool(true)]
        if let redirect { answer["redirect"] = .string(redirect) }
        return JSONResponse.make(.object(answer))
    }

    /// `name` of a call's body as true or false (absent: false); anything else is refused, not
    /// taken for false (`{"room": 1}` installed for all rooms).
    private static func flag(_ body: JSONNode, _ name: String) throws(LocalHipChat.Failure) -> Bool {
        guard let value = body[name], !value.isNull else { return false }
        guard let flag = value.boolValue else { throw LocalHipChat.Failure("\(name) must be true or false") }
        return flag
    }

    /// `privacy` of a new room: "public" (the default) or "private"; anything else is refused,
    /// not taken for public.
    private static func privacy(_ body: JSONNode) throws(LocalHipChat.Failure) -> String {
        guard let value = body["privacy"], !value.isNull else { return "public" }
        guard let text = value.stringValue, ["public", "private"].contains(text) else {
            throw LocalHipChat.Failure("privacy must be \"public\" or \"private\"")
        }
        return text
    }

    /// The `room` of a call's body: a room's id.
    private static func roomId(_ body: JSONNode) throws(LocalHipChat.Failure) -> Int {
        guard case .integer(let id)? = body["room"]?.value else {
            throw LocalHipChat.Failure("room must be a room's id")
        }
        return id
    }

    /// The event log and "the room changed" signals, as Server-Sent Events.
    private func events() -> Response {
        EventStream.response(hipchat.log.subscribe(), retry: .seconds(1))
    }

    /// The room's calls change the room and sign tokens, so only the room page may make them:
    /// a JSON body (which another site's page cannot send without a CORS preflight, and none
    /// is answered) and, when the browser names an `Origin`, this server's own.
    private static func checkSameOrigin(_ request: Request) throws {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/json") == true else {
            throw APIError(.unsupportedMediaType, "the room's API takes Content-Type: application/json")
        }
        if let origin = request.headers[.origin] {
            let host = URLComponents(string: origin).map { ($0.host ?? "") + ($0.port.map { ":\($0)" } ?? "") }
            guard let host, !host.isEmpty, host == request.head.authority else {
                throw APIError(.forbidden, "the room's API answers the room page only")
            }
        }
    }

    private static func body(_ request: Request) async throws -> Data {
        do {
            let buffer = try await request.body.collect(upTo: maxBodyBytes)
            return Data(buffer.readableBytesView)
        } catch {
            throw APIError(.contentTooLarge, "the request body is larger than \(maxBodyBytes) bytes")
        }
    }
}
