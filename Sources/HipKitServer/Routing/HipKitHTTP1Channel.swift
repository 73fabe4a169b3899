import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1.1 channel, with ``EventLoopAnswers`` right after NIO's request decoder
/// when files are answered on the event loop, else a ``RequestDeadlineHandler`` there.
///
/// Hummingbird's `HTTP1Channel` pairs NIO's decoder and encoder, and puts its handlers above
/// Swift HTTP Types' codec, where an answer written below could not be seen: so the pipeline is
/// set up here. Without ``EventLoopAnswers`` (under `hipkit dev`, where pages carry the reload
/// script, and with the local HipChat) it is Hummingbird's, with the deadline below the codec.
struct HipKitHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let requestTimeout: TimeAmount
    let idleTimeout: TimeAmount?
    /// Set when files and kept glance queries are answered on the event loop.
    let eventLoopResponder: ServerResponder?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            if let eventLoopResponder {
                try pipeline.addHandler(HTTPResponseEncoder())
                try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                try pipeline.addHandler(
                    EventLoopAnswers(
                        responder: eventLoopResponder, requestTimeout: requestTimeout, idleTimeout: idleTimeout))
            } else {
                try pipeline.configureHTTPServerPipeline(
                    withPipeliningAssistance: false,  // HTTP is pipelined by NIOAsyncChannel
                    withErrorHandling: false,  // Hummingbird answers errors
                    withOutboundHeaderValidation: false)  // Swift HTTP Types validate the fields
                try pipeline.addHandler(RequestDeadlineHandler(deadline: requestTimeout, idleTimeout: idleTimeout))
            }
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            // No idle timeout here: this handler does not see the requests answered below it.
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(
                wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }
}
