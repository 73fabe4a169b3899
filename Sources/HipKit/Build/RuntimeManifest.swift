import Foundation
import HipChatConnect

extension RuntimeManifest {
    /// The manifest for a loaded project: its static glance data, webhooks with their replies,
    /// the configuration page's settings, and whether views may send notifications.
    public init(project: AddonProject) {
        self.init(
            key: project.descriptor.key ?? "",
            glances: project.glances.map { Glance(key: $0.key, path: $0.urlPath, data: $0.data.withoutLocations) },
            webhooks: project.webhooks,
            settings: project.settings.map {
                Settings(fields: $0, perRoom: project.descriptor.configurable?.allowAccessToRoomAdmins ?? false)
            },
            viewNotifications: project.pageSettings.viewNotifications ? ViewNotifications() : nil)
    }
}
