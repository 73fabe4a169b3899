import Foundation
import HipChatConnect

/// Checks a ``RuntimeManifest`` with the rules `hipkit build` applied to the spec it came from:
/// glance data in HipChat's shape, replies HipChat's notification API takes, patterns that
/// compile, select settings with options.
///
/// `hipkit build` runs it on the manifest it is about to write and `hipkit serve` on the one it
/// reads, so a `dist/` edited by hand, or written by another hipkit, meets the same rules.
public struct RuntimeManifestValidator: Sendable {
    /// Where the manifest's problems are reported (it has no lines of its own worth quoting).
    public var file: String

    public init(file: String = RuntimeManifest.path) {
        self.file = file
    }

    public func validate(_ manifest: RuntimeManifest) -> [Diagnostic] {
        let at = SourceLocation(file: file, line: 1, column: 1)
        var out: [Diagnostic] = []
        func located(_ problems: [Diagnostic], field prefix: String) -> [Diagnostic] {
            problems.map { problem in
                var problem = problem
                problem.location = problem.location ?? at
                problem.field = [prefix, problem.field].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ".")
                return problem
            }
        }
        if manifest.version != RuntimeManifest.currentVersion {
            out.append(
                .error(
                    .unsupportedVersion,
                    "runtime manifest version \(manifest.version) is not the one this hipkit understands "
                        + "(\(RuntimeManifest.currentVersion))", at: at, hint: "serve with the hipkit that built dist/",
                    field: "version"))
        }
        for (i, glance) in manifest.glances.enumerated() {
            let problems = GlanceDataValidator().validate(glance.data, subject: "the data of glance '\(glance.key)'")
            out += located(problems, field: "glances[\(i)].data")
        }
        for (i, webhook) in manifest.webhooks.enumerated() {
            let field = "webhooks[\(i)]"
            if WebhookEvent(rawValue: webhook.event) == nil {
                out.append(
                    .error(
                        .invalidValue, "webhook event '\(webhook.event)' is not one of \(WebhookEvent.list)", at: at,
                        field: field + ".event"))
            }
            if let pattern = webhook.pattern, let problem = ShapeChecker.regexProblem(pattern) {
                out.append(
                    .error(
                        .invalidPattern,
                        "the pattern of webhook '\(webhook.key ?? webhook.path)' cannot be used: \(problem)",
                        at: at, field: field + ".pattern"))
            }
            if let reply = webhook.reply {
                let problems = CardValidator().validate(
                    reply.json, subject: "the reply of webhook '\(webhook.key ?? webhook.path)'")
                out += located(problems, field: field + ".reply")
            }
        }
        for (i, setting) in (manifest.settings?.fields ?? []).enumerated() {
            let field = "settings.fields[\(i)]"
            if setting.type == .select && setting.options.isEmpty {
                out.append(
                    .error(
                        .missingField, "the select setting '\(setting.name)' needs options", at: at,
                        field: field + ".options"))
            }
            if let pattern = setting.pattern, let problem = ShapeChecker.regexProblem(pattern) {
                out.append(
                    .error(
                        .invalidRegex,
                        "the pattern of setting '\(setting.name)' is not a valid regular expression: \(problem)",
                        at: at, field: field + ".pattern"))
            }
        }
        return out
    }
}

extension RuntimeManifest.Reply {
    /// The reply in HipChat's notification shape, for the checks that read JSON.
    public var json: JSONNode {
        var members = [
            JSONMember("message", .string(message)), JSONMember("message_format", .string(messageFormat.rawValue)),
        ]
        if let color { members.append(JSONMember("color", .string(color.rawValue))) }
        if let notify { members.append(JSONMember("notify", .bool(notify))) }
        if let card { members.append(JSONMember("card", card)) }
        return .object(members)
    }
}
