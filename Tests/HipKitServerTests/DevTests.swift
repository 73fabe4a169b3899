import Foundation
import HipChatConnect
import HipKit
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import HipKitServer

/// `hipkit dev`'s parts below the browser: which rebuilds tell pages what, the problems a
/// failed rebuild hands to the overlay, the script only dev answers carry, and `--no-auth`.
@Suite("hipkit dev", .timeLimit(.minutes(3)))
struct DevTests {
    /// A `full` scaffold in a fresh folder, and a rebuilder for it writing into its dist/.
    struct Project {
        let root: URL
        let session = DevSession()
        let rebuilder: DevRebuilder
        var dist: URL { root.appendingPathComponent("dist") }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent(
                "hipkit-dev-\(UUID().uuidString)/incidents")
            _ = try ProjectScaffolder().create(
                template: "full", in: root,
                values: .init(key: "com.example.incidents", name: "Incidents", baseUrl: "https://incidents.example.com")
            )
            rebuilder = try DevRebuilder(
                path: root.path, options: LoadOptions(baseUrl: "http://127.0.0.1:8080"),
                output: root.appendingPathComponent("dist"),
                session: session, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                report: { _ in })
        }

        func edit(_ path: String, _ change: (String) -> String) throws {
            let file = root.appendingPathComponent(path)
            try Data(change(try String(contentsOf: file, encoding: .utf8)).utf8).write(to: file)
        }

        func remove() { try? FileManager.default.removeItem(at: root.deletingLastPathComponent()) }
    }

    /// The next event that is not a keep-alive.
    static func next(_ iterator: inout AsyncStream<DevEvent>.Iterator) async -> DevEvent? {
        while let event = await iterator.next() {
            if case .keepAlive = event { continue }
            return event
        }
        return nil
    }

    @Test("the waiting page shows each problem as text, whatever it holds")
    func waitingPageEscapesProblems() {
        let page = DevWaitingServer.page([
            DevProblem(
                severity: "error", code: "yaml-syntax", message: "<script>alert(1)</script> & more",
                hint: "use \"quotes\"",
                file: "pages/<b>.md", line: 9, column: 2,
                excerpt: [
                    .init(number: 8, text: "before"), .init(number: 9, text: "</pre><img src=x onerror=alert(2)>"),
                ])
        ])
        #expect(!page.contains("<script>alert"))
        #expect(!page.contains("<img src=x"))
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"))
        #expect(page.contains("<code>pages/&lt;b&gt;.md:9:2</code>"))
        #expect(page.contains("<mark>9 | &lt;/pre&gt;&lt;img src=x onerror=alert(2)&gt;</mark>"))
        #expect(page.contains("8 | before"))
        #expect(page.contains("hint: use &quot;quotes&quot;"))
    }

    @Test("each kind of edit tells the pages exactly which files changed")
    func changedFiles() async throws {
        let project = try Project()
        defer { project.remove() }
        var events = project.session.subscribe().makeAsyncIterator()
        guard case .hello(_, 0, nil, nil) = await Self.next(&events) else {
            Issue.record("no hello first")
            return
        }

        let first = project.rebuilder.rebuild()
        #expect(first.succeeded)
        #expect(first.changed.contains("sidebar.html") && first.changed.contains("atlassian-connect.json"))
        guard case .built(1, let all) = await Self.next(&events) else {
            Issue.record("no first build")
            return
        }
        #expect(all == first.changed)

        try project.edit("pages/sidebar.md") {
            $0.replacingOccurrences(of: "# Open incidents", with: "# Incidents now")
        }
        let page = project.rebuilder.rebuild()
        #expect(page.changed == ["sidebar.html"])
        guard case .built(2, ["sidebar.html"]) = await Self.next(&events) else {
            Issue.record("page edit not announced")
            return
        }

        // An asset: bytes after a PNG's end are ignored by readers, so the image stays valid.
        let image = project.root.appendingPathComponent("assets/glance.png")
        try (try Data(contentsOf: image) + Data("edited".utf8)).write(to: image)
        #expect(project.rebuilder.rebuild().changed == ["assets/glance.png"])
        _ = await Self.next(&events)

        // A spec edit that only renames the add-on changes the descriptor and the pages that show the name.
        try project.edit("addon.yaml") {
            $0.replacingOccurrences(of: "\nname: Incidents\n", with: "\nname: Incident Desk\n")
        }
        let spec = project.rebuilder.rebuild()
        #expect(spec.changed.contains("atlassian-connect.json"))
        #expect(!spec.changed.contains("assets/glance.png"))
        _ = await Self.next(&events)

        // Nothing changed: still announced (a page showing a failure learns it is over), with no paths.
        #expect(project.rebuilder.rebuild().changed == [])
        guard case .built(_, []) = await Self.next(&events) else {
            Issue.record("no-change build not announced")
            return
        }

        // A deleted page: its file is gone from dist/ and named among the changes.
        try FileManager.default.removeItem(at: project.root.appendingPathComponent("pages/report.md"))
        try project.edit("pages/sidebar.md") {
            $0.replacingOccurrences(of: "Read the [incident report](report.md) for the timeline.", with: "")
        }
        try project.edit("addon.yaml") { spec in
            let lines = spec.split(separator: "\n", omittingEmptySubsequences: false)
            guard let start = lines.firstIndex(of: "externalPages:") else { return spec }
            let end = lines[(start + 1)...].firstIndex { !$0.hasPrefix(" ") } ?? lines.endIndex
            return (lines[..<start] + lines[end...]).joined(separator: "\n")
        }
        let deleted = project.rebuilder.rebuild()
        #expect(deleted.succeeded, "\(deleted.build.diagnostics.map(\.message))")
        #expect(deleted.changed.contains("report.html"))
        #expect(!FileManager.default.fileExists(atPath: project.dist.appendingPathComponent("report.html").path))
    }

    @Test("a broken spec: nothing written, the problems with their lines, then fixed")
    func failure() async throws {
        let project = try Project()
        defer { project.remove() }
        #expect(project.rebuilder.rebuild().succeeded)
        let before = try FileTree.files(under: project.dist).map {
            ($0, try Data(contentsOf: project.dist.appendingPathComponent($0)))
        }
        var events = project.session.subscribe().makeAsyncIterator()
        _ = await Self.next(&events)

        try project.edit("addon.yaml") {
            $0.replacingOccurrences(of: "\nname: Incidents\n", with: "\nname: [Incidents]\n")
        }
        let broken = project.rebuilder.rebuild()
        #expect(!broken.succeeded)
        let after = try FileTree.files(under: project.dist).map {
            ($0, try Data(contentsOf: project.dist.appendingPathComponent($0)))
        }
        #expect(before.map(\.0) == after.map(\.0) && before.map(\.1) == after.map(\.1), "dist/ untouched")
        guard case .failed(1, let problems) = await Self.next(&events) else {
            Issue.record("failure not announced")
            return
        }
        let wrongType = try #require(problems.first { $0.code == "wrong-type" })
        #expect(wrongType.file?.hasSuffix("addon.yaml") == true)
        #expect(wrongType.excerpt.first { $0.number == wrongType.line }?.text == "name: [Incidents]")
        #expect(wrongType.column == 7)
        #expect(project.session.status.problems == problems, "pages opened now get them in their hello")

        // A second subscriber, as a page opened while broken, hears the problems first thing.
        var late = project.session.subscribe().makeAsyncIterator()
        guard case .hello(_, 1, let shown?, nil) = await Self.next(&late), shown == problems else {
            Issue.record("late page not told")
            return
        }

        try project.edit("addon.yaml") {
            $0.replacingOccurrences(of: "\nname: [Incidents]\n", with: "\nname: Incidents\n")
        }
        #expect(project.rebuilder.rebuild().succeeded)
        guard case .built(2, _) = await Self.next(&events) else {
            Issue.record("fix not announced")
            return
        }
        #expect(project.session.status.problems == nil)
    }

    @Test("a page that names the build it came from hears what changed since, while every build since is known")
    func changedSince() async {
        let session = DevSession()
        session.built(changed: ["a.html"])
        session.built(changed: ["b.html", "a.html"])
        session.built(changed: [])
        func hello(since: Int?) async -> (build: Int, changed: [String]?)? {
            var events = session.subscribe(since: since).makeAsyncIterator()
            guard case .hello(_, let build, _, let changed) = await events.next() else { return nil }
            return (build, changed)
        }
        #expect(await hello(since: 0)?.changed == ["a.html", "b.html"])
        #expect(await hello(since: 1)?.changed == ["a.html", "b.html"])
        #expect(await hello(since: 2)?.changed == [])
        #expect(await hello(since: 3).map { $0.build == 3 && $0.changed == [] } == true)
        #expect(await hello(since: nil).map { $0.changed == nil } == true)
        #expect(await hello(since: 4).map { $0.changed == nil } == true, "not a build of this process")
        for _ in 0..<DevSession.recentBuilds { session.built(changed: ["c.html"]) }
        #expect(await hello(since: 3)?.changed == ["c.html"], "the last builds are known")
        #expect(await hello(since: 2).map { $0.changed == nil } == true, "older ones are forgotten")
    }

    /// A project that does not build yet is served a waiting page, whose event stream may stay
    /// open for as long as the errors take to fix: a proxy or tunnel in between drops a stream
    /// that is quiet for long, so it is kept alive as the real server's are. Once a build
    /// succeeds, the session goes on, open, to the real server.
    @Test("the waiting page's event stream is kept alive, and the session is left open for the server")
    func waitingPageKeepAlive() async throws {
        let session = DevSession(keepAliveInterval: .milliseconds(100))
        let port = try Loopback.freePort()
        let (listening, nowListening) = AsyncStream.makeStream(of: Void.self)
        let (builds, build) = AsyncStream.makeStream(of: Bool.self)
        let waiting = DevWaitingServer(
            session: session, host: "127.0.0.1", port: port,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let outcome = Task {
            try await waiting.run(
                until: {
                    for await built in builds { return built }
                    return false
                }, onListening: { nowListening.yield() })
        }
        var listened = listening.makeAsyncIterator()
        await listened.next()
        // The hello, then a comment every 100 ms: read until three came (or for 20 s, for a
        // machine whose other tests keep the keep-alive's task from running).
        func keepAlives(_ bytes: [UInt8]) -> Int {
            String(decoding: bytes, as: UTF8.self).components(separatedBy: DevEvent.keepAlive.encoded).count - 1
        }
        let stream = try await RawConnection.drive(
            port: port, parts: [RawConnection.request("GET /_hipkit/dev/events HTTP/1.1\r\nHost: x")], timeout: 20,
            until: { keepAlives($0) >= 3 })
        #expect(stream.status == 200, "\(stream.text.prefix(300))")
        #expect(stream.text.contains("event: hello"), "\(stream.text.prefix(300))")
        #expect(keepAlives(stream.received) >= 3, "\(stream.text.prefix(300))")

        build.yield(true)
        #expect(try await outcome.value == .built)
        var events = session.subscribe().makeAsyncIterator()
        guard case .hello = await events.next() else {
            Issue.record("the waiting server closed the session the real server goes on with")
            return
        }
    }

    @Test("a build the server cannot put in service is told to the pages as a failure, not as a build")
    func unservedBuild() async {
        let session = DevSession()
        session.onSiteChange { "dist/ is unreadable" }
        var events = session.subscribe().makeAsyncIterator()
        _ = await events.next()
        session.built(changed: ["sidebar.html"])
        guard case .failed(0, let problems) = await events.next() else {
            Issue.record("no failure")
            return
        }
        #expect(problems.first?.message.contains("dist/ is unreadable") == true)
        #expect(session.status.build == 0 && session.status.problems == problems)
    }

    @Test("the SSE wire format: named events, one JSON data line each")
    func encoding() {
        let problem = DevProblem(
            severity: "error", code: "wrong-type", message: "bad\nthing", hint: nil, file: "addon.yaml", line: 3,
            column: 7,
            excerpt: [.init(number: 3, text: "name: [x]")])
        let failed = DevEvent.failed(build: 4, problems: [problem]).encoded
        #expect(failed.hasPrefix("event: failed\nid: 4\ndata: {"))
        #expect(failed.hasSuffix("}\n\n"))
        #expect(failed.split(separator: "\n").count == 3, "a newline in a message must not break the frame")
        #expect(
            DevEvent.built(build: 2, changed: ["help/index.html"]).encoded
                == "event: built\nid: 2\ndata: {\"build\":2,\"changed\":[\"help/index.html\"]}\n\n")
        #expect(
            DevEvent.hello(instance: "i", build: 3, problems: nil, changedSince: ["a.html"]).encoded
                == "event: hello\nid: 3\ndata: {\"build\":3,\"changed\":[\"a.html\"],\"instance\":\"i\"}\n\n")
    }

    @Test("the reload script goes before </head>, else </body>, else at the end")
    func injection() {
        let tag = DevRoutes.scriptTag(instance: "i", build: 3)
        func inject(_ html: String) -> String { String(buffer: DevRoutes.inject(tag, into: ByteBuffer(string: html))) }
        #expect(
            inject("<html><head><title>t</title></HEAD><body>x</body></html>")
                == "<html><head><title>t</title>\(tag)</HEAD><body>x</body></html>")
        #expect(inject("<p>x</p></body>") == "<p>x</p>\(tag)</body>")
        #expect(inject("<p>x</p>") == "<p>x</p>\(tag)")
        // `</header>` is no `</head>`; the head's own end is the first one.
        #expect(
            inject("<head></head ><body><header>h</header><pre></head></pre></body>")
                == "<head>\(tag)</head ><body><header>h</header><pre></head></pre></body>")
        #expect(inject("<body><header>h</header></body>") == "<body><header>h</header>\(tag)</body>")
        #expect(inject("<p></header></p></bodyx>") == "<p></header></p></bodyx>\(tag)")
    }

    @Test("dev answers carry the script and are not cached; --no-auth opens JWT views")
    func serving() async throws {
        let site = try TestSite()
        defer { site.remove() }
        var configuration = site.configuration()
        configuration.viewsRequireToken = false
        let store = try SQLiteStore(file: configuration.databaseFile)
        var server = HipKitServer(
            configuration: configuration, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }),
            store: store)
        let session = DevSession()
        server.dev = session
        try await server.makeApplication().test(.router) { client in
            let view = try await client.execute(uri: "/incidents.html", method: .get)
            #expect(view.status == .ok, "--no-auth: no token needed")
            #expect(
                view.text.contains(
                    "<script src=\"/_hipkit/dev/reload.js\" data-hipkit-dev data-instance=\"\(session.instance)\" data-build=\"0\"></script>"
                ), "the page names the process and build it came from")
            session.built(changed: [])
            #expect(
                try await client.execute(uri: "/incidents.html", method: .get).text.contains(
                    DevRoutes.scriptTag(instance: session.instance, build: 1)))
            #expect(view.headers[.cacheControl] == "no-store")
            let script = try await client.execute(uri: "/_hipkit/dev/reload.js", method: .get)
            #expect(script.status == .ok && script.text.contains("new EventSource(\"/_hipkit/dev/events\""))
            let status = try await client.execute(uri: "/_hipkit/dev/status", method: .get)
            #expect(status.json?["build"] == .integer(1))
            let glance = try await client.execute(uri: "/glances/incidents-glance.json", method: .get)
            #expect(glance.status == .unauthorized, "glances keep their JWT check")
        }
        // Without dev: no script, no dev routes, views need their token.
        let (plain, _) = try site.server()
        try await plain.makeApplication().test(.router) { client in
            #expect(try await client.execute(uri: "/incidents.html", method: .get).status == .unauthorized)
            #expect(try await client.execute(uri: "/_hipkit/dev/reload.js", method: .get).status == .notFound)
            let page = try await client.execute(uri: "/help/", method: .get)
            #expect(page.status == .ok && !page.text.contains("_hipkit/dev"))
        }
    }
    @Test("under dev, a request trickled past the deadline is cut off, and a HEAD's answer has no body")
    func devConnections() async throws {
        let site = try TestSite()
        defer { site.remove() }
        var configuration = site.configuration()
        configuration.requestTimeout = .seconds(1)
        configuration.idleTimeout = .seconds(30)
        let store = try SQLiteStore(file: configuration.databaseFile)
        var server = HipKitServer(
            configuration: configuration, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }),
            store: store)
        server.dev = DevSession()
        try await server.makeApplication().test(.live) { client in
            let port = try #require(client.port)
            // Never silent for long, but the head takes 3 s against a deadline of 1 s.
            let head = RawConnection.request("GET /help/ HTTP/1.1\r\nHost: x\r\nX-Slow: 1")
            let parts = stride(from: 0, to: head.count, by: 4).map { Array(head[$0..<min($0 + 4, head.count)]) }
            let slow = try await RawConnection.drive(port: port, parts: parts, pause: .milliseconds(300), timeout: 5)
            #expect(slow.closed && slow.partsSent < parts.count)
            #expect(!slow.text.contains("HTTP/1.1 200"))
            // A HEAD and a GET on one connection: the GET's answer follows the HEAD's head.
            let text = try await RawConnection.exchange(
                port: port,
                bytes:
                    "HEAD /help/ HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            let answers = text.components(separatedBy: "\r\n\r\n")
            #expect(answers.count == 3, "\(text.prefix(800))")
            #expect(answers.first?.hasPrefix("HTTP/1.1 200") == true)
            #expect(answers.dropFirst().first?.hasPrefix("HTTP/1.1 200") == true, "\(text.prefix(800))")
            #expect(answers.last?.trimmingCharacters(in: .whitespacesAndNewlines) == #"{"status":"ok"}"#)
        }
    }
}
