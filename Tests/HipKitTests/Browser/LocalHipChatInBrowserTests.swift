import Foundation
import HipChatConnect
import Testing

/// The local HipChat seen in a real headless Chromium, on a real `hipkit dev` process with
/// JWT checks on: install the `full` scaffold, see its glance's label and lozenge, open the
/// sidebar from the glance, open the dialog from a message action and press its primary
/// button, send the slash command and see the reply card, and use the views' JavaScript API.
/// A screenshot of each step goes to `.build/screenshots/hipchat/`.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct LocalHipChatInBrowserTests {
    static let screenshots = ViewPagesInBrowserTests.screenshots.appendingPathComponent("hipchat")

    @Test func installTheFullScaffoldAndUseItAsAHipChatUser() async throws {
        let project = try TestSupport.temporaryDirectory("hipchat-browser").appendingPathComponent("incidents")
        defer { try? FileManager.default.removeItem(at: project.deletingLastPathComponent()) }
        let created = try await Blocking.run { try TestSupport.hipkit(["init", project.path, "--template", "full"]) }
        try #require(created.status == 0, "\(created.stderr)")
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
        ]
        let report = try await Blocking.run {
            try HeadlessChromium().run(steps, timeout: 120, width: 1280, height: 900)
        }
        func value(_ name: String) -> String {
            guard let index = steps.firstIndex(where: { $0.name == name }), index < report.values.count else {
                return ""
            }
            return report.values[index]?.string ?? ""
        }
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
}
