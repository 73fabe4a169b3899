import Foundation
import HipChatConnect
import Logging
import ServiceLifecycle
import Synchronization

/// Delivers the glance updates and room notifications waiting in the store's push outbox to
/// HipChat, in the background, so the admin call that queued them answers at once.
///
/// The outbox is in the store, not in memory: an update acknowledged with 2xx reaches HipChat
/// even if this server is restarted or killed before it is sent. Each push is taken with a
/// lease (``InstallationStore/claimPushes(limit:lease:now:)``), so when several servers share one
/// database, one of them sends it; if that one dies mid-delivery, another takes the push again
/// when the lease ends.
///
/// A push that fails for a reason that may pass (network, 5xx, 429, an expired token) is tried
/// again after an exponentially growing delay, up to the retry policy's number of attempts; one
/// HipChat refuses for good (another 4xx) is not. Every failure is logged, and so is every push
/// given up.
final class PushOutboxService: Service, Sendable {
    private let store: any InstallationStore
    private let api: HipChatAPI
    private let tokens: AccessTokens
    private let retry: RetryPolicy
    private let lease: Duration
    private let pollInterval: Duration
    private let logger: Logger
    private let doorbell = Doorbell()
    /// Pushes taken and not yet finished; at most ``concurrency``.
    private let inFlight = Mutex(0)
    /// How many times the outbox was read (pushes claimed); for tests of the quiet look.
    let looks = Atomic(0)
    /// Rung once the first look is over (see ``firstLookOver(upTo:)``).
    private let firstLook = Doorbell()
    private static let concurrency = 32

    /// - Parameters:
    ///   - lease: how long a taken push is this server's alone; longer than one delivery (a token
    ///     request and a push, each bounded by the outgoing timeout).
    ///   - pollInterval: how often the outbox is looked at when nothing told this server to look:
    ///     for pushes queued through other servers, and ones left by a server that died.
    init(
        store: any InstallationStore, api: HipChatAPI, tokens: AccessTokens, retry: RetryPolicy, lease: Duration,
        pollInterval: Duration = .seconds(1), logger: Logger
    ) {
        self.store = store
        self.api = api
        self.tokens = tokens
        self.retry = retry
        self.lease = lease
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// Returns once the outbox has been looked at the first time after the start, or after
    /// `limit`. The server gives back the pages of code starting touched only then, so that the
    /// first look's code (the store's write path) goes back with the rest and stays out while the
    /// server is idle.
    func firstLookOver(upTo limit: Duration) async {
        _ = await firstLook.wait(upTo: limit)
    }

    /// Tells the service pushes were queued: it looks at the outbox at once.
    func wake() {
        doorbell.ring()
    }

    /// Runs until the server shuts down. Pushes being sent are finished (each call is bounded by
    /// the outgoing timeout); the rest stay in the outbox for the next start.
    func run() async throws {
        await withDiscardingTaskGroup { group in
            await withGracefulShutdownHandler {
                // What the last look found: the store's commit version before it, and when the
                // next queued push is due. Nil when that look was not a whole one.
                var looked: (version: Int64, due: Date?)?
                var rung = true
                // Cancelled too when another service fails (the HTTP server cannot listen):
                // the group then waits for this one to end.
                while !Task.isShuttingDownGracefully, !Task.isCancelled {
                    // Nothing rang, nothing was committed to the store since the last look, and
                    // nothing it held is due: the outbox is as it was, so no need to read it. An idle
                    // server then runs almost no code each second, and its pages stay out of memory.
                    if !rung, let last = looked, store.commitVersion() == last.version,
                        last.due.map({ $0 > Date() }) ?? true
                    {
                        rung = await doorbell.wait(upTo: Self.wait(until: last.due, atMost: pollInterval))
                        continue
                    }
                    looked = nil
                    looks.add(1, ordering: .relaxed)
                    // Taken before the look: a commit during it shows as a change at the next.
                    let version = store.commitVersion()
                    let free = Self.concurrency - inFlight.withLock { $0 }
                    var claimed: [ClaimedOutboxItem] = []
                    var read = free > 0
                    if free > 0 {
                        do {
                            claimed = try await store.claimPushes(limit: free, lease: lease, now: Date())
                        } catch {
                            read = false
                            // Cancelled, the server is stopping (or could not start): not a fault
                            // of the store's, and the loop ends at its next turn.
                            if !Task.isCancelled {
                                logger.error("the push outbox cannot be read", metadata: ["error": "\(error)"])
                            }
                        }
                    }
                    for push in claimed {
                        inFlight.withLock { $0 += 1 }
                        group.addTask {
                            await self.deliver(push)
                            self.inFlight.withLock { $0 -= 1 }
                            self.doorbell.ring()
                        }
                    }
                    if looks.load(ordering: .relaxed) == 1 { firstLook.ring() }
                    if !claimed.isEmpty, claimed.count == free {
                        rung = true
                        continue
                    }
                    // How long to sleep when nothing rings: until the next push is due, at most
                    // the poll interval.
                    do {
                        let due = try await store.nextPushDue()
                        if read, let version { looked = (version, due) }
                        rung = await doorbell.wait(upTo: Self.wait(until: due, atMost: pollInterval))
                    } catch {
                        rung = await doorbell.wait(upTo: pollInterval)
                    }
                }
            } onGracefulShutdown: {
                self.doorbell.ring()
            }
        }
    }

    /// The time until `due` (at least a millisecond), at most `limit`; `limit` when nothing is due.
    private static func wait(until due: Date?, atMost limit: Duration) -> Duration {
        guard let due else { return limit }
        let seconds = due.timeIntervalSinceNow
        guard seconds > 0 else { return .milliseconds(1) }
        return min(limit, .milliseconds(Int64((seconds * 1000).rounded(.up))))
    }

    private func deliver(_ claimed: ClaimedOutboxItem) async {
        let push = claimed.push
        let attempt = claimed.attempts + 1
        let outcome = await sendOnce(push)
        do {
            switch outcome {
            case .delivered:
                try await store.finishPush(claimed)
                logger.info(
                    "\(Self.delivered(push))",
                    metadata: metadata(push).merging(["attempt": "\(attempt)"]) { a, _ in a })
            case .permanent(let reason):
                try await store.finishPush(claimed)
                // Not always HipChat's answer: an uninstalled add-on, an installation never
                // verified, or a HipChat host not trusted end it before anything is sent.
                logger.error(
                    "\(Self.noun(push)) not delivered, and not retried",
                    metadata: metadata(push).merging(["reason": "\(reason)"]) { a, _ in a })
            case .retry(let reason):
                guard attempt < retry.maxAttempts else {
                    try await store.finishPush(claimed)
                    logger.error(
                        "\(Self.noun(push)) given up",
                        metadata: metadata(push).merging(["attempts": "\(attempt)", "reason": "\(reason)"]) { a, _ in a
                        })
                    return
                }
                let delay = retry.delay(afterAttempt: attempt)
                try await store.retryPush(claimed, at: Date().addingTimeInterval(delay / .seconds(1)))
                logger.warning(
                    "\(Self.noun(push)) failed; will retry",
                    metadata: metadata(push).merging([
                        "attempt": "\(attempt)", "retryIn": "\(delay)", "reason": "\(reason)",
                    ]) { a, _ in a })
            }
        } catch {
            // The lease runs out and the push is taken again: sent twice at worst, never lost.
            logger.error(
                "the push outbox cannot be updated",
                metadata: metadata(push).merging(["error": "\(error)"]) { a, _ in a })
        }
    }

    private enum Outcome {
        case delivered
        case retry(String)
        case permanent(String)
    }

    private func sendOnce(_ push: OutboxItem) async -> Outcome {
        let found: Installation?
        do {
            found = try await store.installation(oauthId: push.oauthId)
        } catch {
            return .retry("the installation cannot be read: \(error)")
        }
        guard let installation = found else { return .permanent("the add-on was uninstalled") }
        guard let apiUrl = installation.apiUrl else {
            return .permanent("the installation has no API URL (installed without verification)")
        }
        let token: String
        do {
            token = try await tokens.token(for: installation)
        } catch {
            return error.status == .forbidden || error.status == .conflict
                ? .permanent(error.message) : .retry(error.message)
        }
        let response: OutgoingResponse
        do {
            response = try await api.deliver(push, apiUrl: apiUrl, token: token)
        } catch {
            return error.status == .forbidden ? .permanent(error.message) : .retry(error.message)
        }
        switch response.status {
        case 200..<300:
            return .delivered
        case 401:
            await tokens.forget(installation.oauthId)
            return .retry("HipChat answered 401; a new token will be requested")
        case 408, 429, 500..<600:
            return .retry("HipChat answered \(response.status)")
        default:
            return .permanent("HipChat answered \(response.status)")
        }
    }

    /// What the logs say when `push` reached HipChat.
    private static func delivered(_ push: OutboxItem) -> String {
        switch push.kind {
        case .glance: "glance pushed"
        case .notification: "notification sent"
        }
    }

    /// What the logs call a delivery of `push`'s kind.
    private static func noun(_ push: OutboxItem) -> String {
        switch push.kind {
        case .glance: "glance push"
        case .notification: "notification"
        }
    }

    private func metadata(_ push: OutboxItem) -> Logger.Metadata {
        [
            push.kind.rawValue: "\(push.key)",
            "oauthId": "\(push.oauthId)", "target": "\(push.apiPath)",
        ]
    }
}

/// Wakes one waiting task early: a ring while nobody waits is kept for the next wait.
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Bool, Never>?
    }

    private let state = Mutex(State())

    func ring() {
        resume(rung: true)
    }

    /// Wakes the waiter, if there is one; a ring while nobody waits is kept, the end of a wait's
    /// time is not.
    private func resume(rung: Bool) {
        let waiter = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            if rung { state.rung = true }
            return nil
        }
        waiter?.resume(returning: rung)
    }

    /// Returns at the first ring (or at once, if one came since the last wait), or after `limit`:
    /// true when it was a ring.
    func wait(upTo limit: Duration) async -> Bool {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Cancelled, the wait ends at once: its task is being stopped.
                _ = try? await Task.sleep(for: limit)
                self.resume(rung: false)
            }
            let rung = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.rung {
                        state.rung = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if now {
                    continuation.resume(returning: true)
                } else if Task.isCancelled {
                    // The sleep may have ended before there was a waiter to wake.
                    resume(rung: false)
                }
            }
            group.cancelAll()
            return rung
        }
    }
}
