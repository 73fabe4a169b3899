import Foundation
import HipChatConnect

/// Applies ``Shape`` rules to a descriptor tree and collects every breach.
struct ShapeChecker {
    var urlRule: URLRule
    /// Whether the descriptor is a JSON file of its own, whose wrong types get hints in JSON's
    /// syntax; a built one's come from `addon.yaml` (its `extra:`), and get YAML's.
    var jsonHints = false
    var diagnostics: [Diagnostic] = []
    /// Every URL-typed value met, in order: what the build checks is answered.
    var urls: [DescriptorURL] = []

    init(urlRule: URLRule) {
        self.urlRule = urlRule
    }

    /// Checks `node` against `shape`. `subject` names the thing being checked in messages
    /// ("glance 'incidents'"), and `field` the member path inside it ("name.value").
    mutating func check(_ node: JSONNode, _ shape: Shape, subject: String, field: String) {
        switch shape {
        case .string(let rule):
            guard let s = node.stringValue else { return typeError(node, "a string", subject, field) }
            checkString(s, rule, node: node, subject: subject, field: field)
        case .boolean:
            if node.boolValue == nil { typeError(node, "true or false", subject, field) }
        case .integer:
            if case .integer = node.value { return }
            if case .double(let d) = node.value, d == d.rounded() { return }
            typeError(node, "a whole number", subject, field)
        case .object(let objectShape):
            guard node.isObject else { return typeError(node, "an object", subject, field) }
            checkObject(node, objectShape, subject: subject, field: field)
        case .array(let item):
            guard let items = node.arrayValue else { return typeError(node, "a list", subject, field) }
            for (i, element) in items.enumerated() {
                if case .object(let module) = item, module.isModule {
                    let name =
                        element["key"]?.stringValue.map { "\(module.name) '\($0)'" } ?? "\(module.name) #\(i + 1)"
                    check(element, item, subject: name, field: "")
                } else {
                    check(element, item, subject: subject, field: "\(field)[\(i)]")
                }
            }
        case .stringOrObject(let rule, let objectShape):
            if let s = node.stringValue {
                checkString(s, rule, node: node, subject: subject, field: field)
            } else if node.isObject {
                checkObject(node, objectShape, subject: subject, field: field)
            } else {
                typeError(node, "a string or an object", subject, field)
            }
        case .enumOrObject(let words, let objectShape):
            if let s = node.stringValue {
                checkString(s, .oneOf(words), node: node, subject: subject, field: field)
            } else if node.isObject {
                checkObject(node, objectShape, subject: subject, field: field)
            } else {
                typeError(node, "one of \(words.joined(separator: ", ")) or an object", subject, field)
            }
        case .conditions(let allowed):
            guard let items = node.arrayValue else { return typeError(node, "a list", subject, field) }
            var conditions = ConditionChecker(allowed: allowed)
            for (i, item) in items.enumerated() {
                conditions.check(item, subject: subject, field: "\(field)[\(i)]", depth: 0)
            }
            diagnostics += conditions.diagnostics
        case .anyObject:
            if !node.isObject { typeError(node, "an object", subject, field) }
        }
    }

    mutating func checkObject(_ node: JSONNode, _ shape: ObjectShape, subject: String, field: String) {
        let members = node.members ?? []
        let prefix = field.isEmpty ? "" : field + "."
        for name in shape.required where !members.contains(where: { $0.name == name }) {
            diagnostics.append(
                .error(
                    .missingField, "\(describe(subject, field)) is missing the required field '\(name)'",
                    at: node.location, hint: missingHint(name, in: shape), field: prefix + name))
        }
        for member in members {
            if let propertyShape = shape.shape(of: member.name) {
                check(member.value, propertyShape, subject: subject, field: prefix + member.name)
                continue
            }
            let known = shape.properties.map(\.0)
            switch shape.extra {
            case .allowed:
                break
            case .warn:
                let suggestion = Suggestion.closest(to: member.name, in: known)
                diagnostics.append(
                    .warning(
                        .unknownField,
                        "unknown field '\(prefix + member.name)' in \(subject); HipChat ignores it",
                        at: member.nameLocation,
                        hint: suggestion.map { "did you mean '\($0)'?" }))
            case .forbidden:
                diagnostics.append(
                    .error(
                        .unknownField,
                        "'\(prefix + member.name)' is not allowed in \(subject); HipChat rejects fields other than \(known.map { "'\($0)'" }.joined(separator: ", "))",
                        at: member.nameLocation,
                        hint: Suggestion.hint(for: member.name, in: known)))
            }
        }
    }

    mutating func checkString(_ s: String, _ rule: StringRule, node: JSONNode, subject: String, field: String) {
        let what = describe(subject, field)
        let length = s.count
        if length < rule.minLength {
            diagnostics.append(.error(.emptyValue, "\(what) must not be empty", at: node.location))
            return
        }
        if let max = rule.maxLength, length > max {
            diagnostics.append(
                .error(
                    .tooLong, "\(what) is \(length) characters long; HipChat allows at most \(max)", at: node.location,
                    hint: "shorten it to \(max) characters or fewer"))
        }
        if let allowed = rule.allowed, !allowed.contains(s) {
            let hint = Suggestion.hint(for: s, in: allowed) ?? "use one of: \(allowed.joined(separator: ", "))"
            diagnostics.append(
                .error(
                    .invalidValue,
                    "\(what) is '\(s)'; HipChat accepts \(allowed.count == 1 ? "only '\(allowed[0])'" : "one of \(allowed.joined(separator: ", "))")",
                    at: node.location, hint: hint))
        }
        switch rule.format {
        case .plain:
            break
        case .moduleKey:
            if let bad = s.unicodeScalars.first(where: { !Self.isKeyCharacter($0) }) {
                diagnostics.append(
                    .error(
                        .invalidKey,
                        // A module's subject names its key already.
                        "\(what.contains("'\(s)'") ? what : "\(what) '\(s)'") contains '\(bad)', which HipChat does not allow in a key",
                        at: node.location,
                        hint: "use only letters, digits, '_', '-' and '.'"))
            }
        case .apiVersion:
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            if parts.count != 2 || parts.contains(where: { $0.isEmpty || !$0.allSatisfy(\.isASCIIDigit) }) {
                diagnostics.append(
                    .error(
                        .invalidValue, "\(what) '\(s)' is not of the form MAJOR:MINOR", at: node.location,
                        hint: "HipChat's only version is '1:1'"))
            }
        case .url:
            diagnostics += urlRule.check(s, at: node.location, what: what)
            urls.append(DescriptorURL(url: s, what: what, location: node.location))
        case .regex:
            if let problem = Self.regexProblem(s) {
                diagnostics.append(
                    .error(
                        .invalidRegex, "\(what) '\(s)' is not a valid regular expression: \(problem)",
                        at: node.location,
                        hint:
                            "HipChat matches with JavaScript regular expressions; escape special characters with a backslash"
                    ))
            }
        case .length:
            if !Self.isCSSLength(s) {
                diagnostics.append(
                    .error(
                        .invalidValue, "\(what) '\(s)' is not a length in px or %", at: node.location,
                        hint: "write it like '600px' or '80%'"))
            }
        }
    }

    static func isKeyCharacter(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "-"
            || c == "."
    }

    static func isCSSLength(_ s: String) -> Bool {
        let number: Substring
        if s.hasSuffix("px") {
            number = s.dropLast(2)
        } else if s.hasSuffix("%") {
            number = s.dropLast()
        } else {
            return false
        }
        guard !number.isEmpty, number.filter({ $0 == "." }).count <= 1 else { return false }
        return number.allSatisfy { $0.isASCIIDigit || $0 == "." } && number.contains(where: \.isASCIIDigit)
    }

    /// Why `pattern` does not compile, or nil when it does. ICU's syntax (Foundation's) is close
    /// to JavaScript's for the patterns used in webhooks and conditions.
    static func regexProblem(_ pattern: String) -> String? {
        do {
            _ = try NSRegularExpression(pattern: pattern)
            return nil
        } catch {
            return regexErrorDescription(pattern)
        }
    }

    /// A plain reason for the commonest mistakes; ICU itself only says "the pattern is invalid".
    private static func regexErrorDescription(_ pattern: String) -> String {
        var depth = 0
        var inClass = false
        var escaped = false
        for c in pattern {
            if escaped {
                escaped = false
                continue
            }
            switch c {
            case "\\": escaped = true
            case "[" where !inClass: inClass = true
            case "]" where inClass: inClass = false
            case "(" where !inClass: depth += 1
            case ")" where !inClass:
                depth -= 1
                if depth < 0 { return "a ')' has no matching '('" }
            default: break
            }
        }
        if escaped { return "it ends with a lone backslash" }
        if inClass { return "a '[' is never closed" }
        if depth > 0 { return "a '(' is never closed" }
        return "a quantifier or group is malformed"
    }

    private mutating func typeError(_ node: JSONNode, _ expected: String, _ subject: String, _ field: String) {
        diagnostics.append(
            .error(
                .wrongType, "\(describe(subject, field)) must be \(expected), not \(node.kindDescription)",
                at: node.location,
                hint: WrongType.hint(expected: expected, json: jsonHints)))
    }

    private func missingHint(_ name: String, in shape: ObjectShape) -> String? {
        switch name {
        case "url" where ModuleKind(rawValue: shape.name)?.isView == true:
            return "give the page's URL, or in addon.yaml a Markdown file with 'page:'"
        case "icon": return "give an image file (its @2x twin is found beside it) or {url, url@2x}"
        case "name", "title", "value": return "a short text shown to users"
        default: return nil
        }
    }

    func describe(_ subject: String, _ field: String) -> String {
        field.isEmpty ? subject : "'\(field)' of \(subject)"
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
