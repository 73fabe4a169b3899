import Foundation
import HipChatConnect
import TestProcesses
import Testing

/// `hipkit dev` seen from a browser: a real headless Chromium page on a real `hipkit dev`
/// process reloads after an edit, shows the overlay when the spec breaks, keeps showing the
/// last good build meanwhile, and drops the overlay once the spec is fixed.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct DevReloadInBrowserTests {
    static let screenshots = ViewPagesInBrowserTests.screenshots.appendingPathComponent("dev")

    @Test func pageReloadsAfterAnEditAndShowsTheOverlayWhileTheSpecIsBroken() async throws {
        let project = try await TestSupport.scaffold("full", in: "dev-browser")
        defer { try? FileManager.default.removeItem(at: project.deletingLastPathComponent()) }
        let spec = project.appendingPathComponent("addon.yaml")
        let specText = try String(contentsOf: spec, encoding: .utf8)
        let nameLine =
            try #require(
                specText.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("name: ") })
            + 1
        let oldName = try #require(specText.split(separator: "\n").first { $0.hasPrefix("name: ") }).dropFirst(6)

        let dev = try await Blocking.run { try DevProcess(project: project, arguments: ["--no-auth"]) }
        defer { dev.stop() }
        // The build output has no trace of the dev script; only the served page does.
        let built = try String(contentsOf: project.appendingPathComponent("dist/sidebar.html"), encoding: .utf8)
        #expect(!built.contains("_hipkit/dev"))
        #expect(
            String(decoding: await dev.fetch("GET", "sidebar.html").body, as: UTF8.self).contains(
                "/_hipkit/dev/reload.js"))

        let overlay = "document.getElementById('hipkit-dev-overlay')"
        let report = try await Blocking.run {
            try HeadlessChromium().run([
                .navigate(dev.url("sidebar.html"), "open the sidebar view (no token: --no-auth)"),
                .waitFor(
                    "window.__hipkitDev && window.__hipkitDev.connected", "the page hears from hipkit dev"),
                .eval(
                    "window.__beforeEdit = true; document.querySelector('h1').textContent",
                    "the heading before the edit"),
                .replace(
                    in: project.appendingPathComponent("pages/sidebar.md"), "# Open incidents",
                    with: "# Incidents right now", "save an edit"),
                .waitFor(
                    "!window.__beforeEdit && document.querySelector('h1') && document.querySelector('h1').textContent === 'Incidents right now'",
                    timeout: 20, "the page reloaded with the edit"),
                .screenshot(Self.screenshots.appendingPathComponent("1-reloaded.png")),
                .eval("window.__beforeBreak = true", "mark the page"),
                .replace(in: spec, "name: \(oldName)", with: "name: [\(oldName)]", "break the spec"),
                .waitFor(
                    "!!\(overlay) && \(overlay).shadowRoot.textContent.includes('addon.yaml:\(nameLine):')",
                    timeout: 20,
                    "the overlay names the broken line"),
                .eval("\(overlay).shadowRoot.textContent", "the overlay's text"),
                .eval(
                    "window.__beforeBreak === true && document.querySelector('h1').textContent",
                    "still the last good page"),
                .screenshot(Self.screenshots.appendingPathComponent("2-overlay.png")),
                .replace(in: spec, "name: [\(oldName)]", with: "name: \(oldName)", "fix the spec"),
                .waitFor("!\(overlay)", timeout: 20, "the overlay went away"),
                .screenshot(Self.screenshots.appendingPathComponent("3-fixed.png")),
            ])
        }
        #expect(report.ok, "\(report)\n\(dev.log)")
        guard report.ok else { return }
        #expect(report.values[2]?.string == "Open incidents")
        let overlayText = report.values[9]?.string ?? ""
        #expect(overlayText.contains("the build failed with"), "\(overlayText)")
        #expect(overlayText.contains("addon.yaml:\(nameLine):"), "\(overlayText)")
        #expect(overlayText.contains("name: [\(oldName)]"), "the excerpt quotes the line: \(overlayText)")
        #expect(report.values[10]?.string == "Incidents right now", "the last good build stays on screen")
        // Our own script raised nothing; pages may still miss HipChat's all.js, which no test host has.
        #expect(report.errors.filter { $0.contains("_hipkit") || $0.contains("EventSource") } == [], "\(report.errors)")
        #expect(dev.log.contains("addon.yaml:\(nameLine):"), "the terminal shows the diagnostics too:\n\(dev.log)")
        #expect(
            try await Blocking.run { dev.stop() }, "hipkit dev stops on Ctrl-C even with a page listening:\n\(dev.log)")
    }

    /// A page's HTML leaves the server some time before its event stream opens; a rebuild in
    /// between is never sent on the stream. The page opens it with the build it came from, and
    /// the first event says what changed since: the page reloads when it did, and only then.
    /// The browser is given HTML fetched before an edit, with its stream opening after the
    /// rebuild.
    @Test(arguments: [
        (page: "sidebar.md", old: "# Open incidents", new: "# Incidents right now", reloads: true),
        (page: "help.md", old: "to open an incident", new: "to open one", reloads: false),
    ])
    func aPageServedJustBeforeARebuildReloadsWhenItChanged(
        _ edit: (page: String, old: String, new: String, reloads: Bool)
    ) async throws {
        let project = try await TestSupport.scaffold("full", in: "dev-browser-race")
        defer { try? FileManager.default.removeItem(at: project.deletingLastPathComponent()) }
        let dev = try await Blocking.run { try DevProcess(project: project, arguments: ["--no-auth"]) }
        defer { dev.stop() }
        func build() async -> Int? {
            let body = await dev.fetch("GET", "_hipkit/dev/status").body
            return (try? JSONDecoder().decode(JSONNode.self, from: body))?["build"]?.intValue
        }
        let before = try #require(await build())
        let stale = String(decoding: await dev.fetch("GET", "sidebar.html").body, as: UTF8.self)
        #expect(stale.contains("data-build=\"\(before)\""), "\(stale)")
        let edited = project.appendingPathComponent("pages/" + edit.page)
        let text = try String(contentsOf: edited, encoding: .utf8)
        #expect(text.contains(edit.old))
        try text.replacingOccurrences(of: edit.old, with: edit.new).write(to: edited, atomically: true, encoding: .utf8)
        let deadline = ContinuousClock.now + .seconds(20)
        while await build() == before, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(await build() != before, "hipkit dev rebuilt after the edit:\n\(dev.log)")

        let html = String(decoding: try JSONEncoder().encode(stale), as: UTF8.self)
        let outcome: ScenarioStep =
            edit.reloads
            ? .waitFor(
                "!window.__stale && !!document.querySelector('h1') && document.querySelector('h1').textContent === 'Incidents right now'",
                timeout: 20, "the page reloaded with the edit")
            : .waitFor(
                "window.__hipkitDev.connected && !window.__hipkitDev.reloading && window.__stale === true && document.querySelector('h1').textContent === 'Open incidents'",
                timeout: 20, "the page heard of the build and stayed")
        let report = try await Blocking.run {
            try HeadlessChromium().run([
                .navigate(dev.url("atlassian-connect.json"), "open a file of hipkit dev that is no page"),
                .eval(
                    "history.replaceState(null, '', '/sidebar.html'); window.__stale = true; document.open(); document.write(\(html)); document.close(); true",
                    "show the sidebar's HTML sent before the edit; its stream opens now"),
                outcome,
            ])
        }
        #expect(report.ok, "\(report)\n\(dev.log)")
    }

    /// A project that has never built: the browser at `hipkit dev`'s address shows its problems
    /// (not "connection refused"), follows the next failure, and becomes the add-on's page at the
    /// first good build, when the real server takes the address — no reload by hand.
    @Test func aProjectThatNeverBuiltShowsItsProblemsUntilItDoes() async throws {
        let project = try await TestSupport.scaffold("full", in: "dev-browser-waiting")
        defer { try? FileManager.default.removeItem(at: project.deletingLastPathComponent()) }
        let spec = project.appendingPathComponent("addon.yaml")
        let good = try String(contentsOf: spec, encoding: .utf8)
        let lines = good.split(separator: "\n", omittingEmptySubsequences: false)
        let nameIndex = try #require(lines.firstIndex { $0.hasPrefix("name: ") })
        var broken = lines
        broken.insert("name: twice", at: nameIndex + 1)
        try TestSupport.write(broken.joined(separator: "\n"), to: spec)
        #expect(!FileManager.default.fileExists(atPath: project.appendingPathComponent("dist").path))

        let dev = try await Blocking.run { try DevProcess(project: project, arguments: ["--no-auth"]) }
        defer { dev.stop() }
        let problems = "document.getElementById('hipkit-dev-problems')"
        let report = try await Blocking.run {
            try HeadlessChromium().run([
                .navigate(dev.url("sidebar.html"), "open the sidebar view before any build"),
                .waitFor(
                    "!!\(problems) && \(problems).textContent.includes('addon.yaml:\(nameIndex + 2):')",
                    "the page names the broken line"),
                .eval("window.__first = true; \(problems).textContent", "the problems shown"),
                .screenshot(Self.screenshots.appendingPathComponent("4-never-built.png")),
                .replace(in: spec, "\nname: twice\n", with: "\n\nname: twice\n", "break it on another line"),
                .waitFor(
                    "!window.__first && !!\(problems) && \(problems).textContent.includes('addon.yaml:\(nameIndex + 3):')",
                    timeout: 20, "the page reloaded with the new problem"),
                .replace(in: spec, "\n\nname: twice\n", with: "\n", "fix the spec"),
                .waitFor(
                    "!!window.__hipkitDev && !!document.querySelector('h1') && document.querySelector('h1').textContent === 'Open incidents'",
                    timeout: 30, "the sidebar view, served by the first good build"),
            ])
        }
        #expect(report.ok, "\(report)\n\(dev.log)")
        guard report.ok else { return }
        #expect((report.values[2]?.string ?? "").contains("name: twice"), "the excerpt quotes the line")
        #expect(try await Blocking.run { dev.stop() }, "\(dev.log)")
    }
}
