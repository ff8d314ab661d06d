import JoinInTestSupport
import Testing
@testable import JoinInCore

// Property tests for the domain rules with a seeded generator, so every run checks the same
// cases and a failure reproduces. Expected values come from the test-side `RulesCalendar` and
// small reference rules written here, not from the code under test.

@Suite("CivilDate properties")
struct CivilDatePropertyTests {
    @Test func daysSinceEpochRoundTripsOverAMillionDaysEitherWay() {
        var rng = SeededGenerator(seed: 0xC1D1_0001)
        for _ in 0..<20_000 {
            let n = Int.random(in: -1_000_000...1_000_000, using: &rng)
            let date = CivilDate(daysSinceEpoch: n)
            let expected = RulesCalendar.parts(n)
            #expect(rulesParts(date) == expected, "day \(n)")
            #expect(date.daysSinceEpoch == n, "day \(n)")
            #expect(RulesCalendar.days(expected) == n, "reference round trip at day \(n)")
            // Successive days differ by exactly one calendar day.
            let next = CivilDate(daysSinceEpoch: n + 1)
            #expect(rulesParts(next) == RulesCalendar.next(expected), "day after \(n)")
            #expect(date < next)
            #expect(date.adding(days: 1) == next)
            #expect(next.adding(days: -1) == date)
        }
        // The extremes of the range and of the supported years.
        for n in [-1_000_000, 1_000_000, -719_162, -719_163, 2_932_896, 2_932_897] {
            #expect(CivilDate(daysSinceEpoch: n).daysSinceEpoch == n)
            #expect(rulesParts(CivilDate(daysSinceEpoch: n)) == RulesCalendar.parts(n))
        }
    }

    @Test func everyDayOfAFullGregorianCycle() throws {
        // 146 097 days = 400 years, every calendar pattern once, walked day by day from 1900-01-01.
        var n = try #require(CivilDate(year: 1900, month: 1, day: 1)).daysSinceEpoch
        #expect(n == -25_567)
        var expected = RulesCalendar.Parts(year: 1900, month: 1, day: 1)
        var mismatches = 0
        for _ in 0..<146_097 {
            let date = CivilDate(daysSinceEpoch: n)
            if rulesParts(date) != expected || date.daysSinceEpoch != n
                || CivilDate(date.description) != date || CivilDate(year: expected.year, month: expected.month, day: expected.day) != date {
                mismatches += 1
                if mismatches <= 5 { Issue.record("day \(n): got \(date), expected \(expected)") }
            }
            expected = RulesCalendar.next(expected)
            n += 1
        }
        #expect(mismatches == 0)
        #expect(expected == RulesCalendar.Parts(year: 2300, month: 1, day: 1))
    }

    static func randomDate(using rng: inout SeededGenerator) -> CivilDate {
        // 1900-01-01 ... 2199-12-31, with extra weight on month ends and 29 February.
        let year = Int.random(in: 1900...2199, using: &rng)
        let month = Int.random(in: 1...12, using: &rng)
        let length = RulesCalendar.monthLength(month, year)
        let day = Bool.random(using: &rng) ? Int.random(in: 1...length, using: &rng) : length
        return CivilDate(year: year, month: month, day: day)!
    }

    @Test func addingMonthsAndYearsMatchTheReference() {
        var rng = SeededGenerator(seed: 0xC1D1_0002)
        for _ in 0..<10_000 {
            let date = Self.randomDate(using: &rng)
            let months = Int.random(in: -240...240, using: &rng)
            let years = Int.random(in: -50...50, using: &rng)
            let byMonths = date.adding(months: months)
            let byYears = date.adding(years: years)
            #expect(rulesParts(byMonths) == RulesCalendar.addingMonths(rulesParts(date), months), "\(date) + \(months) months")
            #expect(rulesParts(byYears) == RulesCalendar.addingYears(rulesParts(date), years), "\(date) + \(years) years")
            // The results are real dates.
            #expect(CivilDate(year: byMonths.year, month: byMonths.month, day: byMonths.day) == byMonths)
            #expect(CivilDate(year: byYears.year, month: byYears.month, day: byYears.day) == byYears)
        }
    }

    @Test func wholeYearsCountsReachedBirthdays() {
        // Reference: count the birthdays reached, a 29 February birthday falling on 1 March in common years.
        func birthday(_ birth: RulesCalendar.Parts, inYear year: Int) -> RulesCalendar.Parts {
            if birth.month == 2 && birth.day == 29 && !RulesCalendar.leap(year) { return .init(year: year, month: 3, day: 1) }
            return .init(year: year, month: birth.month, day: birth.day)
        }
        var rng = SeededGenerator(seed: 0xC1D1_0003)
        for _ in 0..<5_000 {
            let birth = Self.randomDate(using: &rng)
            let other = CivilDate(daysSinceEpoch: birth.daysSinceEpoch + Int.random(in: 0...40_000, using: &rng))
            let b = rulesParts(birth)
            var reached = 0
            var year = b.year + 1
            while RulesCalendar.days(birthday(b, inYear: year)) <= RulesCalendar.days(other) {
                reached += 1
                year += 1
            }
            #expect(birth.wholeYears(until: other) == reached, "\(birth) until \(other)")
        }
    }

    @Test func shanghaiMatchesFloorDivisionOfLocalTime() {
        var rng = SeededGenerator(seed: 0xC1D1_0004)
        let ranges: [ClosedRange<Int64>] = [
            -62_135_596_800 + 28_800 ... 253_402_300_799 - 28_800, // years 1...9999
            -200_000 ... 200_000, // around the epoch
            1_735_660_800 - 100_000 ... 1_735_660_800 + 100_000, // around 2025-01-01 Shanghai midnight
        ]
        for range in ranges {
            for _ in 0..<5_000 {
                let t = Int64.random(in: range, using: &rng)
                let localDays = RulesCalendar.floorDiv(Int(t) + 8 * 3600, 86_400)
                #expect(rulesParts(CivilDate.shanghai(unixSeconds: t)) == RulesCalendar.parts(localDays), "t = \(t)")
            }
        }
        // Every second around one Shanghai midnight (2025-01-01T00:00+08:00 = 1 735 660 800).
        for t in Int64(1_735_660_795)...1_735_660_805 {
            let expected = t < 1_735_660_800 ? rulesDate("2024-12-31") : rulesDate("2025-01-01")
            #expect(CivilDate.shanghai(unixSeconds: t) == expected)
        }
    }

    @Test func textRoundTrip() {
        var rng = SeededGenerator(seed: 0xC1D1_0005)
        for _ in 0..<5_000 {
            let date = CivilDate(daysSinceEpoch: Int.random(in: -719_162...2_932_896, using: &rng))
            let text = date.description
            #expect(text.count == 10)
            #expect(CivilDate(text) == date, "\(text)")
        }
    }
}

@Suite("PermitRules properties")
struct PermitRulesPropertyTests {
    @Test func validityStaysInsideContractAndCategoryCap() throws {
        var rng = SeededGenerator(seed: 0xBE12_0001)
        var issued = 0, refused = 0
        for iteration in 0..<20_000 {
            let category = [PermitCategory.A, .B, .C][Int.random(in: 0...2, using: &rng)]
            let years = category == .C ? 1 : 5
            var start = CivilDate(daysSinceEpoch: Int.random(in: 16_000...24_000, using: &rng)) // 2013...2035
            if iteration % 10 == 0 {
                // Leap days as contract start (and so as validFrom) on purpose.
                start = CivilDate(year: [2016, 2020, 2024, 2028][Int.random(in: 0...3, using: &rng)], month: 2, day: 29)!
            }
            let end = start.adding(days: Int.random(in: 1...3_653, using: &rng))
            let issue = CivilDate(daysSinceEpoch: start.daysSinceEpoch + Int.random(in: -500...4_000, using: &rng))

            // Reference: from the later of issue and start, to the earlier of contract end and the day
            // before the category's anniversary of validFrom.
            let fromDays = max(RulesCalendar.days(issue), RulesCalendar.days(start))
            let anniversary = RulesCalendar.addingYears(RulesCalendar.parts(fromDays), years)
            let untilDays = min(RulesCalendar.days(end), RulesCalendar.days(anniversary) - 1)

            if fromDays > untilDays {
                refused += 1
                rulesExpectError(.rule, "application.contract_ended") {
                    _ = try PermitRules.validity(category: category, contractStart: start, contractEnd: end, issueDate: issue)
                }
                continue
            }
            issued += 1
            let validity = try PermitRules.validity(category: category, contractStart: start, contractEnd: end, issueDate: issue)
            #expect(rulesParts(validity.validFrom) == RulesCalendar.parts(fromDays), "\(category) \(start)...\(end) issued \(issue)")
            #expect(rulesParts(validity.validUntil) == RulesCalendar.parts(untilDays), "\(category) \(start)...\(end) issued \(issue)")
            // The invariants, stated directly.
            #expect(validity.validUntil >= validity.validFrom)
            #expect(validity.validUntil <= end)
            #expect(validity.validFrom >= issue && validity.validFrom >= start)
            #expect(RulesCalendar.days(validity.validUntil) < RulesCalendar.days(anniversary))
            // A permit on the first day of validity is valid; the day after validUntil it is expired.
            #expect(PermitRules.status(validFrom: validity.validFrom, validUntil: validity.validUntil, cancelled: false, today: validity.validFrom) == .valid)
            #expect(PermitRules.status(validFrom: validity.validFrom, validUntil: validity.validUntil, cancelled: false, today: validity.validUntil) == .valid)
            #expect(PermitRules.status(validFrom: validity.validFrom, validUntil: validity.validUntil, cancelled: false, today: validity.validUntil.adding(days: 1)) == .expired)
        }
        // Both branches were exercised.
        #expect(issued > 1_000)
        #expect(refused > 1_000)
    }

    @Test func statusFollowsTheCalendar() {
        var rng = SeededGenerator(seed: 0xBE12_0002)
        for _ in 0..<5_000 {
            let until = Int.random(in: 18_000...22_000, using: &rng)
            let today = until + Int.random(in: -400...400, using: &rng)
            let cancelled = Int.random(in: 0..<4, using: &rng) == 0
            let from = until - Int.random(in: 0...1_800, using: &rng)
            let expected: PermitStatus = cancelled ? .cancelled : (today < from ? .pending : (today - until >= 1 ? .expired : .valid))
            #expect(PermitRules.status(validFrom: CivilDate(daysSinceEpoch: from), validUntil: CivilDate(daysSinceEpoch: until), cancelled: cancelled,
                                       today: CivilDate(daysSinceEpoch: today)) == expected)
        }
    }

    @Test func validatedNameIsIdempotentAndCollapsesWhitespace() throws {
        var rng = SeededGenerator(seed: 0xBE12_0003)
        let pieces = ["Anna", "Maria", "O'Neil", "von", "Jean-Luc", "J.", "Zoë", "Łukasz"]
        let gaps = [" ", "  ", "\t", "\n", " \t "]
        for _ in 0..<2_000 {
            let words = (0..<Int.random(in: 1...4, using: &rng)).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &rng)] }
            var raw = gaps[Int.random(in: 0..<gaps.count, using: &rng)]
            for word in words { raw += word + gaps[Int.random(in: 0..<gaps.count, using: &rng)] }
            let name = try PermitRules.validatedName(raw, field: "person.given_names", allowEmpty: false)
            #expect(name == words.joined(separator: " "), "\(raw.debugDescription)")
            #expect(try PermitRules.validatedName(name, field: "person.given_names", allowEmpty: false) == name)
        }
    }
}

@Suite("CardRules properties")
struct CardRulesPropertyTests {
    @Test func replacedAndCancelledAreTerminal() {
        for status in [CardStatus.replaced, .cancelled] {
            for action in CardAction.allCases {
                rulesExpectError(.conflict, "card.invalid_transition") {
                    _ = try CardRules.transition(from: status, action)
                }
            }
        }
    }

    @Test func randomWalksFollowTheTableAndEndInATerminalState() {
        var rng = SeededGenerator(seed: 0xCA4D_0001)
        let actions = CardAction.allCases
        for _ in 0..<2_000 {
            var status = CardStatus.issued
            var history: [CardStatus] = [status]
            for _ in 0..<12 {
                let action = actions[Int.random(in: 0..<actions.count, using: &rng)]
                let expected = CardRulesTests.expected[action]?[status]
                do {
                    let next = try CardRules.transition(from: status, action)
                    #expect(next == expected, "\(status) --\(action)--> \(next)")
                    status = next
                    history.append(status)
                } catch let error as DomainError {
                    #expect(expected == nil, "\(status) --\(action)--> \(error)")
                    #expect(error.kind == .conflict && error.code == "card.invalid_transition")
                } catch {
                    Issue.record("unexpected error \(error)")
                }
            }
            // Once a card is replaced or cancelled it never changes again, and never comes back to life.
            if let firstDead = history.firstIndex(where: { !$0.isLive }) {
                #expect(history[firstDead...].allSatisfy { $0 == history[firstDead] }, "\(history)")
            }
            // Frozen is never reached through these actions; debits only while active.
            #expect(!history.contains(.frozen))
            #expect(history.allSatisfy { $0.allowsDebits == ($0 == .active) })
        }
    }

    @Test func taxCertificateCountsForTwelveMonths() throws {
        // Reference: valid while today is before the same day 12 months later (clamped to the month's end).
        var rng = SeededGenerator(seed: 0xCA4D_0002)
        let residence = try ResidenceProof(kind: "temporary_residence_registration", number: "TRR-0001", validUntil: rulesDate("2099-12-31"))
        for _ in 0..<5_000 {
            let issued = CivilDate(daysSinceEpoch: Int.random(in: 18_000...22_000, using: &rng))
            let today = CivilDate(daysSinceEpoch: issued.daysSinceEpoch + Int.random(in: -5...400, using: &rng))
            let i = rulesParts(issued)
            let expiry = RulesCalendar.Parts(year: i.year + 1, month: i.month, day: min(i.day, RulesCalendar.monthLength(i.month, i.year + 1)))
            let tax = try TaxCertificate(number: "T-\(issued.daysSinceEpoch)", issuedOn: issued)
            let error = rulesDomainError { try CardRules.checkFinancialDocuments(tax: tax, residence: residence, today: today) }
            if today < issued {
                #expect(error?.code == "card.tax_certificate_invalid", "\(issued) on \(today)")
            } else if RulesCalendar.days(today) >= RulesCalendar.days(expiry) {
                #expect(error?.code == "card.tax_certificate_expired", "\(issued) on \(today)")
            } else {
                #expect(error == nil, "\(issued) on \(today): \(String(describing: error))")
            }
        }
    }
}

@Suite("Identity properties")
struct IdentityPropertyTests {
    @Test func lockoutIsMonotoneAndBounded() {
        var previous = LoginThrottle.lockoutSeconds(afterFailures: -10)
        for failures in -9...10_000 {
            let seconds = LoginThrottle.lockoutSeconds(afterFailures: failures)
            #expect(seconds >= previous, "after \(failures) failures")
            #expect((0...3600).contains(seconds))
            previous = seconds
        }
        var rng = SeededGenerator(seed: 0x1D_0001)
        for _ in 0..<2_000 {
            let a = Int.random(in: 0...Int.max - 1, using: &rng)
            let b = Int.random(in: a...Int.max, using: &rng)
            #expect(LoginThrottle.lockoutSeconds(afterFailures: a) <= LoginThrottle.lockoutSeconds(afterFailures: b))
        }
    }

    @Test func usernamesFromTheAllowedAlphabetNormaliseToLowercase() throws {
        var rng = SeededGenerator(seed: 0x1D_0002)
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        let rest = letters + Array("0123456789._-")
        for _ in 0..<2_000 {
            let length = Int.random(in: 3...64, using: &rng)
            var name = String(letters[Int.random(in: 0..<letters.count, using: &rng)])
            for _ in 1..<length { name.append(rest[Int.random(in: 0..<rest.count, using: &rng)]) }
            let lower = String(name.unicodeScalars.map { scalar -> Character in
                (65...90).contains(scalar.value) ? Character(Unicode.Scalar(scalar.value + 32)!) : Character(scalar)
            })
            #expect(try UsernamePolicy.validate(name) == lower, "\(name)")
        }
    }
}

@Suite("AuditChain properties")
struct AuditChainPropertyTests {
    @Test func anySingleTamperingIsFoundAtItsRecord() {
        var rng = SeededGenerator(seed: 0xA0D1_0001)
        for _ in 0..<300 {
            let count = Int.random(in: 1...30, using: &rng)
            let records = RulesAudit.chain(count: count)
            #expect(AuditChain.verify(records) == .intact(count: count))
            let index = Int.random(in: 0..<count, using: &rng)
            let changes = RulesAudit.fieldChanges(of: records[index].entry)
            let (field, changed) = changes[Int.random(in: 0..<changes.count, using: &rng)]
            var tampered = records
            tampered[index] = (changed, records[index].previousHash, records[index].hash)
            guard case .broken(let sequence, _) = AuditChain.verify(tampered) else {
                Issue.record("changing \(field) of record \(index + 1) of \(count) went unnoticed")
                continue
            }
            #expect(sequence == Int64(index + 1))
            // Rehashing the changed record (and everything after) is only invisible if it is the last one.
            var rehashed = Array(records[..<index])
            rehashed.append((changed, records[index].previousHash, AuditChain.hash(previous: records[index].previousHash, entry: changed)))
            rehashed.append(contentsOf: records[(index + 1)...])
            if index + 1 < count {
                #expect(AuditChain.verify(rehashed) == .broken(sequence: Int64(index + 2), reason: "previous hash does not match the record before it"))
            } else {
                #expect(AuditChain.verify(rehashed) == .intact(count: count))
            }
        }
    }

    @Test func hashesOfDistinctEntriesDiffer() {
        var rng = SeededGenerator(seed: 0xA0D1_0002)
        let alphabet = Array("ab:1")
        func word() -> String {
            String((0..<Int.random(in: 0...3, using: &rng)).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
        }
        var seen: [String: AuditEntry] = [:]
        for _ in 0..<5_000 {
            let entry = AuditEntry(sequence: Int64.random(in: 1...12, using: &rng), atMs: Int64.random(in: 1...12, using: &rng),
                                   actor: word(), action: word(), objectType: word(), objectID: word(), outcome: word(), detail: word())
            let hash = AuditChain.hash(previous: AuditChain.genesisHash, entry: entry)
            if let earlier = seen[hash] {
                #expect(earlier == entry, "two different entries share a hash")
            }
            seen[hash] = entry
            #expect(hash.utf8.count == 64 && hash.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) })
        }
    }
}

@Suite("CityCSV properties")
struct CityCSVPropertyTests {
    @Test func generatedFilesParseToTheirRows() throws {
        var rng = SeededGenerator(seed: 0xC5F_0001)
        let names = ["杭州市", "宁波市", "Shen, zhen", "a \"quoted\" name", "温州市", "x"]
        for _ in 0..<300 {
            let newline = Bool.random(using: &rng) ? "\r\n" : "\n"
            var text = (Bool.random(using: &rng) ? "\u{FEFF}" : "") + "code,name,provinceCode" + newline
            var expected: [CityCSV.Row] = []
            var skipped = 0
            var line = 1
            var codes = Set<String>()
            for _ in 0..<Int.random(in: 0...40, using: &rng) {
                line += 1
                let province = rulesTwoDigits(Int.random(in: 11...65, using: &rng))
                if Int.random(in: 0..<8, using: &rng) == 0 {
                    text += "\(province)01,\"市辖区\",\(province)" + newline
                    skipped += 1
                    continue
                }
                var code: String
                repeat { code = province + rulesTwoDigits(Int.random(in: 1...99, using: &rng)) } while codes.contains(code)
                codes.insert(code)
                let name = names[Int.random(in: 0..<names.count, using: &rng)]
                let quote = name.contains(",") || name.contains("\"") || Bool.random(using: &rng)
                let field = quote ? "\"" + name.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\"" : name
                text += "\(code),\(field),\(province)" + newline
                expected.append(CityCSV.Row(line: line, code: code + "00", nameZh: name, provinceCode: province))
            }
            if Bool.random(using: &rng) { text += newline }
            let parsed = try CityCSV.parse(text)
            #expect(parsed.rows == expected)
            #expect(parsed.skippedPlaceholders == skipped)
        }
    }
}

/// Two decimal digits, zero-padded.
private func rulesTwoDigits(_ value: Int) -> String {
    value < 10 ? "0\(value)" : "\(value)"
}
