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
    private var timer: Scheduled<Void>?

    init(deadline: TimeAmount) {
        self.deadline = deadline
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: arm(context)  // now the body's time runs
        case .body: break
        case .end: disarm()  // the request is in; the answer may take its time
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { arm(context) }  // the next request's head, on a kept-alive connection
        context.write(data, promise: promise)
    }

    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: deadline) {
            bound.value.close(promise: nil)
        }
    }

    private func disarm() {
        timer?.cancel()
        timer = nil
    }
}
