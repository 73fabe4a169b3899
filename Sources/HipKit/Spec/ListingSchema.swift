import HipChatConnect

/// The vocabulary of `addon.yaml`'s `listing:` section, and Marketplace's limits for it.
///
/// Limits come from Atlassian's listing guidelines; where the guidelines were unsure (sizes of
/// highlight images, whether a banner is required) hipkit takes the stricter reading and says so
/// in the diagnostic's hint.
enum ListingSchema {
    static let nameMax = 60
    static let keyMax = 64
    static let taglineMax = 130
    static let summaryMax = 250
    static let highlightCount = 3
    static let highlightTitleMax = 50
    static let highlightSummaryMax = 220
    static let captionMax = 220

    static let logoSize = (width: 144, height: 144)
    static let bannerSize = (width: 1120, height: 548)
    static let screenshotSize = (width: 1840, height: 900)
    static let cropSize = (width: 580, height: 330)
    /// Marketplace also took screenshots at half size.
    static let smallScreenshotSize = (width: 920, height: 450)

    static let paymentModels = ["free", "atlassian", "vendor"]
    /// `rejected` is Marketplace's verdict, not something a vendor sets.
    static let statuses = ["private", "public", "submitted"]
    static let hostings = ["cloud", "server", "dataCenter"]
    /// Words Atlassian's naming rules forbid in an app name.
    static let bannedNameWords = ["atlassian", "plugin", "beta", "add-on", "addon", "app"]
    /// An app name must not start with one of these ("Jira X" is refused, "X for Jira" is fine).
    static let productNames = [
        "jira", "confluence", "bitbucket", "bamboo", "hipchat", "stride", "trello", "statuspage",
        "opsgenie", "fisheye", "crucible", "crowd", "sourcetree", "clover", "compass", "loom",
    ]

    static let highlight = SpecObject(
        name: "highlight",
        fields: [
            SpecField(
                "title", .string, to: ["version.json", "_embedded.highlights[].title"],
                "The highlight's title, at most 50 characters."),
            SpecField(
                "summary", .string, to: ["version.json", "_embedded.highlights[].body"],
                "What it shows, at most 220 characters."),
            SpecField("screenshot", .image, to: ["images/highlight-N-1840x900"], "A 1840×900 screenshot."),
            SpecField(
                "crop", .image, to: ["images/highlight-N-580x330"],
                "Its 580×330 crop; made from the screenshot when left out."),
            SpecField(
                "caption", .string, to: ["version.json", "_embedded.highlights[].explanation"],
                "A caption, at most 220 characters."),
        ])

    static let screenshot = SpecObject(
        name: "screenshot",
        fields: [
            SpecField("image", .image, to: ["images/screenshot-N-WxH"], "A 1840×900 (or 920×450) screenshot."),
            SpecField(
                "caption", .string, to: ["version.json", "_embedded.screenshots[].caption"],
                "A caption, at most 220 characters."),
        ])

    static let links = SpecObject(
        name: "listing links",
        fields: [
            SpecField(
                "support", .url, to: ["listing.json", "vendorLinks.supportTicketSystem"],
                "Where customers ask for help (https)."),
            SpecField(
                "issueTracker", .url, to: ["listing.json", "vendorLinks.issueTracker"],
                "The public issue tracker (https)."),
            SpecField(
                "documentation", .url, to: ["version.json", "vendorLinks.documentation"], "The documentation (https)."),
            SpecField("privacy", .url, to: ["listing.json", "vendorLinks.privacy"], "The privacy policy (https)."),
            SpecField(
                "eula", .url, to: ["version.json", "vendorLinks.eula"], "The end-user licence agreement (https)."),
        ])

    static let release = SpecObject(
        name: "release",
        fields: [
            SpecField("version", .string, to: ["version.json", "name"], "The version's name, such as 1.0.0."),
            SpecField("date", .string, to: ["version.json", "release.date"], "The release date, YYYY-MM-DD."),
            SpecField("summary", .string, to: ["version.json", "text.releaseSummary"], "One line on what changed."),
            SpecField("notes", .string, to: ["version.json", "text.releaseNotes"], "Release notes in Markdown."),
            SpecField(
                "beta", .boolean, to: ["version.json", "release.beta"],
                "Whether this is a beta release (default false)."),
            SpecField(
                "supported", .boolean, to: ["version.json", "release.supported"],
                "Whether the vendor supports this version (default true)."),
        ])

    static let listing = SpecObject(
        name: "listing",
        fields: [
            SpecField(
                "tagline", .string, to: ["listing.json", "tagLine"],
                "One phrase on what the add-on is for, at most 130 characters."),
            SpecField(
                "summary", .string, to: ["listing.json", "summary"], "Shown in search results, at most 250 characters."),
            SpecField(
                "details", .page, to: ["version.json", "text.moreDetails"],
                "The long description, a Markdown file of the project."),
            SpecField("logo", .image, to: ["images/logo-144x144"], "The logo, 144×144, PNG or JPEG."),
            SpecField("banner", .image, to: ["images/banner-1120x548"], "The banner, 1120×548, PNG or JPEG."),
            SpecField(
                "highlights", .list(highlight), to: ["version.json", "_embedded.highlights"],
                "Exactly three highlights."),
            SpecField(
                "screenshots", .list(screenshot), to: ["version.json", "_embedded.screenshots"],
                "Further screenshots with captions."),
            SpecField(
                "categories", .strings, to: ["listing.json", "_embedded.categories"], "Marketplace categories, by name."
            ),
            SpecField(
                "links", .object(links), to: ["listing.json", "vendorLinks"],
                "Support, issue tracker, documentation, privacy policy and EULA."),
            SpecField(
                "payment", .string, to: ["version.json", "paymentModel"],
                "free, atlassian (paid via Atlassian) or vendor (paid via the vendor)."),
            SpecField("status", .string, to: ["listing.json", "status"], "private (default), public or submitted."),
            SpecField(
                "storesPersonalData", .boolean, to: ["listing.json", "storesPersonalData"],
                "Whether the add-on stores personal data."),
            SpecField(
                "compatibility", .strings, to: ["version.json", "compatibilities"],
                "Where it runs: cloud, server, dataCenter (at least one)."),
            SpecField(
                "youtube", .string, to: ["version.json", "youtubeId"], "A YouTube video id for the listing's hero."),
            SpecField("release", .object(release), to: ["version.json"], "The version: its name, date and notes."),
        ])

    static let all = [listing, highlight, screenshot, links, release]
}
