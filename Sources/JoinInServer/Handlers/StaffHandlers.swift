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

    /// Sign-in with lockout: per account and per source address; a locked key answers 429 with
    /// Retry-After before any password is checked.
    func signIn(_ request: Request, _ context: AppContext) async throws -> Response {
        let (body, _) = try await JSON.decode(SignInBody.self, from: request, limit: 16 * 1024)
        let username = body.username.trimmingWhitespace().lowercased()
        guard (1...64).contains(username.count), (1...PasswordPolicy.lengthMax).contains(body.password.count) else {
            throw DomainError.malformed("auth.credentials_malformed", "username and password must be 1-64 and 1-128 characters")
        }
        let keys = ["staff-user:\(username)"] + (context.remoteAddress.map { ["staff-source:\($0)"] } ?? [])
        let now = nowMs
        let locked = try await store.read { tx in
            try await keys.asyncCompactMap { try await tx.lockedUntil(throttleKey: $0, nowMs: now) }.max()
        }
        if let locked {
            throw Self.lockedOut(untilMs: locked, nowMs: now)
        }
        let staff = try await store.read { tx in try await tx.staff(username: username) }
        // Verify against a dummy hash when the user does not exist, so timing does not reveal usernames.
        let hash = staff?.passwordHash ?? dummyPasswordHash
        let matches = try await PasswordHasher.verify(body.password, hash: hash)
        guard let staff, matches, staff.disabledAtMs == nil else {
            let lockout = try await store.write { tx in
                var longest = 0
                for key in keys {
                    let free = key.hasPrefix("staff-source:") ? LoginThrottle.sourceFailuresFree : LoginThrottle.failuresFree
                    longest = max(longest, try await tx.recordLoginFailure(throttleKey: key, freeFailures: free, nowMs: now))
                }
                try await tx.appendAudit(actor: "anonymous", action: "staff.sign_in", objectType: "staff",
                                         objectID: staff?.id ?? "-", outcome: "denied", atMs: now)
                return longest
            }
            if lockout > 0 {
                throw Self.lockedOut(untilMs: now + Int64(lockout) * 1000, nowMs: now)
            }
            throw DomainError.unauthenticated("auth.invalid_credentials", "username or password is wrong")
        }
        let token = Tokens.make(prefix: Tokens.staffPrefix)
        let expires = now + Int64(config.staffSessionSeconds) * 1000
        try await store.write { tx in
            try await tx.clearLoginFailures(throttleKey: keys[0])
            try await tx.insertSession(tokenHash: Tokens.hash(token), principalKind: "staff", principalID: staff.id, atMs: now, expiresAtMs: expires)
            try await tx.appendAudit(actor: "staff:\(staff.id)", action: "staff.sign_in", objectType: "staff", objectID: staff.id, atMs: now)
        }
        return try JSON.response(SessionDTO(token: token, expiresAt: Timestamps.rfc3339(ms: expires),
                                            mustChangePassword: staff.needsPasswordChange),
                                 status: .created, headers: [.cacheControl: "no-store"])
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
        guard body.currentPassword.count <= PasswordPolicy.lengthMax,
              try await PasswordHasher.verify(body.currentPassword, hash: record.passwordHash) else {
            throw DomainError.rule("auth.current_password_wrong", "current_password is wrong")
        }
        guard body.newPassword != body.currentPassword else {
            throw DomainError.rule("password.unchanged", "new_password must differ from current_password")
        }
        try PasswordPolicy.validate(body.newPassword, identifiers: [staff.username])
        let hash = try await PasswordHasher.hash(body.newPassword, cost: config.bcryptCost)
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

extension Sequence {
    func asyncCompactMap<T>(_ transform: (Element) async throws -> T?) async rethrows -> [T] {
        var out: [T] = []
        for element in self {
            if let value = try await transform(element) { out.append(value) }
        }
        return out
    }
}
