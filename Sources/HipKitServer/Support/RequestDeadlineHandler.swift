import NIOCore
import NIOHTTP1

/// Closes a connection whose request does not arrive in time, or that falls silent.
///
/// The idle timeout closes a connection only after a silence; a client that sends one byte of
/// headers or body every few seconds (slowloris) is never silent, and could hold connections
/// for ever. So each request gets a deadline: its head must be complete within `deadline` of
/// the connection opening (or of the previous answer, on a kept-alive connection), and its body
/// within `deadline` of the head. The head is only decoded once every header line is in, so the
/// first deadline covers headers trickled in too. Between requests, and while a body comes in,
/// a silence of `idleTimeout` (no request part decoded) closes the connection as well. Answers
/// take as long as they take: a live stream (Server-Sent Events) is not cut off.
///
/// The handler that reads NIO's request parts keeps one of these per connection and tells it
/// what happens: ``RequestDeadlineHandler``, or ``EventLoopAnswers`` where that handler answers
/// requests itself (one handler fewer for each request to pass). Either sits right after NIO's
/// request decoder, so it sees every request; Hummingbird's own idle timeout, above, would not
/// see those answered on the event loop, so it is left off.
final class RequestDeadlines {
    private let deadline: TimeAmount
    private let idleTimeout: TimeAmount?
    /// When the request being read must be complete; nil between requests.
    private var bodyDue: NIODeadline?
    /// When the connection is closed if nothing more comes in; nil while an answer is being made.
    private var expiry: NIODeadline?
    /// The one check pending on the event loop, if any.
    ///
    /// One per connection, not one per deadline: scheduling and cancelling a task twice per
    /// request was 2% of a JWT-checked glance query. Moving the deadline only moves `expiry`;
    /// the check, when it comes, closes the connection if the deadline has passed, and
    /// otherwise waits for the new one.
    private var check: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(deadline: TimeAmount, idleTimeout: TimeAmount?) {
        self.deadline = deadline
        self.idleTimeout = idleTimeout
    }

    /// The connection is open (the handler's `context`, which closes it when time is up).
    func start(_ context: ChannelHandlerContext) {
        self.context = context
        answered()
    }

    func stop() {
        check?.cancel()
        check = nil
        expiry = nil
        bodyDue = nil
        context = nil
    }

    /// A request's head is in: now its body's time runs.
    func headRead() {
        let due = NIODeadline.now() + deadline
        bodyDue = due
        arm(at: due)
    }

    func bodyRead() {
        if let bodyDue { arm(at: bodyDue) }
    }

    /// The request is in; the answer may take its time.
    func requestRead() {
        bodyDue = nil
        expiry = nil
    }

    /// An answer is out: the next request's head is due within the deadline, or the idle
    /// timeout if shorter.
    func answered() {
        bodyDue = nil
        arm(at: NIODeadline.now() + deadline)
    }

    /// Expires at `due`, or after the idle timeout if that comes first.
    private func arm(at due: NIODeadline) {
        var at = due
        if let idleTimeout { at = min(at, .now() + idleTimeout) }
        expiry = at
        if check == nil, let context { scheduleCheck(context, at: at) }
    }

    private func scheduleCheck(_ context: ChannelHandlerContext, at: NIODeadline) {
        let bound = NIOLoopBound((deadlines: self, context: context), eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleTask(deadline: at) {
            let (deadlines, context) = bound.value
            deadlines.check = nil
            guard let expiry = deadlines.expiry else { return }  // not waiting; the next arm schedules
            if expiry <= .now() {
                context.close(promise: nil)
            } else {
                deadlines.scheduleCheck(context, at: expiry)
            }
        }
    }
}

/// A handler that keeps a connection's ``RequestDeadlines``: they start when the connection is
/// open (or the handler is added to an open one) and stop when it closes.
protocol KeepsRequestDeadlines: ChannelInboundHandler {
    var deadlines: RequestDeadlines { get }
}

extension KeepsRequestDeadlines {
    func channelActive(context: ChannelHandlerContext) {
        deadlines.start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadlines.stop()
        context.fireChannelInactive()
    }

    /// For `handlerAdded(context:)`.
    func startDeadlinesIfOpen(_ context: ChannelHandlerContext) {
        if context.channel.isActive { deadlines.start(context) }
    }
}

/// ``RequestDeadlines`` as a handler of its own, where no ``EventLoopAnswers`` keeps them.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler, KeepsRequestDeadlines {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let deadlines: RequestDeadlines

    init(deadline: TimeAmount, idleTimeout: TimeAmount? = nil) {
        deadlines = RequestDeadlines(deadline: deadline, idleTimeout: idleTimeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        startDeadlinesIfOpen(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadlines.stop()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: deadlines.headRead()
        case .body: deadlines.bodyRead()
        case .end: deadlines.requestRead()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { deadlines.answered() }
        context.write(data, promise: promise)
    }
}
