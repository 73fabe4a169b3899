import HipChatConnect
import Hummingbird

/// Answers a glance's `queryUrl`: the latest data posted for the glance — for the room the JWT
/// comes from when there is some for that room, else for the whole add-on — or the static data
/// of the build.
///
/// HipChat's client fetches it from the browser, so every answer (refusals too, or the client
/// could not read them) carries `Access-Control-Allow-Origin: *`, and preflights are answered.
/// Glances have no `authentication` field: a JWT is always required.
struct GlanceQueryHandler: Sendable {
    let store: any InstallationStore
    let verifier: JWTVerifier

    static let cors: HTTPFields = [
        .accessControlAllowOrigin: "*",
        .accessControlAllowMethods: "GET, HEAD, OPTIONS",
        .accessControlAllowHeaders: "Authorization, Content-Type",
        .accessControlMaxAge: "600",
    ]

    func handle(_ glance: SiteSnapshot.Glance, request: Request) async throws(APIError) -> Response {
        do throws(APIError) {
            switch request.method {
            case .options:
                return Response(status: .noContent, headers: Self.cors)
            case .get, .head:
                let token = try await verifier.verify(request)
                let data = try await latest(glance, room: token.roomId)
                guard let data else { throw APIError(.notFound, "glance '\(glance.key)' has no data yet") }
                var headers = Self.cors
                headers[.cacheControl] = CachePolicy.dynamic
                let response = JSONResponse.make(data, headers: headers)
                return request.method == .head ? response.createHeadResponse() : response
            default:
                throw APIError(
                    .methodNotAllowed, "a glance answers GET and OPTIONS", headers: [.allow: "GET, HEAD, OPTIONS"])
            }
        } catch {
            var error = error
            for field in Self.cors { error.headers.append(field) }
            throw error
        }
    }

    private func latest(_ glance: SiteSnapshot.Glance, room: Int?) async throws(APIError) -> JSONNode? {
        do {
            if let room, let data = try await store.glanceData(key: glance.key, room: room) { return data }
            if let data = try await store.glanceData(key: glance.key, room: nil) { return data }
        } catch {
            throw APIError(.internalServerError, "glance data cannot be read")
        }
        return glance.staticData
    }
}
