import Foundation

/// The built-in files that ship inside the `hipkit` binary: scaffolds, page layouts, the
/// live-reload script, and the local HipChat's page and scripts.
///
/// They are edited in `templates/` and embedded at build time by the `EmbedTemplates` plugin,
/// so the binary alone works from any folder: nothing is looked for beside it, and an install
/// is one file. Paths are relative to `templates/`, with `/`.
public enum TemplatesBundle {
    /// The bytes of the file at `path` (for example `layouts/page.mustache`), or nil.
    public static func data(_ path: String) -> Data? {
        embedded[path].flatMap { Data(base64Encoded: $0) }
    }

    /// The text of the file at `path`, when it is UTF-8.
    public static func text(_ path: String) -> String? {
        data(path).flatMap { String(data: $0, encoding: .utf8) }
    }

    /// The paths of every file under `folder` (for example `scaffolds/full/`), sorted.
    public static func paths(under folder: String) -> [String] {
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        return embedded.keys.filter { $0.hasPrefix(prefix) }.sorted()
    }
}

/// What `hipkit --version` tells about the binary beyond its version.
public enum BuildInfo {}
