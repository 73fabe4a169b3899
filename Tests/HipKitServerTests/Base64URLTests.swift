import Foundation
import Testing

@testable import HipKitServer

/// The one base64url decoder, for JWT segments and secret keys.
@Suite struct Base64URLTests {
    @Test func base64URLSegmentsDecodeAsFoundationDecodesBase64() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let standard = Data(bytes).base64EncodedString()
            let url = standard.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            let unpadded = url.replacingOccurrences(of: "=", with: "")
            for form in [standard, url, unpadded] {
                #expect(Base64URL.decode(Substring(form)) == Data(bytes), "\(form)")
            }
        }
        for bad in ["a", "abcde", "ab=c", "a b", "ab.c", "é"] {
            #expect(Base64URL.decode(Substring(bad)) == nil, "\(bad)")
        }
    }
}
