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
    /// The descriptor's URL-typed values the spec wrote relative to the base URL, for the build's
    /// check that each one is answered (a URL written in full is the user's own pointer).
    public var descriptorURLs: [DescriptorURL] = []
}

extension AddonProject {
    /// Whether this build is one Marketplace can take: its base URL is https.
    ///
    /// Marketplace fetches a version's descriptor over https only, so a build for a local or
    /// plain-http base URL (`hipkit build --env dev`, `hipkit dev`) cannot be listed; building
    /// the listing's bundle for it, and warning that its artifact is not https, would only be
    /// noise. The listing is still read and checked in every build.
    public var isMarketplaceBuild: Bool {
        URLComponents(string: baseUrl)?.scheme?.lowercased() == "https"
    }

    /// One line saying why the Marketplace bundle is not in this build, when the project has a
    /// listing and ``isMarketplaceBuild`` is false.
    public var listingLeftOut: String? {
        guard listing != nil, !isMarketplaceBuild else { return nil }
        return "the Marketplace bundle (marketplace/, marketplace.zip) is left out: the base URL \(baseUrl) "
            + "is not https, and Marketplace takes only https descriptors"
    }
}
