import Foundation
import HipChatConnect

/// Checks posted configuration settings against the fields of the runtime manifest: type,
/// required, select options, pattern. The first bad field is the answer, named in the 400.
struct SettingsValidator: Sendable {
    let fields: [RuntimeManifest.SettingField]

    /// Longest text value kept; settings are short by nature.
    static let maxTextLength = 2000

    func validate(_ body: JSONNode) throws(APIError) -> [String: JSONNode] {
        guard let object = body.dictionaryValue else {
            throw APIError.badRequest(
                "settings must be a JSON object of name: value, not \(body.kindDescription)", field: "body")
        }
        var out: [String: JSONNode] = [:]
        for field in fields {
            let value = object[field.name] ?? .null
            if value.isNull || value == .string("") {
                if field.required && field.defaultValue == nil {
                    throw APIError.badRequest("setting '\(field.name)' is required", field: field.name)
                }
                continue
            }
            out[field.name] = try check(value, field)
        }
        if let unknown = object.keys.sorted().first(where: { name in !fields.contains { $0.name == name } }) {
            throw APIError.badRequest("there is no setting '\(unknown)'", field: unknown)
        }
        return out
    }

    private func check(_ value: JSONNode, _ field: RuntimeManifest.SettingField) throws(APIError) -> JSONNode {
        func wrong(_ expected: String) -> APIError {
            APIError.badRequest(
                "setting '\(field.name)' must be \(expected), not \(value.kindDescription)", field: field.name)
        }
        switch field.type {
        case .text:
            guard let text = value.stringValue else { throw wrong("a string") }
            guard text.count <= Self.maxTextLength else {
                throw APIError.badRequest(
                    "setting '\(field.name)' is longer than \(Self.maxTextLength) characters", field: field.name)
            }
            if let pattern = field.pattern, let regex = try? MessagePattern(pattern), !regex.matches(text) {
                throw APIError.badRequest("setting '\(field.name)' does not match \(pattern)", field: field.name)
            }
            return value
        case .number:
            guard value.isNumber else { throw wrong("a number") }
            return value
        case .boolean:
            guard value.boolValue != nil else { throw wrong("true or false") }
            return value
        case .select:
            guard let text = value.stringValue else { throw wrong("a string") }
            guard field.options.contains(text) else {
                throw APIError.badRequest(
                    "setting '\(field.name)' must be one of \(field.options.joined(separator: ", ")), not '\(text)'",
                    field: field.name)
            }
            return value
        }
    }
}
