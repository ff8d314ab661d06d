import JoinInTestSupport
import Testing
@testable import JoinInCore

// Partner merchants' offers (issue 12): OfferRules.swift by example and by property. The discount
// is checked against a table worked out by hand (percent off truncated to whole fen, caps, 满减 at
// and around the minimum spend, prices up to MoneyRules.amountFenMax); the terms validator against
// one refusal per rule plus accepted terms compared field by field; `evaluate` against a walk that
// repairs one failing condition at a time (so each refusal appears in its documented order) and
// against the date, weekday, window and budget boundaries; `ranked` one tie-break level at a time
// and on shuffled input; the refund share by hand and over seeded random refund sequences against
// a floor(D × R / P) computed here with unsigned 128-bit arithmetic; then the Shanghai clock. No
// expected value is computed by the code under test.

// MARK: - Helpers

private func day(_ year: Int, _ month: Int, _ day: Int) -> CivilDate { CivilDate(year: year, month: month, day: day)! }

private func window(_ startsAt: Int, _ endsAt: Int) -> MinuteWindow { MinuteWindow(startsAt: startsAt, endsAt: endsAt) }

private func offer(id: String = "offer-1", createdAtMs: Int64 = 0, discount: OfferDiscount = .amountOff(amountFen: 2_000, minimumSpendFen: 10_000),
                   from: CivilDate = day(2026, 12, 1), until: CivilDate = day(2026, 12, 31), weekdays: [Int] = Array(1...7),
                   windows: [MinuteWindow] = [], perDay: Int? = nil, total: Int? = nil, funding: OfferFunding = .merchant,
                   budgetFen: Int64? = nil, withdrawn: Bool = false, discountedFen: Int64 = 0) -> OfferCandidate {
    let terms = OfferTerms(discount: discount, schedule: OfferSchedule(validFrom: from, validUntil: until, weekdays: weekdays, windows: windows),
                           limits: OfferLimits(perDay: perDay, total: total), funding: funding, budgetFen: budgetFen)
    return OfferCandidate(id: id, createdAtMs: createdAtMs, terms: terms, withdrawn: withdrawn, discountedFen: discountedFen)
}

/// 2026-12-07 is a Monday (2026-01-01 was a Thursday; 7 December is 340 days later, 340 = 48 × 7 + 4).
private let monday = day(2026, 12, 7)

/// A price in 1...10^10 fen, spread over every order of magnitude.
private func randomPrice(using rng: inout SeededGenerator) -> Int64 {
    var top: Int64 = 1
    for _ in 0..<Int.random(in: 0...10, using: &rng) { top *= 10 }
    return Int64.random(in: 1...top, using: &rng)
}

// MARK: - The discount by example

/// A price, an offer's discount, and the discount expected, worked out by hand.
struct OfferDiscountExample: Sendable, CustomTestStringConvertible {
    let priceFen: Int64
    let discount: OfferDiscount
    let expected: Int64?
    let note: String

    init(_ priceFen: Int64, _ discount: OfferDiscount, _ expected: Int64?, _ note: String) {
        (self.priceFen, self.discount, self.expected, self.note) = (priceFen, discount, expected, note)
    }

    var testDescription: String { "\(note): \(priceFen) fen → \(expected.map(String.init) ?? "nil")" }
}

private func pct(_ basisPoints: Int, cap: Int64? = nil) -> OfferDiscount { .percentOff(basisPoints: basisPoints, capFen: cap) }
private func off(_ amountFen: Int64, min minimumSpendFen: Int64) -> OfferDiscount { .amountOff(amountFen: amountFen, minimumSpendFen: minimumSpendFen) }

let offerDiscountExamples: [OfferDiscountExample] = [
    // Percent off, no cap: price × bp / 10,000 truncated.
    .init(1_999, pct(1_000), 199, "10% of 1,999 = 199.9 truncates to 199"),
    .init(1, pct(9_999), 0, "99.99% of 1 fen = 0.9999 truncates to 0"),
    .init(10_000, pct(9_999), 9_999, "99.99% of 10,000 = 9,999"),
    .init(10_000, pct(1), 1, "0.01% of 10,000 = 1"),
    .init(9_999, pct(1), 0, "0.01% of 9,999 = 0.9999 truncates to 0"),
    .init(12_345, pct(2_500), 3_086, "25% of 12,345 = 3,086.25"),
    .init(3, pct(5_000), 1, "50% of 3 = 1.5 truncates to 1"),
    .init(1, pct(1), 0, "0.01% of 1 fen"),
    .init(10_000_000_000, pct(9_999), 9_999_000_000, "99.99% of the largest amount"),
    .init(10_000_000_000, pct(1), 1_000_000, "0.01% of the largest amount"),
    .init(9_999_999_999, pct(3_333), 3_332_999_999, "33.33% of 9,999,999,999 = 3,332,999,999.6667"),
    // Percent off with a cap.
    .init(100_000, pct(2_000, cap: 15_000), 15_000, "20% = 20,000, cap 15,000 binds"),
    .init(50_000, pct(2_000, cap: 15_000), 10_000, "20% = 10,000, under the cap"),
    .init(75_000, pct(2_000, cap: 15_000), 15_000, "20% = 15,000 exactly the cap"),
    .init(75_005, pct(2_000, cap: 15_000), 15_000, "20% = 15,001, one over the cap"),
    .init(74_999, pct(2_000, cap: 15_000), 14_999, "20% = 14,999.8 truncates, under the cap"),
    .init(999, pct(1_000, cap: 100), 99, "10% of 999 = 99.9 → 99, cap 100 not reached"),
    .init(10_000_000_000, pct(9_999, cap: 1), 1, "cap of 1 fen on the largest amount"),
    .init(10_000_000_000, pct(5_000, cap: 10_000_000_000), 5_000_000_000, "cap as large as money allows"),
    // Amount off (满减): 2,000 off from 10,000.
    .init(10_000, off(2_000, min: 10_000), 2_000, "exactly the minimum spend"),
    .init(9_999, off(2_000, min: 10_000), nil, "one fen below the minimum spend"),
    .init(10_001, off(2_000, min: 10_000), 2_000, "one fen above the minimum spend"),
    .init(10_000_000_000, off(2_000, min: 10_000), 2_000, "far above the minimum spend"),
    .init(1, off(2_000, min: 10_000), nil, "1 fen"),
    .init(2, off(1, min: 2), 1, "smallest amount off at its minimum"),
    .init(1, off(1, min: 2), nil, "smallest amount off below its minimum"),
    .init(10_000_000_000, off(9_999_999_999, min: 10_000_000_000), 9_999_999_999, "largest amount off at its minimum"),
    // No price, no discount.
    .init(0, pct(1_000), nil, "price 0, percent off"),
    .init(0, off(1, min: 2), nil, "price 0, amount off"),
    .init(-500, pct(1_000), nil, "negative price"),
]

@Suite("OfferRules: the discount")
struct OfferDiscountTests {
    @Test(arguments: offerDiscountExamples)
    func discountByExample(_ example: OfferDiscountExample) {
        #expect(example.discount.discount(onPriceFen: example.priceFen) == example.expected)
    }

    @Test func theTableCoversEnoughCases() {
        #expect(offerDiscountExamples.count >= 20)
        #expect(Set(offerDiscountExamples.map(\.note)).count == offerDiscountExamples.count)
        #expect(offerDiscountExamples.contains { $0.priceFen == MoneyRules.amountFenMax })
    }

    @Test func propertiesOverRandomOffersAndPrices() {
        var rng = SeededGenerator(seed: 0x0FFE_0001)
        for _ in 0..<5_000 {
            let price = randomPrice(using: &rng)
            if Bool.random(using: &rng) {
                let bp = Int.random(in: 1...9_999, using: &rng)
                let cap: Int64? = Bool.random(using: &rng) ? randomPrice(using: &rng) : nil
                let discount = OfferDiscount.percentOff(basisPoints: bp, capFen: cap)
                guard let got = discount.discount(onPriceFen: price) else {
                    Issue.record("percent off gave nil on \(price) at \(bp) bp")
                    continue
                }
                // price ≤ 10^10 and bp < 10^4: the product fits in Int64 here.
                let truncated = price * Int64(bp) / 10_000
                #expect(got == min(truncated, cap ?? Int64.max), "\(price) at \(bp) bp, cap \(String(describing: cap))")
                #expect(got >= 0 && got <= price)
                if let cap { #expect(got <= cap) }
                // Below 100%: the card always pays at least 1 fen.
                let paid = price - got
                #expect(paid >= 1 && paid + got == price)
                // Non-decreasing in the price.
                let higher = price + Int64.random(in: 0...(MoneyRules.amountFenMax - price), using: &rng)
                let atHigher = discount.discount(onPriceFen: higher)
                #expect(atHigher != nil && atHigher! >= got, "\(price) → \(got), \(higher) → \(String(describing: atHigher))")
            } else {
                let minimum = Int64.random(in: 2...MoneyRules.amountFenMax, using: &rng)
                let amountTop = min(minimum - 1, randomPrice(using: &rng))
                let amount = Int64.random(in: 1...amountTop, using: &rng)
                let discount = OfferDiscount.amountOff(amountFen: amount, minimumSpendFen: minimum)
                let near = Bool.random(using: &rng) ? min(MoneyRules.amountFenMax, max(1, minimum + Int64.random(in: -2...2, using: &rng))) : price
                let got = discount.discount(onPriceFen: near)
                if near < minimum {
                    #expect(got == nil, "\(amount) off from \(minimum) on \(near)")
                } else {
                    #expect(got == min(amount, near), "\(amount) off from \(minimum) on \(near)")
                    if let got { #expect(near - got >= 1 && got >= 0) }
                }
            }
        }
    }
}

// MARK: - Validating terms

/// Terms as entered, with defaults that are valid (10% off, December 2026, merchant-funded).
struct OfferTermsInput: Sendable {
    var bp: Int? = 1_000
    var cap: Int64? = nil
    var amount: Int64? = nil
    var minimum: Int64? = nil
    var from = "2026-12-01"
    var until = "2026-12-31"
    var weekdays: [Int]? = nil
    var windows: [String]? = nil
    var perDay: Int? = nil
    var total: Int? = nil
    var funding = OfferFunding.merchant
    var budget: Int64? = nil

    func validated() throws -> OfferTerms {
        try OfferTerms.validated(percentOffBasisPoints: bp, capFen: cap, amountOffFen: amount, minimumSpendFen: minimum, validFrom: from,
                                 validUntil: until, weekdays: weekdays, windows: windows, perDay: perDay, total: total, funding: funding,
                                 budgetFen: budget)
    }

    static func amountOff(_ amount: Int64, min minimum: Int64?) -> OfferTermsInput {
        OfferTermsInput().with { $0.bp = nil; $0.amount = amount; $0.minimum = minimum }
    }

    func with(_ change: (inout OfferTermsInput) -> Void) -> OfferTermsInput {
        var copy = self
        change(&copy)
        return copy
    }
}

/// One invalid input and the member its refusal must name.
struct OfferTermsRefusal: Sendable, CustomTestStringConvertible {
    let name: String
    let input: OfferTermsInput
    let member: String

    init(_ name: String, _ member: String, _ input: OfferTermsInput) { (self.name, self.member, self.input) = (name, member, input) }

    var testDescription: String { name }
}

private let base = OfferTermsInput()
private let amountBase = OfferTermsInput.amountOff(2_000, min: 10_000)
private let sevenWindows = ["00:00-01:00", "02:00-03:00", "04:00-05:00", "06:00-07:00", "08:00-09:00", "10:00-11:00", "12:00-13:00"]

let offerTermsRefusals: [OfferTermsRefusal] = [
    .init("both percent and amount off", "percent_off_bp", base.with { $0.amount = 100; $0.minimum = 1_000 }),
    .init("neither percent nor amount off", "percent_off_bp", base.with { $0.bp = nil }),
    .init("0 basis points", "percent_off_bp", base.with { $0.bp = 0 }), .init("10,000 basis points", "percent_off_bp", base.with { $0.bp = 10_000 }),
    .init("negative basis points", "percent_off_bp", base.with { $0.bp = -1 }),
    .init("minimum spend with percent off", "minimum_spend_fen", base.with { $0.minimum = 10_000 }),
    .init("cap 0", "cap_fen", base.with { $0.cap = 0 }), .init("cap -1", "cap_fen", base.with { $0.cap = -1 }),
    .init("cap over the largest amount", "cap_fen", base.with { $0.cap = 10_000_000_001 }),
    .init("cap with amount off", "cap_fen", amountBase.with { $0.cap = 1_000 }),
    .init("amount off 0", "amount_off_fen", OfferTermsInput.amountOff(0, min: 10_000)),
    .init("amount off over the largest amount", "amount_off_fen", OfferTermsInput.amountOff(10_000_000_001, min: 10_000_000_002)),
    .init("amount off without a minimum", "minimum_spend_fen", OfferTermsInput.amountOff(2_000, min: nil)),
    .init("minimum equal to the amount", "minimum_spend_fen", OfferTermsInput.amountOff(2_000, min: 2_000)),
    .init("minimum below the amount", "minimum_spend_fen", OfferTermsInput.amountOff(2_000, min: 1_999)),
    .init("minimum over the largest amount", "minimum_spend_fen", OfferTermsInput.amountOff(2_000, min: 10_000_000_001)),
    .init("valid_from 30 February", "valid_from", base.with { $0.from = "2026-02-30" }),
    .init("valid_from not zero-padded", "valid_from", base.with { $0.from = "2026-12-1" }),
    .init("valid_until not a date", "valid_until", base.with { $0.until = "tomorrow" }),
    .init("valid_until 29 February of a common year", "valid_until", base.with { $0.until = "2027-02-29" }),
    .init("valid_until the day before valid_from", "valid_until", base.with { $0.from = "2026-12-02"; $0.until = "2026-12-01" }),
    // 2026-01-01 + 1,831 days = 2031-01-06 (2026, 2027 365 days, 2028 366, 2029, 2030 365: 1,826 to 2031-01-01).
    .init("1,831 days after valid_from", "valid_until", base.with { $0.from = "2026-01-01"; $0.until = "2031-01-06" }),
    // Both ends count: valid_from + 1,830 days would be 1,831 days of offer, one more than allowed.
    .init("1,830 days after valid_from", "valid_until", base.with { $0.from = "2026-01-01"; $0.until = "2031-01-05" }),
    .init("weekdays empty", "weekdays", base.with { $0.weekdays = [] }),
    .init("weekday 0", "weekdays", base.with { $0.weekdays = [0, 1] }), .init("weekday 8", "weekdays", base.with { $0.weekdays = [7, 8] }),
    .init("weekday repeated", "weekdays", base.with { $0.weekdays = [1, 3, 1] }),
] + ["9:00-10:00", "10:00-09:00", "09:00-09:00", "24:00-24:00", "09:60-10:00", "09:00", "09:00-10:00-11:00", "0900-1000", "-"].map { text in
    // One digit, end before start, no minutes, starting at 24:00, minute 60, no end, three times, no colons, nothing.
    OfferTermsRefusal("window '\(text)'", "windows[0]", base.with { $0.windows = [text] })
} + [
    .init("second window past 24:00", "windows[1]", base.with { $0.windows = ["08:00-09:00", "23:00-24:01"] }),
    .init("windows overlapping", "windows", base.with { $0.windows = ["09:00-11:00", "10:00-12:00"] }),
    .init("windows overlapping, given in reverse", "windows", base.with { $0.windows = ["12:00-14:00", "08:00-12:01"] }),
    .init("window inside another", "windows", base.with { $0.windows = ["08:00-20:00", "12:00-13:00"] }),
    .init("windows with the same start", "windows", base.with { $0.windows = ["09:00-10:00", "09:00-09:30"] }),
    .init("seven windows", "windows", base.with { $0.windows = sevenWindows }),
    .init("per day 0", "per_card_per_day", base.with { $0.perDay = 0 }), .init("per day 101", "per_card_per_day", base.with { $0.perDay = 101 }),
    .init("total 0", "per_card_total", base.with { $0.total = 0 }), .init("total 10,001", "per_card_total", base.with { $0.total = 10_001 }),
    .init("per day over the total", "per_card_per_day", base.with { $0.perDay = 5; $0.total = 4 }),
    .init("subsidy without a budget", "budget_fen", base.with { $0.funding = .subsidy }),
    .init("budget 0", "budget_fen", base.with { $0.budget = 0 }),
    .init("budget over the largest amount", "budget_fen", base.with { $0.funding = .subsidy; $0.budget = 10_000_000_001 }),
]

@Suite("OfferRules: validating terms")
struct OfferTermsValidationTests {
    @Test(arguments: offerTermsRefusals)
    func refused(_ refusal: OfferTermsRefusal) {
        do {
            let terms = try refusal.input.validated()
            Issue.record("accepted: \(terms)")
        } catch let error as DomainError {
            #expect(error.code == "offer.terms_invalid")
            #expect(error.kind == .rule)
            #expect(error.detail.contains(refusal.member), "\(error.detail)")
            if refusal.member == "windows" { #expect(!error.detail.contains("windows["), "\(error.detail)") }
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func acceptedTermsAreStoredAsGiven() throws {
        let input = OfferTermsInput.amountOff(2_000, min: 10_000).with {
            $0.from = "2026-12-01"; $0.until = "2027-03-31"; $0.weekdays = [7, 1, 3]
            $0.windows = ["18:00-24:00", "09:00-10:00"]; $0.perDay = 2; $0.total = 10; $0.funding = .subsidy; $0.budget = 1_000_000
        }
        let terms = try input.validated()
        #expect(terms.discount == .amountOff(amountFen: 2_000, minimumSpendFen: 10_000))
        #expect(terms.schedule.validFrom == day(2026, 12, 1))
        #expect(terms.schedule.validUntil == day(2027, 3, 31))
        #expect(terms.schedule.weekdays == [1, 3, 7])
        #expect(terms.schedule.windows == [window(540, 600), window(1_080, 1_440)])
        #expect(terms.limits == OfferLimits(perDay: 2, total: 10))
        #expect(terms.funding == .subsidy)
        #expect(terms.budgetFen == 1_000_000)
    }

    @Test func weekdaysDefaultToEveryDayAndWindowsToAllDay() throws {
        let terms = try base.with { $0.cap = 500 }.validated()
        #expect(terms.discount == .percentOff(basisPoints: 1_000, capFen: 500))
        #expect(terms.schedule.weekdays == [1, 2, 3, 4, 5, 6, 7])
        #expect(terms.schedule.windows == [])
        #expect(terms.limits == OfferLimits(perDay: nil, total: nil))
        #expect(terms.budgetFen == nil)
        #expect(terms.funding == .merchant)
    }

    @Test func extremesThatAreAccepted() throws {
        #expect(offerTermsRefusals.count >= 40)
        let accepted: [(String, OfferTermsInput)] = [
            ("the defaults, percent off", base), ("the defaults, amount off", amountBase),
            ("1 bp", base.with { $0.bp = 1 }),
            ("9,999 bp", base.with { $0.bp = 9_999 }),
            ("cap 1", base.with { $0.cap = 1 }),
            ("cap 10^10", base.with { $0.cap = 10_000_000_000 }),
            ("1 off from 2", OfferTermsInput.amountOff(1, min: 2)),
            ("10^10 - 1 off from 10^10", OfferTermsInput.amountOff(9_999_999_999, min: 10_000_000_000)),
            ("one day", base.with { $0.from = "2028-02-29"; $0.until = "2028-02-29" }),
            ("1,829 days after valid_from (1,830 days of offer)", base.with { $0.from = "2026-01-01"; $0.until = "2031-01-04" }),
            ("23:00-24:00", base.with { $0.windows = ["23:00-24:00"] }),
            ("00:00-24:00", base.with { $0.windows = ["00:00-24:00"] }),
            ("adjacent windows", base.with { $0.windows = ["10:00-11:00", "09:00-10:00"] }),
            ("six windows", base.with { $0.windows = Array(sevenWindows.prefix(6)) }),
            ("one weekday", base.with { $0.weekdays = [7] }),
            ("limits at their maxima", base.with { $0.perDay = 100; $0.total = 10_000 }),
            ("per day equal to the total", base.with { $0.perDay = 3; $0.total = 3 }),
            ("budget 1 on a subsidy", base.with { $0.funding = .subsidy; $0.budget = 1 }),
            ("budget 10^10 on a merchant offer", base.with { $0.budget = 10_000_000_000 }),
        ]
        for (name, input) in accepted {
            #expect(throws: Never.self, "\(name)") { _ = try input.validated() }
        }
        // The hand count behind the 1,829/1,831-day cases.
        #expect(day(2031, 1, 4).daysSinceEpoch - day(2026, 1, 1).daysSinceEpoch == 1_829)
        #expect(day(2031, 1, 6).daysSinceEpoch - day(2026, 1, 1).daysSinceEpoch == 1_831)
        let six = try base.with { $0.windows = Array(Array(sevenWindows.prefix(6)).reversed()) }.validated()
        #expect(six.schedule.windows.map(\.startsAt) == [0, 120, 240, 360, 480, 600])
    }
}

// MARK: - Evaluating an offer for a payment

@Suite("OfferRules: evaluate")
struct OfferEvaluateTests {
    typealias Outcome = Result<Int64, OfferRefusalError>

    static func refused(_ refusal: OfferRefusal) -> Outcome { .failure(OfferRefusalError(refusal)) }

    /// Everything wrong at once, then repaired one condition at a time: the refusal reported is
    /// always the first remaining one in the documented order, and every refusal shows up.
    @Test func refusalsComeInTheDocumentedOrder() {
        // 2,000 off from 10,000, Mondays 09:00-10:00 in December 2026, 2 a day, 5 in all, budget 10,000.
        var withdrawn = true, permitValid = false
        var date = day(2026, 11, 24) // a Tuesday before valid_from
        var minute = 600, price: Int64 = 9_999, usage = OfferUsage(today: 2, total: 5), discounted: Int64 = 8_001
        func outcome() -> Outcome {
            let candidate = offer(weekdays: [1], windows: [window(540, 600)], perDay: 2, total: 5, funding: .subsidy, budgetFen: 10_000,
                                  withdrawn: withdrawn, discountedFen: discounted)
            return OfferRules.evaluate(candidate, priceFen: price, day: date, minute: minute, usage: usage, permitValid: permitValid)
        }
        var seen: [OfferRefusal] = []
        func step(_ expected: OfferRefusal) {
            #expect(outcome() == Self.refused(expected))
            seen.append(expected)
        }
        step(.withdrawn)
        withdrawn = false
        step(.permitNotValid)
        permitValid = true
        step(.notStarted)
        date = day(2027, 1, 5) // a Tuesday after valid_until
        step(.ended)
        date = day(2026, 12, 8) // Tuesday
        step(.wrongWeekday)
        date = monday
        step(.outsideHours) // 10:00, the window's end
        minute = 540
        step(.minimumSpendNotMet)
        price = 10_000
        step(.totalLimitReached) // the daily limit is reached too
        usage = OfferUsage(today: 2, total: 4)
        step(.dailyLimitReached)
        usage = OfferUsage(today: 1, total: 4)
        step(.budgetExhausted) // 1,999 left for a discount of 2,000
        discounted = 8_000
        #expect(outcome() == .success(2_000)) // exactly 2,000 left
        // no_discount (a percentage truncated to zero) has its own test below.
        #expect(Set(seen) == Set(OfferRefusal.allCases).subtracting([.noDiscount]))
    }

    @Test func validFromAndValidUntilAreBothIncluded() {
        let candidate = offer(from: day(2026, 12, 1), until: day(2026, 12, 31))
        func on(_ date: CivilDate) -> Outcome {
            OfferRules.evaluate(candidate, priceFen: 10_000, day: date, minute: 0, usage: OfferUsage(today: 0, total: 0), permitValid: true)
        }
        #expect(on(day(2026, 11, 30)) == Self.refused(.notStarted))
        #expect(on(day(2026, 12, 1)) == .success(2_000))
        #expect(on(day(2026, 12, 31)) == .success(2_000))
        #expect(on(day(2027, 1, 1)) == Self.refused(.ended))
        #expect(on(day(2025, 12, 31)) == Self.refused(.notStarted))
        #expect(on(day(2026, 1, 1)) == Self.refused(.notStarted))
    }

    @Test func weekdaysAreISO() {
        #expect(monday.weekdayIndexFromMonday == 0)
        #expect(day(2026, 12, 13).weekdayIndexFromMonday == 6)
        // Saturday and Sunday only; the week of Monday 7 December 2026.
        let candidate = offer(weekdays: [6, 7])
        let expected: [Outcome] = [Self.refused(.wrongWeekday), Self.refused(.wrongWeekday), Self.refused(.wrongWeekday),
                                   Self.refused(.wrongWeekday), Self.refused(.wrongWeekday), .success(2_000), .success(2_000)]
        for (offset, outcome) in expected.enumerated() {
            let got = OfferRules.evaluate(candidate, priceFen: 10_000, day: day(2026, 12, 7 + offset), minute: 720,
                                          usage: OfferUsage(today: 0, total: 0), permitValid: true)
            #expect(got == outcome, "2026-12-\(7 + offset)")
        }
    }

    @Test func windowStartIsIncludedAndEndExcluded() {
        // 09:00-10:00 and 18:30-24:00.
        let candidate = offer(windows: [window(540, 600), window(1_110, 1_440)])
        let open: Set = [540, 541, 599, 1_110, 1_200, 1_439]
        for minute in [0, 539, 540, 541, 599, 600, 601, 1_109, 1_110, 1_200, 1_439] {
            let got = OfferRules.evaluate(candidate, priceFen: 10_000, day: monday, minute: minute, usage: OfferUsage(today: 0, total: 0),
                                          permitValid: true)
            #expect(got == (open.contains(minute) ? .success(2_000) : Self.refused(.outsideHours)), "minute \(minute)")
        }
        // No windows: the whole day.
        for minute in [0, 1_439] {
            #expect(OfferRules.evaluate(offer(), priceFen: 10_000, day: monday, minute: minute, usage: OfferUsage(today: 0, total: 0),
                                        permitValid: true) == .success(2_000))
        }
    }

    @Test func limitsAndBudgetBoundaries() {
        func run(_ candidate: OfferCandidate, price: Int64 = 10_000, today: Int = 0, total: Int = 0) -> Outcome {
            OfferRules.evaluate(candidate, priceFen: price, day: monday, minute: 720, usage: OfferUsage(today: today, total: total), permitValid: true)
        }
        let limited = offer(perDay: 2, total: 5)
        #expect(run(limited, today: 1, total: 4) == .success(2_000))
        #expect(run(limited, today: 1, total: 5) == Self.refused(.totalLimitReached))
        #expect(run(limited, today: 2, total: 4) == Self.refused(.dailyLimitReached))
        #expect(run(offer(), today: 1_000, total: 1_000_000) == .success(2_000))

        // 15% of 12,000 = 1,800 against a budget of 50,000.
        let percent = OfferDiscount.percentOff(basisPoints: 1_500, capFen: nil)
        #expect(run(offer(discount: percent, funding: .subsidy, budgetFen: 50_000, discountedFen: 48_200), price: 12_000) == .success(1_800))
        #expect(run(offer(discount: percent, funding: .subsidy, budgetFen: 50_000, discountedFen: 48_201), price: 12_000)
            == Self.refused(.budgetExhausted))
        // Over-spent budget (left clamps to 0), and a merchant-funded budget counts as well.
        #expect(run(offer(funding: .subsidy, budgetFen: 50_000, discountedFen: 60_000)) == Self.refused(.budgetExhausted))
        #expect(run(offer(budgetFen: 1_999)) == Self.refused(.budgetExhausted))
        #expect(run(offer(discountedFen: 9_000_000_000)) == .success(2_000)) // no budget: no limit
    }

    @Test func aZeroDiscountIsNoDiscount() {
        // 10% of 9 fen = 0.9 → 0: nothing to grant, reported as no_discount.
        let candidate = offer(discount: .percentOff(basisPoints: 1_000, capFen: nil))
        let usage = OfferUsage(today: 0, total: 0)
        #expect(OfferRules.evaluate(candidate, priceFen: 9, day: monday, minute: 0, usage: usage, permitValid: true)
            == Self.refused(.noDiscount))
        #expect(OfferRules.evaluate(candidate, priceFen: 10, day: monday, minute: 0, usage: usage, permitValid: true) == .success(1))
    }
}

// MARK: - Ranking

@Suite("OfferRules: ranked")
struct OfferRankedTests {
    typealias Entry = (candidate: OfferCandidate, discountFen: Int64)

    static func entry(_ id: String, _ discount: Int64, until: CivilDate, _ funding: OfferFunding, created: Int64) -> Entry {
        (offer(id: id, createdAtMs: created, until: until, funding: funding, budgetFen: funding == .subsidy ? 1_000_000 : nil), discount)
    }

    /// `better` ranks first whichever order the two are given in.
    static func expectFirst(_ better: Entry, _ worse: Entry, sourceLocation: SourceLocation = #_sourceLocation) {
        let ids = [better.candidate.id, worse.candidate.id]
        #expect(OfferRules.ranked([better, worse]).map { $0.candidate.id } == ids, sourceLocation: sourceLocation)
        #expect(OfferRules.ranked([worse, better]).map { $0.candidate.id } == ids, sourceLocation: sourceLocation)
    }

    // In each pair every later tie-break favours the worse entry, so only the level tested decides.
    @Test func largestDiscountFirst() {
        Self.expectFirst(Self.entry("z", 201, until: day(2026, 12, 31), .subsidy, created: 9),
                         Self.entry("a", 200, until: day(2026, 12, 1), .merchant, created: 0))
    }

    @Test func thenEarliestValidUntil() {
        Self.expectFirst(Self.entry("z", 200, until: day(2026, 12, 1), .subsidy, created: 9),
                         Self.entry("a", 200, until: day(2026, 12, 2), .merchant, created: 0))
    }

    @Test func thenMerchantBeforeSubsidy() {
        Self.expectFirst(Self.entry("z", 200, until: day(2026, 12, 1), .merchant, created: 9),
                         Self.entry("a", 200, until: day(2026, 12, 1), .subsidy, created: 0))
    }

    @Test func thenOldest() {
        Self.expectFirst(Self.entry("z", 200, until: day(2026, 12, 1), .merchant, created: 1_765_000_000_000),
                         Self.entry("a", 200, until: day(2026, 12, 1), .merchant, created: 1_765_000_000_001))
    }

    @Test func thenSmallestId() {
        Self.expectFirst(Self.entry("offer-a", 200, until: day(2026, 12, 1), .subsidy, created: 5),
                         Self.entry("offer-b", 200, until: day(2026, 12, 1), .subsidy, created: 5))
    }

    @Test func theOrderDoesNotDependOnTheInputOrder() {
        let entries = [
            Self.entry("offer-a", 3_000, until: day(2026, 12, 31), .subsidy, created: 5),
            Self.entry("offer-b", 2_000, until: day(2026, 12, 10), .subsidy, created: 9),
            Self.entry("offer-c", 2_000, until: day(2026, 12, 10), .merchant, created: 9),
            Self.entry("offer-d", 2_000, until: day(2026, 12, 10), .merchant, created: 1),
            Self.entry("offer-e", 2_000, until: day(2026, 12, 10), .merchant, created: 1),
            Self.entry("offer-f", 2_000, until: day(2026, 12, 20), .merchant, created: 0),
            Self.entry("offer-g", 1, until: day(2026, 12, 1), .merchant, created: 0),
            Self.entry("offer-h", 2_000, until: day(2026, 12, 9), .subsidy, created: 99),
        ]
        // a: largest; h: ends first; then 10 Dec merchants d, e (oldest, then id), c, then subsidy b; f; g.
        let expected = ["offer-a", "offer-h", "offer-d", "offer-e", "offer-c", "offer-b", "offer-f", "offer-g"]
        var rng = SeededGenerator(seed: 0x0FFE_0002)
        for _ in 0..<500 {
            let ranked = OfferRules.ranked(entries.shuffled(using: &rng))
            #expect(ranked.map { $0.candidate.id } == expected)
            #expect(ranked.map { $0.discountFen } == [3_000, 2_000, 2_000, 2_000, 2_000, 2_000, 2_000, 1])
        }
        #expect(OfferRules.ranked([]).isEmpty)
    }
}

// MARK: - Discount returned on refunds

@Suite("OfferRules: discountReturned")
struct OfferDiscountReturnedTests {
    /// Applies `refunds` in turn; returns each share.
    static func shares(discount: Int64, paid: Int64, refunds: [Int64]) -> [Int64] {
        var refunded: Int64 = 0, returned: Int64 = 0, result: [Int64] = []
        for refund in refunds {
            let share = OfferRules.discountReturned(discountFen: discount, paidFen: paid, refundedBeforeFen: refunded, refundFen: refund,
                                                    returnedBeforeFen: returned)
            result.append(share)
            refunded += refund
            returned += share
        }
        return result
    }

    @Test func byExample() {
        // 1,000 off, 9,000 paid: half refunded → 500, the other half → 500.
        #expect(Self.shares(discount: 1_000, paid: 9_000, refunds: [4_500, 4_500]) == [500, 500])
        // 7 off, 3 paid, 1 fen at a time: floor(7/3) = 2, floor(14/3) = 4, 7 → 2, 2, 3.
        #expect(Self.shares(discount: 7, paid: 3, refunds: [1, 1, 1]) == [2, 2, 3])
        // 1 of 9,000 refunded: 1,000 / 9,000 < 1 → 0; then everything else → 1,000.
        #expect(Self.shares(discount: 1_000, paid: 9_000, refunds: [1, 8_999]) == [0, 1_000])
        // 3,000 of 9,000: 333.3 → 333; 6,000: 666.6 → 666 (333 more); all: 1,000 (334 more).
        #expect(Self.shares(discount: 1_000, paid: 9_000, refunds: [3_000, 3_000, 3_000]) == [333, 333, 334])
        // A refund beyond what was paid counts as the whole payment.
        #expect(Self.shares(discount: 1_000, paid: 9_000, refunds: [20_000]) == [1_000])
        #expect(Self.shares(discount: 1_000, paid: 9_000, refunds: [9_000, 1]) == [1_000, 0])
        // No discount, nothing returned.
        #expect(Self.shares(discount: 0, paid: 9_000, refunds: [9_000]) == [0])
        // Already returned more than the target: never negative.
        #expect(OfferRules.discountReturned(discountFen: 1_000, paidFen: 9_000, refundedBeforeFen: 0, refundFen: 1, returnedBeforeFen: 500) == 0)
        // Products beyond Int64: 10^9 × 9,999,999,999 / 10^10 = 999,999,999.9 → 999,999,999, then the last 1.
        #expect(Self.shares(discount: 1_000_000_000, paid: 10_000_000_000, refunds: [9_999_999_999, 1]) == [999_999_999, 1])
        // 5 × 10^9 off 5 × 10^9 paid (a 50% offer): 3 × 10^9 refunded → 3 × 10^9, the rest → 2 × 10^9.
        #expect(Self.shares(discount: 5_000_000_000, paid: 5_000_000_000, refunds: [3_000_000_000, 2_000_000_000])
            == [3_000_000_000, 2_000_000_000])
        // 9,999,999,999 off, 1 fen paid (the largest 满减 at its minimum): the 1 fen refunded returns it all.
        #expect(Self.shares(discount: 9_999_999_999, paid: 1, refunds: [1]) == [9_999_999_999])
    }

    @Test func oneFenRefundsSumToTheDiscount() {
        let shares = Self.shares(discount: 1_000, paid: 9_000, refunds: Array(repeating: 1, count: 9_000))
        #expect(shares.reduce(0, +) == 1_000)
        #expect(shares.allSatisfy { $0 == 0 || $0 == 1 })
        // The 9th fen refunded is the first to return 1 (9 × 1,000 / 9,000 = 1).
        #expect(shares.firstIndex(of: 1) == 8)
        let coarse = Self.shares(discount: 9_000, paid: 1_000, refunds: Array(repeating: 1, count: 1_000))
        #expect(coarse.allSatisfy { $0 == 9 })
    }

    /// floor(d × r / p) with unsigned 128-bit arithmetic (d, r, p ≥ 0, p > 0, r ≤ p).
    static func floorShare(_ d: Int64, _ r: Int64, _ p: Int64) -> Int64 {
        let product = UInt64(d).multipliedFullWidth(by: UInt64(r))
        return Int64(UInt64(p).dividingFullWidth(product).quotient)
    }

    @Test func propertiesOverRandomRefundSequences() {
        #expect(Self.floorShare(1_000_000_000, 10_000_000_000, 10_000_000_000) == 1_000_000_000)
        #expect(Self.floorShare(7, 2, 3) == 4)
        var rng = SeededGenerator(seed: 0x0FFE_0003)
        for _ in 0..<2_000 {
            let discount = Int64.random(in: 0...1_000_000_000, using: &rng)
            let paid = randomPrice(using: &rng)
            let full = Bool.random(using: &rng)
            let target = full ? paid : Int64.random(in: 1...paid, using: &rng)
            var refunds: [Int64] = [], left = target
            while left > 0 && refunds.count < 8 {
                let refund = refunds.count == 7 ? left : Int64.random(in: 1...left, using: &rng)
                refunds.append(refund)
                left -= refund
            }
            let shares = Self.shares(discount: discount, paid: paid, refunds: refunds)
            var refunded: Int64 = 0, returned: Int64 = 0
            for (refund, share) in zip(refunds, shares) {
                refunded += refund
                returned += share
                #expect(share >= 0)
                #expect(returned <= discount)
                #expect(returned == Self.floorShare(discount, refunded, paid), "D \(discount) P \(paid) refunds \(refunds)")
            }
            #expect(refunded == target)
            if full { #expect(returned == discount, "D \(discount) P \(paid) refunds \(refunds)") }
        }
    }
}

// MARK: - Shanghai clock

@Suite("OfferRules: Shanghai minutes and clock")
struct OfferClockTests {
    @Test func shanghaiMinuteByExample() {
        #expect(OfferRules.shanghaiMinute(ms: 0) == 480) // 1970-01-01 00:00 UTC = 08:00 in Shanghai
        // 1,765,000,000 s = 20,428 days + 20,800 s: 05:46:40 UTC, 13:46:40 in Shanghai → minute 826.
        #expect(OfferRules.shanghaiMinute(ms: 1_765_000_000_000) == 826)
        #expect(OfferRules.shanghaiMinute(ms: 1_765_000_019_999) == 826) // 13:46:59.999
        #expect(OfferRules.shanghaiMinute(ms: 1_765_000_020_000) == 827) // 13:47:00
        // 20,429 days − 8 h = 1,765,036,800 s is Shanghai midnight.
        #expect(OfferRules.shanghaiMinute(ms: 1_765_036_800_000) == 0)
        #expect(OfferRules.shanghaiMinute(ms: 1_765_036_799_999) == 1_439)
        // Before 1970, on whole seconds: 1 s earlier is 07:59:59; 8 h earlier is midnight.
        #expect(OfferRules.shanghaiMinute(ms: -1_000) == 479)
        #expect(OfferRules.shanghaiMinute(ms: -28_800_000) == 0)
        #expect(OfferRules.shanghaiMinute(ms: -28_860_000) == 1_439)
        // Not on a whole second: still floored (07:59:59.999).
        #expect(OfferRules.shanghaiMinute(ms: -1) == 479)
    }

    @Test func clockByExample() {
        #expect(OfferRules.clock(0) == "00:00")
        #expect(OfferRules.clock(59) == "00:59")
        #expect(OfferRules.clock(60) == "01:00")
        #expect(OfferRules.clock(545) == "09:05")
        #expect(OfferRules.clock(1_439) == "23:59")
        #expect(OfferRules.clock(1_440) == "24:00")
        #expect(window(540, 1_440).text == "09:00-24:00")
    }

    @Test func everyMinuteRoundTrips() {
        for minute in 0...1_440 {
            let text = OfferRules.clock(minute)
            #expect(text.utf8.count == 5)
            #expect(OfferRules.minute(text) == minute, "\(text)")
        }
    }

    @Test func everyTwoDigitPairParsesExactlyWhenItIsATime() {
        let digits = Array("0123456789")
        for h in 0..<100 {
            for m in 0..<100 {
                let text = String([digits[h / 10], digits[h % 10], ":", digits[m / 10], digits[m % 10]])
                let valid = (h < 24 && m < 60) || (h == 24 && m == 0)
                #expect(OfferRules.minute(text) == (valid ? h * 60 + m : nil), "\(text)")
            }
        }
        for text in ["", "9:00", "09:0", "09-00", "0900", "09:000", " 9:00", "+9:00", "0a:00", "09:0 ", "09.00", "٠٩:٠٠"] {
            #expect(OfferRules.minute(text) == nil, "'\(text)'")
        }
    }
}
