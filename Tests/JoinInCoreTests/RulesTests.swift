import Foundation
import Testing
@testable import JoinInCore

// Example-based tests for the domain rules: CivilDate, PermitRules, CardRules, staff identity
// policies, the audit hash chain and the city CSV import. Expected values are written by hand
// (or computed by the small test-side references in `RulesCalendar`), never by the code under test.
// Property tests for the same rules live in PropertyTests.swift.

// MARK: - Test support (shared with PropertyTests.swift)

/// Runs `body` and returns the `DomainError` it throws; nil when it throws nothing or something else.
func rulesDomainError(_ body: () throws -> Void) -> DomainError? {
    do {
        try body()
        return nil
    } catch let error as DomainError {
        return error
    } catch {
        return nil
    }
}

/// Expects `body` to throw a `DomainError` of `kind` and `code` whose detail mentions every fragment.
/// `subject` names the input in failure messages when the call sits in a loop.
func rulesExpectError(_ kind: DomainError.Kind, _ code: String, mentioning fragments: [String] = [], about subject: String = "",
                      sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    guard let error = rulesDomainError(body) else {
        Issue.record("\(subject.debugDescription): expected DomainError \(code), but nothing (or another error type) was thrown",
                     sourceLocation: sourceLocation)
        return
    }
    #expect(error.code == code, "\(subject.debugDescription): \(error)", sourceLocation: sourceLocation)
    #expect(error.kind == kind, "\(subject.debugDescription): \(error)", sourceLocation: sourceLocation)
    for fragment in fragments {
        #expect(error.detail.contains(fragment), "detail '\(error.detail)' should mention '\(fragment)'", sourceLocation: sourceLocation)
    }
}

/// A date from a `YYYY-MM-DD` literal; records an issue (and returns 1970-01-01) when the literal is not a date.
func rulesDate(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> CivilDate {
    guard let date = CivilDate(text) else {
        Issue.record("test literal '\(text)' is not a date", sourceLocation: sourceLocation)
        return CivilDate(daysSinceEpoch: 0)
    }
    return date
}

/// Components of a date, for comparing with the test-side reference.
func rulesParts(_ date: CivilDate) -> RulesCalendar.Parts {
    RulesCalendar.Parts(year: date.year, month: date.month, day: date.day)
}

/// A test-side proleptic Gregorian calendar, written differently from `CivilDate` (counting whole
/// years with floor division and walking month lengths) to compute expected values.
enum RulesCalendar {
    struct Parts: Equatable, CustomStringConvertible {
        var year: Int
        var month: Int
        var day: Int
        var description: String { "\(year)-\(month)-\(day)" }
    }

    static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    static func leap(_ year: Int) -> Bool {
        if year % 400 == 0 { return true }
        if year % 100 == 0 { return false }
        return year % 4 == 0
    }

    static func monthLength(_ month: Int, _ year: Int) -> Int {
        [31, leap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    }

    /// Days from 1970-01-01: whole years since 0001-01-01 (floor division keeps it right before year 1),
    /// then whole months, then days; 719 162 days separate 0001-01-01 and 1970-01-01.
    static func days(_ p: Parts) -> Int {
        let y = p.year - 1
        var total = 365 * y + floorDiv(y, 4) - floorDiv(y, 100) + floorDiv(y, 400)
        for month in 1..<p.month { total += monthLength(month, p.year) }
        return total + p.day - 1 - 719_162
    }

    static func days(_ date: CivilDate) -> Int { days(rulesParts(date)) }

    static func parts(_ days: Int) -> Parts {
        var year = 1970 + floorDiv(days, 365)
        while Self.days(Parts(year: year, month: 1, day: 1)) > days { year -= 1 }
        while Self.days(Parts(year: year + 1, month: 1, day: 1)) <= days { year += 1 }
        var rest = days - Self.days(Parts(year: year, month: 1, day: 1))
        var month = 1
        while rest >= monthLength(month, year) {
            rest -= monthLength(month, year)
            month += 1
        }
        return Parts(year: year, month: month, day: rest + 1)
    }

    static func next(_ p: Parts) -> Parts {
        if p.day < monthLength(p.month, p.year) { return Parts(year: p.year, month: p.month, day: p.day + 1) }
        if p.month < 12 { return Parts(year: p.year, month: p.month + 1, day: 1) }
        return Parts(year: p.year + 1, month: 1, day: 1)
    }

    /// Same month and day `n` years later; 29 February becomes 28 February in a common year.
    static func addingYears(_ p: Parts, _ n: Int) -> Parts {
        let year = p.year + n
        return Parts(year: year, month: p.month, day: min(p.day, monthLength(p.month, year)))
    }

    /// Same day `n` months later, clamped to the end of the month.
    static func addingMonths(_ p: Parts, _ n: Int) -> Parts {
        var year = p.year, month = p.month
        var left = n
        while left > 0 { month += 1; if month == 13 { month = 1; year += 1 }; left -= 1 }
        while left < 0 { month -= 1; if month == 0 { month = 12; year -= 1 }; left += 1 }
        return Parts(year: year, month: month, day: min(p.day, monthLength(month, year)))
    }
}

// MARK: - CivilDate

@Suite("CivilDate rules")
struct CivilDateRulesTests {
    @Test func parsesValidDates() throws {
        let date = try #require(CivilDate("2024-02-29"))
        #expect(date.year == 2024 && date.month == 2 && date.day == 29)
        let first = try #require(CivilDate("0001-01-01"))
        #expect(first.year == 1 && first.month == 1 && first.day == 1)
        let last = try #require(CivilDate("9999-12-31"))
        #expect(last.year == 9999 && last.month == 12 && last.day == 31)
        #expect(CivilDate("2025-12-31") == CivilDate(year: 2025, month: 12, day: 31))
        #expect(try CivilDate.parse("2026-06-15", field: "today") == CivilDate(year: 2026, month: 6, day: 15))
    }

    @Test(arguments: [
        "2025-02-29", // not a leap year
        "1900-02-29", // century, not a leap year
        "2024-13-01", "2024-00-10", "2024-04-31", "2024-01-00", "2024-01-32", "0000-01-01",
        "2024-1-01", "2024-01-1", "24-01-01", "02024-01-01",
        "２０２４-01-01", // full-width digits
        "2024-01-01x", "x2024-01-01", " 2024-01-01", "2024-01-01 ", "2024/01/01", "2024-01-01-01",
        "+024-01-01", "-024-01-01", "2024--1-01", "", "2024-01-", "20240101", "2024-٠١-01", // Arabic-Indic digits
        "2024-01-0\u{301}1", // a digit with a combining mark
    ])
    func refusesInvalidText(text: String) {
        #expect(CivilDate(text) == nil)
        rulesExpectError(.malformed, "date.invalid", mentioning: ["start_date"]) {
            _ = try CivilDate.parse(text, field: "start_date")
        }
    }

    @Test func componentInitRefusesImpossibleDays() {
        #expect(CivilDate(year: 2023, month: 2, day: 29) == nil)
        #expect(CivilDate(year: 2024, month: 2, day: 29) != nil)
        #expect(CivilDate(year: 2024, month: 6, day: 31) == nil)
        #expect(CivilDate(year: 0, month: 1, day: 1) == nil)
        #expect(CivilDate(year: 10_000, month: 1, day: 1) == nil)
        #expect(CivilDate(year: 2024, month: 0, day: 1) == nil)
        #expect(CivilDate(year: 2024, month: 1, day: -1) == nil)
    }

    @Test func descriptionIsZeroPadded() throws {
        #expect(try #require(CivilDate(year: 5, month: 3, day: 7)).description == "0005-03-07")
        #expect(try #require(CivilDate(year: 42, month: 11, day: 9)).description == "0042-11-09")
        #expect(try #require(CivilDate(year: 999, month: 1, day: 10)).description == "0999-01-10")
        #expect(try #require(CivilDate(year: 2024, month: 12, day: 31)).description == "2024-12-31")
        #expect(CivilDate(daysSinceEpoch: 0).description == "1970-01-01")
        #expect("\(rulesDate("2026-01-05"))" == "2026-01-05")
    }

    @Test func leapYears() {
        #expect(CivilDate.isLeap(1900) == false)
        #expect(CivilDate.isLeap(2000) == true)
        #expect(CivilDate.isLeap(2024) == true)
        #expect(CivilDate.isLeap(2023) == false)
        #expect(CivilDate.isLeap(2100) == false)
        #expect(CivilDate.isLeap(2400) == true)
        #expect(CivilDate.daysIn(month: 2, year: 1900) == 28)
        #expect(CivilDate.daysIn(month: 2, year: 2000) == 29)
        #expect([1, 3, 5, 7, 8, 10, 12].allSatisfy { CivilDate.daysIn(month: $0, year: 2025) == 31 })
        #expect([4, 6, 9, 11].allSatisfy { CivilDate.daysIn(month: $0, year: 2025) == 30 })
    }

    @Test func daysSinceEpochKnownValues() {
        #expect(rulesDate("1970-01-01").daysSinceEpoch == 0)
        #expect(rulesDate("1970-01-02").daysSinceEpoch == 1)
        #expect(rulesDate("1969-12-31").daysSinceEpoch == -1)
        #expect(rulesDate("2000-01-01").daysSinceEpoch == 10_957)
        #expect(rulesDate("2000-03-01").daysSinceEpoch == 11_017)
        #expect(rulesDate("1900-03-01").daysSinceEpoch == -25_508)
        #expect(rulesDate("0001-01-01").daysSinceEpoch == -719_162)
        #expect(rulesDate("9999-12-31").daysSinceEpoch == 2_932_896)
        #expect(CivilDate(daysSinceEpoch: 11_017) == rulesDate("2000-03-01"))
        #expect(CivilDate(daysSinceEpoch: -1) == rulesDate("1969-12-31"))
        #expect(CivilDate(daysSinceEpoch: -719_162) == rulesDate("0001-01-01"))
        #expect(rulesDate("2024-03-01").adding(days: -1) == rulesDate("2024-02-29"))
        #expect(rulesDate("2023-12-31").adding(days: 1) == rulesDate("2024-01-01"))
    }

    @Test func ordering() {
        #expect(rulesDate("2024-01-31") < rulesDate("2024-02-01"))
        #expect(rulesDate("2023-12-31") < rulesDate("2024-01-01"))
        #expect(!(rulesDate("2024-01-01") < rulesDate("2024-01-01")))
        #expect(max(rulesDate("2024-05-01"), rulesDate("2024-04-30")) == rulesDate("2024-05-01"))
    }

    @Test func addingYearsOnLeapDay() {
        let leapDay = rulesDate("2024-02-29")
        #expect(leapDay.adding(years: 1) == rulesDate("2025-02-28"))
        #expect(leapDay.adding(years: 4) == rulesDate("2028-02-29"))
        #expect(leapDay.adding(years: -4) == rulesDate("2020-02-29"))
        #expect(leapDay.adding(years: -1) == rulesDate("2023-02-28"))
        #expect(leapDay.adding(years: 0) == leapDay)
        #expect(rulesDate("2096-02-29").adding(years: 4) == rulesDate("2100-02-28"))
        #expect(rulesDate("2025-06-15").adding(years: 5) == rulesDate("2030-06-15"))
    }

    @Test func addingMonthsClamps() {
        #expect(rulesDate("2023-01-31").adding(months: 1) == rulesDate("2023-02-28"))
        #expect(rulesDate("2024-01-31").adding(months: 1) == rulesDate("2024-02-29"))
        #expect(rulesDate("2024-03-31").adding(months: 1) == rulesDate("2024-04-30"))
        #expect(rulesDate("2024-03-31").adding(months: -1) == rulesDate("2024-02-29"))
        #expect(rulesDate("2024-12-15").adding(months: 1) == rulesDate("2025-01-15"))
        #expect(rulesDate("2024-01-15").adding(months: -1) == rulesDate("2023-12-15"))
        #expect(rulesDate("2024-02-29").adding(months: 12) == rulesDate("2025-02-28"))
        #expect(rulesDate("2024-08-31").adding(months: 18) == rulesDate("2026-02-28"))
        #expect(rulesDate("2024-05-10").adding(months: -25) == rulesDate("2022-04-10"))
        #expect(rulesDate("2024-05-10").adding(months: 0) == rulesDate("2024-05-10"))
    }

    @Test func wholeYears() {
        let birth = rulesDate("1990-06-15")
        #expect(birth.wholeYears(until: rulesDate("2026-06-14")) == 35)
        #expect(birth.wholeYears(until: rulesDate("2026-06-15")) == 36)
        #expect(birth.wholeYears(until: rulesDate("2026-12-31")) == 36)
        #expect(birth.wholeYears(until: birth) == 0)
        #expect(birth.wholeYears(until: rulesDate("1991-06-14")) == 0)
        // Born on 29 February: the birthday counts as reached on 1 March in a common year.
        let leap = rulesDate("2000-02-29")
        #expect(leap.wholeYears(until: rulesDate("2001-02-28")) == 0)
        #expect(leap.wholeYears(until: rulesDate("2001-03-01")) == 1)
        #expect(leap.wholeYears(until: rulesDate("2004-02-29")) == 4)
    }

    @Test func shanghaiDates() {
        // 2026-12-01T15:59:59Z = 1 796 140 799 s (computed independently); Shanghai is UTC+8.
        #expect(CivilDate.shanghai(unixSeconds: 1_796_140_799) == rulesDate("2026-12-01"))
        #expect(CivilDate.shanghai(unixSeconds: 1_796_140_800) == rulesDate("2026-12-02"))
        #expect(CivilDate.shanghai(unixSeconds: 0) == rulesDate("1970-01-01"))
        #expect(CivilDate.shanghai(unixSeconds: 57_599) == rulesDate("1970-01-01"))
        #expect(CivilDate.shanghai(unixSeconds: 57_600) == rulesDate("1970-01-02"))
        // Negative times: 1969-12-31T16:00:00Z is midnight in Shanghai.
        #expect(CivilDate.shanghai(unixSeconds: -1) == rulesDate("1970-01-01"))
        #expect(CivilDate.shanghai(unixSeconds: -28_800) == rulesDate("1970-01-01"))
        #expect(CivilDate.shanghai(unixSeconds: -28_801) == rulesDate("1969-12-31"))
        #expect(CivilDate.shanghai(unixSeconds: -115_200) == rulesDate("1969-12-31"))
        #expect(CivilDate.shanghai(unixSeconds: -115_201) == rulesDate("1969-12-30"))
        // 2000-03-01T00:00:00+08:00 = 951 840 000 s.
        #expect(CivilDate.shanghai(unixSeconds: 951_839_999) == rulesDate("2000-02-29"))
        #expect(CivilDate.shanghai(unixSeconds: 951_840_000) == rulesDate("2000-03-01"))
    }

    struct Box: Codable, Equatable {
        let date: CivilDate
    }

    @Test func jsonRoundTrip() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(Box(date: rulesDate("2024-02-29")))
        #expect(String(decoding: data, as: UTF8.self) == #"{"date":"2024-02-29"}"#)
        let decoded = try JSONDecoder().decode(Box.self, from: data)
        #expect(decoded == Box(date: rulesDate("2024-02-29")))
        let early = try encoder.encode(Box(date: try #require(CivilDate(year: 7, month: 1, day: 2))))
        #expect(String(decoding: early, as: UTF8.self) == #"{"date":"0007-01-02"}"#)
    }

    @Test(arguments: [#"{"date":"2025-02-29"}"#, #"{"date":"2024-1-01"}"#, #"{"date":20240101}"#, #"{"date":null}"#, #"{"date":""}"#])
    func jsonDecodingFailsForBadDates(json: String) {
        #expect(throws: DecodingError.self) {
            _ = try JSONDecoder().decode(Box.self, from: Data(json.utf8))
        }
    }
}

// MARK: - PermitRules

/// Fixtures of a valid application on 2026-06-15 that each test changes in one place.
enum RulesPermitFixture {
    static let today = rulesDate("2026-06-15")

    static func person(dateOfBirth: String = "1985-03-15") throws -> ApplicantDeclaration {
        ApplicantDeclaration(passportNumber: try PassportNumber(validating: "533401372"),
                             nationality: try CountryCode(validating: "GBR"),
                             surname: "Smith", givenNames: "John Paul", chineseName: nil,
                             dateOfBirth: rulesDate(dateOfBirth), sex: .male)
    }

    static func terms(position: String = "Software Engineer", category: PermitCategory = .B,
                      start: String = "2026-07-01", end: String = "2029-06-30",
                      documents: [DocumentKind] = [.passport, .photo, .employmentContract, .highestDegree]) -> ApplicationTerms {
        ApplicationTerms(position: position, category: category, contractStart: rulesDate(start),
                         contractEnd: rulesDate(end), documents: documents)
    }

    static func mrz(surname: String = "SMITH", givenNames: String = "JOHN PAUL", passportNumber: String = "533401372",
                    nationality: String = "GBR", dateOfBirth: String = "1985-03-15", sex: Sex = .male,
                    expiry: String = "2030-01-01") throws -> MachineReadableZone {
        MachineReadableZone(documentCode: "P", issuingState: "GBR", surname: surname, givenNames: givenNames,
                            passportNumber: passportNumber, nationality: try CountryCode(validating: nationality),
                            dateOfBirth: rulesDate(dateOfBirth), sex: sex, expiryDate: rulesDate(expiry), personalNumber: "")
    }
}

@Suite("PermitRules")
struct PermitRulesTests {
    typealias F = RulesPermitFixture

    @Test func validApplicationPasses() throws {
        try PermitRules.validate(person: try F.person(), terms: F.terms(), today: F.today)
        // Contract may already be running and may end today.
        try PermitRules.validate(person: try F.person(), terms: F.terms(start: "2025-01-01", end: "2026-06-15"), today: F.today)
        // Born today is refused, but the date itself is not in the future: the age rule answers.
        rulesExpectError(.rule, "person.age_out_of_range") {
            try PermitRules.validate(person: try F.person(dateOfBirth: "2026-06-15"), terms: F.terms(), today: F.today)
        }
    }

    @Test func dateOfBirthInFuture() throws {
        rulesExpectError(.rule, "person.date_of_birth_in_future", mentioning: ["2026-06-16"]) {
            try PermitRules.validate(person: try F.person(dateOfBirth: "2026-06-16"), terms: F.terms(), today: F.today)
        }
    }

    @Test func ageBoundaries() throws {
        // Exactly 18 on the birthday: accepted; one day before the 18th birthday: refused.
        try PermitRules.validate(person: try F.person(dateOfBirth: "2008-06-15"), terms: F.terms(), today: F.today)
        rulesExpectError(.rule, "person.age_out_of_range", mentioning: ["2008-06-16", "17"]) {
            try PermitRules.validate(person: try F.person(dateOfBirth: "2008-06-16"), terms: F.terms(), today: F.today)
        }
        // 100 is still in range up to the day before the 101st birthday.
        try PermitRules.validate(person: try F.person(dateOfBirth: "1925-06-16"), terms: F.terms(), today: F.today)
        rulesExpectError(.rule, "person.age_out_of_range", mentioning: ["101"]) {
            try PermitRules.validate(person: try F.person(dateOfBirth: "1925-06-15"), terms: F.terms(), today: F.today)
        }
        // Born on 29 February 2008: 18 from 1 March 2026.
        try PermitRules.validate(person: try F.person(dateOfBirth: "2008-02-29"), terms: F.terms(), today: rulesDate("2026-03-01"))
    }

    @Test func positionBounds() throws {
        for position in ["", "   ", "\t\n"] {
            rulesExpectError(.malformed, "application.position_invalid", about: position) {
                try PermitRules.validate(person: try F.person(), terms: F.terms(position: position), today: F.today)
            }
        }
        let longest = String(repeating: "x", count: 100)
        try PermitRules.validate(person: try F.person(), terms: F.terms(position: longest), today: F.today)
        try PermitRules.validate(person: try F.person(), terms: F.terms(position: "  " + longest + "  "), today: F.today)
        rulesExpectError(.malformed, "application.position_invalid") {
            try PermitRules.validate(person: try F.person(), terms: F.terms(position: longest + "x"), today: F.today)
        }
    }

    @Test func contractDates() throws {
        rulesExpectError(.rule, "application.contract_dates_out_of_order", mentioning: ["2026-06-30", "2026-07-01"]) {
            try PermitRules.validate(person: try F.person(), terms: F.terms(start: "2026-07-01", end: "2026-06-30"), today: F.today)
        }
        rulesExpectError(.rule, "application.contract_dates_out_of_order") {
            try PermitRules.validate(person: try F.person(), terms: F.terms(start: "2026-07-01", end: "2026-07-01"), today: F.today)
        }
        rulesExpectError(.rule, "application.contract_ended", mentioning: ["2026-06-14"]) {
            try PermitRules.validate(person: try F.person(), terms: F.terms(start: "2024-01-01", end: "2026-06-14"), today: F.today)
        }
        // Ten years exactly is allowed, one day more is not.
        try PermitRules.validate(person: try F.person(), terms: F.terms(start: "2026-07-01", end: "2036-07-01"), today: F.today)
        rulesExpectError(.rule, "application.contract_too_long", mentioning: ["10"]) {
            try PermitRules.validate(person: try F.person(), terms: F.terms(start: "2026-07-01", end: "2036-07-02"), today: F.today)
        }
    }

    @Test func documents() throws {
        rulesExpectError(.rule, "application.documents_missing", mentioning: ["employment_contract, passport, photo"]) {
            try PermitRules.validate(person: try F.person(), terms: F.terms(documents: [.highestDegree]), today: F.today)
        }
        rulesExpectError(.rule, "application.documents_missing", mentioning: ["employment_contract"]) {
            try PermitRules.validate(person: try F.person(), terms: F.terms(documents: [.passport, .photo]), today: F.today)
        }
        let error = rulesDomainError { try PermitRules.validateDocuments([.passport, .employmentContract]) }
        #expect(error?.code == "application.documents_missing")
        #expect(error?.detail.contains("photo") == true)
        #expect(error?.detail.contains("passport") == false)
        rulesExpectError(.rule, "application.documents_missing") {
            try PermitRules.validateDocuments([])
        }
        rulesExpectError(.malformed, "application.documents_duplicate") {
            try PermitRules.validate(person: try F.person(), terms: F.terms(documents: [.passport, .photo, .employmentContract, .photo]),
                                     today: F.today)
        }
        try PermitRules.validateDocuments([.employmentContract, .photo, .passport])
        try PermitRules.validateDocuments(DocumentKind.allCases)
        #expect(DocumentKind.required == [.passport, .photo, .employmentContract])
    }

    // MARK: checkAgreement

    @Test func agreementAcceptsMatchingMRZ() throws {
        try PermitRules.checkAgreement(person: try F.person(), mrz: try F.mrz(), today: F.today)
        // Punctuation and case of the declaration do not matter.
        var person = try F.person()
        person.givenNames = "john-paul"
        person.surname = "SMITH"
        try PermitRules.checkAgreement(person: person, mrz: try F.mrz(), today: F.today)
        // Passport expiring today is still valid.
        try PermitRules.checkAgreement(person: try F.person(), mrz: try F.mrz(expiry: "2026-06-15"), today: F.today)
    }

    @Test func agreementNamesEachMismatchingField() throws {
        let person = try F.person()
        let cases: [(String, MachineReadableZone)] = [
            ("passport_number", try F.mrz(passportNumber: "533401373")),
            ("nationality", try F.mrz(nationality: "IRL")),
            ("date_of_birth", try F.mrz(dateOfBirth: "1985-03-16")),
            ("sex", try F.mrz(sex: .female)),
            ("surname", try F.mrz(surname: "SMYTH")),
            ("surname", try F.mrz(surname: "SMITH JONES")),
            ("given_names", try F.mrz(givenNames: "JOHN PETER")),
            ("given_names", try F.mrz(givenNames: "JOHN PAUL GEORGE")),
        ]
        for (field, mrz) in cases {
            rulesExpectError(.rule, "mrz.mismatch", mentioning: [field], about: "\(mrz)") {
                try PermitRules.checkAgreement(person: person, mrz: mrz, today: F.today)
            }
        }
        // A declared female against an MRZ male is also a mismatch.
        var female = person
        female.sex = .female
        rulesExpectError(.rule, "mrz.mismatch", mentioning: ["sex"]) {
            try PermitRules.checkAgreement(person: female, mrz: try F.mrz(), today: F.today)
        }
    }

    @Test func agreementRefusesExpiredPassport() throws {
        rulesExpectError(.rule, "passport.expired", mentioning: ["2026-06-14"]) {
            try PermitRules.checkAgreement(person: try F.person(), mrz: try F.mrz(expiry: "2026-06-14"), today: F.today)
        }
    }

    @Test func agreementAcceptsUnspecifiedSex() throws {
        for sex: Character in ["X", "<"] {
            var fields = MRZFixture.Fields()
            fields.surname = ["SMITH"]
            fields.givenNames = ["JOHN", "PAUL"]
            fields.sex = sex
            let mrz = try MachineReadableZone.parse(fields.text, today: F.today)
            #expect(mrz.sex == .unspecified)
            try PermitRules.checkAgreement(person: try F.person(), mrz: mrz, today: F.today)
            var female = try F.person()
            female.sex = .female
            try PermitRules.checkAgreement(person: female, mrz: mrz, today: F.today)
        }
    }

    @Test func agreementAcceptsTruncatedGivenNamesAsPrefix() throws {
        // "SMITHSON<<ALEXANDER<MAXIMILIAN<KONSTANT" fills the 39-character name field: truncated by the issuer.
        var fields = MRZFixture.Fields()
        fields.surname = ["SMITHSON"]
        fields.givenNames = ["ALEXANDER", "MAXIMILIAN", "KONSTANT"]
        #expect(fields.line1.count == 44 && !fields.line1.hasSuffix("<"))
        let mrz = try MachineReadableZone.parse(fields.text, today: F.today)
        #expect(mrz.givenNames == "ALEXANDER MAXIMILIAN KONSTANT")
        var person = try F.person()
        person.surname = "Smithson"
        person.givenNames = "Alexander Maximilian Konstantin Friedrich"
        try PermitRules.checkAgreement(person: person, mrz: mrz, today: F.today)
        // The truncated part must still be a prefix.
        person.givenNames = "Alexander Maximilian Kurt"
        rulesExpectError(.rule, "mrz.mismatch", mentioning: ["given_names"]) {
            try PermitRules.checkAgreement(person: person, mrz: mrz, today: F.today)
        }
    }

    @Test func agreementRequiresAllGivenNamesWhenTheMRZIsNotTruncated() throws {
        // "SMITH<<JOHN" leaves the name field mostly empty, so nothing was cut off: "Johnny" or
        // "John Paul" is not the person on this passport.
        var fields = MRZFixture.Fields()
        fields.surname = ["SMITH"]
        fields.givenNames = ["JOHN"]
        let mrz = try MachineReadableZone.parse(fields.text, today: F.today)
        var person = try F.person()
        for declared in ["Johnny", "John Paul", "Jo"] {
            person.givenNames = declared
            rulesExpectError(.rule, "mrz.mismatch", mentioning: ["given_names"], about: declared) {
                try PermitRules.checkAgreement(person: person, mrz: mrz, today: F.today)
            }
        }
        person.givenNames = "John"
        try PermitRules.checkAgreement(person: person, mrz: mrz, today: F.today)
        // An MRZ with no given names matches only a declaration with none.
        fields.givenNames = []
        let bare = try MachineReadableZone.parse(fields.text, today: F.today)
        #expect(bare.givenNames == "")
        rulesExpectError(.rule, "mrz.mismatch", mentioning: ["given_names"]) {
            try PermitRules.checkAgreement(person: person, mrz: bare, today: F.today)
        }
        person.givenNames = ""
        try PermitRules.checkAgreement(person: person, mrz: bare, today: F.today)
    }

    @Test func mrzForm() {
        #expect(PermitRules.mrzForm("John-Paul") == "JOHN PAUL")
        #expect(PermitRules.mrzForm("  anna   maria ") == "ANNA MARIA")
        #expect(PermitRules.mrzForm("") == "")
        #expect(PermitRules.mrzForm("--") == "")
    }

    // MARK: checkOriginals

    @Test func originals() throws {
        let listed: [DocumentKind] = [.passport, .photo, .employmentContract, .medicalCertificate]
        try PermitRules.checkOriginals(listed: listed, checked: [.medicalCertificate, .employmentContract, .photo, .passport])
        rulesExpectError(.rule, "verification.originals_unchecked", mentioning: ["employment_contract, medical_certificate"]) {
            try PermitRules.checkOriginals(listed: listed, checked: [.passport, .photo])
        }
        rulesExpectError(.rule, "verification.originals_unchecked", mentioning: ["employment_contract, medical_certificate, passport, photo"]) {
            try PermitRules.checkOriginals(listed: listed, checked: [])
        }
        rulesExpectError(.malformed, "verification.document_not_listed", mentioning: ["highest_degree"]) {
            try PermitRules.checkOriginals(listed: listed, checked: listed + [.highestDegree])
        }
        // An unlisted document is reported even when listed ones are missing too.
        rulesExpectError(.malformed, "verification.document_not_listed", mentioning: ["criminal_record_certificate"]) {
            try PermitRules.checkOriginals(listed: listed, checked: [.criminalRecordCertificate])
        }
    }

    // MARK: validity and status

    @Test func validityCapsByCategory() throws {
        let start = "2026-01-01", end = "2035-12-31", issue = rulesDate("2026-03-10")
        for category in [PermitCategory.A, .B] {
            let validity = try PermitRules.validity(category: category, contractStart: rulesDate(start),
                                                    contractEnd: rulesDate(end), issueDate: issue)
            #expect(validity == PermitValidity(validFrom: issue, validUntil: rulesDate("2031-03-09")))
        }
        let c = try PermitRules.validity(category: .C, contractStart: rulesDate(start), contractEnd: rulesDate(end), issueDate: issue)
        #expect(c == PermitValidity(validFrom: issue, validUntil: rulesDate("2027-03-09")))
        #expect(PermitCategory.A.validityYearsMax == 5)
        #expect(PermitCategory.B.validityYearsMax == 5)
        #expect(PermitCategory.C.validityYearsMax == 1)
    }

    @Test func validityEndsWithContract() throws {
        let v = try PermitRules.validity(category: .A, contractStart: rulesDate("2026-01-01"), contractEnd: rulesDate("2028-06-30"),
                                         issueDate: rulesDate("2026-03-10"))
        #expect(v == PermitValidity(validFrom: rulesDate("2026-03-10"), validUntil: rulesDate("2028-06-30")))
        // Contract ending on the day of the cap and the day after.
        let atCap = try PermitRules.validity(category: .C, contractStart: rulesDate("2026-01-01"), contractEnd: rulesDate("2027-03-09"),
                                             issueDate: rulesDate("2026-03-10"))
        #expect(atCap.validUntil == rulesDate("2027-03-09"))
        let afterCap = try PermitRules.validity(category: .C, contractStart: rulesDate("2026-01-01"), contractEnd: rulesDate("2027-03-10"),
                                                issueDate: rulesDate("2026-03-10"))
        #expect(afterCap.validUntil == rulesDate("2027-03-09"))
        // Contract ending on the issue day: a one-day permit.
        let oneDay = try PermitRules.validity(category: .B, contractStart: rulesDate("2026-01-01"), contractEnd: rulesDate("2026-03-10"),
                                              issueDate: rulesDate("2026-03-10"))
        #expect(oneDay == PermitValidity(validFrom: rulesDate("2026-03-10"), validUntil: rulesDate("2026-03-10")))
    }

    @Test func validityStartsWithFutureContract() throws {
        let v = try PermitRules.validity(category: .B, contractStart: rulesDate("2026-05-01"), contractEnd: rulesDate("2036-04-30"),
                                         issueDate: rulesDate("2026-03-10"))
        #expect(v == PermitValidity(validFrom: rulesDate("2026-05-01"), validUntil: rulesDate("2031-04-30")))
    }

    @Test func validityRefusesEndedContract() {
        rulesExpectError(.rule, "application.contract_ended", mentioning: ["2026-03-09", "2026-03-10"]) {
            _ = try PermitRules.validity(category: .A, contractStart: rulesDate("2025-01-01"), contractEnd: rulesDate("2026-03-09"),
                                         issueDate: rulesDate("2026-03-10"))
        }
    }

    @Test func statusBoundaries() {
        let until = rulesDate("2027-03-09")
        #expect(PermitRules.status(validFrom: rulesDate("2026-03-10"), validUntil: until, cancelled: false, today: rulesDate("2026-03-10")) == .valid)
        #expect(PermitRules.status(validFrom: rulesDate("2026-03-10"), validUntil: until, cancelled: false, today: until) == .valid)
        #expect(PermitRules.status(validFrom: rulesDate("2026-03-10"), validUntil: until, cancelled: false, today: rulesDate("2027-03-10")) == .expired)
        #expect(PermitRules.status(validFrom: rulesDate("2026-03-10"), validUntil: until, cancelled: true, today: rulesDate("2026-03-10")) == .cancelled)
        #expect(PermitRules.status(validFrom: rulesDate("2026-03-10"), validUntil: until, cancelled: true, today: rulesDate("2030-01-01")) == .cancelled)
        #expect(PermitRules.status(validFrom: rulesDate("2026-03-10"), validUntil: until, cancelled: false, today: rulesDate("2026-03-09")) == .pending)
        #expect(PermitRules.status(validFrom: rulesDate("2026-03-10"), validUntil: until, cancelled: true, today: rulesDate("2026-03-09")) == .cancelled)
    }

    // MARK: names and reasons

    @Test func validatedNameNormalisesWhitespace() throws {
        #expect(try PermitRules.validatedName("  Anna   Maria\tvon \n Berg ", field: "person.given_names", allowEmpty: false)
            == "Anna Maria von Berg")
        #expect(try PermitRules.validatedName("O'Brien-Smith", field: "person.surname", allowEmpty: false) == "O'Brien-Smith")
        #expect(try PermitRules.validatedName("J. R.", field: "person.given_names", allowEmpty: false) == "J. R.")
        #expect(try PermitRules.validatedName("Müller", field: "person.surname", allowEmpty: false) == "Müller")
        #expect(try PermitRules.validatedName("   ", field: "person.given_names", allowEmpty: true) == "")
        #expect(try PermitRules.validatedName("", field: "person.given_names", allowEmpty: true) == "")
        let longest = String(repeating: "a", count: 64)
        #expect(try PermitRules.validatedName(" " + longest + " ", field: "person.surname", allowEmpty: false) == longest)
    }

    @Test func validatedNameRefuses() {
        rulesExpectError(.malformed, "person.name_empty", mentioning: ["person.surname"]) {
            _ = try PermitRules.validatedName(" \t ", field: "person.surname", allowEmpty: false)
        }
        rulesExpectError(.malformed, "person.name_too_long", mentioning: ["person.surname"]) {
            _ = try PermitRules.validatedName(String(repeating: "a", count: 65), field: "person.surname", allowEmpty: false)
        }
        for bad in ["Anna2", "R2D2", "Anna_Maria", "Anna,Maria", "Anna (Ann)", "Anna@x", "Anna٣"] {
            rulesExpectError(.malformed, "person.name_invalid", mentioning: ["person.given_names"], about: bad) {
                _ = try PermitRules.validatedName(bad, field: "person.given_names", allowEmpty: true)
            }
        }
    }

    @Test func validatedReason() throws {
        #expect(try PermitRules.validatedReason(nil, required: false) == nil)
        #expect(try PermitRules.validatedReason("  \n ", required: false) == nil)
        #expect(try PermitRules.validatedReason("  contract ended early \n", required: true) == "contract ended early")
        let longest = String(repeating: "r", count: 500)
        #expect(try PermitRules.validatedReason(longest, required: true) == longest)
        rulesExpectError(.malformed, "reason.required", mentioning: ["reason"]) {
            _ = try PermitRules.validatedReason(nil, required: true)
        }
        rulesExpectError(.malformed, "reason.required", mentioning: ["rejection_reason"]) {
            _ = try PermitRules.validatedReason("   ", field: "rejection_reason", required: true)
        }
        rulesExpectError(.malformed, "reason.too_long", mentioning: ["500"]) {
            _ = try PermitRules.validatedReason(longest + "r", required: false)
        }
    }
}

// MARK: - CardRules

@Suite("CardRules")
struct CardRulesTests {
    static let statuses: [CardStatus] = [.issued, .active, .lost, .frozen, .replaced, .cancelled]
    static let actions: [CardAction] = [.activate, .reportLoss, .replace, .cancel]

    /// The state machine as the design states it, written out by hand.
    static let expected: [CardAction: [CardStatus: CardStatus]] = [
        .activate: [.issued: .active],
        .reportLoss: [.issued: .lost, .active: .lost, .frozen: .lost],
        .replace: [.issued: .replaced, .active: .replaced, .lost: .replaced, .frozen: .replaced],
        .cancel: [.issued: .cancelled, .active: .cancelled, .lost: .cancelled, .frozen: .cancelled],
    ]

    @Test func enumerationsAreTheOnesTheTableCovers() {
        #expect(Set(CardStatus.allCases) == Set(Self.statuses))
        #expect(CardStatus.allCases.count == 6)
        #expect(Set(CardAction.allCases) == Set(Self.actions))
        #expect(CardAction.allCases.count == 4)
    }

    @Test(arguments: CardStatus.allCases, CardAction.allCases)
    func transitionTable(status: CardStatus, action: CardAction) {
        if let target = Self.expected[action]?[status] {
            #expect((try? CardRules.transition(from: status, action)) == target)
        } else {
            rulesExpectError(.conflict, "card.invalid_transition", mentioning: [action.rawValue, status.rawValue]) {
                _ = try CardRules.transition(from: status, action)
            }
        }
    }

    @Test func liveAndDebitTables() {
        let live: [CardStatus: Bool] = [.issued: true, .active: true, .lost: true, .frozen: true, .replaced: false, .cancelled: false]
        let debits: [CardStatus: Bool] = [.issued: false, .active: true, .lost: false, .frozen: false, .replaced: false, .cancelled: false]
        for status in Self.statuses {
            #expect(status.isLive == live[status], "\(status)")
            #expect(status.allowsDebits == debits[status], "\(status)")
        }
    }

    static let today = rulesDate("2026-06-15")

    static func tax(_ issued: String) throws -> TaxCertificate {
        try TaxCertificate(number: "TC-2025-0001", issuedOn: rulesDate(issued))
    }

    static func residence(_ until: String) throws -> ResidenceProof {
        try ResidenceProof(kind: "residence_permit", number: "RP12345678", validUntil: rulesDate(until))
    }

    @Test func financialDocumentsPresent() throws {
        try CardRules.checkFinancialDocuments(tax: try Self.tax("2026-01-10"), residence: try Self.residence("2027-01-01"), today: Self.today)
        rulesExpectError(.rule, "card.tax_certificate_missing") {
            try CardRules.checkFinancialDocuments(tax: nil, residence: try Self.residence("2027-01-01"), today: Self.today)
        }
        rulesExpectError(.rule, "card.tax_certificate_missing") {
            try CardRules.checkFinancialDocuments(tax: nil, residence: nil, today: Self.today)
        }
        rulesExpectError(.rule, "card.residence_proof_missing") {
            try CardRules.checkFinancialDocuments(tax: try Self.tax("2026-01-10"), residence: nil, today: Self.today)
        }
    }

    @Test func taxCertificateDates() throws {
        let residence = try Self.residence("2027-01-01")
        rulesExpectError(.rule, "card.tax_certificate_invalid", mentioning: ["2026-06-16"]) {
            try CardRules.checkFinancialDocuments(tax: try Self.tax("2026-06-16"), residence: residence, today: Self.today)
        }
        try CardRules.checkFinancialDocuments(tax: try Self.tax("2026-06-15"), residence: residence, today: Self.today)
        // Issued exactly 12 months ago: expired today. 12 months minus a day: still counts.
        rulesExpectError(.rule, "card.tax_certificate_expired", mentioning: ["2025-06-15", "2026-06-15"]) {
            try CardRules.checkFinancialDocuments(tax: try Self.tax("2025-06-15"), residence: residence, today: Self.today)
        }
        try CardRules.checkFinancialDocuments(tax: try Self.tax("2025-06-16"), residence: residence, today: Self.today)
        // Issued on a leap day: 12 months later is 28 February.
        rulesExpectError(.rule, "card.tax_certificate_expired") {
            try CardRules.checkFinancialDocuments(tax: try Self.tax("2024-02-29"), residence: residence, today: rulesDate("2025-02-28"))
        }
        try CardRules.checkFinancialDocuments(tax: try Self.tax("2024-02-29"), residence: residence, today: rulesDate("2025-02-27"))
    }

    @Test func residenceProofDates() throws {
        let tax = try Self.tax("2026-01-10")
        rulesExpectError(.rule, "card.residence_proof_expired", mentioning: ["2026-06-14"]) {
            try CardRules.checkFinancialDocuments(tax: tax, residence: try Self.residence("2026-06-14"), today: Self.today)
        }
        try CardRules.checkFinancialDocuments(tax: tax, residence: try Self.residence("2026-06-15"), today: Self.today)
    }

    @Test func residenceProofKinds() throws {
        for kind in ["residence_permit", "temporary_residence_registration"] {
            let proof = try ResidenceProof(kind: kind, number: "ab-1234", validUntil: Self.today)
            #expect(proof.kind == kind)
            #expect(proof.number == "AB-1234")
        }
        for kind in ["", "passport", "RESIDENCE_PERMIT", " residence_permit", "residence permit", "visa"] {
            rulesExpectError(.malformed, "residence_proof.kind_invalid",
                             mentioning: ["residence_permit, temporary_residence_registration"], about: kind) {
                _ = try ResidenceProof(kind: kind, number: "AB1234", validUntil: Self.today)
            }
        }
        rulesExpectError(.malformed, "document_number.invalid", mentioning: ["residence_proof.number"]) {
            _ = try ResidenceProof(kind: "residence_permit", number: "A1", validUntil: Self.today)
        }
        rulesExpectError(.malformed, "document_number.invalid", mentioning: ["tax_certificate.number"]) {
            _ = try TaxCertificate(number: "no spaces", issuedOn: Self.today)
        }
    }

    @Test func documentNumbers() throws {
        #expect(try DocumentNumber.validated("AB12", field: "f") == "AB12")
        #expect(try DocumentNumber.validated("  ab-12-cd\n", field: "f") == "AB-12-CD")
        #expect(try DocumentNumber.validated("----", field: "f") == "----")
        let longest = String(repeating: "9", count: 40)
        #expect(try DocumentNumber.validated(longest, field: "f") == longest)
        let refused = [
            "", "ABC", "   AB  ", longest + "9", "AB 12", "AB_12", "AB/12", "AB.12",
            "ＡＢ１２", // full-width
            "AB12٣", // Arabic-Indic digit
            "straße1", // 'ß' must not turn into "SS"
            "ﬁ123", // ligature must not turn into "FI"
            "ı123", // dotless i must not turn into "I"
            "ÄB12",
        ]
        for raw in refused {
            rulesExpectError(.malformed, "document_number.invalid", mentioning: ["tax_certificate.number"], about: raw) {
                _ = try DocumentNumber.validated(raw, field: "tax_certificate.number")
            }
        }
    }
}

// MARK: - Identity

@Suite("Staff identity rules")
struct IdentityRulesTests {
    @Test func bindingsForUnboundRoles() throws {
        for role in [StaffRole.admin, .permitOfficer] {
            #expect(try StaffBinding.validated(role: role, employerID: nil, branchID: nil, department: nil) == StaffBinding.none)
            for (e, b, d) in [("E1", nil, nil), (nil, "B1", nil), (nil, nil, "hrss"), ("E1", "B1", "hrss")] as [(String?, String?, String?)] {
                rulesExpectError(.malformed, "staff.binding_unexpected", mentioning: [role.rawValue], about: "\((e, b, d))") {
                    _ = try StaffBinding.validated(role: role, employerID: e, branchID: b, department: d)
                }
            }
        }
    }

    @Test func bindingsForBoundRoles() throws {
        #expect(try StaffBinding.validated(role: .employer, employerID: "emp-1", branchID: nil, department: nil) == .employer("emp-1"))
        #expect(try StaffBinding.validated(role: .bankClerk, employerID: nil, branchID: "br-9", department: nil) == .branch("br-9"))
        for code in DepartmentCode.allCases {
            #expect(try StaffBinding.validated(role: .departmentClerk, employerID: nil, branchID: nil, department: code.rawValue)
                == .department(code))
        }
        #expect(DepartmentCode.allCases.map(\.rawValue) == ["hrss", "education", "civilAffairs", "housing"])

        typealias Given = (String?, String?, String?)
        let wrongOrExtra: [(StaffRole, [Given])] = [
            (.employer, [(nil, nil, nil), (nil, "B1", nil), (nil, nil, "hrss"), ("E1", "B1", nil), ("E1", nil, "hrss")]),
            (.bankClerk, [(nil, nil, nil), ("E1", nil, nil), (nil, nil, "hrss"), ("E1", "B1", nil), (nil, "B1", "hrss")]),
            (.departmentClerk, [(nil, nil, nil), ("E1", nil, nil), (nil, "B1", nil), ("E1", nil, "hrss"), (nil, "B1", "hrss")]),
        ]
        for (role, cases) in wrongOrExtra {
            for (e, b, d) in cases {
                rulesExpectError(.malformed, "staff.binding_required", mentioning: [role.rawValue], about: "\((e, b, d))") {
                    _ = try StaffBinding.validated(role: role, employerID: e, branchID: b, department: d)
                }
            }
        }
    }

    @Test func unknownDepartment() {
        for department in ["police", "HRSS", "", "civil_affairs", "hrss "] {
            rulesExpectError(.malformed, "staff.department_invalid", mentioning: ["hrss, education, civilAffairs, housing"], about: department) {
                _ = try StaffBinding.validated(role: .departmentClerk, employerID: nil, branchID: nil, department: department)
            }
        }
    }

    @Test func usernames() throws {
        #expect(try UsernamePolicy.validate("Alice.Smith") == "alice.smith")
        #expect(try UsernamePolicy.validate("  BOB_2 \n") == "bob_2")
        #expect(try UsernamePolicy.validate("abc") == "abc")
        #expect(try UsernamePolicy.validate("a-1") == "a-1")
        let longest = "a" + String(repeating: "9", count: 63)
        #expect(try UsernamePolicy.validate(longest) == longest)
        for bad in ["1abc", "ab", "a b", "ä-user", "", "   ", "-abc", "_abc", ".abc", longest + "9", "abc@x", "ａｂｃ", "abc\u{301}"] {
            rulesExpectError(.malformed, "username.invalid", about: bad) {
                _ = try UsernamePolicy.validate(bad)
            }
        }
    }

    @Test func passwords() throws {
        try PasswordPolicy.validate("correct-horse-42", identifiers: ["alice", "E123456"])
        try PasswordPolicy.validate("abcdabcdab", identifiers: []) // exactly 10 characters, 4 distinct
        try PasswordPolicy.validate(String(repeating: "abcd", count: 32), identifiers: ["", "zz"]) // 128, empty identifier ignored
        rulesExpectError(.rule, "password.too_short", mentioning: ["10"]) {
            try PasswordPolicy.validate("abc-12345", identifiers: [])
        }
        rulesExpectError(.rule, "password.too_short") {
            try PasswordPolicy.validate("", identifiers: [])
        }
        rulesExpectError(.malformed, "password.too_long", mentioning: ["128"]) {
            try PasswordPolicy.validate(String(repeating: "abcd", count: 32) + "e", identifiers: [])
        }
        for common in ["password123", "Password123", "QWERTYUIOP", "1234567890", "P@ssw0rd123"] {
            rulesExpectError(.rule, "password.common", about: common) {
                try PasswordPolicy.validate(common, identifiers: [])
            }
        }
        rulesExpectError(.rule, "password.contains_identifier") {
            try PasswordPolicy.validate("my-ALICE-pass-99", identifiers: ["alice"])
        }
        rulesExpectError(.rule, "password.contains_identifier") {
            try PasswordPolicy.validate("xx-e123456-yy", identifiers: ["alice", "E123456"])
        }
        for simple in ["abababababab", "aaaaaaaaaaaa", "abcabcabca", "AaAaAaAaAaAa"] {
            rulesExpectError(.rule, "password.too_simple", about: simple) {
                try PasswordPolicy.validate(simple, identifiers: [])
            }
        }
    }

    @Test func lockoutTable() {
        let expected: [Int: Int] = [
            -1: 0, 0: 0, 1: 0, 2: 0, 3: 0, 4: 0,
            5: 30, 6: 60, 7: 120, 8: 240, 9: 480, 10: 960, 11: 1920, 12: 3600, 13: 3600, 20: 3600, 1000: 3600,
        ]
        for (failures, seconds) in expected {
            #expect(LoginThrottle.lockoutSeconds(afterFailures: failures) == seconds, "after \(failures) failures")
        }
        #expect(LoginThrottle.lockoutSeconds(afterFailures: Int.max) == 3600)
        #expect(LoginThrottle.lockoutSeconds(afterFailures: Int.min) == 0)
    }
}

// MARK: - AuditChain

/// Builds audit chains for tests: entry `i` (1-based) with fields that differ per entry.
enum RulesAudit {
    typealias Record = (entry: AuditEntry, previousHash: String, hash: String)

    static func entry(_ sequence: Int64) -> AuditEntry {
        AuditEntry(sequence: sequence, atMs: 1_767_225_600_000 + sequence * 1000, actor: "staff:\(sequence % 3)",
                   action: sequence % 2 == 0 ? "card.cancel" : "permit.issue", objectType: sequence % 2 == 0 ? "card" : "permit",
                   objectID: "obj-\(sequence)", outcome: "ok", detail: "detail \(sequence)")
    }

    static func chain(_ entries: [AuditEntry], previous: String = AuditChain.genesisHash) -> [Record] {
        var records: [Record] = []
        var previous = previous
        for entry in entries {
            let hash = AuditChain.hash(previous: previous, entry: entry)
            records.append((entry, previous, hash))
            previous = hash
        }
        return records
    }

    static func chain(count: Int) -> [Record] {
        chain((1...Int64(max(count, 1))).prefix(count).map(entry))
    }

    /// Every single-field change of `entry`, each giving a different entry with the same sequence.
    static func fieldChanges(of e: AuditEntry) -> [(String, AuditEntry)] {
        [
            ("atMs", AuditEntry(sequence: e.sequence, atMs: e.atMs + 1, actor: e.actor, action: e.action, objectType: e.objectType,
                                objectID: e.objectID, outcome: e.outcome, detail: e.detail)),
            ("actor", AuditEntry(sequence: e.sequence, atMs: e.atMs, actor: e.actor + "x", action: e.action, objectType: e.objectType,
                                 objectID: e.objectID, outcome: e.outcome, detail: e.detail)),
            ("action", AuditEntry(sequence: e.sequence, atMs: e.atMs, actor: e.actor, action: "card.freeze", objectType: e.objectType,
                                  objectID: e.objectID, outcome: e.outcome, detail: e.detail)),
            ("objectType", AuditEntry(sequence: e.sequence, atMs: e.atMs, actor: e.actor, action: e.action, objectType: "account",
                                      objectID: e.objectID, outcome: e.outcome, detail: e.detail)),
            ("objectID", AuditEntry(sequence: e.sequence, atMs: e.atMs, actor: e.actor, action: e.action, objectType: e.objectType,
                                    objectID: e.objectID + "0", outcome: e.outcome, detail: e.detail)),
            ("outcome", AuditEntry(sequence: e.sequence, atMs: e.atMs, actor: e.actor, action: e.action, objectType: e.objectType,
                                   objectID: e.objectID, outcome: "refused", detail: e.detail)),
            ("detail", AuditEntry(sequence: e.sequence, atMs: e.atMs, actor: e.actor, action: e.action, objectType: e.objectType,
                                  objectID: e.objectID, outcome: e.outcome, detail: e.detail + " ")),
            ("lane", AuditEntry(sequence: e.sequence, atMs: e.atMs, actor: e.actor, action: e.action, objectType: e.objectType,
                                objectID: e.objectID, outcome: e.outcome, detail: e.detail, lane: e.lane + 1)),
        ]
    }
}

@Suite("AuditChain")
struct AuditChainRulesTests {
    static func isLowerHex64(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    @Test func knownHashes() {
        // Expected values computed independently with Python's hashlib over the length-prefixed encoding.
        let first = AuditEntry(sequence: 1, atMs: 1_767_225_600_000, actor: "admin", action: "permit.issue", objectType: "permit",
                               objectID: "WP-0001", outcome: "ok", detail: "category A")
        let firstHash = AuditChain.hash(previous: AuditChain.genesisHash, entry: first)
        #expect(firstHash == "1dd4436ed601833e15f7aa7b1239eac5f73dcfdd0ca495d2b76b43f49d9e2fa4")
        let second = AuditEntry(sequence: 2, atMs: 1_767_225_601_000, actor: "李雷", action: "card.cancel", objectType: "card",
                                objectID: "6200001234", outcome: "refused", detail: "état: ✓")
        #expect(Array("1:213:17672256010006:".utf8) + Array("李雷".utf8) + Array("11:card.cancel4:card10:62000012347:refused10:".utf8)
            + Array("état: ✓".utf8) == second.canonicalBytes)
        #expect(AuditChain.hash(previous: firstHash, entry: second) == "7b7507aaf746e435fa5fe6a0b48b072939f8547efcdc7410f3f9a1627f68a144")
        #expect(AuditChain.genesisHash == String(repeating: "0", count: 64))
    }

    @Test func lanes() {
        // Lane 0 encodes as a record without a lane (see knownHashes); other lanes add a leading field.
        let entry = AuditEntry(sequence: 1, atMs: 1_767_225_600_000, actor: "admin", action: "permit.issue", objectType: "permit",
                               objectID: "WP-0001", outcome: "ok", detail: "category A", lane: 3)
        #expect(Array("6:lane=31:113:1767225600000".utf8) == Array(entry.canonicalBytes.prefix(27)))
        #expect(AuditChain.hash(previous: AuditChain.genesisHash, entry: entry)
            == "959509e5726292b1f0bc5ff05205b4b6b9114b96a67a1f63bed56562785fdaf8")
        // A chain in one lane verifies on its own; moving a record to another lane breaks it.
        let inLane = RulesAudit.chain((1...4).map { n in
            AuditEntry(sequence: n, atMs: n, actor: "a", action: "b", objectType: "c", objectID: "d", outcome: "e", detail: "f", lane: 5)
        })
        #expect(AuditChain.verify(inLane) == .intact(count: 4))
        var moved = inLane
        let e = inLane[2].entry
        moved[2] = (AuditEntry(sequence: e.sequence, atMs: e.atMs, actor: e.actor, action: e.action, objectType: e.objectType,
                               objectID: e.objectID, outcome: e.outcome, detail: e.detail, lane: 6), inLane[2].previousHash, inLane[2].hash)
        #expect(AuditChain.verify(moved) == .broken(sequence: 3, reason: "record contents do not match its hash"))
    }

    @Test func hashesAreLowercaseHex() {
        for record in RulesAudit.chain(count: 50) {
            #expect(Self.isLowerHex64(record.hash), "\(record.hash)")
        }
    }

    @Test func intactChainVerifies() {
        #expect(AuditChain.verify(RulesAudit.chain(count: 0)) == .intact(count: 0))
        for n in [1, 2, 7, 25] {
            #expect(AuditChain.verify(RulesAudit.chain(count: n)) == .intact(count: n))
        }
    }

    @Test func everyFieldChangeOfEveryEntryIsDetected() {
        let records = RulesAudit.chain(count: 6)
        for index in records.indices {
            for (field, changed) in RulesAudit.fieldChanges(of: records[index].entry) {
                var tampered = records
                tampered[index] = (changed, records[index].previousHash, records[index].hash)
                guard case .broken(let sequence, let reason) = AuditChain.verify(tampered) else {
                    Issue.record("changing \(field) of record \(index + 1) went unnoticed")
                    continue
                }
                #expect(sequence == Int64(index + 1), "\(field)")
                #expect(reason.contains("contents"), "\(reason)")
            }
            // Changing the sequence number itself breaks the order at that record.
            let e = records[index].entry
            var renumbered = records
            renumbered[index] = (AuditEntry(sequence: e.sequence + 100, atMs: e.atMs, actor: e.actor, action: e.action,
                                            objectType: e.objectType, objectID: e.objectID, outcome: e.outcome, detail: e.detail),
                                 records[index].previousHash, records[index].hash)
            #expect(AuditChain.verify(renumbered)
                == .broken(sequence: e.sequence + 100, reason: "expected sequence \(index + 1): a record is missing or reordered"))
        }
    }

    @Test func storedHashChangeIsDetected() {
        let records = RulesAudit.chain(count: 5)
        var tampered = records
        tampered[2] = (records[2].entry, records[2].previousHash, String(repeating: "a", count: 64))
        // Record 3's own hash no longer matches; verification stops at the first broken record.
        guard case .broken(let sequence, _) = AuditChain.verify(tampered) else {
            Issue.record("a replaced hash went unnoticed")
            return
        }
        #expect(sequence == 3)
    }

    @Test func reorderingIsDetected() {
        let records = RulesAudit.chain(count: 5)
        for index in 0..<(records.count - 1) {
            var swapped = records
            swapped.swapAt(index, index + 1)
            guard case .broken(let sequence, let reason) = AuditChain.verify(swapped) else {
                Issue.record("swapping \(index + 1) and \(index + 2) went unnoticed")
                continue
            }
            #expect(sequence == Int64(index + 2))
            #expect(reason.contains("expected sequence \(index + 1)"))
        }
    }

    @Test func deletionIsDetected() {
        let records = RulesAudit.chain(count: 5)
        for index in 0..<(records.count - 1) {
            var shorter = records
            shorter.remove(at: index)
            guard case .broken(let sequence, let reason) = AuditChain.verify(shorter) else {
                Issue.record("deleting record \(index + 1) went unnoticed")
                continue
            }
            #expect(sequence == Int64(index + 2))
            #expect(reason.contains("expected sequence \(index + 1)"))
        }
    }

    @Test func deletionWithRenumberingIsDetected() {
        // Deleting record 3 and renumbering 4 and 5 keeps the sequence dense, but not the links.
        let records = RulesAudit.chain(count: 5)
        var forged = Array(records[0..<2])
        for old in records[3...] {
            let e = old.entry
            forged.append((AuditEntry(sequence: e.sequence - 1, atMs: e.atMs, actor: e.actor, action: e.action,
                                      objectType: e.objectType, objectID: e.objectID, outcome: e.outcome, detail: e.detail),
                           old.previousHash, old.hash))
        }
        #expect(AuditChain.verify(forged) == .broken(sequence: 3, reason: "previous hash does not match the record before it"))
    }

    @Test func previousHashChangeIsDetected() {
        let records = RulesAudit.chain(count: 5)
        for index in records.indices {
            var tampered = records
            tampered[index] = (records[index].entry, String(repeating: "f", count: 64), records[index].hash)
            #expect(AuditChain.verify(tampered)
                == .broken(sequence: Int64(index + 1), reason: "previous hash does not match the record before it"))
        }
        // Rewriting a record and rehashing it (link included) moves the break to the next record.
        var rewritten = records
        let (_, changed) = RulesAudit.fieldChanges(of: records[1].entry)[1]
        rewritten[1] = (changed, records[1].previousHash, AuditChain.hash(previous: records[1].previousHash, entry: changed))
        #expect(AuditChain.verify(rewritten) == .broken(sequence: 3, reason: "previous hash does not match the record before it"))
    }

    @Test func canonicalBytesSeparateFields() {
        func entry(actor: String, action: String, objectType: String = "t", detail: String = "d") -> AuditEntry {
            AuditEntry(sequence: 1, atMs: 5, actor: actor, action: action, objectType: objectType, objectID: "o", outcome: "ok", detail: detail)
        }
        let pairs: [(AuditEntry, AuditEntry)] = [
            (entry(actor: "ab", action: "c"), entry(actor: "a", action: "bc")),
            (entry(actor: "a", action: ""), entry(actor: "", action: "a")),
            (entry(actor: "a:1", action: "b"), entry(actor: "a", action: "1:b")),
            (entry(actor: "1:a", action: "b"), entry(actor: "1", action: "a1:b")),
            (entry(actor: "x", action: "y", objectType: "t2"), entry(actor: "x", action: "y2", objectType: "t")),
        ]
        for (a, b) in pairs {
            #expect(a.canonicalBytes != b.canonicalBytes, "\(a) vs \(b)")
            #expect(AuditChain.hash(previous: AuditChain.genesisHash, entry: a) != AuditChain.hash(previous: AuditChain.genesisHash, entry: b))
        }
        // Sequence and time are fields too: 1|23 and 12|3 differ.
        let s1 = AuditEntry(sequence: 1, atMs: 23, actor: "a", action: "b", objectType: "c", objectID: "d", outcome: "e", detail: "f")
        let s2 = AuditEntry(sequence: 12, atMs: 3, actor: "a", action: "b", objectType: "c", objectID: "d", outcome: "e", detail: "f")
        #expect(s1.canonicalBytes != s2.canonicalBytes)
        #expect(Array("1:12:231:a1:b1:c1:d1:e1:f".utf8) == s1.canonicalBytes)
    }

    @Test func verifyContinuesAChain() {
        let records = RulesAudit.chain(count: 10)
        let tail = Array(records[4...])
        #expect(AuditChain.verify(tail, startingAt: 5, previousHash: records[3].hash) == .intact(count: 6))
        #expect(AuditChain.verify(tail, startingAt: 5, previousHash: AuditChain.genesisHash)
            == .broken(sequence: 5, reason: "previous hash does not match the record before it"))
        guard case .broken(let sequence, _) = AuditChain.verify(tail) else {
            Issue.record("a tail verified from sequence 1")
            return
        }
        #expect(sequence == 5)
        #expect(AuditChain.verify(tail, startingAt: 6, previousHash: records[3].hash)
            == .broken(sequence: 5, reason: "expected sequence 6: a record is missing or reordered"))
        // Appending to a verified prefix: the next batch verifies from the last hash.
        let next = RulesAudit.chain([RulesAudit.entry(11), RulesAudit.entry(12)], previous: records[9].hash)
        #expect(AuditChain.verify(next, startingAt: 11, previousHash: records[9].hash) == .intact(count: 2))
        #expect(AuditChain.verify(records + next) == .intact(count: 12))
    }
}

// MARK: - CityCSV

@Suite("CityCSV")
struct CityCSVRulesTests {
    static let header = "code,name,provinceCode"

    static func csv(_ rows: [String]) -> String {
        ([header] + rows).joined(separator: "\n") + "\n"
    }

    @Test func parsesQuotedCRLFWithBOM() throws {
        let text = "\u{FEFF}code,name,provinceCode\r\n"
            + "3301,\"杭州市\",33\r\n"
            + "3302,宁波市,33\r\n"
            + "1101,\"市辖区\",11\r\n"
            + "\r\n"
            + "4403,\"Shen, \"\"zhen\"\"\",44\r\n"
            + "4190,\"省直辖县级行政区划\",41\r\n"
            + "5002,\"县\",50\r\n"
            + "6590,\"自治区直辖县级行政区划\",65\r\n"
            + "3303,\"  温州市 \",33\r\n"
        let parsed = try CityCSV.parse(text)
        #expect(parsed.rows == [
            CityCSV.Row(line: 2, code: "330100", nameZh: "杭州市", provinceCode: "33"),
            CityCSV.Row(line: 3, code: "330200", nameZh: "宁波市", provinceCode: "33"),
            CityCSV.Row(line: 6, code: "440300", nameZh: "Shen, \"zhen\"", provinceCode: "44"),
            CityCSV.Row(line: 10, code: "330300", nameZh: "温州市", provinceCode: "33"),
        ])
        #expect(parsed.skippedPlaceholders == 4)
    }

    @Test func lineEndingsDoNotMatter() throws {
        let rows = ["3301,杭州市,33", "3302,宁波市,33"]
        let lf = try CityCSV.parse(Self.csv(rows))
        let crlf = try CityCSV.parse(([Self.header] + rows).joined(separator: "\r\n"))
        let trailing = try CityCSV.parse(([Self.header] + rows).joined(separator: "\r\n") + "\r\n\r\n\n")
        #expect(lf == crlf)
        #expect(lf == trailing)
        #expect(lf.rows.map(\.code) == ["330100", "330200"])
        #expect(try CityCSV.parse(Self.header) == CityCSV.Parsed(rows: [], skippedPlaceholders: 0))
        #expect(try CityCSV.parse("\u{FEFF}" + Self.header + "\n") == CityCSV.Parsed(rows: [], skippedPlaceholders: 0))
    }

    @Test func emptyFile() {
        for text in ["", "\n", "\r\n\r\n"] {
            rulesExpectError(.malformed, "import.empty", about: text) { _ = try CityCSV.parse(text) }
        }
    }

    @Test func refusesWithLineNumbers() {
        let cases: [(String, String, String)] = [
            ("code,name,province\n3301,杭州市,33\n", "import.header", "line 1"),
            ("name,code,provinceCode\n", "import.header", "line 1"),
            ("code,name,provinceCode,extra\n", "import.header", "line 1"),
            (Self.csv(["3301,杭州市,33", "3302,宁波市"]), "import.row", "line 3: expected 3 fields, got 2"),
            (Self.csv(["3301,杭州市,33,x"]), "import.row", "line 2: expected 3 fields, got 4"),
            (Self.csv(["3301,\"杭州,市\",33,"]), "import.row", "line 2"),
            (Self.csv(["3301,杭州市,33", "331,宁波市,33"]), "import.code", "line 3"),
            (Self.csv(["33011,杭州市,33"]), "import.code", "line 2"),
            (Self.csv(["33O1,杭州市,33"]), "import.code", "line 2"),
            (Self.csv(["３３０１,杭州市,33"]), "import.code", "line 2"),
            (Self.csv([" 3301,杭州市,33"]), "import.code", "line 2"),
            (Self.csv(["3301,杭州市,32"]), "import.province", "line 2"),
            (Self.csv(["3301,杭州市,3"]), "import.province", "line 2"),
            (Self.csv(["3301,杭州市,330"]), "import.province", "line 2"),
            (Self.csv(["3301,\"\",33"]), "import.name", "line 2"),
            (Self.csv(["3301,   ,33"]), "import.name", "line 2"),
            (Self.csv(["3301,\(String(repeating: "市", count: 201)),33"]), "import.name", "line 2"),
            (Self.csv(["3301,杭州市,33", "3302,宁波市,33", "3301,杭州,33"]), "import.duplicate", "line 4"),
            (Self.csv(["3301,杭州市,33", "", "3302,\"宁波市,33"]), "import.quote", "line 4"),
            ("\u{FEFF}code,\"name,provinceCode\n", "import.quote", "line 1"),
        ]
        for (text, code, fragment) in cases {
            rulesExpectError(.malformed, code, mentioning: [fragment], about: text) { _ = try CityCSV.parse(text) }
        }
    }

    @Test func placeholdersAreCountedNotImported() throws {
        let parsed = try CityCSV.parse(Self.csv(["1101,市辖区,11", "1201,\"市辖区\",12", "5002,县,50", "4190,省直辖县级行政区划,41"]))
        #expect(parsed.rows.isEmpty)
        #expect(parsed.skippedPlaceholders == 4)
        #expect(CityCSV.placeholderNames.isSuperset(of: ["市辖区", "县", "省直辖县级行政区划"]))
    }

    /// `../shared/data/cities.csv` next to the package root, found from this file's path.
    static func sharedCitiesURL() -> URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent() // JoinInCoreTests
            .deletingLastPathComponent() // Tests
            .deletingLastPathComponent() // package root
            .appendingPathComponent("../shared/data/cities.csv")
            .standardizedFileURL
    }

    @Test func parsesTheSharedCityFile() throws {
        let url = Self.sharedCitiesURL()
        guard FileManager.default.fileExists(atPath: url.path) else {
            print("note: \(url.path) not found; skipping the shared cities.csv test")
            return
        }
        let text = try String(contentsOf: url, encoding: .utf8)
        let parsed = try CityCSV.parse(text)
        // 342 data rows (README of shared/data); 9 of them are placeholders (counted by hand from the file).
        #expect(parsed.rows.count + parsed.skippedPlaceholders == 342)
        #expect(parsed.skippedPlaceholders == 9)
        #expect(parsed.rows.count == 333)
        for row in parsed.rows {
            #expect(row.code.count == 6 && row.code.hasSuffix("00") && row.code.allSatisfy { $0.isASCII && $0.isNumber }, "\(row)")
            #expect(row.code.hasPrefix(row.provinceCode), "\(row)")
            #expect((2...343).contains(row.line))
            guard let entry = ChineseCities.byCode[row.code] else {
                Issue.record("\(row.code) \(row.nameZh) is missing from ChineseCities.byCode")
                continue
            }
            #expect(!entry.en.isEmpty && entry.en.allSatisfy(\.isASCII), "\(entry)")
            #expect(entry.zh == row.nameZh, "\(entry) vs \(row)")
        }
        #expect(Set(parsed.rows.map(\.code)).count == parsed.rows.count)
        let ningbo = parsed.rows.first { $0.code == "330200" }
        #expect(ningbo?.nameZh == "宁波市")
        #expect(ningbo?.provinceCode == "33")
        #expect(ChineseCities.byCode["330200"]?.en == "Ningbo")
        // Municipalities appear in the file only as placeholders.
        #expect(!parsed.rows.contains { $0.code == "110100" })
    }
}

@Suite("MRZ name transliteration")
struct MRZNameTransliterationTests {
    @Test("written names match their ICAO transliterations and nothing else", arguments: [
        ("Müller", "MUELLER", false, true), ("Müller", "MULLER", false, true), ("Müller", "MILLER", false, false),
        ("O'Neil", "ONEIL", false, true), ("O'Neil", "O NEIL", false, true), ("Strauß", "STRAUSS", false, true),
        ("García López", "GARCIA LOPEZ", false, true), ("Jean-Luc", "JEAN LUC", false, true), ("Zoë", "ZOE", false, true),
        ("Øster", "OESTER", false, true), ("Ångström", "AANGSTROEM", false, true), ("Ångström", "ANGSTROM", false, true),
        ("Smith", "SMITH", false, true), ("Smith", "SMITHE", false, false), ("Smithers", "SMITH", false, false),
        ("Smithers", "SMITH", true, true), ("Maximilian Alexander", "MAXIMILIAN AL", true, true),
        ("Maximilian Alexander", "MAXIMILIAN AB", true, false), ("Wŏn", "WON", false, true), ("", "", false, true),
        ("John", "", false, false),
    ] as [(String, String, Bool, Bool)])
    func transliteration(written: String, mrz: String, truncated: Bool, expected: Bool) {
        #expect(MRZNames.matches(declared: written, mrz: mrz, allowTruncation: truncated) == expected)
    }
}
