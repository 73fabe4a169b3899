import Foundation
import HipChatConnect
import HipKit
import Hummingbird
import Logging

/// The owner's API, behind `Authorization: Bearer ADMIN_TOKEN`: post glance data, send a
/// notification to a room, list installations. Without a configured token these routes do not
/// exist (404).
struct AdminHandler: Sendable {
    let token: String
    let store: any InstallationStore
    let pusher: PushOutboxService
    let logger: Logger

    private var notifications: NotificationQueue { NotificationQueue(store: store, pusher: pusher, logger: logger) }

    /// Whether `path` is one of the admin routes.
    static func claims(_ path: String) -> Bool {
        path == "/admin/installations" || path == "/admin/notifications"
            || (path.hasPrefix("/admin/glances/") && path.count > "/admin/glances/".count)
    }

    func handle(path: String, request: Request, snapshot: SiteSnapshot, body: () async throws(APIError) -> JSONNode)
        async throws(APIError) -> Response
    {
        try authorize(request)
        if path == "/admin/installations" {
            guard request.method == .get || request.method == .head else {
                throw APIError(.methodNotAllowed, "GET lists installations", headers: [.allow: "GET, HEAD"])
            }
            let all: [Installation]
            do { all = try await store.installations() } catch {
                throw APIError(.internalServerError, "installations cannot be read")
            }
            return JSONResponse.make(.object(["installations": .array(all.map(\.summary))]))
        }
        if path == "/admin/notifications" {
            return try await notify(request: request, body: body)
        }
        let key = String(path.dropFirst("/admin/glances/".count))
        guard request.method == .post || request.method == .put else {
            throw APIError(.methodNotAllowed, "POST glance data here", headers: [.allow: "POST, PUT"])
        }
        guard snapshot.glancesByKey[key] != nil else {
            throw APIError(.notFound, "this add-on has no glance '\(key)'", field: "key")
        }
        var room: Int?
        if let text = RequestPath.queryParameter("room", in: request.uri.query) {
            guard let id = Int(text), id > 0 else {
                throw APIError.badRequest("room must be a room id (a positive integer)", field: "room")
            }
            room = id
        }
        let installation = try Self.installation(in: request)
        let received = try await body()
        guard received.dictionaryValue != nil else {
            throw APIError.badRequest(
                "glance data must be a JSON object with a label, not \(received.kindDescription)", field: "body")
        }
        let data = GlanceData.normalize(received)
        try GlanceData.validate(data)
        let update: QueuedPushes
        do {
            update = try await store.putGlanceData(data, key: key, room: room, installation: installation)
        } catch let error as GlanceScopeError {
            throw APIError(.notFound, error.description, field: "installation")
        } catch {
            logger.error(
                "cannot store glance data", metadata: [ModuleKind.glance.rawValue: "\(key)", "error": "\(error)"])
            throw APIError(.internalServerError, "the glance data cannot be stored")
        }
        if update.pushes > 0 { pusher.wake() }
        let unpushable = update.unverified
        if !unpushable.isEmpty {
            logger.warning(
                "glance data not pushed to installations stored without verification (no API URL)",
                metadata: [
                    ModuleKind.glance.rawValue: "\(key)", "installations": "\(unpushable.joined(separator: ","))",
                ])
        }
        logger.info(
            "glance data stored",
            metadata: [
                ModuleKind.glance.rawValue: "\(key)", "room": "\(room.map(String.init) ?? "-")",
                "installation": "\(installation ?? "-")", "pushes": "\(update.pushes)",
            ])
        return JSONResponse.make(
            .object([
                ModuleKind.glance.rawValue: .string(key),
                "room": room.map { JSONNode.integer($0) } ?? .null,
                "installation": installation.map { JSONNode.string($0) } ?? .null,
                "data": data,
                "pushes": .integer(update.pushes),
            ]))
    }

    /// `installation=OAUTH_ID`: the one installation an update is for (room ids are per HipChat:
    /// with several HipChat Servers, room 5 of each is another room). Nil when not given.
    private static func installation(in request: Request) throws(APIError) -> String? {
        guard let id = RequestPath.queryParameter("installation", in: request.uri.query) else { return nil }
        guard !id.isEmpty else {
            throw APIError.badRequest(
                "installation must be an installation's oauthId (GET /admin/installations lists them)",
                field: "installation")
        }
        return id
    }

    /// `POST /admin/notifications?room=ID[&installation=OAUTH_ID]`: HipChat's own notification
    /// body (message, message_format, color, notify, card), checked by the rules `hipkit build`
    /// applies to canned webhook replies, then queued in the store's outbox for every
    /// installation covering the room, or the one named: 202 once it is there, whatever happens
    /// to this server after.
    private func notify(request: Request, body: () async throws(APIError) -> JSONNode) async throws(APIError)
        -> Response
    {
        guard request.method == .post else {
            throw APIError(.methodNotAllowed, "POST a notification here", headers: [.allow: "POST"])
        }
        guard let text = RequestPath.queryParameter("room", in: request.uri.query) else {
            throw APIError.badRequest("room is missing: POST /admin/notifications?room=ID", field: "room")
        }
        guard let room = Int(text), room > 0 else {
            throw APIError.badRequest("room must be a room id (a positive integer)", field: "room")
        }
        let installation = try Self.installation(in: request)
        let notification = try NotificationBody.checked(try await body())
        let queued = try await notifications.queue(notification, room: room, through: installation)
        guard queued.pushes > 0 else {
            if !queued.unverified.isEmpty {
                throw APIError(
                    .conflict,
                    "the installations covering room \(room) were stored without verification (no API URL): "
                        + queued.unverified.joined(separator: ", "), field: "room")
            }
            if let installation {
                throw APIError(
                    .notFound,
                    "installation '\(installation)' does not cover room \(room), or is not installed; nothing was queued",
                    field: "installation")
            }
            throw APIError(.notFound, "no installation covers room \(room); nothing was queued", field: "room")
        }
        return JSONResponse.make(
            .object([
                "room": .integer(room), "deliveries": .integer(queued.pushes),
                "unverified": .array(queued.unverified.map { .string($0) }),
            ]), status: .accepted)
    }

    private func authorize(_ request: Request) throws(APIError) {
        let challenge: HTTPFields = [.wwwAuthenticate: "Bearer realm=\"hipkit admin\""]
        guard let header = request.headers[.authorization] else {
            throw APIError(.unauthorized, "the admin API needs Authorization: Bearer TOKEN", headers: challenge)
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].caseInsensitiveCompare("Bearer") == .orderedSame,
            ConstantTime.equals(String(parts[1]).trimmingCharacters(in: .whitespaces), token)
        else {
            throw APIError(.unauthorized, "the admin token is not right", headers: challenge)
        }
    }
}
