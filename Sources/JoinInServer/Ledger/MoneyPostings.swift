import Foundation
import JoinInAPI
import JoinInCore
import JoinInStore

/// The common shape of a card money operation, shared by the counter, the e-card and POS payments:
/// which of the card's accounts may move money, the daily limits, and the posting tail (register
/// the business object, post, audit, answer).
enum MoneyPostings {
    static func account(_ account: LedgerAccountRecord) throws -> Schemas.Account {
        Schemas.Account(kind: try API.value(account.kind), balance: API.money(account.postedFen),
                        available: API.money(account.postedFen - account.pendingDebitsFen), debitsBlocked: account.debitsBlocked)
    }

    /// The card must be active (a lost card stops every debit); `financial` needs financial functions.
    static func cardAccount(_ tx: StoreTx, card: CardRecord, kind: AccountKind, nowMs: Int64) async throws -> LedgerAccountRecord {
        try MoneyRules.checkCardAccount(status: card.cardStatus, statusText: card.status, financialEnabled: card.financialEnabledAtMs != nil,
                                        kind: kind)
        return try await tx.openAccount(kind: kind, ownerType: "person", ownerID: card.personId, atMs: nowMs)
    }

    /// The common tail of a money operation: register it as the business object its transfer
    /// pays for, post the transfer, audit, and answer with the account the caller cares about.
    struct Movement {
        let operation: String
        let referenceType: String
        let transferKind: String
        let debit: LedgerAccountRecord
        let credit: LedgerAccountRecord
        let amountFen: Int64
        let shown: LedgerAccountRecord
    }

    static func execute(_ tx: StoreTx, _ movement: Movement, id: String, actor: String, action: String, cardNumber: String,
                 detail: String, nowMs: Int64) async throws -> Reply {
        let (transfers, balances) = try await tx.registerAndPost(
            referenceType: movement.referenceType, referenceID: id,
            [Posting(debit: movement.debit.id, credit: movement.credit.id, amountFen: movement.amountFen,
                     kind: movement.transferKind, referenceType: movement.referenceType, referenceID: id)],
            atMs: nowMs)
        try await Inbox.noteDebit(tx, account: movement.debit, amountFen: movement.amountFen,
                                  what: MoneyController.describe(kind: movement.transferKind, incoming: false, reversal: false), nowMs: nowMs)
        // Money into a transit wallet pays the holder's transit debt first (issue 9).
        let repaysDebt = AccountKind(rawValue: movement.credit.kind) == .transitWallet
        if repaysDebt {
            try await TransitBilling.settleDebt(tx, personID: movement.credit.ownerId, nowMs: nowMs)
        }
        try await tx.appendAudit(actor: actor, action: action, objectType: "card", objectID: cardNumber,
                                 detail: "operation=\(id) fen=\(movement.amountFen)\(detail.isEmpty ? "" : " " + detail)", atMs: nowMs)
        // The posting's own balance, unless a debt repayment may have moved the wallet since.
        let updated = repaysDebt ? try await tx.account(id: movement.shown.id) ?? movement.shown
            : balances[movement.shown.id].map { movement.shown.with(balance: $0) } ?? movement.shown
        return try .json(Schemas.MoneyOperation(operationId: id, kind: try API.value(movement.operation), amount: API.money(movement.amountFen),
                                                account: try account(updated), transferIds: transfers.map(\.id)))
    }

    /// Refuses an amount that would take the day's total of `limit`'s transfers from the account
    /// past the limit. The caller has locked the account first, so concurrent operations cannot
    /// both pass.
    static func checkDailyLimit(_ tx: StoreTx, _ limit: MoneyRules.DailyLimit, accountID: String, amountFen: Int64,
                                day: CivilDate) async throws {
        let window = day.shanghaiDayMs
        let used = try await tx.debitedFen(accountID: accountID, kind: limit.transferKind, fromMs: window.lowerBound, toMs: window.upperBound)
        try LedgerRules.checkDailyLimit(usedFen: used, amountFen: amountFen, limitFen: limit.limitFen, what: limit.what)
    }
}
