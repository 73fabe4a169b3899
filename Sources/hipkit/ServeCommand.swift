import ArgumentParser
import Foundation
import HipChatConnect
import HipKit
import HipKitServer
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a built add-on: its files, installs, JWT-checked views, glances, webhooks and settings.",
        discussion: """
            Serves DIST (the output of `hipkit build`) at the paths its atlassian-connect.json names, \
            whatever host that is, and does what a static host cannot: takes HipChat's installs \
            (checked with HipChat unless --no-verify-installs), checks the JWT on views, glance \
            queries, webhooks and settings, answers glance queries with the latest data, and answers \
            webhooks with the spec's canned replies. A new build of DIST is picked up within a second.

            Installations and posted data are kept in DATA/hipkit.sqlite (default: .hipkit/ beside \
            DIST), their secrets encrypted with the key in HIPKIT_SECRET_KEY (32 bytes as base64 or \
            64 hex digits: `openssl rand -base64 32`), else with DATA/secret.key, created on first \
            run. Back the key up with the database: without it the installations cannot be read. \
            With --database (or HIPKIT_DATABASE_URL), installations, glance data, settings and the \
            glance push outbox live in PostgreSQL instead, shared by every `hipkit serve` given the \
            same URL, so several servers can stand behind one load balancer; HIPKIT_SECRET_KEY is \
            then required, the same for all of them. The schema is created or migrated at start. \
            With an admin token, `POST /admin/glances/KEY[?room=ID][&installation=OAUTH_ID]` updates a glance and pushes \
            it to HipChat, `POST /admin/notifications?room=ID[&installation=OAUTH_ID]` sends a message to a room, and \
            `GET /admin/installations` lists installations.

            Environment: HOST, PORT and HIPKIT_ADMIN_TOKEN stand in for the flags; HIPKIT_SECRET_KEY \
            is the secrets' key. SIGTERM or SIGINT stops the server gracefully; a second one stops it at \
            once. GET /healthz answers {"status":"ok"}.

            Examples:
              hipkit serve
              hipkit serve my-addon/dist --port 3000
              HIPKIT_ADMIN_TOKEN=$(openssl rand -hex 20) hipkit serve dist --host 0.0.0.0
              hipkit serve dist --trust-host hipchat.example.com:8443
              HIPKIT_SECRET_KEY=… hipkit serve dist \\
                  --database postgres://hipkit@db.internal/hipkit?sslmode=require
            """)

    @Argument(help: "The built site: `hipkit build`'s output folder.")
    var dist: String = "dist"

    @OptionGroup var listen: ListenOptions

    @Option(name: .customLong("data"), help: "Folder for hipkit.sqlite (default: DIST/../.hipkit).")
    var dataDirectory: String?

    @Option(
        help: ArgumentHelp(
            "A PostgreSQL database several servers share, postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=require] (default: $HIPKIT_DATABASE_URL; without one, SQLite in --data).",
            valueName: "url"))
    var database: String?

    @Option(
        name: .customLong("trust-host"),
        help: "A HipChat host installs may name, HOST[:PORT]; repeatable (default: api.hipchat.com).")
    var trustHosts: [String] = []

    @Option(
        name: .customLong("frame-ancestor"),
        help: "An origin allowed to show views in a frame, besides HipChat's; repeatable (e.g. `hipkit emulate`'s).")
    var frameAncestors: [String] = []

    @Option(help: "Bearer token for the /admin API (default: $HIPKIT_ADMIN_TOKEN; without one the admin API is off).")
    var adminToken: String?

    @Flag(
        help:
            "Store installs without checking them with HipChat. Anyone reaching the server can then install: local use only."
    )
    var noVerifyInstalls = false

    func validate() throws {
        _ = try DatabaseOption.url(database)
        for host in trustHosts where TrustedHost(host) == nil {
            throw ValidationError("--trust-host '\(host)' is not HOST or HOST:PORT")
        }
        for origin in frameAncestors {
            guard let url = URL(string: origin), ["http", "https"].contains(url.scheme ?? ""), url.host != nil,
                !origin.contains(where: { $0 == ";" || $0 == "," || $0.isWhitespace })
            else {
                throw ValidationError("--frame-ancestor '\(origin)' is not an origin such as http://127.0.0.1:8090")
            }
        }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let databaseURL = try DatabaseOption.url(database)
        let resolvedPort = try listen.resolvedPort()
        let logger = listen.logger(defaultLevel: .info)

        let distURL = URL(fileURLWithPath: dist)
        var configuration = ServerConfiguration(
            distDirectory: distURL,
            host: listen.resolvedHost,
            port: resolvedPort,
            dataDirectory: dataDirectory.map { URL(fileURLWithPath: $0, isDirectory: true) },
            trustedHosts: trustHosts.isEmpty ? [TrustedHost.hipchatCloud] : trustHosts.compactMap(TrustedHost.init),
            adminToken: adminToken ?? environment[ServerConfiguration.adminTokenVariable],
            verifyInstalls: !noVerifyInstalls,
            frameAncestors: ServerConfiguration.hipchatFrameAncestors + frameAncestors,
            secretKey: environment[SecretBox.environmentVariable])
        configuration.database = databaseURL
        configuration.releaseStartupPages = true
        let server = HipKitServer(configuration: configuration, logger: logger)
        let selfURL = ConnectDescriptor.selfURL(ofBuild: distURL)
        let serving: @Sendable (Int) -> Void = { [dist, configuration] port in
            logger.info(
                "serving",
                metadata: [
                    "dist": "\(dist)", "address": "\(configuration.host):\(port)",
                    "data": "\(configuration.database?.description ?? configuration.dataDirectory.path)",
                    // Where the key comes from, never the key.
                    "secretKey": "\(configuration.secretKey?.isEmpty == false ? "environment" : "data folder")",
                    "admin": "\(configuration.adminToken == nil ? "off" : "on")",
                    "trusted": "\(configuration.trustedHosts.map(\.description).joined(separator: ","))",
                ])
            if let selfURL, let wrong = Self.otherLocalPort(selfURL, listening: port) {
                logger.warning(
                    "the build's descriptor is \(selfURL), on this machine's port \(wrong), but this server listens on \(port): unless a proxy or a port mapping forwards \(wrong) here, HipChat and hipkit emulate would look for the add-on where nothing is; build with --base-url for port \(port), or serve with --port \(wrong)"
                )
            }
        }
        try await Output.runAsync { try await server.run(onListening: serving) }
    }

    /// The port of `selfURL` when it is on this machine (a loopback host: a build for
    /// `--env dev`) and is not `port`; nil otherwise, for a public URL is usually served
    /// through a proxy on another port.
    static func otherLocalPort(_ selfURL: String, listening port: Int) -> Int? {
        guard let url = URLComponents(string: selfURL), let host = url.host, URLReference.isLoopback(host) else {
            return nil
        }
        let named = url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80)
        return named == port ? nil : named
    }
}
