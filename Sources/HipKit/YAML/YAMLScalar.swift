import HipChatConnect

/// A scalar as written, and the value it stands for.
public struct YAMLScalar: Sendable, Hashable {
    /// How the scalar was written: only plain scalars are resolved to booleans, numbers and null.
    public enum Style: Sendable, Hashable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    /// A scalar's value under the YAML 1.2 core schema, which is also what JSON means.
    public enum Resolved: Sendable, Hashable {
        case null
        case bool(Bool)
        case integer(Int)
        case double(Double)
        case string(String)
    }

    public var value: String
    public var style: Style
    /// The explicit tag, if any (`tag:yaml.org,2002:str` for `!!str`).
    public var tag: String?

    public init(_ value: String, style: Style = .plain, tag: String? = nil) {
        self.value = value
        self.style = style
        self.tag = tag
    }

    public var resolved: Resolved {
        let core = "tag:yaml.org,2002:"
        if let tag, tag != "!" {
            switch tag {
            case core + "str": return .string(value)
            case core + "null": return .null
            case core + "bool":
                return Self.resolvePlain(value).flatMap { if case .bool = $0 { $0 } else { nil } } ?? .string(value)
            case core + "int":
                return Self.resolvePlain(value).flatMap { if case .integer = $0 { $0 } else { nil } } ?? .string(value)
            case core + "float":
                switch Self.resolvePlain(value) {
                case .integer(let i)?: return .double(Double(i))
                case .double(let d)?: return .double(d)
                default: return .string(value)
                }
            default: return .string(value)
            }
        }
        if style != .plain || tag == "!" { return .string(value) }
        return Self.resolvePlain(value) ?? .string(value)
    }

    /// YAML 1.2 core schema resolution of a plain scalar; `nil` means "a string".
    ///
    /// YAML 1.1's `yes`/`no`/`on`/`off` are deliberately strings here, as in YAML 1.2, so that
    /// `room: yes` is reported instead of silently meaning `true`.
    static func resolvePlain(_ s: String) -> Resolved? {
        switch s {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: break
        }
        guard let first = s.unicodeScalars.first,
            first == "-" || first == "+" || first == "." || ("0"..."9").contains(first)
        else {
            return nil
        }
        if s.hasPrefix("0x"), let i = Int(s.dropFirst(2), radix: 16) { return .integer(i) }
        if s.hasPrefix("0o"), let i = Int(s.dropFirst(2), radix: 8) { return .integer(i) }
        if s.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || $0 == "-" || $0 == "+" }), let i = Int(s) {
            return .integer(i)
        }
        if Self.looksLikeFloat(s), let d = Double(s) { return .double(d) }
        return nil
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, the core schema's float pattern;
    /// Swift's `Double(_:)` alone would also accept hexadecimal floats and "infinity".
    private static func looksLikeFloat(_ s: String) -> Bool {
        var chars = Substring(s).unicodeScalars[...]
        if let c = chars.first, c == "-" || c == "+" { chars = chars.dropFirst() }
        var digits = 0
        while let c = chars.first, ("0"..."9").contains(c) {
            digits += 1
            chars = chars.dropFirst()
        }
        if chars.first == "." {
            chars = chars.dropFirst()
            while let c = chars.first, ("0"..."9").contains(c) {
                digits += 1
                chars = chars.dropFirst()
            }
        }
        guard digits > 0 else { return false }
        if let c = chars.first, c == "e" || c == "E" {
            chars = chars.dropFirst()
            if let c = chars.first, c == "-" || c == "+" { chars = chars.dropFirst() }
            var exp = 0
            while let c = chars.first, ("0"..."9").contains(c) {
                exp += 1
                chars = chars.dropFirst()
            }
            guard exp > 0 else { return false }
        }
        return chars.isEmpty
    }
}
