import Foundation
import HipChatConnect
import HipKit

/// One build of `dist/` as the server answers it: files, descriptor routes and the runtime
/// manifest, with every lookup table ready. Immutable, so a new build is swapped in whole and
/// a request always sees one build, never a mix of two.
final class SiteSnapshot: Sendable {
    struct Glance: Sendable {
        var key: String
        var path: String
        /// What the query answers before any data was posted: the manifest's, else the
        /// static file `hipkit build` wrote at the glance's path.
        var staticData: JSONNode?
    }

    struct Webhook: Sendable {
        var key: String?
        var path: String
        var event: String?
        var pattern: MessagePattern?
        var authentication: Authentication
        var reply: ReplyTemplate?
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
    }

    /// The full request path of a path under the descriptor's base (`/glances/k.json`).
    func fullPath(_ sitePath: String) -> String {
        let path = sitePath.hasPrefix("/") ? sitePath : "/" + sitePath
        return routes.basePath + path
    }

    /// The file a request path names: under the base, `dir/` gives `dir/index.html`, and a
    /// name without extension falls back to `name.html` (descriptors often name `/configure`).
    func file(forPath path: String) -> StaticFile? {
        let base = routes.basePath
        guard path.hasPrefix(base + "/") else { return nil }
        var relative = String(path.dropFirst(base.count + 1))
        if relative.isEmpty || relative.hasSuffix("/") { relative += "index.html" }
        if let file = files[relative] { return file }
        if ContentType.fileExtension(relative).isEmpty { return files[relative + ".html"] }
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
