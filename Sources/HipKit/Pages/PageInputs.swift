import Foundation
import HipChatConnect

/// Everything of the project that rendering one page reads, besides the page's own file, the
/// files its links reach and the layouts.
///
/// The renderer reads these values and nothing else of the project, and the page cache's key is
/// their encoding: what a page consumes and what decides whether its cached copy still holds
/// are one list, so they cannot drift apart.
struct PageInputs: Encodable, Sendable {
    struct Addon: Encodable, Sendable {
        var key: String?
        var name: String?
        var description: String?
        var vendor: JSONNode?
        var descriptorUrl: String?
        var baseUrl: String
    }

    var addon: Addon
    var environment: String?
    var hipchatJs: String
    var hipchatCss: String
    /// Raw HTML kept, unless the page's front matter says otherwise.
    var unsafe: Bool
    var displayDirectory: String
    /// The module showing the page (the first that names it), as the descriptor has it.
    var moduleKind: ModuleKind?
    var moduleKey: String?
    var module: JSONNode?
    /// The settings form, for a configuration page.
    var settings: [RuntimeManifest.SettingField]?

    init(project: AddonProject, references: [PageReference], displayDirectory: String) {
        let descriptor = project.descriptor
        addon = Addon(
            key: descriptor.key, name: descriptor.name, description: descriptor.description,
            vendor: descriptor.vendor?.json.withoutLocations, descriptorUrl: descriptor.selfURL?.value,
            baseUrl: project.baseUrl)
        environment = project.pageSettings.environment
        hipchatJs = project.pageSettings.hipchatJs
        hipchatCss = project.pageSettings.hipchatCss
        unsafe = project.pageSettings.unsafe
        self.displayDirectory = displayDirectory
        if let reference = references.first {
            moduleKind = reference.moduleKind
            moduleKey = reference.moduleKey
            module = descriptor.view(reference.moduleKind, key: reference.moduleKey)?.json.withoutLocations
            if reference.moduleKind == .configurable { settings = project.settings }
        }
    }
}
