import Foundation
import HipChatConnect

/// Checks the relative links of a page and rewrites them for the built site: `faq.md` becomes
/// `faq.html`, and every path is made relative to where the page itself lands.
struct LinkResolver: Sendable {
    let projectDirectory: URL
    /// Markdown source → its output path, for every page of the site.
    let pageOutputs: [String: String]
    /// Output path → the page source it comes from.
    let pagesByOutput: [String: String]
    /// The project's folders, and the real path of its own, worked out once for every link to a
    /// file (each is checked for a symbolic link to a file never published).
    private let layout: ProjectLayout
    private let realProjectDirectory: String?

    init(projectDirectory: URL, pageOutputs: [String: String], pagesByOutput: [String: String]) {
        self.projectDirectory = projectDirectory
        self.pageOutputs = pageOutputs
        self.pagesByOutput = pagesByOutput
        layout = ProjectLayout(directory: projectDirectory)
        realProjectDirectory = FileStat.realPath(projectDirectory.path)
    }

    enum Resolution: Equatable {
        /// Not a link between project files (another site, an anchor, a root-relative route).
        case untouched
        /// The link as it must be written in the page, and the project file to copy (for assets).
        case rewritten(String, asset: String?)
        /// The target does not exist.
        case missing(String)
        /// The target is a Markdown file of the project outside `pages/`: not a page, and
        /// never published as it is.
        case notAPage(String)
        /// The target is outside the project.
        case outside
        /// The target is a project file that is never published, and why
        /// (``ProjectLayout/unpublishedReason(_:)``).
        case unpublished(String, reason: String)

        /// A stable one-line form, recorded with cached pages.
        var summary: String {
            switch self {
            case .untouched: return "untouched"
            case .rewritten(let url, let asset): return "rewritten \(url) \(asset ?? "-")"
            case .missing(let target): return "missing \(target)"
            case .notAPage(let target): return "not-a-page \(target)"
            case .outside: return "outside"
            case .unpublished(let target, let reason): return "unpublished \(target) \(reason)"
            }
        }
    }

    func resolve(_ url: String, fromSource source: String, output: String) -> Resolution {
        guard !url.isEmpty, !url.hasPrefix("#"), !url.hasPrefix("?"), !url.hasPrefix("/"),
            !URLReference.isAbsolute(url)
        else {
            return .untouched
        }
        // The path, what follows it (`?query`, `#fragment`), and whether the path has a `%`: one
        // pass over the bytes.
        var text = url
        let (rawPath, suffix, escaped) = text.withUTF8 { bytes -> (String, String, Bool) in
            var escaped = false
            for i in bytes.indices {
                switch bytes[i] {
                case UInt8(ascii: "?"), UInt8(ascii: "#"):
                    let path = String(decoding: UnsafeBufferPointer(rebasing: bytes[..<i]), as: UTF8.self)
                    let suffix = String(decoding: UnsafeBufferPointer(rebasing: bytes[i...]), as: UTF8.self)
                    return (path, suffix, escaped)
                case UInt8(ascii: "%"): escaped = true
                default: break
                }
            }
            return (url, "", escaped)
        }
        let path = escaped ? (rawPath.removingPercentEncoding ?? rawPath) : rawPath
        let folder = SitePath.directory(of: source)
        let joined = folder.isEmpty ? path : folder + "/" + path
        guard var target = SitePath.normalised(joined) else { return .outside }
        if let page = pageOutputs[target] {
            return .rewritten(Self.encoded(SitePath.relative(from: output, to: page)) + suffix, asset: nil)
        }
        // A folder (`docs/`) is its index page, as `hipkit serve` answers it.
        if let page = pageOutputs[target.isEmpty ? "index.md" : target + "/index.md"] {
            return .rewritten(Self.encoded(SitePath.relative(from: output, to: page)) + suffix, asset: nil)
        }
        func isRegularFile(_ target: String) -> Bool {
            guard !target.isEmpty, let stat = FileStat.read(ProjectLoader.join(projectDirectory.path, target)) else {
                return false
            }
            return stat.kind != .directory
        }
        var isFile = isRegularFile(target)
        if !isFile, !target.isEmpty, let onDisk = onDiskName(of: target) {
            target = onDisk
            isFile = isRegularFile(onDisk)
        }
        // A link written to the page's .html (or its output path) rather than its Markdown
        // source — unless a file of that name is there: then it is that file, and the build's
        // collision check names both it and the page.
        let asOutput = SitePath.output(forProjectFile: target)
        if !isFile, let page = pagesByOutput[asOutput] ?? pagesByOutput[target] {
            return .rewritten(
                Self.encoded(SitePath.relative(from: output, to: pageOutputs[page]!)) + suffix, asset: nil)
        }
        if isFile {
            if let reason = layout.unpublishedReason(target, realDirectory: realProjectDirectory) {
                return .unpublished(target, reason: reason)
            }
            if SitePath.isMarkdown(target) { return .notAPage(target) }
            return .rewritten(
                Self.encoded(SitePath.relative(from: output, to: SitePath.output(forProjectFile: target))) + suffix,
                asset: target)
        }
        return .missing(target)
    }

    /// `target`'s file as its folder names it, when its name is the same text in another Unicode
    /// form (`café.png` linked, `cafe\u{301}.png` on disk, as macOS writes names): Swift compares
    /// `String`s by canonical equivalence, and Linux's file system by bytes. Nil when there is
    /// no such file.
    private func onDiskName(of target: String) -> String? {
        let folder = SitePath.directory(of: target)
        let name = SitePath.name(of: target)
        let names =
            (try? FileManager.default.contentsOfDirectory(
                atPath: ProjectLoader.join(projectDirectory.path, folder))) ?? []
        guard let found = names.first(where: { $0 == name && !$0.utf8.elementsEqual(name.utf8) }) else { return nil }
        return folder.isEmpty ? found : folder + "/" + found
    }

    /// `path` percent-encoded for a URL path, as `addingPercentEncoding(withAllowedCharacters:
    /// .urlPathAllowed)` does; a path of only allowed ASCII, nearly every one, is returned as it
    /// is without going through Foundation.
    static func encoded(_ path: String) -> String {
        var path = path
        let plain = path.withUTF8 { bytes in
            pathAllowed.withUnsafeBufferPointer { allowed in bytes.allSatisfy { $0 < 0x80 && allowed[Int($0)] } }
        }
        if plain { return path }
        return path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
    }

    /// The ASCII bytes `CharacterSet.urlPathAllowed` holds, looked up once, but the colon:
    /// Foundation encodes some colons the set allows (`a:b` would read as a scheme), so a path
    /// with one is left to it.
    static let pathAllowed: [Bool] = (0..<128).map {
        $0 != Int(UInt8(ascii: ":")) && CharacterSet.urlPathAllowed.contains(Unicode.Scalar(UInt8($0)))
    }
}
