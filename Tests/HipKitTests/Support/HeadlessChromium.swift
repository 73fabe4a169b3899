import Foundation
import HipChatConnect
import TestProcesses

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What a real browser made of one page.
struct PageReport: Sendable {
    /// Uncaught exceptions, `console.error`/`console.assert` calls and the browser's own errors
    /// (resources that failed to load, HTTP 4xx/5xx, a navigation that failed), in order, one line each.
    var consoleErrors: [String]
    /// Fewer than `HeadlessChromium.blankThreshold` of the pixels differ from the most common colour.
    var isBlank: Bool
    /// Where the PNG screenshot was written.
    var screenshot: URL
    var distinctColours: Int
    /// Most common colour as `#rrggbb` (or `#rrggbbaa`).
    var dominantColour: String
    /// Share of pixels, 0...1, whose colour is not the dominant one.
    var offDominantFraction: Double
    /// Wall-clock seconds the whole open took, Chromium start to stop.
    var seconds: Double
}

enum BrowserHarnessError: Error, CustomStringConvertible {
    case chromiumMissing(searched: [String])
    case failed(String)
    case timedOut(String, seconds: Double)

    var description: String {
        switch self {
        case .chromiumMissing(let searched):
            "Chromium is not installed (looked for: \(searched.joined(separator: ", "))). "
                + "These tests need a real browser: run scripts/install-deps, or set HIPKIT_CHROMIUM to its path."
        case .failed(let message):
            message
        case .timedOut(let what, let seconds):
            "\(what) did not finish within \(Int(seconds)) s and was killed"
        }
    }
}

/// Opens pages in a real headless Chromium, one fresh browser (and profile) per page.
///
/// The driving is done by `Fixtures/browser/open_page.py` over the DevTools protocol on a pipe: that
/// is what gives each console message its level and reports failed loads, which Chromium's plain
/// `--enable-logging=stderr` output does not. All host names but localhost/127.0.0.1 are made to fail,
/// so pages must use local copies (see `standIn`) instead of reaching the network.
struct HeadlessChromium: Sendable {
    /// Names tried on `PATH` when `HIPKIT_CHROMIUM` is not set.
    static let candidates = ["chromium", "chromium-browser", "google-chrome"]

    /// The browser executable to use, if there is one.
    static var executable: URL? {
        let fm = FileManager.default
        if let path = ProcessInfo.processInfo.environment["HIPKIT_CHROMIUM"], !path.isEmpty {
            return fm.isExecutableFile(atPath: path) ? URL(fileURLWithPath: path) : nil
        }
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for name in candidates {
            for dir in dirs where fm.isExecutableFile(atPath: "\(dir)/\(name)") {
                return URL(fileURLWithPath: "\(dir)/\(name)")
            }
        }
        return nil
    }

    static var isAvailable: Bool { executable != nil }

    /// The local stand-in for HipChat's `atlassian-connect/all.js` and `all.css`.
    static var standIn: URL { scripts.appendingPathComponent("standin") }

    static var scripts: URL { Bundle.module.resourceURL!.appendingPathComponent("Fixtures/browser") }

    let chromium: URL
    /// Budget for one page in the driver script; the process is killed 10 s after that regardless.
    var timeout: Double = 20
    /// Seconds the network must stay quiet after the load event before the screenshot.
    var settle: Double = 0.3
    /// A screenshot is blank when fewer than this share of pixels differ from the commonest colour.
    var blankThreshold: Double = 0.01

    /// Throws (rather than letting callers skip) when there is no browser: CI installs one, so a
    /// missing browser is a broken setup and must show up as a failure.
    init(chromium: URL? = nil) throws {
        guard let found = chromium ?? Self.executable else {
            let override = ProcessInfo.processInfo.environment["HIPKIT_CHROMIUM"] ?? ""
            throw BrowserHarnessError.chromiumMissing(
                searched: override.isEmpty ? Self.candidates.map { "\($0) on PATH" } : ["HIPKIT_CHROMIUM=\(override)"])
        }
        self.chromium = found
    }

    /// Loads `url` (file:// or http://127.0.0.1) in a `width`×`height` viewport, waits for it to
    /// settle, writes a PNG screenshot to `screenshot` and reports the page's errors.
    func open(_ url: URL, screenshot: URL, width: Int = 1024, height: Int = 768) throws -> PageReport {
        try FileManager.default.createDirectory(
            at: screenshot.deletingLastPathComponent(), withIntermediateDirectories: true)
        let run = try BoundedProcess.run(
            "python3",
            [
                Self.scripts.appendingPathComponent("open_page.py").path,
                "--chromium", chromium.path, "--url", url.absoluteString, "--screenshot", screenshot.path,
                "--width", String(width), "--height", String(height), "--timeout", String(timeout),
                "--settle", String(settle), "--threshold", String(blankThreshold),
            ],
            timeout: timeout + 10, what: "Opening \(url.absoluteString) in Chromium")
        guard run.status == 0 else {
            throw BrowserHarnessError.failed(
                "Opening \(url.absoluteString) in Chromium failed (exit \(run.status)):\n\(run.stderr)")
        }
        struct Output: Decodable {
            struct Stats: Decodable {
                var distinctColours: Int
                var dominantColour: String
                var otherFraction: Double
                var blank: Bool
            }
            var errors: [String]
            var stats: Stats
            var timings: [String: Double]
        }
        let output: Output
        do {
            output = try JSONDecoder().decode(Output.self, from: Data(run.stdout.utf8))
        } catch {
            throw BrowserHarnessError.failed(
                "open_page.py printed something unexpected (\(error)):\n\(run.stdout)\n\(run.stderr)")
        }
        return PageReport(
            consoleErrors: output.errors, isBlank: output.stats.blank, screenshot: screenshot,
            distinctColours: output.stats.distinctColours, dominantColour: output.stats.dominantColour,
            offDominantFraction: output.stats.otherFraction, seconds: output.timings["total"] ?? 0)
    }
}

/// Serves a directory over HTTP on 127.0.0.1 at a free port until `stop()` (or deinit).
///
/// Backed by `Fixtures/browser/serve.py`. The server also exits when its stdin closes, which happens
/// when this process dies, so a crashed test run leaves no server behind.
final class LoopbackServer: @unchecked Sendable {  // immutable apart from `stopped`, which `lock` guards
    let directory: URL
    let port: Int
    private let process: ChildProcess
    private let scratch: URL
    private let lock = NSLock()
    private var stopped = false

    init(serving directory: URL, startTimeout: Double = 10) throws {
        self.directory = directory
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hipkit-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let portFile = scratch.appendingPathComponent("port")
        let errFile = scratch.appendingPathComponent("stderr")
        process = try ChildProcess(
            URL(fileURLWithPath: "/usr/bin/env"),
            [
                "python3", HeadlessChromium.scripts.appendingPathComponent("serve.py").path, directory.path,
                portFile.path,
            ],
            standardInput: .pipe, standardError: .file(errFile))

        // The port file is written by rename, so once it exists it is complete.
        let deadline = Date().addingTimeInterval(startTimeout)
        var found: Int?
        while found == nil {
            if let text = try? String(contentsOf: portFile, encoding: .utf8) {
                found = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            } else if !process.isRunning || Date() > deadline {
                BoundedProcess.wait(process, timeout: 0)
                let stderr = (try? String(contentsOf: errFile, encoding: .utf8)) ?? ""
                try? FileManager.default.removeItem(at: scratch)
                throw BrowserHarnessError.failed("Could not serve \(directory.path) on 127.0.0.1: \(stderr)")
            } else {
                Thread.sleep(forTimeInterval: 0.02)
            }
        }
        port = found!
    }

    deinit { stop() }

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/")! }

    /// The URL of `path` (relative to the served directory).
    func url(for path: String) -> URL {
        path.isEmpty ? baseURL : baseURL.appendingPathComponent(path)
    }

    var isRunning: Bool { process.isRunning }

    /// Stops the server and waits for it to exit. Safe to call more than once.
    func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        try? process.standardInputWriter?.close()  // the polite way: serve.py exits at end of stdin
        BoundedProcess.wait(process, timeout: 5)
        try? FileManager.default.removeItem(at: scratch)
    }
}

/// Runs a child process with a hard time limit; output goes to files, so a chatty child never blocks.
enum BoundedProcess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ command: String, _ arguments: [String], timeout: Double, what: String) throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("hipkit-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        let process = try ChildProcess(
            URL(fileURLWithPath: "/usr/bin/env"), [command] + arguments, standardOutput: .file(outURL),
            standardError: .file(errURL))
        if !wait(process, timeout: timeout) {
            throw BrowserHarnessError.timedOut(what, seconds: timeout)
        }
        return Result(
            status: process.terminationStatus,
            stdout: try String(contentsOf: outURL, encoding: .utf8),
            stderr: try String(contentsOf: errURL, encoding: .utf8))
    }

    /// Waits up to `timeout` seconds for `process`; then SIGTERM (which lets it clean up after itself),
    /// and SIGKILL 3 s later. Returns whether it ended on its own.
    @discardableResult
    static func wait(_ process: ChildProcess, timeout: Double) -> Bool {
        if process.wait(timeout: timeout) { return true }
        process.terminate()
        if !process.wait(timeout: 3) { process.signal(SIGKILL) }
        process.waitUntilExit()
        return false
    }
}
