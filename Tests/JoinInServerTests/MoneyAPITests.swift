import Foundation
import HTTPTypes
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import Testing

extension Harness {
    /// A registered holder with an active card and financial functions; returns (card number, cardholder token).
    func bankedHolder(_ world: World, passport: String = "K12345678", surname: String = "SMITH", pin: String = "582931") async throws
        -> (card: String, token: String) {
        let (permit, token) = try await registeredHolder(world, body: Harness.applicationBody(passport: passport, surname: surname))
        let card = try await issuedCard(world, permit: permit, passport: passport)
        let number = try #require(card["card_number"] as? String)
        _ = try await call(.post, "/v1/cards/\(number)/activation", token: world.clerk, json: ["pin": pin])
        let enabled = try await call(.post, "/v1/cards/\(number)/financial-functions", token: world.clerk,
                                     json: ["tax_certificate": ["number": "TAX-3302-0001", "issued_on": "2026-06-30"],
                                            "residence_proof": ["kind": "residence_permit", "number": "RP33020088", "valid_until": "2028-06-30"]])
        try #require(enabled.status == .ok, "\(enabled.text)")
        return (number, token)
    }
}

@Suite("Money: deposits, top-ups, transfers, statements")
struct MoneyAPITests {
    @Test("deposits need an Idempotency-Key, an active card, and financial functions for the bank account", arguments: TestStores.engines)
    func deposits(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let (card, token) = try await h.bankedHolder(world)
            func deposit(_ body: [String: Any], key: String?) async throws -> Reply {
                try await h.call(.post, "/v1/cards/\(card)/deposits", token: world.clerk, json: body,
                                 headers: key.map { [.idempotencyKey: $0] } ?? [:])
            }
            #expect(try await deposit(["amount_fen": 10_000, "account": "financial"], key: nil).code == "idempotency.key_required")
            #expect(try await deposit(["amount_fen": 0, "account": "financial"], key: "d0").code == "ledger.amount_invalid")
            #expect(try await deposit(["amount_fen": 12.5, "account": "financial"], key: "d0").status == .badRequest)
            let medical = try await deposit(["amount_fen": 100, "account": "medicalPersonal"], key: "d0")
            #expect(medical.status == .badRequest && medical.string("detail")?.hasPrefix("account") == true, "\(medical.text)")
            let first = try await deposit(["amount_fen": 500_000, "account": "financial"], key: "d1")
            #expect(first.status == .created, "\(first.text)")
            #expect(first.value("account.balance.amount_fen") as? Int == 500_000)
            let replay = try await deposit(["amount_fen": 500_000, "account": "financial"], key: "d1")
            #expect(replay.headers[.idempotencyReplayed] == "true")
            #expect(replay.string("operation_id") == first.string("operation_id"))
            #expect(try await deposit(["amount_fen": 1, "account": "financial"], key: "d1").code == "idempotency.key_reused")
            #expect(try await deposit(["amount_fen": 2_000, "account": "transitWallet"], key: "d2").status == .created)
            let accounts = try await h.call(.get, "/v1/ecard/accounts", token: token)
            let balances = Dictionary(uniqueKeysWithValues: accounts.items.compactMap { item -> (String, Int)? in
                guard let kind = item["kind"] as? String, let balance = (item["balance"] as? [String: Any])?["amount_fen"] as? Int else { return nil }
                return (kind, balance)
            })
            #expect(balances["financial"] == 500_000)
            #expect(balances["transitWallet"] == 2_000)
            #expect(balances["medicalPersonal"] == 0)
            #expect(try await h.store.verifyLedger().isOK)

            _ = try await h.call(.post, "/v1/ecard/card/loss-report", token: token)
            #expect(try await deposit(["amount_fen": 100, "account": "financial"], key: "d3").code == "card.not_active")
        }
    }

    @Test("a cash deposit through the API costs the single SQLite writer at most 17 statements, its batch's BEGIN and COMMIT included")
    func depositStatements() async throws {
        try await Harness.run(.sqlite) { h in
            let world = try await h.world()
            let (card, _) = try await h.bankedHolder(world)
            // The branch's first deposit also opens its vault account: not counted.
            let first = try await h.call(.post, "/v1/cards/\(card)/deposits", token: world.clerk,
                                         json: ["amount_fen": 500, "account": "financial"], headers: [.idempotencyKey: "warm-up"])
            try #require(first.status == .created, "\(first.text)")
            var counts: [Int] = []
            for index in 0..<3 {
                let before = try #require(h.store.writeStatistics)
                let reply = try await h.call(.post, "/v1/cards/\(card)/deposits", token: world.clerk,
                                             json: ["amount_fen": 1_000 + index, "account": "financial"], headers: [.idempotencyKey: "s\(index)"])
                try #require(reply.status == .created, "\(reply.text)")
                let after = try #require(h.store.writeStatistics)
                #expect(after.writes - before.writes == 1)
                counts.append(after.statements - before.statements)
            }
            // BEGIN, SAVEPOINT, RELEASE, COMMIT + idempotency lookup, card, two accounts, reference,
            // balances, transfer, balances update, audit head (when not remembered) and record,
            // idempotency record, and in debug builds the balance re-check: 17 (was 20 before the
            // ledger stopped reading back its references and the shown account).
            #expect(counts.allSatisfy { $0 <= 17 }, "\(counts)")
        }
    }

    @Test("deposits to a card without financial functions reach only the transit wallet", arguments: TestStores.engines)
    func noFinancialFunctions(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let permit = try await h.issuedPermit(world)
            let card = try #require(try await h.issuedCard(world, permit: permit)["card_number"] as? String)
            _ = try await h.call(.post, "/v1/cards/\(card)/activation", token: world.clerk, json: ["pin": "582931"])
            let financial = try await h.call(.post, "/v1/cards/\(card)/deposits", token: world.clerk,
                                             json: ["amount_fen": 100, "account": "financial"], headers: [.idempotencyKey: "x1"])
            #expect(financial.code == "card.financial_functions_disabled")
            let wallet = try await h.call(.post, "/v1/cards/\(card)/deposits", token: world.clerk,
                                          json: ["amount_fen": 100, "account": "transitWallet"], headers: [.idempotencyKey: "x2"])
            #expect(wallet.status == .created)
            let accounts = try await h.call(.get, "/v1/cards/\(card)/accounts", token: world.clerk)
            #expect(Set(accounts.items.compactMap { $0["kind"] as? String }) == ["transitWallet", "medicalPersonal"])
        }
    }

    @Test("top-ups and transfers move money between accounts, with limits and statements in both languages", arguments: TestStores.engines)
    func topUpsAndTransfers(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let (card, token) = try await h.bankedHolder(world)
            let (otherCard, otherToken) = try await h.bankedHolder(world, passport: "P99887766", surname: "JONES")
            _ = try await h.call(.post, "/v1/cards/\(card)/deposits", token: world.clerk, json: ["amount_fen": 6_000_000, "account": "financial"],
                                 headers: [.idempotencyKey: "seed"])
            let tooMuch = try await h.call(.post, "/v1/ecard/wallet-top-ups", token: token, json: ["amount_fen": 7_000_000],
                                           headers: [.idempotencyKey: "t0"])
            #expect(tooMuch.code == "ledger.insufficient_funds")
            let topUp = try await h.call(.post, "/v1/ecard/wallet-top-ups", token: token, json: ["amount_fen": 5_000],
                                         headers: [.idempotencyKey: "t1"])
            #expect(topUp.status == .created, "\(topUp.text)")
            #expect(topUp.value("account.balance.amount_fen") as? Int == 5_000)

            func send(_ amount: Int, key: String, to: String? = nil) async throws -> Reply {
                try await h.call(.post, "/v1/ecard/transfers", token: token,
                                 json: ["to_card_number": to ?? otherCard, "amount_fen": amount, "memo": "rent share"],
                                 headers: [.idempotencyKey: key])
            }
            #expect(try await send(100, key: "s0", to: card).code == "transfer.recipient_invalid", "not to yourself")
            #expect(try await send(100, key: "s1", to: "6230910000000000000").status == .badRequest)
            let sent = try await send(4_000_000, key: "s2")
            #expect(sent.status == .created, "\(sent.text)")
            #expect(sent.value("account.balance.amount_fen") as? Int == 6_000_000 - 5_000 - 4_000_000)
            let overLimit = try await send(1_000_001, key: "s3")
            #expect(overLimit.code == "ledger.limit_exceeded")
            #expect(try await send(1_000_000, key: "s4").status == .created, "exactly the daily limit is allowed")
            h.clock.advance(seconds: 86_400)
            let fresh = try #require(try await h.call(.post, "/v1/ecard/sessions",
                                                      json: ["permit_number": try await h.call(.get, "/v1/ecard/me", token: token).string("permit.number") ?? "",
                                                             "password": "moonlit harbour walk"]).string("token"))
            #expect(try await h.call(.post, "/v1/ecard/transfers", token: fresh,
                                     json: ["to_card_number": otherCard, "amount_fen": 100], headers: [.idempotencyKey: "s5"]).status == .created,
                    "a new day has a new limit")

            let received = try await h.call(.get, "/v1/ecard/accounts/financial/transfers", token: otherToken)
            #expect(received.items.count == 3)
            #expect((received.items.first?["description"] as? [String: String])?["zh"] == "转账收入")
            #expect((received.items.first?["amount"] as? [String: Any])?["amount_fen"] as? Int == 100)
            let statement = try await h.call(.get, "/v1/ecard/accounts/financial/transfers?limit=2", token: fresh)
            #expect(statement.items.count == 2)
            #expect((statement.items.first?["amount"] as? [String: Any])?["amount_fen"] as? Int == -100)
            let nextPage = try await h.call(.get, "/v1/ecard/accounts/financial/transfers?limit=2&cursor=\(try #require(statement.string("next_cursor")))",
                                            token: fresh)
            #expect(nextPage.items.count == 2)
            #expect(try await h.call(.get, "/v1/ecard/accounts/ledger/transfers", token: fresh).status == .notFound)
            let clerk = try await h.staff(.bankClerk, branch: world.branchID)  // the morning shift: yesterday's session ended
            let clerkView = try await h.call(.get, "/v1/cards/\(card)/accounts/transitWallet/transfers", token: clerk)
            #expect((clerkView.items.first?["description"] as? [String: String])?["en"] == "Top-up from bank account")
            #expect(try await h.store.verifyLedger().isOK)
        }
    }
}

@Suite("Money: withdrawals")
struct WithdrawalAPITests {
    @Test("withdrawals check the PIN (3 wrong a day block until tomorrow), the daily limit and the balance", arguments: TestStores.engines)
    func withdrawals(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let (card, _) = try await h.bankedHolder(world)
            _ = try await h.call(.post, "/v1/cards/\(card)/deposits", token: world.clerk, json: ["amount_fen": 3_000_000, "account": "financial"],
                                 headers: [.idempotencyKey: "seed"])
            func withdraw(_ amount: Int, pin: String, key: String, token: String? = nil) async throws -> Reply {
                try await h.call(.post, "/v1/cards/\(card)/withdrawals", token: token ?? world.clerk, json: ["amount_fen": amount, "pin": pin],
                                 headers: [.idempotencyKey: key])
            }
            #expect(try await h.call(.post, "/v1/cards/\(card)/withdrawals", token: world.clerk,
                                     json: ["amount_fen": 100, "pin": "582931"]).code == "idempotency.key_required")
            let ok = try await withdraw(1_500_000, pin: "582931", key: "w1")
            #expect(ok.status == .created, "\(ok.text)")
            #expect(ok.value("account.balance.amount_fen") as? Int == 1_500_000)
            #expect(try await withdraw(500_001, pin: "582931", key: "w2").code == "ledger.limit_exceeded")
            #expect(try await withdraw(500_000, pin: "582931", key: "w3").status == .created, "exactly the daily limit")
            let first = try await withdraw(100, pin: "111111", key: "w4")
            #expect(first.code == "card.pin_invalid")
            #expect(first.string("detail")?.contains("2 attempt") == true)
            #expect(try await withdraw(100, pin: "222222", key: "w5").code == "card.pin_invalid")
            #expect(try await withdraw(100, pin: "333333", key: "w6").code == "card.pin_blocked")
            #expect(try await withdraw(100, pin: "582931", key: "w7").code == "card.pin_blocked", "even the right PIN waits for tomorrow")
            h.clock.advance(seconds: 86_400)
            let clerk = try await h.staff(.bankClerk, branch: world.branchID)
            #expect(try await withdraw(2_000_000, pin: "582931", key: "w8", token: clerk).code == "ledger.insufficient_funds")
            let tomorrow = try await withdraw(1_000_000, pin: "582931", key: "w9", token: clerk)
            #expect(tomorrow.status == .created, "\(tomorrow.text)")
            #expect(tomorrow.value("account.balance.amount_fen") as? Int == 0)
            let statement = try await h.call(.get, "/v1/cards/\(card)/accounts/financial/transfers", token: clerk)
            #expect((statement.items.first?["description"] as? [String: String])?["zh"] == "现金取款")
            #expect(try await h.store.verifyLedger().isOK)
        }
    }
}

extension WithdrawalAPITests {
    @Test("concurrent withdrawals and transfers cannot overrun the daily limits or the balance", arguments: TestStores.engines)
    func concurrentLimits(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let (card, token) = try await h.bankedHolder(world)
            let (other, _) = try await h.bankedHolder(world, passport: "K87654321", surname: "JONES")
            _ = try await h.call(.post, "/v1/cards/\(card)/deposits", token: world.clerk, json: ["amount_fen": 10_000_000, "account": "financial"],
                                 headers: [.idempotencyKey: "seed"])
            /// Sends `count` requests at once; how many got each outcome.
            func outcomes(_ count: Int, _ send: @escaping @Sendable (Int) async throws -> Reply) async throws -> [String: Int] {
                try await withThrowingTaskGroup(of: String.self) { group in
                    for index in 0..<count {
                        group.addTask {
                            let reply = try await send(index)
                            return reply.status == .created ? "ok" : reply.code ?? "\(reply.status.code)"
                        }
                    }
                    return try await group.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
                }
            }
            // 16 × 2,000 CNY withdrawals at once against the 20,000 CNY daily limit: exactly 10 pass.
            let withdrawals = try await outcomes(16) { index in
                try await h.call(.post, "/v1/cards/\(card)/withdrawals", token: world.clerk,
                                 json: ["amount_fen": 200_000, "pin": "582931"], headers: [.idempotencyKey: "cw\(index)"])
            }
            #expect(withdrawals == ["ok": 10, "ledger.limit_exceeded": 6])
            // 16 × 5,000 CNY transfers at once against the 50,000 CNY daily limit: exactly 10 pass.
            let transfers = try await outcomes(16) { index in
                try await h.call(.post, "/v1/ecard/transfers", token: token,
                                 json: ["to_card_number": other, "amount_fen": 500_000], headers: [.idempotencyKey: "ct\(index)"])
            }
            #expect(transfers == ["ok": 10, "ledger.limit_exceeded": 6])
            // What is left (100,000 − 20,000 − 50,000 = 30,000 CNY) is spent at most once: 8 concurrent 5,000 CNY top-ups.
            let topUps = try await outcomes(8) { index in
                try await h.call(.post, "/v1/ecard/wallet-top-ups", token: token, json: ["amount_fen": 500_000],
                                 headers: [.idempotencyKey: "tu\(index)"])
            }
            #expect(topUps == ["ok": 6, "ledger.insufficient_funds": 2])
            #expect(try await h.store.verifyLedger().isOK)
        }
    }
}

@Suite("Money: merchant payments and refunds")
struct PaymentAPITests {
    @Test("a POS takes payments by PIN or dynamic QR, refunds at most what was paid, and the books balance", arguments: TestStores.engines)
    func payments(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let (card, token) = try await h.bankedHolder(world)
            _ = try await h.call(.post, "/v1/cards/\(card)/deposits", token: world.clerk, json: ["amount_fen": 100_000, "account": "financial"],
                                 headers: [.idempotencyKey: "seed"])
            let merchant = try await h.call(.post, "/v1/merchants", token: world.admin,
                                            json: ["name": ["en": "Tianyi Square Books", "zh": "天一广场书店"], "category": "shopping", "city_code": "330200"])
            #expect(merchant.status == .created, "\(merchant.text)")
            let merchantID = try #require(merchant.string("id"))
            #expect(try await h.call(.post, "/v1/merchants", token: world.admin,
                                     json: ["name": ["en": "X", "zh": "X"], "category": "casino", "city_code": "330200"]).status == .badRequest)
            let pos = try #require(try await h.call(.post, "/v1/terminals", token: world.admin,
                                                    json: ["kind": "merchantPos", "name": "Till 1", "binding_id": merchantID]).string("api_key"))
            let otherPos = try #require(try await h.call(.post, "/v1/terminals", token: world.admin,
                                                         json: ["kind": "merchantPos", "name": "Till 2", "binding_id": merchantID]).string("api_key"))
            let gate = try #require(try await h.call(.post, "/v1/terminals", token: world.admin,
                                                     json: ["kind": "counter", "name": "Service desk"]).string("api_key"))
            func pay(_ body: [String: Any], key: String, terminal: String? = nil) async throws -> Reply {
                try await h.call(.post, "/v1/payments", token: terminal ?? pos, json: body, headers: [.idempotencyKey: key])
            }
            #expect(try await pay(["card_number": card, "pin": "582931", "amount_fen": 100, "merchant_reference": "r"], key: "g",
                                  terminal: gate).status == .forbidden)
            #expect(try await pay(["card_number": card, "amount_fen": 100, "merchant_reference": "r"], key: "p0").code
                    == "payment.authorisation_required")
            #expect(try await pay(["card_number": card, "pin": "111111", "amount_fen": 100, "merchant_reference": "r"], key: "p1").code
                    == "card.pin_invalid")
            let byPIN = try await pay(["card_number": card, "pin": "582931", "amount_fen": 30_000, "merchant_reference": "INV-1"], key: "p2")
            #expect(byPIN.status == .created, "\(byPIN.text)")
            let paymentID = try #require(byPIN.string("payment_id"))
            #expect(try await pay(["card_number": card, "pin": "582931", "amount_fen": 80_000, "merchant_reference": "INV-2"], key: "p3").code
                    == "ledger.insufficient_funds")
            let qr = try #require(try await h.call(.post, "/v1/ecard/dynamic-codes", token: token).string("code"))
            let byQR = try await pay(["card_number": card, "dynamic_code": qr, "amount_fen": 5_000, "merchant_reference": "INV-3"], key: "p4")
            #expect(byQR.status == .created, "\(byQR.text)")
            #expect(try await pay(["card_number": card, "dynamic_code": qr, "amount_fen": 5_000, "merchant_reference": "INV-4"], key: "p5").code
                    == "code.already_used")

            func refund(_ amount: Int, key: String, terminal: String? = nil) async throws -> Reply {
                try await h.call(.post, "/v1/payments/\(paymentID)/refunds", token: terminal ?? pos, json: ["amount_fen": amount],
                                 headers: [.idempotencyKey: key])
            }
            #expect(try await refund(100, key: "f0", terminal: otherPos).status == .notFound, "only the terminal that took it refunds")
            let partial = try await refund(10_000, key: "f1")
            #expect(partial.status == .created, "\(partial.text)")
            #expect(partial.value("payment.refunded.amount_fen") as? Int == 10_000)
            #expect(try await refund(20_001, key: "f2").code == "payment.refund_exceeds_payment")
            #expect(try await refund(20_000, key: "f3").status == .created)
            #expect(try await refund(1, key: "f4").code == "payment.refund_exceeds_payment")
            let balance = try await h.call(.get, "/v1/ecard/accounts", token: token).items.first { $0["kind"] as? String == "financial" }
            #expect((balance?["balance"] as? [String: Any])?["amount_fen"] as? Int == 100_000 - 30_000 - 5_000 + 30_000)
            let statement = try await h.call(.get, "/v1/ecard/accounts/financial/transfers", token: token)
            // Same-millisecond lines (the test clock stands still) order by id, so count rather than rely on position.
            #expect(statement.items.filter { ($0["description"] as? [String: String])?["zh"] == "退款" }.count == 2)
            #expect(statement.items.filter { ($0["description"] as? [String: String])?["en"] == "Card payment" }.count == 2)
            // Administrators see the system side: the branch vault paid out the deposit, the merchant holds the net takings.
            let system = try await h.call(.get, "/v1/system-accounts", token: world.admin)
            let balances = Dictionary(uniqueKeysWithValues: system.items.compactMap { item -> (String, Int)? in
                guard let kind = item["kind"] as? String, let amount = (item["balance"] as? [String: Any])?["amount_fen"] as? Int else { return nil }
                return (kind, amount)
            })
            #expect(balances["branchVault"] == -100_000)
            #expect(balances["merchantSettlement"] == 30_000 + 5_000 - 30_000)
            #expect(try await h.call(.get, "/v1/system-accounts", token: world.clerk).status == .forbidden)
            // One account per page, following next_cursor, reaches every account once; a cursor this
            // server did not issue is refused.
            var paged: [String] = []
            var cursor: String?
            repeat {
                let page = try await h.call(.get, "/v1/system-accounts?limit=1" + (cursor.map { "&cursor=\($0)" } ?? ""), token: world.admin)
                try #require(page.status == .ok, "\(page.text)")
                paged += page.items.compactMap { $0["id"] as? String }
                cursor = page.string("next_cursor")
            } while cursor != nil && paged.count < 10
            #expect(paged == system.items.compactMap { $0["id"] as? String }.sorted())
            #expect(try await h.call(.get, "/v1/system-accounts?cursor=" + String(repeating: "0", count: 201), token: world.admin).code
                    == "list.cursor_invalid")
            #expect(try await h.store.verifyLedger().isOK)
        }
    }
}
