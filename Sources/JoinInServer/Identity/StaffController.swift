import Foundation
import JoinInAPI
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore

/// Staff sign-in and sessions, staff accounts and terminals (administrators).
struct StaffController: Sendable {
    let store: Store
    let config: ServerConfig
    let clock: AppClock
    let passwords: Passwords

    func register(_ r: inout RouteRegistrar) {
        r.on(.post, "/v1/staff/sessions", .anyone) { request, context in try await signIn(request, context) }
        r.on(.delete, "/v1/staff/sessions/current", .anyStaffEvenBeforePasswordChange) { _, context in
            let staff = try context.staff()
            let now = clock.nowMs()
            try await store.write { tx in
                try await tx.revokeSession(tokenHash: staff.tokenHash, atMs: now)
                try await tx.appendAudit(actor: staff.auditName, action: "staff.sign_out", objectType: "staff", objectID: staff.id, atMs: now)
            }
            return Response(status: .noContent)
        }
        r.on(.get, "/v1/staff/me", .anyStaffEvenBeforePasswordChange) { _, context in
            let staff = try context.staff()
            return try JSON.response(Schemas.Staff(id: staff.id, username: staff.username, role: try API.value(staff.role.rawValue),
                                                   employerId: staff.employerID, branchId: staff.branchID,
                                                   department: try staff.department.map { try API.value($0) }, merchantId: staff.merchantID,
                                                   mustChangePassword: staff.mustChangePassword))
        }
        r.on(.post, "/v1/staff/me/password", .anyStaffEvenBeforePasswordChange) { request, context in
            try await changePassword(request, context)
        }
        r.on(.post, "/v1/staff", .staff(.admin)) { request, context in
            let admin = try context.staff()
            let (body, _) = try await JSON.decode(Schemas.NewStaffRequest.self, from: request, limit: config.bodyBytesMax)
            let id = try await Provisioning.addStaff(
                .init(username: body.username, password: body.password, role: try API.domain(body.role), employerID: body.employerId,
                      branchID: body.branchId, department: body.department?.rawValue, merchantID: body.merchantId),
                store: store, actor: admin.auditName, bcryptCost: config.bcryptCost, nowMs: clock.nowMs())
            return try JSON.response(Schemas.Id(id: id), status: .created)
        }
        r.on(.post, "/v1/terminals", .staff(.admin)) { request, context in
            let admin = try context.staff()
            let (body, _) = try await JSON.decode(Schemas.NewTerminalRequest.self, from: request, limit: config.bodyBytesMax)
            let created = try await Provisioning.addTerminal(kind: try API.domain(body.kind), name: body.name, bindingID: body.bindingId,
                                                            stopID: body.stopId,
                                                            store: store, actor: admin.auditName, nowMs: clock.nowMs())
            return try JSON.response(Schemas.TerminalCreated(id: created.id, apiKey: created.apiKey), status: .created,
                                     headers: [.cacheControl: "no-store"])
        }
        r.on(.post, "/v1/terminals/{id}/revocation", Access.staff(.admin)
            .objects(.open(because: "administrators manage every terminal"))) { _, context in
            let admin = try context.staff()
            let id = try context.parameters.require("id")
            let now = clock.nowMs()
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
            return try JSON.response(Schemas.TerminalRevoked(id: id, status: .revoked))
        }
    }

    func signIn(_ request: Request, _ context: AppContext) async throws -> Response {
        let (body, _) = try await JSON.decode(Schemas.SignInRequest.self, from: request, limit: 16 * 1024)
        let username = body.username.trimmingWhitespace().lowercased()
        guard (1...64).contains(username.scalarCount), (1...PasswordPolicy.lengthMax).contains(body.password.scalarCount) else {
            throw DomainError.malformed("auth.credentials_malformed", "username and password must be 1-64 and 1-128 characters")
        }
        let session = try await passwords.signIn(
            kind: "staff", account: username, password: body.password, source: context.remoteAddress,
            sessionSeconds: config.staffSessionSeconds, tokenPrefix: Tokens.staffPrefix,
            wrongDetail: "username or password is wrong") { tx in
                guard let staff = try await tx.staff(username: username), staff.disabledAtMs == nil else { return nil }
                return (staff.id, staff.passwordHash)
            }
        let mustChange = try await store.read { tx in try await tx.staff(id: session.principalID)?.needsPasswordChange } ?? false
        return try JSON.response(Schemas.Session(token: session.token, expiresAt: API.instant(ms: session.expiresAtMs),
                                                 mustChangePassword: mustChange),
                                 status: .created, headers: [.cacheControl: "no-store"])
    }

    func changePassword(_ request: Request, _ context: AppContext) async throws -> Response {
        let staff = try context.staff()
        return try await passwords.change(
            request, kind: "staff", id: staff.id, tokenHash: staff.tokenHash, identifiers: [staff.username],
            storedHash: { tx in try await tx.staff(id: staff.id)?.passwordHash },
            save: { tx, hash, _ in try await tx.setStaffPassword(id: staff.id, passwordHash: hash, mustChange: false) })
    }
}
