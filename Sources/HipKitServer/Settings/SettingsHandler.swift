import HipChatConnect
import Hummingbird
import Logging

/// `GET`, `POST` and `PUT` on the manifest's settings path: the configuration page's back end.
///
/// The JWT says which installation (and, when settings are per room, which room) is being
/// configured; a POST or PUT replaces the values stored at that level with the checked body.
struct SettingsHandler: Sendable {
    let store: any InstallationStore
    let verifier: JWTVerifier
    let logger: Logger

    func handle(_ settings: SiteSnapshot.Settings, request: Request, body: () async throws(APIError) -> JSONNode)
        async throws(APIError) -> Response
    {
        let effective = EffectiveSettings(store: store)
        switch request.method {
        case .get, .head:
            let token = try await verifier.verify(request)
            let room = settings.perRoom ? token.roomId : nil
            let values = try await effective.values(
                fields: settings.fields, oauthId: token.installation.oauthId, room: room)
            let response = JSONResponse.make(.object(values), headers: [.cacheControl: CachePolicy.dynamic])
            return request.method == .head ? response.createHeadResponse() : response
        case .post, .put:
            let token = try await verifier.verify(request)
            let room = settings.perRoom ? token.roomId : nil
            let values = try SettingsValidator(fields: settings.fields).validate(try await body())
            do {
                try await store.putSettings(values, oauthId: token.installation.oauthId, room: room)
            } catch {
                logger.error(
                    "cannot store settings",
                    metadata: ["oauthId": "\(token.installation.oauthId)", "error": "\(error)"])
                throw APIError(.internalServerError, "the settings cannot be stored")
            }
            logger.info(
                "settings saved",
                metadata: ["oauthId": "\(token.installation.oauthId)", "room": "\(room.map(String.init) ?? "-")"])
            let merged = try await effective.values(
                fields: settings.fields, oauthId: token.installation.oauthId, room: room)
            return JSONResponse.make(.object(merged), headers: [.cacheControl: CachePolicy.dynamic])
        default:
            throw APIError(
                .methodNotAllowed, "settings answer GET, POST and PUT", headers: [.allow: "GET, HEAD, POST, PUT"])
        }
    }
}
