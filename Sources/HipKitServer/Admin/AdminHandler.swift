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
        let (given, installation) = try Self.scope(of: request)
        let scope = try await resolve(GlanceDataScope(installation: installation, room: given))
        let room = scope.room
        let received = try await body()
        guard received.dictionaryValue != nil else {
            throw APIError.badRequest(
                "glance data must be a JSON object with a label, not \(received.kindDescription)", field: "body")
        }
        // A misspelt field (`stauts`) was dropped with a 200, its status never shown.
        let fields = ["label", "status", "metadata"]
        if let unknown = received.members?.first(where: { !fields.contains($0.name) }) {
            let suggestion = Suggestion.hint(for: unknown.name, in: fields).map { " (\($0))" } ?? ""
            throw APIError.badRequest(
                "unknown field '\(unknown.name)' in the glance data: HipChat reads label, status and metadata\(suggestion)",
                field: unknown.name)
        }
        // A status icon's path (`/assets/ok.png`) is made a URL under the add-on's base URL:
        // HipChat loads it from its own page, and refused the path.
        let data = GlanceShortForms.resolvingIconURLs(GlanceData.normalize(received)) { url, _ in
            URLReference.isAbsolute(url) ? url : URLReference.join(url, to: snapshot.routes.baseURL)
        }
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

    /// `scope` as it is stored (a room installation's data is for its room): a 404 naming
    /// `installation` when that is not installed or is installed in another room. The store
    /// checks again as it writes.
    private func resolve(_ scope: GlanceDataScope) async throws(APIError) -> GlanceDataScope {
        guard let id = scope.installation else { return scope }
        let named: Installation?
        do { named = try await store.installation(oauthId: id) } catch {
            throw APIError(.internalServerError, "installations cannot be read")
        }
        do { return try scope.resolved(in: named.map { [$0] } ?? []) } catch {
            throw APIError(.notFound, error.description, field: "installation")
        }
    }

    /// `room=ID` and `installation=OAUTH_ID`, whom an update is for: a room (nil: every room),
    /// and one installation (nil: every installation; room ids are each HipChat's own, so with
    /// several HipChat Servers room 5 of each is another room).
    ///
    /// Strict on purpose: a parameter misspelled or badly encoded, taken as not given, would send
    /// the update to every room or every installation.
    private static func scope(of request: Request) throws(APIError) -> (room: Int?, installation: String?) {
        let query = request.uri.query
        let names = RequestPath.queryParameterNames(in: query)
        for name in names where name != "room" && name != "installation" {
            throw APIError.badRequest(
                "unknown query parameter '\(name)': this route takes room and installation", field: name)
        }
        func value(_ name: String) throws(APIError) -> String? {
            let given = names.filter { $0 == name }.count
            guard given > 0 else { return nil }
            guard given == 1 else { throw APIError.badRequest("\(name) is given \(given) times", field: name) }
            guard let value = RequestPath.queryParameter(name, in: query) else {
                throw APIError.badRequest("\(name) is not percent-encoded UTF-8", field: name)
            }
            return value
        }
        var room: Int?
        if let text = try value("room") {
            guard let id = Int(text), id > 0 else {
                throw APIError.badRequest("room must be a room id (a positive integer)", field: "room")
            }
            room = id
        }
        let installation = try value("installation")
        if installation == "" {
            throw APIError.badRequest(
                "installation must be an installation's oauthId (GET /admin/installations lists them)",
                field: "installation")
        }
        return (room, installation)
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
        let (given, installation) = try Self.scope(of: request)
        guard let room = given else {
            throw APIError.badRequest("room is missing: POST /admin/notifications?room=ID", field: "room")
        }
        // Says which it is: not installed, or installed in another room.
        _ = try await resolve(GlanceDataScope(installation: installation, room: room))
        let notification = try NotificationBody.checked(try await body())
        let queued = try await notifications.queue(notification, room: room, through: installation)
        guard queued.pushes > 0 else {
            if let installation, queued.unverified == [installation] {
                throw APIError(
                    .conflict, "installation '\(installation)' was stored without verification (no API URL)",
                    field: "installation")
            }
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
