import Foundation
import HipChatConnect
import TestProcesses
import Testing

@testable import HipKitServer

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `hipkit serve` as a process: what a `kill -9` keeps, and what SIGTERM does.
@Suite("hipkit serve, the process", .serialized)
struct ServeCommandTests {
    /// The `hipkit` executable SwiftPM built next to the test bundle.
    static var executable: URL { Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("hipkit") }

    /// Sendable so tests can call several servers at once: `port` is set once, by
    /// ``waitUntilListening()``, before any request.
    final class Server: @unchecked Sendable {
        let process: ChildProcess
        let stderr: URL
        private(set) var port = 0

        convenience init(site: TestSite, extra: [String] = []) throws {
            try self.init(
                arguments: ["serve", site.dist.path, "--port", "0", "--data", site.data.path] + extra,
                logFolder: site.root)
        }

        /// The PostgreSQL database and key it was started with, if any (for tests that start more).
        private(set) var database = ""
        private(set) var secretKey = ""

        convenience init(
            database: String, secretKey: String, arguments: [String], logFolder: URL, environment: [String: String]
        ) throws {
            try self.init(arguments: arguments, logFolder: logFolder, environment: environment)
            self.database = database
            self.secretKey = secretKey
        }

        /// `hipkit` (or another copy of it, `executable`) with `arguments` (and `environment`
        /// added to the test's), its standard error kept in a file in `logFolder`.
        init(
            arguments: [String], logFolder: URL, environment extra: [String: String] = [:],
            executable: URL = ServeCommandTests.executable
        ) throws {
            stderr = logFolder.appendingPathComponent("stderr-\(UUID().uuidString).log")
            var environment = ProcessInfo.processInfo.environment
            environment["HIPKIT_ADMIN_TOKEN"] = GlanceTests.adminToken
            environment.removeValue(forKey: "PORT")
            environment.removeValue(forKey: "HOST")
            environment.merge(extra) { _, new in new }
            process = try ChildProcess(
                executable, arguments, environment: environment, standardError: .file(stderr))
        }

        /// A test that fails midway must not leave a server running.
        deinit {
            process.signal(SIGKILL)
        }

        var log: String { (try? String(contentsOf: stderr, encoding: .utf8)) ?? "" }

        /// Waits for the "listening on HOST:PORT" line.
        func waitUntilListening() async throws {
            // Generous, and checked once more after the deadline: other test suites may keep
            // this task from running for a while on a small machine.
            let deadline = Date().addingTimeInterval(120)
            while true {
                if let range = log.range(of: "listening on 127.0.0.1:") {
                    let digits = log[range.upperBound...].prefix { $0.isNumber }
                    if let port = Int(digits) {
                        self.port = port
                        return
                    }
                }
                if !process.isRunning || Date() > deadline { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            Issue.record("hipkit serve did not start: \(log)")
            throw CancellationError()
        }

        func request(_ path: String, method: String = "GET", headers: [String: String] = [:], body: String? = nil)
            async throws -> (Int, Data)
        {
            try await Self.request(port: port, path, method: method, headers: headers, body: body)
        }

        /// A request to whatever listens on loopback at `port`.
        static func request(
            port: Int, _ path: String, method: String = "GET", headers: [String: String] = [:], body: String? = nil
        ) async throws -> (Int, Data) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = method
            for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
            request.httpBody = body.map { Data($0.utf8) }
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
        }

        func waitForExit(seconds: Double) async -> Bool {
            await Polling.holds(within: seconds, every: .milliseconds(50)) { !process.isRunning }
        }
    }

    @Test("after a 2xx, kill -9 loses nothing; SIGTERM stops the server gracefully")
    func killAndTerminate() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let admin = ["Authorization": "Bearer \(GlanceTests.adminToken)", "Content-Type": "application/json"]

        let first = try Server(site: site, extra: ["--no-verify-installs"])
        try await first.waitUntilListening()
        let install = try await first.request(
            "/installed", method: "POST", headers: ["Content-Type": "application/json"],
            body:
                #"{"oauthId": "\#(Fixture.oauthId)", "oauthSecret": "\#(Fixture.secret)", "capabilitiesUrl": "https://api.hipchat.com/v2/capabilities", "groupId": 1}"#
        )
        #expect(install.0 == 200)
        let glance = try await first.request(
            "/admin/glances/incidents-glance?room=42", method: "POST", headers: admin,
            body: #"{"label": "<b>survived</b>"}"#)
        #expect(glance.0 == 200)
        kill(first.process.processIdentifier, SIGKILL)
        #expect(await first.waitForExit(seconds: 60))

        let second = try Server(site: site)
        try await second.waitUntilListening()
        let token = try await Tokens.mint(room: 42)
        let query = try await second.request(
            "/glances/incidents-glance.json", headers: ["Authorization": "JWT \(token)"])
        #expect(query.0 == 200)
        #expect(JSONNode.parse(query.1)?["label"]?["value"]?.stringValue == "<b>survived</b>")
        let list = try await second.request("/admin/installations", headers: admin)
        #expect(JSONNode.parse(list.1)?["installations"]?.arrayValue?.count == 1)

        kill(second.process.processIdentifier, SIGTERM)
        #expect(await second.waitForExit(seconds: 60))
        #expect(second.process.terminationStatus == 0)
        #expect(second.log.contains("stopped"))
    }

    @Test(
        "many JWT-checked settings and glance requests at once: every one answered, the server stays up",
        .timeLimit(.minutes(1)))
    func concurrentStoreReads() async throws {
        // Blocking store reads on the concurrency pool's threads once deadlocked the server here:
        // they waited for a reader connection that GRDB's async reads held while waiting for
        // those same threads. It stopped answering anything after about ten requests.
        let site = try TestSite()
        defer { site.remove() }
        let server = try Server(site: site, extra: ["--no-verify-installs"])
        defer { kill(server.process.processIdentifier, SIGKILL) }
        try await server.waitUntilListening()
        let install = try await server.request(
            "/installed", method: "POST", headers: ["Content-Type": "application/json"],
            body:
                #"{"oauthId": "\#(Fixture.oauthId)", "oauthSecret": "\#(Fixture.secret)", "capabilitiesUrl": "https://api.hipchat.com/v2/capabilities", "groupId": 1}"#
        )
        #expect(install.0 == 200)
        let token = try await Tokens.mint(room: 42)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            var statuses: [Int] = []
            for i in 0..<400 {
                if i >= 32, let status = try await group.next() { statuses.append(status) }
                let port = server.port
                group.addTask {
                    // A connection each, as many clients at once would open.
                    let answer = try await RawConnection.exchange(
                        port: port,
                        bytes: "GET \(i % 4 == 3 ? "/glances/incidents-glance.json" : "/_hipkit/settings") HTTP/1.1\r\n"
                            + "Host: localhost\r\nAuthorization: JWT \(token)\r\nConnection: close\r\n\r\n")
                    return answer.hasPrefix("HTTP/1.1 200") ? 200 : Int(answer.prefix(12).suffix(3)) ?? 0
                }
            }
            for try await status in group { statuses.append(status) }
            return statuses
        }
        #expect(statuses.count == 400 && statuses.allSatisfy { $0 == 200 })
        #expect(try await server.request("/healthz").0 == 200)
    }

    @Test("two servers started at the same moment on a new data folder both start, on one store")
    func simultaneousStartOnNewDataFolder() async throws {
        // Before the start was serialised, one of the two failed about one time in three
        // ("table installation already exists", "database is locked").
        for _ in 0..<8 {
            let site = try TestSite()
            defer { site.remove() }
            let servers = try (0..<2).map { _ in try Server(site: site) }
            for server in servers { try await server.waitUntilListening() }
            let admin = ["Authorization": "Bearer \(GlanceTests.adminToken)"]
            for server in servers {
                #expect(try await server.request("/admin/installations", headers: admin).0 == 200)
                kill(server.process.processIdentifier, SIGKILL)
            }
        }
    }

    @Test("a new project's .hipkit is private: build makes it 0700, and serve then warns of nothing")
    func newProjectDataFolderIsPrivate() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("hipkit-private-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let project = root.appendingPathComponent("addon")
        for arguments in [["init", project.path], ["build", project.path]] {
            let status = try await Blocking.run { () -> Int32 in
                // The usual umask, which leaves what is made open to group and others unless
                // hipkit asks for a private mode.
                let process = try ChildProcess(
                    URL(fileURLWithPath: "/bin/sh"),
                    ["-c", "umask 022 && exec \"$0\" \"$@\"", Self.executable.path] + arguments)
                process.waitUntilExit()
                return process.terminationStatus
            }
            #expect(status == 0, "hipkit \(arguments[0]) exited with \(status)")
        }
        func mode(_ path: String) -> String {
            let number = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? NSNumber
            return number.map { String($0.intValue, radix: 8) } ?? "missing"
        }
        let data = project.appendingPathComponent(".hipkit")
        #expect(mode(data.path) == "700")
        #expect(mode(data.appendingPathComponent("cache").path) == "700")

        let server = try Server(
            arguments: ["serve", project.appendingPathComponent("dist").path, "--port", "0"], logFolder: root)
        try await server.waitUntilListening()
        // "serving" is said once the server listens, with the port the system chose for port 0.
        let deadline = Date().addingTimeInterval(60)
        while !server.log.contains("serving"), Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(server.log.contains("address=127.0.0.1:\(server.port)"), "\(server.log)")
        kill(server.process.processIdentifier, SIGTERM)
        #expect(await server.waitForExit(seconds: 60))
        #expect(!server.log.contains("open to"), "\(server.log)")
        #expect(mode(data.appendingPathComponent("hipkit.sqlite").path) == "600")
        #expect(mode(data.appendingPathComponent("secret.key").path) == "600")
    }

    /// The first SIGINT lets the requests in flight finish; one waiting on a HipChat that does
    /// not answer takes up to the outgoing timeout (10 s). A second SIGINT stops it at once;
    /// before, it was ignored. One that follows the first within half a second is the same
    /// Ctrl-C delivered twice.
    @Test("a second SIGINT stops the server at once while a request waits on a silent HipChat")
    func secondInterruptStopsAtOnce() async throws {
        let site = try TestSite()
        defer { site.remove() }
        // Listens and never accepts: the kernel takes the connection and the request, and no
        // answer ever comes.
        let (silent, fd) = try Loopback.listeningSocket()
        defer { close(fd) }
        let server = try Server(site: site, extra: ["--trust-host", "127.0.0.1:\(silent)"])
        try await server.waitUntilListening()
        let install = Task {
            try? await server.request(
                "/installed", method: "POST", headers: ["Content-Type": "application/json"],
                body:
                    #"{"oauthId": "\#(Fixture.oauthId)", "oauthSecret": "\#(Fixture.secret)", "capabilitiesUrl": "http://127.0.0.1:\#(silent)/v2/capabilities", "groupId": 1}"#
            )
        }
        defer { install.cancel() }
        // Once the server's call to the silent HipChat waits in its queue.
        let called = try await Blocking.run {
            var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            return poll(&waiting, 1, 60_000) == 1
        }
        #expect(called, "the install never called the silent HipChat: \(server.log)")

        // On a thread of its own: the two signals must come within half a second of each other,
        // and the third well within the outgoing call's 10 s, however long this test's task
        // waits for one of the concurrency pool's threads.
        let process = server.process
        let (stoppedEarly, stopped, afterSecond) = try await Blocking.run {
            let pid = process.processIdentifier
            kill(pid, SIGINT)
            // The same Ctrl-C delivered twice, as through `npm run`, is one.
            usleep(50_000)
            kill(pid, SIGINT)
            let stoppedEarly = process.wait(timeout: 1)
            let second = ContinuousClock.now
            kill(pid, SIGINT)
            return (stoppedEarly, process.wait(timeout: 60), ContinuousClock.now - second)
        }
        #expect(!stoppedEarly, "the install in flight was not waited for: \(server.log)")
        #expect(stopped)
        // Well before the outgoing call's 10 s timeout would have ended the wait.
        #expect(afterSecond < .seconds(5), "\(server.log)")
        #expect(server.process.terminationStatus == 0, "\(server.log)")
        #expect(server.log.contains("stopped"), "\(server.log)")
    }

    /// The other way: while rotate-key or copy-store holds the folder, a server does not start
    /// on it (it would open the store under a key being replaced); once they let go, it does.
    @Test("a server does not start on a data folder rotate-key or copy-store is working on")
    func serverWaitsForKeyAndCopy() async throws {
        let site = try TestSite()
        defer { site.remove() }
        var held: FolderLock? = try FolderLock.alone(in: site.data, for: "rotate-key")
        let refused = try Server(site: site)
        #expect(await refused.waitForExit(seconds: 60))
        #expect(refused.process.terminationStatus == 2, "\(refused.log)")
        #expect(refused.log.contains("is being worked on by hipkit rotate-key or copy-store"), "\(refused.log)")
        #expect(!refused.log.contains("serving"), "\(refused.log)")
        // A second alone while it is held names another tool, not a server.
        do {
            _ = try FolderLock.alone(in: site.data, for: "copy-store")
            Issue.record("a second lock alone was taken while the first was held")
        } catch {
            #expect("\(error)".contains("another hipkit rotate-key or copy-store is working on"), "\(error)")
        }
        held = nil
        #expect(held == nil)
        let server = try Server(site: site)
        try await server.waitUntilListening()
        kill(server.process.processIdentifier, SIGTERM)
        #expect(await server.waitForExit(seconds: 60))
    }

    /// A build for this machine (`--env dev`: http://localhost:8080) served on another port:
    /// the local HipChat would look for the add-on where nothing is. A public URL, served
    /// through a proxy on any port, is no cause for a word.
    @Test("a build for a local address served on another port is a warning naming both")
    func aLocalBuildOnAnotherPort() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let descriptor = site.dist.appendingPathComponent("atlassian-connect.json")
        let text = try String(contentsOf: descriptor, encoding: .utf8)
        try text.replacingOccurrences(
            of: "https://incidents.example.com/atlassian-connect.json",
            with: "http://localhost:8080/atlassian-connect.json"
        ).write(to: descriptor, atomically: true, encoding: .utf8)
        let server = try Server(site: site)
        try await server.waitUntilListening()
        kill(server.process.processIdentifier, SIGTERM)
        #expect(await server.waitForExit(seconds: 60))
        #expect(
            server.log.contains(
                "the build's descriptor is http://localhost:8080/atlassian-connect.json, on this machine's port 8080, but this server listens on \(server.port)"
            ), "\(server.log)")

        let other = try TestSite()
        defer { other.remove() }
        let public_ = try Server(site: other)
        try await public_.waitUntilListening()
        kill(public_.process.processIdentifier, SIGTERM)
        #expect(await public_.waitForExit(seconds: 60))
        #expect(!public_.log.contains("the build's descriptor is"), "\(public_.log)")
    }

    /// A server keeps the store's key in memory: rotate-key under it left every JWT-checked
    /// request failing until a restart. While a server runs on a data folder, rotate-key and
    /// copy-store of that folder are refused, and change nothing; once it stops, they work.
    @Test("rotate-key and copy-store refuse a data folder a server runs on")
    func keyAndCopyWaitForTheServer() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let server = try Server(site: site)
        try await server.waitUntilListening()
        let key = try Data(contentsOf: site.data.appendingPathComponent("secret.key"))
        let copy = site.root.appendingPathComponent("copy")
        for arguments in [["rotate-key", site.dist.path], ["copy-store", site.data.path, copy.path]] {
            let (status, output) = try await CopyStoreTests.hipkit(arguments, environment: [:])
            #expect(status != 0, "\(arguments): \(output)")
            #expect(output.contains("a hipkit server (serve or dev) is running on"), "\(output)")
            #expect(output.contains("changed nothing"), "\(output)")
        }
        #expect(try Data(contentsOf: site.data.appendingPathComponent("secret.key")) == key)
        #expect(!FileManager.default.fileExists(atPath: copy.path))
        kill(server.process.processIdentifier, SIGTERM)
        #expect(await server.waitForExit(seconds: 60))

        let (rotated, output) = try await CopyStoreTests.hipkit(["rotate-key", site.dist.path], environment: [:])
        #expect(rotated == 0, "\(output)")
        #expect(try Data(contentsOf: site.data.appendingPathComponent("secret.key")) != key)
    }

    @Test("a port something else listens on fails at start with exit status 2 and what to do")
    func portInUse() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let (port, fd) = try Loopback.listeningSocket()
        defer { close(fd) }
        // Before, the server logged nothing and ran on without listening: the push outbox did
        // not end when the failing server cancelled the other services.
        let server = try Server(
            arguments: ["serve", site.dist.path, "--port", String(port), "--data", site.data.path],
            logFolder: site.root)
        #expect(await server.waitForExit(seconds: 60))
        #expect(server.process.terminationStatus == 2)
        #expect(
            server.log.contains("cannot listen on 127.0.0.1:\(port): something else listens there"), "\(server.log)")
        #expect(server.log.contains("choose another port with --port"))
        #expect(!server.log.contains("serving"), "said before the server could listen: \(server.log)")
        #expect(!server.log.contains("outbox cannot be read"), "a stop taken for a fault: \(server.log)")
    }

    @Test("hipkit emulate on a port something else listens on fails with exit status 2 and what to do")
    func emulatePortInUse() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let (port, fd) = try Loopback.listeningSocket()
        defer { close(fd) }
        let emulator = try Server(
            arguments: ["emulate", "http://127.0.0.1:1/atlassian-connect.json", "--port", String(port)],
            logFolder: site.root)
        #expect(await emulator.waitForExit(seconds: 60))
        #expect(emulator.process.terminationStatus == 2)
        #expect(
            emulator.log.contains("cannot listen on 127.0.0.1:\(port): something else listens there"), "\(emulator.log)"
        )
        #expect(!emulator.log.contains("a local HipChat for"), "said before it could listen: \(emulator.log)")
    }

    @Test("a data folder inside the served folder is refused: its database and key would be served")
    func dataInsideDist() async throws {
        let site = try TestSite()
        defer { site.remove() }
        for data in ["state", "assets/state"] {
            let folder = site.dist.appendingPathComponent(data)
            let server = try Server(
                arguments: ["serve", site.dist.path, "--port", "0", "--data", folder.path], logFolder: site.root)
            #expect(await server.waitForExit(seconds: 60))
            #expect(server.process.terminationStatus == 2)
            #expect(server.log.contains("which is served"), "\(server.log)")
            #expect(!FileManager.default.fileExists(atPath: folder.path))
        }
        // A hidden folder inside it is not served, and is taken.
        let hidden = site.dist.appendingPathComponent(".state")
        let server = try Server(
            arguments: ["serve", site.dist.path, "--port", "0", "--data", hidden.path], logFolder: site.root)
        try await server.waitUntilListening()
        #expect(try await server.request("/.state/secret.key").0 == 404)
        server.process.terminate()
        #expect(await server.waitForExit(seconds: 60))
    }

    @Test("a folder that is no build fails at start with exit status 2, and nothing is written beside it")
    func noBuild() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let empty = site.root.appendingPathComponent("empty/dist")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        for (dist, message) in [
            (site.root.appendingPathComponent("missing/dist"), "no such folder"),
            (empty, "no atlassian-connect.json"),
        ] {
            let server = try Server(arguments: ["serve", dist.path, "--port", "0"], logFolder: site.root)
            #expect(await server.waitForExit(seconds: 60))
            #expect(server.process.terminationStatus == 2)
            #expect(server.log.contains(message), "\(server.log)")
            #expect(server.log.contains("run `hipkit build`"), "\(server.log)")
            // Before, the database and a new secret key were made first, and "serving" logged.
            #expect(!server.log.contains("serving"), "\(server.log)")
            let data = dist.deletingLastPathComponent().appendingPathComponent(".hipkit")
            #expect(!FileManager.default.fileExists(atPath: data.path), "\(data.path)")
        }
    }
}
