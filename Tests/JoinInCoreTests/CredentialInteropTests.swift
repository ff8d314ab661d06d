import Crypto
import Testing
@testable import JoinInCore

/// Cross-checks against tokens and keys produced by joserfc (see scripts/make-jose-vectors.py).
@Suite("Credentials: interoperability with joserfc")
struct CredentialInteropTests {
    /// The claims the script signed, written out independently here.
    static let expectedClaims = PermitClaims(
        issuer: "https://permits.joinin.example.cn", permitNumber: "W1100002024000001X",
        issuedAt: 1_767_225_600, expiresAt: 1_830_297_600, surname: "O'BRIEN-MÜLLER", givenNames: "Anna \"Annie\" Maria",
        chineseName: "安娜", nationality: "IRL", category: "A",
        employer: LocalizedName(en: "Example Tech (Shanghai) Co., Ltd. / R&D", zh: "示例科技（上海）有限公司"),
        validFrom: CivilDate(year: 2026, month: 1, day: 1) ?? CivilDate(daysSinceEpoch: 0),
        validUntil: CivilDate(year: 2027, month: 12, day: 31) ?? CivilDate(daysSinceEpoch: 0),
        maskedCardNumber: "623091*********1234", statusIndex: 1234, statusURI: "https://permits.joinin.example.cn/status/1")

    func joserfcKeys() throws -> [String: Curve25519.Signing.PublicKey] {
        try JWKS.parse(Array(CredJOSEVectors.jwks.utf8)).keyMap()
    }

    @Test func joserfcJWKSParses() throws {
        let set = try JWKS.parse(Array(CredJOSEVectors.jwks.utf8))
        // The P-256 key is skipped; the Ed25519 key is the test key.
        #expect(set.keys.map(\.kid) == [CredJOSEVectors.kid])
        #expect(set.keys.first?.x == CredJOSEVectors.publicKeyX)
        #expect(set.keys.first == JWK(publicKey: credTestKey().publicKey, kid: CredJOSEVectors.kid))
        let map = try set.keyMap()
        #expect(map[CredJOSEVectors.kid].map { credHexString(Array($0.rawRepresentation)) } == CredJOSEVectors.publicKeyHex)
    }

    @Test func joserfcPermitVerifiesAsValid() throws {
        let keys = try joserfcKeys()
        let now = CredJOSEVectors.permitIssuedAt + 86_400
        let result = PermitCredential.verify(CredJOSEVectors.permitJWS, keys: keys, statusList: nil, now: now)
        #expect(result.verdict == .valid, "\(result.reason)")
        #expect(result.claims == Self.expectedClaims)
        // The payload is exactly what our serializer writes for those claims.
        #expect(Self.expectedClaims.json.serialized() == Array(CredJOSEVectors.permitPayload.utf8))
        let verified = try JWS.verify(CredJOSEVectors.permitJWS, keys: keys, expectedTyp: PermitCredential.typ)
        #expect(verified.payload == Array(CredJOSEVectors.permitPayload.utf8))
        #expect(verified.header == JWSHeader(alg: "EdDSA", kid: "test-2026", typ: "joinin-permit+jwt"))
        // Its own lifetime boundaries.
        #expect(PermitCredential.verify(CredJOSEVectors.permitJWS, keys: keys, statusList: nil, now: CredJOSEVectors.permitExpiresAt).verdict == .expired)
        #expect(PermitCredential.verify(CredJOSEVectors.permitJWS, keys: keys, statusList: nil, now: CredJOSEVectors.permitExpiresAt - 1).verdict == .valid)
    }

    @Test func issuingTheSameClaimsReproducesJoserfcByteForByte() throws {
        let ours = try PermitCredential.issue(Self.expectedClaims, kid: CredJOSEVectors.kid, key: credTestKey())
        let theirs = CredJOSEVectors.permitJWS
        let ourParts = ours.split(separator: ".").map(String.init)
        let theirParts = theirs.split(separator: ".").map(String.init)
        #expect(ourParts[0] == theirParts[0], "header")
        #expect(ourParts[1] == theirParts[1], "payload")
        #if os(Linux)
        // Ed25519 (RFC 8032) is deterministic, and swift-crypto on Linux implements it so: the
        // whole token must be identical. (CryptoKit on Apple platforms hedges with randomness.)
        #expect(ours == theirs)
        #endif
        #expect(PermitCredential.verify(ours, keys: try joserfcKeys(), statusList: nil, now: CredJOSEVectors.permitIssuedAt).verdict == .valid)
    }

    @Test func joserfcStatusListTokenVerifies() throws {
        let keys = try joserfcKeys()
        let (uri, list, exp) = try StatusListToken.verify(CredJOSEVectors.statusListJWS, keys: keys, now: CredJOSEVectors.statusListIssuedAt + 60)
        #expect(uri == CredJOSEVectors.statusListURI)
        #expect(exp == CredJOSEVectors.statusListExpiresAt)
        #expect(list.bytes.count == CredJOSEVectors.statusListCapacity / 8)
        // Specific bits, hand-checked: index 0 and 7 → byte 0 = 0x81; index 8 → byte 1 = 0x01;
        // index 1235 → byte 154 bit 3 = 0x08; index 4097 → byte 512 bit 1 = 0x02; index 32767 → last byte 0x80.
        #expect(list.bytes[0] == 0x81)
        #expect(list.bytes[1] == 0x01)
        #expect(list.bytes[154] == 0x08)
        #expect(list.bytes[512] == 0x02)
        #expect(list.bytes[4095] == 0x80)
        #expect(list.status(at: 1234) == 0)
        #expect(list.status(at: 1235) == 1)
        #expect(list.status(at: 32768) == nil)
        let revoked = (0..<CredJOSEVectors.statusListCapacity).filter { list.status(at: $0) == 1 }
        #expect(revoked == CredJOSEVectors.statusListRevoked)
        // Expired at its exp.
        #expect(credError { try StatusListToken.verify(CredJOSEVectors.statusListJWS, keys: keys, now: CredJOSEVectors.statusListExpiresAt) }
            == .malformed("status list expired"))
        // Our re-encoding of the same list reads back identically (our deflate differs from zlib's).
        #expect(try StatusList(lst: list.lst) == list)
    }

    @Test func joserfcPermitAgainstJoserfcStatusList() throws {
        let keys = try joserfcKeys()
        let now = CredJOSEVectors.statusListIssuedAt + 60
        let (uri, list, _) = try StatusListToken.verify(CredJOSEVectors.statusListJWS, keys: keys, now: now)
        // Index 1234 is not revoked.
        #expect(PermitCredential.verify(CredJOSEVectors.permitJWS, keys: keys, statusList: (uri, list), now: now).verdict == .valid)
        // The same person with index 1235, issued by us with the same key, is revoked; index 40000 is outside the list.
        var claims = Self.expectedClaims
        claims.statusIndex = 1235
        let revoked = try PermitCredential.issue(claims, kid: CredJOSEVectors.kid, key: credTestKey())
        #expect(PermitCredential.verify(revoked, keys: keys, statusList: (uri, list), now: now).verdict == .revoked)
        claims.statusIndex = 40_000
        let outside = try PermitCredential.issue(claims, kid: CredJOSEVectors.kid, key: credTestKey())
        #expect(PermitCredential.verify(outside, keys: keys, statusList: (uri, list), now: now).verdict == .malformed)
    }
}
