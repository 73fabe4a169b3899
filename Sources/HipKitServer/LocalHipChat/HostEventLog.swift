import Foundation
import HipChatConnect
import Synchronization

/// Every request between the local HipChat and the add-on, in both directions, with JWT
/// claims decoded — and a wake-up for the room page whenever the room changed. The room page
/// follows both over Server-Sent Events.
final class HostEventLog: Sendable {
    struct Entry: Sendable {
        enum Direction: String, Sendable {
            /// The local HipChat called the add-on (install, glance query, webhook…).
            case toAddon = "to add-on"
            /// The add-on called the local HipChat (capabilities, token, notification…).
            case toHipChat = "to HipChat"
            /// A view the room opened in the browser, with the URL it signed.
            case view
        }

        var id: Int = 0
        var time = Date()
        var direction: Direction
        var method: String
        var url: String
        var status: Int?
        var milliseconds: Double?
        var claims: JSONNode?
        var note: String?
        var requestBody: String?
        var responseBody: String?

        var json: JSONNode {
            var object: [String: JSONNode] = [
                "id": .integer(id), "time": .string(ISO8601DateFormatter().string(from: time)),
                "direction": .string(direction.rawValue),
                "method": .string(method), "url": .string(url),
            ]
            if let status { object["status"] = .integer(status) }
            if let milliseconds { object["ms"] = .double((milliseconds * 10).rounded() / 10) }
            if let claims { object["claims"] = claims }
            if let note { object["note"] = .string(note) }
            if let requestBody { object["requestBody"] = .string(requestBody) }
            if let responseBody { object["responseBody"] = .string(responseBody) }
            return .object(object)
        }
    }

    enum Event: ServerSentEvent {
        case log(Entry)
        case changed

        /// The event on the wire (`text/event-stream`).
        var encoded: String {
            switch self {
            case .log(let entry): "event: log\ndata: \(entry.json.jsonString)\n\n"
            case .changed: "event: changed\ndata: {}\n\n"
            }
        }
    }

    private struct State {
        var entries: [Entry] = []
        var nextId = 1
        var listeners: [UUID: AsyncStream<Event>.Continuation] = [:]
    }

    /// The newest entries kept for a page opened later.
    static let capacity = 300
    private let state = Mutex(State())

    /// Bodies in the log are cut to this many characters.
    static let bodyLimit = 4000

    func record(_ entry: Entry) {
        state.withLock { state in
            var entry = entry
            entry.id = state.nextId
            state.nextId += 1
            state.entries.append(entry)
            if state.entries.count > Self.capacity { state.entries.removeFirst(state.entries.count - Self.capacity) }
            for listener in state.listeners.values { listener.yield(.log(entry)) }
        }
    }

    /// Tells the room pages to read the room again.
    func changed() {
        state.withLock { state in
            for listener in state.listeners.values { listener.yield(.changed) }
        }
    }

    var entries: [Entry] { state.withLock { $0.entries } }

    func subscribe() -> AsyncStream<Event> {
        let (stream, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(256))
        let id = UUID()
        state.withLock { $0.listeners[id] = continuation }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.listeners.removeValue(forKey: id) }
        }
        return stream
    }

    /// Ends every stream, so the server can stop.
    func finishAll() {
        state.withLock { state in
            for listener in state.listeners.values { listener.finish() }
            state.listeners = [:]
        }
    }

    /// A body for the log: text, cut to ``bodyLimit``, with `oauthSecret` values masked.
    static func loggable(_ data: Data?) -> String? {
        guard let data, !data.isEmpty else { return nil }
        var text = String(decoding: data.prefix(bodyLimit * 4), as: UTF8.self)
        text = text.replacingOccurrences(
            of: #"("oauthSecret"\s*:\s*")([^"]{0,4})[^"]*""#, with: "$1$2…\"", options: .regularExpression)
        return text.count > bodyLimit ? String(text.prefix(bodyLimit)) + "…" : text
    }

    /// `url` with the value of `signed_request` shortened: the claims are shown beside it.
    static func loggableURL(_ url: String) -> String {
        url.replacingOccurrences(
            of: #"signed_request=([A-Za-z0-9_-]{8})[A-Za-z0-9_.-]*"#, with: "signed_request=$1…",
            options: .regularExpression)
    }
}
