import Foundation
import HipChatConnect
import Logging

/// A HipChat that runs inside hipkit: a group with rooms and people in the browser, where an
/// add-on is installed for all rooms or in some of them, shows its glances, opens its views,
/// offers its actions and answers its webhooks where it is installed — the host side of
/// HipChat Connect, played faithfully enough that an add-on working here would have worked in
/// HipChat.
///
/// It is the HipChat end of every exchange: it serves a capabilities document and a
/// `client_credentials` token endpoint (so the add-on's install verification passes for
/// real), signs JWTs with the installation's secret, and takes the add-on's notifications
/// and glance pushes on its emulated REST API. `hipkit dev` mounts it at `/_hipchat/`;
/// `hipkit emulate` serves it alone for any add-on's descriptor.
public actor LocalHipChat {
    /// Where `hipkit dev` and `hipkit emulate` serve it.
    public static let path = "/_hipchat"

    /// Where the add-on is and where this HipChat is reachable.
    public struct Configuration: Sendable {
        /// The add-on's descriptor (`atlassian-connect.json`).
        public var descriptorURL: URL
        /// This HipChat's own base, as the add-on reaches it: `http://127.0.0.1:8080/_hipchat`.
        /// The capabilities document, the token endpoint and the REST API live under it.
        public var publicURL: String
        /// Time allowed for each call to the add-on.
        public var timeout: TimeInterval
        /// Where the rooms, their messages and the installations are kept between runs (`hipkit dev`
        /// keeps them in the project's `.hipkit/`); nil keeps them in memory only.
        public var stateFile: URL?

        public init(descriptorURL: URL, publicURL: String, timeout: TimeInterval = 10, stateFile: URL? = nil) {
            self.descriptorURL = descriptorURL
            self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
            self.timeout = timeout
            self.stateFile = stateFile
        }

        var capabilitiesURL: String { publicURL + "/v2/capabilities" }
        var tokenURL: String { publicURL + "/v2/oauth/token" }
        var apiURL: String { publicURL + "/v2/" }
    }

    /// An installation of the add-on: for all rooms (`roomId` nil) or in one room.
    struct Installed: Sendable {
        var addon: EmulatedAddon
        var oauthId: String
        var oauthSecret: String
        var roomId: Int?
        var installedAt: Date
    }

    struct IssuedToken: Sendable {
        var oauthId: String
        var scopes: [String]
        var expires: Date
    }

    /// A failure the room page shows as it is.
    struct Failure: Error, CustomStringConvertible {
        var description: String
        var status: Int = 400
        init(_ description: String, status: Int = 400) {
            self.description = description
            self.status = status
        }
    }

    public nonisolated let configuration: Configuration
    nonisolated let log = HostEventLog()
    let http: OutgoingHTTP
    let signer = HostTokenSigner()
    let logger: Logger

    var addon: EmulatedAddon?
    var addonError: String?
    /// The add-on's installations. As in HipChat, a room is covered by one at most: the global
    /// installation, or the room's own.
    var installations: [Installed] = []
    /// The credentials the token endpoint honours: those of the installations, and of one being
    /// installed while its callback runs.
    var credentials: [String: String] = [:]
    var tokens: [String: IssuedToken] = [:]
    var role: EmulatedRole = .admin
    var rooms = EmulatedRoom.seeded()
    /// The room the page shows.
    var currentRoomId = 1
    /// Glance data by room, then glance key: what a query made with the room's token answered,
    /// or what was pushed to the room.
    var roomGlances: [Int: [String: JSONNode]] = [:]
    /// Glance data pushed to the whole group through the global installation: what each room
    /// shows until it has data of its own.
    var groupGlances: [String: JSONNode] = [:]
    var glanceErrors: [Int: [String: String]] = [:]
    var nextMessage = 1
    /// Set while an install, update or uninstall runs: each awaits the add-on, and a second
    /// one meanwhile would interleave with it. A second one waits its turn (see
    /// ``beginChange()``).
    var changingInstallation = false
    /// Installs, updates and uninstalls waiting for the one running, in the order they came.
    private var changesWaiting: [CheckedContinuation<Void, Never>] = []
    /// A save of the state file is due within a tick (see ``changed(saveNow:)``).
    var saveScheduled = false
    /// How many times the state file was written (tests check that changes are coalesced).
    var stateWrites = 0
    /// Installation details waiting to be read at their `installable_url`, once, by id.
    var installables: [String: JSONNode] = [:]

    public init(configuration: Configuration, logger: Logger = Logger(label: "hipkit.hipchat")) {
        self.configuration = configuration
        self.logger = logger
        http = OutgoingHTTP(timeout: configuration.timeout, retryingLoopback: false)
        if let file = configuration.stateFile, let saved = Self.savedState(from: file, logger: logger),
            !saved.rooms.isEmpty
        {
            role = saved.role
            rooms = saved.rooms
            // The room shown must be one the person played sees (a guest sees public rooms only).
            let user = EmulatedUser.playing(saved.role)
            let visible = saved.rooms.filter { $0.isVisible(to: user) }
            currentRoomId =
                visible.contains { $0.id == saved.currentRoomId }
                ? saved.currentRoomId : (visible.first ?? saved.rooms[0]).id
            nextMessage = saved.nextMessage
            roomGlances = saved.roomGlances
            groupGlances = saved.groupGlances
            let kept = Self.installations(saved, logger: logger)
            installations = kept
            credentials = saved.credentials.filter { id, _ in kept.contains { $0.oauthId == id } }
        }
    }

    var user: EmulatedUser { EmulatedUser.playing(role) }

    /// The room the page shows.
    var room: EmulatedRoom { rooms.first { $0.id == currentRoomId } ?? rooms[0] }

    func room(_ id: Int) -> EmulatedRoom? { rooms.first { $0.id == id } }

    /// The installation covering room `id`: the global one, or the room's own.
    func installation(covering id: Int) -> Installed? {
        installations.first { $0.roomId == nil || $0.roomId == id }
    }

    /// The installation whose oauthId is `id`.
    func installation(_ id: String) -> Installed? { installations.first { $0.oauthId == id } }

    /// The installation covering the room the page shows.
    var installed: Installed? { installation(covering: currentRoomId) }

    /// The rooms `installation` covers.
    func rooms(coveredBy installation: Installed) -> [EmulatedRoom] {
        rooms.filter { installation.roomId == nil || installation.roomId == $0.id }
    }

    /// The glance data room `id` shows for `key`: its own, else the group's when the global
    /// installation covers it.
    func glanceData(_ key: String, inRoom id: Int, installation: Installed) -> JSONNode? {
        roomGlances[id]?[key] ?? (installation.roomId == nil ? groupGlances[key] : nil)
    }

    /// Adds `message` to room `id` (which may no longer be the room the page shows when a
    /// webhook's reply arrives).
    func post(_ message: RoomMessage, inRoom id: Int) {
        guard let index = rooms.firstIndex(where: { $0.id == id }) else { return }
        rooms[index].messages.append(message)
        changed()
    }

    // MARK: The descriptor

    /// Fetches the descriptor again (the room page does on load and after a rebuild).
    @discardableResult
    func loadDescriptor() async -> EmulatedAddon? {
        var request = OutgoingRequest(url: configuration.descriptorURL)
        request.setValue("application/json", forHTTPHeaderField: "Accept")
        do {
            let response = try await send(request, note: "the descriptor")
            guard response.isSuccess else {
                throw Failure("the descriptor at \(configuration.descriptorURL) answered \(response.status)")
            }
            guard let json = response.json else {
                throw Failure("the descriptor at \(configuration.descriptorURL) is not JSON")
            }
            let parsed = try EmulatedAddon(descriptor: json, url: configuration.descriptorURL)
            addon = parsed
            addonError = nil
            return parsed
        } catch let error as OutgoingHTTP.Failure {
            addonError = "cannot fetch the descriptor at \(configuration.descriptorURL): \(error)"
            return nil
        } catch {
            addonError = "\(error)"
            return nil
        }
    }

    // MARK: Install, update, uninstall

    /// The install flow: fetch the descriptor, then POST the new installation's credentials to
    /// `callbackUrl`; the add-on may check them against this HipChat's capabilities document
    /// and token endpoint while the POST is open.
    ///
    /// A descriptor with `installedUrl` and no `callbackUrl` installs through the browser instead,
    /// as HipChat did: the installation is made, and the answer is where to send the browser —
    /// `installedUrl?installable_url=…&redirect_url=…`, the details readable once at
    /// `installable_url`, and `redirect_url` back to this room.
    @discardableResult
    func install(inRoom: Bool) async throws(Failure) -> String? {
        await beginChange()
        defer { endChange() }
        let room = self.room
        try checkInstall(inRoom ? room : nil)
        guard let addon = await loadDescriptor() else { throw Failure(addonError ?? "the descriptor cannot be read") }
        if inRoom && !addon.allowRoom { throw Failure("the descriptor says installable.allowRoom: false") }
        if !inRoom && !addon.allowGlobal { throw Failure("the descriptor says installable.allowGlobal: false") }
        let roomId = inRoom ? room.id : nil
        let (oauthId, secret) = try await postFreshInstallation(to: addon.callbackUrl, roomId: roomId, what: "install")
        installations.append(
            Installed(addon: addon, oauthId: oauthId, oauthSecret: secret, roomId: roomId, installedAt: Date()))
        changed(saveNow: true)
        if addon.callbackUrl == nil, let installedUrl = addon.installedUrl {
            return browserFlow(installedUrl, details: installBody(oauthId: oauthId, secret: secret, roomId: roomId))
        }
        await refreshGlances()
        return nil
    }

    /// Whether the person played may install the add-on in `room` (nil: for all rooms), as
    /// HipChat allowed: a group admin anywhere, a room's owner in that room; and only where no
    /// installation covers the room already.
    func checkInstall(_ room: EmulatedRoom?) throws(Failure) {
        let user = self.user
        guard let room else {
            guard user.isAdmin else {
                throw Failure("only a group admin installs an add-on for all rooms", status: 403)
            }
            if installations.contains(where: { $0.roomId == nil }) {
                throw Failure("the add-on is already installed for all rooms", status: 409)
            }
            let names = installations.compactMap { $0.roomId.flatMap(self.room)?.name }
            if !names.isEmpty {
                throw Failure(
                    "the add-on is installed in \(names.joined(separator: ", ")); uninstall it there before installing it for all rooms",
                    status: 409)
            }
            return
        }
        guard room.isAdministered(by: user) else {
            throw Failure("only a group admin or the room's owner installs an add-on in \(room.name)", status: 403)
        }
        if let covering = installation(covering: room.id) {
            throw Failure(
                covering.roomId == nil
                    ? "the add-on is installed for all rooms, \(room.name) included"
                    : "the add-on is already installed in \(room.name); update or uninstall it",
                status: 409)
        }
    }

    /// Whether the person played may update or remove `installation`: a group admin, or the
    /// owner of its room.
    func mayManage(_ installation: Installed) -> Bool {
        installation.roomId.flatMap(room).map { $0.isAdministered(by: user) } ?? user.isAdmin
    }

    /// The installation `oauthId` names, or the one covering the room the page shows; the person
    /// played must be allowed to manage it (a group admin, or the owner of its room).
    private func managed(_ oauthId: String?) throws(Failure) -> Installed {
        let found = oauthId.map(installation) ?? installed
        guard let found else { throw Failure("the add-on is not installed" + (oauthId == nil ? " here" : "")) }
        guard mayManage(found) else {
            throw Failure(
                found.roomId == nil
                    ? "only a group admin manages an installation for all rooms"
                    : "only a group admin or the room's owner manages the add-on in its room", status: 403)
        }
        return found
    }

    /// Where to send the browser for one of HipChat's browser flows: `address` with
    /// `installable_url` (the details, readable once) and `redirect_url` (this room).
    private func browserFlow(_ address: String, details: JSONNode) -> String {
        let id = Self.randomCharacters(24)
        installables[id] = details
        var components = URLComponents(string: address)
        var query = components?.queryItems ?? []
        query.append(URLQueryItem(name: "installable_url", value: configuration.apiURL + "oauth/installable/" + id))
        query.append(URLQueryItem(name: "redirect_url", value: configuration.publicURL + "/"))
        components?.queryItems = query
        return components?.string ?? address
    }

    /// The details waiting at an `installable_url`, handed out once: a second read finds nothing,
    /// as with HipChat.
    func takeInstallable(_ id: String) -> JSONNode? {
        installables.removeValue(forKey: id)
    }

    /// An update after the descriptor changed: `updateCallbackUrl` gets the same oauthId;
    /// without one, `callbackUrl` gets a fresh installation, as HipChat did. A descriptor with
    /// neither, and `updatedUrl` (or else `installedUrl`), is updated through the browser: the
    /// answer is where to send it, with the installation's details at a single-use URL.
    @discardableResult
    func update(_ oauthId: String? = nil) async throws(Failure) -> String? {
        await beginChange()
        defer { endChange() }
        let current = try managed(oauthId)
        guard let addon = await loadDescriptor() else { throw Failure(addonError ?? "the descriptor cannot be read") }
        var next = current
        next.addon = addon
        if let updateUrl = addon.updateCallbackUrl {
            try await postInstall(
                to: updateUrl, body: installBody(oauthId: current.oauthId, secret: nil, roomId: current.roomId),
                what: "update")
        } else if let callbackUrl = addon.callbackUrl {
            let (oauthId, secret) = try await postFreshInstallation(
                to: addon.callbackUrl, roomId: current.roomId, what: "reinstall")
            // The old installation goes, as on an uninstall: its credentials stop working, then
            // the add-on is told (it would otherwise keep it, and push to the room twice).
            credentials[current.oauthId] = nil
            tokens = tokens.filter { $0.value.oauthId != current.oauthId }
            next.oauthId = oauthId
            next.oauthSecret = secret
            if let index = installations.firstIndex(where: { $0.oauthId == current.oauthId }) {
                installations[index] = next
            }
            changed(saveNow: true)
            try await sendUninstall(current.oauthId, to: callbackUrl)
        }
        if let index = installations.firstIndex(where: { $0.oauthId == current.oauthId }) {
            installations[index] = next
        }
        changed(saveNow: true)
        if addon.updateCallbackUrl == nil, addon.callbackUrl == nil,
            let browser = addon.updatedUrl ?? addon.installedUrl
        {
            return browserFlow(
                browser, details: installBody(oauthId: next.oauthId, secret: next.oauthSecret, roomId: next.roomId))
        }
        await refreshGlances()
        return nil
    }

    /// Uninstall: the credentials stop working first (so the add-on can tell the removal is
    /// real by asking the token endpoint), then `DELETE {callbackUrl}/{oauthId}`. The add-on's
    /// glances, views and webhooks leave every room the installation covered.
    /// When the descriptor declares `uninstalledUrl`, the answer is where to send the browser next,
    /// with the installation's details (no secret) at a single-use `installable_url`.
    @discardableResult
    func uninstall(_ oauthId: String? = nil) async throws(Failure) -> String? {
        await beginChange()
        defer { endChange() }
        let current = try managed(oauthId)
        credentials[current.oauthId] = nil
        tokens = tokens.filter { $0.value.oauthId != current.oauthId }
        installations.removeAll { $0.oauthId == current.oauthId }
        for room in rooms(coveredBy: current) {
            roomGlances[room.id] = nil
            glanceErrors[room.id] = nil
        }
        if current.roomId == nil { groupGlances = [:] }
        changed(saveNow: true)
        let redirect = current.addon.uninstalledUrl.map { address in
            // The installation, without its secret, and with its group.
            var details = installBody(oauthId: current.oauthId, secret: nil, roomId: current.roomId)
            details["groupId"] = .integer(EmulatedRoom.groupId)
            return browserFlow(address, details: details)
        }
        if let callbackUrl = current.addon.callbackUrl {
            try await sendUninstall(current.oauthId, to: callbackUrl)
        }
        return redirect
    }

    /// `DELETE {callbackUrl}/{oauthId}`, once the credentials no longer work; an add-on that
    /// has already forgotten the installation (404) is no failure.
    private func sendUninstall(_ oauthId: String, to callbackUrl: String) async throws(Failure) {
        guard let url = URL(string: callbackUrl + "/" + oauthId) else { return }
        var request = OutgoingRequest(url: url)
        request.httpMethod = "DELETE"
        do {
            let response = try await send(request, note: "uninstall")
            if !response.isSuccess && response.status != 404 {
                throw Failure("the add-on answered the uninstall with \(response.status): \(Self.errorText(response))")
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure("the add-on cannot be reached for the uninstall: \(error)")
        }
    }

    /// New credentials, honoured by the token endpoint from now on so the add-on can check them
    /// while `callbackUrl` (if any) takes them; forgotten again if the add-on refuses them.
    private func postFreshInstallation(to callbackUrl: String?, roomId: Int?, what: String) async throws(Failure) -> (
        String, String
    ) {
        let oauthId = UUID().uuidString.lowercased()
        let secret = Self.randomSecret()
        credentials[oauthId] = secret
        guard let callbackUrl else { return (oauthId, secret) }
        do {
            try await postInstall(
                to: callbackUrl, body: installBody(oauthId: oauthId, secret: secret, roomId: roomId), what: what)
        } catch {
            credentials[oauthId] = nil
            throw error
        }
        return (oauthId, secret)
    }

    /// What HipChat POSTed to `callbackUrl` (with the secret) and to `updateCallbackUrl`
    /// (without: the add-on keeps the one it has).
    private func installBody(oauthId: String, secret: String?, roomId: Int?) -> JSONNode {
        var body: [String: JSONNode] = [
            "capabilitiesUrl": .string(configuration.capabilitiesURL), "oauthId": .string(oauthId),
        ]
        if let secret {
            body["oauthSecret"] = .string(secret)
            body["groupId"] = .integer(EmulatedRoom.groupId)
        }
        if let roomId { body["roomId"] = .integer(roomId) }
        return .object(body)
    }

    /// Waits until no other install, update or uninstall runs, then marks one running; each
    /// ends with ``endChange()``.
    ///
    /// The page shows an uninstall as soon as the installation is gone, while the add-on is
    /// still being told (`DELETE`): an install clicked then waits for that and goes on, rather
    /// than being refused. A double click gets the second change checked against what the first
    /// left (an install: "already installed").
    private func beginChange() async {
        guard changingInstallation else {
            changingInstallation = true
            return
        }
        // Handed over by endChange() with the change still marked running.
        await withCheckedContinuation { changesWaiting.append($0) }
    }

    private func endChange() {
        if changesWaiting.isEmpty {
            changingInstallation = false
        } else {
            changesWaiting.removeFirst().resume()
        }
    }

    private func postInstall(to address: String, body: JSONNode, what: String) async throws(Failure) {
        guard let url = URL(string: address) else { throw Failure("callbackUrl \(address) is not a URL") }
        var request = OutgoingRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = body.jsonData
        let response: OutgoingResponse
        do {
            response = try await send(request, note: what)
        } catch {
            throw Failure("the add-on cannot be reached at \(address): \(error)")
        }
        guard response.isSuccess else {
            throw Failure("the add-on refused the \(what) (\(response.status)): \(Self.errorText(response))")
        }
    }

    static func errorText(_ response: OutgoingResponse) -> String {
        if let message = response.json?["error"]?["message"]?.stringValue ?? response.json?["message"]?.stringValue {
            return message
        }
        let text = String(decoding: response.body.prefix(300), as: UTF8.self)
        return text.isEmpty ? "no details" : text
    }

    /// 40 characters, like HipChat's secrets.
    static func randomSecret() -> String { randomCharacters(40) }

    /// Letters and digits from the system's random source (secrets, tokens, JWT ids).
    static func randomCharacters(_ count: Int) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in alphabet.randomElement(using: &generator)! })
    }

    // MARK: People, rooms and tokens

    /// Plays someone else. A guest does not see private rooms: playing one from a private room
    /// leads to the first public room.
    func play(_ role: EmulatedRole) async {
        self.role = role
        if !room.isVisible(to: user), let open = rooms.first(where: { $0.isVisible(to: user) }) {
            currentRoomId = open.id
        }
        changed()
        await refreshGlances()
    }

    /// Shows room `id`. Its glances are queried the first time it is shown with the add-on
    /// installed, as HipChat's client did when it opened a room; after that the room keeps what
    /// it was pushed, and "Reload glances" queries again.
    func enter(_ id: Int) async throws(Failure) {
        guard let room = room(id), room.isVisible(to: user) else { throw Failure("no room \(id)", status: 404) }
        currentRoomId = room.id
        changed()
        if roomGlances[room.id] == nil { await refreshGlances() }
    }

    /// A new room, owned by whoever creates it (guests cannot), shown at once.
    @discardableResult
    func createRoom(name: String, isPublic: Bool) async throws(Failure) -> EmulatedRoom {
        guard !user.isGuest else { throw Failure("guests cannot create rooms", status: 403) }
        let name = try EmulatedRoom.checkedName(name, among: rooms).get()
        // Rooms are never deleted, so the next id is one past the highest.
        let id = (rooms.map(\.id).max() ?? 0) + 1
        let room = EmulatedRoom(id: id, name: name, topic: "", isPublic: isPublic, ownerId: user.id)
        rooms.append(room)
        currentRoomId = room.id
        changed()
        await refreshGlances()
        return room
    }

    /// Renames room `id`: its owner or a group admin may.
    func renameRoom(_ id: Int, to name: String) throws(Failure) {
        guard let index = rooms.firstIndex(where: { $0.id == id }), rooms[index].isVisible(to: user) else {
            throw Failure("no room \(id)", status: 404)
        }
        guard rooms[index].isAdministered(by: user) else {
            throw Failure("only a group admin or the room's owner renames \(rooms[index].name)", status: 403)
        }
        rooms[index].name = try EmulatedRoom.checkedName(name, among: rooms, except: id).get()
        changed()
    }

    /// A JWT for the installation covering room `id` (the room shown by default), as HipChat
    /// signed them for the current user in that room.
    func token(inRoom id: Int? = nil) async throws(Failure) -> String {
        let roomId = id ?? currentRoomId
        guard let installed = installation(covering: roomId) else {
            throw Failure("the add-on is not installed in this room")
        }
        let claims = signer.claims(oauthId: installed.oauthId, userId: user.id, roomId: roomId)
        do {
            return try await signer.sign(claims, secret: installed.oauthSecret)
        } catch {
            throw Failure("the token cannot be signed: \(error)", status: 500)
        }
    }

    // MARK: Sending

    /// Sends `request` to the add-on and logs it (with the claims of the JWT it carries).
    func send(_ request: OutgoingRequest, note: String) async throws -> OutgoingResponse {
        let start = ContinuousClock.now
        let address = request.url?.absoluteString ?? ""
        var entry = HostEventLog.Entry(
            direction: .toAddon, method: request.httpMethod ?? "GET", url: HostEventLog.loggableURL(address),
            note: note, requestBody: HostEventLog.loggable(request.httpBody))
        let token =
            request.value(forHTTPHeaderField: "Authorization").flatMap {
                $0.hasPrefix("JWT ") ? String($0.dropFirst(4)) : nil
            }
            ?? request.url.flatMap {
                URLComponents(url: $0, resolvingAgainstBaseURL: false)?.queryItems?.first {
                    $0.name == "signed_request"
                }?.value
            }
        entry.claims = token.flatMap(HostTokenSigner.decodedClaims)
        do {
            let response = try await http.send(request)
            entry.status = response.status
            entry.milliseconds = Self.milliseconds(since: start)
            entry.responseBody = HostEventLog.loggable(response.body)
            log.record(entry)
            return response
        } catch {
            entry.milliseconds = Self.milliseconds(since: start)
            entry.note = "\(note): \(error)"
            log.record(entry)
            throw error
        }
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        (ContinuousClock.now - start).inMilliseconds
    }

    func nextMessageId() -> String {
        defer { nextMessage += 1 }
        return "m\(nextMessage)-" + UUID().uuidString.prefix(8).lowercased()
    }
}
