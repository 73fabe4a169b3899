import Foundation
import HipChatConnect
import Hummingbird

/// HipChat's browser flows (`installedUrl`, `updatedUrl`, `uninstalledUrl`), named by the model.
typealias BrowserFlow = RuntimeEndpoint.BrowserFlow

/// The two parameters of a browser flow, checked before anything is fetched.
struct BrowserFlowRequest: Sendable, Equatable {
    var installable: URL
    var redirect: URL

    /// Reads and checks the query: both parameters present once, `installable_url` on a trusted
    /// host (the server fetches it, so anything else would let a link make it call elsewhere),
    /// and `redirect_url` on that same HipChat (``URLTrust/checkRedirect(_:from:)``).
    init(query: String?, trust: URLTrust) throws(APIError) {
        func parameter(_ name: String) throws(APIError) -> String {
            guard let value = RequestPath.queryParameter(name, in: query), !value.isEmpty else {
                throw APIError.badRequest(
                    "\(name) is missing; HipChat sends the browser here with installable_url and redirect_url",
                    field: name)
            }
            guard value.utf8.count <= 2048 else {
                throw APIError.badRequest("\(name) is longer than 2048 bytes", field: name)
            }
            return value
        }
        let installableText = try parameter("installable_url")
        let redirectText = try parameter("redirect_url")
        installable = try trust.check(installableText, "installable_url")
        redirect = try trust.checkRedirect(redirectText, from: installable)
    }
}

extension InstallHandler {
    /// `GET installedUrl`, `updatedUrl` or `uninstalledUrl`.
    ///
    /// Install and update read the installation from `installable_url` and take it exactly as a
    /// server-side install body (the same checks, the same verification with HipChat's token
    /// endpoint). Uninstall reads it to learn which installation, and removes it only once
    /// HipChat no longer issues its credentials, as the server-side DELETE does. Then the
    /// browser goes back to `redirect_url` (303). Any refusal is a page saying why, and nothing
    /// is stored or removed.
    func browserFlow(_ flow: BrowserFlow, request: Request) async throws(APIError) -> Response {
        guard request.method == .get else {
            throw APIError(
                .methodNotAllowed, "HipChat sends the browser here with a GET", headers: [.allow: "GET"])
        }
        let parameters = try BrowserFlowRequest(query: request.uri.query, trust: api.trust)
        let details = try await api.installable(parameters.installable)
        switch flow {
        case .installed, .updated:
            do {
                _ = try await install(details, isUpdate: flow == .updated)
            } catch {
                throw Self.fromInstallable(error)
            }
        case .uninstalled:
            try await uninstall(details, from: parameters.installable)
        }
        return Response(
            status: .seeOther,
            headers: [.location: parameters.redirect.absoluteString, .cacheControl: "no-store"])
    }

    /// The uninstall: the installation `details` names, if it is still here, once HipChat has
    /// let go of it. One already removed (by the server-side DELETE, which HipChat sends too)
    /// is no error: the browser goes back.
    private func uninstall(_ details: JSONNode, from installable: URL) async throws(APIError) {
        guard let oauthId = details["oauthId"]?.stringValue, !oauthId.isEmpty, oauthId.utf8.count <= 256 else {
            throw APIError.badRequest(
                "the installable_url's answer names no oauthId; nothing was removed", field: "installable_url")
        }
        guard let installation = try await lookup(oauthId) else { return }
        // The same rule as a reinstall: an installation stays with the HipChat that made it.
        if let capabilitiesUrl = details["capabilitiesUrl"]?.stringValue,
            capabilitiesUrl != installation.capabilitiesUrl
        {
            throw APIError(
                .forbidden,
                "installation \(oauthId) was made by the HipChat at \(installation.capabilitiesUrl), "
                    + "not \(capabilitiesUrl); nothing was removed", field: "installable_url")
        }
        try await remove(installation)
    }

    /// An install refusal, said of the installable_url's answer rather than of a request body.
    private static func fromInstallable(_ error: APIError) -> APIError {
        guard (400..<500).contains(error.status.code), let field = error.field, field != "installable_url" else {
            return error
        }
        var error = error
        error.message = "the installable_url's answer is refused: \(error.message)"
        error.field = "installable_url.\(field)"
        return error
    }
}
