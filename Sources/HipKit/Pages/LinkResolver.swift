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

    enum Resolution: Equatable {
        /// Not a link between project files (another site, an anchor, a root-relative route).
        case untouched
        /// The link as it must be written in the page, and the project file to copy (for assets).
        case rewritten(String, asset: String?)
        /// The target does not exist.
        case missing(String)
        /// The target is outside the project.
        case outside

        /// A stable one-line form, recorded with cached pages.
        var summary: String {
            switch self {
            case .untouched: return "untouched"
            case .rewritten(let url, let asset): return "rewritten \(url) \(asset ?? "-")"
            case .missing(let target): return "missing \(target)"
            case .outside: return "outside"
            }
        }
    }

    func resolve(_ url: String, fromSource source: String, output: String) -> Resolution {
        guard !url.isEmpty, !url.hasPrefix("#"), !url.hasPrefix("?"), !url.hasPrefix("/"),
            !URLReference.isAbsolute(url)
        else {
            return .untouched
        }
        let split = url.firstIndex { $0 == "?" || $0 == "#" }
        let rawPath = split.map { String(url[..<$0]) } ?? url
        let suffix = split.map { String(url[$0...]) } ?? ""
        let path = rawPath.removingPercentEncoding ?? rawPath
        let joined = SitePath.directory(of: source).isEmpty ? path : SitePath.directory(of: source) + "/" + path
        guard let target = SitePath.normalised(joined) else { return .outside }
        if let page = pageOutputs[target] {
            return .rewritten(encoded(SitePath.relative(from: output, to: page)) + suffix, asset: nil)
        }
        // A link written to the page's .html (or its output path) rather than its Markdown source.
        let asOutput = SitePath.output(forProjectFile: target)
        if let page = pagesByOutput[asOutput] ?? pagesByOutput[target] {
            return .rewritten(encoded(SitePath.relative(from: output, to: pageOutputs[page]!)) + suffix, asset: nil)
        }
        var isDirectory: ObjCBool = false
        let absolute = projectDirectory.appendingPathComponent(target).path
        if !target.isEmpty, FileManager.default.fileExists(atPath: absolute, isDirectory: &isDirectory),
            !isDirectory.boolValue
        {
            if SitePath.isMarkdown(target) { return .missing(target) }  // Markdown outside the site's pages
            return .rewritten(
                encoded(SitePath.relative(from: output, to: SitePath.output(forProjectFile: target))) + suffix,
                asset: target)
        }
        return .missing(target)
    }

    private func encoded(_ path: String) -> String {
        path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
    }
}
