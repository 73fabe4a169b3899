import Foundation
import HTTPTypes
import HipChatConnect
import HummingbirdTesting
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

@testable import HipKitServer

/// The build's files and glance queries answered on the event loop: which requests are, that
/// their answers are the responder's own, and that HTTP/1.1's order of answers holds when some requests go on
/// to the responder.
@Suite("Answers made on the event loop")
struct EventLoopAnswersTests {
    /// The handler alone in a channel, on the fixture site. What it passes on comes out of
    /// `readInbound`; what it answers, out of `readOutbound`.
    private func withHandler(
        _ configuration: (TestSite) -> ServerConfiguration = { $0.configuration(checkInterval: 60) },
        _ body: (NIOAsyncTestingChannel, TestSite) async throws -> Void
    ) async throws {
        try await withHandlerAndStore(configuration) { channel, _, _, site in try await body(channel, site) }
    }

    /// The handler on the fixture site with the planted store, for glance queries.
    private func withHandlerAndStore(
        _ configuration: (TestSite) -> ServerConfiguration = { $0.configuration(checkInterval: 60) },
        _ body: (NIOAsyncTestingChannel, ServerResponder, SQLiteStore, TestSite) async throws -> Void
    ) async throws {
        let site = try TestSite()
        defer { site.remove() }
        let (server, store) = try site.server(configuration(site))
        try await StoreSnapshot.plant(store)
        let (responder, _) = try server.makeResponder(store: store)
        let channel = try await NIOAsyncTestingChannel { channel in
            try channel.pipeline.syncOperations.addHandler(EventLoopAnswers(responder: responder, serverName: "hipkit"))
        }
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).get()
        try await body(channel, responder, store, site)
        _ = try? await channel.finish(acceptAlreadyClosed: true)
    }

    private func send(_ channel: NIOAsyncTestingChannel, _ head: HTTPRequest, body: ByteBuffer? = nil) async throws {
        try await channel.writeInbound(HTTPRequestPart.head(head))
        if let body { try await channel.writeInbound(HTTPRequestPart.body(body)) }
        try await channel.writeInbound(HTTPRequestPart.end(nil))
    }

    private func get(_ path: String, _ method: HTTPRequest.Method = .get, headers: HTTPFields = [:]) -> HTTPRequest {
        HTTPRequest(method: method, scheme: nil, authority: "localhost", path: path, headerFields: headers)
    }

    /// The answer written, as (head, body bytes), or nil when nothing was.
    private func answer(_ channel: NIOAsyncTestingChannel) async throws -> (HTTPResponse, [UInt8])? {
        guard case .head(let head) = try await channel.readOutbound(as: HTTPResponsePart.self) else { return nil }
        var bytes: [UInt8] = []
        while let part = try await channel.readOutbound(as: HTTPResponsePart.self) {
            switch part {
            case .head: Issue.record("a second head before the end")
            case .body(let buffer): bytes += Array(buffer.readableBytesView)
            case .end: return (head, bytes)
            }
        }
        Issue.record("no end to the answer")
        return (head, bytes)
    }

    @Test("a page in memory is answered here, with the responder's headers, a Date and the server's name")
    func answersAPage() async throws {
        try await withHandler { channel, site in
            try await send(channel, get("/index.html"))
            #expect(try await channel.readInbound(as: HTTPRequestPart.self) == nil, "passed on to the responder")
            let (head, body) = try #require(try await answer(channel))
            #expect(head.status == .ok)
            #expect(body == Array(try Data(contentsOf: site.dist.appendingPathComponent("index.html"))))
            #expect(head.headerFields[.contentType] == "text/html; charset=utf-8")
            #expect(head.headerFields[.contentLength] == String(body.count))
            #expect(head.headerFields[.eTag] != nil)
            #expect(head.headerFields[.server] == "hipkit")
            let date = try #require(head.headerFields[.date].flatMap(HTTPDate.parse))
            #expect(abs(date.timeIntervalSinceNow) < 5)
            #expect(channel.isActive, "a kept-alive connection stays open")
        }
    }

    @Test("HEAD gets the headers and no body; a view gets its frame policy; the descriptor its CORS")
    func headViewsAndDescriptor() async throws {
        try await withHandler { channel, _ in
            try await send(channel, get("/index.html", .head))
            let (head, body) = try #require(try await answer(channel))
            #expect(head.status == .ok && body.isEmpty && head.headerFields[.contentLength] != "0")

            try await send(channel, get("/raise.html"))  // a dialog with "authentication": "none"
            let (view, _) = try #require(try await answer(channel))
            #expect(view.headerFields[.contentSecurityPolicy]?.hasPrefix("frame-ancestors ") == true)

            try await send(channel, get("/atlassian-connect.json"))
            let (descriptor, _) = try #require(try await answer(channel))
            #expect(descriptor.headerFields[.accessControlAllowOrigin] == "*")
        }
    }

    @Test("conditional, ranged and gzip requests are answered as the responder answers them")
    func conditionalRangedAndGzip() async throws {
        try await withHandler { channel, _ in
            try await send(channel, get("/index.html"))
            let (first, whole) = try #require(try await answer(channel))
            let etag = try #require(first.headerFields[.eTag])

            try await send(channel, get("/index.html", headers: [.ifNoneMatch: etag]))
            let (notModified, empty) = try #require(try await answer(channel))
            #expect(notModified.status == .notModified && empty.isEmpty)

            try await send(channel, get("/index.html", headers: [.range: "bytes=2-9"]))
            let (partial, part) = try #require(try await answer(channel))
            #expect(partial.status == .partialContent && part == Array(whole[2...9]))
            #expect(partial.headerFields[.contentRange] == "bytes 2-9/\(whole.count)")

            try await send(channel, get("/index.html", headers: [.range: "bytes=\(whole.count + 5)-"]))
            #expect(try #require(try await answer(channel)).0.status == .rangeNotSatisfiable)

            try await send(channel, get("/index.html", headers: [.acceptEncoding: "gzip"]))
            let (gzipped, compressed) = try #require(try await answer(channel))
            #expect(gzipped.headerFields[.contentEncoding] == "gzip")
            #expect(compressed.prefix(2) == [0x1f, 0x8b] && compressed.count < whole.count)
            #expect(gzipped.headerFields[.contentLength] == String(compressed.count))
        }
    }

    @Test(
        "what only the responder answers is passed on",
        arguments: [
            ("POST", "/index.html", false),  // not GET or HEAD
            ("GET", "/index.html", true),  // a body
            ("GET", "/incidents.html", false),  // a view that needs HipChat's JWT
            ("GET", "/glances/incidents-glance.json", false),  // a glance query
            ("GET", "/healthz", false),
            ("GET", "/no-such-page.html", false),  // the 404 is the responder's
            ("GET", "/%2e%2e/etc/passwd", false),  // refused by RequestPath
            ("GET", "/installed", false),  // the install callback
        ])
    func passesOn(method: String, path: String, withBody: Bool) async throws {
        try await withHandler { channel, _ in
            var headers: HTTPFields = [:]
            if withBody { headers[.contentLength] = "2" }
            try await send(
                channel, get(path, HTTPRequest.Method(method)!, headers: headers),
                body: withBody ? ByteBuffer(string: "{}") : nil)
            guard case .head(let passed) = try await channel.readInbound(as: HTTPRequestPart.self) else {
                Issue.record("\(method) \(path) was not passed on")
                return
            }
            #expect(passed.path == path)
            if withBody {
                #expect(try await channel.readInbound(as: HTTPRequestPart.self) == .body(ByteBuffer(string: "{}")))
            }
            #expect(try await channel.readInbound(as: HTTPRequestPart.self) == .end(nil))
            #expect(try await channel.readOutbound(as: HTTPResponsePart.self) == nil, "answered here as well")
        }
    }

    @Test("while a request passed on is unanswered, the ones after it are passed on too")
    func answersKeepTheirOrder() async throws {
        try await withHandler { channel, _ in
            try await send(channel, get("/healthz"))
            try await send(channel, get("/index.html"))
            // Both went on: an answer made here would have gone out before the health check's.
            #expect(try await channel.readInbound(as: HTTPRequestPart.self).map(isHead) == true)
            #expect(try await channel.readInbound(as: HTTPRequestPart.self) == .end(nil))
            #expect(try await channel.readInbound(as: HTTPRequestPart.self).map(isHead) == true)
            #expect(try await channel.readInbound(as: HTTPRequestPart.self) == .end(nil))
            #expect(try await channel.readOutbound(as: HTTPResponsePart.self) == nil)

            // The responder answers both; then a page is answered here again.
            for _ in 0..<2 {
                try await channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
                try await channel.writeOutbound(HTTPResponsePart.end(nil))
            }
            while try await channel.readOutbound(as: HTTPResponsePart.self) != nil {}
            try await send(channel, get("/index.html"))
            #expect(try await channel.readInbound(as: HTTPRequestPart.self) == nil)
            #expect(try await answer(channel)?.0.status == .ok)
        }
    }

    @Test("after a request passed on asks to close the connection, nothing more is answered here")
    func passedOnCloseIsHonoured() async throws {
        try await withHandler { channel, _ in
            try await send(channel, get("/healthz", headers: [.connection: "close"]))
            #expect(try await channel.readInbound(as: HTTPRequestPart.self).map(isHead) == true)
            #expect(try await channel.readInbound(as: HTTPRequestPart.self) == .end(nil))
            try await channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
            try await channel.writeOutbound(HTTPResponsePart.end(nil))
            while try await channel.readOutbound(as: HTTPResponsePart.self) != nil {}
            // The health check is answered; a page pipelined after it is still the responder's.
            try await send(channel, get("/index.html"))
            #expect(try await channel.readInbound(as: HTTPRequestPart.self).map(isHead) == true)
            #expect(try await channel.readOutbound(as: HTTPResponsePart.self) == nil)
        }
    }

    @Test("a glance query is answered here once its token, installation and data are held in memory, until a write")
    func keptGlanceQueries() async throws {
        try await withHandlerAndStore { channel, responder, store, _ in
            let token = try await Tokens.mint(room: 42)
            let query = get("/glances/incidents-glance.json", headers: [.authorization: "JWT \(token)"])
            // A token not seen before: its signature is checked by the responder.
            try await send(channel, query)
            #expect(try await channel.readInbound(as: HTTPRequestPart.self).map(isHead) == true)
            _ = try await channel.readInbound(as: HTTPRequestPart.self)
            try await channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
            try await channel.writeOutbound(HTTPResponsePart.end(nil))
            while try await channel.readOutbound(as: HTTPResponsePart.self) != nil {}

            // What the responder's answer reads, it keeps: the token, the installation, the room's data.
            _ = try await responder.verifier.verify(token)
            #expect(try await store.reads().glanceData(key: "incidents-glance", room: 42) != nil)
            try await send(channel, query)
            #expect(try await channel.readInbound(as: HTTPRequestPart.self) == nil)
            let (head, body) = try #require(try await answer(channel))
            #expect(head.status == .ok && head.headerFields[.accessControlAllowOrigin] == "*")
            #expect(JSONNode.parse(Data(body))?["label"]?["value"]?.stringValue == "<b>2</b> in 42")

            // A write empties what the store keeps: the next query reads it again, off the event loop.
            try await store.putGlanceData(
                .object(["label": .object(["type": .string("html"), "value": .string("<b>3</b> in 42")])]),
                key: "incidents-glance", room: 42)
            try await send(channel, query)
            #expect(try await channel.readInbound(as: HTTPRequestPart.self).map(isHead) == true)
            #expect(try await channel.readOutbound(as: HTTPResponsePart.self) == nil)
        }
    }

    @Test("a request that finds dist/ due a look for a new build goes on to the responder, which looks")
    func dueLookIsPassedOn() async throws {
        try await withHandler({ $0.configuration(checkInterval: 0) }) { channel, _ in
            try await send(channel, get("/index.html"))
            #expect(try await channel.readInbound(as: HTTPRequestPart.self).map(isHead) == true)
            #expect(try await channel.readOutbound(as: HTTPResponsePart.self) == nil)
        }
    }

    @Test("Connection: close closes the connection once the answer is out")
    func connectionClose() async throws {
        try await withHandler { channel, _ in
            try await send(channel, get("/index.html", headers: [.connection: "keep-alive, Close"]))
            // Pipelined behind it, before the close: ignored, neither answered nor passed on.
            try await send(channel, get("/index.html"))
            #expect(try await answer(channel)?.0.status == .ok)
            #expect(try await channel.readOutbound(as: HTTPResponsePart.self) == nil)
            #expect(try await channel.readInbound(as: HTTPRequestPart.self) == nil)
            await channel.testingEventLoop.run()
            #expect(!channel.isActive)
        }
    }

    private func isHead(_ part: HTTPRequestPart) -> Bool {
        if case .head = part { true } else { false }
    }

    /// Over loopback, a live server's answers (the files answered on its event loops) match the
    /// router's (every request through the responder), header for header and byte for byte.
    @Test("a live server's file answers are the responder's")
    func liveAnswersMatchTheResponder() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let jwt: HTTPFields = [.authorization: "JWT \(try await Tokens.mint(room: 42))"]
        let requests: [(String, HTTPRequest.Method, HTTPFields)] = [
            ("/index.html", .get, [:]),
            ("/index.html", .head, [:]),
            ("/index.html", .get, [.acceptEncoding: "gzip, deflate"]),
            ("/index.html", .get, [.range: "bytes=-10"]),
            ("/index.html", .get, [.ifModifiedSince: "Fri, 01 Jan 2100 00:00:00 GMT"]),
            ("/raise.html", .get, [:]),
            ("/atlassian-connect.json", .get, [:]),
            ("/configure", .get, [:]),
            // The first is the responder's, on both; the next ones are answered from memory.
            ("/glances/incidents-glance.json", .get, jwt),
            ("/glances/incidents-glance.json", .get, jwt),
            ("/glances/incidents-glance.json", .head, jwt),
        ]
        let expected: [Seen] = try await withServer(site, setup: { try await StoreSnapshot.plant($0) }) { client, _ in
            var seen: [Seen] = []
            for (path, method, headers) in requests {
                seen.append(Self.strip(try await client.execute(uri: path, method: method, headers: headers)))
            }
            return seen
        }
        try await withLive(site) { client, _, responder in
            for ((path, method, headers), want) in zip(requests, expected) {
                let got = Self.strip(try await client.execute(uri: path, method: method, headers: headers))
                #expect(got.status == want.status, "\(method) \(path)")
                #expect(got.headers == want.headers, "\(method) \(path)")
                #expect(got.body == want.body, "\(method) \(path)")
            }
            // All but /configure (a view that needs a JWT) and the first glance query (a token
            // not seen before) were answered on the event loop.
            #expect(responder.answeredOnEventLoop.load(ordering: .relaxed) == requests.count - 2)
        }
    }

    /// A live server on loopback, with the planted store and its responder at hand (to count
    /// the answers made on the event loop). It looks at dist/ once a minute: with a look due,
    /// requests go on to the responder.
    private func withLive<T: Sendable>(
        _ site: TestSite, checkInterval: TimeInterval = 60,
        _ body: @Sendable (any TestClientProtocol, Int, ServerResponder) async throws -> T
    ) async throws -> T {
        let (server, store) = try site.server(site.configuration(checkInterval: checkInterval))
        try await StoreSnapshot.plant(store)
        let (responder, pusher) = try server.makeResponder(store: store)
        return try await server.makeApplication(responder: responder, pusher: pusher, store: store).test(.live) {
            client in try await body(client, client.port ?? 0, responder)
        }
    }

    typealias Seen = (status: HTTPResponse.Status, headers: HTTPFields, body: [UInt8])

    /// An answer without what the router's test client leaves out or adds: `Date` and `Server`
    /// (set by a running application only), and the `Content-Length: 0` Hummingbird puts on
    /// every empty body, a 304's too, which RFC 9110 does not ask for (a 304's length would be
    /// the 200's).
    static func strip(_ response: TestResponse) -> Seen {
        var headers = response.headers
        headers[.date] = nil
        headers[.server] = nil
        if response.status == .notModified { headers[.contentLength] = nil }
        return (response.status, headers, Array(response.body.readableBytesView))
    }

    @Test("a new build is read by the responder when a look is due, then served from the event loop")
    func newBuildReachesTheEventLoop() async throws {
        let site = try TestSite()
        defer { site.remove() }
        // A look every 2 s: the request after the pause finds one due, and the one right after
        // it (well within 2 s, even on a loaded machine) does not.
        try await withLive(site, checkInterval: 2) { client, _, responder in
            #expect(try await client.execute(uri: "/help/faq.html", method: .get).text.contains("Ask in the room."))
            try Data("<h1>FAQ</h1><p>Rebuilt.</p>".utf8).write(to: site.dist.appendingPathComponent("help/faq.html"))
            // What `hipkit build` changes with every build: the descriptor, which the look checks.
            let descriptor = site.dist.appendingPathComponent("atlassian-connect.json")
            try Data(try Data(contentsOf: descriptor) + Data("\n".utf8)).write(to: descriptor)
            try await Task.sleep(for: .milliseconds(2200))
            let before = responder.answeredOnEventLoop.load(ordering: .relaxed)
            #expect(try await client.execute(uri: "/help/faq.html", method: .get).text.contains("Rebuilt."))
            #expect(
                responder.answeredOnEventLoop.load(ordering: .relaxed) == before, "the look was made on the event loop")
            #expect(try await client.execute(uri: "/help/faq.html", method: .get).text.contains("Rebuilt."))
            #expect(responder.answeredOnEventLoop.load(ordering: .relaxed) == before + 1)
        }
    }

    @Test("over loopback, a page asked for behind a slower request comes after its answer")
    func pipelinedAnswersKeepTheirOrder() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withLive(site) { _, port, responder in
            // An install POST (the responder's, on the concurrency pool: 400 for an empty object)
            // and then a page, in one write: the page's answer must not overtake the install's.
            let install = "{}"
            let text = try await RawConnection.exchange(
                port: port,
                bytes: "POST /installed HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(install.utf8.count)\r\n\r\n\(install)"
                    + "GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            // An answer's status line follows the one before's body directly.
            let statuses = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
            #expect(statuses == ["400", "200"], "\(text.prefix(600))")
            // The page was asked for behind the install, so the responder answered it too.
            #expect(responder.answeredOnEventLoop.load(ordering: .relaxed) == 0)
        }
    }
}
