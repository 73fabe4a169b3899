import Foundation
import HipChatConnect

/// `_hipkit/runtime.json`: what `hipkit serve` needs beyond the descriptor — static glance data,
/// webhooks' canned replies and the configuration settings. It sits in the built site so the
/// runtime reads one folder; the runtime never serves `_hipkit/` itself.
public enum RuntimeManifest {
    public static let path = "_hipkit/runtime.json"
    /// Where the runtime answers the configuration page's settings requests.
    public static let settingsPath = "/_hipkit/settings"
    public static let version = 1

    public static func make(_ project: AddonProject) -> JSONNode {
        var manifest = JSONNode.object([
            JSONMember("version", JSONNode(.integer(version))),
            JSONMember("key", .string(project.descriptor["key"]?.stringValue ?? "")),
        ])
        if !project.glances.isEmpty {
            manifest["glances"] = .array(
                project.glances.map { glance in
                    .object([
                        JSONMember("key", .string(glance.key)), JSONMember("path", .string(glance.urlPath)),
                        JSONMember("data", glance.data.withoutLocations),
                    ])
                })
        }
        if !project.webhooks.isEmpty {
            manifest["webhooks"] = .array(
                project.webhooks.map { webhook in
                    var node = JSONNode.object()
                    if let key = webhook.key { node["key"] = .string(key) }
                    node["path"] = .string(webhook.path)
                    node["event"] = .string(webhook.event)
                    if let pattern = webhook.pattern { node["pattern"] = .string(pattern) }
                    node["authentication"] = .string(webhook.authentication)
                    if let reply = webhook.reply { node["reply"] = reply.withoutLocations }
                    return node
                })
        }
        if let settings = project.settings {
            let perRoom =
                project.descriptor["capabilities"]?["configurable"]?["allowAccessToRoomAdmins"]?.boolValue ?? false
            manifest["settings"] = .object([
                JSONMember("path", .string(settingsPath)),
                JSONMember("fields", .array(settings)),
                JSONMember("perRoom", .bool(perRoom)),
            ])
        }
        return manifest
    }
}
