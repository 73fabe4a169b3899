import Foundation
import HipChatConnect
import Hummingbird
import Logging
import NIOCore

/// `hipkit emulate`: the local HipChat alone, for an add-on served anywhere — one built by
/// hipkit and run with `hipkit serve`, or any other. The room is at `/_hipchat/`; `/` leads
/// there.
public struct LocalHipChatServer: Sendable {
    public let hipchat: LocalHipChat
    public let host: String
    public let port: Int
    public let logger: Logger

    public init(hipchat: LocalHipChat, host: String, port: Int, logger: Logger) {
        self.hipchat = hipchat
        self.host = host
        self.port = port
        self.logger = logger
    }

    /// Serves until SIGTERM or SIGINT; `onListening` as for ``HipKitServer/run(onListening:)``.
    public func run(onListening: (@Sendable (_ port: Int) -> Void)? = nil) async throws {
        let application = Application(
            responder: Responder(routes: LocalHipChatRoutes(hipchat: hipchat), logger: logger),
            configuration: .init(address: .hostname(host, port: port), serverName: "hipkit"),
            services: [hipchat],
            onServerRunning: { [port] in onListening?($0.localAddress?.port ?? port) },
            logger: logger)
        try await HipKitServer.listening(host: host, port: port) {
            try await SignalledServices([application], logger: logger).run()
        }
    }

    struct Responder: HTTPResponder {
        typealias Context = BasicRequestContext
        let routes: LocalHipChatRoutes
        let logger: Logger

        func respond(to request: Request, context: Context) async throws -> Response {
            let path = request.uri.path
            do {
                if path == "/" {
                    return Response(status: .found, headers: [.location: LocalHipChatRoutes.prefix + "/"])
                }
                guard LocalHipChatRoutes.claims(path) else {
                    throw APIError.notFound("the local HipChat is at /_hipchat/")
                }
                return try await routes.handle(path: path, request: request)
            } catch let error as APIError {
                logger.info(
                    "request",
                    metadata: ["method": "\(request.method.rawValue)", "path": "\(path)", "error": "\(error.message)"])
                return error.response(forHTML: ServerResponder.wantsHTML(request))
            }
        }
    }
}
