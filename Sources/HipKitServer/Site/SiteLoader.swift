import Foundation
import HipChatConnect
import HipKit

/// Reads a build of `dist/` into a ``SiteSnapshot``.
///
/// Only regular files inside `dist/` are indexed: `_hipkit/` (the runtime manifest) and hidden
/// files are left out, and a symbolic link is followed only when its target is inside `dist/`.
/// Requests are answered from this index alone, so no request path can reach a file outside.
struct SiteLoader {
    /// The folder as configured (`dist`, or an absolute path); shown in diagnostics.
    var dist: URL
    var limits = Limits()

    struct Limits {
        var maxFiles = 20_000
        var maxDepth = 32
        /// In-memory bytes in all; past it, further files are served from disk.
        var maxMemoryBytes = 256 << 20
    }

    typealias Failure = SiteLoadError

    /// What to do about a folder with no descriptor: serve the build, when it is a project
    /// whose build is in its `dist/`; build it first, when it is a project without one.
    static func noDescriptorHint(_ folder: URL) -> String {
        let manager = FileManager.default
        guard manager.fileExists(atPath: folder.appendingPathComponent("addon.yaml").path) else {
            return "run `hipkit build`; the server reads the descriptor it writes"
        }
        let shown = shownFolder(folder)
        let build = ProjectLoader.join(shown, "dist")
        if manager.fileExists(atPath: folder.appendingPathComponent("dist/" + ConnectDescriptor.fileName).path) {
            return "\(shown) is a project, and its build is \(build): hipkit serve \(build)"
        }
        return "\(shown) is a project: build it (hipkit build \(shown)), then serve its build: hipkit serve \(build)"
    }

    /// `folder` as a command names it: `.` for the working folder, a path from it for one below.
    static func shownFolder(_ folder: URL) -> String {
        folder.standardizedFileURL.path == FileManager.default.currentDirectoryPath
            ? "." : ProjectLoader.displayPath(folder)
    }

    /// Reads the build. Files of `previous` that are still the same files on disk are kept as
    /// they were (see ``FileIdentity``).
    func load(reusing previous: SiteSnapshot? = nil) throws(Failure) -> SiteSnapshot {
        var diagnostics: [Diagnostic] = []
        var sources = SourceStore()
        let shownDist = dist.relativePath.isEmpty ? dist.path : dist.relativePath
        func fail(_ message: String, hint: String? = nil) -> Failure {
            Failure(diagnostics: diagnostics + [.error(.unreadable, message, at: nil, hint: hint)], sources: sources)
        }
        // Resolved anew on each load: a build replaces the folder by rename.
        guard let root = FileStat.realPath(dist.path) else {
            // Run inside the build itself, `hipkit serve` looks for dist/dist.
            let parent = dist.deletingLastPathComponent()
            if FileManager.default.fileExists(atPath: parent.appendingPathComponent(ConnectDescriptor.fileName).path) {
                let shownParent = Self.shownFolder(parent)
                throw fail(
                    "no such folder: \(shownDist)",
                    hint: "\(shownParent) is a build itself: hipkit serve \(shownParent)")
            }
            throw fail("no such folder: \(shownDist)", hint: "run `hipkit build` first, or name the build folder")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw fail("\(shownDist) is not a folder")
        }
        let signature = SiteSignature.read(dist: root)

        let descriptorShown = shownDist + "/" + ConnectDescriptor.fileName
        guard let descriptorData = FileManager.default.contents(atPath: root + "/" + ConnectDescriptor.fileName) else {
            throw fail(
                "no atlassian-connect.json in \(shownDist)", hint: Self.noDescriptorHint(URL(fileURLWithPath: root)))
        }
        guard
            let connect = Self.parse(
                descriptorData, file: descriptorShown, diagnostics: &diagnostics, sources: &sources
            ).map(ConnectDescriptor.init),
            let routes = DescriptorRoutes.read(connect, diagnostics: &diagnostics)
        else {
            throw Failure(diagnostics: diagnostics, sources: sources)
        }

        // The same type `hipkit build` wrote, checked with the same validator it ran.
        var manifest = RuntimeManifest(key: "")
        let manifestPath = root + "/" + RuntimeManifest.path
        if let manifestData = FileManager.default.contents(atPath: manifestPath) {
            let shown = shownDist + "/" + RuntimeManifest.path
            let (read, problems) = RuntimeManifest.decode(manifestData, file: shown)
            let checked = read.map { RuntimeManifestValidator(file: shown).validate($0) } ?? []
            if !(problems + checked).isEmpty {
                // Point at the line of the field each problem names, as in any other file.
                var ignored: [Diagnostic] = []
                let located = Self.parse(manifestData, file: shown, diagnostics: &ignored, sources: &sources)
                diagnostics += (problems + checked).map { problem in
                    var problem = problem
                    if let field = problem.field, let node = located?.node(atPath: field), let location = node.location
                    {
                        problem.location = location
                    }
                    return problem
                }
            }
            guard let read, !checked.hasErrors else { throw Failure(diagnostics: diagnostics, sources: sources) }
            manifest = read
        }

        var files: [String: StaticFile] = [:]
        do {
            var found: [Found] = []
            try walk(root: root, directory: root, relative: "", depth: 0, into: &found, diagnostics: &diagnostics)
            files = try load(found, previous: previous?.files ?? [:])
        } catch {
            throw fail("cannot read \(shownDist): \(error)")
        }
        StaticFile.pack(&files)
        guard let descriptor = files[ConnectDescriptor.fileName] else {
            throw fail("atlassian-connect.json in \(shownDist) is not a regular file")
        }

        var snapshotGlances: [SiteSnapshot.Glance] = []
        var seen = Set<String>()
        let manifestGlances = Dictionary(manifest.glances.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        func staticData(path: String, key: String) -> JSONNode? {
            if let data = manifestGlances[key]?.data { return data }
            let relative =
                path.hasPrefix(routes.basePath + "/") ? String(path.dropFirst(routes.basePath.count + 1)) : nil
            guard let relative, let file = files[relative], case .memory(let buffer, _) = file.storage else {
                return nil
            }
            return JSONNode.parse(Data(buffer.readableBytesView))
        }
        for glance in routes.glances {
            guard let key = glance.module.key, seen.insert(key).inserted else { continue }
            snapshotGlances.append(
                .init(
                    path: glance.path, described: glance.module, built: manifestGlances[key],
                    staticData: staticData(path: glance.path, key: key)))
        }
        for glance in manifest.glances where seen.insert(glance.key).inserted {
            let path = routes.basePath + "/" + glance.path.drop { $0 == "/" }
            snapshotGlances.append(
                .init(path: path, described: nil, built: glance, staticData: staticData(path: path, key: glance.key)))
        }

        var webhooks: [SiteSnapshot.Webhook] = []
        var webhookPaths = Set<String>()
        let addon = ReplyTemplate.Addon(
            baseUrl: routes.baseURL, key: connect.key ?? manifest.key, name: connect.name ?? "")
        for hook in manifest.webhooks {
            let path = routes.basePath + "/" + hook.path.drop { $0 == "/" }
            let described = routes.webhooks.first { $0.path == path }?.module
            do {
                let pattern = try (hook.pattern ?? described?.pattern).map(MessagePattern.init)
                let reply = try hook.reply.map { try ReplyTemplate($0, addon: addon) }
                webhooks.append(.init(path: path, built: hook, described: described, pattern: pattern, reply: reply))
                webhookPaths.insert(path)
            } catch {
                diagnostics.append(
                    .error(
                        .invalidTemplate, "the reply of webhook '\(hook.key ?? hook.path)' cannot be used: \(error)",
                        at: SourceLocation(file: shownDist + "/" + RuntimeManifest.path, line: 1, column: 1)))
            }
        }
        // Webhooks only the descriptor knows: acknowledged (and authenticated), never answered.
        for hook in routes.webhooks where !webhookPaths.contains(hook.path) {
            webhooks.append(
                .init(
                    path: hook.path, built: nil, described: hook.module,
                    pattern: try? hook.module.pattern.map(MessagePattern.init), reply: nil))
            webhookPaths.insert(hook.path)
        }
        let settings = manifest.settings.map {
            SiteSnapshot.Settings(
                path: routes.basePath + "/" + $0.path.drop { $0 == "/" }, fields: $0.fields, perRoom: $0.perRoom)
        }
        if diagnostics.hasErrors { throw Failure(diagnostics: diagnostics, sources: sources) }
        return SiteSnapshot(
            root: root, signature: signature, routes: routes, manifest: manifest, files: files, descriptor: descriptor,
            glances: snapshotGlances, webhooks: webhooks, settings: settings, warnings: diagnostics)
    }

    private static func parse(_ data: Data, file: String, diagnostics: inout [Diagnostic], sources: inout SourceStore)
        -> JSONNode?
    {
        let text = String(decoding: data, as: UTF8.self)
        sources.add(text, for: file)
        let result = YAMLComposer().compose([UInt8](data), file: file)
        diagnostics += result.diagnostics
        guard let root = result.root, !result.diagnostics.hasErrors else {
            if result.diagnostics.isEmpty {
                diagnostics.append(
                    .error(.emptyFile, "\(file) is empty", at: SourceLocation(file: file, line: 1, column: 1)))
            }
            return nil
        }
        var conversion: [Diagnostic] = []
        let node = JSONNode.from(root, diagnostics: &conversion)
        diagnostics += conversion
        return conversion.hasErrors ? nil : node
    }

    private func walk(
        root: String, directory: String, relative: String, depth: Int,
        into found: inout [Found], diagnostics: inout [Diagnostic]
    ) throws {
        guard depth <= limits.maxDepth else { return }
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
            if relative.isEmpty && name == "_hipkit" { continue }
            if name.hasPrefix(".") && name != ".well-known" { continue }
            let full = directory + "/" + name
            let path = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard lstat(full, &info) == 0 else { continue }
            var target = full
            if (info.st_mode & S_IFMT) == S_IFLNK {
                // Followed only when it stays inside dist/; directories behind links are not walked.
                guard let resolved = FileStat.realPath(full), resolved.hasPrefix(root + "/"), stat(resolved, &info) == 0
                else { continue }
                target = resolved
                guard (info.st_mode & S_IFMT) == S_IFREG else { continue }
            }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                try walk(
                    root: root, directory: full, relative: path, depth: depth + 1, into: &found,
                    diagnostics: &diagnostics)
            case S_IFREG:
                guard found.count < limits.maxFiles else {
                    diagnostics.append(
                        .warning(
                            .tooManyFiles,
                            "more than \(limits.maxFiles) files in dist/; \(path) and later ones are not served",
                            at: nil))
                    return
                }
                guard path.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0 != "\\" }) else { continue }
                found.append(
                    Found(
                        path: path, target: target, size: Int(info.st_size), modified: FileStat(info).modified,
                        identity: FileIdentity(info)))
            default:
                continue
            }
        }
    }

    /// A regular file the walk found, in walk order.
    private struct Found {
        var path: String
        var target: String
        var size: Int
        var modified: Date
        var identity: FileIdentity
    }

    /// How many files ``BytesThread`` reads at once: handing it one file at a time, the two
    /// thread switches per file made a 1,000-page site's start 28 ms (11%) slower.
    private static let readBatch = 64

    /// The files `found`, in order: kept from `previous` when they did not change, else loaded.
    /// Files are held in memory while the limit allows (their bytes and gzip counted in order).
    private func load(_ found: [Found], previous: [String: StaticFile]) throws -> [String: StaticFile] {
        var files: [String: StaticFile] = [:]
        var memoryUsed = 0
        // Counting the bytes alone, the memory before a file is at most what it will be, so
        // every file that ends up held in memory is among those read ahead.
        var estimate = 0
        var start = 0
        while start < found.count {
            let batch = found[start..<min(start + Self.readBatch, found.count)]
            var toRead: [Int] = []
            for index in batch.indices {
                let file = found[index]
                guard file.size < StaticFile.memoryLimit, estimate + file.size <= limits.maxMemoryBytes else {
                    continue
                }
                estimate += file.size
                if let kept = previous[file.path], kept.identity == file.identity, kept.isInMemory { continue }
                toRead.append(index)
            }
            let read = try BytesThread.shared.run {
                try toRead.map { index in
                    (
                        index,
                        try StaticFile.read(
                            file: URL(fileURLWithPath: found[index].target), relativePath: found[index].path)
                    )
                }
            }
            let readAhead = Dictionary(uniqueKeysWithValues: read)
            for index in batch.indices {
                let found = found[index]
                let inMemory = found.size < StaticFile.memoryLimit && memoryUsed + found.size <= limits.maxMemoryBytes
                var file: StaticFile
                if let kept = previous[found.path], kept.identity == found.identity, kept.isInMemory == inMemory {
                    file = kept
                } else if inMemory, let bytes = readAhead[index] {
                    file = StaticFile.make(
                        file: URL(fileURLWithPath: found.target), relativePath: found.path, size: found.size,
                        modified: found.modified, read: bytes)
                    file.identity = found.identity
                } else {
                    file = try StaticFile.load(
                        file: URL(fileURLWithPath: found.target), relativePath: found.path, size: found.size,
                        modified: found.modified, inMemory: inMemory)
                    file.identity = found.identity
                }
                if inMemory { memoryUsed += found.size + (file.gzip?.readableBytes ?? 0) }
                files[found.path] = file
            }
            start += Self.readBatch
        }
        return files
    }
}
