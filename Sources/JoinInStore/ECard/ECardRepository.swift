public import JoinInCore
import SQLKit

public struct CardholderRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let personId: String
    public let permitNumber: String
    public let passwordHash: String
    public let createdAtMs: Int64
    public let passwordChangedAtMs: Int64
}

public struct CredentialStatusRecord: Sendable, Equatable, Decodable {
    public let listId: String
    public let idx: Int64
    public let permitId: String
    public let cardNumber: String
    public let revoked: Int64
}

extension StoreTx {
    // MARK: activation codes (printed on the decision letter, sealed at rest)

    public func setActivationCode(permitID: String, code: String) async throws {
        try await sql.raw("""
            UPDATE permits SET activation_code_enc = \(bind: try seal(code, column: "permits.activation_code_enc")), activation_used_at_ms = NULL
            WHERE id = \(bind: permitID)
            """).run()
    }

    /// The unused activation code of a permit, if any.
    public func activationCode(permitID: String) async throws -> String? {
        guard let row = try await sql.raw("SELECT activation_code_enc, activation_used_at_ms FROM permits WHERE id = \(bind: permitID)").first(),
              try row.decode(column: "activation_used_at_ms", as: Int64?.self) == nil,
              let sealed = try row.decode(column: "activation_code_enc", as: String?.self) else { return nil }
        return try open(sealed, column: "permits.activation_code_enc")
    }

    public func markActivationCodeUsed(permitID: String, atMs: Int64) async throws {
        try await sql.raw("UPDATE permits SET activation_used_at_ms = \(bind: atMs) WHERE id = \(bind: permitID)").run()
    }

    // MARK: cardholder accounts

    public func insertCardholder(id: String, personID: String, permitNumber: String, passwordHash: String, atMs: Int64) async throws {
        try await sql.raw("""
            INSERT INTO cardholders (id, person_id, permit_number, password_hash, created_at_ms, password_changed_at_ms)
            VALUES (\(bind: id), \(bind: personID), \(bind: permitNumber), \(bind: passwordHash), \(bind: atMs), \(bind: atMs))
            """).run()
    }

    public func cardholder(id: String) async throws -> CardholderRecord? {
        try await sql.raw("SELECT * FROM cardholders WHERE id = \(bind: id)").firstRecord(CardholderRecord.self)
    }

    public func cardholder(permitNumber: String) async throws -> CardholderRecord? {
        try await sql.raw("SELECT * FROM cardholders WHERE permit_number = \(bind: permitNumber)").firstRecord(CardholderRecord.self)
    }

    public func cardholder(personID: String) async throws -> CardholderRecord? {
        try await sql.raw("SELECT * FROM cardholders WHERE person_id = \(bind: personID)").firstRecord(CardholderRecord.self)
    }

    public func setCardholderPassword(id: String, passwordHash: String, atMs: Int64) async throws {
        try await sql.raw("""
            UPDATE cardholders SET password_hash = \(bind: passwordHash), password_changed_at_ms = \(bind: atMs) WHERE id = \(bind: id)
            """).run()
    }

    // MARK: credential status lists

    /// The status entry for credentials about (permit, card), created on first use.
    public func credentialStatus(permitID: String, cardNumber: String, listCapacity: Int, atMs: Int64) async throws -> CredentialStatusRecord {
        if let existing = try await sql.raw("""
            SELECT list_id, idx, permit_id, card_number, revoked FROM credential_status
            WHERE permit_id = \(bind: permitID) AND card_number = \(bind: cardNumber)
            """).firstRecord(CredentialStatusRecord.self) {
            return existing
        }
        let position = try await nextCounter("credential-status") - 1
        let listID = String(position / Int64(listCapacity) + 1)
        let index = position % Int64(listCapacity)
        try await sql.raw("""
            INSERT INTO credential_status (list_id, idx, permit_id, card_number, revoked, created_at_ms)
            VALUES (\(bind: listID), \(bind: index), \(bind: permitID), \(bind: cardNumber), \(bind: Int64(0)), \(bind: atMs))
            """).run()
        return CredentialStatusRecord(listId: listID, idx: index, permitId: permitID, cardNumber: cardNumber, revoked: 0)
    }

    /// Revokes every credential about a permit (cancellation), in the caller's transaction.
    public func revokeCredentials(permitID: String, atMs: Int64) async throws {
        try await sql.raw("""
            UPDATE credential_status SET revoked = 1, revoked_at_ms = \(bind: atMs) WHERE permit_id = \(bind: permitID) AND revoked = 0
            """).run()
    }

    /// Revokes every credential that shows a card (lost, replaced, cancelled), in the caller's transaction.
    public func revokeCredentials(cardNumber: String, atMs: Int64) async throws {
        try await sql.raw("""
            UPDATE credential_status SET revoked = 1, revoked_at_ms = \(bind: atMs) WHERE card_number = \(bind: cardNumber) AND revoked = 0
            """).run()
    }

    /// Revoked indexes of one list, and whether the list exists at all.
    public func revokedIndexes(listID: String) async throws -> (exists: Bool, revoked: [Int]) {
        let exists = try await sql.raw("SELECT idx FROM credential_status WHERE list_id = \(bind: listID) LIMIT 1").first() != nil
        let rows = try await sql.raw("SELECT idx FROM credential_status WHERE list_id = \(bind: listID) AND revoked = 1").all()
        return (exists, try rows.map { Int(try $0.decode(column: "idx", as: Int64.self)) })
    }

    // MARK: dynamic codes

    /// Records a redemption; false when the nonce was already redeemed.
    public func redeemCode(nonce: String, cardholderID: String, by redeemer: String, atMs: Int64, expiresAtMs: Int64) async throws -> Bool {
        guard try await sql.raw("SELECT nonce FROM redeemed_codes WHERE nonce = \(bind: nonce)").first() == nil else { return false }
        try await sql.raw("""
            INSERT INTO redeemed_codes (nonce, cardholder_id, redeemed_by, redeemed_at_ms, expires_at_ms)
            VALUES (\(bind: nonce), \(bind: cardholderID), \(bind: redeemer), \(bind: atMs), \(bind: expiresAtMs))
            """).run()
        return true
    }
}
