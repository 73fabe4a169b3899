import Foundation
import HipChatConnect

/// Paths of the built site, relative to its root and written with `/`.
public enum SitePath {
    /// Where the preview of the whole add-on always is (`/_preview/`). The site's root,
    /// `index.html`, is the project's own `pages/index.md` when it has one, as in any static site
    /// generator; without one, the root shows the preview too.
    public static let preview = "_preview/index.html"

    /// The folder of ``preview``, as a URL path from the site's root: `/_preview/`.
    public static let previewFolder = "/_preview/"

    /// The files of a build that may answer the request path `relative` (below the site's
    /// folder, without the leading `/`), in the order `hipkit serve` tries them: a folder's
    /// `index.html`, and a page asked for without its `.html`. The server and the build's check
    /// that descriptor URLs are answered both ask here.
    public static func files(for relative: String) -> [String] {
        if relative.isEmpty || relative.hasSuffix("/") { return [relative + "index.html"] }
        let name = relative.split(separator: "/").last ?? ""
        // A name's extension is what follows its last dot, unless that dot starts or ends it.
        let hasExtension =
            name.lastIndex(of: ".").map { $0 != name.startIndex && $0 != name.index(before: name.endIndex) } ?? false
        return hasExtension ? [relative] : [relative, relative + ".html"]
    }

    /// Where a project file lands in the site: under `pages/` the prefix goes and Markdown
    /// becomes `.html`; other files keep their path. Same rule as ``PageReference/urlPath(forSource:)``.
    static func output(forProjectFile file: String) -> String {
        String(PageReference.urlPath(forSource: file).dropFirst())
    }

    static func isMarkdown(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".md") || lower.hasSuffix(".markdown")
    }

    /// `path` relative to the folder holding `from` (`help/faq.html` → `assets/x.png` gives
    /// `../assets/x.png`), so links work whatever the base URL's own path is.
    static func relative(from: String, to path: String) -> String {
        if let walked = relativeByBytes(from: from, to: path) { return walked }
        let fromParts = components(of: from).dropLast()
        let toParts = components(of: path)
        var common = 0
        while common < fromParts.count, toParts.count - common > 1,
            fromParts[common].utf8.elementsEqual(toParts[common].utf8)
        {
            common += 1
        }
        let climbs = fromParts.count - common
        if climbs == 0, common == toParts.count { return "./" }
        var result = String(repeating: "../", count: climbs)
        for (i, part) in toParts[common...].enumerated() {
            if i > 0 { result += "/" }
            result += part
        }
        if common == toParts.count { result.removeLast() }  // only climbs: no trailing slash
        return result
    }

    /// ``relative(from:to:)`` worked out on the two paths' bytes, part by part, without splitting
    /// them into arrays: the preview's links to 1,000 pages went from 7 M instructions to 1 M. A
    /// link between pages of the site's root folder, nearly every one, is `target` itself, not a
    /// copy. Nil when a part of either path is empty, for the general way.
    private static func relativeByBytes(from: String, to target: String) -> String? {
        var from = from
        var path = target
        return from.withUTF8 { f in
            path.withUTF8 { p -> String? in
                guard hasNoEmptyPart(f), hasNoEmptyPart(p) else { return nil }
                // `from`'s folder is f[..<folderEnd]; parts common to it and to all of `path` but
                // its last part are passed over.
                let folderEnd = f.lastIndex(of: slash) ?? 0
                var fi = 0
                var pi = 0
                while fi < folderEnd {
                    let fNext = f[fi..<folderEnd].firstIndex(of: slash) ?? folderEnd
                    guard let pNext = p[pi...].firstIndex(of: slash),
                        fNext - fi == pNext - pi,
                        memcmp(f.baseAddress! + fi, p.baseAddress! + pi, fNext - fi) == 0
                    else { break }
                    fi = fNext + 1
                    pi = pNext + 1
                }
                // One climb for each part of the folder left.
                let climbs = fi < folderEnd ? 1 + f[fi..<folderEnd].lazy.filter { $0 == slash }.count : 0
                if climbs == 0 && pi == 0 { return target }
                var result = [UInt8]()
                result.reserveCapacity(climbs * 3 + p.count - pi)
                for _ in 0..<climbs { result += [UInt8(ascii: "."), UInt8(ascii: "."), slash] }
                result.append(contentsOf: p[pi...])
                return String(decoding: result, as: UTF8.self)
            }
        }
    }

    /// Whether `path` is not empty, and neither starts nor ends with `/` nor holds `//`.
    private static func hasNoEmptyPart(_ path: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = path.first, first != slash, path.last != slash else { return false }
        return !zip(path, path.dropFirst()).contains { $0 == slash && $1 == slash }
    }

    /// `a/./b/../c` → `a/c`; nil when `..` climbs above the root.
    static func normalised(_ path: String) -> String? {
        if isNormalised(path) { return path }
        var parts: [Substring] = []
        for part in components(of: path) {
            if part == "." { continue }
            if part == ".." {
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            } else {
                parts.append(part)
            }
        }
        return parts.joined(separator: "/")
    }

    /// Whether every part of `path` is neither empty, `.` nor `..`: ``normalised(_:)`` of
    /// such a path, nearly every link, is the path itself.
    private static func isNormalised(_ path: String) -> Bool {
        var path = path
        return path.withUTF8 { isNormalised($0) }
    }

    private static func isNormalised(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var length = 0
        var dots = 0
        for byte in bytes {
            if byte == slash {
                if length == 0 || (length == dots && dots <= 2) { return false }
                length = 0
                dots = 0
            } else {
                length += 1
                if byte == UInt8(ascii: ".") { dots += 1 }
            }
        }
        return length > 0 && !(length == dots && dots <= 2)
    }

    /// The folder part of a relative path (`pages/help/faq.md` → `pages/help`).
    static func directory(of path: String) -> String {
        var path = path
        return path.withUTF8 { bytes in
            guard let slash = bytes.lastIndex(of: slash) else { return "" }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[..<slash]), as: UTF8.self)
        }
    }

    /// The last part of `path` (`b.png` of `a/b.png`), beside ``directory(of:)``.
    static func name(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: slash) else { return path }
        return String(path[path.utf8.index(after: slash)...])
    }

    private static let slash = UInt8(ascii: "/")

    /// The non-empty parts of `path` between slashes. Split on the `/` byte, as the file system
    /// does, not on `Character`s, which is both slower and would keep a `/` followed by a
    /// combining mark inside one part.
    static func components(of path: String) -> [Substring] {
        path.utf8.split(separator: slash).map { Substring($0) }
    }
}
