import Foundation
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore

struct DepositBody: Decodable {
    let amountFen: Int64
    let account: AccountKind
}

struct WithdrawalBody: Decodable {
    let amountFen: Int64
    let pin: String
}

struct TopUpBody: Decodable {
    let amountFen: Int64
}

struct CardTransferBody: Decodable {
    let toCardNumber: String
    let amountFen: Int64
    let memo: String?
}

struct AccountDTO: Encodable {
    let kind: String
    let balance: MoneyDTO
    let available: MoneyDTO
    let debitsBlocked: Bool
}

struct MoneyOperationDTO: Encodable {
    let operationId: String
    let kind: String
    let amount: MoneyDTO
    let account: AccountDTO
    let transferIds: [String]
}

struct SystemAccountDTO: Encodable {
    let id: String
    let kind: String
    let ownerType: String
    let ownerId: String
    let balance: MoneyDTO
}

struct StatementLineDTO: Encodable {
    let transferId: String
    let at: String
    let kind: String
    let description: LocalizedName
    /// Positive when money came in, negative when it went out.
    let amount: MoneyDTO
    let reversesTransferId: String?
}

/// Money-moving operations of the card's financial functions (issue 4, first part): deposits,
/// transit-wallet top-ups, card-to-card transfers, balances and statements.
extension JoinIn {
    func registerMoney(_ r: inout RouteRegistrar) {
        r.on(.post, "/v1/cards/{card_number}/deposits") { request, context in
            try await deposit(request, number: try context.parameters.require("card_number"))
        }
        r.on(.post, "/v1/cards/{card_number}/withdrawals") { request, context in
            try await withdraw(request, number: try context.parameters.require("card_number"))
        }
        r.on(.get, "/v1/cards/{card_number}/accounts") { request, context in
            _ = try await auth.requireStaff(request, roles: [.bankClerk])
            let number = try context.parameters.require("card_number")
            let accounts = try await store.read { tx in
                try await tx.accounts(ownerType: "person", ownerID: try await existingCard(tx, number).personId)
            }
            return try JSON.response(Page(items: accounts.map(accountDTO), nextCursor: nil))
        }
        r.on(.get, "/v1/cards/{card_number}/accounts/{kind}/transfers") { request, context in
            _ = try await auth.requireStaff(request, roles: [.bankClerk])
            let number = try context.parameters.require("card_number")
            let personID = try await store.read { tx in try await existingCard(tx, number).personId }
            return try await statement(request, personID: personID, kindText: try context.parameters.require("kind"))
        }
        r.on(.get, "/v1/ecard/accounts") { request, _ in
            let holder = try await auth.requireCardholder(request)
            let accounts = try await store.read { tx in try await tx.accounts(ownerType: "person", ownerID: holder.personID) }
            return try JSON.response(Page(items: accounts.map(accountDTO), nextCursor: nil))
        }
        r.on(.get, "/v1/ecard/accounts/{kind}/transfers") { request, context in
            let holder = try await auth.requireCardholder(request)
            return try await statement(request, personID: holder.personID, kindText: try context.parameters.require("kind"))
        }
        r.on(.post, "/v1/ecard/wallet-top-ups") { request, _ in try await topUp(request) }
        r.on(.get, "/v1/system-accounts") { request, _ in
            _ = try await auth.requireStaff(request, roles: [.admin])
            let list = try ListParameters(request)
            // Ordered by id; the cursor wraps the last id like every other list's, so a value this
            // server did not issue is a 400, not an arbitrary string compared against ids.
            let after = try list.cursor.map(Self.pageCursor)?.id
            let rows = try await store.read { tx in try await tx.systemAccounts(afterID: after, limit: list.limit + 1) }
            let (page, next) = list.page(rows) { PageCursor(timeMs: 0, id: $0.id).encoded }
            return try JSON.response(Page(items: page.map {
                SystemAccountDTO(id: $0.id, kind: $0.kind, ownerType: $0.ownerType, ownerId: $0.ownerId,
                                 balance: MoneyDTO(amountFen: $0.postedFen, currency: "CNY"))
            }, nextCursor: next))
        }
        r.on(.post, "/v1/ecard/transfers") { request, _ in try await cardTransfer(request) }
    }

    func accountDTO(_ account: LedgerAccountRecord) -> AccountDTO {
        AccountDTO(kind: account.kind, balance: MoneyDTO(amountFen: account.postedFen, currency: "CNY"),
                   available: MoneyDTO(amountFen: account.postedFen - account.pendingDebitsFen, currency: "CNY"),
                   debitsBlocked: account.debitsBlocked)
    }

    /// The card must be active (a lost card stops every debit); `financial` needs financial functions.
    func cardAccount(_ tx: StoreTx, card: CardRecord, kind: AccountKind, nowMs: Int64) async throws -> LedgerAccountRecord {
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

    func execute(_ tx: StoreTx, _ movement: Movement, id: String, actor: String, action: String, cardNumber: String,
                 detail: String, nowMs: Int64) async throws -> Reply {
        try await tx.registerReference(type: movement.referenceType, id: id, atMs: nowMs)
        let transfers = try await tx.post([Posting(debit: movement.debit.id, credit: movement.credit.id, amountFen: movement.amountFen,
                                                   kind: movement.transferKind, referenceType: movement.referenceType, referenceID: id)],
                                          atMs: nowMs)
        try await tx.appendAudit(actor: actor, action: action, objectType: "card", objectID: cardNumber,
                                 detail: "operation=\(id) fen=\(movement.amountFen)\(detail.isEmpty ? "" : " " + detail)", atMs: nowMs)
        let updated = try await tx.account(id: movement.shown.id) ?? movement.shown
        return try .json(MoneyOperationDTO(operationId: id, kind: movement.operation, amount: MoneyDTO(amountFen: movement.amountFen, currency: "CNY"),
                                           account: accountDTO(updated), transferIds: transfers.map(\.id)))
    }

    /// Cash at a branch counter: the branch vault pays into the card's account.
    func deposit(_ request: Request, number: String) async throws -> Response {
        let clerk = try await auth.requireStaff(request, roles: [.bankClerk])
        guard let branchID = clerk.branchID else {
            throw DomainError.forbidden("auth.forbidden", "this bank clerk account is not bound to a branch")
        }
        let (body, bytes) = try await JSON.decode(DepositBody.self, from: request, limit: 16 * 1024)
        let amount = try MoneyRules.validatedAmount(body.amountFen)
        let now = nowMs
        let operationID = newID()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: clerk.auditName, nowMs: now,
                                           keyRequired: true, isolation: .lockedRows) { tx in
            let card = try await existingCard(tx, number)
            let target = try await cardAccount(tx, card: card, kind: body.account, nowMs: now)
            let vault = try await tx.openAccount(kind: .branchVault, ownerType: "branch", ownerID: branchID, atMs: now)
            return try await execute(tx, Movement(operation: "deposit", referenceType: "deposit", transferKind: "cash_deposit", debit: vault,
                                                  credit: target, amountFen: amount, shown: target),
                                     id: operationID, actor: clerk.auditName, action: "money.deposit", cardNumber: card.cardNumber,
                                     detail: "account=\(body.account.rawValue)", nowMs: now)
        }
    }

    /// Start of today (Asia/Shanghai) in Unix ms: daily limits and PIN counters reset at local midnight.
    var shanghaiDayStartMs: Int64 { (Int64(today.daysSinceEpoch) * 86_400 - 8 * 3600) * 1000 }

    /// Cash out at a branch counter: PIN checked (3 wrong PINs a day block withdrawals until the
    /// next day), daily limit, then the card's financial account pays the branch vault.
    func withdraw(_ request: Request, number: String) async throws -> Response {
        let clerk = try await auth.requireStaff(request, roles: [.bankClerk])
        guard let branchID = clerk.branchID else {
            throw DomainError.forbidden("auth.forbidden", "this bank clerk account is not bound to a branch")
        }
        let (body, bytes) = try await JSON.decode(WithdrawalBody.self, from: request, limit: 16 * 1024)
        let amount = try MoneyRules.validatedAmount(body.amountFen)
        _ = try Idempotency.key(from: request, required: true)
        let now = nowMs
        let dayStart = shanghaiDayStartMs
        let card = try await store.read { tx in try await existingCard(tx, number) }
        try await checkPIN(body.pin, card: card, actor: clerk.auditName, action: "money.withdraw")
        let operationID = newID()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: clerk.auditName, nowMs: now,
                                           keyRequired: true, isolation: .lockedRows) { tx in
            let current = try await existingCard(tx, number)
            let source = try await cardAccount(tx, card: current, kind: .financial, nowMs: now)
            let vault = try await tx.openAccount(kind: .branchVault, ownerType: "branch", ownerID: branchID, atMs: now)
            // Locked before the day's sum is read, so concurrent withdrawals cannot both pass the limit.
            try await tx.lockAccounts([source.id, vault.id])
            let withdrawnToday = try await tx.debitedFen(accountID: source.id, kind: "cash_withdrawal", fromMs: dayStart, toMs: dayStart + 86_400_000)
            try LedgerRules.checkDailyLimit(usedFen: withdrawnToday, amountFen: amount, limitFen: MoneyRules.withdrawalDailyLimitFen, what: "withdrawal")
            return try await execute(tx, Movement(operation: "withdrawal", referenceType: "withdrawal", transferKind: "cash_withdrawal",
                                                  debit: source, credit: vault, amountFen: amount, shown: source),
                                     id: operationID, actor: clerk.auditName, action: "money.withdraw", cardNumber: current.cardNumber,
                                     detail: "", nowMs: now)
        }
    }

    /// Checks the card's PIN before the operation's own write (bcrypt is slow and must not hold the
    /// writer). Wrong PINs are counted per card and Shanghai day; after 3 the PIN is blocked until
    /// tomorrow. The attempt is reserved in the write that checks the count, before bcrypt runs,
    /// and given back when the PIN was right: parallel guesses cannot outrun the counter.
    func checkPIN(_ pin: String, card: CardRecord, actor: String, action: String) async throws {
        let now = nowMs
        let counter = (key: "pin:\(card.cardNumber):\(today)", policy: AttemptPolicy.cap(MoneyRules.wrongPINsPerDayMax))
        let outcome = try await reserveAttempts([counter]) { tx, now in
            try await tx.appendAudit(actor: actor, action: action, objectType: "card", objectID: card.cardNumber,
                                     outcome: "denied", detail: "pin blocked", atMs: now)
        }
        guard case .reserved(let reservation) = outcome else {
            throw DomainError.rule("card.pin_blocked", "\(MoneyRules.wrongPINsPerDayMax) wrong PINs today: the PIN is blocked until tomorrow")
        }
        var verified = false
        if PinPolicy.isWellFormed(pin), let pinHash = card.pinHash {
            verified = try await PasswordHasher.verify(pin, hash: pinHash)
        }
        let right = verified
        let counters = try await store.write(isolation: .lockedRows) { tx in
            let counters = try await tx.resolve(reservation, right: right, nowMs: now)
            if !right {
                try await tx.appendAudit(actor: actor, action: action, objectType: "card", objectID: card.cardNumber,
                                         outcome: "denied", detail: "wrong pin", atMs: now)
            }
            return counters
        }
        if right { return }
        let left = max(0, MoneyRules.wrongPINsPerDayMax - (counters.first?.failures ?? MoneyRules.wrongPINsPerDayMax))
        throw DomainError.rule(left == 0 ? "card.pin_blocked" : "card.pin_invalid",
                               left == 0 ? "wrong PIN; the PIN is now blocked until tomorrow" : "wrong PIN; \(left) attempt(s) left today")
    }

    /// Financial account → transit wallet, by the cardholder.
    func topUp(_ request: Request) async throws -> Response {
        let holder = try await auth.requireCardholder(request)
        let (body, bytes) = try await JSON.decode(TopUpBody.self, from: request, limit: 16 * 1024)
        let amount = try MoneyRules.validatedAmount(body.amountFen)
        let now = nowMs
        let operationID = newID()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: holder.auditName, nowMs: now,
                                           keyRequired: true, isolation: .lockedRows) { tx in
            guard let card = try await tx.liveCard(personID: holder.personID) else {
                throw DomainError.rule("card.not_active", "you have no active card")
            }
            let source = try await cardAccount(tx, card: card, kind: .financial, nowMs: now)
            let wallet = try await cardAccount(tx, card: card, kind: .transitWallet, nowMs: now)
            return try await execute(tx, Movement(operation: "wallet_top_up", referenceType: "top_up", transferKind: "wallet_top_up",
                                                  debit: source, credit: wallet, amountFen: amount, shown: wallet),
                                     id: operationID, actor: holder.auditName, action: "money.top_up", cardNumber: card.cardNumber,
                                     detail: "", nowMs: now)
        }
    }

    /// Card-to-card, financial to financial, with a daily limit per sending account.
    func cardTransfer(_ request: Request) async throws -> Response {
        let holder = try await auth.requireCardholder(request)
        let (body, bytes) = try await JSON.decode(CardTransferBody.self, from: request, limit: 16 * 1024)
        let amount = try MoneyRules.validatedAmount(body.amountFen)
        let recipientNumber = try CardNumber(validating: body.toCardNumber)
        let memo = try PermitRules.validatedReason(body.memo, field: "memo", required: false) ?? ""
        let now = nowMs
        let dayStart = shanghaiDayStartMs
        let operationID = newID()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: holder.auditName, nowMs: now,
                                           keyRequired: true, isolation: .lockedRows) { tx in
            guard let card = try await tx.liveCard(personID: holder.personID) else {
                throw DomainError.rule("card.not_active", "you have no active card")
            }
            let source = try await cardAccount(tx, card: card, kind: .financial, nowMs: now)
            let recipient = try await tx.card(number: recipientNumber.value)
            try MoneyRules.checkTransferRecipient(found: recipient != nil, status: recipient?.cardStatus,
                                                  financialEnabled: recipient?.financialEnabledAtMs != nil,
                                                  samePerson: recipient?.personId == holder.personID)
            guard let recipient else { throw MoneyRules.recipientInvalid }
            let target = try await tx.openAccount(kind: .financial, ownerType: "person", ownerID: recipient.personId, atMs: now)
            // Locked before the day's sum is read, so concurrent transfers cannot both pass the limit.
            try await tx.lockAccounts([source.id, target.id])
            let sentToday = try await tx.debitedFen(accountID: source.id, kind: "card_transfer", fromMs: dayStart, toMs: dayStart + 86_400_000)
            try LedgerRules.checkDailyLimit(usedFen: sentToday, amountFen: amount, limitFen: MoneyRules.transferDailyLimitFen, what: "transfer")
            return try await execute(tx, Movement(operation: "card_transfer", referenceType: "card_transfer", transferKind: "card_transfer",
                                                  debit: source, credit: target, amountFen: amount, shown: source),
                                     id: operationID, actor: holder.auditName, action: "money.transfer", cardNumber: card.cardNumber,
                                     detail: "to=\(recipientNumber.masked) memo=\(memo.prefix(100))", nowMs: now)
        }
    }

    func statement(_ request: Request, personID: String, kindText: String) async throws -> Response {
        guard let kind = AccountKind(rawValue: kindText), kind.isCardholderAccount else {
            throw DomainError.notFound("ledger.account_not_found", "no account \(kindText.prefix(40))")
        }
        let list = try ListParameters(request)
        let cursor = try list.cursor.map(Self.pageCursor)
        let (account, rows) = try await store.read { tx -> (LedgerAccountRecord?, [LedgerTransferRecord]) in
            guard let account = try await tx.account(kind: kind, ownerType: "person", ownerID: personID) else { return (nil, []) }
            return (account, try await tx.transfers(accountID: account.id, before: cursor, limit: list.limit + 1))
        }
        guard let account else { throw DomainError.notFound("ledger.account_not_found", "no \(kind.rawValue) account yet") }
        let (page, next) = list.page(rows) { PageCursor(timeMs: $0.createdAtMs, id: $0.id).encoded }
        let lines = page.map { transfer in
            let incoming = transfer.creditAccountId == account.id
            return StatementLineDTO(transferId: transfer.id, at: Timestamps.rfc3339(ms: transfer.createdAtMs), kind: transfer.kind,
                                    description: Self.describe(kind: transfer.kind, incoming: incoming, reversal: transfer.reversesTransferId != nil),
                                    amount: MoneyDTO(amountFen: incoming ? transfer.amountFen : -transfer.amountFen, currency: "CNY"),
                                    reversesTransferId: transfer.reversesTransferId)
        }
        return try JSON.response(Page(items: lines, nextCursor: next))
    }

    static func describe(kind: String, incoming: Bool, reversal: Bool) -> LocalizedName {
        let base: LocalizedName
        switch (kind, incoming) {
        case ("cash_deposit", _): base = LocalizedName(en: "Cash deposit", zh: "现金存款")
        case ("cash_withdrawal", _): base = LocalizedName(en: "Cash withdrawal", zh: "现金取款")
        case ("card_payment", _): base = LocalizedName(en: "Card payment", zh: "刷卡消费")
        case ("card_refund", _): base = LocalizedName(en: "Refund", zh: "退款")
        case ("wallet_top_up", true): base = LocalizedName(en: "Top-up from bank account", zh: "从银行账户充值")
        case ("wallet_top_up", false): base = LocalizedName(en: "Top-up of transit wallet", zh: "交通钱包充值")
        case ("card_transfer", true): base = LocalizedName(en: "Transfer received", zh: "转账收入")
        case ("card_transfer", false): base = LocalizedName(en: "Transfer sent", zh: "转账支出")
        default: base = LocalizedName(en: kind, zh: kind)
        }
        return reversal ? LocalizedName(en: "Reversal: " + base.en, zh: "冲正：" + base.zh) : base
    }
}
