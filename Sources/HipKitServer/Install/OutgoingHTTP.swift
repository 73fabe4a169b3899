import Foundation
import HipChatConnect
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The answer to a call the server made.
struct OutgoingResponse: Sendable {
    var status: Int
    var body: Data
    var json: JSONNode? { JSONNode.parse(body) }
    var isSuccess: Bool { (200..<300).contains(status) }
}

/// Calls from the server to HipChat (capabilities, tokens, glance pushes), through
/// `URLSession`.
///
/// Redirects are never followed: a trusted host redirecting to an untrusted one would
/// otherwise receive the installation's credentials. The 3xx itself comes back as the answer,
/// and callers treat it as a refusal. Tasks are driven through the session delegate because
/// Foundation on Linux asks the delegate about redirects only for delegate-driven tasks, not
/// for tasks with a completion handler.
final class OutgoingHTTP: Sendable {
    enum Failure: Error, CustomStringConvertible {
        case transport(String)
        case tooLarge
        case cancelled

        var description: String {
            switch self {
            case .transport(let message): message
            case .tooLarge: "the answer is larger than 1 MiB"
            case .cancelled: "cancelled"
            }
        }
    }

    static let maxResponseBytes = 1 << 20

    private let session: URLSession
    private let delegate: Delegate

    init(timeout: TimeInterval) {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout * 2
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        delegate = Delegate()
        session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
    }

    deinit {
        session.invalidateAndCancel()
    }

    func send(_ request: URLRequest) async throws(Failure) -> OutgoingResponse {
        let task = session.dataTask(with: request)
        let result: Result<OutgoingResponse, Failure> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                delegate.register(task.taskIdentifier, continuation)
                task.resume()
            }
        } onCancel: {
            task.cancel()
        }
        return try result.get()
    }

    /// Collects each task's answer and refuses every redirect.
    private final class Delegate: NSObject, URLSessionDataDelegate, Sendable {
        private struct Pending {
            var continuation: CheckedContinuation<Result<OutgoingResponse, Failure>, Never>
            var status = 0
            var body = Data()
            var tooLarge = false
        }

        private let pending = Mutex<[Int: Pending]>([:])

        func register(_ id: Int, _ continuation: CheckedContinuation<Result<OutgoingResponse, Failure>, Never>) {
            pending.withLock { $0[id] = Pending(continuation: continuation) }
        }

        func urlSession(
            _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
            newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
        ) {
            completionHandler(nil)
        }

        func urlSession(
            _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
            completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
        ) {
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            pending.withLock { $0[dataTask.taskIdentifier]?.status = status }
            completionHandler(.allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            let cancel = pending.withLock { all -> Bool in
                guard var entry = all[dataTask.taskIdentifier] else { return false }
                if entry.body.count + data.count > OutgoingHTTP.maxResponseBytes {
                    entry.tooLarge = true
                    all[dataTask.taskIdentifier] = entry
                    return true
                }
                entry.body.append(data)
                all[dataTask.taskIdentifier] = entry
                return false
            }
            if cancel { dataTask.cancel() }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            guard let entry = pending.withLock({ $0.removeValue(forKey: task.taskIdentifier) }) else { return }
            // A refused redirect completes without error, with the 3xx as the answer.
            let status = entry.status != 0 ? entry.status : ((task.response as? HTTPURLResponse)?.statusCode ?? 0)
            if entry.tooLarge {
                entry.continuation.resume(returning: .failure(.tooLarge))
            } else if let error {
                let nsError = error as NSError
                if nsError.code == NSURLErrorCancelled {
                    entry.continuation.resume(returning: .failure(.cancelled))
                } else {
                    entry.continuation.resume(returning: .failure(.transport(nsError.localizedDescription)))
                }
            } else {
                entry.continuation.resume(returning: .success(OutgoingResponse(status: status, body: entry.body)))
            }
        }
    }
}
