import Foundation
import HipChatConnect

/// A project read, checked and rendered in memory: everything `hipkit build` would write, and
/// every problem found on the way. Nothing touches the disk until ``write(to:)``.
public struct ProjectBuild: Sendable {
    /// The project, when its spec could be read at all.
    public var project: AddonProject?
    /// Every diagnostic, from the spec, the descriptor and the pages, sorted by place.
    public var diagnostics: [Diagnostic]
    /// The text of the files read, for quoting lines in diagnostics.
    public var sources: SourceStore
    /// The site: the descriptor, pages, assets, glance data and the preview.
    public var files: [SiteFile]

    public var hasErrors: Bool { diagnostics.hasErrors }

    /// How long loading the project and each ``BuildStep`` took, in the order they ran.
    public var timings: [BuildTiming] = []

    /// The project's cache folder, when the build uses one.
    public var cacheDirectory: URL?
    /// The inputs' ``InputStamp``, taken before anything was read; kept only for a build with
    /// no diagnostics, the only kind a later build may skip.
    var inputStamp: String?
    /// Made for its diagnostics only (`prepare(…, checkOnly: true)`): never written.
    public private(set) var checkOnly = false

    public init(
        project: AddonProject?, diagnostics: [Diagnostic], sources: SourceStore, files: [SiteFile],
        cacheDirectory: URL? = nil
    ) {
        self.project = project
        self.diagnostics = diagnostics
        self.sources = sources
        self.files = files
        self.cacheDirectory = cacheDirectory
    }

    /// Reads, checks and renders the project `path` names (a folder or its addon.yaml). With
    /// `cached`, pages unchanged since an earlier build come from `.hipkit/cache` instead of
    /// being rendered again, and ``write(to:)`` writes only what changed.
    /// - Parameter inputStamp: the fingerprint ``check(_:options:output:)`` took, so that it
    ///   is not taken twice; nil to take it here.
    /// - Parameter checkOnly: only the diagnostics are wanted (`hipkit validate`); the files
    ///   may be left incomplete (see ``BuildContext/checkOnly``), so such a build is never written.
    public static func prepare(
        _ path: String, options: LoadOptions = LoadOptions(), loader: ProjectLoader = ProjectLoader(),
        cached: Bool = false, inputStamp: String? = nil, checkOnly: Bool = false
    ) throws -> ProjectBuild {
        // Taken first: a file saved while the build runs must make the next build look again.
        var stamp = cached ? inputStamp : nil
        if cached, stamp == nil, case .spec(let spec) = try ProjectLoader.input(for: path) {
            stamp = InputStamp.compute(projectDirectory: ProjectLayout(spec: spec).directory, options: options)
        }
        var outcome: ProjectLoader.Outcome?
        let loading = try ContinuousClock().measure { outcome = try loader.load(path, options: options) }
        guard let outcome else { throw HipKitError("cannot read \(path)") }
        var timings = [BuildTiming(step: "load project", duration: loading)]
        var diagnostics = outcome.diagnostics
        var files: [SiteFile] = []
        var cacheDirectory: URL?
        if let project = outcome.project, project.baseUrl.isEmpty == false {
            let layout = ProjectLayout(directory: project.directory)
            cacheDirectory = cached ? layout.cacheDirectory : nil
            var context = BuildContext(
                project: project, cache: cached ? BuildCache(directory: layout.pageCacheDirectory) : nil,
                checkOnly: checkOnly, specHasErrors: outcome.diagnostics.hasErrors)
            timings += BuildStep.run(on: &context)
            diagnostics += context.diagnostics
            files = context.files.sorted { $0.path < $1.path }
        }
        // The Markdown files (pages, listing details) problems point into are read now, so
        // their problems are quoted with their line as the spec's are.
        var sources = outcome.sources
        for file in Set(diagnostics.compactMap(\.location?.file)).sorted()
        where !sources.contains(file) && SitePath.isMarkdown(file) {
            if let text = try? String(contentsOfFile: file, encoding: .utf8) { sources.add(text, for: file) }
        }
        var build = ProjectBuild(
            project: outcome.project, diagnostics: diagnostics.sortedByLocation(), sources: sources,
            files: files,
            cacheDirectory: cacheDirectory)
        build.timings = timings
        build.inputStamp = diagnostics.isEmpty ? stamp : nil
        build.checkOnly = checkOnly
        return build
    }

    /// What ``check(_:options:output:)`` found.
    public struct Freshness: Sendable {
        /// The number of files in the output, when it already is the build; nil when a build
        /// has work to do.
        public var upToDateFiles: Int?
        /// The fingerprint of what the build reads, taken by the check: give it to
        /// ``prepare(_:options:loader:cached:inputStamp:checkOnly:)``.
        public var inputStamp: String?
    }

    /// Whether `output` already holds the build of `path` with these options and nothing the
    /// build reads has changed since (see ``InputStamp``). Costs a `stat` per project and
    /// output file, and reads no page.
    public static func check(_ path: String, options: LoadOptions, output: URL) -> Freshness {
        guard case .spec(let spec)? = try? ProjectLoader.input(for: path) else { return Freshness() }
        let layout = ProjectLayout(spec: spec)
        // The project's side (its stamp) and the output's (the record, and the folder walked
        // against it) need nothing of each other: they are looked at side by side.
        let stamp = ResultSlots<String>(count: 1)
        let intact = ResultSlots<BuildRecord>(count: 1)
        DispatchQueue.concurrentPerform(iterations: 2) { side in
            if side == 0 {
                stamp[0] = InputStamp.compute(projectDirectory: layout.directory, options: options)
            } else if let record = BuildRecord.load(from: layout.cacheDirectory), record.inputs != nil,
                record.output == output.standardizedFileURL.path,
                FileManager.default.fileExists(atPath: output.appendingPathComponent(ConnectDescriptor.fileName).path),
                record.isIntact(output)
            {
                intact[0] = record
            }
        }
        guard let record = intact[0], let stamp = stamp[0], record.inputs == stamp else {
            return Freshness(inputStamp: stamp[0])
        }
        return Freshness(upToDateFiles: record.files.count, inputStamp: stamp)
    }

    /// Writes the site into `output`, replacing it whole (see ``StagedDirectory``). Call only
    /// when there are no errors. `durable: false` skips the flush to disk (`hipkit dev`).
    @discardableResult
    public func write(to output: URL, durable: Bool = true) throws -> SiteBuilder.Outcome {
        guard let project, !hasErrors else { throw HipKitError("the project has errors; nothing was written") }
        guard !checkOnly else { throw HipKitError("a check-only build lacks files; nothing was written") }
        var builder = SiteBuilder(cacheDirectory: cacheDirectory, durable: durable)
        builder.inputs = inputStamp
        return try builder.write(files, of: project, into: output)
    }
}
