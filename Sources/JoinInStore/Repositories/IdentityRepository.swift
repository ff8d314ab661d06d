public import JoinInCore
import SQLKit

public struct StaffRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let username: String
    public let passwordHash: String
    public let role: String
    public let employerId: String?
    public let branchId: String?
    public let department: String?
    public let mustChangePassword: Int64
    public let createdAtMs: Int64
    public let disabledAtMs: Int64?

    public var staffRole: StaffRole? { StaffRole(rawValue: role) }
    public var needsPasswordChange: Bool { mustChangePassword != 0 }
}

public struct SessionRecord: Sendable, Equatable, Decodable {
    public let tokenHash: String
    public let principalKind: String
    public let principalId: String
    public let createdAtMs: Int64
    public let expiresAtMs: Int64
    public let revokedAtMs: Int64?
}

public struct TerminalRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let kind: String
    public let name: String
    public let bindingId: String?
    public let createdAtMs: Int64
    public let revokedAtMs: Int64?

    public var terminalKind: TerminalKind? { TerminalKind(rawValue: kind) }
}

public struct NewStaff: Sendable {
    public let id: String
    public let username: String
    public let passwordHash: String
    public let role: StaffRole
    public let binding: StaffBinding
    public let mustChangePassword: Bool

    public init(id: String, username: String, passwordHash: String, role: StaffRole, binding: StaffBinding, mustChangePassword: Bool) {
        self.id = id
        self.username = username
        self.passwordHash = passwordHash
        self.role = role
        self.binding = binding
        self.mustChangePassword = mustChangePassword
    }
}

extension StoreTx {
    public func staffCount() async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS n FROM staff").first()?.decode(column: "n", as: Int.self) ?? 0
    }

    public func insertStaff(_ staff: NewStaff, atMs: Int64) async throws {
        var employer: String?, branch: String?, department: String?
        switch staff.binding {
        case .none: break
        case .employer(let id): employer = id
        case .branch(let id): branch = id
        case .department(let code): department = code.rawValue
        }
        try await sql.raw("""
            INSERT INTO staff (id, username, password_hash, role, employer_id, branch_id, department, must_change_password, created_at_ms)
            VALUES (\(bind: staff.id), \(bind: staff.username), \(bind: staff.passwordHash), \(bind: staff.role.rawValue),
                    \(bind: employer), \(bind: branch), \(bind: department), \(bind: staff.mustChangePassword.storedFlag), \(bind: atMs))
            """).run()
    }

    public func staff(username: String) async throws -> StaffRecord? {
        try await sql.raw("SELECT * FROM staff WHERE username = \(bind: username)").first(decoding: StaffRecord.self, with: .snake)
    }

    public func staff(id: String) async throws -> StaffRecord? {
        try await sql.raw("SELECT * FROM staff WHERE id = \(bind: id)").first(decoding: StaffRecord.self, with: .snake)
    }

    public func setStaffPassword(id: String, passwordHash: String, mustChange: Bool) async throws {
        try await sql.raw("""
            UPDATE staff SET password_hash = \(bind: passwordHash), must_change_password = \(bind: mustChange.storedFlag)
            WHERE id = \(bind: id)
            """).run()
    }

    public func insertSession(tokenHash: String, principalKind: String, principalID: String, atMs: Int64, expiresAtMs: Int64) async throws {
        try await sql.raw("""
            INSERT INTO sessions (token_hash, principal_kind, principal_id, created_at_ms, expires_at_ms)
            VALUES (\(bind: tokenHash), \(bind: principalKind), \(bind: principalID), \(bind: atMs), \(bind: expiresAtMs))
            """).run()
    }

    public func session(tokenHash: String) async throws -> SessionRecord? {
        try await sql.raw("SELECT * FROM sessions WHERE token_hash = \(bind: tokenHash)").first(decoding: SessionRecord.self, with: .snake)
    }

    public func revokeSession(tokenHash: String, atMs: Int64) async throws {
        try await sql.raw("UPDATE sessions SET revoked_at_ms = \(bind: atMs) WHERE token_hash = \(bind: tokenHash) AND revoked_at_ms IS NULL").run()
    }

    /// Ends every session of a principal (password change, disabling).
    public func revokeSessions(principalKind: String, principalID: String, exceptTokenHash: String? = nil, atMs: Int64) async throws {
        try await sql.raw("""
            UPDATE sessions SET revoked_at_ms = \(bind: atMs)
            WHERE principal_kind = \(bind: principalKind) AND principal_id = \(bind: principalID) AND revoked_at_ms IS NULL
                AND token_hash <> \(bind: exceptTokenHash ?? "")
            """).run()
    }

    public func insertTerminal(id: String, kind: TerminalKind, name: String, bindingID: String?, keyHash: String, atMs: Int64) async throws {
        try await sql.raw("""
            INSERT INTO terminals (id, kind, name, binding_id, key_hash, created_at_ms)
            VALUES (\(bind: id), \(bind: kind.rawValue), \(bind: name), \(bind: bindingID), \(bind: keyHash), \(bind: atMs))
            """).run()
    }

    public func terminal(keyHash: String) async throws -> TerminalRecord? {
        try await sql.raw("SELECT id, kind, name, binding_id, created_at_ms, revoked_at_ms FROM terminals WHERE key_hash = \(bind: keyHash)")
            .first(decoding: TerminalRecord.self, with: .snake)
    }

    public func terminal(id: String) async throws -> TerminalRecord? {
        try await sql.raw("SELECT id, kind, name, binding_id, created_at_ms, revoked_at_ms FROM terminals WHERE id = \(bind: id)")
            .first(decoding: TerminalRecord.self, with: .snake)
    }

    public func revokeTerminal(id: String, atMs: Int64) async throws {
        try await sql.raw("UPDATE terminals SET revoked_at_ms = \(bind: atMs) WHERE id = \(bind: id) AND revoked_at_ms IS NULL").run()
    }

    /// Until when `key` is locked out (ms), or nil when it may try.
    public func lockedUntil(throttleKey key: String, nowMs: Int64) async throws -> Int64? {
        let until = try await sql.raw("SELECT locked_until_ms FROM login_throttle WHERE throttle_key = \(bind: key)").first()?
            .decode(column: "locked_until_ms", as: Int64.self)
        guard let until, until > nowMs else { return nil }
        return until
    }

    /// Counts a failed sign-in against `key`; returns the lockout it now carries (seconds, 0 if none).
    @discardableResult
    public func recordLoginFailure(throttleKey key: String, freeFailures: Int = LoginThrottle.failuresFree, nowMs: Int64) async throws -> Int {
        let failures = (try await sql.raw("SELECT failures FROM login_throttle WHERE throttle_key = \(bind: key)").first()?
            .decode(column: "failures", as: Int.self) ?? 0) + 1
        let lockout = LoginThrottle.lockoutSeconds(afterFailures: failures, free: freeFailures)
        let until = lockout > 0 ? nowMs + Int64(lockout) * 1000 : 0
        try await sql.raw("""
            INSERT INTO login_throttle (throttle_key, failures, locked_until_ms, updated_at_ms)
            VALUES (\(bind: key), \(bind: failures), \(bind: until), \(bind: nowMs))
            ON CONFLICT (throttle_key) DO UPDATE SET failures = excluded.failures,
                locked_until_ms = excluded.locked_until_ms, updated_at_ms = excluded.updated_at_ms
            """).run()
        return lockout
    }

    public func clearLoginFailures(throttleKey key: String) async throws {
        try await sql.raw("DELETE FROM login_throttle WHERE throttle_key = \(bind: key)").run()
    }
}
