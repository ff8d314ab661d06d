import JoinInCore
import JoinInStore

/// The card PIN, checked at the counter (withdrawals) and at merchant tills (payments).
struct PINCheck: Sendable {
    let store: Store
    let attempts: AttemptGuard

    /// Checks the card's PIN before the operation's own write (bcrypt is slow and must not hold the
    /// writer). Wrong PINs are counted per card and Shanghai day; after 3 the PIN is blocked until
    /// tomorrow. The attempt is reserved in the write that checks the count, before bcrypt runs,
    /// and given back when the PIN was right: parallel guesses cannot outrun the counter.
    func check(_ pin: String, card: CardRecord, actor: String, action: String, at time: AppClock.Reading) async throws {
        let now = time.ms
        let counter = (key: "pin:\(card.cardNumber):\(time.today)", policy: AttemptPolicy.cap(MoneyRules.wrongPINsPerDayMax))
        let outcome = try await attempts.reserve([counter]) { tx, now in
            try await tx.appendAudit(actor: actor, action: action, objectType: "card", objectID: card.cardNumber,
                                     outcome: "denied", detail: "pin blocked", atMs: now)
        }
        guard case .reserved(let reservation) = outcome else {
            throw DomainError.rule("card.pin_blocked", "\(MoneyRules.wrongPINsPerDayMax) wrong PINs today: the PIN is blocked until tomorrow")
        }
        var verified = false
        if PinPolicy.isWellFormed(pin), let pinHash = card.pinHash {
            verified = try await PasswordHasher.verify(pin, hash: pinHash)
        }
        let right = verified
        let counters = try await store.write(isolation: .lockedRows) { tx in
            let counters = try await tx.resolve(reservation, right: right, nowMs: now)
            if !right {
                try await tx.appendAudit(actor: actor, action: action, objectType: "card", objectID: card.cardNumber,
                                         outcome: "denied", detail: "wrong pin", atMs: now)
            }
            return counters
        }
        if right { return }
        let left = max(0, MoneyRules.wrongPINsPerDayMax - (counters.first?.failures ?? MoneyRules.wrongPINsPerDayMax))
        throw DomainError.rule(left == 0 ? "card.pin_blocked" : "card.pin_invalid",
                               left == 0 ? "wrong PIN; the PIN is now blocked until tomorrow" : "wrong PIN; \(left) attempt(s) left today")
    }
}
