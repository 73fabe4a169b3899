import Testing

@testable import HipKit

@Suite struct URLReferenceTests {
    @Test func absoluteReferencesHaveASchemeOrAHost() {
        #expect(URLReference.isAbsolute("https://example.com/x"))
        #expect(URLReference.isAbsolute("//cdn.example.com/all.js"))
        #expect(URLReference.isAbsolute("mailto:someone@example.com"))
        #expect(!URLReference.isAbsolute("/glance"))
        #expect(!URLReference.isAbsolute("pages/a.md"))
        #expect(!URLReference.isAbsolute(":x"))
    }

    @Test func relativeReferencesJoinTheBaseURL() {
        let base = "https://addon.example.com"
        #expect(URLReference.join("/installed", to: base) == base + "/installed")
        #expect(URLReference.join("installed", to: base) == base + "/installed")
        #expect(URLReference.join("/", to: base) == base)
        #expect(URLReference.join("https://other.example.com/x", to: base) == "https://other.example.com/x")
    }
}
