import ArgumentParser
import Foundation
import HipKit
import Logging

/// What `serve` and `dev` set up alike: the port from the flag or `$PORT`, and logging.
enum ServerSetup {
    /// `--port`, else `$PORT`, else `fallback`.
    static func port(_ flag: Int?, fallback: Int = 8080) throws -> Int {
        if let flag { return flag }
        guard let text = ProcessInfo.processInfo.environment["PORT"], !text.isEmpty else { return fallback }
        guard let value = Int(text), (0...65535).contains(value) else {
            throw Output.fail(HipKitError("PORT is '\(text)', not a port number"))
        }
        return value
    }

    /// `http://HOST:PORT` as a browser on this machine reaches a server listening on `host`
    /// (a wildcard address is reached on loopback).
    static func localURL(host: String, port: Int) -> String {
        let browserHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host
        return "http://\(browserHost.contains(":") ? "[\(browserHost)]" : browserHost):\(port)"
    }

    /// Log lines on stderr at `level` and above.
    static func logger(level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "hipkit")
        logger.logLevel = level
        return logger
    }
}
