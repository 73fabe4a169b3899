import HipChatConnect
import HipKit

/// One diagnostic of a failed rebuild, as the error overlay shows it: where, what, how to fix
/// it, and the lines around the place so the reader need not switch to the editor to see them.
public struct DevProblem: Sendable, Hashable, Codable {
    /// A line of the excerpt, numbered from 1.
    public struct Line: Sendable, Hashable, Codable {
        public var number: Int
        public var text: String
    }

    public var severity: String
    public var code: String
    public var message: String
    public var hint: String?
    public var file: String?
    public var line: Int?
    public var column: Int?
    /// Up to two lines before and after the one the problem is on.
    public var excerpt: [Line]

    /// The problems among `diagnostics`, errors first (they are why the build failed), each
    /// with its excerpt taken from `sources`.
    public static func from(_ diagnostics: [Diagnostic], sources: SourceStore) -> [DevProblem] {
        let ordered = diagnostics.filter { $0.severity == .error } + diagnostics.filter { $0.severity != .error }
        return ordered.map { diagnostic in
            var excerpt: [Line] = []
            if let location = diagnostic.location {
                for number in max(1, location.line - 2)...(location.line + 2) {
                    if let text = sources.line(number, of: location.file) {
                        excerpt.append(Line(number: number, text: text))
                    }
                }
            }
            return DevProblem(
                severity: diagnostic.severity.rawValue, code: diagnostic.code.rawValue, message: diagnostic.message,
                hint: diagnostic.hint, file: diagnostic.location?.file, line: diagnostic.location?.line,
                column: diagnostic.location?.column, excerpt: excerpt)
        }
    }
}
