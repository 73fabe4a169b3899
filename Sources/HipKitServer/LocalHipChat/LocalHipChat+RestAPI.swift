import Foundation
import HipChatConnect

extension LocalHipChat {
    /// An answer of the emulated REST API (an `Error` too, so that a refusal can travel in a
    /// `Result`).
    struct APIAnswer: Sendable, Error {
        var status: Int
        var body: JSONNode?
    }

    /// HipChat's side of what an add-on calls: `GET /v2/capabilities`, `POST /v2/oauth/token`,
    /// `POST /v2/room/{id}/notification`, `POST /v2/addon/ui/{room|group|user}/{id}` and
    /// `GET /v2/room/{id}`. `path` is below `/v2/`.
    func restAPI(method: String, path: String, authorization: String?, contentType: String?, body: Data) async
        -> APIAnswer
    {
        let start = ContinuousClock.now
        let answer = await answerAPI(
            method: method, path: path, authorization: authorization, contentType: contentType, body: body)
        var entry = HostEventLog.Entry(
            direction: .toHipChat, method: method, url: configuration.publicURL + "/v2/" + path, status: answer.status,
            milliseconds: Self.milliseconds(since: start), requestBody: HostEventLog.loggable(body),
            responseBody: answer.body.map { HostEventLog.loggable($0.jsonData) } ?? nil)
        if path == "oauth/token" {
            // The granted token is a credential of the add-on's; the log shows that one was granted.
            entry.responseBody = answer.status == 200 ? "{\"access_token\": \"…\", …}" : entry.responseBody
            entry.note = "token for " + (Self.basicUser(authorization) ?? "nobody")
        }
        log.record(entry)
        return answer
    }

    private func answerAPI(method: String, path: String, authorization: String?, contentType: String?, body: Data) async
        -> APIAnswer
    {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch (method, parts.count) {
        case ("GET", 1) where parts[0] == DescriptorField.capabilities.rawValue:  // HipChat's own capabilities document
            return APIAnswer(status: 200, body: capabilitiesDocument)
        case ("POST", 2) where path == "oauth/token":
            return grantToken(authorization: authorization, body: body)
        case ("POST", 3) where parts[0] == "room" && parts[2] == "notification":
            return notify(room: parts[1], authorization: authorization, body: body)
        case ("POST", 4) where parts[0] == "addon" && parts[1] == "ui" && ["room", "group", "user"].contains(parts[2]):
            return pushGlances(to: parts[2], id: parts[3], authorization: authorization, body: body)
        case ("GET", 3) where parts[0] == "oauth" && parts[1] == "installable":
            // HipChat's browser flows: the details behind an installable_url, read once.
            guard let details = takeInstallable(parts[2]) else {
                return Self.apiError(404, "no such installable, or it was read already")
            }
            return APIAnswer(status: 200, body: details)
        case ("GET", 2) where parts[0] == "room":
            guard let token = bearer(authorization) else {
                return Self.apiError(401, "a Bearer token from the token endpoint is required")
            }
            guard token.scopes.contains("view_room") || token.scopes.contains("admin_room") else {
                return Self.apiError(403, "the token lacks the view_room scope")
            }
            switch coveredRoom(parts[1], by: token) {
            case .success(let room): return APIAnswer(status: 200, body: room.json)
            case .failure(let answer): return answer
            }
        default:
            return Self.apiError(404, "the local HipChat has no \(method) /v2/\(path)")
        }
    }

    /// HipChat's capabilities document, pointing at this HipChat's token endpoint and API.
    var capabilitiesDocument: JSONNode {
        .object([
            "name": .string("Local HipChat"), "key": .string("hipchat"),
            "description": .string("HipChat, played by hipkit"),
            "links": .object([
                "self": .string(configuration.capabilitiesURL), "api": .string(configuration.apiURL),
                "homepage": .string(configuration.publicURL + "/"),
            ]),
            DescriptorField.capabilities.rawValue: .object([
                ModuleKind.oauth2Provider.rawValue: .object([
                    "tokenUrl": .string(configuration.tokenURL),
                    "authorizationUrl": .string(configuration.publicURL + "/users/authorize"),
                ]),
                "hipchatApiProvider": .object([
                    "url": .string(configuration.apiURL),
                    "availableScopes": .object(
                        Dictionary(
                            uniqueKeysWithValues: Self.scopes.map {
                                ($0, JSONNode.object(["id": .string($0), "name": .string($0)]))
                            })),
                ]),
            ]),
            "connect_server_api_version": .integer(1),
        ])
    }

    static let scopes = [
        "send_notification", "send_message", "view_room", "admin_room", "view_group", "admin_group", "manage_rooms",
        "view_messages", "import_data",
    ]

    /// `client_credentials` with HTTP Basic `oauthId:oauthSecret`; granted only for the
    /// credentials of the current installation (or one whose install callback is running).
    private func grantToken(authorization: String?, body: Data) -> APIAnswer {
        let form = Self.form(body)
        guard form["grant_type"] == "client_credentials" else {
            return APIAnswer(status: 400, body: .object(["error": .string("unsupported_grant_type")]))
        }
        guard let (id, secret) = Self.basicCredentials(authorization), let known = credentials[id],
            ConstantTime.equals(known, secret)
        else {
            return APIAnswer(
                status: 401,
                body: .object([
                    "error": .string("invalid_client"),
                    "error_description": .string("unknown or revoked client credentials"),
                ]))
        }
        let allowed = (installation(id)?.addon.scopes ?? addon?.scopes) ?? []
        let asked = form["scope"].map { $0.split(separator: " ").map(String.init) } ?? allowed
        guard asked.allSatisfy(allowed.contains) else {
            return APIAnswer(
                status: 400,
                body: .object([
                    "error": .string("invalid_scope"),
                    "error_description": .string(
                        "the descriptor does not ask for \(asked.filter { !allowed.contains($0) }.joined(separator: " "))"
                    ),
                ]))
        }
        let token = Self.randomSecret()
        tokens[token] = IssuedToken(oauthId: id, scopes: asked, expires: Date().addingTimeInterval(3600))
        return APIAnswer(
            status: 200,
            body: .object([
                "access_token": .string(token), "expires_in": .integer(3600),
                "group_id": .integer(EmulatedRoom.groupId),
                "group_name": .string(EmulatedRoom.groupName), "token_type": .string("bearer"),
                "scope": .string(asked.joined(separator: " ")),
            ]))
    }

    private func bearer(_ authorization: String?) -> IssuedToken? {
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else { return nil }
        let value = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        guard let token = tokens[value], token.expires > Date(), credentials[token.oauthId] != nil else { return nil }
        return token
    }

    /// The room `value` names (its id, or its name percent-encoded), when the token's
    /// installation covers it: HipChat answered a room outside the installation with 403.
    private func coveredRoom(_ value: String, by token: IssuedToken) -> Result<EmulatedRoom, APIAnswer> {
        let name = value.removingPercentEncoding ?? value
        guard let room = rooms.first(where: { String($0.id) == value || $0.name == name }) else {
            return .failure(Self.apiError(404, "no room \(value)"))
        }
        guard let installation = installation(token.oauthId),
            installation.roomId == nil || installation.roomId == room.id
        else {
            return .failure(Self.apiError(403, "the add-on is not installed in room \(room.id)"))
        }
        return .success(room)
    }

    private func notify(room id: String, authorization: String?, body: Data) -> APIAnswer {
        guard let token = bearer(authorization) else {
            return Self.apiError(401, "a Bearer token from the token endpoint is required")
        }
        guard token.scopes.contains("send_notification") else {
            return Self.apiError(403, "the token lacks the send_notification scope")
        }
        let room: EmulatedRoom
        switch coveredRoom(id, by: token) {
        case .success(let found): room = found
        case .failure(let answer): return answer
        }
        guard let json = JSONNode.parse(body) else { return Self.apiError(400, "the body is not JSON") }
        let installed = installation(covering: room.id)
        let from = installed?.addon.fromName ?? installed?.addon.name ?? "Add-on"
        do {
            post(try RoomMessage.notification(json, id: nextMessageId(), from: from), inRoom: room.id)
        } catch {
            return Self.apiError(400, error.description)
        }
        return APIAnswer(status: 204, body: nil)
    }

    /// `POST addon/ui/{room|group|user}/{id}`: data for one room, or for every room the token's
    /// installation covers (`group`; `user` too, as this HipChat keeps no data per person). A
    /// room's own data wins over the group's, as in HipChat.
    private func pushGlances(to scope: String, id: String, authorization: String?, body: Data) -> APIAnswer {
        guard let token = bearer(authorization),
            let installed = installation(token.oauthId)
        else {
            return Self.apiError(401, "a Bearer token from the token endpoint is required")
        }
        var room: EmulatedRoom?
        if scope == "room" {
            switch coveredRoom(id, by: token) {
            case .success(let found): room = found
            case .failure(let answer): return answer
            }
        } else if scope == "group", id != String(EmulatedRoom.groupId) {
            return Self.apiError(404, "no group \(id)")
        }
        guard let json = JSONNode.parse(body), let glances = json[ModuleKind.glance.rawValue]?.arrayValue else {
            return Self.apiError(400, "the body must be {\"glance\": [{\"key\": …, \"content\": …}]}")
        }
        let known = Set(installed.addon.glances.compactMap(\.key))
        var accepted: [(String, JSONNode)] = []
        for glance in glances {
            guard let key = glance["key"]?.stringValue, known.contains(key) else {
                return Self.apiError(
                    400, "glance key \(glance["key"]?.templateText ?? "(none)") is not a glance of the add-on")
            }
            guard let content = glance["content"] else { return Self.apiError(400, "glance \(key) has no content") }
            do {
                accepted.append((key, try Self.checkedGlance(content)))
            } catch {
                return Self.apiError(400, "glance \(key): \(error.description)")
            }
        }
        for (key, data) in accepted {
            if let room {
                roomGlances[room.id, default: [:]][key] = data
                glanceErrors[room.id]?[key] = nil
            } else if let only = installed.roomId {
                // A room installation's group-wide data is its room's.
                roomGlances[only, default: [:]][key] = data
                glanceErrors[only]?[key] = nil
            } else {
                groupGlances[key] = data
                // The group's data replaces what each room had for the glance.
                for id in roomGlances.keys { roomGlances[id]?[key] = nil }
            }
        }
        changed()
        return APIAnswer(status: 204, body: nil)
    }

    static func apiError(_ status: Int, _ message: String) -> APIAnswer {
        APIAnswer(
            status: status,
            body: .object([
                "error": .object(["code": .integer(status), "message": .string(message), "type": .string("hipkit")])
            ]))
    }

    static func form(_ body: Data) -> [String: String] {
        var out: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            if let name = parts.first { out[name] = parts.count > 1 ? parts[1] : "" }
        }
        return out
    }

    static func basicCredentials(_ authorization: String?) -> (String, String)? {
        guard let authorization, authorization.lowercased().hasPrefix("basic "),
            let data = Data(base64Encoded: String(authorization.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
            let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    static func basicUser(_ authorization: String?) -> String? { basicCredentials(authorization)?.0 }
}
