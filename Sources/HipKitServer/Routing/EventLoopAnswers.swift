import Foundation
import HipChatConnect
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Answers GET and HEAD for the build's files held in memory, and glance queries whose token,
/// installation and data are all held in memory, right on the connection's event loop, as
/// bytes written to the socket; passes every other request on to Hummingbird's responder
/// (``ServerResponder``).
///
/// Through Hummingbird, each answer goes from the event loop to a task on Swift's concurrency
/// pool and back: the request through an async sequence, the answer through an async writer.
/// For a file already in memory that hop was most of the cost. Answered on the event loop but
/// still through the HTTP codecs, a 5 KB page cost 89k instructions a request, of which 45k
/// went to turning the answer into bytes (Swift HTTP Types' fields to NIO's, then NIO's
/// encoder) and most of the rest to turning the request into Swift HTTP Types and handing it
/// through three handlers. So this handler sits right after NIO's request decoder, keeps the
/// connection's ``RequestDeadlines``, reads NIO's request head, and writes a file's head made
/// once with the build (``StaticFile/wireHeads``) and its bytes from the response encoder's
/// context, past the encoder. What to answer is decided by the responder's own code —
/// ``ServerResponder/resolve(method:path:query:in:)``; for a conditional or ranged request or
/// a view, ``StaticResponder/answer(_:to:cacheControl:extraHeaders:)`` on the request turned
/// into Swift HTTP Types; for a glance query, ``GlanceQueryHandler/keptBody(_:token:)`` — and
/// the heads are written by ``HTTP1Head``, so only who writes the answer differs.
///
/// Files larger than what is held in memory are answered here too, sent from the file
/// (``send(_:root:size:pending:context:)``).
///
/// Passed on instead: every method but GET and HEAD, requests with a body, requests other than
/// HTTP/1.1 (a 1.0 client needs its keep-alive answered in kind), views that need HipChat's
/// token, a glance query that needs a read of the store or a signature check (a token not
/// seen before) or is refused, anything while the connection cannot take more output
/// (Hummingbird's writer waits for it to drain; this handler would not), the request that
/// finds `dist/` due a look for a new build (the walk through `dist/` is not made on the event
/// loop), and everything once the server is shutting down.
///
/// HTTP/1.1 answers leave in the order their requests came in. While a request passed on is
/// unanswered, the requests after it are passed on too, so an answer made here never overtakes
/// one Hummingbird is still making.
///
/// NIO's request decoder and response encoder are not paired here (see ``HipKitHTTP1Channel``):
/// paired, the encoder would expect an answer from itself for every request decoded. What the
/// pairing does — no body in an answer to HEAD — this handler does for the answers it passes
/// down: their heads are written here too, framed as NIO frames them, and nothing after.
///
/// The log line of an answer made here is written here, as the responder writes its own: a
/// standard error that cannot take it (a stalled reader) holds this event loop, as it holds
/// the concurrency pool's threads for the responder's answers.
final class EventLoopAnswers: ChannelDuplexHandler, RemovableChannelHandler, KeepsRequestDeadlines {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Between requests, or reading one that was passed on.
        case passing
        /// Reading a request answered here; the answer goes out when its end is in.
        case answering(Pending)
        /// A file read from disk is being opened, off the event loop, then sent: what the client
        /// sends meanwhile waits (``held``), and no more is read.
        case sending(closeAfter: Bool)
        /// An answer made here closed the connection: what the client sent after is ignored,
        /// as RFC 9112 says.
        case closed
    }

    /// What goes on the wire for a request answered here.
    private enum Wire {
        /// A file's prepared head (all but the `Date` line) and its bytes (none for HEAD).
        case file(head: ByteBuffer, body: ByteBuffer?)
        /// A glance query's data (``GlanceQueryHandler/keptBody(_:token:)``).
        case glance(body: ByteBuffer, isHead: Bool)
        /// Headers, or a whole answer with no body or one in memory.
        case prepared(PreparedAnswer)
        /// An answer whose body is a file on disk (``PreparedAnswer/Body/disk(path:range:)``), sent
        /// with `sendfile` from the file: no copy of it on the heap. `root` and `size` are
        /// what it is checked against when opened.
        case disk(PreparedAnswer, root: String, size: Int)
    }

    private struct Pending {
        var wire: Wire
        var status: HTTPResponse.Status
        var method: HTTPRequest.Method
        var uri: String
        var start: ContinuousClock.Instant
        var closeAfter: Bool
        /// For a refusal: a browser asking for HTML gets a page (``ServerResponder/wantsHTML(_:)``).
        var wantsHTML = false
    }

    private let responder: ServerResponder
    private var state = State.passing
    /// Requests passed on to Hummingbird whose answer has not been written in full.
    private var unanswered = 0
    /// For each request passed on and not yet answered, in order: whether it is a HEAD.
    private var passedOnHeads: [Bool] = []
    /// The answer going down now answers a HEAD: its head was written here, its body is dropped.
    private var writingHeadAnswer = false
    /// A request passed on asked to close the connection: every request after it is passed on
    /// too, so none is answered here while Hummingbird closes.
    private var passedOnClose = false
    /// The server is shutting down: Hummingbird's connection handler closes the connection once
    /// what it was passed is answered, so nothing more is answered here.
    private var quiescing = false
    /// Whether anything was passed on since the last read ended (``channelReadComplete(context:)``).
    private var passedOnSinceReadComplete = false
    /// What came in while a file was being sent, in order; read again once it is out.
    private var held: [HTTPServerRequestPart] = []
    /// A read asked for while a file was being sent, made once it is out.
    private var readHeld = false
    private var date = DateLine()
    /// The response encoder's context: answers made here are written from it, so they reach the
    /// socket as they are.
    private var socketSide: ChannelHandlerContext?
    /// Kept here rather than by a ``RequestDeadlineHandler`` of their own: one handler fewer
    /// for every request to pass through.
    let deadlines: RequestDeadlines

    init(responder: ServerResponder, requestTimeout: TimeAmount, idleTimeout: TimeAmount?) {
        self.responder = responder
        deadlines = RequestDeadlines(deadline: requestTimeout, idleTimeout: idleTimeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        socketSide = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
        startDeadlinesIfOpen(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        socketSide = nil
        deadlines.stop()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .closed: return
        case .sending:
            held.append(unwrapInboundIn(data))
            return
        case .passing, .answering: break
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            deadlines.headRead()
            if unanswered == 0, !passedOnClose, !quiescing, socketSide != nil, context.channel.isWritable,
                let pending = answer(head)
            {
                state = .answering(pending)
                return
            }
            unanswered += 1
            passedOnHeads.append(head.method == .HEAD)
            if !head.isKeepAlive { passedOnClose = true }
            state = .passing
            passedOnSinceReadComplete = true
            context.fireChannelRead(data)
        case .body:
            deadlines.bodyRead()
            // Only requests without a body are answered here; a body part is always passed on.
            guard case .passing = state else { return }
            passedOnSinceReadComplete = true
            context.fireChannelRead(data)
        case .end:
            deadlines.requestRead()
            guard case .answering(let pending) = state else {
                passedOnSinceReadComplete = true
                context.fireChannelRead(data)
                return
            }
            if case .disk(let answer, let root, let size) = pending.wire {
                state = .sending(closeAfter: pending.closeAfter)
                send(answer, root: root, size: size, pending: pending, context: context)
                return
            }
            state = pending.closeAfter ? .closed : .passing
            write(pending, context: context)
        }
    }

    func read(context: ChannelHandlerContext) {
        if case .sending = state {
            readHeld = true
            return
        }
        context.read()
    }

    /// Only after a read that passed something on: above, Hummingbird's async channel hands what
    /// it was passed to its reader then, and the handlers between do nothing with it. A read
    /// answered here in full ends here (a tenth of a small file's answer went to passing it up).
    func channelReadComplete(context: ChannelHandlerContext) {
        guard passedOnSinceReadComplete else { return }
        passedOnSinceReadComplete = false
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
            // Hummingbird's handler, which never saw the request being read here, would close
            // at once; the answer goes out first, and closes.
            switch state {
            case .answering(var pending):
                pending.closeAfter = true
                state = .answering(pending)
                return
            case .sending:
                state = .sending(closeAfter: true)
                return
            case .passing, .closed: break
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head):
            // A 1xx other than 101 comes before the answer proper.
            let informational = head.status.code < 200 && head.status.code != 101
            if !informational, !passedOnHeads.isEmpty, passedOnHeads.removeFirst(), let socketSide {
                writingHeadAnswer = true
                var bytes = Self.head(head)
                bytes.writeStaticString("\r\n")
                socketSide.write(NIOAny(IOData.byteBuffer(bytes)), promise: promise)
                return
            }
        case .body:
            if writingHeadAnswer {
                promise?.succeed(())
                return
            }
        case .end:
            if unanswered > 0 { unanswered -= 1 }
            deadlines.answered()
            if writingHeadAnswer {
                writingHeadAnswer = false
                promise?.succeed(())
                return
            }
        }
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        context.flush()
        socketSide?.flush()
    }

    /// The answer to `head` when this handler gives it, else nil.
    private func answer(_ head: HTTPRequestHead) -> Pending? {
        guard head.method == .GET || head.method == .HEAD, head.version == .http1_1 else { return nil }
        let fields = head.headers
        if fields.contains(name: "transfer-encoding") { return nil }
        if let length = fields.first(name: "content-length"), length != "0" { return nil }
        // Only the origin form (`/path?query`).
        let uri = head.uri
        guard uri.utf8.first == UInt8(ascii: "/") else { return nil }
        // When `dist/` is due a look, the responder takes the request and makes it.
        guard let build = responder.site.currentWithoutLooking() else { return nil }
        let question = uri.utf8.firstIndex(of: UInt8(ascii: "?"))
        let query = question.map { String(uri[uri.index(after: $0)...]) }
        guard let path = RequestPath.decode(question.map { String(uri[..<$0]) } ?? uri) else { return nil }
        let method: HTTPRequest.Method = head.method == .GET ? .get : .head

        let wire: Wire
        let status: HTTPResponse.Status
        switch responder.resolve(method: method, path: path, query: query, in: build) {
        case .file(let route) where !route.tokenRequired:
            if route.cacheControl == nil, route.extraHeaders.isEmpty, let heads = route.file.wireHeads,
                case .memory(let bytes, let gzip) = route.file.storage, Self.isPlain(fields)
            {
                // The common case: the file as it is, with no header to add.
                let compressed = gzip != nil && StaticResponder.acceptsGzip(fields.first(name: "accept-encoding"))
                let body = compressed ? gzip : bytes
                wire = .file(
                    head: compressed ? heads.gzip! : heads.identity, body: method == .head ? nil : body)
                status = .ok
            } else {
                guard let request = try? HTTPRequest(head, secure: false, splitCookie: false),
                    let answer = try? StaticResponder.answer(
                        route.file, to: request, cacheControl: route.cacheControl, extraHeaders: route.extraHeaders)
                else { return nil }
                if case .disk = answer.body {
                    wire = .disk(answer, root: route.root, size: route.file.size)
                } else {
                    wire = .prepared(answer)
                }
                status = answer.status
            }
        case .glance(let glance):
            guard
                let token = JWTVerifier.token(authorization: fields.first(name: "authorization"), query: query),
                let body = responder.glances.keptBody(glance, token: token)
            else { return nil }
            wire = .glance(body: body, isHead: method == .head)
            status = .ok
        default:
            return nil
        }
        var pending = Pending(
            wire: wire, status: status, method: method, uri: uri, start: .now, closeAfter: !head.isKeepAlive)
        if case .disk = wire { pending.wantsHTML = fields.first(name: "accept")?.contains("text/html") ?? false }
        return pending
    }

    /// Whether a request asks for the file as it is: no condition and no range.
    private static func isPlain(_ fields: HTTPHeaders) -> Bool {
        for (name, _) in fields {
            // `range`, `if-range`, `if-none-match`, `if-modified-since`, `if-match`,
            // `if-unmodified-since`; other names are told apart by their first letter.
            guard let first = name.utf8.first, first | 0x20 == UInt8(ascii: "r") || first | 0x20 == UInt8(ascii: "i")
            else { continue }
            let lowered = name.lowercased()
            if lowered == "range" || lowered.hasPrefix("if-") { return false }
        }
        return true
    }

    /// Bodies up to this size go out in one buffer with their head: copying them costs less
    /// than a second write through the pipeline.
    static let copiedBodyLimit = 16 * 1024

    private func write(_ pending: Pending, context: ChannelHandlerContext) {
        guard let socketSide else { return }
        let head: ByteBuffer
        let body: ByteBuffer?
        var length: Int?
        switch pending.wire {
        case .file(let fileHead, let fileBody):
            head = fileHead
            body = fileBody
        case .glance(let data, let isHead):
            head = GlanceQueryHandler.answerWireHead
            length = data.readableBytes
            body = isHead ? nil : data
        case .prepared(let answer), .disk(let answer, _, _):
            head = HTTP1Head.start(status: answer.status, fields: answer.headers, serverName: HipKitServer.serverName)
            if case .bytes(let bytes) = answer.body { body = bytes } else { body = nil }
        }
        let dateLine = date.now()
        let copied = body.map { $0.readableBytes <= Self.copiedBodyLimit } ?? true
        var first = context.channel.allocator.buffer(
            capacity: head.readableBytes + 40 + dateLine.readableBytes + (copied ? body?.readableBytes ?? 0 : 0))
        first.writeImmutableBuffer(head)
        if let length {
            first.writeStaticString("content-length: ")
            first.writeString(String(length))
            first.writeStaticString("\r\n")
        }
        first.writeImmutableBuffer(dateLine)
        if copied, let body { first.writeImmutableBuffer(body) }
        var last = first
        if !copied, let body {
            socketSide.write(NIOAny(IOData.byteBuffer(first)), promise: nil)
            last = body
        }
        if pending.closeAfter {
            let written = context.eventLoop.makePromise(of: Void.self)
            socketSide.writeAndFlush(NIOAny(IOData.byteBuffer(last)), promise: written)
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            socketSide.writeAndFlush(NIOAny(IOData.byteBuffer(last)), promise: nil)
            deadlines.answered()
        }
        responder.answeredOnEventLoop.add(1, ordering: .relaxed)
        responder.log(
            method: pending.method, path: Self.path(of: pending.uri), status: pending.status, start: pending.start,
            failure: nil)
    }

    /// Sends a file read from disk: checked and opened here, then written as a `FileRegion`,
    /// which NIO sends with `sendfile`, as nginx sends files. Through Hummingbird, such a file
    /// went through the heap 64 KB at a time: 32 downloads of a 1 MB file at once took the
    /// server from 48 to 71 MB.
    ///
    /// Opened on the event loop, not on NIO's blocking pool: `sendfile` reads the file on the
    /// event loop anyway (from the page cache, or from the disk when it is not there), so the
    /// pool would only have moved the `open`, and its threads and their heaps came to 4–5 MB
    /// more under load.
    private func send(
        _ answer: PreparedAnswer, root: String, size: Int, pending: Pending, context: ChannelHandlerContext
    ) {
        guard case .disk(let path, let range) = answer.body else { return }
        let opened = context.eventLoop.makeCompletedFuture { () throws -> NIOFileHandle in
            guard let real = StaticResponder.checkedDiskPath(path, root: root, size: size) else {
                throw APIError.notFound()
            }
            return try NIOFileHandle(_deprecatedPath: real)
        }
        opened.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let handle):
                self.sendOpened(answer, handle: handle, range: range, pending: pending, context: context)
            case .failure:
                // Gone or changed since the build was read: the responder's 404.
                var refusal = pending
                let (headers, body) = APIError.notFound().parts(forHTML: pending.wantsHTML)
                var fields = headers
                fields[.contentLength] = String(body.readableBytes)
                refusal.wire = .prepared(
                    PreparedAnswer(
                        status: .notFound, headers: fields, body: pending.method == .head ? .none : .bytes(body)))
                refusal.status = .notFound
                self.finishSending(refusal, context: context)
            }
        }
    }

    private func sendOpened(
        _ answer: PreparedAnswer, handle: NIOFileHandle, range: ClosedRange<Int>, pending: Pending,
        context: ChannelHandlerContext
    ) {
        guard let socketSide, context.channel.isActive else {
            try? handle.close()
            return
        }
        var head = HTTP1Head.start(status: answer.status, fields: answer.headers, serverName: HipKitServer.serverName)
        var dateLine = date.now()
        head.writeBuffer(&dateLine)
        socketSide.write(NIOAny(IOData.byteBuffer(head)), promise: nil)
        let region = FileRegion(fileHandle: handle, readerIndex: range.lowerBound, endIndex: range.upperBound + 1)
        let written = context.eventLoop.makePromise(of: Void.self)
        socketSide.writeAndFlush(NIOAny(IOData.fileRegion(region)), promise: written)
        // Still sending until the file is out: what comes meanwhile waits, and a shutdown lets
        // it finish.
        written.futureResult.assumeIsolated().whenComplete { result in
            try? handle.close()
            if case .failure = result {
                context.close(promise: nil)
                return
            }
            self.finishSending(pending, context: context, written: true)
        }
    }

    /// The answer to the request whose file was sent (or refused) is out: what came meanwhile
    /// is read now, in order.
    private func finishSending(_ pending: Pending, context: ChannelHandlerContext, written: Bool = false) {
        guard case .sending(let closeAfter) = state else { return }
        var pending = pending
        pending.closeAfter = closeAfter
        state = closeAfter ? .closed : .passing
        if written {
            if closeAfter {
                context.close(promise: nil)
            } else {
                deadlines.answered()
            }
            responder.answeredOnEventLoop.add(1, ordering: .relaxed)
            responder.log(
                method: pending.method, path: Self.path(of: pending.uri), status: pending.status,
                start: pending.start, failure: nil)
        } else {
            write(pending, context: context)
        }
        let parts = held
        held = []
        for part in parts { channelRead(context: context, data: wrapInboundOut(part)) }
        if passedOnSinceReadComplete {
            passedOnSinceReadComplete = false
            context.fireChannelReadComplete()
        }
        if readHeld, case .passing = state {
            readHeld = false
            context.read()
        }
    }

    /// The path part of a request target (the query is not logged: `signed_request` travels there).
    private static func path(of uri: String) -> String {
        uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { String(uri[..<$0]) } ?? uri
    }

    /// The head of an answer passed down for a HEAD request, framed as NIO's encoder frames it
    /// when paired with the decoder: the framing an equivalent GET would have (`Transfer-Encoding:
    /// chunked` when no length is known), and no body.
    private static func head(_ head: HTTPResponseHead) -> ByteBuffer {
        var headers = head.headers
        if head.status.mayHaveResponseBody, !headers.contains(name: "content-length"),
            !headers.contains(name: "transfer-encoding")
        {
            headers.add(name: "transfer-encoding", value: "chunked")
        }
        return HTTP1Head.start(
            code: Int(head.status.code), reason: head.status.reasonPhrase,
            fields: headers.lazy.map { ($0.name, $0.value) },
            serverName: nil)
    }
}
