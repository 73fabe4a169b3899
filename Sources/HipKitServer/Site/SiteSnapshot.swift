import Foundation
import HipChatConnect
import HipKit

/// One build of `dist/` as the server answers it: files, descriptor routes and the runtime
/// manifest, with every lookup table ready. Immutable, so a new build is swapped in whole and
/// a request always sees one build, never a mix of two.
final class SiteSnapshot: Sendable {
    /// A glance the server answers at ``path``: the descriptor's glance, the manifest's, or both
    /// (matched by key), with the data its query answers before any was posted.
    struct Glance: Sendable {
        /// The full request path HipChat queries.
        var path: String
        /// The descriptor's glance, when the descriptor names one with this key.
        var described: ConnectDescriptor.Glance?
        /// What `hipkit build` wrote for the glance in the runtime manifest.
        var built: RuntimeManifest.Glance?
        /// The manifest's data, else the static file `hipkit build` wrote at ``path``.
        var staticData: JSONNode?

        /// The glance's key; the admin API posts data by it. A descriptor glance always has one
        /// (``ConnectDescriptor/Glance`` reads none without).
        var key: String { described?.key ?? built?.key ?? "" }
    }

    /// A webhook the server answers at ``path``: the manifest's webhook (with the descriptor's
    /// at the same path, if any), or one only the descriptor names — acknowledged and
    /// authenticated, never answered. The pattern and reply are compiled once per build.
    struct Webhook: Sendable {
        /// The full request path HipChat posts to.
        var path: String
        /// What `hipkit build` wrote for the webhook; nil when only the descriptor names it.
        var built: RuntimeManifest.Webhook?
        /// The descriptor's webhook at ``path``, if any.
        var described: ConnectDescriptor.Webhook?
        /// The manifest's pattern, else the descriptor's.
        var pattern: MessagePattern?
        var reply: ReplyTemplate?

        var key: String? { built?.key ?? described?.key }
        /// The event deliveries must name; nil accepts any.
        var event: String? { built?.event ?? described?.event?.value }
        var authentication: Authentication { built?.authentication ?? described?.authentication ?? .none }
    }

    struct Settings: Sendable {
        var path: String
        var fields: [RuntimeManifest.SettingField]
        var perRoom: Bool
    }

    /// The real path of `dist/` when it was read.
    let root: String
    let signature: SiteSignature
    let routes: DescriptorRoutes
    let manifest: RuntimeManifest
    /// Files by their path in `dist/`.
    let files: [String: StaticFile]
    /// `atlassian-connect.json`, served at ``DescriptorRoutes/selfPath``.
    let descriptor: StaticFile
    let glancesByPath: [String: Glance]
    let glancesByKey: [String: Glance]
    let webhooksByPath: [String: Webhook]
    let settings: Settings?
    /// The access of each view's file, by the file on disk. A view's file is protected however
    /// it is asked for — `/sidebar` and `/sidebar.html` are one file, as are `/panel/` and
    /// `/panel/index.html`, and a link or a hard link to it in `dist/` is the same file — not
    /// only at the path the descriptor names.
    let viewAccessByFile: [StaticFile.Key: Authentication]
    /// Where views post notifications (``RuntimeManifest/notificationsPath`` under the base).
    let notificationsPath: String
    /// Problems worth a log line that did not stop the build from being served.
    let warnings: [Diagnostic]

    init(
        root: String, signature: SiteSignature, routes: DescriptorRoutes, manifest: RuntimeManifest,
        files: [String: StaticFile],
        descriptor: StaticFile, glances: [Glance], webhooks: [Webhook], settings: Settings?, warnings: [Diagnostic]
    ) {
        self.root = root
        self.signature = signature
        self.routes = routes
        self.manifest = manifest
        self.files = files
        self.descriptor = descriptor
        var byPath: [String: Glance] = [:]
        var byKey: [String: Glance] = [:]
        for glance in glances {
            byPath[glance.path] = glance
            byKey[glance.key] = glance
        }
        glancesByPath = byPath
        glancesByKey = byKey
        webhooksByPath = Dictionary(webhooks.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        self.settings = settings
        self.warnings = warnings
        var access: [StaticFile.Key: Authentication] = [:]
        for (path, authentication) in routes.views {
            guard let file = Self.file(forPath: path, basePath: routes.basePath, in: files) else { continue }
            // Two views on one file: it needs a JWT if either asks for one.
            if access[file.key] != .jwt { access[file.key] = authentication }
        }
        viewAccessByFile = access
        let notifications = RuntimeManifest.notificationsPath
        notificationsPath = routes.basePath + (notifications.hasPrefix("/") ? notifications : "/" + notifications)
    }

    /// The file a request path names: under the base, `dir/` gives `dir/index.html`, and a
    /// name without extension falls back to `name.html` (descriptors often name `/configure`).
    func file(forPath path: String) -> StaticFile? {
        Self.file(forPath: path, basePath: routes.basePath, in: files)
    }

    /// The access a request for `path` needs, answered with `file`: a view's, when the path is
    /// a view's or the file is a view's file; a JWT when either asks for one. Nil for a file that
    /// is no view.
    func viewAccess(path: String, file: StaticFile?) -> Authentication? {
        let byPath = routes.views[path]
        let byFile = file.flatMap { viewAccessByFile[$0.key] }
        if byPath == .jwt || byFile == .jwt { return .jwt }
        return byPath ?? byFile
    }

    private static func file(forPath path: String, basePath: String, in files: [String: StaticFile]) -> StaticFile? {
        // By UTF-8 offsets, without a string made for the prefix: this is on every file's answer.
        let base = basePath.utf8
        let bytes = path.utf8
        guard bytes.count > base.count, bytes.starts(with: base),
            bytes[bytes.index(bytes.startIndex, offsetBy: base.count)] == UInt8(ascii: "/")
        else { return nil }
        let relative = String(path[bytes.index(bytes.startIndex, offsetBy: base.count + 1)...])
        // The file itself, when there is one, is always the first of SitePath's list.
        if let file = files[relative] { return file }
        for name in SitePath.files(for: relative) { if let file = files[name] { return file } }
        return nil
    }
}

/// A compiled regular expression; `NSRegularExpression` is immutable once built, so sharing it
/// between requests is safe.
struct MessagePattern: @unchecked Sendable {
    let source: String
    let regex: NSRegularExpression

    init(_ source: String) throws {
        self.source = source
        regex = try NSRegularExpression(pattern: source)
    }

    /// The groups of the first match (`[0]` the whole match, absent groups empty), or nil.
    func match(_ text: String) -> [String]? {
        let range = NSRange(text.startIndex..., in: text)
        guard let result = regex.firstMatch(in: text, range: range) else { return nil }
        return (0..<result.numberOfRanges).map { i in
            let r = result.range(at: i)
            guard r.location != NSNotFound, let swiftRange = Range(r, in: text) else { return "" }
            return String(text[swiftRange])
        }
    }

    func matches(_ text: String) -> Bool {
        regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}

/// What identifies one build of `dist/` cheaply: the folder's and the descriptor's and
/// manifest's inode, size and modification time. `hipkit build` swaps the folder by rename, so
/// the folder's inode changes with every build.
struct SiteSignature: Sendable, Equatable {
    struct Stamp: Sendable, Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var seconds: Int
        var nanoseconds: Int
    }

    var folder: Stamp?
    var descriptor: Stamp?
    var manifest: Stamp?

    static func read(dist: String) -> SiteSignature {
        SiteSignature(
            folder: stamp(dist), descriptor: stamp(dist + "/" + ConnectDescriptor.fileName),
            manifest: stamp(dist + "/" + RuntimeManifest.path))
    }

    static func stamp(_ path: String) -> Stamp? {
        guard let file = FileStat.read(path) else { return nil }
        return Stamp(
            device: file.device, inode: file.inode, size: file.size, seconds: file.modifiedSeconds,
            nanoseconds: file.modifiedNanoseconds)
    }
}
