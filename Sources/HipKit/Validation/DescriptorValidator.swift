import HipChatConnect

/// A URL-typed value of a descriptor: the URL, what it is in words ("glance 'queue' queryUrl"),
/// and where it was written.
public struct DescriptorURL: Sendable, Hashable {
    public var url: String
    public var what: String
    public var location: SourceLocation?
}

/// Checks a capabilities descriptor against every rule of HipChat's descriptor schema, and the
/// rules the schema cannot express: unique module keys, targets that exist, patterns that
/// compile, conditions each module allows, fully expanded HTTPS URLs.
public struct DescriptorValidator: Sendable {
    /// Where the descriptor came from, which decides what its URLs may hold.
    public enum Origin: Sendable {
        /// A hand-written descriptor file, in which `{{localBaseUrl}}` and `${host}` stand for
        /// the base URL, and a lone webhook object is tolerated as real add-ons used it.
        case descriptorFile
        /// A descriptor `hipkit build` made from `addon.yaml`: every URL must be final.
        case built
    }

    public var origin: Origin

    public init(origin: Origin) {
        self.origin = origin
    }

    public func validate(_ descriptor: JSONNode) -> [Diagnostic] {
        check(descriptor).diagnostics
    }

    /// ``validate(_:)``, and every URL-typed value of the descriptor, which the build then
    /// checks something answers.
    public func check(_ descriptor: JSONNode) -> (diagnostics: [Diagnostic], urls: [DescriptorURL]) {
        var diagnostics: [Diagnostic] = []
        var descriptor = descriptor
        guard descriptor.isObject else {
            return (
                [
                    .error(
                        .wrongType, "a descriptor must be a JSON object, not \(descriptor.kindDescription)",
                        at: descriptor.location)
                ], []
            )
        }
        let capabilitiesName = DescriptorField.capabilities.rawValue
        let webhookName = ModuleKind.webhook.rawValue
        if var capabilities = descriptor[capabilitiesName], let webhook = capabilities[webhookName], webhook.isObject {
            diagnostics.append(
                .warning(
                    .webhookNotList, "'capabilities.webhook' is a single object; HipChat's schema wants a list",
                    at: webhook.location, hint: "wrap it in [ ]; hipkit reads it as a list of one"))
            capabilities[webhookName] = .array([webhook], at: webhook.location)
            descriptor[capabilitiesName] = capabilities
        }

        var shapes = ShapeChecker(urlRule: URLRule(acceptsBasePlaceholders: origin == .descriptorFile))
        shapes.jsonHints = origin == .descriptorFile
        shapes.checkObject(descriptor, DescriptorShape.descriptor, subject: "the descriptor", field: "")
        diagnostics += shapes.diagnostics
        diagnostics += checkAddonKey(descriptor)
        if let capabilities = descriptor[capabilitiesName], capabilities.isObject {
            let model = ConnectDescriptor(descriptor)
            diagnostics += checkModules(model)
            diagnostics += checkInstallable(model)
            diagnostics += checkScopes(model)
        }
        return (diagnostics, shapes.urls)
    }

    private func checkAddonKey(_ descriptor: JSONNode) -> [Diagnostic] {
        guard let node = descriptor["key"], let key = node.stringValue, !key.isEmpty else { return [] }
        if let template = URLRule.unexpandedTemplate(in: key) {
            return [
                .error(
                    .unexpandedPlaceholder,
                    "the add-on key '\(key)' still holds the template placeholder '\(template)'",
                    at: node.location, hint: "HipChat identifies the add-on by this exact text; write the real key")
            ]
        }
        if key.unicodeScalars.contains(where: { !ShapeChecker.isKeyCharacter($0) }) {
            return [
                .warning(
                    .invalidKey, "the add-on key '\(key)' has characters other than letters, digits, '_', '-' and '.'",
                    at: node.location,
                    hint: "Marketplace keys are usually reverse-domain names such as com.example.addon")
            ]
        }
        return []
    }

    private func checkModules(_ model: ConnectDescriptor) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        /// The views a target may name, by key: their kinds and where each key is written.
        var targets: [String: [(kind: ModuleKind, location: SourceLocation?)]] = [:]
        let viewKinds: [ModuleKind] = [.dialog, .webPanel, .externalPage]
        for (kind, modules) in model.keyedModules {
            var seen: [String: SourceLocation?] = [:]
            for module in modules {
                guard let key = module.key else { continue }
                let location = module.json["key"]?.location
                if let first = seen[key] {
                    diagnostics.append(
                        .error(
                            .duplicateModuleKey,
                            "two \(kind.rawValue) modules share the key '\(key)'\(first.map { " (the first is at line \($0.line))" } ?? "")",
                            at: location, hint: "keys must be unique within each module type; rename one"))
                } else {
                    seen[key] = location
                }
                if viewKinds.contains(kind) { targets[key, default: []].append((kind, location)) }
            }
        }
        for (key, found) in targets {
            // Two modules of one kind sharing a key are an error of their own (above).
            var kinds: [(kind: ModuleKind, location: SourceLocation?)] = []
            for entry in found where !kinds.contains(where: { $0.kind == entry.kind }) { kinds.append(entry) }
            guard kinds.count > 1 else { continue }
            diagnostics.append(
                .warning(
                    .ambiguousTarget,
                    "'\(key)' is the key of both a \(kinds[0].kind.rawValue) and a \(kinds[1].kind.rawValue); a target naming it is ambiguous",
                    at: kinds[1].location, hint: "give each view its own key"))
        }
        // HipChat's schema lets an action open a glance too ("the key of a dialog, glance or web
        // panel"): the glance then opens its own target. Shipped add-ons used that with a glance
        // that shows nothing itself.
        let glanceKeys = Set(model.glances.compactMap(\.key))
        let targeting: [(ModuleKind, [(key: String?, target: Target?)], takesGlances: Bool)] = [
            (.glance, model.glances.map { ($0.key, $0.target) }, false),
            (.action, model.actions.map { ($0.key, $0.target) }, true),
        ]
        for (kind, modules, takesGlances) in targeting {
            let known = (Array(targets.keys) + (takesGlances ? Array(glanceKeys) : [])).sorted()
            let suggestions = Suggestion.Candidates(known)
            let what =
                takesGlances
                ? "dialog, sidebar (webPanel), glance or external page" : "dialog, sidebar (webPanel) or external page"
            for (moduleKey, target) in modules {
                guard let target, targets[target.key.value] == nil else { continue }
                let key = target.key.value
                if takesGlances && glanceKeys.contains(key) { continue }
                let owner = moduleKey.map { "\(kind.rawValue) '\($0)'" } ?? kind.rawValue
                let hint =
                    suggestions.hint(for: key)
                    ?? (known.isEmpty
                        ? "declare a \(what.replacingOccurrences(of: " (webPanel)", with: "")) with this key"
                        : "known targets: \(known.prefix(20).joined(separator: ", "))\(known.count > 20 ? ", …" : "")")
                diagnostics.append(
                    .error(
                        .unknownTarget, "the target '\(key)' of \(owner) names no \(what)", at: target.key.location,
                        hint: hint))
            }
        }
        let matchedEvents = [WebhookEvent.roomMessage, .roomNotification].map(\.rawValue)
        for webhook in model.webhooks {
            guard let pattern = webhook.json["pattern"], let event = webhook.event?.value,
                !matchedEvents.contains(event)
            else { continue }
            diagnostics.append(
                .warning(
                    .patternIgnored,
                    "a webhook for '\(event)' has a pattern, but HipChat matches patterns only against messages",
                    at: pattern.location, hint: "remove the pattern, or use the room_message event"))
        }
        return diagnostics
    }

    private func checkInstallable(_ model: ConnectDescriptor) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        let installable = model.installable?.json
        let global = model.installable?.allowGlobal ?? true
        let room = model.installable?.allowRoom ?? true
        if let installable, !global, !room {
            diagnostics.append(
                .error(
                    .notInstallable,
                    "installable forbids both global and room installs, so the add-on cannot be installed anywhere",
                    at: installable.location, hint: "allow at least one of allowGlobal and allowRoom"))
        }
        if let installable, installable["updateCallbackUrl"] != nil, installable["callbackUrl"] == nil {
            diagnostics.append(
                .warning(
                    .updateWithoutInstall,
                    "installable has an updateCallbackUrl but no callbackUrl, so HipChat never sends the first install",
                    at: installable.location(ofMember: "updateCallbackUrl"), hint: "add a callbackUrl"))
        }
        if let configurable = model.configurable?.json, model.configurable?.allowAccessToRoomAdmins == true, !global {
            diagnostics.append(
                .warning(
                    .roomAdminsWithoutGlobal,
                    "allowAccessToRoomAdmins has effect only for global installs, and this add-on allows none",
                    at: configurable.location(ofMember: "allowAccessToRoomAdmins"),
                    hint: "allow global installs, or remove allowAccessToRoomAdmins"))
        }
        return diagnostics
    }

    private func checkScopes(_ model: ConnectDescriptor) -> [Diagnostic] {
        var seen = Set<String>()
        var diagnostics: [Diagnostic] = []
        for scope in model.consumer?.scopes ?? [] {
            let s = scope.value
            if !seen.insert(s).inserted {
                diagnostics.append(.warning(.duplicateScope, "the scope '\(s)' is listed twice", at: scope.location))
            }
        }
        return diagnostics
    }
}
