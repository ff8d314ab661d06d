import SQLKit

extension StoreTx {
    /// Sum of the transfers of `kind` debited from an account in [fromMs, toMs): daily limits.
    public func debitedFen(accountID: String, kind: String, fromMs: Int64, toMs: Int64) async throws -> Int64 {
        try await sql.raw("""
            SELECT COALESCE(SUM(amount_fen), 0) AS total FROM ledger_transfers
            WHERE debit_account_id = \(bind: accountID) AND kind = \(bind: kind)
              AND created_at_ms >= \(bind: fromMs) AND created_at_ms < \(bind: toMs) AND reverses_transfer_id IS NULL
            """).first()?.decode(column: "total", as: Int64.self) ?? 0
    }
}
