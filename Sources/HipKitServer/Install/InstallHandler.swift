import Foundation
import HipChatConnect
import Hummingbird
import Logging

/// HipChat's server-side install flow: `POST callbackUrl` (and `updateCallbackUrl`) with the
/// installation's credentials, `DELETE callbackUrl/{oauthId}` on uninstall.
///
/// Nothing is stored on HipChat's word alone. Unless verification is off, the server fetches
/// `capabilitiesUrl` (trusted hosts only, no redirects), checks the document names itself, and
/// asks its token endpoint for a token with the posted credentials: only HipChat can grant
/// one, so a forged install cannot plant a secret or overwrite one, and a reinstall replaces
/// only its own record.
struct InstallHandler: Sendable {
    let store: any InstallationStore
    let api: HipChatAPI
    let tokens: AccessTokens
    let verifier: JWTVerifier
    let verifyInstalls: Bool
    let logger: Logger

    /// The shortest `oauthSecret` accepted. HipChat's are 40 characters; HMAC-SHA256 keys
    /// shorter than the hash (32 bytes) are weak, and jwt-kit refuses them.
    static let minimumSecretLength = 32

    /// `POST callbackUrl` (`isUpdate` false) or `POST updateCallbackUrl`.
    func install(_ body: JSONNode, isUpdate: Bool) async throws(APIError) -> Response {
        guard body.dictionaryValue != nil else {
            throw APIError.badRequest("the install body must be a JSON object", field: "body")
        }
        let oauthId = try Self.requiredString(body, "oauthId", maxLength: 256)
        let capabilitiesUrl = try Self.requiredString(body, "capabilitiesUrl", maxLength: 2048)
        let existing = try await lookup(oauthId)
        if isUpdate && existing == nil && body["oauthSecret"] == nil {
            throw APIError(.notFound, "no installation \(oauthId) to update", field: "oauthId")
        }

        let secret: String
        if body["oauthSecret"] != nil || !isUpdate {
            secret = try Self.requiredString(body, "oauthSecret", maxLength: 1024)
        } else {
            secret = existing!.oauthSecret
        }
        guard secret.utf8.count >= Self.minimumSecretLength else {
            throw APIError.badRequest(
                "oauthSecret is shorter than \(Self.minimumSecretLength) characters", field: "oauthSecret")
        }
        let groupId: Int
        if let value = body["groupId"], !value.isNull {
            guard let id = value.intValue else {
                throw APIError.badRequest("groupId must be an integer", field: "groupId")
            }
            groupId = id
        } else if let existing {
            groupId = existing.groupId
        } else {
            throw APIError.badRequest("groupId is missing", field: "groupId")
        }
        var roomId: Int?
        if let value = body["roomId"], !value.isNull {
            guard let id = value.intValue, id > 0 else {
                throw APIError.badRequest("roomId must be a room id (a positive integer)", field: "roomId")
            }
            roomId = id
        } else if isUpdate, body["roomId"] == nil {
            roomId = existing?.roomId
        }

        // An update without the secret proves nothing of who sent it (an oauthId is no secret,
        // and the check with HipChat uses the stored secret): it cannot move the installation to
        // another room, or to the whole group, where its glances would then be pushed.
        if isUpdate, body["oauthSecret"] == nil, let existing, roomId != existing.roomId {
            throw APIError(
                .forbidden,
                "installation \(oauthId) is \(existing.roomId.map { "in room \($0)" } ?? "for the whole group"); "
                    + "an update without its oauthSecret cannot move it", field: "roomId")
        }

        // An installation stays with the HipChat and group that made it. HipChat never moves an
        // oauthId, so a request that does is forged — possible when several HipChats are
        // trusted, since each one's token endpoint vouches only for its own credentials: one of
        // them could otherwise replace another's installation, secret and all.
        if let existing {
            guard existing.capabilitiesUrl == capabilitiesUrl else {
                throw APIError(
                    .forbidden,
                    "installation \(oauthId) was made by the HipChat at \(existing.capabilitiesUrl); "
                        + "another capabilitiesUrl cannot replace it", field: "capabilitiesUrl")
            }
            guard existing.groupId == groupId else {
                throw APIError(
                    .forbidden, "installation \(oauthId) belongs to another group; a reinstall cannot move it",
                    field: "groupId")
            }
        }

        var installation = Installation(
            oauthId: oauthId, oauthSecret: secret, capabilitiesUrl: capabilitiesUrl, groupId: groupId,
            roomId: roomId, installedAt: existing?.installedAt ?? Date(), updatedAt: Date())
        if verifyInstalls {
            let capabilities = try await api.capabilities(capabilitiesUrl)
            switch try await api.token(tokenUrl: capabilities.tokenUrl, oauthId: oauthId, oauthSecret: secret) {
            case .granted(let token):
                // HipChat's token answer names the group the credentials belong to.
                if let tokenGroup = token.groupId, tokenGroup != groupId {
                    throw APIError(
                        .forbidden,
                        "groupId is \(groupId) but HipChat issued these credentials to group \(tokenGroup); "
                            + "nothing was stored", field: "groupId")
                }
                await tokens.remember(token, for: oauthId)
            case .refused(let status):
                throw APIError(
                    .forbidden, "HipChat's token endpoint refused these credentials (\(status)); nothing was stored",
                    field: "oauthSecret")
            }
            installation.tokenUrl = capabilities.tokenUrl
            installation.apiUrl = capabilities.apiUrl
        } else {
            await tokens.forget(oauthId)
        }
        do {
            try await store.upsert(installation)
        } catch {
            logger.error("cannot store installation", metadata: ["oauthId": "\(oauthId)", "error": "\(error)"])
            throw APIError(.internalServerError, "the installation cannot be stored")
        }
        logger.info(
            isUpdate ? "installation updated" : (existing == nil ? "installed" : "reinstalled"),
            metadata: [
                "oauthId": "\(oauthId)", "groupId": "\(groupId)", "roomId": "\(roomId.map(String.init) ?? "-")",
                "verified": "\(verifyInstalls)",
            ])
        return JSONResponse.make(.object([:]))
    }

    /// `DELETE callbackUrl/{oauthId}`.
    ///
    /// HipChat does not sign this call, and an oauthId is no secret (it is the `iss` of every
    /// JWT), so the removal is checked: it goes through only when HipChat's token endpoint no
    /// longer accepts the installation's credentials (HipChat forgets them on uninstall). Anyone
    /// else gets 403. A JWT of the installation proves nothing here: HipChat gives one to every
    /// user of the add-on's views (their `signed_request`).
    func uninstall(_ oauthId: String) async throws(APIError) -> Response {
        guard let installation = try await lookup(oauthId) else {
            throw APIError(.notFound, "no installation \(oauthId)")
        }
        try await remove(installation)
        return Response(status: .noContent)
    }

    /// Removes `installation` once HipChat has let go of it: its token endpoint refuses the
    /// credentials (unless installs are not verified).
    func remove(_ installation: Installation) async throws(APIError) {
        let oauthId = installation.oauthId
        if verifyInstalls {
            var revoked = false
            if let tokenUrl = installation.tokenUrl {
                if case .refused = try await api.token(
                    tokenUrl: tokenUrl, oauthId: oauthId, oauthSecret: installation.oauthSecret)
                {
                    revoked = true
                }
            }
            guard revoked else {
                throw APIError(.forbidden, "HipChat still accepts this installation's credentials; it was not removed")
            }
        }
        do {
            try await store.deleteInstallation(oauthId: oauthId)
        } catch {
            logger.error("cannot remove installation", metadata: ["oauthId": "\(oauthId)", "error": "\(error)"])
            throw APIError(.internalServerError, "the installation cannot be removed")
        }
        await tokens.forget(oauthId)
        logger.info("uninstalled", metadata: ["oauthId": "\(oauthId)"])
    }

    func lookup(_ oauthId: String) async throws(APIError) -> Installation? {
        do {
            return try await store.installation(oauthId: oauthId)
        } catch {
            throw APIError(.internalServerError, "the installation store cannot be read")
        }
    }

    private static func requiredString(_ body: JSONNode, _ name: String, maxLength: Int) throws(APIError) -> String {
        guard let value = body[name], !value.isNull else {
            throw APIError.badRequest("\(name) is missing", field: name)
        }
        guard let text = value.stringValue else {
            throw APIError.badRequest("\(name) must be a string, not \(value.kindDescription)", field: name)
        }
        guard !text.isEmpty else { throw APIError.badRequest("\(name) is empty", field: name) }
        guard text.count <= maxLength else {
            throw APIError.badRequest("\(name) is longer than \(maxLength) characters", field: name)
        }
        // HipChat's ids, secrets and URLs are printable. A NUL would not survive the store (SQLite
        // text ends at it), and other control characters have no business in a log line or URL.
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw APIError.badRequest("\(name) holds control characters", field: name)
        }
        return text
    }
}
