import Foundation
import Testing

@testable import HipKitServer

/// The executable's pages that starting touched are given back once the server listens.
@Suite struct StartupPagesTests {
    /// In a `hipkit serve` of its own: in the test process, the tests running beside this one
    /// bring pages back as soon as they are given. It runs a copy of the executable, because
    /// the kernel gives back only pages no other process maps, and other tests run servers.
    /// What was resident before, the server says in its log (sampled from here, the moment
    /// could be missed); what stays resident after is measured from here.
    @Test func theExecutablesPagesAreGivenBackOnceTheServerListens() async throws {
        let site = try TestSite()
        defer { site.remove() }
        let copy = site.root.appendingPathComponent("hipkit")
        try FileManager.default.copyItem(at: ServeCommandTests.executable, to: copy)
        let server = try ServeCommandTests.Server(
            arguments: ["serve", site.dist.path, "--port", "0", "--data", site.data.path, "--log-level", "debug"],
            logFolder: site.root, executable: copy)
        try await server.waitUntilListening()
        let deadline = ContinuousClock.now + .seconds(60)
        while !server.log.contains("startup pages given back"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        let line = try #require(server.log.split(separator: "\n").first { $0.contains("startup pages given back") })
        let before = try #require(
            line.firstRange(of: "resident_kib_before=").flatMap { Int(line[$0.upperBound...].prefix { $0.isNumber }) })
        #expect(before > 4096, "\(line)")
        let now = StartupPages.residentKiB(pid: String(server.process.processIdentifier))
        #expect(now > 0 && now < before / 2, "\(before) KiB resident before, \(now) KiB now")
        let (status, _) = try await server.request("/healthz")
        #expect(status == 200, "pages given back come back when used")
    }

    @Test func releaseAsksAboutTheExecutablesMappings() {
        #expect(StartupPages.release() > 1024 * 1024)
        #expect(StartupPages.residentKiB() > 0)
    }
}
