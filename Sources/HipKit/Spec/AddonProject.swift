import Foundation
import HipChatConnect

/// An `addon.yaml` project read and translated: the descriptor and everything it refers to.
public struct AddonProject: Sendable {
    /// The project folder, absolute.
    public var directory: URL
    /// The spec file as shown in diagnostics.
    public var specFile: String
    /// The base URL in force, without a trailing slash.
    public var baseUrl: String
    /// The capabilities descriptor, read into its modules, each value located in the spec.
    public var descriptor: ConnectDescriptor
    /// Markdown pages the descriptor's modules show.
    public var pages: [PageReference]
    /// Project files the descriptor refers to (icons, avatar), relative to the project.
    public var assets: [String]
    /// Static glance data, one document per glance that has `data:`.
    public var glances: [GlanceDocument]
    /// How pages are rendered.
    public var pageSettings = PageSettings()
    /// The Marketplace listing, read and checked with the spec; nil when the spec has none or
    /// it has errors.
    public var listing: MarketplaceListing?
    /// Where the spec's `listing:` is, for problems making its bundle.
    public var listingLocation: SourceLocation?
    /// Webhooks `hipkit serve` answers, with their canned replies.
    public var webhooks: [RuntimeManifest.Webhook] = []
    /// Settings the configuration page edits, when the spec declares some.
    public var settings: [RuntimeManifest.SettingField]?
}
