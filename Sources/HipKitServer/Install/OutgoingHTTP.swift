import AsyncHTTPClient
import Foundation
import HipChatConnect
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

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
    private static let client = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10)), decompression: .disabled))

    private let timeout: TimeAmount

    /// `timeout` bounds each call as a whole: connecting, sending and reading the answer.
    init(timeout: TimeInterval) {
        self.timeout = .milliseconds(Int64(timeout * 1000))
    }

    func send(_ request: OutgoingRequest) async throws(Failure) -> OutgoingResponse {
        guard let url = request.url else { throw .transport("the request has no URL") }
        var outgoing = HTTPClientRequest(url: url.absoluteString)
        outgoing.method = HTTPMethod(rawValue: request.httpMethod ?? "GET")
        for header in request.headers { outgoing.headers.add(name: header.name, value: header.value) }
        if let body = request.httpBody { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await Self.client.execute(outgoing, timeout: timeout)
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

    /// What went wrong, in words a log line can carry.
    private static func describe(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError:
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: "no answer in time"
            case .remoteConnectionClosed: "the connection was closed before the answer"
            default: "\(error)"
            }
        default:
            "\(error)"
        }
    }
}
