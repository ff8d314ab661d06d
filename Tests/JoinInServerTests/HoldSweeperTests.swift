import Foundation
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import Testing

@Suite("Ledger: expired holds are voided automatically")
struct HoldSweeperTests {
    @Test("the sweeper voids exactly the expired holds, keeps running on its interval, and stops when cancelled",
          arguments: TestStores.engines)
    func sweeps(engine: Store.EngineKind) async throws {
        try await TestStores.withStore(engine) { (store: Store) async throws in
            let clock = TestClock()
            let t0 = clock.now
            let (wallet, holds) = try await store.write { tx -> (String, [LedgerHoldRecord]) in
                let vault = try await tx.openAccount(kind: .branchVault, ownerType: "branch", ownerID: "b1", atMs: t0)
                let wallet = try await tx.openAccount(kind: .transitWallet, ownerType: "person", ownerID: "p1", atMs: t0)
                try await tx.registerReference(type: "deposit", id: "d1", atMs: t0)
                try await tx.post([Posting(debit: vault.id, credit: wallet.id, amountFen: 10_000, kind: "cash_deposit",
                                           referenceType: "deposit", referenceID: "d1")], atMs: t0)
                try await tx.registerReference(type: "gate", id: "g1", atMs: t0)
                var holds: [LedgerHoldRecord] = []
                // 600 short holds (more than one sweep batch) and one long one.
                for index in 0..<600 {
                    holds.append(try await tx.hold(Posting(debit: wallet.id, credit: vault.id, amountFen: 10, kind: "fare_hold",
                                                           referenceType: "gate", referenceID: "g1"),
                                                   expiresAtMs: t0 + 60_000 + Int64(index), atMs: t0))
                }
                holds.append(try await tx.hold(Posting(debit: wallet.id, credit: vault.id, amountFen: 700, kind: "fare_hold",
                                                       referenceType: "gate", referenceID: "g1"),
                                               expiresAtMs: t0 + 3_600_000, atMs: t0))
                return (wallet.id, holds)
            }
            func pending() async throws -> Int64? { try await store.read { tx in try await tx.account(id: wallet) }?.pendingDebitsFen }
            #expect(try await pending() == 6_700)
            #expect(try await HoldSweeper.sweep(store: store, nowMs: t0 + 59_999) == 0)
            #expect(try await HoldSweeper.sweep(store: store, nowMs: t0 + 60_000 + 599) == 600)
            #expect(try await pending() == 700)
            #expect(try await store.read { tx in try await tx.hold(id: holds[0].id) }?.holdState == .voided)
            #expect(try await store.read { tx in try await tx.hold(id: holds[600].id) }?.holdState == .pending)

            // The loop: once the clock passes the last expiry, the next sweep voids it.
            let sweeper = Task {
                await Sweeper.run(store: store, clock: clock.appClock, interval: .milliseconds(20), logger: TestStores.logger)
            }
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await pending() == 700, "not expired yet")
            clock.advance(seconds: 3_600)
            var waited = 0
            while try await pending() != 0, waited < 250 {
                try await Task.sleep(for: .milliseconds(20))
                waited += 1
            }
            #expect(try await pending() == 0)
            sweeper.cancel()
            await sweeper.value
            #expect(try await store.verifyLedger().isOK)
        }
    }
}
