import Foundation
import HipChatConnect
import Hummingbird
import Logging

/// `POST /_hipkit/notifications`: a notification from one of the add-on's own views, so that a
/// view's button can tell the room something without a back end of the user's.
///
/// Off unless the spec says `viewNotifications: true` (403). The request carries the view's JWT
/// (`Authorization: JWT …`, from `HipChat.auth.withToken`); the notification goes to the room the
/// token names, through the token's installation only — a request naming another room is
/// refused — checked like the admin API's, at most ``RuntimeManifest/ViewNotifications/perMinute``
/// per installation (429 with `Retry-After`), and queued in the push outbox.
struct ViewNotificationHandler: Sendable {
    let verifier: JWTVerifier
    let notifications: NotificationQueue
    let limiter: RateLimiter

    func handle(
        _ config: RuntimeManifest.ViewNotifications?, request: Request,
        body: () async throws(APIError) -> JSONNode
    ) async throws(APIError) -> Response {
        guard request.method == .post else {
            throw APIError(.methodNotAllowed, "views POST their notifications here", headers: [.allow: "POST"])
        }
        guard let config else {
            throw APIError(
                .forbidden,
                "this add-on does not let its views send notifications; addon.yaml turns it on with "
                    + "viewNotifications: true")
        }
        let token = try await verifier.verify(request)
        guard let room = token.roomId else {
            throw APIError(.forbidden, "the token names no room; a view opened in a room has one", field: "room")
        }
        if let asked = RequestPath.queryParameter("room", in: request.uri.query), asked != String(room) {
            throw APIError(
                .forbidden, "the token is for room \(room); a view sends only to its own room", field: "room")
        }
        let notification = try NotificationBody.checked(try await body())
        let oauthId = token.installation.oauthId
        if let wait = limiter.take(oauthId, perMinute: config.perMinute) {
            let seconds = max(1, Int((wait / .seconds(1)).rounded(.up)))
            throw APIError(
                .tooManyRequests,
                "at most \(config.perMinute) notifications a minute from this installation's views; "
                    + "try again in \(seconds) s", headers: [.retryAfter: String(seconds)])
        }
        let queued = try await notifications.queue(notification, room: room, through: oauthId)
        guard queued.pushes > 0 else {
            throw APIError(
                .conflict,
                "this installation was stored without verification (no HipChat API to send to); nothing was queued")
        }
        return JSONResponse.make(.object(["room": .integer(room), "deliveries": .integer(1)]), status: .accepted)
    }
}
