import HipChatConnect

/// The short forms of glance data that `addon.yaml` and the admin API both accept, expanded to
/// HipChat's shape: `label: "<b>3</b> open"` (or a number or boolean, written out as text) for
/// `{type: html, value}`, `status: {lozenge: {label, type}}` (or `lozenge: TEXT`) and
/// `status: {icon: URL}` for `{type, value}`. The label's HTML is cut to the tags HipChat shows
/// in a glance (``LimitedHTML/glanceTags``), so text from elsewhere cannot put a script or a
/// link in the sidebar. Locations are kept, so the build reports problems at the spec's lines.
public enum GlanceShortForms {
    /// What expanding gave: the data, and the label's HTML as given and as kept when cutting it
    /// changed it.
    public struct Expanded: Sendable {
        public var data: JSONNode
        public var cutLabel: (given: String, kept: String, location: SourceLocation?)?
    }

    public static func expand(_ input: JSONNode) -> Expanded {
        var data = input
        guard data.isObject else { return Expanded(data: data) }
        if let label = data["label"], let text = scalarText(label) {
            data["label"] = .object(
                [
                    JSONMember("type", .string("html", at: label.location)),
                    JSONMember("value", .string(text, at: label.location)),
                ], at: label.location)
        }
        if let status = data["status"], status["type"] == nil {
            if let lozenge = status["lozenge"] {
                var value = lozenge
                if lozenge.stringValue != nil {
                    value = .object(
                        [
                            JSONMember("label", lozenge),
                            JSONMember("type", .string(LozengeType.default.rawValue, at: lozenge.location)),
                        ], at: lozenge.location)
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
        var cut: (String, String, SourceLocation?)?
        if let label = data["label"], let value = label["value"], let html = value.stringValue {
            let shown = LimitedHTML.sanitize(html, allowing: LimitedHTML.glanceTags)
            if shown != html {
                cut = (html, shown, value.location)
                data["label"] = .object(
                    [
                        JSONMember("type", label["type"] ?? .string("html", at: label.location)),
                        JSONMember("value", .string(shown, at: value.location)),
                    ], at: label.location)
            }
        }
        return Expanded(data: data, cutLabel: cut)
    }

    /// A label given as a string, number or boolean, as text.
    private static func scalarText(_ node: JSONNode) -> String? {
        switch node.value {
        case .string(let s): return s
        case .integer(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return String(b)
        default: return nil
        }
    }

    /// `data` with each of its status icon's URLs passed through `resolve` (`url`, `url@2x`):
    /// HipChat loads them from its own page, where a path (`/img/ok.png`) means nothing, so one
    /// is made a full URL under the add-on's base URL.
    public static func resolvingIconURLs(_ data: JSONNode, _ resolve: (String, JSONNode) -> String) -> JSONNode {
        guard data["status"]?["type"]?.stringValue == "icon", var status = data["status"],
            var value = status["value"], value.isObject
        else { return data }
        for field in ["url", "url@2x"] {
            guard let node = value[field], let url = node.stringValue else { continue }
            let resolved = resolve(url, node)
            if resolved != url { value[field] = JSONNode(.string(resolved), at: node.location) }
        }
        status["value"] = value
        var data = data
        data["status"] = status
        return data
    }
}
