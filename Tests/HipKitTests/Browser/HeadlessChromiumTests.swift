import Foundation
import HipChatConnect
import TestProcesses
import Testing

/// The browser harness itself: that it sees errors when there are some, none when there are none,
/// and tells a painted page from an empty one. Everything else that uses it relies on these.
///
/// Serialized because every test starts a whole browser; on a small CI machine several at once
/// only make each slower and closer to its timeout.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct HeadlessChromiumTests {
    /// A fresh folder holding `index.html` = `html` plus the HipChat stand-in files.
    static func site(_ html: String, name: String = #function) throws -> URL {
        let dir = try TestSupport.temporaryDirectory("browser-" + name)
        try TestSupport.write(html, to: dir.appendingPathComponent("index.html"))
        for file in ["all.js", "all.css"] {
            try FileManager.default.copyItem(
                at: HeadlessChromium.standIn.appendingPathComponent(file),
                to: dir.appendingPathComponent(file))
        }
        return dir
    }

    static func open(_ url: URL, in dir: URL) async throws -> PageReport {
        try await Blocking.run {
            try HeadlessChromium().open(
                url, screenshot: dir.appendingPathComponent("shot.png"), width: 800, height: 600)
        }
    }

    /// A page that uses every stand-in function and paints a large coloured block and some text.
    /// Any stand-in function missing or misshapen throws, and so shows up as an error.
    static let cleanPage = """
        <!doctype html>
        <html><head><meta charset="utf-8"><title>clean</title>
        <link rel="stylesheet" href="all.css"><script src="all.js"></script></head>
        <body>
        <div id="block" style="width: 400px; height: 300px; background: #205081; color: #fff">Hello</div>
        <p id="out">waiting</p>
        <script>
        HipChat.register({ "receive-parameters": function (p) { document.title = p.x; } });
        HipChat.standIn.trigger("receive-parameters", { x: "ok" });
        HipChat.dialog.open({ key: "k" }); HipChat.dialog.update({}); HipChat.dialog.updatePrimaryAction({ enabled: true });
        HipChat.dialog.close(); HipChat.sidebar.openView({ key: "k" }); HipChat.sidebar.closeView();
        HipChat.chat.appendMessage("hi");
        HipChat.auth.withToken(function (err, token) {
          if (err || token !== "stand-in-token") throw new Error("withToken gave " + token);
          HipChat.user.getCurrentUser(function (err, user) {
            HipChat.room.getRoomDetails(function (err, room) {
              HipChat.room.getParticipants(function (err, people) {
                document.getElementById("out").textContent = user.name + " in " + room.name + " with " + people.length;
              });
            });
          });
        });
        </script>
        </body></html>
        """

    @Test func chromiumIsInstalled() throws {
        // Fails (with how to fix it) rather than skipping: CI installs Chromium, so not finding it is a bug.
        _ = try HeadlessChromium()
    }

    @Test(arguments: [false, true])
    func cleanPageHasNoErrorsAndIsNotBlank(overHTTP: Bool) async throws {
        let dir = try Self.site(Self.cleanPage)
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = overHTTP ? try LoopbackServer(serving: dir) : nil
        defer { server?.stop() }
        let url = server?.url(for: "index.html") ?? dir.appendingPathComponent("index.html")

        let report = try await Self.open(url, in: dir)
        #expect(report.consoleErrors == [])
        #expect(!report.isBlank, "\(report)")
        #expect(report.dominantColour == "#ffffff")
        #expect(FileManager.default.fileExists(atPath: report.screenshot.path))
        // 400×300 of 800×600 is the blue block, give or take text antialiasing.
        #expect(abs(report.offDominantFraction - 0.25) < 0.05, "\(report)")
    }

    @Test func thrownErrorAndConsoleErrorAreReported() async throws {
        let dir = try Self.site(
            """
            <!doctype html><html><body><p>text</p>
            <script>console.error("custom failure", 42);</script>
            <script>throw new Error("boom");</script>
            <script>setTimeout(function () { undefinedFunction(); }, 50);</script>
            </body></html>
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = try await Self.open(dir.appendingPathComponent("index.html"), in: dir)
        #expect(report.consoleErrors.count == 3, "\(report.consoleErrors)")
        #expect(report.consoleErrors.contains { $0.contains("console.error: custom failure 42") })
        #expect(report.consoleErrors.contains { $0.contains("Uncaught Error: boom") && $0.contains("index.html:3") })
        #expect(report.consoleErrors.contains { $0.contains("undefinedFunction is not defined") })
    }

    @Test(arguments: [false, true])
    func missingScriptIsReported(overHTTP: Bool) async throws {
        let dir = try Self.site(
            """
            <!doctype html><html><body><p>text</p><script src="missing.js"></script></body></html>
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = overHTTP ? try LoopbackServer(serving: dir) : nil
        defer { server?.stop() }
        let url = server?.url(for: "index.html") ?? dir.appendingPathComponent("index.html")

        let report = try await Self.open(url, in: dir)
        #expect(report.consoleErrors.count == 1, "\(report.consoleErrors)")
        let error = try #require(report.consoleErrors.first)
        #expect(error.hasPrefix("Failed to load resource"))
        #expect(error.contains("missing.js"))
        #expect(error.contains(overHTTP ? "404" : "ERR_FILE_NOT_FOUND"))
    }

    @Test func theNetworkIsOutOfReach() async throws {
        // Layouts must use the stand-in: the real HipChat URL fails fast and is reported.
        let dir = try Self.site(
            """
            <!doctype html><html><head>
            <script src="https://www.hipchat.com/atlassian-connect/all.js"></script></head><body></body></html>
            """)
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = try await Self.open(dir.appendingPathComponent("index.html"), in: dir)
        #expect(report.consoleErrors.count == 1, "\(report.consoleErrors)")
        #expect(report.consoleErrors.first?.contains("https://www.hipchat.com/atlassian-connect/all.js") == true)
    }

    @Test func missingPageIsReported() async throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try LoopbackServer(serving: dir)
        defer { server.stop() }
        let report = try await Self.open(server.url(for: "nowhere.html"), in: dir)
        #expect(
            report.consoleErrors.contains { $0.contains("404") && $0.contains("nowhere.html") },
            "\(report.consoleErrors)")
    }

    @Test func emptyWhitePageIsBlank() async throws {
        let dir = try Self.site("<!doctype html><html><body></body></html>")
        defer { try? FileManager.default.removeItem(at: dir) }
        let report = try await Self.open(dir.appendingPathComponent("index.html"), in: dir)
        #expect(report.consoleErrors == [])
        #expect(report.isBlank)
        #expect(report.distinctColours == 1)
        #expect(report.dominantColour == "#ffffff")
    }

    @Test func loopbackServerServesOnlyUntilStopped() throws {
        let dir = try Self.site("<!doctype html><html><body></body></html>")
        defer { try? FileManager.default.removeItem(at: dir) }
        let server = try LoopbackServer(serving: dir)
        #expect(server.baseURL.host == "127.0.0.1")
        #expect(server.url(for: "a b/c.html").absoluteString == "http://127.0.0.1:\(server.port)/a%20b/c.html")
        #expect(server.isRunning)
        server.stop()
        server.stop()
        #expect(!server.isRunning)
    }

    @Test func pngDecoderHandlesEveryFilterType() throws {
        // The blank check is only as good as the decoder; this round-trips images through all five
        // PNG row filters and every 8-bit colour type.
        let run = try BoundedProcess.run(
            "python3", [HeadlessChromium.scripts.appendingPathComponent("pngstats.py").path, "--self-test"],
            timeout: 30, what: "pngstats.py --self-test")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "ok\n")
    }
}
