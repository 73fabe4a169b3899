import Foundation
import HipChatConnect

/// A Marketplace listing as `addon.yaml` describes it, checked, with its images read.
public struct MarketplaceListing: Sendable {
    /// An image file of the project, with what its header says it is.
    public struct Image: Sendable {
        public var source: String
        public var info: ImageInfo
        public var data: Data
        /// Where addon.yaml names it.
        public var location: SourceLocation
    }

    public struct Highlight: Sendable {
        public var title: String
        public var summary: String
        public var caption: String?
        public var screenshot: Image?
        /// The crop given in the spec; nil when hipkit makes it from the screenshot.
        public var crop: Image?
    }

    public struct Screenshot: Sendable {
        public var image: Image?
        public var caption: String?
    }

    public struct Release: Sendable {
        public var version: String?
        public var date: String?
        public var summary: String?
        public var notesHTML: String?
        public var beta: Bool?
        public var supported: Bool?
    }

    public var tagline = ""
    public var summary = ""
    public var detailsHTML: String?
    public var logo: Image?
    public var banner: Image?
    public var highlights: [Highlight] = []
    public var screenshots: [Screenshot] = []
    public var categories: [String] = []
    /// support, issueTracker, documentation, privacy, eula → URL.
    public var links: [String: String] = [:]
    public var payment = "free"
    public var status = "private"
    public var storesPersonalData: Bool?
    public var compatibility: [String] = []
    public var youtube: String?
    public var release = Release()
}
