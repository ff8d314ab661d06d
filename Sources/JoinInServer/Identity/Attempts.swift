import Hummingbird
import JoinInCore
import JoinInStore

/// Reserving attempts on the counters that guard a secret (`AttemptRules`), for PIN checks,
/// sign-in, password changes and e-card registration.
struct AttemptGuard: Sendable {
    let store: Store
    let clock: AppClock

    /// How long an attempt waits for checks in flight on the same counter: the reservation lease.
    /// Within it every check in flight has reported back or counts as failed, so the wait ends
    /// in a definite answer; the bound is only reached if the store itself stalls.
    static let attemptWaitMsMax = Int(AttemptRules.leaseMs) + 1_000

    /// Reserves one attempt on every counter, waiting (bounded) while checks already in flight
    /// could still use up what is left. Returns `.reserved` or `.refused`; `onRefused` runs in
    /// the write that refused (to audit it).
    func reserve(_ counters: [(key: String, policy: AttemptPolicy)],
                         onRefused: (@Sendable (StoreTx, Int64) async throws -> Void)? = nil) async throws -> AttemptOutcome {
        let deadline = ContinuousClock.now + .milliseconds(Self.attemptWaitMsMax)
        var pauseMs = 2
        while true {
            let now = clock.nowMs()
            let outcome = try await store.write(isolation: .lockedRows) { tx -> AttemptOutcome in
                let outcome = try await tx.reserveAttempts(counters, nowMs: now)
                if case .refused = outcome { try await onRefused?(tx, now) }
                return outcome
            }
            guard case .busy = outcome else { return outcome }
            guard ContinuousClock.now < deadline else {
                throw DomainError(.rateLimited, code: "auth.attempt_in_progress", title: "Attempt in progress",
                                  detail: "other attempts on this account or card are being checked; retry in a moment", retryAfterSeconds: 1)
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 1...pauseMs)))
            pauseMs = min(pauseMs * 2, 64)
        }
    }
}
