/// What the build needs to know of a URL as written: whether it stands on its own or is to be
/// joined to the base URL (or to a page's folder).
enum URLReference {
    /// `scheme:` at the start (RFC 3986), or a protocol-relative `//host`.
    static func isAbsolute(_ reference: String) -> Bool {
        if reference.hasPrefix("//") { return true }
        guard let colon = reference.firstIndex(of: ":"), colon != reference.startIndex else { return false }
        let scheme = reference[..<colon]
        return scheme.first!.isLetter && scheme.allSatisfy { $0.isLetter || $0.isNumber || "+-.".contains($0) }
    }
}
