import ArgumentParser
import Foundation
import HipKit
import Logging

/// What `serve` and `dev` set up alike: the port from the flag or `$PORT`, and logging.
enum ServerSetup {
    /// `--port`, else `$PORT`, else 8080.
    static func port(_ flag: Int?) throws -> Int {
        if let flag { return flag }
        guard let text = ProcessInfo.processInfo.environment["PORT"], !text.isEmpty else { return 8080 }
        guard let value = Int(text), (0...65535).contains(value) else {
            throw Output.fail(HipKitError("PORT is '\(text)', not a port number"))
        }
        return value
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
