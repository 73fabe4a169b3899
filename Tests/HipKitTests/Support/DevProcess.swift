import Foundation
import HipChatConnect
import TestProcesses

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// `hipkit dev` (or another serving command) running as a child process on a free loopback
/// port, as a user would run it.
final class DevProcess: @unchecked Sendable {  // `process` is only touched from the test's thread
    let port: Int
    let process: ChildProcess
    let output: URL
    private let scratch: URL

    /// Starts `hipkit dev PROJECT --port P extra…` and waits until it answers HTTP.
    convenience init(project: URL, arguments: [String] = [], startTimeout: Double = 60) throws {
        try self.init(port: try Self.freePort(), readyPath: "/_hipkit/dev/status", startTimeout: startTimeout) { port in
            ["dev", project.path, "--port", String(port)] + arguments
        }
    }

    /// Starts `hipkit ARGUMENTS(port)` and waits until `readyPath` answers 2xx. With a `launcher`,
    /// runs `LAUNCHER… ARGUMENTS(port)` instead, the launcher naming the hipkit to run.
    init(
        port: Int, readyPath: String, startTimeout: Double = 60, launcher: [String] = [],
        _ arguments: (Int) -> [String]
    ) throws {
        self.port = port
        scratch = try TestSupport.temporaryDirectory("dev-process")
        output = scratch.appendingPathComponent("output")
        var environment = ProcessInfo.processInfo.environment
        environment["NO_COLOR"] = "1"
        let executable = launcher.first.map { URL(fileURLWithPath: $0) } ?? TestSupport.hipkitExecutable
        process = try ChildProcess(
            executable, launcher.dropFirst() + arguments(port), environment: environment,
            standardOutput: .file(output), standardError: .standardOutput)
        let deadline = Date().addingTimeInterval(startTimeout)
        while (try? get(readyPath)) == nil {
            if !process.isRunning || Date() > deadline {
                stop()
                throw BrowserHarnessError.failed("hipkit \(arguments(port).first ?? "") did not start:\n\(log)")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/")! }
    func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(port)/" + path)! }

    /// Everything it printed so far.
    var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

    /// GETs `path`; returns the body of a 2xx answer, throws otherwise.
    func get(_ path: String) throws -> Data {
        let semaphore = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<Data, any Error> = .failure(URLError(.timedOut))
        var request = URLRequest(url: url(path.hasPrefix("/") ? String(path.dropFirst()) : path))
        request.timeoutInterval = 5
        URLSession.shared.dataTask(with: request) { data, response, error in
            if let data, let status = (response as? HTTPURLResponse)?.statusCode, (200..<300).contains(status) {
                result = .success(data)
            } else {
                result = .failure(error ?? URLError(.badServerResponse))
            }
            semaphore.signal()
        }.resume()
        _ = semaphore.wait(timeout: .now() + 6)
        return try result.get()
    }

    /// Any request, without blocking a thread; the status and body of whatever answer came
    /// (status 0 when none did).
    func fetch(_ method: String, _ path: String, json: String? = nil, headers: [String: String] = [:]) async -> (
        status: Int, body: Data
    ) {
        let address =
            path.hasPrefix("http") ? URL(string: path)! : url(path.hasPrefix("/") ? String(path.dropFirst()) : path)
        var request = URLRequest(url: address)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let json {
            request.httpBody = Data(json.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        return await withCheckedContinuation { continuation in
            URLSession.shared.dataTask(with: request) { data, response, _ in
                continuation.resume(returning: ((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data()))
            }.resume()
        }
    }

    /// Stops it the way Ctrl-C does and waits; true when it exited by itself within `timeout`.
    @discardableResult
    func stop(timeout: Double = 10) -> Bool {
        process.signal(SIGINT)
        let clean = process.wait(timeout: timeout)
        if !clean { process.signal(SIGKILL) }
        process.waitUntilExit()
        return clean
    }

    deinit {
        if process.isRunning { stop() }
        try? FileManager.default.removeItem(at: scratch)
    }

    /// This target's loopback ports (see ``LoopbackPorts``); HipKitServerTests hands out others.
    static let loopback = LoopbackPorts(20000..<26000)

    /// A loopback port nobody listens on now, for a server that cannot pick its own.
    static func freePort() throws -> Int { try loopback.free() }
}
