import ArgumentParser
import Foundation
import HipChatConnect
import HipKit
import HipKitServer
import Logging

struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Build, serve and rebuild on every change, with live reload and errors shown in the page.",
        discussion: """
            Builds the project into OUT (default PATH/dist) with base URL http://HOST:PORT, serves \
            it like `hipkit serve` (same routes, same JWT rules), and watches the project: every \
            saved change to addon.yaml, a page, a template or an asset rebuilds what it affects \
            and reloads the browser pages that show it. When a rebuild fails, the diagnostics are \
            printed here and shown over every open page; the last good build keeps being served. \
            A project that has not built yet, with no earlier build for this address, shows its \
            problems at every address until it does.

            A local HipChat runs at http://HOST:PORT/_hipchat/: a group of rooms where the add-on \
            is installed for real, for all rooms or in one, its glances, views, actions and \
            webhooks work where it is installed, and every request between HipChat and the add-on \
            is logged. Pages load its all.js instead of HipChat's.

            Pages served by `hipkit dev` carry a small live-reload script; `hipkit build` output \
            never does. Installations are kept in PATH/.hipkit/hipkit.sqlite. One hipkit dev runs \
            on a project at a time: a second is refused, naming where the first serves.

            Examples:
              hipkit dev
              hipkit dev examples/deploy-board --port 3000
              hipkit dev my-addon --env dev --no-auth
            """)

    @Argument(help: "Project folder or addon.yaml.")
    var path: String = "."

    @OptionGroup var listen: ListenOptions

    @Option(name: .customLong("env"), help: "Environment of addon.yaml's environments: to use.")
    var environment: String?

    @Option(help: "Base URL to build with (default: http://HOST:PORT).")
    var baseUrl: String?

    @Option(name: .shortAndLong, help: "Output folder (default: PATH/dist).")
    var out: String?

    @Flag(help: "Open views without HipChat's JWT, to design them in a plain browser tab.")
    var noAuth = false

    @Option(
        help:
            "Bearer token for the /admin API, e.g. to push glance updates into the local HipChat (default: $HIPKIT_ADMIN_TOKEN)."
    )
    var adminToken: String?

    func run() async throws {
        let port = try listen.fixedPort()
        let logger = listen.logger(defaultLevel: .notice)
        let base = try Output.run {
            try LoadOptions.validatedBaseUrl(baseUrl ?? ListenOptions.localURL(host: listen.resolvedHost, port: port))
        }

        let session = DevSession()
        let rebuilder = try Output.run {
            try DevRebuilder(
                path: path,
                options: LoadOptions(environment: environment, baseUrl: base, hipchatHost: base + LocalHipChat.path),
                output: out.map { URL(fileURLWithPath: $0) },
                session: session, logger: logger, report: Self.report)
        }

        let shown = ProjectLoader.displayPath(rebuilder.output)
        let devLock = try Output.run {
            try FolderLock.forDev(in: rebuilder.project.hipkitDirectory, address: base + "/")
        }
        defer { withExtendedLifetime(devLock) {} }
        try await Output.runAsync { try await HipKitServer.checkCanListen(host: listen.resolvedHost, port: port) }
        let first = rebuilder.rebuild()
        // A usage or I/O problem (an unknown --env, a project that cannot be read), reported
        // with the build, ends the command with 2, as it ends `hipkit build`; errors in the
        // project are waited out.
        if first.error != nil { throw ExitCode(2) }
        if !first.succeeded {
            guard Self.isBuild(rebuilder.output, for: base) else {
                let waiting = DevWaitingServer(session: session, host: listen.resolvedHost, port: port, logger: logger)
                let outcome = try await Output.runAsync {
                    try await waiting.run(until: { await rebuilder.untilGoodBuild() }) {
                        Output.say(
                            "hipkit dev: waiting for the errors to be fixed; until then \(base)/ shows them, and serving starts with the first good build"
                        )
                    }
                }
                switch outcome {
                case .built: break
                case .stopped: return  // Ctrl-C before any build succeeded
                case .gaveUp: throw ExitCode(1)
                }
                return try await serve(
                    rebuilder, session: session, port: port, base: base, shown: shown, logger: logger)
            }
            Output.say("hipkit dev: serving the previous build in \(shown) until the errors are fixed")
        }
        try await serve(rebuilder, session: session, port: port, base: base, shown: shown, logger: logger)
    }

    private func serve(
        _ rebuilder: DevRebuilder, session: DevSession, port: Int, base: String, shown: String, logger: Logger
    ) async throws {
        let configuration = ServerConfiguration.dev(
            dist: rebuilder.output, project: rebuilder.project, host: listen.resolvedHost, port: port,
            adminToken: adminToken, viewsRequireToken: !noAuth)
        var server = HipKitServer(configuration: configuration, logger: logger)
        server.dev = session
        server.services = [rebuilder]
        if let descriptor = URL(string: base + "/" + ConnectDescriptor.fileName) {
            server.hipchat = LocalHipChat(
                configuration: .init(
                    descriptorURL: descriptor, publicURL: base + LocalHipChat.path,
                    stateFile: rebuilder.project.hipkitDirectory.appendingPathComponent("local-hipchat.json")),
                logger: logger)
        }
        let watched = ProjectLoader.displayPath(rebuilder.projectDirectory)
        // Said once the server listens: a taken port is an error, not "serving" then an error.
        let listening: @Sendable (Int) -> Void = { _ in
            Output.say("hipkit dev: serving \(shown) at \(base)/ — descriptor \(base)/\(ConnectDescriptor.fileName)")
            Output.say("hipkit dev: a preview of every module: \(base)\(SitePath.previewFolder)")
            Output.say("hipkit dev: a local HipChat to install it in and try it: \(base)\(LocalHipChat.path)/")
            Output.say("hipkit dev: watching \(watched) for changes; Ctrl-C stops")
        }
        try await Output.runAsync { try await server.run(onListening: listening) }
    }

    /// Whether `output` holds a build made for `base` (its `links.self` is under it): one made
    /// for another address (another port, `--env`) would send the local HipChat there.
    private static func isBuild(_ output: URL, for base: String) -> Bool {
        ConnectDescriptor.selfURL(ofBuild: output)?.hasPrefix(base + "/") == true
    }

    /// Each rebuild on the terminal: its diagnostics, then one line saying what happened.
    @Sendable private static func report(_ outcome: DevRebuilder.Outcome) {
        let build = outcome.build
        Output.report(build.diagnostics, sources: build.sources, format: .human)
        let time = String(format: "%.0f ms", outcome.duration.inMilliseconds)
        if outcome.succeeded {
            let count = outcome.changed.count
            Output.say(
                "hipkit dev: built in \(time): "
                    + (count == 0 ? "nothing changed" : "\(count) file\(count == 1 ? "" : "s") changed"))
        } else {
            Output.say(
                "hipkit dev: the build failed (\(time))"
                    + (outcome.afterAGoodBuild ? "; still serving the last good build" : ""))
        }
    }
}
