import Foundation
import HipKit
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// What `hipkit dev` serves while the project has never built and no earlier build of it can
/// stand in: every address answers `503 Service Unavailable` with a page showing the problems,
/// which reloads itself when they change and again when the first good build is served.
///
/// Why a server of its own: the real one serves a build, and there is none yet. A browser
/// opened at the address `hipkit dev` printed then shows why nothing is there instead of
/// "connection refused", and needs no reload by hand once the errors are fixed.
public struct DevWaitingServer: Sendable {
    let session: DevSession
    let host: String
    let port: Int
    let logger: Logger

    public init(session: DevSession, host: String, port: Int, logger: Logger) {
        self.session = session
        self.host = host
        self.port = port
        self.logger = logger
    }

    /// How the wait ended.
    public enum Outcome: Sendable, Equatable {
        /// A build succeeded; the address is free for the real server.
        case built
        /// SIGTERM or SIGINT came first.
        case stopped
        /// The wait for a good build ended without one (the project could no longer be watched).
        case gaveUp
    }

    /// Serves the waiting page while `build` waits for a good build (true when one succeeded),
    /// then stops listening, so the real server can take the address. `onListening` is called
    /// once the address is taken.
    public func run(
        until build: @escaping @Sendable () async -> Bool, onListening: @escaping @Sendable () -> Void = {}
    ) async throws -> Outcome {
        let routes = DevRoutes(session: session)
        let application = Application(
            responder: CallbackResponder<BasicRequestContext> { [session] request, _ in
                Self.answer(request, routes: routes, session: session)
            },
            configuration: .init(address: .hostname(host, port: port), serverName: HipKitServer.serverName),
            onServerRunning: { _ in onListening() },
            logger: logger)
        let services = SignalledServices([application, KeepAlive(session: session)], logger: logger)
        return try await withThrowingTaskGroup(of: Outcome?.self) { tasks in
            tasks.addTask {
                try await HipKitServer.listening(host: host, port: port) { try await services.run() }
                return nil
            }
            tasks.addTask {
                let built = await build()
                // A signal during a rebuild that then succeeds still stops hipkit dev.
                let cancelled = Task.isCancelled
                // Ends the open event streams too: their pages reconnect to the real server.
                await services.group.triggerGracefulShutdown()
                return cancelled ? .stopped : built ? .built : .gaveUp
            }
            // The server ends before the wait only on a signal (or when it cannot listen, which
            // throws); after a good build it may end before the wait's answer is taken here.
            var outcome: Outcome?
            for try await result in tasks {
                if let result {
                    outcome = result
                } else if outcome == nil {
                    tasks.cancelAll()
                }
            }
            return outcome ?? .stopped
        }
    }

    /// The waiting page's event stream kept alive as the real server's are, without
    /// ``DevSession/run()``'s ending of the session's streams, which the real server goes on with.
    private struct KeepAlive: Service {
        let session: DevSession

        func run() async throws { await session.keepStreamsAlive() }
    }

    private static func answer(_ request: Request, routes: DevRoutes, session: DevSession) -> Response {
        let path = request.uri.path
        if path.hasPrefix(DevRoutes.prefix) {
            do {
                return try routes.handle(path: path, request: request)
            } catch let error as APIError {
                return error.response(forHTML: false)
            } catch {
                return APIError(.internalServerError, "\(error)").response(forHTML: false)
            }
        }
        let page = ByteBuffer(string: Self.page(session.status.problems ?? []))
        return Response(
            status: .serviceUnavailable,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .retryAfter: "1",
                .contentLength: String(page.readableBytes),
            ],
            body: request.method == .head ? .init() : .init(byteBuffer: page))
    }

    /// The page: the problems as the terminal shows them, and a script that reloads it when a
    /// rebuild fails again (new problems) and when it reconnects after the first good build,
    /// then to the real server.
    static func page(_ problems: [DevProblem]) -> String {
        var items = ""
        for problem in problems {
            var place = problem.file ?? ""
            if let line = problem.line {
                place += ":\(line)"
                if let column = problem.column { place += ":\(column)" }
            }
            items += "<li class=\"\(HTMLText.escape(problem.severity))\">"
            items += "<p>\(place.isEmpty ? "" : "<code>\(HTMLText.escape(place))</code> ")"
            items += "<strong>\(HTMLText.escape(problem.severity))</strong>: \(HTMLText.escape(problem.message))</p>"
            if !problem.excerpt.isEmpty {
                let width = String(problem.excerpt.map(\.number).max() ?? 0).count
                let lines = problem.excerpt.map { line in
                    let number = String(line.number)
                    let text = String(repeating: " ", count: width - number.count) + number + " | " + line.text
                    return line.number == problem.line ? "<mark>\(HTMLText.escape(text))</mark>" : HTMLText.escape(text)
                }
                items += "<pre>\(lines.joined(separator: "\n"))</pre>"
            }
            if let hint = problem.hint { items += "<p class=\"hint\">hint: \(HTMLText.escape(hint))</p>" }
            items += "</li>\n"
        }
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>hipkit dev: the build failed</title>
            <style>
              body { font: 14px/1.5 system-ui, sans-serif; margin: 24px; color: #172b4d; }
              h1 { font-size: 18px; } ul { padding: 0; list-style: none; }
              li { border-left: 4px solid #de350b; padding: 4px 12px; margin: 12px 0; }
              li.warning { border-color: #ffab00; }
              pre { background: #f4f5f7; padding: 8px; overflow-x: auto; } mark { background: #ffebe6; }
              .hint, .meta { color: #5e6c84; }
            </style>
            </head>
            <body>
            <h1>hipkit dev: the project does not build yet</h1>
            <p class="meta">Nothing is served until the first good build. Fix what is below and save: \
            this page reloads by itself.</p>
            <ul id="hipkit-dev-problems">
            \(items)</ul>
            <script>
            (function () {
              if (typeof EventSource === "undefined") return;
              var hellos = 0;
              // Reloads once this address answers with something else than this page: the real
              // server, which takes the address a moment after the first good build.
              function reloadWhenServed() {
                fetch(location.href, { cache: "no-store" }).then(function (answer) {
                  if (answer.status !== 503) location.reload(); else setTimeout(reloadWhenServed, 250);
                }, function () { setTimeout(reloadWhenServed, 250); });
              }
              var events = new EventSource("/_hipkit/dev/events");
              // A hello of build 1 or later comes after the first good build; a second hello of
              // build 0 is a reconnect, after which a failure may have been missed.
              events.addEventListener("hello", function (event) {
                if (JSON.parse(event.data).build > 0) reloadWhenServed();
                else if (hellos++) location.reload();
              });
              events.addEventListener("failed", function () { location.reload(); });
            })();
            </script>
            </body>
            </html>

            """
    }
}
