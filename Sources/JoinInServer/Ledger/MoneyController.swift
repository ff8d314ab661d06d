import Foundation
import JoinInAPI
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore

/// Money-moving operations of the card's financial functions (issue 4, first part): deposits,
/// transit-wallet top-ups, card-to-card transfers, balances and statements.
/// Money at the counter and in the e-card (issue 4): cash deposits and withdrawals, transit-wallet
/// top-ups, card-to-card transfers, balances and statements, system account balances.
struct MoneyController: Sendable {
    let store: Store
    let clock: AppClock
    let pins: PINCheck

    static let ownAccounts = ObjectScope.open(because: "the path names one of the caller's own accounts by its kind")

    func register(_ r: inout RouteRegistrar) {
        r.on(.post, "/v1/cards/{card_number}/deposits", CardController.anyCardOfTheBank) { request, context in
            try await deposit(request, context, number: try context.parameters.require("card_number"))
        }
        r.on(.post, "/v1/cards/{card_number}/withdrawals", CardController.anyCardOfTheBank) { request, context in
            try await withdraw(request, context, number: try context.parameters.require("card_number"))
        }
        r.on(.get, "/v1/cards/{card_number}/accounts", CardController.anyCardOfTheBank) { _, context in
            let number = try context.parameters.require("card_number")
            let accounts = try await store.read { tx in
                try await tx.accounts(ownerType: "person", ownerID: try await tx.existingCard(number).personId)
            }
            return try JSON.response(Schemas.AccountPage(items: try accounts.map(MoneyPostings.account), nextCursor: nil))
        }
        r.on(.get, "/v1/cards/{card_number}/accounts/{kind}/transfers", CardController.anyCardOfTheBank) { request, context in
            let number = try context.parameters.require("card_number")
            let personID = try await store.read { tx in try await tx.existingCard(number).personId }
            return try await statement(request, personID: personID, kindText: try context.parameters.require("kind"))
        }
        r.on(.get, "/v1/ecard/accounts", .cardholder) { _, context in
            let holder = try context.cardholder()
            let accounts = try await store.read { tx in try await tx.accounts(ownerType: "person", ownerID: holder.personID) }
            return try JSON.response(Schemas.AccountPage(items: try accounts.map(MoneyPostings.account), nextCursor: nil))
        }
        r.on(.get, "/v1/ecard/accounts/{kind}/transfers", Access.cardholder.objects(Self.ownAccounts)) { request, context in
            let holder = try context.cardholder()
            return try await statement(request, personID: holder.personID, kindText: try context.parameters.require("kind"))
        }
        r.on(.post, "/v1/ecard/wallet-top-ups", .cardholder) { request, context in try await topUp(request, context) }
        r.on(.get, "/v1/system-accounts", .staff(.admin)) { request, _ in
            let list = try ListParameters(request)
            // Ordered by id; the cursor wraps the last id like every other list's, so a value this
            // server did not issue is a 400, not an arbitrary string compared against ids.
            let after = try list.cursor.map(PageCursor.parse)?.id
            let rows = try await store.read { tx in try await tx.systemAccounts(afterID: after, limit: list.limit + 1) }
            let (page, next) = list.page(rows) { PageCursor(timeMs: 0, id: $0.id).encoded }
            return try JSON.response(Schemas.SystemAccountPage(items: page.map {
                .init(id: $0.id, kind: $0.kind, ownerType: $0.ownerType, ownerId: $0.ownerId, balance: API.money($0.postedFen))
            }, nextCursor: next))
        }
        r.on(.post, "/v1/ecard/transfers", .cardholder) { request, context in try await cardTransfer(request, context) }
    }

    /// Cash at a branch counter: the branch vault pays into the card's account.
    func deposit(_ request: Request, _ context: AppContext, number: String) async throws -> Response {
        let (clerk, branchID) = try context.branchClerk()
        let (body, bytes) = try await JSON.decode(Schemas.DepositRequest.self, from: request, limit: 16 * 1024)
        let account: AccountKind = try API.domain(body.account)
        let amount = try MoneyRules.validatedAmount(body.amountFen)
        let now = clock.nowMs()
        let operationID = newID()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: clerk.auditName, nowMs: now,
                                           keyRequired: true, isolation: .lockedRows) { tx in
            let card = try await tx.existingCard(number)
            let target = try await MoneyPostings.cardAccount(tx, card: card, kind: account, nowMs: now)
            let vault = try await tx.openAccount(kind: .branchVault, ownerType: "branch", ownerID: branchID, atMs: now)
            return try await MoneyPostings.execute(tx, MoneyPostings.Movement(operation: "deposit", referenceType: "deposit", transferKind: "cash_deposit", debit: vault,
                                                  credit: target, amountFen: amount, shown: target),
                                     id: operationID, actor: clerk.auditName, action: "money.deposit", cardNumber: card.cardNumber,
                                     detail: "account=\(account.rawValue)", nowMs: now)
        }
    }

    /// Cash out at a branch counter: PIN checked (3 wrong PINs a day block withdrawals until the
    /// next day), daily limit, then the card's financial account pays the branch vault.
    func withdraw(_ request: Request, _ context: AppContext, number: String) async throws -> Response {
        let (clerk, branchID) = try context.branchClerk()
        let (body, bytes) = try await JSON.decode(Schemas.WithdrawalRequest.self, from: request, limit: 16 * 1024)
        let amount = try MoneyRules.validatedAmount(body.amountFen)
        _ = try Idempotency.key(from: request, required: true)
        let time = clock.read()
        let now = time.ms
        let card = try await store.read { tx in try await tx.existingCard(number) }
        try await pins.check(body.pin, card: card, actor: clerk.auditName, action: "money.withdraw", at: time)
        let operationID = newID()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: clerk.auditName, nowMs: now,
                                           keyRequired: true, isolation: .lockedRows) { tx in
            let current = try await tx.existingCard(number)
            let source = try await MoneyPostings.cardAccount(tx, card: current, kind: .financial, nowMs: now)
            let vault = try await tx.openAccount(kind: .branchVault, ownerType: "branch", ownerID: branchID, atMs: now)
            // Locked before the day's sum is read, so concurrent withdrawals cannot both pass the limit.
            try await tx.lockAccounts([source.id, vault.id])
            try await MoneyPostings.checkDailyLimit(tx, MoneyRules.withdrawalLimit, accountID: source.id, amountFen: amount, day: time.today)
            return try await MoneyPostings.execute(tx, MoneyPostings.Movement(operation: "withdrawal", referenceType: "withdrawal", transferKind: "cash_withdrawal",
                                                  debit: source, credit: vault, amountFen: amount, shown: source),
                                     id: operationID, actor: clerk.auditName, action: "money.withdraw", cardNumber: current.cardNumber,
                                     detail: "", nowMs: now)
        }
    }

    /// Financial account → transit wallet, by the cardholder.
    func topUp(_ request: Request, _ context: AppContext) async throws -> Response {
        let holder = try context.cardholder()
        let (body, bytes) = try await JSON.decode(Schemas.TopUpRequest.self, from: request, limit: 16 * 1024)
        let amount = try MoneyRules.validatedAmount(body.amountFen)
        let now = clock.nowMs()
        let operationID = newID()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: holder.auditName, nowMs: now,
                                           keyRequired: true, isolation: .lockedRows) { tx in
            guard let card = try await tx.liveCard(personID: holder.personID) else {
                throw DomainError.rule("card.not_active", "you have no active card")
            }
            let source = try await MoneyPostings.cardAccount(tx, card: card, kind: .financial, nowMs: now)
            let wallet = try await MoneyPostings.cardAccount(tx, card: card, kind: .transitWallet, nowMs: now)
            return try await MoneyPostings.execute(tx, MoneyPostings.Movement(operation: "wallet_top_up", referenceType: "top_up", transferKind: "wallet_top_up",
                                                  debit: source, credit: wallet, amountFen: amount, shown: wallet),
                                     id: operationID, actor: holder.auditName, action: "money.top_up", cardNumber: card.cardNumber,
                                     detail: "", nowMs: now)
        }
    }

    /// Card-to-card, financial to financial, with a daily limit per sending account.
    func cardTransfer(_ request: Request, _ context: AppContext) async throws -> Response {
        let holder = try context.cardholder()
        let (body, bytes) = try await JSON.decode(Schemas.CardTransferRequest.self, from: request, limit: 16 * 1024)
        let amount = try MoneyRules.validatedAmount(body.amountFen)
        let recipientNumber = try CardNumber(validating: body.toCardNumber)
        let memo = try PermitRules.validatedReason(body.memo, field: "memo", required: false) ?? ""
        let time = clock.read()
        let now = time.ms
        let operationID = newID()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: holder.auditName, nowMs: now,
                                           keyRequired: true, isolation: .lockedRows) { tx in
            guard let card = try await tx.liveCard(personID: holder.personID) else {
                throw DomainError.rule("card.not_active", "you have no active card")
            }
            let source = try await MoneyPostings.cardAccount(tx, card: card, kind: .financial, nowMs: now)
            let recipient = try await tx.card(number: recipientNumber.value)
            try MoneyRules.checkTransferRecipient(found: recipient != nil, status: recipient?.cardStatus,
                                                  financialEnabled: recipient?.financialEnabledAtMs != nil,
                                                  samePerson: recipient?.personId == holder.personID)
            guard let recipient else { throw MoneyRules.recipientInvalid }
            let target = try await tx.openAccount(kind: .financial, ownerType: "person", ownerID: recipient.personId, atMs: now)
            // Locked before the day's sum is read, so concurrent transfers cannot both pass the limit.
            try await tx.lockAccounts([source.id, target.id])
            try await MoneyPostings.checkDailyLimit(tx, MoneyRules.transferLimit, accountID: source.id, amountFen: amount, day: time.today)
            return try await MoneyPostings.execute(tx, MoneyPostings.Movement(operation: "card_transfer", referenceType: "card_transfer", transferKind: "card_transfer",
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
        let cursor = try list.cursor.map(PageCursor.parse)
        let (account, rows) = try await store.read { tx -> (LedgerAccountRecord?, [LedgerTransferRecord]) in
            guard let account = try await tx.account(kind: kind, ownerType: "person", ownerID: personID) else { return (nil, []) }
            return (account, try await tx.transfers(accountID: account.id, before: cursor, limit: list.limit + 1))
        }
        guard let account else { throw DomainError.notFound("ledger.account_not_found", "no \(kind.rawValue) account yet") }
        let (page, next) = list.page(rows) { PageCursor(timeMs: $0.createdAtMs, id: $0.id).encoded }
        let lines = page.map { transfer in
            let incoming = transfer.creditAccountId == account.id
            return Schemas.StatementLine(
                transferId: transfer.id, at: API.instant(ms: transfer.createdAtMs), kind: transfer.kind,
                description: API.name(Self.describe(kind: transfer.kind, incoming: incoming, reversal: transfer.reversesTransferId != nil)),
                amount: .init(amountFen: incoming ? transfer.amountFen : -transfer.amountFen, currency: .cny),
                reversesTransferId: transfer.reversesTransferId)
        }
        return try JSON.response(Schemas.StatementPage(items: lines, nextCursor: next))
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
