import Foundation
import JoinInTestSupport
import Testing
@testable import JoinInCore

// Tests for the identifier codecs: Luhn, USCC, CountryCode, PassportNumber, PermitNumber,
// CardNumber, PinPolicy. Expected values come from public sources or from small test-side
// reference implementations written differently from the production code (`CodecReference`).

// MARK: - Test support

/// Runs `body` and returns the `DomainError` it throws; nil when it does not throw or throws something else.
func codecDomainError(_ body: () throws -> Void) -> DomainError? {
    do {
        try body()
        return nil
    } catch let error as DomainError {
        return error
    } catch {
        return nil
    }
}

/// Independent reference implementations used to compute expected values in tests.
enum CodecReference {
    static let digits: [Character] = Array("0123456789")

    /// Luhn validity, textbook form: from the right, double every second digit and add the digits of the product.
    static func luhnValid(_ number: String) -> Bool {
        let values = number.compactMap { $0.wholeNumberValue }
        guard values.count == number.count, values.count >= 2 else { return false }
        var total = 0
        for (index, value) in values.reversed().enumerated() {
            if index % 2 == 1 {
                let product = value * 2
                total += product / 10 + product % 10
            } else {
                total += value
            }
        }
        return total % 10 == 0
    }

    /// The Luhn check digit found by trying all ten.
    static func luhnCheckDigit(_ payload: String) -> Character? {
        digits.first { luhnValid(payload + String($0)) }
    }

    /// GB 32100 alphabet built by removing I, O, Z, S, V from 0-9A-Z.
    static let usccAlphabet: [Character] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ").filter { !"IOZSV".contains($0) }

    /// GB 32100 weights are 3^(i-1) mod 31.
    static let usccWeights: [Int] = {
        var weights: [Int] = []
        var w = 1
        for _ in 0..<17 {
            weights.append(w)
            w = w * 3 % 31
        }
        return weights
    }()

    /// The USCC check character: the one making Σ value·weight + check ≡ 0 (mod 31).
    static func usccCheck(_ first17: String) -> Character? {
        let chars = Array(first17)
        guard chars.count == 17 else { return nil }
        var sum = 0
        for (i, c) in chars.enumerated() {
            guard let v = usccAlphabet.firstIndex(of: c) else { return nil }
            sum += v * usccWeights[i]
        }
        return usccAlphabet.indices.first { (sum + $0) % 31 == 0 }.map { usccAlphabet[$0] }
    }

    /// ISO 7064 MOD 11-2 by explicit weights 2^(n-i+1) mod 11 and search for the check value c
    /// with Σ + c ≡ 1 (mod 11).
    static func mod11_2(_ digitString: String) -> Character? {
        let values = digitString.compactMap { $0.wholeNumberValue }
        guard values.count == digitString.count, !values.isEmpty else { return nil }
        let n = values.count
        var sum = 0
        for (index, value) in values.enumerated() {
            var weight = 1
            for _ in 0..<(n - index) { weight = weight * 2 % 11 }
            sum += value * weight
        }
        guard let c = (0...10).first(where: { (sum + $0) % 11 == 1 }) else { return nil }
        return c == 10 ? "X" : digits[c]
    }

    static func randomDigits<G: RandomNumberGenerator>(_ count: Int, using rng: inout G) -> String {
        String((0..<count).map { _ in digits[Int.random(in: 0...9, using: &rng)] })
    }

    static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}

// MARK: - Luhn

@Suite("Luhn")
struct LuhnCodecTests {
    @Test func publishedExamples() {
        // Wikipedia's worked example and well-known test card numbers.
        #expect(Luhn.checkDigit(forPayload: "7992739871") == "3")
        #expect(Luhn.isValid("79927398713"))
        #expect(!Luhn.isValid("79927398710"))
        #expect(Luhn.isValid("4111111111111111"))
        #expect(Luhn.isValid("5555555555554444"))
        #expect(Luhn.isValid("378282246310005"))
        #expect(!Luhn.isValid("4111111111111112"))
        #expect(Luhn.checkDigit(forPayload: "0") == "0")
        #expect(Luhn.checkDigit(forPayload: "5") == "9")
    }

    @Test func rejectsNonDigitsAndShortInput() {
        #expect(Luhn.checkDigit(forPayload: "") == nil)
        #expect(Luhn.checkDigit(forPayload: "12a4") == nil)
        #expect(Luhn.checkDigit(forPayload: "12 4") == nil)
        #expect(Luhn.checkDigit(forPayload: "１２３") == nil) // full-width digits
        #expect(!Luhn.isValid(""))
        #expect(!Luhn.isValid("0"))
        #expect(Luhn.isValid("00"))
        #expect(Luhn.isValid("18"))
        #expect(!Luhn.isValid("7992 7398 713"))
        #expect(!Luhn.isValid("79927398713\n"))
    }

    @Test func generatedNumbersValidateAndEverySingleDigitChangeFails() {
        var rng = SeededGenerator(seed: 0x4C55_484E)
        for _ in 0..<3000 {
            let payload = CodecReference.randomDigits(Int.random(in: 1...30, using: &rng), using: &rng)
            guard let check = Luhn.checkDigit(forPayload: payload) else {
                Issue.record("no check digit for \(payload)")
                continue
            }
            #expect(check == CodecReference.luhnCheckDigit(payload), "payload \(payload)")
            let number = payload + String(check)
            #expect(Luhn.isValid(number))
            #expect(CodecReference.luhnValid(number))
            // One random single-digit substitution at a random position.
            var chars = Array(number)
            let position = Int.random(in: 0..<chars.count, using: &rng)
            let original = chars[position]
            chars[position] = CodecReference.digits.filter { $0 != original }.randomElement(using: &rng) ?? "0"
            #expect(!Luhn.isValid(String(chars)), "\(number) changed at \(position) to \(String(chars))")
        }
    }

    @Test func exhaustiveSingleDigitChangesOnOneNumber() {
        let number = "79927398713"
        for position in 0..<number.count {
            for digit in CodecReference.digits {
                var chars = Array(number)
                guard chars[position] != digit else { continue }
                chars[position] = digit
                #expect(!Luhn.isValid(String(chars)))
            }
        }
    }
}

// MARK: - Unified social credit code

@Suite("UnifiedSocialCreditCode")
struct UnifiedSocialCreditCodeCodecTests {
    /// Real-world codes: the GB 32100 worked example and codes from public business registrations
    /// (e.g. 914403001922038216 Huawei Technologies, 911000001000013428 Bank of China,
    /// 91100000100003962T ICBC), each re-checked by `CodecReference.usccCheck` below.
    static let knownValid = [
        "91350100M000100Y43",
        "914403001922038216",
        "911000001000013428",
        "91100000100003962T",
        "9144030071526726XG",
        "91110000600037341L",
    ]

    @Test func alphabetAndReference() {
        #expect(UnifiedSocialCreditCode.alphabet == CodecReference.usccAlphabet)
        #expect(UnifiedSocialCreditCode.alphabet.count == 31)
        #expect(CodecReference.usccWeights == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
    }

    @Test(arguments: knownValid)
    func knownCodesValidate(code: String) throws {
        let first17 = String(code.prefix(17))
        #expect(CodecReference.usccCheck(first17) == code.last)
        #expect(UnifiedSocialCreditCode.checkCharacter(forFirst17: first17) == code.last)
        let parsed = try UnifiedSocialCreditCode(validating: code)
        #expect(parsed.value == code)
        #expect(parsed.description == code)
    }

    @Test func normalisesCaseAndWhitespace() throws {
        let parsed = try UnifiedSocialCreditCode(validating: "  91350100m000100y43\n")
        #expect(parsed.value == "91350100M000100Y43")
        #expect(parsed == (try UnifiedSocialCreditCode(validating: "91350100M000100Y43")))
    }

    @Test func rejectsWrongLength() {
        let error = codecDomainError { _ = try UnifiedSocialCreditCode(validating: "91350100M000100Y4") }
        #expect(error?.code == "uscc.invalid")
        #expect(error?.kind == .malformed)
        #expect(error?.detail == "uscc must be 18 characters, got 17")
        #expect(codecDomainError { _ = try UnifiedSocialCreditCode(validating: "") }?.detail == "uscc must be 18 characters, got 0")
        #expect(codecDomainError { _ = try UnifiedSocialCreditCode(validating: "91350100M000100Y433") }?.code == "uscc.invalid")
    }

    @Test(arguments: ["I", "O", "Z", "S", "V", "-", "*", "é"])
    func rejectsCharactersOutsideAlphabet(bad: String) {
        // Replace position 10 (organisation code) with a forbidden character.
        var chars = Array("91350100M000100Y43")
        chars[9] = Character(bad)
        let error = codecDomainError { _ = try UnifiedSocialCreditCode(validating: String(chars)) }
        #expect(error?.code == "uscc.invalid")
        #expect(error?.detail.contains("10") == true)
    }

    @Test func divisionCodeMustBeDigits() {
        // Position 5 gets a letter; recompute the check so only the digit rule is violated.
        var chars = Array("91350100M000100Y4")
        chars[4] = "A"
        guard let check = CodecReference.usccCheck(String(chars)) else {
            Issue.record("reference failed")
            return
        }
        let error = codecDomainError { _ = try UnifiedSocialCreditCode(validating: String(chars) + String(check)) }
        #expect(error?.code == "uscc.invalid")
        #expect(error?.detail.contains("3-8") == true)
        #expect(error?.detail.contains("position 5") == true)
    }

    @Test func wrongCheckCharacter() {
        let error = codecDomainError { _ = try UnifiedSocialCreditCode(validating: "91350100M000100Y44") }
        #expect(error?.code == "uscc.check_character")
        #expect(error?.kind == .malformed)
        #expect(error?.detail == "uscc check character is '4', expected '3'")
    }

    @Test func checkCharacterRejectsBadPayloads() {
        #expect(UnifiedSocialCreditCode.checkCharacter(forFirst17: "91350100M000100Y") == nil)
        #expect(UnifiedSocialCreditCode.checkCharacter(forFirst17: "91350100M000100Y43") == nil)
        #expect(UnifiedSocialCreditCode.checkCharacter(forFirst17: "91350100M000100I4") == nil)
        #expect(UnifiedSocialCreditCode.checkCharacter(forFirst17: "91350100m000100Y4") == nil)
    }

    /// A random 17-character payload in real-world shape: positions 3–8 digits.
    static func randomFirst17(using rng: inout SeededGenerator) -> String {
        let alphabet = CodecReference.usccAlphabet
        return String((0..<17).map { index in
            (2...7).contains(index)
                ? CodecReference.digits[Int.random(in: 0...9, using: &rng)]
                : alphabet[Int.random(in: 0..<31, using: &rng)]
        })
    }

    @Test func generatedCodesValidate() throws {
        var rng = SeededGenerator(seed: 32100)
        for _ in 0..<5000 {
            let first17 = Self.randomFirst17(using: &rng)
            let expected = try #require(CodecReference.usccCheck(first17))
            #expect(UnifiedSocialCreditCode.checkCharacter(forFirst17: first17) == expected)
            let code = first17 + String(expected)
            #expect(try UnifiedSocialCreditCode(validating: code).value == code)
            #expect(try UnifiedSocialCreditCode(validating: code.lowercased()).value == code)
        }
    }

    @Test func everySingleCharacterSubstitutionFails() throws {
        var rng = SeededGenerator(seed: 0x0055_5343_43)
        let alphabet = CodecReference.usccAlphabet
        for _ in 0..<300 {
            let first17 = Self.randomFirst17(using: &rng)
            let code = first17 + String(try #require(CodecReference.usccCheck(first17)))
            let original = Array(code)
            for position in 0..<18 {
                for replacement in alphabet where replacement != original[position] {
                    var chars = original
                    chars[position] = replacement
                    let error = codecDomainError { _ = try UnifiedSocialCreditCode(validating: String(chars)) }
                    let divisionLetter = (2...7).contains(position) && !replacement.isNumber
                    let expectedCode = divisionLetter ? "uscc.invalid" : "uscc.check_character"
                    if error?.code != expectedCode {
                        Issue.record("\(String(chars)) (from \(code), position \(position + 1)): got \(String(describing: error))")
                    }
                }
            }
        }
    }
}

// MARK: - Country code

@Suite("CountryCode")
struct CountryCodeCodecTests {
    @Test func listSize() {
        #expect(CountryCode.all.count == 249)
        #expect(CountryCode.all.allSatisfy { $0.count == 3 && $0.allSatisfy { ("A"..."Z").contains($0) && $0.isASCII } })
    }

    @Test(arguments: ["CHN", "HKG", "MAC", "TWN", "DEU", "GBR", "USA", "FRA", "JPN", "KOR", "PRK", "RUS", "IND", "BRA",
                      "ZAF", "NGA", "AUS", "NZL", "CAN", "MEX", "SSD", "SRB", "MNE", "CUW", "SXM", "BES", "ALA", "ATA",
                      "BVT", "UMI", "PSE", "ESH", "VAT", "SWZ", "MKD", "CIV", "COD", "COG", "TLS", "XKX"])
    func assignedCodes(code: String) throws {
        if code == "XKX" {
            // Kosovo's user-assigned code is not an ISO 3166-1 assignment.
            #expect(!CountryCode.all.contains(code))
            return
        }
        #expect(CountryCode.all.contains(code))
        #expect(try CountryCode(validating: code).alpha3 == code)
        #expect(CountryCode(mrz: code)?.alpha3 == code)
    }

    @Test(arguments: ["UTO", "XXA", "XXB", "XXC", "XXX", "GBD", "GBN", "GBO", "GBP", "GBS", "UNO", "UNA", "UNK", "EUE",
                      "D", "ANT", "SCG", "YUG", "ZAR", "TMP", "BUR", "CSK", "SUN", "DDR", "ROM", "XYZ", "CH", "CHNA", ""])
    func unassignedCodes(code: String) {
        #expect(!CountryCode.all.contains(code))
        let error = codecDomainError { _ = try CountryCode(validating: code) }
        #expect(error?.code == "nationality.invalid")
        #expect(error?.kind == .malformed)
    }

    @Test func errorDetailAndNormalisation() throws {
        #expect(codecDomainError { _ = try CountryCode(validating: "XYZ") }?.detail
            == "nationality must be an ISO 3166-1 alpha-3 code, got 'XYZ'")
        #expect(try CountryCode(validating: "chn").alpha3 == "CHN")
        #expect(try CountryCode(validating: "Deu").description == "DEU")
    }

    @Test func mrzFields() {
        #expect(CountryCode(mrz: "D<<")?.alpha3 == "DEU")
        #expect(CountryCode(mrz: "DEU")?.alpha3 == "DEU")
        #expect(CountryCode(mrz: "GBR")?.alpha3 == "GBR")
        #expect(CountryCode(mrz: "USA")?.alpha3 == "USA")
        #expect(CountryCode(mrz: "UTO") == nil)
        #expect(CountryCode(mrz: "XXA") == nil)
        #expect(CountryCode(mrz: "GBD") == nil)
        #expect(CountryCode(mrz: "<<<") == nil)
        #expect(CountryCode(mrz: "chn") == nil) // MRZ is upper case only
    }

    @Test func codableAsPlainString() throws {
        let encoded = try JSONEncoder().encode([try CountryCode(validating: "CHN")])
        #expect(String(decoding: encoded, as: UTF8.self) == #"["CHN"]"#)
        let decoded = try JSONDecoder().decode([CountryCode].self, from: Data(#"["deu","USA"]"#.utf8))
        #expect(decoded.map(\.alpha3) == ["DEU", "USA"])
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode([CountryCode].self, from: Data(#"["UTO"]"#.utf8))
        }
    }
}

// MARK: - Passport number

@Suite("PassportNumber")
struct PassportNumberCodecTests {
    @Test func normalisesAndMasks() throws {
        let number = try PassportNumber(validating: "  e1234567\t")
        #expect(number.value == "E1234567")
        #expect(number.masked == "*****567")
        #expect(number.description == "*****567")
        #expect(try PassportNumber(validating: "AB123").masked == "**123")
        #expect(try PassportNumber(validating: "123456789012").masked == "*********012")
    }

    @Test(arguments: ["1234", "1234567890123", "", "   "])
    func rejectsLength(raw: String) {
        let error = codecDomainError { _ = try PassportNumber(validating: raw) }
        #expect(error?.code == "passport_number.invalid")
        #expect(error?.detail.contains("5 to 12") == true)
    }

    @Test(arguments: ["E123-4567", "E123 4567", "E12345É", "Ｅ1234567", "E1234567<"])
    func rejectsCharacters(raw: String) {
        let error = codecDomainError { _ = try PassportNumber(validating: raw) }
        #expect(error?.code == "passport_number.invalid")
        #expect(error?.detail.contains("A-Z") == true)
    }

    @Test func randomValidNumbersRoundTrip() throws {
        var rng = SeededGenerator(seed: 9303)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        for _ in 0..<2000 {
            let length = Int.random(in: 5...12, using: &rng)
            let text = String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
            let number = try PassportNumber(validating: text.lowercased())
            #expect(number.value == text)
            #expect(number.masked.count == length)
            #expect(number.masked.hasSuffix(text.suffix(3)))
            #expect(number.masked.prefix(length - 3).allSatisfy { $0 == "*" })
        }
    }
}

// MARK: - Permit number

@Suite("PermitNumber")
struct PermitNumberCodecTests {
    @Test func referenceMatchesIdentityCardSample() {
        // The published sample resident identity number 11010519491231002X uses the same MOD 11-2.
        #expect(CodecReference.mod11_2("11010519491231002") == "X")
        #expect(PermitNumber.checkCharacter(forDigits: "11010519491231002") == "X")
    }

    @Test func buildsAndValidates() throws {
        let number = try PermitNumber(cityCode: "110000", year: 2024, serial: 1)
        #expect(number.value == "W1100002024000001X")
        #expect(number.description == number.value)
        #expect(try PermitNumber(validating: " w1100002024000001x ") == number)
        let shanghai = try PermitNumber(cityCode: "310115", year: 2025, serial: 123)
        #expect(shanghai.value == "W3101152025000123" + String(try #require(CodecReference.mod11_2("3101152025000123"))))
        #expect(try PermitNumber(cityCode: "440300", year: 9999, serial: 999_999).value.count == 18)
        #expect(try PermitNumber(cityCode: "440300", year: 1000, serial: 1).value.hasPrefix("W4403001000000001"))
    }

    @Test func checkCharacterRejectsNonDigits() {
        #expect(PermitNumber.checkCharacter(forDigits: "") == nil)
        #expect(PermitNumber.checkCharacter(forDigits: "110000202400000A") == nil)
        #expect(PermitNumber.checkCharacter(forDigits: "W110000202400001") == nil)
    }

    @Test(arguments: [
        "W1100002024000001",    // 17 characters
        "W1100002024000001XX",  // 19 characters
        "X1100002024000001X",   // wrong letter
        "W11000020240000A1X",   // letter among digits
        "W1100002024000001 X",  // inner space
        "W1100002024000001Y",   // check not 0-9/X
        "W11000020240000010",   // wrong check
        "W1100002024000000",    // serial zero (and short)
    ])
    func rejectsMalformed(raw: String) {
        let error = codecDomainError { _ = try PermitNumber(validating: raw) }
        #expect(error?.code == "permit_number.invalid")
        #expect(error?.kind == .malformed)
    }

    @Test func rejectsSerialZeroAndShortYearEvenWithValidCheck() throws {
        let zeroSerial = "1100002024000000"
        let zeroYear = "1100000999000001"
        for digits in [zeroSerial, zeroYear] {
            let text = "W" + digits + String(try #require(CodecReference.mod11_2(digits)))
            #expect(codecDomainError { _ = try PermitNumber(validating: text) }?.code == "permit_number.invalid")
        }
    }

    @Test func wrongCheckDetail() {
        let error = codecDomainError { _ = try PermitNumber(validating: "W11000020240000011") }
        #expect(error?.detail == "permit number check character is '1', expected 'X'")
    }

    @Test func constructorRejectsBadParts() {
        let cases: [(String, Int, Int)] = [
            ("11000", 2024, 1), ("1100000", 2024, 1), ("11000A", 2024, 1), ("１１００００", 2024, 1),
            ("110000", 999, 1), ("110000", 10000, 1),
            ("110000", 2024, 0), ("110000", 2024, 1_000_000), ("110000", 2024, -5),
        ]
        for (city, year, serial) in cases {
            let error = codecDomainError { _ = try PermitNumber(cityCode: city, year: year, serial: serial) }
            #expect(error?.code == "permit_number.invalid", "\(city) \(year) \(serial)")
        }
    }

    @Test func randomPermitNumbersRoundTrip() throws {
        var rng = SeededGenerator(seed: 0x5045_524D)
        for _ in 0..<5000 {
            let city = CodecReference.randomDigits(6, using: &rng)
            let year = Int.random(in: 1000...9999, using: &rng)
            let serial = Int.random(in: 1...999_999, using: &rng)
            let number = try PermitNumber(cityCode: city, year: year, serial: serial)
            let serialText = String(serial)
            let digits = city + String(year) + String(repeating: "0", count: 6 - serialText.count) + serialText
            let expected = "W" + digits + String(try #require(CodecReference.mod11_2(digits)))
            #expect(number.value == expected)
            #expect(try PermitNumber(validating: number.value) == number)
            #expect(try PermitNumber(validating: number.value.lowercased()) == number)
            // MOD 11-2 detects every single-digit substitution.
            var chars = Array(number.value)
            let position = Int.random(in: 1...16, using: &rng)
            let original = chars[position]
            chars[position] = CodecReference.digits.filter { $0 != original }.randomElement(using: &rng) ?? "0"
            #expect(codecDomainError { _ = try PermitNumber(validating: String(chars)) }?.code == "permit_number.invalid",
                    "\(String(chars)) should fail")
        }
    }

    @Test func codableAsPlainString() throws {
        let number = try PermitNumber(cityCode: "110000", year: 2024, serial: 1)
        let data = try JSONEncoder().encode(["permit": number])
        #expect(String(decoding: data, as: UTF8.self) == #"{"permit":"W1100002024000001X"}"#)
        #expect(try JSONDecoder().decode([String: PermitNumber].self, from: data)["permit"] == number)
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode([PermitNumber].self, from: Data(#"["W11000020240000011"]"#.utf8))
        }
    }
}

// MARK: - Card number

@Suite("CardNumber")
struct CardNumberCodecTests {
    @Test func validatesAndMasks() throws {
        let payload = "623091000000000123"
        let text = payload + String(try #require(CodecReference.luhnCheckDigit(payload)))
        let spaced = "6230 9100 0000 0001 23" + String(text.last ?? "?")
        let card = try CardNumber(validating: " " + spaced + " ")
        #expect(card.value == text)
        #expect(card.masked == "623091*********" + String(text.suffix(4)))
        #expect(card.masked.count == 19)
        #expect(card.description == card.masked)
        #expect(CardNumber.length == 19)
        // Without spaces (the bytes-only path): the same number and mask.
        #expect(try CardNumber(validating: text) == card)
        #expect(try CardNumber(validating: text).masked == card.masked)
    }

    @Test func rejections() throws {
        let payload = "623091000000000123"
        let good = payload + String(try #require(CodecReference.luhnCheckDigit(payload)))
        let badCheck = payload + String(try #require(CodecReference.digits.first { !CodecReference.luhnValid(payload + String($0)) }))
        for raw in [badCheck, String(good.dropLast()), good + "0", "4111111111111111", "62309100000000012a3", "6230-9100-0000-0000-123", ""] {
            let error = codecDomainError { _ = try CardNumber(validating: raw) }
            #expect(error?.code == "card_number.invalid", "\(raw)")
            #expect(error?.kind == .malformed)
        }
        #expect(codecDomainError { _ = try CardNumber(validating: badCheck) }?.detail.contains("Luhn") == true)
        #expect(codecDomainError { _ = try CardNumber(validating: "4111111111111111") }?.detail.contains("19") == true)
    }

    @Test func issuesFromPrefixAndSerial() throws {
        let card = try CardNumber(issuerPrefix: "623091", serial: 1)
        #expect(card.value.hasPrefix("623091000000000001"))
        #expect(card.value.count == 19)
        #expect(String(card.value.last ?? "?") == String(try #require(CodecReference.luhnCheckDigit("623091000000000001"))))
        // Widths: 6-digit prefix leaves 12 serial digits, 10-digit prefix leaves 8.
        #expect(try CardNumber(issuerPrefix: "623091", serial: 999_999_999_999).value.hasPrefix("623091999999999999"))
        #expect(try CardNumber(issuerPrefix: "6230910001", serial: 99_999_999).value.hasPrefix("623091000199999999"))
    }

    @Test func serialLimits() {
        let cases: [(String, Int64)] = [
            ("623091", 0), ("623091", -1), ("623091", 1_000_000_000_000), ("6230910001", 100_000_000), ("6230910001", .max),
        ]
        for (prefix, serial) in cases {
            #expect(codecDomainError { _ = try CardNumber(issuerPrefix: prefix, serial: serial) }?.code == "card_number.serial_exhausted",
                    "\(prefix) \(serial)")
        }
        for prefix in ["62309", "62309100012", "62309a", ""] {
            #expect(codecDomainError { _ = try CardNumber(issuerPrefix: prefix, serial: 1) }?.code == "card_number.invalid", "\(prefix)")
        }
    }

    @Test func generatedCardsAreValid() throws {
        var rng = SeededGenerator(seed: 0x0043_4152_44)
        for _ in 0..<5000 {
            let prefix = CodecReference.randomDigits(Int.random(in: 6...10, using: &rng), using: &rng)
            let width = 19 - prefix.count - 1
            var limit: Int64 = 1
            for _ in 0..<width { limit *= 10 }
            let serial = Int64.random(in: 1..<limit, using: &rng)
            let card = try CardNumber(issuerPrefix: prefix, serial: serial)
            #expect(card.value.count == 19)
            #expect(card.value.hasPrefix(prefix))
            #expect(CodecReference.luhnValid(card.value))
            #expect(Int64(card.value.dropFirst(prefix.count).dropLast()) == serial)
            #expect(try CardNumber(validating: card.value) == card)
            #expect(card.masked == String(card.value.prefix(6)) + "*********" + String(card.value.suffix(4)))
            // Any single-digit change is refused.
            var chars = Array(card.value)
            let position = Int.random(in: 0..<19, using: &rng)
            let original = chars[position]
            chars[position] = CodecReference.digits.filter { $0 != original }.randomElement(using: &rng) ?? "0"
            #expect(codecDomainError { _ = try CardNumber(validating: String(chars)) }?.code == "card_number.invalid")
        }
    }

    @Test func codableAsPlainString() throws {
        let card = try CardNumber(issuerPrefix: "623091", serial: 42)
        let data = try JSONEncoder().encode([card])
        #expect(String(decoding: data, as: UTF8.self) == "[\"\(card.value)\"]")
        #expect(try JSONDecoder().decode([CardNumber].self, from: data) == [card])
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode([CardNumber].self, from: Data(#"["4111111111111111"]"#.utf8))
        }
    }
}

// MARK: - PIN policy

@Suite("PinPolicy")
struct PinPolicyCodecTests {
    /// Weak PINs built constructively: every period-2 pattern (covers one digit repeated), every
    /// period-3 pattern, and the ten runs ascending or descending by one without wrap-around.
    static let weakWithoutBirthDate: Set<String> = {
        var weak = Set<String>()
        let d = CodecReference.digits
        for a in d { for b in d { weak.insert(String([a, b, a, b, a, b])) } }
        for a in d { for b in d { for c in d { weak.insert(String([a, b, c, a, b, c])) } } }
        for start in 0...4 {
            let run = String((start..<(start + 6)).map { d[$0] })
            weak.insert(run)
            weak.insert(String(run.reversed()))
        }
        return weak
    }()

    @Test func weakSetSize() {
        // 100 period-2 + 1000 period-3 − 10 all-same counted twice + 10 runs.
        #expect(Self.weakWithoutBirthDate.count == 1100)
        #expect(Self.weakWithoutBirthDate.contains("123456"))
        #expect(Self.weakWithoutBirthDate.contains("543210"))
        #expect(!Self.weakWithoutBirthDate.contains("890123"))
    }

    @Test(arguments: ["111111", "000000", "123456", "012345", "456789", "654321", "987654", "543210",
                      "121212", "909090", "123123", "007007", "989898"])
    func refusesWeak(pin: String) {
        let error = codecDomainError { try PinPolicy.validate(pin, dateOfBirth: nil) }
        #expect(error?.code == "pin.weak")
        #expect(error?.kind == .rule)
        #expect(error?.detail.isEmpty == false)
    }

    @Test(arguments: ["890123", "098765", "135790", "112233", "123457", "121213", "482915", "012346", "210987"])
    func acceptsOthers(pin: String) throws {
        try PinPolicy.validate(pin, dateOfBirth: nil)
    }

    @Test(arguments: ["12345", "1234567", "", "12345a", "12 456", "１２３４５６", " 48291", "482915\n", "+48291"])
    func refusesBadFormat(pin: String) {
        let error = codecDomainError { try PinPolicy.validate(pin, dateOfBirth: nil) }
        #expect(error?.code == "pin.format")
        #expect(error?.kind == .malformed)
        #expect(error?.detail == "pin must be exactly 6 digits")
    }

    @Test func refusesBirthDate() throws {
        let birth = try #require(CivilDate(year: 1990, month: 7, day: 15))
        for pin in ["900715", "071590", "150790"] {
            #expect(codecDomainError { try PinPolicy.validate(pin, dateOfBirth: birth) }?.code == "pin.weak", "\(pin)")
            try PinPolicy.validate(pin, dateOfBirth: nil)
        }
        for pin in ["199007", "901507", "079015"] {
            try PinPolicy.validate(pin, dateOfBirth: birth)
        }
        let y2k = try #require(CivilDate(year: 2005, month: 1, day: 3))
        for pin in ["050103", "010305", "030105"] {
            #expect(codecDomainError { try PinPolicy.validate(pin, dateOfBirth: y2k) }?.code == "pin.weak", "\(pin)")
        }
    }

    @Test func exhaustiveAgainstReference() {
        var mismatches: [String] = []
        for value in 0..<1_000_000 {
            let text = String(value)
            let pin = String(repeating: "0", count: 6 - text.count) + text
            let error = codecDomainError { try PinPolicy.validate(pin, dateOfBirth: nil) }
            let refused = error?.code == "pin.weak"
            if refused != Self.weakWithoutBirthDate.contains(pin) || (error != nil && !refused) {
                mismatches.append(pin)
            }
        }
        #expect(mismatches.isEmpty, "first mismatches: \(mismatches.prefix(20))")
    }

    @Test func randomBirthDates() throws {
        var rng = SeededGenerator(seed: 0x50_494E)
        for _ in 0..<2000 {
            let birth = CivilDate(daysSinceEpoch: Int.random(in: -25_000...20_000, using: &rng))
            let yy = CodecReference.twoDigits(birth.year % 100)
            let mm = CodecReference.twoDigits(birth.month)
            let dd = CodecReference.twoDigits(birth.day)
            for pin in [yy + mm + dd, mm + dd + yy, dd + mm + yy] {
                #expect(codecDomainError { try PinPolicy.validate(pin, dateOfBirth: birth) }?.code == "pin.weak", "\(pin) \(birth)")
            }
        }
    }
}
