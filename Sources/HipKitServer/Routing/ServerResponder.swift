import Foundation
import HipChatConnect
import Hummingbird
import Logging
import Synchronization

/// Every request goes through here: one log line, the body limit, then the route.
///
/// Routes come from the build being served (descriptor and runtime manifest), which can change
/// while the server runs, so they are looked up per request in the current ``SiteSnapshot``
/// rather than registered once in a router. Order: health, admin API, then the descriptor's
/// browser flows and install paths, glances, webhooks, settings, the views' notifications, the
/// descriptor itself, views, and files.
///
/// A class: a struct of this many handlers was copied, field by field, into every request's
/// task (3% of a JWT-checked glance query).
final class ServerResponder: HTTPResponder, Sendable {
    typealias Context = BasicRequestContext

    let configuration: ServerConfiguration
    let site: SiteWatcher
    let verifier: JWTVerifier
    let install: InstallHandler
    let glances: GlanceQueryHandler
    let webhooks: WebhookHandler
    let settings: SettingsHandler
    let viewNotifications: ViewNotificationHandler
    let admin: AdminHandler?
    /// Set under `hipkit dev` only.
    let dev: DevRoutes?
    /// Set under `hipkit dev` only.
    let hipchat: LocalHipChatRoutes?
    let files = StaticResponder()
    let logger: Logger
    /// What every view's answer adds: the hosts that may frame it.
    let viewHeaders: HTTPFields
    /// How many answers ``EventLoopAnswers`` made, for tests and diagnostics: they are logged
    /// exactly as the responder's own.
    let answeredOnEventLoop = Atomic<Int>(0)

    init(
        configuration: ServerConfiguration, site: SiteWatcher, verifier: JWTVerifier,
        install: InstallHandler, glances: GlanceQueryHandler, webhooks: WebhookHandler, settings: SettingsHandler,
        viewNotifications: ViewNotificationHandler, admin: AdminHandler?, dev: DevRoutes?,
        hipchat: LocalHipChatRoutes?, logger: Logger
    ) {
        self.configuration = configuration
        self.site = site
        self.verifier = verifier
        self.install = install
        self.glances = glances
        self.webhooks = webhooks
        self.settings = settings
        self.viewNotifications = viewNotifications
        self.admin = admin
        self.dev = dev
        self.hipchat = hipchat
        self.logger = logger
        viewHeaders = [.contentSecurityPolicy: "frame-ancestors " + configuration.frameAncestors.joined(separator: " ")]
    }

    func respond(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        var failure: APIError?
        var response: Response
        do {
            response = try await route(request, context: context)
        } catch let error as APIError {
            failure = error
            response = error.response(forHTML: Self.wantsHTML(request))
        } catch {
            failure = APIError(.internalServerError, "internal error")
            logger.error(
                "request failed", metadata: ["path": "\(Self.loggedPath(request.uri.path))", "error": "\(error)"])
            response = failure!.response(forHTML: Self.wantsHTML(request))
        }
        if request.method == .head && failure != nil { response = response.createHeadResponse() }
        log(method: request.method, path: request.uri.path, status: response.status, start: start, failure: failure)
        return response
    }

    /// The request's log line, at info. It is made only when it is written: under
    /// `--log-level warning` a request costs no formatting at all.
    func log(
        method: HTTPRequest.Method, path: @autoclosure () -> String, status: HTTPResponse.Status,
        start: ContinuousClock.Instant,
        failure: APIError?
    ) {
        guard logger.logLevel <= .info else { return }
        var metadata: Logger.Metadata = [
            "method": "\(method.rawValue)",
            "path": "\(Self.loggedPath(path()))",
            "status": "\(status.code)",
            "duration_ms": "\(Self.tenths(ContinuousClock.now - start))",
        ]
        if let failure { metadata["error"] = "\(failure.message)" }
        logger.info("request", metadata: metadata)
    }

    /// `elapsed` in milliseconds with one decimal (`12.3`), rounded, without printf.
    static func tenths(_ elapsed: Duration) -> String {
        let tenths = Int((elapsed.inMilliseconds * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// The path as logged: raw (never decoded into something else), without the query — which
    /// is where `signed_request` travels — and bounded.
    static func loggedPath(_ path: String) -> String {
        return path.count > 256 ? String(path.prefix(256)) + "…" : path
    }

    /// A browser navigating (`Accept: text/html…`) gets refusals as a short page.
    static func wantsHTML(_ request: Request) -> Bool {
        request.headers[.accept]?.contains("text/html") ?? false
    }

    /// What `method`, the decoded `path` and `query` name in `build` (by default the build
    /// being served, ``SiteWatcher/current()``). Only ``Route/admin(_:_:)`` and what follows it
    /// look at the build, which is taken once and only then.
    func resolve(method: HTTPRequest.Method, path: String, query: String?, in build: SiteSnapshot? = nil) -> Route {
        if path == "/healthz" { return .health }
        if let dev, path.hasPrefix(DevRoutes.prefix) { return .dev(dev) }
        if let hipchat, LocalHipChatRoutes.claims(path) { return .localHipChat(hipchat) }
        let snapshot = build ?? site.current()
        if let admin, AdminHandler.claims(path) { return .admin(admin, snapshot) }

        let routes = snapshot.routes
        // A browser flow's path may also be a page of the site (`installedUrl: /`): a request
        // without HipChat's installable_url gets the page.
        if let flow = routes.browserFlows[path], method != .post, method != .delete,
            RequestPath.queryParameter("installable_url", in: query) != nil || snapshot.file(forPath: path) == nil
        {
            return .browserFlow(flow)
        }
        if let installPath = routes.installPath {
            if path == installPath { return .install }
            if method == .delete {
                let prefix = installPath.hasSuffix("/") ? installPath : installPath + "/"
                if path.hasPrefix(prefix) { return .uninstall(oauthId: String(path.dropFirst(prefix.count))) }
            }
        }
        if let updatePath = routes.updatePath, path == updatePath { return .update }
        if let glance = snapshot.glancesByPath[path] { return .glance(glance) }
        if let webhook = snapshot.webhooksByPath[path] { return .webhook(webhook, snapshot.settings) }
        if let settingsRoute = snapshot.settings, path == settingsRoute.path { return .settings(settingsRoute) }
        if path == snapshot.notificationsPath {
            return .viewNotifications(snapshot.manifest.viewNotifications)
        }
        if path == routes.selfPath {
            // The descriptor is fetched by HipChat and by browsers (the install page), from anywhere.
            if method == .options { return .descriptorPreflight }
            return .file(
                FileRoute(
                    file: snapshot.descriptor, root: snapshot.root, extraHeaders: [.accessControlAllowOrigin: "*"]))
        }
        let file = snapshot.file(forPath: path)
        // A view's file is a view at any path that names it (`/sidebar` and `/sidebar.html`).
        if let access = snapshot.viewAccess(path: path, file: file) {
            let tokenRequired = access == .jwt && configuration.viewsRequireToken
            guard let file else { return .missingView(tokenRequired: tokenRequired) }
            return .file(
                FileRoute(
                    file: file, root: snapshot.root, cacheControl: access == .jwt ? CachePolicy.privateShort : nil,
                    extraHeaders: viewHeaders, tokenRequired: tokenRequired))
        }
        guard let file else { return .notFound }
        return .file(FileRoute(file: file, root: snapshot.root))
    }

    private func route(_ request: Request, context: Context) async throws -> Response {
        guard let path = RequestPath.decode(request.uri.path) else {
            throw APIError.notFound("no such path")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > configuration.maxBodyBytes {
            throw APIError(.contentTooLarge, "the request body is larger than \(configuration.maxBodyBytes) bytes")
        }
        let readBody: () async throws(APIError) -> JSONNode = { () async throws(APIError) -> JSONNode in
            try await self.readJSON(request)
        }

        // Under dev, read before the build is taken, so a page never names a newer build than its own.
        let devBuild = dev?.servedBuild ?? 0
        switch resolve(method: request.method, path: path, query: request.uri.query) {
        case .health:
            guard request.method == .get || request.method == .head else {
                throw APIError(.methodNotAllowed, "GET /healthz", headers: [.allow: "GET, HEAD"])
            }
            let response = JSONResponse.make(.object(["status": .string("ok")]))
            return request.method == .head ? response.createHeadResponse() : response
        case .dev(let dev):
            return try dev.handle(path: path, request: request)
        case .localHipChat(let hipchat):
            return try await hipchat.handle(path: path, request: request)
        case .admin(let admin, let snapshot):
            return try await admin.handle(path: path, request: request, snapshot: snapshot, body: readBody)
        case .browserFlow(let flow):
            return try await install.browserFlow(flow, request: request)
        case .install:
            guard request.method == .post else {
                throw APIError(.methodNotAllowed, "installs are POSTed", headers: [.allow: "POST"])
            }
            return try await install.install(try await readBody(), isUpdate: false)
        case .update:
            guard request.method == .post else {
                throw APIError(.methodNotAllowed, "updates are POSTed", headers: [.allow: "POST"])
            }
            return try await install.install(try await readBody(), isUpdate: true)
        case .uninstall(let oauthId):
            guard !oauthId.isEmpty, !oauthId.contains("/") else { throw APIError.notFound("no such installation") }
            return try await install.uninstall(oauthId)
        case .glance(let glance):
            return try await glances.handle(glance, request: request)
        case .webhook(let webhook, let settings):
            guard request.method == .post else {
                throw APIError(.methodNotAllowed, "webhooks are POSTed", headers: [.allow: "POST"])
            }
            return try await webhooks.handle(webhook, request: request, body: try await readBody(), settings: settings)
        case .settings(let settingsRoute):
            return try await settings.handle(settingsRoute, request: request, body: readBody)
        case .viewNotifications(let declared):
            return try await viewNotifications.handle(declared, request: request, body: readBody)
        case .descriptorPreflight:
            return Response(
                status: .noContent,
                headers: [
                    .accessControlAllowOrigin: "*", .accessControlAllowMethods: "GET, HEAD, OPTIONS",
                    .accessControlMaxAge: "600",
                ])
        case .missingView(let tokenRequired):
            if tokenRequired { try await checkViewToken(request) }
            throw APIError.notFound("this view's page is not in the build")
        case .file(let route):
            if route.tokenRequired { try await checkViewToken(request) }
            return try await respondFile(
                route.file, request: request, root: route.root, devBuild: devBuild,
                cacheControl: route.cacheControl, extraHeaders: route.extraHeaders)
        case .notFound:
            // The admin API's paths, with the API off: say how to turn it on, rather than let
            // an operator wonder whether the path is wrong.
            if admin == nil, AdminHandler.claims(path) {
                throw APIError(
                    .notFound,
                    "the admin API is off: start the server with HIPKIT_ADMIN_TOKEN set (or --admin-token) to use it")
            }
            throw APIError.notFound()
        }
    }

    /// A view that needs HipChat's token: GET or HEAD, with a valid JWT.
    private func checkViewToken(_ request: Request) async throws {
        guard request.method == .get || request.method == .head else {
            throw APIError(.methodNotAllowed, "views answer GET and HEAD", headers: [.allow: "GET, HEAD"])
        }
        _ = try await verifier.verify(request)
    }

    /// A file of the build; under `hipkit dev`, pages carry the reload script (and `devBuild`,
    /// the build they come from) and nothing is cached, so a reload always shows the newest build.
    private func respondFile(
        _ file: StaticFile, request: Request, root: String, devBuild: Int,
        cacheControl: String? = nil, extraHeaders: HTTPFields = [:]
    ) async throws -> Response {
        guard let dev else {
            return try await files.respond(
                file, request: request, root: root,
                cacheControl: cacheControl, extraHeaders: extraHeaders)
        }
        if file.contentType.hasPrefix("text/html") {
            return try dev.page(file, build: devBuild, request: request, extraHeaders: extraHeaders)
        }
        return try await files.respond(
            file, request: request, root: root,
            cacheControl: "no-cache", extraHeaders: extraHeaders)
    }

    /// The body as JSON, refusing more than the configured limit (413) and anything that is
    /// not JSON (400).
    private func readJSON(_ request: Request) async throws(APIError) -> JSONNode {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch let error as HTTPResponseError where error.status == .contentTooLarge {
            // HTTPError, or NIO's NIOTooManyBytesError when a chunked body (no Content-Length
            // to check first) runs past the limit.
            throw APIError(.contentTooLarge, "the request body is larger than \(configuration.maxBodyBytes) bytes")
        } catch {
            throw APIError.badRequest("the request body could not be read")
        }
        guard buffer.readableBytes > 0 else {
            throw APIError.badRequest("the request body is empty; JSON was expected", field: "body")
        }
        guard let value = JSONNode.parse(Data(buffer.readableBytesView)) else {
            throw APIError.badRequest("the request body is not valid JSON", field: "body")
        }
        return value
    }
}
