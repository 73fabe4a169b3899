import HipChatConnect

/// The settings in force for an installation and room: the manifest's defaults, overridden by
/// what was stored for the installation, overridden by what was stored for the room.
struct EffectiveSettings: Sendable {
    let store: any InstallationStore

    func values(fields: [RuntimeManifest.SettingField], oauthId: String, room: Int?) async throws(APIError) -> [String:
        JSONNode]
    {
        var values = Self.defaults(fields)
        do {
            if let stored = try await store.settings(oauthId: oauthId, room: nil) {
                values.merge(stored) { _, new in new }
            }
            if let room, let stored = try await store.settings(oauthId: oauthId, room: room) {
                values.merge(stored) { _, new in new }
            }
        } catch {
            throw APIError(.internalServerError, "settings cannot be read")
        }
        // Only fields of the current build: a setting removed from addon.yaml stops showing.
        return values.filter { name, _ in fields.contains { $0.name == name } }
    }

    /// The spec's defaults alone, for a request that proves no installation.
    static func defaults(_ fields: [RuntimeManifest.SettingField]) -> [String: JSONNode] {
        var values: [String: JSONNode] = [:]
        for field in fields {
            if let value = field.defaultValue { values[field.name] = value }
        }
        return values
    }
}
