import Foundation
@testable import JoinInServer
import Testing

/// `CompactJSON` writes exactly what `JSON.encoder` (Foundation's `JSONEncoder`) writes, and
/// gives up on what it does not write. (Debug builds also compare every API response.)
@Suite("Compact JSON writer")
struct CompactJSONTests {
    enum Kind: String, Codable { case alpha, beta }

    struct Inner: Codable { let name: String; let count: Int64; let when: Date? }

    struct Sample: Encodable {
        let text: String
        let zLast: Int
        let aFirst: Bool
        let optional: String?
        let present: Int32?
        let kind: Kind
        let inners: [Inner]
        let map: [String: [Int]]
        let nested: [[String?]]
        let unsigned: UInt64
        let small: Int8
        let date: Date

        enum CodingKeys: String, CodingKey {
            case text, zLast = "z_last", aFirst = "a_first", optional, present, kind, inners, map, nested, unsigned, small, date
            case upper = "Upper", underscore = "_under", numeric = "a10", numeric9 = "a9"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(text, forKey: .text)
            try container.encode(zLast, forKey: .zLast)
            try container.encode(aFirst, forKey: .aFirst)
            try container.encodeIfPresent(optional, forKey: .optional)
            try container.encodeIfPresent(present, forKey: .present)
            try container.encode(kind, forKey: .kind)
            try container.encode(inners, forKey: .inners)
            try container.encode(map, forKey: .map)
            try container.encode(nested, forKey: .nested)
            try container.encode(unsigned, forKey: .unsigned)
            try container.encode(small, forKey: .small)
            try container.encode(date, forKey: .date)
            try container.encodeNil(forKey: .upper)
            var list = container.nestedUnkeyedContainer(forKey: .underscore)
            try list.encode("x")
            try list.encodeNil()
            var object = list.nestedContainer(keyedBy: CodingKeys.self)
            try object.encode(Int64.max, forKey: .numeric)
            try object.encode(Int64.min, forKey: .numeric9)
            try container.encode(Kind.beta, forKey: .numeric)  // written twice: the last value wins
            try container.encode(Kind.alpha, forKey: .numeric)
        }
    }

    static let tricky = [
        "", "plain", "quote \" backslash \\ slash / done", "controls \u{0}\u{1}\u{8}\u{9}\u{A}\u{B}\u{C}\u{D}\u{1B}\u{1F} end",
        "DEL \u{7F} NEL \u{85} LS \u{2028} PS \u{2029}", "聚英卡 Müller 🇨🇳 e\u{301}", "</script>",
    ]

    static let dates: [Date] = [
        Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_700_000_000.999), Date(timeIntervalSince1970: -1.5),
        Date(timeIntervalSince1970: 951_782_400), Date(timeIntervalSince1970: 4_107_542_399), Date(timeIntervalSince1970: -2_208_988_800),
        Date(timeIntervalSince1970: 253_402_300_799), Date(timeIntervalSince1970: 1_796_097_600.5),
    ]

    func reference<T: Encodable>(_ value: T) throws -> [UInt8] { Array(try JSON.encoder.encode(value)) }

    /// Hands the wrapped existential to the container as an existential (`T` = `any Encodable`).
    struct AnyEncodable: Encodable {
        let value: any Encodable
        init(_ value: any Encodable) { self.value = value }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(value)
        }
    }

    @Test("byte for byte what JSONEncoder writes: key order, escapes, nesting, integers, null, dates, last write wins")
    func sameBytes() throws {
        for (index, text) in Self.tricky.enumerated() {
            let date = Self.dates[index % Self.dates.count]
            let sample = Sample(text: text, zLast: index - 3, aFirst: index % 2 == 0, optional: index % 2 == 0 ? nil : text,
                                present: index % 3 == 0 ? Int32.min : nil, kind: .beta,
                                inners: [Inner(name: text, count: Int64(index), when: date), Inner(name: "", count: -1, when: nil)],
                                map: ["b": [1, 2], "a": [], text: [index]], nested: [[nil, text], []], unsigned: .max, small: -128, date: date)
            let ours = try #require(CompactJSON.encode(sample))
            #expect(ours == (try reference(sample)), "\(String(decoding: ours, as: UTF8.self))")
            #expect(CompactJSON.encode(text) == (try reference(text)))
            #expect(CompactJSON.encode([text: text]) == (try reference([text: text])))
        }
        for date in Self.dates {
            #expect(CompactJSON.encode([date]) == (try reference([date])), "\(date.timeIntervalSince1970)")
        }
        #expect(CompactJSON.encode([String: Int]()) == (try reference([String: Int]())))
        #expect(CompactJSON.encode([Int]()) == (try reference([Int]())))
        #expect(CompactJSON.encode(Schemas.Health(status: .ok)) == (try reference(Schemas.Health(status: .ok))))
    }

    @Test("gives up on what it does not write the same way: floating point, Data, URL, Decimal, a value that encodes nothing")
    func givesUp() {
        struct Nothing: Encodable { func encode(to encoder: any Encoder) throws {} }
        struct Holder<T: Encodable>: Encodable { let value: T }
        #expect(CompactJSON.encode(Holder(value: 1.5)) == nil)
        #expect(CompactJSON.encode(Holder(value: Float(1))) == nil)
        #expect(CompactJSON.encode(Holder(value: Data([1, 2]))) == nil)
        #expect(CompactJSON.encode(Holder(value: URL(string: "https://example.org/a"))) == nil)
        #expect(CompactJSON.encode(Holder(value: Decimal(1))) == nil)
        #expect(CompactJSON.encode(Nothing()) == nil)
        // Inside an existential too: matched by the value's own type.
        let boxed: [any Encodable] = [Data([1]), URL(string: "https://example.org/b") as any Encodable, 2.5, Decimal(3)]
        for value in boxed { #expect(CompactJSON.encode(Holder(value: AnyEncodable(value))) == nil, "\(value)") }
        let date: any Encodable = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(CompactJSON.encode(Holder(value: AnyEncodable(date))) == (try? reference(Holder(value: AnyEncodable(date)))))
        #expect(CompactJSON.encode(Holder(value: Nothing())) == nil)
        // JSON.encode then falls back and still writes what JSONEncoder writes.
        #expect((try? JSON.encode(Holder(value: 1.5))) == (try? reference(Holder(value: 1.5))))
        #expect(CompactJSON.encode(Holder(value: Date(timeIntervalSince1970: 253_402_300_800))) == nil, "year 10000")
        let early = Holder(value: Date(timeIntervalSince1970: -62_135_596_800))  // year 1: JSONEncoder's calendar is Julian there
        #expect(CompactJSON.encode(early) == nil)
        #expect((try? JSON.encode(early)) == (try? reference(early)))
        #expect(CompactJSON.encode(Holder(value: Date(timeIntervalSince1970: -2_208_988_801))) == nil, "1899")
    }

    @Test("the e-card home writes itself byte for byte as JSONEncoder does: every optional present and absent, escapes, dates")
    func writtenByHand() throws {
        func holder(_ chinese: String?) -> Schemas.Holder {
            Schemas.Holder(surname: "MÜLLER \"Q\"", givenNames: "Anna\nMaria/Ø", chineseName: chinese, nationality: "DEU",
                           dateOfBirth: "1990-04-01", sex: .f)
        }
        func permit(_ cancelled: Date?, _ reason: String?, chinese: String?) -> Schemas.Permit {
            Schemas.Permit(number: "W33020020260000018", category: .b,
                           employer: Schemas.EmployerRef(id: "e-1", name: Schemas.LocalizedName(en: "Port \\ Co.", zh: "宁波港")),
                           position: "engineer\u{1}", validFrom: "2026-12-06", validUntil: "2028-12-06", status: .valid,
                           decisionLetterNumber: "WPD-1", holder: holder(chinese), issuedAt: Date(timeIntervalSince1970: 1_765_000_000.75),
                           cancelledAt: cancelled, cancelReason: reason)
        }
        let card = Schemas.ECardCard(maskedNumber: "623091*********0014", status: .active, financialFunctions: true)
        let values = [
            Schemas.ECardMe(person: holder("穆安娜"), permit: permit(Date(timeIntervalSince1970: 1_800_000_000), "left China", chinese: "穆"),
                            card: card, benefits: [.transitFares, .localEvents]),
            Schemas.ECardMe(person: holder(nil), permit: permit(nil, nil, chinese: nil), card: nil, benefits: []),
            Schemas.ECardMe(person: holder(nil), permit: permit(nil, "reason only", chinese: nil),
                            card: Schemas.ECardCard(maskedNumber: "", status: .lost, financialFunctions: false), benefits: [.medicalInsurance]),
        ]
        for value in values {
            let written = try #require(JSONWriter.bytes(of: value))
            #expect(written == (try reference(value)), "\(String(decoding: written, as: UTF8.self))")
            #expect(try JSON.encode(value) == (try reference(value)))
        }
        // A date JSONEncoder writes in its own way: the writer gives up, JSON.encode falls back.
        let early = Schemas.ECardMe(person: holder(nil), permit: permit(Date(timeIntervalSince1970: -62_135_596_800), nil, chinese: nil),
                                    card: nil, benefits: [])
        #expect(JSONWriter.bytes(of: early) == nil)
        #expect(try JSON.encode(early) == (try reference(early)))
    }
}
