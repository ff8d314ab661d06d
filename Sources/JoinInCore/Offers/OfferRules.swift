/// Partner merchants' offers (issue 12): what an offer is, when it applies, how much it takes off,
/// which one wins, and how a refund shares its discount back. Handlers load, call these, persist.

/// The kinds of consumption venue a merchant belongs to (wire spelling).
public enum MerchantCategory: String, Sendable, CaseIterable, Codable {
    case shopping, dining, entertainment
}

/// Who pays for a discount.
public enum OfferFunding: String, Sendable, CaseIterable, Codable {
    /// The merchant charges less: it receives the discounted amount.
    case merchant
    /// A city budget pays the discount to the merchant, which receives the full price.
    case subsidy
}

/// Where an offer applies (always within one city).
public enum OfferScope: Sendable, Equatable, Hashable {
    case merchant(String)
    case merchantGroup(String)
    case category(MerchantCategory)

    public var type: String {
        switch self {
        case .merchant: return "merchant"
        case .merchantGroup: return "merchant_group"
        case .category: return "category"
        }
    }

    public var value: String {
        switch self {
        case .merchant(let id), .merchantGroup(let id): return id
        case .category(let category): return category.rawValue
        }
    }

    public static func parse(type: String, value: String) throws -> OfferScope {
        switch type {
        case "merchant": return .merchant(value)
        case "merchant_group": return .merchantGroup(value)
        case "category":
            guard let category = MerchantCategory(rawValue: value) else {
                let allowed = MerchantCategory.allCases.map(\.rawValue).joined(separator: ", ")
                throw DomainError.rule("offer.terms_invalid", "scope.category must be one of \(allowed), got '\(value.prefix(40))'")
            }
            return .category(category)
        default:
            throw DomainError.rule("offer.terms_invalid", "scope.type must be merchant, merchant_group or category, got '\(type.prefix(40))'")
        }
    }
}

/// How much an offer takes off a price.
public enum OfferDiscount: Sendable, Equatable, Codable {
    /// `basisPoints` / 10,000 of the price (1,000 = 10 % off), truncated to whole fen, at most `capFen`.
    case percentOff(basisPoints: Int, capFen: Int64?)
    /// `amountFen` off a price of at least `minimumSpendFen` (满减); the amount is always below the minimum.
    case amountOff(amountFen: Int64, minimumSpendFen: Int64)

    /// The discount on `priceFen`, or nil when the price is below the minimum spend. Never more than
    /// the price (nor the cap); the price minus the discount is what the card pays.
    public func discount(onPriceFen priceFen: Int64) -> Int64? {
        guard priceFen > 0 else { return nil }
        switch self {
        case .percentOff(let basisPoints, let capFen):
            // Full width, so any price gives the exact truncated share (valid prices fit anyway).
            let product = priceFen.multipliedFullWidth(by: Int64(basisPoints))
            let share = Int64(10_000).dividingFullWidth((high: product.high, low: product.low)).quotient
            let capped = capFen.map { min(share, $0) } ?? share
            return min(capped, priceFen)
        case .amountOff(let amountFen, let minimumSpendFen):
            guard priceFen >= minimumSpendFen else { return nil }
            return min(amountFen, priceFen)
        }
    }
}

/// A span of minutes in a Shanghai day, `startsAt` included, `endsAt` excluded (24:00 = 1440).
public struct MinuteWindow: Sendable, Equatable, Codable {
    public let startsAt: Int
    public let endsAt: Int

    public init(startsAt: Int, endsAt: Int) {
        self.startsAt = startsAt
        self.endsAt = endsAt
    }

    public func contains(_ minute: Int) -> Bool { (startsAt..<endsAt).contains(minute) }

    /// "HH:MM-HH:MM".
    public var text: String { "\(OfferRules.clock(startsAt))-\(OfferRules.clock(endsAt))" }
}

/// When an offer may be used: dates (Shanghai, both included), days of the week and times of day.
public struct OfferSchedule: Sendable, Equatable, Codable {
    public let validFrom: CivilDate
    public let validUntil: CivilDate
    /// ISO weekdays, 1 = Monday … 7 = Sunday, ascending, no repeats.
    public let weekdays: [Int]
    /// Empty: all day. Otherwise ascending, non-overlapping.
    public let windows: [MinuteWindow]

    public init(validFrom: CivilDate, validUntil: CivilDate, weekdays: [Int], windows: [MinuteWindow]) {
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.weekdays = weekdays
        self.windows = windows
    }
}

/// Uses per cardholder (a replacement card keeps counting: limits follow the person).
public struct OfferLimits: Sendable, Equatable, Codable {
    public let perDay: Int?
    public let total: Int?

    public init(perDay: Int?, total: Int?) {
        self.perDay = perDay
        self.total = total
    }
}

/// Everything an offer's rules consist of, validated.
public struct OfferTerms: Sendable, Equatable, Codable {
    public let discount: OfferDiscount
    public let schedule: OfferSchedule
    public let limits: OfferLimits
    public let funding: OfferFunding
    /// The most the offer may give away in total (required for subsidy-funded offers).
    public let budgetFen: Int64?

    public init(discount: OfferDiscount, schedule: OfferSchedule, limits: OfferLimits, funding: OfferFunding, budgetFen: Int64?) {
        self.discount = discount
        self.schedule = schedule
        self.limits = limits
        self.funding = funding
        self.budgetFen = budgetFen
    }

    /// The longest an offer may run.
    public static let validityDaysMax = 5 * 366
    public static let windowsMax = 6
    public static let perDayMax = 100
    public static let totalMax = 10_000

    /// Validates terms as entered; every refusal names the member it is about.
    public static func validated(percentOffBasisPoints: Int?, capFen: Int64?, amountOffFen: Int64?, minimumSpendFen: Int64?,
                                 validFrom: String, validUntil: String, weekdays: [Int]?, windows: [String]?,
                                 perDay: Int?, total: Int?, funding: OfferFunding, budgetFen: Int64?) throws -> OfferTerms {
        func fail(_ member: String, _ message: String) -> DomainError {
            DomainError.rule("offer.terms_invalid", "\(member): \(message)")
        }
        let money = 1...MoneyRules.amountFenMax
        let discount: OfferDiscount
        switch (percentOffBasisPoints, amountOffFen) {
        case (let basisPoints?, nil):
            guard minimumSpendFen == nil else { throw fail("minimum_spend_fen", "belongs to an amount-off offer, not a percent-off one") }
            guard (1...9_999).contains(basisPoints) else {
                throw fail("percent_off_bp", "must be 1-9999 basis points (1000 = 10% off), got \(basisPoints)")
            }
            if let capFen, !money.contains(capFen) { throw fail("cap_fen", "must be 1-\(MoneyRules.amountFenMax) fen, got \(capFen)") }
            discount = .percentOff(basisPoints: basisPoints, capFen: capFen)
        case (nil, let amountFen?):
            guard capFen == nil else { throw fail("cap_fen", "belongs to a percent-off offer; an amount-off offer is its own cap") }
            guard money.contains(amountFen) else { throw fail("amount_off_fen", "must be 1-\(MoneyRules.amountFenMax) fen, got \(amountFen)") }
            guard let minimumSpendFen else { throw fail("minimum_spend_fen", "is required with amount_off_fen") }
            guard money.contains(minimumSpendFen), minimumSpendFen > amountFen else {
                throw fail("minimum_spend_fen", "must be more than amount_off_fen (\(amountFen)) and at most \(MoneyRules.amountFenMax), got \(minimumSpendFen)")
            }
            discount = .amountOff(amountFen: amountFen, minimumSpendFen: minimumSpendFen)
        default:
            throw fail("percent_off_bp", "give exactly one of percent_off_bp and amount_off_fen")
        }
        guard let from = CivilDate(validFrom) else { throw fail("valid_from", "must be a real date as YYYY-MM-DD") }
        guard let until = CivilDate(validUntil) else { throw fail("valid_until", "must be a real date as YYYY-MM-DD") }
        guard from <= until else { throw fail("valid_until", "must not be before valid_from (\(from))") }
        guard from.adding(days: validityDaysMax - 1) >= until else { throw fail("valid_until", "an offer runs at most \(validityDaysMax) days") }
        let days = weekdays ?? Array(1...7)
        guard !days.isEmpty, days.allSatisfy({ (1...7).contains($0) }), Set(days).count == days.count else {
            throw fail("weekdays", "must be distinct ISO weekdays 1 (Monday) to 7 (Sunday), at least one")
        }
        let spans = try (windows ?? []).enumerated().map { index, text in
            guard let window = parseWindow(text) else {
                throw fail("windows[\(index)]", "must be HH:MM-HH:MM with the start before the end (24:00 ends the day), got '\(text.prefix(20))'")
            }
            return window
        }.sorted { $0.startsAt < $1.startsAt }
        guard spans.count <= windowsMax else { throw fail("windows", "at most \(windowsMax) windows") }
        for (earlier, later) in zip(spans, spans.dropFirst()) where later.startsAt < earlier.endsAt {
            throw fail("windows", "\(earlier.text) and \(later.text) overlap")
        }
        if let perDay, !(1...perDayMax).contains(perDay) { throw fail("per_card_per_day", "must be 1-\(perDayMax), got \(perDay)") }
        if let total, !(1...totalMax).contains(total) { throw fail("per_card_total", "must be 1-\(totalMax), got \(total)") }
        if let perDay, let total, perDay > total { throw fail("per_card_per_day", "must not exceed per_card_total (\(total))") }
        if let budgetFen, !money.contains(budgetFen) { throw fail("budget_fen", "must be 1-\(MoneyRules.amountFenMax) fen, got \(budgetFen)") }
        if funding == .subsidy && budgetFen == nil { throw fail("budget_fen", "is required for a subsidy-funded offer") }
        return OfferTerms(discount: discount, schedule: OfferSchedule(validFrom: from, validUntil: until, weekdays: days.sorted(), windows: spans),
                          limits: OfferLimits(perDay: perDay, total: total), funding: funding, budgetFen: budgetFen)
    }

    static func parseWindow(_ text: String) -> MinuteWindow? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = OfferRules.minute(String(parts[0])), let end = OfferRules.minute(String(parts[1])),
              start < end, start < 1440 else { return nil }
        return MinuteWindow(startsAt: start, endsAt: end)
    }
}

/// What the card has already used of one offer.
public struct OfferUsage: Sendable, Equatable {
    public let today: Int
    public let total: Int

    public init(today: Int, total: Int) {
        self.today = today
        self.total = total
    }
}

/// Why an offer does not apply to a payment (wire spelling).
public enum OfferRefusal: String, Sendable, CaseIterable, Codable {
    case withdrawn, notStarted = "not_started", ended, wrongWeekday = "wrong_weekday", outsideHours = "outside_hours"
    case minimumSpendNotMet = "minimum_spend_not_met", noDiscount = "no_discount", dailyLimitReached = "daily_limit_reached"
    case totalLimitReached = "total_limit_reached", budgetExhausted = "budget_exhausted", permitNotValid = "permit_not_valid"
}

/// One offer considered for one payment.
public struct OfferCandidate: Sendable, Equatable {
    public let id: String
    public let createdAtMs: Int64
    public let terms: OfferTerms
    public let withdrawn: Bool
    /// What the offer has given away so far (for the budget).
    public let discountedFen: Int64

    public init(id: String, createdAtMs: Int64, terms: OfferTerms, withdrawn: Bool, discountedFen: Int64) {
        self.id = id
        self.createdAtMs = createdAtMs
        self.terms = terms
        self.withdrawn = withdrawn
        self.discountedFen = discountedFen
    }

    public var budgetLeftFen: Int64? { terms.budgetFen.map { max(0, $0 - discountedFen) } }
}

public enum OfferRules {
    /// The discount `candidate` gives on `priceFen` at Shanghai `day` and `minute` for a card with
    /// `usage`, or why it does not apply. A discount is granted whole or not at all: a budget with
    /// less left than the discount refuses it.
    public static func evaluate(_ candidate: OfferCandidate, priceFen: Int64, day: CivilDate, minute: Int, usage: OfferUsage,
                                permitValid: Bool) -> Result<Int64, OfferRefusalError> {
        let terms = candidate.terms
        if candidate.withdrawn { return .failure(.init(.withdrawn)) }
        if !permitValid { return .failure(.init(.permitNotValid)) }
        if day < terms.schedule.validFrom { return .failure(.init(.notStarted)) }
        if day > terms.schedule.validUntil { return .failure(.init(.ended)) }
        if !terms.schedule.weekdays.contains(day.weekdayIndexFromMonday + 1) { return .failure(.init(.wrongWeekday)) }
        if !terms.schedule.windows.isEmpty && !terms.schedule.windows.contains(where: { $0.contains(minute) }) {
            return .failure(.init(.outsideHours))
        }
        guard let discount = terms.discount.discount(onPriceFen: priceFen) else { return .failure(.init(.minimumSpendNotMet)) }
        // A percentage of a few fen can truncate to nothing: nothing to grant, no use to count.
        guard discount > 0 else { return .failure(.init(.noDiscount)) }
        if let total = terms.limits.total, usage.total >= total { return .failure(.init(.totalLimitReached)) }
        if let perDay = terms.limits.perDay, usage.today >= perDay { return .failure(.init(.dailyLimitReached)) }
        if let left = candidate.budgetLeftFen, left < discount { return .failure(.init(.budgetExhausted)) }
        return .success(discount)
    }

    /// The eligible offers, best first: the largest discount; then the offer that ends first (use
    /// it or lose it); then merchant-funded before subsidy-funded (the public budget lasts longer);
    /// then the oldest offer; then the smallest id.
    public static func ranked(_ eligible: [(candidate: OfferCandidate, discountFen: Int64)]) -> [(candidate: OfferCandidate, discountFen: Int64)] {
        eligible.sorted { a, b in
            if a.discountFen != b.discountFen { return a.discountFen > b.discountFen }
            let endA = a.candidate.terms.schedule.validUntil, endB = b.candidate.terms.schedule.validUntil
            if endA != endB { return endA < endB }
            let fundA = a.candidate.terms.funding, fundB = b.candidate.terms.funding
            if fundA != fundB { return fundA == .merchant }
            if a.candidate.createdAtMs != b.candidate.createdAtMs { return a.candidate.createdAtMs < b.candidate.createdAtMs }
            return a.candidate.id < b.candidate.id
        }
    }

    /// The share of a payment's discount a refund gives back to its funder. Refunds are cumulative:
    /// after refunding `refundedAfterFen` of `paidFen` in all, `floor(discount × refunded / paid)`
    /// has been returned, so the shares never go backwards, never exceed the discount, and a full
    /// refund returns exactly the whole discount.
    public static func discountReturned(discountFen: Int64, paidFen: Int64, refundedBeforeFen: Int64, refundFen: Int64,
                                        returnedBeforeFen: Int64) -> Int64 {
        guard discountFen > 0, paidFen > 0 else { return 0 }
        let refundedAfter = min(paidFen, refundedBeforeFen + refundFen)
        let product = discountFen.multipliedFullWidth(by: refundedAfter)
        let (target, _) = paidFen.dividingFullWidth((high: product.high, low: product.low))
        return max(0, min(discountFen, target) - returnedBeforeFen)
    }

    /// Minutes since Shanghai midnight for an instant (China keeps UTC+8 all year).
    public static func shanghaiMinute(ms: Int64) -> Int {
        let seconds = (ms >= 0 ? ms / 1000 : (ms - 999) / 1000) + 8 * 3600
        return Int(((seconds % 86_400) + 86_400) % 86_400 / 60)
    }

    /// "HH:MM" for a minute of the day (1440 = "24:00").
    public static func clock(_ minute: Int) -> String {
        let hours = minute / 60, minutes = minute % 60
        return (hours < 10 ? "0" : "") + String(hours) + ":" + (minutes < 10 ? "0" : "") + String(minutes)
    }

    /// Parses "HH:MM" (00:00-24:00).
    static func minute(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard bytes.count == 5, bytes[2] == UInt8(ascii: ":") else { return nil }
        let digits = [bytes[0], bytes[1], bytes[3], bytes[4]]
        guard digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        let values = digits.map { Int($0 - UInt8(ascii: "0")) }
        let hours = values[0] * 10 + values[1], minutes = values[2] * 10 + values[3]
        guard minutes < 60, hours < 24 || (hours == 24 && minutes == 0) else { return nil }
        return hours * 60 + minutes
    }
}

/// An offer refusal as an error value (so `evaluate` can return a `Result`).
public struct OfferRefusalError: Error, Sendable, Equatable {
    public let refusal: OfferRefusal

    public init(_ refusal: OfferRefusal) { self.refusal = refusal }
}
