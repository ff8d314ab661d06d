import JoinInTestSupport
import Testing
@testable import JoinInCore

/// Builds TD3 MRZs with a test-side ICAO 9303 check digit (values via base-36 parsing), independent
/// of `MachineReadableZone.checkDigit`.
enum MRZFixture {
    static let characters: [Character] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<")

    static func value(_ c: Character) -> Int {
        c == "<" ? 0 : Int(String(c), radix: 36) ?? 1_000
    }

    static func check<S: Sequence<Character>>(_ field: S) -> Character {
        let weights = [7, 3, 1]
        var total = 0
        for (index, c) in field.enumerated() {
            total += value(c) * weights[index % 3]
        }
        return CodecReference.digits[total % 10]
    }

    static func padded(_ text: String, _ length: Int) -> String {
        text + String(repeating: "<", count: max(0, length - text.count))
    }

    static func yymmdd(_ date: CivilDate) -> String {
        CodecReference.twoDigits(date.year % 100) + CodecReference.twoDigits(date.month) + CodecReference.twoDigits(date.day)
    }

    struct Fields {
        var documentCode = "P<"
        var issuingState = "GBR"
        var surname: [String] = ["SMITH"]
        var givenNames: [String] = ["JOHN"]
        var number = "533401372"
        var nationality = "GBR"
        var birth = "850315"
        var sex: Character = "M"
        var expiry = "300101"
        var personal = ""
        /// With an empty personal number, write its check digit as '<' instead of '0'.
        var fillerPersonalCheck = true

        var line1: String {
            var name = surname.joined(separator: "<")
            if !givenNames.isEmpty { name += "<<" + givenNames.joined(separator: "<") }
            return documentCode + issuingState + MRZFixture.padded(name, 39)
        }

        var line2: String {
            let numberField = MRZFixture.padded(number, 9)
            let personalField = MRZFixture.padded(personal, 14)
            let personalCheck: Character = personal.isEmpty && fillerPersonalCheck ? "<" : MRZFixture.check(personalField)
            let body = numberField + String(MRZFixture.check(numberField)) + nationality
                + birth + String(MRZFixture.check(birth)) + String(sex)
                + expiry + String(MRZFixture.check(expiry)) + personalField + String(personalCheck)
            let chars = Array(body)
            let composite = Array(chars[0..<10]) + Array(chars[13..<20]) + Array(chars[21..<43])
            return body + String(MRZFixture.check(composite))
        }

        var text: String { line1 + "\n" + line2 }
    }
}

@Suite("MachineReadableZone")
struct MachineReadableZoneCodecTests {
    static let specimenLine1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
    static let specimenLine2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"

    static func today() throws -> CivilDate {
        try #require(CivilDate(year: 2025, month: 6, day: 15))
    }

    static func parseError(_ text: String, today: CivilDate) -> DomainError? {
        codecDomainError { _ = try MachineReadableZone.parse(text, today: today) }
    }

    // MARK: ICAO specimen

    @Test func specimenCheckDigitsFromICAO() {
        #expect(Self.specimenLine1.count == 44)
        #expect(Self.specimenLine2.count == 44)
        // Check digits printed in the ICAO 9303 specimen.
        #expect(MachineReadableZone.checkDigit("L898902C3") == 6)
        #expect(MachineReadableZone.checkDigit("740812") == 2)
        #expect(MachineReadableZone.checkDigit("120415") == 9)
        #expect(MachineReadableZone.checkDigit("ZE184226B<<<<<") == 1)
        #expect(MachineReadableZone.checkDigit("L898902C36" + "7408122" + "1204159ZE184226B<<<<<1") == 0)
        // The test-side helper agrees.
        #expect(MRZFixture.check("L898902C3") == "6")
        #expect(MRZFixture.check("L898902C36" + "7408122" + "1204159ZE184226B<<<<<1") == "0")
    }

    @Test func checkDigitRejectsOtherCharacters() {
        #expect(MachineReadableZone.checkDigit("") == 0)
        #expect(MachineReadableZone.checkDigit("<<<") == 0)
        #expect(MachineReadableZone.checkDigit("ab1") == nil)
        #expect(MachineReadableZone.checkDigit("A-1") == nil)
        #expect(MachineReadableZone.checkDigit("A 1") == nil)
        #expect(MachineReadableZone.checkDigit("Ä") == nil)
    }

    @Test func specimenUtopiaIsNotAnISOCountry() throws {
        let error = Self.parseError(Self.specimenLine1 + "\n" + Self.specimenLine2, today: try Self.today())
        #expect(error?.code == "mrz.nationality")
        #expect(error?.kind == .malformed)
        #expect(error?.detail.contains("UTO") == true)
    }

    @Test func specimenWithRealNationalityParses() throws {
        // Nationality and issuing state are not covered by any check digit, so the specimen's digits stay valid.
        let line1 = Self.specimenLine1.replacingFirst("UTO", with: "SWE")
        let line2 = Self.specimenLine2.replacingFirst("UTO", with: "SWE")
        for text in [line1 + "\n" + line2, "  " + line1 + "\r\n" + line2 + "\r\n", "\n" + line1 + "  \n  " + line2 + "\t"] {
            let mrz = try MachineReadableZone.parse(text, today: try Self.today())
            #expect(mrz.documentCode == "P")
            #expect(mrz.issuingState == "SWE")
            #expect(mrz.surname == "ERIKSSON")
            #expect(mrz.givenNames == "ANNA MARIA")
            #expect(mrz.passportNumber == "L898902C3")
            #expect(mrz.nationality.alpha3 == "SWE")
            #expect(mrz.dateOfBirth == CivilDate(year: 1974, month: 8, day: 12))
            #expect(mrz.sex == .female)
            #expect(mrz.expiryDate == CivilDate(year: 2012, month: 4, day: 15))
            #expect(mrz.personalNumber == "ZE184226B")
        }
    }

    // MARK: Real nationalities

    static let britishFields = MRZFixture.Fields(
        documentCode: "P<", issuingState: "GBR", surname: ["SMITH"], givenNames: ["JOHN", "PAUL"], number: "533401372",
        nationality: "GBR", birth: "850315", sex: "M", expiry: "300101", personal: "", fillerPersonalCheck: true)
    static let germanFields = MRZFixture.Fields(
        documentCode: "P<", issuingState: "D<<", surname: ["MUSTERMANN"], givenNames: ["ERIKA"], number: "C01X00T47",
        nationality: "D<<", birth: "640812", sex: "F", expiry: "310801", personal: "", fillerPersonalCheck: false)
    static let americanFields = MRZFixture.Fields(
        documentCode: "PO", issuingState: "USA", surname: ["VAN", "DER", "BERG"], givenNames: ["MARY", "ANN", "LOU"],
        number: "A1234567", nationality: "USA", birth: "000229", sex: "<", expiry: "350228",
        personal: "123456789ABCDE", fillerPersonalCheck: false)

    @Test func britishPassport() throws {
        let fields = Self.britishFields
        #expect(fields.line1.count == 44 && fields.line2.count == 44)
        let mrz = try MachineReadableZone.parse(fields.text, today: try Self.today())
        #expect(mrz.documentCode == "P")
        #expect(mrz.issuingState == "GBR")
        #expect(mrz.surname == "SMITH")
        #expect(mrz.givenNames == "JOHN PAUL")
        #expect(mrz.passportNumber == "533401372")
        #expect(mrz.nationality == (try CountryCode(validating: "GBR")))
        #expect(mrz.dateOfBirth == CivilDate(year: 1985, month: 3, day: 15))
        #expect(mrz.sex == .male)
        #expect(mrz.expiryDate == CivilDate(year: 2030, month: 1, day: 1))
        #expect(mrz.personalNumber == "")
    }

    @Test func germanPassportUsesD() throws {
        let fields = Self.germanFields
        #expect(fields.line1.hasPrefix("P<D<<MUSTERMANN<<ERIKA<"))
        #expect(fields.line2.hasPrefix("C01X00T47") && Array(fields.line2)[10...12] == ["D", "<", "<"])
        let mrz = try MachineReadableZone.parse(fields.text, today: try Self.today())
        #expect(mrz.documentCode == "P")
        #expect(mrz.issuingState == "D")
        #expect(mrz.surname == "MUSTERMANN")
        #expect(mrz.givenNames == "ERIKA")
        #expect(mrz.passportNumber == "C01X00T47")
        #expect(mrz.nationality.alpha3 == "DEU")
        #expect(mrz.dateOfBirth == CivilDate(year: 1964, month: 8, day: 12))
        #expect(mrz.sex == .female)
        #expect(mrz.expiryDate == CivilDate(year: 2031, month: 8, day: 1))
        #expect(mrz.personalNumber == "")
    }

    @Test func americanPassport() throws {
        let fields = Self.americanFields
        let mrz = try MachineReadableZone.parse(fields.text, today: try Self.today())
        #expect(mrz.documentCode == "PO")
        #expect(mrz.issuingState == "USA")
        #expect(mrz.surname == "VAN DER BERG")
        #expect(mrz.givenNames == "MARY ANN LOU")
        #expect(mrz.passportNumber == "A1234567")
        #expect(mrz.nationality.alpha3 == "USA")
        #expect(mrz.dateOfBirth == CivilDate(year: 2000, month: 2, day: 29))
        #expect(mrz.sex == .unspecified)
        #expect(mrz.expiryDate == CivilDate(year: 2035, month: 2, day: 28))
        #expect(mrz.personalNumber == "123456789ABCDE")
    }

    @Test func sexValues() throws {
        var fields = Self.britishFields
        for (raw, sex) in [("F", Sex.female), ("M", .male), ("<", .unspecified), ("X", .unspecified)] {
            fields.sex = Character(raw)
            #expect(try MachineReadableZone.parse(fields.text, today: try Self.today()).sex == sex)
        }
        #expect(Sex.allCases.map(\.rawValue) == ["F", "M", "X"])
    }

    @Test func surnameOnly() throws {
        var fields = Self.britishFields
        fields.givenNames = []
        let mrz = try MachineReadableZone.parse(fields.text, today: try Self.today())
        #expect(mrz.surname == "SMITH")
        #expect(mrz.givenNames == "")
    }

    // MARK: Check digits

    /// Line-2 fields with their check position and the name the error detail must use.
    static let checkedFields: [(range: Range<Int>, check: Int, name: String)] = [
        (0..<9, 9, "passport number"),
        (13..<19, 19, "date of birth"),
        (21..<27, 27, "expiry date"),
        (28..<42, 42, "personal number"),
    ]

    /// Every single-character change that a 7-3-1 check digit can detect (value difference not a
    /// multiple of 10) in each checked field, and every change of a check digit, is refused with the
    /// right field named.
    static func expectAllDetectableMutationsRejected(_ fields: MRZFixture.Fields, today: CivilDate) {
        let line1 = fields.line1
        let original = Array(fields.line2)
        func expectRejected(_ chars: [Character], name: String, note: String) {
            let error = parseError(line1 + "\n" + String(chars), today: today)
            if error?.code != "mrz.check_digit" || error?.detail.contains("mrz \(name) check digit") != true {
                Issue.record("\(note): \(String(chars)) gave \(String(describing: error))")
            }
        }
        for field in checkedFields {
            for position in field.range {
                for replacement in MRZFixture.characters
                where (MRZFixture.value(replacement) - MRZFixture.value(original[position])) % 10 != 0 {
                    var chars = original
                    chars[position] = replacement
                    expectRejected(chars, name: field.name, note: "position \(position + 1) → \(replacement)")
                }
            }
            let fillerField = original[field.range].allSatisfy { $0 == "<" }
            for replacement in MRZFixture.characters where replacement != original[field.check] {
                // An unused personal number may carry '<' or '0' as its check digit.
                if field.name == "personal number", fillerField, Set([replacement, original[field.check]]) == Set(["<", "0"]) {
                    continue
                }
                var chars = original
                chars[field.check] = replacement
                expectRejected(chars, name: field.name, note: "check position \(field.check + 1) → \(replacement)")
            }
        }
        for replacement in MRZFixture.characters where replacement != original[43] {
            var chars = original
            chars[43] = replacement
            expectRejected(chars, name: "composite", note: "composite → \(replacement)")
        }
    }

    @Test func singleChangesRejectedForFixtures() throws {
        for fields in [Self.britishFields, Self.germanFields, Self.americanFields] {
            #expect(throws: Never.self) { _ = try MachineReadableZone.parse(fields.text, today: try Self.today()) }
            Self.expectAllDetectableMutationsRejected(fields, today: try Self.today())
        }
    }

    @Test func specimenMutationsRejectedBeforeNationality() throws {
        // The specimen's check digits are valid, so mutations must fail on check digits first.
        var chars = Array(Self.specimenLine2)
        chars[0] = "M" // L(21) → M(22)
        let error = Self.parseError(Self.specimenLine1 + "\n" + String(chars), today: try Self.today())
        #expect(error?.code == "mrz.check_digit")
        #expect(error?.detail == "mrz passport number check digit is '6', expected '3'")
    }

    @Test func compositeCatchesConsistentFieldChange() throws {
        // Change the passport number and fix its own check digit: only the composite check can notice.
        var fields = Self.britishFields
        let line2 = fields.line2
        fields.number = "533401373"
        var chars = Array(fields.line2)
        chars[43] = Array(line2)[43]
        #expect(chars[43] != Array(fields.line2)[43]) // the composite really differs
        let error = Self.parseError(fields.line1 + "\n" + String(chars), today: try Self.today())
        #expect(error?.code == "mrz.check_digit")
        #expect(error?.detail.contains("composite") == true)
    }

    @Test func personalNumberFillerCheck() throws {
        var fields = Self.britishFields
        fields.fillerPersonalCheck = true
        #expect(Array(fields.line2)[42] == "<")
        #expect(try MachineReadableZone.parse(fields.text, today: try Self.today()).personalNumber == "")
        fields.fillerPersonalCheck = false
        #expect(Array(fields.line2)[42] == "0")
        #expect(try MachineReadableZone.parse(fields.text, today: try Self.today()).personalNumber == "")
        // '<' as check digit is refused once the field is used.
        fields.personal = "AB12"
        var chars = Array(fields.line2)
        chars[42] = "<"
        let error = Self.parseError(fields.line1 + "\n" + String(chars), today: try Self.today())
        #expect(error?.code == "mrz.check_digit")
        #expect(error?.detail.contains("personal number") == true)
    }

    @Test func valueDifferenceOfTenIsInvisibleToICAOCheckDigits() throws {
        // Documents the ICAO 7-3-1 scheme: '5' (5) and 'F' (15) are indistinguishable to the check digit.
        var fields = Self.britishFields
        let text = fields.text
        fields.number = "F33401372"
        #expect(fields.line2 == "F" + text.split(separator: "\n")[1].dropFirst())
        #expect(try MachineReadableZone.parse(fields.text, today: try Self.today()).passportNumber == "F33401372")
    }

    // MARK: Format, dates, nationality

    @Test func formatErrors() throws {
        let today = try Self.today()
        let good = Self.britishFields
        let line1 = good.line1, line2 = good.line2
        let cases: [(String, String)] = [
            ("", "2 lines"),
            (line1, "2 lines"),
            (line1 + "\n" + line2 + "\n" + line2, "2 lines"),
            (line1 + "\n\n" + line2, "2 lines"),
            (String(line1.dropLast()) + "\n" + line2, "line 1 must be 44 characters, got 43"),
            (line1 + "\n" + line2 + "<", "line 2 must be 44 characters, got 45"),
            (line1 + "\n" + line2.lowercased(), "line 2 position 11"),
            (line1 + "\n" + String(line2.prefix(4)) + " " + String(line2.dropFirst(5)), "line 2 position 5"),
            (line1.replacingFirst("SMITH", with: "SMÏTH") + "\n" + line2, "line 1 position 8"),
            ("I" + line1.dropFirst() + "\n" + line2, "line 1 position 1"),
            ("V" + line1.dropFirst() + "\n" + line2, "line 1 position 1"),
            (line1.replacingFirst("SMITH", with: "SM1TH") + "\n" + line2, "line 1 position 8"),
            (line1.replacingFirst("GBR", with: "GB1") + "\n" + line2, "line 1 position 5"),
        ]
        for (text, fragment) in cases {
            let error = Self.parseError(text, today: today)
            #expect(error?.code == "mrz.format", "\(text)")
            #expect(error?.detail.contains(fragment) == true, "\(String(describing: error)) should mention \(fragment)")
        }
    }

    @Test func formatErrorsInFields() throws {
        let today = try Self.today()
        var badSex = Self.britishFields
        badSex.sex = "Q"
        #expect(Self.parseError(badSex.text, today: today)?.detail.contains("position 21") == true)

        var noNumber = Self.britishFields
        noNumber.number = ""
        #expect(Self.parseError(noNumber.text, today: today)?.code == "mrz.format")

        var noSurname = Self.britishFields
        noSurname.surname = []
        #expect(noSurname.line1.hasPrefix("P<GBR<<JOHN"))
        #expect(Self.parseError(noSurname.text, today: today)?.code == "mrz.format")
    }

    @Test func impossibleDates() throws {
        let today = try Self.today()
        var fields = Self.britishFields
        fields.birth = "740231"
        var error = Self.parseError(fields.text, today: today)
        #expect(error?.code == "mrz.date")
        #expect(error?.detail.contains("date of birth") == true)

        fields = Self.britishFields
        fields.expiry = "121301"
        error = Self.parseError(fields.text, today: today)
        #expect(error?.code == "mrz.date")
        #expect(error?.detail.contains("expiry date") == true)

        fields = Self.britishFields
        fields.birth = "74<812" // '<' counts as 0 in the check digit, so only the date rule catches it
        error = Self.parseError(fields.text, today: today)
        #expect(error?.code == "mrz.date")

        fields = Self.britishFields
        fields.expiry = "3001AA"
        #expect(Self.parseError(fields.text, today: today)?.code == "mrz.date")

        // An unknown birth date written as fillers still needs a real check digit ('0'); only the
        // personal number may use '<' as its check digit.
        fields = Self.britishFields
        fields.birth = "<<<<<<"
        #expect(Array(fields.line2)[19] == "0")
        #expect(Self.parseError(fields.text, today: today)?.code == "mrz.date")
        var chars = Array(fields.line2)
        chars[19] = "<"
        error = Self.parseError(fields.line1 + "\n" + String(chars), today: today)
        #expect(error?.code == "mrz.check_digit")
        #expect(error?.detail == "mrz date of birth check digit is '<', expected '0'")
    }

    @Test(arguments: [
        // (today, YYMMDD birth, expected birth date)
        ("2025-06-15", "250101", "2025-01-01"),
        ("2025-06-15", "251231", "2025-12-31"), // latest year ≤ 2025 ending in 25
        ("2025-06-15", "260101", "1926-01-01"),
        ("2025-06-15", "991231", "1999-12-31"),
        ("2025-06-15", "000229", "2000-02-29"),
        ("2000-01-01", "000101", "2000-01-01"),
        ("2000-01-01", "010101", "1901-01-01"),
        ("2099-12-31", "000229", "2000-02-29"),
        ("2101-01-01", "990101", "2099-01-01"),
    ])
    func birthYearResolution(example: (today: String, birth: String, expected: String)) throws {
        let (today, birth, expected) = example
        var fields = Self.britishFields
        fields.birth = birth
        let mrz = try MachineReadableZone.parse(fields.text, today: try #require(CivilDate(today)))
        #expect(mrz.dateOfBirth == CivilDate(expected))
    }

    @Test func birthYearResolutionCanHitNonLeapCentury() throws {
        var fields = Self.britishFields
        fields.birth = "000229" // resolves to 2100-02-29, which does not exist
        let error = Self.parseError(fields.text, today: try #require(CivilDate(year: 2101, month: 1, day: 1)))
        #expect(error?.code == "mrz.date")
    }

    @Test(arguments: [("000101", "2000-01-01"), ("991231", "2099-12-31"), ("480229", "2048-02-29")])
    func expiryIsTwentyYY(expiry: String, expected: String) throws {
        var fields = Self.britishFields
        fields.expiry = expiry
        let today = try #require(CivilDate(year: 2090, month: 1, day: 1))
        #expect(try MachineReadableZone.parse(fields.text, today: today).expiryDate == CivilDate(expected))
    }

    @Test(arguments: ["UTO", "XXA", "XXX", "GBD", "UNO", "<<<", "DE<"])
    func unknownNationality(code: String) throws {
        var fields = Self.britishFields
        fields.nationality = code
        let error = Self.parseError(fields.text, today: try Self.today())
        #expect(error?.code == "mrz.nationality")
    }

    // MARK: Property tests

    static func randomFields(using rng: inout SeededGenerator, today: CivilDate)
        -> (fields: MRZFixture.Fields, birth: CivilDate, expiry: CivilDate, nationality: String) {
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        let alphanumerics = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        func word(_ range: ClosedRange<Int>, from pool: [Character]) -> String {
            String((0..<Int.random(in: range, using: &rng)).map { _ in pool[Int.random(in: 0..<pool.count, using: &rng)] })
        }
        let countries = CountryCode.all.sorted()
        func mrzCountry() -> (field: String, alpha3: String) {
            let alpha3 = countries[Int.random(in: 0..<countries.count, using: &rng)]
            return (alpha3 == "DEU" && Bool.random(using: &rng) ? "D<<" : alpha3, alpha3)
        }
        var fields = MRZFixture.Fields()
        fields.documentCode = ["P<", "PO", "PD", "PS"][Int.random(in: 0...3, using: &rng)]
        fields.issuingState = mrzCountry().field
        fields.surname = (0..<Int.random(in: 1...3, using: &rng)).map { _ in word(1...8, from: letters) }
        fields.givenNames = (0..<Int.random(in: 0...3, using: &rng)).map { _ in word(1...8, from: letters) }
        while fields.surname.joined(separator: "<").count + 2 + fields.givenNames.joined(separator: "<").count > 39 {
            fields.givenNames.removeLast()
        }
        fields.number = word(5...9, from: alphanumerics)
        let nationality = mrzCountry()
        fields.nationality = nationality.field
        let earliest = CivilDate(year: today.year - 99, month: 1, day: 1)?.daysSinceEpoch ?? 0
        let birth = CivilDate(daysSinceEpoch: Int.random(in: earliest...today.daysSinceEpoch, using: &rng))
        fields.birth = MRZFixture.yymmdd(birth)
        fields.sex = ["F", "M", "<"][Int.random(in: 0...2, using: &rng)]
        let expiryLow = CivilDate(year: 2000, month: 1, day: 1)?.daysSinceEpoch ?? 0
        let expiryHigh = CivilDate(year: 2099, month: 12, day: 31)?.daysSinceEpoch ?? 0
        let expiry = CivilDate(daysSinceEpoch: Int.random(in: expiryLow...expiryHigh, using: &rng))
        fields.expiry = MRZFixture.yymmdd(expiry)
        fields.personal = Bool.random(using: &rng) ? "" : word(1...14, from: alphanumerics)
        fields.fillerPersonalCheck = Bool.random(using: &rng)
        return (fields, birth, expiry, nationality.alpha3)
    }

    @Test func randomMRZRoundTrips() throws {
        var rng = SeededGenerator(seed: 0x0049_4341_4F)
        for _ in 0..<3000 {
            let today = try #require(CivilDate(year: Int.random(in: 2000...2090, using: &rng),
                                               month: Int.random(in: 1...12, using: &rng),
                                               day: Int.random(in: 1...28, using: &rng)))
            let (fields, birth, expiry, nationality) = Self.randomFields(using: &rng, today: today)
            let separator = Bool.random(using: &rng) ? "\n" : "\r\n"
            let text = (Bool.random(using: &rng) ? " \n" : "") + fields.line1 + separator + fields.line2 + (Bool.random(using: &rng) ? "\n " : "")
            let mrz: MachineReadableZone
            do {
                mrz = try MachineReadableZone.parse(text, today: today)
            } catch {
                Issue.record("\(text) failed: \(error)")
                continue
            }
            #expect(mrz.documentCode == fields.documentCode.filter { $0 != "<" })
            #expect(mrz.issuingState == fields.issuingState.filter { $0 != "<" })
            #expect(mrz.surname == fields.surname.joined(separator: " "))
            #expect(mrz.givenNames == fields.givenNames.joined(separator: " "))
            #expect(mrz.passportNumber == fields.number)
            #expect(mrz.nationality.alpha3 == nationality)
            #expect(mrz.dateOfBirth == birth)
            #expect(mrz.sex == (fields.sex == "F" ? .female : fields.sex == "M" ? .male : .unspecified))
            #expect(mrz.expiryDate == expiry)
            #expect(mrz.personalNumber == fields.personal)
        }
    }

    @Test func randomMRZSingleChangesRejected() throws {
        var rng = SeededGenerator(seed: 0x004D_5554)
        let today = try Self.today()
        for _ in 0..<1000 {
            let fields = Self.randomFields(using: &rng, today: today).fields
            var chars = Array(fields.line2)
            let field = Self.checkedFields[Int.random(in: 0..<Self.checkedFields.count, using: &rng)]
            let position = Int.random(in: field.range, using: &rng)
            let original = chars[position]
            let candidates = MRZFixture.characters.filter { (MRZFixture.value($0) - MRZFixture.value(original)) % 10 != 0 }
            chars[position] = candidates.randomElement(using: &rng) ?? "<"
            let error = Self.parseError(fields.line1 + "\n" + String(chars), today: today)
            #expect(error?.code == "mrz.check_digit")
            #expect(error?.detail.contains("mrz \(field.name) check digit") == true, "\(String(describing: error))")
        }
        // A few exhaustive runs on random fixtures as well.
        for _ in 0..<5 {
            Self.expectAllDetectableMutationsRejected(Self.randomFields(using: &rng, today: today).fields, today: today)
        }
    }
}

extension String {
    /// Test helper: replaces the first occurrence of `target`.
    fileprivate func replacingFirst(_ target: String, with replacement: String) -> String {
        guard let range = firstRange(of: target) else { return self }
        var copy = self
        copy.replaceSubrange(range, with: replacement)
        return copy
    }
}
