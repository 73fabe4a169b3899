import Foundation

/// Literals, so values are written as JSON reads: `.object(["type": "html", "value": .string(text)])`.
extension JSONNode: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral, ExpressibleByArrayLiteral
{
    public init(stringLiteral value: String) { self.init(.string(value)) }
    public init(integerLiteral value: Int) { self.init(.integer(value)) }
    public init(booleanLiteral value: Bool) { self.init(.bool(value)) }
    public init(floatLiteral value: Double) { self.init(.double(value)) }
    public init(arrayLiteral elements: JSONNode...) { self.init(.array(elements)) }
    public typealias ArrayLiteralElement = JSONNode

    /// An object with the members of `dictionary`, sorted by name so the same dictionary always
    /// gives the same node.
    @_disfavoredOverload
    public static func object(_ dictionary: [String: JSONNode]) -> JSONNode {
        JSONNode(.object(dictionary.keys.sorted().map { JSONMember($0, dictionary[$0]!) }))
    }

    /// A string node, for `map(JSONNode.text)` where `string(_:at:)` does not fit.
    public static func text(_ s: String) -> JSONNode { JSONNode(.string(s)) }

    /// An object with `pairs` as its members, in the order written: `.object(["a": 1, "b": "x"])`.
    public static func object(_ pairs: KeyValuePairs<String, JSONNode>) -> JSONNode {
        JSONNode(.object(pairs.map { JSONMember($0.key, $0.value) }))
    }

    public static let null = JSONNode(.null)
    public static func integer(_ i: Int, at location: SourceLocation? = nil) -> JSONNode {
        JSONNode(.integer(i), at: location)
    }
    public static func double(_ d: Double, at location: SourceLocation? = nil) -> JSONNode {
        JSONNode(.double(d), at: location)
    }
}

extension JSONNode {
    public var isNull: Bool { if case .null = value { true } else { false } }

    public var isNumber: Bool {
        switch value {
        case .integer, .double: true
        default: false
        }
    }

    public var doubleValue: Double? {
        switch value {
        case .integer(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }

    /// An integer, also when it came as an integral number or a numeric string (HipChat has
    /// sent room and group ids both ways).
    public var intValue: Int? {
        switch value {
        case .integer(let i): return i
        case .double(let d) where d == d.rounded() && abs(d) < 9e15: return Int(d)
        case .string(let s): return Int(s)
        default: return nil
        }
    }

    /// The members as a dictionary (the first of repeated names wins).
    public var dictionaryValue: [String: JSONNode]? {
        members.map { Dictionary($0.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first }) }
    }

    /// The value as text for a template: strings as they are, numbers and booleans written out,
    /// nothing for null, lists and objects.
    public var templateText: String {
        switch value {
        case .string(let s): return s
        case .integer(let i): return String(i)
        case .double(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .bool(let b): return b ? "true" : "false"
        case .null, .array, .object: return ""
        }
    }

    /// The node at a field path as diagnostics name them (`webhooks[0].reply.color`); nil when
    /// there is none. The empty path is this node.
    public func node(atPath path: String) -> JSONNode? {
        var node: JSONNode? = self
        for part in path.split(separator: ".") {
            var name = Substring(part)
            var indexes: [Int] = []
            while name.hasSuffix("]"), let open = name.lastIndex(of: "["),
                let index = Int(name[name.index(after: open)..<name.index(before: name.endIndex)])
            {
                indexes.insert(index, at: 0)
                name = name[..<open]
            }
            if !name.isEmpty { node = node?[String(name)] }
            for index in indexes {
                guard let items = node?.arrayValue, items.indices.contains(index) else { return nil }
                node = items[index]
            }
        }
        return node
    }

    /// The same object keeping only the members `keep` accepts.
    public func filteringMembers(_ keep: (String) -> Bool) -> JSONNode {
        guard let members else { return self }
        return JSONNode(.object(members.filter { keep($0.name) }), at: location)
    }
}

/// JSON text in and out through Foundation's strict coders: bodies that arrive over HTTP, rows
/// of the store, the runtime manifest.
///
/// Decoding sorts an object's members by name (Foundation does not report the order they were
/// written in), so the same text always gives the same node; encoding writes them in order.
extension JSONNode: Codable {
    private struct MemberKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: MemberKey.self) {
            let keys = object.allKeys.sorted { $0.stringValue < $1.stringValue }
            self.init(
                .object(try keys.map { JSONMember($0.stringValue, try object.decode(JSONNode.self, forKey: $0)) }))
            return
        }
        if var list = try? decoder.unkeyedContainer() {
            var items: [JSONNode] = []
            while !list.isAtEnd { items.append(try list.decode(JSONNode.self)) }
            self.init(.array(items))
            return
        }
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self.init(.null)
        } else if let b = try? container.decode(Bool.self) {
            self.init(.bool(b))
        } else if let i = try? container.decode(Int.self) {
            self.init(.integer(i))
        } else if let d = try? container.decode(Double.self) {
            self.init(.double(d))
        } else {
            self.init(.string(try container.decode(String.self)))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch value {
        case .object(let members):
            var container = encoder.container(keyedBy: MemberKey.self)
            for member in members { try container.encode(member.value, forKey: MemberKey(stringValue: member.name)) }
        case .array(let items):
            var container = encoder.unkeyedContainer()
            for item in items { try container.encode(item) }
        case .null:
            var container = encoder.singleValueContainer()
            try container.encodeNil()
        case .bool(let b):
            var container = encoder.singleValueContainer()
            try container.encode(b)
        case .integer(let i):
            var container = encoder.singleValueContainer()
            try container.encode(i)
        case .double(let d):
            var container = encoder.singleValueContainer()
            try container.encode(d)
        case .string(let s):
            var container = encoder.singleValueContainer()
            try container.encode(s)
        }
    }

    /// Parses `data` as one JSON document, strictly; nil when it is not JSON.
    public static func parse(_ data: Data) -> JSONNode? {
        try? JSONDecoder().decode(JSONNode.self, from: data)
    }

    /// Compact JSON text with sorted keys, so the same value always gives the same bytes (which
    /// keeps ETags and stored rows stable).
    public var jsonData: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("null".utf8)
    }

    public var jsonString: String { String(decoding: jsonData, as: UTF8.self) }
}
