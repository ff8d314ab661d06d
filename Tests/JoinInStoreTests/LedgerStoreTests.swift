import Foundation
import JoinInCore
@testable import JoinInStore
import JoinInTestSupport
import SQLKit
import Testing

private let ledgerT0: Int64 = 1_780_000_000_000

private func ledgerPosting(_ debit: String, _ credit: String, _ amount: Int64, kind: String = "transfer",
                           reference: String = "r1") -> Posting {
    Posting(debit: debit, credit: credit, amountFen: amount, kind: kind, referenceType: "test", referenceID: reference)
}

/// The DomainError code `body` throws, or nil.
private func ledgerCode(_ body: () async throws -> Void) async -> String? {
    do {
        try await body()
        return nil
    } catch let error as DomainError {
        return error.code
    } catch {
        return "unexpected \(String(reflecting: error))"
    }
}

/// A vault that may go negative and `count` cardholder wallets, each funded with `seedFen`.
private func ledgerFixture(_ store: Store, count: Int, seedFen: Int64) async throws -> (vault: String, wallets: [String]) {
    try await store.write { tx in
        let vault = try await tx.openAccount(kind: .branchVault, ownerType: "branch", ownerID: "b1", atMs: ledgerT0)
        var wallets: [String] = []
        for index in 0..<count {
            wallets.append(try await tx.openAccount(kind: .transitWallet, ownerType: "person", ownerID: "p\(index)", atMs: ledgerT0).id)
        }
        try await tx.registerReference(type: "test", id: "r1", atMs: ledgerT0)
        if seedFen > 0 {
            try await tx.post(wallets.map { ledgerPosting(vault.id, $0, seedFen, kind: "deposit") }, atMs: ledgerT0)
        }
        return (vault.id, wallets)
    }
}

private func ledgerAccount(_ store: Store, _ id: String) async throws -> LedgerAccountRecord {
    try #require(try await store.read { tx in try await tx.account(id: id) })
}

private func ledgerTransferCount(_ store: Store) async throws -> Int64 {
    try await store.read { tx in
        try await tx.sql.raw("SELECT COUNT(*) AS n FROM ledger_transfers").first()?.decode(column: "n", as: Int64.self) ?? -1
    }
}

private func ledgerRaw(_ store: Store, _ query: SQLQueryString) async throws {
    try await store.write { tx in try await tx.sql.raw(query).run() }
}

private func ledgerViolation(_ store: Store) async throws -> String {
    switch try await store.verifyLedger() {
    case .ok: return "ok"
    case .violated(let what): return what
    }
}

@Suite("Ledger store on every engine")
struct LedgerStoreTests {
    @Test("accounts open once per owner and kind, and follow their kind", arguments: TestStores.engines)
    func accounts(engine: Store.EngineKind) async throws {
        try await TestStores.withStore(engine) { (store: Store) async throws in
            let (wallet, again, medical, vault) = try await store.write { tx in
                (try await tx.openAccount(kind: .transitWallet, ownerType: "person", ownerID: "p1", atMs: ledgerT0),
                 try await tx.openAccount(kind: .transitWallet, ownerType: "person", ownerID: "p1", atMs: ledgerT0 + 5),
                 try await tx.openAccount(kind: .medicalPersonal, ownerType: "person", ownerID: "p1", atMs: ledgerT0),
                 try await tx.openAccount(kind: .branchVault, ownerType: "branch", ownerID: "b1", atMs: ledgerT0))
            }
            #expect(wallet == again)
            #expect(wallet.id != medical.id)
            #expect(wallet.accountKind == .transitWallet && wallet.currency == "CNY" && wallet.createdAtMs == ledgerT0)
            #expect(!wallet.mayGoNegative && !wallet.debitsBlocked && wallet.postedFen == 0 && wallet.pendingDebitsFen == 0)
            #expect(vault.mayGoNegative)
            #expect(try await ledgerAccount(store, wallet.id) == wallet)
            #expect(try await ledgerAccount(store, vault.id) == vault)
            let owned = try await store.read { tx in try await tx.accounts(ownerType: "person", ownerID: "p1") }
            #expect(owned.map(\.kind) == ["medicalPersonal", "transitWallet"])
            #expect(try await store.read { tx in try await tx.account(id: "nope") } == nil)
            #expect(try await store.read { tx in try await tx.account(kind: .financial, ownerType: "person", ownerID: "p1") } == nil)

            // Concurrent first opens agree on one account.
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await store.write { tx in try await tx.openAccount(kind: .financial, ownerType: "person", ownerID: "p2", atMs: ledgerT0) }.id
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)

            try await store.write { tx in try await tx.setDebitsBlocked(accountID: wallet.id, blocked: true) }
            #expect(try await ledgerAccount(store, wallet.id).debitsBlocked)
            #expect(await ledgerCode { try await store.write { tx in try await tx.setDebitsBlocked(accountID: "nope", blocked: true) } }
                    == "ledger.account_not_found")
            #expect(try await store.write { tx in try await tx.setDebitsBlocked(ownerType: "person", ownerID: "p1", blocked: false) } == 2)
            #expect(try await ledgerAccount(store, wallet.id).debitsBlocked == false)
        }
    }

    @Test("posting moves money, returns the transfers and pages statements newest first", arguments: TestStores.engines)
    func posting(engine: Store.EngineKind) async throws {
        try await TestStores.withStore(engine) { (store: Store) async throws in
            let (vault, wallets) = try await ledgerFixture(store, count: 3, seedFen: 0)
            let (alice, bob, carol) = (wallets[0], wallets[1], wallets[2])
            let deposit = try await store.write { tx in
                try await tx.registerReference(type: "test", id: "d1", atMs: ledgerT0)
                return try await tx.post([ledgerPosting(vault, alice, 10_000, kind: "deposit", reference: "d1")], atMs: ledgerT0 + 1)
            }
            #expect(deposit.count == 1)
            #expect(deposit[0].debitAccountId == vault && deposit[0].creditAccountId == alice && deposit[0].amountFen == 10_000)
            #expect(deposit[0].kind == "deposit" && deposit[0].referenceType == "test" && deposit[0].referenceId == "d1")
            #expect(deposit[0].reversesTransferId == nil && deposit[0].holdId == nil && deposit[0].createdAtMs == ledgerT0 + 1)
            #expect(try await store.read { tx in try await tx.transfer(id: deposit[0].id) } == deposit[0])

            let batch = try await store.write { tx in
                try await tx.post([ledgerPosting(alice, bob, 2_500), ledgerPosting(bob, carol, 1_000), ledgerPosting(alice, carol, 1)],
                                  atMs: ledgerT0 + 2)
            }
            #expect(Set(batch.map(\.id)).count == 3)
            #expect(try await ledgerAccount(store, vault).postedFen == -10_000)
            #expect(try await ledgerAccount(store, alice).postedFen == 7_499)
            #expect(try await ledgerAccount(store, bob).postedFen == 1_500)
            #expect(try await ledgerAccount(store, carol).postedFen == 1_001)
            #expect(try await store.read { tx in try await tx.transfers(referenceType: "test", referenceID: "d1") } == deposit)

            // Alice's statement: three transfers, newest first, paged one by one without gaps or repeats.
            let all = try await store.read { tx in try await tx.transfers(accountID: alice, before: nil, limit: 10) }
            #expect(all.count == 3)
            #expect(all.last == deposit[0])
            #expect(all.map(\.createdAtMs) == [ledgerT0 + 2, ledgerT0 + 2, ledgerT0 + 1])
            #expect(all[0].id > all[1].id)
            var paged: [LedgerTransferRecord] = []
            var cursor: PageCursor?
            while true {
                let page = try await store.read { [cursor] tx in try await tx.transfers(accountID: alice, before: cursor, limit: 1) }
                guard let last = page.last else { break }
                paged += page
                cursor = last.cursor
            }
            #expect(paged == all)

            // References must be registered; accounts must exist; malformed postings are refused.
            #expect(await ledgerCode { try await store.write { tx in _ = try await tx.post([ledgerPosting(alice, bob, 1, reference: "zz")], atMs: ledgerT0) } }
                    == "ledger.reference_not_found")
            #expect(await ledgerCode { try await store.write { tx in _ = try await tx.post([ledgerPosting(alice, "ghost", 1)], atMs: ledgerT0) } }
                    == "ledger.account_not_found")
            #expect(await ledgerCode { try await store.write { tx in _ = try await tx.post([ledgerPosting(alice, bob, 0)], atMs: ledgerT0) } }
                    == "ledger.amount_invalid")
            #expect(await ledgerCode { try await store.write { tx in _ = try await tx.post([ledgerPosting(alice, alice, 5)], atMs: ledgerT0) } }
                    == "ledger.same_account")
            #expect(try await store.write { tx in try await tx.post([], atMs: ledgerT0) }.isEmpty)
            let sneaky = Posting(debit: bob, credit: alice, amountFen: 1, kind: "x", referenceType: "test", referenceID: "r1", isReversal: true)
            #expect(await ledgerCode { try await store.write { tx in _ = try await tx.post([sneaky], atMs: ledgerT0) } }
                    == "ledger.reversal_not_allowed")
            #expect(try await ledgerTransferCount(store) == 4)
            #expect(try await store.verifyLedger() == .ok(accounts: 4, transfers: 4))
        }
    }

    @Test("a refused posting leaves nothing behind", arguments: TestStores.engines)
    func refusedLeavesNothing(engine: Store.EngineKind) async throws {
        try await TestStores.withStore(engine) { (store: Store) async throws in
            let (vault, wallets) = try await ledgerFixture(store, count: 2, seedFen: 1_000)
            let before = try await store.read { tx in try await tx.accounts(ownerType: "person", ownerID: "p0") }
            do {
                try await store.write { tx in
                    try await tx.registerReference(type: "test", id: "order-2", atMs: ledgerT0)
                    try await tx.post([ledgerPosting(vault, wallets[0], 100, reference: "order-2")], atMs: ledgerT0 + 1)
                    try await tx.post([ledgerPosting(wallets[0], wallets[1], 600, reference: "order-2"),
                                       ledgerPosting(wallets[0], wallets[1], 600, reference: "order-2")], atMs: ledgerT0 + 1)
                }
                Issue.record("an overdraft was posted")
            } catch let error as DomainError {
                #expect(error.code == "ledger.insufficient_funds")
                #expect(error.detail == "account \(wallets[0]) has 500 fen available, 600 fen needed: short by 100 fen")
            }
            #expect(try await store.read { tx in try await tx.accounts(ownerType: "person", ownerID: "p0") } == before)
            #expect(try await ledgerAccount(store, wallets[1]).postedFen == 1_000)
            #expect(try await ledgerAccount(store, vault).postedFen == -2_000)
            #expect(try await store.read { tx in try await tx.transfers(referenceType: "test", referenceID: "order-2") }.isEmpty)
            #expect(try await store.read { tx in try await tx.referenceExists(type: "test", id: "order-2") } == false)
            #expect(try await ledgerTransferCount(store) == 2)
            #expect(try await store.verifyLedger().isOK)
        }
    }

    @Test("a batch of 8,000 transfers posts in one call; 8,001 is refused", arguments: TestStores.engines)
    func largeBatch(engine: Store.EngineKind) async throws {
        try await TestStores.withStore(engine) { (store: Store) async throws in
            let (vault, wallets) = try await ledgerFixture(store, count: 40, seedFen: 0)
            // 6,000 deposits, then 2,000 transfers around the ring of wallets (every prefix stays valid).
            var postings: [Posting] = []
            var expected: [String: Int64] = [vault: 0]
            for index in 0..<6_000 {
                let wallet = wallets[index % wallets.count]
                let amount = Int64(index % 97 + 100)
                postings.append(ledgerPosting(vault, wallet, amount, kind: "deposit"))
                expected[vault, default: 0] -= amount
                expected[wallet, default: 0] += amount
            }
            for index in 0..<2_000 {
                let from = wallets[index % wallets.count]
                let to = wallets[(index + 1) % wallets.count]
                let amount = Int64(index % 13 + 1)
                postings.append(ledgerPosting(from, to, amount))
                expected[from, default: 0] -= amount
                expected[to, default: 0] += amount
            }
            let tooMany = postings + [ledgerPosting(vault, wallets[0], 1)]
            #expect(await ledgerCode {
                try await store.write { tx in _ = try await tx.post(tooMany, atMs: ledgerT0) }
            } == "ledger.batch_too_large")
            #expect(try await ledgerTransferCount(store) == 0)

            let clock = ContinuousClock()
            let started = clock.now
            let records = try await store.write { [postings] tx in try await tx.post(postings, atMs: ledgerT0 + 1) }
            print("ledger: 8,000 transfers in one call on \(engine.rawValue) took \(clock.now - started)")
            #expect(records.count == 8_000)
            #expect(Set(records.map(\.id)).count == 8_000)
            #expect(try await ledgerTransferCount(store) == 8_000)
            for (id, posted) in expected {
                #expect(try await ledgerAccount(store, id).postedFen == posted)
            }
            #expect(try await store.verifyLedger() == .ok(accounts: 41, transfers: 8_000))
        }
    }

    @Test("reversals undo once, may debit a blocked account, never overdraw", arguments: TestStores.engines)
    func reversals(engine: Store.EngineKind) async throws {
        try await TestStores.withStore(engine) { (store: Store) async throws in
            let (vault, wallets) = try await ledgerFixture(store, count: 3, seedFen: 1_000)
            let (alice, bob, carol) = (wallets[0], wallets[1], wallets[2])
            let payment = try await store.write { tx in try await tx.post([ledgerPosting(alice, bob, 300)], atMs: ledgerT0 + 1) }[0]
            let reversal = try await store.write { tx in try await tx.reverse(transferID: payment.id, kind: "correction", atMs: ledgerT0 + 2) }
            #expect(reversal.debitAccountId == bob && reversal.creditAccountId == alice && reversal.amountFen == 300)
            #expect(reversal.reversesTransferId == payment.id && reversal.kind == "correction" && reversal.referenceId == payment.referenceId)
            #expect(try await ledgerAccount(store, alice).postedFen == 1_000)
            #expect(try await ledgerAccount(store, bob).postedFen == 1_000)
            #expect(try await store.read { tx in try await tx.reversal(of: payment.id) } == reversal)

            #expect(await ledgerCode { try await store.write { tx in _ = try await tx.reverse(transferID: payment.id, kind: "c", atMs: ledgerT0) } }
                    == "ledger.already_reversed")
            #expect(await ledgerCode { try await store.write { tx in _ = try await tx.reverse(transferID: reversal.id, kind: "c", atMs: ledgerT0) } }
                    == "ledger.reversal_not_reversible")
            #expect(await ledgerCode { try await store.write { tx in _ = try await tx.reverse(transferID: "ghost", kind: "c", atMs: ledgerT0) } }
                    == "ledger.transfer_not_found")

            // A lost card: debits refused, credits and reversals still post.
            let gift = try await store.write { tx in try await tx.post([ledgerPosting(alice, bob, 200)], atMs: ledgerT0 + 3) }[0]
            try await store.write { tx in try await tx.setDebitsBlocked(accountID: bob, blocked: true) }
            #expect(await ledgerCode { try await store.write { tx in _ = try await tx.post([ledgerPosting(bob, carol, 1)], atMs: ledgerT0) } }
                    == "card.not_active")
            try await store.write { tx in _ = try await tx.post([ledgerPosting(vault, bob, 50)], atMs: ledgerT0 + 4) }
            try await store.write { tx in _ = try await tx.reverse(transferID: gift.id, kind: "correction", atMs: ledgerT0 + 5) }
            #expect(try await ledgerAccount(store, bob).postedFen == 1_050)

            // Undoing a deposit the cardholder already spent would overdraw: refused, nothing changes.
            let deposit = try await store.write { tx in try await tx.post([ledgerPosting(vault, carol, 500)], atMs: ledgerT0 + 6) }[0]
            try await store.write { tx in _ = try await tx.post([ledgerPosting(carol, alice, 1_200)], atMs: ledgerT0 + 7) }
            let count = try await ledgerTransferCount(store)
            #expect(await ledgerCode { try await store.write { tx in _ = try await tx.reverse(transferID: deposit.id, kind: "c", atMs: ledgerT0) } }
                    == "ledger.insufficient_funds")
            #expect(try await ledgerTransferCount(store) == count)
            #expect(try await ledgerAccount(store, carol).postedFen == 300)

            // Two concurrent reversals of one transfer: exactly one wins.
            let target = try await store.write { tx in try await tx.post([ledgerPosting(vault, carol, 10)], atMs: ledgerT0 + 8) }[0]
            let outcomes = await withTaskGroup(of: String.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        await ledgerCode { try await store.write { tx in _ = try await tx.reverse(transferID: target.id, kind: "c", atMs: ledgerT0 + 9) } } ?? "ok"
                    }
                }
                return await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(outcomes.sorted() == ["ledger.already_reversed", "ledger.already_reversed", "ledger.already_reversed",
                                          "ledger.already_reversed", "ledger.already_reversed", "ok"])
            #expect(try await store.verifyLedger().isOK)
        }
    }

    @Test("holds reserve, post (in part), void and expire", arguments: TestStores.engines)
    func holds(engine: Store.EngineKind) async throws {
        try await TestStores.withStore(engine) { (store: Store) async throws in
            let (_, wallets) = try await ledgerFixture(store, count: 2, seedFen: 1_000)
            let (alice, shop) = (wallets[0], wallets[1])
            let expiry = ledgerT0 + 60_000
            let first = try await store.write { tx in try await tx.hold(ledgerPosting(alice, shop, 400, kind: "fare"), expiresAtMs: expiry, atMs: ledgerT0) }
            #expect(first.holdState == .pending && first.amountFen == 400 && first.closedAtMs == nil)
            #expect(try await ledgerAccount(store, alice).pendingDebitsFen == 400)
            #expect(try await ledgerAccount(store, alice).availableFen == 600)
            #expect(try await store.read { tx in try await tx.pendingHolds(accountID: alice) } == [first])
            #expect(await ledgerCode { try await store.write { tx in _ = try await tx.post([ledgerPosting(alice, shop, 601)], atMs: ledgerT0) } }
                    == "ledger.insufficient_funds")
            #expect(await ledgerCode {
                try await store.write { tx in _ = try await tx.hold(ledgerPosting(alice, shop, 601), expiresAtMs: expiry, atMs: ledgerT0) }
            } == "ledger.insufficient_funds")

            // Posting part of it: the fare is lower than the pre-authorised maximum.
            let fare = try await store.write { tx in try await tx.postHold(id: first.id, amountFen: 250, atMs: ledgerT0 + 10) }
            #expect(fare.holdId == first.id && fare.amountFen == 250 && fare.debitAccountId == alice && fare.creditAccountId == shop)
            #expect(fare.kind == "fare")
            let aliceAfter = try await ledgerAccount(store, alice)
            #expect(aliceAfter.postedFen == 750 && aliceAfter.pendingDebitsFen == 0)
            #expect(try await ledgerAccount(store, shop).postedFen == 1_250)
            let closed = try #require(try await store.read { tx in try await tx.hold(id: first.id) })
            #expect(closed.holdState == .posted && closed.closedAtMs == ledgerT0 + 10)
            #expect(await ledgerCode { try await store.write { tx in _ = try await tx.postHold(id: first.id, atMs: ledgerT0 + 11) } }
                    == "ledger.hold_not_pending")
            #expect(await ledgerCode { try await store.write { tx in try await tx.voidHold(id: first.id, atMs: ledgerT0 + 11) } }
                    == "ledger.hold_not_pending")
            #expect(await ledgerCode { try await store.write { tx in _ = try await tx.postHold(id: "ghost", atMs: ledgerT0) } }
                    == "ledger.hold_not_found")

            // Voiding releases the reservation; more than the hold cannot post.
            let second = try await store.write { tx in try await tx.hold(ledgerPosting(alice, shop, 300), expiresAtMs: expiry, atMs: ledgerT0) }
            #expect(await ledgerCode { try await store.write { tx in _ = try await tx.postHold(id: second.id, amountFen: 301, atMs: ledgerT0) } }
                    == "ledger.amount_invalid")
            try await store.write { tx in try await tx.voidHold(id: second.id, atMs: ledgerT0 + 20) }
            #expect(try await ledgerAccount(store, alice).pendingDebitsFen == 0)
            #expect(try await store.read { tx in try await tx.hold(id: second.id) }?.holdState == .voided)

            // Expiry: an expired hold cannot post and the sweeper voids it, oldest first, in pages.
            let expiring = try await store.write { tx in
                var holds: [LedgerHoldRecord] = []
                for index in 0..<5 {
                    holds.append(try await tx.hold(ledgerPosting(alice, shop, 10), expiresAtMs: ledgerT0 + 100 + Int64(index), atMs: ledgerT0))
                }
                return holds
            }
            #expect(try await ledgerAccount(store, alice).pendingDebitsFen == 50)
            #expect(await ledgerCode { try await store.write { tx in _ = try await tx.postHold(id: expiring[0].id, atMs: ledgerT0 + 100) } }
                    == "ledger.hold_expired")
            #expect(try await store.write { tx in try await tx.voidExpiredHolds(nowMs: ledgerT0 + 99, limit: 10) } == 0)
            #expect(try await store.write { tx in try await tx.voidExpiredHolds(nowMs: ledgerT0 + 103, limit: 2) } == 2)
            #expect(try await store.read { tx in try await tx.hold(id: expiring[1].id) }?.holdState == .voided)
            #expect(try await store.read { tx in try await tx.hold(id: expiring[2].id) }?.holdState == .pending)
            #expect(try await store.write { tx in try await tx.voidExpiredHolds(nowMs: ledgerT0 + 103, limit: 10) } == 2)
            #expect(try await ledgerAccount(store, alice).pendingDebitsFen == 10)
            // The last one is still good until it expires.
            _ = try await store.write { tx in try await tx.postHold(id: expiring[4].id, atMs: ledgerT0 + 103) }
            #expect(try await store.write { tx in try await tx.voidExpiredHolds(nowMs: ledgerT0 + 1_000, limit: 10) } == 0)
            #expect(try await ledgerAccount(store, alice).pendingDebitsFen == 0)
            #expect(try await ledgerAccount(store, alice).postedFen == 740)

            // Refusals: a lost card takes no new hold (but its holds can be voided); the reference must
            // be registered; the expiry must lie ahead.
            let third = try await store.write { tx in try await tx.hold(ledgerPosting(alice, shop, 5), expiresAtMs: expiry, atMs: ledgerT0) }
            try await store.write { tx in try await tx.setDebitsBlocked(accountID: alice, blocked: true) }
            #expect(await ledgerCode {
                try await store.write { tx in _ = try await tx.hold(ledgerPosting(alice, shop, 5), expiresAtMs: expiry, atMs: ledgerT0) }
            } == "card.not_active")
            #expect(await ledgerCode { try await store.write { tx in _ = try await tx.postHold(id: third.id, atMs: ledgerT0 + 1) } }
                    == "card.not_active")
            try await store.write { tx in try await tx.voidHold(id: third.id, atMs: ledgerT0 + 2) }
            #expect(await ledgerCode {
                try await store.write { tx in _ = try await tx.hold(ledgerPosting(shop, alice, 5, reference: "zz"), expiresAtMs: expiry, atMs: ledgerT0) }
            } == "ledger.reference_not_found")
            #expect(await ledgerCode {
                try await store.write { tx in _ = try await tx.hold(ledgerPosting(shop, alice, 5), expiresAtMs: ledgerT0, atMs: ledgerT0) }
            } == "ledger.hold_expiry_invalid")
            #expect(try await store.verifyLedger().isOK)
        }
    }

    @Test("on PostgreSQL a branch vault keeps its balance as row + deltas: no read or lock per posting, exact everywhere, folded by the sweeper, checked by verify",
          arguments: TestStores.engines)
    func balanceDeltas(engine: Store.EngineKind) async throws {
        try await TestStores.withStore(engine) { store in
            try await store.migrate()
            let (vault, people) = try await store.write { tx in
                let vault = try await tx.openAccount(kind: .branchVault, ownerType: "branch", ownerID: "delta-branch", atMs: ledgerT0)
                var people: [String] = []
                for index in 0..<3 {
                    people.append(try await tx.openAccount(kind: .financial, ownerType: "person", ownerID: "delta-\(index)", atMs: ledgerT0).id)
                }
                return (vault.id, people)
            }
            // The vault's first posting reads its row (that is how the store learns its kind), and
            // concurrent first postings may all do so: one deposit alone first.
            _ = try await store.write(isolation: .lockedRows) { tx in
                try await tx.registerAndPost(referenceType: "deposit", referenceID: "warm-up",
                                             [Posting(debit: vault, credit: people[0], amountFen: 1, kind: "cash_deposit",
                                                      referenceType: "deposit", referenceID: "warm-up")], atMs: ledgerT0)
            }
            // 24 deposits from 8 concurrent callers, then 6 withdrawals back into the vault.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<24 {
                    group.addTask {
                        _ = try await store.write(isolation: .lockedRows) { tx in
                            try await tx.registerAndPost(referenceType: "deposit", referenceID: "d\(index)",
                                                         [Posting(debit: vault, credit: people[index % 3], amountFen: 1_000 + Int64(index),
                                                                  kind: "cash_deposit", referenceType: "deposit", referenceID: "d\(index)")],
                                                         atMs: ledgerT0 + Int64(index))
                        }
                    }
                    if index % 8 == 7 { try await group.waitForAll() }
                }
                try await group.waitForAll()
            }
            for index in 0..<6 {
                _ = try await store.write(isolation: .lockedRows) { tx in
                    try await tx.lockAccounts([people[index % 3], vault])
                    return try await tx.registerAndPost(referenceType: "withdrawal", referenceID: "w\(index)",
                                                        [Posting(debit: people[index % 3], credit: vault, amountFen: 100,
                                                                 kind: "cash_withdrawal", referenceType: "withdrawal", referenceID: "w\(index)")],
                                                        atMs: ledgerT0 + 100)
                }
            }
            let deposited: Int64 = (0..<24).reduce(Int64(0)) { $0 + 1_000 + Int64($1) } + 1  // and the warm-up's 1 fen
            let expected: Int64 = 600 - deposited
            func deltaRows() async throws -> Int64 {
                try await store.read { tx in
                    try await tx.sql.raw("SELECT COUNT(*) AS n FROM ledger_balance_deltas").first()?.decode(column: "n", as: Int64.self) ?? -1
                }
            }
            // PostgreSQL: after the warm-up, every posting left a delta instead of reading the
            // vault's row. SQLite (one writer, no row locks) updates the row in place.
            #expect(try await deltaRows() == (engine == .postgres ? 30 : 0))
            if engine == .sqlite { #expect(try await deltaRows() == 0) }
            let shown = try await store.read { tx in try await tx.account(id: vault) }
            #expect(shown?.postedFen == expected)
            let listed = try await store.read { tx in try await tx.systemAccounts(afterID: nil, limit: 50) }
            #expect(listed.first(where: { $0.id == vault })?.postedFen == expected)
            #expect(try await store.verifyLedger().isOK)

            // The sweeper's fold: deltas gone, the same balance now in the row.
            var folded = 0
            while true {
                let step = try await store.write(isolation: .lockedRows) { tx in try await tx.foldBalanceDeltas(limit: 1) }
                if step == 0 { break }
                folded += step
            }
            #expect(folded == (engine == .postgres ? 30 : 0))
            #expect(try await deltaRows() == 0)
            let row = try await store.read { tx in
                try await tx.sql.raw("SELECT posted_fen FROM ledger_accounts WHERE id = \(bind: vault)").first()?.decode(column: "posted_fen", as: Int64.self)
            }
            #expect(row == expected)
            #expect(try await store.verifyLedger().isOK)

            // A delta on an account that keeps its balance in its row is named by verify (balanced by
            // one on the vault, so the books still sum to zero).
            try await ledgerRaw(store, """
                INSERT INTO ledger_balance_deltas (id, account_id, delta_fen, created_at_ms)
                VALUES ('tampered', \(bind: people[0]), 5, 0), ('offset', \(bind: vault), -5, 0)
                """)
            let verdict = "\(try await store.verifyLedger())"
            #expect(verdict.contains("balance delta tampered"), "\(verdict)")
        }
    }

    @Test("verification passes after a random workload and names every violation made by hand", arguments: TestStores.engines)
    func verification(engine: Store.EngineKind) async throws {
        try await TestStores.withStore(engine) { (store: Store) async throws in
            #expect(try await store.verifyLedger() == .ok(accounts: 0, transfers: 0))
            let (vault, wallets) = try await ledgerFixture(store, count: 6, seedFen: 2_000)
            var rng = SeededGenerator(seed: 0x1ED6_E5)
            var transfers: [LedgerTransferRecord] = []
            for step in 0..<150 {
                let now = ledgerT0 + Int64(step)
                let from = wallets.randomElement(using: &rng)!
                let to = wallets.filter { $0 != from }.randomElement(using: &rng)!
                let amount = Int64.random(in: 1...900, using: &rng)
                let choice = Int.random(in: 0..<10, using: &rng)
                let target = transfers.isEmpty ? nil : transfers[Int.random(in: 0..<transfers.count, using: &rng)]
                _ = await ledgerCode {
                    switch choice {
                    case 0...4:
                        transfers += try await store.write { tx in try await tx.post([ledgerPosting(from, to, amount)], atMs: now) }
                    case 5:
                        transfers += try await store.write { tx in try await tx.post([ledgerPosting(vault, to, amount)], atMs: now) }
                    case 6:
                        if let target {
                            transfers.append(try await store.write { tx in try await tx.reverse(transferID: target.id, kind: "correction", atMs: now) })
                        }
                    default:
                        let hold = try await store.write { tx in try await tx.hold(ledgerPosting(from, to, amount), expiresAtMs: now + 20, atMs: now) }
                        if choice == 7 { transfers.append(try await store.write { tx in try await tx.postHold(id: hold.id, atMs: now) }) }
                        if choice == 8 { try await store.write { tx in try await tx.voidHold(id: hold.id, atMs: now) } }
                    }
                }
                if step % 25 == 0 { _ = try await store.write { tx in try await tx.voidExpiredHolds(nowMs: now, limit: 100) } }
            }
            #expect(try await store.write { tx in try await tx.voidExpiredHolds(nowMs: ledgerT0 + 1_000_000, limit: 1_000) } >= 0)
            let count = try await ledgerTransferCount(store)
            #expect(count >= 60)
            #expect(try await store.verifyLedger() == .ok(accounts: 7, transfers: count))
            let (alice, bob) = (wallets[0], wallets[1])

            // A balance changed by hand: the sum is no longer zero.
            try await ledgerRaw(store, "UPDATE ledger_accounts SET posted_fen = posted_fen + 1 WHERE id = \(bind: alice)")
            #expect(try await ledgerViolation(store) == "the balances of all 7 accounts sum to 1 fen, not 0")
            // Money moved by hand between two balances: the sum holds but not the balances.
            try await ledgerRaw(store, "UPDATE ledger_accounts SET posted_fen = posted_fen - 1 WHERE id = \(bind: bob)")
            let moved = try await ledgerViolation(store)
            #expect(moved.contains("stores a balance of") && moved.contains("but its transfers sum to"), "\(moved)")
            try await ledgerRaw(store, "UPDATE ledger_accounts SET posted_fen = posted_fen - 1 WHERE id = \(bind: alice)")
            try await ledgerRaw(store, "UPDATE ledger_accounts SET posted_fen = posted_fen + 1 WHERE id = \(bind: bob)")
            #expect(try await store.verifyLedger().isOK)

            // A transfer deleted.
            let plain = try await store.write { tx in try await tx.post([ledgerPosting(vault, bob, 11)], atMs: ledgerT0 + 400)[0] }
            try await ledgerRaw(store, "DELETE FROM ledger_transfers WHERE id = \(bind: plain.id)")
            let deleted = try await ledgerViolation(store)
            #expect(deleted.contains("stores a balance of") && deleted.contains("but its transfers sum to"), "\(deleted)")
            try await store.write { tx in try await tx.insertTransfers([plain]) }
            #expect(try await store.verifyLedger().isOK)

            // A dangling reference.
            try await store.write { tx in
                try await tx.registerReference(type: "order", id: "o-9", atMs: ledgerT0)
                _ = try await tx.post([ledgerPosting(vault, alice, 5, reference: "o-9").withReference(type: "order")], atMs: ledgerT0 + 500)
            }
            #expect(try await store.verifyLedger().isOK)
            try await ledgerRaw(store, "DELETE FROM ledger_references WHERE reference_type = 'order' AND reference_id = 'o-9'")
            let dangling = try await ledgerViolation(store)
            #expect(dangling.contains("references order o-9, which is not a registered business object"), "\(dangling)")
            _ = try await store.write { tx in try await tx.registerReference(type: "order", id: "o-9", atMs: ledgerT0) }
            #expect(try await store.verifyLedger().isOK)

            // A non-negative account overdrawn by a transfer that bypassed the rules.
            let victim = try await ledgerAccount(store, wallets[2])
            let overdraft = victim.postedFen + 10
            try await store.write { tx in
                try await tx.sql.raw("""
                    INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount_fen, kind, reference_type, reference_id, created_at_ms)
                    VALUES ('forged', \(bind: victim.id), \(bind: vault), \(bind: overdraft), 'forged', 'test', 'r1', \(bind: ledgerT0))
                    """).run()
                try await tx.sql.raw("UPDATE ledger_accounts SET posted_fen = posted_fen - \(bind: overdraft) WHERE id = \(bind: victim.id)").run()
                try await tx.sql.raw("UPDATE ledger_accounts SET posted_fen = posted_fen + \(bind: overdraft) WHERE id = \(bind: vault)").run()
            }
            let negative = try await ledgerViolation(store)
            #expect(negative.contains("account \(victim.id) (transitWallet) may not go negative"), "\(negative)")
            try await store.write { tx in
                try await tx.sql.raw("DELETE FROM ledger_transfers WHERE id = 'forged'").run()
                try await tx.sql.raw("UPDATE ledger_accounts SET posted_fen = posted_fen + \(bind: overdraft) WHERE id = \(bind: victim.id)").run()
                try await tx.sql.raw("UPDATE ledger_accounts SET posted_fen = posted_fen - \(bind: overdraft) WHERE id = \(bind: vault)").run()
            }
            #expect(try await store.verifyLedger().isOK)

            // Pending debits that no hold explains.
            try await ledgerRaw(store, "UPDATE ledger_accounts SET pending_debits_fen = pending_debits_fen + 3 WHERE id = \(bind: alice)")
            #expect(try await ledgerViolation(store).contains("account \(alice) stores 3 fen of pending debits but its pending holds sum to 0 fen"))
            try await ledgerRaw(store, "UPDATE ledger_accounts SET pending_debits_fen = pending_debits_fen - 3 WHERE id = \(bind: alice)")

            // A reversal pointed at a transfer it does not mirror.
            let reversal = try await store.write { tx in
                let payment = try await tx.post([ledgerPosting(vault, alice, 7)], atMs: ledgerT0 + 600)[0]
                return try await tx.reverse(transferID: payment.id, kind: "correction", atMs: ledgerT0 + 601)
            }
            let other = try await store.write { tx in try await tx.post([ledgerPosting(vault, bob, 8)], atMs: ledgerT0 + 602)[0] }
            try await ledgerRaw(store, "UPDATE ledger_transfers SET reverses_transfer_id = \(bind: other.id) WHERE id = \(bind: reversal.id)")
            #expect(try await ledgerViolation(store).contains("reversal \(reversal.id) does not mirror transfer \(other.id)"))
            try await ledgerRaw(store, "UPDATE ledger_transfers SET reverses_transfer_id = \(bind: reversal.reversesTransferId) WHERE id = \(bind: reversal.id)")

            // A hold marked posted without its transfer; an account whose flag contradicts its kind.
            let voided = try await store.write { tx in
                let hold = try await tx.hold(ledgerPosting(vault, alice, 9), expiresAtMs: ledgerT0 + 10_000, atMs: ledgerT0)
                try await tx.voidHold(id: hold.id, atMs: ledgerT0 + 1)
                return hold
            }
            try await ledgerRaw(store, "UPDATE ledger_holds SET state = 'posted' WHERE id = \(bind: voided.id)")
            #expect(try await ledgerViolation(store) == "hold \(voided.id) is posted but no transfer posts it")
            try await ledgerRaw(store, "UPDATE ledger_holds SET state = 'voided' WHERE id = \(bind: voided.id)")
            try await ledgerRaw(store, "UPDATE ledger_accounts SET may_go_negative = 1 WHERE id = \(bind: alice)")
            #expect(try await ledgerViolation(store).contains("flags that do not match its kind"))
            try await ledgerRaw(store, "UPDATE ledger_accounts SET may_go_negative = 0 WHERE id = \(bind: alice)")
            #expect(try await store.verifyLedger().isOK)
        }
    }

    @Test("16 concurrent writers: conservation, no overdraft, every acknowledged posting stored once", arguments: TestStores.engines)
    func concurrentWriters(engine: Store.EngineKind) async throws {
        try await TestStores.withStore(engine) { (store: Store) async throws in
            let (vault, wallets) = try await ledgerFixture(store, count: 20, seedFen: 5_000)
            let tasks = 16
            let operationsPerTask = 100
            let clock = ContinuousClock()
            let started = clock.now
            let outcomes = try await withThrowingTaskGroup(of: (postings: Int, refused: Int, gaveUp: Int).self) { group in
                for task in 0..<tasks {
                    group.addTask {
                        var rng = SeededGenerator(seed: 0xC0C0 + UInt64(task))
                        var acknowledged = 0
                        var refused = 0
                        var gaveUp = 0
                        for step in 0..<operationsPerTask {
                            let from = wallets.randomElement(using: &rng)!
                            let to = wallets.filter { $0 != from }.randomElement(using: &rng)!
                            let via = wallets.filter { $0 != to }.randomElement(using: &rng)!
                            let amount = Int64.random(in: 1...3_000, using: &rng)
                            let batch: [Posting]
                            switch Int.random(in: 0..<10, using: &rng) {
                            case 0: batch = [ledgerPosting(vault, to, amount, kind: "deposit")]
                            case 1, 2: batch = [ledgerPosting(from, to, amount), ledgerPosting(to, via, amount / 2 + 1)]
                            default: batch = [ledgerPosting(from, to, amount)]
                            }
                            do {
                                let stored = try await store.write { tx in try await tx.post(batch, atMs: ledgerT0 + Int64(step)) }
                                #expect(stored.count == batch.count)
                                acknowledged += batch.count
                            } catch let error as DomainError where error.code == "ledger.insufficient_funds" {
                                refused += 1
                            } catch StoreError.retriesExhausted {
                                // PostgreSQL under maximal contention: the write was never acknowledged
                                // (the API answers 500 and the client retries with its idempotency key).
                                gaveUp += 1
                            }
                        }
                        return (acknowledged, refused, gaveUp)
                    }
                }
                return try await group.reduce(into: [(postings: Int, refused: Int, gaveUp: Int)]()) { $0.append($1) }
            }
            let elapsed = clock.now - started
            let acknowledged = outcomes.reduce(0) { $0 + $1.postings }
            let refused = outcomes.reduce(0) { $0 + $1.refused }
            let gaveUp = outcomes.reduce(0) { $0 + $1.gaveUp }
            print("ledger: \(tasks) concurrent writers on \(engine.rawValue): \(acknowledged) postings acknowledged, \(refused) batches refused for insufficient funds, \(gaveUp) gave up after retries, in \(elapsed)")
            #expect(gaveUp * 20 <= tasks * operationsPerTask, "at most 5% of writes may exhaust their retries")
            #expect(acknowledged >= 1_400)
            #expect(refused > 0)

            let accounts = try await store.read { tx in
                // Balances as the ledger shows them: the row plus its balance deltas (the vault's).
                try await tx.sql.raw("SELECT \(unsafeRaw: StoreTx.accountColumns) FROM ledger_accounts a").all(decoding: LedgerAccountRecord.self, with: .snake)
            }
            #expect(accounts.count == 21)
            #expect(accounts.reduce(Int64(0)) { $0 + $1.postedFen } == 0)
            for account in accounts where account.id != vault {
                #expect(account.postedFen >= 0 && account.availableFen >= 0, "\(account.id) went negative: \(account.postedFen)")
            }
            #expect(try await ledgerTransferCount(store) == Int64(wallets.count + acknowledged))
            #expect(try await store.verifyLedger() == .ok(accounts: 21, transfers: Int64(wallets.count + acknowledged)))
        }
    }
}

extension Posting {
    fileprivate func withReference(type: String) -> Posting {
        Posting(debit: debitAccountID, credit: creditAccountID, amountFen: amountFen, kind: kind, referenceType: type,
                referenceID: referenceID, isReversal: isReversal)
    }
}
