public import JoinInStore
import JoinInCore
public import Logging

/// Voids ledger holds whose expiry has passed (DESIGN §6: holds are posted, voided, or expire and
/// void automatically), so an abandoned reservation stops reducing the account's available balance.
public enum HoldSweeper {
    /// Holds voided per write transaction.
    public static let batchSize = 500

    /// Voids every hold expired at `nowMs`, in batches; returns how many.
    @discardableResult
    public static func sweep(store: Store, nowMs: Int64) async throws -> Int {
        var total = 0
        while true {
            let voided = try await store.write { tx in try await tx.voidExpiredHolds(nowMs: nowMs, limit: batchSize) }
            total += voided
            if voided < batchSize { return total }
        }
    }
}

/// Everything that would otherwise grow without bound or outlive its purpose, swept beside the
/// HTTP server (`joinin serve`): expired holds, idempotency records past their retention, idle
/// attempt counters, ended sessions, redeemed dynamic-code nonces, old deny-list changes (`Retention`). Each batch is its
/// own small write, so a sweep never holds the writer long.
public enum Sweeper {
    public struct Counts: Sendable, Equatable {
        public var holds = 0
        public var idempotencyRecords = 0
        public var attemptCounters = 0
        public var sessions = 0
        public var redeemedCodes = 0
        public var denyListChanges = 0
        public var libraryHolds = 0
        public var eventNoShows = 0
        public var inboxMessages = 0
        public var reminders = 0
        public var balanceDeltas = 0

        public var total: Int {
            holds + idempotencyRecords + attemptCounters + sessions + redeemedCodes + denyListChanges + libraryHolds + eventNoShows
                + inboxMessages + reminders + balanceDeltas
        }
    }

    /// One full sweep at `nowMs`.
    @discardableResult
    public static func sweep(store: Store, nowMs: Int64) async throws -> Counts {
        var counts = Counts()
        counts.holds = try await HoldSweeper.sweep(store: store, nowMs: nowMs)
        counts.idempotencyRecords = try await drain(store) { tx in try await tx.sweepIdempotencyRecords(nowMs: nowMs) }
        counts.attemptCounters = try await drain(store) { tx in try await tx.sweepAttemptCounters(nowMs: nowMs) }
        counts.sessions = try await drain(store) { tx in try await tx.sweepEndedSessions(nowMs: nowMs) }
        counts.redeemedCodes = try await drain(store) { tx in try await tx.sweepRedeemedCodes(nowMs: nowMs) }
        counts.denyListChanges = try await drain(store) { tx in try await tx.sweepDenyListChanges(nowMs: nowMs) }
        counts.libraryHolds = try await Circulation.sweepExpiredHolds(store: store, nowMs: nowMs)
        counts.eventNoShows = try await drain(store) { tx in
            try await tx.markEventNoShows(endedBeforeMs: nowMs, atMs: nowMs, limit: Retention.deleteBatchMax)
        }
        counts.inboxMessages = try await store.write { tx in
            try await tx.sweepInbox(beforeMs: nowMs - Int64(InboxRules.retentionDays) * 86_400_000, keep: InboxRules.perPersonMax,
                                    limit: Retention.deleteBatchMax)
        }
        counts.reminders = try await reminders(store: store, nowMs: nowMs)
        // Branch vaults' balance deltas into their rows (docs/decisions.md §22), a few accounts per write.
        // Bounded: under constant load new deltas keep arriving; the next sweep takes the rest.
        for _ in 0..<50 {
            let folded = try await store.write(isolation: .lockedRows) { tx in try await tx.foldBalanceDeltas(limit: 20) }
            counts.balanceDeltas += folded
            if folded == 0 { break }
        }
        return counts
    }

    /// Messages time produces: library items due within 3 days, permits expiring within 60 days.
    /// Each is produced once (its dedupe key names the loan and due date, or the permit).
    static func reminders(store: Store, nowMs: Int64) async throws -> Int {
        let today = CivilDate.shanghai(unixSeconds: nowMs / 1000)
        return try await store.write { tx in
            var posted = 0
            for loan in try await tx.loansDueSoon(from: today, to: today.adding(days: InboxRules.libraryDueSoonDays), limit: 500) {
                if try await Inbox.post(tx, personID: loan.personID, kind: .libraryDueSoon, plain: ["title": loan.title, "due": loan.due],
                                        link: (type: "library_loan", id: loan.loanID), dedupeKey: "loan-due:\(loan.loanID):\(loan.due)",
                                        nowMs: nowMs) { posted += 1 }
            }
            for permit in try await tx.permitsExpiring(from: today, to: today.adding(days: InboxRules.permitExpiryWarningDays), limit: 500) {
                let days = (CivilDate(permit.validUntil)?.daysSinceEpoch ?? today.daysSinceEpoch) - today.daysSinceEpoch
                if try await Inbox.post(tx, personID: permit.personID, kind: .permitExpiring,
                                        plain: ["valid_until": permit.validUntil, "days": String(days)], link: (type: "permit", id: permit.permitID),
                                        dedupeKey: "permit-expiring:\(permit.permitID)", nowMs: nowMs) { posted += 1 }
            }
            return posted
        }
    }

    /// Repeats one batch delete until a batch comes back short.
    private static func drain(_ store: Store, _ batch: @escaping @Sendable (StoreTx) async throws -> Int) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await store.write(batch)
            total += deleted
            if deleted < Retention.deleteBatchMax { return total }
        }
    }

    /// Sweeps every `interval` until the task is cancelled. A failed sweep is logged and tried
    /// again at the next interval; it never stops the server.
    public static func run(store: Store, clock: AppClock, interval: Duration, logger: Logger) async {
        while !Task.isCancelled {
            do {
                let counts = try await sweep(store: store, nowMs: clock.nowMs())
                if counts.total > 0 {
                    logger.info("swept expired records", metadata: [
                        "holds": "\(counts.holds)", "idempotency_records": "\(counts.idempotencyRecords)",
                        "attempt_counters": "\(counts.attemptCounters)", "sessions": "\(counts.sessions)",
                        "redeemed_codes": "\(counts.redeemedCodes)", "library_holds": "\(counts.libraryHolds)",
                        "event_no_shows": "\(counts.eventNoShows)", "inbox_messages": "\(counts.inboxMessages)", "reminders": "\(counts.reminders)",
                    ])
                }
            } catch is CancellationError {
                return  // the server is stopping
            } catch {
                logger.error("sweep failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            }
            do {
                try await Task.sleep(for: interval)
            } catch {
                return  // cancelled
            }
        }
    }
}
