import Foundation
import HipChatConnect
import Testing

@testable import HipKit

@Suite struct RuntimeManifestTests {
    @Test func buildWritesWhatTheRuntimeNeeds() throws {
        let spec = """
            key: com.example.runtime
            name: Runtime
            description: d
            baseUrl: https://runtime.example.com/base
            configure:
              url: "https://admin.example.org/configure"
              allowAccessToRoomAdmins: true
              settings:
                - {name: channel, type: text, pattern: "^#", required: true}
                - {name: level, type: select, options: [a, b], default: b}
            webhooks:
              - {key: echo, event: room_message, pattern: '^/echo (.*)', url: /hooks/echo, reply: "You said {{match.1}}"}
              - {event: room_enter, url: /hooks/enter}
              - {event: room_exit, url: "https://elsewhere.example.org/exit"}
            glances:
              - {key: g, name: G, icon: 'https://cdn.example.net/g.png', data: {label: "<b>1</b>"}}

            """
        let dir = try TestSupport.project(spec)
        defer { try? FileManager.default.removeItem(at: dir) }
        let build = try ProjectBuild.prepare(dir.path)
        #expect(!build.hasErrors, "\(build.diagnostics)")
        let data = try #require(build.files.first { $0.path == RuntimeManifest.path }?.data)
        let manifest = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(manifest["version"] as? Int == 1)
        let webhooks = try #require(manifest["webhooks"] as? [[String: Any]])
        #expect(webhooks.map { $0["path"] as? String } == ["/hooks/echo", "/hooks/enter"])
        #expect((webhooks[0]["reply"] as? [String: Any])?["message"] as? String == "You said {{match.1}}")
        #expect((webhooks[0]["reply"] as? [String: Any])?["message_format"] as? String == "text")
        #expect(webhooks[1]["reply"] == nil)
        let settings = try #require(manifest["settings"] as? [String: Any])
        #expect(settings["perRoom"] as? Bool == true)
        #expect((settings["fields"] as? [[String: Any]])?.map { $0["name"] as? String } == ["channel", "level"])
        #expect(((manifest["glances"] as? [[String: Any]])?.first)?["path"] as? String == "/glances/g.json")
        // The descriptor carries none of it.
        let descriptor = String(
            decoding: try #require(build.files.first { $0.path == "atlassian-connect.json" }?.data), as: UTF8.self)
        #expect(!descriptor.contains("reply"))
        #expect(!descriptor.contains("settings"))
    }

    /// Static glance data is written as HipChat would have shown it: label HTML beyond
    /// b, i, strong, em and span is cut, with a warning at the label.
    @Test func staticGlanceLabelsAreCutToWhatHipChatShowed() throws {
        let spec = """
            key: com.example.labels
            name: Labels
            description: d
            baseUrl: https://labels.example.com
            glances:
              - {key: g, name: G, icon: 'https://cdn.example.net/g.png', data: {label: "<b>2</b> <img src=x onerror=alert(1)><a href='https://x.example'>open</a><script>bad()</script>"}}
              - {key: h, name: H, icon: 'https://cdn.example.net/h.png', data: {label: "<strong>fine</strong>"}}

            """
        let dir = try TestSupport.project(spec)
        defer { try? FileManager.default.removeItem(at: dir) }
        let build = try ProjectBuild.prepare(dir.path)
        #expect(!build.hasErrors, "\(build.diagnostics)")
        let warnings = build.diagnostics.filter { $0.code == .glanceLabelHtml }
        #expect(warnings.count == 1, "\(build.diagnostics)")
        #expect(warnings.first?.location?.line == 6)
        func label(_ key: String) throws -> String? {
            let data = try #require(build.files.first { $0.path == "glances/\(key).json" }?.data)
            return ((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["label"] as? [String: Any])?[
                "value"] as? String
        }
        #expect(try label("g") == "<b>2</b> open")
        #expect(try label("h") == "<strong>fine</strong>")
    }
}
