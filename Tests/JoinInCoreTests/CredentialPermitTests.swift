import Crypto
import JoinInTestSupport
import Testing
@testable import JoinInCore

func credClaims(statusIndex: Int = 7, issuedAt: Int64 = 1_767_225_600, expiresAt: Int64 = 1_830_297_600) -> PermitClaims {
    PermitClaims(
        issuer: "https://permits.joinin.example.cn", permitNumber: "W1100002024000001X",
        issuedAt: issuedAt, expiresAt: expiresAt, surname: "MÜLLER", givenNames: "Anna Maria", chineseName: "安娜",
        nationality: "DEU", category: "B", employer: LocalizedName(en: "Example GmbH", zh: "示例有限公司"),
        validFrom: CivilDate(year: 2026, month: 1, day: 1) ?? CivilDate(daysSinceEpoch: 0),
        validUntil: CivilDate(year: 2027, month: 12, day: 31) ?? CivilDate(daysSinceEpoch: 0),
        maskedCardNumber: "623091*********1234", statusIndex: statusIndex, statusURI: "https://permits.example/status/1")
}

@Suite("Credentials: PermitCredential")
struct CredentialPermitTests {
    let key = credTestKey()
    var keys: [String: Curve25519.Signing.PublicKey] { ["k1": key.publicKey] }
    let now: Int64 = 1_780_000_000 // inside [iat, exp)

    // MARK: Claims

    @Test func claimsJSONHasTheDocumentedKeyOrder() {
        let text = String(decoding: credClaims().json.serialized(), as: UTF8.self)
        #expect(text == #"{"iss":"https://permits.joinin.example.cn","sub":"W1100002024000001X","iat":1767225600,"exp":1830297600,"#
            + #""surname":"MÜLLER","given_names":"Anna Maria","chinese_name":"安娜","nationality":"DEU","category":"B","#
            + #""employer":{"en":"Example GmbH","zh":"示例有限公司"},"valid_from":"2026-01-01","valid_until":"2027-12-31","#
            + #""card":"623091*********1234","status":{"status_list":{"idx":7,"uri":"https://permits.example/status/1"}}}"#)
        var claims = credClaims()
        claims.chineseName = nil
        claims.maskedCardNumber = nil
        let keys = claims.json.members?.map(\.0) ?? []
        #expect(keys == ["iss", "sub", "iat", "exp", "surname", "given_names", "nationality", "category", "employer",
                         "valid_from", "valid_until", "status"])
    }

    @Test func claimsRoundTrip() throws {
        var claims = credClaims()
        #expect(try PermitClaims(json: claims.json) == claims)
        claims.chineseName = nil
        claims.maskedCardNumber = nil
        #expect(try PermitClaims(json: claims.json) == claims)
        #expect(try PermitClaims(json: JSONValue.parse(claims.json.serialized())) == claims)
    }

    @Test func unknownClaimsAreIgnored() throws {
        guard case var .object(members) = credClaims().json else { Issue.record("not an object"); return }
        members.append(("jti", .string("abc")))
        members.insert(("nbf", .number(1)), at: 3)
        #expect(try PermitClaims(json: .object(members)) == credClaims())
    }

    @Test(arguments: [
        "iss", "sub", "iat", "exp", "surname", "given_names", "nationality", "category", "employer", "valid_from", "valid_until", "status",
    ])
    func everyRequiredClaimIsRequired(_ name: String) {
        guard case let .object(members) = credClaims().json else { Issue.record("not an object"); return }
        #expect(credIsMalformed(credError { try PermitClaims(json: .object(members.filter { $0.0 != name })) }))
    }

    @Test(arguments: [
        ("iss", JSONValue.number(1)), ("iat", .string("1767225600")), ("exp", .null), ("surname", .array([])),
        ("chinese_name", .null), ("card", .number(1234)), ("nationality", .string("de")), ("nationality", .string("DE")),
        ("category", .string("D")), ("category", .string("a")), ("employer", .object([("en", .string("x"))])),
        ("employer", .string("x")), ("valid_from", .string("2026-02-30")), ("valid_until", .string("2027-1-1")),
        ("status", .object([("status_list", .object([("idx", .number(-1)), ("uri", .string("u"))]))])),
        ("status", .object([("status_list", .object([("idx", .string("1")), ("uri", .string("u"))]))])),
        ("status", .object([("status_list", .object([("idx", .number(1))]))])),
        ("status", .object([("idx", .number(1)), ("uri", .string("u"))])),
    ])
    func wrongTypesAndValuesAreMalformed(_ name: String, _ value: JSONValue) {
        guard case var .object(members) = credClaims().json else { Issue.record("not an object"); return }
        if let index = members.firstIndex(where: { $0.0 == name }) {
            members[index].1 = value
        } else {
            members.append((name, value))
        }
        #expect(credIsMalformed(credError { try PermitClaims(json: .object(members)) }), "\(name)")
    }

    @Test func claimsMustBeAnObject() {
        #expect(credIsMalformed(credError { try PermitClaims(json: .array([])) }))
    }

    // MARK: Verdicts

    @Test func verdictRawValues() {
        #expect(CredentialVerdict.allCases.map(\.rawValue) == ["valid", "expired", "revoked", "bad-signature", "unknown-key", "malformed"])
    }

    @Test func valid() throws {
        let token = try PermitCredential.issue(credClaims(), kid: "k1", key: key)
        let result = PermitCredential.verify(token, keys: keys, statusList: nil, now: now)
        #expect(result.verdict == .valid)
        #expect(result.claims == credClaims())
        // With a status list for this uri whose bit is 0.
        var list = StatusList(capacity: 64)
        list.setStatus(1, at: 6)
        list.setStatus(1, at: 8)
        let withList = PermitCredential.verify(token, keys: keys, statusList: ("https://permits.example/status/1", list), now: now)
        #expect(withList.verdict == .valid)
    }

    @Test func expired() throws {
        let token = try PermitCredential.issue(credClaims(expiresAt: 2_000_000_000), kid: "k1", key: key)
        #expect(PermitCredential.verify(token, keys: keys, statusList: nil, now: 1_999_999_999).verdict == .valid)
        for at in [2_000_000_000, 2_000_000_001, Int64.max] as [Int64] {
            let result = PermitCredential.verify(token, keys: keys, statusList: nil, now: at)
            #expect(result.verdict == .expired)
            #expect(result.claims?.expiresAt == 2_000_000_000)
        }
    }

    @Test func revokedViaStatusList() throws {
        let token = try PermitCredential.issue(credClaims(statusIndex: 7), kid: "k1", key: key)
        var list = StatusList(capacity: 16)
        list.setStatus(1, at: 7)
        #expect(list.bytes == [0x80, 0x00])
        let result = PermitCredential.verify(token, keys: keys, statusList: ("https://permits.example/status/1", list), now: now)
        #expect(result.verdict == .revoked)
        #expect(result.claims?.statusIndex == 7)
        // A list for another uri is not consulted.
        #expect(PermitCredential.verify(token, keys: keys, statusList: ("https://permits.example/status/2", list), now: now).verdict == .valid)
        // Expiry takes precedence over revocation.
        let expired = PermitCredential.verify(token, keys: keys, statusList: ("https://permits.example/status/1", list), now: 1_830_297_600)
        #expect(expired.verdict == .expired)
        // An index outside the list is malformed, with the claims.
        let outside = PermitCredential.verify(try PermitCredential.issue(credClaims(statusIndex: 16), kid: "k1", key: key),
                                              keys: keys, statusList: ("https://permits.example/status/1", list), now: now)
        #expect(outside.verdict == .malformed)
        #expect(outside.claims?.statusIndex == 16)
    }

    @Test func unknownKey() throws {
        let token = try PermitCredential.issue(credClaims(), kid: "retired-2019", key: key)
        let result = PermitCredential.verify(token, keys: keys, statusList: nil, now: now)
        #expect(result.verdict == .unknownKey)
        #expect(result.claims == nil)
        #expect(result.reason.contains("retired-2019"))
    }

    @Test func badSignature() throws {
        var rng = SeededGenerator(seed: 0xBAD_5161)
        let token = try PermitCredential.issue(credClaims(), kid: "k1", key: credKey(&rng))
        let result = PermitCredential.verify(token, keys: keys, statusList: nil, now: now)
        #expect(result.verdict == .badSignature)
        #expect(result.claims == nil)
    }

    @Test func malformedTokens() throws {
        let payload = credB64(Array(credClaims().json.serialized()))
        let hmac = HMAC<SHA256>.authenticationCode(for: Array("x".utf8), using: SymmetricKey(size: .bits256))
        for token in [
            "", "garbage", "a.b.c", "eyJhbGciOiJub25lIn0." + payload + ".",
            credB64(#"{"alg":"none","kid":"k1","typ":"joinin-permit+jwt"}"#) + "." + payload + ".",
            credB64(#"{"alg":"HS256","kid":"k1","typ":"joinin-permit+jwt"}"#) + "." + payload + "." + credB64(Array(hmac)),
        ] {
            let result = PermitCredential.verify(token, keys: keys, statusList: nil, now: now)
            #expect(result.verdict == .malformed, "\(token)")
            #expect(result.claims == nil)
        }
        // HS256 signed with the public key bytes as the HMAC secret (the classic confusion attack).
        let confusedInput = credB64(#"{"alg":"HS256","kid":"k1","typ":"joinin-permit+jwt"}"#) + "." + payload
        let confused = HMAC<SHA256>.authenticationCode(for: Array(confusedInput.utf8), using: SymmetricKey(data: Array(key.publicKey.rawRepresentation)))
        #expect(PermitCredential.verify(confusedInput + "." + credB64(Array(confused)), keys: keys, statusList: nil, now: now).verdict == .malformed)
    }

    @Test func wrongTypIsMalformed() throws {
        let statusToken = try StatusListToken.sign(list: StatusList(capacity: 8), uri: "u", issuedAt: 1, expiresAt: .max, ttl: 1, kid: "k1", key: key)
        let result = PermitCredential.verify(statusToken, keys: keys, statusList: nil, now: now)
        #expect(result.verdict == .malformed)
        #expect(result.reason.contains("statuslist+jwt"))
        let jwtTyped = credRawJWS(header: #"{"alg":"EdDSA","kid":"k1","typ":"JWT"}"#, payload: credClaims().json.serialized(), key: key)
        #expect(PermitCredential.verify(jwtTyped, keys: keys, statusList: nil, now: now).verdict == .malformed)
    }

    @Test func signedButUnreadableClaimsAreMalformed() throws {
        for payload in [#"{"iss":"x"}"#, "[]", "not json", #"{"iss":"x","iss":"y"}"#] {
            let token = try JWS.sign(payload: Array(payload.utf8), kid: "k1", typ: PermitCredential.typ, key: key)
            let result = PermitCredential.verify(token, keys: keys, statusList: nil, now: now)
            #expect(result.verdict == .malformed, "\(payload)")
            #expect(result.claims == nil)
        }
    }

    @Test func issuedInTheFutureBeyondLeewayIsMalformed() throws {
        let iat: Int64 = 1_790_000_000
        let token = try PermitCredential.issue(credClaims(issuedAt: iat), kid: "k1", key: key)
        #expect(PermitCredential.verify(token, keys: keys, statusList: nil, now: iat - 300).verdict == .valid)
        let early = PermitCredential.verify(token, keys: keys, statusList: nil, now: iat - 301)
        #expect(early.verdict == .malformed)
        #expect(early.claims?.issuedAt == iat)
    }

    @Test func tamperingWithAnyPayloadOrSignatureCharacterNeverVerifies() throws {
        let token = try PermitCredential.issue(credClaims(), kid: "k1", key: key)
        let segments = token.split(separator: ".").map { Array($0) }
        var rng = SeededGenerator(seed: 0x7A3F_0001)
        var counts: [CredentialVerdict: Int] = [:]
        for segment in 0..<3 {
            for position in segments[segment].indices {
                let original = segments[segment][position]
                let value = credAlphabet.firstIndex(of: original) ?? 0
                // The lowest bit (the only change that can hide in padding bits at the end), and a random other character.
                var replacements = [credAlphabet[value ^ 1]]
                let other = (value + Int.random(in: 1..<64, using: &rng)) % 64
                replacements.append(credAlphabet[other])
                for replacement in replacements {
                    var parts = segments
                    parts[segment][position] = replacement
                    let tampered = parts.map { String($0) }.joined(separator: ".")
                    let result = PermitCredential.verify(tampered, keys: keys, statusList: nil, now: now)
                    counts[result.verdict, default: 0] += 1
                    if segment == 0 {
                        // A changed header may turn into unreadable JSON or name another key.
                        #expect([.malformed, .badSignature, .unknownKey].contains(result.verdict), "header position \(position)")
                    } else {
                        #expect(result.verdict == .malformed || result.verdict == .badSignature,
                                "segment \(segment) position \(position) → \(result.verdict)")
                    }
                    #expect(result.claims == nil)
                    // Changing a character in the middle of a segment can only break the signature.
                    if segment > 0, position < segments[segment].count - 1 {
                        #expect(result.verdict == .badSignature, "segment \(segment) position \(position)")
                    }
                }
            }
            // The last character: flipping its lowest bit only touches padding bits, which the
            // strict decoder refuses.
            if segment > 0 {
                var parts = segments
                let last = parts[segment].count - 1
                let value = credAlphabet.firstIndex(of: parts[segment][last]) ?? 0
                parts[segment][last] = credAlphabet[value ^ 1]
                let result = PermitCredential.verify(parts.map { String($0) }.joined(separator: "."), keys: keys, statusList: nil, now: now)
                #expect(result.verdict == .malformed || result.verdict == .badSignature)
            }
        }
        #expect(counts[.valid] == nil)
        #expect((counts[.badSignature] ?? 0) > 1_000)
    }
}

@Suite("Permit claims serialization")
struct PermitClaimsSerializationTests {
    @Test("the direct serializer writes exactly the bytes of the JSON tree, with and without optional claims")
    func directMatchesTree() throws {
        var generator = SeededGenerator(seed: 0x5E71A1)
        for round in 0..<300 {
            let alphabet = Array("abcXYZ \"\\/\n\t中文é😀\u{1}")
            let text = { (n: Int) -> String in
                String((0..<n).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
            }
            let claims = PermitClaims(
                issuer: text(8), permitNumber: "W33020020260000018", issuedAt: Int64.random(in: -5...2_000_000_000, using: &generator),
                expiresAt: Int64.random(in: 0...Int64.max, using: &generator), surname: text(6), givenNames: text(9),
                chineseName: round % 2 == 0 ? text(3) : nil, nationality: "GBR", category: "B",
                employer: LocalizedName(en: text(10), zh: text(4)),
                validFrom: CivilDate(daysSinceEpoch: Int.random(in: -1_000...40_000, using: &generator)),
                validUntil: CivilDate(daysSinceEpoch: Int.random(in: -1_000...40_000, using: &generator)),
                maskedCardNumber: round % 3 == 0 ? nil : "623091*********0014", statusIndex: Int.random(in: 0...1_000_000, using: &generator),
                statusURI: text(12))
            #expect(claims.serialized() == claims.json.serialized())
        }
    }
}
