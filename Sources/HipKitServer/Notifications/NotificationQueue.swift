import HipChatConnect
import Logging

/// The one way a notification leaves `hipkit serve`: queued in the store's push outbox (one
/// delivery per installation covering the room), then the pusher woken to send it. The admin
/// API and the views' endpoint each check their caller and the body, then hand it here.
struct NotificationQueue: Sendable {
    let store: any InstallationStore
    let pusher: PushOutboxService
    let logger: Logger

    /// Queues `notification` (already checked, ``NotificationBody/checked(_:)``) for `room`,
    /// through installation `oauthId` only when one is named. Answers what was queued — possibly
    /// nothing, which each caller explains in its own terms; a store that fails is a 500.
    func queue(_ notification: JSONNode, room: Int, through oauthId: String? = nil) async throws(APIError)
        -> QueuedPushes
    {
        let queued: QueuedPushes
        do {
            queued = try await store.queueNotification(notification, room: room, through: oauthId)
        } catch {
            logger.error("cannot queue a notification", metadata: ["room": "\(room)", "error": "\(error)"])
            throw APIError(.internalServerError, "the notification cannot be queued")
        }
        if queued.pushes > 0 {
            pusher.wake()
            var metadata: Logger.Metadata = ["room": "\(room)", "deliveries": "\(queued.pushes)"]
            if let oauthId { metadata["oauthId"] = "\(oauthId)" }
            logger.info("notification queued", metadata: metadata)
        }
        return queued
    }
}
