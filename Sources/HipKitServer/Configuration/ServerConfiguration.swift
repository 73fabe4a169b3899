import Foundation
import HipChatConnect
import HipKit

/// Everything `hipkit serve` can be told. The command fills it from flags and environment
/// variables; tests build it directly, shortening the timings that would slow them down.
public struct ServerConfiguration: Sendable {
    /// The built site: `hipkit build`'s output folder.
    public var distDirectory: URL
    public var host: String
    public var port: Int
    /// Where `hipkit.sqlite` lives. Kept outside `dist/` because a build replaces `dist/` whole.
    public var dataDirectory: URL
    /// Hosts the server may call during an install and when pushing glances.
    public var trustedHosts: [TrustedHost]
    /// The bearer token for `/admin/…`; without one, those paths answer 404 saying the admin
    /// API is off.
    public var adminToken: String?
    /// Whether an install is checked with HipChat before it is stored. Turning this off lets
    /// anyone who can reach the server plant a shared secret: for local experiments only.
    public var verifyInstalls: Bool
    /// The `frame-ancestors` sources allowed to frame views (the pages HipChat shows in iframes).
    public var frameAncestors: [String]
    /// How far `exp`, `nbf` and `iat` may be off, for clocks that disagree a little.
    public var jwtLeeway: TimeInterval
    /// The largest request body accepted; beyond it the answer is 413.
    public var maxBodyBytes: Int
    /// How long a connection may stay silent (also while sending a request) before it is closed.
    public var idleTimeout: Duration
    /// How long a request may take to arrive: its head from the connection's start (or the
    /// previous answer), its body from its head. Bounds clients that send slowly without ever
    /// falling silent.
    public var requestTimeout: Duration
    /// How often, at most, the server looks at `dist/` for a new build.
    public var siteCheckInterval: TimeInterval
    /// Time allowed for each call to HipChat (capabilities, token, glance push).
    public var outgoingTimeout: TimeInterval
    /// How glance pushes that failed are tried again.
    public var pushRetry: RetryPolicy
    /// Whether views the descriptor marks `authentication: jwt` need HipChat's token. Only
    /// `hipkit dev --no-auth` turns this off, to open views in a plain browser tab while
    /// designing them; glances, webhooks, settings and installs keep their checks.
    public var viewsRequireToken: Bool = true
    /// The key that encrypts the stored secrets, as `HIPKIT_SECRET_KEY` gives it (base64 or 64
    /// hex digits). Nil: the data folder's `secret.key`, created on first run.
    public var secretKey: String?
    /// The PostgreSQL database several servers share (`--database`, `HIPKIT_DATABASE_URL`); nil
    /// keeps installations in SQLite in ``dataDirectory``. With one, ``secretKey`` is required:
    /// every instance must seal and open secrets with the same key.
    public var database: DatabaseURL?
    /// Once listening, give back the pages of the executable that starting touched
    /// (``StartupPages``). `hipkit serve` does; a server inside another program (the tests,
    /// `hipkit dev`) leaves its host's pages alone.
    public var releaseStartupPages = false

    public init(
        distDirectory: URL,
        host: String = "127.0.0.1",
        port: Int = 8080,
        dataDirectory: URL? = nil,
        trustedHosts: [TrustedHost] = [TrustedHost.hipchatCloud],
        adminToken: String? = nil,
        verifyInstalls: Bool = true,
        frameAncestors: [String] = ServerConfiguration.hipchatFrameAncestors,
        jwtLeeway: TimeInterval = 60,
        maxBodyBytes: Int = 64 * 1024,
        idleTimeout: Duration = .seconds(30),
        requestTimeout: Duration = .seconds(30),
        siteCheckInterval: TimeInterval = 1,
        outgoingTimeout: TimeInterval = 10,
        pushRetry: RetryPolicy = RetryPolicy(),
        secretKey: String? = nil
    ) {
        self.distDirectory = distDirectory.standardizedFileURL
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory ?? Self.defaultDataDirectory(for: distDirectory)
        self.trustedHosts = trustedHosts
        // Trimmed: a header's value is read without the spaces around it, so a token with
        // them (a line of an EnvironmentFile, `--admin-token ' '`) could never be matched.
        self.adminToken = adminToken.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap {
            $0.isEmpty ? nil : $0
        }
        self.verifyInstalls = verifyInstalls
        self.frameAncestors = frameAncestors
        self.jwtLeeway = jwtLeeway
        self.maxBodyBytes = maxBodyBytes
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
        self.siteCheckInterval = siteCheckInterval
        self.outgoingTimeout = outgoingTimeout
        self.pushRetry = pushRetry
        self.secretKey = secretKey
    }

    /// The origins that may frame the add-on's views: its own, and HipChat's.
    public static let hipchatFrameAncestors = ["'self'", "https://*.hipchat.com"]
    /// The environment variable that stands in for `--admin-token`.
    public static let adminTokenVariable = "HIPKIT_ADMIN_TOKEN"
    /// The environment variable that stands in for `--database`.
    public static let databaseVariable = "HIPKIT_DATABASE_URL"

    /// `hipkit dev`'s server: the project's build on loopback, with its data in the project's
    /// `.hipkit/`, trusting HipChat and the local HipChat on the same port, framed by both, and
    /// with a fresh build looked for every second.
    public static func dev(
        dist: URL, project: ProjectLayout, host: String, port: Int, adminToken: String?, viewsRequireToken: Bool,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> ServerConfiguration {
        var configuration = ServerConfiguration(
            distDirectory: dist, host: host, port: port,
            dataDirectory: project.hipkitDirectory,
            trustedHosts: [TrustedHost.hipchatCloud]
                + [TrustedHost("127.0.0.1:\(port)"), TrustedHost("localhost:\(port)")].compactMap { $0 },
            adminToken: adminToken ?? environment[adminTokenVariable],
            frameAncestors: hipchatFrameAncestors + ["http://127.0.0.1:*", "http://localhost:*"],
            siteCheckInterval: 1)
        configuration.viewsRequireToken = viewsRequireToken
        configuration.secretKey = environment[SecretBox.environmentVariable]
        return configuration
    }

    /// `.hipkit/` beside `dist/`, in the project folder, so the data outlives every rebuild.
    public static func defaultDataDirectory(for dist: URL) -> URL {
        ProjectLayout(directory: dist.standardizedFileURL.deletingLastPathComponent()).hipkitDirectory
    }

    /// How long a glance push taken from the outbox is this server's alone: two calls to HipChat
    /// (a token and the push) and a margin. Another server sharing the database takes the push
    /// again after this when the one that took it died.
    public var pushLease: Duration {
        .milliseconds(Int64(outgoingTimeout * 2000)) + .seconds(5)
    }

    /// Refuses a data folder inside the served folder: every file there is served, the
    /// database and the secrets' key with them. (Files and folders whose names start with a dot
    /// are not served, so the default `.hipkit` beside `dist/` would be safe even inside it.)
    public func checkDataOutsideDist() throws {
        // Only what SQLite keeps there matters; with PostgreSQL the folder holds nothing.
        guard database == nil else { return }
        func real(_ url: URL) -> String { url.standardizedFileURL.resolvingSymlinksInPath().path }
        let (dist, data) = (real(distDirectory), real(dataDirectory))
        guard data == dist || data.hasPrefix(dist + "/") else { return }
        let hidden = data.dropFirst(dist.count).split(separator: "/").contains {
            $0.hasPrefix(".") && $0 != ".well-known"
        }
        guard !hidden else { return }
        throw HipKitError(
            "the data folder \(dataDirectory.path) is inside \(distDirectory.path), which is served: "
                + "its database and secret key would be downloadable",
            hint: "keep --data outside the build folder (the default is .hipkit beside it)")
    }

    /// The SQLite file in ``dataDirectory``.
    public var databaseFile: URL { dataDirectory.appendingPathComponent("hipkit.sqlite") }
}
