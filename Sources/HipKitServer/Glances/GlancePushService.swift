import HipChatConnect
import Logging
import ServiceLifecycle

/// Delivers glance updates to HipChat in the background, so the admin call that stored the data
/// answers at once.
///
/// A push that fails for a reason that may pass (network, 5xx, 429, an expired token) is tried
/// again after an exponentially growing delay, up to the retry policy's number of attempts; one
/// HipChat refuses for good (another 4xx) is not. Every failure is logged, and so is every push
/// given up — after the last attempt, or when the server shuts down with pushes still waiting.
final class GlancePushService: Service, Sendable {
    private let api: HipChatAPI
    private let tokens: AccessTokens
    private let retry: RetryPolicy
    private let logger: Logger
    private let stream: AsyncStream<GlancePush>
    private let continuation: AsyncStream<GlancePush>.Continuation

    init(api: HipChatAPI, tokens: AccessTokens, retry: RetryPolicy, logger: Logger) {
        self.api = api
        self.tokens = tokens
        self.retry = retry
        self.logger = logger
        (stream, continuation) = AsyncStream.makeStream(of: GlancePush.self)
    }

    /// Queues `push`; returns at once.
    func submit(_ push: GlancePush) {
        if case .terminated = continuation.yield(push) {
            logger.error("glance push dropped: the server is shutting down", metadata: metadata(push))
        }
    }

    /// Runs until the server shuts down. Pushes already being sent are finished (each call is
    /// bounded by the outgoing timeout); pushes waiting for a retry, or still queued, are
    /// logged as abandoned.
    func run() async throws {
        await withDiscardingTaskGroup { group in
            await withGracefulShutdownHandler {
                for await push in stream {
                    if Task.isShuttingDownGracefully {
                        logger.error(
                            "glance push abandoned at shutdown",
                            metadata: metadata(push).merging(["attempts": "0"]) { a, _ in a })
                        continue
                    }
                    group.addTask { await self.deliver(push) }
                }
            } onGracefulShutdown: {
                self.continuation.finish()
            }
        }
    }

    private func deliver(_ push: GlancePush) async {
        var attempt = 1
        while true {
            let outcome = await sendOnce(push)
            switch outcome {
            case .delivered:
                logger.info("glance pushed", metadata: metadata(push).merging(["attempt": "\(attempt)"]) { a, _ in a })
                return
            case .permanent(let reason):
                logger.error(
                    "glance push refused by HipChat; not retried",
                    metadata: metadata(push).merging(["reason": "\(reason)"]) { a, _ in a })
                return
            case .retry(let reason):
                guard attempt < retry.maxAttempts else {
                    logger.error(
                        "glance push given up",
                        metadata: metadata(push).merging([
                            "attempts": "\(attempt)", "reason": "\(reason)",
                        ]) { a, _ in a })
                    return
                }
                let delay = retry.delay(afterAttempt: attempt)
                logger.warning(
                    "glance push failed; will retry",
                    metadata: metadata(push).merging([
                        "attempt": "\(attempt)", "retryIn": "\(delay)", "reason": "\(reason)",
                    ]) { a, _ in a })
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                } catch {
                    logger.error(
                        "glance push abandoned at shutdown",
                        metadata: metadata(push).merging(["attempts": "\(attempt)"]) { a, _ in a })
                    return
                }
                attempt += 1
            }
        }
    }

    private enum Outcome {
        case delivered
        case retry(String)
        case permanent(String)
    }

    private func sendOnce(_ push: GlancePush) async -> Outcome {
        guard let apiUrl = push.installation.apiUrl else {
            return .permanent("the installation has no API URL (installed without verification)")
        }
        let token: String
        do {
            token = try await tokens.token(for: push.installation)
        } catch {
            return error.status == .forbidden || error.status == .conflict
                ? .permanent(error.message) : .retry(error.message)
        }
        let response: OutgoingResponse
        do {
            response = try await api.pushGlance(
                apiUrl: apiUrl, target: push.target, key: push.key, data: push.data, token: token)
        } catch {
            return error.status == .forbidden ? .permanent(error.message) : .retry(error.message)
        }
        switch response.status {
        case 200..<300:
            return .delivered
        case 401:
            await tokens.forget(push.installation.oauthId)
            return .retry("HipChat answered 401; a new token will be requested")
        case 408, 429, 500..<600:
            return .retry("HipChat answered \(response.status)")
        default:
            return .permanent("HipChat answered \(response.status)")
        }
    }

    private func metadata(_ push: GlancePush) -> Logger.Metadata {
        [
            ModuleKind.glance.rawValue: "\(push.key)", "oauthId": "\(push.installation.oauthId)",
            "target": "\(push.target.pathComponent)",
        ]
    }
}
