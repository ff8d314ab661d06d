import Crypto
import JoinInTestSupport
import Testing
@testable import JoinInCore

@Suite("Credentials: StatusList")
struct CredentialStatusListTests {
    let key = credTestKey()
    var keys: [String: Curve25519.Signing.PublicKey] { ["k1": key.publicKey] }

    @Test func bitOrderIsLeastSignificantFirst() {
        // Hand-computed: indices 0, 3 and 9 set.
        //   byte 0 = bit0 + bit3 = 0b0000_1001 = 0x09
        //   byte 1 = bit (9 - 8) = 0b0000_0010 = 0x02
        var list = StatusList(capacity: 16)
        #expect(list.bytes == [0, 0])
        list.setStatus(1, at: 0)
        list.setStatus(1, at: 3)
        list.setStatus(1, at: 9)
        #expect(list.bytes == [0x09, 0x02])
        #expect((0..<16).map { list.status(at: $0) ?? 9 } == [1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])
        list.setStatus(0, at: 3)
        #expect(list.bytes == [0x01, 0x02])
        list.setStatus(0, at: 3)
        #expect(list.bytes == [0x01, 0x02])
    }

    @Test func draftExampleOneBitList() throws {
        // draft-ietf-oauth-status-list, 1-bit example: statuses
        // 1 0 0 1 1 1 0 1 | 1 1 0 0 0 1 0 1 → bytes 0xB9 0xA3, lst "eNrbuRgAAhcBXQ".
        let list = try StatusList(lst: "eNrbuRgAAhcBXQ")
        #expect(list.bytes == [0xB9, 0xA3])
        #expect((0..<16).compactMap { list.status(at: $0) } == [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1])
        var built = StatusList(capacity: 16)
        for (index, bit) in [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1].enumerated() where bit == 1 { built.setStatus(1, at: index) }
        #expect(built == list)
        #expect(try StatusList(lst: built.lst) == list)
    }

    @Test func capacityRoundsUpToBytesAndRangeIsChecked() {
        #expect(StatusList(capacity: 0).bytes.isEmpty)
        #expect(StatusList(capacity: 1).bytes.count == 1)
        #expect(StatusList(capacity: 8).bytes.count == 1)
        #expect(StatusList(capacity: 9).bytes.count == 2)
        let list = StatusList(capacity: 100_000)
        #expect(list.bytes.count == 12_500)
        #expect(list.status(at: 99_999) == 0)
        #expect(list.status(at: 100_000) == nil)
        #expect(list.status(at: -1) == nil)
        #expect(list.status(at: Int.max) == nil)
    }

    @Test func lstRoundTripsForRandomLists() throws {
        var rng = SeededGenerator(seed: 0x5747_0001)
        for _ in 0..<50 {
            var list = StatusList(capacity: Int.random(in: 0...40_000, using: &rng))
            let total = list.bytes.count * 8
            var set = Set<Int>()
            for _ in 0..<Int.random(in: 0...50, using: &rng) where total > 0 {
                let index = Int.random(in: 0..<total, using: &rng)
                list.setStatus(1, at: index)
                set.insert(index)
            }
            let back = try StatusList(lst: list.lst)
            #expect(back == list)
            #expect((0..<total).filter { back.status(at: $0) == 1 } == set.sorted())
        }
    }

    @Test func lstRejectsGarbageAndOversizedLists() {
        for bad in ["", "eNrbuRgAAhcBXQ==", "eNrbuRgAAhcBXR", "eNrbuRgAAhcBX", "not base64!", "eNrbuRgAAhcBXq"] {
            #expect(credIsMalformed(credError { try StatusList(lst: bad) }), "\(bad)")
        }
        let big = StatusList(capacity: 8 * 5_000)
        #expect(credIsMalformed(credError { try StatusList(lst: big.lst, limit: 4_999) }))
        #expect((try? StatusList(lst: big.lst, limit: 5_000)) == big)
    }

    @Test func tokenRoundTrip() throws {
        var list = StatusList(capacity: 1 << 20)
        list.setStatus(1, at: 5)
        list.setStatus(1, at: (1 << 20) - 1)
        let token = try StatusListToken.sign(list: list, uri: "https://x.example/s/1", issuedAt: 1_000, expiresAt: 2_000, ttl: 300, kid: "k1", key: key)
        #expect(token.utf8.count < 4_000, "\(token.utf8.count)")
        let (uri, back, exp) = try StatusListToken.verify(token, keys: keys, now: 1_500)
        #expect(uri == "https://x.example/s/1")
        #expect(back == list)
        #expect(exp == 2_000)
        // Payload shape and key order.
        let payload = try JWS.verify(token, keys: keys, expectedTyp: StatusListToken.typ).payload
        #expect(String(decoding: payload, as: UTF8.self)
            == #"{"sub":"https://x.example/s/1","iat":1000,"exp":2000,"ttl":300,"status_list":{"bits":1,"lst":"\#(list.lst)"}}"#)
    }

    @Test func tokenExpiryTypeAndKeys() throws {
        let list = StatusList(capacity: 64)
        let token = try StatusListToken.sign(list: list, uri: "u", issuedAt: 1_000, expiresAt: 2_000, ttl: 60, kid: "k1", key: key)
        #expect(credError { try StatusListToken.verify(token, keys: keys, now: 2_000) } == .malformed("status list expired"))
        #expect(credError { try StatusListToken.verify(token, keys: keys, now: 5_000) } == .malformed("status list expired"))
        #expect(credError { try StatusListToken.verify(token, keys: keys, now: 1_999) } == nil)
        #expect(credError { try StatusListToken.verify(token, keys: [:], now: 1_500) } == .unknownKey("k1"))
        let permitTyped = try JWS.sign(payload: Array(#"{"sub":"u"}"#.utf8), kid: "k1", typ: PermitCredential.typ, key: key)
        #expect(credError { try StatusListToken.verify(permitTyped, keys: keys, now: 1_500) } == .wrongType(PermitCredential.typ))
    }

    @Test(arguments: [
        #"{"sub":"u","iat":1,"exp":9999,"ttl":1,"status_list":{"bits":2,"lst":"eNrbuRgAAhcBXQ"}}"#,
        #"{"sub":"u","iat":1,"exp":9999,"status_list":{"lst":"eNrbuRgAAhcBXQ"}}"#,
        #"{"sub":"u","iat":1,"exp":9999,"status_list":{"bits":1}}"#,
        #"{"sub":"u","iat":1,"exp":9999,"status_list":{"bits":1,"lst":"!!"}}"#,
        #"{"sub":"u","iat":1,"exp":9999}"#,
        #"{"sub":"u","iat":1,"exp":"9999","status_list":{"bits":1,"lst":"eNrbuRgAAhcBXQ"}}"#,
        #"{"sub":"u","exp":9999,"status_list":{"bits":1,"lst":"eNrbuRgAAhcBXQ"}}"#,
        #"{"iat":1,"exp":9999,"status_list":{"bits":1,"lst":"eNrbuRgAAhcBXQ"}}"#,
        #"{"sub":"u","iat":1,"exp":9999,"ttl":-1,"status_list":{"bits":1,"lst":"eNrbuRgAAhcBXQ"}}"#,
        #"{"sub":"u","iat":1,"exp":9999,"status_list":[1]}"#,
        #"["sub"]"#,
        #"{"sub":"u","iat":1,"exp":9999,"status_list":{"bits":1,"lst":"eNrbuRgAAhcBXQ"}"#,
    ])
    func tokenPayloadProblemsAreMalformed(_ payload: String) throws {
        let token = try JWS.sign(payload: Array(payload.utf8), kid: "k1", typ: StatusListToken.typ, key: key)
        #expect(credIsMalformed(credError { try StatusListToken.verify(token, keys: keys, now: 100) }), "\(payload)")
    }

    @Test func minimalValidPayloadWithoutTTL() throws {
        let payload = #"{"sub":"u","iat":1,"exp":9999,"status_list":{"bits":1,"lst":"eNrbuRgAAhcBXQ"}}"#
        let token = try JWS.sign(payload: Array(payload.utf8), kid: "k1", typ: StatusListToken.typ, key: key)
        #expect(try StatusListToken.verify(token, keys: keys, now: 100).list.bytes == [0xB9, 0xA3])
    }
}
