public import JoinInCore
import Foundation
import SQLKit

public struct LedgerAccountRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let kind: String
    public let ownerType: String
    public let ownerId: String
    public let currency: String
    public let mayGoNegative: Bool
    public let debitsBlocked: Bool
    /// Σ credits − Σ debits of the account's transfers.
    public let postedFen: Int64
    /// Σ of the account's pending holds.
    public let pendingDebitsFen: Int64
    public let createdAtMs: Int64

    public var accountKind: AccountKind? { AccountKind(rawValue: kind) }
    public var availableFen: Int64 { balance.available }
    public var balance: AccountBalance {
        AccountBalance(posted: postedFen, pendingDebits: pendingDebitsFen, mayGoNegative: mayGoNegative, debitsBlocked: debitsBlocked)
    }

    /// The same account with `balance` (a balance the ledger just stored), without reading it back.
    public func with(balance: AccountBalance) -> LedgerAccountRecord {
        LedgerAccountRecord(id: id, kind: kind, ownerType: ownerType, ownerId: ownerId, currency: currency, mayGoNegative: balance.mayGoNegative,
                            debitsBlocked: balance.debitsBlocked, postedFen: balance.posted, pendingDebitsFen: balance.pendingDebits,
                            createdAtMs: createdAtMs)
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, ownerType, ownerId, currency, mayGoNegative, debitsBlocked, postedFen, pendingDebitsFen, createdAtMs
    }

    init(id: String, kind: String, ownerType: String, ownerId: String, currency: String, mayGoNegative: Bool,
         debitsBlocked: Bool, postedFen: Int64, pendingDebitsFen: Int64, createdAtMs: Int64) {
        self.id = id
        self.kind = kind
        self.ownerType = ownerType
        self.ownerId = ownerId
        self.currency = currency
        self.mayGoNegative = mayGoNegative
        self.debitsBlocked = debitsBlocked
        self.postedFen = postedFen
        self.pendingDebitsFen = pendingDebitsFen
        self.createdAtMs = createdAtMs
    }

    /// Flags are stored as BIGINT 0/1.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(String.self, forKey: .id),
            kind: try container.decode(String.self, forKey: .kind),
            ownerType: try container.decode(String.self, forKey: .ownerType),
            ownerId: try container.decode(String.self, forKey: .ownerId),
            currency: try container.decode(String.self, forKey: .currency),
            mayGoNegative: try container.decode(Int64.self, forKey: .mayGoNegative) != 0,
            debitsBlocked: try container.decode(Int64.self, forKey: .debitsBlocked) != 0,
            postedFen: try container.decode(Int64.self, forKey: .postedFen),
            pendingDebitsFen: try container.decode(Int64.self, forKey: .pendingDebitsFen),
            createdAtMs: try container.decode(Int64.self, forKey: .createdAtMs))
    }
}

public struct LedgerTransferRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let debitAccountId: String
    public let creditAccountId: String
    public let amountFen: Int64
    public let kind: String
    public let referenceType: String
    public let referenceId: String
    /// Set on a reversal: the transfer it undoes.
    public let reversesTransferId: String?
    /// Set on the transfer that posted a hold.
    public let holdId: String?
    public let createdAtMs: Int64

    public var cursor: PageCursor { PageCursor(timeMs: createdAtMs, id: id) }
}

public struct LedgerHoldRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let debitAccountId: String
    public let creditAccountId: String
    public let amountFen: Int64
    public let kind: String
    public let referenceType: String
    public let referenceId: String
    public let state: String
    public let expiresAtMs: Int64
    public let createdAtMs: Int64
    public let closedAtMs: Int64?

    public var holdState: HoldState? { HoldState(rawValue: state) }

    /// The transfer the hold reserves.
    public var terms: Posting {
        Posting(debit: debitAccountId, credit: creditAccountId, amountFen: amountFen, kind: kind,
                referenceType: referenceType, referenceID: referenceId)
    }
}

/// A business object transfers may point at.
struct LedgerReference: Hashable, Comparable {
    let type: String
    let id: String

    static func < (lhs: Self, rhs: Self) -> Bool { (lhs.type, lhs.id) < (rhs.type, rhs.id) }
}

private struct LedgerBalanceRow: Decodable {
    let id: String
    let kind: String
    let mayGoNegative: Int64
    let debitsBlocked: Int64
    let postedFen: Int64
    let pendingDebitsFen: Int64

    var balance: AccountBalance {
        AccountBalance(posted: postedFen, pendingDebits: pendingDebitsFen, mayGoNegative: mayGoNegative != 0, debitsBlocked: debitsBlocked != 0)
    }
}

extension StoreTx {
    /// Bind parameters per statement for multi-row statements. PostgreSQL: the 16-bit count of its
    /// Bind message. SQLite: far below its 32,766 limit, because SQLite before 3.48 compiles a
    /// multi-row VALUES list at a cost growing faster than its rows (measured with 3.40.1, ten
    /// columns: 3,000 rows per statement 35k rows/s, 500 rows 147k rows/s); 4,000 binds is 400
    /// such rows, and the statement text stays small enough for the prepared-statement cache.
    public var bindParametersMax: Int { engine == .sqlite ? 4_000 : 65_535 }

    /// On PostgreSQL, rows a write reads in order to change are locked (always accounts in id
    /// order, holds before accounts), so concurrent writers queue instead of deadlocking; a
    /// SERIALIZABLE loser then fails fast and is retried. SQLite has one writer and no row locks.
    var lockForUpdate: String { engine == .postgres ? " FOR UPDATE" : "" }

    /// Splits `items` so each statement stays under the engine's bind-parameter limit.
    func chunked<T>(_ items: [T], bindsPerItem: Int) -> [ArraySlice<T>] {
        let size = max(1, bindParametersMax / bindsPerItem)
        return stride(from: 0, to: items.count, by: size).map { items[$0..<min($0 + size, items.count)] }
    }

    /// Time-ordered (UUIDv7) so new transfers, holds and accounts append to their key index.
    private static func newLedgerID(atMs: Int64) -> String { TimeOrderedID.make(unixMs: atMs) }

    // MARK: accounts

    /// The account of `kind` owned by (ownerType, ownerID), opened on first use: calling it again
    /// returns the same account. Whether it may go negative follows from its kind.
    public func openAccount(kind: AccountKind, ownerType: String, ownerID: String, atMs: Int64) async throws -> LedgerAccountRecord {
        if let existing = try await account(kind: kind, ownerType: ownerType, ownerID: ownerID) {
            return existing
        }
        let record = LedgerAccountRecord(
            id: Self.newLedgerID(atMs: atMs), kind: kind.rawValue, ownerType: ownerType, ownerId: ownerID, currency: "CNY",
            mayGoNegative: kind.mayGoNegative, debitsBlocked: false, postedFen: 0, pendingDebitsFen: 0, createdAtMs: atMs)
        try await sql.raw("""
            INSERT INTO ledger_accounts (id, kind, owner_type, owner_id, currency, may_go_negative, debits_blocked,
                posted_fen, pending_debits_fen, created_at_ms)
            VALUES (\(bind: record.id), \(bind: record.kind), \(bind: ownerType), \(bind: ownerID), \(bind: record.currency),
                \(bind: kind.mayGoNegative.storedFlag), \(bind: Int64(0)), \(bind: Int64(0)), \(bind: Int64(0)), \(bind: atMs))
            """).run()
        return record
    }

    public func account(id: String) async throws -> LedgerAccountRecord? {
        try await sql.raw("SELECT \(unsafeRaw: Self.accountColumns) FROM ledger_accounts a WHERE a.id = \(bind: id)").firstRecord(LedgerAccountRecord.self)
    }

    public func account(kind: AccountKind, ownerType: String, ownerID: String) async throws -> LedgerAccountRecord? {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.accountColumns) FROM ledger_accounts a
            WHERE a.owner_type = \(bind: ownerType) AND a.owner_id = \(bind: ownerID) AND a.kind = \(bind: kind.rawValue)
            """).firstRecord(LedgerAccountRecord.self)
    }

    /// The accounts of `kind` of many owners of one type, opened where missing; by owner id.
    public func openAccounts(kind: AccountKind, ownerType: String, ownerIDs: Set<String>, atMs: Int64) async throws -> [String: LedgerAccountRecord] {
        var found: [String: LedgerAccountRecord] = [:]
        for chunk in chunked(ownerIDs.sorted(), bindsPerItem: 1) {
            for account in try await sql.raw("""
                SELECT \(unsafeRaw: Self.accountColumns) FROM ledger_accounts a
                WHERE a.owner_type = \(bind: ownerType) AND a.kind = \(bind: kind.rawValue) AND a.owner_id IN (\(binds: Array(chunk)))
                """).allRecords(LedgerAccountRecord.self) {
                found[account.ownerId] = account
            }
        }
        for owner in ownerIDs.sorted() where found[owner] == nil {
            found[owner] = try await openAccount(kind: kind, ownerType: ownerType, ownerID: owner, atMs: atMs)
        }
        return found
    }

    /// Every account of one owner, by kind.
    public func accounts(ownerType: String, ownerID: String) async throws -> [LedgerAccountRecord] {
        try await sql.raw("""
            SELECT \(unsafeRaw: Self.accountColumns) FROM ledger_accounts a
            WHERE a.owner_type = \(bind: ownerType) AND a.owner_id = \(bind: ownerID) ORDER BY a.kind
            """).allRecords(LedgerAccountRecord.self)
    }

    /// Blocks (a lost card) or unblocks debits on one account; reversals and credits still post.
    public func setDebitsBlocked(accountID: String, blocked: Bool) async throws {
        let rows = try await sql.raw("""
            UPDATE ledger_accounts SET debits_blocked = \(bind: blocked.storedFlag) WHERE id = \(bind: accountID) RETURNING id
            """).all()
        guard rows.count == 1 else { throw DomainError.rule("ledger.account_not_found", "no ledger account \(accountID)") }
    }

    /// Blocks or unblocks debits on every account of one owner; returns how many accounts it touched.
    @discardableResult
    public func setDebitsBlocked(ownerType: String, ownerID: String, blocked: Bool) async throws -> Int {
        try await sql.raw("""
            UPDATE ledger_accounts SET debits_blocked = \(bind: blocked.storedFlag)
            WHERE owner_type = \(bind: ownerType) AND owner_id = \(bind: ownerID) RETURNING id
            """).all().count
    }

    // MARK: references

    /// Registers the business object (type, id) that transfers may point at, in the transaction
    /// that creates it. Idempotent; true when it was not registered before.
    @discardableResult
    public func registerReference(type: String, id: String, atMs: Int64) async throws -> Bool {
        try await sql.raw("""
            INSERT INTO ledger_references (reference_type, reference_id, created_at_ms)
            VALUES (\(bind: type), \(bind: id), \(bind: atMs))
            ON CONFLICT (reference_type, reference_id) DO NOTHING RETURNING reference_id
            """).all().count == 1
    }

    /// Registers many new business objects of one type at once (ids never registered before).
    public func registerReferences(type: String, ids: [String], atMs: Int64) async throws {
        for chunk in chunked(ids, bindsPerItem: 3) {
            var query = SQLQueryString("INSERT INTO ledger_references (reference_type, reference_id, created_at_ms) VALUES")
            query.appendRows(chunk) { id in [type, id, atMs] }
            try await sql.raw(query).run()
        }
    }

    public func referenceExists(type: String, id: String) async throws -> Bool {
        try await sql.raw("""
            SELECT reference_id FROM ledger_references WHERE reference_type = \(bind: type) AND reference_id = \(bind: id)
            """).first() != nil
    }

    /// Refuses transfers that would point at an unregistered business object.
    func requireReferences(_ references: Set<LedgerReference>) async throws {
        let wanted = references.sorted()
        var found = Set<LedgerReference>()
        for chunk in chunked(wanted, bindsPerItem: 2) {
            var query = SQLQueryString("SELECT r.reference_type, r.reference_id FROM ledger_references r JOIN (VALUES")
            query.appendRows(chunk) { [$0.type, $0.id] }
            query.appendLiteral(") AS v ON r.reference_type = v.column1 AND r.reference_id = v.column2")
            for row in try await sql.raw(query).all() {
                found.insert(LedgerReference(type: try row.decode(column: "reference_type", as: String.self),
                                             id: try row.decode(column: "reference_id", as: String.self)))
            }
        }
        if let missing = wanted.first(where: { !found.contains($0) }) {
            throw DomainError.rule("ledger.reference_not_found",
                                   "transfers must point at a registered business object; \(missing.type) \(missing.id) is not registered")
        }
    }

    // MARK: balances

    /// The balances of `ids`, read in one query (per bind-parameter chunk) in id order and, on
    /// PostgreSQL, locked. Unknown ids are simply absent (the rules then refuse the posting).
    /// Locks the accounts' rows until the transaction ends (PostgreSQL `FOR UPDATE`, ascending id
    /// order; SQLite's single writer holds everything already). Take it before reading anything a
    /// decision depends on, such as the day's debits for a daily limit.
    public func lockAccounts(_ ids: Set<String>) async throws {
        // SQLite's single writer holds everything already. Deferred accounts (branch vaults) are
        // not locked: no decision reads their balance.
        guard engine == .postgres else { return }
        _ = try await balances(of: ids.subtracting(DeferredBalances.filter(ids)))
    }

    /// `balances(of:)` for callers that decide on the balances (locked on PostgreSQL).
    public func lockedBalances(_ ids: Set<String>) async throws -> [String: AccountBalance] {
        try await balances(of: ids)
    }

    func balances(of ids: Set<String>) async throws -> [String: AccountBalance] {
        var result: [String: AccountBalance] = [:]
        result.reserveCapacity(ids.count)
        for chunk in chunked(ids.sorted(), bindsPerItem: 1) {
            let rows = try await sql.raw("""
                SELECT id, kind, may_go_negative, debits_blocked, posted_fen, pending_debits_fen FROM ledger_accounts
                WHERE id IN (\(binds: Array(chunk))) ORDER BY id\(unsafeRaw: lockForUpdate)
                """).allRecords(LedgerBalanceRow.self)
            for row in rows {
                result[row.id] = row.balance
                if AccountKind(rawValue: row.kind)?.defersBalance == true { DeferredBalances.learn(row.id) }
            }
        }
        return result
    }

    /// Writes every changed balance once, as a compare-and-set against the balance that was read:
    /// a row that changed underneath (impossible: SQLite has one writer, PostgreSQL runs
    /// SERIALIZABLE or holds the rows' locks from `balances(of:)`) fails the write.
    func storeBalances(from before: [String: AccountBalance], to after: [String: AccountBalance]) async throws {
        let changed = after.keys.sorted().compactMap { id -> (id: String, old: AccountBalance, new: AccountBalance)? in
            guard let old = before[id], let new = after[id],
                  old.posted != new.posted || old.pendingDebits != new.pendingDebits else { return nil }
            return (id, old, new)
        }
        for chunk in chunked(changed, bindsPerItem: 5) {
            var query = SQLQueryString("UPDATE ledger_accounts SET posted_fen = v.column4, pending_debits_fen = v.column5 FROM (VALUES")
            query.appendRows(chunk) { change in [change.id, change.old.posted, change.old.pendingDebits, change.new.posted, change.new.pendingDebits] }
            query.appendLiteral("""
                ) AS v WHERE ledger_accounts.id = v.column1 AND ledger_accounts.posted_fen = v.column2
                AND ledger_accounts.pending_debits_fen = v.column3 RETURNING id
                """)
            let updated = try await sql.raw(query).all().count
            guard updated == chunk.count else {
                throw StoreError.corrupt("ledger: \(chunk.count - updated) account balance(s) changed underneath the transaction")
            }
        }
        #if DEBUG
        // Debug builds assert the invariants on every touched account before commit.
        let stored = try await balances(of: Set(changed.map(\.id)))
        for change in changed {
            guard let balance = stored[change.id], balance.posted == change.new.posted,
                  balance.pendingDebits == change.new.pendingDebits else {
                throw StoreError.corrupt("ledger: account \(change.id) did not store its new balance")
            }
            guard balance.pendingDebits >= 0, balance.mayGoNegative || balance.available >= 0 else {
                throw StoreError.corrupt("ledger: account \(change.id) would commit posted \(balance.posted) fen, pending \(balance.pendingDebits) fen")
            }
        }
        #endif
    }

    // MARK: transfers

    /// Posts `postings` atomically (all or none) with the caller's other changes: validates them,
    /// checks their references are registered, loads the involved accounts in one query, applies
    /// `LedgerRules` (every prefix of the batch must be valid), inserts the transfers with
    /// multi-row INSERTs and updates each touched balance once. At most 8,000 postings per call.
    @discardableResult
    public func post(_ postings: [Posting], atMs: Int64) async throws -> [LedgerTransferRecord] {
        try await post(postings, registered: nil, atMs: atMs).transfers
    }

    /// Registers the business object (`referenceType`, `referenceID`) as `registerReference` does
    /// and posts `postings`, which must all point at it: the registration is not read back (this
    /// transaction just made or found it), and the touched accounts' new balances come back with
    /// the transfers, so the caller need not read them again. Two statements fewer per operation.
    public func registerAndPost(referenceType: String, referenceID: String, _ postings: [Posting],
                                atMs: Int64) async throws -> (transfers: [LedgerTransferRecord], balances: [String: AccountBalance]) {
        let reference = LedgerReference(type: referenceType, id: referenceID)
        guard postings.allSatisfy({ LedgerReference(type: $0.referenceType, id: $0.referenceID) == reference }) else {
            throw StoreError.corrupt("ledger: a posting points at another business object than the one registered with it")
        }
        _ = try await registerReference(type: referenceType, id: referenceID, atMs: atMs)
        return try await post(postings, registered: reference, atMs: atMs)
    }

    private func post(_ postings: [Posting], registered: LedgerReference?,
                      atMs: Int64) async throws -> (transfers: [LedgerTransferRecord], balances: [String: AccountBalance]) {
        guard postings.count <= LedgerRules.batchSizeMax else {
            throw DomainError.malformed("ledger.batch_too_large", "at most \(LedgerRules.batchSizeMax) postings per call, got \(postings.count)")
        }
        guard !postings.isEmpty else { return ([], [:]) }
        for posting in postings {
            try LedgerRules.validate(posting)
            // A reversal may debit a blocked account, so it only comes from `reverse`, which links it
            // to the transfer it undoes.
            guard !posting.isReversal else {
                throw DomainError.malformed("ledger.reversal_not_allowed", "a reversal is posted with reverse(transferID:), not as a new posting")
            }
        }
        let references = Set(postings.map { LedgerReference(type: $0.referenceType, id: $0.referenceID) })
        if registered == nil || references != [registered] {
            try await requireReferences(references)
        }
        var ids = Set<String>()
        for posting in postings {
            ids.insert(posting.debitAccountID)
            ids.insert(posting.creditAccountID)
        }
        // On PostgreSQL deferred accounts (see `DeferredBalances`) are neither read nor locked:
        // their change is stored as a delta row. The rest are read (locked) and updated. SQLite's
        // single writer has no lock to spread, and an update of all rows is one statement.
        let deferred = engine == .postgres ? DeferredBalances.filter(ids) : []
        let before = try await balances(of: ids.subtracting(deferred))
        var assumed = before
        for id in deferred { assumed[id] = DeferredBalances.placeholder }
        var after = try LedgerRules.apply(postings: postings, to: assumed)
        let transfers = postings.map { posting in
            LedgerTransferRecord(id: Self.newLedgerID(atMs: atMs), debitAccountId: posting.debitAccountID, creditAccountId: posting.creditAccountID,
                                 amountFen: posting.amountFen, kind: posting.kind, referenceType: posting.referenceType,
                                 referenceId: posting.referenceID, reversesTransferId: nil, holdId: nil, createdAtMs: atMs)
        }
        try await insertTransfers(transfers)
        try await insertBalanceDeltas(deferred.sorted().map { ($0, after[$0]?.posted ?? 0) }, atMs: atMs)
        for id in deferred { after[id] = nil }
        try await storeBalances(from: before, to: after)
        return (transfers, after)
    }

    func insertTransfers(_ transfers: [LedgerTransferRecord]) async throws {
        for chunk in chunked(transfers, bindsPerItem: 10) {
            var query = SQLQueryString("""
                INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount_fen, kind, reference_type, reference_id,
                    reverses_transfer_id, hold_id, created_at_ms) VALUES
                """)
            query.appendRows(chunk) { transfer in
                [transfer.id, transfer.debitAccountId, transfer.creditAccountId, transfer.amountFen, transfer.kind, transfer.referenceType,
                 transfer.referenceId, transfer.reversesTransferId, transfer.holdId, transfer.createdAtMs]
            }
            try await sql.raw(query).run()
        }
    }

    public func transfer(id: String) async throws -> LedgerTransferRecord? {
        try await sql.raw("SELECT * FROM ledger_transfers WHERE id = \(bind: id)").firstRecord(LedgerTransferRecord.self)
    }

    /// The reversal of a transfer, if it was reversed.
    public func reversal(of transferID: String) async throws -> LedgerTransferRecord? {
        try await sql.raw("SELECT * FROM ledger_transfers WHERE reverses_transfer_id = \(bind: transferID)")
            .firstRecord(LedgerTransferRecord.self)
    }

    /// Every transfer that points at one business object, oldest first.
    public func transfers(referenceType: String, referenceID: String) async throws -> [LedgerTransferRecord] {
        try await sql.raw("""
            SELECT * FROM ledger_transfers WHERE reference_type = \(bind: referenceType) AND reference_id = \(bind: referenceID)
            ORDER BY created_at_ms, id
            """).allRecords(LedgerTransferRecord.self)
    }

    /// Undoes a transfer with a new one: same amount and reference, accounts swapped,
    /// `reverses_transfer_id` set. A transfer is reversed at most once and a reversal is not
    /// itself reversible (post the original again instead). Reversals may debit an account whose
    /// debits are blocked, but never below zero.
    @discardableResult
    public func reverse(transferID: String, kind: String, atMs: Int64) async throws -> LedgerTransferRecord {
        guard let original = try await transfer(id: transferID) else {
            throw DomainError.notFound("ledger.transfer_not_found", "no transfer \(transferID)")
        }
        guard original.reversesTransferId == nil else {
            throw DomainError.conflict("ledger.reversal_not_reversible", "transfer \(transferID) is itself a reversal and cannot be reversed")
        }
        if let existing = try await reversal(of: transferID) {
            throw DomainError.conflict("ledger.already_reversed", "transfer \(transferID) was already reversed by transfer \(existing.id)")
        }
        let posting = Posting(debit: original.creditAccountId, credit: original.debitAccountId, amountFen: original.amountFen,
                              kind: kind, referenceType: original.referenceType, referenceID: original.referenceId, isReversal: true)
        try await requireReferences([LedgerReference(type: posting.referenceType, id: posting.referenceID)])
        let before = try await balances(of: [posting.debitAccountID, posting.creditAccountID])
        let after = try LedgerRules.apply(postings: [posting], to: before)
        let record = LedgerTransferRecord(
            id: Self.newLedgerID(atMs: atMs), debitAccountId: posting.debitAccountID, creditAccountId: posting.creditAccountID,
            amountFen: posting.amountFen, kind: kind, referenceType: posting.referenceType, referenceId: posting.referenceID,
            reversesTransferId: original.id, holdId: nil, createdAtMs: atMs)
        try await insertTransfers([record])
        try await storeBalances(from: before, to: after)
        return record
    }

    /// An account's statement, newest first: transfers it is debited or credited by, before
    /// `cursor` (exclusive). Each side is read through its own (account, time) index.
    public func transfers(accountID: String, before cursor: PageCursor?, limit: Int) async throws -> [LedgerTransferRecord] {
        let (time, id) = cursor.map { ($0.timeMs, $0.id) } ?? (Int64.max, "")
        let limit = max(0, limit)
        return try await sql.raw("""
            SELECT * FROM (
                SELECT * FROM ledger_transfers WHERE debit_account_id = \(bind: accountID)
                    AND created_at_ms <= \(bind: time) AND (created_at_ms < \(bind: time) OR id < \(bind: id))
                ORDER BY created_at_ms DESC, id DESC LIMIT \(bind: limit)) AS d
            UNION ALL
            SELECT * FROM (
                SELECT * FROM ledger_transfers WHERE credit_account_id = \(bind: accountID)
                    AND created_at_ms <= \(bind: time) AND (created_at_ms < \(bind: time) OR id < \(bind: id))
                ORDER BY created_at_ms DESC, id DESC LIMIT \(bind: limit)) AS c
            ORDER BY created_at_ms DESC, id DESC LIMIT \(bind: limit)
            """).allRecords(LedgerTransferRecord.self)
    }

    // MARK: holds

    /// Reserves `terms.amountFen` on the debit account until the hold is posted, voided, or
    /// expires at `expiresAtMs` (then `voidExpiredHolds` voids it; it can no longer post).
    @discardableResult
    public func hold(_ terms: Posting, expiresAtMs: Int64, atMs: Int64) async throws -> LedgerHoldRecord {
        try LedgerRules.validate(terms)
        guard expiresAtMs > atMs else {
            throw DomainError.malformed("ledger.hold_expiry_invalid", "a hold must expire after it is placed (\(expiresAtMs) ≤ \(atMs))")
        }
        try await requireReferences([LedgerReference(type: terms.referenceType, id: terms.referenceID)])
        let before = try await balances(of: [terms.debitAccountID, terms.creditAccountID])
        let after = try LedgerRules.hold(terms, in: before)
        let record = LedgerHoldRecord(
            id: Self.newLedgerID(atMs: atMs), debitAccountId: terms.debitAccountID, creditAccountId: terms.creditAccountID,
            amountFen: terms.amountFen, kind: terms.kind, referenceType: terms.referenceType, referenceId: terms.referenceID,
            state: HoldState.pending.rawValue, expiresAtMs: expiresAtMs, createdAtMs: atMs, closedAtMs: nil)
        try await sql.raw("""
            INSERT INTO ledger_holds (id, debit_account_id, credit_account_id, amount_fen, kind, reference_type, reference_id,
                state, expires_at_ms, created_at_ms)
            VALUES (\(bind: record.id), \(bind: record.debitAccountId), \(bind: record.creditAccountId), \(bind: record.amountFen),
                \(bind: record.kind), \(bind: record.referenceType), \(bind: record.referenceId), \(bind: record.state),
                \(bind: expiresAtMs), \(bind: atMs))
            """).run()
        try await storeBalances(from: before, to: after)
        return record
    }

    public func hold(id: String) async throws -> LedgerHoldRecord? {
        try await sql.raw("SELECT * FROM ledger_holds WHERE id = \(bind: id)").firstRecord(LedgerHoldRecord.self)
    }

    /// The pending holds on an account (its debit side), oldest first.
    public func pendingHolds(accountID: String) async throws -> [LedgerHoldRecord] {
        try await sql.raw("""
            SELECT * FROM ledger_holds WHERE debit_account_id = \(bind: accountID) AND state = \(bind: HoldState.pending.rawValue)
            ORDER BY created_at_ms, id
            """).allRecords(LedgerHoldRecord.self)
    }

    /// A pending hold, locked on PostgreSQL; refused when it is missing, closed or (for posting) expired.
    private func pendingHold(id: String, postingAtMs: Int64?) async throws -> LedgerHoldRecord {
        guard let hold = try await sql.raw("SELECT * FROM ledger_holds WHERE id = \(bind: id)\(unsafeRaw: lockForUpdate)")
            .firstRecord(LedgerHoldRecord.self) else {
            throw DomainError.notFound("ledger.hold_not_found", "no hold \(id)")
        }
        guard hold.holdState == .pending else {
            throw DomainError.conflict("ledger.hold_not_pending", "hold \(id) is already \(hold.state)")
        }
        if let postingAtMs, postingAtMs >= hold.expiresAtMs {
            throw DomainError.conflict("ledger.hold_expired", "hold \(id) expired at \(hold.expiresAtMs) and can no longer be posted")
        }
        return hold
    }

    private func closeHold(id: String, as state: HoldState, atMs: Int64) async throws {
        let rows = try await sql.raw("""
            UPDATE ledger_holds SET state = \(bind: state.rawValue), closed_at_ms = \(bind: atMs)
            WHERE id = \(bind: id) AND state = \(bind: HoldState.pending.rawValue) RETURNING id
            """).all()
        guard rows.count == 1 else { throw DomainError.conflict("ledger.hold_not_pending", "hold \(id) is no longer pending") }
    }

    /// Posts a pending hold: `amountFen` (default: all of it; at most the held amount) moves from
    /// the debit to the credit account and the rest of the reservation is released.
    @discardableResult
    public func postHold(id: String, amountFen: Int64? = nil, atMs: Int64) async throws -> LedgerTransferRecord {
        let hold = try await pendingHold(id: id, postingAtMs: atMs)
        let terms = hold.terms
        let postedFen = amountFen ?? hold.amountFen
        try await requireReferences([LedgerReference(type: terms.referenceType, id: terms.referenceID)])
        let before = try await balances(of: [terms.debitAccountID, terms.creditAccountID])
        let after = try LedgerRules.postHold(terms, postedFen: postedFen, in: before)
        try await closeHold(id: id, as: .posted, atMs: atMs)
        let record = LedgerTransferRecord(
            id: Self.newLedgerID(atMs: atMs), debitAccountId: terms.debitAccountID, creditAccountId: terms.creditAccountID,
            amountFen: postedFen, kind: terms.kind, referenceType: terms.referenceType, referenceId: terms.referenceID,
            reversesTransferId: nil, holdId: id, createdAtMs: atMs)
        try await insertTransfers([record])
        try await storeBalances(from: before, to: after)
        return record
    }

    /// Voids a pending hold: the reservation is released, nothing moves.
    public func voidHold(id: String, atMs: Int64) async throws {
        let hold = try await pendingHold(id: id, postingAtMs: nil)
        let before = try await balances(of: [hold.debitAccountId, hold.creditAccountId])
        let after = try LedgerRules.voidHold(hold.terms, in: before)
        try await closeHold(id: id, as: .voided, atMs: atMs)
        try await storeBalances(from: before, to: after)
    }

    /// Voids up to `limit` pending holds that expired at or before `nowMs`, oldest expiry first;
    /// returns how many. Run it periodically, each call in its own write transaction.
    public func voidExpiredHolds(nowMs: Int64, limit: Int) async throws -> Int {
        let holds = try await sql.raw("""
            SELECT * FROM ledger_holds WHERE state = \(bind: HoldState.pending.rawValue) AND expires_at_ms <= \(bind: nowMs)
            ORDER BY expires_at_ms, id LIMIT \(bind: limit)\(unsafeRaw: lockForUpdate)
            """).allRecords(LedgerHoldRecord.self)
        guard !holds.isEmpty else { return 0 }
        var ids = Set<String>()
        for hold in holds {
            ids.insert(hold.debitAccountId)
            ids.insert(hold.creditAccountId)
        }
        let before = try await balances(of: ids)
        var after = before
        for hold in holds {
            after = try LedgerRules.voidHold(hold.terms, in: after)
        }
        for chunk in chunked(holds.map(\.id), bindsPerItem: 1) {
            let closed = try await sql.raw("""
                UPDATE ledger_holds SET state = \(bind: HoldState.voided.rawValue), closed_at_ms = \(bind: nowMs)
                WHERE state = \(bind: HoldState.pending.rawValue) AND id IN (\(binds: Array(chunk))) RETURNING id
                """).all().count
            guard closed == chunk.count else { throw StoreError.corrupt("ledger: an expired hold stopped being pending while locked") }
        }
        try await storeBalances(from: before, to: after)
        return holds.count
    }
}

extension Store {
    /// Checks every ledger invariant of DESIGN.md §6 in one consistent snapshot of a read
    /// connection (writers carry on meanwhile) and names the first violation found. On SQLite every
    /// read is already one transaction; PostgreSQL needs REPEATABLE READ for one snapshot.
    public func verifyLedger() async throws -> LedgerVerdict {
        try await read { tx in
            guard tx.engine == .postgres else { return try await tx.ledgerVerdict() }
            try await tx.sql.raw("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").run()
            do {
                let verdict = try await tx.ledgerVerdict()
                try await tx.sql.raw("COMMIT").run()
                return verdict
            } catch {
                try? await tx.sql.raw("ROLLBACK").run()
                throw error
            }
        }
    }
}
