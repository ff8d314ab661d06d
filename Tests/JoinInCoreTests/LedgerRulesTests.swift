import JoinInTestSupport
import Testing
@testable import JoinInCore

// The ledger rules: examples for every refusal, then seeded property tests against a small
// reference model written here (plain arithmetic, no code under test).

private func ledgerPosting(_ debit: String, _ credit: String, _ amount: Int64, reversal: Bool = false) -> Posting {
    Posting(debit: debit, credit: credit, amountFen: amount, kind: "test", referenceType: "test", referenceID: "r1", isReversal: reversal)
}

private func ledgerCode(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let error as DomainError {
        return error.code
    } catch {
        return "unexpected \(error)"
    }
}

private func ledgerError(_ body: () throws -> Void) -> DomainError? {
    do {
        try body()
        return nil
    } catch {
        return error as? DomainError
    }
}

@Suite("Ledger rules")
struct LedgerRulesTests {
    static let start: [String: AccountBalance] = [
        "vault": AccountBalance(posted: -1_000, mayGoNegative: true),
        "alice": AccountBalance(posted: 700, pendingDebits: 200, mayGoNegative: false),
        "bob": AccountBalance(posted: 300, mayGoNegative: false),
        "shop": AccountBalance(mayGoNegative: false),
    ]

    @Test func kindsDecideWhoMayGoNegative() {
        let negative = AccountKind.allCases.filter(\.mayGoNegative)
        #expect(Set(negative) == [.branchVault, .externalClearing, .medicalPoolingFund, .transitDebt, .contributionClearing, .subsidyFunding, .merchantPromotion])
        let cardholder = AccountKind.allCases.filter(\.isCardholderAccount)
        #expect(Set(cardholder) == [.financial, .transitWallet, .medicalPersonal])
        #expect(!AccountKind.merchantSettlement.mayGoNegative && !AccountKind.merchantSettlement.isCardholderAccount)
        #expect(AccountKind(rawValue: "transitWallet") == .transitWallet)
        #expect(AccountKind.medicalProviderSettlement.rawValue == "medicalProviderSettlement")
        #expect(AccountKind.allCases.count == 14)
        #expect(!AccountKind.transitDebt.isCardholderAccount, "a card loss must not block the system's claim")
    }

    @Test func postingMovesMoneyAndConserves() throws {
        let after = try LedgerRules.apply(postings: [ledgerPosting("vault", "bob", 500), ledgerPosting("alice", "shop", 500)], to: Self.start)
        #expect(after["vault"]?.posted == -1_500)
        #expect(after["bob"]?.posted == 800)
        #expect(after["alice"]?.posted == 200)
        #expect(after["alice"]?.available == 0)
        #expect(after["shop"]?.posted == 500)
        #expect(after.values.reduce(0) { $0 + $1.posted } == Self.start.values.reduce(0) { $0 + $1.posted })
        #expect(try LedgerRules.apply(postings: [], to: Self.start) == Self.start)
    }

    @Test func everyRefusalHasItsCode() {
        #expect(ledgerCode { _ = try LedgerRules.apply(postings: [ledgerPosting("alice", "bob", 0)], to: Self.start) } == "ledger.amount_invalid")
        #expect(ledgerCode { _ = try LedgerRules.apply(postings: [ledgerPosting("alice", "bob", -5)], to: Self.start) } == "ledger.amount_invalid")
        #expect(ledgerCode { _ = try LedgerRules.apply(postings: [ledgerPosting("bob", "bob", 5)], to: Self.start) } == "ledger.same_account")
        #expect(ledgerCode { _ = try LedgerRules.apply(postings: [ledgerPosting("nobody", "bob", 5)], to: Self.start) } == "ledger.account_not_found")
        #expect(ledgerCode { _ = try LedgerRules.apply(postings: [ledgerPosting("bob", "nobody", 5)], to: Self.start) } == "ledger.account_not_found")
        #expect(ledgerCode { _ = try LedgerRules.apply(postings: [ledgerPosting("bob", "alice", 301)], to: Self.start) } == "ledger.insufficient_funds")
        // Malformed postings are reported before any rule, wherever they sit in the batch.
        #expect(ledgerCode {
            _ = try LedgerRules.apply(postings: [ledgerPosting("bob", "alice", 10_000), ledgerPosting("bob", "alice", 0)], to: Self.start)
        } == "ledger.amount_invalid")
        let malformed = ledgerError { _ = try LedgerRules.apply(postings: [ledgerPosting("bob", "bob", 5)], to: Self.start) }
        #expect(malformed?.kind == .malformed)
    }

    @Test func insufficientFundsNamesTheAccountAndTheShortfall() throws {
        // alice: 700 posted, 200 held → 500 available.
        let error = try #require(ledgerError { _ = try LedgerRules.apply(postings: [ledgerPosting("alice", "bob", 530)], to: Self.start) })
        #expect(error.code == "ledger.insufficient_funds")
        #expect(error.kind == .rule)
        #expect(error.detail == "account alice has 500 fen available, 530 fen needed: short by 30 fen")
        // Exactly the available amount is fine; the vault may go as negative as it likes.
        #expect(try LedgerRules.apply(postings: [ledgerPosting("alice", "bob", 500)], to: Self.start)["alice"]?.available == 0)
        #expect(try LedgerRules.apply(postings: [ledgerPosting("vault", "bob", 1_000_000)], to: Self.start)["vault"]?.posted == -1_001_000)
    }

    @Test func everyPrefixOfABatchMustBeValid() throws {
        // shop holds nothing: paying it out before paying it in fails even though the batch nets to zero.
        let outFirst = [ledgerPosting("shop", "bob", 100), ledgerPosting("alice", "shop", 100)]
        #expect(ledgerCode { _ = try LedgerRules.apply(postings: outFirst, to: Self.start) } == "ledger.insufficient_funds")
        let after = try LedgerRules.apply(postings: Array(outFirst.reversed()), to: Self.start)
        #expect(after["shop"]?.posted == 0)
        #expect(after["alice"]?.posted == 600)
        #expect(after["bob"]?.posted == 400)
    }

    @Test func blockedAccountsRefuseDebitsButNotCreditsOrReversals() throws {
        var balances = Self.start
        balances["bob"]?.debitsBlocked = true
        let error = try #require(ledgerError { _ = try LedgerRules.apply(postings: [ledgerPosting("bob", "shop", 10)], to: balances) })
        #expect(error.code == "card.not_active")
        #expect(error.detail.contains("bob"))
        #expect(try LedgerRules.apply(postings: [ledgerPosting("vault", "bob", 10)], to: balances)["bob"]?.posted == 310)
        #expect(try LedgerRules.apply(postings: [ledgerPosting("bob", "vault", 10, reversal: true)], to: balances)["bob"]?.posted == 290)
        // A reversal still may not take a non-negative account below zero.
        #expect(ledgerCode { _ = try LedgerRules.apply(postings: [ledgerPosting("bob", "vault", 301, reversal: true)], to: balances) }
                == "ledger.insufficient_funds")
        #expect(ledgerCode { _ = try LedgerRules.hold(amount: 5, on: balances["bob"]!, accountID: "bob") } == "card.not_active")
    }

    @Test func moneyNeverWraps() {
        let balances: [String: AccountBalance] = [
            "top": AccountBalance(posted: Int64.max - 5, mayGoNegative: false),
            "floor": AccountBalance(posted: Int64.min + 5, mayGoNegative: true),
            "vault": AccountBalance(posted: 0, mayGoNegative: true),
        ]
        #expect(ledgerCode { _ = try LedgerRules.apply(postings: [ledgerPosting("vault", "top", 6)], to: balances) } == "ledger.overflow")
        #expect(ledgerCode { _ = try LedgerRules.apply(postings: [ledgerPosting("floor", "vault", 6)], to: balances) } == "ledger.overflow")
        #expect(ledgerCode { _ = try LedgerRules.apply(postings: [ledgerPosting("vault", "top", 5)], to: balances) } == nil)
        #expect(ledgerCode { _ = try LedgerRules.apply(postings: [ledgerPosting("floor", "vault", 5)], to: balances) } == nil)
        #expect(ledgerCode { _ = try LedgerRules.apply(postings: [ledgerPosting("vault", "top", Int64.max)], to: balances) } == "ledger.overflow")
        let held = AccountBalance(posted: 0, pendingDebits: Int64.max - 1, mayGoNegative: true)
        #expect(ledgerCode { _ = try LedgerRules.hold(amount: 2, on: held, accountID: "v") } == "ledger.overflow")
        // `available` saturates instead of trapping.
        #expect(AccountBalance(posted: Int64.min, pendingDebits: 1, mayGoNegative: true).available == Int64.min)
    }

    @Test func holdsReservePostAndVoid() throws {
        let terms = ledgerPosting("bob", "shop", 120)
        let held = try LedgerRules.hold(terms, in: Self.start)
        #expect(held["bob"] == AccountBalance(posted: 300, pendingDebits: 120, mayGoNegative: false))
        #expect(held["bob"]?.available == 180)
        #expect(held["shop"] == Self.start["shop"])
        // The reservation counts against later debits and holds.
        #expect(ledgerCode { _ = try LedgerRules.apply(postings: [ledgerPosting("bob", "alice", 181)], to: held) } == "ledger.insufficient_funds")
        #expect(ledgerCode { _ = try LedgerRules.hold(ledgerPosting("bob", "shop", 181), in: held) } == "ledger.insufficient_funds")
        #expect(ledgerCode { _ = try LedgerRules.hold(ledgerPosting("bob", "nobody", 1), in: held) } == "ledger.account_not_found")
        #expect(ledgerCode { _ = try LedgerRules.hold(ledgerPosting("bob", "shop", 0), in: held) } == "ledger.amount_invalid")
        // Voiding restores; posting all equals a direct posting; posting part releases the rest.
        #expect(try LedgerRules.voidHold(terms, in: held) == Self.start)
        #expect(try LedgerRules.postHold(terms, postedFen: 120, in: held) == LedgerRules.apply(postings: [terms], to: Self.start))
        let partial = try LedgerRules.postHold(terms, postedFen: 45, in: held)
        #expect(partial["bob"] == AccountBalance(posted: 255, pendingDebits: 0, mayGoNegative: false))
        #expect(partial["shop"]?.posted == 45)
        #expect(ledgerCode { _ = try LedgerRules.postHold(terms, postedFen: 121, in: held) } == "ledger.amount_invalid")
        #expect(ledgerCode { _ = try LedgerRules.postHold(terms, postedFen: 0, in: held) } == "ledger.amount_invalid")
        #expect(ledgerCode { _ = try LedgerRules.voidHold(terms, in: Self.start) } == "ledger.hold_inconsistent")
        // A lost card: the hold can be voided but not posted.
        var blocked = held
        blocked["bob"]?.debitsBlocked = true
        #expect(ledgerCode { _ = try LedgerRules.postHold(terms, postedFen: 120, in: blocked) } == "card.not_active")
        #expect(try LedgerRules.voidHold(terms, in: blocked)["bob"]?.pendingDebits == 0)
    }

    @Test func reversalSwapsAccounts() {
        let posting = ledgerPosting("alice", "bob", 42)
        let reversal = posting.reversal(kind: "correction")
        #expect(reversal.debitAccountID == "bob" && reversal.creditAccountID == "alice")
        #expect(reversal.amountFen == 42 && reversal.isReversal && reversal.kind == "correction")
        #expect(reversal.referenceType == posting.referenceType && reversal.referenceID == posting.referenceID)
    }
}

// MARK: - properties

/// The reference model: each posting in order, plain arithmetic on small numbers.
private func ledgerModel(_ postings: [Posting], _ balances: [String: AccountBalance]) -> (code: String?, posted: [String: Int64]) {
    var posted = balances.mapValues(\.posted)
    for posting in postings {
        if posting.amountFen <= 0 { return ("ledger.amount_invalid", [:]) }
        if posting.debitAccountID == posting.creditAccountID { return ("ledger.same_account", [:]) }
    }
    for posting in postings {
        guard let debit = balances[posting.debitAccountID], balances[posting.creditAccountID] != nil else {
            return ("ledger.account_not_found", [:])
        }
        if debit.debitsBlocked && !posting.isReversal { return ("card.not_active", [:]) }
        posted[posting.debitAccountID]! -= posting.amountFen
        posted[posting.creditAccountID]! += posting.amountFen
        if !debit.mayGoNegative && posted[posting.debitAccountID]! - debit.pendingDebits < 0 {
            return ("ledger.insufficient_funds", [:])
        }
    }
    return (nil, posted)
}

private func ledgerRandomBalances(_ rng: inout SeededGenerator) -> [String: AccountBalance] {
    var balances: [String: AccountBalance] = [:]
    for index in 0..<Int.random(in: 2...7, using: &rng) {
        let mayGoNegative = Int.random(in: 0..<4, using: &rng) == 0
        let posted = mayGoNegative ? Int64.random(in: -50_000...50_000, using: &rng) : Int64.random(in: 0...10_000, using: &rng)
        let pending = mayGoNegative ? Int64.random(in: 0...1_000, using: &rng) : Int64.random(in: 0...max(0, posted / 2), using: &rng)
        balances["a\(index)"] = AccountBalance(posted: posted, pendingDebits: pending, mayGoNegative: mayGoNegative,
                                               debitsBlocked: Int.random(in: 0..<8, using: &rng) == 0)
    }
    return balances
}

private func ledgerRandomBatch(_ rng: inout SeededGenerator, accounts: [String], wellFormed: Bool) -> [Posting] {
    (0..<Int.random(in: 1...8, using: &rng)).map { _ in
        var debit = accounts.randomElement(using: &rng)!
        var credit = accounts.randomElement(using: &rng)!
        var amount = Int64.random(in: 1...4_000, using: &rng)
        while credit == debit { credit = accounts.randomElement(using: &rng)! }
        if !wellFormed {
            switch Int.random(in: 0..<80, using: &rng) {
            case 0: amount = -amount
            case 1: amount = 0
            case 2: debit = "ghost"
            case 3: credit = "ghost"
            case 4: credit = debit
            default: break
            }
        }
        return Posting(debit: debit, credit: credit, amountFen: amount, kind: "p", referenceType: "t", referenceID: "r",
                       isReversal: Int.random(in: 0..<10, using: &rng) == 0)
    }
}

private func ledgerTotal(_ balances: [String: AccountBalance]) -> Int64 {
    balances.values.reduce(0) { $0 + $1.posted }
}

@Suite("Ledger properties")
struct LedgerPropertyTests {
    @Test func batchesAgreeWithTheModelConserveMoneyAndKeepNonNegativeAccountsNonNegative() {
        var rng = SeededGenerator(seed: 0x1ED6_E401)
        var accepted = 0
        var refusals: [String: Int] = [:]
        for round in 0..<20_000 {
            let balances = ledgerRandomBalances(&rng)
            let batch = ledgerRandomBatch(&rng, accounts: balances.keys.sorted(), wellFormed: false)
            let expected = ledgerModel(batch, balances)
            let original = balances
            do {
                let after = try LedgerRules.apply(postings: batch, to: balances)
                accepted += 1
                #expect(expected.code == nil, "round \(round): the model refuses with \(expected.code ?? "")")
                #expect(after.mapValues(\.posted) == expected.posted, "round \(round)")
                #expect(ledgerTotal(after) == ledgerTotal(balances), "round \(round): money created or destroyed")
                #expect(after.mapValues(\.pendingDebits) == balances.mapValues(\.pendingDebits))
                for (id, balance) in after where !balance.mayGoNegative {
                    #expect(balance.available >= 0, "round \(round): \(id) went negative")
                }
            } catch let error as DomainError {
                refusals[error.code, default: 0] += 1
                #expect(error.code == expected.code, "round \(round): refused with \(error.code), model says \(expected.code ?? "ok")")
            } catch {
                Issue.record("round \(round): unexpected \(error)")
            }
            #expect(balances == original)
        }
        // The generator reaches every outcome often enough for the comparison to mean something.
        print("ledger properties: \(accepted) batches accepted, refusals \(refusals.sorted { $0.key < $1.key })")
        #expect(accepted > 5_000)
        for code in ["ledger.amount_invalid", "ledger.same_account", "ledger.account_not_found", "card.not_active", "ledger.insufficient_funds"] {
            #expect(refusals[code, default: 0] > 100, "\(code) seen \(refusals[code, default: 0]) times")
        }
    }

    @Test func reversingABatchInReverseOrderRestoresEveryBalance() throws {
        var rng = SeededGenerator(seed: 0x1ED6_E402)
        var reversed = 0
        for round in 0..<20_000 {
            let balances = ledgerRandomBalances(&rng)
            let batch = ledgerRandomBatch(&rng, accounts: balances.keys.sorted(), wellFormed: true)
            guard let after = try? LedgerRules.apply(postings: batch, to: balances) else { continue }
            let undo = batch.reversed().map { $0.reversal(kind: "reversal") }
            let restored = try LedgerRules.apply(postings: undo, to: after)
            #expect(restored == balances, "round \(round)")
            reversed += 1
        }
        #expect(reversed > 2_000)
    }

    @Test func holdsKeepPendingEqualToOpenHoldsAndNeverOverdraw() throws {
        var rng = SeededGenerator(seed: 0x1ED6_E403)
        for round in 0..<500 {
            var balances = ledgerRandomBalances(&rng)
            for id in balances.keys { balances[id]?.pendingDebits = 0 }
            let accounts = balances.keys.sorted()
            let total = ledgerTotal(balances)
            var open: [Posting] = []
            for _ in 0..<60 {
                switch Int.random(in: 0..<4, using: &rng) {
                case 0, 1:
                    let terms = ledgerRandomBatch(&rng, accounts: accounts, wellFormed: true)[0]
                    let hold = Posting(debit: terms.debitAccountID, credit: terms.creditAccountID, amountFen: terms.amountFen,
                                       kind: "hold", referenceType: "t", referenceID: "r")
                    if let next = try? LedgerRules.hold(hold, in: balances) {
                        balances = next
                        open.append(hold)
                    }
                case 2 where !open.isEmpty:
                    let hold = open.remove(at: Int.random(in: 0..<open.count, using: &rng))
                    let postedFen = Int64.random(in: 1...hold.amountFen, using: &rng)
                    if let next = try? LedgerRules.postHold(hold, postedFen: postedFen, in: balances) {
                        balances = next
                    } else {
                        #expect(balances[hold.debitAccountID]?.debitsBlocked == true, "round \(round): only a blocked account refuses to post a hold")
                        balances = try LedgerRules.voidHold(hold, in: balances)
                    }
                default:
                    if open.isEmpty { continue }
                    balances = try LedgerRules.voidHold(open.remove(at: Int.random(in: 0..<open.count, using: &rng)), in: balances)
                }
                #expect(ledgerTotal(balances) == total, "round \(round)")
                for id in accounts {
                    let pending = open.filter { $0.debitAccountID == id }.reduce(Int64(0)) { $0 + $1.amountFen }
                    #expect(balances[id]?.pendingDebits == pending, "round \(round): \(id)")
                    if balances[id]?.mayGoNegative == false { #expect((balances[id]?.available ?? -1) >= 0, "round \(round): \(id)") }
                }
            }
        }
    }
}

@Suite("Daily limits")
struct LedgerDailyLimitTests {
    @Test("used plus amount may reach the limit but not pass it, and never overflows", arguments: [
        (0, 100, 100, true), (60, 40, 100, true), (60, 41, 100, false), (100, 1, 100, false), (Int64.max, 1, Int64.max, false),
    ] as [(Int64, Int64, Int64, Bool)])
    func dailyLimit(used: Int64, amount: Int64, limit: Int64, allowed: Bool) {
        do {
            try LedgerRules.checkDailyLimit(usedFen: used, amountFen: amount, limitFen: limit, what: "test")
            #expect(allowed)
        } catch let error as DomainError {
            #expect(!allowed)
            #expect(error.code == "ledger.limit_exceeded")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

@Suite("Money rules")
struct MoneyRulesTests {
    @Test func amountsRunFromOneFenToTheOperationMaximum() throws {
        #expect(try MoneyRules.validatedAmount(1) == 1)
        #expect(try MoneyRules.validatedAmount(MoneyRules.amountFenMax) == MoneyRules.amountFenMax)
        for bad: Int64 in [0, -1, Int64.min, MoneyRules.amountFenMax + 1, Int64.max] {
            #expect(ledgerCode { _ = try MoneyRules.validatedAmount(bad) } == "ledger.amount_invalid", "\(bad)")
        }
    }

    @Test(arguments: CardStatus.allCases)
    func onlyAnActiveCardMovesMoney(status: CardStatus) {
        for kind in AccountKind.allCases {
            let code = ledgerCode {
                try MoneyRules.checkCardAccount(status: status, statusText: status.rawValue, financialEnabled: true, kind: kind)
            }
            if status != .active {
                #expect(code == "card.not_active")
            } else if kind == .financial || kind == .transitWallet {
                #expect(code == nil, "\(kind)")
            } else {
                #expect(code == "ledger.account_invalid", "\(kind)")
            }
        }
        #expect(ledgerCode { try MoneyRules.checkCardAccount(status: nil, statusText: "unknown", financialEnabled: true, kind: .financial) }
                == "card.not_active")
    }

    @Test func theBankAccountNeedsFinancialFunctions() {
        #expect(ledgerCode { try MoneyRules.checkCardAccount(status: .active, statusText: "active", financialEnabled: false, kind: .financial) }
                == "card.financial_functions_disabled")
        #expect(ledgerCode { try MoneyRules.checkCardAccount(status: .active, statusText: "active", financialEnabled: false, kind: .transitWallet) }
                == nil)
    }
}

extension MoneyRulesTests {
    @Test func transfersGoToAnotherPersonsLiveCardWithFinancialFunctions() {
        func code(found: Bool = true, status: CardStatus? = .active, financial: Bool = true, same: Bool = false) -> String? {
            ledgerCode { try MoneyRules.checkTransferRecipient(found: found, status: status, financialEnabled: financial, samePerson: same) }
        }
        #expect(code() == nil)
        #expect(code(found: false) == "transfer.recipient_invalid")
        #expect(code(financial: false) == "transfer.recipient_invalid")
        #expect(code(same: true) == "transfer.recipient_invalid")
        #expect(code(status: nil) == "transfer.recipient_invalid")
        for status in CardStatus.allCases {
            #expect((code(status: status) == nil) == status.isLive, "\(status)")
        }
    }
}
