import HipChatConnect

extension JSONNode {
    /// Converts a composed YAML (or JSON) document to JSON values, resolving plain scalars with
    /// the core schema. Mapping keys become strings as written; a key that is itself a list or
    /// mapping cannot be JSON and is reported.
    public static func from(_ node: YAMLNode, diagnostics: inout [Diagnostic]) -> JSONNode {
        switch node.content {
        case .scalar(let scalar):
            switch scalar.resolved {
            case .null: return JSONNode(.null, at: node.location)
            case .bool(let b): return JSONNode(.bool(b), at: node.location)
            case .integer(let i): return JSONNode(.integer(i), at: node.location)
            case .double(let d):
                if let problem = Self.numberProblem(scalar, d) {
                    diagnostics.append(
                        .error(.invalidNumber, problem.message, at: node.location, hint: problem.hint))
                    return JSONNode(.null, at: node.location)
                }
                return JSONNode(.double(d), at: node.location)
            case .string(let s): return JSONNode(.string(s), at: node.location)
            }
        case .sequence(let items):
            return JSONNode(.array(items.map { from($0, diagnostics: &diagnostics) }), at: node.location)
        case .mapping(let entries):
            var members: [JSONMember] = []
            members.reserveCapacity(entries.count)
            for entry in entries {
                guard let key = entry.key.scalar else {
                    diagnostics.append(
                        .error(
                            .complexKey, "a mapping key must be a plain name, not \(entry.key.kindDescription)",
                            at: entry.key.location))
                    continue
                }
                members.append(
                    JSONMember(
                        key.value, from(entry.value, diagnostics: &diagnostics), nameLocation: entry.key.location))
            }
            return JSONNode(.object(members), at: node.location)
        }
    }

    /// Why the number `scalar`, read as `value`, cannot be written to JSON as meant, or nil.
    ///
    /// An integer too large for 64 bits would be read as the nearest double and written as
    /// `1e+23`, a different number; one past a double's range (`1e400`) as infinity, which
    /// JSON has no way to write.
    private static func numberProblem(_ scalar: YAMLScalar, _ value: Double) -> (message: String, hint: String)? {
        let text = scalar.value
        let digits = text.drop { $0 == "-" || $0 == "+" }
        // Not with `!!float`, which asks for a double.
        if scalar.tag == nil, !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
            return (
                "'\(text)' is out of the range of integers (\(Int.min) to \(Int.max))",
                "quote it to make it a string; a number this large is better kept as text"
            )
        }
        guard !value.isFinite else { return nil }
        if value.isNaN || text.lowercased().hasSuffix("inf") {
            return ("'\(text)' is not a number JSON can hold", "quote it to make it a string")
        }
        return (
            "'\(text)' is out of the range of numbers (up to about ±1.8e308)",
            "quote it to make it a string, or write a smaller number"
        )
    }
}
