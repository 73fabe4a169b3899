import HipChatConnect

/// The values of `index.html`, the preview of the whole add-on for a person: its modules, each
/// linking to its page, and its glances with their data.
struct PreviewPage {
    let project: AddonProject
    let pageOutputs: [String: String]
    let titles: [String: String]

    func context() -> [String: Any] {
        let d = project.descriptor
        let caps = d["capabilities"]
        var context: [String: Any] = [
            "addon": [
                "key": d["key"]?.stringValue ?? "", "name": d["name"]?.stringValue ?? "",
                "description": d["description"]?.stringValue ?? "", "baseUrl": project.baseUrl,
                "vendor": d["vendor"].flatMap(TemplateValue.from) ?? [:],
            ] as [String: Any],
            "descriptor": "atlassian-connect.json",
        ]
        if let environment = project.pageSettings.environment { context["environment"] = environment }
        context["scopes"] = caps?["hipchatApiConsumer"]?["scopes"]?.arrayValue?.compactMap(\.stringValue) ?? []
        if let installable = caps?["installable"] {
            context["install"] =
                [
                    "global": installable["allowGlobal"]?.boolValue ?? true,
                    "room": installable["allowRoom"]?.boolValue ?? true,
                    "callbackUrl": installable["callbackUrl"]?.stringValue ?? "",
                ] as [String: Any]
        }
        let staticData = Dictionary(project.glances.map { ($0.key, $0.data) }, uniquingKeysWith: { a, _ in a })
        context["glances"] = list(caps?["glance"]) { g in
            var item = common(g)
            item["icon"] = href(g["icon"]?["url"]?.stringValue)
            item["target"] = target(g["target"])
            if let data = staticData[g["key"]?.stringValue ?? ""] {
                item["label"] = data["label"]?["value"]?.stringValue ?? ""
                if let lozenge = data["status"], lozenge["type"]?.stringValue == "lozenge" {
                    item["lozenge"] = [
                        "label": lozenge["value"]?["label"]?.stringValue ?? "",
                        "type": lozenge["value"]?["type"]?.stringValue ?? "default",
                    ]
                }
                item["data"] = href(g["queryUrl"]?.stringValue)
            }
            return item
        }
        context["sidebars"] = list(caps?["webPanel"]) { common($0) }
        context["dialogs"] = list(caps?["dialog"]) { dlg in
            var item = common(dlg)
            let options = dlg["options"]
            item["size"] =
                options?["size"]?.stringValue ?? options?["size"].map {
                    "\($0["width"]?.stringValue ?? "?") × \($0["height"]?.stringValue ?? "?")"
                } ?? "default"
            item["primary"] = TemplateValue.text(options?["primaryAction"]?["name"]) ?? ""
            return item
        }
        context["actions"] = list(caps?["action"]) { a in
            var item = common(a)
            item["location"] = a["location"]?.stringValue == "hipchat.input.action" ? "input" : "message"
            item["target"] = target(a["target"])
            return item
        }
        context["webhooks"] = list(caps?["webhook"]) { w in
            [
                "event": w["event"]?.stringValue ?? "", "pattern": w["pattern"]?.stringValue ?? "",
                "url": w["url"]?.stringValue ?? "",
                "name": w["name"]?.stringValue ?? "",
            ] as [String: Any]
        }
        context["externalPages"] = list(caps?["externalPage"]) { common($0) }
        if let configurable = caps?["configurable"] { context["configure"] = common(configurable) }
        context["pages"] = pageOutputs.keys.sorted().map { source -> [String: Any] in
            ["title": titles[source] ?? source, "href": pageOutputs[source]!, "source": source]
        }
        // Mustache cannot test a list for emptiness without iterating it: flags head each section.
        for name in ["glances", "sidebars", "dialogs", "actions", "webhooks", "externalPages", "pages", "scopes"] {
            let has = (context[name] as? [Any]).map { !$0.isEmpty } ?? false
            context["has" + name.prefix(1).uppercased() + name.dropFirst()] = has
        }
        return context
    }

    private func list(_ node: JSONNode?, _ transform: (JSONNode) -> [String: Any]) -> [[String: Any]] {
        node?.arrayValue?.map(transform) ?? []
    }

    private func common(_ module: JSONNode) -> [String: Any] {
        var item: [String: Any] = ["key": module["key"]?.stringValue ?? ""]
        item["name"] =
            TemplateValue.text(module["name"]) ?? TemplateValue.text(module["title"]) ?? module["key"]?.stringValue
            ?? ""
        if let url = module["url"]?.stringValue { item["href"] = href(url) }
        return item
    }

    private func target(_ node: JSONNode?) -> String {
        node?.stringValue ?? node?["key"]?.stringValue ?? ""
    }

    /// A URL under the base URL as a path inside the site, so the preview works from any host
    /// and from disk; other URLs as they are.
    private func href(_ url: String?) -> String {
        guard let url else { return "" }
        let prefix = project.baseUrl + "/"
        guard url.hasPrefix(prefix) else { return url }
        return String(url.dropFirst(prefix.count))
    }
}
