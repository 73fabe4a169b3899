import Foundation
import HipChatConnect
import TestProcesses
import Testing

/// The local HipChat seen in a real headless Chromium, on a real `hipkit dev` process with
/// JWT checks on: install the `full` scaffold, see its glance's label and lozenge, open the
/// sidebar from the glance (and post a status update to the room from it), open the dialog from
/// a message action and press its primary
/// button, send the slash command and see the reply card, and use the views' JavaScript API.
/// A screenshot of each step goes to `.build/screenshots/hipchat/`.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct LocalHipChatInBrowserTests {
    static let screenshots = ViewPagesInBrowserTests.screenshots.appendingPathComponent("hipchat")

    @Test func installTheFullScaffoldAndUseItAsAHipChatUser() async throws {
        let project = try await TestSupport.scaffold("full", in: "hipchat-browser")
        defer { try? FileManager.default.removeItem(at: project.deletingLastPathComponent()) }
        let dev = try await Blocking.run { try DevProcess(project: project) }
        defer { dev.stop() }
        try? FileManager.default.removeItem(at: Self.screenshots)

        let glance = "document.querySelector('.hc-glance[data-key=\"incidents-glance\"]')"
        let panel = "document.getElementById('hc-panel-frame').contentDocument"
        let dialog = "document.getElementById('hc-dialog-frame').contentDocument"
        let message = "document.querySelector('.hc-message[data-id=\"seed-2\"]')"
        let cardTitle = "[...document.querySelectorAll('.hc-card .hc-card-title')].map(t => t.textContent)"
        let steps: [ScenarioStep] = [
            .navigate(dev.url("_hipchat/"), "open the local HipChat"),
            .waitFor("!!document.getElementById('hc-install-global')", "the install screen asks to approve the scopes"),
            .eval("document.querySelector('.hc-install-card').textContent", "the install screen's text"),
            .screenshot(Self.screenshots.appendingPathComponent("1-install.png")),
            .click("#hc-install-global", "approve and install for all rooms"),
            .waitFor(
                "!!\(glance) && \(glance).querySelector('.hc-glance-label').textContent === '3 open' && !!\(glance).querySelector('.hc-lozenge')",
                timeout: 20, "the glance shows its label and lozenge"),
            .eval(
                "\(glance).querySelector('.hc-glance-label').innerHTML + ' | ' + \(glance).querySelector('.hc-lozenge').textContent + ' | ' + \(glance).querySelector('.hc-lozenge').className",
                "the glance as drawn"),
            .screenshot(Self.screenshots.appendingPathComponent("2-glance.png")),
            .waitFor(
                "document.getElementById('hc-input').placeholder === 'Send a message, or a slash command such as /incident'",
                "the message box suggests the add-on's own slash command"),
            .click(".hc-glance[data-key=\"incidents-glance\"]", "click the glance"),
            .waitFor(
                "!document.getElementById('hc-panel').hidden && !!\(panel) && !!\(panel).querySelector('h1') && \(panel).querySelector('h1').textContent === 'Open incidents'",
                timeout: 20, "the sidebar shows the glance's target"),
            .screenshot(Self.screenshots.appendingPathComponent("3-sidebar.png")),
            .eval(
                """
                var w = document.getElementById('hc-panel-frame').contentWindow;
                w.HipChat.user.getCurrentUser(function (e, u) { window.__user = e ? 'error: ' + e.message : u.name; });
                w.HipChat.auth.withToken(function (e, t) { window.__token = e ? 'error: ' + e.message : t; });
                w.HipChat.room.getRoomDetails(function (e, r) { window.__room = e ? 'error: ' + e.message : r.name; });
                true
                """, "call the JavaScript API from the sidebar"),
            .waitFor("!!window.__user && !!window.__token && !!window.__room", "the API answered"),
            .eval(
                "window.__user + ' | ' + window.__room + ' | ' + window.__token.split('.').length",
                "what the API answered"),
            // The sidebar's button: a JWT from HipChat.auth.withToken, posted to hipkit serve,
            // which sends the notification to this room (viewNotifications: true).
            .eval("\(panel).getElementById('post-status').click(); true", "press Post a status update"),
            .waitFor(
                "[...document.querySelectorAll('.hc-message')].some(m => m.textContent.includes('the on-call engineer is investigating')) && \(panel).getElementById('post-status-result').textContent === 'Posted to the room.'",
                timeout: 20, "the room shows the status update the sidebar posted"),
            .click(".hc-message[data-id=\"seed-2\"] .hc-message-menu", "open the menu of the message saying 'down'"),
            .eval(
                "[...\(message).querySelectorAll('.hc-action')].map(a => a.textContent).join(',')",
                "the message's actions"),
            .click(".hc-message[data-id=\"seed-2\"] .hc-action[data-key=\"raise-incident\"]", "run the message action"),
            .waitFor(
                "!document.getElementById('hc-dialog').hidden && !!\(dialog) && !!\(dialog).querySelector('h1') && \(dialog).querySelector('h1').textContent === 'Acknowledge the incident' && document.getElementById('hc-log').textContent.includes('dialog-button-click')",
                timeout: 20, "the dialog is open and its page registered for button clicks"),
            .eval(
                "document.getElementById('hc-dialog-title').textContent + ' | ' + document.getElementById('hc-dialog-primary').textContent + ' | ' + document.getElementById('hc-dialog-hint').textContent + ' | ' + document.querySelector('.hc-dialog-secondary').textContent",
                "the dialog's title, buttons and hint"),
            .screenshot(Self.screenshots.appendingPathComponent("4-dialog.png")),
            .click("#hc-dialog-primary", "press Acknowledge"),
            .waitFor(
                "document.getElementById('hc-dialog').hidden && document.getElementById('hc-log').textContent.includes('closeDialog(true)')",
                timeout: 10, "the page's handler closed the dialog"),
            .screenshot(Self.screenshots.appendingPathComponent("5-acknowledged.png")),
            .click("#hc-input", "focus the message box"),
            .type("/incident checkout is down", "type the slash command"),
            .click(".hc-send", "send it"),
            .waitFor(
                "\(cardTitle).includes('Incident opened by Ada Admin')", timeout: 20, "the reply card is in the room"),
            .eval("[...document.querySelectorAll('.hc-card')].pop().textContent", "the card's text"),
            .eval(
                "[...document.querySelectorAll('.hc-log-entry')].map(e => e.textContent).join('\\n')", "the event log"),
            .screenshot(Self.screenshots.appendingPathComponent("6-slash-command.png")),
            // Playing someone else: an open sidebar is opened again with that person's token.
            .eval(
                "if (!window.__hipchatRoom.views.panel) document.querySelector('.hc-glance[data-key=\"incidents-glance\"]').click(); true",
                "the sidebar is open, or opened again"),
            .waitFor("!!\(panel) && !!\(panel).querySelector('h1')", timeout: 20, "the sidebar is open"),
            .eval(
                """
                window.__sub = function () {
                  // The document loaded in the frame, not its src: a new src shows the old page until the new one arrives.
                  var token = new URL(document.getElementById('hc-panel-frame').contentWindow.location.href).searchParams.get('signed_request');
                  return JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).sub;
                };
                window.__before = window.__sub();
                var role = document.getElementById('hc-role');
                role.value = 'member';
                role.dispatchEvent(new Event('change'));
                true
                """, "play a member with the sidebar open"),
            .waitFor(
                "window.__sub() !== window.__before && !!\(panel) && !!\(panel).querySelector('h1')", timeout: 20,
                "the sidebar was opened again with the member's token"),
            // Live reload of a signed view: it comes back with a fresh token, not the old one.
            .eval(
                "window.__signedBefore = new URL(document.getElementById('hc-panel-frame').contentWindow.location.href).searchParams.get('signed_request'); true",
                "note the sidebar's token"),
            .replace(
                in: project.appendingPathComponent("pages/sidebar.md"), "# Open incidents",
                with: "# Incidents right now", "save an edit of the sidebar's page"),
            .waitFor(
                "!!\(panel) && !!\(panel).querySelector('h1') && \(panel).querySelector('h1').textContent === 'Incidents right now'",
                timeout: 20, "the sidebar reloaded with the edit"),
            .waitFor(
                "!!\(panel) && new URL(document.getElementById('hc-panel-frame').contentWindow.location.href).searchParams.get('signed_request') !== window.__signedBefore",
                timeout: 20, "the sidebar came back with a fresh token"),
            .waitFor(
                "!!\(panel) && !!\(panel).querySelector('h1') && \(panel).querySelector('h1').textContent === 'Incidents right now' && new URL(document.getElementById('hc-panel-frame').contentWindow.location.href).searchParams.get('signed_request') !== window.__signedBefore",
                timeout: 5, "the sidebar shows the edit, signed with the fresh token"),
        ]
        let report = try await Blocking.run {
            try HeadlessChromium().run(steps, timeout: 120, width: 1280, height: 900)
        }
        func value(_ name: String) -> String { report.value(of: name, in: steps) }
        #expect(report.ok, "\(report)\n\(dev.log)")
        guard report.ok else { return }
        let install = value("the install screen's text")
        #expect(install.contains("Send notifications to the room"), "\(install)")
        #expect(install.contains("view_room"), "\(install)")
        #expect(value("the glance as drawn") == "<b>3</b> open | NEW | hc-lozenge hc-lozenge-new")
        #expect(value("what the API answered") == "Ada Admin | Operations | 3")
        #expect(value("the message's actions") == "Raise incident")
        #expect(
            value("the dialog's title, buttons and hint")
                == "Incident | Acknowledge | Acknowledged incidents leave the glance. | Dismiss")
        let card = value("the card's text")
        #expect(card.contains("checkout is down"), "\(card)")
        #expect(card.contains("Severity"), "\(card)")
        let log = value("the event log")
        for expected in [
            "/installed", "/_hipchat/v2/capabilities", "/_hipchat/v2/oauth/token", "/hooks/incident",
            "HipChat.register",
            "user.getCurrentUser", "\"iss\"",
        ] {
            #expect(log.contains(expected), "the event log shows \(expected):\n\(log)")
        }
        #expect(report.errors == [], "\(report.errors)")
        for shot in ["1-install", "2-glance", "3-sidebar", "4-dialog", "5-acknowledged", "6-slash-command"] {
            #expect(
                FileManager.default.fileExists(atPath: Self.screenshots.appendingPathComponent(shot + ".png").path),
                "\(shot).png")
        }
    }

    /// The group: a room install shows the add-on in its room and nowhere else; a room is created
    /// and renamed in the page; a global install shows the glance in every room, with tokens
    /// for the room shown; uninstalling from the group admin's view takes the views and glances
    /// out of every room, and the add-on refuses the old view's token from then on.
    @Test func roomAndGlobalInstallsAcrossTheGroupsRooms() async throws {
        let project = try await TestSupport.scaffold("full", in: "hipchat-group")
        defer { try? FileManager.default.removeItem(at: project.deletingLastPathComponent()) }
        let dev = try await Blocking.run { try DevProcess(project: project) }
        defer { dev.stop() }
        let shots = Self.screenshots.appendingPathComponent("group")
        try? FileManager.default.removeItem(at: shots)

        let glance = "document.querySelector('.hc-glance[data-key=\"incidents-glance\"]')"
        let panel = "document.getElementById('hc-panel-frame').contentDocument"
        let shown = "document.body.dataset.room"
        func inRoom(_ id: Int) -> String { "\(shown) === '\(id)'" }
        let roomName = "document.getElementById('hc-room-name').textContent"
        let tokenRoom =
            "JSON.parse(atob(new URL(document.getElementById('hc-panel-frame').src).searchParams.get('signed_request').split('.')[1].replace(/-/g, '+').replace(/_/g, '/'))).context.room_id"
        let steps: [ScenarioStep] = [
            .navigate(dev.url("_hipchat/"), "open the local HipChat"),
            .waitFor(
                "!!document.getElementById('hc-install-room') && \(inRoom(1))", "the install screen in Operations"),
            .click("#hc-install-room", "approve and install in Operations"),
            .waitFor(
                "!!\(glance) && !!\(glance).querySelector('.hc-lozenge')", timeout: 20, "the glance in Operations"),
            .eval(
                "[...document.querySelectorAll('.hc-room-link')].map(r => r.textContent).join(' | ')",
                "the room list after a room install"),
            .click(".hc-room-link[data-room=\"2\"]", "go to Leadership"),
            .waitFor(
                "\(inRoom(2)) && !document.getElementById('hc-install').hidden && !\(glance)", timeout: 10,
                "Leadership has no glance and offers the install"),
            .eval(
                "[!!document.getElementById('hc-install-room'), !!document.getElementById('hc-install-global'), document.getElementById('hc-install-why').textContent].join(' | ')",
                "what Leadership's install screen offers"),
            .screenshot(shots.appendingPathComponent("1-other-room.png")),
            .eval(
                "document.getElementById('hc-new-room-name').value = 'Payments'; document.getElementById('hc-new-room-private').checked = true; true",
                "name a new private room"),
            .click("#hc-new-room-create", "create it"),
            .waitFor("\(inRoom(3)) && \(roomName) === 'Payments'", timeout: 10, "the new room is shown"),
            .click("#hc-rename-room", "rename it"),
            .eval("document.getElementById('hc-rename-input').value = 'Payments team'; true", "type the new name"),
            .click("#hc-rename-form button[type=submit]", "save the name"),
            .waitFor(
                "\(roomName) === 'Payments team' && document.querySelector('.hc-room-link[data-room=\"3\"]').textContent.includes('Payments team')",
                timeout: 10, "the room is renamed in the title and the list"),
            .eval("document.getElementById('hc-room-privacy').textContent", "the new room's privacy"),
            .click(".hc-room-link[data-room=\"1\"]", "back to Operations"),
            .waitFor("\(inRoom(1)) && !!\(glance)", timeout: 10, "Operations still has its glance"),
            .eval("window.confirm = function () { return true; }; true", "answer confirmations with OK"),
            .click("#hc-group-admin-open", "open the group admin's view"),
            .eval(
                "[...document.querySelectorAll('.hc-admin-installation')].map(r => r.dataset.scope + ' ' + r.cells[0].textContent).join(' | ')",
                "the installations the group admin sees"),
            .click(".hc-admin-installation .hc-admin-uninstall", "uninstall the room installation"),
            .waitFor(
                "document.body.dataset.installed === 'no' && !\(glance) && document.querySelectorAll('.hc-admin-installation').length === 0",
                timeout: 20, "the add-on left Operations"),
            .click("#hc-group-admin-close", "close the group admin's view"),
            .click("#hc-install-global", "approve and install for all rooms"),
            .waitFor(
                "!!\(glance) && !!\(glance).querySelector('.hc-lozenge')", timeout: 20, "the glance in Operations"),
            .click(".hc-room-link[data-room=\"3\"]", "go to Payments team"),
            .waitFor(
                "\(inRoom(3)) && !!\(glance) && !!\(glance).querySelector('.hc-lozenge')", timeout: 20,
                "the glance in Payments team"),
            .click(".hc-room-link[data-room=\"2\"]", "go to Leadership"),
            .waitFor(
                "\(inRoom(2)) && !!\(glance) && !!\(glance).querySelector('.hc-lozenge')", timeout: 20,
                "the glance in Leadership"),
            .click(".hc-glance[data-key=\"incidents-glance\"]", "open the sidebar in Leadership"),
            .waitFor("!!\(panel) && !!\(panel).querySelector('h1')", timeout: 20, "the sidebar is open"),
            .eval(
                "window.__oldView = document.getElementById('hc-panel-frame').src; \(tokenRoom)",
                "the sidebar token's room"),
            .screenshot(shots.appendingPathComponent("2-global.png")),
            .click("#hc-group-admin-open", "open the group admin's view again"),
            .click(
                ".hc-admin-installation[data-scope=\"global\"] .hc-admin-uninstall", "uninstall the global installation"
            ),
            .waitFor(
                "document.body.dataset.installed === 'no' && !\(glance) && document.getElementById('hc-panel').hidden",
                timeout: 20, "the sidebar and glance left Leadership"),
            .click("#hc-group-admin-close", "close the group admin's view once more"),
            .click(".hc-room-link[data-room=\"1\"]", "back to Operations again"),
            .waitFor(
                "\(inRoom(1)) && document.body.dataset.installed === 'no' && !\(glance) && !document.getElementById('hc-install').hidden",
                timeout: 10, "nothing of the add-on is left in Operations"),
            .eval(
                "fetch(window.__oldView).then(function (r) { window.__oldStatus = r.status; }); true",
                "load the old sidebar URL again"),
            .waitFor("!!window.__oldStatus", timeout: 10, "the add-on answered"),
            .eval("window.__oldStatus", "what the add-on answers the old sidebar token"),
            .screenshot(shots.appendingPathComponent("3-uninstalled.png")),
        ]
        let report = try await Blocking.run {
            try HeadlessChromium().run(steps, timeout: 120, width: 1280, height: 900)
        }
        func value(_ name: String) -> String { report.value(of: name, in: steps) }
        #expect(report.ok, "\(report)\n\(dev.log)")
        guard report.ok else { return }
        #expect(value("the room list after a room install") == "Operationsroom | Leadershipprivate")
        #expect(
            value("what Leadership's install screen offers")
                == "true | false | It is installed in Operations: uninstall it there to install it for all rooms.")
        #expect(value("the new room's privacy") == "private")
        #expect(value("the installations the group admin sees") == "room in Operations")
        #expect(value("the sidebar token's room") == "2")
        #expect(value("what the add-on answers the old sidebar token") == "401")
        // The one error the page saw is that refusal, which the console reports.
        #expect(
            report.errors.allSatisfy { $0.contains("status of 401") && $0.contains("/sidebar.html?signed_request=") },
            "\(report.errors)")
    }

    /// HipChat's browser flows in the browser: with `installedUrl` and `uninstalledUrl` (and no
    /// `callbackUrl`), approving the install sends the browser to the add-on, which reads the
    /// single-use `installable_url` and sends it back to the room, now with the add-on; the
    /// uninstall from the group admin's view goes through the add-on the same way.
    @Test func theBrowserInstallFlowGoesThroughTheAddonAndBack() async throws {
        let project = try await TestSupport.scaffold("full", in: "hipchat-browser-flow")
        defer { try? FileManager.default.removeItem(at: project.deletingLastPathComponent()) }
        let spec = project.appendingPathComponent("addon.yaml")
        try String(contentsOf: spec, encoding: .utf8).replacingOccurrences(
            of: "  callbackUrl: /installed\n",
            with: "  installedUrl: /installed-browser\n  uninstalledUrl: /uninstalled\n"
        ).write(to: spec, atomically: true, encoding: .utf8)
        let dev = try await Blocking.run {
            try DevProcess(project: project, arguments: ["--admin-token", "local-admin-token"])
        }
        defer { dev.stop() }
        let glance = "document.querySelector('.hc-glance[data-key=\"incidents-glance\"]')"
        let log = "document.getElementById('hc-log').textContent"
        let steps: [ScenarioStep] = [
            .navigate(dev.url("_hipchat/"), "open the local HipChat"),
            .waitFor("!!document.getElementById('hc-install-room')", "the install screen"),
            .eval("window.__marked = true; true", "mark this page load"),
            .click("#hc-install-room", "approve and install in Operations"),
            .waitFor(
                "!window.__marked && document.readyState === 'complete' && document.body.dataset.installed === 'yes' && !!\(glance) && \(log).includes('/oauth/installable/')",
                timeout: 20, "the browser came back to a new load of the room, with the add-on installed"),
            .eval("location.pathname", "where the browser is"),
            .eval(
                "window.confirm = function () { return true; }; window.__marked = true; true",
                "answer confirmations with OK"),
            .click("#hc-group-admin-open", "open the group admin's view"),
            .click(".hc-admin-installation .hc-admin-uninstall", "uninstall"),
            .waitFor(
                "!window.__marked && document.readyState === 'complete' && document.body.dataset.installed === 'no' && !\(glance)",
                timeout: 20, "the browser went through the add-on and came back to the room, without it"),
        ]
        let report = try await Blocking.run {
            try HeadlessChromium().run(steps, timeout: 90, width: 1280, height: 900)
        }
        #expect(report.ok, "\(report)\n\(dev.log)")
        guard report.ok else { return }
        #expect(report.values[5]?.string == "/_hipchat/")
        let stored = LocalHipChatFlowTests.json(
            await dev.fetch("GET", "admin/installations", headers: ["Authorization": "Bearer local-admin-token"]).body)
        #expect((stored["installations"] as? [Any])?.isEmpty == true, "\(stored)")
        #expect(report.errors == [], "\(report.errors)")
    }

    /// A change that leaves the room as it was (here the room entered again) does not draw the
    /// page again. Drawing replaces the buttons, so a click pressed on the install button and
    /// released after such a redraw was lost: the page showed the install screen right after the
    /// room had read its descriptor, and redrew it a moment later when told of that read.
    @Test func aChangeThatLeavesTheRoomAsItWasKeepsItsButtons() async throws {
        let project = try await TestSupport.scaffold("full", in: "hipchat-redraw")
        defer { try? FileManager.default.removeItem(at: project.deletingLastPathComponent()) }
        let dev = try await Blocking.run { try DevProcess(project: project) }
        defer { dev.stop() }
        let enter =
            "fetch('api/enter', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({room: window.__hipchatRoom.state().room.id})}).then(r => r.status)"
        let report = try await Blocking.run {
            try HeadlessChromium().run([
                .navigate(dev.url("_hipchat/"), "open the local HipChat"),
                .waitFor("!!document.getElementById('hc-install-room')", "the install screen"),
                .eval(
                    "window.__button = document.getElementById('hc-install-room'); window.__seen = window.__hipchatRoom.refreshes(); true",
                    "keep the button shown and the state fetches so far"),
                .eval(enter, "enter the room shown again"),
                .waitFor("window.__hipchatRoom.refreshes() > window.__seen", "the room read its state again"),
                .eval("document.getElementById('hc-install-room') === window.__button", "the same button"),
                .click("#hc-install-room", "approve and install in Operations"),
                .waitFor("document.body.dataset.installed === 'yes'", timeout: 20, "installed"),
            ])
        }
        #expect(report.ok, "\(report)\n\(dev.log)")
        guard report.values.count > 5 else { return }
        #expect(report.values[3] == .number(200), "\(report)")
        #expect(report.values[5] == .bool(true), "the install button was drawn again: \(report)")
        #expect(report.errors == [], "\(report.errors)")
    }

    /// A rebuild that fails under `hipkit dev` shows on the room page itself, naming the line, and
    /// goes away with the fix; the room keeps the last good build meanwhile.
    @Test func theRoomPageShowsAFailedRebuild() async throws {
        let project = try await TestSupport.scaffold("full", in: "hipchat-failed")
        defer { try? FileManager.default.removeItem(at: project.deletingLastPathComponent()) }
        let spec = project.appendingPathComponent("addon.yaml")
        let lines = try String(contentsOf: spec, encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        let nameLine = try #require(lines.firstIndex { $0.hasPrefix("name: ") }) + 1
        let oldName = try #require(lines.first { $0.hasPrefix("name: ") }).dropFirst(6)
        let dev = try await Blocking.run { try DevProcess(project: project) }
        defer { dev.stop() }
        let banner = "document.getElementById('hc-build-failed')"
        let report = try await Blocking.run {
            try HeadlessChromium().run([
                .navigate(dev.url("_hipchat/"), "open the local HipChat"),
                .waitFor(
                    "!!document.getElementById('hc-install-global') && \(banner).hidden", "the room, no failure shown"),
                .replace(in: spec, "name: \(oldName)", with: "name: [\(oldName)]", "break the spec"),
                .waitFor(
                    "!\(banner).hidden && \(banner).textContent.includes('addon.yaml:\(nameLine):')", timeout: 20,
                    "the room page names the broken line"),
                .eval("\(banner).textContent", "the banner's text"),
                .replace(in: spec, "name: [\(oldName)]", with: "name: \(oldName)", "fix the spec"),
                .waitFor("\(banner).hidden", timeout: 20, "the banner went away"),
            ])
        }
        #expect(report.ok, "\(report)\n\(dev.log)")
        #expect(report.values[4]?.string?.contains("The last rebuild failed with 1 error") == true, "\(report)")
    }

    /// The flagship example does what it says: `/deploy` gets its canned reply, the sidebar's
    /// table fits the 300 px panel, and the rollback dialog opened from a deploy message names
    /// that deploy, refuses Roll back until its checklist is ticked (by real clicks), then writes
    /// the announcement into the message box.
    @Test func theDeployBoardExampleDoesWhatItSays() async throws {
        let root = try TestSupport.temporaryDirectory("deploy-board-browser")
        defer { try? FileManager.default.removeItem(at: root) }
        let project = root.appendingPathComponent("deploy-board")
        try FileManager.default.copyItem(
            at: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../../examples/deploy-board").standardizedFileURL,
            to: project)
        let dev = try await Blocking.run { try DevProcess(project: project) }
        defer { dev.stop() }
        let shots = Self.screenshots.appendingPathComponent("deploy-board")
        try? FileManager.default.removeItem(at: shots)

        let panel = "document.getElementById('hc-panel-frame').contentDocument"
        let dialog = "document.getElementById('hc-dialog-frame').contentDocument"
        let last = "#hc-messages > .hc-message:last-child"
        let steps: [ScenarioStep] = [
            .navigate(dev.url("_hipchat/"), "open the local HipChat"),
            .waitFor("!!document.getElementById('hc-install-global')", "the install screen"),
            .click("#hc-install-global", "install for all rooms"),
            .waitFor("!!document.querySelector('.hc-glance[data-key=\"deploys\"]')", timeout: 20, "the glance"),
            .click(".hc-glance[data-key=\"deploys\"]", "open Recent deploys from the glance"),
            .waitFor(
                "!!\(panel) && !!\(panel).querySelector('table')", timeout: 20, "the sidebar shows its table"),
            .eval(
                "[\(panel).querySelector('table').scrollWidth, \(panel).querySelector('table').clientWidth, \(panel).documentElement.scrollWidth, document.getElementById('hc-panel-frame').clientWidth].join(' ')",
                "the table's width, the width it has, the page's width and the panel's"),
            .screenshot(shots.appendingPathComponent("1-sidebar.png")),
            .click("#hc-input", "focus the message box"),
            .type("/deploy", "type the slash command"),
            .click(".hc-send", "send it"),
            .waitFor(
                "document.getElementById('hc-messages').textContent.includes(\"today's deploys are on the Deploys glance\")",
                timeout: 20, "the canned reply is in the room"),
            .click("#hc-input", "focus the message box again"),
            .type("checkout deployed 4f2a9c1 to production", "type a deploy message"),
            .click(".hc-send", "send it"),
            .waitFor(
                "!!document.querySelector('\(last) .hc-message-menu') && document.querySelector('\(last)').textContent.includes('4f2a9c1')",
                timeout: 20, "the deploy message offers its actions"),
            .click("\(last) .hc-message-menu", "open its menu"),
            .click("\(last) .hc-action[data-key=\"rollback-from-message\"]", "Roll back this deploy"),
            .waitFor(
                "!document.getElementById('hc-dialog').hidden && !!\(dialog) && !!\(dialog).getElementById('deploy-message') && \(dialog).getElementById('deploy-message').textContent.includes('4f2a9c1')",
                timeout: 20, "the dialog names the deploy it was opened from"),
            .eval("\(dialog).getElementById('deploy-message').textContent", "the deploy the dialog names"),
            .click("#hc-dialog-primary", "press Roll back with nothing ticked"),
            .waitFor("!\(dialog).getElementById('rollback-note').hidden", "the dialog asks for the boxes"),
            .eval("document.getElementById('hc-dialog').hidden", "whether the dialog closed"),
            .click("li:nth-of-type(1) > input[type=checkbox]", inFrame: "#hc-dialog-frame", "tick the first box"),
            .click("li:nth-of-type(2) > input[type=checkbox]", inFrame: "#hc-dialog-frame", "tick the second box"),
            .eval(
                "[...\(dialog).querySelectorAll('li > input[type=checkbox]')].map(b => b.checked).join(',')",
                "the boxes after the clicks"),
            .screenshot(shots.appendingPathComponent("2-rollback.png")),
            .click("#hc-dialog-primary", "press Roll back"),
            .waitFor("document.getElementById('hc-dialog').hidden", timeout: 10, "the dialog closed"),
            .eval("document.getElementById('hc-input').value", "the message box"),
            .screenshot(shots.appendingPathComponent("3-announcement.png")),
        ]
        let report = try await Blocking.run {
            try HeadlessChromium().run(steps, timeout: 120, width: 1280, height: 900)
        }
        func value(_ name: String) -> String { report.value(of: name, in: steps) }
        #expect(report.ok, "\(report)\n\(dev.log)")
        guard report.ok else { return }
        let widths = value("the table's width, the width it has, the page's width and the panel's")
            .split(separator: " ").compactMap { Int($0) }
        #expect(widths.count == 4 && widths[0] <= widths[1] && widths[2] <= widths[3], "\(widths)")
        #expect(value("the deploy the dialog names").contains("checkout deployed 4f2a9c1"))
        #expect(value("whether the dialog closed") == "false")
        #expect(value("the boxes after the clicks") == "true,true")
        #expect(value("the message box") == "Rolling back checkout 4f2a9c1 to the release before it.")
        #expect(report.errors == [], "\(report.errors)")
    }
}
