import HipChatConnect
import Hummingbird
import NIOCore
import ServiceLifecycle

/// An event that can travel in a `text/event-stream`.
protocol ServerSentEvent: Sendable {
    /// The event on the wire: `event:` and `data:` lines and the blank line that ends it.
    var encoded: String { get }
}

/// A `text/event-stream` answer (hipkit dev's reload events, the local HipChat's room events):
/// written event by event as they come, ended when the stream ends or the server shuts down,
/// so an open page never keeps the server from stopping.
enum EventStream {
    /// `retry` tells the browser how soon to reconnect after the stream drops (it waits 3 s
    /// by default).
    static func response<Event: ServerSentEvent>(_ events: AsyncStream<Event>, retry: Duration) -> Response {
        let milliseconds = Int(retry.inMilliseconds)
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store",
                .xContentTypeOptions: "nosniff",
            ],
            body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "retry: \(milliseconds)\n\n"))
                for await event in events.cancelOnGracefulShutdown() {
                    try await writer.write(ByteBuffer(string: event.encoded))
                }
                try await writer.finish(nil)
            })
    }
}
