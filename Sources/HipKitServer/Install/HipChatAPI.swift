import Foundation
import HipChatConnect

/// The calls the runtime makes to HipChat: read a capabilities document, get a
/// `client_credentials` token, push glance data. Every URL is checked with ``URLTrust`` first.
struct HipChatAPI: Sendable {
    let http: OutgoingHTTP
    let trust: URLTrust

    /// What an install needs from HipChat's capabilities document.
    struct Capabilities: Sendable {
        var tokenUrl: String
        var apiUrl: String
    }

    struct AccessToken: Sendable {
        var value: String
        var expiresIn: TimeInterval
        /// `group_id` of HipChat's answer: the group the credentials belong to.
        var groupId: Int? = nil
    }

    enum TokenResult: Sendable {
        case granted(AccessToken)
        /// HipChat answered and said no (4xx): these credentials are not (or no longer) valid.
        case refused(status: Int)
    }

    /// Fetches `capabilitiesUrl` and checks it is HipChat's own document for that URL.
    func capabilities(_ capabilitiesUrl: String) async throws(APIError) -> Capabilities {
        let url = try trust.check(capabilitiesUrl, "capabilitiesUrl")
        var request = OutgoingRequest(url: url)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let response = try await send(request, "the capabilities document")
        guard response.isSuccess else {
            throw APIError(
                .forbidden,
                "the capabilities document at \(capabilitiesUrl) answered \(response.status)"
                    + ((300..<400).contains(response.status) ? " (redirects are not followed)" : ""),
                field: "capabilitiesUrl")
        }
        guard let document = response.json, document.dictionaryValue != nil else {
            throw APIError(
                .forbidden, "the capabilities document at \(capabilitiesUrl) is not JSON", field: "capabilitiesUrl")
        }
        guard document["links"]?["self"]?.stringValue == capabilitiesUrl else {
            throw APIError(
                .forbidden, "the capabilities document's links.self is not \(capabilitiesUrl)", field: "capabilitiesUrl"
            )
        }
        // HipChat's own capabilities document speaks the descriptor's vocabulary.
        let capabilities = document[DescriptorField.capabilities.rawValue]
        guard let tokenUrl = capabilities?[ModuleKind.oauth2Provider.rawValue]?["tokenUrl"]?.stringValue else {
            throw APIError(
                .forbidden, "the capabilities document names no oauth2Provider.tokenUrl", field: "capabilitiesUrl")
        }
        guard let apiUrl = capabilities?["hipchatApiProvider"]?["url"]?.stringValue else {
            throw APIError(
                .forbidden, "the capabilities document names no hipchatApiProvider.url", field: "capabilitiesUrl")
        }
        _ = try trust.check(tokenUrl, "tokenUrl")
        _ = try trust.check(apiUrl, "hipchatApiProvider.url")
        return Capabilities(tokenUrl: tokenUrl, apiUrl: apiUrl)
    }

    /// Asks `tokenUrl` for a `client_credentials` token with the installation's credentials
    /// (``OutgoingHTTP/send(_:retryingConnections:)`` for `retryingConnections`).
    func token(tokenUrl: String, oauthId: String, oauthSecret: String, retryingConnections: Bool = true)
        async throws(APIError) -> TokenResult
    {
        let url = try trust.check(tokenUrl, "tokenUrl")
        var request = OutgoingRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let credentials = Data("\(oauthId):\(oauthSecret)".utf8).base64EncodedString()
        request.setValue("Basic \(credentials)", forHTTPHeaderField: "Authorization")
        request.httpBody = Data("grant_type=client_credentials".utf8)
        let response = try await send(request, "the token endpoint", retryingConnections: retryingConnections)
        guard response.isSuccess else {
            if (400..<500).contains(response.status) && response.status != 408 && response.status != 429 {
                return .refused(status: response.status)
            }
            throw APIError(.badGateway, "the token endpoint answered \(response.status)")
        }
        guard let token = response.json?["access_token"]?.stringValue, !token.isEmpty else {
            return .refused(status: response.status)
        }
        let expiresIn = response.json?["expires_in"].flatMap { $0.intValue.map(Double.init) } ?? 3600
        return .granted(AccessToken(value: token, expiresIn: expiresIn, groupId: response.json?["group_id"]?.intValue))
    }

    /// Fetches an `installable_url` of HipChat's browser flows: the installation's details,
    /// which HipChat hands out once only. `url` has passed ``URLTrust`` already.
    ///
    /// Every refusal is 4xx, because each one is what the link says (used, expired, forged),
    /// not a fault of this server: HipChat answers 404 to a second use.
    func installable(_ url: URL) async throws(APIError) -> JSONNode {
        var request = OutgoingRequest(url: url)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        let response: OutgoingResponse
        do {
            response = try await http.send(request)
        } catch .tooLarge {
            throw APIError(
                .badRequest, "the installable_url answered more than 1 MiB; HipChat's answer is a few hundred bytes",
                field: "installable_url")
        } catch {
            throw APIError(.badGateway, "the installable_url cannot be reached: \(error)", field: "installable_url")
        }
        guard response.isSuccess else {
            let reason =
                switch response.status {
                case 404, 410:
                    "; HipChat gives an installation's details once only, so this link was used already or has expired"
                case 300..<400: " (redirects are not followed)"
                default: ""
                }
            throw APIError(
                .badRequest, "the installable_url answered \(response.status)\(reason); nothing was stored",
                field: "installable_url")
        }
        guard let document = response.json, document.dictionaryValue != nil else {
            throw APIError(
                .badRequest, "the installable_url did not answer a JSON object; nothing was stored",
                field: "installable_url")
        }
        return document
    }

    /// Delivers `push` to `{apiUrl}` + ``OutboxItem/apiPath``: glance data as HipChat's
    /// `addon/ui/{room|group}/{id}` takes it, a notification's body (message, message_format,
    /// color, notify, card) as it is. For the push outbox, which retries on its own schedule: a
    /// connection that cannot be made fails at once.
    func deliver(_ push: OutboxItem, apiUrl: String, token: String) async throws(APIError) -> OutgoingResponse {
        let base = apiUrl.hasSuffix("/") ? apiUrl : apiUrl + "/"
        let url = try trust.check(base + push.apiPath, "hipchatApiProvider.url")
        var request = OutgoingRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        switch push.kind {
        case .glance:
            request.httpBody =
                JSONNode.object([
                    ModuleKind.glance.rawValue: .array([.object(["key": .string(push.key), "content": push.data])])
                ]).jsonData
        case .notification:
            request.httpBody = push.data.jsonData
        }
        return try await send(request, "HipChat's API", retryingConnections: false)
    }

    private func send(_ request: OutgoingRequest, _ what: String, retryingConnections: Bool = true)
        async throws(APIError) -> OutgoingResponse
    {
        do {
            return try await http.send(request, retryingConnections: retryingConnections)
        } catch {
            throw APIError(.badGateway, "\(what) cannot be reached: \(error)")
        }
    }
}
