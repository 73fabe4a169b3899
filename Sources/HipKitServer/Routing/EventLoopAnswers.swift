import Foundation
import HipChatConnect
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// Answers GET and HEAD for the build's files held in memory, and glance queries whose token,
/// installation and data are all held in memory, right on the connection's event loop; passes
/// every other request on to Hummingbird's responder (``ServerResponder``).
///
/// Through Hummingbird, each answer goes from the event loop to a task on Swift's concurrency
/// pool and back: the request through an async sequence, the answer through an async writer.
/// For a file already in memory that hop was most of the cost: answered here, a 5 KB page
/// went from 59k to 84k–107k requests a second (`wrk -t2 -c32`, two cores). What to answer
/// is decided by the same code as Hummingbird's path — ``ServerResponder/resolve(method:path:query:in:)``,
/// ``StaticResponder/answer(_:to:cacheControl:extraHeaders:)``, and for glances
/// ``GlanceQueryHandler/keptAnswer(_:to:query:)`` with the verifier's and the store's own
/// memory — so only who writes it differs.
///
/// Passed on instead: every method but GET and HEAD, requests with a body, views that need
/// HipChat's token, files read from disk, a glance query that needs a read of the store or a
/// signature check (a token not seen before) or is refused, anything while the connection cannot take more
/// output (Hummingbird's writer waits for it to drain; this handler would not), and the request
/// that finds `dist/` due a look for a new build (the event loop never waits for a disk).
///
/// The log line of an answer made here is written here, as the responder writes its own: a
/// standard error that cannot take it (a stalled reader) holds this event loop, as it holds
/// the concurrency pool's threads for the responder's answers.
///
/// HTTP/1.1 answers leave in the order their requests came in. While a request passed on is
/// unanswered, the requests after it are passed on too, so an answer made here never overtakes
/// one Hummingbird is still making.
final class EventLoopAnswers: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        /// Between requests, or reading one that was passed on.
        case passing
        /// Reading a request answered here; the answer goes out when its end is in.
        case answering(Pending)
        /// An answer made here closed the connection: what the client sent after is ignored,
        /// as RFC 9112 says.
        case closed
    }

    private struct Pending {
        var answer: PreparedAnswer
        var method: HTTPRequest.Method
        var path: String
        var start: ContinuousClock.Instant
        var closeAfter: Bool
    }

    private let responder: ServerResponder
    private let serverName: String?
    private var state = State.passing
    /// Requests passed on to Hummingbird whose answer has not been written in full.
    private var unanswered = 0
    /// A request passed on asked to close the connection: every request after it is passed on
    /// too, so none is answered here while Hummingbird closes (or, for a `Connection` value
    /// other than exactly `close`, answers it).
    private var passedOnClose = false
    private var date = DateField()

    init(responder: ServerResponder, serverName: String?) {
        self.responder = responder
        self.serverName = serverName
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .closed = state { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if unanswered == 0, !passedOnClose, context.channel.isWritable, let pending = answer(head) {
                state = .answering(pending)
                return
            }
            unanswered += 1
            if let connection = head.headerFields[.connection], Self.saysClose(connection) { passedOnClose = true }
            state = .passing
            context.fireChannelRead(data)
        case .body:
            // Only requests without a body are answered here; a body part is always passed on.
            guard case .passing = state else { return }
            context.fireChannelRead(data)
        case .end:
            guard case .answering(let pending) = state else {
                context.fireChannelRead(data)
                return
            }
            state = pending.closeAfter ? .closed : .passing
            write(pending, context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only Hummingbird's answers pass through here: this handler writes its own from its
        // context, which starts below it.
        if case .end = unwrapOutboundIn(data), unanswered > 0 { unanswered -= 1 }
        context.write(data, promise: promise)
    }

    /// The answer to `head` when this handler gives it, else nil.
    private func answer(_ head: HTTPRequest) -> Pending? {
        guard head.method == .get || head.method == .head, let target = head.path else { return nil }
        let fields = head.headerFields
        if fields[.transferEncoding] != nil { return nil }
        if let length = fields[.contentLength], length != "0" { return nil }
        // When `dist/` is due a look, the responder takes the request and makes it.
        guard let build = responder.site.currentWithoutLooking() else { return nil }
        let uri = URI(target)
        guard let path = RequestPath.decode(uri.path) else { return nil }
        let answer: PreparedAnswer?
        switch responder.resolve(method: head.method, path: path, query: uri.query, in: build) {
        case .file(let route) where !route.tokenRequired && route.file.isInMemory:
            answer = try? StaticResponder.answer(
                route.file, to: head, cacheControl: route.cacheControl, extraHeaders: route.extraHeaders)
        case .glance(let glance):
            answer = responder.glances.keptAnswer(glance, to: head, query: uri.query)
        default:
            answer = nil
        }
        guard let answer else { return nil }
        return Pending(
            answer: answer, method: head.method, path: uri.path, start: .now,
            closeAfter: fields[.connection].map(Self.saysClose) ?? false)
    }

    private func write(_ pending: Pending, context: ChannelHandlerContext) {
        var headers = pending.answer.headers
        headers[.date] = date.now()
        if let serverName { headers[.server] = serverName }
        context.write(
            wrapOutboundOut(.head(HTTPResponse(status: pending.answer.status, headerFields: headers))), promise: nil)
        if case .bytes(let body) = pending.answer.body {
            context.write(wrapOutboundOut(.body(body)), promise: nil)
        }
        if pending.closeAfter {
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        responder.answeredOnEventLoop.add(1, ordering: .relaxed)
        responder.log(
            method: pending.method, path: pending.path, status: pending.answer.status, start: pending.start,
            failure: nil)
    }

    /// Whether a `Connection` header lists `close`.
    static func saysClose(_ value: String) -> Bool {
        value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "close" }
    }
}

/// The `Date` header's value, made again only when the second changes.
private struct DateField {
    private var second = 0
    private var text = ""

    mutating func now() -> String {
        let current = time(nil)
        if current != second {
            second = current
            text = HTTPDate.string(Date(timeIntervalSince1970: TimeInterval(current)))
        }
        return text
    }
}

/// Hummingbird's HTTP/1.1 channel with ``EventLoopAnswers`` placed last before the responder,
/// after Hummingbird's connection state handler, so that handler counts the answers given
/// here (its idle timeout and graceful shutdown rely on the count).
struct EventLoopAnsweringHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let serverResponder: ServerResponder
    let serverName: String?

    var responder: HTTPChannelHandler.Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { [serverResponder, serverName] value in
            let pipeline = channel.pipeline.syncOperations
            let state = try pipeline.handler(type: HTTPConnectionStateHandler.self)
            try pipeline.addHandler(
                EventLoopAnswers(responder: serverResponder, serverName: serverName), position: .after(state))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
