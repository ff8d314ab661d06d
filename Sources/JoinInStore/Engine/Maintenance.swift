import SQLKit

/// How long records that only serve a while are kept before the sweeper deletes them
/// (docs/decisions.md §13). Everything that grows with traffic has a bound here or a table of its own.
public enum Retention {
    /// Idempotency records: a client may retry with the same key for at least 24 hours.
    public static let idempotencyMs: Int64 = 24 * 3_600_000
    /// Attempt counters (wrong PINs per card and day, sign-in and registration back-off) untouched
    /// for two days and not locked: a day's PIN counter is dead after its day, a back-off is at most
    /// an hour.
    public static let attemptCounterIdleMs: Int64 = 48 * 3_600_000
    /// Sessions a day after they expired or were ended.
    public static let endedSessionMs: Int64 = 24 * 3_600_000
    /// Redeemed dynamic-code nonces ten minutes after their code expired (a code is refused once
    /// expired whether or not its nonce is still on file; the margin covers clock skew).
    public static let redeemedCodeMs: Int64 = 10 * 60_000
    /// Deny-list changes: a gate more than 30 days behind gets the whole list instead of the changes.
    public static let denyListChangeMs: Int64 = 30 * 86_400_000
    /// Rows deleted per write, so a sweep never holds the writer long.
    public static let deleteBatchMax = 500
}

extension StoreTx {
    /// Deletes up to `Retention.deleteBatchMax` idempotency records older than the retention.
    public func sweepIdempotencyRecords(nowMs: Int64) async throws -> Int {
        try await sql.raw("""
            DELETE FROM idempotency_keys WHERE (principal, idempotency_key) IN (
                SELECT principal, idempotency_key FROM idempotency_keys WHERE created_at_ms < \(bind: nowMs - Retention.idempotencyMs)
                LIMIT \(bind: Retention.deleteBatchMax))
            RETURNING 1 AS gone
            """).all().count
    }

    /// Deletes idle, unlocked attempt counters.
    public func sweepAttemptCounters(nowMs: Int64) async throws -> Int {
        try await sql.raw("""
            DELETE FROM login_throttle WHERE throttle_key IN (
                SELECT throttle_key FROM login_throttle
                WHERE updated_at_ms < \(bind: nowMs - Retention.attemptCounterIdleMs) AND locked_until_ms <= \(bind: nowMs) AND (pending = 0 OR pending_until_ms < \(bind: nowMs))
                LIMIT \(bind: Retention.deleteBatchMax))
            RETURNING 1 AS gone
            """).all().count
    }

    /// Deletes sessions that expired or were ended more than a retention ago.
    public func sweepEndedSessions(nowMs: Int64) async throws -> Int {
        let before = nowMs - Retention.endedSessionMs
        return try await sql.raw("""
            DELETE FROM sessions WHERE token_hash IN (
                SELECT token_hash FROM sessions WHERE expires_at_ms < \(bind: before) OR revoked_at_ms < \(bind: before)
                LIMIT \(bind: Retention.deleteBatchMax))
            RETURNING 1 AS gone
            """).all().count
    }

    /// Deletes deny-list changes older than the retention (the current entries stay: a gate asking
    /// for changes since a version older than the oldest kept change gets the whole list).
    public func sweepDenyListChanges(nowMs: Int64) async throws -> Int {
        try await sql.raw("""
            DELETE FROM transit_deny_list_changes WHERE version IN (
                SELECT version FROM transit_deny_list_changes WHERE at_ms < \(bind: nowMs - Retention.denyListChangeMs)
                ORDER BY version LIMIT \(bind: Retention.deleteBatchMax))
            RETURNING 1 AS gone
            """).all().count
    }

    /// Deletes the nonces of dynamic codes that can no longer be presented.
    public func sweepRedeemedCodes(nowMs: Int64) async throws -> Int {
        try await sql.raw("""
            DELETE FROM redeemed_codes WHERE nonce IN (
                SELECT nonce FROM redeemed_codes WHERE expires_at_ms < \(bind: nowMs - Retention.redeemedCodeMs)
                LIMIT \(bind: Retention.deleteBatchMax))
            RETURNING 1 AS gone
            """).all().count
    }
}
