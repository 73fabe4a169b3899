import ArgumentParser
import Foundation
import HipChatConnect
import HipKit
import HipKitServer
import Logging

struct EmulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emulate",
        abstract: "Play HipChat for any add-on: install it in local rooms and try it in the browser.",
        discussion: """
            Serves a local HipChat at http://HOST:PORT/_hipchat/ for the add-on whose descriptor is \
            at DESCRIPTOR_URL: a group with public and private rooms and four people to play. \
            Install it for all rooms or in one, and it works as in HipChat: the install callback \
            gets real credentials this HipChat's token endpoint honours, glances are queried with \
            signed JWTs, views open in the sidebar and in dialogs with HipChat's JavaScript API, \
            actions follow their conditions, typed messages reach matching webhooks, and the \
            add-on can post notifications and glance updates to the emulated REST API. An event \
            log shows every request between the two.

            The add-on has to accept this HipChat. For one served by `hipkit serve`:
              hipkit serve dist --trust-host 127.0.0.1:8090 \\
                  --frame-ancestor http://127.0.0.1:8090
            Views load HipChat's all.js from http://HOST:PORT/_hipchat/atlassian-connect/all.js; \
            each view URL carries xdm_e, the origin frameworks build that address from. \
            (`hipkit dev` has the same local HipChat built in.)

            --public-url presents it under another address, as a HipChat Server on its own host \
            name: the capabilities document, token endpoint and REST API the add-on is given are \
            under it, so the add-on must reach it there (a hosts entry or a proxy) and trust it \
            (hipkit serve --trust-host HOST:PORT). --state keeps the rooms and the installations in a \
            file between runs, as `hipkit dev` does in .hipkit/.

            Examples:
              hipkit emulate http://127.0.0.1:8080/atlassian-connect.json
              hipkit emulate https://addon.example.com/atlassian-connect.json --port 9000
              hipkit emulate http://127.0.0.1:8080/atlassian-connect.json \\
                  --public-url http://hipchat.test:8090
            """)

    @Argument(help: "The add-on's descriptor URL (atlassian-connect.json).")
    var descriptorUrl: String

    @OptionGroup var listen: ListenOptions

    @Option(
        name: .customLong("public-url"),
        help: "The address the add-on is given for this HipChat (default: http://HOST:PORT).")
    var publicUrl: String?

    @Option(help: "A file to keep the rooms and the installations in between runs.")
    var state: String?

    func validate() throws {
        for (what, text) in [("a descriptor", descriptorUrl), ("--public-url", publicUrl)] {
            guard let text else { continue }
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
                url.host != nil
            else {
                throw ValidationError("'\(text)' is not an http or https URL of \(what)")
            }
        }
    }

    func run() async throws {
        let port = try listen.fixedPort(fallback: 8090)
        let logger = listen.logger(defaultLevel: .notice)
        let host = listen.resolvedHost
        let base = ListenOptions.localURL(host: host, port: port)
        guard let descriptor = URL(string: descriptorUrl) else { throw ExitCode(2) }
        let presented = publicUrl.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? base
        let hipchat = LocalHipChat(
            configuration: .init(
                descriptorURL: descriptor, publicURL: presented + LocalHipChat.path,
                stateFile: state.map { URL(fileURLWithPath: $0) }),
            logger: logger)
        let listening: @Sendable (Int) -> Void = { [descriptorUrl] _ in
            Output.say(
                "hipkit emulate: a local HipChat for \(descriptorUrl) at \(base)\(LocalHipChat.path)/; Ctrl-C stops")
            if presented != base {
                Output.say("hipkit emulate: the add-on is told this HipChat is at \(presented)\(LocalHipChat.path)")
            }
        }
        try await Output.runAsync {
            try await LocalHipChatServer(hipchat: hipchat, host: host, port: port, logger: logger).run(
                onListening: listening)
        }
    }
}
