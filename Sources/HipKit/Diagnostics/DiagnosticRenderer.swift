import Foundation
import HipChatConnect

/// Turns diagnostics into text for people (swiftc's and rustc's look), or JSON for tools.
public struct DiagnosticRenderer: Sendable {
    public var useColor: Bool
    /// Also print `::error file=…,line=…::…` lines, which GitHub Actions shows on the diff.
    public var githubAnnotations: Bool

    public init(useColor: Bool, githubAnnotations: Bool = false) {
        self.useColor = useColor
        self.githubAnnotations = githubAnnotations
    }

    /// Each diagnostic as `file:line:column: severity: message`, the source line with a caret
    /// under the spot, and the hint; then a one-line summary.
    public func human(_ diagnostics: [Diagnostic], sources: SourceStore) -> String {
        var out = ""
        for d in diagnostics {
            let severity = d.severity == .error ? paint("error:", .red) : paint("warning:", .magenta)
            let place = d.location.map { "\($0): " } ?? "hipkit: "
            out += bold(place) + severity + " " + bold(Self.oneLine(d.message)) + "\n"
            if let location = d.location, let line = sources.line(location.line, of: location.file) {
                let number = String(location.line)
                let gutter = String(repeating: " ", count: number.count)
                let shown = line.replacingOccurrences(of: "\t", with: "    ")
                out += " \(paint(number, .blue)) \(paint("|", .blue)) \(shown)\n"
                let caretColumn = caretOffset(in: line, column: location.column)
                out +=
                    " \(gutter) \(paint("|", .blue)) \(String(repeating: " ", count: caretColumn))\(paint("^", .green))\n"
            }
            if let hint = d.hint {
                out += "   \(paint("hint:", .cyan)) \(Self.oneLine(hint))\n"
            }
            if githubAnnotations {
                out += annotation(d) + "\n"
            }
        }
        return out
    }

    /// `text` with its control characters written as escapes (`\n`, `\u{1B}`): a message quotes
    /// values from the input (a link decoded from `%0a`), and must stay one line of the terminal,
    /// with nothing in it a terminal would act on.
    static func oneLine(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// `N errors, M warnings` (or `no problems`).
    public func summary(_ diagnostics: [Diagnostic]) -> String {
        let errors = diagnostics.filter { $0.severity == .error }.count
        let warnings = diagnostics.count - errors
        if errors == 0 && warnings == 0 { return "no problems found" }
        var parts: [String] = []
        if errors > 0 { parts.append("\(errors) error\(errors == 1 ? "" : "s")") }
        if warnings > 0 { parts.append("\(warnings) warning\(warnings == 1 ? "" : "s")") }
        return parts.joined(separator: ", ")
    }

    /// `{"valid": …, "diagnostics": [...]}` with keys in a fixed order.
    public static func json(_ diagnostics: [Diagnostic]) -> String {
        let items = diagnostics.map { d -> JSONNode in
            var members: [JSONMember] = [
                JSONMember("severity", .string(d.severity.rawValue)),
                JSONMember("code", .string(d.code.rawValue)),
                JSONMember("message", .string(d.message)),
            ]
            if let l = d.location {
                members += [
                    JSONMember("file", .string(l.file)), JSONMember("line", JSONNode(.integer(l.line))),
                    JSONMember("column", JSONNode(.integer(l.column))),
                ]
            }
            if let hint = d.hint { members.append(JSONMember("hint", .string(hint))) }
            return .object(members)
        }
        return JSONWriter.string(
            .object([
                JSONMember("valid", .bool(!diagnostics.hasErrors)),
                JSONMember("diagnostics", .array(items)),
            ]))
    }

    private func annotation(_ d: Diagnostic) -> String {
        let kind = d.severity == .error ? "error" : "warning"
        var properties: [String] = []
        if let l = d.location {
            properties = ["file=\(escapeProperty(l.file))", "line=\(l.line)", "col=\(l.column)"]
        }
        properties.append("title=\(escapeProperty(d.code.rawValue))")
        var message = d.message
        if let hint = d.hint { message += " (\(hint))" }
        return "::\(kind) \(properties.joined(separator: ","))::\(escapeData(message))"
    }

    // GitHub's workflow-command escaping.
    private func escapeData(_ s: String) -> String {
        s.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D").replacingOccurrences(
            of: "\n", with: "%0A")
    }

    private func escapeProperty(_ s: String) -> String {
        escapeData(s).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }

    /// Columns count characters, but a tab is shown as four spaces, so the caret must move too.
    private func caretOffset(in line: String, column: Int) -> Int {
        var offset = 0
        for (i, c) in line.unicodeScalars.enumerated() where i < column - 1 {
            offset += c == "\t" ? 4 : 1
        }
        return offset + max(0, column - 1 - line.unicodeScalars.count)
    }

    private enum Color: String {
        case red = "31"
        case green = "32"
        case magenta = "35"
        case blue = "34"
        case cyan = "36"
    }

    private func paint(_ s: String, _ color: Color) -> String {
        useColor ? "\u{1B}[1;\(color.rawValue)m\(s)\u{1B}[0m" : s
    }

    private func bold(_ s: String) -> String {
        useColor ? "\u{1B}[1m\(s)\u{1B}[0m" : s
    }
}
