import HipChatConnect
import HipKit

/// Glance data posted by the add-on's owner: the short forms of `addon.yaml` accepted and
/// expanded, then checked with the same ``GlanceDataValidator`` `hipkit build` uses.
enum GlanceData {
    /// `label: "<b>3</b>"` → `{type: html, value}`, the HTML sanitised (``LimitedHTML``);
    /// `status: {lozenge: {…}}` and `status: {icon: URL}` → `{type, value}`; fields HipChat
    /// does not read are dropped.
    static func normalize(_ body: JSONValue) -> JSONValue {
        guard var object = body.objectValue else { return body }
        if let label = object["label"] {
            switch label {
            case .string, .int, .double, .bool:
                object["label"] = .object(["type": .string("html"), "value": .string(label.templateText)])
            default: break
            }
        }
        // Label HTML is cut down to the tags HipChat shows, whichever form it came in.
        if var label = object["label"]?.objectValue, let value = label["value"]?.stringValue {
            label["value"] = .string(LimitedHTML.sanitize(value, allowing: LimitedHTML.glanceTags))
            object["label"] = .object(label)
        }
        if let status = object["status"], status["type"] == nil {
            if let lozenge = status["lozenge"] {
                let value: JSONValue =
                    lozenge.stringValue.map { .object(["label": .string($0), "type": .string("default")]) } ?? lozenge
                object["status"] = .object(["type": .string("lozenge"), "value": value])
            } else if let icon = status["icon"] {
                let value: JSONValue =
                    icon.stringValue.map { .object(["url": .string($0), "url@2x": .string($0)]) } ?? icon
                object["status"] = .object(["type": .string("icon"), "value": value])
            }
        }
        return .object(object.filter { ["label", "status", "metadata"].contains($0.key) })
    }

    /// Throws a 400 naming the first field that breaks HipChat's rules.
    static func validate(_ data: JSONValue) throws(APIError) {
        let problems = GlanceDataValidator().validate(data.jsonNode(), subject: "the glance data")
        guard let first = problems.first(where: { $0.severity == .error }) else { return }
        throw APIError.badRequest(first.message, field: field(of: first))
    }

    /// The field a diagnostic is about: its node's path (carried in the location's file), plus
    /// the name of the missing member for a missing field.
    private static func field(of diagnostic: Diagnostic) -> String {
        let path = diagnostic.location?.file ?? ""
        guard diagnostic.code == .missingField, let missing = quoted(diagnostic.message) else {
            return path.isEmpty ? "body" : path
        }
        return path.isEmpty ? missing : "\(path).\(missing)"
    }

    private static func quoted(_ message: String) -> String? {
        guard let open = message.firstIndex(of: "'") else { return nil }
        let rest = message[message.index(after: open)...]
        guard let close = rest.firstIndex(of: "'") else { return nil }
        return String(rest[..<close])
    }
}
