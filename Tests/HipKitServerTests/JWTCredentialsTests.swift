import Foundation
import Testing

@testable import HipKitServer

/// The `Authorization: JWT …` value is read byte by byte; it must read every value as the
/// Foundation reading did.
@Suite struct JWTCredentialsTests {
    @Test func readsAsFoundationDoes() {
        let pieces = [" ", "  ", "\t", "JWT", "jwt", "JwT", "JWTX", "Bearer", "a.b.c", "x", "é", "\u{00A0}", "JWT "]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let count = Int.random(in: 0...5, using: &generator)
            let value = (0..<count).map { _ in pieces.randomElement(using: &generator)! }.joined()
            #expect(
                JWTVerifier.jwtCredentials(value) == JWTVerifier.jwtCredentialsThroughFoundation(value), "\(value)")
        }
    }

    @Test func examples() {
        #expect(JWTVerifier.jwtCredentials("JWT a.b.c") == "a.b.c")
        #expect(JWTVerifier.jwtCredentials("jwt  a.b.c\t ") == "a.b.c")
        #expect(JWTVerifier.jwtCredentials("  JWT a.b.c") == "a.b.c")
        #expect(JWTVerifier.jwtCredentials("JWT   ") == "")
        #expect(JWTVerifier.jwtCredentials("JWT ") == nil)
        #expect(JWTVerifier.jwtCredentials("JWT") == nil)
        #expect(JWTVerifier.jwtCredentials("Bearer a.b.c") == nil)
        #expect(JWTVerifier.jwtCredentials("JWTa.b.c") == nil)
        #expect(JWTVerifier.jwtCredentials("JWT\ta.b.c") == nil)
    }
}
