public import JoinInStore
public import Logging

/// Voids ledger holds whose expiry has passed (DESIGN §6: holds are posted, voided, or expire and
/// void automatically), so an abandoned reservation stops reducing the account's available
/// balance. `joinin serve` runs `run` beside the HTTP server; each sweep is its own write.
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

    /// Sweeps every `interval` until the task is cancelled. A failed sweep is logged and tried
    /// again at the next interval; it never stops the server.
    public static func run(store: Store, clock: AppClock, interval: Duration, logger: Logger) async {
        while !Task.isCancelled {
            do {
                let voided = try await sweep(store: store, nowMs: clock.nowMs())
                if voided > 0 { logger.info("voided expired ledger holds", metadata: ["count": "\(voided)"]) }
            } catch {
                logger.error("expired-hold sweep failed", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            }
            do {
                try await Task.sleep(for: interval)
            } catch {
                return  // cancelled
            }
        }
    }
}
