import Foundation
import HipChatConnect
import ServiceLifecycle
import Synchronization

/// The state `hipkit dev` shares between its rebuilds and the pages open in browsers: which
/// build is current, whether the last rebuild failed, and who is listening for news.
///
/// A rebuild reports here (``built(changed:)`` or ``failed(_:)``); the session first makes the
/// server pick up the new `dist/` (so a page reloading at once gets the new bytes, not the old
/// ones for up to a second) and then tells every listener.
///
/// It is a `Service` so that on shutdown it ends every open event stream: otherwise the HTTP
/// server would wait for those endless responses and never stop.
public final class DevSession: Service, Sendable {
    /// Identifies this process; a page that reconnects and finds another one reloads.
    public let instance: String

    private struct State {
        var build = 0
        /// What the last builds changed, oldest first, for pages that ask what they missed.
        var recent: [(build: Int, changed: [String])] = []
        var problems: [DevProblem]?
        var listeners: [Int: AsyncStream<DevEvent>.Continuation] = [:]
        var nextListener = 0
        var closed = false
        var siteChanged: (@Sendable () -> String?)?
    }

    private let state = Mutex(State())
    private let keepAliveInterval: Duration

    public init(keepAliveInterval: Duration = .seconds(15)) {
        instance = UUID().uuidString.lowercased()
        self.keepAliveInterval = keepAliveInterval
    }

    /// The number of the build being served (0 before the first), and the problems of the last
    /// rebuild when it failed.
    public var status: (build: Int, problems: [DevProblem]?) {
        state.withLock { ($0.build, $0.problems) }
    }

    /// A rebuild wrote a new `dist/`; `changed` are the paths in it whose bytes differ. When the
    /// server cannot put it in service, the pages are told that as a failure, not of a build they
    /// would reload into and not find.
    public func built(changed: [String]) {
        let hook = state.withLock { $0.siteChanged }
        if let problem = hook?() {
            failed([
                DevProblem(
                    severity: "error", code: "dist-not-served",
                    message: "the new build of dist/ cannot be served: \(problem)",
                    hint: "the previous build is still served; save again to rebuild", file: nil, line: nil,
                    column: nil,
                    excerpt: [])
            ])
            return
        }
        broadcast { state in
            state.build += 1
            state.problems = nil
            state.recent.append((state.build, changed))
            if state.recent.count > Self.recentBuilds { state.recent.removeFirst() }
            return .built(build: state.build, changed: changed)
        }
    }

    /// A rebuild failed with `problems`; the last good build stays in service.
    public func failed(_ problems: [DevProblem]) {
        broadcast { state in
            state.problems = problems
            return .failed(build: state.build, problems: problems)
        }
    }

    /// Runs until shutdown, keeping quiet streams alive, then ends them all.
    public func run() async throws {
        await keepStreamsAlive()
        let listeners = state.withLock { state in
            state.closed = true
            defer { state.listeners = [:] }
            return Array(state.listeners.values)
        }
        for listener in listeners { listener.finish() }
    }

    /// Until graceful shutdown, sends every open stream a comment each interval, so that a proxy
    /// or tunnel in between does not drop one that is quiet for long; ends none of them. The
    /// waiting page's server runs this alone: the real server takes the session over after it.
    func keepStreamsAlive() async {
        await cancelWhenGracefulShutdown { [keepAliveInterval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: keepAliveInterval)
                self.broadcast { _ in .keepAlive }
            }
        }
    }

    /// Called (by the server) before listeners hear of a new build: puts it in service, or says
    /// why it cannot be.
    func onSiteChange(_ hook: @escaping @Sendable () -> String?) {
        state.withLock { $0.siteChanged = hook }
    }

    /// How many builds' changes are kept for ``subscribe(since:)``.
    static let recentBuilds = 64

    /// A stream of events for one page, starting with
    /// ``DevEvent/hello(instance:build:problems:changedSince:)``. `since`: the build the page
    /// was served from; the hello then says what changed after it, when every build since is
    /// still known.
    func subscribe(since: Int? = nil) -> AsyncStream<DevEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: DevEvent.self, bufferingPolicy: .bufferingNewest(64))
        let id: Int? = state.withLock { state in
            guard !state.closed else { return nil }
            let id = state.nextListener
            state.nextListener += 1
            state.listeners[id] = continuation
            continuation.yield(
                .hello(
                    instance: instance, build: state.build, problems: state.problems,
                    changedSince: since.flatMap { Self.changes(after: $0, in: state) }))
            return id
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.listeners.removeValue(forKey: id) }
        }
        return stream
    }

    /// The paths changed by the builds after `build`, or nil when some of them are forgotten
    /// (or `build` is later than this process's: it is another's, which pages tell by the
    /// instance).
    private static func changes(after build: Int, in state: State) -> [String]? {
        guard build >= 0, build <= state.build else { return nil }
        let missed = state.recent.filter { $0.build > build }
        guard missed.count == state.build - build else { return nil }
        return Array(Set(missed.flatMap(\.changed))).sorted()
    }

    /// Changes the state and queues the resulting event to every listener in one step, so no
    /// listener can see events out of order or miss one between its hello and the next.
    private func broadcast(_ change: (inout State) -> DevEvent) {
        state.withLock { state in
            let event = change(&state)
            for listener in state.listeners.values { listener.yield(event) }
        }
    }
}
