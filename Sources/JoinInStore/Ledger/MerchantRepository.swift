public import JoinInCore
import SQLKit

public struct MerchantRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let nameEn: String
    public let nameZh: String
    public let category: String
    public let cityCode: String
    public let createdAtMs: Int64
    public let groupId: String?

    public var name: LocalizedName { LocalizedName(en: nameEn, zh: nameZh) }
    public var merchantCategory: MerchantCategory? { MerchantCategory(rawValue: category) }
}

public struct PaymentRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let merchantId: String
    public let terminalId: String
    public let cardNumber: String
    public let personId: String
    public let amountFen: Int64
    public let refundedFen: Int64
    public let merchantReference: String
    public let createdAtMs: Int64
    /// The offer applied, if any; the price was `amountFen + discountFen`.
    public let offerId: String?
    public let discountFen: Int64
    /// How much of the discount refunds have given back to its funder so far.
    public let discountReturnedFen: Int64

    /// The till's amount before the discount.
    public var priceFen: Int64 { amountFen + discountFen }

    public init(id: String, merchantId: String, terminalId: String, cardNumber: String, personId: String, amountFen: Int64,
                refundedFen: Int64, merchantReference: String, createdAtMs: Int64, offerId: String? = nil, discountFen: Int64 = 0,
                discountReturnedFen: Int64 = 0) {
        self.id = id
        self.merchantId = merchantId
        self.terminalId = terminalId
        self.cardNumber = cardNumber
        self.personId = personId
        self.amountFen = amountFen
        self.refundedFen = refundedFen
        self.merchantReference = merchantReference
        self.createdAtMs = createdAtMs
        self.offerId = offerId
        self.discountFen = discountFen
        self.discountReturnedFen = discountReturnedFen
    }

    public var cursor: PageCursor { PageCursor(timeMs: createdAtMs, id: id) }
}

extension StoreTx {
    public func insertMerchant(id: String, name: LocalizedName, category: String, cityCode: String, groupID: String? = nil,
                               atMs: Int64) async throws {
        try await sql.raw("""
            INSERT INTO merchants (id, name_en, name_zh, category, city_code, group_id, created_at_ms)
            VALUES (\(bind: id), \(bind: name.en), \(bind: name.zh), \(bind: category), \(bind: cityCode), \(bind: groupID), \(bind: atMs))
            """).run()
    }

    public func merchant(id: String) async throws -> MerchantRecord? {
        try await sql.raw("SELECT * FROM merchants WHERE id = \(bind: id)").firstRecord(MerchantRecord.self)
    }

    public func insertPayment(_ payment: PaymentRecord) async throws {
        try await sql.raw("""
            INSERT INTO payments (id, merchant_id, terminal_id, card_number, person_id, amount_fen, refunded_fen, merchant_reference,
                created_at_ms, offer_id, discount_fen, discount_returned_fen)
            VALUES (\(bind: payment.id), \(bind: payment.merchantId), \(bind: payment.terminalId), \(bind: payment.cardNumber),
                \(bind: payment.personId), \(bind: payment.amountFen), \(bind: payment.refundedFen), \(bind: payment.merchantReference),
                \(bind: payment.createdAtMs), \(bind: payment.offerId), \(bind: payment.discountFen), \(bind: payment.discountReturnedFen))
            """).run()
    }

    public func payment(id: String) async throws -> PaymentRecord? {
        try await sql.raw("SELECT * FROM payments WHERE id = \(bind: id)").firstRecord(PaymentRecord.self)
    }

    /// `payment(id:)` for a caller that decides on its totals (locked on PostgreSQL until the
    /// transaction ends, so concurrent refunds of one payment queue).
    public func lockedPayment(id: String) async throws -> PaymentRecord? {
        try await sql.raw("SELECT * FROM payments WHERE id = \(bind: id)\(unsafeRaw: lockForUpdate)").firstRecord(PaymentRecord.self)
    }

    /// Adds a refund to a payment that still has the refunded and returned totals of `seen` (a
    /// compare-and-set: the discount share was computed from them) and stays within what was paid
    /// and discounted; false otherwise.
    public func addRefund(to seen: PaymentRecord, amountFen: Int64, discountReturnedFen: Int64) async throws -> Bool {
        try await sql.raw("""
            UPDATE payments SET refunded_fen = refunded_fen + \(bind: amountFen),
                discount_returned_fen = discount_returned_fen + \(bind: discountReturnedFen)
            WHERE id = \(bind: seen.id) AND refunded_fen = \(bind: seen.refundedFen) AND discount_returned_fen = \(bind: seen.discountReturnedFen)
                AND refunded_fen + \(bind: amountFen) <= amount_fen AND discount_returned_fen + \(bind: discountReturnedFen) <= discount_fen
            RETURNING id
            """).all().count == 1
    }
}
