/// A city's social-insurance and medical-insurance policy for one year (issue 10): contribution
/// rates and base, the personal-account share, and for each kind of visit the deductible (起付线),
/// the reimbursement ratio by provider tier, the annual fund caps (封顶线), the class-B
/// self-pay-first ratio and which parts of the patient's share the personal account may pay.
///
/// Ratios and rates are basis points (1/10,000) and money is integer fen, so a policy never needs
/// a fraction. `MedicalPolicy.parse` reads the JSON the admin imports and validates it whole;
/// errors name the JSON path (`visits.outpatient.tiers.2.ratio_bp: …`).

/// The five insurances of China's social insurance (五险).
public enum InsuranceType: String, Sendable, CaseIterable, Codable, Comparable {
    case medical, pension, unemployment
    case workInjury = "work_injury"
    case maternity

    public static func < (a: InsuranceType, b: InsuranceType) -> Bool {
        allCases.firstIndex(of: a) ?? 0 < allCases.firstIndex(of: b) ?? 0
    }
}

/// Where the care happened, which decides the deductible period, ratio and caps.
public enum VisitType: String, Sendable, CaseIterable, Codable {
    case outpatient, inpatient, pharmacy
}

/// Designated medical providers: hospitals (tier 1–3) and designated retail pharmacies.
public enum ProviderKind: String, Sendable, CaseIterable, Codable {
    case hospital, pharmacy

    /// Which visits a provider of this kind settles: hospitals outpatient and inpatient care,
    /// pharmacies over-the-counter purchases.
    public var visitTypes: [VisitType] {
        switch self {
        case .hospital: return [.outpatient, .inpatient]
        case .pharmacy: return [.pharmacy]
        }
    }
}

/// Whether a deductible is met once per calendar year (outpatient pooling) or per visit
/// (per admission for inpatient care).
public enum DeductiblePeriod: String, Sendable, CaseIterable, Codable {
    case year, visit
}

/// The parts of a bill that are the patient's to pay, in the order the personal account pays them.
public enum PatientPart: String, Sendable, CaseIterable, Codable {
    /// Class-C items: never paid by the fund.
    case classC = "class_c"
    /// The self-pay-first share of class-B items.
    case classBSelfPay = "class_b_self_pay"
    /// What the deductible (起付线) took.
    case deductible
    /// The patient's share of what the fund reimburses by ratio.
    case copay
    /// What the fund would have paid by ratio but could not because an annual cap was reached.
    case overCap = "over_cap"
}

public struct ContributionRate: Sendable, Equatable, Codable {
    public let employerBp: Int64
    public let employeeBp: Int64

    public init(employerBp: Int64, employeeBp: Int64) {
        self.employerBp = employerBp
        self.employeeBp = employeeBp
    }
}

/// Deductible and ratio at one provider tier (or at a pharmacy).
public struct TierTerms: Sendable, Equatable, Codable {
    public let deductibleFen: Int64
    public let ratioBp: Int64

    public init(deductibleFen: Int64, ratioBp: Int64) {
        self.deductibleFen = deductibleFen
        self.ratioBp = ratioBp
    }
}

public struct VisitRules: Sendable, Equatable, Codable {
    public let deductiblePeriod: DeductiblePeriod
    /// Terms by hospital tier 1, 2, 3 (hospital visits) or under key 0 (pharmacy visits).
    public let terms: [Int: TierTerms]
    /// A cap on what the fund pays for this kind of visit in a year (e.g. outpatient pooling),
    /// on top of the policy's overall annual cap.
    public let annualFundCapFen: Int64?
    public let personalAccountPays: Set<PatientPart>

    public init(deductiblePeriod: DeductiblePeriod, terms: [Int: TierTerms], annualFundCapFen: Int64?, personalAccountPays: Set<PatientPart>) {
        self.deductiblePeriod = deductiblePeriod
        self.terms = terms
        self.annualFundCapFen = annualFundCapFen
        self.personalAccountPays = personalAccountPays
    }
}

public struct MedicalPolicy: Sendable, Equatable, Codable {
    public let cityCode: String
    public let year: Int
    public let contributionBaseMinFen: Int64
    public let contributionBaseMaxFen: Int64
    public let rates: [InsuranceType: ContributionRate]
    /// The share of the contribution base credited to the personal medical account each month.
    public let personalAccountBp: Int64
    public let classBSelfPayBp: Int64
    /// The fund's overall annual cap (封顶线) per insured person.
    public let annualFundCapFen: Int64
    public let visits: [VisitType: VisitRules]

    public init(cityCode: String, year: Int, contributionBaseMinFen: Int64, contributionBaseMaxFen: Int64,
                rates: [InsuranceType: ContributionRate], personalAccountBp: Int64, classBSelfPayBp: Int64,
                annualFundCapFen: Int64, visits: [VisitType: VisitRules]) {
        self.cityCode = cityCode
        self.year = year
        self.contributionBaseMinFen = contributionBaseMinFen
        self.contributionBaseMaxFen = contributionBaseMaxFen
        self.rates = rates
        self.personalAccountBp = personalAccountBp
        self.classBSelfPayBp = classBSelfPayBp
        self.annualFundCapFen = annualFundCapFen
        self.visits = visits
    }

    public static let yearRange = 2000...2100
    public static let moneyMaxFen: Int64 = 100_000_000_000
    public static let jsonBytesMax = JSONValue.maxParseBytes

    /// The terms for a visit at a provider: hospital tiers 1–3, pharmacies have none (nil).
    public func terms(visit: VisitType, tier: Int?) throws -> (rules: VisitRules, terms: TierTerms) {
        guard let rules = visits[visit], let terms = rules.terms[tier ?? 0] else {
            throw DomainError.rule("health.policy_incomplete", "the \(year) policy of city \(cityCode) has no terms for \(visit.rawValue) visits"
                                   + (tier.map { " at tier \($0)" } ?? ""))
        }
        return (rules, terms)
    }

    /// Reads and validates a policy document (the whole of it: the first error is thrown, nothing
    /// is kept). Unknown members are refused so that a misspelt field is not silently ignored.
    public static func parse(_ bytes: [UInt8]) throws -> MedicalPolicy {
        guard bytes.count <= jsonBytesMax else {
            throw DomainError.malformed("health.policy_invalid", "the policy is \(bytes.count) bytes, more than the \(jsonBytesMax) allowed")
        }
        let root: JSONValue
        do { root = try JSONValue.parse(bytes) } catch {
            throw DomainError.malformed("health.policy_invalid", "the policy is not JSON with integer numbers: \(error)")
        }
        var reader = PolicyReader()
        return try reader.policy(root)
    }
}

/// Walks a policy document, naming the path of every error.
private struct PolicyReader {
    func fail(_ path: String, _ message: String) -> DomainError {
        DomainError.malformed("health.policy_invalid", "\(path): \(message)")
    }

    func object(_ value: JSONValue?, _ path: String, allowed: Set<String>, required: Set<String>) throws -> JSONValue {
        guard let value, let members = value.members else { throw fail(path, "must be an object") }
        for (name, _) in members {
            guard allowed.contains(name) else { throw fail(path.isEmpty ? name : "\(path).\(name)", "is not a member of a policy") }
        }
        if Set(members.map(\.0)).count != members.count { throw fail(path, "names a member twice") }
        for name in required.sorted() where value[name] == nil {
            throw fail(path.isEmpty ? name : "\(path).\(name)", "is required")
        }
        return value
    }

    func integer(_ value: JSONValue?, _ path: String, in range: ClosedRange<Int64>) throws -> Int64 {
        guard let number = value?.int else { throw fail(path, "must be an integer") }
        guard range.contains(number) else { throw fail(path, "must be between \(range.lowerBound) and \(range.upperBound), got \(number)") }
        return number
    }

    func basisPoints(_ value: JSONValue?, _ path: String) throws -> Int64 {
        try integer(value, path, in: 0...10_000)
    }

    func money(_ value: JSONValue?, _ path: String) throws -> Int64 {
        try integer(value, path, in: 0...MedicalPolicy.moneyMaxFen)
    }

    mutating func policy(_ root: JSONValue) throws -> MedicalPolicy {
        let top = try object(root, "", allowed: ["city_code", "year", "contribution_base", "rates", "personal_account_bp",
                                                 "class_b_self_pay_bp", "annual_fund_cap_fen", "visits", "note"],
                             required: ["city_code", "year", "contribution_base", "rates", "personal_account_bp",
                                        "class_b_self_pay_bp", "annual_fund_cap_fen", "visits"])
        guard let city = top["city_code"]?.string, city.count == 6, city.allSatisfy(\.isASCIIDigit) else {
            throw fail("city_code", "must be a 6-digit administrative division code")
        }
        if let note = top["note"], note.string == nil || (note.string?.scalarCount ?? 0) > 500 {
            throw fail("note", "must be a string of at most 500 characters")
        }
        let year = Int(try integer(top["year"], "year", in: Int64(MedicalPolicy.yearRange.lowerBound)...Int64(MedicalPolicy.yearRange.upperBound)))
        let base = try object(top["contribution_base"], "contribution_base", allowed: ["min_fen", "max_fen"], required: ["min_fen", "max_fen"])
        let baseMin = try integer(base["min_fen"], "contribution_base.min_fen", in: 1...MedicalPolicy.moneyMaxFen)
        let baseMax = try integer(base["max_fen"], "contribution_base.max_fen", in: 1...MedicalPolicy.moneyMaxFen)
        guard baseMin <= baseMax else { throw fail("contribution_base", "min_fen \(baseMin) is above max_fen \(baseMax)") }

        let names = Set(InsuranceType.allCases.map(\.rawValue))
        let ratesObject = try object(top["rates"], "rates", allowed: names, required: names)
        var rates: [InsuranceType: ContributionRate] = [:]
        for type in InsuranceType.allCases {
            let path = "rates.\(type.rawValue)"
            let rate = try object(ratesObject[type.rawValue], path, allowed: ["employer_bp", "employee_bp"], required: ["employer_bp", "employee_bp"])
            rates[type] = ContributionRate(employerBp: try basisPoints(rate["employer_bp"], "\(path).employer_bp"),
                                           employeeBp: try basisPoints(rate["employee_bp"], "\(path).employee_bp"))
        }
        let personalBp = try basisPoints(top["personal_account_bp"], "personal_account_bp")
        let medical = rates[.medical] ?? ContributionRate(employerBp: 0, employeeBp: 0)
        guard personalBp <= medical.employerBp + medical.employeeBp else {
            throw fail("personal_account_bp", "\(personalBp) is more than the medical contribution itself (\(medical.employerBp + medical.employeeBp) bp)")
        }
        let classB = try basisPoints(top["class_b_self_pay_bp"], "class_b_self_pay_bp")
        let annualCap = try integer(top["annual_fund_cap_fen"], "annual_fund_cap_fen", in: 1...MedicalPolicy.moneyMaxFen)

        let visitNames = Set(VisitType.allCases.map(\.rawValue))
        let visitsObject = try object(top["visits"], "visits", allowed: visitNames, required: visitNames)
        var visits: [VisitType: VisitRules] = [:]
        for visit in VisitType.allCases {
            visits[visit] = try visitRules(visitsObject[visit.rawValue], visit: visit, annualCap: annualCap)
        }
        return MedicalPolicy(cityCode: city, year: year, contributionBaseMinFen: baseMin, contributionBaseMaxFen: baseMax, rates: rates,
                             personalAccountBp: personalBp, classBSelfPayBp: classB, annualFundCapFen: annualCap, visits: visits)
    }

    func visitRules(_ value: JSONValue?, visit: VisitType, annualCap: Int64) throws -> VisitRules {
        let path = "visits.\(visit.rawValue)"
        let common: Set<String> = ["deductible_period", "annual_fund_cap_fen", "personal_account_pays"]
        let shape: Set<String> = visit == .pharmacy ? ["deductible_fen", "ratio_bp"] : ["tiers"]
        let rules = try object(value, path, allowed: common.union(shape), required: shape.union(["deductible_period", "personal_account_pays"]))
        guard let periodText = rules["deductible_period"]?.string, let period = DeductiblePeriod(rawValue: periodText) else {
            throw fail("\(path).deductible_period", "must be one of year, visit")
        }
        var cap: Int64?
        if let capValue = rules["annual_fund_cap_fen"] {
            let visitCap = try integer(capValue, "\(path).annual_fund_cap_fen", in: 1...MedicalPolicy.moneyMaxFen)
            guard visitCap <= annualCap else {
                throw fail("\(path).annual_fund_cap_fen", "\(visitCap) is above the overall annual_fund_cap_fen \(annualCap)")
            }
            cap = visitCap
        }
        guard let partsList = rules["personal_account_pays"]?.array else {
            throw fail("\(path).personal_account_pays", "must be an array of \(PatientPart.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var parts: Set<PatientPart> = []
        for (index, item) in partsList.enumerated() {
            guard let text = item.string, let part = PatientPart(rawValue: text) else {
                throw fail("\(path).personal_account_pays[\(index)]", "must be one of \(PatientPart.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard parts.insert(part).inserted else { throw fail("\(path).personal_account_pays[\(index)]", "\(text) is listed twice") }
        }
        var terms: [Int: TierTerms] = [:]
        if visit == .pharmacy {
            terms[0] = TierTerms(deductibleFen: try money(rules["deductible_fen"], "\(path).deductible_fen"),
                                 ratioBp: try basisPoints(rules["ratio_bp"], "\(path).ratio_bp"))
        } else {
            let tiers = try object(rules["tiers"], "\(path).tiers", allowed: ["1", "2", "3"], required: ["1", "2", "3"])
            for tier in 1...3 {
                let tierPath = "\(path).tiers.\(tier)"
                let entry = try object(tiers[String(tier)], tierPath, allowed: ["deductible_fen", "ratio_bp"], required: ["deductible_fen", "ratio_bp"])
                terms[tier] = TierTerms(deductibleFen: try money(entry["deductible_fen"], "\(tierPath).deductible_fen"),
                                        ratioBp: try basisPoints(entry["ratio_bp"], "\(tierPath).ratio_bp"))
            }
        }
        return VisitRules(deductiblePeriod: period, terms: terms, annualFundCapFen: cap, personalAccountPays: parts)
    }
}
