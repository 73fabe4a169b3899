import ArgumentParser
import Foundation
import HipChatConnect
import HipKit
import Logging

/// The options of every command that runs a server (`serve`, `dev`, `emulate`): where it
/// listens and how much it logs, read the same way everywhere.
struct ListenOptions: ParsableArguments {
    @Option(help: "Address to listen on (default: $HOST, else 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (default: $PORT, else 8080; 8090 for emulate).")
    var port: Int?

    @Option(
        help:
            "Log level: trace, debug, info, notice, warning, error or critical (default: info for serve, notice otherwise)."
    )
    var logLevel: String?

    func validate() throws {
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be between 0 and 65535") }
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level '\(logLevel)' is not a log level")
        }
    }

    /// `--host`, else `$HOST`, else loopback: nothing is reachable from elsewhere unless asked.
    var resolvedHost: String {
        host ?? ProcessInfo.processInfo.environment["HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
    }

    /// `--port`, else `$PORT`, else `fallback`.
    func resolvedPort(fallback: Int = 8080) throws -> Int {
        if let port { return port }
        guard let text = ProcessInfo.processInfo.environment["PORT"], !text.isEmpty else { return fallback }
        guard let value = Int(text), (0...65535).contains(value) else {
            throw Output.fail(HipKitError("PORT is '\(text)', not a port number"))
        }
        return value
    }

    /// A port a browser can be sent to: `dev` and `emulate` print and build with their URL, so
    /// the system's pick of a free port (0) will not do for them.
    func fixedPort(fallback: Int = 8080) throws -> Int {
        let port = try resolvedPort(fallback: fallback)
        guard port != 0 else {
            throw Output.fail(
                HipKitError("port 0 picks a free port at random; give the port to use", hint: "for example --port 8080")
            )
        }
        return port
    }

    /// Log lines on stderr at `--log-level`, else at `defaultLevel`, and above.
    func logger(defaultLevel: Logger.Level) -> Logger {
        let level = logLevel.flatMap(Logger.Level.init(rawValue:)) ?? defaultLevel
        LoggingSystem.bootstrap { label in StandardErrorLogHandler(label: label, level: level) }
        var logger = Logger(label: "hipkit")
        logger.logLevel = level
        return logger
    }

    /// `http://HOST:PORT` as a browser on this machine reaches a server listening on `host`
    /// (a wildcard address is reached on loopback).
    static func localURL(host: String, port: Int) -> String {
        let browserHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        return "http://\(browserHost.contains(":") ? "[\(browserHost)]" : browserHost):\(port)"
    }
}
