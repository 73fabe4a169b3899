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
                guard d.isFinite else {
                    diagnostics.append(
                        .error(
                            .invalidNumber, "'\(scalar.value)' is not a number JSON can hold", at: node.location,
                            hint: "quote it to make it a string"))
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
}
