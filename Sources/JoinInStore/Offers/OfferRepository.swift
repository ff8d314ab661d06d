public import JoinInCore
import Foundation
import SQLKit

// Partner merchants' offers (issue 12): merchant groups, offers, their use on payments, refunds.

public struct MerchantGroupRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let nameEn: String
    public let nameZh: String
    public let createdAtMs: Int64

    public var name: LocalizedName { LocalizedName(en: nameEn, zh: nameZh) }
}

public struct OfferRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let cityCode: String
    public let scopeType: String
    public let scopeValue: String
    public let titleEn: String
    public let titleZh: String
    public let termsTextEn: String
    public let termsTextZh: String
    public let rulesJson: String
    public let funding: String
    public let budgetFen: Int64?
    /// Discounts given so far, net of what refunds gave back.
    public let discountedFen: Int64
    /// Payments that used the offer and were not wholly refunded.
    public let uses: Int64
    public let validFrom: String
    public let validUntil: String
    /// `active` or `withdrawn`.
    public let status: String
    public let createdBy: String
    public let createdAtMs: Int64
    public let withdrawnAtMs: Int64?

    public var title: LocalizedName { LocalizedName(en: titleEn, zh: titleZh) }
    public var termsText: LocalizedName { LocalizedName(en: termsTextEn, zh: termsTextZh) }

    public func terms() throws -> OfferTerms {
        do { return try JSONDecoder().decode(OfferTerms.self, from: Data(rulesJson.utf8)) } catch {
            throw StoreError.corrupt("offer \(id) has unreadable rules")
        }
    }

    public func scope() throws -> OfferScope {
        do { return try OfferScope.parse(type: scopeType, value: scopeValue) } catch {
            throw StoreError.corrupt("offer \(id) has an unreadable scope")
        }
    }

    public func candidate() throws -> OfferCandidate {
        OfferCandidate(id: id, createdAtMs: createdAtMs, terms: try terms(), withdrawn: status != "active", discountedFen: discountedFen)
    }
}

/// A new offer as the handler validated it.
public struct NewOffer: Sendable {
    public let id: String
    public let cityCode: String
    public let scope: OfferScope
    public let title: LocalizedName
    public let termsText: LocalizedName
    public let terms: OfferTerms
    public let createdBy: String

    public init(id: String, cityCode: String, scope: OfferScope, title: LocalizedName, termsText: LocalizedName, terms: OfferTerms,
                createdBy: String) {
        self.id = id
        self.cityCode = cityCode
        self.scope = scope
        self.title = title
        self.termsText = termsText
        self.terms = terms
        self.createdBy = createdBy
    }
}

public struct PaymentRefundRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let paymentId: String
    public let merchantId: String
    public let terminalId: String
    public let amountFen: Int64
    public let discountReturnedFen: Int64
    public let createdAtMs: Int64

    public init(id: String, paymentId: String, merchantId: String, terminalId: String, amountFen: Int64, discountReturnedFen: Int64,
                createdAtMs: Int64) {
        self.id = id
        self.paymentId = paymentId
        self.merchantId = merchantId
        self.terminalId = terminalId
        self.amountFen = amountFen
        self.discountReturnedFen = discountReturnedFen
        self.createdAtMs = createdAtMs
    }

    public var cursor: PageCursor { PageCursor(timeMs: createdAtMs, id: id) }
}

/// One merchant's day in figures (Shanghai day), from its payments and refunds.
public struct MerchantDayTotals: Sendable, Equatable {
    public var payments = 0
    /// Prices before discounts.
    public var grossFen: Int64 = 0
    public var merchantFundedDiscountFen: Int64 = 0
    public var subsidyDiscountFen: Int64 = 0
    /// What the cards paid.
    public var paidFen: Int64 = 0
    public var refunds = 0
    public var refundedFen: Int64 = 0
    /// Subsidies the merchant handed back to offer budgets with refunds.
    public var subsidyReturnedFen: Int64 = 0

    public init() {}
}

extension StoreTx {
    // MARK: merchant groups

    public func insertMerchantGroup(id: String, name: LocalizedName, atMs: Int64) async throws {
        try await sql.raw("""
            INSERT INTO merchant_groups (id, name_en, name_zh, created_at_ms) VALUES (\(bind: id), \(bind: name.en), \(bind: name.zh), \(bind: atMs))
            """).run()
    }

    public func merchantGroup(id: String) async throws -> MerchantGroupRecord? {
        try await sql.raw("SELECT * FROM merchant_groups WHERE id = \(bind: id)").firstRecord(MerchantGroupRecord.self)
    }

    public func merchantGroups(ids: Set<String>) async throws -> [String: MerchantGroupRecord] {
        try await rows(of: "merchant_groups", ids: ids, as: MerchantGroupRecord.self, id: \.id)
    }

    public func merchants(ids: Set<String>) async throws -> [String: MerchantRecord] {
        try await rows(of: "merchants", ids: ids, as: MerchantRecord.self, id: \.id)
    }

    /// The categories of a group's merchants (an offer for a group lists under each of them).
    public func merchantGroupCategories(groupIDs: Set<String>) async throws -> [String: Set<String>] {
        var found: [String: Set<String>] = [:]
        for chunk in chunked(groupIDs.sorted(), bindsPerItem: 1) {
            for row in try await sql.raw("SELECT DISTINCT group_id, category FROM merchants WHERE group_id IN (\(binds: Array(chunk)))").all() {
                found[try row.decode(column: "group_id", as: String.self), default: []].insert(try row.decode(column: "category", as: String.self))
            }
        }
        return found
    }

    // MARK: offers

    public func insertOffer(_ offer: NewOffer, atMs: Int64) async throws {
        let json = String(decoding: try JSONEncoder().encode(offer.terms), as: UTF8.self)
        try await sql.raw("""
            INSERT INTO offers (id, city_code, scope_type, scope_value, title_en, title_zh, terms_text_en, terms_text_zh, rules_json, funding,
                budget_fen, discounted_fen, uses, valid_from, valid_until, status, created_by, created_at_ms)
            VALUES (\(bind: offer.id), \(bind: offer.cityCode), \(bind: offer.scope.type), \(bind: offer.scope.value), \(bind: offer.title.en),
                \(bind: offer.title.zh), \(bind: offer.termsText.en), \(bind: offer.termsText.zh), \(bind: json),
                \(bind: offer.terms.funding.rawValue), \(bind: offer.terms.budgetFen), \(bind: Int64(0)), \(bind: Int64(0)),
                \(bind: offer.terms.schedule.validFrom.description), \(bind: offer.terms.schedule.validUntil.description), 'active',
                \(bind: offer.createdBy), \(bind: atMs))
            """).run()
    }

    public func offer(id: String) async throws -> OfferRecord? {
        try await sql.raw("SELECT * FROM offers WHERE id = \(bind: id)").firstRecord(OfferRecord.self)
    }

    public func offers(ids: Set<String>) async throws -> [String: OfferRecord] {
        try await rows(of: "offers", ids: ids, as: OfferRecord.self, id: \.id)
    }

    /// Offers, newest first, optionally of one city and status.
    public func offers(cityCode: String?, status: String?, before cursor: PageCursor?, limit: Int) async throws -> [OfferRecord] {
        let (time, id) = cursor.map { ($0.timeMs, $0.id) } ?? (Int64.max, "")
        var query = SQLQueryString("SELECT * FROM offers WHERE created_at_ms <= \(bind: time) AND (created_at_ms < \(bind: time) OR id < \(bind: id))")
        if let cityCode { query.appendInterpolation(unsafeRaw: " AND city_code = "); query.appendInterpolation(bind: cityCode) }
        if let status { query.appendInterpolation(unsafeRaw: " AND status = "); query.appendInterpolation(bind: status) }
        query.appendInterpolation(unsafeRaw: " ORDER BY created_at_ms DESC, id DESC LIMIT ")
        query.appendInterpolation(bind: max(0, limit))
        return try await sql.raw(query).allRecords(OfferRecord.self)
    }

    /// Active offers of a city (or of every city) that have not ended by `today`, oldest first.
    public func liveOffers(cityCode: String?, today: CivilDate) async throws -> [OfferRecord] {
        if let cityCode {
            return try await sql.raw("""
                SELECT * FROM offers WHERE city_code = \(bind: cityCode) AND status = 'active' AND valid_until >= \(bind: today.description)
                ORDER BY created_at_ms, id
                """).allRecords(OfferRecord.self)
        }
        return try await sql.raw("""
            SELECT * FROM offers WHERE status = 'active' AND valid_until >= \(bind: today.description) ORDER BY created_at_ms, id
            """).allRecords(OfferRecord.self)
    }

    /// The offers that cover `merchant` (its own, its group's, its category's, in its city) and
    /// run on `day`; active or not (a withdrawn one is reported as such to a quote).
    public func offers(covering merchant: MerchantRecord, on day: CivilDate) async throws -> [OfferRecord] {
        try await sql.raw("""
            SELECT * FROM offers WHERE city_code = \(bind: merchant.cityCode)
                AND valid_from <= \(bind: day.description) AND valid_until >= \(bind: day.description)
                AND ((scope_type = 'merchant' AND scope_value = \(bind: merchant.id))
                  OR (scope_type = 'merchant_group' AND scope_value = \(bind: merchant.groupId ?? ""))
                  OR (scope_type = 'category' AND scope_value = \(bind: merchant.category)))
            ORDER BY created_at_ms, id
            """).allRecords(OfferRecord.self)
    }

    /// Every offer that ever covered a merchant (for its administrator), newest first.
    public func offers(forMerchant merchant: MerchantRecord) async throws -> [OfferRecord] {
        try await sql.raw("""
            SELECT * FROM offers WHERE city_code = \(bind: merchant.cityCode)
                AND ((scope_type = 'merchant' AND scope_value = \(bind: merchant.id))
                  OR (scope_type = 'merchant_group' AND scope_value = \(bind: merchant.groupId ?? ""))
                  OR (scope_type = 'category' AND scope_value = \(bind: merchant.category)))
            ORDER BY created_at_ms DESC, id DESC LIMIT 500
            """).allRecords(OfferRecord.self)
    }

    /// Takes `discountFen` from the offer's budget and counts a use, if the offer is still active
    /// and its budget allows; false otherwise. The conditional update is the atomic guard against
    /// concurrent payments overspending a budget.
    public func claimOfferDiscount(offerID: String, discountFen: Int64) async throws -> Bool {
        try await sql.raw("""
            UPDATE offers SET discounted_fen = discounted_fen + \(bind: discountFen), uses = uses + 1
            WHERE id = \(bind: offerID) AND status = 'active' AND (budget_fen IS NULL OR discounted_fen + \(bind: discountFen) <= budget_fen)
            RETURNING id
            """).all().count == 1
    }

    /// Gives `discountFen` back to the offer's budget (a refund's share); `restoresUse` when the
    /// payment is now wholly refunded.
    public func returnOfferDiscount(offerID: String, discountFen: Int64, restoresUse: Bool) async throws {
        try await sql.raw("""
            UPDATE offers SET discounted_fen = discounted_fen - \(bind: discountFen), uses = uses - \(bind: Int64(restoresUse ? 1 : 0))
            WHERE id = \(bind: offerID)
            """).run()
    }

    /// Ends an active offer early; false when it was already withdrawn.
    public func withdrawOffer(id: String, atMs: Int64) async throws -> Bool {
        try await sql.raw("""
            UPDATE offers SET status = 'withdrawn', withdrawn_at_ms = \(bind: atMs) WHERE id = \(bind: id) AND status = 'active' RETURNING id
            """).all().count == 1
    }

    /// What one person has used of some offers: payments not wholly refunded, in total and within
    /// `day` (a Shanghai day's [start, end) in ms).
    public func offerUsage(personID: String, offerIDs: Set<String>, day: Range<Int64>) async throws -> [String: OfferUsage] {
        var found: [String: OfferUsage] = [:]
        for chunk in chunked(offerIDs.sorted(), bindsPerItem: 1) {
            for row in try await sql.raw("""
                SELECT offer_id, COUNT(*) AS total,
                    CAST(SUM(CASE WHEN created_at_ms >= \(bind: day.lowerBound) AND created_at_ms < \(bind: day.upperBound) THEN 1 ELSE 0 END) AS BIGINT) AS today
                FROM payments WHERE person_id = \(bind: personID) AND offer_id IN (\(binds: Array(chunk))) AND refunded_fen < amount_fen
                GROUP BY offer_id
                """).all() {
                found[try row.decode(column: "offer_id", as: String.self)] =
                    OfferUsage(today: Int(try row.decode(column: "today", as: Int64.self)), total: Int(try row.decode(column: "total", as: Int64.self)))
            }
        }
        return found
    }

    /// Per offer: distinct cardholders who used it and not wholly refunded.
    public func offerHolders(offerIDs: Set<String>) async throws -> [String: Int] {
        var found: [String: Int] = [:]
        for chunk in chunked(offerIDs.sorted(), bindsPerItem: 1) {
            for row in try await sql.raw("""
                SELECT offer_id, COUNT(DISTINCT person_id) AS n FROM payments
                WHERE offer_id IN (\(binds: Array(chunk))) AND refunded_fen < amount_fen GROUP BY offer_id
                """).all() {
                found[try row.decode(column: "offer_id", as: String.self)] = Int(try row.decode(column: "n", as: Int64.self))
            }
        }
        return found
    }

    /// Per offer, one merchant's use of it: payments not wholly refunded, their cardholders, and
    /// the discounts they kept.
    public func offerUseAtMerchant(merchantID: String, offerIDs: Set<String>) async throws -> [String: (uses: Int, holders: Int, discountedFen: Int64)] {
        var found: [String: (uses: Int, holders: Int, discountedFen: Int64)] = [:]
        for chunk in chunked(offerIDs.sorted(), bindsPerItem: 1) {
            for row in try await sql.raw("""
                SELECT offer_id, COUNT(*) AS n, COUNT(DISTINCT person_id) AS holders,
                    CAST(SUM(discount_fen - discount_returned_fen) AS BIGINT) AS discounted
                FROM payments WHERE merchant_id = \(bind: merchantID) AND offer_id IN (\(binds: Array(chunk))) AND refunded_fen < amount_fen
                GROUP BY offer_id
                """).all() {
                found[try row.decode(column: "offer_id", as: String.self)] = (Int(try row.decode(column: "n", as: Int64.self)),
                                                                             Int(try row.decode(column: "holders", as: Int64.self)),
                                                                             try row.decode(column: "discounted", as: Int64.self))
            }
        }
        return found
    }

    // MARK: payments and refunds

    public func insertPaymentRefund(_ refund: PaymentRefundRecord) async throws {
        try await sql.raw("""
            INSERT INTO payment_refunds (id, payment_id, merchant_id, terminal_id, amount_fen, discount_returned_fen, created_at_ms)
            VALUES (\(bind: refund.id), \(bind: refund.paymentId), \(bind: refund.merchantId), \(bind: refund.terminalId),
                \(bind: refund.amountFen), \(bind: refund.discountReturnedFen), \(bind: refund.createdAtMs))
            """).run()
    }

    /// A merchant's payments in [from, to), newest first.
    public func payments(merchantID: String, from: Int64, to: Int64, before cursor: PageCursor?, limit: Int) async throws -> [PaymentRecord] {
        let (time, id) = cursor.map { ($0.timeMs, $0.id) } ?? (Int64.max, "")
        return try await sql.raw("""
            SELECT * FROM payments WHERE merchant_id = \(bind: merchantID) AND created_at_ms >= \(bind: from) AND created_at_ms < \(bind: to)
                AND created_at_ms <= \(bind: time) AND (created_at_ms < \(bind: time) OR id < \(bind: id))
            ORDER BY created_at_ms DESC, id DESC LIMIT \(bind: max(0, limit))
            """).allRecords(PaymentRecord.self)
    }

    /// A merchant's refunds in [from, to), newest first.
    public func paymentRefunds(merchantID: String, from: Int64, to: Int64, before cursor: PageCursor?, limit: Int) async throws -> [PaymentRefundRecord] {
        let (time, id) = cursor.map { ($0.timeMs, $0.id) } ?? (Int64.max, "")
        return try await sql.raw("""
            SELECT * FROM payment_refunds WHERE merchant_id = \(bind: merchantID) AND created_at_ms >= \(bind: from) AND created_at_ms < \(bind: to)
                AND created_at_ms <= \(bind: time) AND (created_at_ms < \(bind: time) OR id < \(bind: id))
            ORDER BY created_at_ms DESC, id DESC LIMIT \(bind: max(0, limit))
            """).allRecords(PaymentRefundRecord.self)
    }

    /// A cardholder's payments that used an offer, newest first.
    public func discountedPayments(personID: String, before cursor: PageCursor?, limit: Int) async throws -> [PaymentRecord] {
        let (time, id) = cursor.map { ($0.timeMs, $0.id) } ?? (Int64.max, "")
        return try await sql.raw("""
            SELECT * FROM payments WHERE person_id = \(bind: personID) AND offer_id IS NOT NULL
                AND created_at_ms <= \(bind: time) AND (created_at_ms < \(bind: time) OR id < \(bind: id))
            ORDER BY created_at_ms DESC, id DESC LIMIT \(bind: max(0, limit))
            """).allRecords(PaymentRecord.self)
    }

    /// A cardholder's savings in [from, to): the discounts kept (given minus returned by refunds)
    /// and how many payments used an offer.
    public func savings(personID: String, from: Int64, to: Int64) async throws -> (payments: Int, savedFen: Int64) {
        let row = try await sql.raw("""
            SELECT COUNT(*) AS n, CAST(COALESCE(SUM(discount_fen - discount_returned_fen), 0) AS BIGINT) AS saved FROM payments
            WHERE person_id = \(bind: personID) AND offer_id IS NOT NULL AND created_at_ms >= \(bind: from) AND created_at_ms < \(bind: to)
            """).first()
        return (Int(try row?.decode(column: "n", as: Int64.self) ?? 0), try row?.decode(column: "saved", as: Int64.self) ?? 0)
    }

    /// One merchant's payments and refunds in [from, to), summed.
    public func merchantDayTotals(merchantID: String, from: Int64, to: Int64) async throws -> MerchantDayTotals {
        var totals = MerchantDayTotals()
        for row in try await sql.raw("""
            SELECT o.funding AS funding, COUNT(*) AS n, CAST(SUM(p.amount_fen) AS BIGINT) AS paid, CAST(SUM(p.discount_fen) AS BIGINT) AS discount
            FROM payments p LEFT JOIN offers o ON o.id = p.offer_id
            WHERE p.merchant_id = \(bind: merchantID) AND p.created_at_ms >= \(bind: from) AND p.created_at_ms < \(bind: to)
            GROUP BY o.funding
            """).all() {
            let paid = try row.decode(column: "paid", as: Int64.self), discount = try row.decode(column: "discount", as: Int64.self)
            totals.payments += Int(try row.decode(column: "n", as: Int64.self))
            totals.paidFen += paid
            totals.grossFen += paid + discount
            switch try row.decode(column: "funding", as: String?.self) {
            case OfferFunding.subsidy.rawValue?: totals.subsidyDiscountFen += discount
            default: totals.merchantFundedDiscountFen += discount
            }
        }
        for row in try await sql.raw("""
            SELECT o.funding AS funding, COUNT(*) AS n, CAST(SUM(r.amount_fen) AS BIGINT) AS refunded,
                CAST(SUM(r.discount_returned_fen) AS BIGINT) AS returned
            FROM payment_refunds r JOIN payments p ON p.id = r.payment_id LEFT JOIN offers o ON o.id = p.offer_id
            WHERE r.merchant_id = \(bind: merchantID) AND r.created_at_ms >= \(bind: from) AND r.created_at_ms < \(bind: to)
            GROUP BY o.funding
            """).all() {
            totals.refunds += Int(try row.decode(column: "n", as: Int64.self))
            totals.refundedFen += try row.decode(column: "refunded", as: Int64.self)
            if try row.decode(column: "funding", as: String?.self) == OfferFunding.subsidy.rawValue {
                totals.subsidyReturnedFen += try row.decode(column: "returned", as: Int64.self)
            }
        }
        return totals
    }

    /// The net movement of one account over [from, to): credits minus debits, reversals included.
    public func netMovement(accountID: String, from: Int64, to: Int64) async throws -> Int64 {
        let row = try await sql.raw("""
            SELECT CAST(COALESCE(SUM(CASE WHEN credit_account_id = \(bind: accountID) THEN amount_fen ELSE -amount_fen END), 0) AS BIGINT) AS net
            FROM ledger_transfers WHERE (credit_account_id = \(bind: accountID) OR debit_account_id = \(bind: accountID))
                AND created_at_ms >= \(bind: from) AND created_at_ms < \(bind: to)
            """).first()
        return try row?.decode(column: "net", as: Int64.self) ?? 0
    }
}
