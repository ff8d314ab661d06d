import Foundation
import HTTPTypes
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import Testing

// Partner merchants' offers (issue 12) through the HTTP API, on both engines. The test clock
// starts on Tuesday 2026-12-01 at 12:00 in Shanghai.

extension Harness {
    struct OfferWorld: Sendable {
        let world: World
        let card: String
        let token: String
        let merchantID: String
        let till: String
        let merchantAdmin: String
    }

    /// A banked holder with 1,000.00 on the bank account, the bookshop (shopping, Ningbo) with a
    /// till and a merchant administrator.
    func offerWorld(passport: String = "K12345678", surname: String = "SMITH") async throws -> OfferWorld {
        let world = try await world()
        let (card, token) = try await bankedHolder(world, passport: passport, surname: surname)
        let deposit = try await call(.post, "/v1/cards/\(card)/deposits", token: world.clerk, json: ["amount_fen": 100_000, "account": "financial"],
                                     headers: [.idempotencyKey: "seed-\(card)"])
        try #require(deposit.status == .created, "\(deposit.text)")
        let merchant = try await call(.post, "/v1/merchants", token: world.admin,
                                      json: ["name": ["en": "Tianyi Square Books", "zh": "天一广场书店"], "category": "shopping", "city_code": "330200"])
        let merchantID = try #require(merchant.string("id"), "\(merchant.text)")
        let till = try #require(try await call(.post, "/v1/terminals", token: world.admin,
                                               json: ["kind": "merchantPos", "name": "Bookshop till", "binding_id": merchantID]).string("api_key"))
        return OfferWorld(world: world, card: card, token: token, merchantID: merchantID, till: till,
                          merchantAdmin: try await staff(.merchantAdmin, merchant: merchantID))
    }

    func offer(_ admin: String, _ body: [String: Any]) async throws -> String {
        var full: [String: Any] = ["city_code": "330200", "title": ["en": "Offer", "zh": "优惠"], "terms": ["en": "Terms", "zh": "条款"],
                                   "valid_from": "2026-12-01", "valid_until": "2026-12-31", "funding": "merchant"]
        full.merge(body) { $1 }
        let reply = try await call(.post, "/v1/offers", token: admin, json: full, headers: [.idempotencyKey: "offer-\(UUID().uuidString)"])
        try #require(reply.status == .created, "\(reply.text)")
        return try #require(reply.string("id"))
    }

    func pay(_ w: OfferWorld, amount: Int, key: String, offer: String? = nil, card: String? = nil) async throws -> Reply {
        var body: [String: Any] = ["card_number": card ?? w.card, "pin": "582931", "amount_fen": amount, "merchant_reference": key]
        if let offer { body["offer"] = offer }
        return try await call(.post, "/v1/payments", token: w.till, json: body, headers: [.idempotencyKey: key])
    }

    func systemBalance(_ admin: String, kind: String, owner: String) async throws -> Int? {
        var cursor: String?
        repeat {
            let page = try await call(.get, "/v1/system-accounts?limit=200" + (cursor.map { "&cursor=\($0)" } ?? ""), token: admin)
            if let item = page.items.first(where: { $0["kind"] as? String == kind && $0["owner_id"] as? String == owner }) {
                return (item["balance"] as? [String: Any])?["amount_fen"] as? Int
            }
            cursor = page.string("next_cursor")
        } while cursor != nil
        return nil
    }
}

private func fen(_ reply: Reply, _ path: String) -> Int? { reply.value(path + ".amount_fen") as? Int }

@Suite("Offers: partner merchants' discounts at payment")
struct OfferAPITests {
    @Test("a subsidy-funded 10% offer applies at payment, pays the merchant from its budget, and refunds share it back",
          arguments: TestStores.engines)
    func subsidy(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.offerWorld()
            let offerID = try await h.offer(w.world.admin, ["category": "shopping", "title": ["en": "10% off at bookshops", "zh": "书店九折"],
                                                            "percent_off_bp": 1000, "cap_fen": 5_000, "funding": "subsidy", "budget_fen": 20_000])
            // The budget moved into the offer's own account.
            #expect(try await h.systemBalance(w.world.admin, kind: "offerBudget", owner: offerID) == 20_000)
            #expect(try await h.systemBalance(w.world.admin, kind: "subsidyFunding", owner: "330200") == -20_000)

            // 128.00 → 12.80 off; the card pays 115.20, the merchant receives 128.00.
            let paid = try await h.pay(w, amount: 12_800, key: "p1")
            #expect(paid.status == .created, "\(paid.text)")
            #expect(fen(paid, "amount") == 12_800 && fen(paid, "discount") == 1_280 && fen(paid, "paid") == 11_520, "\(paid.text)")
            #expect(paid.string("offer.offer_id") == offerID && paid.string("offer.funding") == "subsidy")
            #expect(paid.value("offer.title.en") as? String == "10% off at bookshops")
            // The cap: 1,000.00 → 50.00 off, not 100.00.
            let capped = try await h.pay(w, amount: 100_000 - 11_520 - 1, key: "p2")
            #expect(fen(capped, "discount") == 5_000, "\(capped.text)")
            let cappedID = try #require(capped.string("payment_id"))
            #expect(try await h.systemBalance(w.world.admin, kind: "offerBudget", owner: offerID) == 20_000 - 1_280 - 5_000)
            #expect(try await h.systemBalance(w.world.admin, kind: "merchantSettlement", owner: w.merchantID) == 12_800 + 100_000 - 11_520 - 1)
            // A replay answers the same receipt and moves nothing.
            let replay = try await h.pay(w, amount: 12_800, key: "p1")
            #expect(replay.headers[.idempotencyReplayed] == "true" && replay.string("payment_id") == paid.string("payment_id"))

            // Partial refund of 1/3 of what was paid gives back floor(5,000 × 29,493 / 88,479) = 1,666.
            let paidFen = 100_000 - 11_520 - 1 - 5_000
            #expect(fen(capped, "paid") == paidFen)
            let third = paidFen / 3
            let refund = try await h.call(.post, "/v1/payments/\(cappedID)/refunds", token: w.till, json: ["amount_fen": third],
                                          headers: [.idempotencyKey: "r1"])
            #expect(refund.status == .created, "\(refund.text)")
            #expect(fen(refund, "discount_returned") == 5_000 * third / paidFen, "\(refund.text)")
            // The rest: the whole discount has gone back, never more.
            let rest = try await h.call(.post, "/v1/payments/\(cappedID)/refunds", token: w.till, json: ["amount_fen": paidFen - third],
                                        headers: [.idempotencyKey: "r2"])
            #expect(fen(rest, "discount_returned") == 5_000 - 5_000 * third / paidFen, "\(rest.text)")
            #expect(fen(rest, "payment.discount_returned") == 5_000 && fen(rest, "payment.refunded") == paidFen)
            #expect(try await h.call(.post, "/v1/payments/\(cappedID)/refunds", token: w.till, json: ["amount_fen": 1],
                                     headers: [.idempotencyKey: "r3"]).code == "payment.refund_exceeds_payment")
            #expect(try await h.systemBalance(w.world.admin, kind: "offerBudget", owner: offerID) == 20_000 - 1_280)

            // Usage and budget for the administrator: one use left counting (the refunded one restored).
            let offer = try await h.call(.get, "/v1/offers/\(offerID)", token: w.world.admin)
            #expect(offer.value("usage.uses") as? Int == 1 && offer.value("usage.holders") as? Int == 1, "\(offer.text)")
            #expect(fen(offer, "usage.discounted") == 1_280 && fen(offer, "usage.budget_left") == 20_000 - 1_280)

            // Withdrawal: the unspent budget goes back to the city; the offer no longer applies.
            let withdrawn = try await h.call(.post, "/v1/offers/\(offerID)/withdrawal", token: w.world.admin)
            #expect(withdrawn.status == .ok && withdrawn.string("status") == "withdrawn", "\(withdrawn.text)")
            #expect(try await h.call(.post, "/v1/offers/\(offerID)/withdrawal", token: w.world.admin).code == "offer.already_withdrawn")
            #expect(try await h.systemBalance(w.world.admin, kind: "offerBudget", owner: offerID) == 0)
            #expect(try await h.systemBalance(w.world.admin, kind: "subsidyFunding", owner: "330200") == -1_280)
            let after = try await h.pay(w, amount: 1_000, key: "p3")
            #expect(fen(after, "discount") == 0 && after.value("offer") == nil, "\(after.text)")
            // A refund after the withdrawal passes the subsidy's share on to the city.
            let firstID = try #require(paid.string("payment_id"))
            let late = try await h.call(.post, "/v1/payments/\(firstID)/refunds", token: w.till, json: ["amount_fen": 11_520],
                                        headers: [.idempotencyKey: "r4"])
            #expect(fen(late, "discount_returned") == 1_280, "\(late.text)")
            #expect(try await h.systemBalance(w.world.admin, kind: "subsidyFunding", owner: "330200") == 0)
            #expect(try await h.systemBalance(w.world.admin, kind: "offerBudget", owner: offerID) == 0)

            let ledger = try await h.store.verifyLedger()
            #expect(ledger.isOK, "\(ledger)")
            let audit = try await h.call(.get, "/v1/audit-records?limit=200", token: w.world.admin)
            #expect(audit.items.contains { $0["action"] as? String == "offer.create" })
            #expect(audit.items.contains { $0["action"] as? String == "offer.withdraw" })
        }
    }

    @Test("a merchant-funded 满减 offer; the till may refuse offers or name one; the best offer wins by the documented rule",
          arguments: TestStores.engines)
    func merchantFundedAndChoice(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.offerWorld()
            // 20.00 off 100.00 at this merchant (merchant-funded) and 15% off with a 20.00 cap for the category (subsidy).
            let amountOff = try await h.offer(w.world.admin, ["merchant_id": w.merchantID, "amount_off_fen": 2_000, "minimum_spend_fen": 10_000,
                                                              "valid_until": "2027-01-31"])
            let percent = try await h.offer(w.world.admin, ["category": "shopping", "percent_off_bp": 1500, "cap_fen": 2_000,
                                                            "funding": "subsidy", "budget_fen": 100_000, "valid_until": "2027-01-31"])
            // Below the minimum spend only the percent offer applies: 99.99 → 14.99 off.
            let small = try await h.call(.post, "/v1/payments/quotes", token: w.till, json: ["amount_fen": 9_999, "card_number": w.card])
            #expect(small.status == .ok && small.string("offer.offer_id") == percent && fen(small, "discount") == 1_499, "\(small.text)")
            let considered = try #require(small.value("considered") as? [[String: Any]])
            #expect(considered.first { $0["offer_id"] as? String == amountOff }?["reason"] as? String == "minimum_spend_not_met")
            // At 200.00 both give 20.00: the tie goes to the merchant-funded one (same end date).
            let tie = try await h.pay(w, amount: 20_000, key: "t1")
            #expect(tie.string("offer.offer_id") == amountOff && fen(tie, "paid") == 18_000, "\(tie.text)")
            // The merchant's statement shows the gross sale and its contribution; it holds what the card paid.
            #expect(try await h.systemBalance(w.world.admin, kind: "merchantSettlement", owner: w.merchantID) == 18_000)
            #expect(try await h.systemBalance(w.world.admin, kind: "merchantPromotion", owner: amountOff) == 0)
            // The till says otherwise: no offer, or the named one.
            let none = try await h.pay(w, amount: 20_000, key: "t2", offer: "none")
            #expect(fen(none, "discount") == 0 && fen(none, "paid") == 20_000, "\(none.text)")
            let named = try await h.pay(w, amount: 20_000, key: "t3", offer: percent)
            #expect(named.string("offer.offer_id") == percent && fen(named, "discount") == 2_000, "\(named.text)")
            let refused = try await h.pay(w, amount: 5_000, key: "t4", offer: amountOff)
            #expect(refused.code == "offer.not_applicable" && refused.string("detail")?.contains("minimum_spend_not_met") == true, "\(refused.text)")
            #expect(try await h.pay(w, amount: 5_000, key: "t5", offer: "everything").status == .badRequest)
            // A quote moves nothing.
            let before = try await h.systemBalance(w.world.admin, kind: "merchantSettlement", owner: w.merchantID)
            _ = try await h.call(.post, "/v1/payments/quotes", token: w.till, json: ["amount_fen": 20_000])
            #expect(try await h.systemBalance(w.world.admin, kind: "merchantSettlement", owner: w.merchantID) == before)
            // A merchant-funded refund returns its share of the discount to no one but counts it back.
            let tieID = try #require(tie.string("payment_id"))
            let back = try await h.call(.post, "/v1/payments/\(tieID)/refunds", token: w.till, json: ["amount_fen": 9_000],
                                        headers: [.idempotencyKey: "tr1"])
            #expect(fen(back, "discount_returned") == 1_000, "\(back.text)")
            #expect(try await h.systemBalance(w.world.admin, kind: "merchantSettlement", owner: w.merchantID) == 18_000 + 20_000 + 20_000 - 9_000, "a subsidy pays the merchant the full price")

            // Days of the week and times of day: a weekend lunch offer does not apply on Tuesday noon;
            // an evening window applies from its start.
            let lunch = try await h.offer(w.world.admin, ["merchant_id": w.merchantID, "percent_off_bp": 5000, "weekdays": [6, 7],
                                                          "valid_until": "2027-01-31"])
            let evening = try await h.offer(w.world.admin, ["merchant_id": w.merchantID, "percent_off_bp": 4000, "windows": ["18:00-21:00"],
                                                            "valid_until": "2027-01-31"])
            let noon = try await h.call(.post, "/v1/payments/quotes", token: w.till, json: ["amount_fen": 1_000])
            let reasons = Dictionary(uniqueKeysWithValues: ((noon.value("considered") as? [[String: Any]]) ?? []).compactMap { item in
                (item["offer_id"] as? String).map { ($0, item["reason"] as? String ?? "applies") }
            })
            #expect(reasons[lunch] == "wrong_weekday" && reasons[evening] == "outside_hours", "\(noon.text)")
            h.clock.advance(seconds: 6 * 3600)
            let six = try await h.call(.post, "/v1/payments/quotes", token: w.till, json: ["amount_fen": 1_000])
            #expect(six.string("offer.offer_id") == evening && fen(six, "discount") == 400, "\(six.text)")

            // A lapsed permit: no offers (the payment itself still works).
            h.clock.advance(seconds: (TapTime("2028-12-05T10:00:00+08:00")?.unixMs ?? 0) / 1000 - h.clock.now / 1000)
            let longOffer = try await h.offer(try await h.admin(), ["merchant_id": w.merchantID, "percent_off_bp": 1000,
                                                                   "valid_from": "2028-12-01", "valid_until": "2029-12-31"])
            let lapsed = try await h.call(.post, "/v1/payments/quotes", token: w.till, json: ["amount_fen": 1_000, "card_number": w.card])
            let reason = ((lapsed.value("considered") as? [[String: Any]]) ?? []).first { $0["offer_id"] as? String == longOffer }?["reason"]
            #expect(reason as? String == "permit_not_valid" && lapsed.value("offer") == nil, "\(lapsed.text)")

            let ledger = try await h.store.verifyLedger()
            #expect(ledger.isOK, "\(ledger)")
        }
    }

    @Test("per-card limits per day and in total; a full refund restores a use; limits follow the person", arguments: TestStores.engines)
    func limits(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.offerWorld()
            let offerID = try await h.offer(w.world.admin, ["merchant_id": w.merchantID, "percent_off_bp": 1000, "per_card_per_day": 2,
                                                            "per_card_total": 3])
            let first = try await h.pay(w, amount: 1_000, key: "l1")
            let second = try await h.pay(w, amount: 1_000, key: "l2")
            #expect(fen(first, "discount") == 100 && fen(second, "discount") == 100)
            let third = try await h.pay(w, amount: 1_000, key: "l3")
            #expect(fen(third, "discount") == 0, "the day's two uses are taken: \(third.text)")
            let mine = try await h.call(.get, "/v1/ecard/offers?city_code=330200", token: w.token)
            let listed = try #require(mine.items.first { $0["id"] as? String == offerID }, "\(mine.text)")
            #expect(listed["remaining_uses"] as? [String: Int] == ["today": 0, "total": 1], "\(listed)")
            // A full refund of one gives the use back.
            let firstID = try #require(first.string("payment_id"))
            #expect(try await h.call(.post, "/v1/payments/\(firstID)/refunds", token: w.till, json: ["amount_fen": 900],
                                     headers: [.idempotencyKey: "lr1"]).status == .created)
            #expect(fen(try await h.pay(w, amount: 1_000, key: "l4"), "discount") == 100)
            // The next day: one use left in total.
            h.clock.advance(seconds: 86_400)
            #expect(fen(try await h.pay(w, amount: 1_000, key: "l5"), "discount") == 100)
            let spent = try await h.call(.post, "/v1/payments/quotes", token: w.till, json: ["amount_fen": 1_000, "card_number": w.card])
            #expect((spent.value("considered.0.reason") as? String) == "total_limit_reached", "\(spent.text)")
            // A replacement card keeps the person's count (a clerk signs in again: a day has passed).
            let clerk = try await h.staff(.bankClerk, branch: w.world.branchID)
            _ = try await h.call(.post, "/v1/cards/\(w.card)/loss-report", token: clerk)
            let replaced = try await h.call(.post, "/v1/cards/\(w.card)/replacement", token: clerk)
            let newCard = try #require(replaced.string("card.card_number"), "\(replaced.text)")
            let quote = try await h.call(.post, "/v1/payments/quotes", token: w.till, json: ["amount_fen": 1_000, "card_number": newCard])
            #expect((quote.value("considered.0.reason") as? String) == "total_limit_reached", "\(quote.text)")
            let savings = try await h.call(.get, "/v1/ecard/savings", token: w.token)
            #expect(savings.status == .ok && fen(savings, "saved_this_year") == 300 && fen(savings, "saved_in_all") == 300, "\(savings.text)")
            #expect(savings.items.count == 4 && savings.value("payments_this_year") as? Int == 4)
            #expect((savings.items.first?["merchant_name"] as? [String: Any])?["en"] as? String == "Tianyi Square Books")
        }
    }

    @Test("concurrent payments never pass a per-card limit or a budget", arguments: TestStores.engines)
    func races(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.offerWorld()
            // Per card: 3 uses in total, 8 payments at once from one card.
            _ = try await h.offer(w.world.admin, ["merchant_id": w.merchantID, "amount_off_fen": 100, "minimum_spend_fen": 1_000, "per_card_total": 3])
            let discounts = try await withThrowingTaskGroup(of: Reply.self) { group in
                for index in 0..<8 { group.addTask { try await h.pay(w, amount: 1_000, key: "race-card-\(index)") } }
                var all: [Reply] = []
                for try await reply in group { all.append(reply) }
                return all
            }
            #expect(discounts.allSatisfy { $0.status == .created }, "\(discounts.map(\.text))")
            #expect(discounts.filter { fen($0, "discount") == 100 }.count == 3)

            // Budget: 5 discounts of 10.00 fit in 50.00; 6 holders pay at once.
            let budgetOffer = try await h.offer(w.world.admin, ["category": "shopping", "amount_off_fen": 1_000, "minimum_spend_fen": 2_000,
                                                                "funding": "subsidy", "budget_fen": 5_000])
            var cards: [String] = []
            for index in 0..<6 {
                let (card, _) = try await h.bankedHolder(w.world, passport: "R0000000\(index)", surname: "RACER")
                _ = try await h.call(.post, "/v1/cards/\(card)/deposits", token: w.world.clerk, json: ["amount_fen": 10_000, "account": "financial"],
                                     headers: [.idempotencyKey: "race-seed-\(index)"])
                cards.append(card)
            }
            let paid = try await withThrowingTaskGroup(of: Reply.self) { group in
                for (index, card) in cards.enumerated() {
                    group.addTask { try await h.pay(w, amount: 3_000, key: "race-budget-\(index)", offer: budgetOffer, card: card) }
                }
                var all: [Reply] = []
                for try await reply in group { all.append(reply) }
                return all
            }
            #expect(paid.filter { $0.status == .created }.count == 5, "\(paid.map(\.text))")
            #expect(paid.filter { $0.code == "offer.not_applicable" }.count == 1)
            #expect(try await h.systemBalance(w.world.admin, kind: "offerBudget", owner: budgetOffer) == 0)
            let offer = try await h.call(.get, "/v1/offers/\(budgetOffer)", token: w.world.admin)
            #expect(fen(offer, "usage.budget_left") == 0 && offer.value("usage.uses") as? Int == 5, "\(offer.text)")
            let ledger = try await h.store.verifyLedger()
            #expect(ledger.isOK, "\(ledger)")
        }
    }

    @Test("views: the e-card's offers by city and category, the merchant's offers, payments, refunds and daily settlement",
          arguments: TestStores.engines)
    func views(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.offerWorld()
            let group = try await h.call(.post, "/v1/merchant-groups", token: w.world.admin, json: ["name": ["en": "Harbour Diners", "zh": "港口食府"]])
            let groupID = try #require(group.string("id"), "\(group.text)")
            let diner = try await h.call(.post, "/v1/merchants", token: w.world.admin, json: [
                "name": ["en": "Harbour Diner", "zh": "港口餐厅"], "category": "dining", "city_code": "330200", "group_id": groupID])
            #expect(diner.status == .created, "\(diner.text)")
            #expect(try await h.call(.post, "/v1/merchants", token: w.world.admin, json: [
                "name": ["en": "X", "zh": "X"], "category": "dining", "city_code": "330200",
                "group_id": "00000000-0000-4000-8000-000000000000"]).code == "merchant.group_not_found")
            let dining = try await h.offer(w.world.admin, ["merchant_group_id": groupID, "percent_off_bp": 2000, "title": ["en": "Diners 20%", "zh": "八折"]])
            let books = try await h.offer(w.world.admin, ["merchant_id": w.merchantID, "amount_off_fen": 500, "minimum_spend_fen": 5_000,
                                                          "funding": "subsidy", "budget_fen": 10_000])
            let upcoming = try await h.offer(w.world.admin, ["category": "entertainment", "percent_off_bp": 1000, "valid_from": "2027-01-01",
                                                             "valid_until": "2027-03-31"])
            _ = try await h.offer(w.world.admin, ["city_code": "110000", "category": "shopping", "percent_off_bp": 1000])
            let ningbo = try await h.call(.get, "/v1/ecard/offers?city_code=330200", token: w.token)
            #expect(Set(ningbo.items.compactMap { $0["id"] as? String }) == [dining, books, upcoming], "\(ningbo.text)")
            #expect(ningbo.items.first { $0["id"] as? String == upcoming }?["status"] as? String == "upcoming")
            #expect(ningbo.items.first { $0["id"] as? String == dining }.flatMap { ($0["scope"] as? [String: Any])?["name"] as? [String: Any] }?["en"]
                    as? String == "Harbour Diners")
            let diningOnly = try await h.call(.get, "/v1/ecard/offers?category=dining", token: w.token)
            #expect(diningOnly.items.compactMap { $0["id"] as? String } == [dining], "\(diningOnly.text)")
            #expect(try await h.call(.get, "/v1/ecard/offers?category=casino", token: w.token).code == "offer.category_invalid")
            #expect(try await h.call(.get, "/v1/ecard/offers", token: w.world.admin).status == .forbidden)

            // Payments and a refund at the bookshop; then the merchant's views.
            let one = try await h.pay(w, amount: 6_000, key: "v1")
            _ = try await h.pay(w, amount: 2_000, key: "v2")
            let oneID = try #require(one.string("payment_id"))
            _ = try await h.call(.post, "/v1/payments/\(oneID)/refunds", token: w.till, json: ["amount_fen": 2_750], headers: [.idempotencyKey: "vr"])
            let payments = try await h.call(.get, "/v1/merchant/payments", token: w.merchantAdmin)
            #expect(payments.items.count == 2, "\(payments.text)")
            let pagedFirst = try await h.call(.get, "/v1/merchant/payments?limit=1", token: w.merchantAdmin)
            let next = try #require(pagedFirst.string("next_cursor"))
            let pagedSecond = try await h.call(.get, "/v1/merchant/payments?limit=1&cursor=\(next)", token: w.merchantAdmin)
            #expect(Set((pagedFirst.items + pagedSecond.items).compactMap { $0["payment_id"] as? String }).count == 2)
            let refunds = try await h.call(.get, "/v1/merchant/refunds?date=2026-12-01", token: w.merchantAdmin)
            #expect(refunds.items.count == 1 && (refunds.items.first?["discount_returned"] as? [String: Any])?["amount_fen"] as? Int == 250,
                    "\(refunds.text)")
            let settlement = try await h.call(.get, "/v1/merchant/settlement", token: w.merchantAdmin)
            #expect(settlement.status == .ok, "\(settlement.text)")
            #expect(settlement.value("payments") as? Int == 2 && fen(settlement, "gross") == 8_000 && fen(settlement, "subsidy_discount") == 500)
            #expect(fen(settlement, "paid_by_cards") == 7_500 && fen(settlement, "refunded") == 2_750 && fen(settlement, "subsidy_returned") == 250)
            #expect(fen(settlement, "net") == 7_500 + 500 - 2_750 - 250)
            #expect(fen(settlement, "net") == fen(settlement, "ledger_net"), "\(settlement.text)")
            let yesterday = try await h.call(.get, "/v1/merchant/settlement?date=2026-11-30", token: w.merchantAdmin)
            #expect(yesterday.value("payments") as? Int == 0 && fen(yesterday, "net") == 0)
            #expect(try await h.call(.get, "/v1/merchant/settlement?date=2026-13-01", token: w.merchantAdmin).code == "date.invalid")
            let theirs = try await h.call(.get, "/v1/merchant/offers", token: w.merchantAdmin)
            #expect(theirs.items.compactMap { $0["id"] as? String } == [books], "\(theirs.text)")
            #expect((theirs.value("items.0.usage.uses") as? Int) == 1, "the wholly kept payment; the refunded one is partial: \(theirs.text)")
            // Another merchant's administrator sees only its own.
            let dinerAdmin = try await h.staff(.merchantAdmin, merchant: try #require(diner.string("id")))
            #expect(try await h.call(.get, "/v1/merchant/payments", token: dinerAdmin).items.isEmpty)
            #expect(try await h.call(.get, "/v1/merchant/offers", token: dinerAdmin).items.compactMap { $0["id"] as? String } == [dining])
            #expect(try await h.call(.get, "/v1/merchant/payments", token: w.world.admin).status == .forbidden)
            // The administrator's list, by city and status.
            let listed = try await h.call(.get, "/v1/offers?city_code=330200&status=active", token: w.world.admin)
            #expect(listed.items.count == 3, "\(listed.text)")
            #expect(try await h.call(.get, "/v1/offers?status=gone", token: w.world.admin).code == "offer.status_invalid")
            #expect(try await h.call(.get, "/v1/offers/00000000-0000-4000-8000-000000000000", token: w.world.admin).code == "offer.not_found")
        }
    }

    @Test("offers are validated whole; every refusal names its member", arguments: TestStores.engines)
    func validation(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.offerWorld()
            let base: [String: Any] = ["city_code": "330200", "title": ["en": "Offer", "zh": "优惠"], "terms": ["en": "Terms", "zh": "条款"],
                                       "valid_from": "2026-12-01", "valid_until": "2026-12-31", "funding": "merchant", "category": "shopping",
                                       "percent_off_bp": 1000]
            func create(_ change: [String: Any?]) async throws -> Reply {
                var body = base
                for (key, value) in change { body[key] = value }
                return try await h.call(.post, "/v1/offers", token: w.world.admin, json: body, headers: [.idempotencyKey: UUID().uuidString])
            }
            let cases: [([String: Any?], String, String)] = [
                (["amount_off_fen": 100], "offer.terms_invalid", "percent_off_bp"),
                (["percent_off_bp": nil], "offer.terms_invalid", "percent_off_bp"),
                (["percent_off_bp": nil, "amount_off_fen": 500, "minimum_spend_fen": 500], "offer.terms_invalid", "minimum_spend_fen"),
                (["percent_off_bp": nil, "amount_off_fen": 500], "offer.terms_invalid", "minimum_spend_fen"),
                (["valid_until": "2026-11-30", "valid_from": "2026-11-01"], "offer.already_ended", "valid_until"),
                (["valid_until": "2026-11-30"], "offer.terms_invalid", "valid_until"),
                (["windows": ["20:00-18:00"]], "offer.terms_invalid", "windows[0]"),
                (["windows": ["10:00-12:00", "11:00-13:00"]], "offer.terms_invalid", "overlap"),
                (["weekdays": [1, 1]], "offer.terms_invalid", "weekdays"),
                (["per_card_per_day": 5, "per_card_total": 2], "offer.terms_invalid", "per_card_per_day"),
                (["funding": "subsidy"], "offer.terms_invalid", "budget_fen"),
                (["merchant_id": w.merchantID], "offer.terms_invalid", "exactly one"),
                (["category": nil, "merchant_id": "00000000-0000-4000-8000-000000000000"], "merchant.not_found", "merchant_id"),
                (["category": nil, "merchant_group_id": "00000000-0000-4000-8000-000000000000"], "merchant.group_not_found", "merchant_group_id"),
                (["category": nil, "merchant_id": w.merchantID, "city_code": "110000"], "offer.scope_invalid", "110000"),
                (["city_code": "999999"], "city.not_found", "999999"),
                (["terms": ["en": "  ", "zh": "条款"]], "offer.terms_invalid", "terms"),
            ]
            for (change, code, mention) in cases {
                let reply = try await create(change)
                #expect(reply.code == code && reply.string("detail")?.contains(mention) == true, "\(change): \(reply.text)")
                #expect(reply.status.code == 422, "\(change): \(reply.text)")
            }
            #expect(try await create(["cap_fen": NSNull()]).code == "request.invalid_json")
            #expect(try await create(["funding": "bank"]).status == .badRequest)
            #expect(try await h.call(.post, "/v1/offers", token: w.merchantAdmin, json: base).status == .forbidden)
            #expect(try await h.call(.post, "/v1/offers", token: w.world.admin, json: base).code == "idempotency.key_required")
            #expect(try await h.call(.get, "/v1/offers", token: w.world.admin).items.isEmpty, "nothing was created")

            // Merchant administrators are bound to exactly one existing merchant.
            func staff(_ body: [String: Any]) async throws -> Reply {
                try await h.call(.post, "/v1/staff", token: w.world.admin,
                                 json: ["username": "shop.\(body.count)", "password": "bookshop ledger 42", "role": "merchantAdmin"].merging(body) { $1 })
            }
            #expect(try await staff([:]).code == "staff.binding_required")
            #expect(try await staff(["merchant_id": w.merchantID, "branch_id": w.world.branchID]).code == "staff.binding_required")
            #expect(try await staff(["merchant_id": "00000000-0000-4000-8000-000000000000"]).code == "merchant.not_found")
            #expect(try await h.call(.post, "/v1/staff", token: w.world.admin, json: [
                "username": "officer.x", "password": "bookshop ledger 42", "role": "permitOfficer", "merchant_id": w.merchantID]).code
                == "staff.binding_unexpected")
            let me = try await h.call(.get, "/v1/staff/me", token: w.merchantAdmin)
            #expect(me.string("role") == "merchantAdmin" && me.string("merchant_id") == w.merchantID, "\(me.text)")
        }
    }
}
