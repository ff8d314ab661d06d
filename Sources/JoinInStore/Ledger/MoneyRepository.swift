import SQLKit

extension StoreTx {
    /// Sum of the transfers of `kind` debited from an account in [fromMs, toMs): daily limits.
    /// (PostgreSQL sums BIGINT as NUMERIC, hence the cast.)
    public func debitedFen(accountID: String, kind: String, fromMs: Int64, toMs: Int64) async throws -> Int64 {
        try await sql.raw("""
            SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) AS total FROM ledger_transfers
            WHERE debit_account_id = \(bind: accountID) AND kind = \(bind: kind)
              AND created_at_ms >= \(bind: fromMs) AND created_at_ms < \(bind: toMs) AND reverses_transfer_id IS NULL
            """).first()?.decode(column: "total", as: Int64.self) ?? 0
    }
}

extension StoreTx {
    /// Accounts not owned by a person (branch vaults, clearing, funds, settlement accounts), by id.
    public func systemAccounts(afterID: String?, limit: Int) async throws -> [LedgerAccountRecord] {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.accountColumns) FROM ledger_accounts a WHERE a.owner_type <> 'person' AND a.id > \(bind: afterID ?? "")
            ORDER BY a.id LIMIT \(bind: limit)
            """).allRecords(LedgerAccountRecord.self)
    }
}
