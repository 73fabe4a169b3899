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
        let expanded = GlanceShortForms.expand(data)
        data = expanded.data
        if let cut = expanded.cutLabel {
            diagnostics.append(
                .warning(
                    .glanceLabelHtml,
                    "the glance label has HTML HipChat does not show in a glance; it is written as '\(cut.kept)'",
                    at: cut.location, hint: "a label may use b, i, strong, em and span, without attributes"))
        }
        let problems = GlanceDataValidator().validate(data)
        diagnostics += problems
        return problems.hasErrors ? nil : data
    }
}
