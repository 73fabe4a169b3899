import HipChatConnect
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request does not arrive in time.
///
/// The idle timeout closes a connection only after a silence; a client that sends one byte of
/// headers or body every few seconds (slowloris) is never silent, and could hold connections
/// for ever. So each request gets a deadline: its head must be complete within `deadline` of
/// the connection opening (or of the previous answer, on a kept-alive connection), and its body
/// within `deadline` of the head. The head is only decoded once every header line is in, so the
/// first deadline covers headers trickled in too. Answers take as long as they take: a live
/// stream (Server-Sent Events) is not cut off.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let deadline: TimeAmount
    /// When the request being waited for must be in; nil while none is (an answer is being made).
    private var expiry: NIODeadline?
    /// The one check pending on the event loop, if any.
    ///
    /// One per connection, not one per deadline: scheduling and cancelling a task twice per
    /// request was 2% of a JWT-checked glance query. Moving the deadline only moves `expiry`;
    /// the check, when it comes, closes the connection if the deadline has passed, and
    /// otherwise waits for the new one.
    private var check: Scheduled<Void>?

    init(deadline: TimeAmount) {
        self.deadline = deadline
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: arm(context)  // now the body's time runs
        case .body: break
        case .end: expiry = nil  // the request is in; the answer may take its time
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { arm(context) }  // the next request's head, on a kept-alive connection
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext) {
        let at = NIODeadline.now() + deadline
        expiry = at
        if check == nil { scheduleCheck(context, at: at) }
    }

    private func scheduleCheck(_ context: ChannelHandlerContext, at: NIODeadline) {
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleTask(deadline: at) {
            let (handler, context) = bound.value
            handler.check = nil
            guard let expiry = handler.expiry else { return }  // not waiting; the next arm schedules
            if expiry <= .now() {
                context.close(promise: nil)
            } else {
                handler.scheduleCheck(context, at: expiry)
            }
        }
    }

    private func stop() {
        check?.cancel()
        check = nil
        expiry = nil
    }
}
