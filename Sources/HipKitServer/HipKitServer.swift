import Foundation
import HipChatConnect
import HipKit
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The runtime behind `hipkit serve`: serves a built `dist/` and does what a static host
/// cannot — checks HipChat's JWTs on views and glances, takes installs, answers glance
/// queries, webhooks and configuration settings, and pushes glance updates.
///
/// ```swift
/// try await HipKitServer(configuration: ServerConfiguration(distDirectory: dist)).run()
/// ```
public struct HipKitServer: Sendable {
    public let configuration: ServerConfiguration
    public let logger: Logger
    private let storeOverride: (any InstallationStore)?
    /// Set by `hipkit dev`: live reload and the error overlay.
    public var dev: DevSession?
    /// Set by `hipkit dev`: the local HipChat at `/_hipchat/`.
    public var hipchat: LocalHipChat?
    /// Services run alongside the server and stopped with it (`hipkit dev`'s rebuilder).
    public var services: [any Service] = []

    public init(configuration: ServerConfiguration, logger: Logger = Logger(label: "hipkit")) {
        self.init(configuration: configuration, logger: logger, store: nil)
    }

    /// With a store of the caller's (tests, or another database).
    public init(
        configuration: ServerConfiguration, logger: Logger = Logger(label: "hipkit"), store: (any InstallationStore)?
    ) {
        self.configuration = configuration
        self.logger = logger
        self.storeOverride = store
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting connections, finishes the requests
    /// in flight and closes the store. `onListening` is called with the port once the server
    /// listens (the one the system chose, for port 0), so whatever it says ("serving …") is not
    /// said when the address is taken.
    ///
    /// The build is read first: a folder that is no build (or not there) stops the server
    /// before it creates a database or a secret key beside it.
    public func run(onListening: (@Sendable (_ port: Int) -> Void)? = nil) async throws {
        try configuration.checkDataOutsideDist()
        let site = try makeSiteWatcher()
        // Held while the server runs: no rotate-key or copy-store changes its data folder under it.
        // Whether it is the only server there is asked first: only then are the pushes claimed
        // when the store was last used free at once (another may be sending them).
        var folderLock: FolderLock?
        var alone = true
        if storeOverride == nil && configuration.database == nil {
            alone = FolderLock.isFree(configuration.dataDirectory)
            folderLock = try FolderLock.forServer(in: configuration.dataDirectory)
        }
        defer { withExtendedLifetime(folderLock) {} }
        let store = try await openStore(releasingClaims: alone)
        let application: any ApplicationProtocol
        do {
            let (responder, pusher) = try makeResponder(store: store, site: site)
            application = makeApplication(
                responder: responder, pusher: pusher, store: store, onListening: onListening)
        } catch {
            if storeOverride == nil { try? await store.close() }
            throw error
        }
        try await Self.listening(host: configuration.host, port: configuration.port) {
            try await SignalledServices([application], logger: logger).run()
        }
        logger.info("stopped")
    }

    /// Runs `body`, which binds `host`:`port`, and says why it cannot as ``listenError(_:host:port:)``.
    static func listening(host: String, port: Int, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as IOError where [EADDRINUSE, EACCES, EADDRNOTAVAIL].contains(error.errnoCode) {
            throw listenError(error.errnoCode, host: host, port: port)
        }
    }

    /// Throws what ``listenError(_:host:port:)`` says when nothing can listen at `host`:`port`
    /// now (something else does), before work that the server then could not use: `hipkit dev`
    /// replaces its output folder with a build for this address, which on a taken port replaced
    /// a production build for nothing. The server's own bind still reports a port taken since.
    public static func checkCanListen(host: String, port: Int) async throws {
        try await listening(host: host, port: port) {
            // As Hummingbird binds: an address in TIME_WAIT can be taken again.
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port).get()
            try await channel.close()
        }
    }

    /// Why the server cannot listen at `host`:`port`, and what to do about it.
    static func listenError(_ code: Int32, host: String, port: Int) -> HipKitError {
        switch code {
        case EADDRINUSE:
            return HipKitError(
                "cannot listen on \(host):\(port): something else listens there",
                hint: "stop it, or choose another port with --port")
        case EACCES:
            return HipKitError(
                "cannot listen on \(host):\(port): ports below 1024 need privileges",
                hint: "choose a port from 1024 up with --port")
        default:
            return HipKitError(
                "cannot listen on \(host):\(port): no interface of this machine has that address",
                hint: "choose another with --host, such as 127.0.0.1 or 0.0.0.0")
        }
    }

    /// The store the configuration names: the caller's, PostgreSQL at ``ServerConfiguration/database``
    /// (connected, migrated, listening for changes), or SQLite in the data folder — freeing the
    /// pushes claimed when it was last used, unless `releasingClaims` is false (another server
    /// runs on the folder; see ``SQLiteStore/init(file:secrets:releasingClaims:)``).
    public func openStore(releasingClaims: Bool = true) async throws -> any InstallationStore {
        if let storeOverride { return storeOverride }
        guard let database = configuration.database else { return try openSQLite(releasingClaims: releasingClaims) }
        guard let key = configuration.secretKey, !key.isEmpty else {
            throw HipKitError(
                "--database needs HIPKIT_SECRET_KEY",
                hint: "every instance on one database seals and opens the installations' secrets with the same key: "
                    + "set HIPKIT_SECRET_KEY to it (32 bytes as base64 or 64 hex digits: `openssl rand -base64 32`)")
        }
        let secrets: SecretBox
        do {
            secrets = try SecretBox(keyBytes: SecretBox.parseKey(key))
        } catch {
            throw HipKitError("HIPKIT_SECRET_KEY: \(error)", hint: "32 bytes as base64 or 64 hex digits")
        }
        do {
            return try await PostgresStore.open(url: database, secrets: secrets, logger: logger)
        } catch let error as PostgresStoreError {
            throw HipKitError("cannot use \(database): \(error)")
        } catch {
            throw HipKitError(
                "cannot use \(database): \(String(reflecting: error))",
                hint:
                    "check that PostgreSQL answers at \(database.host):\(database.port), and the user, password and database"
            )
        }
    }

    private func openSQLite(releasingClaims: Bool = true) throws -> any InstallationStore {
        do {
            let store = try SQLiteStore(
                file: configuration.databaseFile, secretKey: configuration.secretKey, releasingClaims: releasingClaims)
            for warning in DataFolderPermissions.warnings(
                dataDirectory: configuration.dataDirectory, databaseFile: configuration.databaseFile)
            {
                logger.warning("\(warning)")
            }
            return store
        } catch let error as SecretKeyError {
            throw HipKitError(
                "cannot open \(configuration.databaseFile.path): \(error)",
                hint: KeyRotation.interruptedRotationHint(dataDirectory: configuration.dataDirectory))
        } catch {
            throw HipKitError(
                "cannot open \(configuration.databaseFile.path): \(error)",
                hint: "--data names a folder the server can write; it keeps installations there")
        }
    }

    /// The application, ready to run or to test with HummingbirdTesting. Reads `dist/` and
    /// opens the store, so a build that cannot be served or a data folder that cannot be
    /// written fails here, before anything listens.
    public func makeApplication() throws -> some ApplicationProtocol {
        try makeApplication(store: storeOverride ?? openSQLite())
    }

    /// The application on `store`, which it closes when it stops.
    public func makeApplication(store: any InstallationStore) throws -> some ApplicationProtocol {
        let (responder, pusher) = try makeResponder(store: store)
        return makeApplication(responder: responder, pusher: pusher, store: store)
    }

    /// The application around a responder of ``makeResponder(store:)``; `onListening` as for
    /// ``run(onListening:)``.
    func makeApplication(
        responder: ServerResponder, pusher: PushOutboxService, store: any InstallationStore,
        onListening: (@Sendable (_ port: Int) -> Void)? = nil
    ) -> some ApplicationProtocol {
        dev?.onSiteChange { [site = responder.site] in site.refresh() }
        if !configuration.viewsRequireToken {
            logger.warning("views open without HipChat's token (--no-auth): for designing views locally only")
        }
        if !configuration.verifyInstalls {
            logger.warning(
                "installs are not verified with HipChat (--no-verify-installs): anyone who can reach this server can install"
            )
        }
        // Under `hipkit dev` pages carry the reload script, so every answer goes through the responder.
        let answersFilesOnEventLoop = dev == nil && hipchat == nil
        return Application(
            responder: responder,
            server: HTTPServerBuilder { httpResponder in
                HipKitHTTP1Channel(
                    responder: httpResponder, requestTimeout: Self.timeAmount(configuration.requestTimeout),
                    idleTimeout: Self.timeAmount(configuration.idleTimeout),
                    eventLoopResponder: answersFilesOnEventLoop ? responder : nil)
            },
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: Self.serverName),
            services: [StoreService(store: store), pusher] + (dev.map { [$0] } ?? []) + (hipchat.map { [$0] } ?? [])
                + services,
            onServerRunning: { [releasePages = configuration.releaseStartupPages, port = configuration.port, logger] in
                onListening?($0.localAddress?.port ?? port)
                guard releasePages else { return }
                // Hummingbird accepts connections once this returns: the wait runs beside them.
                Task {
                    await pusher.firstLookOver(upTo: .seconds(2))
                    let before = logger.logLevel <= .debug ? StartupPages.residentKiB() : nil
                    await StartupPages.releaseOnThread()
                    if let before {
                        logger.debug(
                            "startup pages given back",
                            metadata: [
                                "resident_kib_before": "\(before)",
                                "resident_kib_after": "\(StartupPages.residentKiB())",
                            ])
                    }
                }
            },
            logger: logger)
    }

    /// The build in ``ServerConfiguration/distDirectory``, read, and looked at again for new ones.
    func makeSiteWatcher() throws -> SiteWatcher {
        try SiteWatcher(
            loader: SiteLoader(dist: configuration.distDirectory), interval: configuration.siteCheckInterval,
            logger: logger)
    }

    /// The responder for every request, and the push outbox it hands notifications to (a
    /// service the application runs); `site` is read here when not given.
    func makeResponder(store: any InstallationStore, site: SiteWatcher? = nil) throws -> (
        ServerResponder, PushOutboxService
    ) {
        let site = try site ?? makeSiteWatcher()
        let verifier = JWTVerifier(store: store, leeway: configuration.jwtLeeway)
        let api = HipChatAPI(
            http: OutgoingHTTP(timeout: configuration.outgoingTimeout),
            trust: URLTrust(trustedHosts: configuration.trustedHosts))
        let tokens = AccessTokens(api: api)
        let pusher = PushOutboxService(
            store: store, api: api, tokens: tokens, retry: configuration.pushRetry, lease: configuration.pushLease,
            logger: logger)
        let responder = ServerResponder(
            configuration: configuration,
            site: site,
            verifier: verifier,
            install: InstallHandler(
                store: store, api: api, tokens: tokens, verifier: verifier,
                verifyInstalls: configuration.verifyInstalls, logger: logger),
            glances: GlanceQueryHandler(verifier: verifier),
            webhooks: WebhookHandler(store: store, verifier: verifier, logger: logger),
            settings: SettingsHandler(store: store, verifier: verifier, logger: logger),
            viewNotifications: ViewNotificationHandler(
                verifier: verifier, notifications: NotificationQueue(store: store, pusher: pusher, logger: logger),
                limiter: RateLimiter()),
            admin: configuration.adminToken.map {
                AdminHandler(token: $0, store: store, pusher: pusher, logger: logger)
            },
            dev: dev.map(DevRoutes.init(session:)),
            hipchat: hipchat.map(LocalHipChatRoutes.init(hipchat:)),
            logger: logger)
        return (responder, pusher)
    }

    /// Every answer's `Server` header.
    static let serverName = "hipkit"

    /// A Swift `Duration` as NIO's `TimeAmount`.
    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }
}
