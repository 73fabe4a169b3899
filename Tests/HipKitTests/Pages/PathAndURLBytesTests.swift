import Foundation
import HipChatConnect
import Testing

@testable import HipKit

/// The page pipeline's path and URL helpers work on UTF-8 bytes for speed. Each is checked here
/// against its plain `Character`-level definition over a few thousand generated inputs, mixed
/// from the pieces where bytes and characters could disagree: slashes and dots, colons, percent
/// signs, whitespace of every kind, upper case, combining marks and other non-ASCII text.
@Suite struct PathAndURLBytesTests {
    static let pieces = [
        "a", "Z", "9", "/", "//", ".", "..", ":", "+", "-", "%", "%20", "?", "#", " ", "\t", "\n", "\u{0}",
        "\u{1F}", "\u{A0}", "\u{3000}", "\u{2028}", "java", "JaVa", "script", "vb", "data", "image/png",
        "image/svg+xml", "mailto", "https", "é", "e\u{301}", "\u{301}", "K", "\u{212A}", "İ", "ß", "日本", "😀",
        "faq.md", "help", "pages", "\"", "\\", "<", "&",
    ]

    /// Deterministic strings of one to eight pieces.
    static func samples(_ count: Int) -> [String] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        return (0..<count).map { _ in
            (0..<(1 + next() % 8)).map { _ in pieces[next() % pieces.count] }.joined()
        }
    }

    @Test func isAbsoluteMatchesTheCharacterRules() {
        func reference(_ s: String) -> Bool {
            if s.hasPrefix("//") { return true }
            guard let colon = s.firstIndex(of: ":"), colon != s.startIndex else { return false }
            let scheme = s[..<colon]
            return scheme.first!.isLetter && scheme.allSatisfy { $0.isLetter || $0.isNumber || "+-.".contains($0) }
        }
        for s in Self.samples(4000) + ["//x", "a:", "a1+-.:x", "1a:x", "é:x", "a\u{301}:x", "a:\u{301}", "//\u{301}"] {
            #expect(URLReference.isAbsolute(s) == reference(s), "\(s.debugDescription)")
        }
    }

    @Test func isDangerousMatchesTheCharacterRules() {
        func reference(_ url: String, isImage: Bool) -> Bool {
            let scheme = url.unicodeScalars.filter { !($0.properties.isWhitespace || $0.value < 0x20) }
                .prefix(20).map { Character($0) }.reduce("") { $0 + String($1) }.lowercased()
            if scheme.hasPrefix("javascript:") || scheme.hasPrefix("vbscript:") { return true }
            if scheme.hasPrefix("data:") {
                return
                    !(isImage
                    && ["data:image/png", "data:image/gif", "data:image/jpe", "data:image/web"].contains {
                        scheme.hasPrefix($0)
                    })
            }
            return false
        }
        let fixed = [
            "javascript:x", " JaVaScRiPt:x", "java\tscript:x", "java\u{A0}script:x", "\u{3000}vbscript:x",
            "DATA:image/PNG;base64,AA", "data:image/svg+xml,x", "data:text/html,x", "data:image/webp,x", "data:",
            // ASCII to the 20th scalar and not after; not after the 19th.
            "https://example.com/café", "data:text/html,abcdé", "data:image/png,abcdé", "JAVASCRIPT:\u{E9}",
            "\u{A0}\u{A0}javascript:", "data:image/pn\u{E9}", "\u{1F600}javascript:x",
        ]
        for s in Self.samples(4000) + fixed {
            for isImage in [false, true] where s.unicodeScalars.allSatisfy({ $0 != "\u{301}" }) {
                // A combining mark right after a prefix makes String's `hasPrefix` (characters)
                // refuse what the byte comparison accepts; those inputs are checked apart below.
                #expect(
                    MarkdownRenderer.isDangerous(s, isImage: isImage) == reference(s, isImage: isImage),
                    "\(s.debugDescription)")
            }
        }
        // Where the two disagree, bytes are the stricter: a combining mark after the colon does
        // not hide a javascript: URL.
        #expect(MarkdownRenderer.isDangerous("javascript:\u{301}alert(1)", isImage: false))
    }

    @Test func sitePathsMatchTheCharacterRules() {
        func relative(from: String, to path: String) -> String {
            var fromParts = from.split(separator: "/").dropLast().map(String.init)
            var toParts = path.split(separator: "/").map(String.init)
            while let f = fromParts.first, let t = toParts.first, toParts.count > 1, f == t {
                fromParts.removeFirst()
                toParts.removeFirst()
            }
            let result = Array(repeating: "..", count: fromParts.count) + toParts
            return result.isEmpty ? "./" : result.joined(separator: "/")
        }
        func normalised(_ path: String) -> String? {
            var parts: [Substring] = []
            for part in path.split(separator: "/", omittingEmptySubsequences: true) {
                switch part {
                case ".": continue
                case "..":
                    guard !parts.isEmpty else { return nil }
                    parts.removeLast()
                default: parts.append(part)
                }
            }
            return parts.joined(separator: "/")
        }
        // Without combining marks and the Kelvin sign, where characters and bytes part ways on
        // purpose: a slash followed by a combining mark is one character but two parts to the
        // file system, and `é` written two ways (or `K` and the Kelvin sign) are equal strings
        // but different names on disk. Bytes follow the file system.
        let samples = Self.samples(4000).filter { !$0.unicodeScalars.contains { $0 == "\u{301}" || $0 == "\u{212A}" } }
        for (a, b) in zip(samples, samples.reversed()) {
            #expect(
                SitePath.relative(from: a, to: b) == relative(from: a, to: b),
                "\(a.debugDescription) → \(b.debugDescription)")
            #expect(SitePath.normalised(a) == normalised(a), "\(a.debugDescription)")
            // Targets in the folder of `a` (and near it), where the shortcut for a link within
            // one folder applies.
            let folder = a.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
            for c in [folder + "/" + b, folder + b, folder + "/" + b + "/", folder + "//" + b] {
                #expect(
                    SitePath.relative(from: a, to: c) == relative(from: a, to: c),
                    "\(a.debugDescription) → \(c.debugDescription)")
            }
        }
        for (from, to, expected) in [
            ("help/faq.html", "help/x.html", "x.html"), ("faq.html", "x.html", "x.html"),
            ("help/", "help/x.html", "help/x.html"), ("a//b.html", "a/x.html", "x.html"),
            ("help/faq.html", "helper/x.html", "../helper/x.html"), ("help/faq.html", "help", "../help"),
            ("./a.html", "./b.html", "b.html"), ("a/b.html", "a/b/c.html", "b/c.html"),
        ] {
            #expect(SitePath.relative(from: from, to: to) == expected, "\(from) → \(to)")
            #expect(relative(from: from, to: to) == expected, "reference: \(from) → \(to)")
        }
        for (path, expected) in [
            ("a/b", "a/b"), ("a/./b", "a/b"), ("a/../b", "b"), ("a/...", "a/..."), ("a.", "a."), ("..", nil),
            ("a//b", "a/b"), ("/a/", "a"), ("", ""), (".a/b.", ".a/b."),
        ] as [(String, String?)] {
            #expect(SitePath.normalised(path) == expected, "\(path)")
        }
        #expect(SitePath.relative(from: "help/faq.html", to: "assets/x.png") == "../assets/x.png")
        #expect(SitePath.relative(from: "a/b/c.html", to: "") == "../..")
        #expect(SitePath.relative(from: "c.html", to: "") == "./")
        #expect(SitePath.directory(of: "pages/help/faq.md") == "pages/help")
        #expect(SitePath.directory(of: "faq.md") == "")
    }

    @Test func pathEncodingMatchesFoundation() {
        for byte in 0..<128 {
            let s = "a" + String(UnicodeScalar(UInt8(byte))) + "b"
            #expect(
                LinkResolver.encoded(s) == s.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed),
                "byte \(byte)")
        }
        for s in Self.samples(500) {
            #expect(LinkResolver.encoded(s) == s.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? s)
        }
    }

    @Test func jsonStringsMatchTheEscapingLoop() throws {
        for s in Self.samples(2000) {
            let written = JSONWriter.string(.string(s))
            let back = try JSONSerialization.jsonObject(with: Data(written.utf8), options: .fragmentsAllowed)
            #expect(back as? String == s, "\(s.debugDescription)")
            #expect(!written.contains("\u{2028}") && !written.contains("\u{2029}"))
            #expect(!written.dropLast().unicodeScalars.contains { $0.value < 0x20 })  // but the final newline
        }
    }
}

extension PathAndURLBytesTests {
    @Test func fallbackTitlesMatchNSString() {
        let fixed = [
            "pages/help/faq.md", "faq.md", "pages/.hidden.md", "pages/.md", "a.b.c", "dir/", "x.", "", "/", "ü/é.md",
            "pages/a..md", "pages/..md", "a.b.md", "pages/x/.md", "-.md", "x.md/",
        ]
        // Without NUL or a doubled slash, which no page's source has and on which NSString's
        // path methods can trap (`..//ß`).
        for s in Self.samples(2000).filter({ !$0.contains("\u{0}") && !$0.contains("//") }) + fixed {
            let name = (s as NSString).lastPathComponent
            #expect(PageRenderer.fallbackTitle(s) == (name as NSString).deletingPathExtension, "\(s.debugDescription)")
        }
    }
}
