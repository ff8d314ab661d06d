import JoinInCore
import JoinInStore

/// A settlement as an HL7 FHIR R4 ExplanationOfBenefit (https://hl7.org/fhir/R4/explanationofbenefit.html),
/// so a hospital information system can take the adjudication as it takes any payer's.
///
/// Adjudication categories: the standard ones of http://terminology.hl7.org/CodeSystem/adjudication
/// (`submitted`, `eligible`, `deductible`, `copay`, `benefit`) and, for what Chinese medical
/// insurance adds, codes of `urn:joinin:fhir:adjudication` (`class-c-self-pay`,
/// `class-b-self-pay`, `over-cap`, `personal-account`, `patient-cash`). Money is FHIR `Money`
/// (`value` a decimal in yuan written from integer fen, never through floating point).
enum ExplanationOfBenefit {
    static let adjudicationSystem = "http://terminology.hl7.org/CodeSystem/adjudication"
    static let joininAdjudication = "urn:joinin:fhir:adjudication"

    /// A JSON value with FHIR decimals written exactly.
    indirect enum Value {
        case string(String)
        case int(Int64)
        case bool(Bool)
        case yuan(Int64)
        case array([Value])
        case object([(String, Value)])

        func write(to out: inout [UInt8]) {
            switch self {
            case .string(let text): out += JSONValue.string(text).serialized()
            case .int(let number): out += Array(String(number).utf8)
            case .bool(let flag): out += Array((flag ? "true" : "false").utf8)
            case .yuan(let fen):
                let sign = fen < 0 ? "-" : ""
                let magnitude = fen.magnitude
                let cents = magnitude % 100
                out += Array("\(sign)\(magnitude / 100).\(cents < 10 ? "0" : "")\(cents)".utf8)
            case .array(let items):
                out.append(UInt8(ascii: "["))
                for (index, item) in items.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    item.write(to: &out)
                }
                out.append(UInt8(ascii: "]"))
            case .object(let members):
                out.append(UInt8(ascii: "{"))
                for (index, (name, value)) in members.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    out += JSONValue.string(name).serialized()
                    out.append(UInt8(ascii: ":"))
                    value.write(to: &out)
                }
                out.append(UInt8(ascii: "}"))
            }
        }
    }

    static func money(_ fen: Int64) -> Value { .object([("value", .yuan(fen)), ("currency", .string("CNY"))]) }

    static func coding(_ system: String, _ code: String, _ display: String? = nil) -> Value {
        var members: [(String, Value)] = [("system", .string(system)), ("code", .string(code))]
        if let display { members.append(("display", .string(display))) }
        return .object([("coding", .array([.object(members)]))])
    }

    static func adjudications(_ parts: SettlementRules.Parts) -> [Value] {
        func entry(_ system: String, _ code: String, _ display: String, _ fen: Int64) -> Value {
            .object([("category", coding(system, code, display)), ("amount", money(fen))])
        }
        let eligible = parts.amountFen - parts.classCFen - parts.classBSelfPayFen
        return [
            entry(adjudicationSystem, "submitted", "Submitted Amount", parts.amountFen),
            entry(adjudicationSystem, "eligible", "Eligible Amount", eligible),
            entry(adjudicationSystem, "deductible", "Deductible", parts.deductibleFen),
            entry(adjudicationSystem, "copay", "CoPay", parts.copayFen),
            entry(adjudicationSystem, "benefit", "Benefit Amount", parts.fundFen),
            entry(joininAdjudication, "class-c-self-pay", "Class C, self-paid", parts.classCFen),
            entry(joininAdjudication, "class-b-self-pay", "Class B self-pay-first share", parts.classBSelfPayFen),
            entry(joininAdjudication, "over-cap", "Above the annual fund cap", parts.overCapFen),
            entry(joininAdjudication, "personal-account", "Paid by the personal medical account", parts.personalAccountFen),
            entry(joininAdjudication, "patient-cash", "Paid by the patient", parts.cashFen),
        ]
    }

    static func json(_ settlement: HealthSettlementRecord, detail: HealthSettlements.Detail, provider: HealthProviderRecord,
                     person: PersonRecord) -> [UInt8] {
        let claimType: (code: String, display: String) = switch settlement.visitType {
        case VisitType.inpatient.rawValue: ("institutional", "Institutional")
        case VisitType.pharmacy.rawValue: ("pharmacy", "Pharmacy")
        default: ("professional", "Professional")
        }
        let created = Timestamps.rfc3339(ms: settlement.createdAtMs)
        let items: [Value] = detail.lines.enumerated().map { index, line in
            .object([
                ("sequence", .int(Int64(index + 1))),
                ("productOrService", .object([
                    ("coding", .array([.object([("system", .string("urn:joinin:health-catalogue:\(settlement.providerCity)")),
                                                ("code", .string(line.item.code)), ("display", .string(line.item.name.en))])])),
                    ("text", .string("\(line.item.name.en) / \(line.item.name.zh)")),
                ])),
                ("quantity", .object([("value", .int(line.quantity)), ("unit", .string(line.item.unit))])),
                ("unitPrice", money(line.unitPriceFen)),
                ("net", money(line.parts.amountFen)),
                ("adjudication", .array(adjudications(line.parts))),
            ])
        }
        let totals: [Value] = adjudications(detail.total).compactMap { entry in
            guard case .object(let members) = entry else { return nil }
            return .object(members)
        }
        let reversed = settlement.status == "reversed"
        var members: [(String, Value)] = [
            ("resourceType", .string("ExplanationOfBenefit")),
            ("id", .string(settlement.id)),
            ("identifier", .array([
                .object([("system", .string("urn:joinin:health-settlement")), ("value", .string(settlement.id))]),
                .object([("system", .string("urn:joinin:health-provider:\(provider.id):invoice")), ("value", .string(settlement.providerReference))]),
            ])),
            ("status", .string(reversed ? "cancelled" : "active")),
            ("type", coding("http://terminology.hl7.org/CodeSystem/claim-type", claimType.code, claimType.display)),
            ("use", .string("claim")),
            ("patient", .object([
                ("identifier", .object([("system", .string("urn:joinin:work-permit-number")), ("value", .string(person.permitNumber))])),
                ("display", .string(person.fullName)),
            ])),
            ("created", .string(created)),
            ("insurer", .object([
                ("identifier", .object([("system", .string("urn:joinin:medical-insurance-city")), ("value", .string(settlement.insuredCity))])),
                ("display", .string("Employee basic medical insurance fund, city \(settlement.insuredCity)")),
            ])),
            ("provider", .object([
                ("identifier", .object([("system", .string("urn:joinin:health-provider")), ("value", .string(provider.id))])),
                ("display", .string(provider.name.en)),
            ])),
            ("outcome", .string("complete")),
            ("disposition", .string(reversed ? "Reversed (refunded) in full" : "Settled")),
            ("insurance", .array([.object([
                ("focal", .bool(true)),
                ("coverage", .object([("display", .string("Employee basic medical insurance (城镇职工基本医疗保险), city \(settlement.insuredCity), policy \(settlement.policyYear) v\(settlement.policyVersion)"))])),
            ])])),
            ("item", .array(items)),
            ("total", .array(totals)),
            ("payment", .object([
                ("type", coding("http://terminology.hl7.org/CodeSystem/ex-paymenttype", "complete", "Complete")),
                ("date", .string(String(CivilDate.shanghai(unixSeconds: settlement.createdAtMs / 1000).description))),
                ("amount", money(settlement.fundFen + settlement.personalAccountFen)),
            ])),
        ]
        if let reversedAt = settlement.reversedAtMs {
            members.append(("processNote", .array([.object([
                ("number", .int(1)), ("type", .string("display")),
                ("text", .string("Reversed at \(Timestamps.rfc3339(ms: reversedAt)): every ledger leg and accumulator was restored.")),
            ])])))
        }
        var out: [UInt8] = []
        Value.object(members).write(to: &out)
        return out
    }
}
