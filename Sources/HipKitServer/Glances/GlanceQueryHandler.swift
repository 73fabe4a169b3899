import HipChatConnect
import Hummingbird
import Synchronization

/// Answers a glance's `queryUrl`: the latest data posted for the glance that applies to the
/// installation and room the JWT comes from, the most specific first (``GlanceDataScope``), else
/// the static data of the build.
///
/// HipChat's client fetches it from the browser, so every answer (refusals too, or the client
/// could not read them) carries `Access-Control-Allow-Origin: *`, and preflights are answered.
/// Glances have no `authentication` field: a JWT is always required.
struct GlanceQueryHandler: Sendable {
    /// Reads the store too: the glance data is read with the reads the token was checked with.
    let verifier: JWTVerifier
    /// The JSON text of each glance's answer, kept while the data stays the same.
    private let bodies = AnswerBodies()

    init(verifier: JWTVerifier) {
        self.verifier = verifier
    }

    static let cors: HTTPFields = [
        .accessControlAllowOrigin: "*",
        .accessControlAllowMethods: "GET, HEAD, OPTIONS",
        .accessControlAllowHeaders: "Authorization, Content-Type",
        .accessControlMaxAge: "600",
    ]

    /// The headers of every answer with data, made once: `JSONResponse`'s with ``cors`` and a
    /// short cache.
    static let answerHeaders = JSONResponse.headers(
        adding: {
            var headers = cors
            headers[.cacheControl] = CachePolicy.dynamic
            return headers
        }())

    func handle(_ glance: SiteSnapshot.Glance, request: Request) async throws(APIError) -> Response {
        do throws(APIError) {
            switch request.method {
            case .options:
                return Response(status: .noContent, headers: Self.cors)
            case .get, .head:
                let (token, reads) = try await verifier.check(request)
                let key = glance.key
                guard
                    let (data, scope) = try await latest(
                        glance, installation: token.installation.oauthId, room: token.shownRoom, reads: reads)
                else {
                    throw APIError(.notFound, "glance '\(key)' has no data yet")
                }
                let body = bodies.body(of: data, for: AnswerBodies.Key(glance: key, scope: scope))
                let response = Response(status: .ok, headers: Self.answerHeaders, body: .init(byteBuffer: body))
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

    /// The body of the answer to a GET or HEAD with `token`, made from memory alone: a token
    /// checked before (``JWTVerifier/checkKept(_:)``) and the glance's data kept by the store.
    /// Nil when the store would have to be read, or the answer is a refusal;
    /// ``handle(_:request:)`` then answers. Never waits, so the event loop may ask. The answer's
    /// head is ``answerWireHead`` and the body's length.
    func keptBody(_ glance: SiteSnapshot.Glance, token: String) -> ByteBuffer? {
        guard !token.isEmpty, let (verified, reads) = verifier.checkKept(token),
            case .some(let (data, scope)?) = keptLatest(
                glance,
                lookups: GlanceDataScope.lookups(installation: verified.installation.oauthId, room: verified.shownRoom),
                reads: reads)
        else { return nil }
        return bodies.body(of: data, for: AnswerBodies.Key(glance: glance.key, scope: scope))
    }

    /// ``answerHeaders`` and the server's name as the start of an HTTP/1.1 head (``HTTP1Head``),
    /// for the answers ``keptBody(_:token:)`` gives a body to.
    static let answerWireHead = HTTP1Head.start(
        status: .ok, fields: answerHeaders, serverName: HipKitServer.serverName)

    /// ``latest(_:installation:room:reads:)`` from what the store keeps in memory; nil when it keeps too
    /// little to tell.
    private func keptLatest(_ glance: SiteSnapshot.Glance, lookups: [GlanceDataScope], reads: any StoreReads)
        -> (JSONNode, scope: GlanceDataScope?)??
    {
        for scope in lookups {
            guard
                let data = reads.keptGlanceData(key: glance.key, room: scope.room, installation: scope.installation)
            else { return nil }
            if let data { return (data, scope) }
        }
        return .some(glance.staticData.map { ($0, nil) })
    }

    /// The data to answer with, and whom it was posted for: what the store shows a view of
    /// `installation` in `room`, or the build's static data (scope nil). Read with the same store
    /// reads as the token was checked with, so the store is asked for its version once.
    private func latest(_ glance: SiteSnapshot.Glance, installation: String, room: Int?, reads: any StoreReads)
        async throws(APIError) -> (JSONNode, scope: GlanceDataScope?)?
    {
        do {
            if let shown = try await reads.shownGlanceData(key: glance.key, installation: installation, room: room) {
                return (shown.data, shown.scope)
            }
        } catch {
            throw APIError(.internalServerError, "glance data cannot be read")
        }
        return glance.staticData.map { ($0, nil) }
    }
}

/// The JSON text last answered for each glance and scope, with the data it was made from.
///
/// A glance answers the same data again and again until it is updated, and JSONEncoder was
/// the largest part of a JWT-checked glance query. The text is made again as soon as the data
/// differs in any way that could change it (see ``JSONNode/isSameText(as:)``): the answer is
/// always the bytes JSONEncoder gives for the data served.
final class AnswerBodies: Sendable {
    struct Key: Hashable, Sendable {
        var glance: String
        /// Whom the data was posted for; nil for the build's static data.
        var scope: GlanceDataScope?
    }

    private let entries = Mutex<[Key: (data: JSONNode, body: ByteBuffer)]>([:])
    /// Beyond this many glances and rooms the set starts again, so it cannot grow without bound.
    private static let limit = 10_000

    func body(of data: JSONNode, for key: Key) -> ByteBuffer {
        if let kept = entries.withLock({ $0[key] }), kept.data.isSameText(as: data) { return kept.body }
        let body = JSONResponse.body(data)
        entries.withLock {
            if $0.count >= Self.limit { $0.removeAll() }
            $0[key] = (data, body)
        }
        return body
    }
}

extension JSONNode {
    /// True when the two are the same tree: same kinds, numbers with the same bits, strings
    /// with the same bytes, members in the same order. Stricter than `==` (which takes an
    /// object's members in any order, `"é"` composed or not, `-0.0` as `0.0`), so that two
    /// nodes it calls the same always encode to the same text.
    func isSameText(as other: JSONNode) -> Bool {
        switch (value, other.value) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.double(let a), .double(let b)): return a.bitPattern == b.bitPattern
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.array(let a), .array(let b)):
            if Self.shareStorage(a, b) { return true }
            return a.count == b.count && zip(a, b).allSatisfy { $0.isSameText(as: $1) }
        case (.object(let a), .object(let b)):
            if Self.shareStorage(a, b) { return true }
            return a.count == b.count
                && zip(a, b).allSatisfy {
                    $0.name.utf8.elementsEqual($1.name.utf8) && $0.value.isSameText(as: $1.value)
                }
        default: return false
        }
    }

    /// Whether two arrays are copies of one: the same storage, so the same elements. The store
    /// hands out copies of the data it keeps, so a glance asked for again is told the same in
    /// one comparison instead of a walk over its tree (a twentieth of a glance query).
    private static func shareStorage<Element>(_ a: [Element], _ b: [Element]) -> Bool {
        a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in x.baseAddress == y.baseAddress && x.count == y.count }
        }
    }
}
