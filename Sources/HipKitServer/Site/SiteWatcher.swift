import Foundation
import HipChatConnect
import HipKit
import Logging
import Synchronization

/// Keeps the served build current: at most once per interval a request pays for three
/// `stat` calls on `dist/`, its descriptor and its manifest, and when they changed (a new
/// `hipkit build`) the folder is read again and the new snapshot swapped in whole.
///
/// A build that cannot be read (half-written by hand, a broken manifest) is logged and the
/// previous one stays in service; the server never answers from a mix of two builds.
final class SiteWatcher: Sendable {
    private struct State {
        var snapshot: SiteSnapshot
        var lastCheck: Date
        var reloading = false
        /// The signature of the last build that failed to load, so it is reported once.
        var failedSignature: SiteSignature?
        /// Loads begun, and the number of the one in service: a load begun later read `dist/`
        /// later, so one that ends after a newer one must not replace it.
        var loadsBegun = 0
        var loadInService = 0
    }

    private let loader: SiteLoader
    private let interval: TimeInterval
    private let logger: Logger
    private let state: Mutex<State>

    /// Reads `dist/` once; throws when the first build cannot be served.
    init(loader: SiteLoader, interval: TimeInterval, logger: Logger) throws(SiteLoader.Failure) {
        self.loader = loader
        self.interval = interval
        self.logger = logger
        let snapshot = try loader.load()
        state = Mutex(State(snapshot: snapshot, lastCheck: Date()))
        Self.logWarnings(snapshot, logger: logger)
    }

    /// The build to answer this request from.
    func current() -> SiteSnapshot {
        let now = Date()
        let (snapshot, due): (SiteSnapshot, Bool) = state.withLock { state in
            guard isLookDue(state, now: now) else { return (state.snapshot, false) }
            state.lastCheck = now
            return (state.snapshot, true)
        }
        guard due else { return snapshot }
        let signature = signatureNow()
        guard signature != snapshot.signature, signature.descriptor != nil else { return snapshot }
        let load = state.withLock { state -> Int? in
            if state.failedSignature == signature || state.reloading { return nil }
            state.reloading = true
            state.loadsBegun += 1
            return state.loadsBegun
        }
        guard let load else { return snapshot }
        return reload(signature: signature, previous: snapshot, load: load, isRequests: true).served
    }

    /// The build being served, or nil when it is time to look at `dist/` again.
    ///
    /// For the event loop's answers (``EventLoopAnswers``), which must never wait for a disk: the
    /// request that finds a look due goes on to the responder, whose ``current()`` makes it
    /// (and reads a new build, when there is one) off the event loop.
    func currentWithoutLooking() -> SiteSnapshot? {
        let now = Date()
        return state.withLock { state in
            isLookDue(state, now: now) ? nil : state.snapshot
        }
    }

    /// The build in service and whether a request is reading a new one, without looking at
    /// `dist/`.
    var inService: (snapshot: SiteSnapshot, isReloading: Bool) {
        state.withLock { ($0.snapshot, $0.reloading) }
    }

    /// Whether a request at `now` should look at `dist/`: the interval has passed, and no other
    /// request is reading a new build.
    private func isLookDue(_ state: State, now: Date) -> Bool {
        !state.reloading && now.timeIntervalSince(state.lastCheck) >= interval
    }

    /// Looks at `dist/` now instead of at the next interval, and reads a new build there even
    /// while a request is reading one: `hipkit dev` calls this right after writing a build, before
    /// telling the pages to reload, and what is served when it returns is that build or a newer
    /// one — or, when it cannot be served, why. (Leaving the new build to a request already
    /// reading it would return at once, and a page told of the build could load the one before.)
    @discardableResult
    func refresh() -> String? {
        let signature = signatureNow()
        let previous = state.withLock { state -> SiteSnapshot? in
            state.lastCheck = Date()
            return signature == state.snapshot.signature ? nil : state.snapshot
        }
        guard let previous else { return nil }
        guard signature.descriptor != nil else { return "dist/ has no \(ConnectDescriptor.fileName)" }
        let load = state.withLock { state in
            state.loadsBegun += 1
            return state.loadsBegun
        }
        return reload(signature: signature, previous: previous, load: load, isRequests: false).failure
    }

    /// Reads `dist/` as load number `load` and puts it in service unless a later load already is;
    /// answers the build in service then, and why this one could not be read. `isRequests`: begun
    /// by ``current()``, which marked ``State/reloading``.
    private func reload(signature: SiteSignature, previous: SiteSnapshot, load: Int, isRequests: Bool)
        -> (served: SiteSnapshot, failure: String?)
    {
        let result = Result { () throws(SiteLoader.Failure) in try loader.load(reusing: previous) }
        // A load that ended after a later one was put in service says nothing of that one.
        let (served, isNewest) = state.withLock { state in
            if isRequests { state.reloading = false }
            guard load > state.loadInService else { return (state.snapshot, false) }
            switch result {
            case .success(let fresh):
                state.snapshot = fresh
                state.loadInService = load
                state.failedSignature = nil
            case .failure:
                state.failedSignature = signature
            }
            return (state.snapshot, true)
        }
        switch result {
        case .success(let fresh):
            if isNewest {
                logger.info("serving a new build of dist/", metadata: ["files": "\(fresh.files.count)"])
                Self.logWarnings(fresh, logger: logger)
            }
            return (served, nil)
        case .failure(let error):
            if isNewest {
                logger.error(
                    "the new build of dist/ cannot be served; still serving the previous one",
                    metadata: ["problems": "\(error)"])
            }
            return (served, "\(error)")
        }
    }

    /// The signature of `dist/` as it is now, read at its real path (every link resolved).
    private func signatureNow() -> SiteSignature {
        SiteSignature.read(dist: FileStat.realPath(loader.dist.path) ?? loader.dist.path)
    }

    private static func logWarnings(_ snapshot: SiteSnapshot, logger: Logger) {
        for warning in snapshot.warnings {
            logger.warning("\(warning.location.map { "\($0): " } ?? "")\(warning.message)")
        }
    }
}
