import Foundation
import HipChatConnect
import TestProcesses
import Testing

/// The local HipChat of a real `hipkit dev` process, driven over HTTP as the room page drives
/// it, against the real runtime with JWT checks on: install (verified by the runtime through
/// the local capabilities document and token endpoint), glance query, conditions per role,
/// signed views, a slash command's reply card, a glance pushed and a notification sent through
/// the admin API, and uninstall.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct LocalHipChatFlowTests {
    static func json(_ data: Data) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    /// The room as the room page reads it.
    static func roomState(_ server: DevProcess) async -> [String: Any] {
        json(await server.fetch("GET", "_hipchat/api/state").body)
    }

    /// One of the room page's calls (`install`, `messages`, `open`…).
    static func roomCall(_ server: DevProcess, _ name: String, _ body: String) async -> (
        status: Int, json: [String: Any]
    ) {
        let answer = await server.fetch("POST", "_hipchat/api/" + name, json: body)
        return (answer.status, json(answer.body))
    }

    @Test func theFullScaffoldInstallsAndWorksInTheLocalHipChat() async throws {
        let project = try await TestSupport.scaffold("full", in: "local-hipchat")
        defer { try? FileManager.default.removeItem(at: project.deletingLastPathComponent()) }
        let dev = try await Blocking.run {
            try DevProcess(project: project, arguments: ["--admin-token", "local-admin-token"])
        }
        defer { dev.stop() }
        func state() async -> [String: Any] { await Self.roomState(dev) }
        func post(_ name: String, _ body: String = "{}") async -> (status: Int, json: [String: Any]) {
            await Self.roomCall(dev, name, body)
        }

        // The room, HipChat's JavaScript API, and pages pointing at it.
        #expect(String(decoding: await dev.fetch("GET", "_hipchat/").body, as: UTF8.self).contains("room.js"))
        #expect(
            String(decoding: await dev.fetch("GET", "_hipchat/atlassian-connect/all.js").body, as: UTF8.self).contains(
                "HipChat"))
        let built = try String(contentsOf: project.appendingPathComponent("dist/sidebar.html"), encoding: .utf8)
        #expect(
            built.contains("http://127.0.0.1:\(dev.port)/_hipchat/atlassian-connect/all.js"),
            "dev builds load the local all.js")

        var room = await state()
        #expect((room["addon"] as? [String: Any])?["key"] as? String == "com.example.incidents")
        #expect(room["installation"] is NSNull)

        // A call's true or false is one: `1` was taken for false, and installed for all rooms.
        let miswritten = await post("install", #"{"room": 1}"#)
        #expect(miswritten.status == 400, "\(miswritten.json)")
        #expect(await state()["installation"] is NSNull)
        #expect(await post("rooms", #"{"name": "Vault", "privacy": "secret"}"#).status == 400)

        // Install: the runtime checks the credentials with the local HipChat before storing them.
        let installed = await post("install", #"{"room": false}"#)
        try #require(installed.status == 200, "\(installed.json)\n\(dev.log)")
        room = await state()
        let installation = try #require(room["installation"] as? [String: Any])
        #expect(installation["scope"] as? String == "global")
        let log = (room["log"] as? [[String: Any]]) ?? []
        func logged(_ method: String, _ suffix: String, status: Int) -> Bool {
            log.contains {
                ($0["method"] as? String) == method && (($0["url"] as? String) ?? "").contains(suffix)
                    && ($0["status"] as? Int) == status
            }
        }
        #expect(logged("POST", "/installed", status: 200), "\(log)")
        #expect(
            logged("GET", "/_hipchat/v2/capabilities", status: 200), "the runtime fetched the capabilities document")
        #expect(
            logged("POST", "/_hipchat/v2/oauth/token", status: 200), "the runtime got a token with the new credentials")
        let glanceQuery = try #require(log.first { (($0["url"] as? String) ?? "").contains("/glances/") })
        #expect(
            glanceQuery["status"] as? Int == 200, "the glance query carried a JWT the runtime accepted: \(glanceQuery)")
        #expect((glanceQuery["claims"] as? [String: Any])?["iss"] as? String == installation["oauthId"] as? String)

        // Only the room page drives the room: another site's page can send neither JSON nor its origin.
        #expect(
            await dev.fetch(
                "POST", "_hipchat/api/messages", json: #"{"text": "/incident forged"}"#,
                headers: ["Origin": "https://elsewhere.example"]
            ).status == 403)
        #expect(
            await dev.fetch(
                "POST", "_hipchat/api/messages", json: #"{"text": "/incident forged"}"#,
                headers: ["Content-Type": "text/plain"]
            ).status == 415)
        #expect(
            await dev.fetch(
                "POST", "_hipchat/api/role", json: #"{"role": "admin"}"#,
                headers: ["Origin": "http://127.0.0.1:\(dev.port)"]
            ).status == 200, "the room page's own origin")

        // The glance: label and lozenge for an admin; hidden for a member (user_is_admin).
        let glance = try #require((room["glances"] as? [[String: Any]])?.first)
        let data = try #require(glance["data"] as? [String: Any])
        #expect(data["label"] as? String == "<b>3</b> open")
        #expect((data["status"] as? [String: Any])?["label"] as? String == "NEW")
        #expect((data["status"] as? [String: Any])?["lozenge"] as? String == "new")
        #expect(await post("role", #"{"role": "member"}"#).status == 200)
        #expect((await state()["glances"] as? [[String: Any]])?.isEmpty == true)
        #expect(await post("role", #"{"role": "admin"}"#).status == 200)

        // Message actions follow message_matches: only the message saying "down" offers one.
        let messages = (await state()["messages"] as? [[String: Any]]) ?? []
        func actions(_ id: String) -> [String] {
            ((messages.first { $0["id"] as? String == id }?["actions"] as? [[String: Any]]) ?? []).compactMap {
                $0["key"] as? String
            }
        }
        #expect(actions("seed-1") == [])
        #expect(actions("seed-2") == ["raise-incident"])

        // A view opened from the action is signed; the runtime serves it with the token only.
        let opened = await post(
            "open", #"{"target": "incident-dialog", "action": "raise-incident", "message": "seed-2"}"#)
        #expect(opened.json["kind"] as? String == "dialog")
        #expect(
            ((opened.json["message"] as? [String: Any])?["body"] as? String)?.contains("down") == true,
            "the action's message goes to the view")
        let viewURL = try #require(opened.json["url"] as? String)
        #expect(viewURL.contains("signed_request="))
        #expect(await dev.fetch("GET", viewURL).status == 200)
        #expect(await dev.fetch("GET", "dialog.html").status == 401, "without the token the runtime refuses the view")
        // The event log shows the view's load with its status and time.
        let logged = ((await state()["log"] as? [[String: Any]]) ?? []).last { $0["direction"] as? String == "view" }
        #expect(logged?["status"] as? Int == 200, "\(String(describing: logged))")
        #expect(logged?["ms"] is Double)

        // The slash command reaches the webhook with a JWT; the reply card shows in the room.
        #expect(await post("messages", #"{"text": "/incident db is down"}"#).status == 200)
        let reply = try #require((await state()["messages"] as? [[String: Any]])?.last)
        let card = try #require(reply["card"] as? [String: Any], "\(reply)\n\(dev.log)")
        #expect(card["title"] as? String == "Incident opened by Ada Admin")
        #expect(((card["description"] as? [String: Any])?["value"] as? String ?? "").contains("<b>db is down</b>"))
        #expect(reply["color"] as? String == "red")

        // A glance update through the runtime's admin API is pushed to the local HipChat.
        let push = await dev.fetch(
            "POST", "admin/glances/incidents-glance", json: #"{"label": "<b>5</b> open"}"#,
            headers: ["Authorization": "Bearer local-admin-token"])
        #expect((200..<300).contains(push.status), "\(String(decoding: push.body, as: UTF8.self))")
        var label: String?
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            label =
                ((await state()["glances"] as? [[String: Any]])?.first?["data"] as? [String: Any])?["label"] as? String
            if label == "<b>5</b> open" { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(label == "<b>5</b> open", "\(dev.log)")

        // A notification through the admin API (a CI job's "deploy done") shows in the room.
        let sent = await dev.fetch(
            "POST", "admin/notifications?room=1",
            json: #"{"message": "deploy done", "message_format": "text", "color": "green"}"#,
            headers: ["Authorization": "Bearer local-admin-token"])
        #expect(sent.status == 202, "\(String(decoding: sent.body, as: UTF8.self))")
        var shown: [String: Any]?
        let shownBy = Date().addingTimeInterval(20)
        while Date() < shownBy {
            shown = ((await state()["messages"] as? [[String: Any]]) ?? []).last {
                $0["html"] as? String == "deploy done"
            }
            if shown != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let roomNow = String(describing: await state()["messages"])
        #expect(shown?["color"] as? String == "green", "\(dev.log) \(roomNow)")

        // Uninstall: the credentials stop working, the runtime checks that and forgets them.
        #expect(await post("uninstall").status == 200)
        let installations = Self.json(
            await dev.fetch("GET", "admin/installations", headers: ["Authorization": "Bearer local-admin-token"]).body)
        #expect((installations["installations"] as? [Any])?.isEmpty == true, "\(installations)")
        #expect(await dev.fetch("GET", viewURL).status == 401, "the old token no longer opens the view")
        #expect(await state()["installation"] is NSNull)

        // Installed again, a spec change reaches the room as an offered update: HipChat kept
        // the installed descriptor until then.
        #expect(await post("install", #"{"room": false}"#).status == 200)
        let spec = project.appendingPathComponent("addon.yaml")
        let original = try String(contentsOf: spec, encoding: .utf8)
        try original.replacingOccurrences(
            of: "description: Open incidents at a glance", with: "description: Incidents at a glance"
        ).write(to: spec, atomically: true, encoding: .utf8)
        func descriptorChanged() async -> Bool? {
            let fresh = Self.json(await dev.fetch("GET", "_hipchat/api/state?fresh=1").body)
            return (fresh["installation"] as? [String: Any])?["descriptorChanged"] as? Bool
        }
        var changed: Bool?
        let rebuiltBy = Date().addingTimeInterval(30)
        while Date() < rebuiltBy {
            changed = await descriptorChanged()
            if changed == true { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(changed == true, "\(dev.log)")
        #expect(await post("update").status == 200)
        #expect(await descriptorChanged() == false)
    }

    /// The local HipChat keeps its own state in `.hipkit/local-hipchat.json` (owner-only: it
    /// holds the installation's secret): restarting `hipkit dev` on the same port keeps the
    /// installation, who you play, the rooms and their messages, and the add-on's views still open.
    /// A state file that cannot be read is reported and the room starts afresh.
    @Test func theRoomAndTheInstallationSurviveARestart() async throws {
        let project = try await TestSupport.scaffold("full", in: "local-hipchat-restart")
        defer { try? FileManager.default.removeItem(at: project.deletingLastPathComponent()) }
        let port = try DevProcess.freePort()
        func start() async throws -> DevProcess {
            try await Blocking.run {
                try DevProcess(port: port, readyPath: "/_hipkit/dev/status") { port in
                    ["dev", project.path, "--port", String(port)]
                }
            }
        }

        let first = try await start()
        #expect(await Self.roomCall(first, "rooms", #"{"name": "Payments", "privacy": "private"}"#).status == 200)
        #expect(await Self.roomCall(first, "enter", #"{"room": 1}"#).status == 200)
        #expect(await Self.roomCall(first, "install", #"{"room": false}"#).status == 200)
        #expect(await Self.roomCall(first, "role", #"{"role": "owner"}"#).status == 200)
        #expect(await Self.roomCall(first, "messages", #"{"text": "said before the restart"}"#).status == 200)
        let before = await Self.roomState(first)
        let oauthId = (before["installation"] as? [String: Any])?["oauthId"] as? String
        #expect(oauthId != nil)
        _ = try await Blocking.run { first.stop() }

        let file = project.appendingPathComponent(".hipkit/local-hipchat.json")
        let permissions = try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)

        let second = try await start()
        let after = await Self.roomState(second)
        #expect((after["installation"] as? [String: Any])?["oauthId"] as? String == oauthId, "\(after)")
        #expect(after["role"] as? String == "owner")
        let rooms = ((after["rooms"] as? [[String: Any]]) ?? []).map { "\($0["name"] ?? "") \($0["privacy"] ?? "")" }
        #expect(rooms == ["Operations public", "Leadership private", "Payments private"], "\(after)")
        let texts = ((after["messages"] as? [[String: Any]]) ?? []).compactMap { $0["html"] as? String }
        #expect(texts.contains("said before the restart"), "\(texts)")
        // The installation still works: a view opens with a token the runtime accepts.
        let opened = await Self.roomCall(second, "open", #"{"target": "incidents-sidebar"}"#)
        let url = try #require(opened.json["url"] as? String, "\(opened.json)")
        #expect(await second.fetch("GET", url).status == 200)
        _ = try await Blocking.run { second.stop() }

        // A damaged file: a warning, and a fresh room.
        try Data("{not json".utf8).write(to: file)
        let third = try await start()
        defer { third.stop() }
        #expect((await Self.roomState(third))["installation"] is NSNull)
        #expect(third.log.contains("cannot be read; starting afresh"), "\(third.log)")
    }

    /// HipChat's browser flows end to end: a descriptor with `installedUrl`, `updatedUrl` and
    /// `uninstalledUrl` (and no `callbackUrl`) is installed through the browser — the local HipChat makes the
    /// installation and sends the browser to the add-on with a single-use `installable_url`; the
    /// runtime reads it, stores the installation after checking it with the token endpoint, and
    /// sends the browser back to the room — and uninstalled the same way.
    @Test func theBrowserFlowsInstallAndUninstallThroughTheBrowser() async throws {
        let project = try await TestSupport.scaffold("full", in: "browser-flows")
        defer { try? FileManager.default.removeItem(at: project.deletingLastPathComponent()) }
        let spec = project.appendingPathComponent("addon.yaml")
        let text = try String(contentsOf: spec, encoding: .utf8).replacingOccurrences(
            of: "  callbackUrl: /installed\n",
            with: "  installedUrl: /installed-browser\n  updatedUrl: /updated-browser\n  uninstalledUrl: /uninstalled\n"
        )
        try text.write(to: spec, atomically: true, encoding: .utf8)
        let dev = try await Blocking.run {
            try DevProcess(project: project, arguments: ["--admin-token", "local-admin-token"])
        }
        defer { dev.stop() }
        let admin = ["Authorization": "Bearer local-admin-token"]
        func installations() async -> [[String: Any]] {
            (Self.json(await dev.fetch("GET", "admin/installations", headers: admin).body)["installations"]
                as? [[String: Any]]) ?? []
        }

        let installed = await Self.roomCall(dev, "install", #"{"room": true}"#)
        try #require(installed.status == 200, "\(installed.json)\n\(dev.log)")
        let redirect = try #require(installed.json["redirect"] as? String, "\(installed.json)")
        let flow = try #require(URLComponents(string: redirect))
        #expect(flow.path == "/installed-browser")
        let installable = try #require(flow.queryItems?.first { $0.name == "installable_url" }?.value)
        #expect(flow.queryItems?.first { $0.name == "redirect_url" }?.value == dev.url("_hipchat/").absoluteString)
        #expect(await installations().isEmpty, "nothing is stored before the browser arrives")

        // The browser goes there, and comes back to the room (URLSession follows the 303).
        let arrived = await dev.fetch("GET", redirect, headers: ["Accept": "text/html"])
        #expect(arrived.status == 200, "\(String(decoding: arrived.body, as: UTF8.self))\n\(dev.log)")
        #expect(String(decoding: arrived.body, as: UTF8.self).contains("room.js"), "back on the room page")
        let stored = await installations()
        #expect(stored.count == 1)
        #expect(stored.first?["roomId"] as? Int == 1)
        // The details were handed out once.
        #expect(await dev.fetch("GET", installable).status == 404)
        // The same link again stores nothing more, and goes nowhere.
        let again = await dev.fetch("GET", redirect)
        #expect(again.status == 400)
        #expect(await installations().count == 1)

        // The installation works: its glance answers in the room.
        let room = await Self.roomState(dev)
        #expect((room["installation"] as? [String: Any]) != nil)

        // An update goes through the browser too (updatedUrl), with the same installation.
        let updated = await Self.roomCall(dev, "update", "{}")
        try #require(updated.status == 200, "\(updated.json)")
        let update = try #require(updated.json["redirect"] as? String, "\(updated.json)")
        #expect(URLComponents(string: update)?.path == "/updated-browser")
        #expect(await dev.fetch("GET", update, headers: ["Accept": "text/html"]).status == 200, "\(dev.log)")
        let afterUpdate = await installations()
        #expect(afterUpdate.count == 1)
        #expect(afterUpdate.first?["oauthId"] as? String == stored.first?["oauthId"] as? String)

        // Uninstall: the runtime hears of it through the browser, checks that HipChat no longer
        // issues the credentials, and forgets the installation.
        let removed = await Self.roomCall(dev, "uninstall", "{}")
        try #require(removed.status == 200, "\(removed.json)")
        let back = try #require(removed.json["redirect"] as? String)
        #expect(URLComponents(string: back)?.path == "/uninstalled")
        #expect(await dev.fetch("GET", back, headers: ["Accept": "text/html"]).status == 200, "\(dev.log)")
        #expect(await installations().isEmpty)
    }

    /// `project` built for `hipkit serve` on one free port and served there with `serveExtra`
    /// (given the emulator's port), and `hipkit emulate` for its descriptor on another, with
    /// `emulateExtra` (given its own port). Both are stopped by the caller.
    static func serveAndEmulate(
        _ project: URL, serveExtra: @escaping @Sendable (Int) -> [String],
        emulateExtra: @escaping @Sendable (Int) -> [String] = { _ in [] }
    ) async throws -> (serve: DevProcess, emulate: DevProcess) {
        let servePort = try DevProcess.freePort()
        var emulatePort = try DevProcess.freePort()
        while emulatePort == servePort { emulatePort = try DevProcess.freePort() }
        let build = try await Blocking.run {
            try TestSupport.hipkit(["build", project.path, "--base-url", "http://127.0.0.1:\(servePort)"])
        }
        try #require(build.status == 0, "\(build.stderr)")
        let serve = try await Blocking.run { [emulatePort] in
            try DevProcess(port: servePort, readyPath: "/healthz") { port in
                ["serve", project.appendingPathComponent("dist").path, "--port", String(port)]
                    + serveExtra(emulatePort)
            }
        }
        do {
            let emulate = try await Blocking.run { [emulatePort] in
                try DevProcess(port: emulatePort, readyPath: "/_hipchat/atlassian-connect/all.js") { port in
                    ["emulate", "http://127.0.0.1:\(servePort)/atlassian-connect.json", "--port", String(port)]
                        + emulateExtra(port)
                }
            }
            return (serve, emulate)
        } catch {
            serve.stop()
            throw error
        }
    }

    /// `hipkit emulate` plays HipChat for an add-on served elsewhere — here `hipkit serve` on
    /// another port, which trusts the emulator as its HipChat.
    @Test func emulatePlaysHipChatForAnAddonServedElsewhere() async throws {
        let project = try await TestSupport.scaffold("full", in: "emulate")
        defer { try? FileManager.default.removeItem(at: project.deletingLastPathComponent()) }
        let (serve, emulate) = try await Self.serveAndEmulate(project) { emulatePort in
            ["--trust-host", "127.0.0.1:\(emulatePort)", "--frame-ancestor", "http://127.0.0.1:\(emulatePort)"]
        }
        defer {
            serve.stop()
            emulate.stop()
        }
        let (servePort, emulatePort) = (serve.port, emulate.port)
        func state() async -> [String: Any] { await Self.roomState(emulate) }
        func post(_ name: String, _ body: String = "{}") async -> (status: Int, json: [String: Any]) {
            await Self.roomCall(emulate, name, body)
        }
        #expect(String(decoding: await emulate.fetch("GET", "_hipchat/").body, as: UTF8.self).contains("room.js"))

        let installed = await post("install", #"{"room": true}"#)
        try #require(installed.status == 200, "\(installed.json)\n\(serve.log)\n\(emulate.log)")
        let room = await state()
        #expect((room["installation"] as? [String: Any])?["scope"] as? String == "room")
        let data = (room["glances"] as? [[String: Any]])?.first?["data"] as? [String: Any]
        #expect(data?["label"] as? String == "<b>3</b> open", "\(room)")

        let opened = await post("open", #"{"target": "incidents-sidebar"}"#)
        let viewURL = try #require(opened.json["url"] as? String)
        #expect(viewURL.hasPrefix("http://127.0.0.1:\(servePort)/sidebar.html?signed_request="))
        #expect(viewURL.contains("xdm_e=http%3A%2F%2F127.0.0.1%3A\(emulatePort)"))
        #expect(await serve.fetch("GET", viewURL).status == 200, "hipkit serve accepts the emulator's JWT")

        #expect(await post("messages", #"{"text": "/incident disk full"}"#).status == 200)
        let card = (await state()["messages"] as? [[String: Any]])?.last?["card"] as? [String: Any]
        #expect(card?["title"] as? String == "Incident opened by Ada Admin")

        #expect(await post("uninstall").status == 200)
        #expect(await serve.fetch("GET", viewURL).status == 401, "the uninstall reached hipkit serve")
    }

    /// `hipkit emulate --public-url` presents the emulator under another host name, as a HipChat
    /// Server: the add-on is given that address (here `localhost`, which `hipkit serve` trusts
    /// with --trust-host, where the emulator listens on 127.0.0.1), and the install goes through.
    @Test func emulateCanPresentItselfUnderAnotherHostName() async throws {
        let project = try await TestSupport.scaffold("full", in: "emulate-host")
        defer { try? FileManager.default.removeItem(at: project.deletingLastPathComponent()) }
        let (serve, emulate) = try await Self.serveAndEmulate(
            project, serveExtra: { ["--trust-host", "localhost:\($0)", "--admin-token", "emulate-admin-token"] },
            emulateExtra: { ["--public-url", "http://localhost:\($0)"] })
        defer {
            serve.stop()
            emulate.stop()
        }
        let emulatePort = emulate.port
        let capabilities = Self.json(await emulate.fetch("GET", "_hipchat/v2/capabilities").body)
        #expect(
            (capabilities["links"] as? [String: Any])?["self"] as? String
                == "http://localhost:\(emulatePort)/_hipchat/v2/capabilities")
        let installed = await Self.roomCall(emulate, "install", #"{"room": true}"#)
        #expect(installed.status == 200, "\(installed.json)\n\(serve.log)\n\(emulate.log)")
        // hipkit serve checked the credentials with the emulator under that name, and kept it.
        let stored = Self.json(
            await serve.fetch("GET", "admin/installations", headers: ["Authorization": "Bearer emulate-admin-token"])
                .body)
        #expect(
            ((stored["installations"] as? [[String: Any]])?.first)?["capabilitiesUrl"] as? String
                == "http://localhost:\(emulatePort)/_hipchat/v2/capabilities", "\(stored)")
        #expect(((await Self.roomState(emulate))["installation"] as? [String: Any]) != nil)
    }

    static let projects: [String] =
        ["full", "glance", "slash-command", "configurable", "dialog"].map { "scaffold " + $0 }
        + ViewPagesInBrowserTests.examples.map { "example " + $0 }

    /// Every scaffold and example installs in the local HipChat, every glance gets its data
    /// through the runtime's JWT check, and every view a glance or an action opens is served.
    @Test(arguments: projects)
    func everyScaffoldAndExampleWorksInTheLocalHipChat(_ which: String) async throws {
        let root = try TestSupport.temporaryDirectory("local-hipchat-all")
        defer { try? FileManager.default.removeItem(at: root) }
        let project = root.appendingPathComponent("addon")
        let name = String(which.split(separator: " ")[1])
        if which.hasPrefix("scaffold") {
            let created = try await Blocking.run { try TestSupport.hipkit(["init", project.path, "--template", name]) }
            try #require(created.status == 0, "\(created.stderr)")
        } else {
            let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
                "../../../examples/\(name)"
            ).standardizedFileURL
            try FileManager.default.copyItem(at: example, to: project)
            try? FileManager.default.removeItem(at: project.appendingPathComponent("dist"))
            try? FileManager.default.removeItem(at: project.appendingPathComponent(".hipkit"))
        }
        let dev = try await Blocking.run { try DevProcess(project: project) }
        defer { dev.stop() }
        let installed = await dev.fetch("POST", "_hipchat/api/install", json: #"{"room": true}"#)
        try #require(installed.status == 200, "\(String(decoding: installed.body, as: UTF8.self))\n\(dev.log)")
        let state = Self.json(await dev.fetch("GET", "_hipchat/api/state").body)
        #expect(state["installation"] is [String: Any])
        var targets = Set<String>()
        for glance in (state["glances"] as? [[String: Any]]) ?? [] {
            #expect(glance["error"] is NSNull, "\(which): glance \(glance["key"] ?? "?"): \(glance["error"] ?? "")")
            if let target = glance["target"] as? String { targets.insert(target) }
        }
        for action in (state["inputActions"] as? [[String: Any]]) ?? [] {
            if let target = action["target"] as? String { targets.insert(target) }
        }
        for message in (state["messages"] as? [[String: Any]]) ?? [] {
            for action in (message["actions"] as? [[String: Any]]) ?? [] {
                if let target = action["target"] as? String { targets.insert(target) }
            }
        }
        for target in targets.sorted() {
            let opened = Self.json(
                await dev.fetch("POST", "_hipchat/api/open", json: #"{"target": "\#(target)"}"#).body)
            let url = try #require(opened["url"] as? String, "\(which): \(target): \(opened)")
            #expect(
                await dev.fetch("GET", url).status == 200,
                "\(which): the view \(target) is served with the local HipChat's token")
        }
    }
}
