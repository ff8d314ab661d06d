import JoinInCore
import SQLKit

/// The ledger's invariants (DESIGN §6) as a table of named checks. Each is one query over the whole
/// ledger that returns a violating row, or none; the first violation found is the verdict. Run
/// inside one snapshot (`Store.verifyLedger`).
struct LedgerCheck: Sendable {
    let name: String
    let query: @Sendable () -> SQLQueryString
    let describe: @Sendable (any SQLRow) throws -> String
}

extension LedgerCheck {
    static let all: [LedgerCheck] = {
        let negativeKinds = AccountKind.allCases.filter(\.mayGoNegative).map(\.rawValue)
        let deferringKinds = AccountKind.allCases.filter(\.defersBalance).map(\.rawValue)
        let knownKinds = AccountKind.allCases.map(\.rawValue)
        let states = HoldState.allCases.map(\.rawValue)
        let pending = HoldState.pending.rawValue, posted = HoldState.posted.rawValue
        @Sendable func id(_ row: any SQLRow) throws -> String { try row.decode(column: "id", as: String.self) }
        return [
            // Shape of the rows: the schema's constraints make most of these impossible, but a
            // database restored or edited by hand might still hold them.
            LedgerCheck(name: "account shape", query: { """
                SELECT id, kind FROM ledger_accounts
                WHERE kind NOT IN (\(binds: knownKinds)) OR currency <> 'CNY' OR pending_debits_fen < 0
                   OR debits_blocked NOT IN (0, 1)
                   OR (kind IN (\(binds: negativeKinds)) AND may_go_negative <> 1)
                   OR (kind NOT IN (\(binds: negativeKinds)) AND may_go_negative <> 0)
                LIMIT 1
                """ }, describe: { row in
                "account \(try id(row)) (kind \(try row.decode(column: "kind", as: String.self))) has an unknown kind, a currency other than CNY, negative pending debits or flags that do not match its kind"
            }),
            LedgerCheck(name: "transfer shape", query: { """
                SELECT t.id FROM ledger_transfers t
                WHERE t.amount_fen <= 0 OR t.debit_account_id = t.credit_account_id
                   OR NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = t.debit_account_id)
                   OR NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = t.credit_account_id)
                LIMIT 1
                """ }, describe: { row in
                "transfer \(try id(row)) has a non-positive amount, the same account on both sides or an unknown account"
            }),
            LedgerCheck(name: "hold shape", query: { """
                SELECT h.id FROM ledger_holds h
                WHERE h.amount_fen <= 0 OR h.debit_account_id = h.credit_account_id OR h.state NOT IN (\(binds: states))
                   OR (h.state = \(bind: pending)) <> (h.closed_at_ms IS NULL)
                   OR NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = h.debit_account_id)
                   OR NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = h.credit_account_id)
                LIMIT 1
                """ }, describe: { row in
                "hold \(try id(row)) has a non-positive amount, the same account on both sides, an unknown state or account, or a close time that does not match its state"
            }),
            LedgerCheck(name: "conservation", query: { """
                SELECT COUNT(*) AS accounts,
                       CAST(COALESCE(SUM(posted_fen), 0) + (SELECT COALESCE(SUM(delta_fen), 0) FROM ledger_balance_deltas) AS TEXT) AS total
                FROM ledger_accounts
                HAVING COALESCE(SUM(posted_fen), 0) + (SELECT COALESCE(SUM(delta_fen), 0) FROM ledger_balance_deltas) <> 0
                """ }, describe: { row in
                "the balances of all \(try row.decode(column: "accounts", as: Int64.self)) accounts sum to \(try row.decode(column: "total", as: String.self)) fen, not 0"
            }),
            LedgerCheck(name: "balance deltas", query: { """
                SELECT d.id FROM ledger_balance_deltas d
                WHERE d.delta_fen = 0 OR NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = d.account_id AND a.kind IN (\(binds: deferringKinds)))
                LIMIT 1
                """ }, describe: { row in
                "balance delta \(try id(row)) is zero or belongs to an account whose kind keeps its balance in its row"
            }),
            LedgerCheck(name: "balance = transfers", query: { """
                SELECT a.id, CAST(a.posted_fen + COALESCE(x.total, 0) AS TEXT) AS balance,
                       CAST(COALESCE(c.total, 0) - COALESCE(d.total, 0) AS TEXT) AS computed
                FROM ledger_accounts a
                LEFT JOIN (SELECT credit_account_id AS account_id, SUM(amount_fen) AS total FROM ledger_transfers GROUP BY credit_account_id) c
                    ON c.account_id = a.id
                LEFT JOIN (SELECT debit_account_id AS account_id, SUM(amount_fen) AS total FROM ledger_transfers GROUP BY debit_account_id) d
                    ON d.account_id = a.id
                LEFT JOIN (SELECT account_id, SUM(delta_fen) AS total FROM ledger_balance_deltas GROUP BY account_id) x
                    ON x.account_id = a.id
                WHERE a.posted_fen + COALESCE(x.total, 0) <> COALESCE(c.total, 0) - COALESCE(d.total, 0)
                LIMIT 1
                """ }, describe: { row in
                "account \(try id(row)) stores a balance of \(try row.decode(column: "balance", as: String.self)) fen but its transfers sum to \(try row.decode(column: "computed", as: String.self)) fen"
            }),
            LedgerCheck(name: "pending = pending holds", query: { """
                SELECT a.id, a.pending_debits_fen, CAST(COALESCE(h.total, 0) AS TEXT) AS computed
                FROM ledger_accounts a
                LEFT JOIN (SELECT debit_account_id AS account_id, SUM(amount_fen) AS total FROM ledger_holds
                           WHERE state = \(bind: pending) GROUP BY debit_account_id) h
                    ON h.account_id = a.id
                WHERE a.pending_debits_fen <> COALESCE(h.total, 0)
                LIMIT 1
                """ }, describe: { row in
                "account \(try id(row)) stores \(try row.decode(column: "pending_debits_fen", as: Int64.self)) fen of pending debits but its pending holds sum to \(try row.decode(column: "computed", as: String.self)) fen"
            }),
            LedgerCheck(name: "no overdraft", query: { """
                SELECT id, kind, posted_fen, pending_debits_fen FROM ledger_accounts
                WHERE may_go_negative = 0 AND posted_fen - pending_debits_fen < 0
                LIMIT 1
                """ }, describe: { row in
                "account \(try id(row)) (\(try row.decode(column: "kind", as: String.self))) may not go negative but has \(try row.decode(column: "posted_fen", as: Int64.self)) fen posted and \(try row.decode(column: "pending_debits_fen", as: Int64.self)) fen pending"
            }),
        ] + [("transfer", "ledger_transfers"), ("hold", "ledger_holds")].map { noun, table in
            LedgerCheck(name: "\(noun) references", query: { """
                SELECT t.id, t.reference_type, t.reference_id FROM \(unsafeRaw: table) t
                WHERE NOT EXISTS (SELECT 1 FROM ledger_references r
                                  WHERE r.reference_type = t.reference_type AND r.reference_id = t.reference_id)
                LIMIT 1
                """ }, describe: { row in
                "\(noun) \(try id(row)) references \(try row.decode(column: "reference_type", as: String.self)) \(try row.decode(column: "reference_id", as: String.self)), which is not a registered business object"
            })
        } + [
            // Every reversal undoes an existing, non-reversal transfer: accounts swapped, same amount.
            LedgerCheck(name: "reversals mirror", query: { """
                SELECT r.id, r.reverses_transfer_id FROM ledger_transfers r
                LEFT JOIN ledger_transfers o ON o.id = r.reverses_transfer_id
                WHERE r.reverses_transfer_id IS NOT NULL
                  AND (o.id IS NULL OR o.debit_account_id <> r.credit_account_id OR o.credit_account_id <> r.debit_account_id
                       OR o.amount_fen <> r.amount_fen OR o.reverses_transfer_id IS NOT NULL)
                LIMIT 1
                """ }, describe: { row in
                "reversal \(try id(row)) does not mirror transfer \(try row.decode(column: "reverses_transfer_id", as: String.self)): it is missing, is itself a reversal, or has other accounts or another amount"
            }),
            // Every hold posting belongs to a posted hold, on its accounts, for at most its amount.
            LedgerCheck(name: "hold postings", query: { """
                SELECT t.id, t.hold_id FROM ledger_transfers t
                LEFT JOIN ledger_holds h ON h.id = t.hold_id
                WHERE t.hold_id IS NOT NULL
                  AND (h.id IS NULL OR h.state <> \(bind: posted) OR h.debit_account_id <> t.debit_account_id
                       OR h.credit_account_id <> t.credit_account_id OR t.amount_fen > h.amount_fen)
                LIMIT 1
                """ }, describe: { row in
                "transfer \(try id(row)) claims to post hold \(try row.decode(column: "hold_id", as: String.self)), which is missing, not posted, on other accounts or smaller"
            }),
            // Every posted hold has its transfer.
            LedgerCheck(name: "posted holds posted", query: { """
                SELECT h.id FROM ledger_holds h
                WHERE h.state = \(bind: posted) AND NOT EXISTS (SELECT 1 FROM ledger_transfers t WHERE t.hold_id = h.id)
                LIMIT 1
                """ }, describe: { row in
                "hold \(try id(row)) is posted but no transfer posts it"
            }),
        ]
    }()
}

extension StoreTx {
    /// Runs every check in order; the first violation found is the verdict.
    func ledgerVerdict() async throws -> LedgerVerdict {
        for check in LedgerCheck.all {
            if let row = try await sql.raw(check.query()).first() {
                return .violated(try check.describe(row))
            }
        }
        let accounts = try await sql.raw("SELECT COUNT(*) AS n FROM ledger_accounts").first()?.decode(column: "n", as: Int64.self) ?? 0
        let transfers = try await sql.raw("SELECT COUNT(*) AS n FROM ledger_transfers").first()?.decode(column: "n", as: Int64.self) ?? 0
        return .ok(accounts: accounts, transfers: transfers)
    }
}
