import Foundation
import HipChatConnect
import HipKit
import Logging

@testable import HipKitServer

/// A copy of the fixture `dist/` in a fresh temporary project folder, with its data folder
/// beside it, removed when the test is done.
struct TestSite {
    let root: URL
    let dist: URL
    let data: URL

    static let fixture: URL = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(
        "dist")

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "hipkit-server-\(UUID().uuidString)", isDirectory: true)
        dist = root.appendingPathComponent("dist", isDirectory: true)
        data = root.appendingPathComponent(".hipkit", isDirectory: true)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.fixture, to: dist)
    }

    func remove() {
        try? FileManager.default.removeItem(at: root)
    }

    /// The server's configuration for the site. It looks at `dist/` for a new build once a
    /// minute: with a look due on every request (`checkInterval: 0`), live servers would pass
    /// every request on to the responder, and the answers made on the event loop — what
    /// `hipkit serve` gives most requests — would go untested.
    func configuration(
        adminToken: String? = nil, trustedHosts: [TrustedHost] = [TrustedHost.hipchatCloud],
        verifyInstalls: Bool = true, checkInterval: TimeInterval = 60
    ) -> ServerConfiguration {
        ServerConfiguration(
            distDirectory: dist, host: "127.0.0.1", port: 0, dataDirectory: data, trustedHosts: trustedHosts,
            adminToken: adminToken, verifyInstalls: verifyInstalls, idleTimeout: .seconds(60),
            siteCheckInterval: checkInterval, outgoingTimeout: 60,
            pushRetry: RetryPolicy(maxAttempts: 4, initialDelay: .milliseconds(50), maxDelay: .milliseconds(200)))
    }

    /// The server, with the SQLite store in the data folder opened here so tests can plant
    /// installations directly.
    func server(_ configuration: ServerConfiguration? = nil, logs: LogCapture? = nil) throws -> (
        HipKitServer, SQLiteStore
    ) {
        let configuration = configuration ?? self.configuration()
        let store = try SQLiteStore(file: configuration.databaseFile)
        let logger = logs?.logger ?? Logger(label: "hipkit-test", factory: { _ in SwiftLogNoOpLogHandler() })
        return (HipKitServer(configuration: configuration, logger: logger, store: store), store)
    }

    /// Replaces `old` with `new` in the file at `path` of `dist/`; throws when it does not hold
    /// `old`, so a fixture that changed cannot make the test pass without testing anything.
    func replace(_ old: String, with new: String, in path: String) throws {
        let url = dist.appendingPathComponent(path)
        let text = try String(contentsOf: url, encoding: .utf8)
        guard text.contains(old) else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "\(path) holds no '\(old)'"])
        }
        try text.replacingOccurrences(of: old, with: new).write(to: url, atomically: true, encoding: .utf8)
    }

    /// Moves the descriptor's URLs from `https://incidents.example.com/` to under `base`, its
    /// `links.self` to `selfURL` (which should be under `base`).
    func moveDescriptor(to selfURL: String, base: String) throws {
        let name = "atlassian-connect.json"
        try replace("https://incidents.example.com/" + name, with: selfURL, in: name)
        try replace("https://incidents.example.com/", with: base, in: name)
    }

    func write(_ text: String, to path: String) throws {
        let url = dist.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }
}

/// Installations the tests plant.
enum Fixture {
    static let oauthId = "5d2e4c1a-0b9f-4e6e-9a51-2f1c0de0a001"
    static let secret = "Zq8xR2mN7vK4pL9sT3wY6bH1cF5gJ0dA2eU8iO4n"  // 40 characters, as HipChat's are
    static let otherId = "7a3b2c1d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    static let otherSecret = "Pm4nB7vC2xZ9lK5jH8gF3dS6aQ1wE0rT4yU7iO2p"

    static func installation(
        _ oauthId: String = oauthId, secret: String = secret, groupId: Int = 9001, roomId: Int? = nil,
        apiUrl: String? = nil, tokenUrl: String? = nil
    ) -> Installation {
        Installation(
            oauthId: oauthId, oauthSecret: secret, capabilitiesUrl: "https://api.hipchat.com/v2/capabilities",
            groupId: groupId, roomId: roomId, apiUrl: apiUrl, tokenUrl: tokenUrl)
    }
}
