/// Medical-insurance adjudication, pure: an itemised bill, the insured city's policy, the
/// person's yearly accumulators and personal-account balance in; the breakdown of who pays what
/// out. Pre-settlement (试算) and settlement call the same function, so the counter sees exactly
/// what settling will do (unless something changed in between, which settlement then shows).
///
/// Order of adjudication, line by line in bill order:
/// 1. class C: the whole line is the patient's (`class_c`);
/// 2. class B: `class_b_self_pay` = the policy's self-pay-first ratio of the line;
/// 3. what is left is eligible; the deductible (起付线) still open takes from it first;
/// 4. the fund reimburses the rest at the tier's ratio (`copay` is the remainder) …
/// 5. … but never past an annual cap still open (the cut is `over_cap`, the patient's);
/// 6. the personal account pays, up to its balance, those patient parts the policy lets it pay,
///    in the order class_c, class_b_self_pay, deductible, copay, over_cap; the rest is `cash`.
///
/// Rounding: each ratio is applied to one line and rounded half up to the fen
/// (`(amount × bp + 5,000) / 10,000`); the other side of the split is the remainder, so every
/// line's parts sum exactly to the line and the totals are the sums of the lines.
public enum SettlementRules {
    public static let linesMax = 500
    public static let quantityMax: Int64 = 100_000
    public static let unitPriceMaxFen: Int64 = 100_000_000
    public static let billMaxFen: Int64 = 10_000_000_000

    public struct BillLine: Sendable, Equatable {
        public let item: CatalogueItem
        public let quantity: Int64
        public let unitPriceFen: Int64

        public init(item: CatalogueItem, quantity: Int64, unitPriceFen: Int64) {
            self.item = item
            self.quantity = quantity
            self.unitPriceFen = unitPriceFen
        }
    }

    /// The person's year so far, under the insured city's policy.
    public struct Accumulators: Sendable, Equatable, Codable {
        /// Deductible already met this year for this visit type (year-period deductibles only).
        public var deductibleMetFen: Int64
        /// What the fund paid this year in all.
        public var fundPaidYearFen: Int64
        /// What the fund paid this year for this visit type (against its own cap).
        public var fundPaidVisitTypeFen: Int64

        public init(deductibleMetFen: Int64 = 0, fundPaidYearFen: Int64 = 0, fundPaidVisitTypeFen: Int64 = 0) {
            self.deductibleMetFen = deductibleMetFen
            self.fundPaidYearFen = fundPaidYearFen
            self.fundPaidVisitTypeFen = fundPaidVisitTypeFen
        }
    }

    /// Who pays what of one line (or of the bill, summed).
    public struct Parts: Sendable, Equatable, Codable {
        public var amountFen: Int64 = 0
        public var classCFen: Int64 = 0
        public var classBSelfPayFen: Int64 = 0
        public var deductibleFen: Int64 = 0
        public var copayFen: Int64 = 0
        public var overCapFen: Int64 = 0
        public var fundFen: Int64 = 0
        public var personalAccountFen: Int64 = 0
        public var cashFen: Int64 = 0

        public init() {}

        /// The patient's share (paid by the personal account and in cash).
        public var patientFen: Int64 { classCFen + classBSelfPayFen + deductibleFen + copayFen + overCapFen }

        public func part(_ part: PatientPart) -> Int64 {
            switch part {
            case .classC: return classCFen
            case .classBSelfPay: return classBSelfPayFen
            case .deductible: return deductibleFen
            case .copay: return copayFen
            case .overCap: return overCapFen
            }
        }

        static func + (a: Parts, b: Parts) -> Parts {
            var sum = Parts()
            sum.amountFen = a.amountFen + b.amountFen
            sum.classCFen = a.classCFen + b.classCFen
            sum.classBSelfPayFen = a.classBSelfPayFen + b.classBSelfPayFen
            sum.deductibleFen = a.deductibleFen + b.deductibleFen
            sum.copayFen = a.copayFen + b.copayFen
            sum.overCapFen = a.overCapFen + b.overCapFen
            sum.fundFen = a.fundFen + b.fundFen
            sum.personalAccountFen = a.personalAccountFen + b.personalAccountFen
            sum.cashFen = a.cashFen + b.cashFen
            return sum
        }
    }

    public struct Breakdown: Sendable, Equatable {
        public let lines: [Parts]
        public let total: Parts
        /// Deductible counted against the year (0 for per-visit deductibles).
        public let deductibleCountedFen: Int64
        /// The accumulators after this settlement.
        public let after: Accumulators
    }

    /// Rounds `amount × bp / 10,000` half up (amount ≥ 0, 0 ≤ bp ≤ 10,000).
    public static func share(_ amountFen: Int64, bp: Int64) -> Int64 {
        (amountFen * bp + 5_000) / 10_000
    }

    /// Checks the bill's shape: 1–500 lines, quantities and prices in range, a bounded total.
    public static func checkBill(_ lines: [BillLine]) throws {
        guard (1...linesMax).contains(lines.count) else {
            throw DomainError.malformed("health.bill_invalid", "a bill has 1-\(linesMax) lines, got \(lines.count)")
        }
        var total: Int64 = 0
        for (index, line) in lines.enumerated() {
            guard (1...quantityMax).contains(line.quantity) else {
                throw DomainError.malformed("health.bill_invalid", "lines[\(index)].quantity must be 1-\(quantityMax), got \(line.quantity)")
            }
            guard (0...unitPriceMaxFen).contains(line.unitPriceFen) else {
                throw DomainError.malformed("health.bill_invalid",
                                            "lines[\(index)].unit_price_fen must be 0-\(unitPriceMaxFen), got \(line.unitPriceFen)")
            }
            total += line.quantity * line.unitPriceFen
            guard total <= billMaxFen else {
                throw DomainError.malformed("health.bill_invalid", "the bill comes to more than \(billMaxFen) fen")
            }
        }
    }

    /// Adjudicates a bill. `tier` is the hospital's tier (nil at a pharmacy);
    /// `personalAccountAvailableFen` is 0 when the patient chose not to use the account.
    public static func adjudicate(policy: MedicalPolicy, visit: VisitType, tier: Int?, lines: [BillLine],
                                  before: Accumulators, personalAccountAvailableFen: Int64) throws -> Breakdown {
        try checkBill(lines)
        let (rules, terms) = try policy.terms(visit: visit, tier: tier)
        var deductibleLeft = rules.deductiblePeriod == .visit ? terms.deductibleFen : max(0, terms.deductibleFen - before.deductibleMetFen)
        var capLeft = max(0, policy.annualFundCapFen - before.fundPaidYearFen)
        if let visitCap = rules.annualFundCapFen { capLeft = min(capLeft, max(0, visitCap - before.fundPaidVisitTypeFen)) }
        var accountLeft = max(0, personalAccountAvailableFen)

        var result: [Parts] = []
        result.reserveCapacity(lines.count)
        for line in lines {
            var parts = Parts()
            parts.amountFen = line.quantity * line.unitPriceFen
            switch line.item.itemClass {
            case .C: parts.classCFen = parts.amountFen
            case .B: parts.classBSelfPayFen = share(parts.amountFen, bp: policy.classBSelfPayBp)
            case .A: break
            }
            let eligible = parts.amountFen - parts.classCFen - parts.classBSelfPayFen
            parts.deductibleFen = min(eligible, deductibleLeft)
            deductibleLeft -= parts.deductibleFen
            let reimbursable = eligible - parts.deductibleFen
            let byRatio = share(reimbursable, bp: terms.ratioBp)
            parts.copayFen = reimbursable - byRatio
            parts.fundFen = min(byRatio, capLeft)
            capLeft -= parts.fundFen
            parts.overCapFen = byRatio - parts.fundFen
            for part in PatientPart.allCases where rules.personalAccountPays.contains(part) {
                let paid = min(parts.part(part), accountLeft)
                parts.personalAccountFen += paid
                accountLeft -= paid
            }
            parts.cashFen = parts.patientFen - parts.personalAccountFen
            result.append(parts)
        }
        let total = result.reduce(Parts(), +)
        let counted = rules.deductiblePeriod == .year ? total.deductibleFen : 0
        var after = before
        after.deductibleMetFen += counted
        after.fundPaidYearFen += total.fundFen
        after.fundPaidVisitTypeFen += total.fundFen
        return Breakdown(lines: result, total: total, deductibleCountedFen: counted, after: after)
    }

    /// Accumulator keys per person and year: the deductible met per visit type, the fund paid in
    /// all and per visit type. A reversal subtracts what its settlement added.
    public enum AccumulatorKey {
        public static func deductible(_ visit: VisitType) -> String { "deductible:\(visit.rawValue)" }
        public static let fundYear = "fund:year"
        public static func fund(_ visit: VisitType) -> String { "fund:\(visit.rawValue)" }
    }
}

/// Monthly contributions (缴费) from the enrolment's declared wage and the year's policy.
public enum ContributionRules {
    public struct Line: Sendable, Equatable {
        public let insurance: InsuranceType
        public let baseFen: Int64
        public let employerFen: Int64
        public let employeeFen: Int64
        /// For medical insurance: the part credited to the personal account (the rest goes to the
        /// pooling fund). 0 for the other insurances.
        public let personalAccountFen: Int64
    }

    public static let wageMaxFen: Int64 = 100_000_000

    /// The contribution base is the declared monthly wage held within the policy's bounds.
    public static func base(wageFen: Int64, policy: MedicalPolicy) -> Int64 {
        min(max(wageFen, policy.contributionBaseMinFen), policy.contributionBaseMaxFen)
    }

    /// One month's contributions for the insurances enrolled, in `InsuranceType` order.
    public static func month(wageFen: Int64, insurances: Set<InsuranceType>, policy: MedicalPolicy) -> [Line] {
        let base = base(wageFen: wageFen, policy: policy)
        return InsuranceType.allCases.filter(insurances.contains).map { type in
            let rate = policy.rates[type] ?? ContributionRate(employerBp: 0, employeeBp: 0)
            let employer = SettlementRules.share(base, bp: rate.employerBp)
            let employee = SettlementRules.share(base, bp: rate.employeeBp)
            let personal = type == .medical ? min(SettlementRules.share(base, bp: policy.personalAccountBp), employer + employee) : 0
            return Line(insurance: type, baseFen: base, employerFen: employer, employeeFen: employee, personalAccountFen: personal)
        }
    }

    /// A contribution month `YYYY-MM`.
    public static func parseMonth(_ text: String, field: String) throws -> (year: Int, month: Int) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 7, parts.count == 2, parts[0].count == 4, parts[1].count == 2,
              parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }), let year = Int(parts[0]), let month = Int(parts[1]),
              (1...12).contains(month), MedicalPolicy.yearRange.contains(year) else {
            throw DomainError.malformed("health.month_invalid", "\(field) must be a month YYYY-MM, got '\(text.prefix(20))'")
        }
        return (year, month)
    }

    /// Whether a permit covers a contribution month: from the month it starts to the month it ends,
    /// or is cancelled, whichever is earlier (an enrolment ends with its permit).
    public static func permitCovers(month: String, validFrom: CivilDate, validUntil: CivilDate, cancelledOn: CivilDate?) -> Bool {
        let last = min(validUntil, cancelledOn ?? validUntil)
        return month >= Self.month(of: validFrom) && month <= Self.month(of: last)
    }

    /// The month `YYYY-MM` a date falls in.
    public static func month(of date: CivilDate) -> String {
        let text = date.description
        return String(text.prefix(7))
    }
}
