public import JoinInCore
import SQLKit

public struct MerchantRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let nameEn: String
    public let nameZh: String
    public let category: String
    public let cityCode: String
    public let createdAtMs: Int64

    public var name: LocalizedName { LocalizedName(en: nameEn, zh: nameZh) }
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

    public init(id: String, merchantId: String, terminalId: String, cardNumber: String, personId: String, amountFen: Int64,
                refundedFen: Int64, merchantReference: String, createdAtMs: Int64) {
        self.id = id
        self.merchantId = merchantId
        self.terminalId = terminalId
        self.cardNumber = cardNumber
        self.personId = personId
        self.amountFen = amountFen
        self.refundedFen = refundedFen
        self.merchantReference = merchantReference
        self.createdAtMs = createdAtMs
    }
}

extension StoreTx {
    public func insertMerchant(id: String, name: LocalizedName, category: String, cityCode: String, atMs: Int64) async throws {
        try await sql.raw("""
            INSERT INTO merchants (id, name_en, name_zh, category, city_code, created_at_ms)
            VALUES (\(bind: id), \(bind: name.en), \(bind: name.zh), \(bind: category), \(bind: cityCode), \(bind: atMs))
            """).run()
    }

    public func merchant(id: String) async throws -> MerchantRecord? {
        try await sql.raw("SELECT * FROM merchants WHERE id = \(bind: id)").first(decoding: MerchantRecord.self, with: .snake)
    }

    public func insertPayment(_ payment: PaymentRecord) async throws {
        try await sql.raw("""
            INSERT INTO payments (id, merchant_id, terminal_id, card_number, person_id, amount_fen, refunded_fen, merchant_reference, created_at_ms)
            VALUES (\(bind: payment.id), \(bind: payment.merchantId), \(bind: payment.terminalId), \(bind: payment.cardNumber),
                \(bind: payment.personId), \(bind: payment.amountFen), \(bind: payment.refundedFen), \(bind: payment.merchantReference),
                \(bind: payment.createdAtMs))
            """).run()
    }

    public func payment(id: String) async throws -> PaymentRecord? {
        try await sql.raw("SELECT * FROM payments WHERE id = \(bind: id)").first(decoding: PaymentRecord.self, with: .snake)
    }

    /// Adds to a payment's refunded total if it stays within the amount paid; false otherwise.
    public func addRefund(paymentID: String, amountFen: Int64) async throws -> Bool {
        try await sql.raw("""
            UPDATE payments SET refunded_fen = refunded_fen + \(bind: amountFen)
            WHERE id = \(bind: paymentID) AND refunded_fen + \(bind: amountFen) <= amount_fen
            RETURNING id
            """).all().count == 1
    }
}
