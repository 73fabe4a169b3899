import HipChatConnect

/// A JSON Schema (draft-07) of `addon.yaml`, for editors: made from the same tables the
/// translator reads and the validator checks, so the three cannot disagree.
public enum SpecJSONSchema {
    public static let fileName = "addon.schema.json"

    public static func make() -> JSONNode {
        var root = object(SpecSchema.addon, shape: DescriptorShape.descriptor)
        root["$schema"] = .string("http://json-schema.org/draft-07/schema#")
        root["title"] = .string("hipkit addon.yaml")
        root["description"] = .string("A HipChat Connect add-on described for hipkit. Reference: docs/spec.md.")
        var ordered = JSONNode.object()
        for name in ["$schema", "title", "description", "type", "properties", "required", "additionalProperties"] {
            if let v = root[name] { ordered[name] = v }
        }
        return ordered
    }

    /// The descriptor object each spec object becomes, for its enums, lengths and key patterns.
    static let shapes: [String: ObjectShape?] = Dictionary(
        uniqueKeysWithValues: SpecReference.sections.map { ($0.0.name, $0.1) })

    static func object(_ spec: SpecObject, shape: ObjectShape?) -> JSONNode {
        var properties = JSONNode.object()
        var required: [String] = []
        for field in spec.fields {
            var property = schema(for: field, in: spec, shape: shape)
            property["description"] = .string(field.doc)
            properties[field.name] = property
            if SpecReference.isRequired(field, in: spec, shape: shape) { required.append(field.name) }
        }
        var node = JSONNode.object([JSONMember("type", .string("object")), JSONMember("properties", properties)])
        if !required.isEmpty { node["required"] = .array(required.map { .string($0) }) }
        node["additionalProperties"] = .bool(false)
        return node
    }

    private static func schema(for field: SpecField, in spec: SpecObject, shape: ObjectShape?) -> JSONNode {
        let descriptorShape = shape.flatMap { SpecReference.lookup(field.path, in: $0).0 }
        switch field.kind {
        case .string:
            if spec.name == "addon.yaml" && field.name == "key" { return string(pattern: "^[A-Za-z0-9_.-]+$") }
            return stringSchema(descriptorShape)
        case .boolean: return type("boolean")
        case .integer: return type("integer")
        case .url, .image: return type("string")
        case .urls: return array(type("string"))
        case .page: return string(pattern: "\\.(md|markdown)$")
        case .icon, .avatar:
            return anyOf([
                type("string"), closedObject(["url": type("string"), "url@2x": type("string")], required: ["url"]),
            ])
        case .localizable: return localizable()
        case .target:
            return anyOf([
                key(),
                .object([
                    JSONMember("type", .string("object")),
                    JSONMember(
                        "properties", .object([JSONMember("key", key()), JSONMember("options", type("object"))])),
                    JSONMember("required", .array([.string("key")])),
                ]),
            ])
        case .conditions:
            if case .conditions(let allowed)? = descriptorShape { return conditions(allowed) }
            return conditions(DescriptorShape.allConditions)
        case .strings:
            if case .array(.string(let rule))? = descriptorShape, let allowed = rule.allowed {
                return array(enumeration(allowed))
            }
            return array(type("string"))
        case .json: return .object()
        case .dialogSize:
            let length = anyOf([string(pattern: "^[0-9.]+(px|%)$"), type("integer")])
            return anyOf([
                enumeration(DescriptorShape.dialogSizes),
                closedObject(["width": length, "height": length], required: ["width", "height"]),
            ])
        case .button: return anyOf([type("string"), object(SpecSchema.button, shape: DescriptorShape.button)])
        case .buttons: return array(anyOf([type("string"), object(SpecSchema.button, shape: DescriptorShape.button)]))
        case .filter: return anyOf([type("string"), closedObject(["placeholder": localizable()], required: [])])
        case .actionLocation: return enumeration(["message", "input"] + DescriptorShape.actionLocations)
        case .glanceData:
            return .object([
                JSONMember("type", .string("object")),
                JSONMember(
                    "properties",
                    .object([
                        JSONMember(
                            "label",
                            anyOf([
                                type("string"),
                                closedObject(
                                    ["type": enumeration(GlanceDataValidator.labelTypes), "value": type("string")],
                                    required: ["value"]),
                            ])),
                        JSONMember("status", type("object")),
                        JSONMember("metadata", type("object")),
                    ])), JSONMember("required", .array([.string("label")])),
            ])
        case .object(let inner): return object(inner, shape: shapes[inner.name] ?? nil)
        case .list(let inner): return array(object(inner, shape: shapes[inner.name] ?? nil))
        case .setting:
            switch field.name {
            case "environments":
                return .object([
                    JSONMember("type", .string("object")),
                    JSONMember(
                        "additionalProperties",
                        closedObject(
                            ["baseUrl": type("string"), "hipchatJs": type("string"), "hipchatCss": type("string")],
                            required: [])),
                ])
            case "unsafe", "viewNotifications": return type("boolean")
            default: return type("string")
            }
        case .listing: return object(ListingSchema.listing, shape: nil)
        case .webhookReply:
            return anyOf([
                type("string"),
                .object([
                    JSONMember("type", .string("object")),
                    JSONMember(
                        "properties",
                        .object([
                            JSONMember("message", type("string")),
                            JSONMember("format", enumeration(CardValidator.formats)),
                            JSONMember("message_format", enumeration(CardValidator.formats)),
                            JSONMember("color", enumeration(CardValidator.colors)),
                            JSONMember("notify", type("boolean")), JSONMember("from", type("string")),
                            JSONMember(
                                "card",
                                .object([
                                    JSONMember("type", .string("object")),
                                    JSONMember(
                                        "properties",
                                        .object([
                                            JSONMember("style", enumeration(CardValidator.styles)),
                                            JSONMember("id", type("string")), JSONMember("title", type("string")),
                                        ])),
                                    JSONMember(
                                        "required", .array([.string("style"), .string("id"), .string("title")])),
                                ])),
                        ])), JSONMember("required", .array([.string("message")])),
                    JSONMember("additionalProperties", .bool(false)),
                ]),
            ])
        case .settings:
            var setting = object(SpecSchema.setting, shape: nil)
            setting["required"] = .array([.string("name")])
            if var properties = setting["properties"] {
                properties["type"] = enumeration(SpecTranslator.settingTypes)
                setting["properties"] = properties
            }
            return array(setting)
        }
    }

    private static func stringSchema(_ shape: Shape?) -> JSONNode {
        guard case .string(let rule)? = shape else { return type("string") }
        if let allowed = rule.allowed { return enumeration(allowed) }
        var node = rule.format == .moduleKey ? key() : type("string")
        if let max = rule.maxLength, rule.format != .moduleKey { node["maxLength"] = JSONNode(.integer(max)) }
        if rule.format == .apiVersion { node["pattern"] = .string("^\\d+:\\d+$") }
        return node
    }

    private static func conditions(_ allowed: [String]) -> JSONNode {
        let simple = closedObject(
            ["condition": enumeration(allowed), "invert": type("boolean"), "params": type("object")],
            required: ["condition"])
        let composite = closedObject(
            ["type": enumeration(["and", "or", "AND", "OR"]), "conditions": type("array")],
            required: ["type", "conditions"])
        return array(anyOf([enumeration(allowed), simple, composite]))
    }

    private static func localizable() -> JSONNode {
        anyOf([
            .object([
                JSONMember("type", .string("string")), JSONMember("minLength", JSONNode(.integer(1))),
                JSONMember("maxLength", JSONNode(.integer(100))),
            ]),
            closedObject(
                [
                    "value": .object([
                        JSONMember("type", .string("string")), JSONMember("maxLength", JSONNode(.integer(100))),
                    ]),
                    "i18n": .object([
                        JSONMember("type", .string("string")), JSONMember("maxLength", JSONNode(.integer(40))),
                    ]),
                ],
                required: ["value"]),
        ])
    }

    private static func key() -> JSONNode {
        var node = string(pattern: "^[a-zA-Z0-9_\\-\\.]+$")
        node["maxLength"] = JSONNode(.integer(40))
        return node
    }

    private static func type(_ name: String) -> JSONNode { .object([JSONMember("type", .string(name))]) }
    private static func string(pattern: String) -> JSONNode {
        .object([JSONMember("type", .string("string")), JSONMember("pattern", .string(pattern))])
    }
    private static func enumeration(_ values: [String]) -> JSONNode {
        .object([JSONMember("enum", .array(values.map { .string($0) }))])
    }
    private static func array(_ items: JSONNode) -> JSONNode {
        .object([JSONMember("type", .string("array")), JSONMember("items", items)])
    }
    private static func anyOf(_ options: [JSONNode]) -> JSONNode { .object([JSONMember("anyOf", .array(options))]) }

    private static func closedObject(_ properties: KeyValuePairs<String, JSONNode>, required: [String]) -> JSONNode {
        var node = JSONNode.object([
            JSONMember("type", .string("object")),
            JSONMember("properties", .object(properties.map { JSONMember($0.key, $0.value) })),
        ])
        if !required.isEmpty { node["required"] = .array(required.map { .string($0) }) }
        node["additionalProperties"] = .bool(false)
        return node
    }
}
