import HipChatConnect

/// Checks glance data in HipChat's shape, wherever it comes from: the spec's static `data:`,
/// or (at run time) a glance update.
///
/// `{label: {type: html, value}, status?: {type: lozenge, value: {label, type}} |
/// {type: icon, value: {url, url@2x}}, metadata?: {…}}`
public struct GlanceDataValidator: Sendable {
    public static let lozengeTypes = LozengeType.names
    public static let labelTypes = ["html"]
    /// A glance label is one line in a narrow sidebar; HipChat documented no limit, so this
    /// is a generous bound that still catches pasted documents.
    public static let maxLabelLength = 1000

    public init() {}

    public func validate(_ data: JSONNode, subject: String = "glance data") -> [Diagnostic] {
        var out: [Diagnostic] = []
        /// `field` is the path of the field the problem is about, which an API answers with.
        func error(_ code: DiagnosticCode, _ message: String, _ node: JSONNode?, field: String, hint: String? = nil) {
            out.append(.error(code, message, at: node?.location ?? data.location, hint: hint, field: field))
        }
        guard data.isObject else {
            error(.wrongType, "\(subject) must be an object, not \(data.kindDescription)", data, field: "")
            return out
        }
        for member in data.members ?? [] where !["label", "status", "metadata"].contains(member.name) {
            out.append(
                .warning(
                    .unknownField,
                    "unknown field '\(member.name)' in \(subject); HipChat reads label, status and metadata",
                    at: member.nameLocation,
                    hint: Suggestion.hint(for: member.name, in: ["label", "status", "metadata"]), field: member.name))
        }
        if let label = data["label"], !label.isObject {
            error(
                .wrongType,
                "the label of \(subject) must be text or { type: html, value }, not \(label.kindDescription)", label,
                field: "label", hint: "write label: \"<b>3</b> open\"")
        } else if let label = data["label"] {
            if let typeNode = label["type"] {
                if let type = typeNode.stringValue {
                    if !Self.labelTypes.contains(type) {
                        error(
                            .invalidValue,
                            "the label type of \(subject) is '\(type)'; HipChat shows only 'html' labels", typeNode,
                            field: "label.type")
                    }
                } else {
                    error(
                        .wrongType,
                        "the label type of \(subject) must be the string 'html', not \(typeNode.kindDescription)",
                        typeNode, field: "label.type")
                }
            }
            if let value = label["value"]?.stringValue {
                if value.count > Self.maxLabelLength {
                    error(
                        .tooLong,
                        "the label of \(subject) is \(value.count) characters long; the limit is \(Self.maxLabelLength)",
                        label["value"], field: "label.value")
                }
            } else {
                error(.missingField, "the label of \(subject) needs a 'value' string", label, field: "label.value")
            }
        } else {
            error(.missingField, "\(subject) is missing 'label', the text HipChat shows", data, field: "label")
        }
        if let status = data["status"] {
            switch status["type"]?.stringValue {
            case "lozenge":
                let value = status["value"]
                if value?["label"]?.stringValue == nil {
                    error(
                        .missingField, "the lozenge of \(subject) needs a 'label' string", value ?? status,
                        field: "status.value.label")
                }
                if let typeNode = value?["type"] {
                    if let type = typeNode.stringValue, !Self.lozengeTypes.contains(type) {
                        error(
                            .invalidValue,
                            "the lozenge type of \(subject) is '\(type)'; HipChat accepts one of \(Self.lozengeTypes.joined(separator: ", "))",
                            typeNode, field: "status.value.type",
                            hint: Suggestion.hint(for: type, in: Self.lozengeTypes))
                    } else if typeNode.stringValue == nil {
                        error(
                            .wrongType, "the lozenge type of \(subject) must be a string", typeNode,
                            field: "status.value.type")
                    }
                }
            case "icon":
                let value = status["value"]
                for field in ["url", "url@2x"] {
                    guard let url = value?[field]?.stringValue else {
                        error(
                            .missingField, "the status icon of \(subject) needs '\(field)'", value ?? status,
                            field: "status.value.\(field)")
                        continue
                    }
                    // HipChat shows the icon as an image; a `javascript:` or `data:` URL is no icon.
                    if URLRule.hasOtherScheme(url) {
                        error(
                            .invalidUrl, "the status icon of \(subject) is '\(url)', which is not an http or https URL",
                            value?[field], field: "status.value.\(field)",
                            hint: "give the image's https:// URL, or its path under the add-on's base URL")
                    }
                }
            default:
                error(
                    .invalidValue, "the status of \(subject) must be a lozenge or an icon", status, field: "status",
                    hint: "write status: { lozenge: { label: NEW, type: new } } or status: { icon: /img/ok.png }")
            }
        }
        if let metadata = data["metadata"], !metadata.isObject {
            error(
                .wrongType, "the metadata of \(subject) must be an object, not \(metadata.kindDescription)", metadata,
                field: "metadata")
        }
        return out
    }
}
