/// Counters that guard a secret: wrong PINs per card and day, failed sign-ins per account and per
/// source, e-card registration attempts per permit. An attempt is *reserved* in the same write that
/// reads the counter — before the secret is compared — and resolved afterwards (a failure, or
/// given back), so N parallel guesses cannot all pass a check that reads a stale count.
///
/// Reservations in flight count against the limit: while the checks in flight could still use up
/// what is left, a further attempt is neither refused nor checked but told to wait (`busy`), and
/// the server retries it shortly. So 32 parallel wrong PINs see exactly 3 checks and 29 refusals,
/// and 16 parallel right PINs all go through, a few at a time.
public struct AttemptCounter: Sendable, Equatable {
    /// Failures confirmed (and reservations whose lease ran out: a crash mid-check counts as wrong).
    public var failures: Int
    /// Until when (Unix ms) the key refuses attempts; 0 or a past time when it does not.
    public var lockedUntilMs: Int64
    /// Reservations whose secret is being checked right now.
    public var pending: Int
    /// When the newest reservation's lease ends; pending reservations older than that are failures.
    public var pendingUntilMs: Int64

    public init(failures: Int, lockedUntilMs: Int64, pending: Int = 0, pendingUntilMs: Int64 = 0) {
        self.failures = failures
        self.lockedUntilMs = lockedUntilMs
        self.pending = pending
        self.pendingUntilMs = pendingUntilMs
    }

    public static let zero = AttemptCounter(failures: 0, lockedUntilMs: 0)
}

public enum AttemptPolicy: Sendable, Equatable {
    /// Exponential back-off once `free` consecutive failures are reached (`LoginThrottle`).
    case backOff(free: Int)
    /// At most this many failures; then refused for as long as the key lives (wrong PINs: a key
    /// per card and Shanghai day, so "until tomorrow").
    case cap(Int)
}

public enum AttemptDecision: Sendable, Equatable {
    /// The attempt may go ahead; the counter to store while the secret is checked.
    case reserved(AttemptCounter)
    /// Refused without checking the secret; `lockedUntilMs` for back-off, nil for a reached cap.
    case refused(lockedUntilMs: Int64?)
    /// Checks in flight could still use up what is left: try again in a moment.
    case busy
}

public enum AttemptRules {
    /// How long a reservation may stay unresolved before it counts as a failure.
    public static let leaseMs: Int64 = 30_000

    /// Pending reservations whose lease ran out become failures (the check never reported back).
    public static func normalized(_ counter: AttemptCounter, nowMs: Int64) -> AttemptCounter {
        guard counter.pending > 0, counter.pendingUntilMs <= nowMs else { return counter }
        return AttemptCounter(failures: counter.failures + counter.pending, lockedUntilMs: counter.lockedUntilMs)
    }

    /// Decides an attempt against the stored counter.
    public static func reserve(_ stored: AttemptCounter, policy: AttemptPolicy, nowMs: Int64) -> AttemptDecision {
        let counter = normalized(stored, nowMs: nowMs)
        let room: Int
        switch policy {
        case .backOff(let free):
            if counter.lockedUntilMs > nowMs { return .refused(lockedUntilMs: counter.lockedUntilMs) }
            // Below the threshold, as many checks as failures are left; past it (the lock has run
            // out), one at a time, since each failure locks again.
            room = counter.failures < free ? free - counter.failures : 1
        case .cap(let maximum):
            if counter.failures >= maximum { return .refused(lockedUntilMs: nil) }
            room = maximum - counter.failures
        }
        guard counter.pending < room else { return .busy }
        var next = counter
        next.pending += 1
        next.pendingUntilMs = nowMs + leaseMs
        return .reserved(next)
    }

    /// The counter once a reserved attempt's secret has been checked: a wrong one becomes a
    /// failure (and may lock the key), a right one is given back.
    public static func resolve(_ stored: AttemptCounter, policy: AttemptPolicy, right: Bool, nowMs: Int64) -> AttemptCounter {
        var counter = stored
        counter.pending = max(0, counter.pending - 1)
        if counter.pending == 0 { counter.pendingUntilMs = 0 }
        guard !right else { return counter }
        counter.failures += 1
        if case .backOff(let free) = policy {
            let seconds = LoginThrottle.lockoutSeconds(afterFailures: counter.failures, free: free)
            if seconds > 0 { counter.lockedUntilMs = max(counter.lockedUntilMs, nowMs + Int64(seconds) * 1000) }
        }
        return counter
    }
}
