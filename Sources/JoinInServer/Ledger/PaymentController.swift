import Foundation
import JoinInAPI
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore

/// Merchants and card payments at their POS terminals (consumption), with refunds.
struct PaymentController: Sendable {
    let store: Store
    let config: ServerConfig
    let clock: AppClock
    let pins: PINCheck
    let dynamicCodes: DynamicCodes

    func register(_ r: inout RouteRegistrar) {
        r.on(.post, "/v1/merchants", .staff(.admin)) { request, context in
            let admin = try context.staff()
            let (body, bytes) = try await JSON.decode(Schemas.NewMerchantRequest.self, from: request, limit: config.bodyBytesMax)
            let name = try LocalizedName.validated(en: body.name.en, zh: body.name.zh, field: "name")
            let id = newID()
            let now = clock.nowMs()
            return try await Idempotency.write(store: store, request: request, body: bytes, principal: admin.auditName, nowMs: now) { tx in
                try await tx.requireCity(body.cityCode)
                try await tx.insertMerchant(id: id, name: name, category: body.category.rawValue, cityCode: body.cityCode, atMs: now)
                _ = try await tx.openAccount(kind: .merchantSettlement, ownerType: "merchant", ownerID: id, atMs: now)
                try await tx.appendAudit(actor: admin.auditName, action: "merchant.create", objectType: "merchant", objectID: id, atMs: now)
                return try .json(Schemas.Id(id: id))
            }
        }
        r.on(.post, "/v1/payments", .terminal(.merchantPos)) { request, context in try await pay(request, context) }
        r.on(.post, "/v1/payments/{id}/refunds", Access.terminal(.merchantPos)
            .objects(.owned(by: "a till refunds only the payments it took"))) { request, context in
            try await refund(request, context, paymentID: try context.parameters.require("id"))
        }
    }

    /// The calling POS terminal must be bound to an existing merchant.
    func merchantTerminal(_ context: AppContext) async throws -> (terminal: TerminalPrincipal, merchantID: String) {
        let terminal = try context.terminal()
        guard let merchantID = terminal.bindingID, try await store.read({ tx in try await tx.merchant(id: merchantID) }) != nil else {
            throw DomainError.forbidden("auth.forbidden", "this POS terminal is not bound to a merchant")
        }
        return (terminal, merchantID)
    }

    func paymentView(_ payment: PaymentRecord) throws -> Schemas.Payment {
        Schemas.Payment(paymentId: payment.id, merchantId: payment.merchantId, card: try CardNumber(validating: payment.cardNumber).masked,
                        amount: API.money(payment.amountFen), refunded: API.money(payment.refundedFen),
                        merchantReference: payment.merchantReference, at: API.instant(ms: payment.createdAtMs))
    }

    /// Consumption: the holder authorises with the PIN or a dynamic QR code; the card's financial
    /// account pays the merchant's settlement account.
    func pay(_ request: Request, _ context: AppContext) async throws -> Response {
        let (terminal, merchantID) = try await merchantTerminal(context)
        let (body, bytes) = try await JSON.decode(Schemas.PaymentRequest.self, from: request, limit: 16 * 1024)
        let amount = try MoneyRules.validatedAmount(body.amountFen)
        let number = try CardNumber(validating: body.cardNumber)
        let reference = body.merchantReference.trimmingWhitespace()
        guard (1...64).contains(reference.scalarCount) else {
            throw DomainError.malformed("payment.reference_invalid", "merchant_reference must be 1-64 characters")
        }
        _ = try Idempotency.key(from: request, required: true)
        let actor = terminal.auditName
        let time = clock.read()
        let card = try await store.read { tx in try await tx.existingCard(number.value) }
        var code: DynamicCodes.Claims?
        switch (body.pin, body.dynamicCode) {
        case (let pin?, nil): try await pins.check(pin, card: card, actor: actor, action: "money.payment", at: time)
        case (nil, let text?): code = try dynamicCodes.read(text)
        default: throw DomainError.malformed("payment.authorisation_required", "send exactly one of pin and dynamic_code")
        }
        let presented = code
        let now = time.ms
        let paymentID = newID()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: actor, nowMs: now,
                                           keyRequired: true, isolation: .lockedRows) { tx in
            let current = try await tx.existingCard(number.value)
            if let presented {
                try await dynamicCodes.redeem(tx, presented, by: actor, nowMs: now)
                guard try await tx.cardholder(id: presented.holderID)?.personId == current.personId else {
                    throw DomainError.rule("code.invalid", "the dynamic code belongs to another cardholder")
                }
            }
            let source = try await MoneyPostings.cardAccount(tx, card: current, kind: .financial, nowMs: now)
            let merchantAccount = try await tx.openAccount(kind: .merchantSettlement, ownerType: "merchant", ownerID: merchantID, atMs: now)
            let payment = PaymentRecord(id: paymentID, merchantId: merchantID, terminalId: terminal.id, cardNumber: current.cardNumber,
                                        personId: current.personId, amountFen: amount, refundedFen: 0, merchantReference: reference,
                                        createdAtMs: now)
            try await tx.insertPayment(payment)
            _ = try await MoneyPostings.execute(tx, MoneyPostings.Movement(operation: "payment", referenceType: "payment", transferKind: "card_payment", debit: source,
                                               credit: merchantAccount, amountFen: amount, shown: source),
                                  id: paymentID, actor: actor, action: "money.payment", cardNumber: current.cardNumber,
                                  detail: "merchant=\(merchantID) ref=\(reference.prefix(64))", nowMs: now)
            return try .json(try paymentView(payment))
        }
    }

    /// Partial or full refunds by the terminal that took the payment, never more than was paid.
    func refund(_ request: Request, _ context: AppContext, paymentID: String) async throws -> Response {
        let (terminal, _) = try await merchantTerminal(context)
        let (body, bytes) = try await JSON.decode(Schemas.RefundRequest.self, from: request, limit: 16 * 1024)
        let amount = try MoneyRules.validatedAmount(body.amountFen)
        let actor = terminal.auditName
        let now = clock.nowMs()
        let refundID = newID()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: actor, nowMs: now,
                                           keyRequired: true, isolation: .lockedRows) { tx in
            guard let payment = try await tx.payment(id: paymentID), payment.terminalId == terminal.id else {
                throw DomainError.notFound("payment.not_found", "no payment \(paymentID.prefix(40)) taken by this terminal")
            }
            try MoneyRules.checkRefund(amountFen: amount, paidFen: payment.amountFen, refundedFen: payment.refundedFen)
            // The conditional update is the atomic guard (a concurrent refund may have landed since
            // the read); when it refuses, the rule words why from the current row.
            guard try await tx.addRefund(paymentID: payment.id, amountFen: amount) else {
                let current = try await tx.payment(id: payment.id) ?? payment
                try MoneyRules.checkRefund(amountFen: amount, paidFen: current.amountFen, refundedFen: current.refundedFen)
                throw StoreError.corrupt("payment \(payment.id) refused a refund its amounts allow")
            }
            // Refunds credit the holder even while the card is lost: money is never locked in.
            let holderAccount = try await tx.openAccount(kind: .financial, ownerType: "person", ownerID: payment.personId, atMs: now)
            let merchantAccount = try await tx.openAccount(kind: .merchantSettlement, ownerType: "merchant", ownerID: payment.merchantId, atMs: now)
            _ = try await MoneyPostings.execute(tx, MoneyPostings.Movement(operation: "refund", referenceType: "refund", transferKind: "card_refund", debit: merchantAccount,
                                               credit: holderAccount, amountFen: amount, shown: holderAccount),
                                  id: refundID, actor: actor, action: "money.refund", cardNumber: payment.cardNumber,
                                  detail: "payment=\(payment.id)", nowMs: now)
            guard let updated = try await tx.payment(id: payment.id) else { throw StoreError.corrupt("payment \(payment.id) vanished") }
            return try .json(Schemas.Refund(refundId: refundID, amount: API.money(amount), payment: try paymentView(updated)))
        }
    }
}
