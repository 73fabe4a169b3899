import HipChatConnect
import HipKit

/// A build of `dist/` that cannot be served, with every problem found, located in the
/// descriptor or runtime manifest where possible, and the text of those files for quoting.
public struct SiteLoadError: Error, CustomStringConvertible, Sendable {
    public var diagnostics: [Diagnostic]
    public var sources: SourceStore

    public var description: String {
        diagnostics.map { "\($0.location.map { "\($0): " } ?? "")\($0.message)" }.joined(separator: "; ")
    }
}
