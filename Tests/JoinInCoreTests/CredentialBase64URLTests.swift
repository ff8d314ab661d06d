import Foundation
import JoinInTestSupport
import Testing
@testable import JoinInCore

@Suite("Credentials: Base64URL")
struct CredentialBase64URLTests {
    // RFC 4648 §10 test vectors, without the padding.
    @Test(arguments: [
        ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
    ])
    func rfc4648Vectors(_ plain: String, _ encoded: String) {
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
        #expect(Base64URL.decode(encoded) == Array(plain.utf8))
    }

    @Test func usesTheURLAlphabet() {
        // Standard base64 "+/8=" and "+/+/" for these bytes.
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(Base64URL.decode("-_-_") == [0xFB, 0xFF, 0xBF])
        #expect(Base64URL.encode((0...255).map { UInt8($0) }).count == 342)
    }

    @Test(arguments: [
        "Zg==", "Zg=", "Zm8=", "+_8", "-/8", "Zm9v+", "Z", "Zm9vY", "Zh", "Zm9", "Zm9vYmF", "Zg ", " Zg", "Zg\n", "Z g", "Zé",
        "Zm9v\u{0}", "Zm9v.", "====", "=", "AB==",
    ])
    func rejectsBadInput(_ text: String) {
        #expect(Base64URL.decode(text) == nil, "accepted \(text.debugDescription)")
    }

    @Test func everyAcceptedShortStringIsCanonical() {
        // Exhaustive over 2- and 3-character strings: exactly the canonical ones decode, and
        // they re-encode to themselves (so no two strings decode to the same bytes).
        var accepted2 = 0
        for a in credAlphabet {
            for b in credAlphabet {
                let text = String([a, b])
                if let bytes = Base64URL.decode(text) {
                    accepted2 += 1
                    #expect(bytes.count == 1 && Base64URL.encode(bytes) == text)
                }
            }
        }
        #expect(accepted2 == 256)
        var accepted3 = 0
        for a in credAlphabet.prefix(8) {
            for b in credAlphabet {
                for c in credAlphabet {
                    let text = String([a, b, c])
                    if let bytes = Base64URL.decode(text) {
                        accepted3 += 1
                        #expect(bytes.count == 2 && Base64URL.encode(bytes) == text)
                    }
                }
            }
        }
        #expect(accepted3 == 8 * 64 * 16)
    }

    @Test func randomBytesRoundTripAndMatchFoundation() {
        var rng = SeededGenerator(seed: 0xB64_0001)
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let text = Base64URL.encode(bytes)
            #expect(text == credB64(bytes))
            #expect(Base64URL.decode(text) == bytes)
            #expect(text.utf8.count % 4 != 1)
        }
    }
}
