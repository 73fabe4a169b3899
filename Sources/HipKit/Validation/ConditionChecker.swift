import HipChatConnect

/// Checks a module's conditions: names that module allows, composites, and each condition's
/// parameters as HipChat's web client reads them.
struct ConditionChecker {
    let allowed: [String]
    var diagnostics: [Diagnostic] = []

    /// HipChat's schema nests composites two levels deep; anything deeper it rejects.
    static let maxCompositeDepth = 2
    static let compositeTypes = ["and", "or", "AND", "OR"]
    static let metadataOperators = ["eq", "lt", "gt"]

    init(allowed: [String]) {
        self.allowed = allowed
    }

    mutating func check(_ node: JSONNode, subject: String, field: String, depth: Int) {
        guard let members = node.members else {
            return error(
                .wrongType, "'\(field)' of \(subject) must be a condition object, not \(node.kindDescription)",
                node.location,
                hint: "write { condition: user_is_admin } or { type: or, conditions: [...] }")
        }
        let names = Set(members.map(\.name))
        if names.contains("condition") {
            checkSimple(node, members: members, subject: subject, field: field)
        } else if names.contains("conditions") || names.contains("type") {
            checkComposite(node, members: members, subject: subject, field: field, depth: depth)
        } else {
            error(
                .missingField,
                "'\(field)' of \(subject) names no 'condition' (or 'type' and 'conditions' for a composite)",
                node.location)
        }
    }

    private mutating func checkSimple(_ node: JSONNode, members: [JSONMember], subject: String, field: String) {
        for member in members where !["condition", "invert", "params"].contains(member.name) {
            error(
                .unknownField,
                "'\(field).\(member.name)' is not allowed in a condition; HipChat accepts only 'condition', 'invert' and 'params'",
                member.nameLocation, hint: Suggestion.hint(for: member.name, in: ["condition", "invert", "params"]))
        }
        if let invert = node["invert"], invert.boolValue == nil {
            error(
                .wrongType, "'\(field).invert' of \(subject) must be true or false, not \(invert.kindDescription)",
                invert.location)
        }
        guard let nameNode = node["condition"], let name = nameNode.stringValue else {
            return error(
                .wrongType, "'\(field).condition' of \(subject) must be a condition name",
                node["condition"]?.location ?? node.location)
        }
        guard allowed.contains(name) else {
            let known = DescriptorShape.allConditions.contains(name)
            let hint = Suggestion.hint(for: name, in: allowed) ?? "allowed here: \(allowed.joined(separator: ", "))"
            return error(
                .conditionNotAllowed,
                known
                    ? "condition '\(name)' cannot be used on \(subject); HipChat allows it on \(modulesAllowing(name))"
                    : "'\(name)' is not a HipChat condition",
                nameNode.location, hint: hint)
        }
        let params = node["params"]
        if let params, !params.isObject {
            return error(
                .wrongType, "'\(field).params' of \(subject) must be an object, not \(params.kindDescription)",
                params.location)
        }
        checkParams(of: name, params, subject: subject)
    }

    private mutating func checkParams(of condition: String, _ params: JSONNode?, subject: String) {
        let members = params?.members ?? []
        let known = ConditionName(rawValue: condition)
        let accepted = known?.parameters ?? []
        if accepted.isEmpty, let params, !members.isEmpty {
            return warning(
                .conditionParams, "condition '\(condition)' takes no params; HipChat ignores them", params.location)
        }
        for member in members where !accepted.contains(member.name) {
            warning(
                .conditionParams, "'\(member.name)' is not a parameter of '\(condition)'; HipChat ignores it",
                member.nameLocation,
                hint: Suggestion.hint(for: member.name, in: accepted)
                    ?? "parameters of '\(condition)': \(accepted.joined(separator: ", "))")
        }
        for member in members {
            let value = member.value
            switch (known, member.name) {
            case (_, "type"), (_, "file_type"), (_, "sender"), (_, "style"):
                if value.stringValue == nil {
                    error(
                        .conditionParams,
                        "'\(member.name)' of condition '\(condition)' must be a string, not \(value.kindDescription)",
                        value.location)
                }
            case (.messageMatches?, "regex"):
                checkRegexParam(value, condition: condition)
            case (_, "metadata"):
                checkMetadata(value, condition: condition)
            default:
                break
            }
        }
        if known == .glanceMatches || known == .cardMatches, members.isEmpty {
            warning(
                .conditionParams, "condition '\(condition)' has no params, so it matches everything", params?.location)
        }
    }

    private mutating func checkRegexParam(_ value: JSONNode, condition: String) {
        guard value.isObject else {
            return error(
                .conditionParams,
                "'regex' of condition '\(condition)' must be an object { pattern, flags }, not \(value.kindDescription)",
                value.location, hint: "write regex: { pattern: \"^/deploy\", flags: \"i\" }")
        }
        guard let patternNode = value["pattern"], let pattern = patternNode.stringValue else {
            return error(
                .conditionParams, "'regex' of condition '\(condition)' needs a 'pattern' string", value.location)
        }
        if let problem = ShapeChecker.regexProblem(pattern) {
            error(
                .invalidRegex, "regex pattern '\(pattern)' is not a valid regular expression: \(problem)",
                patternNode.location)
        }
        if let flags = value["flags"] {
            if let f = flags.stringValue {
                if let bad = f.first(where: { !"gimsuy".contains($0) }) {
                    error(
                        .conditionParams, "regex flag '\(bad)' is not a JavaScript regular-expression flag",
                        flags.location,
                        hint: "flags are any of g, i, m, s, u, y")
                }
            } else {
                error(
                    .conditionParams, "regex 'flags' must be a string such as \"i\", not \(flags.kindDescription)",
                    flags.location)
            }
        }
    }

    private mutating func checkMetadata(_ value: JSONNode, condition: String) {
        guard let items = value.arrayValue else {
            return error(
                .conditionParams,
                "'metadata' of condition '\(condition)' must be a list of { attr, eq | lt | gt }, not \(value.kindDescription)",
                value.location)
        }
        for item in items {
            guard item.isObject else {
                error(
                    .conditionParams,
                    "each 'metadata' entry of '\(condition)' must be an object { attr, eq | lt | gt }", item.location)
                continue
            }
            if item["attr"]?.stringValue == nil {
                error(
                    .conditionParams,
                    "a 'metadata' entry of '\(condition)' needs 'attr', the dotted path of the value to compare",
                    item.location)
            }
            let ops = Self.metadataOperators.filter { item[$0] != nil }
            if ops.isEmpty {
                error(.conditionParams, "a 'metadata' entry of '\(condition)' needs one of eq, lt or gt", item.location)
            }
            for member in item.members ?? []
            where member.name != "attr" && !Self.metadataOperators.contains(member.name) {
                warning(
                    .conditionParams,
                    "'\(member.name)' is not a metadata comparison; HipChat reads only attr, eq, lt and gt",
                    member.nameLocation, hint: Suggestion.hint(for: member.name, in: ["attr"] + Self.metadataOperators))
            }
        }
    }

    private mutating func checkComposite(
        _ node: JSONNode, members: [JSONMember], subject: String, field: String, depth: Int
    ) {
        if depth >= Self.maxCompositeDepth {
            return error(
                .conditionTooDeep,
                "'\(field)' of \(subject) nests composite conditions more than \(Self.maxCompositeDepth) levels deep; HipChat's schema rejects it",
                node.location, hint: "flatten the and/or groups")
        }
        for member in members where !["type", "conditions"].contains(member.name) {
            error(
                .unknownField,
                "'\(field).\(member.name)' is not allowed in a composite condition; HipChat accepts only 'type' and 'conditions'",
                member.nameLocation, hint: Suggestion.hint(for: member.name, in: ["type", "conditions"]))
        }
        if let type = node["type"] {
            if let t = type.stringValue {
                if !Self.compositeTypes.contains(t) {
                    error(
                        .invalidValue, "composite condition type '\(t)' is not 'and' or 'or'", type.location,
                        hint: Suggestion.hint(for: t, in: Self.compositeTypes))
                }
            } else {
                error(
                    .wrongType, "composite condition 'type' must be 'and' or 'or', not \(type.kindDescription)",
                    type.location)
            }
        } else {
            error(.missingField, "'\(field)' of \(subject) has 'conditions' but no 'type' (and or or)", node.location)
        }
        guard let list = node["conditions"] else {
            return error(.missingField, "'\(field)' of \(subject) has a 'type' but no 'conditions' list", node.location)
        }
        guard let items = list.arrayValue else {
            return error(
                .wrongType, "'\(field).conditions' of \(subject) must be a list, not \(list.kindDescription)",
                list.location)
        }
        for (i, item) in items.enumerated() {
            check(item, subject: subject, field: "\(field).conditions[\(i)]", depth: depth + 1)
        }
    }

    private func modulesAllowing(_ name: String) -> String {
        var modules: [String] = []
        if DescriptorShape.glanceConditions.contains(name) { modules.append("glances") }
        if DescriptorShape.webPanelConditions.contains(name) { modules.append("sidebars (webPanel)") }
        if DescriptorShape.actionConditions.contains(name) { modules.append("actions") }
        return modules.joined(separator: " and ")
    }

    private mutating func error(
        _ code: DiagnosticCode, _ message: String, _ location: SourceLocation?, hint: String? = nil
    ) {
        diagnostics.append(.error(code, message, at: location, hint: hint))
    }

    private mutating func warning(
        _ code: DiagnosticCode, _ message: String, _ location: SourceLocation?, hint: String? = nil
    ) {
        diagnostics.append(.warning(code, message, at: location, hint: hint))
    }
}
