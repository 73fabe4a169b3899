import AsyncHTTPClient
import Foundation
import HipChatConnect
import HipKit
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix

/// A call the server makes: the parts of a request the runtime and the local HipChat use.
struct OutgoingRequest: Sendable {
    var url: URL?
    var httpMethod: String?
    var httpBody: Data?
    private(set) var headers: [(name: String, value: String)] = []

    init(url: URL) {
        self.url = url
    }

    /// Sets `field` to `value`, replacing an earlier value (header names are case-insensitive).
    mutating func setValue(_ value: String, forHTTPHeaderField field: String) {
        headers.removeAll { $0.name.caseInsensitiveCompare(field) == .orderedSame }
        headers.append((field, value))
    }

    func value(forHTTPHeaderField field: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(field) == .orderedSame }?.value
    }
}

/// The answer to a call the server made.
struct OutgoingResponse: Sendable {
    var status: Int
    var body: Data
    var json: JSONNode? { JSONNode.parse(body) }
    var isSuccess: Bool { (200..<300).contains(status) }
}

/// Calls from the server to HipChat (capabilities, tokens, glance pushes) and from the local
/// HipChat to the add-on, through AsyncHTTPClient on the process's NIO event loops, the ones
/// Hummingbird serves on.
///
/// Redirects are never followed: a trusted host redirecting to an untrusted one would
/// otherwise receive the installation's credentials. The 3xx itself comes back as the answer,
/// and callers treat it as a refusal. Answers are cut off at ``maxResponseBytes``.
struct OutgoingHTTP: Sendable {
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

    /// One client for the process, as `HTTPClient.shared` is, but refusing redirects. Like that
    /// one it is never shut down (a static lives as long as the process), so no server or test
    /// can forget to shut it down — which AsyncHTTPClient would otherwise trap on.
    ///
    /// A connection that cannot be made is tried again, with backoff, for up to 10 seconds:
    /// AsyncHTTPClient's advice for calls across networks, where that is common and passes.
    private static let client = makeClient(retryingConnections: true)

    /// The same, but a connection that cannot be made fails the call at once: for the local
    /// HipChat's calls to an add-on on this machine (a loopback address), where a refused
    /// connection means it is not running, which a developer wants told now rather than after 10
    /// seconds of retries. Calls to other hosts keep the retries.
    private static let clientFailingFast = makeClient(retryingConnections: false)

    private static func makeClient(retryingConnections: Bool) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10)), decompression: .disabled)
        configuration.connectionPool.retryConnectionEstablishment = retryingConnections
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    private let timeout: TimeAmount
    private let retryingLoopback: Bool

    /// `timeout` bounds each call as a whole: connecting, sending and reading the answer.
    /// Without `retryingLoopback`, a connection to a loopback address that cannot be made fails
    /// the call at once.
    init(timeout: TimeInterval, retryingLoopback: Bool = true) {
        self.timeout = .milliseconds(Int64(timeout * 1000))
        self.retryingLoopback = retryingLoopback
    }

    /// Whether a call to `url` fails at once when its connection cannot be made (see
    /// ``clientFailingFast``).
    func failsFast(for url: URL) -> Bool {
        guard !retryingLoopback, let host = url.host else { return false }
        return URLReference.isLoopback(host)
    }

    private func client(for url: URL, retryingConnections: Bool) -> HTTPClient {
        !retryingConnections || failsFast(for: url) ? Self.clientFailingFast : Self.client
    }

    /// Sends `request`. `retryingConnections: false` fails the call at once when its connection
    /// cannot be made, for a caller that retries on a schedule of its own (the push outbox):
    /// otherwise every attempt at a host that is down would take the 10 seconds of the client's
    /// own retries, and leave its connection pool backing off from that host when it is back.
    func send(_ request: OutgoingRequest, retryingConnections: Bool = true) async throws(Failure)
        -> OutgoingResponse
    {
        guard let url = request.url else { throw .transport("the request has no URL") }
        var outgoing = HTTPClientRequest(url: url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.httpMethod ?? "GET")
        for header in request.headers { outgoing.headers.add(name: header.name, value: header.value) }
        if let body = request.httpBody { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await client(for: url, retryingConnections: retryingConnections).execute(
                outgoing, timeout: timeout)
            let body = try await response.body.collect(upTo: Self.maxResponseBytes)
            return OutgoingResponse(status: Int(response.status.code), body: Data(buffer: body))
        } catch is NIOTooManyBytesError {
            throw .tooLarge
        } catch is CancellationError {
            throw .cancelled
        } catch let error as HTTPClientError where error == .cancelled {
            throw .cancelled
        } catch {
            throw .transport(Self.describe(error))
        }
    }

    /// What went wrong, in words a log line can carry (and the local HipChat shows).
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError:
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: "no answer in time"
            case .remoteConnectionClosed: "the connection was closed before the answer"
            default: "\(error)"
            }
        case let error as IOError:
            describe(errno: error.errnoCode)
        case let error as NIOConnectionError:
            if error.dnsAError != nil || error.dnsAAAAError != nil {
                "the host name \(error.host) cannot be resolved"
            } else if let first = error.connectionErrors.first {
                // `localhost` is tried at ::1 and 127.0.0.1: a refusal at either says most.
                describe(
                    error.connectionErrors.first { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }?.error
                        ?? first.error)
            } else {
                "cannot connect to \(error.host):\(error.port)"
            }
        default:
            "\(error)"
        }
    }

    /// A connection's system error, in words: NIO's own text ("connection reset (error set):
    /// Connection refused (errno: 111)") is about its internals.
    private static func describe(errno code: Int32) -> String {
        switch code {
        case ECONNREFUSED: "connection refused: nothing listens at that address"
        case ECONNRESET: "the connection was reset"
        case ETIMEDOUT: "no answer in time"
        case EHOSTUNREACH, ENETUNREACH: "the host cannot be reached"
        default: String(cString: strerror(code))
        }
    }
}
