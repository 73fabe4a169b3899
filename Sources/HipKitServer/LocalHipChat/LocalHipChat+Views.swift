import Foundation
import HipChatConnect

extension LocalHipChat {
    /// Where a click, an action or `HipChat.dialog.open`/`sidebar.openView` leads: the target
    /// module, its URL with `{…}` placeholders filled and `signed_request` added, and what the
    /// room needs to show it (a dialog's options, the action's message for the view).
    ///
    /// `roomOrigin` is where the room page runs (it may be `localhost` where the server names
    /// itself `127.0.0.1`); it becomes the view's `xdm_e`, the origin `all.js` talks to.
    func open(
        target key: String, actionKey: String?, messageId: String?, urlTemplateValues: JSONNode?,
        options extraOptions: JSONNode?, roomOrigin: String? = nil
    ) async throws(Failure) -> JSONNode {
        guard let installed else { throw Failure("the add-on is not installed in this room") }
        guard let view = installed.addon.view(key) else {
            throw Failure("the add-on has no dialog, sidebar panel or external page '\(key)'", status: 404)
        }
        let message = messageId.flatMap { id in room.messages.first { $0.id == id } }
        var url = Self.fill(view.url, values: urlTemplateValues, message: message)
        var claims: JSONNode?
        let host =
            roomOrigin.flatMap { $0.hasPrefix("http://") || $0.hasPrefix("https://") ? Self.origin($0) : nil }
            ?? Self.origin(configuration.publicURL)
        if view.signed {
            let jwt = try await token()
            claims = HostTokenSigner.decodedClaims(jwt)
            url = Self.appending(["signed_request": jwt, "xdm_e": host], to: url)
        } else {
            url = Self.appending(["xdm_e": host], to: url)
        }
        var entry = HostEventLog.Entry(
            direction: .view, method: "GET", url: HostEventLog.loggableURL(url), claims: claims,
            note: "\(view.kind.rawValue) \(view.key)" + (actionKey.map { " from action \($0)" } ?? ""))
        // The browser loads the view in a frame, whose answer no page can read; so the view is
        // asked for its headers here too, and the log shows its status and time: a view answering
        // 401 is seen at once.
        if let address = URL(string: url), address.scheme == "http" || address.scheme == "https" {
            var probe = OutgoingRequest(url: address)
            probe.httpMethod = "HEAD"
            let start = ContinuousClock.now
            entry.status = try? await http.send(probe).status
            entry.milliseconds = Self.milliseconds(since: start)
            if entry.status == nil { entry.note = (entry.note ?? "") + "; no answer" }
        }
        log.record(entry)
        var options = view.options.dictionaryValue ?? [:]
        for (name, value) in extraOptions?.dictionaryValue ?? [:] { options[name] = value }
        var answer: [String: JSONNode] = [
            "kind": .string(view.kind.rawValue), "key": .string(view.key), "name": .string(view.name),
            "url": .string(url), "options": .object(options),
        ]
        if let actionKey { answer["actionKey"] = .string(actionKey) }
        if let message { answer["message"] = message.json }
        return .object(answer)
    }

    /// `{message.body}`, `{message.sender.name}`, `{message.metadata.a.b}`… and the keys of
    /// `urlTemplateValues`, URL-encoded. Placeholders with no value are left empty.
    static func fill(_ template: String, values: JSONNode?, message: RoomMessage?) -> String {
        guard template.contains("{") else { return template }
        var result = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            result += rest[..<open]
            let name = String(rest[rest.index(after: open)..<close])
            var value: JSONNode? = values?[name]
            if value == nil, name.hasPrefix("message."), let message {
                var node: JSONNode? = message.json
                for part in name.dropFirst("message.".count).split(separator: ".") { node = node?[String(part)] }
                value = node
            }
            let text = value?.templateText ?? ""
            result += text.addingPercentEncoding(withAllowedCharacters: .urlQueryValueAllowed) ?? ""
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }

    static func appending(_ parameters: KeyValuePairs<String, String>, to url: String) -> String {
        var out = url
        for (name, value) in parameters {
            let fragment = out.firstIndex(of: "#").map { String(out[$0...]) } ?? ""
            if !fragment.isEmpty { out = String(out.dropLast(fragment.count)) }
            out +=
                (out.contains("?") ? "&" : "?") + name + "="
                + (value.addingPercentEncoding(withAllowedCharacters: .urlQueryValueAllowed) ?? "")
            out += fragment
        }
        return out
    }

    static func origin(_ url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host
        else { return url }
        return "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "")
    }
}

extension CharacterSet {
    /// What may stand unescaped in a query value.
    static let urlQueryValueAllowed: CharacterSet = {
        var set = CharacterSet.alphanumerics.intersection(
            CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        set.insert(charactersIn: "-._~")
        return set
    }()
}
