import Foundation
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore

struct SignInBody: Decodable {
    let username: String
    let password: String
}

struct SessionDTO: Encodable {
    let token: String
    let expiresAt: String
    let mustChangePassword: Bool
}

struct PasswordChangeBody: Decodable {
    let currentPassword: String
    let newPassword: String
}

struct NewStaffBody: Decodable {
    let username: String
    let password: String
    let role: StaffRole
    let employerId: String?
    let branchId: String?
    let department: String?
}

struct StaffDTO: Encodable {
    let id: String
    let username: String
    let role: String
    let employerId: String?
    let branchId: String?
    let department: String?
    let mustChangePassword: Bool
}

struct NewTerminalBody: Decodable {
    let kind: TerminalKind
    let name: String
    let bindingId: String?
}

struct IDDTO: Encodable {
    let id: String
}

struct TerminalCreatedDTO: Encodable {
    let id: String
    let apiKey: String
}

enum Timestamps {
    static func rfc3339(ms: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(ms) / 1000))
    }
}

extension JoinIn {
    func registerStaff(_ r: inout RouteRegistrar) {
        r.on(.post, "/v1/staff/sessions") { request, context in try await signIn(request, context) }
        r.on(.delete, "/v1/staff/sessions/current") { request, _ in
            let staff = try await auth.requireStaff(request, roles: Set(StaffRole.allCases), allowPendingPasswordChange: true)
            let now = nowMs
            try await store.write { tx in
                try await tx.revokeSession(tokenHash: staff.tokenHash, atMs: now)
                try await tx.appendAudit(actor: staff.auditName, action: "staff.sign_out", objectType: "staff", objectID: staff.id, atMs: now)
            }
            return Response(status: .noContent)
        }
        r.on(.get, "/v1/staff/me") { request, _ in
            let staff = try await auth.requireStaff(request, roles: Set(StaffRole.allCases), allowPendingPasswordChange: true)
            return try JSON.response(StaffDTO(id: staff.id, username: staff.username, role: staff.role.rawValue,
                                              employerId: staff.employerID, branchId: staff.branchID,
                                              department: staff.department, mustChangePassword: staff.mustChangePassword))
        }
        r.on(.post, "/v1/staff/me/password") { request, _ in try await changePassword(request) }
        r.on(.post, "/v1/staff") { request, _ in
            let admin = try await auth.requireStaff(request, roles: [.admin])
            let (body, _) = try await JSON.decode(NewStaffBody.self, from: request, limit: config.bodyBytesMax)
            let id = try await Provisioning.addStaff(
                .init(username: body.username, password: body.password, role: body.role, employerID: body.employerId,
                      branchID: body.branchId, department: body.department),
                store: store, actor: admin.auditName, bcryptCost: config.bcryptCost, nowMs: nowMs)
            return try JSON.response(IDDTO(id: id), status: .created)
        }
        r.on(.post, "/v1/terminals") { request, _ in
            let admin = try await auth.requireStaff(request, roles: [.admin])
            let (body, _) = try await JSON.decode(NewTerminalBody.self, from: request, limit: config.bodyBytesMax)
            let created = try await Provisioning.addTerminal(kind: body.kind, name: body.name, bindingID: body.bindingId,
                                                            store: store, actor: admin.auditName, nowMs: nowMs)
            return try JSON.response(TerminalCreatedDTO(id: created.id, apiKey: created.apiKey), status: .created,
                                     headers: [.cacheControl: "no-store"])
        }
        r.on(.post, "/v1/terminals/{id}/revocation") { request, context in
            let admin = try await auth.requireStaff(request, roles: [.admin])
            let id = try context.parameters.require("id")
            let now = nowMs
            try await store.write { tx in
                guard let terminal = try await tx.terminal(id: id) else {
                    throw DomainError.notFound("terminal.not_found", "no terminal \(id)")
                }
                guard terminal.revokedAtMs == nil else {
                    throw DomainError.conflict("terminal.already_revoked", "terminal \(id) is already revoked")
                }
                try await tx.revokeTerminal(id: id, atMs: now)
                try await tx.appendAudit(actor: admin.auditName, action: "terminal.revoke", objectType: "terminal", objectID: id, atMs: now)
            }
            return try JSON.response(["id": id, "status": "revoked"])
        }
    }

    func signIn(_ request: Request, _ context: AppContext) async throws -> Response {
        let (body, _) = try await JSON.decode(SignInBody.self, from: request, limit: 16 * 1024)
        let username = body.username.trimmingWhitespace().lowercased()
        guard (1...64).contains(username.scalarCount), (1...PasswordPolicy.lengthMax).contains(body.password.scalarCount) else {
            throw DomainError.malformed("auth.credentials_malformed", "username and password must be 1-64 and 1-128 characters")
        }
        let session = try await passwordSignIn(
            kind: "staff", account: username, password: body.password, source: context.remoteAddress,
            sessionSeconds: config.staffSessionSeconds, tokenPrefix: Tokens.staffPrefix,
            wrongDetail: "username or password is wrong") { tx in
                guard let staff = try await tx.staff(username: username), staff.disabledAtMs == nil else { return nil }
                return (staff.id, staff.passwordHash)
            }
        let mustChange = try await store.read { tx in try await tx.staff(id: session.principalID)?.needsPasswordChange } ?? false
        return try JSON.response(SessionDTO(token: session.token, expiresAt: Timestamps.rfc3339(ms: session.expiresAtMs),
                                            mustChangePassword: mustChange),
                                 status: .created, headers: [.cacheControl: "no-store"])
    }

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
    func passwordSignIn(kind: String, account: String, password: String, source: String?, sessionSeconds: Int,
                        tokenPrefix: String, wrongDetail: String,
                        lookup: @escaping @Sendable (StoreTx) async throws -> (id: String, hash: String)?) async throws -> NewSession {
        let accountKey = "\(kind)-user:\(account)"
        let counters = [(key: accountKey, policy: AttemptPolicy.backOff(free: LoginThrottle.failuresFree))]
            + (source.map { [(key: "\(kind)-source:\($0)", policy: AttemptPolicy.backOff(free: LoginThrottle.sourceFailuresFree))] } ?? [])
        let now = nowMs
        let outcome = try await reserveAttempts(counters)
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
        return DomainError(.rateLimited, code: "auth.locked_out", title: "Too many failed sign-ins",
                           detail: "too many failed sign-ins; try again in \(seconds) seconds", retryAfterSeconds: seconds)
    }

    func changePassword(_ request: Request) async throws -> Response {
        let staff = try await auth.requireStaff(request, roles: Set(StaffRole.allCases), allowPendingPasswordChange: true)
        let (body, _) = try await JSON.decode(PasswordChangeBody.self, from: request, limit: 16 * 1024)
        guard let record = try await store.read({ tx in try await tx.staff(id: staff.id) }) else {
            throw DomainError.unauthenticated("auth.invalid", "the account no longer exists")
        }
        let hash = try await newPasswordHash(body, storedHash: record.passwordHash, identifiers: [staff.username])
        let now = nowMs
        try await store.write { tx in
            try await tx.setStaffPassword(id: staff.id, passwordHash: hash, mustChange: false)
            // Every other session ends; the one that changed the password stays signed in.
            try await tx.revokeSessions(principalKind: "staff", principalID: staff.id, exceptTokenHash: staff.tokenHash, atMs: now)
            try await tx.appendAudit(actor: staff.auditName, action: "staff.password_change", objectType: "staff", objectID: staff.id, atMs: now)
        }
        return try JSON.response(["status": "changed"])
    }
}

extension JoinIn {
    /// Checks the current password and the new one's policy; returns the new hash to store.
    func newPasswordHash(_ body: PasswordChangeBody, storedHash: String, identifiers: [String]) async throws -> String {
        guard body.currentPassword.scalarCount <= PasswordPolicy.lengthMax,
              try await PasswordHasher.verify(body.currentPassword, hash: storedHash) else {
            throw DomainError.rule("auth.current_password_wrong", "current_password is wrong")
        }
        guard body.newPassword != body.currentPassword else {
            throw DomainError.rule("password.unchanged", "new_password must differ from current_password")
        }
        try PasswordPolicy.validate(body.newPassword, identifiers: identifiers)
        return try await PasswordHasher.hash(body.newPassword, cost: config.bcryptCost)
    }
}

extension Sequence {
    func asyncCompactMap<T>(_ transform: (Element) async throws -> T?) async rethrows -> [T] {
        var out: [T] = []
        for element in self {
            if let value = try await transform(element) { out.append(value) }
        }
        return out
    }
}
