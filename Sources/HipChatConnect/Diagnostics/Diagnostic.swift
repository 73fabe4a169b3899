/// One problem found in the user's input, with where it is and, when it helps, how to fix it.
public struct Diagnostic: Hashable, Sendable {
    public enum Severity: String, Hashable, Sendable, Codable {
        case error
        case warning
    }

    public var severity: Severity
    /// A stable, machine-readable name for the rule that fired (for example `unknown-target`).
    public var code: DiagnosticCode
    public var message: String
    /// Where the problem is; `nil` only for problems that belong to no file (a missing project folder).
    public var location: SourceLocation?
    public var hint: String?
    /// The field the problem is about, as a path into the JSON document checked
    /// (`status.value.type`, `card.attributes[0].label`), when the checked value came from a
    /// JSON document rather than a file: an API answers with it.
    public var field: String?

    public init(
        _ severity: Severity, code: DiagnosticCode, _ message: String, at location: SourceLocation?,
        hint: String? = nil,
        field: String? = nil
    ) {
        self.severity = severity
        self.code = code
        self.message = message
        self.location = location
        self.hint = hint
        self.field = field
    }

    public static func error(
        _ code: DiagnosticCode, _ message: String, at location: SourceLocation?, hint: String? = nil,
        field: String? = nil
    ) -> Diagnostic {
        Diagnostic(.error, code: code, message, at: location, hint: hint, field: field)
    }

    public static func warning(
        _ code: DiagnosticCode, _ message: String, at location: SourceLocation?, hint: String? = nil,
        field: String? = nil
    ) -> Diagnostic {
        Diagnostic(.warning, code: code, message, at: location, hint: hint, field: field)
    }
}

extension Array where Element == Diagnostic {
    /// Whether any of these diagnostics is an error (warnings never stop a build).
    public var hasErrors: Bool { contains { $0.severity == .error } }

    /// Sorted by file, line and column so output reads top to bottom; the sort is stable, so
    /// diagnostics at the same spot keep the order the checks found them in.
    public func sortedByLocation() -> [Diagnostic] {
        enumerated().sorted { a, b in
            let la = a.element.location
            let lb = b.element.location
            switch (la, lb) {
            case (nil, nil): return a.offset < b.offset
            case (nil, _): return true
            case (_, nil): return false
            case (let x?, let y?):
                if x.file != y.file { return x.file < y.file }
                if x.line != y.line { return x.line < y.line }
                if x.column != y.column { return x.column < y.column }
                return a.offset < b.offset
            }
        }.map(\.element)
    }
}
