import Crypto
import Foundation
import JoinInTestSupport
import Testing
@testable import JoinInCore

@Suite("Credentials: JWS, JWK, JWKS")
struct CredentialJWSTests {
    let key = credTestKey()
    var keys: [String: Curve25519.Signing.PublicKey] { ["k1": key.publicKey] }

    @Test func signThenVerifyRoundTrips() throws {
        let payload = Array(#"{"hello":"世界"}"#.utf8)
        let token = try JWS.sign(payload: payload, kid: "k1", typ: "example+jwt", key: key)
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        #expect(parts.count == 3)
        #expect(parts[0] == credB64(#"{"alg":"EdDSA","kid":"k1","typ":"example+jwt"}"#))
        #expect(parts[1] == credB64(payload))
        let verified = try JWS.verify(token, keys: keys, expectedTyp: "example+jwt")
        #expect(verified.payload == payload)
        #expect(verified.header == JWSHeader(alg: "EdDSA", kid: "k1", typ: "example+jwt"))
        // The signature is a plain Ed25519 signature over the ASCII of the first two segments.
        let signature = try #require(Base64URL.decode(parts[2]))
        #expect(key.publicKey.isValidSignature(signature, for: Array((parts[0] + "." + parts[1]).utf8)))
    }

    @Test func emptyPayloadAndRFC9864AlgorithmName() throws {
        let token = try JWS.sign(payload: [], kid: "k1", typ: "t", key: key)
        #expect(try JWS.verify(token, keys: keys, expectedTyp: "t").payload == [])
        let fully = credRawJWS(header: #"{"alg":"Ed25519","kid":"k1","typ":"t","extra":[1]}"#, payload: [1, 2], key: key)
        #expect(try JWS.verify(fully, keys: keys, expectedTyp: "t").header.alg == "Ed25519")
    }

    @Test func typIsComparedCaseInsensitivelyWithImpliedApplicationPrefix() throws {
        for typ in ["JOININ-PERMIT+JWT", "Joinin-Permit+Jwt", "application/joinin-permit+jwt", "Application/JoinIn-Permit+JWT"] {
            let token = credRawJWS(header: #"{"alg":"EdDSA","kid":"k1","typ":"\#(typ)"}"#, payload: [], key: key)
            #expect(try JWS.verify(token, keys: keys, expectedTyp: "joinin-permit+jwt").header.typ == typ)
        }
        for typ in ["JWT", "joinin-permit", "joinin-permit+jwt ", "text/joinin-permit+jwt", "statuslist+jwt", ""] {
            let token = credRawJWS(header: #"{"alg":"EdDSA","kid":"k1","typ":"\#(typ)"}"#, payload: [], key: key)
            #expect(credError { try JWS.verify(token, keys: keys, expectedTyp: "joinin-permit+jwt") } == .wrongType(typ))
        }
    }

    @Test func unknownKidAndWrongKey() throws {
        let token = try JWS.sign(payload: [1], kid: "other", typ: "t", key: key)
        #expect(credError { try JWS.verify(token, keys: keys, expectedTyp: "t") } == .unknownKey("other"))
        var rng = SeededGenerator(seed: 0x1A5_0001)
        let stranger = credKey(&rng)
        let forged = try JWS.sign(payload: [1], kid: "k1", typ: "t", key: stranger)
        #expect(credError { try JWS.verify(forged, keys: keys, expectedTyp: "t") } == .badSignature)
    }

    @Test(arguments: [
        // alg "none", unsigned (RFC 7519 §6.1 shape).
        "eyJhbGciOiJub25lIn0." + credB64(#"{"sub":"x"}"#) + ".",
        credB64(#"{"alg":"none","kid":"k1","typ":"t"}"#) + "." + credB64("{}") + ".",
        credB64(#"{"alg":"HS256","kid":"k1","typ":"t"}"#) + "." + credB64("{}") + "." + credB64(Array(HMAC<SHA256>.authenticationCode(for: Array("x".utf8), using: SymmetricKey(size: .bits256)))),
    ])
    func noneAndOtherAlgorithmsAreMalformed(_ token: String) {
        #expect(credIsMalformed(credError { try JWS.verify(token, keys: keys, expectedTyp: "t") }))
    }

    @Test(arguments: [
        #"{"alg":"HS256","kid":"k1","typ":"t"}"#, #"{"alg":"ES256","kid":"k1","typ":"t"}"#, #"{"alg":"eddsa","kid":"k1","typ":"t"}"#,
        #"{"alg":"RS256","kid":"k1","typ":"t"}"#, #"{"alg":"","kid":"k1","typ":"t"}"#,
        #"{"alg":"EdDSA","kid":"k1","typ":"t","crit":["exp"]}"#, #"{"alg":"EdDSA","kid":"k1","typ":"t","crit":[]}"#,
        #"{"kid":"k1","typ":"t"}"#, #"{"alg":"EdDSA","typ":"t"}"#, #"{"alg":"EdDSA","kid":"k1"}"#,
        #"{"alg":"EdDSA","kid":1,"typ":"t"}"#, #"{"alg":"EdDSA","kid":"k1","typ":null}"#, #"{"alg":["EdDSA"],"kid":"k1","typ":"t"}"#,
        #"{"alg":"EdDSA","alg":"EdDSA","kid":"k1","typ":"t"}"#, #"["EdDSA"]"#, #""EdDSA""#, "", #"{"alg":"EdDSA","kid":"k1","typ":"t"} "# + "x",
    ])
    func headerProblemsAreMalformed(_ header: String) {
        // Signed with the right key, so only the header can be the reason.
        let token = credRawJWS(header: header, payload: Array("{}".utf8), key: key)
        #expect(credIsMalformed(credError { try JWS.verify(token, keys: keys, expectedTyp: "t") }), "header \(header)")
    }

    @Test func segmentStructureAndLength() throws {
        let token = try JWS.sign(payload: [1, 2, 3], kid: "k1", typ: "t", key: key)
        let parts = token.split(separator: ".").map(String.init)
        for bad in ["", ".", "..", "...", parts[0] + "." + parts[1], token + ".", token + "." + parts[2],
                    parts[0] + ".." + parts[2], " " + token, token + " ", token + "\n", token.replacingOccurrences(of: ".", with: ","),
                    parts[0] + "=." + parts[1] + "." + parts[2], parts[0] + "." + parts[1] + "." + parts[2] + "=="] {
            let error = credError { try JWS.verify(bad, keys: keys, expectedTyp: "t") }
            #expect(credIsMalformed(error) || error == .badSignature, "\(bad.debugDescription) gave \(String(describing: error))")
        }
        // The length limit is on the whole compact string.
        let big = try JWS.sign(payload: [UInt8](repeating: 0x61, count: 12_000), kid: "k1", typ: "t", key: key)
        #expect(big.utf8.count <= JWS.maxCompactLength)
        #expect(try JWS.verify(big, keys: keys, expectedTyp: "t").payload.count == 12_000)
        let huge = try JWS.sign(payload: [UInt8](repeating: 0x61, count: 12_300), kid: "k1", typ: "t", key: key)
        #expect(huge.utf8.count > JWS.maxCompactLength)
        #expect(credIsMalformed(credError { try JWS.verify(huge, keys: keys, expectedTyp: "t") }))
    }

    @Test func signatureOfWrongLengthIsRejected() throws {
        let token = try JWS.sign(payload: [1], kid: "k1", typ: "t", key: key)
        let parts = token.split(separator: ".").map(String.init)
        let signature = try #require(Base64URL.decode(parts[2]))
        for cut in [Array(signature.prefix(63)), signature + [0], [], Array(signature.prefix(32))] {
            let bad = parts[0] + "." + parts[1] + "." + Base64URL.encode(cut)
            #expect(credError { try JWS.verify(bad, keys: keys, expectedTyp: "t") } == .badSignature)
        }
    }

    // MARK: JWK / JWKS

    @Test func jwkSerializesInTheDocumentedOrder() throws {
        let jwk = JWK(publicKey: key.publicKey, kid: "test-2026")
        #expect(jwk.x == CredJOSEVectors.publicKeyX)
        #expect(String(decoding: jwk.json.serialized(), as: UTF8.self)
            == #"{"kty":"OKP","crv":"Ed25519","x":"\#(CredJOSEVectors.publicKeyX)","kid":"test-2026","use":"sig","alg":"EdDSA"}"#)
        let back = try JWK(json: jwk.json)
        #expect(back == jwk)
        #expect(try back.publicKey().rawRepresentation == key.publicKey.rawRepresentation)
    }

    @Test func jwkAcceptsMinimalMembersInAnyOrder() throws {
        let json = try JSONValue.parse(Array(#"{"x":"\#(CredJOSEVectors.publicKeyX)","kid":"a","crv":"Ed25519","kty":"OKP"}"#.utf8))
        #expect(try JWK(json: json).kid == "a")
    }

    @Test(arguments: [
        #"{"kty":"EC","crv":"Ed25519","x":"X","kid":"a"}"#,
        #"{"kty":"OKP","crv":"X25519","x":"X","kid":"a"}"#,
        #"{"kty":"OKP","crv":"Ed448","x":"X","kid":"a"}"#,
        #"{"crv":"Ed25519","x":"X","kid":"a"}"#,
        #"{"kty":"OKP","crv":"Ed25519","kid":"a"}"#,
        #"{"kty":"OKP","crv":"Ed25519","x":"X"}"#,
        #"{"kty":"OKP","crv":"Ed25519","x":"X","kid":""}"#,
        #"{"kty":"OKP","crv":"Ed25519","x":"X","kid":7}"#,
        #"{"kty":"OKP","crv":"Ed25519","x":"X","kid":"a","use":"enc"}"#,
        #"{"kty":"OKP","crv":"Ed25519","x":"X","kid":"a","alg":"ES256"}"#,
        #"{"kty":"OKP","crv":"Ed25519","x":"X","kid":"a","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}"#,
        #"{"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"a"}"#,
        #"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURp","kid":"a"}"#,
        #"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=","kid":"a"}"#,
        #"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo","kid":"a"}"#,
        #"["kty"]"#,
    ])
    func jwkRejects(_ text: String) throws {
        let json = try JSONValue.parse(Array(text.replacingOccurrences(of: #""x":"X""#, with: #""x":"\#(CredJOSEVectors.publicKeyX)""#).utf8))
        #expect(credIsMalformed(credError { try JWK(json: json) }), "\(text)")
    }

    @Test func jwksRoundTripAndKeyMap() throws {
        var rng = SeededGenerator(seed: 0x1A5_0002)
        let other = credKey(&rng)
        let set = JWKS(keys: [JWK(publicKey: key.publicKey, kid: "a"), JWK(publicKey: other.publicKey, kid: "b")])
        let bytes = set.serialized()
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix(#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"#))
        let parsed = try JWKS.parse(bytes)
        #expect(parsed == set)
        let map = try parsed.keyMap()
        #expect(map.count == 2)
        #expect(map["a"]?.rawRepresentation == key.publicKey.rawRepresentation)
        #expect(map["b"]?.rawRepresentation == other.publicKey.rawRepresentation)
    }

    @Test func jwksSkipsOtherKeyTypesButNotBrokenEd25519Keys() throws {
        let ed = #"{"kty":"OKP","crv":"Ed25519","x":"\#(CredJOSEVectors.publicKeyX)","kid":"ed"}"#
        let mixed = #"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"rsa"},{"kty":"OKP","crv":"X25519","x":"AAAA","kid":"x"},\#(ed),{"kty":"oct","k":"AAAA"}]}"#
        let parsed = try JWKS.parse(Array(mixed.utf8))
        #expect(parsed.keys.map(\.kid) == ["ed"])
        for bad in [
            #"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","kid":"rsa"}]}"#, #"{"keys":[]}"#, #"{"keys":{}}"#, #"{}"#, "[]", "{", "",
            #"{"keys":[\#(ed),\#(ed)]}"#, #"{"keys":[\#(ed),{"kty":"OKP","crv":"Ed25519","x":"AAAA","kid":"short"}]}"#,
        ] {
            #expect(credIsMalformed(credError { try JWKS.parse(Array(bad.utf8)) }), "\(bad)")
        }
        // keyMap refuses duplicate kids built in code.
        let twice = JWKS(keys: [JWK(publicKey: key.publicKey, kid: "a"), JWK(publicKey: key.publicKey, kid: "a")])
        #expect(credIsMalformed(credError { try twice.keyMap() }))
    }
}
