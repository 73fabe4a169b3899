import Foundation
import HipChatConnect
import Testing

@testable import HipKitServer

/// The raw test client must leave the server under test room to answer. Its sockets block;
/// run on Swift's concurrency pool (as many threads as cores), a few clients waiting at once
/// would hold every thread the server's handlers need, and a request would go unanswered until
/// the clients gave up.
@Suite("The raw test client")
struct RawConnectionTests {
    @Test("clients waiting on the server do not keep it from answering another")
    func waitingClientsLeaveTheServerRoom() async throws {
        let site = try TestSite()
        defer { site.remove() }
        try await withLiveServer(site) { _, port, _ in
            let waiting = ProcessInfo.processInfo.activeProcessorCount + 1
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Each sends half a request and waits 20 s for an answer that cannot come. On the
                // concurrency pool they would hold every thread for those 20 s, and the request
                // below would be answered only after they gave up.
                for _ in 0..<waiting {
                    group.addTask {
                        _ = try await RawConnection.drive(
                            port: port, parts: [Array("GET /index.html HTTP/1.1\r\nHost: lo".utf8)], timeout: 20)
                    }
                }
                try await Task.sleep(for: .milliseconds(300))
                let answer = try await RawConnection.drive(
                    port: port,
                    parts: [RawConnection.request("GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close")],
                    timeout: 10)
                let took = answer.lasted
                #expect(answer.status == 200)
                // Far below the waiting clients' 20 s, and far above what a loaded machine takes to
                // answer (under 8 s with both cores busy and the whole suite running).
                #expect(took < .seconds(12), "answered after \(took), with \(waiting) clients waiting")
                try await group.waitForAll()
            }
        }
    }
}
