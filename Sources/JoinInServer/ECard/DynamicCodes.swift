import JoinInCore
import JoinInStore

/// The dynamic QR: a signed, short-lived (120 s), single-use token naming a cardholder. The e-card
/// issues it (`CredentialController`); counters, gates and POS terminals redeem it once.
struct DynamicCodes: Sendable {
    static let typ = "joinin-dqr+jwt"

    let keys: CredentialKeys
    let clock: AppClock

    struct Claims: Sendable {
        let holderID: String
        let nonce: String
        let expiresAt: Int64
    }

    /// Checks a dynamic code's signature (outside any transaction) and reads its claims.
    func read(_ text: String) throws -> Claims {
        let verified: JWS.Verified
        do {
            verified = try JWS.verify(text, keys: keys.verificationKeys(nowSeconds: clock.nowMs() / 1000), expectedTyp: Self.typ)
        } catch {
            throw DomainError.rule("code.invalid", "the code is not a dynamic code this platform issued")
        }
        let claims = try? JSONValue.parse(verified.payload)
        guard let holderID = claims?["sub"]?.string, let nonce = claims?["jti"]?.string, let expiresAt = claims?["exp"]?.int else {
            throw DomainError.rule("code.invalid", "the code's contents are not readable")
        }
        return Claims(holderID: holderID, nonce: nonce, expiresAt: expiresAt)
    }

    /// Uses a code up inside the caller's transaction: a second use is 409, an expired code 422.
    func redeem(_ tx: StoreTx, _ code: Claims, by redeemer: String, nowMs: Int64) async throws {
        guard try await tx.redeemCode(nonce: code.nonce, cardholderID: code.holderID, by: redeemer, atMs: nowMs,
                                      expiresAtMs: code.expiresAt * 1000) else {
            throw DomainError.conflict("code.already_used", "this code was already redeemed; ask for a fresh one")
        }
        guard code.expiresAt > nowMs / 1000 else {
            throw DomainError.rule("code.expired", "the code expired; ask the holder to refresh it")
        }
    }
}
