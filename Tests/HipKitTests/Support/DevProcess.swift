import Foundation
import HipChatConnect
import Synchronization
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

    /// A loopback port nobody listens on now, for a server that cannot pick its own.
    ///
    /// Not the kernel's choice (binding port 0): that comes from the ephemeral range
    /// (32768–60999), from which every server the tests start on port 0 is given one too, so
    /// between this call and the server's own bind another test's server could take it — seen
    /// as a `hipkit dev` that found its port taken. Ports here come from below that range, each
    /// handed out once a run (the two test targets use ranges of their own), and only when one
    /// can be bound now.
    static func freePort() throws -> Int {
        try nextPort.withLock { next in
            for _ in 0..<portRange.count {
                let port = next
                next = next + 1 == portRange.upperBound ? portRange.lowerBound : next + 1
                if canBind(port) { return port }
            }
            throw BrowserHarnessError.failed("no free loopback port")
        }
    }

    private static let portRange = 20000..<26000
    private static let nextPort = Mutex(portRange.lowerBound + Int.random(in: 0..<portRange.count))

    /// Whether a server could bind `port` on 127.0.0.1 now (with `SO_REUSEADDR`, as servers do).
    private static func canBind(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }
}
