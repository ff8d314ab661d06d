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
                if let groupID = body.groupId, try await tx.merchantGroup(id: groupID) == nil {
                    throw DomainError.rule("merchant.group_not_found", "group_id \(groupID.prefix(64)) names no merchant group")
                }
                try await tx.insertMerchant(id: id, name: name, category: body.category.rawValue, cityCode: body.cityCode, groupID: body.groupId,
                                            atMs: now)
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

    /// The receipt: the till's price, the offer and its discount, what the card paid and refunds.
    static func paymentView(_ payment: PaymentRecord, offer: OfferRecord?) throws -> Schemas.Payment {
        Schemas.Payment(paymentId: payment.id, merchantId: payment.merchantId, card: try CardNumber(validating: payment.cardNumber).masked,
                        amount: API.money(payment.priceFen), discount: API.money(payment.discountFen), paid: API.money(payment.amountFen),
                        offer: offer.map(OfferSelection.applied), refunded: API.money(payment.refundedFen),
                        discountReturned: API.money(payment.discountReturnedFen),
                        merchantReference: payment.merchantReference, at: API.instant(ms: payment.createdAtMs))
    }

    /// Consumption: the holder authorises with the PIN or a dynamic QR code; the best offer that
    /// applies (or the one the till names, or none) takes its discount off the price; the card's
    /// financial account pays the rest to the merchant's settlement account, and the offer's funder
    /// the discount (docs/offers.md).
    func pay(_ request: Request, _ context: AppContext) async throws -> Response {
        let (terminal, merchantID) = try await merchantTerminal(context)
        let (body, bytes) = try await JSON.decode(Schemas.PaymentRequest.self, from: request, limit: 16 * 1024)
        try JSON.refuseNull(bytes, members: ["pin", "dynamic_code", "offer"])
        let price = try MoneyRules.validatedAmount(body.amountFen)
        let number = try CardNumber(validating: body.cardNumber)
        let reference = body.merchantReference.trimmingWhitespace()
        guard (1...64).contains(reference.scalarCount) else {
            throw DomainError.malformed("payment.reference_invalid", "merchant_reference must be 1-64 characters")
        }
        let choice = try OfferSelection.Choice.parse(body.offer)
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
            // Lock order (PostgreSQL), shared with refunds: the holder's and the merchant's accounts
            // (in id order), then the offer row, then the offer's own accounts. The holder's account
            // is locked before the offers' per-card limits are counted, so two payments of one
            // holder cannot both take the last use.
            try await tx.lockAccounts([source.id, merchantAccount.id])
            guard let merchant = try await tx.merchant(id: merchantID) else { throw StoreError.corrupt("merchant \(merchantID) vanished") }
            var applied: (record: OfferRecord, discountFen: Int64)?
            if choice != .none {
                let evaluated = try await OfferSelection.evaluate(tx, merchant: merchant, personID: current.personId, priceFen: price, time: time)
                // The budget's conditional update is the atomic guard: an offer a concurrent
                // payment has just exhausted is passed over for the next best one.
                for option in try OfferSelection.tries(evaluated, choice: choice)
                where try await tx.claimOfferDiscount(offerID: option.record.id, discountFen: option.discountFen) {
                    applied = option
                    break
                }
                if applied == nil, case .named(let id) = choice {
                    throw DomainError.rule("offer.not_applicable", "offer \(id) does not apply: budget_exhausted")
                }
            }
            let discount = applied?.discountFen ?? 0
            let payment = PaymentRecord(id: paymentID, merchantId: merchantID, terminalId: terminal.id, cardNumber: current.cardNumber,
                                        personId: current.personId, amountFen: price - discount, refundedFen: 0, merchantReference: reference,
                                        createdAtMs: now, offerId: applied?.record.id, discountFen: discount)
            try await tx.insertPayment(payment)
            _ = try await tx.registerReference(type: "payment", id: paymentID, atMs: now)
            var postings = [Posting(debit: source.id, credit: merchantAccount.id, amountFen: payment.amountFen, kind: "card_payment",
                                    referenceType: "payment", referenceID: paymentID)]
            if let applied {
                postings += try await Self.discountLegs(tx, offer: applied.record, merchantAccount: merchantAccount, discountFen: discount,
                                                        paymentID: paymentID, nowMs: now)
            }
            _ = try await tx.post(postings, atMs: now)
            try await Inbox.noteDebit(tx, account: source, amountFen: payment.amountFen,
                                      what: LocalizedName(en: "Card payment at \(merchant.nameEn)", zh: "在\(merchant.nameZh)刷卡消费"), nowMs: now)
            let offerDetail = applied.map { " offer=\($0.record.id) discount_fen=\($0.discountFen)" } ?? ""
            try await tx.appendAudit(actor: actor, action: "money.payment", objectType: "card", objectID: current.cardNumber,
                                     detail: "operation=\(paymentID) fen=\(payment.amountFen) merchant=\(merchantID) ref=\(reference.prefix(64))\(offerDetail)",
                                     atMs: now)
            return try .json(try Self.paymentView(payment, offer: applied?.record))
        }
    }

    /// The ledger legs of a discount. Subsidy: the offer's budget pays the merchant the discount.
    /// Merchant-funded: the merchant is credited the discount as part of its gross sale and pays
    /// it straight back as its contribution, so both show on its statement and nothing else moves.
    static func discountLegs(_ tx: StoreTx, offer: OfferRecord, merchantAccount: LedgerAccountRecord, discountFen: Int64, paymentID: String,
                             nowMs: Int64) async throws -> [Posting] {
        if offer.funding == OfferFunding.subsidy.rawValue {
            let budget = try await tx.openAccount(kind: .offerBudget, ownerType: OfferController.offerOwnerType, ownerID: offer.id, atMs: nowMs)
            return [Posting(debit: budget.id, credit: merchantAccount.id, amountFen: discountFen, kind: "offer_subsidy",
                            referenceType: "payment", referenceID: paymentID)]
        }
        let promotion = try await tx.openAccount(kind: .merchantPromotion, ownerType: OfferController.offerOwnerType, ownerID: offer.id, atMs: nowMs)
        return [Posting(debit: promotion.id, credit: merchantAccount.id, amountFen: discountFen, kind: "offer_discount",
                        referenceType: "payment", referenceID: paymentID),
                Posting(debit: merchantAccount.id, credit: promotion.id, amountFen: discountFen, kind: "offer_merchant_contribution",
                        referenceType: "payment", referenceID: paymentID)]
    }

    /// Partial or full refunds by the terminal that took the payment, never more than was paid. A
    /// payment that used an offer shares its discount back in proportion (OfferRules.discountReturned):
    /// a subsidy's share goes from the merchant back to the offer's budget (and on to the city once
    /// the offer is withdrawn); a full refund stops the use counting against the card's limits.
    func refund(_ request: Request, _ context: AppContext, paymentID: String) async throws -> Response {
        let (terminal, _) = try await merchantTerminal(context)
        let (body, bytes) = try await JSON.decode(Schemas.RefundRequest.self, from: request, limit: 16 * 1024)
        let amount = try MoneyRules.validatedAmount(body.amountFen)
        let actor = terminal.auditName
        let now = clock.nowMs()
        let refundID = newID()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: actor, nowMs: now,
                                           keyRequired: true, isolation: .lockedRows) { tx in
            guard let payment = try await tx.lockedPayment(id: paymentID), payment.terminalId == terminal.id else {
                throw DomainError.notFound("payment.not_found", "no payment \(paymentID.prefix(40)) taken by this terminal")
            }
            try MoneyRules.checkRefund(amountFen: amount, paidFen: payment.amountFen, refundedFen: payment.refundedFen)
            let returned = OfferRules.discountReturned(discountFen: payment.discountFen, paidFen: payment.amountFen,
                                                       refundedBeforeFen: payment.refundedFen, refundFen: amount,
                                                       returnedBeforeFen: payment.discountReturnedFen)
            // The compare-and-set is the atomic guard (a concurrent refund may have landed since the
            // read, and the discount share was computed from it); when it refuses, the rule words
            // why from the current row, or the caller retries.
            guard try await tx.addRefund(to: payment, amountFen: amount, discountReturnedFen: returned) else {
                let current = try await tx.payment(id: payment.id) ?? payment
                try MoneyRules.checkRefund(amountFen: amount, paidFen: current.amountFen, refundedFen: current.refundedFen)
                throw DomainError.conflict("payment.refund_in_progress", "another refund of this payment landed meanwhile; try again")
            }
            let whollyRefunded = payment.refundedFen + amount == payment.amountFen
            // Refunds credit the holder even while the card is lost: money is never locked in.
            let holderAccount = try await tx.openAccount(kind: .financial, ownerType: "person", ownerID: payment.personId, atMs: now)
            let merchantAccount = try await tx.openAccount(kind: .merchantSettlement, ownerType: "merchant", ownerID: payment.merchantId, atMs: now)
            // The payments' lock order: accounts, then the offer row, then the offer's accounts.
            try await tx.lockAccounts([holderAccount.id, merchantAccount.id])
            _ = try await tx.registerReference(type: "refund", id: refundID, atMs: now)
            var postings = [Posting(debit: merchantAccount.id, credit: holderAccount.id, amountFen: amount, kind: "card_refund",
                                    referenceType: "refund", referenceID: refundID)]
            var offer: OfferRecord?
            if let offerID = payment.offerId {
                guard let record = try await tx.offer(id: offerID) else { throw StoreError.corrupt("offer \(offerID) of payment \(payment.id) vanished") }
                offer = record
                try await tx.returnOfferDiscount(offerID: offerID, discountFen: returned, restoresUse: whollyRefunded)
                if record.funding == OfferFunding.subsidy.rawValue && returned > 0 {
                    let budget = try await tx.openAccount(kind: .offerBudget, ownerType: OfferController.offerOwnerType, ownerID: offerID, atMs: now)
                    postings.append(Posting(debit: merchantAccount.id, credit: budget.id, amountFen: returned, kind: "offer_subsidy_return",
                                            referenceType: "refund", referenceID: refundID))
                    if record.status != "active" {
                        let funding = try await tx.openAccount(kind: .subsidyFunding, ownerType: OfferController.cityOwnerType,
                                                               ownerID: record.cityCode, atMs: now)
                        postings.append(Posting(debit: budget.id, credit: funding.id, amountFen: returned, kind: "offer_budget_return",
                                                referenceType: "refund", referenceID: refundID))
                    }
                }
            }
            _ = try await tx.post(postings, atMs: now)
            try await tx.insertPaymentRefund(PaymentRefundRecord(id: refundID, paymentId: payment.id, merchantId: payment.merchantId,
                                                                 terminalId: terminal.id, amountFen: amount, discountReturnedFen: returned,
                                                                 createdAtMs: now))
            try await tx.appendAudit(actor: actor, action: "money.refund", objectType: "card", objectID: payment.cardNumber,
                                     detail: "operation=\(refundID) fen=\(amount) payment=\(payment.id) discount_returned_fen=\(returned)", atMs: now)
            guard let updated = try await tx.payment(id: payment.id) else { throw StoreError.corrupt("payment \(payment.id) vanished") }
            return try .json(Schemas.Refund(refundId: refundID, amount: API.money(amount), discountReturned: API.money(returned),
                                            payment: try Self.paymentView(updated, offer: offer)))
        }
    }
}
