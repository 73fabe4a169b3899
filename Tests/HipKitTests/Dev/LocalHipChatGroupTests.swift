import Foundation
import HipChatConnect
import TestProcesses
import Testing

/// The local HipChat's group, over HTTP as the page drives it, against a real `hipkit dev` with
/// JWT checks on: rooms public and private, people with their roles, a room install that stays
/// in its room, a global one that covers every room, glance data per room, and HipChat's REST
/// API refusing what an installation does not cover.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct LocalHipChatGroupTests {
    typealias Flow = LocalHipChatFlowTests

    /// Waits up to `seconds` for `condition`, asked once more after them; answers whether it
    /// came true.
    func eventually(_ seconds: Double = 20, _ condition: () async -> Bool) async -> Bool {
        await Polling.holds(within: seconds, every: .milliseconds(100), condition)
    }

    @Test func roomsPeopleAndInstallationsAsHipChatHadThem() async throws {
        let project = try await TestSupport.scaffold("full", in: "local-hipchat-group")
        defer { try? FileManager.default.removeItem(at: project.deletingLastPathComponent()) }
        let dev = try await Blocking.run {
            try DevProcess(project: project, arguments: ["--admin-token", "local-admin-token"])
        }
        defer { dev.stop() }
        let admin = ["Authorization": "Bearer local-admin-token"]
        func state() async -> [String: Any] { await Flow.roomState(dev) }
        func post(_ name: String, _ body: String = "{}") async -> (status: Int, json: [String: Any]) {
            await Flow.roomCall(dev, name, body)
        }
        func play(_ role: String) async { #expect(await post("role", #"{"role": "\#(role)"}"#).status == 200) }
        func enter(_ room: Int) async { #expect(await post("enter", #"{"room": \#(room)}"#).status == 200) }
        func rooms() async -> [String] {
            ((await state()["rooms"] as? [[String: Any]]) ?? []).map {
                "\($0["name"] as? String ?? "?") \($0["privacy"] as? String ?? "?")"
                    + (($0["installed"] as? String).map { " " + $0 } ?? "")
            }
        }
        func glanceLabel() async -> String? {
            ((await state()["glances"] as? [[String: Any]])?.first?["data"] as? [String: Any])?["label"] as? String
        }
        func messages() async -> [String] {
            ((await state()["messages"] as? [[String: Any]]) ?? []).compactMap { $0["html"] as? String }
        }
        func webhookCalls() async -> Int {
            ((await state()["log"] as? [[String: Any]]) ?? []).filter {
                ($0["url"] as? String)?.hasSuffix("/hooks/incident") == true && $0["method"] as? String == "POST"
            }.count
        }

        // The group: a public room and a private one; a guest sees the public one only.
        #expect(await rooms() == ["Operations public", "Leadership private"])
        await play("guest")
        #expect(await rooms() == ["Operations public"])
        #expect(await post("enter", #"{"room": 2}"#).status == 404, "a guest cannot enter a private room")
        #expect(await post("rooms", #"{"name": "Guests' corner"}"#).status == 403)

        // Installing: a member may not; the room's owner may, in that room only.
        await play("member")
        #expect(await post("install", #"{"room": true}"#).status == 403)
        #expect(await post("install", #"{"room": false}"#).status == 403)
        await play("owner")
        let roomInstall = await post("install", #"{"room": true}"#)
        try #require(roomInstall.status == 200, "\(roomInstall.json)\n\(dev.log)")
        #expect(await rooms() == ["Operations public room", "Leadership private"])
        #expect(await post("install", #"{"room": false}"#).status == 403, "only a group admin installs for all rooms")
        await play("admin")
        let refused = await post("install", #"{"room": false}"#)
        #expect(refused.status == 409)
        #expect((refused.json["error"] as? String)?.contains("installed in Operations") == true, "\(refused.json)")
        #expect(await eventually { await glanceLabel() == "<b>3</b> open" }, "\(dev.log)")

        // In Leadership the add-on is not there: no glance, no view, no webhook.
        await enter(2)
        var room = await state()
        #expect(room["installation"] is NSNull)
        #expect((room["glances"] as? [Any])?.isEmpty == true)
        #expect(await post("open", #"{"target": "incidents-sidebar"}"#).status == 400)
        let hooksBefore = await webhookCalls()
        #expect(await post("messages", #"{"text": "/incident nobody hears this"}"#).status == 200)
        #expect(await webhookCalls() == hooksBefore)
        await enter(1)
        #expect(await post("messages", #"{"text": "/incident checkout is down"}"#).status == 200)
        #expect(await eventually { await webhookCalls() == hooksBefore + 1 }, "\(dev.log)")

        // The runtime sends a room's notification only where it is installed, and the local
        // HipChat shows it in that room alone.
        let nowhere = await dev.fetch(
            "POST", "admin/notifications?room=2", json: #"{"message": "to Leadership"}"#, headers: admin)
        #expect(nowhere.status == 404, "\(String(decoding: nowhere.body, as: UTF8.self))")
        let sent = await dev.fetch(
            "POST", "admin/notifications?room=1", json: #"{"message": "to Operations"}"#, headers: admin)
        #expect(sent.status == 202)
        #expect(await eventually { await messages().contains("to Operations") }, "\(dev.log)")
        await enter(2)
        #expect(!(await messages()).contains("to Operations"))

        // HipChat's REST API, called with the room installation's own credentials, refuses the
        // rooms it does not cover.
        func credentials() throws -> [(id: String, secret: String, room: Int?)] {
            let file = project.appendingPathComponent(".hipkit/local-hipchat.json")
            let saved = Flow.json(try Data(contentsOf: file))
            return ((saved["installations"] as? [[String: Any]]) ?? []).map {
                ($0["oauthId"] as? String ?? "", $0["oauthSecret"] as? String ?? "", $0["roomId"] as? Int)
            }
        }
        func bearer(_ id: String, _ secret: String) async throws -> [String: String] {
            let basic = Data("\(id):\(secret)".utf8).base64EncodedString()
            // The body is a form; the header given replaces the JSON type `json:` sets.
            let granted = await dev.fetch(
                "POST", "_hipchat/v2/oauth/token", json: "grant_type=client_credentials",
                headers: ["Authorization": "Basic \(basic)", "Content-Type": "application/x-www-form-urlencoded"])
            let token = try #require(Flow.json(granted.body)["access_token"] as? String, "\(granted.status)")
            return ["Authorization": "Bearer \(token)"]
        }
        func pushGlance(_ path: String, _ label: String, _ auth: [String: String]) async -> Int {
            await dev.fetch(
                "POST", "_hipchat/v2/addon/ui/" + path,
                json: #"{"glance": [{"key": "incidents-glance", "content": {"label": "\#(label)"}}]}"#,
                headers: auth
            ).status
        }
        let roomOnly = try #require(try credentials().first)
        #expect(roomOnly.room == 1)
        let roomToken = try await bearer(roomOnly.id, roomOnly.secret)
        #expect(await pushGlance("room/2", "not here", roomToken) == 403)
        #expect(
            await dev.fetch(
                "POST", "_hipchat/v2/room/2/notification", json: #"{"message": "not here"}"#, headers: roomToken
            ).status == 403)
        #expect(await dev.fetch("GET", "_hipchat/v2/room/2", headers: roomToken).status == 403)
        await enter(1)
        #expect(await pushGlance("room/1", "pushed to Operations", roomToken) == 204)
        #expect(await glanceLabel() == "pushed to Operations")
        await enter(2)
        await enter(1)
        #expect(await glanceLabel() == "pushed to Operations", "a room keeps what it was pushed")

        // A room's owner manages the room's installation; the group admin manages every one.
        await play("member")
        #expect(await post("uninstall").status == 403)
        await play("owner")
        #expect(await post("uninstall").status == 200)
        #expect(await rooms() == ["Operations public", "Leadership private"])

        // A global install covers every room, each with its own glance data and tokens.
        await play("admin")
        #expect(await post("install", #"{"room": false}"#).status == 200)
        #expect(await rooms() == ["Operations public global", "Leadership private global"])
        #expect(await eventually { await glanceLabel() == "<b>3</b> open" }, "\(dev.log)")
        await enter(2)
        #expect(await eventually { await glanceLabel() == "<b>3</b> open" }, "queried for Leadership too")
        let token = try #require(
            Flow.json(await dev.fetch("POST", "_hipchat/api/token", json: "{}").body)["token"] as? String)
        var payload = String(token.split(separator: ".")[1]).replacingOccurrences(of: "-", with: "+")
            .replacingOccurrences(of: "_", with: "/")
        payload += String(repeating: "=", count: (4 - payload.count % 4) % 4)
        let claims = Flow.json(try #require(Data(base64Encoded: payload)))
        #expect((claims["context"] as? [String: Any])?["room_id"] as? Int == 2, "a token for the room shown")
        let global = try #require(try credentials().first)
        #expect(global.room == nil)
        let globalToken = try await bearer(global.id, global.secret)
        #expect(await pushGlance("room/2", "only Leadership", globalToken) == 204)
        #expect(await glanceLabel() == "only Leadership")
        await enter(1)
        #expect(await glanceLabel() == "<b>3</b> open", "Operations keeps its own data")
        #expect(await pushGlance("group/1", "the whole group", globalToken) == 204)
        #expect(await glanceLabel() == "the whole group")
        await enter(2)
        #expect(await glanceLabel() == "the whole group")

        // Rooms are created and renamed in the page; whoever creates one owns it.
        await play("member")
        let made = await post("rooms", #"{"name": "Payments", "privacy": "private"}"#)
        #expect(made.status == 200, "\(made.json)")
        room = await state()
        #expect((room["room"] as? [String: Any])?["name"] as? String == "Payments")
        #expect(((room["room"] as? [String: Any])?["owner"] as? [String: Any])?["id"] as? Int == 103)
        #expect(await post("rooms", #"{"name": "payments"}"#).status == 409, "names are unique")
        #expect(await post("rooms", #"{"name": "   "}"#).status == 400)
        #expect(await post("rooms/rename", #"{"room": 3, "name": "Payments team"}"#).status == 200)
        #expect(await post("rooms/rename", #"{"room": 1, "name": "Ops"}"#).status == 403, "Operations is Otto's")
        #expect(
            await rooms() == ["Operations public global", "Leadership private global", "Payments team private global"])

        // What the page's calls refuse: another site's page, rooms that are not there, names
        // HipChat would not take.
        #expect(
            await dev.fetch(
                "POST", "_hipchat/api/rooms", json: #"{"name": "Planted"}"#,
                headers: ["Origin": "https://elsewhere.example"]
            ).status == 403)
        for (call, body, status) in [
            ("enter", #"{"room": 99}"#, 404), ("enter", #"{"room": "1"}"#, 400), ("enter", "{}", 400),
            ("rooms/rename", #"{"room": 99, "name": "x"}"#, 404),
            ("rooms", #"{"name": "\#(String(repeating: "x", count: 51))"}"#, 400),
            ("rooms", #"{"name": "tab\there"}"#, 400), ("rooms", #"{"name": 7}"#, 400),
            ("uninstall", #"{"oauthId": "not-an-installation"}"#, 400),
        ] {
            let answer = await post(call, body)
            #expect(answer.status == status, "\(call) \(body): \(answer)")
        }
        #expect(await rooms().count == 3, "nothing was made of them")

        // Uninstalling the global installation is the group admin's, and empties every room.
        #expect(await post("uninstall").status == 403)
        await play("admin")
        #expect(
            await eventually { await glanceLabel() == "<b>3</b> open" }, "the global installation covers the new room")
        #expect(await post("uninstall").status == 200)
        #expect(await rooms() == ["Operations public", "Leadership private", "Payments team private"])
        for id in [1, 2, 3] {
            await enter(id)
            room = await state()
            #expect(room["installation"] is NSNull)
            #expect((room["glances"] as? [Any])?.isEmpty == true)
        }
        #expect(await pushGlance("group/1", "after the end", globalToken) == 401)
    }

    /// An update with no `updateCallbackUrl` is a fresh installation at `callbackUrl`, as HipChat
    /// made it; the old one goes as on an uninstall, so the add-on keeps one installation for
    /// the room, not two (each glance update was pushed twice, once with dead credentials).
    @Test func anUpdateWithoutUpdateCallbackUrlReplacesTheInstallation() async throws {
        let project = try await TestSupport.scaffold("full", in: "local-hipchat-update")
        defer { try? FileManager.default.removeItem(at: project.deletingLastPathComponent()) }
        let dev = try await Blocking.run {
            try DevProcess(project: project, arguments: ["--admin-token", "local-admin-token"])
        }
        defer { dev.stop() }
        let admin = ["Authorization": "Bearer local-admin-token"]
        func installations() async -> [String] {
            let listed = Flow.json(await dev.fetch("GET", "admin/installations", headers: admin).body)
            return ((listed["installations"] as? [[String: Any]]) ?? []).compactMap { $0["oauthId"] as? String }
        }
        #expect(await Flow.roomCall(dev, "install", #"{"room": true}"#).status == 200)
        let before = await installations()
        #expect(before.count == 1)
        #expect(await Flow.roomCall(dev, "update", "{}").status == 200, "\(dev.log)")
        let after = await installations()
        #expect(after.count == 1, "\(after)")
        #expect(after != before)
        let pushed = Flow.json(
            await dev.fetch(
                "POST", "admin/glances/incidents-glance?room=1", json: #"{"label": "after the update"}"#,
                headers: admin
            ).body)
        #expect(pushed["pushes"] as? Int == 1, "\(pushed)")
    }
}
