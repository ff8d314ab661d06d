import Foundation
import JoinInAPI
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore

/// Partner merchants' offers (issue 12): merchant groups and offers (administrators), quotes at
/// the till, the cardholder's offers and savings, the merchant administrator's views. Payments
/// and refunds that use offers are `PaymentController`'s.
struct OfferController: Sendable {
    let store: Store
    let config: ServerConfig
    let clock: AppClock

    static let offerOwnerType = "offer"
    static let cityOwnerType = "city"

    func register(_ r: inout RouteRegistrar) {
        r.on(.post, "/v1/merchant-groups", .staff(.admin)) { request, context in
            let admin = try context.staff()
            let (body, bytes) = try await JSON.decode(Schemas.NewMerchantGroupRequest.self, from: request, limit: config.bodyBytesMax)
            let name = try LocalizedName.validated(en: body.name.en, zh: body.name.zh, field: "name")
            let id = newID()
            let now = clock.nowMs()
            return try await Idempotency.write(store: store, request: request, body: bytes, principal: admin.auditName, nowMs: now) { tx in
                try await tx.insertMerchantGroup(id: id, name: name, atMs: now)
                try await tx.appendAudit(actor: admin.auditName, action: "merchant_group.create", objectType: "merchant_group", objectID: id,
                                         atMs: now)
                return try .json(Schemas.Id(id: id))
            }
        }
        r.on(.post, "/v1/offers", .staff(.admin)) { request, context in try await createOffer(request, context) }
        r.on(.get, "/v1/offers", .staff(.admin)) { request, _ in
            let list = try ListParameters(request)
            let cursor = try list.cursor.map(PageCursor.parse)
            let query = request.uri.queryParameters
            let city = try query["city_code"].map { try Self.cityCode(String($0)) }
            let status = try query["status"].map { text -> String in
                guard text == "active" || text == "withdrawn" else {
                    throw DomainError.malformed("offer.status_invalid", "status must be active or withdrawn")
                }
                return String(text)
            }
            let time = clock.read()
            let (items, next) = try await store.read { tx in
                let rows = try await tx.offers(cityCode: city, status: status, before: cursor, limit: list.limit + 1)
                let (page, next) = list.page(rows) { PageCursor(timeMs: $0.createdAtMs, id: $0.id).encoded }
                return (try await Self.views(tx, page, time: time, usage: .whole), next)
            }
            return try JSON.response(Schemas.OfferPage(items: items, nextCursor: next), headers: [.cacheControl: "no-store"])
        }
        r.on(.get, "/v1/offers/{id}", Access.staff(.admin).objects(.open(because: "administrators manage every offer"))) { _, context in
            let id = try context.parameters.require("id")
            let time = clock.read()
            let view = try await store.read { tx in
                guard let offer = try await tx.offer(id: id) else { throw Self.notFound(id) }
                return try await Self.views(tx, [offer], time: time, usage: .whole)[0]
            }
            return try JSON.response(view, headers: [.cacheControl: "no-store"])
        }
        r.on(.post, "/v1/offers/{id}/withdrawal", Access.staff(.admin).objects(.open(because: "administrators manage every offer"))) { request, context in
            try await withdraw(request, context, id: try context.parameters.require("id"))
        }
        r.on(.post, "/v1/payments/quotes", .terminal(.merchantPos)) { request, context in try await quote(request, context) }
        r.on(.get, "/v1/ecard/offers", .cardholder) { request, context in try await myOffers(request, context) }
        r.on(.get, "/v1/ecard/savings", .cardholder) { request, context in try await mySavings(request, context) }
        r.on(.get, "/v1/merchant/offers", .staff(.merchantAdmin)) { _, context in
            let (_, merchantID) = try context.merchantAdmin()
            let time = clock.read()
            let items = try await store.read { tx in
                let merchant = try await Self.merchant(tx, merchantID)
                return try await Self.views(tx, try await tx.offers(forMerchant: merchant), time: time, usage: .atMerchant(merchantID))
            }
            return try JSON.response(Schemas.OfferPage(items: items), headers: [.cacheControl: "no-store"])
        }
        r.on(.get, "/v1/merchant/payments", .staff(.merchantAdmin)) { request, context in
            let (_, merchantID) = try context.merchantAdmin()
            let list = try ListParameters(request)
            let cursor = try list.cursor.map(PageCursor.parse)
            let day = try dayParameter(request).shanghaiDayMs
            let (items, next) = try await store.read { tx in
                let rows = try await tx.payments(merchantID: merchantID, from: day.lowerBound, to: day.upperBound, before: cursor, limit: list.limit + 1)
                let (page, next) = list.page(rows) { $0.cursor.encoded }
                return (try await Self.paymentViews(tx, page), next)
            }
            return try JSON.response(Schemas.PaymentPage(items: items, nextCursor: next), headers: [.cacheControl: "no-store"])
        }
        r.on(.get, "/v1/merchant/refunds", .staff(.merchantAdmin)) { request, context in
            let (_, merchantID) = try context.merchantAdmin()
            let list = try ListParameters(request)
            let cursor = try list.cursor.map(PageCursor.parse)
            let day = try dayParameter(request).shanghaiDayMs
            let rows = try await store.read { tx in
                try await tx.paymentRefunds(merchantID: merchantID, from: day.lowerBound, to: day.upperBound, before: cursor, limit: list.limit + 1)
            }
            let (page, next) = list.page(rows) { $0.cursor.encoded }
            let items = page.map {
                Schemas.RefundPage.ItemsPayloadPayload(refundId: $0.id, paymentId: $0.paymentId, amount: API.money($0.amountFen),
                                                       discountReturned: API.money($0.discountReturnedFen), at: API.instant(ms: $0.createdAtMs))
            }
            return try JSON.response(Schemas.RefundPage(items: items, nextCursor: next), headers: [.cacheControl: "no-store"])
        }
        r.on(.get, "/v1/merchant/settlement", .staff(.merchantAdmin)) { request, context in
            let (_, merchantID) = try context.merchantAdmin()
            let date = try dayParameter(request)
            let day = date.shanghaiDayMs
            let (totals, ledgerNet) = try await store.read { tx in
                let totals = try await tx.merchantDayTotals(merchantID: merchantID, from: day.lowerBound, to: day.upperBound)
                let account = try await tx.account(kind: .merchantSettlement, ownerType: "merchant", ownerID: merchantID)
                let net = try await account.asyncMap { try await tx.netMovement(accountID: $0.id, from: day.lowerBound, to: day.upperBound) } ?? 0
                return (totals, net)
            }
            let net = totals.paidFen + totals.subsidyDiscountFen - totals.refundedFen - totals.subsidyReturnedFen
            return try JSON.response(Schemas.MerchantSettlement(
                merchantId: merchantID, date: date.description, payments: totals.payments, gross: API.money(totals.grossFen),
                merchantFundedDiscount: API.money(totals.merchantFundedDiscountFen), subsidyDiscount: API.money(totals.subsidyDiscountFen),
                paidByCards: API.money(totals.paidFen), refunds: totals.refunds, refunded: API.money(totals.refundedFen),
                subsidyReturned: API.money(totals.subsidyReturnedFen), net: API.money(net), ledgerNet: API.money(ledgerNet)),
                headers: [.cacheControl: "no-store"])
        }
    }

    // MARK: administrators

    func createOffer(_ request: Request, _ context: AppContext) async throws -> Response {
        let admin = try context.staff()
        let (body, bytes) = try await JSON.decode(Schemas.NewOfferRequest.self, from: request, limit: config.bodyBytesMax)
        try JSON.refuseNull(bytes, members: ["merchant_id", "merchant_group_id", "category", "percent_off_bp", "cap_fen", "amount_off_fen",
                                             "minimum_spend_fen", "weekdays", "windows", "per_card_per_day", "per_card_total", "budget_fen"])
        let city = try Self.cityCode(body.cityCode)
        let scope: OfferScope
        switch (body.merchantId, body.merchantGroupId, body.category) {
        case (let id?, nil, nil): scope = .merchant(id)
        case (nil, let id?, nil): scope = .merchantGroup(id)
        case (nil, nil, let category?): scope = .category(try API.domain(category))
        default:
            throw DomainError.rule("offer.terms_invalid", "merchant_id: give exactly one of merchant_id, merchant_group_id and category")
        }
        let title = try LocalizedName.validated(en: body.title.en, zh: body.title.zh, field: "title")
        let termsText = LocalizedName(en: body.terms.en.trimmingWhitespace(), zh: body.terms.zh.trimmingWhitespace())
        guard (1...2000).contains(termsText.en.scalarCount), (1...2000).contains(termsText.zh.scalarCount) else {
            throw DomainError.rule("offer.terms_invalid", "terms: en and zh must each be 1-2000 characters after trimming")
        }
        let terms = try OfferTerms.validated(
            percentOffBasisPoints: body.percentOffBp, capFen: body.capFen, amountOffFen: body.amountOffFen, minimumSpendFen: body.minimumSpendFen,
            validFrom: body.validFrom, validUntil: body.validUntil, weekdays: body.weekdays, windows: body.windows,
            perDay: body.perCardPerDay, total: body.perCardTotal, funding: try API.domain(body.funding), budgetFen: body.budgetFen)
        let time = clock.read()
        guard terms.schedule.validUntil >= time.today else {
            throw DomainError.rule("offer.already_ended", "valid_until \(terms.schedule.validUntil) is before today (\(time.today))")
        }
        let id = newID()
        let offer = NewOffer(id: id, cityCode: city, scope: scope, title: title, termsText: termsText, terms: terms, createdBy: admin.auditName)
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: admin.auditName, nowMs: time.ms,
                                           keyRequired: true) { tx in
            try await tx.requireCity(city)
            switch scope {
            case .merchant(let merchantID):
                guard let merchant = try await tx.merchant(id: merchantID) else {
                    throw DomainError.rule("merchant.not_found", "merchant_id \(merchantID.prefix(64)) names no merchant")
                }
                guard merchant.cityCode == city else {
                    throw DomainError.rule("offer.scope_invalid", "merchant \(merchantID) is in city \(merchant.cityCode), not \(city)")
                }
            case .merchantGroup(let groupID):
                guard try await tx.merchantGroup(id: groupID) != nil else {
                    throw DomainError.rule("merchant.group_not_found", "merchant_group_id \(groupID.prefix(64)) names no merchant group")
                }
            case .category:
                break
            }
            try await tx.insertOffer(offer, atMs: time.ms)
            _ = try await tx.registerReference(type: Self.offerOwnerType, id: id, atMs: time.ms)
            var detail = "city=\(city) scope=\(scope.type):\(scope.value) funding=\(terms.funding.rawValue)"
            if terms.funding == .subsidy, let budget = terms.budgetFen {
                // The bureau commits the whole budget now: the offer's own account holds it and
                // the ledger refuses any discount it could not pay.
                let funding = try await tx.openAccount(kind: .subsidyFunding, ownerType: Self.cityOwnerType, ownerID: city, atMs: time.ms)
                let budgetAccount = try await tx.openAccount(kind: .offerBudget, ownerType: Self.offerOwnerType, ownerID: id, atMs: time.ms)
                _ = try await tx.post([Posting(debit: funding.id, credit: budgetAccount.id, amountFen: budget, kind: "offer_budget",
                                               referenceType: Self.offerOwnerType, referenceID: id)], atMs: time.ms)
                detail += " budget_fen=\(budget)"
            }
            try await tx.appendAudit(actor: admin.auditName, action: "offer.create", objectType: "offer", objectID: id, detail: detail, atMs: time.ms)
            guard let stored = try await tx.offer(id: id) else { throw StoreError.corrupt("offer \(id) vanished") }
            return try .json(try await Self.views(tx, [stored], time: time, usage: .whole)[0])
        }
    }

    func withdraw(_ request: Request, _ context: AppContext, id: String) async throws -> Response {
        let admin = try context.staff()
        let time = clock.read()
        return try await Idempotency.write(store: store, request: request, body: ByteBuffer(), principal: admin.auditName, nowMs: time.ms) { tx in
            guard let offer = try await tx.offer(id: id) else { throw Self.notFound(id) }
            guard try await tx.withdrawOffer(id: id, atMs: time.ms) else {
                throw DomainError.conflict("offer.already_withdrawn", "offer \(id) was withdrawn already")
            }
            var detail = "funding=\(offer.funding)"
            if offer.funding == OfferFunding.subsidy.rawValue {
                let returned = try await Self.returnBudget(tx, offerID: id, cityCode: offer.cityCode, nowMs: time.ms)
                detail += " budget_returned_fen=\(returned)"
            }
            try await tx.appendAudit(actor: admin.auditName, action: "offer.withdraw", objectType: "offer", objectID: id, detail: detail, atMs: time.ms)
            guard let stored = try await tx.offer(id: id) else { throw StoreError.corrupt("offer \(id) vanished") }
            return try .json(try await Self.views(tx, [stored], time: time, usage: .whole)[0], status: .ok)
        }
    }

    /// Moves what is left in a subsidy offer's budget account back to the city; returns the amount.
    static func returnBudget(_ tx: StoreTx, offerID: String, cityCode: String, nowMs: Int64) async throws -> Int64 {
        let budget = try await tx.openAccount(kind: .offerBudget, ownerType: offerOwnerType, ownerID: offerID, atMs: nowMs)
        let balance = try await tx.lockedBalances([budget.id])[budget.id]?.posted ?? 0
        guard balance > 0 else { return 0 }
        let funding = try await tx.openAccount(kind: .subsidyFunding, ownerType: cityOwnerType, ownerID: cityCode, atMs: nowMs)
        _ = try await tx.post([Posting(debit: budget.id, credit: funding.id, amountFen: balance, kind: "offer_budget_return",
                                       referenceType: offerOwnerType, referenceID: offerID)], atMs: nowMs)
        return balance
    }

    // MARK: the till

    func quote(_ request: Request, _ context: AppContext) async throws -> Response {
        let terminal = try context.terminal()
        let (body, bytes) = try await JSON.decode(Schemas.PaymentQuoteRequest.self, from: request, limit: 16 * 1024)
        try JSON.refuseNull(bytes, members: ["card_number", "offer"])
        let price = try MoneyRules.validatedAmount(body.amountFen)
        let number = try body.cardNumber.map { try CardNumber(validating: $0) }
        let choice = try OfferSelection.Choice.parse(body.offer)
        let time = clock.read()
        let quote = try await store.read { tx -> Schemas.PaymentQuote in
            guard let merchantID = terminal.bindingID, let merchant = try await tx.merchant(id: merchantID) else {
                throw DomainError.forbidden("auth.forbidden", "this POS terminal is not bound to a merchant")
            }
            let personID = try await number.asyncMap { try await tx.existingCard($0.value).personId }
            let evaluated = try await OfferSelection.evaluate(tx, merchant: merchant, personID: personID, priceFen: price, time: time)
            let chosen = try OfferSelection.tries(evaluated, choice: choice).first
            let considered = evaluated.map { item -> Schemas.PaymentQuote.ConsideredPayloadPayload in
                switch item.result {
                case .success(let discount):
                    return .init(offerId: item.record.id, title: API.name(item.record.title), applies: true, discount: API.money(discount))
                case .failure(let refusal):
                    return .init(offerId: item.record.id, title: API.name(item.record.title), applies: false,
                                 reason: try? API.value(refusal.refusal.rawValue))
                }
            }
            let discount = chosen?.discountFen ?? 0
            return Schemas.PaymentQuote(amount: API.money(price), discount: API.money(discount), toPay: API.money(price - discount),
                                        offer: chosen.map { OfferSelection.applied($0.record) }, considered: considered)
        }
        return try JSON.response(quote, headers: [.cacheControl: "no-store"])
    }

    // MARK: the e-card

    func myOffers(_ request: Request, _ context: AppContext) async throws -> Response {
        let holder = try context.cardholder()
        let query = request.uri.queryParameters
        let city = try query["city_code"].map { try Self.cityCode(String($0)) }
        let category = try query["category"].map { text -> MerchantCategory in
            guard let category = MerchantCategory(rawValue: String(text)) else {
                throw DomainError.malformed("offer.category_invalid", "category must be one of \(MerchantCategory.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return category
        }
        let time = clock.read()
        let items = try await store.read { tx in
            var offers = try await tx.liveOffers(cityCode: city, today: time.today)
            if let category {
                let merchants = try await tx.merchants(ids: Set(offers.compactMap { $0.scopeType == "merchant" ? $0.scopeValue : nil }))
                let groups = try await tx.merchantGroupCategories(groupIDs: Set(offers.compactMap { $0.scopeType == "merchant_group" ? $0.scopeValue : nil }))
                offers = offers.filter { offer in
                    switch offer.scopeType {
                    case "merchant": return merchants[offer.scopeValue]?.category == category.rawValue
                    case "merchant_group": return groups[offer.scopeValue]?.contains(category.rawValue) == true
                    default: return offer.scopeValue == category.rawValue
                    }
                }
            }
            offers.sort { ($0.validUntil, $0.createdAtMs, $0.id) < ($1.validUntil, $1.createdAtMs, $1.id) }
            return try await Self.views(tx, Array(offers.prefix(200)), time: time, usage: .remaining(personID: holder.personID))
        }
        return try JSON.response(Schemas.OfferPage(items: items), headers: [.cacheControl: "no-store"])
    }

    func mySavings(_ request: Request, _ context: AppContext) async throws -> Response {
        let holder = try context.cardholder()
        let list = try ListParameters(request)
        let cursor = try list.cursor.map(PageCursor.parse)
        let time = clock.read()
        let year: Int
        if let text = request.uri.queryParameters["year"] {
            guard let value = Int(String(text)), (2000...2100).contains(value) else {
                throw DomainError.malformed("offer.year_invalid", "year must be a year from 2000 to 2100")
            }
            year = value
        } else {
            year = time.today.year
        }
        let (thisYear, inAll, items, next) = try await store.read { tx in
            let start = CivilDate(year: year, month: 1, day: 1)?.shanghaiDayMs.lowerBound ?? 0
            let end = CivilDate(year: year + 1, month: 1, day: 1)?.shanghaiDayMs.lowerBound ?? Int64.max
            let thisYear = try await tx.savings(personID: holder.personID, from: start, to: end)
            let inAll = try await tx.savings(personID: holder.personID, from: 0, to: Int64.max)
            let rows = try await tx.discountedPayments(personID: holder.personID, before: cursor, limit: list.limit + 1)
            let (page, next) = list.page(rows) { $0.cursor.encoded }
            let merchants = try await tx.merchants(ids: Set(page.map(\.merchantId)))
            let views = try await Self.paymentViews(tx, page)
            let items = zip(page, views).map { row, view in
                Schemas.Savings.ItemsPayloadPayload(payment: view,
                                                    merchantName: API.name(merchants[row.merchantId]?.name ?? LocalizedName(en: row.merchantId, zh: row.merchantId)))
            }
            return (thisYear, inAll, items, next)
        }
        return try JSON.response(Schemas.Savings(year: year, savedThisYear: API.money(thisYear.savedFen), paymentsThisYear: thisYear.payments,
                                                 savedInAll: API.money(inAll.savedFen), items: items, nextCursor: next),
                                 headers: [.cacheControl: "no-store"])
    }

    // MARK: views

    enum UsageView {
        /// The offer's totals and budget (administrators).
        case whole
        /// One merchant's use of the offer (its administrator).
        case atMerchant(String)
        /// One cardholder's remaining uses.
        case remaining(personID: String)
    }

    static func views(_ tx: StoreTx, _ offers: [OfferRecord], time: AppClock.Reading, usage: UsageView) async throws -> [Schemas.Offer] {
        let ids = Set(offers.map(\.id))
        let merchants = try await tx.merchants(ids: Set(offers.compactMap { $0.scopeType == "merchant" ? $0.scopeValue : nil }))
        let groups = try await tx.merchantGroups(ids: Set(offers.compactMap { $0.scopeType == "merchant_group" ? $0.scopeValue : nil }))
        var holders: [String: Int] = [:], atMerchant: [String: (uses: Int, holders: Int, discountedFen: Int64)] = [:]
        var personal: [String: OfferUsage] = [:]
        switch usage {
        case .whole: holders = try await tx.offerHolders(offerIDs: ids)
        case .atMerchant(let merchantID): atMerchant = try await tx.offerUseAtMerchant(merchantID: merchantID, offerIDs: ids)
        case .remaining(let personID): personal = try await tx.offerUsage(personID: personID, offerIDs: ids, day: time.today.shanghaiDayMs)
        }
        return try offers.map { offer in
            let terms = try offer.terms()
            let scope = try offer.scope()
            var scopeView = Schemas.Offer.ScopePayload(_type: try API.value(scope.type))
            switch scope {
            case .merchant(let id):
                scopeView.merchantId = id
                scopeView.name = merchants[id].map { API.name($0.name) }
            case .merchantGroup(let id):
                scopeView.merchantGroupId = id
                scopeView.name = groups[id].map { API.name($0.name) }
            case .category(let category):
                scopeView.category = try API.domain(category)
            }
            let discount: Schemas.Offer.DiscountPayload
            switch terms.discount {
            case .percentOff(let basisPoints, let capFen):
                discount = .init(kind: .percentOff, percentOffBp: basisPoints, cap: capFen.map(API.money))
            case .amountOff(let amountFen, let minimumSpendFen):
                discount = .init(kind: .amountOff, amountOff: API.money(amountFen), minimumSpend: API.money(minimumSpendFen))
            }
            let status: Schemas.Offer.StatusPayload = offer.status != "active" ? .withdrawn
                : time.today < terms.schedule.validFrom ? .upcoming : time.today > terms.schedule.validUntil ? .ended : .active
            var view = Schemas.Offer(
                id: offer.id, cityCode: offer.cityCode, scope: scopeView, title: API.name(offer.title), terms: API.name(offer.termsText),
                discount: discount, validFrom: terms.schedule.validFrom.description, validUntil: terms.schedule.validUntil.description,
                weekdays: terms.schedule.weekdays, windows: terms.schedule.windows.map(\.text), perCardPerDay: terms.limits.perDay,
                perCardTotal: terms.limits.total, funding: try API.domain(terms.funding), budget: terms.budgetFen.map(API.money),
                status: status, createdAt: API.instant(ms: offer.createdAtMs))
            switch usage {
            case .whole:
                view.usage = .init(uses: Int(offer.uses), holders: holders[offer.id] ?? 0, discounted: API.money(offer.discountedFen),
                                   budgetLeft: offer.budgetFen.map { API.money(max(0, $0 - offer.discountedFen)) })
            case .atMerchant:
                let here = atMerchant[offer.id] ?? (0, 0, 0)
                view.usage = .init(uses: here.uses, holders: here.holders, discounted: API.money(here.discountedFen))
            case .remaining:
                let used = personal[offer.id] ?? OfferUsage(today: 0, total: 0)
                let leftTotal = terms.limits.total.map { max(0, $0 - used.total) }
                let leftToday = terms.limits.perDay.map { max(0, min($0 - used.today, leftTotal ?? Int.max)) }
                view.remainingUses = .init(today: leftToday, total: leftTotal)
            }
            return view
        }
    }

    static func paymentViews(_ tx: StoreTx, _ payments: [PaymentRecord]) async throws -> [Schemas.Payment] {
        let offers = try await tx.offers(ids: Set(payments.compactMap(\.offerId)))
        return try payments.map { try PaymentController.paymentView($0, offer: $0.offerId.flatMap { offers[$0] }) }
    }

    // MARK: helpers

    static func notFound(_ id: String) -> DomainError { DomainError.notFound("offer.not_found", "no offer \(id.prefix(64))") }

    static func cityCode(_ text: String) throws -> String {
        guard text.utf8.count == 6, text.allSatisfy(\.isASCIIDigit) else {
            throw DomainError.malformed("city.code_invalid", "city_code must be a 6-digit GB/T 2260 code")
        }
        return text
    }

    static func merchant(_ tx: StoreTx, _ id: String) async throws -> MerchantRecord {
        guard let merchant = try await tx.merchant(id: id) else { throw StoreError.corrupt("merchant \(id) of a merchant administrator vanished") }
        return merchant
    }

    func dayParameter(_ request: Request) throws -> CivilDate {
        guard let text = request.uri.queryParameters["date"] else { return clock.read().today }
        return try CivilDate.parse(String(text), field: "date")
    }
}
