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
    public let merchantId: String?
    public let mustChangePassword: Int64
    public let createdAtMs: Int64
    public let disabledAtMs: Int64?

    public var staffRole: StaffRole? { StaffRole(rawValue: role) }
    public var needsPasswordChange: Bool { mustChangePassword != 0 }
}

/// The keys of a session's cardholder (`sessionAndHolder`).
public struct SessionHolder: Sendable, Equatable, Decodable {
    public let id: String
    public let personId: String
    public let permitNumber: String

    /// Its columns carry a `joined_holder_` prefix, so they can sit beside a session row's own.
    enum CodingKeys: String, CodingKey {
        case id = "joinedHolderId", personId = "joinedHolderPersonId", permitNumber = "joinedHolderPermitNumber"
    }
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
        var employer: String?, branch: String?, department: String?, merchant: String?
        switch staff.binding {
        case .none: break
        case .employer(let id): employer = id
        case .branch(let id): branch = id
        case .department(let code): department = code.rawValue
        case .merchant(let id): merchant = id
        }
        try await sql.raw("""
            INSERT INTO staff (id, username, password_hash, role, employer_id, branch_id, department, merchant_id, must_change_password,
                created_at_ms)
            VALUES (\(bind: staff.id), \(bind: staff.username), \(bind: staff.passwordHash), \(bind: staff.role.rawValue),
                    \(bind: employer), \(bind: branch), \(bind: department), \(bind: merchant), \(bind: staff.mustChangePassword.storedFlag),
                    \(bind: atMs))
            """).run()
    }

    public func staff(username: String) async throws -> StaffRecord? {
        try await sql.raw("SELECT * FROM staff WHERE username = \(bind: username)").firstRecord(StaffRecord.self)
    }

    public func staff(id: String) async throws -> StaffRecord? {
        try await sql.raw("SELECT * FROM staff WHERE id = \(bind: id)").firstRecord(StaffRecord.self)
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

    /// A session and, when a cardholder's, that cardholder's keys, in one statement (every
    /// e-card request authenticates: one statement, one round trip on PostgreSQL, fewer).
    /// `holder` is nil for other principals and for a cardholder that no longer exists.
    public func sessionAndHolder(tokenHash: String) async throws -> (session: SessionRecord, holder: SessionHolder?)? {
        guard let row = try await sql.raw("""
            SELECT s.*, c.id AS joined_holder_id, c.person_id AS joined_holder_person_id, c.permit_number AS joined_holder_permit_number
            FROM sessions s LEFT JOIN cardholders c ON s.principal_kind = 'cardholder' AND c.id = s.principal_id
            WHERE s.token_hash = \(bind: tokenHash)
            """).first() else { return nil }
        let session = try row.record(SessionRecord.self)
        return (session, try row.decodeNil(column: "joined_holder_id") ? nil : try row.record(SessionHolder.self))
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
            .firstRecord(TerminalRecord.self)
    }

    public func terminal(id: String) async throws -> TerminalRecord? {
        try await sql.raw("SELECT id, kind, name, binding_id, created_at_ms, revoked_at_ms FROM terminals WHERE id = \(bind: id)")
            .firstRecord(TerminalRecord.self)
    }

    public func revokeTerminal(id: String, atMs: Int64) async throws {
        try await sql.raw("UPDATE terminals SET revoked_at_ms = \(bind: atMs) WHERE id = \(bind: id) AND revoked_at_ms IS NULL").run()
    }

    /// Reserves one attempt on each counter (DESIGN: every counter that guards a secret is atomic):
    /// each row is read under a lock and the attempt decided by `AttemptRules` — all counters or
    /// none. Call inside a `.lockedRows` write, before the secret is checked; `resolve` afterwards.
    public func reserveAttempts(_ counters: [(key: String, policy: AttemptPolicy)], nowMs: Int64) async throws -> AttemptOutcome {
        var held: [AttemptReservation.Held] = []
        var refusals: [Int64?] = []
        var busy = false
        for (key, policy) in counters.sorted(by: { $0.key < $1.key }) {
            switch AttemptRules.reserve(try await lockedAttemptCounter(key: key, nowMs: nowMs), policy: policy, nowMs: nowMs) {
            case .reserved(let next): held.append(.init(key: key, policy: policy, reserved: next))
            case .refused(let until): refusals.append(until)
            case .busy: busy = true
            }
        }
        if !refusals.isEmpty {
            // A reached cap (nil) outlasts any back-off; otherwise the latest lock applies.
            return .refused(lockedUntilMs: refusals.contains(where: { $0 == nil }) ? nil : refusals.compactMap { $0 }.max())
        }
        if busy { return .busy }
        for reservation in held {
            try await storeAttemptCounter(key: reservation.key, reservation.reserved, nowMs: nowMs)
        }
        return .reserved(AttemptReservation(held: held))
    }

    /// Records the outcome of a reservation's check: a failure on every counter, or every attempt
    /// given back. Returns the counters as now stored (a failure may have locked a key).
    @discardableResult
    public func resolve(_ reservation: AttemptReservation, right: Bool, nowMs: Int64) async throws -> [AttemptCounter] {
        var counters: [AttemptCounter] = []
        for held in reservation.held {
            let current = try await lockedAttemptCounter(key: held.key, nowMs: nowMs)
            let next = AttemptRules.resolve(current, policy: held.policy, right: right, nowMs: nowMs)
            try await storeAttemptCounter(key: held.key, next, nowMs: nowMs)
            counters.append(next)
        }
        return counters
    }

    /// The stored counter of `key` (zero when absent), locked for the rest of the transaction.
    public func lockedAttemptCounter(key: String, nowMs: Int64) async throws -> AttemptCounter {
        try await sql.raw("""
            INSERT INTO login_throttle (throttle_key, failures, locked_until_ms, updated_at_ms, pending, pending_until_ms)
            VALUES (\(bind: key), 0, 0, \(bind: nowMs), 0, 0) ON CONFLICT (throttle_key) DO NOTHING
            """).run()
        guard let row = try await sql.raw("""
            SELECT failures, locked_until_ms, pending, pending_until_ms FROM login_throttle
            WHERE throttle_key = \(bind: key)\(unsafeRaw: lockForUpdate)
            """).first() else {
            throw StoreError.corrupt("attempt counter \(key.prefix(40)) vanished inside its transaction")
        }
        return AttemptCounter(failures: try row.decode(column: "failures", as: Int.self),
                              lockedUntilMs: try row.decode(column: "locked_until_ms", as: Int64.self),
                              pending: try row.decode(column: "pending", as: Int.self),
                              pendingUntilMs: try row.decode(column: "pending_until_ms", as: Int64.self))
    }

    private func storeAttemptCounter(key: String, _ counter: AttemptCounter, nowMs: Int64) async throws {
        try await sql.raw("""
            UPDATE login_throttle SET failures = \(bind: Int64(counter.failures)), locked_until_ms = \(bind: counter.lockedUntilMs),
                pending = \(bind: Int64(counter.pending)), pending_until_ms = \(bind: counter.pendingUntilMs), updated_at_ms = \(bind: nowMs)
            WHERE throttle_key = \(bind: key)
            """).run()
    }

    public func clearLoginFailures(throttleKey key: String) async throws {
        try await sql.raw("DELETE FROM login_throttle WHERE throttle_key = \(bind: key)").run()
    }
}

public struct AttemptReservation: Sendable {
    public struct Held: Sendable {
        public let key: String
        public let policy: AttemptPolicy
        public let reserved: AttemptCounter
    }

    public let held: [Held]

    /// The same reservation without one counter (cleared instead of resolved).
    public func without(key: String) -> AttemptReservation {
        AttemptReservation(held: held.filter { $0.key != key })
    }
}

public enum AttemptOutcome: Sendable {
    case reserved(AttemptReservation)
    /// Some counter refused: until when (back-off), or nil when a cap is reached.
    case refused(lockedUntilMs: Int64?)
    /// Checks in flight could still use up what is left; retry shortly.
    case busy
}
