public import JoinInStore
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

        public var total: Int { holds + idempotencyRecords + attemptCounters + sessions + redeemedCodes + denyListChanges + libraryHolds }
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
        return counts
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
