import Crypto
import Foundation
import JoinInTestSupport
import Testing
@testable import JoinInCore

// Shared helpers for the credential tests (all prefixed `cred`), and a few sanity tests of them.

/// Bytes from a hex string (test input only; traps on bad hex).
func credHex(_ text: String) -> [UInt8] {
    let chars = Array(text.utf8)
    precondition(chars.count % 2 == 0)
    func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x61 + 10
        case 0x41...0x46: return c - 0x41 + 10
        default: preconditionFailure("bad hex")
        }
    }
    return stride(from: 0, to: chars.count, by: 2).map { nibble(chars[$0]) << 4 | nibble(chars[$0 + 1]) }
}

func credHexString(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

/// The TEST-ONLY key from the generated vectors (RFC 8032 §7.1 TEST 1).
func credTestKey() -> Curve25519.Signing.PrivateKey {
    try! Curve25519.Signing.PrivateKey(rawRepresentation: CredJOSEVectors.testOnlySeed)
}

/// A deterministic key from a seeded generator.
func credKey(_ rng: inout SeededGenerator) -> Curve25519.Signing.PrivateKey {
    let seed = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
    return try! Curve25519.Signing.PrivateKey(rawRepresentation: seed)
}

let credAlphabet: [Character] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

/// Base64url of the UTF-8 of `text` (test-side, via Foundation, to stay independent of the code
/// under test).
func credB64(_ bytes: [UInt8]) -> String {
    Data(bytes).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-")
        .replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

func credB64(_ text: String) -> String { credB64(Array(text.utf8)) }

/// Signs arbitrary header and payload bytes with Ed25519 (to build tokens our signer would never
/// produce: other algorithms, extra header fields, odd payloads).
func credRawJWS(header: String, payload: [UInt8], key: Curve25519.Signing.PrivateKey) -> String {
    let input = credB64(header) + "." + credB64(payload)
    let signature = try! key.signature(for: Data(input.utf8))
    return input + "." + credB64(Array(signature))
}

/// The error a throwing expression throws, nil when it does not throw.
func credError<T>(_ body: () throws -> T) -> CredentialError? {
    do {
        _ = try body()
        return nil
    } catch let error as CredentialError {
        return error
    } catch {
        Issue.record("unexpected error type \(error)")
        return nil
    }
}

func credIsMalformed(_ error: CredentialError?) -> Bool {
    if case .malformed = error { return true }
    return false
}

@Suite("Credential test helpers")
struct CredentialSupportTests {
    @Test func hexAndBase64HelpersAgreeWithKnownValues() {
        #expect(credHex("00ff10Ab") == [0x00, 0xFF, 0x10, 0xAB])
        #expect(credHexString([0x00, 0xFF, 0x10]) == "00ff10")
        #expect(credB64("foobar") == "Zm9vYmFy")
        #expect(credB64([0xFB, 0xFF]) == "-_8")
    }

    @Test func testKeyIsTheRFC8032TestOneKey() throws {
        let key = credTestKey()
        #expect(credHexString(Array(key.publicKey.rawRepresentation)) == CredJOSEVectors.publicKeyHex)
        // RFC 8032 §7.1 TEST 1: the published signature of the empty message verifies.
        #expect(key.publicKey.isValidSignature(credHex(CredJOSEVectors.emptyMessageSignatureHex), for: [UInt8]()))
        #if os(Linux)
        // swift-crypto on Linux (BoringSSL) signs deterministically as RFC 8032 specifies;
        // CryptoKit on Apple platforms adds randomness, so only check this where it holds.
        let signature = try key.signature(for: [UInt8]())
        #expect(credHexString(Array(signature)) == CredJOSEVectors.emptyMessageSignatureHex)
        #endif
    }
}
