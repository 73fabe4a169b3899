import Crypto
import Foundation
import HipChatConnect
import Logging
import Synchronization

@testable import HipKit
@testable import HipKitServer

/// The readers of untrusted input the fuzzers exercise, one case per target.
///
/// This file is compiled twice: into `hipkit-fuzz` (libFuzzer, AddressSanitizer) and, through a
/// symbolic link, into `HipKitServerTests`, where `FuzzRegressionTests` feeds it every kept
/// input. So a target is written once, and what the fuzzer ran is what the tests run.
enum FuzzTarget: String, CaseIterable, Sendable {
    /// The YAML layer: libyaml's events composed into located nodes, with its limits.
    case yaml
    /// addon.yaml: the spec translated into a descriptor and validated.
    case spec
    /// A descriptor file: checked as strict JSON, composed, converted to JSON, validated, and
    /// imported into a spec.
    case descriptor
    /// A Markdown page: front matter split and parsed, the body rendered by cmark-gfm.
    case page
    /// Glance data as the runtime receives it: composed and validated.
    case glance
    /// The JWT checks of the runtime, against a store holding one installation.
    case jwt
    /// Install and update bodies as the runtime receives them, stored and read back; and the
    /// query strings of HipChat's browser flows (`installable_url`, `redirect_url`).
    case install

    /// Whether the target drives async code (the runtime's), which `run` needs; the others run
    /// on the caller's thread with `runSynchronously`.
    var isAsync: Bool { self == .jwt || self == .install }

    /// Runs one input. Returns normally whatever the bytes are; a broken promise of the code
    /// under test (an acknowledged install that does not read back, a token accepted that
    /// should not be) stops the process, which libFuzzer reports as a crash.
    func run(_ bytes: [UInt8]) async {
        switch self {
        case .jwt: await FuzzFixture.tokens.checkToken(bytes)
        case .install: await FuzzFixture.installs.checkInstall(bytes)
        default: runSynchronously(bytes)
        }
    }

    /// Runs one input of a target that is not ``isAsync``.
    func runSynchronously(_ bytes: [UInt8]) {
        switch self {
        case .yaml:
            _ = YAMLComposer().compose(bytes, file: "fuzz.yaml")
        case .spec:
            guard let root = YAMLComposer().compose(bytes, file: "addon.yaml").root else { return }
            var translator = SpecTranslator(
                projectDirectory: FuzzFixture.projectDirectory, displayDirectory: ".",
                baseUrl: "https://fuzz.example.com", baseUrlLocation: nil)
            _ = DescriptorValidator(origin: .built).validate(translator.translate(root))
        case .descriptor:
            _ = JSONSyntax.problem(in: bytes, file: "descriptor.json")
            guard let root = YAMLComposer().compose(bytes, file: "descriptor.json").root else { return }
            var diagnostics: [Diagnostic] = []
            let json = JSONNode.from(root, diagnostics: &diagnostics)
            _ = DescriptorValidator(origin: .descriptorFile).validate(json)
            _ = DescriptorImporter().spec(from: json)
        case .page:
            var diagnostics: [Diagnostic] = []
            let matter = FrontMatter.parse(
                String(decoding: bytes, as: UTF8.self), file: "page.md", diagnostics: &diagnostics)
            _ = MarkdownRenderer().render(matter.body, unsafe: matter.unsafe ?? false)
        case .glance:
            guard let root = YAMLComposer().compose(bytes, file: "glance.json").root else { return }
            var diagnostics: [Diagnostic] = []
            _ = GlanceDataValidator().validate(JSONNode.from(root, diagnostics: &diagnostics))
        case .jwt, .install:
            preconditionFailure("\(self) is async; use run(_:)")
        }
    }
}

/// The runtime pieces the `jwt` and `install` targets drive: a real SQLite store (in a private
/// temporary folder, on `/dev/shm` when there is one so that its fsyncs cost nothing) holding
/// one installation, and the verifier and install handler `hipkit serve` uses, on a fixed clock.
final class FuzzFixture: Sendable {
    /// One fixture per target, so that the tests, which run targets side by side, never see
    /// one target's writes in another's store.
    static let tokens = FuzzFixture()
    static let installs = FuzzFixture()

    static let projectDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("hipkit-fuzz-project")

    /// The installation in the store. Inputs name it to reach the checks past the lookup.
    static let installation = Installation(
        oauthId: "fuzz-installation", oauthSecret: "fuzz-secret-0123456789abcdefghijklmnopqrstuvwxyz",
        capabilitiesUrl: "https://api.hipchat.com/v2/capabilities", groupId: 1, roomId: 7,
        installedAt: Date(timeIntervalSince1970: 1_767_225_600),
        updatedAt: Date(timeIntervalSince1970: 1_767_225_600))

    /// The verifier's clock: 2026-01-01T00:00Z, so that kept inputs give the same answer forever.
    static let now = Date(timeIntervalSince1970: 1_767_225_600)

    let folder: URL
    let store: SQLiteStore
    let verifier: JWTVerifier
    let installer: InstallHandler
    private let needsFilling = Mutex(true)

    private init() {
        let base =
            FileManager.default.fileExists(atPath: "/dev/shm")
            ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory
        folder = base.appendingPathComponent("hipkit-fuzz-\(getpid())-\(UUID().uuidString.prefix(8))")
        do {
            store = try SQLiteStore(file: folder.appendingPathComponent("hipkit.sqlite"), secrets: .random())
        } catch {
            fatalError("the fuzz store cannot be opened in \(folder.path): \(error)")
        }
        let path = folder.path
        let first = fuzzStoreFolders.withLock { folders in
            folders.append(path)
            return folders.count == 1
        }
        if first {
            atexit {
                for folder in fuzzStoreFolders.withLock({ $0 }) { try? FileManager.default.removeItem(atPath: folder) }
            }
        }
        verifier = JWTVerifier(store: store, leeway: 60, now: { FuzzFixture.now })
        let api = HipChatAPI(http: OutgoingHTTP(timeout: 1), trust: URLTrust(trustedHosts: []))
        installer = InstallHandler(
            store: store, api: api, tokens: AccessTokens(api: api), verifier: verifier, verifyInstalls: false,
            logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// Puts the store back as every input expects to find it.
    private func reset() async {
        do { try await store.upsert(Self.installation) } catch {
            fatalError("the fuzz store cannot be written: \(error)")
        }
    }

    /// The first byte picks the form. Even: the rest is the token text as sent. Odd: the rest
    /// is a header and claims (JSON, split at the first NUL byte) that are encoded and signed
    /// with the installation's secret here, so that inputs get past the signature to the
    /// checks of algorithm, issuer and times, which a mutated token text almost never does.
    func checkToken(_ bytes: [UInt8]) async {
        // Tokens never change the store: it is filled once.
        if needsFilling.withLock({ needed in
            defer { needed = false }
            return needed
        }) {
            await reset()
        }
        guard let form = bytes.first else { return }
        let rest = bytes.dropFirst()
        let token: String
        if form & 1 == 0 {
            token = String(decoding: rest, as: UTF8.self)
        } else {
            let split = rest.firstIndex(of: 0) ?? rest.endIndex
            let header = Self.base64URL(Data(rest[rest.startIndex..<split]))
            let claims = Self.base64URL(Data(rest[min(split + 1, rest.endIndex)...]))
            token = "\(header).\(claims).\(Self.base64URL(Self.signature(of: "\(header).\(claims)")))"
        }
        guard let verified = try? await verifier.verify(token) else { return }
        // Whatever was accepted must have passed every check, and must carry the signature only
        // the secret makes: a made-up token could pass only by forging HMAC-SHA256.
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        let header = JWTVerifier.decodeSegment(parts[0])
        let claims = JWTVerifier.decodeSegment(parts[1])
        let expiry: Double? =
            switch claims?["exp"]?.value {
            case .integer(let seconds)?: Double(seconds)
            case .double(let seconds)?: seconds
            default: nil
            }
        guard header?["alg"]?.stringValue == "HS256",
            claims?["iss"]?.stringValue == Self.installation.oauthId,
            verified.installation.oauthId == Self.installation.oauthId,
            let expiry, expiry >= Self.now.timeIntervalSince1970 - 60,
            Self.base64URLDecoded(parts[2]) == Self.signature(of: "\(parts[0]).\(parts[1])")
        else {
            fatalError("a token was accepted that breaks the rules: \(token)")
        }
    }

    /// HMAC-SHA256 of a token's signing input under the installation's secret.
    static func signature(of signingInput: String) -> Data {
        let key = SymmetricKey(data: Data(installation.oauthSecret.utf8))
        return Data(HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: key))
    }

    static func base64URLDecoded(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }

    /// The first byte says install (even) or update (odd), and with its second bit set, a browser
    /// flow's query string; the rest is the request body or the query. An acknowledged write
    /// must read back exactly, secret and all; anything else must leave the store as it was.
    func checkInstall(_ bytes: [UInt8]) async {
        guard let form = bytes.first else { return }
        if form & 2 != 0 {
            Self.checkBrowserFlow(String(decoding: bytes.dropFirst(), as: UTF8.self))
            return
        }
        await reset()
        guard let body = JSONNode.parse(Data(bytes.dropFirst())) else { return }
        let before = try? await store.installations()
        do {
            _ = try await installer.install(body, isUpdate: form & 1 == 1)
        } catch {
            let after = try? await store.installations()
            guard before == after else { fatalError("a refused install changed the store: \(error)") }
            return
        }
        guard let oauthId = body["oauthId"]?.stringValue else {
            fatalError("an install without an oauthId was acknowledged")
        }
        guard let stored = try? await store.installation(oauthId: oauthId) else {
            fatalError("an acknowledged install of \(oauthId.debugDescription) does not read back")
        }
        if let secret = body["oauthSecret"]?.stringValue, stored.oauthSecret != secret {
            fatalError("an acknowledged install of \(oauthId.debugDescription) reads back with another secret")
        }
        guard stored.capabilitiesUrl == body["capabilitiesUrl"]?.stringValue else {
            fatalError("an acknowledged install of \(oauthId.debugDescription) reads back with another capabilitiesUrl")
        }
        if oauthId != Self.installation.oauthId {
            _ = try? await store.deleteInstallation(oauthId: oauthId)
        }
    }

    /// The hosts the browser-flow checks trust: HipChat Cloud's API and a HipChat Server.
    static let browserTrust = URLTrust(trustedHosts: [
        .hipchatCloud, TrustedHost(host: "hipchat.example.org", port: 8443),
    ])

    /// A browser flow's parameters, checked as `hipkit serve` checks them before fetching
    /// anything. What passes must be an `installable_url` the server may fetch and a
    /// `redirect_url` on the HipChat that sent the browser: anything else would be a request to
    /// elsewhere, or an open redirect.
    static func checkBrowserFlow(_ query: String) {
        guard let request = try? BrowserFlowRequest(query: query, trust: browserTrust) else { return }
        func safe(_ url: URL) -> Bool {
            let scheme = url.scheme?.lowercased()
            return url.user == nil && url.password == nil
                && (scheme == "https" || (scheme == "http" && URLReference.isLoopback(url.host ?? "")))
                && !url.absoluteString.unicodeScalars.contains { $0.value <= 0x20 || $0.value == 0x7F }
        }
        let installable = request.installable
        let redirect = request.redirect
        guard safe(installable), browserTrust.trustedHosts.contains(where: { $0.matches(installable) }) else {
            fatalError("an installable_url off the trusted hosts was accepted: \(installable)")
        }
        let host = redirect.host?.lowercased() ?? ""
        func port(_ url: URL) -> Int { url.port ?? (url.scheme?.lowercased() == "http" ? 80 : 443) }
        let onSender = host == installable.host?.lowercased() && port(redirect) == port(installable)
        let onTrusted = browserTrust.trustedHosts.contains { $0.matches(redirect) }
        let onCloud =
            TrustedHost.hipchatCloud.matches(installable) && redirect.scheme?.lowercased() == "https"
            && (host == "hipchat.com" || host.hasSuffix(".hipchat.com"))
        guard safe(redirect), onSender || onTrusted || onCloud else {
            fatalError("a redirect_url off the HipChat that sent the browser was accepted: \(redirect)")
        }
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// The fixtures' folders, removed when the process exits (an `atexit` handler cannot capture).
private let fuzzStoreFolders = Mutex<[String]>([])
