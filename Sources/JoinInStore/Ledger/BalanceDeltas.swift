public import JoinInCore
import SQLKit
import Synchronization

/// Balance deltas: how the ledger takes the hot row out of busy system accounts (issue 14).
///
/// Every cash deposit and withdrawal at a branch moves money into or out of that branch's vault.
/// Updating the vault's balance row in each of them makes the row a queue on PostgreSQL: each
/// transaction holds its lock from the posting to the commit (338 transfers/s from 64 callers).
/// For kinds whose balance no rule ever consults (`AccountKind.defersBalance`: they may go
/// negative and are never blocked), a posting instead *inserts* the change as a delta row; the
/// account's balance is its stored `posted_fen` plus its deltas, summed wherever a balance is
/// shown, and `ledger verify` checks that sum against the transfers like any other balance. The
/// sweeper folds deltas into the row (`foldBalanceDeltas`), deleting exactly the rows it adds.
/// Exact balances, no lock on the vault, on both engines alike.
enum DeferredBalances {
    /// Accounts known to defer their balance (the kind of an account never changes, ids are
    /// never reused), learned as the ledger reads them.
    private static let known = Mutex<Set<String>>([])

    static func learn(_ id: String) {
        _ = known.withLock { $0.insert(id) }
    }

    static func filter(_ ids: Set<String>) -> Set<String> {
        known.withLock { known in ids.filter { known.contains($0) } }
    }

    /// What `post` assumes for a deferred account instead of reading it: the rules never refuse
    /// it, and the change to this balance is the delta to store.
    static let placeholder = AccountBalance(posted: 0, pendingDebits: 0, mayGoNegative: true, debitsBlocked: false)
}

extension AccountKind {
    /// Balances kept as a row plus deltas (see `DeferredBalances`): system accounts that may go
    /// negative, are never blocked and whose balance no rule reads.
    public var defersBalance: Bool {
        switch self {
        case .branchVault, .externalClearing, .contributionClearing: return true
        default: return false
        }
    }
}

extension StoreTx {
    /// The columns of `LedgerAccountRecord` from `ledger_accounts a`, with deltas in `posted_fen`.
    static let accountColumns = """
        a.id, a.kind, a.owner_type, a.owner_id, a.currency, a.may_go_negative, a.debits_blocked,
        a.posted_fen + COALESCE((SELECT CAST(SUM(d.delta_fen) AS BIGINT) FROM ledger_balance_deltas d WHERE d.account_id = a.id), 0)
            AS posted_fen,
        a.pending_debits_fen, a.created_at_ms
        """

    /// Records balance changes of deferred accounts as delta rows (one multi-row insert).
    func insertBalanceDeltas(_ deltas: [(accountID: String, fen: Int64)], atMs: Int64) async throws {
        let nonZero = deltas.filter { $0.fen != 0 }
        for chunk in chunked(nonZero, bindsPerItem: 4) {
            var query = SQLQueryString("INSERT INTO ledger_balance_deltas (id, account_id, delta_fen, created_at_ms) VALUES")
            query.appendRows(chunk) { delta in [TimeOrderedID.make(unixMs: atMs), delta.accountID, delta.fen, atMs] }
            try await sql.raw(query).run()
        }
    }

    /// Folds the deltas of up to `limit` accounts into their rows: each account's deltas are
    /// deleted and exactly the deleted sum is added to its `posted_fen`, in this transaction.
    /// Returns how many delta rows were folded.
    public func foldBalanceDeltas(limit: Int) async throws -> Int {
        let accounts = try await sql.raw("""
            SELECT DISTINCT account_id FROM ledger_balance_deltas ORDER BY account_id LIMIT \(bind: limit)
            """).all().map { try $0.decode(column: "account_id", as: String.self) }
        var folded = 0
        for account in accounts {
            // The row first (locked on PostgreSQL), then the deltas: concurrent postings only insert.
            _ = try await sql.raw("SELECT id FROM ledger_accounts WHERE id = \(bind: account)\(unsafeRaw: lockForUpdate)").all()
            let deleted = try await sql.raw("""
                DELETE FROM ledger_balance_deltas WHERE account_id = \(bind: account) RETURNING delta_fen
                """).all().map { try $0.decode(column: "delta_fen", as: Int64.self) }
            guard !deleted.isEmpty else { continue }
            let total = deleted.reduce(0, +)
            let updated = try await sql.raw("""
                UPDATE ledger_accounts SET posted_fen = posted_fen + \(bind: total) WHERE id = \(bind: account) RETURNING id
                """).all().count
            guard updated == 1 else { throw StoreError.corrupt("ledger: balance deltas of an unknown account \(account)") }
            folded += deleted.count
        }
        return folded
    }
}
