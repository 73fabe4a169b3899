import Foundation
import HipChatConnect
import TestProcesses
import Testing

@testable import HipKit

/// How `hipkit dev` starts when its first build fails.
@Suite(.timeLimit(.minutes(2)))
struct DevStartTests {
    /// An unknown `--env` ends the command with 2, as it ends `hipkit build`: no edit of a page
    /// fixes it. (It used to keep running on whatever `dist/` held.)
    @Test func anUnknownEnvironmentExitsWithTwo() throws {
        let project = try TestSupport.temporaryDirectory("dev-env")
        defer { try? FileManager.default.removeItem(at: project) }
        #expect(try TestSupport.hipkit(["init", project.path, "--template", "glance"]).status == 0)
        #expect(try TestSupport.hipkit(["build", project.path]).status == 0)
        let run = try TestSupport.hipkit([
            "dev", project.path, "--env", "nope", "--port", String(try DevProcess.freePort()),
        ])
        #expect(run.status == 2, "\(run.stdout)\(run.stderr)")
        #expect((run.stdout + run.stderr).contains("no environment 'nope'"))
    }

    /// A port something else listens on ends the command with 2 and what to do, and nothing
    /// says "serving" first (it did, before the bind failed).
    /// A taken port is found before the first build: that build would replace `dist/` (a
    /// production build, here) with one for an address nothing serves.
    @Test func aTakenPortExitsWithTwoWithoutSayingServing() throws {
        let project = try TestSupport.temporaryDirectory("dev-port")
        defer { try? FileManager.default.removeItem(at: project) }
        #expect(try TestSupport.hipkit(["init", project.path, "--template", "glance"]).status == 0)
        #expect(try TestSupport.hipkit(["build", project.path]).status == 0)
        let dist = project.appendingPathComponent("dist")
        let before = try FileTree.files(under: dist).sorted()
        let descriptor = try Data(contentsOf: dist.appendingPathComponent("atlassian-connect.json"))
        let (port, fd) = try DevProcess.loopback.listening()
        defer { close(fd) }
        let log = project.appendingPathComponent("dev.log")
        let child = try ChildProcess(
            TestSupport.hipkitExecutable, ["dev", project.path, "--port", String(port)],
            standardOutput: .file(log), standardError: .standardOutput)
        // A dev that ran on instead of stopping fails here rather than hanging the suite.
        let exited = child.wait(timeout: 60)
        if !exited { child.signal(SIGKILL) }
        child.waitUntilExit()
        #expect(exited, "hipkit dev did not stop")
        let output = try String(contentsOf: log, encoding: .utf8)
        #expect(child.terminationStatus == 2, "\(output)")
        #expect(output.contains("cannot listen on 127.0.0.1:\(port): something else listens there"), "\(output)")
        #expect(!output.contains("hipkit dev: serving"), "\(output)")
        #expect(!output.contains("built"), "\(output)")
        #expect(try FileTree.files(under: dist).sorted() == before)
        #expect(try Data(contentsOf: dist.appendingPathComponent("atlassian-connect.json")) == descriptor)
    }

    /// A start compares its first build with what `dist/` holds: nothing changed when the
    /// project did not (it reported every file changed), and the one page that did.
    @Test func aStartReportsWhatChangedSinceTheLastBuild() throws {
        let project = try TestSupport.temporaryDirectory("dev-changed")
        defer { try? FileManager.default.removeItem(at: project) }
        #expect(try TestSupport.hipkit(["init", project.path, "--template", "glance"]).status == 0)
        let port = try DevProcess.freePort()
        func firstReport() throws -> String {
            let dev = try DevProcess(port: port, readyPath: "/_hipkit/dev/status") { port in
                ["dev", project.path, "--port", String(port)]
            }
            defer { dev.stop() }
            return dev.log.split(separator: "\n").first { $0.contains("hipkit dev: built in") }.map(String.init)
                ?? dev.log
        }
        #expect(try firstReport().contains("files changed"), "the first start writes the build")
        #expect(try firstReport().hasSuffix(": nothing changed"))
        let page = try #require(try FileTree.files(under: project.appendingPathComponent("pages")).first)
        let pageURL = project.appendingPathComponent("pages/" + page)
        try TestSupport.write(try String(contentsOf: pageURL, encoding: .utf8) + "\nOne more line.\n", to: pageURL)
        #expect(try firstReport().hasSuffix(": 1 file changed"))
    }

    /// A second `hipkit dev` on a project is refused, naming where the first serves: it
    /// rebuilt the same `dist/` for its own address under the first one's server, which then
    /// served a descriptor pointing at the second.
    @Test func aSecondDevOnAProjectIsRefusedNamingTheFirst() throws {
        let project = try TestSupport.temporaryDirectory("dev-twice")
        defer { try? FileManager.default.removeItem(at: project) }
        #expect(try TestSupport.hipkit(["init", project.path, "--template", "glance"]).status == 0)
        let dev = try DevProcess(port: try DevProcess.freePort(), readyPath: "/_hipkit/dev/status") { port in
            ["dev", project.path, "--port", String(port)]
        }
        defer { dev.stop() }
        let descriptor = project.appendingPathComponent("dist/atlassian-connect.json")
        let before = try Data(contentsOf: descriptor)
        let second = try TestSupport.hipkit(["dev", project.path, "--port", String(try DevProcess.freePort())])
        #expect(second.status == 2, "\(second.stderr)")
        #expect(
            second.stderr.contains("another hipkit dev runs on this project, at http://127.0.0.1:\(dev.port)/"),
            "\(second.stderr)")
        #expect(try Data(contentsOf: descriptor) == before)
    }

    /// A `dist/` built for another address (another port, or production) is not served while the
    /// first build fails: the local HipChat would install an add-on at that other address. Until
    /// the first good build every address answers 503 with the problems; then the build made for
    /// this address is served.
    @Test func aPreviousBuildForAnotherAddressIsNotServed() async throws {
        let project = try TestSupport.temporaryDirectory("dev-stale")
        defer { try? FileManager.default.removeItem(at: project) }
        #expect(try TestSupport.hipkit(["init", project.path, "--template", "glance"]).status == 0)
        #expect(
            try TestSupport.hipkit(["build", project.path, "--base-url", "http://127.0.0.1:1"]).status == 0)
        let spec = project.appendingPathComponent("addon.yaml")
        let good = try String(contentsOf: spec, encoding: .utf8)
        try TestSupport.write(good + "\nkey: [broken\n", to: spec)

        let dev = try await Blocking.run { try DevProcess(project: project) }
        defer { dev.stop() }
        // Said once the server listens, which may be just after it first answers.
        let said = try await Blocking.run { () -> Bool in
            for _ in 0..<200 where !dev.log.contains("waiting for the errors to be fixed") { usleep(50_000) }
            return dev.log.contains("waiting for the errors to be fixed")
        }
        #expect(said, "\(dev.log)")
        let descriptor = await dev.fetch("GET", ConnectDescriptor.fileName)
        #expect(descriptor.status == 503, "nothing is served yet")
        let page = await dev.fetch("GET", "")
        let text = String(decoding: page.body, as: UTF8.self)
        #expect(page.status == 503)
        #expect(text.contains("the project does not build yet"), "\(text)")
        #expect(text.contains("addon.yaml:") && text.contains("flow sequence"), "the page shows the problem: \(text)")
        #expect(!text.contains("127.0.0.1:1"))

        try TestSupport.write(good, to: spec)
        let served = try await Blocking.run { () -> Data? in
            for _ in 0..<600 {
                if let data = try? dev.get(ConnectDescriptor.fileName) { return data }
                usleep(50_000)
            }
            return nil
        }
        let servedText = served.map { String(decoding: $0, as: UTF8.self) } ?? ""
        #expect(servedText.contains("http://127.0.0.1:\(dev.port)/"), "\(servedText)\n\(dev.log)")
        #expect(!servedText.contains("127.0.0.1:1/"))
    }

    /// Ctrl-C while waiting for a first good build stops `hipkit dev` at once, and cleanly.
    @Test func ctrlCWhileWaitingForAGoodBuildStops() async throws {
        let project = try TestSupport.temporaryDirectory("dev-wait-stop")
        defer { try? FileManager.default.removeItem(at: project) }
        #expect(try TestSupport.hipkit(["init", project.path, "--template", "glance"]).status == 0)
        let spec = project.appendingPathComponent("addon.yaml")
        try TestSupport.write(try String(contentsOf: spec, encoding: .utf8) + "\nkey: [broken\n", to: spec)
        let dev = try await Blocking.run { try DevProcess(project: project) }
        #expect(await dev.fetch("GET", "").status == 503)
        #expect(try await Blocking.run { dev.stop() }, "\(dev.log)")
        #expect(dev.process.terminationStatus == 0, "\(dev.log)")
    }
}
