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

    /// The build and the server ask one question of loopback hosts; they differ only on
    /// `*.localhost`, which the server does not trust.
    @Test func loopbackHostsAreThisMachineOnly() {
        for host in ["localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1", "[::1]"] {
            #expect(URLReference.isLoopback(host), "\(host)")
            #expect(URLReference.isLoopback(host, localhostSubdomains: true), "\(host)")
        }
        for host in [
            "127.example.com", "127.0.0.1.example.com", "127.0.0", "127.0.0.256", "127..0.1", "128.0.0.1", "127.+0.0.1",
            "127.-0.0.1", "127.0.0.08", "127.0.0.0001",
            "example.com", "localhost.example.com", "::2", "",
        ] {
            #expect(!URLReference.isLoopback(host), "\(host)")
            #expect(!URLReference.isLoopback(host, localhostSubdomains: true), "\(host)")
        }
        #expect(!URLReference.isLoopback("app.localhost"))
        #expect(URLReference.isLoopback("app.localhost", localhostSubdomains: true))
    }
}
