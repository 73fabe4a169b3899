import HipChatConnect

/// `Cache-Control` for a file in `dist/`.
///
/// HTML and JSON change with every build under the same name, so caches keep them a minute;
/// a name carrying a content hash (`app.3f2a9c1e.css`) never changes content, so it is cached
/// for a year; anything else (images, fonts under plain names) for an hour.
enum CachePolicy {
    static let short = "public, max-age=60"
    static let medium = "public, max-age=3600"
    static let immutable = "public, max-age=31536000, immutable"
    /// For answers that need a JWT: a shared cache must never hand them to someone without one.
    static let privateShort = "private, max-age=60"
    /// For answers computed per request (glance data, settings).
    static let dynamic = "private, no-cache"

    static func forPath(_ path: String) -> String {
        let ext = ContentType.fileExtension(path)
        if ext == "html" || ext == "htm" || ext == "json" || ext == "webmanifest" { return short }
        if isFingerprinted(path) { return immutable }
        return medium
    }

    /// `name.HASH.ext` where HASH is at least 8 hexadecimal digits.
    static func isFingerprinted(_ path: String) -> Bool {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 3 else { return false }
        let hash = parts[parts.count - 2]
        return hash.count >= 8 && hash.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}
