/// A JSON value that remembers where in the user's files it came from: hipkit's one JSON type.
///
/// The descriptor is built as a tree of these, so that a rule broken in the descriptor is
/// reported at the line of `addon.yaml` (or of the descriptor `.json`) that produced it. Values
/// that arrive over HTTP or come from the store are the same type with no locations.
///
/// Two nodes are equal when their values are, wherever they were written and in whatever order
/// an object's members come: a location says where a value came from, and member order how it
/// reads, not what it is.
public struct JSONNode: Sendable, Hashable {
    public indirect enum Value: Sendable, Hashable {
        case null
        case bool(Bool)
        case integer(Int)
        case double(Double)
        case string(String)
        case array([JSONNode])
        /// Members in the order they are written out, which is what makes output stable.
        case object([JSONMember])
    }

    public var value: Value
    public var location: SourceLocation?

    public init(_ value: Value, at location: SourceLocation? = nil) {
        self.value = value
        self.location = location
    }

    public static func == (a: JSONNode, b: JSONNode) -> Bool {
        switch (a.value, b.value) {
        case (.object, .object): return a.count == b.count && a.dictionaryValue == b.dictionaryValue
        case (.array(let x), .array(let y)): return x == y
        case (.object, _), (_, .object), (.array, _), (_, .array): return false
        default: return a.value == b.value
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch value {
        case .object: hasher.combine(dictionaryValue)
        case .array(let items): hasher.combine(items)
        default: hasher.combine(value)
        }
    }

    /// The number of members or items; 0 for other values.
    var count: Int {
        switch value {
        case .object(let members): members.count
        case .array(let items): items.count
        default: 0
        }
    }

    public static func string(_ s: String, at location: SourceLocation? = nil) -> JSONNode {
        JSONNode(.string(s), at: location)
    }
    public static func bool(_ b: Bool, at location: SourceLocation? = nil) -> JSONNode {
        JSONNode(.bool(b), at: location)
    }
    public static func object(_ members: [JSONMember] = [], at location: SourceLocation? = nil) -> JSONNode {
        JSONNode(.object(members), at: location)
    }
    public static func array(_ items: [JSONNode], at location: SourceLocation? = nil) -> JSONNode {
        JSONNode(.array(items), at: location)
    }

    public var stringValue: String? { if case .string(let s) = value { s } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = value { b } else { nil } }
    public var arrayValue: [JSONNode]? { if case .array(let a) = value { a } else { nil } }
    public var members: [JSONMember]? { if case .object(let m) = value { m } else { nil } }
    public var isObject: Bool { members != nil }

    /// The member called `name`, when this is an object.
    public subscript(name: String) -> JSONNode? {
        get { members?.first { $0.name == name }?.value }
        set {
            guard case .object(var m) = value else { return }
            // Drops this node's hold on the members, so `m` is their only owner and changing it
            // copies nothing: building an object member by member stays linear.
            value = .null
            if let i = m.firstIndex(where: { $0.name == name }) {
                if let newValue { m[i].value = newValue } else { m.remove(at: i) }
            } else if let newValue {
                m.append(JSONMember(name, newValue))
            }
            value = .object(m)
        }
    }

    /// Where the member called `name` is written (its key), falling back to this node.
    public func location(ofMember name: String) -> SourceLocation? {
        members?.first { $0.name == name }?.nameLocation ?? location
    }

    /// What kind of value this is, in words for diagnostics.
    public var kindDescription: String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "an object"
        }
    }

    /// The same value with every location dropped, for comparing values regardless of where
    /// they were written.
    public var withoutLocations: JSONNode {
        switch value {
        case .array(let items): return JSONNode(.array(items.map(\.withoutLocations)))
        case .object(let members):
            return JSONNode(.object(members.map { JSONMember($0.name, $0.value.withoutLocations) }))
        default: return JSONNode(value)
        }
    }
}

/// One `"name": value` member of a JSON object.
public struct JSONMember: Sendable, Hashable {
    public static func == (a: JSONMember, b: JSONMember) -> Bool { a.name == b.name && a.value == b.value }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(value)
    }

    public var name: String
    public var nameLocation: SourceLocation?
    public var value: JSONNode

    public init(_ name: String, _ value: JSONNode, nameLocation: SourceLocation? = nil) {
        self.name = name
        self.value = value
        self.nameLocation = nameLocation ?? value.location
    }
}
