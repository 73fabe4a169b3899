import Foundation
import HipChatConnect

/// What `hipkit dev` tells the open pages, as Server-Sent Events on `/_hipkit/dev/events`.
enum DevEvent: ServerSentEvent {
    /// Sent first on every connection: which server process this is (a page that reconnects to
    /// a restarted `hipkit dev` reloads), the build it is serving, when the last rebuild failed
    /// its problems, so a page opened while the project is broken shows them at once, and —
    /// when the page named the build it came from — the paths changed since, so it reloads
    /// only when one is its own.
    case hello(instance: String, build: Int, problems: [DevProblem]?, changedSince: [String]?)
    /// A rebuild succeeded; `changed` lists the paths in `dist/` whose bytes changed.
    case built(build: Int, changed: [String])
    /// A rebuild failed; the previous build is still being served.
    case failed(build: Int, problems: [DevProblem])
    /// A comment line, so proxies and idle timers see traffic on a quiet stream.
    case keepAlive

    /// The event in the `text/event-stream` format.
    var encoded: String {
        switch self {
        case .hello(let instance, let build, let problems, let changed):
            return Self.frame(
                "hello", Payload(instance: instance, build: build, changed: changed, problems: problems))
        case .built(let build, let changed):
            return Self.frame("built", Payload(build: build, changed: changed))
        case .failed(let build, let problems):
            return Self.frame("failed", Payload(build: build, problems: problems))
        case .keepAlive:
            return ": keep-alive\n\n"
        }
    }

    private struct Payload: Encodable {
        var instance: String?
        var build: Int
        var changed: [String]?
        var problems: [DevProblem]?
    }

    private static func frame(_ name: String, _ payload: Payload) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // JSON never holds a raw newline, so the payload is always a single `data:` line. The id
        // is the build: a reconnecting EventSource sends it back as `Last-Event-ID`.
        let json = (try? encoder.encode(payload)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return "event: \(name)\nid: \(payload.build)\ndata: \(json)\n\n"
    }
}
