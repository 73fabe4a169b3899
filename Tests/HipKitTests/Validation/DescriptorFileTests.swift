import Foundation
import HipChatConnect
import Testing

@testable import HipKit

/// Hand-written descriptors, checked as HipChat would check them.
@Suite struct DescriptorFileTests {
    static let shapes = [
        "shape01-object-webhook.json.tmpl", "shape03-tabs-message-action.json.tmpl", "shape04-dialog-options.json.tmpl",
        "shape05-alternation-pattern.json.tmpl", "shape07-room-only.json.tmpl", "shape10-capabilities-first.json.tmpl",
        "shape11-no-placeholder.json", "shape14-fixed.json", "shape15-action-opens-glance.json.tmpl",
    ]

    func load(_ name: String) throws -> ProjectLoader.Outcome {
        try ProjectLoader().load(TestSupport.fixture("descriptors/" + name).path)
    }

    @Test(arguments: shapes)
    func acceptsRealWorldShapes(_ name: String) throws {
        let outcome = try load(name)
        #expect(!outcome.hasErrors, "\(outcome.diagnostics.filter { $0.severity == .error })")
    }

    @Test func toleratesALoneWebhookObjectWithAWarning() throws {
        let outcome = try load("shape01-object-webhook.json.tmpl")
        #expect(outcome.diagnostics.map(\.code) == [.webhookNotList])
    }

    @Test func reportsAStrayPlaceholderOnItsLine() throws {
        let errors = try load("bug07-mixed-placeholder.json.tmpl").diagnostics.filter { $0.severity == .error }
        #expect(errors.count == 1)
        #expect(errors.first?.code == .unexpandedPlaceholder)
        #expect(errors.first?.location?.line == 28)
        #expect(errors.first?.location?.column == 25)
        #expect(errors.first?.message.contains("${localBaseUrl}") == true)
    }

    /// The base-URL placeholder further into a URL than its start, which ACE filled in anywhere
    /// and hipkit does only where a URL starts, is told as that; another template's placeholder
    /// (`${localBaseUrl}`, `{{ project_id }}`) gets the hint to write the value. The hint was
    /// "use the same base-URL placeholder as the rest of the file" for both.
    @Test func aPlaceholderIsToldByWhatItIs() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("atlassian-connect.json")
        try TestSupport.write(
            """
            {"key": "com.example.p", "name": "P", "description": "d",
             "links": {"self": "{{localBaseUrl}}/atlassian-connect.json"},
             "capabilities": {"installable": {"callbackUrl": "https://other.example.net/go?back={{localBaseUrl}}/cb"}}}
            """, to: file)
        let error = try #require(
            try ProjectLoader().loadDescriptorFile(file.path).diagnostics.first { $0.code == .unexpandedPlaceholder })
        #expect(error.hint?.contains("where a URL starts only") == true, "\(error)")
        let jinja = try load("bug07-mixed-placeholder.json.tmpl").diagnostics.first {
            $0.code == .unexpandedPlaceholder
        }
        #expect(jinja?.hint?.contains("write the real value") == true, "\(String(describing: jinja))")
    }

    @Test func reportsAnUnfilledJinjaTemplateOnEveryLine() throws {
        let errors = try load("bug14-jinja.json.tmpl").diagnostics.filter { $0.severity == .error }
        #expect(Set(errors.map(\.code)) == [.unexpandedPlaceholder])
        #expect(errors.compactMap(\.location?.line) == [4, 7, 13, 14, 25])
        #expect(errors.first?.message.contains("add-on key") == true)
    }

    /// A wrong type in a JSON descriptor gets a hint in JSON's syntax, not YAML's.
    @Test func wrongTypesInAJSONFileGetJSONHints() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("d.json")
        try TestSupport.write(
            """
            {"key": "k", "name": ["n"], "description": "d",
             "links": {"self": "https://k.example.com/atlassian-connect.json"}, "capabilities": {"glance": "nope"}}
            """, to: file)
        let hints = try ProjectLoader().load(file.path).diagnostics.filter { $0.code == .wrongType }.map(\.hint)
        #expect(hints == ["write it in double quotes: \"…\"", "write a list in brackets: [first, second]"])
    }

    @Test func requiresAbsoluteURLsInDescriptors() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("d.json")
        try TestSupport.write(
            """
            {"key": "k", "name": "n", "description": "d",
             "links": {"self": "/atlassian-connect.json"}}
            """, to: file)
        let outcome = try ProjectLoader().load(file.path)
        #expect(outcome.diagnostics.first?.code == .relativeUrl)
        #expect(outcome.diagnostics.first?.location?.line == 2)
    }

    @Test func aDescriptorMustBeAnObject() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("d.json")
        try TestSupport.write("[1, 2]", to: file)
        #expect(try ProjectLoader().load(file.path).diagnostics.first?.code == .wrongType)
    }
}
