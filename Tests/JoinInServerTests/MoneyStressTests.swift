import Foundation
import HTTPTypes
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import SQLKit
import Testing

/// Issue 4's evidence: many concurrent API clients moving money at random, retrying with the same
/// Idempotency-Key (sequential replays, concurrent duplicates, and retries after 409/503), and a
/// model of every acknowledged operation to check the books against afterwards.
@Suite("Money: concurrent stress through the API")
struct MoneyStressTests {
    /// Where an operation moved money, in the client's own terms.
    enum Place: Hashable, Sendable, CustomStringConvertible {
        case financial(Int), wallet(Int), vault, merchant
        var description: String {
            switch self {
            case .financial(let card): return "card \(card) financial"
            case .wallet(let card): return "card \(card) wallet"
            case .vault: return "branch vault"
            case .merchant: return "merchant"
            }
        }
    }

    struct Acknowledged: Sendable {
        let id: String
        let debit: Place
        let credit: Place
        let amountFen: Int64
    }

    struct ClientReport: Sendable {
        var acknowledged: [Acknowledged] = []
        var refused: [String: Int] = [:]
        var replays = 0
        var duplicates = 0
        var retries = 0
    }

    struct Request: Sendable {
        let path: String
        let token: String
        let body: [String: any Sendable]
        let key: String
    }

    /// 2,000 by default so `swift test` stays quick everywhere; `.ci/run` sets JOININ_STRESS_OPS=20000
    /// for the full-size run.
    static var operationCount: Int {
        ProcessInfo.processInfo.environment["JOININ_STRESS_OPS"].flatMap(Int.init) ?? 2_000
    }

    @Test("16 clients, JOININ_STRESS_OPS (default 2,000) random deposits, withdrawals, transfers, top-ups, payments and refunds with idempotent retries",
          arguments: TestStores.engines)
    func stress(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let cardCount = 16
            let pin = "582931"
            var cards: [(number: String, token: String)] = []
            for index in 0..<cardCount {
                let holder = try await h.bankedHolder(world, passport: String(format: "S%08d", 41_000 + index), pin: pin)
                cards.append((holder.card, holder.token))
            }
            let merchant = try await h.call(.post, "/v1/merchants", token: world.admin,
                                            json: ["name": ["en": "Drum Tower Noodles", "zh": "鼓楼面馆"], "category": "dining", "city_code": "330200"])
            let merchantID = try #require(merchant.string("id"))
            var tills: [String] = []
            for till in 0..<2 {
                tills.append(try #require(try await h.call(.post, "/v1/terminals", token: world.admin,
                                                           json: ["kind": "merchantPos", "name": "Till \(till)", "binding_id": merchantID])
                    .string("api_key")))
            }
            let transfersBefore = try await h.store.read { tx in
                try await tx.sql.raw("SELECT COUNT(*) AS n FROM ledger_transfers").first()?.decode(column: "n", as: Int64.self) ?? -1
            }
            let clients = 16
            let perClient = Self.operationCount / clients
            let started = ContinuousClock.now
            let reports = try await withThrowingTaskGroup(of: ClientReport.self) { group in
                for client in 0..<clients {
                    let cardsCopy = cards
                    let till = tills[client % tills.count]
                    group.addTask {
                        try await Self.runClient(h, client: client, operations: perClient, cards: cardsCopy, clerk: world.clerk,
                                                 till: till, pin: pin)
                    }
                }
                return try await group.reduce(into: [ClientReport]()) { $0.append($1) }
            }
            let elapsed = ContinuousClock.now - started

            let acknowledged = reports.flatMap(\.acknowledged)
            let refused = reports.reduce(into: [String: Int]()) { total, report in total.merge(report.refused, uniquingKeysWith: +) }
            print("stress[\(engine)]: \(perClient * clients) operations by \(clients) clients in \(elapsed): "
                + "\(acknowledged.count) acknowledged, refused \(refused), \(reports.map(\.replays).reduce(0, +)) replays, "
                + "\(reports.map(\.duplicates).reduce(0, +)) concurrent duplicates, \(reports.map(\.retries).reduce(0, +)) retries")

            // The run did real work: most operations moved money, and every retry path was taken.
            #expect(acknowledged.count >= perClient * clients / 2)
            #expect(reports.map(\.replays).reduce(0, +) > 0)
            #expect(reports.map(\.duplicates).reduce(0, +) > 0)
            // Nothing was refused for a reason the workload cannot cause.
            let expectedRefusals: Set<String> = ["ledger.insufficient_funds", "ledger.limit_exceeded", "payment.refund_exceeds_payment"]
            #expect(Set(refused.keys).isSubset(of: expectedRefusals), "unexpected refusals: \(refused)")

            // 1. Every invariant of DESIGN §6: conservation, stored balance = its transfers, no overdraft, references.
            let verdict = try await h.store.verifyLedger()
            #expect(verdict.isOK, "\(verdict)")

            // 2. Every acknowledged operation is in the ledger exactly once, and nothing else is.
            let counts = try await h.store.read { tx in
                try await tx.sql.raw("SELECT reference_id, COUNT(*) AS n FROM ledger_transfers GROUP BY reference_id").all().map {
                    (try $0.decode(column: "reference_id", as: String.self), try $0.decode(column: "n", as: Int64.self))
                }
            }
            let byReference = Dictionary(counts, uniquingKeysWith: +)
            let missing = acknowledged.filter { byReference[$0.id] != 1 }
            #expect(missing.isEmpty, "\(missing.count) acknowledged operations not stored exactly once, e.g. \(missing.prefix(3).map(\.id))")
            #expect(Int64(counts.map(\.1).reduce(0, +)) == transfersBefore + Int64(acknowledged.count),
                    "the ledger holds transfers no client saw acknowledged")

            // 3. Every balance equals what the acknowledged operations add up to.
            var expected: [Place: Int64] = [:]
            for operation in acknowledged {
                expected[operation.debit, default: 0] -= operation.amountFen
                expected[operation.credit, default: 0] += operation.amountFen
            }
            for (index, card) in cards.enumerated() {
                let accounts = try await h.call(.get, "/v1/cards/\(card.number)/accounts", token: world.clerk).items
                func balance(_ kind: String) -> Int64? {
                    ((accounts.first { $0["kind"] as? String == kind }?["balance"] as? [String: Any])?["amount_fen"] as? Int).map(Int64.init)
                }
                #expect(balance("financial") == expected[.financial(index), default: 0], "card \(index) financial")
                #expect(balance("transitWallet") == expected[.wallet(index), default: 0], "card \(index) wallet")
            }
            let system = try await h.call(.get, "/v1/system-accounts?limit=200", token: world.admin).items
            func systemBalance(_ kind: String) -> Int64? {
                ((system.first { $0["kind"] as? String == kind }?["balance"] as? [String: Any])?["amount_fen"] as? Int).map(Int64.init)
            }
            #expect(systemBalance("branchVault") == expected[.vault, default: 0])
            #expect(systemBalance("merchantSettlement") == expected[.merchant, default: 0])
        }
    }

    /// One client: `operations` random money operations, each sent until it gets a definitive
    /// answer (2xx or 4xx other than 409 in-progress), sometimes replayed afterwards or sent twice
    /// at once. Refunds only touch this client's own payments so the model stays exact.
    static func runClient(_ h: Harness, client: Int, operations: Int, cards: [(number: String, token: String)], clerk: String,
                          till: String, pin: String) async throws -> ClientReport {
        var rng = SeededGenerator(seed: 0x5EED_0000 + UInt64(client))
        var report = ClientReport()
        var payments: [(id: String, card: Int, remaining: Int64)] = []
        for step in 0..<operations {
            let key = "stress-\(client)-\(step)"
            let card = Int.random(in: 0..<cards.count, using: &rng)
            let choice = Int.random(in: 0..<100, using: &rng)
            let request: Request
            let effect: (debit: Place, credit: Place, amount: Int64)
            var refundOf: Int?
            switch choice {
            case 0..<20:
                let amount = Int64.random(in: 1...200_000, using: &rng)
                let toWallet = Bool.random(using: &rng)
                request = Request(path: "/v1/cards/\(cards[card].number)/deposits", token: clerk,
                                  body: ["amount_fen": amount, "account": toWallet ? "transitWallet" : "financial"], key: key)
                effect = (.vault, toWallet ? .wallet(card) : .financial(card), amount)
            case 20..<35:
                let amount = Int64.random(in: 1...10_000, using: &rng)
                request = Request(path: "/v1/cards/\(cards[card].number)/withdrawals", token: clerk,
                                  body: ["amount_fen": amount, "pin": pin], key: key)
                effect = (.financial(card), .vault, amount)
            case 35..<65:
                let amount = Int64.random(in: 1...20_000, using: &rng)
                let other = (card + Int.random(in: 1..<cards.count, using: &rng)) % cards.count
                request = Request(path: "/v1/ecard/transfers", token: cards[card].token,
                                  body: ["to_card_number": cards[other].number, "amount_fen": amount, "memo": "rent share \(step)"], key: key)
                effect = (.financial(card), .financial(other), amount)
            case 65..<75:
                let amount = Int64.random(in: 1...20_000, using: &rng)
                request = Request(path: "/v1/ecard/wallet-top-ups", token: cards[card].token, body: ["amount_fen": amount], key: key)
                effect = (.financial(card), .wallet(card), amount)
            case 75..<90:
                let amount = Int64.random(in: 1...50_000, using: &rng)
                request = Request(path: "/v1/payments", token: till,
                                  body: ["card_number": cards[card].number, "pin": pin, "amount_fen": amount,
                                         "merchant_reference": "T\(client)-\(step)"], key: key)
                effect = (.financial(card), .merchant, amount)
            default:
                guard !payments.isEmpty else { continue }
                let index = Int.random(in: 0..<payments.count, using: &rng)
                let payment = payments[index]
                // Now and then ask for more than is left, which must be refused.
                let amount = Int64.random(in: 1...(payment.remaining + (step % 7 == 0 ? 500 : 0)), using: &rng)
                request = Request(path: "/v1/payments/\(payment.id)/refunds", token: till, body: ["amount_fen": amount], key: key)
                effect = (.merchant, .financial(payment.card), amount)
                refundOf = index
            }

            let shape = Int.random(in: 0..<100, using: &rng)
            var answer: Reply
            if shape < 5 {
                // A concurrent duplicate: both copies must end with the same answer.
                report.duplicates += 1
                async let first = sendCounting(h, request)
                async let second = sendCounting(h, request)
                let (one, two) = try await (first, second)
                answer = one.reply
                let other = two.reply
                report.retries += one.retries + two.retries
                if answer.status.code < 300 || other.status.code < 300 {
                    if answer.status.code < 300 && other.status.code < 300 {
                        #expect(Self.operationID(answer) == Self.operationID(other), "duplicate \(key) acknowledged twice")
                    } else {
                        // One copy failed before the other ran and succeeded: the success stands.
                        answer = answer.status.code < 300 ? answer : other
                    }
                }
            } else {
                answer = try await send(h, request, report: &report)
            }
            if shape >= 5 && shape < 15 {
                // A sequential replay (a client that lost the response). A stored success replays
                // verbatim; a refusal is not stored and is decided again.
                report.replays += 1
                let again = try await send(h, request, report: &report)
                if answer.status.code < 300 {
                    #expect(again.status == answer.status && again.text == answer.text, "replay of \(key) differs")
                    #expect(again.headers[.idempotencyReplayed] == "true")
                } else if again.status.code < 300 {
                    answer = again
                }
            }

            if answer.status.code < 300 {
                guard let id = Self.operationID(answer) else {
                    Issue.record("acknowledged \(request.path) without an id: \(answer.text)")
                    continue
                }
                report.acknowledged.append(Acknowledged(id: id, debit: effect.debit, credit: effect.credit, amountFen: effect.amount))
                if request.path == "/v1/payments" {
                    payments.append((id, card, effect.amount))
                } else if let refundOf {
                    payments[refundOf].remaining -= effect.amount
                    if payments[refundOf].remaining == 0 { payments.remove(at: refundOf) }
                }
            } else {
                report.refused[answer.code ?? "status \(answer.status.code)", default: 0] += 1
            }
        }
        return report
    }

    /// Sends until the answer is definitive: 409 `idempotency.in_progress` (a duplicate still
    /// running) and 503 `store.busy` are retried with the same key and body.
    static func send(_ h: Harness, _ request: Request, report: inout ClientReport) async throws -> Reply {
        for _ in 0..<200 {
            let reply = try await h.call(.post, request.path, token: request.token, json: request.body,
                                         headers: [.idempotencyKey: request.key])
            if reply.code == "idempotency.in_progress" || reply.status == .serviceUnavailable {
                report.retries += 1
                try await Task.sleep(for: .milliseconds(2))
                continue
            }
            #expect(reply.status.code < 500, "\(request.path): \(reply.text)")
            return reply
        }
        Issue.record("\(request.path) with key \(request.key) never got a definitive answer")
        throw CancellationError()
    }

    static func sendCounting(_ h: Harness, _ request: Request) async throws -> (reply: Reply, retries: Int) {
        var report = ClientReport()
        let reply = try await send(h, request, report: &report)
        return (reply, report.retries)
    }

    static func operationID(_ reply: Reply) -> String? {
        reply.string("operation_id") ?? reply.string("refund_id") ?? reply.string("payment_id")
    }
}
