import Foundation
import HipChatConnect
import HipKit
import Logging
import ServiceLifecycle
import Synchronization

/// The build half of `hipkit dev`: builds the project into `dist/` whenever its files change,
/// and tells the ``DevSession`` what changed or what went wrong.
///
/// Each rebuild is a whole `hipkit build` with the page cache (`.hipkit/cache`), so only pages
/// whose inputs changed are rendered again and only changed files are written; a failed
/// rebuild writes nothing, and the last good build stays in service.
public final class DevRebuilder: Service, Sendable {
    /// What one rebuild did.
    public struct Outcome: Sendable {
        /// The build, with its diagnostics.
        public var build: ProjectBuild
        /// Whether `dist/` now holds this build.
        public var succeeded: Bool
        /// Paths in `dist/` whose bytes changed (empty when nothing did, or the build failed).
        public var changed: [String]
        public var duration: Duration
        /// What stopped the build before any diagnostic of the project (an unknown environment,
        /// a folder that cannot be read): a usage or I/O problem, as `hipkit build` has it.
        public var error: HipKitError?
        /// Whether a build of this session succeeded before (and is what is served).
        public var afterAGoodBuild = false
    }

    public let path: String
    public let options: LoadOptions
    public let output: URL
    /// The project's folders; its own is the one watched.
    public let project: ProjectLayout
    /// The folder watched: the project's.
    public var projectDirectory: URL { project.directory }
    /// Every rebuild's build, with the output folder it worked out.
    private let builder: ProjectBuilder
    private let session: DevSession
    private let logger: Logger
    private let report: @Sendable (Outcome) -> Void
    /// The files of the last good build, to tell which paths a rebuild changed.
    private let lastGood = Mutex<[String: Data]?>(nil)

    /// - Parameters:
    ///   - output: where builds go; nil for the project's `dist/`.
    ///   - report: shows each rebuild's diagnostics on the terminal.
    public init(
        path: String, options: LoadOptions, output: URL?, session: DevSession, logger: Logger,
        report: @escaping @Sendable (Outcome) -> Void
    ) throws {
        self.path = path
        self.options = options
        self.session = session
        self.logger = logger
        self.report = report
        builder = ProjectBuilder(
            path: path, options: options, output: output, cached: true,
            // Not flushed to disk: dev output is rebuilt at every start (see StagedDirectory).
            durable: false, skipWhenUpToDate: false)
        let location = try builder.locate()
        project = location.project
        self.output = location.output
    }

    /// Each regular file under `folder` by path, as its device and inode: ``SiteBuilder`` links
    /// a file the new build did not change to the old one, so it keeps its identity, and nothing
    /// needs reading to tell (reading all of a large `dist/` at every start did).
    private static func fileIdentities(in folder: URL) -> [String: FileIdentity] {
        var identities: [String: FileIdentity] = [:]
        for entry in FileTree.walk(folder, complete: false, sorted: false) ?? [] where entry.stat.kind == .file {
            identities[entry.path] = FileIdentity(device: entry.stat.device, inode: entry.stat.inode)
        }
        return identities
    }

    private struct FileIdentity: Equatable {
        var device: UInt64
        var inode: UInt64
    }

    /// Builds now. On success `dist/` is replaced and the session told which files changed;
    /// on failure the session gets the problems and `dist/` is left as it was.
    @discardableResult
    public func rebuild() -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        var build = ProjectBuild(project: nil, diagnostics: [], sources: SourceStore(), files: [])
        var changed: [String] = []
        var succeeded = false
        var thrown: HipKitError?
        // Before the first build, what `dist/` holds is the last build to compare with: a start
        // on an unchanged project changed nothing (it reported every file changed).
        let onDisk = lastGood.withLock { $0 == nil } ? Self.fileIdentities(in: output) : nil
        do {
            let report = try builder.run { build in
                // Dev builds use a local http base URL on purpose; the listing's https rule is for
                // the production build and would only repeat itself on every save.
                build.diagnostics.removeAll { $0.code == .listingArtifact && $0.severity == .warning }
            }
            build = report.build ?? build
            if report.result != .failed {
                let files = Dictionary(build.files.map { ($0.path, $0.data) }, uniquingKeysWith: { first, _ in first })
                // A file the build kept from the last one is linked to it: the same file on disk.
                let kept = onDisk.map { before in
                    let after = Self.fileIdentities(in: output)
                    return Set(files.keys.filter { path in before[path].map { after[path] == $0 } ?? false })
                }
                let gone = onDisk.map { $0.keys.filter { files[$0] == nil } } ?? []
                changed = lastGood.withLock { previous in
                    defer { previous = files }
                    guard let previous else {
                        guard let kept else { return files.keys.sorted() }
                        return (files.keys.filter { !kept.contains($0) } + gone).sorted()
                    }
                    let removed = previous.keys.filter { files[$0] == nil }
                    return (files.filter { previous[$0.key] != $0.value }.map(\.key) + removed).sorted()
                }
                succeeded = true
            }
        } catch {
            thrown = error as? HipKitError
            build.diagnostics.append(Self.failure(error))
        }
        if build.project == nil, build.diagnostics.isEmpty {
            build.diagnostics.append(.error(.build, "the project could not be read", at: nil))
        }
        var outcome = Outcome(
            build: build, succeeded: succeeded, changed: changed, duration: clock.now - start, error: thrown)
        outcome.afterAGoodBuild = !succeeded && lastGood.withLock { $0 != nil }
        report(outcome)
        if succeeded {
            // Also when nothing changed: a page showing the last failure learns it is fixed.
            session.built(changed: changed)
        } else {
            session.failed(DevProblem.from(build.diagnostics, sources: build.sources))
        }
        return outcome
    }

    /// Waits for changes and rebuilds until a build succeeds; false when cancelled first.
    public func untilGoodBuild() async -> Bool {
        let watcher = makeWatcher()
        defer { watcher.stop() }
        for await _ in watcher.changes() {
            if Task.isCancelled { return false }
            if rebuild().succeeded { return true }
        }
        return false
    }

    /// Rebuilds after every batch of changes until the server shuts down.
    public func run() async throws {
        let watcher = makeWatcher()
        defer { watcher.stop() }
        for await batch in watcher.changes().cancelOnGracefulShutdown() {
            logger.debug("changed", metadata: ["paths": "\(batch.sorted().prefix(10).joined(separator: ", "))"])
            rebuild()
        }
    }

    /// Watches the project but not the output (when it lies inside the project) nor hipkit's
    /// own cache: writing them must not start another rebuild.
    private func makeWatcher() -> ProjectWatcher {
        return ProjectWatcher(root: projectDirectory, ignoring: project.ignored(output: output))
    }

    private static func failure(_ error: any Error) -> Diagnostic {
        if let error = error as? HipKitError {
            return .error(.build, error.message, at: nil, hint: error.hint)
        }
        return .error(.build, "\(error)", at: nil)
    }
}
