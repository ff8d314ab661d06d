import Foundation
import JoinInTestSupport
import Testing
@testable import JoinInCore

// Medical insurance (issue 10): the adjudication engine by example (a table of bills with the
// breakdown worked out by hand from the rules documented in SettlementRules.swift) and by
// property (random policies and bills from a seeded generator, checked against invariants and a
// small reference adjudicator written here), then the policy and catalogue parsers and the
// contribution rules. No expected value is computed by the code under test.

// MARK: - Demo data, written out in code

/// The demo policy of docs/examples/health-demo/policy-330200-2026.json, built by hand (the
/// parser test checks that the file reads to exactly this).
enum HealthDemo {
    static let standardPays: Set<PatientPart> = [.classBSelfPay, .deductible, .copay]

    static func policy(outpatientPays: Set<PatientPart> = standardPays) -> MedicalPolicy {
        MedicalPolicy(
            cityCode: "330200", year: 2026, contributionBaseMinFen: 420_000, contributionBaseMaxFen: 2_100_000,
            rates: [
                .medical: ContributionRate(employerBp: 750, employeeBp: 200),
                .pension: ContributionRate(employerBp: 1600, employeeBp: 800),
                .unemployment: ContributionRate(employerBp: 50, employeeBp: 50),
                .workInjury: ContributionRate(employerBp: 40, employeeBp: 0),
                .maternity: ContributionRate(employerBp: 50, employeeBp: 0),
            ],
            personalAccountBp: 200, classBSelfPayBp: 1000, annualFundCapFen: 40_000_000,
            visits: [
                .outpatient: VisitRules(deductiblePeriod: .year,
                                        terms: [1: TierTerms(deductibleFen: 30_000, ratioBp: 7000),
                                                2: TierTerms(deductibleFen: 30_000, ratioBp: 6000),
                                                3: TierTerms(deductibleFen: 30_000, ratioBp: 5000)],
                                        annualFundCapFen: 500_000, personalAccountPays: outpatientPays),
                .inpatient: VisitRules(deductiblePeriod: .visit,
                                       terms: [1: TierTerms(deductibleFen: 30_000, ratioBp: 9000),
                                               2: TierTerms(deductibleFen: 60_000, ratioBp: 8500),
                                               3: TierTerms(deductibleFen: 80_000, ratioBp: 8000)],
                                       annualFundCapFen: nil, personalAccountPays: standardPays),
                .pharmacy: VisitRules(deductiblePeriod: .year, terms: [0: TierTerms(deductibleFen: 0, ratioBp: 0)],
                                      annualFundCapFen: nil, personalAccountPays: standardPays),
            ])
    }

    static func item(_ code: String, _ en: String, _ zh: String, _ itemClass: ItemClass, _ unit: String, _ kind: ItemKind) -> CatalogueItem {
        CatalogueItem(code: code, name: LocalizedName(en: en, zh: zh), itemClass: itemClass, kind: kind, unit: unit)
    }

    // The eleven items of catalogue-330200.csv.
    static let amoxicillin = item("XA01BAA001", "Amoxicillin capsules 0.25 g", "阿莫西林胶囊", .A, "box", .drug)
    static let paracetamol = item("XN02BEA002", "Paracetamol tablets 0.5 g", "对乙酰氨基酚片", .A, "box", .drug)
    static let atorvastatin = item("XC10AAA003", "Atorvastatin calcium tablets 20 mg", "阿托伐他汀钙片", .B, "box", .drug)
    static let cetirizine = item("XR06AEA004", "Cetirizine hydrochloride tablets 10 mg", "盐酸西替利嗪片", .B, "box", .drug)
    static let vitaminC = item("ZA0001", "Vitamin C effervescent tablets", "维生素C泡腾片", .C, "tube", .drug)
    static let consultation = item("110200001", "General outpatient consultation", "普通门诊诊查费", .A, "visit", .service)
    static let bloodCount = item("250101001", "Complete blood count", "血常规检查", .A, "test", .service)
    static let chestCT = item("210300001", "Chest CT scan", "胸部CT检查", .B, "scan", .service)
    static let bed = item("310800001", "Inpatient bed (standard ward)", "普通病房床位费", .A, "day", .service)
    static let appendectomy = item("330100001", "Appendectomy", "阑尾切除术", .A, "operation", .service)
    static let whitening = item("311300001", "Dental whitening", "牙齿美白", .C, "session", .service)

    static let catalogue = [amoxicillin, paracetamol, atorvastatin, cetirizine, vitaminC, consultation, bloodCount, chestCT, bed,
                            appendectomy, whitening]

    static var directory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent() // JoinInCoreTests
            .deletingLastPathComponent() // Tests
            .deletingLastPathComponent() // package root
            .appendingPathComponent("docs/examples/health-demo")
    }

    static func file(_ name: String) throws -> [UInt8] {
        let path = directory.appendingPathComponent(name).path
        return Array(try #require(FileManager.default.contents(atPath: path), "cannot read \(path)"))
    }
}

/// Who pays what, as literal numbers (fen) in the order of the breakdown.
struct Split: Equatable, Sendable, CustomStringConvertible {
    var amount: Int64 = 0
    var classC: Int64 = 0
    var classBSelfPay: Int64 = 0
    var deductible: Int64 = 0
    var copay: Int64 = 0
    var overCap: Int64 = 0
    var fund: Int64 = 0
    var personalAccount: Int64 = 0
    var cash: Int64 = 0

    init(amount: Int64, classC: Int64 = 0, classBSelfPay: Int64 = 0, deductible: Int64 = 0, copay: Int64 = 0, overCap: Int64 = 0,
         fund: Int64 = 0, personalAccount: Int64 = 0, cash: Int64 = 0) {
        self.amount = amount
        self.classC = classC
        self.classBSelfPay = classBSelfPay
        self.deductible = deductible
        self.copay = copay
        self.overCap = overCap
        self.fund = fund
        self.personalAccount = personalAccount
        self.cash = cash
    }

    init(_ parts: SettlementRules.Parts) {
        self.init(amount: parts.amountFen, classC: parts.classCFen, classBSelfPay: parts.classBSelfPayFen, deductible: parts.deductibleFen,
                  copay: parts.copayFen, overCap: parts.overCapFen, fund: parts.fundFen, personalAccount: parts.personalAccountFen,
                  cash: parts.cashFen)
    }

    var description: String {
        "amount \(amount) = class_c \(classC) + class_b_self_pay \(classBSelfPay) + deductible \(deductible) + copay \(copay)"
            + " + over_cap \(overCap) + fund \(fund); personal_account \(personalAccount), cash \(cash)"
    }
}

private func line(_ item: CatalogueItem, _ quantity: Int64, _ unitPriceFen: Int64) -> SettlementRules.BillLine {
    SettlementRules.BillLine(item: item, quantity: quantity, unitPriceFen: unitPriceFen)
}

private func acc(met: Int64 = 0, fundYear: Int64 = 0, fundVisit: Int64 = 0) -> SettlementRules.Accumulators {
    SettlementRules.Accumulators(deductibleMetFen: met, fundPaidYearFen: fundYear, fundPaidVisitTypeFen: fundVisit)
}

// MARK: - Bill → expected breakdown

/// One bill and the breakdown expected from the documented rules, worked out by hand.
struct BillExample: Sendable, CustomTestStringConvertible {
    let name: String
    var policy: MedicalPolicy = HealthDemo.policy()
    let visit: VisitType
    let tier: Int?
    let lines: [SettlementRules.BillLine]
    let before: SettlementRules.Accumulators
    /// The personal-account balance offered (0: the patient chose not to use it).
    let account: Int64
    let total: Split
    /// Per-line expectations, where the line order matters to the example.
    var perLine: [Split]? = nil
    let deductibleCounted: Int64
    let after: SettlementRules.Accumulators

    var testDescription: String { name }
}

// Demo policy: class B self-pay-first 10%; annual fund cap 400,000.00 yuan (40,000,000 fen).
// Outpatient: deductible 30,000 per YEAR, ratios tier 1/2/3 = 70/60/50%, outpatient cap 500,000.
// Inpatient: deductible per VISIT 30,000/60,000/80,000, ratios 90/85/80%, no own cap.
// Pharmacy: deductible 0, ratio 0. The personal account may pay class_b_self_pay, deductible, copay.
// Half-up: share(x, bp) = (x × bp + 5,000) / 10,000; the other side is the remainder.
let billExamples: [BillExample] = [
    // 2 × 3,500 = 7,000, all class A, deductible open 30,000 → all 7,000 is deductible, fund 0.
    // The account (100,000) pays the deductible. Year deductible met: 0 + 7,000.
    BillExample(name: "class A only, under the deductible", visit: .outpatient, tier: 2,
                lines: [line(HealthDemo.amoxicillin, 2, 3_500)],
                before: acc(), account: 100_000,
                total: Split(amount: 7_000, deductible: 7_000, personalAccount: 7_000),
                deductibleCounted: 7_000, after: acc(met: 7_000)),

    // Lines 2,500 + 4,000 + 35,000 = 41,500. Deductible 30,000 taken line by line: 2,500, 4,000,
    // then 23,500 of the third line; its remaining 11,500 at 70% → fund 8,050, copay 3,450.
    // Account (50,000) pays 30,000 + 3,450 = 33,450.
    BillExample(name: "class A crossing the deductible", visit: .outpatient, tier: 1,
                lines: [line(HealthDemo.consultation, 1, 2_500), line(HealthDemo.bloodCount, 1, 4_000),
                        line(HealthDemo.amoxicillin, 10, 3_500)],
                before: acc(), account: 50_000,
                total: Split(amount: 41_500, deductible: 30_000, copay: 3_450, fund: 8_050, personalAccount: 33_450),
                perLine: [Split(amount: 2_500, deductible: 2_500, personalAccount: 2_500),
                          Split(amount: 4_000, deductible: 4_000, personalAccount: 4_000),
                          Split(amount: 35_000, deductible: 23_500, copay: 3_450, fund: 8_050, personalAccount: 26_950)],
                deductibleCounted: 30_000, after: acc(met: 30_000, fundYear: 8_050, fundVisit: 8_050)),

    // Two lines of 1,005 each (deductible already met). Per line: self-pay 10% × 1,005 = 100.5 → 101;
    // eligible 904; 70% × 904 = 632.8 → fund 633, copay 271. Totals: 202 / 542 / 1,266 — rounding per
    // line, so self-pay is 202 and not 10% × 2,010 = 201.
    BillExample(name: "class B self-pay first, rounded half up per line", visit: .outpatient, tier: 1,
                lines: [line(HealthDemo.atorvastatin, 1, 1_005), line(HealthDemo.atorvastatin, 1, 1_005)],
                before: acc(met: 30_000), account: 100_000,
                total: Split(amount: 2_010, classBSelfPay: 202, copay: 542, fund: 1_266, personalAccount: 744),
                perLine: [Split(amount: 1_005, classBSelfPay: 101, copay: 271, fund: 633, personalAccount: 372),
                          Split(amount: 1_005, classBSelfPay: 101, copay: 271, fund: 633, personalAccount: 372)],
                deductibleCounted: 0, after: acc(met: 30_000, fundYear: 1_266, fundVisit: 1_266)),

    // The same 2,010 on ONE line (2 × 1,005): self-pay 10% × 2,010 = 201; eligible 1,809;
    // 70% × 1,809 = 1,266.3 → fund 1,266, copay 543.
    BillExample(name: "class B, same amount on one line", visit: .outpatient, tier: 1,
                lines: [line(HealthDemo.atorvastatin, 2, 1_005)],
                before: acc(met: 30_000), account: 100_000,
                total: Split(amount: 2_010, classBSelfPay: 201, copay: 543, fund: 1_266, personalAccount: 744),
                deductibleCounted: 0, after: acc(met: 30_000, fundYear: 1_266, fundVisit: 1_266)),

    // Class C 2 × 1,800 = 3,600 is the patient's whole; class A 3,500 at 70% → fund 2,450, copay 1,050.
    // The account may not pay class_c: it pays the copay 1,050 only; cash 3,600.
    BillExample(name: "class C never paid by the fund nor (demo policy) by the account", visit: .outpatient, tier: 1,
                lines: [line(HealthDemo.vitaminC, 2, 1_800), line(HealthDemo.amoxicillin, 1, 3_500)],
                before: acc(met: 30_000), account: 100_000,
                total: Split(amount: 7_100, classC: 3_600, copay: 1_050, fund: 2_450, personalAccount: 1_050, cash: 3_600),
                perLine: [Split(amount: 3_600, classC: 3_600, cash: 3_600),
                          Split(amount: 3_500, copay: 1_050, fund: 2_450, personalAccount: 1_050)],
                deductibleCounted: 0, after: acc(met: 30_000, fundYear: 2_450, fundVisit: 2_450)),

    // Same bill, but this policy lets the account pay class_c too: 3,600 + 1,050 = 4,650, no cash.
    BillExample(name: "class C paid by the account when the policy allows it",
                policy: HealthDemo.policy(outpatientPays: [.classC, .classBSelfPay, .deductible, .copay]),
                visit: .outpatient, tier: 1,
                lines: [line(HealthDemo.vitaminC, 2, 1_800), line(HealthDemo.amoxicillin, 1, 3_500)],
                before: acc(met: 30_000), account: 100_000,
                total: Split(amount: 7_100, classC: 3_600, copay: 1_050, fund: 2_450, personalAccount: 4_650),
                deductibleCounted: 0, after: acc(met: 30_000, fundYear: 2_450, fundVisit: 2_450)),

    // Class C 50,000 does not count towards the deductible: the class A 3,500 still meets it (3,500).
    // Account pays the 3,500 deductible, not the class C; cash 50,000.
    BillExample(name: "class C does not meet the deductible", visit: .outpatient, tier: 1,
                lines: [line(HealthDemo.whitening, 1, 50_000), line(HealthDemo.amoxicillin, 1, 3_500)],
                before: acc(), account: 100_000,
                total: Split(amount: 53_500, classC: 50_000, deductible: 3_500, personalAccount: 3_500, cash: 50_000),
                deductibleCounted: 3_500, after: acc(met: 3_500)),

    // Year deductible 25,000 met already → 5,000 open. CT (class B) 30,000: self-pay 3,000; eligible
    // 27,000; deductible 5,000; 22,000 at tier 3's 50% → fund 11,000, copay 11,000.
    // Account pays 3,000 + 5,000 + 11,000 = 19,000.
    BillExample(name: "year deductible already partly met", visit: .outpatient, tier: 3,
                lines: [line(HealthDemo.chestCT, 1, 30_000)],
                before: acc(met: 25_000, fundYear: 10_000, fundVisit: 10_000), account: 100_000,
                total: Split(amount: 30_000, classBSelfPay: 3_000, deductible: 5_000, copay: 11_000, fund: 11_000,
                             personalAccount: 19_000),
                deductibleCounted: 5_000, after: acc(met: 30_000, fundYear: 21_000, fundVisit: 21_000)),

    // Inpatient deductible is per visit: the 60,000 of tier 2 is taken again although 60,000 was met
    // before. Bed 5 × 8,000 = 40,000 all deductible; surgery 150,000: 20,000 deductible, 130,000 at 85%
    // → fund 110,500, copay 19,500. Nothing counted against the year (met stays 60,000).
    BillExample(name: "inpatient per-visit deductible ignores the deductible met", visit: .inpatient, tier: 2,
                lines: [line(HealthDemo.bed, 5, 8_000), line(HealthDemo.appendectomy, 1, 150_000)],
                before: acc(met: 60_000, fundYear: 2_000_000, fundVisit: 2_000_000), account: 1_000_000,
                total: Split(amount: 190_000, deductible: 60_000, copay: 19_500, fund: 110_500, personalAccount: 79_500),
                deductibleCounted: 0, after: acc(met: 60_000, fundYear: 2_110_500, fundVisit: 2_110_500)),

    // Tier 1 (70%): 10,001 × 70% = 7,000.7 → fund 7,001, copay 3,000.
    BillExample(name: "tier 1 ratio 70%", visit: .outpatient, tier: 1,
                lines: [line(HealthDemo.amoxicillin, 1, 10_001)],
                before: acc(met: 30_000), account: 100_000,
                total: Split(amount: 10_001, copay: 3_000, fund: 7_001, personalAccount: 3_000),
                deductibleCounted: 0, after: acc(met: 30_000, fundYear: 7_001, fundVisit: 7_001)),

    // Tier 3 (50%), same bill: 10,001 × 50% = 5,000.5 → half up → fund 5,001, copay 5,000.
    BillExample(name: "tier 3 ratio 50%, exact half rounds up", visit: .outpatient, tier: 3,
                lines: [line(HealthDemo.amoxicillin, 1, 10_001)],
                before: acc(met: 30_000), account: 100_000,
                total: Split(amount: 10_001, copay: 5_000, fund: 5_001, personalAccount: 5_000),
                deductibleCounted: 0, after: acc(met: 30_000, fundYear: 5_001, fundVisit: 5_001)),

    // Overall cap 40,000,000, paid 39,990,000 → 10,000 left. Surgery 150,000 at tier 1: deductible
    // 30,000; 120,000 × 90% = 108,000 by ratio, copay 12,000; fund only 10,000, over_cap 98,000.
    // Account pays 30,000 + 12,000 (not over_cap); cash 98,000.
    BillExample(name: "overall annual cap nearly reached", visit: .inpatient, tier: 1,
                lines: [line(HealthDemo.appendectomy, 1, 150_000)],
                before: acc(fundYear: 39_990_000, fundVisit: 5_000_000), account: 1_000_000,
                total: Split(amount: 150_000, deductible: 30_000, copay: 12_000, overCap: 98_000, fund: 10_000,
                             personalAccount: 42_000, cash: 98_000),
                deductibleCounted: 0, after: acc(fundYear: 40_000_000, fundVisit: 5_010_000)),

    // Outpatient cap 500,000, paid 498,000 → 2,000 left (overall cap far away). Consultation 2,500 × 70%
    // → fund 1,750, copay 750 (250 cap left); blood count 4,000 × 70% = 2,800 → fund 250, over_cap
    // 2,550, copay 1,200. Account pays copays 1,950; cash 2,550.
    BillExample(name: "outpatient cap reached before the overall cap", visit: .outpatient, tier: 1,
                lines: [line(HealthDemo.consultation, 1, 2_500), line(HealthDemo.bloodCount, 1, 4_000)],
                before: acc(met: 30_000, fundYear: 1_000_000, fundVisit: 498_000), account: 1_000_000,
                total: Split(amount: 6_500, copay: 1_950, overCap: 2_550, fund: 2_000, personalAccount: 1_950, cash: 2_550),
                perLine: [Split(amount: 2_500, copay: 750, fund: 1_750, personalAccount: 750),
                          Split(amount: 4_000, copay: 1_200, overCap: 2_550, fund: 250, personalAccount: 1_200, cash: 2_550)],
                deductibleCounted: 0, after: acc(met: 30_000, fundYear: 1_002_000, fundVisit: 500_000)),

    // Account 1,200 for a patient share of 4,100. Line 1 (class B 5,000): self-pay 500, deductible
    // 1,000 (29,000 met), 3,500 × 60% → fund 2,100, copay 1,400; the account pays self-pay 500 then
    // 700 of the deductible and is empty. Line 2 (class A 3,000): fund 1,800, copay 1,200 in cash.
    BillExample(name: "personal account smaller than the patient share", visit: .outpatient, tier: 2,
                lines: [line(HealthDemo.atorvastatin, 1, 5_000), line(HealthDemo.amoxicillin, 1, 3_000)],
                before: acc(met: 29_000), account: 1_200,
                total: Split(amount: 8_000, classBSelfPay: 500, deductible: 1_000, copay: 2_600, fund: 3_900,
                             personalAccount: 1_200, cash: 2_900),
                perLine: [Split(amount: 5_000, classBSelfPay: 500, deductible: 1_000, copay: 1_400, fund: 2_100,
                                personalAccount: 1_200, cash: 1_700),
                          Split(amount: 3_000, copay: 1_200, fund: 1_800, cash: 1_200)],
                deductibleCounted: 1_000, after: acc(met: 30_000, fundYear: 3_900, fundVisit: 3_900)),

    // Balance 0 (the patient chose not to use the account): 8 × 5,000 = 40,000; deductible 30,000;
    // 10,000 × 70% → fund 7,000, copay 3,000. All 33,000 of the patient share in cash.
    BillExample(name: "personal account not used", visit: .outpatient, tier: 1,
                lines: [line(HealthDemo.amoxicillin, 8, 5_000)],
                before: acc(), account: 0,
                total: Split(amount: 40_000, deductible: 30_000, copay: 3_000, fund: 7_000, cash: 33_000),
                deductibleCounted: 30_000, after: acc(met: 30_000, fundYear: 7_000, fundVisit: 7_000)),

    // Pharmacy, ratio 0, deductible 0: class A 2 × 1,250 = 2,500 all copay; class B 1,995: self-pay
    // 10% = 199.5 → 200, the remaining 1,795 copay. The account pays it all (4,495), the fund nothing.
    BillExample(name: "pharmacy with ratio 0: the account pays everything", visit: .pharmacy, tier: nil,
                lines: [line(HealthDemo.paracetamol, 2, 1_250), line(HealthDemo.cetirizine, 1, 1_995)],
                before: acc(), account: 100_000,
                total: Split(amount: 4_495, classBSelfPay: 200, copay: 4_295, personalAccount: 4_495),
                deductibleCounted: 0, after: acc()),

    // A free consultation and 3 free class B boxes (0 fen) leave every part 0; the class A 3,500
    // line: fund 2,450, copay 1,050.
    BillExample(name: "zero-price lines", visit: .outpatient, tier: 1,
                lines: [line(HealthDemo.consultation, 1, 0), line(HealthDemo.atorvastatin, 3, 0), line(HealthDemo.amoxicillin, 1, 3_500)],
                before: acc(met: 30_000), account: 100_000,
                total: Split(amount: 3_500, copay: 1_050, fund: 2_450, personalAccount: 1_050),
                perLine: [Split(amount: 0), Split(amount: 0),
                          Split(amount: 3_500, copay: 1_050, fund: 2_450, personalAccount: 1_050)],
                deductibleCounted: 0, after: acc(met: 30_000, fundYear: 2_450, fundVisit: 2_450)),

    // Policy letting the account pay all five parts, balance 4,000, outpatient cap 1,000 left,
    // 500 of the deductible open. Line 1 class C 1,800 → account 1,800 (2,200 left). Line 2 CT 10,000:
    // self-pay 1,000, deductible 500, 8,500 × 70% = 5,950 by ratio (copay 2,550) of which fund 1,000,
    // over_cap 4,950. Account in order: self-pay 1,000, deductible 500, copay 700 of 2,550, over_cap 0.
    BillExample(name: "account pays the parts in the fixed order",
                policy: HealthDemo.policy(outpatientPays: Set(PatientPart.allCases)),
                visit: .outpatient, tier: 1,
                lines: [line(HealthDemo.vitaminC, 1, 1_800), line(HealthDemo.chestCT, 1, 10_000)],
                before: acc(met: 29_500, fundYear: 499_000, fundVisit: 499_000), account: 4_000,
                total: Split(amount: 11_800, classC: 1_800, classBSelfPay: 1_000, deductible: 500, copay: 2_550, overCap: 4_950,
                             fund: 1_000, personalAccount: 4_000, cash: 6_800),
                perLine: [Split(amount: 1_800, classC: 1_800, personalAccount: 1_800),
                          Split(amount: 10_000, classBSelfPay: 1_000, deductible: 500, copay: 2_550, overCap: 4_950, fund: 1_000,
                                personalAccount: 2_200, cash: 6_800)],
                deductibleCounted: 500, after: acc(met: 30_000, fundYear: 500_000, fundVisit: 500_000)),
]

@Suite("HealthRules: bills by example")
struct HealthRulesExampleTests {
    @Test(arguments: billExamples)
    func billBreakdown(_ example: BillExample) throws {
        let breakdown = try SettlementRules.adjudicate(policy: example.policy, visit: example.visit, tier: example.tier, lines: example.lines,
                                                       before: example.before, personalAccountAvailableFen: example.account)
        #expect(Split(breakdown.total) == example.total)
        if let perLine = example.perLine {
            #expect(breakdown.lines.map(Split.init) == perLine)
        }
        #expect(breakdown.lines.count == example.lines.count)
        #expect(breakdown.deductibleCountedFen == example.deductibleCounted)
        #expect(breakdown.after == example.after)
    }

    @Test func theTableCoversEnoughCases() {
        #expect(billExamples.count >= 12)
        #expect(Set(billExamples.map(\.name)).count == billExamples.count)
        // Each visit type and each patient part appears somewhere in the table.
        #expect(Set(billExamples.map(\.visit)) == Set(VisitType.allCases))
        #expect(billExamples.contains { $0.total.classC > 0 })
        #expect(billExamples.contains { $0.total.overCap > 0 })
        #expect(billExamples.contains { $0.total.cash > 0 && $0.total.personalAccount > 0 })
    }

    @Test func theBillIsChecked() {
        let policy = HealthDemo.policy()
        func code(_ lines: [SettlementRules.BillLine]) -> String? {
            do {
                _ = try SettlementRules.adjudicate(policy: policy, visit: .outpatient, tier: 1, lines: lines, before: acc(),
                                                   personalAccountAvailableFen: 0)
                return nil
            } catch let error as DomainError { return error.code } catch { return "\(error)" }
        }
        #expect(code([]) == "health.bill_invalid")
        #expect(code([line(HealthDemo.amoxicillin, 0, 100)]) == "health.bill_invalid")
        #expect(code([line(HealthDemo.amoxicillin, 100_001, 100)]) == "health.bill_invalid")
        #expect(code([line(HealthDemo.amoxicillin, 1, -1)]) == "health.bill_invalid")
        #expect(code([line(HealthDemo.amoxicillin, 1, 100_000_001)]) == "health.bill_invalid")
        #expect(code(Array(repeating: line(HealthDemo.amoxicillin, 1, 1), count: 501)) == "health.bill_invalid")
        // 100,000 × 100,000,000 = 10^13 fen, more than the 10^10 a bill may come to.
        #expect(code([line(HealthDemo.amoxicillin, 100_000, 100_000_000)]) == "health.bill_invalid")
        #expect(code([line(HealthDemo.amoxicillin, 100_000, 100_000)]) == nil) // 10^10 exactly is allowed
        #expect(code(Array(repeating: line(HealthDemo.amoxicillin, 1, 1), count: 500)) == nil)
    }

    @Test func aVisitWithoutTermsIsRefused() {
        let policy = HealthDemo.policy()
        let lines = [line(HealthDemo.amoxicillin, 1, 100)]
        for (visit, tier) in [(VisitType.outpatient, Int?.none), (.inpatient, 4), (.outpatient, 0), (.pharmacy, 1)] {
            do {
                _ = try SettlementRules.adjudicate(policy: policy, visit: visit, tier: tier, lines: lines, before: acc(),
                                                   personalAccountAvailableFen: 0)
                Issue.record("\(visit) at tier \(String(describing: tier)) was adjudicated")
            } catch let error as DomainError {
                #expect(error.code == "health.policy_incomplete")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }
}

// MARK: - Properties over random policies and bills

/// An adjudicator written from the doc comment, independently of the engine: used to check the
/// engine's breakdown field by field.
private enum ReferenceAdjudicator {
    /// amount × bp / 10,000 rounded half up, by quotient and remainder.
    static func halfUp(_ amount: Int64, _ bp: Int64) -> Int64 {
        let product = amount * bp
        let (quotient, remainder) = product.quotientAndRemainder(dividingBy: 10_000)
        return remainder >= 5_000 ? quotient + 1 : quotient
    }

    static func run(policy: MedicalPolicy, visit: VisitType, tier: Int?, lines: [SettlementRules.BillLine],
                    before: SettlementRules.Accumulators, account: Int64) -> (lines: [Split], counted: Int64) {
        guard let rules = policy.visits[visit], let terms = rules.terms[tier ?? 0] else { return ([], 0) }
        var openDeductible: Int64
        switch rules.deductiblePeriod {
        case .visit: openDeductible = terms.deductibleFen
        case .year: openDeductible = terms.deductibleFen > before.deductibleMetFen ? terms.deductibleFen - before.deductibleMetFen : 0
        }
        var openCap = policy.annualFundCapFen > before.fundPaidYearFen ? policy.annualFundCapFen - before.fundPaidYearFen : 0
        if let visitCap = rules.annualFundCapFen {
            openCap = min(openCap, visitCap > before.fundPaidVisitTypeFen ? visitCap - before.fundPaidVisitTypeFen : 0)
        }
        var balance = account > 0 ? account : 0
        var result: [Split] = []
        var counted: Int64 = 0
        for bill in lines {
            var split = Split(amount: bill.quantity * bill.unitPriceFen)
            var eligible = split.amount
            if bill.item.itemClass == .C {
                split.classC = split.amount
                eligible = 0
            } else if bill.item.itemClass == .B {
                split.classBSelfPay = halfUp(split.amount, policy.classBSelfPayBp)
                eligible -= split.classBSelfPay
            }
            split.deductible = eligible < openDeductible ? eligible : openDeductible
            openDeductible -= split.deductible
            if rules.deductiblePeriod == .year { counted += split.deductible }
            let rest = eligible - split.deductible
            let byRatio = halfUp(rest, terms.ratioBp)
            split.copay = rest - byRatio
            split.fund = byRatio < openCap ? byRatio : openCap
            split.overCap = byRatio - split.fund
            openCap -= split.fund
            let ordered: [(PatientPart, Int64)] = [(.classC, split.classC), (.classBSelfPay, split.classBSelfPay), (.deductible, split.deductible),
                                                   (.copay, split.copay), (.overCap, split.overCap)]
            for (part, value) in ordered where rules.personalAccountPays.contains(part) {
                let paid = value < balance ? value : balance
                split.personalAccount += paid
                balance -= paid
            }
            split.cash = split.classC + split.classBSelfPay + split.deductible + split.copay + split.overCap - split.personalAccount
            result.append(split)
        }
        return (result, counted)
    }
}

private func sum(_ splits: [Split]) -> Split {
    var total = Split(amount: 0)
    for split in splits {
        total.amount += split.amount
        total.classC += split.classC
        total.classBSelfPay += split.classBSelfPay
        total.deductible += split.deductible
        total.copay += split.copay
        total.overCap += split.overCap
        total.fund += split.fund
        total.personalAccount += split.personalAccount
        total.cash += split.cash
    }
    return total
}

/// Random but valid inputs (within the ranges the parser accepts).
private enum RandomHealth {
    static func basisPoints(_ rng: inout SeededGenerator) -> Int64 {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0: return 0
        case 1: return 10_000
        case 2: return 5_000
        default: return Int64.random(in: 0...10_000, using: &rng)
        }
    }

    static func money(upTo max: Int64, _ rng: inout SeededGenerator) -> Int64 {
        switch Int.random(in: 0..<6, using: &rng) {
        case 0: return 0
        case 1: return Int64.random(in: 0...min(max, 1_000), using: &rng)
        default: return Int64.random(in: 0...max, using: &rng)
        }
    }

    static func policy(_ rng: inout SeededGenerator) -> MedicalPolicy {
        // Small caps now and then so that bills reach them.
        let annualCap = Bool.random(using: &rng) ? Int64.random(in: 1...2_000_000, using: &rng) : Int64.random(in: 1...60_000_000, using: &rng)
        var visits: [VisitType: VisitRules] = [:]
        for visit in VisitType.allCases {
            var terms: [Int: TierTerms] = [:]
            for tier in visit == .pharmacy ? [0] : [1, 2, 3] {
                terms[tier] = TierTerms(deductibleFen: money(upTo: 200_000, &rng), ratioBp: basisPoints(&rng))
            }
            let visitCap: Int64? = Bool.random(using: &rng) ? Int64.random(in: 1...annualCap, using: &rng) : nil
            let pays = Set(PatientPart.allCases.filter { _ in Bool.random(using: &rng) })
            visits[visit] = VisitRules(deductiblePeriod: Bool.random(using: &rng) ? .year : .visit, terms: terms, annualFundCapFen: visitCap,
                                       personalAccountPays: pays)
        }
        let medical = ContributionRate(employerBp: basisPoints(&rng), employeeBp: basisPoints(&rng))
        return MedicalPolicy(cityCode: "330200", year: 2026, contributionBaseMinFen: 420_000, contributionBaseMaxFen: 2_100_000,
                             rates: [.medical: medical], personalAccountBp: Int64.random(in: 0...(medical.employerBp + medical.employeeBp), using: &rng),
                             classBSelfPayBp: basisPoints(&rng), annualFundCapFen: annualCap, visits: visits)
    }

    static let items: [ItemClass: CatalogueItem] = [.A: HealthDemo.amoxicillin, .B: HealthDemo.atorvastatin, .C: HealthDemo.vitaminC]

    static func lines(_ rng: inout SeededGenerator) -> [SettlementRules.BillLine] {
        (0..<Int.random(in: 1...20, using: &rng)).map { _ in
            let itemClass = ItemClass.allCases.randomElement(using: &rng) ?? .A
            let price: Int64 = Int.random(in: 0..<15, using: &rng) == 0 ? 0 : Int64.random(in: 0...500_000, using: &rng)
            return SettlementRules.BillLine(item: items[itemClass] ?? HealthDemo.amoxicillin, quantity: Int64.random(in: 1...50, using: &rng),
                                            unitPriceFen: price)
        }
    }

    static func visit(_ rng: inout SeededGenerator) -> (VisitType, Int?) {
        let visit = VisitType.allCases.randomElement(using: &rng) ?? .outpatient
        return (visit, visit == .pharmacy ? nil : Int.random(in: 1...3, using: &rng))
    }

    static func accumulators(policy: MedicalPolicy, visit: VisitType, tier: Int?, _ rng: inout SeededGenerator) -> SettlementRules.Accumulators {
        let deductible = policy.visits[visit]?.terms[tier ?? 0]?.deductibleFen ?? 0
        let visitCap = policy.visits[visit]?.annualFundCapFen ?? policy.annualFundCapFen
        let met = Int.random(in: 0..<4, using: &rng) == 0 ? deductible : money(upTo: deductible + deductible / 2, &rng)
        // Fund paid for this visit type, sometimes right at or past its cap; the year at least as much.
        let paidVisit = Int.random(in: 0..<5, using: &rng) == 0 ? visitCap : money(upTo: visitCap + visitCap / 10, &rng)
        let paidYear = paidVisit + money(upTo: policy.annualFundCapFen, &rng)
        return acc(met: met, fundYear: paidYear, fundVisit: paidVisit)
    }

    static func balance(_ rng: inout SeededGenerator) -> Int64 {
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return 0
        case 1: return Int64.random(in: 1...5_000, using: &rng)
        default: return Int64.random(in: 0...3_000_000, using: &rng)
        }
    }
}

@Suite("HealthRules: adjudication properties")
struct HealthRulesPropertyTests {
    static let bills = 4_000

    /// Records the first few failures with their context, then fails on the count.
    struct Failures {
        var count = 0
        mutating func check(_ condition: Bool, _ message: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
            guard !condition else { return }
            count += 1
            if count <= 8 { Issue.record(Comment(rawValue: message()), sourceLocation: sourceLocation) }
        }
    }

    static func checkParts(_ split: Split, _ what: String, _ failures: inout Failures) {
        let values = [split.amount, split.classC, split.classBSelfPay, split.deductible, split.copay, split.overCap, split.fund,
                      split.personalAccount, split.cash]
        failures.check(values.allSatisfy { $0 >= 0 }, "\(what): a negative part: \(split)")
        failures.check(split.classC + split.classBSelfPay + split.deductible + split.copay + split.overCap + split.fund == split.amount,
                       "\(what): the parts do not sum to the amount: \(split)")
        failures.check(split.personalAccount + split.cash == split.classC + split.classBSelfPay + split.deductible + split.copay + split.overCap,
                       "\(what): account + cash is not the patient's share: \(split)")
    }

    @Test func invariantsHoldForRandomBills() throws {
        var rng = SeededGenerator(seed: 0x4EA1_7001)
        var failures = Failures()
        var reachedCap = 0, tookDeductible = 0, usedAccount = 0, classCLines = 0
        for index in 0..<Self.bills {
            let policy = RandomHealth.policy(&rng)
            let (visit, tier) = RandomHealth.visit(&rng)
            let rules = try #require(policy.visits[visit])
            let terms = try #require(rules.terms[tier ?? 0])
            let lines = RandomHealth.lines(&rng)
            let before = RandomHealth.accumulators(policy: policy, visit: visit, tier: tier, &rng)
            let balance = RandomHealth.balance(&rng)
            let breakdown = try SettlementRules.adjudicate(policy: policy, visit: visit, tier: tier, lines: lines, before: before,
                                                           personalAccountAvailableFen: balance)
            let context = "bill \(index) (\(visit) tier \(String(describing: tier)), before \(before), balance \(balance))"
            let total = Split(breakdown.total)
            let lineSplits = breakdown.lines.map(Split.init)

            failures.check(lineSplits.count == lines.count, "\(context): \(lineSplits.count) lines for \(lines.count)")
            failures.check(sum(lineSplits) == total, "\(context): total \(total) is not the sum of the lines")
            Self.checkParts(total, "\(context) total", &failures)
            var eligibleTotal: Int64 = 0
            var allowedTotal: Int64 = 0
            for (position, (bill, split)) in zip(lines, lineSplits).enumerated() {
                let what = "\(context) line \(position)"
                Self.checkParts(split, what, &failures)
                failures.check(split.amount == bill.quantity * bill.unitPriceFen, "\(what): amount \(split.amount)")
                switch bill.item.itemClass {
                case .C:
                    classCLines += 1
                    failures.check(split.fund == 0, "\(what): the fund pays \(split.fund) of a class C line")
                    failures.check(split.classC == split.amount, "\(what): class C part \(split.classC) of \(split.amount)")
                case .B:
                    failures.check(split.classC == 0 && split.classBSelfPay == ReferenceAdjudicator.halfUp(split.amount, policy.classBSelfPayBp),
                                   "\(what): class B self-pay \(split.classBSelfPay) of \(split.amount) at \(policy.classBSelfPayBp) bp")
                case .A:
                    failures.check(split.classC == 0 && split.classBSelfPay == 0, "\(what): class A line \(split)")
                }
                eligibleTotal += split.amount - split.classC - split.classBSelfPay
                let allowed = PatientPart.allCases.filter(rules.personalAccountPays.contains).map { part -> Int64 in
                    switch part {
                    case .classC: return split.classC
                    case .classBSelfPay: return split.classBSelfPay
                    case .deductible: return split.deductible
                    case .copay: return split.copay
                    case .overCap: return split.overCap
                    }
                }.reduce(0, +)
                failures.check(split.personalAccount <= allowed, "\(what): the account pays \(split.personalAccount) of \(allowed) allowed")
                allowedTotal += allowed
            }

            // Caps: the fund never pays past what is open, and stops short only at a cap.
            let overallOpen = max(0, policy.annualFundCapFen - before.fundPaidYearFen)
            let visitOpen = rules.annualFundCapFen.map { max(0, $0 - before.fundPaidVisitTypeFen) }
            let open = min(overallOpen, visitOpen ?? overallOpen)
            failures.check(total.fund <= overallOpen, "\(context): fund \(total.fund) past the overall cap (\(overallOpen) open)")
            if let visitOpen { failures.check(total.fund <= visitOpen, "\(context): fund \(total.fund) past the visit cap (\(visitOpen) open)") }
            failures.check(total.fund == min(open, total.fund + total.overCap),
                           "\(context): fund \(total.fund), over_cap \(total.overCap) with \(open) of the caps open")
            if total.overCap > 0 { reachedCap += 1 }

            // Deductible: never more than is open, and all of what is open before the fund pays.
            let deductibleOpen = rules.deductiblePeriod == .visit ? terms.deductibleFen : max(0, terms.deductibleFen - before.deductibleMetFen)
            failures.check(total.deductible <= deductibleOpen, "\(context): deductible \(total.deductible) of \(deductibleOpen) open")
            failures.check(total.deductible == min(deductibleOpen, eligibleTotal),
                           "\(context): deductible \(total.deductible), open \(deductibleOpen), eligible \(eligibleTotal)")
            if total.deductible > 0 { tookDeductible += 1 }

            // Personal account: within the balance and the allowed parts, and as much as both allow.
            failures.check(total.personalAccount <= balance, "\(context): account \(total.personalAccount) past the balance")
            failures.check(total.personalAccount == min(balance, allowedTotal),
                           "\(context): account \(total.personalAccount), balance \(balance), allowed parts \(allowedTotal)")
            if rules.personalAccountPays.isEmpty { failures.check(total.personalAccount == 0, "\(context): account pays with nothing allowed") }
            if total.personalAccount > 0 { usedAccount += 1 }

            // Accumulators: before + (deductible counted for a year period, fund paid).
            let counted = rules.deductiblePeriod == .year ? total.deductible : 0
            failures.check(breakdown.deductibleCountedFen == counted, "\(context): counted \(breakdown.deductibleCountedFen), expected \(counted)")
            failures.check(breakdown.after == acc(met: before.deductibleMetFen + counted, fundYear: before.fundPaidYearFen + total.fund,
                                                  fundVisit: before.fundPaidVisitTypeFen + total.fund),
                           "\(context): after \(breakdown.after) for fund \(total.fund), counted \(counted)")
        }
        #expect(failures.count == 0)
        // The generator reaches the interesting cases often enough for the properties to mean something.
        #expect(reachedCap > Self.bills / 20, "over_cap in \(reachedCap) bills")
        #expect(tookDeductible > Self.bills / 4, "a deductible in \(tookDeductible) bills")
        #expect(usedAccount > Self.bills / 4, "the account used in \(usedAccount) bills")
        #expect(classCLines > Self.bills, "\(classCLines) class C lines")
    }

    @Test func matchesTheReferenceAdjudicator() throws {
        var rng = SeededGenerator(seed: 0x4EA1_7002)
        var failures = Failures()
        for index in 0..<Self.bills {
            let policy = RandomHealth.policy(&rng)
            let (visit, tier) = RandomHealth.visit(&rng)
            let lines = RandomHealth.lines(&rng)
            let before = RandomHealth.accumulators(policy: policy, visit: visit, tier: tier, &rng)
            let balance = RandomHealth.balance(&rng)
            let breakdown = try SettlementRules.adjudicate(policy: policy, visit: visit, tier: tier, lines: lines, before: before,
                                                           personalAccountAvailableFen: balance)
            let expected = ReferenceAdjudicator.run(policy: policy, visit: visit, tier: tier, lines: lines, before: before, account: balance)
            let got = breakdown.lines.map(Split.init)
            failures.check(got == expected.lines, "bill \(index): lines \(got), expected \(expected.lines)")
            failures.check(Split(breakdown.total) == sum(expected.lines), "bill \(index): total \(Split(breakdown.total))")
            failures.check(breakdown.deductibleCountedFen == expected.counted, "bill \(index): counted \(breakdown.deductibleCountedFen)")
        }
        #expect(failures.count == 0)
    }

    @Test func aYearDeductibleIsTakenOncePerPeriod() throws {
        var rng = SeededGenerator(seed: 0x4EA1_7003)
        var failures = Failures()
        var yearBills = 0
        for index in 0..<Self.bills {
            let policy = RandomHealth.policy(&rng)
            let (visit, tier) = RandomHealth.visit(&rng)
            let rules = try #require(policy.visits[visit])
            let terms = try #require(rules.terms[tier ?? 0])
            let before = RandomHealth.accumulators(policy: policy, visit: visit, tier: tier, &rng)
            let first = try SettlementRules.adjudicate(policy: policy, visit: visit, tier: tier, lines: RandomHealth.lines(&rng), before: before,
                                                       personalAccountAvailableFen: RandomHealth.balance(&rng))
            let second = try SettlementRules.adjudicate(policy: policy, visit: visit, tier: tier, lines: RandomHealth.lines(&rng),
                                                        before: first.after, personalAccountAvailableFen: RandomHealth.balance(&rng))
            let taken = first.total.deductibleFen + second.total.deductibleFen
            let context = "bills \(index) (\(visit) tier \(String(describing: tier)), deductible \(terms.deductibleFen), before \(before))"
            switch rules.deductiblePeriod {
            case .year:
                yearBills += 1
                failures.check(taken <= max(0, terms.deductibleFen - before.deductibleMetFen),
                               "\(context): \(first.total.deductibleFen) + \(second.total.deductibleFen) of the deductible taken")
                failures.check(second.after.deductibleMetFen == before.deductibleMetFen + taken, "\(context): met \(second.after.deductibleMetFen)")
            case .visit:
                // Each visit takes its own deductible, and none is counted against the year.
                failures.check(first.total.deductibleFen <= terms.deductibleFen && second.total.deductibleFen <= terms.deductibleFen,
                               "\(context): \(first.total.deductibleFen), \(second.total.deductibleFen) of a per-visit deductible")
                failures.check(second.after.deductibleMetFen == before.deductibleMetFen, "\(context): met \(second.after.deductibleMetFen)")
            }
            // The caps hold over the two settlements together.
            let overallOpen = max(0, policy.annualFundCapFen - before.fundPaidYearFen)
            failures.check(first.total.fundFen + second.total.fundFen <= overallOpen, "\(context): the fund passes the overall cap in two bills")
            if let visitCap = rules.annualFundCapFen {
                failures.check(first.total.fundFen + second.total.fundFen <= max(0, visitCap - before.fundPaidVisitTypeFen),
                               "\(context): the fund passes the visit cap in two bills")
            }
        }
        #expect(failures.count == 0)
        #expect(yearBills > Self.bills / 4)
    }

    /// What a settlement adds to the accumulators, taken from its breakdown.
    struct Deltas: Equatable {
        var deductible: Int64
        var fundYear: Int64
        var fundVisit: Int64

        init(_ breakdown: SettlementRules.Breakdown) {
            deductible = breakdown.deductibleCountedFen
            fundYear = breakdown.total.fundFen
            fundVisit = breakdown.total.fundFen
        }

        init(from before: SettlementRules.Accumulators, to after: SettlementRules.Accumulators) {
            deductible = after.deductibleMetFen - before.deductibleMetFen
            fundYear = after.fundPaidYearFen - before.fundPaidYearFen
            fundVisit = after.fundPaidVisitTypeFen - before.fundPaidVisitTypeFen
        }

        func apply(_ value: SettlementRules.Accumulators, sign: Int64) -> SettlementRules.Accumulators {
            acc(met: value.deductibleMetFen + sign * deductible, fundYear: value.fundPaidYearFen + sign * fundYear,
                fundVisit: value.fundPaidVisitTypeFen + sign * fundVisit)
        }
    }

    @Test func reversalRestoresEveryAccumulator() throws {
        var rng = SeededGenerator(seed: 0x4EA1_7004)
        var failures = Failures()
        for index in 0..<(Self.bills / 2) {
            let policy = RandomHealth.policy(&rng)
            let (visit, tier) = RandomHealth.visit(&rng)
            let start = RandomHealth.accumulators(policy: policy, visit: visit, tier: tier, &rng)
            // A chain of settlements of the same person and visit type.
            var current = start
            var deltas: [Deltas] = []
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let breakdown = try SettlementRules.adjudicate(policy: policy, visit: visit, tier: tier, lines: RandomHealth.lines(&rng),
                                                               before: current, personalAccountAvailableFen: RandomHealth.balance(&rng))
                let delta = Deltas(breakdown)
                failures.check(delta.deductible >= 0 && delta.fundYear >= 0, "bill \(index): negative deltas \(delta)")
                failures.check(Deltas(from: current, to: breakdown.after) == delta, "bill \(index): after − before is not \(delta)")
                failures.check(delta.apply(current, sign: 1) == breakdown.after, "bill \(index): before + deltas is not after")
                failures.check(delta.apply(breakdown.after, sign: -1) == current, "bill \(index): after − deltas is not before")
                deltas.append(delta)
                current = breakdown.after
            }
            // Reversing every settlement, in any order, restores the start.
            var reversed = current
            for delta in deltas.shuffled(using: &rng) { reversed = delta.apply(reversed, sign: -1) }
            failures.check(reversed == start, "bill \(index): reversing \(deltas.count) settlements gives \(reversed), not \(start)")
        }
        #expect(failures.count == 0)
    }
}

// MARK: - Policy parsing

/// The demo policy document, as a JSON tree to take apart.
private let policyJSON = """
{
  "city_code": "330200",
  "year": 2026,
  "note": "Demo policy.",
  "contribution_base": {"min_fen": 420000, "max_fen": 2100000},
  "rates": {
    "medical": {"employer_bp": 750, "employee_bp": 200},
    "pension": {"employer_bp": 1600, "employee_bp": 800},
    "unemployment": {"employer_bp": 50, "employee_bp": 50},
    "work_injury": {"employer_bp": 40, "employee_bp": 0},
    "maternity": {"employer_bp": 50, "employee_bp": 0}
  },
  "personal_account_bp": 200,
  "class_b_self_pay_bp": 1000,
  "annual_fund_cap_fen": 40000000,
  "visits": {
    "outpatient": {
      "deductible_period": "year",
      "annual_fund_cap_fen": 500000,
      "personal_account_pays": ["class_b_self_pay", "deductible", "copay"],
      "tiers": {
        "1": {"deductible_fen": 30000, "ratio_bp": 7000},
        "2": {"deductible_fen": 30000, "ratio_bp": 6000},
        "3": {"deductible_fen": 30000, "ratio_bp": 5000}
      }
    },
    "inpatient": {
      "deductible_period": "visit",
      "personal_account_pays": ["class_b_self_pay", "deductible", "copay"],
      "tiers": {
        "1": {"deductible_fen": 30000, "ratio_bp": 9000},
        "2": {"deductible_fen": 60000, "ratio_bp": 8500},
        "3": {"deductible_fen": 80000, "ratio_bp": 8000}
      }
    },
    "pharmacy": {
      "deductible_period": "year",
      "deductible_fen": 0,
      "ratio_bp": 0,
      "personal_account_pays": ["class_b_self_pay", "deductible", "copay"]
    }
  }
}
"""

/// `value` with the member at `path` replaced (nil: removed); a missing member is added at the end.
private func setting(_ value: JSONValue, _ path: ArraySlice<String>, _ new: JSONValue?) -> JSONValue {
    guard let name = path.first, case var .object(members) = value else { return new ?? value }
    if let index = members.firstIndex(where: { $0.0 == name }) {
        if path.count == 1, new == nil {
            members.remove(at: index)
        } else {
            members[index].1 = setting(members[index].1, path.dropFirst(), new)
        }
    } else if path.count == 1, let new {
        members.append((name, new))
    }
    return .object(members)
}

private func strings(_ items: String...) -> JSONValue { .array(items.map(JSONValue.string)) }

/// A case of an invalid policy: the change to the demo document and the path the error must name.
struct PolicyMutation: Sendable, CustomTestStringConvertible {
    let name: String
    let path: [String]
    let value: JSONValue?
    let errorPath: String

    var testDescription: String { name }
}

let policyMutations: [PolicyMutation] = [
    PolicyMutation(name: "unknown top-level member", path: ["yaer"], value: .number(2026), errorPath: "yaer:"),
    PolicyMutation(name: "unknown member in a tier", path: ["visits", "outpatient", "tiers", "1", "ratio"], value: .number(7000),
                   errorPath: "visits.outpatient.tiers.1.ratio:"),
    PolicyMutation(name: "missing visits.inpatient", path: ["visits", "inpatient"], value: nil, errorPath: "visits.inpatient:"),
    PolicyMutation(name: "tiers missing 2", path: ["visits", "outpatient", "tiers", "2"], value: nil, errorPath: "visits.outpatient.tiers.2:"),
    PolicyMutation(name: "tier 4", path: ["visits", "inpatient", "tiers", "4"], value: .object([("deductible_fen", .number(0)), ("ratio_bp", .number(0))]),
                   errorPath: "visits.inpatient.tiers.4:"),
    PolicyMutation(name: "ratio_bp 10001", path: ["visits", "outpatient", "tiers", "2", "ratio_bp"], value: .number(10_001),
                   errorPath: "visits.outpatient.tiers.2.ratio_bp:"),
    PolicyMutation(name: "ratio_bp negative", path: ["visits", "inpatient", "tiers", "3", "ratio_bp"], value: .number(-1),
                   errorPath: "visits.inpatient.tiers.3.ratio_bp:"),
    PolicyMutation(name: "ratio_bp a string", path: ["visits", "pharmacy", "ratio_bp"], value: .string("0"), errorPath: "visits.pharmacy.ratio_bp:"),
    PolicyMutation(name: "pharmacy with tiers", path: ["visits", "pharmacy", "tiers"], value: .object([]), errorPath: "visits.pharmacy.tiers:"),
    PolicyMutation(name: "personal_account_bp above the medical contribution", path: ["personal_account_bp"], value: .number(951),
                   errorPath: "personal_account_bp:"),
    PolicyMutation(name: "outpatient cap above the annual cap", path: ["visits", "outpatient", "annual_fund_cap_fen"], value: .number(40_000_001),
                   errorPath: "visits.outpatient.annual_fund_cap_fen:"),
    PolicyMutation(name: "annual cap 0", path: ["annual_fund_cap_fen"], value: .number(0), errorPath: "annual_fund_cap_fen:"),
    PolicyMutation(name: "personal_account_pays unknown entry", path: ["visits", "outpatient", "personal_account_pays"],
                   value: strings("copay", "cash"), errorPath: "visits.outpatient.personal_account_pays[1]:"),
    PolicyMutation(name: "personal_account_pays duplicate entry", path: ["visits", "inpatient", "personal_account_pays"],
                   value: strings("deductible", "copay", "deductible"), errorPath: "visits.inpatient.personal_account_pays[2]:"),
    PolicyMutation(name: "personal_account_pays not an array", path: ["visits", "pharmacy", "personal_account_pays"], value: .string("copay"),
                   errorPath: "visits.pharmacy.personal_account_pays:"),
    PolicyMutation(name: "deductible_period month", path: ["visits", "outpatient", "deductible_period"], value: .string("month"),
                   errorPath: "visits.outpatient.deductible_period:"),
    PolicyMutation(name: "city_code 5 digits", path: ["city_code"], value: .string("33020"), errorPath: "city_code:"),
    PolicyMutation(name: "city_code with a letter", path: ["city_code"], value: .string("33020A"), errorPath: "city_code:"),
    PolicyMutation(name: "city_code a number", path: ["city_code"], value: .number(330_200), errorPath: "city_code:"),
    PolicyMutation(name: "min_fen above max_fen", path: ["contribution_base", "min_fen"], value: .number(2_100_001), errorPath: "contribution_base:"),
    PolicyMutation(name: "year 1999", path: ["year"], value: .number(1999), errorPath: "year:"),
    PolicyMutation(name: "missing rates.maternity", path: ["rates", "maternity"], value: nil, errorPath: "rates.maternity:"),
    PolicyMutation(name: "missing employee_bp", path: ["rates", "pension", "employee_bp"], value: nil, errorPath: "rates.pension.employee_bp:"),
    PolicyMutation(name: "deductible above the money range", path: ["visits", "inpatient", "tiers", "1", "deductible_fen"],
                   value: .number(100_000_000_001), errorPath: "visits.inpatient.tiers.1.deductible_fen:"),
    PolicyMutation(name: "note not a string", path: ["note"], value: .number(1), errorPath: "note:"),
]

private func policyError(_ bytes: [UInt8]) -> DomainError? {
    do {
        _ = try MedicalPolicy.parse(bytes)
        return nil
    } catch let error as DomainError {
        return error
    } catch {
        Issue.record("not a DomainError: \(error)")
        return nil
    }
}

@Suite("HealthRules: policy parsing")
struct HealthRulesPolicyTests {
    @Test func theDemoPolicyFileParsesToTheDemoPolicy() throws {
        let policy = try MedicalPolicy.parse(HealthDemo.file("policy-330200-2026.json"))
        #expect(policy.cityCode == "330200")
        #expect(policy.year == 2026)
        #expect(policy.classBSelfPayBp == 1000)
        #expect(policy.visits[.outpatient]?.terms[2] == TierTerms(deductibleFen: 30_000, ratioBp: 6000))
        #expect(policy.visits[.outpatient]?.annualFundCapFen == 500_000)
        #expect(policy.visits[.inpatient]?.deductiblePeriod == .visit)
        #expect(policy.visits[.inpatient]?.annualFundCapFen == nil)
        #expect(policy.visits[.pharmacy]?.terms == [0: TierTerms(deductibleFen: 0, ratioBp: 0)])
        #expect(policy.visits[.pharmacy]?.personalAccountPays == [.classBSelfPay, .deductible, .copay])
        #expect(policy == HealthDemo.policy())
    }

    @Test func theTestDocumentIsValid() throws {
        let policy = try MedicalPolicy.parse(Array(policyJSON.utf8))
        #expect(policy == HealthDemo.policy())
        // Serialised compactly it still parses: the mutations below start from this.
        let tree = try JSONValue.parse(Array(policyJSON.utf8))
        #expect(try MedicalPolicy.parse(tree.serialized()) == HealthDemo.policy())
        // Optional members may be left out: the note and the visit caps.
        var reduced = setting(tree, ["note"], nil)
        reduced = setting(reduced, ["visits", "outpatient", "annual_fund_cap_fen"], nil)
        let withoutOptional = try MedicalPolicy.parse(reduced.serialized())
        #expect(withoutOptional.visits[.outpatient]?.annualFundCapFen == nil)
        // A visit cap equal to the annual cap and an empty personal_account_pays are accepted.
        var edges = setting(tree, ["visits", "outpatient", "annual_fund_cap_fen"], .number(40_000_000))
        edges = setting(edges, ["visits", "pharmacy", "personal_account_pays"], .array([]))
        edges = setting(edges, ["personal_account_bp"], .number(950))
        let edge = try MedicalPolicy.parse(edges.serialized())
        #expect(edge.visits[.outpatient]?.annualFundCapFen == 40_000_000)
        #expect(edge.visits[.pharmacy]?.personalAccountPays == [])
        #expect(edge.personalAccountBp == 950)
    }

    @Test(arguments: policyMutations)
    func anInvalidPolicyNamesThePath(_ mutation: PolicyMutation) throws {
        let tree = try JSONValue.parse(Array(policyJSON.utf8))
        let changed = setting(tree, mutation.path[...], mutation.value)
        #expect(changed != tree, "the mutation changed nothing")
        let error = try #require(policyError(changed.serialized()))
        #expect(error.code == "health.policy_invalid")
        #expect(error.kind == .malformed)
        #expect(error.detail.hasPrefix(mutation.errorPath), "detail: \(error.detail)")
    }

    @Test func aNonIntegerNumberIsRefused() throws {
        // `0.5` is refused by the JSON reader itself (integers only), before any path is known:
        // the detail locates it by byte offset.
        let text = policyJSON.replacingOccurrences(of: "\"ratio_bp\": 6000", with: "\"ratio_bp\": 0.5")
        #expect(text != policyJSON)
        // The reader stops at the '.' after "0": its byte offset in the document.
        let before = try #require(text.components(separatedBy: "\"ratio_bp\": 0.5").first)
        let offset = before.utf8.count + "\"ratio_bp\": 0".utf8.count
        let error = try #require(policyError(Array(text.utf8)))
        #expect(error.code == "health.policy_invalid")
        #expect(error.detail.contains("only integers are accepted at byte \(offset)"), "detail: \(error.detail)")
        // An exponent too.
        let exponent = policyJSON.replacingOccurrences(of: "\"personal_account_bp\": 200", with: "\"personal_account_bp\": 2e2")
        #expect(policyError(Array(exponent.utf8))?.code == "health.policy_invalid")
    }

    @Test func notJSONOrTooLargeIsRefused() {
        #expect(policyError(Array("{\"city_code\": ".utf8))?.code == "health.policy_invalid")
        #expect(policyError(Array("[]".utf8))?.code == "health.policy_invalid")
        #expect(policyError([])?.code == "health.policy_invalid")
        let padded = policyJSON.replacingOccurrences(of: "Demo policy.", with: String(repeating: "x", count: MedicalPolicy.jsonBytesMax))
        let error = policyError(Array(padded.utf8))
        #expect(error?.code == "health.policy_invalid")
        #expect(error?.detail.contains("bytes") == true)
        // A note of 501 characters is refused, 500 accepted (characters, not bytes: 500 × 3 UTF-8 bytes).
        let longNote = policyJSON.replacingOccurrences(of: "Demo policy.", with: String(repeating: "医", count: 501))
        #expect(policyError(Array(longNote.utf8))?.detail.hasPrefix("note:") == true)
        let note500 = policyJSON.replacingOccurrences(of: "Demo policy.", with: String(repeating: "医", count: 500))
        #expect(policyError(Array(note500.utf8)) == nil)
    }
}

// MARK: - Catalogue parsing

private func catalogueError(_ text: String, file: String = "catalogue.csv") -> DomainError? {
    do {
        _ = try MedicalCatalogue.parse(Array(text.utf8), file: file)
        return nil
    } catch let error as DomainError {
        return error
    } catch {
        Issue.record("not a DomainError: \(error)")
        return nil
    }
}

@Suite("HealthRules: catalogue parsing")
struct HealthRulesCatalogueTests {
    static let header = "code,name_en,name_zh,class,unit,kind\n"

    @Test func theDemoCatalogueParses() throws {
        let items = try MedicalCatalogue.parse(HealthDemo.file("catalogue-330200.csv"))
        #expect(items.count == 11)
        #expect(items == HealthDemo.catalogue)
        #expect(items.filter { $0.itemClass == .A }.count == 6)
        #expect(items.filter { $0.itemClass == .B }.map(\.code) == ["XC10AAA003", "XR06AEA004", "210300001"])
        #expect(items.filter { $0.itemClass == .C }.map(\.code) == ["ZA0001", "311300001"])
        #expect(items.filter { $0.kind == .drug }.count == 5)
        #expect(items.filter { $0.kind == .service }.count == 6)
        #expect(items.first?.name == LocalizedName(en: "Amoxicillin capsules 0.25 g", zh: "阿莫西林胶囊"))
    }

    @Test func quotedFieldsAndOtherKinds() throws {
        let items = try MedicalCatalogue.parse(Array((Self.header + "M-1.a_B,\"Stent, coronary\",冠脉支架,B,piece,material\nS2,Suture,缝合,A,time,service\nD3,Aspirin,阿司匹林,A,box,\n").utf8))
        #expect(items.map(\.code) == ["M-1.a_B", "S2", "D3"])
        #expect(items[0].name.en == "Stent, coronary")
        #expect(items.map(\.kind) == [.material, .service, .drug]) // an empty kind is a drug
    }

    @Test func kindDefaultsToDrugWithoutTheColumn() throws {
        let items = try MedicalCatalogue.parse(Array("code,name_en,name_zh,class,unit\nK1,Gauze,纱布,A,roll\nK2,Scan,扫描,C,scan\n".utf8))
        #expect(items.map(\.kind) == [.drug, .drug])
        #expect(items.map(\.itemClass) == [.A, .C])
        #expect(items.map(\.unit) == ["roll", "scan"])
    }

    @Test func aDuplicateCodeNamesBothLines() throws {
        let error = try #require(catalogueError(Self.header + "X1,One,一,A,box,drug\nX2,Two,二,B,box,drug\nX1,Three,三,C,box,drug\n"))
        #expect(error.code == "health.catalogue_invalid")
        #expect(error.detail.hasPrefix("catalogue.csv line 4, field code:"), "detail: \(error.detail)")
        #expect(error.detail.contains("X1 is already listed on line 2"), "detail: \(error.detail)")
    }

    @Test func classDIsRefused() throws {
        let error = try #require(catalogueError(Self.header + "X1,One,一,A,box,drug\nX2,Two,二,D,box,drug\n", file: "cat.csv"))
        #expect(error.code == "health.catalogue_invalid")
        #expect(error.detail.hasPrefix("cat.csv line 3, field class:"), "detail: \(error.detail)")
        // Classes are upper case.
        #expect(catalogueError(Self.header + "X1,One,一,a,box,drug\n")?.detail.hasPrefix("catalogue.csv line 2, field class:") == true)
    }

    @Test func aMissingColumnIsNamed() throws {
        let error = try #require(catalogueError("code,name_en,name_zh,class,kind\nX1,One,一,A,drug\n"))
        #expect(error.code == "health.catalogue_invalid")
        #expect(error.detail.contains("column unit"), "detail: \(error.detail)")
        #expect(catalogueError("code,name_en,class,unit\nX1,One,A,box\n")?.detail.contains("column name_zh") == true)
    }

    @Test func anEmptyCatalogueIsRefused() throws {
        let headerOnly = try #require(catalogueError(Self.header))
        #expect(headerOnly.code == "health.catalogue_invalid")
        #expect(headerOnly.detail.contains("no items"), "detail: \(headerOnly.detail)")
        // No bytes at all: no header either.
        #expect(catalogueError("")?.code == "health.catalogue_invalid")
        #expect(catalogueError("\n\n")?.code == "health.catalogue_invalid")
    }

    @Test(arguments: ["X 1", "X/1", "药品1", "X1;", String(repeating: "A", count: 65)])
    func badCodeCharactersAreRefused(_ code: String) throws {
        let error = try #require(catalogueError(Self.header + "OK1,One,一,A,box,drug\n\"\(code)\",Two,二,A,box,drug\n"))
        #expect(error.code == "health.catalogue_invalid")
        #expect(error.detail.hasPrefix("catalogue.csv line 3, field code:"), "detail: \(error.detail)")
    }

    @Test func otherFieldErrorsNameLineAndField() {
        #expect(catalogueError(Self.header + "X1,,一,A,box,drug\n")?.detail.hasPrefix("catalogue.csv line 2, field name_en/name_zh:") == true)
        #expect(catalogueError(Self.header + "X1,One,一,A,,drug\n")?.detail.hasPrefix("catalogue.csv line 2, field unit:") == true)
        #expect(catalogueError(Self.header + "X1,One,一,A,\(String(repeating: "u", count: 21)),drug\n")?.detail
            .hasPrefix("catalogue.csv line 2, field unit:") == true)
        #expect(catalogueError(Self.header + "X1,One,一,A,box,device\n")?.detail.hasPrefix("catalogue.csv line 2, field kind:") == true)
        // CSV-level errors keep the catalogue's code.
        #expect(catalogueError(Self.header + "X1,One,一,A,box\n")?.code == "health.catalogue_invalid")
        #expect(catalogueError(Self.header + "X1,\"One,一,A,box,drug\n")?.code == "health.catalogue_invalid")
        #expect(MedicalCatalogue.isValidCode("A.b-9_Z"))
        #expect(!MedicalCatalogue.isValidCode(""))
    }
}

// MARK: - Contributions

@Suite("HealthRules: contributions")
struct HealthRulesContributionTests {
    @Test func theBaseIsClampedToThePolicyBounds() {
        let policy = HealthDemo.policy()
        #expect(ContributionRules.base(wageFen: 0, policy: policy) == 420_000)
        #expect(ContributionRules.base(wageFen: 419_999, policy: policy) == 420_000)
        #expect(ContributionRules.base(wageFen: 420_000, policy: policy) == 420_000)
        #expect(ContributionRules.base(wageFen: 1_000_000, policy: policy) == 1_000_000)
        #expect(ContributionRules.base(wageFen: 2_100_000, policy: policy) == 2_100_000)
        #expect(ContributionRules.base(wageFen: 2_100_001, policy: policy) == 2_100_000)
        #expect(ContributionRules.base(wageFen: 100_000_000, policy: policy) == 2_100_000)
    }

    @Test func aMonthOfTheFiveInsurances() {
        let lines = ContributionRules.month(wageFen: 1_000_000, insurances: Set(InsuranceType.allCases), policy: HealthDemo.policy())
        #expect(lines.map(\.insurance) == [.medical, .pension, .unemployment, .workInjury, .maternity])
        #expect(lines.allSatisfy { $0.baseFen == 1_000_000 })
        // Medical 7.5% + 2%, of which 2% of the base to the personal account.
        #expect(lines.map(\.employerFen) == [75_000, 160_000, 5_000, 4_000, 5_000])
        #expect(lines.map(\.employeeFen) == [20_000, 80_000, 5_000, 0, 0])
        #expect(lines.map(\.personalAccountFen) == [20_000, 0, 0, 0, 0])
    }

    @Test func roundingAndClampingInAMonth() {
        let policy = HealthDemo.policy()
        // 1,234,567 × 7.5% = 92,592.525 → 92,593; × 2% = 24,691.34 → 24,691.
        let medical = ContributionRules.month(wageFen: 1_234_567, insurances: [.medical], policy: policy)
        #expect(medical.map(\.employerFen) == [92_593])
        #expect(medical.map(\.employeeFen) == [24_691])
        #expect(medical.map(\.personalAccountFen) == [24_691])
        // Below the minimum: base 420,000. Work injury 0.4% = 1,680; pension 16% = 67,200, 8% = 33,600.
        let low = ContributionRules.month(wageFen: 100_000, insurances: [.workInjury, .pension], policy: policy)
        #expect(low.map(\.insurance) == [.pension, .workInjury])
        #expect(low.map(\.baseFen) == [420_000, 420_000])
        #expect(low.map(\.employerFen) == [67_200, 1_680])
        #expect(low.map(\.employeeFen) == [33_600, 0])
        #expect(low.allSatisfy { $0.personalAccountFen == 0 })
        // Above the maximum: base 2,100,000; unemployment 0.5% = 10,500 each side.
        let high = ContributionRules.month(wageFen: 9_000_000, insurances: [.unemployment], policy: policy)
        #expect(high.map(\.baseFen) == [2_100_000])
        #expect(high.map(\.employerFen) == [10_500])
        #expect(high.map(\.employeeFen) == [10_500])
        #expect(ContributionRules.month(wageFen: 1_000_000, insurances: [], policy: policy).isEmpty)
    }

    @Test(arguments: ["2026-11", "2026-01", "2000-12", "2100-01"])
    func aMonthParses(_ text: String) throws {
        let parsed = try ContributionRules.parseMonth(text, field: "month")
        let expected = (Int(text.prefix(4)) ?? 0, Int(text.suffix(2)) ?? 0)
        #expect(parsed.year == expected.0 && parsed.month == expected.1)
    }

    @Test func november2026() throws {
        let parsed = try ContributionRules.parseMonth("2026-11", field: "month")
        #expect(parsed.year == 2026)
        #expect(parsed.month == 11)
        let date = try #require(CivilDate(year: 2026, month: 11, day: 30))
        #expect(ContributionRules.month(of: date) == "2026-11")
    }

    @Test(arguments: ["2026-13", "2026-00", "2026-1", "26-11", "2026/11", "2026-011", "2026-1a", "1999-12", "2101-01", "", "2026-11 ",
                      "+026-11", "2026--1", "２０２６-11"])
    func aBadMonthIsRefused(_ text: String) {
        do {
            let parsed = try ContributionRules.parseMonth(text, field: "period")
            Issue.record("'\(text)' parsed as \(parsed)")
        } catch let error as DomainError {
            #expect(error.code == "health.month_invalid")
            #expect(error.detail.hasPrefix("period must be"), "detail: \(error.detail)")
        } catch {
            Issue.record("not a DomainError: \(error)")
        }
    }

    @Test func thePersonalAccountNeverExceedsTheMedicalContribution() {
        // A policy built in code (the parser refuses this) crediting more than is paid in.
        let demo = HealthDemo.policy()
        let policy = MedicalPolicy(cityCode: demo.cityCode, year: demo.year, contributionBaseMinFen: demo.contributionBaseMinFen,
                                   contributionBaseMaxFen: demo.contributionBaseMaxFen,
                                   rates: [.medical: ContributionRate(employerBp: 100, employeeBp: 50)], personalAccountBp: 200,
                                   classBSelfPayBp: demo.classBSelfPayBp, annualFundCapFen: demo.annualFundCapFen, visits: demo.visits)
        let lines = ContributionRules.month(wageFen: 1_000_000, insurances: [.medical, .maternity], policy: policy)
        #expect(lines.map(\.employerFen) == [10_000, 0])
        #expect(lines.map(\.employeeFen) == [5_000, 0])
        #expect(lines.map(\.personalAccountFen) == [15_000, 0])
    }
}

@Suite("HealthRules: a permit covers contribution months")
struct PermitCoversMonthTests {
    @Test func fromStartToEndOrCancellation() throws {
        let from = try #require(CivilDate("2026-12-15")), until = try #require(CivilDate("2028-12-14"))
        #expect(ContributionRules.permitCovers(month: "2026-12", validFrom: from, validUntil: until, cancelledOn: nil))
        #expect(!ContributionRules.permitCovers(month: "2026-11", validFrom: from, validUntil: until, cancelledOn: nil))
        #expect(ContributionRules.permitCovers(month: "2028-12", validFrom: from, validUntil: until, cancelledOn: nil))
        #expect(!ContributionRules.permitCovers(month: "2029-01", validFrom: from, validUntil: until, cancelledOn: nil))
        let cancelled = try #require(CivilDate("2027-03-02"))
        #expect(ContributionRules.permitCovers(month: "2027-03", validFrom: from, validUntil: until, cancelledOn: cancelled))
        #expect(!ContributionRules.permitCovers(month: "2027-04", validFrom: from, validUntil: until, cancelledOn: cancelled))
    }
}
