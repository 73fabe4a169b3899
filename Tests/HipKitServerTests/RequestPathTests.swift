import Testing

@testable import HipKitServer

/// The request path as routes and files are looked up by, and every form that could reach
/// outside `dist/` or name one file two ways refused.
@Suite struct RequestPathTests {
    @Test func pathsAreDecodedOrRefused() {
        let cases: [(String, String?)] = [
            ("/", "/"), ("/help/", "/help/"), ("/a/b.html", "/a/b.html"), ("/caf%C3%A9.html", "/café.html"),
            ("/a%20b", "/a b"), ("/%252f", "/%2f"), ("/a.b/..c", "/a.b/..c"), ("/.well-known/x", "/.well-known/x"),
            ("", nil), ("a", nil), ("//", nil), ("/a//b", nil), ("/./a", nil), ("/a/.", nil), ("/a/..", nil),
            ("/../secret", nil), ("/%2e%2e/secret", nil), ("/%2E/a", nil), ("/a%2fb", nil), ("/a%2Fb", nil),
            ("/a%5cb", nil), ("/a\\b", nil), ("/a%00b", nil), ("/a%0ab", nil), ("/a%7f", nil), ("/a%", nil),
            ("/a%2", nil), ("/a%zz", nil), ("/%ff", nil), ("/%C3", nil), ("/a\u{1}b", nil),
        ]
        for (raw, expected) in cases {
            #expect(RequestPath.decode(raw) == expected, "\(raw)")
        }
    }
}
