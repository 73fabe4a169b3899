import Foundation
import HipChatConnect
import Testing

/// URLs compared as the build's URL check compares them with the base URL.
@Suite struct URLOriginTests {
    @Test func defaultPortsCaseAndPathsBelowTheBase() {
        let base = "https://Addon.example.com/incidents"
        for (url, expected) in [
            ("https://addon.example.com/incidents/glance.json", "glance.json"),
            ("https://ADDON.example.com:443/incidents/a/b.html", "a/b.html"),
            ("https://addon.example.com/incidents", ""),
            ("https://addon.example.com/incidents/", ""),
            ("https://addon.example.com/incidentsX/page.html", nil),
            ("https://addon.example.com/other.html", nil),
            ("http://addon.example.com/incidents/page.html", nil),
            ("https://addon.example.com:8443/incidents/page.html", nil),
            ("https://elsewhere.example/incidents/page.html", nil),
            ("not a url", nil),
        ] as [(String, String?)] {
            #expect(URLOrigin.path(of: url, below: base) == expected, "\(url)")
        }
        #expect(URLOrigin.path(of: "http://127.0.0.1:80/a", below: "http://127.0.0.1") == "a")
        #expect(URLOrigin.path(of: "http://127.0.0.1:8080/", below: "http://127.0.0.1:8080/") == "")
        #expect(URLOrigin(URL(string: "http://x.example")!)?.port == 80)
        #expect(URLOrigin(URL(string: "HTTPS://X.example")!) == URLOrigin(URL(string: "https://x.example:443/y")!))
    }
}
