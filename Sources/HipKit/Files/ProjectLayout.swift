import Foundation
import HipChatConnect

/// The folders of a project that are not its input: the build's output and hipkit's own
/// `.hipkit/` with the page cache and the dev server's data.
///
/// Named once here so that the build, the up-to-date check, the watcher and the dev server agree
/// on where things go and on which folders to leave alone: a watcher that looked at the output
/// would start a rebuild with every build.
public struct ProjectLayout: Sendable, Hashable {
    /// The project folder, the one holding `addon.yaml`.
    public let directory: URL

    public init(directory: URL) {
        self.directory = directory.standardizedFileURL
    }

    /// The project whose spec is `spec` (a path to its `addon.yaml`).
    public init(spec: String) {
        self.init(directory: URL(fileURLWithPath: spec).deletingLastPathComponent())
    }

    /// `dist/`: where a build goes unless told otherwise.
    public var defaultOutput: URL { directory.appendingPathComponent("dist") }

    /// `.hipkit/`: hipkit's own folder, kept between builds (the cache, dev's installations).
    public var hipkitDirectory: URL { directory.appendingPathComponent(".hipkit", isDirectory: true) }

    /// `.hipkit/cache`: the record of the last build and the rendered pages.
    public var cacheDirectory: URL { hipkitDirectory.appendingPathComponent("cache") }

    /// `.hipkit/cache/pages`: the rendered pages (see ``BuildCache``).
    public var pageCacheDirectory: URL { cacheDirectory.appendingPathComponent("pages") }

    /// `.hipkit/cache/crops`: the Marketplace listing's highlight crops (see ``ListingCrops``).
    public var cropCacheDirectory: URL { cacheDirectory.appendingPathComponent("crops") }

    /// Creates `folder` and any missing folder above it private to the user (0700).
    ///
    /// Used for everything under ``hipkitDirectory``: `hipkit build` is usually the first to make
    /// `.hipkit/`, and `hipkit serve` and `hipkit dev` later keep installations and the secrets'
    /// key there. A folder made with the default mode would be open to the group and others, and
    /// the server would rightly warn about it. Folders that exist already keep their mode, so a
    /// folder a user opened up on purpose is still reported.
    public static func createPrivateDirectory(_ folder: URL) throws {
        try FileManager.default.createDirectory(
            at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// Top-level folders that are never inputs: the default output, hipkit's folder, and those
    /// of version control and other tools.
    public static let ignored: Set<String> = ["dist", ".hipkit", ".git", ".build", "node_modules"]

    /// Why the project file at `path` (relative to the project, normalised) is never published
    /// when a page, a page's script or the spec names it, or nil when it may be: a hidden one
    /// (`.env`, anything under `.hipkit/` with the secrets' key or `.git/`), or one under `dist/`,
    /// the output of earlier builds. A link to one is far more often a slip than a wish to put
    /// it on a public server.
    public static func unpublishedReason(_ path: String) -> String? {
        let parts = path.split(separator: "/")
        if parts.count > 1, parts.first == "dist" {
            return "dist/ holds the output of builds, which is never an input"
        }
        if let hidden = parts.first(where: { $0.hasPrefix(".") }) {
            return "'\(hidden)' is hidden (its name starts with a dot), and hidden files are never published"
        }
        return nil
    }

    /// ``unpublishedReason(_:)`` for `path` as written, and for the file it is once symbolic
    /// links are followed, when that is in the project too (`assets/key.txt` →
    /// `../.hipkit/secret.key`). A link out of the project is the owner's own choice (a folder
    /// of assets shared between projects) and is followed.
    public func unpublishedReason(_ path: String) -> String? {
        unpublishedReason(path, realDirectory: FileStat.realPath(directory.path))
    }

    /// ``unpublishedReason(_:)`` with the project folder's real path (``FileStat/realPath(_:)``
    /// of ``directory``) worked out by the caller, once for every file it asks about.
    public func unpublishedReason(_ path: String, realDirectory: String?) -> String? {
        if let reason = Self.unpublishedReason(path) { return reason }
        guard let root = realDirectory, let resolved = FileStat.realPath(directory.appendingPathComponent(path).path),
            resolved.hasPrefix(root + "/")
        else { return nil }
        let inside = String(resolved.dropFirst(root.count + 1))
        guard inside != path, let reason = Self.unpublishedReason(inside) else { return nil }
        return "it is a symbolic link to \(inside): \(reason)"
    }

    /// The error for a file named by `naming` (`link 'x.png' points to assets/x.png`, `'icon'
    /// names '.env'`) that is never published for `reason`.
    public static func unpublishedError(_ naming: String, reason: String, at location: SourceLocation?) -> Diagnostic {
        .error(
            .unpublishedFile, "\(naming), which is not published: \(reason)", at: location,
            hint: "to publish a copy, put one under assets/ and name that")
    }

    /// ``ignored``, and the top-level folder holding `output` when it lies inside the project
    /// (`--out site`): writing it must not look like a change of the input.
    public func ignored(output: URL) -> Set<String> {
        var ignored = Self.ignored
        let project = directory.resolvingSymlinksInPath().path + "/"
        let out = output.standardizedFileURL.resolvingSymlinksInPath().path
        if out.hasPrefix(project), let first = out.dropFirst(project.count).split(separator: "/").first {
            ignored.insert(String(first))
        }
        return ignored
    }

    /// Whether the top-level entry `name` is a folder a build fills beside its output before
    /// swapping it in (see ``StagedDirectory``): it comes and goes with every build.
    public static func isStaging(_ name: String) -> Bool {
        name.hasPrefix(".") && name.contains(".staging-")
    }
}
