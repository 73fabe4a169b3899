import Foundation
import HipChatConnect
import TestProcesses
import Testing

@testable import HipKit

/// Built sites opened in a real headless Chromium, served over loopback HTTP: every view page
/// loads without a console error, and the sidebar and dialog pages are not blank.
///
/// HipChat's own all.js cannot be reached, so the projects are pointed at the local stand-in with
/// the `hipchatJs` and `hipchatCss` settings users have for HipChat Server hosts.
@Suite(.serialized) struct ViewPagesInBrowserTests {
    /// Screenshots are kept under .build/screenshots, for a person to look at after a run.
    static let screenshots: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().appendingPathComponent("../../../.build/screenshots").standardizedFileURL

    static let examples: [String] = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../../examples"
        ).standardizedFileURL
        return ((try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? [])
            .filter { FileManager.default.fileExists(atPath: root.appendingPathComponent($0 + "/addon.yaml").path) }
            .sorted()
    }()

    /// A copy of `project` that loads the stand-in instead of hipchat.com, built into dist/.
    func buildWithStandIn(_ project: URL, name: String) throws -> URL {
        let copy = try TestSupport.temporaryDirectory(name)
        try FileManager.default.removeItem(at: copy)
        try FileManager.default.copyItem(at: project, to: copy)
        try? FileManager.default.removeItem(at: copy.appendingPathComponent("dist"))
        try FileManager.default.copyItem(at: HeadlessChromium.standIn, to: copy.appendingPathComponent("standin"))
        let spec = copy.appendingPathComponent("addon.yaml")
        let text = try String(contentsOf: spec, encoding: .utf8)
        try TestSupport.write(text + "\nhipchatJs: standin/all.js\nhipchatCss: standin/all.css\n", to: spec)
        let build = try ProjectBuild.prepare(copy.path, options: LoadOptions(environment: "dev"))
        #expect(!build.hasErrors, "\(build.diagnostics)")
        try build.write(to: copy.appendingPathComponent("dist"))
        // A stand-in for hipkit serve's settings endpoint, which configuration pages with
        // settings call; a static server has no runtime behind it.
        try TestSupport.write("{}", to: copy.appendingPathComponent("dist/_hipkit/settings"))
        return copy
    }

    func checkViews(of project: URL, name: String) async throws {
        let browser = try HeadlessChromium()
        let dist = project.appendingPathComponent("dist")
        let server = try LoopbackServer(serving: dist)
        defer { server.stop() }
        let descriptor = try #require(
            try TestSupport.load(project, options: LoadOptions(environment: "dev")).project?.descriptor.json)
        let caps = descriptor["capabilities"]
        let views: [(kind: String, url: String?)] =
            (caps?["webPanel"]?.arrayValue ?? []).map { ("sidebar", $0["url"]?.stringValue) }
            + (caps?["dialog"]?.arrayValue ?? []).map { ("dialog", $0["url"]?.stringValue) }
            + [("configure", caps?["configurable"]?["url"]?.stringValue)]
            + (caps?["externalPage"]?.arrayValue ?? []).map { ("external", $0["url"]?.stringValue) }
        let base = "http://localhost:8080/"
        var opened = 0
        for (kind, url) in views {
            guard let url, url.hasPrefix(base) else { continue }
            let path = String(url.dropFirst(base.count))
            let size = kind == "sidebar" ? (320, 560) : (800, 520)
            let shot = Self.screenshots.appendingPathComponent(
                "\(name)-\(kind)-\(path.replacingOccurrences(of: "/", with: "_")).png")
            try FileManager.default.createDirectory(at: Self.screenshots, withIntermediateDirectories: true)
            let report = try await Blocking.run {
                try browser.open(
                    URL(string: server.url(for: path).absoluteString + "?signed_request=stand-in.jwt")!,
                    screenshot: shot, width: size.0, height: size.1)
            }
            #expect(report.consoleErrors.isEmpty, "\(name) \(path): \(report.consoleErrors)")
            if kind == "sidebar" || kind == "dialog" {
                #expect(!report.isBlank, "\(name) \(path) looks blank (\(report.offDominantFraction))")
            }
            opened += 1
        }
        #expect(opened >= 2, "\(name): no views to open")
        // The preview opens cleanly too, at its own path and (without pages/index.md) at the root.
        for path in [SitePath.preview, "index.html"] {
            let preview = try await Blocking.run {
                try browser.open(
                    server.url(for: path),
                    screenshot: Self.screenshots.appendingPathComponent(
                        "\(name)-\(path.replacingOccurrences(of: "/", with: "-")).png"),
                    width: 1000, height: 900)
            }
            #expect(preview.consoleErrors.isEmpty, "\(name) \(path): \(preview.consoleErrors)")
            #expect(!preview.isBlank)
        }
    }

    @Test func initProjectViewsOpenCleanly() async throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let project = root.appendingPathComponent("views")
        _ = try ProjectScaffolder().create(template: "full", in: project, values: .defaults(forFolder: "views"))
        let built = try buildWithStandIn(project, name: "init-views")
        defer { try? FileManager.default.removeItem(at: built) }
        try await checkViews(of: built, name: "init-full")
    }

    @Test(arguments: examples)
    func exampleViewsOpenCleanly(_ example: String) async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../../examples/\(example)"
        ).standardizedFileURL
        let built = try buildWithStandIn(root, name: "example-\(example)")
        defer { try? FileManager.default.removeItem(at: built) }
        try await checkViews(of: built, name: example)
    }

    /// The listing preview shows every image (a missing one is a failed load, reported as an error).
    @Test func listingPreviewOpensWithAllImages() async throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let project = root.appendingPathComponent("listed")
        _ = try ProjectScaffolder().create(template: "full", in: project, values: .defaults(forFolder: "listed"))
        let build = try ProjectBuild.prepare(project.path)
        #expect(!build.hasErrors, "\(build.diagnostics)")
        try build.write(to: project.appendingPathComponent("dist"))
        let server = try LoopbackServer(serving: project.appendingPathComponent("dist"))
        defer { server.stop() }
        let report = try await Blocking.run {
            try HeadlessChromium().open(
                server.url(for: "marketplace/preview.html"),
                screenshot: Self.screenshots.appendingPathComponent("listing-preview.png"), width: 1100, height: 1400)
        }
        #expect(report.consoleErrors.isEmpty, "\(report.consoleErrors)")
        #expect(!report.isBlank)
        let html = String(
            decoding: try Data(contentsOf: project.appendingPathComponent("dist/marketplace/preview.html")),
            as: UTF8.self)
        #expect(html.components(separatedBy: "<img ").count - 1 >= 8, "logo, banner, three screenshots and three crops")
    }

    @Test func aDialogPageAnswersItsButtons() async throws {
        // A project dialog layout adds a probe: the page starts red and turns white only when
        // HipChat's dialog-button-click reaches the page as a hipkit:dialog-action event and the
        // dialog is closed. (Markdown cannot carry scripts: GFM's tag filter disarms them.)
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let project = root.appendingPathComponent("dlg")
        _ = try ProjectScaffolder().create(template: "full", in: project, values: .defaults(forFolder: "dlg"))
        try TestSupport.write(
            """
            {{<base}}
            {{$head}}<style>html, body { background: #ff0000 !important; }</style>{{/head}}
            {{$content}}<main>{{{page.content}}}</main>
            <script>
            window.addEventListener("load", function () {
              var detail = null, closed = false;
              document.addEventListener("hipkit:dialog-action", function (e) { detail = e.detail; });
              var handler = window.HipChat.standIn.handlers["dialog-button-click"];
              if (!handler) { console.error("no dialog-button-click handler registered"); return; }
              handler({ action: "incident-ack" }, function () { closed = true; });
              if (!detail || detail.action !== "incident-ack" || detail.known !== true || !closed) {
                console.error("dialog buttons not wired: " + JSON.stringify(detail) + " closed=" + closed);
                return;
              }
              var style = document.createElement("style");
              style.textContent = "html, body { background: #ffffff !important; } main { display: none; }";
              document.head.appendChild(style);
            });
            </script>
            {{/content}}
            {{/base}}
            """, to: project.appendingPathComponent("templates/dialog.mustache"))
        let built = try buildWithStandIn(project, name: "dialog-probe")
        defer { try? FileManager.default.removeItem(at: built) }
        let server = try LoopbackServer(serving: built.appendingPathComponent("dist"))
        defer { server.stop() }
        let report = try await Blocking.run {
            try HeadlessChromium().open(
                URL(string: server.url(for: "dialog.html").absoluteString + "?signed_request=x")!,
                screenshot: Self.screenshots.appendingPathComponent("dialog-probe.png"), width: 600, height: 400)
        }
        #expect(report.consoleErrors.isEmpty, "\(report.consoleErrors)")
        #expect(
            report.dominantColour.hasPrefix("#ffffff"),
            "the probe did not run to the end (page is \(report.dominantColour))")
    }
}
