import Logging

/// `StreamLogHandler.standardError`'s lines, without its cost per metadata change.
///
/// `StreamLogHandler` formats its whole metadata again each time a key is set, and Hummingbird
/// sets the request's id on every request's logger: that formatting was 5% of serving a page,
/// where under `--log-level warning` no line is ever written. This handler only keeps the
/// metadata, and has a `StreamLogHandler` format a line when one is written.
struct StandardErrorLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        stream.log(event: event)
    }

    /// The handler that formats and writes a line, with this one's level and metadata.
    private var stream: StreamLogHandler {
        var stream = StreamLogHandler.standardError(label: label, metadataProvider: metadataProvider)
        stream.logLevel = logLevel
        stream.metadata = metadata
        return stream
    }
}
