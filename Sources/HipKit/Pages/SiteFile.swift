import Foundation
import HipChatConnect

/// One file of the built site.
public struct SiteFile: Sendable, Hashable {
    /// Relative to the site's root, with `/` (`help/faq.html`).
    public var path: String
    public var data: Data

    public init(path: String, data: Data) {
        self.path = path
        self.data = data
    }
}
