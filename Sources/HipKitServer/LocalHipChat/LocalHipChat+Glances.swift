import Foundation
import HipChatConnect
import HipKit

extension LocalHipChat {
    /// Fetches every glance's data from its `queryUrl` with a JWT for room `id` (the room shown
    /// by default), as HipChat did when a room's sidebar loaded; the answers are that room's.
    /// Glances without one show their name. A room the add-on is not installed in has none.
    func refreshGlances(inRoom id: Int? = nil) async {
        let roomId = id ?? currentRoomId
        guard let installed = installation(covering: roomId) else { return }
        let jwt = try? await token(inRoom: roomId)
        if roomGlances[roomId] == nil { roomGlances[roomId] = [:] }
        for glance in installed.addon.glances {
            guard let key = glance.key, let queryUrl = installed.addon.absolute(glance.queryUrl),
                var components = URLComponents(string: queryUrl)
            else { continue }
            if let jwt {
                components.queryItems =
                    (components.queryItems ?? []) + [URLQueryItem(name: "signed_request", value: jwt)]
            }
            guard let url = components.url else { continue }
            var request = OutgoingRequest(url: url)
            request.setValue("application/json", forHTTPHeaderField: "Accept")
            do {
                let response = try await send(request, note: "glance \(key)")
                guard response.isSuccess else {
                    glanceErrors[roomId, default: [:]][key] =
                        "queryUrl answered \(response.status): \(Self.errorText(response))"
                    continue
                }
                guard let data = response.json, data.dictionaryValue != nil else {
                    glanceErrors[roomId, default: [:]][key] = "queryUrl answered something that is not a JSON object"
                    continue
                }
                roomGlances[roomId, default: [:]][key] = try Self.checkedGlance(data)
                glanceErrors[roomId]?[key] = nil
            } catch let failure as Failure {
                glanceErrors[roomId, default: [:]][key] = failure.description
            } catch {
                glanceErrors[roomId, default: [:]][key] = "queryUrl cannot be reached: \(error)"
            }
        }
        changed()
    }

    /// Glance data from a query or a push, checked as HipChat read it: `label {type, value}`
    /// (or a plain string), `status` a lozenge or an icon, `metadata` anything. The answer is
    /// what the room shows, its HTML cut down to what a glance may hold.
    static func checkedGlance(_ data: JSONNode) throws(Failure) -> JSONNode {
        guard data.dictionaryValue != nil else { throw Failure("glance data must be a JSON object") }
        var out: [String: JSONNode] = [:]
        let label = data["label"]
        if let text = label?.stringValue {
            out["label"] = .string(LimitedHTML.sanitize(text, allowing: LimitedHTML.glanceTags))
        } else if let value = label?["value"]?.stringValue {
            let html = label?["type"]?.stringValue == "html"
            out["label"] = .string(
                html ? LimitedHTML.sanitize(value, allowing: LimitedHTML.glanceTags) : HTMLText.escape(value))
        } else {
            throw Failure("glance data needs a label: {\"type\": \"html\", \"value\": \"…\"}")
        }
        if let status = data["status"], !status.isNull {
            let lozenges = LozengeType.names
            switch status["type"]?.stringValue {
            case "lozenge":
                guard let text = status["value"]?["label"]?.stringValue,
                    let type = status["value"]?["type"]?.stringValue, lozenges.contains(type)
                else {
                    throw Failure(
                        "a lozenge status needs value.label and value.type (one of \(lozenges.joined(separator: ", ")))"
                    )
                }
                out["status"] = .object(["type": .string("lozenge"), "label": .string(text), "lozenge": .string(type)])
            case "icon":
                guard let url = status["value"]?["url"]?.stringValue,
                    url.hasPrefix("http://") || url.hasPrefix("https://")
                else {
                    throw Failure("an icon status needs value.url, an http(s) URL")
                }
                out["status"] = .object([
                    "type": .string("icon"), "url": .string(url),
                    "url2x": status["value"]?["url@2x"] ?? .string(url),
                ])
            default:
                throw Failure("status.type must be lozenge or icon")
            }
        }
        out["metadata"] = data["metadata"] ?? .null
        return .object(out)
    }
}
