/// What the build needs to know of a URL as written: whether it stands on its own or is to be
/// joined to the base URL (or to a page's folder), and the joining.
///
/// Kept apart from the spec's translator because the pages, the link checker, validation and
/// the importer ask the same questions of URLs.
enum URLReference {
    /// `scheme:` at the start (RFC 3986), or a protocol-relative `//host`.
    static func isAbsolute(_ reference: String) -> Bool {
        if reference.hasPrefix("//") { return true }
        guard let colon = reference.firstIndex(of: ":"), colon != reference.startIndex else { return false }
        let scheme = reference[..<colon]
        return scheme.first!.isLetter && scheme.allSatisfy { $0.isLetter || $0.isNumber || "+-.".contains($0) }
    }

    /// `reference` joined to `base` (a base URL without a trailing `/`): an absolute reference
    /// stays as it is, and `/` alone stands for the base URL itself, so an imported
    /// `{{localBaseUrl}}` comes back exactly.
    static func join(_ reference: String, to base: String) -> String {
        if isAbsolute(reference) { return reference }
        if reference == "/" { return base }
        if reference.hasPrefix("/") { return base + reference }
        return base + "/" + reference
    }
}
