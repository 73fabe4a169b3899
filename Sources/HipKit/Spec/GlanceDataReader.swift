import HipChatConnect

/// Reads a glance's `data:` from the spec, accepting short forms, and gives HipChat's shape.
///
/// Short forms: `label: "<b>3</b> open"` for `{type: html, value: …}`;
/// `status: {lozenge: {label, type}}` and `status: {icon: URL}` for `{type, value}`.
struct GlanceDataReader {
    var diagnostics: [Diagnostic] = []

    mutating func read(_ node: YAMLNode) -> JSONNode? {
        var ignored: [Diagnostic] = []
        var data = JSONNode.from(node, diagnostics: &ignored)
        diagnostics += ignored
        guard data.isObject else {
            diagnostics.append(
                .error(
                    .wrongType, "glance data must be a mapping with a label, not \(node.kindDescription)",
                    at: node.location))
            return nil
        }
        if let label = data["label"], label.stringValue != nil || isScalar(label) {
            data["label"] = .object(
                [
                    JSONMember("type", .string("html", at: label.location)),
                    JSONMember("value", .string(text(label), at: label.location)),
                ], at: label.location)
        }
        if let status = data["status"], status["type"] == nil {
            if let lozenge = status["lozenge"] {
                var value = lozenge
                if lozenge.stringValue != nil {
                    value = .object(
                        [JSONMember("label", lozenge), JSONMember("type", .string("default", at: lozenge.location))],
                        at: lozenge.location)
                }
                data["status"] = .object(
                    [JSONMember("type", .string("lozenge", at: status.location)), JSONMember("value", value)],
                    at: status.location)
            } else if let icon = status["icon"] {
                var value = icon
                if let url = icon.stringValue {
                    value = .object(
                        [
                            JSONMember("url", .string(url, at: icon.location)),
                            JSONMember("url@2x", .string(url, at: icon.location)),
                        ], at: icon.location)
                }
                data["status"] = .object(
                    [JSONMember("type", .string("icon", at: status.location)), JSONMember("value", value)],
                    at: status.location)
            }
        }
        // HipChat showed only a few tags in a glance; the build writes what it would have shown,
        // so a label carrying text from elsewhere cannot put a script or a link in the sidebar.
        if let label = data["label"], let value = label["value"], let html = value.stringValue {
            let shown = LimitedHTML.sanitize(html, allowing: LimitedHTML.glanceTags)
            if shown != html {
                diagnostics.append(
                    .warning(
                        .glanceLabelHtml,
                        "the glance label has HTML HipChat does not show in a glance; it is written as '\(shown)'",
                        at: value.location, hint: "a label may use b, i, strong, em and span, without attributes"))
                data["label"] = .object(
                    [
                        JSONMember("type", label["type"] ?? .string("html", at: label.location)),
                        JSONMember("value", .string(shown, at: value.location)),
                    ], at: label.location)
            }
        }
        let problems = GlanceDataValidator().validate(data)
        diagnostics += problems
        return problems.hasErrors ? nil : data
    }

    private func isScalar(_ node: JSONNode) -> Bool {
        switch node.value {
        case .integer, .double, .bool: return true
        default: return false
        }
    }

    private func text(_ node: JSONNode) -> String {
        switch node.value {
        case .string(let s): return s
        case .integer(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return String(b)
        default: return ""
        }
    }
}
