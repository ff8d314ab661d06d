import Foundation
import HTTPTypes
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import Testing

/// The demo policy and catalogues in docs/examples/health-demo (also used by the README tour).
enum HealthDemo {
    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/examples/health-demo")
    }
    static func text(_ name: String) throws -> String { try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) }
    static func policy() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(try text("policy-330200-2026.json").utf8)) as? [String: Any])
    }
}

/// An insured cardholder in Ningbo with a tier-2 hospital and a pharmacy, their terminals, the
/// demo policy and catalogue, an enrolment from 2026-12 and December's contributions paid.
struct HealthWorld: Sendable {
    let world: Harness.World
    let hospitalID: String
    let pharmacyID: String
    let hospital: String
    let pharmacy: String
    let card: String
    let token: String
    let permitNumber: String
    let enrolmentID: String
}

extension Harness {
    func provider(_ admin: String, kind: String, tier: Int?, city: String = "330200", name: String) async throws -> (id: String, key: String) {
        var body: [String: Any] = ["name": ["en": name, "zh": name], "kind": kind, "city_code": city]
        if let tier { body["tier"] = tier }
        let created = try await call(.post, "/v1/health/providers", token: admin, json: body)
        try #require(created.status == .created, "\(created.text)")
        let id = try #require(created.string("id"))
        let terminal = try await call(.post, "/v1/terminals", token: admin,
                                      json: ["kind": kind == "hospital" ? "hospitalCounter" : "pharmacyPOS", "name": "\(name) counter", "binding_id": id])
        try #require(terminal.status == .created, "\(terminal.text)")
        return (id, try #require(terminal.string("api_key")))
    }

    func healthWorld(world given: World? = nil, passport: String = "K12345678", surname: String = "SMITH",
                     wageFen: Int = 1_000_000) async throws -> HealthWorld {
        let world: World
        if let given { world = given } else { world = try await self.world() }
        if try await call(.get, "/v1/health/policies/330200/2026").status == .notFound {
            let policy = try await call(.put, "/v1/health/policies/330200/2026", token: world.admin, raw: try HealthDemo.text("policy-330200-2026.json"))
            try #require(policy.status == .created, "\(policy.text)")
            let catalogue = try await call(.put, "/v1/health/catalogues/330200", token: world.admin, raw: try HealthDemo.text("catalogue-330200.csv"),
                                           headers: [.contentType: "text/csv"])
            try #require(catalogue.status == .created, "\(catalogue.text)")
        }
        let hospital = try await provider(world.admin, kind: "hospital", tier: 2, name: "Ningbo No.2 Hospital \(surname)")
        let pharmacy = try await provider(world.admin, kind: "pharmacy", tier: nil, name: "Haishu Pharmacy \(surname)")
        let (card, token) = try await bankedHolder(world, passport: passport, surname: surname)
        let permitNumber = try #require(try await call(.get, "/v1/ecard/me", token: token).string("permit.number"))
        let enrolled = try await call(.post, "/v1/health/enrolments", token: world.employer,
                                      json: ["permit_number": permitNumber, "wage_fen": wageFen, "start_month": "2026-12",
                                             "insurances": ["medical", "pension", "unemployment", "work_injury", "maternity"]])
        try #require(enrolled.status == .created, "\(enrolled.text)")
        let paid = try await call(.post, "/v1/health/contribution-batches", token: world.employer,
                                  json: ["month": "2026-12", "lines": [["permit_number": permitNumber]]])
        try #require(paid.status == .ok && paid.value("accepted") as? Int == 1, "\(paid.text)")
        return HealthWorld(world: world, hospitalID: hospital.id, pharmacyID: pharmacy.id, hospital: hospital.key, pharmacy: pharmacy.key,
                           card: card, token: token, permitNumber: permitNumber, enrolmentID: try #require(enrolled.string("id")))
    }

    func bill(_ lines: [(String, Int, Int)]) -> [[String: Any]] {
        lines.map { ["code": $0.0, "quantity": $0.1, "unit_price_fen": $0.2] }
    }

    func personalAccount(_ token: String) async throws -> Int? {
        try await call(.get, "/v1/ecard/health", token: token).value("personal_account.amount_fen") as? Int
    }
}

extension Reply {
    func fen(_ path: String) -> Int? { value("\(path).amount_fen") as? Int }
}

@Suite("Health: enrolment, contributions, settlement, reversal, FHIR")
struct HealthAPITests {
    @Test("an employer enrols its permit holder; monthly contributions credit the personal account once per month", arguments: TestStores.engines)
    func contributions(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.healthWorld()
            // Wage 10,000.00 CNY inside the demo bounds: medical 7.5% + 2% = 950.00, personal account 2% = 200.00.
            #expect(try await h.personalAccount(w.token) == 20_000)
            let summary = try await h.call(.get, "/v1/ecard/health", token: w.token)
            #expect(summary.string("status") == "insured", "\(summary.text)")
            #expect(summary.string("enrolment.status") == "active")
            #expect(summary.value("employer_name.en") as? String == "Ningbo Port Tech")

            // The same person and month again: a duplicate, nothing moves; a stranger's permit and a
            // permit listed twice are rejected with their reasons.
            let again = try await h.call(.post, "/v1/health/contribution-batches", token: w.world.employer,
                                         json: ["month": "2026-12", "lines": [["permit_number": w.permitNumber], ["permit_number": w.permitNumber],
                                                                              ["permit_number": "not-a-permit"]]])
            #expect(again.status == .ok, "\(again.text)")
            #expect(again.string("lines.0.outcome") == "duplicate")
            #expect(again.string("lines.1.reason") == "listed_twice")
            #expect(again.string("lines.2.reason") == "permit_unknown")
            #expect(try await h.personalAccount(w.token) == 20_000)
            let other = try await h.call(.post, "/v1/health/contribution-batches", token: w.world.otherEmployer,
                                         json: ["month": "2026-12", "lines": [["permit_number": w.permitNumber]]])
            #expect(other.string("lines.0.reason") == "not_enrolled", "another employer cannot pay for this person: \(other.text)")
            let early = try await h.call(.post, "/v1/health/contribution-batches", token: w.world.employer,
                                         json: ["month": "2026-11", "lines": [["permit_number": w.permitNumber]]])
            #expect(early.string("lines.0.reason") == "not_enrolled", "before the enrolment began: \(early.text)")
            #expect(try await h.call(.post, "/v1/health/contribution-batches", token: w.world.employer,
                                     json: ["month": "2027-01", "lines": [["permit_number": w.permitNumber]]]).code == "health.month_in_future")
            #expect(try await h.call(.post, "/v1/health/contribution-batches", token: w.world.employer,
                                     json: ["month": "2026-13", "lines": [["permit_number": w.permitNumber]]]).status == .badRequest)

            // The e-card's history by month and insurance type.
            let history = try await h.call(.get, "/v1/ecard/health/contributions?year=2026", token: w.token)
            #expect(history.status == .ok, "\(history.text)")
            let entries = try #require(history.value("months.0.entries") as? [[String: Any]])
            #expect(history.string("months.0.month") == "2026-12")
            #expect(entries.map { $0["insurance"] as? String } == ["medical", "pension", "unemployment", "work_injury", "maternity"])
            #expect(history.fen("months.0.entries.0.employer") == 75_000)
            #expect(history.fen("months.0.entries.0.employee") == 20_000)
            #expect(history.fen("months.0.entries.0.personal_account") == 20_000)
            #expect(history.fen("months.0.entries.1.employer") == 160_000)
            #expect(history.fen("months.0.entries.1.personal_account") == 0)
            #expect(history.fen("totals.0.employer") == 75_000)
            #expect(try await h.call(.get, "/v1/ecard/health/contributions?year=1999", token: w.token).code == "health.year_invalid")

            // Enrolment rules: one open enrolment per person; the employer sees only its own.
            let twice = try await h.call(.post, "/v1/health/enrolments", token: w.world.employer,
                                         json: ["permit_number": w.permitNumber, "wage_fen": 500_000, "start_month": "2026-12", "insurances": ["medical"]])
            #expect(twice.code == "health.already_enrolled")
            let stranger = try await h.call(.post, "/v1/health/enrolments", token: w.world.otherEmployer,
                                            json: ["permit_number": w.permitNumber, "wage_fen": 500_000, "start_month": "2026-12", "insurances": ["medical"]])
            #expect(stranger.code == "permit.not_found")
            let outside = try await h.call(.post, "/v1/health/enrolments", token: w.world.admin,
                                           json: ["permit_number": w.permitNumber, "wage_fen": 500_000, "start_month": "2026-10", "insurances": ["medical"]])
            #expect(outside.code == "health.month_outside_permit" || outside.code == "health.already_enrolled", "\(outside.text)")
            #expect(try await h.call(.post, "/v1/health/enrolments", token: w.world.employer,
                                     json: ["permit_number": w.permitNumber, "wage_fen": 0, "start_month": "2026-12", "insurances": ["medical"]]).status == .badRequest)
            let mine = try await h.call(.get, "/v1/health/enrolments", token: w.world.employer)
            #expect(mine.items.count == 1)
            #expect(try await h.call(.get, "/v1/health/enrolments", token: w.world.otherEmployer).items.isEmpty)
            let ledger = try await h.store.verifyLedger()
            #expect(ledger.isOK, "\(ledger)")
        }
    }

    @Test("pre-settlement shows the breakdown; settlement posts it once; replays answer the same", arguments: TestStores.engines)
    func settleWithPIN(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.healthWorld()
            // Outpatient at tier 2, deductible 300.00 per year, class B self-pay 10%, personal
            // account pays class-B self-pay, deductible and copay but not class C.
            let lines = h.bill([("110200001", 1, 2_500), ("250101001", 1, 4_000), ("XC10AAA003", 2, 3_550), ("ZA0001", 1, 1_500)])
            let body: [String: Any] = ["card_number": w.card, "pin": "582931", "visit_type": "outpatient", "lines": lines]
            let quote = try await h.call(.post, "/v1/health/pre-settlements", token: w.hospital, json: body)
            #expect(quote.status == .ok, "\(quote.text)")
            #expect(quote.string("status") == "quote")
            #expect(quote.value("id") == nil)
            #expect(quote.fen("total.amount") == 15_100)
            #expect(quote.fen("total.class_c") == 1_500)
            #expect(quote.fen("total.class_b_self_pay") == 710)
            #expect(quote.fen("total.deductible") == 12_890)
            #expect(quote.fen("total.fund") == 0)
            #expect(quote.fen("total.personal_account") == 13_600)
            #expect(quote.fen("total.cash") == 1_500)
            #expect(quote.fen("lines.2.parts.class_b_self_pay") == 710)
            #expect(quote.value("lines.2.name.zh") as? String == "阿托伐他汀钙片")
            #expect(try await h.personalAccount(w.token) == 20_000, "a quote moves nothing")

            let noKey = try await h.call(.post, "/v1/health/settlements", token: w.hospital, json: body.merging(["provider_reference": "INV-1"]) { $1 })
            #expect(noKey.code == "idempotency.key_required")
            let noReference = try await h.call(.post, "/v1/health/settlements", token: w.hospital, json: body, headers: [.idempotencyKey: "s0"])
            #expect(noReference.code == "health.reference_invalid")
            let settleBody = body.merging(["provider_reference": "INV-1"]) { $1 }
            let settled = try await h.call(.post, "/v1/health/settlements", token: w.hospital, json: settleBody, headers: [.idempotencyKey: "s1"])
            #expect(settled.status == .created, "\(settled.text)")
            #expect(settled.string("status") == "settled")
            #expect(settled.fen("total.personal_account") == 13_600)
            #expect(settled.fen("personal_account_balance") == 6_400)
            #expect(settled.fen("accumulators.deductible_met.outpatient") == 12_890)
            let id = try #require(settled.string("id"))
            let replay = try await h.call(.post, "/v1/health/settlements", token: w.hospital, json: settleBody, headers: [.idempotencyKey: "s1"])
            #expect(replay.status == .created && replay.string("id") == id)
            #expect(replay.headers[.idempotencyReplayed] == "true")
            #expect(try await h.personalAccount(w.token) == 6_400)

            // The deductible is met once a year: the next visit takes only what is left (300.00 − 128.90).
            let second = try await h.call(.post, "/v1/health/pre-settlements", token: w.hospital,
                                          json: ["card_number": w.card, "pin": "582931", "visit_type": "outpatient",
                                                 "lines": h.bill([("250101001", 5, 8_000)]), "use_personal_account": false])
            #expect(second.fen("total.deductible") == 17_110, "\(second.text)")
            // 40,000 − 17,110 = 22,890 reimbursable at 60% = 13,734 by the fund.
            #expect(second.fen("total.fund") == 13_734)
            #expect(second.fen("total.personal_account") == 0)
            #expect(second.fen("total.cash") == 40_000 - 13_734)

            // The cardholder sees it; the pharmacy, a wrong PIN and an unknown item are refused.
            let mine = try await h.call(.get, "/v1/ecard/health/settlements", token: w.token)
            #expect(mine.items.count == 1 && mine.items.first?["id"] as? String == id)
            #expect(try await h.call(.get, "/v1/ecard/health/settlements/\(id)", token: w.token).fen("total.amount") == 15_100)
            #expect(try await h.call(.get, "/v1/health/settlements/\(id)", token: w.pharmacy).code == "health.settlement_not_found")
            let wrongPIN = try await h.call(.post, "/v1/health/pre-settlements", token: w.hospital,
                                            json: ["card_number": w.card, "pin": "000000", "visit_type": "outpatient", "lines": lines])
            #expect(wrongPIN.code == "card.pin_invalid")
            let unknown = try await h.call(.post, "/v1/health/pre-settlements", token: w.hospital,
                                           json: ["card_number": w.card, "pin": "582931", "visit_type": "outpatient",
                                                  "lines": h.bill([("110200001", 1, 2_500), ("NOPE01", 1, 100)])])
            #expect(unknown.code == "health.item_unknown" && unknown.string("detail")?.contains("lines[1]") == true, "\(unknown.text)")
            #expect(try await h.call(.post, "/v1/health/pre-settlements", token: w.pharmacy,
                                     json: ["card_number": w.card, "pin": "582931", "visit_type": "inpatient", "lines": lines]).code == "health.visit_not_offered")
            #expect(try await h.call(.post, "/v1/health/pre-settlements", token: w.hospital,
                                     json: ["card_number": w.card, "visit_type": "outpatient", "lines": lines]).code == "health.identification_required")
            let audit = try await h.call(.get, "/v1/audit-records?limit=200", token: w.world.admin)
            #expect(audit.items.filter { $0["action"] as? String == "health.settle" }.count == 1)
            #expect(!audit.text.contains("582931"))
            let ledger = try await h.store.verifyLedger()
            #expect(ledger.isOK, "\(ledger)")
        }
    }

    @Test("an inpatient stay is paid by the fund, the personal account and the card's bank account; reversal undoes all of it once",
          arguments: TestStores.engines)
    func inpatientAndReversal(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.healthWorld()
            _ = try await h.call(.post, "/v1/cards/\(w.card)/deposits", token: w.world.clerk, json: ["amount_fen": 100_000, "account": "financial"],
                                 headers: [.idempotencyKey: "dep"])
            // Tier 2 inpatient: deductible 600.00 per admission, ratio 85%.
            // Bed 5 × 80.00 = 400.00: deductible; appendectomy 3,000.00: deductible 200.00, then 2,800.00 at 85% = 2,380.00.
            let body: [String: Any] = ["card_number": w.card, "pin": "582931", "visit_type": "inpatient", "cash_method": "financial_account",
                                       "provider_reference": "ADM-7", "lines": h.bill([("310800001", 5, 8_000), ("330100001", 1, 300_000)])]
            let settled = try await h.call(.post, "/v1/health/settlements", token: w.hospital, json: body, headers: [.idempotencyKey: "in-1"])
            #expect(settled.status == .created, "\(settled.text)")
            #expect(settled.fen("total.deductible") == 60_000)
            #expect(settled.fen("total.fund") == 238_000)
            #expect(settled.fen("total.copay") == 42_000)
            #expect(settled.fen("total.personal_account") == 20_000)
            #expect(settled.fen("total.cash") == 82_000)
            #expect(settled.fen("accumulators.fund_paid") == 238_000)
            let id = try #require(settled.string("id"))
            let balance = try await h.call(.get, "/v1/ecard/accounts", token: w.token)
            let financial = balance.items.first { $0["kind"] as? String == "financial" }
            #expect((financial?["balance"] as? [String: Any])?["amount_fen"] as? Int == 18_000, "\(balance.text)")
            #expect(try await h.call(.get, "/v1/ecard/health", token: w.token).fen("accumulators.fund_paid") == 238_000)

            // FHIR: the adjudication a hospital system consumes.
            let eob = try await h.call(.get, "/v1/health/settlements/\(id)/explanation-of-benefit", token: w.hospital)
            #expect(eob.status == .ok, "\(eob.text)")
            #expect(eob.headers[.contentType] == "application/fhir+json")
            #expect(eob.string("resourceType") == "ExplanationOfBenefit")
            #expect(eob.string("status") == "active")
            #expect(eob.string("type.coding.0.code") == "institutional")
            #expect(eob.text.contains(#""value":2380.00"#), "money is written as exact decimals: \(eob.text.prefix(400))")
            let items = try #require(eob.value("item") as? [[String: Any]])
            #expect(items.count == 2)
            #expect(try await h.call(.get, "/v1/health/settlements/\(id)/explanation-of-benefit", token: w.token).status == .ok)
            #expect(try await h.call(.get, "/v1/health/settlements/\(id)/explanation-of-benefit", token: w.pharmacy).status == .notFound)

            // Reversal: every leg, every accumulator, once.
            let reversed = try await h.call(.post, "/v1/health/settlements/\(id)/reversal", token: w.hospital, json: ["reason": "billing error"],
                                            headers: [.idempotencyKey: "rev-1"])
            #expect(reversed.status == .ok, "\(reversed.text)")
            #expect(reversed.string("status") == "reversed")
            #expect(reversed.value("reversed_at") != nil)
            let replay = try await h.call(.post, "/v1/health/settlements/\(id)/reversal", token: w.hospital, json: ["reason": "billing error"],
                                          headers: [.idempotencyKey: "rev-1"])
            #expect(replay.status == .ok && replay.headers[.idempotencyReplayed] == "true")
            let twice = try await h.call(.post, "/v1/health/settlements/\(id)/reversal", token: w.hospital, json: ["reason": "again"],
                                         headers: [.idempotencyKey: "rev-2"])
            #expect(twice.status == .conflict && twice.code == "health.already_reversed")
            #expect(try await h.personalAccount(w.token) == 20_000)
            let after = try await h.call(.get, "/v1/ecard/health", token: w.token)
            #expect(after.fen("accumulators.fund_paid") == 0)
            let restored = try await h.call(.get, "/v1/ecard/accounts", token: w.token).items.first { $0["kind"] as? String == "financial" }
            #expect((restored?["balance"] as? [String: Any])?["amount_fen"] as? Int == 100_000)
            #expect(try await h.call(.get, "/v1/health/settlements/\(id)/explanation-of-benefit", token: w.hospital).string("status") == "cancelled")
            let ledger = try await h.store.verifyLedger()
            #expect(ledger.isOK, "\(ledger)")
        }
    }

    @Test("the dynamic QR identifies the patient: quotes do not use it up, settlement does, an expired one is refused",
          arguments: TestStores.engines)
    func dynamicCode(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.healthWorld()
            func fresh() async throws -> String {
                let reply = try await h.call(.post, "/v1/ecard/dynamic-codes", token: w.token)
                return try #require(reply.string("code"), "\(reply.text)")
            }
            let code = try await fresh()
            let body: [String: Any] = ["dynamic_code": code, "visit_type": "pharmacy", "provider_reference": "RX-1",
                                       "lines": h.bill([("XA01BAA001", 2, 1_850)])]
            let quote = try await h.call(.post, "/v1/health/pre-settlements", token: w.pharmacy, json: body)
            #expect(quote.status == .ok, "\(quote.text)")
            // Pharmacy: ratio 0, no deductible: the personal account pays everything.
            #expect(quote.fen("total.personal_account") == 3_700)
            let settled = try await h.call(.post, "/v1/health/settlements", token: w.pharmacy, json: body, headers: [.idempotencyKey: "rx-1"])
            #expect(settled.status == .created, "\(settled.text)")
            #expect(try await h.personalAccount(w.token) == 16_300)
            let reused = try await h.call(.post, "/v1/health/settlements", token: w.pharmacy, json: body, headers: [.idempotencyKey: "rx-2"])
            #expect(reused.status == .conflict && reused.code == "code.already_used", "\(reused.text)")
            // Paying the rest from the bank account needs the PIN even with a code.
            var cash = body
            cash["dynamic_code"] = try await fresh()
            cash["cash_method"] = "financial_account"
            cash["use_personal_account"] = false
            #expect(try await h.call(.post, "/v1/health/settlements", token: w.pharmacy, json: cash,
                                     headers: [.idempotencyKey: "rx-3"]).code == "health.pin_required")
            let late = try await fresh()
            h.clock.advance(seconds: 121)
            var expired = body
            expired["dynamic_code"] = late
            #expect(try await h.call(.post, "/v1/health/pre-settlements", token: w.pharmacy, json: expired).code == "code.expired")
            #expect(try await h.call(.post, "/v1/health/settlements", token: w.pharmacy, json: expired,
                                     headers: [.idempotencyKey: "rx-4"]).code == "code.expired")
            let ledger = try await h.store.verifyLedger()
            #expect(ledger.isOK, "\(ledger)")
        }
    }

    @Test("two settlements at once cannot both spend the last of the annual cap", arguments: TestStores.engines)
    func capRace(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.healthWorld()
            // A new policy version with a 1,000.00 annual cap.
            var policy = try HealthDemo.policy()
            policy["annual_fund_cap_fen"] = 100_000
            var visits = try #require(policy["visits"] as? [String: Any])
            var outpatient = try #require(visits["outpatient"] as? [String: Any])
            outpatient["annual_fund_cap_fen"] = 50_000
            visits["outpatient"] = outpatient
            policy["visits"] = visits
            let tightened = try await h.call(.put, "/v1/health/policies/330200/2026", token: w.world.admin, json: policy)
            try #require(tightened.status == .created && tightened.value("version") as? Int == 2, "\(tightened.text)")
            // Each stay alone: deductible 600.00, then 1,400.00 at 85% = 1,190.00 > the cap.
            let results = try await withThrowingTaskGroup(of: Reply.self) { group in
                for index in 0..<4 {
                    group.addTask {
                        try await h.call(.post, "/v1/health/settlements", token: w.hospital,
                                         json: ["card_number": w.card, "pin": "582931", "visit_type": "inpatient", "use_personal_account": false,
                                                "provider_reference": "RACE-\(index)", "lines": h.bill([("330100001", 1, 200_000)])],
                                         headers: [.idempotencyKey: "race-\(index)"])
                    }
                }
                var replies: [Reply] = []
                for try await reply in group { replies.append(reply) }
                return replies
            }
            #expect(results.allSatisfy { $0.status == .created }, "\(results.map(\.text))")
            let fund = results.compactMap { $0.fen("total.fund") }.reduce(0, +)
            #expect(fund == 100_000, "the fund paid exactly the cap in all: \(results.map { $0.fen("total.fund") ?? -1 })")
            let overCap: Int = results.compactMap { $0.fen("total.over_cap") }.reduce(0, +)
            #expect(overCap == 4 * 119_000 - 100_000)
            #expect(try await h.call(.get, "/v1/ecard/health", token: w.token).fen("accumulators.fund_paid") == 100_000)
            let ledger = try await h.store.verifyLedger()
            #expect(ledger.isOK, "\(ledger)")
        }
    }

    @Test("treatment in another interoperable city uses that city's catalogue and the insured city's policy", arguments: TestStores.engines)
    func crossCity(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.healthWorld()
            let hangzhou = try await h.provider(w.world.admin, kind: "hospital", tier: 2, city: "330100", name: "Hangzhou First Hospital")
            let body: [String: Any] = ["card_number": w.card, "pin": "582931", "visit_type": "outpatient", "use_personal_account": false,
                                       "lines": h.bill([("XC10AAA003", 1, 10_000)])]
            func interoperable(_ flag: Bool) async throws {
                try await h.withClock(at: "2026-11-30T05:00:00+08:00") {
                    let set = try await h.call(.put, "/v1/transit/cities/330100", token: w.world.admin,
                                               json: ["interoperable": flag, "effective_from": "2026-12-01"])
                    try #require(set.status == .ok, "\(set.text)")
                }
            }
            try await interoperable(false)
            let closed = try await h.call(.post, "/v1/health/pre-settlements", token: hangzhou.key, json: body)
            #expect(closed.code == "health.cross_city_not_allowed", "\(closed.text)")
            try await interoperable(true)
            #expect(try await h.call(.post, "/v1/health/pre-settlements", token: hangzhou.key, json: body).code == "health.catalogue_missing")
            let imported = try await h.call(.put, "/v1/health/catalogues/330100", token: w.world.admin, raw: try HealthDemo.text("catalogue-330100.csv"),
                                            headers: [.contentType: "text/csv"])
            #expect(imported.status == .created, "\(imported.text)")
            // Atorvastatin is class A in Hangzhou (class B at home): no self-pay-first share;
            // the Ningbo outpatient deductible (300.00) and tier-2 ratio (60%) apply.
            let away = try await h.call(.post, "/v1/health/pre-settlements", token: hangzhou.key, json: body)
            #expect(away.status == .ok, "\(away.text)")
            #expect(away.string("treatment_city") == "330100" && away.string("insured_city") == "330200")
            #expect(away.fen("total.class_b_self_pay") == 0)
            #expect(away.fen("total.deductible") == 10_000)
            let home = try await h.call(.post, "/v1/health/pre-settlements", token: w.hospital, json: body)
            #expect(home.fen("total.class_b_self_pay") == 1_000)
        }
    }

    @Test("a lapsed permit or an ended enrolment stops new settlements, never past ones", arguments: TestStores.engines)
    func lapsed(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.healthWorld()
            let body: [String: Any] = ["card_number": w.card, "pin": "582931", "visit_type": "pharmacy", "provider_reference": "RX-9",
                                       "lines": h.bill([("XN02BEA002", 1, 1_200)])]
            let settled = try await h.call(.post, "/v1/health/settlements", token: w.pharmacy, json: body, headers: [.idempotencyKey: "p1"])
            #expect(settled.status == .created, "\(settled.text)")
            let id = try #require(settled.string("id"))
            // The employer ends the enrolment with December; in January there is no cover.
            #expect(try await h.call(.post, "/v1/health/enrolments/\(w.enrolmentID)/end", token: w.world.employer,
                                     json: ["end_month": "2026-11", "reason": "left"]).code == "health.end_month_invalid")
            let ended = try await h.call(.post, "/v1/health/enrolments/\(w.enrolmentID)/end", token: w.world.employer,
                                         json: ["end_month": "2026-12", "reason": "employment ended"])
            #expect(ended.status == .ok && ended.string("end_month") == "2026-12", "\(ended.text)")
            #expect(try await h.call(.post, "/v1/health/enrolments/\(w.enrolmentID)/end", token: w.world.employer,
                                     json: ["end_month": "2026-12", "reason": "again"]).code == "health.enrolment_ended")
            h.clock.advance(seconds: 31 * 86_400)
            #expect(try await h.call(.post, "/v1/health/pre-settlements", token: w.pharmacy, json: body).code == "health.not_insured")
            // A month on, the holder signs in again (sessions last 30 days).
            let session = try await h.call(.post, "/v1/ecard/sessions", json: ["permit_number": w.permitNumber, "password": "moonlit harbour walk"])
            let token = try #require(session.string("token"), "\(session.text)")
            #expect(try await h.call(.get, "/v1/ecard/health", token: token).string("status") == "ended")
            // A lapsed permit (valid until 2028-11-30): refused with its own code, checked before the
            // enrolment; past settlements stay visible.
            h.clock.advance(seconds: (TapTime("2028-12-05T10:00:00+08:00")?.unixMs ?? 0) / 1000 - h.clock.now / 1000)
            let lapsed = try await h.call(.post, "/v1/health/settlements", token: w.pharmacy, json: body, headers: [.idempotencyKey: "p2"])
            #expect(lapsed.code == "health.permit_not_valid", "\(lapsed.text)")
            let later = try await h.call(.post, "/v1/ecard/sessions", json: ["permit_number": w.permitNumber, "password": "moonlit harbour walk"])
            let lateToken = try #require(later.string("token"), "\(later.text)")
            #expect(try await h.call(.get, "/v1/ecard/health/settlements/\(id)", token: lateToken).status == .ok)
            #expect(try await h.call(.get, "/v1/ecard/health", token: lateToken).string("status") == "ended")
        }
    }

    @Test("policies and catalogues are validated whole, versioned and public", arguments: TestStores.engines)
    func imports(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let admin = try await h.admin()
            var policy = try HealthDemo.policy()
            var visits = try #require(policy["visits"] as? [String: Any])
            var outpatient = try #require(visits["outpatient"] as? [String: Any])
            var tiers = try #require(outpatient["tiers"] as? [String: Any])
            tiers["2"] = ["deductible_fen": 30_000, "ratio_bp": 10_001]
            outpatient["tiers"] = tiers
            visits["outpatient"] = outpatient
            policy["visits"] = visits
            let bad = try await h.call(.put, "/v1/health/policies/330200/2026", token: admin, json: policy)
            #expect(bad.status == .badRequest && bad.code == "health.policy_invalid", "\(bad.text)")
            #expect(bad.string("detail")?.contains("visits.outpatient.tiers.2.ratio_bp") == true, "\(bad.text)")
            let mismatch = try await h.call(.put, "/v1/health/policies/330100/2026", token: admin, raw: try HealthDemo.text("policy-330200-2026.json"))
            #expect(mismatch.code == "health.policy_mismatch")
            #expect(try await h.call(.get, "/v1/health/policies/330200/2026").code == "health.policy_missing")
            let good = try await h.call(.put, "/v1/health/policies/330200/2026", token: admin, raw: try HealthDemo.text("policy-330200-2026.json"))
            #expect(good.status == .created && good.value("version") as? Int == 1, "\(good.text)")
            let shown = try await h.call(.get, "/v1/health/policies/330200/2026")
            #expect(shown.value("policy.visits.inpatient.tiers.3.ratio_bp") as? Int == 8_000)

            #expect(try await h.call(.put, "/v1/health/catalogues/330200", token: admin, raw: "code,name_en\n").status == .unsupportedMediaType)
            let dup = try await h.call(.put, "/v1/health/catalogues/330200", token: admin,
                                       raw: "code,name_en,name_zh,class,unit\nA1,Aspirin,阿司匹林,A,box\nA1,Again,再,B,box\n",
                                       headers: [.contentType: "text/csv"])
            #expect(dup.code == "health.catalogue_invalid" && dup.string("detail")?.contains("line 3") == true, "\(dup.text)")
            let catalogue = try await h.call(.put, "/v1/health/catalogues/330200", token: admin, raw: try HealthDemo.text("catalogue-330200.csv"),
                                             headers: [.contentType: "text/csv"])
            #expect(catalogue.value("item_count") as? Int == 11, "\(catalogue.text)")
            let page = try await h.call(.get, "/v1/health/catalogues/330200?limit=5")
            #expect(page.items.count == 5)
            let next = try #require(page.string("next_after"))
            let rest = try await h.call(.get, "/v1/health/catalogues/330200?limit=50&after=\(next)")
            #expect(rest.items.count == 6 && rest.value("next_after") == nil)
            #expect(try await h.call(.post, "/v1/health/providers", token: admin,
                                     json: ["name": ["en": "P", "zh": "药"], "kind": "pharmacy", "tier": 2, "city_code": "330200"]).code == "health.tier_invalid")
            #expect(try await h.call(.post, "/v1/terminals", token: admin,
                                     json: ["kind": "pharmacyPOS", "name": "till"]).code == "health.provider_not_found")
            let audit = try await h.call(.get, "/v1/audit-records?limit=200", token: admin)
            #expect(audit.items.filter { ($0["action"] as? String)?.hasPrefix("health.") == true }.count == 2)
        }
    }
}
