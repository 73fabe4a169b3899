import Foundation
import HipChatConnect
import HipKit

/// A JSON value as it arrives over HTTP or goes into the store.
///
/// Request bodies are parsed strictly (`JSONDecoder`): the runtime answers machines, and a body
/// that is not JSON is a 400, not something to be guessed at. ``JSONNode`` (with source
/// locations) stays the type of files read from `dist/`; ``jsonNode(path:)`` bridges the two so
/// HipKit's validators can check a body and name the field that broke a rule.
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? container.decode(Int.self) {
            self = .int(i)
        } else if let d = try? container.decode(Double.self) {
            self = .double(d)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .int(let i): try container.encode(i)
        case .double(let d): try container.encode(d)
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }

    /// Parses `data` as one JSON document; nil when it is not JSON.
    public static func parse(_ data: Data) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// Compact JSON text with sorted keys, so the same value always gives the same bytes (which
    /// keeps ETags and tests stable).
    public var jsonData: Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)) ?? Data("null".utf8)
    }

    public var jsonString: String { String(decoding: jsonData, as: UTF8.self) }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { o[key] } else { nil }
    }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { o } else { nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var isNull: Bool { self == .null }

    /// An integer, also when HipChat sends it as an integral number or a numeric string (room
    /// and group ids have been seen both ways).
    public var intValue: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d == d.rounded() && abs(d) < 9e15: return Int(d)
        case .string(let s): return Int(s)
        default: return nil
        }
    }

    public var isNumber: Bool {
        switch self {
        case .int, .double: return true
        default: return false
        }
    }

    /// The value as text for a template: strings as they are, numbers and booleans written out,
    /// nothing for null, lists and objects.
    public var templateText: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .bool(let b): return b ? "true" : "false"
        case .null, .array, .object: return ""
        }
    }

    /// What kind of value this is, in words for error messages.
    public var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "a list"
        case .object: return "an object"
        }
    }

    /// The value as a ``JSONNode`` whose every location names its field path in `file`
    /// (`status.value.type`), so a diagnostic from a HipKit validator says which field it means.
    public func jsonNode(path: String = "") -> JSONNode {
        let location = SourceLocation(file: path, line: 1, column: 1)
        switch self {
        case .null: return JSONNode(.null, at: location)
        case .bool(let b): return JSONNode(.bool(b), at: location)
        case .int(let i): return JSONNode(.integer(i), at: location)
        case .double(let d): return JSONNode(.double(d), at: location)
        case .string(let s): return JSONNode(.string(s), at: location)
        case .array(let items):
            return JSONNode(
                .array(items.enumerated().map { $0.element.jsonNode(path: "\(path)[\($0.offset)]") }), at: location)
        case .object(let members):
            return JSONNode(
                .object(
                    members.keys.sorted().map { name in
                        let childPath = path.isEmpty ? name : "\(path).\(name)"
                        return JSONMember(
                            name, members[name]!.jsonNode(path: childPath),
                            nameLocation: SourceLocation(file: childPath, line: 1, column: 1))
                    }), at: location)
        }
    }

    /// The value of a node read from a file in `dist/`.
    public init(_ node: JSONNode) {
        switch node.value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .integer(let i): self = .int(i)
        case .double(let d): self = .double(d)
        case .string(let s): self = .string(s)
        case .array(let items): self = .array(items.map(JSONValue.init))
        case .object(let members):
            var object: [String: JSONValue] = [:]
            for member in members { object[member.name] = JSONValue(member.value) }
            self = .object(object)
        }
    }
}
