import Foundation
import HipChatConnect

/// A build as `hipkit build` and `hipkit dev`'s rebuilds run it: skipped when the output already
/// holds it, else read, checked, rendered and written — and a report of what happened.
///
/// The command line and the dev server only present the ``Report``; where the output goes, the
/// up-to-date check and the cache are decided here, once.
public struct ProjectBuilder: Sendable {
    /// A project folder or its `addon.yaml`.
    public var path: String
    public var options: LoadOptions
    /// The output folder; nil for the project's `dist/`.
    public var output: URL?
    /// Reuse pages unchanged since the last build (`.hipkit/cache`), and skip a build whose
    /// inputs and output are unchanged.
    public var cached: Bool
    /// Flush the new files to disk before swapping them in (see ``StagedDirectory``).
    public var durable: Bool
    /// Skip the build when the output already holds it. `hipkit dev` builds anyway: it needs
    /// the files to tell open pages what changed.
    public var skipWhenUpToDate: Bool

    public init(
        path: String, options: LoadOptions, output: URL? = nil, cached: Bool = true, durable: Bool = true,
        skipWhenUpToDate: Bool = true
    ) {
        self.path = path
        self.options = options
        self.output = output
        self.cached = cached
        self.durable = durable
        self.skipWhenUpToDate = skipWhenUpToDate
    }

    /// What a build did.
    public enum Result: Sendable, Equatable {
        /// The output already held this build: nothing was read or written.
        case upToDate(files: Int)
        /// The output was replaced; `changed` files differ from the last build when unchanged
        /// ones could be kept (nil when every file was written anew).
        case replaced(files: Int, changed: Int?)
        /// The build has errors (in `diagnostics`); the output was left as it was.
        case failed
    }

    public struct Report: Sendable {
        public var result: Result
        /// The output folder.
        public var output: URL
        public var diagnostics: [Diagnostic]
        public var sources: SourceStore
        /// Each step's time, the up-to-date check and the write included.
        public var timings: [BuildTiming]
        /// The build, when one was made (not when the output was up to date).
        public var build: ProjectBuild?

        /// Why the Marketplace bundle is not in the build, when it was made without one.
        public var listingLeftOut: String? { build?.project?.listingLeftOut }
    }

    /// Where a build of the project reads and writes: worked out once, here, for the command
    /// line and the dev server alike.
    public struct Location: Sendable, Equatable {
        /// The project's folders.
        public var project: ProjectLayout
        /// The output folder: `--out`, or the project's `dist/`.
        public var output: URL
    }

    /// The project `path` names and its output folder.
    /// Throws when `path` names no project, or names a descriptor (which is checked, not built).
    public func locate() throws -> Location {
        guard case .spec(let spec) = try ProjectLoader.input(for: path) else {
            throw HipKitError(
                "\(path) is a descriptor; build reads addon.yaml",
                hint: "run `hipkit import \(path) --out DIR` to make a spec of it")
        }
        let project = ProjectLayout(spec: spec)
        return Location(project: project, output: (output ?? project.defaultOutput).standardizedFileURL)
    }

    /// Builds. Throws for usage and I/O problems (no such project, an output that cannot be
    /// replaced); problems in the project are diagnostics in the report.
    /// - Parameter adjust: a last look at the build before it is written (the dev server drops
    ///   warnings that only concern production builds).
    public func run(adjust: (inout ProjectBuild) -> Void = { _ in }) throws -> Report {
        let output = try locate().output
        var timings: [BuildTiming] = []
        var stamp: String?
        if cached && skipWhenUpToDate {
            var freshness = ProjectBuild.Freshness()
            timings.append(
                BuildTiming(
                    step: "up-to-date check",
                    duration: ContinuousClock().measure {
                        freshness = ProjectBuild.check(path, options: options, output: output)
                    }))
            if let count = freshness.upToDateFiles {
                return Report(
                    result: .upToDate(files: count), output: output, diagnostics: [], sources: SourceStore(),
                    timings: timings)
            }
            stamp = freshness.inputStamp
        }
        var build = try ProjectBuild.prepare(path, options: options, cached: cached, inputStamp: stamp)
        adjust(&build)
        timings += build.timings
        guard build.project != nil, !build.hasErrors else {
            return Report(
                result: .failed, output: output, diagnostics: build.diagnostics, sources: build.sources,
                timings: timings, build: build)
        }
        var written: SiteBuilder.Outcome = .unchanged
        try timings.append(
            BuildTiming(
                step: "write",
                duration: ContinuousClock().measure { written = try build.write(to: output, durable: durable) }))
        let result: Result
        switch written {
        case .unchanged: result = .upToDate(files: build.files.count)
        case .replaced(let changed, let linked):
            result = .replaced(files: build.files.count, changed: linked > 0 ? changed : nil)
        }
        return Report(
            result: result, output: output, diagnostics: build.diagnostics, sources: build.sources, timings: timings,
            build: build)
    }
}

extension [BuildTiming] {
    /// The timings as an aligned table, with the total: what `hipkit build --timings` prints.
    public var table: String {
        let width = (map(\.step.count) + ["total".count]).max() ?? 5
        func line(_ name: String, _ ms: Double) -> String {
            name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                + String(format: "%9.1f ms", ms)
        }
        let total = reduce(0) { $0 + $1.milliseconds }
        return (map { line($0.step, $0.milliseconds) } + [line("total", total)]).joined(separator: "\n")
    }
}
