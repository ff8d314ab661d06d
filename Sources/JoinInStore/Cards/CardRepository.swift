public import JoinInCore
import Foundation
import SQLKit

public struct CardRecord: Sendable, Equatable, Decodable {
    public let cardNumber: String
    public let personId: String
    public let permitId: String
    public let branchId: String
    public let status: String
    public let pinHash: String?
    public let replacesCardNumber: String?
    public let replacedByCardNumber: String?
    public let financialEnabledAtMs: Int64?
    public let issuedBy: String
    public let issuedAtMs: Int64
    public let statusChangedAtMs: Int64

    public var cardStatus: CardStatus? { CardStatus(rawValue: status) }
}

/// What the e-card home and the credential show of the live card, read beside the permit
/// (`latestPermitWithPartiesAndLiveCard`): its columns carry a `live_card_` prefix, so they can
/// sit beside a permit row's own.
public struct LiveCardSummary: Sendable, Equatable, Decodable {
    public let cardNumber: String
    public let status: String
    public let financialEnabledAtMs: Int64?

    public var cardStatus: CardStatus? { CardStatus(rawValue: status) }

    enum CodingKeys: String, CodingKey {
        case cardNumber = "liveCardNumber", status = "liveCardStatus", financialEnabledAtMs = "liveCardFinancialEnabledAtMs"
    }

    /// The select list, over `cards lc`.
    static let columns = """
        lc.card_number AS live_card_number, lc.status AS live_card_status, lc.financial_enabled_at_ms AS live_card_financial_enabled_at_ms
        """

    public init(cardNumber: String, status: String, financialEnabledAtMs: Int64?) {
        self.cardNumber = cardNumber
        self.status = status
        self.financialEnabledAtMs = financialEnabledAtMs
    }
}

/// The documents behind financial functions, stored sealed as one JSON value.
public struct FinancialDocuments: Sendable, Equatable, Codable {
    public let taxCertificate: TaxCertificate
    public let residenceProof: ResidenceProof

    public init(taxCertificate: TaxCertificate, residenceProof: ResidenceProof) {
        self.taxCertificate = taxCertificate
        self.residenceProof = residenceProof
    }
}

extension StoreTx {
    public func insertCard(number: String, personID: String, permitID: String, branchID: String,
                           replaces: String?, issuedBy: String, atMs: Int64) async throws {
        try await sql.raw("""
            INSERT INTO cards (card_number, person_id, permit_id, branch_id, status, replaces_card_number, issued_by,
                issued_at_ms, status_changed_at_ms)
            VALUES (\(bind: number), \(bind: personID), \(bind: permitID), \(bind: branchID), \(bind: CardStatus.issued.rawValue),
                \(bind: replaces), \(bind: issuedBy), \(bind: atMs), \(bind: atMs))
            """).run()
    }

    public func card(number: String) async throws -> CardRecord? {
        try await sql.raw("SELECT * FROM cards WHERE card_number = \(bind: number)").firstRecord(CardRecord.self)
    }

    /// The person's card that still counts (issued, active, lost or frozen), if any.
    public func liveCard(personID: String) async throws -> CardRecord? {
        try await sql.raw(Self.liveCardQuery(columns: "*", personID: personID)).firstRecord(CardRecord.self)
    }

    /// `columns` of the person's live card: the latest issued card neither replaced nor
    /// cancelled (`CardStatus.isLive`). Not `status IN (live…)`: SQLite builds a scratch
    /// table for an IN list of more than two values on every run, which cost more than the read
    /// itself (docs/performance.md).
    static func liveCardQuery(columns: String, personID: String) -> SQLQueryString {
        var query = SQLQueryString("SELECT \(unsafeRaw: columns) FROM cards WHERE person_id = \(bind: personID)")
        for status in CardStatus.allCases where !status.isLive {
            query.appendInterpolation(unsafeRaw: " AND status <> ")
            query.appendInterpolation(bind: status.rawValue)
        }
        query.appendInterpolation(unsafeRaw: " ORDER BY issued_at_ms DESC LIMIT 1")
        return query
    }

    /// Moves a card from `expected` to `status`; false when another transaction moved it first.
    public func updateCardStatus(number: String, from expected: CardStatus, to status: CardStatus, atMs: Int64) async throws -> Bool {
        let rows = try await sql.raw("""
            UPDATE cards SET status = \(bind: status.rawValue), status_changed_at_ms = \(bind: atMs)
            WHERE card_number = \(bind: number) AND status = \(bind: expected.rawValue)
            RETURNING card_number
            """).all()
        return rows.count == 1
    }

    public func setCardPin(number: String, pinHash: String) async throws {
        try await sql.raw("UPDATE cards SET pin_hash = \(bind: pinHash) WHERE card_number = \(bind: number)").run()
    }

    public func setReplacedBy(number: String, replacement: String) async throws {
        try await sql.raw("UPDATE cards SET replaced_by_card_number = \(bind: replacement) WHERE card_number = \(bind: number)").run()
    }

    public func enableFinancialFunctions(number: String, documents: FinancialDocuments, atMs: Int64) async throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let json = String(decoding: try encoder.encode(documents), as: UTF8.self)
        try await sql.raw("""
            UPDATE cards SET financial_enabled_at_ms = \(bind: atMs),
                financial_documents_enc = \(bind: try seal(json, column: "cards.financial_documents_enc"))
            WHERE card_number = \(bind: number)
            """).run()
    }

    public func financialDocuments(cardNumber: String) async throws -> FinancialDocuments? {
        guard let sealed = try await sql.raw("SELECT financial_documents_enc FROM cards WHERE card_number = \(bind: cardNumber)")
            .first()?.decode(column: "financial_documents_enc", as: String?.self) else { return nil }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(FinancialDocuments.self, from: Data(try open(sealed, column: "cards.financial_documents_enc").utf8))
    }
}
