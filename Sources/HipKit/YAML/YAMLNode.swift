import HipChatConnect

/// A node of a YAML (or JSON) document, with the place it was written.
///
/// The tree is plain data: once composed it knows nothing of libyaml, and every node, including
/// each mapping key, carries the location that diagnostics point at.
public struct YAMLNode: Sendable, Hashable {
    public enum Content: Sendable, Hashable {
        case scalar(YAMLScalar)
        case sequence([YAMLNode])
        case mapping([YAMLEntry])
    }

    public var content: Content
    public var location: SourceLocation

    public init(_ content: Content, at location: SourceLocation) {
        self.content = content
        self.location = location
    }

    /// The scalar, when this node is one.
    public var scalar: YAMLScalar? {
        if case .scalar(let s) = content { return s }
        return nil
    }

    /// The items, when this node is a sequence.
    public var sequence: [YAMLNode]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    /// The entries, when this node is a mapping.
    public var mapping: [YAMLEntry]? {
        if case .mapping(let entries) = content { return entries }
        return nil
    }

    /// The string of a scalar that resolves to a string (plain `true` or `12` do not).
    public var string: String? {
        if case .string(let s) = scalar?.resolved { return s }
        return nil
    }

    /// The value of the entry whose key is `key`, in a mapping.
    public subscript(key: String) -> YAMLNode? {
        mapping?.first { $0.key.scalar?.value == key }?.value
    }

    /// What kind of node this is, in words for diagnostics ("a string", "a list", …).
    public var kindDescription: String {
        switch content {
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        case .scalar(let s):
            switch s.resolved {
            case .null: return "null"
            case .bool: return "a boolean"
            case .integer: return "an integer"
            case .double: return "a number"
            case .string: return "a string"
            }
        }
    }
}

/// One `key: value` pair of a mapping.
public struct YAMLEntry: Sendable, Hashable {
    public var key: YAMLNode
    public var value: YAMLNode

    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}
