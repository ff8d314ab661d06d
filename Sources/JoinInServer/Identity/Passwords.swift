import Foundation
import JoinInAPI
import Hummingbird
import JoinInCore
import JoinInStore

/// Password sign-in (staff and e-card accounts) and password changes, with their attempt counters.
struct Passwords: Sendable {
    let store: Store
    let config: ServerConfig
    let clock: AppClock
    let attempts: AttemptGuard
    /// Checked when an account does not exist, so a failed sign-in takes as long either way.
    let dummyPasswordHash: String

    struct NewSession {
        let token: String
        let expiresAtMs: Int64
        let principalID: String
    }

    /// Password sign-in with lockout, per account and per source address: an attempt is reserved
    /// on both counters in one write before any password is checked (a locked key answers 429 with
    /// Retry-After), so parallel guesses cannot outrun the lockout; a right password clears the
    /// account's counter and gives the source's attempt back. An unknown account is checked against
    /// a dummy hash so timing does not tell which accounts exist. Successes and failures are audited.
    func signIn(kind: String, account: String, password: String, source: String?, sessionSeconds: Int,
                tokenPrefix: String, wrongDetail: String,
                lookup: @escaping @Sendable (StoreTx) async throws -> (id: String, hash: String)?) async throws -> NewSession {
        let accountKey = "\(kind)-user:\(account)"
        let counters = [(key: accountKey, policy: AttemptPolicy.backOff(free: LoginThrottle.failuresFree))]
            + (source.map { [(key: "\(kind)-source:\($0)", policy: AttemptPolicy.backOff(free: LoginThrottle.sourceFailuresFree))] } ?? [])
        let now = clock.nowMs()
        let outcome = try await attempts.reserve(counters)
        guard case .reserved(let reservation) = outcome else {
            if case .refused(let until) = outcome { throw Self.lockedOut(untilMs: until ?? now, nowMs: now) }
            throw Self.lockedOut(untilMs: now, nowMs: now)
        }
        let found = try await store.read(lookup)
        let matches = try await PasswordHasher.verify(password, hash: found?.hash ?? dummyPasswordHash)
        guard let found, matches else {
            let counters = try await store.write(isolation: .lockedRows) { tx in
                let counters = try await tx.resolve(reservation, right: false, nowMs: now)
                try await tx.appendAudit(actor: "anonymous", action: "\(kind).sign_in", objectType: kind,
                                         objectID: found?.id ?? "-", outcome: "denied", atMs: now)
                return counters
            }
            // This failure may be the one that locks the account (or the source): say so now.
            if let locked = counters.map(\.lockedUntilMs).max(), locked > now {
                throw Self.lockedOut(untilMs: locked, nowMs: now)
            }
            throw DomainError.unauthenticated("auth.invalid_credentials", wrongDetail)
        }
        let token = Tokens.make(prefix: tokenPrefix)
        let expires = now + Int64(sessionSeconds) * 1000
        try await store.write(isolation: .lockedRows) { tx in
            try await tx.clearLoginFailures(throttleKey: accountKey)
            try await tx.resolve(reservation.without(key: accountKey), right: true, nowMs: now)
            try await tx.insertSession(tokenHash: store.secretDigest(token), principalKind: kind, principalID: found.id, atMs: now, expiresAtMs: expires)
            try await tx.appendAudit(actor: "\(kind):\(found.id)", action: "\(kind).sign_in", objectType: kind, objectID: found.id, atMs: now)
        }
        return NewSession(token: token, expiresAtMs: expires, principalID: found.id)
    }

    static func lockedOut(untilMs: Int64, nowMs: Int64) -> DomainError {
        let seconds = max(1, Int((untilMs - nowMs + 999) / 1000))
        return DomainError(.rateLimited, code: "auth.locked_out", title: "Too many failed attempts",
                           detail: "too many failed attempts; try again in \(seconds) seconds", retryAfterSeconds: seconds)
    }

    /// A signed-in account changes its own password (staff or cardholder): the current password
    /// is checked (and counted), the new one's policy applied; every other session of the account
    /// ends, the one that made the change stays signed in; audited as `<kind>.password_change`.
    func change(_ request: Request, kind: String, id: String, tokenHash: String, identifiers: [String],
                storedHash: @escaping @Sendable (StoreTx) async throws -> String?,
                save: @escaping @Sendable (StoreTx, String, Int64) async throws -> Void) async throws -> Response {
        let (body, _) = try await JSON.decode(Schemas.PasswordChangeRequest.self, from: request, limit: 16 * 1024)
        guard let stored = try await store.read(storedHash) else {
            throw DomainError.unauthenticated("auth.invalid", "the account no longer exists")
        }
        let actor = "\(kind):\(id)"
        let hash = try await newPasswordHash(body, storedHash: stored, account: actor, identifiers: identifiers)
        let now = clock.nowMs()
        try await store.write { tx in
            try await save(tx, hash, now)
            try await tx.revokeSessions(principalKind: kind, principalID: id, exceptTokenHash: tokenHash, atMs: now)
            try await tx.appendAudit(actor: actor, action: "\(kind).password_change", objectType: kind, objectID: id, atMs: now)
        }
        return try JSON.response(Schemas.PasswordChanged(status: .changed))
    }

    /// Checks the current password and the new one's policy; returns the new hash to store. The
    /// current password is a secret like any other: its wrong guesses are counted per account
    /// (back-off after 5), reserved before bcrypt runs, so a stolen session cannot brute-force it.
    func newPasswordHash(_ body: Schemas.PasswordChangeRequest, storedHash: String, account: String, identifiers: [String]) async throws -> String {
        guard body.currentPassword.scalarCount <= PasswordPolicy.lengthMax else {
            throw DomainError.rule("auth.current_password_wrong", "current_password is wrong")
        }
        let counter = (key: "password-change:\(account)", policy: AttemptPolicy.backOff(free: LoginThrottle.failuresFree))
        let now = clock.nowMs()
        let outcome = try await attempts.reserve([counter])
        guard case .reserved(let reservation) = outcome else {
            if case .refused(let until) = outcome { throw Self.lockedOut(untilMs: until ?? now, nowMs: now) }
            throw Self.lockedOut(untilMs: now, nowMs: now)
        }
        let right = try await PasswordHasher.verify(body.currentPassword, hash: storedHash)
        try await store.write(isolation: .lockedRows) { tx in
            if right {
                try await tx.clearLoginFailures(throttleKey: counter.key)
            } else {
                try await tx.resolve(reservation, right: false, nowMs: now)
            }
        }
        guard right else {
            throw DomainError.rule("auth.current_password_wrong", "current_password is wrong")
        }
        guard body.newPassword != body.currentPassword else {
            throw DomainError.rule("password.unchanged", "new_password must differ from current_password")
        }
        try PasswordPolicy.validate(body.newPassword, identifiers: identifiers)
        return try await PasswordHasher.hash(body.newPassword, cost: config.bcryptCost)
    }
}
