import HipChatConnect

/// JSON values as the plain Swift values Mustache templates read.
enum TemplateValue {
    static func from(_ node: JSONNode) -> Any? {
        switch node.value {
        case .null: return nil
        case .bool(let b): return b
        case .integer(let i): return i
        case .double(let d): return d
        case .string(let s): return s
        case .array(let items): return items.compactMap(from)
        case .object(let members):
            var dictionary: [String: Any] = [:]
            for member in members { dictionary[member.name] = from(member.value) }
            return dictionary
        }
    }

    /// A localizable `{value}` as its text.
    static func text(_ node: JSONNode?) -> String? {
        node?.stringValue ?? node?["value"]?.stringValue
    }

    /// JSON text safe inside an HTML `<script>` element: `<` is escaped so `</script>` cannot
    /// close it early.
    static func scriptJSON(_ node: JSONNode) -> String {
        let json = JSONWriter.string(node.withoutLocations)
        let lessThan = UInt8(ascii: "<")
        guard json.utf8.contains(lessThan) else { return json }
        var out: [UInt8] = []
        out.reserveCapacity(json.utf8.count + 16)
        for byte in json.utf8 {
            if byte == lessThan { out += Array("\\u003c".utf8) } else { out.append(byte) }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
