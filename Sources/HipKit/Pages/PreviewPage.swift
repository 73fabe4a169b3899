import HipChatConnect

/// The values of the preview of the whole add-on for a person: its modules, each linking to its
/// page, and its glances with their data.
struct PreviewPage {
    let project: AddonProject
    let pageOutputs: [String: String]
    let titles: [String: String]
    /// Where this preview is written in the site (``SitePath/preview``, or `index.html`): its
    /// links are relative to it, so the preview works under any base URL and from disk.
    var path = SitePath.preview
    /// Whether the context gives `pages`, each page's title, link and source as values: a
    /// project's own preview may walk them, hipkit's uses `pageList`.
    var givesPages = true

    func context() -> [String: Any] {
        let d = project.descriptor
        var context: [String: Any] = [
            "addon": [
                "key": d.key ?? "", "name": d.name ?? "", "description": d.description ?? "",
                "baseUrl": project.baseUrl,
                "vendor": d.vendor.flatMap { TemplateValue.from($0.json) } ?? [:],
            ] as [String: Any],
            "descriptor": SitePath.relative(from: path, to: ConnectDescriptor.fileName),
        ]
        if let environment = project.pageSettings.environment { context["environment"] = environment }
        context["scopes"] = d.consumer?.scopes.map(\.value) ?? []
        if let installable = d.installable {
            context["install"] =
                [
                    "global": installable.allowGlobal, "room": installable.allowRoom,
                    "callbackUrl": installable.callbackUrl?.value ?? "",
                ] as [String: Any]
        }
        let staticData = Dictionary(project.glances.map { ($0.key, $0.data) }, uniquingKeysWith: { a, _ in a })
        context["glances"] = d.glances.map { glance -> [String: Any] in
            var item = common(glance, name: glance.name)
            item["icon"] = href(glance.icon?.url?.value)
            item["target"] = glance.target?.key.value ?? ""
            if let data = staticData[glance.key ?? ""] {
                item["label"] = data["label"]?["value"]?.stringValue ?? ""
                if let lozenge = data["status"], lozenge["type"]?.stringValue == "lozenge" {
                    item["lozenge"] = [
                        "label": lozenge["value"]?["label"]?.stringValue ?? "",
                        "type": lozenge["value"]?["type"]?.stringValue ?? "default",
                    ]
                }
                item["data"] = href(glance.queryUrl?.value)
            }
            return item
        }
        context["sidebars"] = d.webPanels.map { common($0, name: $0.name, url: $0.url) }
        context["dialogs"] = d.dialogs.map { dialog -> [String: Any] in
            var item = common(dialog, name: dialog.title, url: dialog.url)
            switch dialog.size {
            case .named(let name)?: item["size"] = name
            case .custom(let width, let height)?: item["size"] = "\(width ?? "?") × \(height ?? "?")"
            case nil: item["size"] = "default"
            }
            item["primary"] = dialog.primaryActionName?.value ?? ""
            return item
        }
        context["actions"] = d.actions.map { action -> [String: Any] in
            var item = common(action, name: action.name)
            item["location"] = (action.location ?? .message).shortName
            item["target"] = action.target?.key.value ?? ""
            return item
        }
        context["webhooks"] = d.webhooks.map { webhook -> [String: Any] in
            [
                "event": webhook.event?.value ?? "", "pattern": webhook.pattern ?? "", "url": webhook.url?.value ?? "",
                "name": webhook.name ?? "",
            ]
        }
        context["externalPages"] = d.externalPages.map { common($0, name: $0.name, url: $0.url) }
        if let configurable = d.configurable {
            context["configure"] = common(configurable, name: nil, url: configurable.url)
        }
        let pages = pageOutputs.keys.sorted().map { source in
            (
                title: titles[source] ?? source,
                // Encoded as links in pages are: `a#b.html` is a page's name, not `a` and a fragment.
                href: LinkResolver.encoded(SitePath.relative(from: path, to: pageOutputs[source]!)), source: source
            )
        }
        context["pages"] =
            givesPages
            ? pages.map { page -> [String: Any] in
                [
                    "title": TemplateText(page.title), "href": TemplateText(page.href),
                    "source": TemplateText(page.source),
                ]
            } : []
        context["hasPages"] = !pages.isEmpty
        // The built-in preview's list of every page, made here: through a Mustache section it was
        // three lookups an entry, 64 M instructions for 1,000 pages. `pages` stays for a
        // project's own preview.
        var list = ""
        for page in pages {
            list += "<li><a href=\"" + HTMLText.escape(page.href) + "\">" + HTMLText.escape(page.title)
            list += "</a> <span class=\"meta\">" + HTMLText.escape(page.source) + "</span></li>"
        }
        context["pageList"] = TemplateText(list)
        // Mustache cannot test a list for emptiness without iterating it: flags head each section.
        for name in ["glances", "sidebars", "dialogs", "actions", "webhooks", "externalPages", "scopes"] {
            let has = (context[name] as? [Any]).map { !$0.isEmpty } ?? false
            context["has" + name.prefix(1).uppercased() + name.dropFirst()] = has
        }
        return context
    }

    /// A module's key, name (its key when it has none) and link.
    private func common(_ module: any ConnectModule, name: LocalizedText?, url: Located<String>? = nil) -> [String: Any]
    {
        var item: [String: Any] = ["key": module.key ?? ""]
        item["name"] = name?.value ?? module.key ?? ""
        if let url { item["href"] = href(url.value) }
        return item
    }

    /// A URL under the base URL as a path relative to the preview, so the preview works from any
    /// host and from disk; other URLs as they are.
    private func href(_ url: String?) -> String {
        guard let url else { return "" }
        let prefix = project.baseUrl + "/"
        guard url.hasPrefix(prefix) else { return url }
        return SitePath.relative(from: path, to: String(url.dropFirst(prefix.count)))
    }

    /// `html` with a `<base href="folder">` first in its `<head>`, so that the document, written
    /// one folder up from where it was rendered, resolves its relative links as it did there.
    /// Nil when there is no `<head>` tag to put it in, or the document has a `<base>` already.
    static func rebased(_ html: String, onto folder: Substring) -> String? {
        let bytes = Array(html.utf8)
        guard let head = Self.firstTag("head", in: bytes), Self.firstTag("base", in: bytes) == nil,
            let end = bytes[head...].firstIndex(of: UInt8(ascii: ">"))
        else { return nil }
        return String(decoding: bytes[...end], as: UTF8.self) + "<base href=\"\(folder)\">"
            + String(decoding: bytes[(end + 1)...], as: UTF8.self)
    }

    /// Where the first `<name>` or `<name …>` tag starts in `bytes`, in any letter case.
    private static func firstTag(_ name: String, in bytes: [UInt8]) -> Int? {
        let name = Array(name.utf8)
        var i = bytes.startIndex
        while let open = bytes[i...].firstIndex(of: UInt8(ascii: "<")) {
            let after = open + 1 + name.count
            guard after < bytes.count else { return nil }
            if zip(name, bytes[(open + 1)...]).allSatisfy({ $0 == $1 | 0x20 }),
                [UInt8(ascii: ">"), UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r")]
                    .contains(bytes[after])
            {
                return open
            }
            i = open + 1
        }
        return nil
    }
}
