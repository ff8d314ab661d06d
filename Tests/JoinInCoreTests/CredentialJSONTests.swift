import Foundation
import JoinInTestSupport
import Testing
@testable import JoinInCore

@Suite("Credentials: JSONValue")
struct CredentialJSONTests {
    private func text(_ value: JSONValue) -> String { String(decoding: value.serialized(), as: UTF8.self) }
    private func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    @Test func serializesCompactlyInStoredOrder() {
        let value = JSONValue.object([
            ("z", .number(1)), ("a", .array([.bool(true), .bool(false), .null])),
            ("m", .object([])), ("e", .array([])), ("n", .number(-42)), ("s", .string("x")),
        ])
        #expect(text(value) == #"{"z":1,"a":[true,false,null],"m":{},"e":[],"n":-42,"s":"x"}"#)
        #expect(text(.number(Int64.min)) == "-9223372036854775808")
        #expect(text(.number(Int64.max)) == "9223372036854775807")
        #expect(text(.string("")) == #""""#)
    }

    @Test func integersAndDatesWrittenWithoutStringsMatchTheirDescriptions() throws {
        var rng = SeededGenerator(seed: 0x1A7E)
        var values: [Int64] = [0, 1, -1, 9, 10, 99, 100, Int64.max, Int64.min, 1_796_097_600]
        for _ in 0..<500 { values.append(Int64.random(in: Int64.min...Int64.max, using: &rng)) }
        for value in values {
            var out: [UInt8] = []
            JSONValue.writeInteger(value, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == String(value))
        }
        for (year, month, day) in [(2026, 12, 1), (999, 1, 9), (2028, 11, 30), (10, 10, 10)] {
            let date = try #require(CivilDate(year: year, month: month, day: day))
            var out: [UInt8] = []
            JSONValue.writeInteger(Int64(date.year), width: 4, to: &out)
            out.append(UInt8(ascii: "-"))
            JSONValue.writeInteger(Int64(date.month), width: 2, to: &out)
            out.append(UInt8(ascii: "-"))
            JSONValue.writeInteger(Int64(date.day), width: 2, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == date.description)
        }
    }

    @Test func duplicateNamesAreRefusedInSmallAndLargeObjects() throws {
        for size in [2, 15, 16, 17, 40] {
            let names = (0..<size).map { "k\($0)" }
            let unique = "{" + names.map { "\"\($0)\":1" }.joined(separator: ",") + "}"
            #expect(try JSONValue.parse(Array(unique.utf8)).members?.count == size)
            for duplicated in [names[0], names[size - 1], names[size / 2]] {
                let text = "{" + (names + [duplicated]).map { "\"\($0)\":1" }.joined(separator: ",") + "}"
                #expect(throws: CredentialError.self, "size \(size), duplicate \(duplicated)") { try JSONValue.parse(Array(text.utf8)) }
            }
            // Canonically equivalent names are the same name.
            let accented = "{" + names.map { "\"\($0)\":1" }.joined(separator: ",") + ",\"\u{E9}\":1,\"e\u{301}\":2}"
            #expect(throws: CredentialError.self) { try JSONValue.parse(Array(accented.utf8)) }
        }
    }

    @Test func escapesLikePythonJSONDumps() throws {
        // json.dumps("\"\\/\b\f\n\r\t\x00\x01\x1f\x7f é", ensure_ascii=False)
        let s = "\"\\/\u{8}\u{C}\n\r\t\u{0}\u{1}\u{1F}\u{7F} é"
        #expect(text(.string(s)) == #""\"\\/\b\f\n\r\t\u0000\u0001\u001f"# + "\u{7F} é\"")
        #expect(try parse(text(.string(s))) == .string(s))
    }

    @Test func nonASCIIIsRawUTF8AndEscapesDecode() throws {
        let value = JSONValue.string("安娜 Müller 😀")
        #expect(value.serialized() == Array("\"安娜 Müller 😀\"".utf8))
        #expect(try parse(#""\u5b89\u5A1C \u00fc \ud83d\ude00 \/ \u0000""#) == .string("安娜 ü 😀 / \u{0}"))
        #expect(try parse(#""\uD834\uDD1E""#) == .string("𝄞"))
    }

    @Test func parsesWhitespaceAndIntegersAtTheLimits() throws {
        #expect(try parse(" \t\r\n{ \"a\" : [ 1 , -0 , 0 ] } \n") == .object([("a", .array([.number(1), .number(0), .number(0)]))]))
        #expect(try parse("9223372036854775807") == .number(Int64.max))
        #expect(try parse("-9223372036854775808") == .number(Int64.min))
        #expect(try parse("true") == .bool(true))
        #expect(try parse("null") == .null)
    }

    @Test(arguments: [
        #"{"a":1,"a":2}"#, #"{"a":{"b":1,"b":1}}"#, "[1,]", #"{"a":1,}"#, "[,1]", "NaN", "[NaN]", "Infinity", "-Infinity",
        "1.0", "1.5", "1e5", "1E5", "-1e-2", "0.", "-", "01", "-01", "+1", ".5", "9223372036854775808",
        "-9223372036854775809", "99999999999999999999", "[1] x", "[1]]", "{}{}", "1 2", #""\ud800""#, #""\udc00""#,
        #""\ud800\u0041""#, #""\ud800x""#, #""\ud800\""#, #""\uDBFF\uDBFF""#, "'a'", "{a:1}", #""\x""#, #""\u12""#,
        #""\u12G4""#, "", " ", "tru", "nul", "True", "[", "[1", #"{"a""#, #"{"a":"#, #""abc"#, "[1 2]", #"{"a" 1}"#,
        #"{"a":}"#, #"{1:2}"#, "{\"\u{E9}\":1,\"e\u{301}\":2}", #"{"\u00e9":1,"e\u0301":2}"#, "\u{FEFF}{}", "\"a\u{1}b\"", "\"tab\there\"", "\"new\nline\"", "/* c */ 1", "[1,2]//",
    ])
    func rejectsMalformedText(_ input: String) {
        #expect(credIsMalformed(credError { try JSONValue.parse(Array(input.utf8)) }), "accepted \(input.debugDescription)")
    }

    @Test(arguments: [
        [0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE5, 0xAE, 0x22],
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x5B, 0x31, 0x5D, 0x00],
    ] as [[UInt8]])
    func rejectsInvalidUTF8(_ bytes: [UInt8]) {
        #expect(credIsMalformed(credError { try JSONValue.parse(bytes) }))
    }

    @Test func depthIsLimitedTo32() throws {
        let ok = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        #expect(try parse(ok) != .null)
        let deep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(credIsMalformed(credError { try parse(deep) }))
        let objects = String(repeating: #"{"a":"#, count: 33) + "1" + String(repeating: "}", count: 33)
        #expect(credIsMalformed(credError { try parse(objects) }))
        let objectsOK = String(repeating: #"{"a":"#, count: 32) + "1" + String(repeating: "}", count: 32)
        #expect(try parse(objectsOK)["a"] != nil)
        // Far too deep must fail cleanly, not overflow the stack.
        #expect(credIsMalformed(credError { try parse(String(repeating: "[", count: 100_000)) }))
    }

    @Test func sizeIsLimitedTo64KiB() throws {
        let fits = "\"" + String(repeating: "a", count: 65_534) + "\""
        #expect(fits.utf8.count == 65_536)
        #expect(try parse(fits).string?.count == 65_534)
        let tooLong = "\"" + String(repeating: "a", count: 65_535) + "\""
        #expect(credIsMalformed(credError { try parse(tooLong) }))
    }

    @Test func accessors() throws {
        let value = try parse(#"{"s":"x","n":7,"o":{"k":null},"a":[1]}"#)
        #expect(value["s"]?.string == "x")
        #expect(value["n"]?.int == 7)
        #expect(value["s"]?.int == nil)
        #expect(value["n"]?.string == nil)
        #expect(value["o"]?["k"] == .null)
        #expect(value["missing"] == nil)
        #expect(value["a"]?["k"] == nil)
        #expect(JSONValue.array([]).string == nil)
    }

    @Test func objectEqualityIsOrdered() {
        let ab = JSONValue.object([("a", .number(1)), ("b", .number(2))])
        let ba = JSONValue.object([("b", .number(2)), ("a", .number(1))])
        #expect(ab != ba)
        #expect(ab == JSONValue.object([("a", .number(1)), ("b", .number(2))]))
        #expect(JSONValue.number(1) != .string("1"))
        #expect(JSONValue.bool(false) != .null)
    }

    // MARK: Properties

    @Test func randomValuesRoundTripAndAgreeWithJSONSerialization() throws {
        var rng = SeededGenerator(seed: 0xC0DE_1501)
        var crossChecked = 0
        for round in 0..<400 {
            let value = credRandomJSON(&rng, depth: 0)
            let bytes = value.serialized()
            #expect(try JSONValue.parse(bytes) == value, "round \(round)")

            // swift-corelibs-foundation drops a U+FEFF at the start of a string (it takes it for a
            // byte order mark), so values containing one are only checked against ourselves.
            if value.serialized().credContains([0xEF, 0xBB, 0xBF]) { continue }
            crossChecked += 1
            // Foundation reads our bytes as the same value...
            let foundation = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
            #expect(credMatches(value, foundation), "round \(round): \(String(decoding: bytes, as: UTF8.self))")
            // ...and we read Foundation's serialization of it (which escapes "/" and may reorder keys).
            let written = try JSONSerialization.data(withJSONObject: foundation, options: [.fragmentsAllowed])
            let reparsed = try JSONValue.parse(Array(written))
            #expect(credUnorderedEqual(reparsed, value), "round \(round): \(String(decoding: written, as: UTF8.self))")
        }
        #expect(crossChecked > 200)
    }
}

// MARK: Test-side random values and a Foundation comparison

let credInterestingScalars: [Unicode.Scalar] = [
    "a", "Z", "0", " ", "\"", "\\", "/", "\u{0}", "\u{1}", "\u{8}", "\u{9}", "\u{A}", "\u{C}", "\u{D}", "\u{1F}", "\u{7F}",
    "é", "\u{301}", "安", "娜", "\u{2028}", "\u{FEFF}", "\u{FFFD}", "😀", "𝄞", "\u{10FFFF}",
]

func credRandomString(_ rng: inout SeededGenerator) -> String {
    var s = String.UnicodeScalarView()
    for _ in 0..<Int.random(in: 0...12, using: &rng) {
        if Bool.random(using: &rng) {
            s.append(credInterestingScalars.randomElement(using: &rng) ?? "a")
        } else {
            s.append(Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &rng)))
        }
    }
    return String(s)
}

func credRandomJSON(_ rng: inout SeededGenerator, depth: Int) -> JSONValue {
    let pick = Int.random(in: 0..<(depth >= 4 ? 4 : 6), using: &rng)
    switch pick {
    case 0: return .null
    case 1: return .bool(Bool.random(using: &rng))
    case 2:
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return .number([0, 1, -1, Int64.max, Int64.min, 1 << 53, -(1 << 53)].randomElement(using: &rng) ?? 0)
        case 1: return .number(Int64.random(in: -1000...1000, using: &rng))
        default: return .number(Int64.random(in: Int64.min...Int64.max, using: &rng))
        }
    case 3: return .string(credRandomString(&rng))
    case 4: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in credRandomJSON(&rng, depth: depth + 1) })
    default:
        var members: [(String, JSONValue)] = []
        var keys = Set<String>()
        for _ in 0..<Int.random(in: 0...4, using: &rng) {
            let key = credRandomString(&rng)
            // Swift compares keys by canonical equivalence, so the parser refuses "é" next to
            // "e\u{301}" as a duplicate: keep keys distinct under that equality.
            guard keys.insert(key).inserted else { continue }
            members.append((key, credRandomJSON(&rng, depth: depth + 1)))
        }
        return .object(members)
    }
}

/// Whether a Foundation JSON object equals our value (objects compared without order).
func credMatches(_ value: JSONValue, _ object: Any) -> Bool {
    switch value {
    case .null: return object is NSNull
    case let .bool(b):
        return (object as? Bool) == b
    case let .number(n):
        guard let number = object as? NSNumber else { return false }
        return number.int64Value == n && number.stringValue == String(n)
    case let .string(s):
        guard let text = object as? String else { return false }
        return Array(text.unicodeScalars) == Array(s.unicodeScalars)
    case let .array(items):
        guard let array = object as? [Any], array.count == items.count else { return false }
        return zip(items, array).allSatisfy { credMatches($0, $1) }
    case let .object(members):
        guard let dict = object as? [String: Any], dict.count == members.count else { return false }
        return members.allSatisfy { key, member in
            guard let other = dict[key] else { return false }
            return credMatches(member, other)
        }
    }
}

/// Equality with object members compared as sets (for values that went through Foundation).
func credUnorderedEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case let (.array(x), .array(y)):
        return x.count == y.count && zip(x, y).allSatisfy { credUnorderedEqual($0, $1) }
    case let (.object(x), .object(y)):
        guard x.count == y.count else { return false }
        return x.allSatisfy { key, value in
            guard let other = y.first(where: { $0.0 == key }) else { return false }
            return credUnorderedEqual(value, other.1)
        }
    case let (.string(x), .string(y)):
        return Array(x.unicodeScalars) == Array(y.unicodeScalars)
    default:
        return a == b
    }
}

extension Array where Element == UInt8 {
    func credContains(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { self[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}
