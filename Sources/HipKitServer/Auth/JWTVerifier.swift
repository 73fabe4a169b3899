import Foundation
import HipChatConnect
import Hummingbird
import JWTKit
import Synchronization

/// Checks the JWTs HipChat puts on requests (`signed_request` or `Authorization: JWT …`).
///
/// The recipe of HipChat's own frameworks, made strict: the header is read first and anything
/// but HS256 is refused before a key is looked at (so `alg: none` or an RSA/HMAC confusion can
/// never verify); `iss` names the installation whose `oauthSecret` must have signed it; `exp`
/// is required and checked, and `nbf`/`iat` in the future are refused, all with a small leeway
/// for clocks that disagree. HipChat tokens carry no `qsh`, so none is required.
struct JWTVerifier: Sendable {
    let store: any InstallationStore
    let leeway: TimeInterval
    var now: @Sendable () -> Date = { Date() }
    /// The key set of each installation's current secret, made once rather than per request.
    private let keys = KeyCache()
    /// Tokens whose signature checked, with the secret that checked it.
    private let signed = SignedTokens()

    /// The token of a request: the `Authorization: JWT` header, else the `signed_request`
    /// query parameter.
    static func token(in request: Request) -> String? {
        token(headers: request.headers, query: request.uri.query)
    }

    /// The token of a request with these headers and query.
    static func token(headers: HTTPFields, query: String?) -> String? {
        token(authorization: headers[.authorization], query: query)
    }

    /// The token of a request with this `Authorization` value (if any) and query.
    static func token(authorization: String?, query: String?) -> String? {
        if let authorization, let token = jwtCredentials(authorization) {
            return token
        }
        return RequestPath.queryParameter("signed_request", in: query)
    }

    /// What follows the scheme of an `Authorization` value whose scheme is `JWT` (in any case),
    /// without surrounding spaces or tabs; nil for another scheme, or nothing after it.
    ///
    /// Read byte by byte when the value is ASCII (a JWT always is): Foundation's
    /// `caseInsensitiveCompare` and `trimmingCharacters`, which go through UTF-16, were a tenth
    /// of a JWT-checked glance query. Anything else takes the Foundation reading, which this
    /// one matches on ASCII (split at the first space after the scheme, leading spaces
    /// skipped, whitespace trimmed from the credentials).
    static func jwtCredentials(_ authorization: String) -> String? {
        let bytes = authorization.utf8
        // Over the contiguous bytes when the string has them (a header's value always does):
        // `allSatisfy` on the UTF-8 view was most of this function's time.
        let isASCII =
            bytes.withContiguousStorageIfAvailable { $0.allSatisfy { $0 < 0x80 } } ?? bytes.allSatisfy { $0 < 0x80 }
        guard isASCII else { return jwtCredentialsThroughFoundation(authorization) }
        let space = UInt8(ascii: " ")
        guard let schemeStart = bytes.firstIndex(where: { $0 != space }),
            let schemeEnd = bytes[schemeStart...].firstIndex(of: space)
        else { return nil }
        let rest = bytes[bytes.index(after: schemeEnd)...]
        guard !rest.isEmpty,
            bytes[schemeStart..<schemeEnd].elementsEqual("jwt".utf8, by: { $0 | 0x20 == $1 })
        else { return nil }
        let isBlank = { (byte: UInt8) in byte == space || byte == UInt8(ascii: "\t") }
        guard let first = rest.firstIndex(where: { !isBlank($0) }) else { return "" }
        let last = rest.lastIndex(where: { !isBlank($0) })!
        return String(Substring(rest[first...last]))
    }

    /// The reading ``jwtCredentials(_:)`` makes of ASCII values, through Foundation, for the rest.
    static func jwtCredentialsThroughFoundation(_ authorization: String) -> String? {
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].caseInsensitiveCompare("JWT") == .orderedSame else { return nil }
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
    }

    /// Checks the token of `request`; throws a 401 saying why not.
    func verify(_ request: Request) async throws(APIError) -> VerifiedToken {
        try await check(request).token
    }

    /// Checks the token of `request` (throws a 401 saying why not), and hands on the store's
    /// reads it was checked with, for the request's other reads (a glance query's data).
    func check(_ request: Request) async throws(APIError) -> (token: VerifiedToken, reads: any StoreReads) {
        guard let token = Self.token(in: request), !token.isEmpty else {
            throw refuse(
                "this page needs a JWT from HipChat (signed_request or Authorization: JWT); open it from HipChat")
        }
        return try await check(token)
    }

    func verify(_ token: String) async throws(APIError) -> VerifiedToken {
        try await check(token).token
    }

    /// The store's reads for one request; taken when the installation is first needed, so that
    /// a token refused before that never reaches the store.
    private func reads() throws(APIError) -> any StoreReads {
        do {
            return try store.reads()
        } catch {
            throw APIError(.internalServerError, "the installation store cannot be read")
        }
    }

    private func installation(_ oauthId: String, in reads: any StoreReads) async throws(APIError) -> Installation? {
        do {
            return try await reads.installation(oauthId: oauthId)
        } catch {
            throw APIError(.internalServerError, "the installation store cannot be read")
        }
    }

    /// The check of a token whose signature was checked before, made from memory alone: its
    /// installation kept by the store (``StoreReads/keptInstallation(oauthId:)``) with the
    /// secret that checked it, and its times. Nil when that cannot tell — a new token, an
    /// installation the store would have to read, or a refusal — and ``check(_:)-(Request)``
    /// then makes the whole check. Never waits, so the event loop may ask.
    func checkKept(_ token: String) -> (token: VerifiedToken, reads: any StoreReads)? {
        guard let known = signed.lookup(token), let reads = store.readsWithoutWaiting(),
            case .some(let installation?) = reads.keptInstallation(oauthId: known.issuer),
            installation.oauthSecret == known.secret,
            let verified = try? checkTimes(known.claims, installation: installation)
        else { return nil }
        return (verified, reads)
    }

    private func check(_ token: String) async throws(APIError) -> (token: VerifiedToken, reads: any StoreReads) {
        var taken: (any StoreReads)?
        // The same token again (a page's token is reused for its hour): its signature checked
        // with the installation's current secret, so only the time and the store are asked again.
        if let known = signed.lookup(token) {
            let reads = try reads()
            taken = reads
            if let installation = try await installation(known.issuer, in: reads),
                installation.oauthSecret == known.secret
            {
                return (try checkTimes(known.claims, installation: installation), reads)
            }
        }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, token.utf8.count <= 8192 else { throw refuse("the token is not a JWT") }
        guard let header = Self.decodeSegment(parts[0])?.dictionaryValue else {
            throw refuse("the token's header cannot be read")
        }
        guard let alg = header["alg"]?.stringValue, alg == "HS256" else {
            throw refuse(
                "the token's algorithm is \(header["alg"]?.stringValue.map { "'\($0)'" } ?? "missing"); only HS256 is accepted"
            )
        }
        guard let claims = Self.decodeSegment(parts[1])?.dictionaryValue else {
            throw refuse("the token's claims cannot be read")
        }
        guard let issuer = claims["iss"]?.stringValue, !issuer.isEmpty else {
            throw refuse("the token names no issuer (iss)")
        }
        let reads: any StoreReads
        if let taken { reads = taken } else { reads = try self.reads() }
        guard let installation = try await installation(issuer, in: reads) else {
            throw refuse("the token's issuer is not an installation of this add-on")
        }
        guard installation.oauthSecret.utf8.count >= 32 else {
            throw refuse("the installation's secret is too short to check tokens with")
        }

        let keys = await self.keys.keys(for: installation)
        do {
            _ = try await keys.verify(token, as: UncheckedClaims.self)
        } catch {
            throw refuse("the token's signature does not match")
        }
        let verified = try checkTimes(claims, installation: installation)
        signed.store(token, issuer: issuer, secret: installation.oauthSecret, claims: claims)
        return (verified, reads)
    }

    /// The checks that depend on the time (`exp` required, `nbf` and `iat` not in the future, all
    /// with the leeway), made on every request, and the verified token.
    private func checkTimes(_ claims: [String: JSONNode], installation: Installation) throws(APIError)
        -> VerifiedToken
    {
        let now = now().timeIntervalSince1970
        guard let exp = claims["exp"].flatMap(Self.seconds) else { throw refuse("the token has no expiry (exp)") }
        guard now <= exp + leeway else { throw refuse("the token expired; reload the page in HipChat") }
        if let nbf = claims["nbf"].flatMap(Self.seconds), nbf > now + leeway {
            throw refuse("the token is not valid yet (nbf)")
        }
        if let iat = claims["iat"].flatMap(Self.seconds), iat > now + leeway {
            throw refuse("the token was issued in the future (iat)")
        }

        let user = claims["sub"] ?? claims["prn"]
        let room = claims["context"]?["room_id"]?.intValue
        if let room, room <= 0 { throw refuse("the token names room \(room), which is no room id") }
        // HipChat shows a room installation in its room only, and signs tokens for it there: a
        // token of it naming another room would read that room's glance data and settings.
        if let installed = installation.roomId, let room, room != installed {
            throw refuse("the token names room \(room), but its installation is for room \(installed)")
        }
        return VerifiedToken(
            installation: installation, userId: user.map(\.templateText).flatMap { $0.isEmpty ? nil : $0 },
            roomId: room, claims: claims)
    }

    private func refuse(_ message: String) -> APIError { Self.refusal(message) }

    /// A 401 asking for HipChat's JWT, as every refused token is answered.
    static func refusal(_ message: String, field: String? = nil) -> APIError {
        APIError(.unauthorized, message, field: field, headers: [.wwwAuthenticate: "JWT realm=\"hipkit\""])
    }

    private static func seconds(_ value: JSONNode) -> Double? {
        switch value.value {
        case .integer(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// A base64url segment decoded and parsed as JSON.
    static func decodeSegment(_ segment: Substring) -> JSONNode? {
        Base64URL.decode(segment).flatMap(JSONNode.parse)
    }
}

/// The claims as jwt-kit decodes them for the signature check; the checks themselves are done
/// above, on the raw claims, with the server's clock and leeway.
private struct UncheckedClaims: JWTPayload {
    /// Nothing to read: the claims were parsed, and must be an object, before the signature check.
    init(from decoder: any Decoder) throws {}

    func encode(to encoder: any Encoder) throws {}

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Tokens whose signature was checked, by the token's whole text: a token seen again with the
/// same installation secret would check the same way, so its signature and JSON are not worked
/// through again. Only tokens that passed are kept (no one can fill this without valid tokens),
/// and the installation is still read for each request, so an uninstall or a new secret takes
/// effect at once.
private final class SignedTokens: Sendable {
    struct Entry: Sendable {
        var issuer: String
        var secret: String
        var claims: [String: JSONNode]
    }

    private let entries = Mutex<[String: Entry]>([:])
    /// Beyond this many tokens the set starts again, so it cannot grow without bound.
    private static let limit = 10_000

    func lookup(_ token: String) -> Entry? { entries.withLock { $0[token] } }

    func store(_ token: String, issuer: String, secret: String, claims: [String: JSONNode]) {
        entries.withLock {
            if $0.count >= Self.limit { $0.removeAll() }
            $0[token] = Entry(issuer: issuer, secret: secret, claims: claims)
        }
    }
}

/// The jwt-kit key set for each installation's secret.
///
/// The installation is still read from the store on every request, so an uninstall or a new
/// secret takes effect at once: a cached set is used only while the secret it was made from is
/// the installation's current one. What is saved is making the key set, which was a fair part
/// of a JWT-checked request.
private final class KeyCache: Sendable {
    private let entries = Mutex<[String: (secret: String, keys: JWTKeyCollection)]>([:])
    /// Beyond this many installations the cache starts again, so it cannot grow without bound.
    private static let limit = 10_000

    func keys(for installation: Installation) async -> JWTKeyCollection {
        if let cached = entries.withLock({ $0[installation.oauthId] }), cached.secret == installation.oauthSecret {
            return cached.keys
        }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: installation.oauthSecret), digestAlgorithm: .sha256)
        entries.withLock {
            if $0.count >= Self.limit { $0.removeAll() }
            $0[installation.oauthId] = (installation.oauthSecret, keys)
        }
        return keys
    }
}
