import Foundation
import Logging
import SQLKit
import SQLiteNIO
import Synchronization

/// Bounds on one group-commit batch (DESIGN §5: `batch_size_max`, `batch_wait_us_max`).
public struct GroupCommitLimits: Sendable, Equatable {
    /// Most writes sharing one commit.
    public var batchSizeMax: Int
    /// Longest a batch stays open taking newly arrived writes, from its first write, in µs.
    public var batchWaitMicrosecondsMax: Int
    /// Most writes waiting for the writer; one more is refused at once (`StoreError.writerQueueFull`,
    /// answered 503 with Retry-After) instead of growing memory without bound under overload.
    public var queueLengthMax: Int

    public init(batchSizeMax: Int, batchWaitMicrosecondsMax: Int, queueLengthMax: Int = 8_192) {
        self.batchSizeMax = max(1, batchSizeMax)
        self.batchWaitMicrosecondsMax = max(0, batchWaitMicrosecondsMax)
        self.queueLengthMax = max(1, queueLengthMax)
    }

    public static let standard = GroupCommitLimits(batchSizeMax: 512, batchWaitMicrosecondsMax: 20_000)
}

/// What the writer has done since the store opened (for the benchmark and tests).
public struct WriteStatistics: Sendable, Equatable {
    /// Write closures run (committed or rolled back).
    public var writes: Int = 0
    /// Transactions committed (each one fsync with `synchronous=FULL`).
    public var commits: Int = 0
    /// Largest number of writes that shared one commit.
    public var largestBatch: Int = 0
    /// Writes refused because the queue was full.
    public var refused: Int = 0

    public init() {}
}

/// SQLite group commit (DESIGN §5). A durable commit costs an fsync (~4–5 ms here), so one
/// commit per request would cap every write endpoint near 200/s. Callers enqueue their write
/// closures; one drain task runs whatever is pending inside a single `BEGIN IMMEDIATE`
/// transaction, each closure inside its own SAVEPOINT (a failing write rolls back alone and gets
/// its own error, the others keep their effects), commits once, and only then answers every
/// caller — success or failure — so nobody hears about an outcome that might not survive.
///
/// A batch keeps taking newly arrived writes until the queue is empty, it holds
/// `batchSizeMax` writes, or `batchWaitMicrosecondsMax` has passed since it began. With one caller
/// at a time this is exactly one transaction per write; throughput grows with concurrency.
///
/// If the transaction itself breaks (a savepoint cannot be released or rolled back, or COMMIT
/// fails), everything in the batch is rolled back and every caller gets the error: nothing was
/// acknowledged, nothing was kept.
/// What `submit` did with a write: queued it, queued it and must start the drain task, or refused it.
private enum Admission {
    case queued, queuedStartDrain, refused
}

final class GroupCommitWriter: Sendable {
    /// One queued write: runs its closure and hands back how to answer its caller.
    struct Job: Sendable {
        let run: @Sendable (any SQLDatabase) async -> Outcome
        let fail: @Sendable (any Error) -> Void
    }

    enum Outcome: Sendable {
        case succeeded(answer: @Sendable () -> Void)
        case failed(any Error)
    }

    private struct State {
        var queue: [Job] = []
        var draining = false
        var statistics = WriteStatistics()
    }

    private let connection: SQLiteConnection
    private let limits: GroupCommitLimits
    private let logger: Logger
    private let state = Mutex(State())

    init(connection: SQLiteConnection, limits: GroupCommitLimits, logger: Logger) {
        self.connection = connection
        self.limits = limits
        self.logger = logger
    }

    var statistics: WriteStatistics {
        state.withLock { $0.statistics }
    }

    func submit<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(
                run: { db in
                    do {
                        let value = try await body(db)
                        return .succeeded(answer: { continuation.resume(returning: value) })
                    } catch {
                        return .failed(error)
                    }
                },
                fail: { error in continuation.resume(throwing: error) }
            )
            let limit = limits.queueLengthMax
            let admission = state.withLock { state -> Admission in
                guard state.queue.count < limit else {
                    state.statistics.refused += 1
                    return .refused
                }
                state.queue.append(job)
                if state.draining { return .queued }
                state.draining = true
                return .queuedStartDrain
            }
            switch admission {
            case .queued: break
            case .queuedStartDrain: Task { await self.drain() }
            case .refused: continuation.resume(throwing: StoreError.writerQueueFull(limit))
            }
        }
    }

    /// Takes up to `count` queued jobs. With `stopWhenEmpty`, an empty queue ends the drain task
    /// (under the same lock, so a job enqueued right after starts a new one).
    private func take(upTo count: Int, stopWhenEmpty: Bool) -> [Job] {
        state.withLock { state in
            if state.queue.isEmpty {
                if stopWhenEmpty { state.draining = false }
                return []
            }
            let taken = Array(state.queue.prefix(count))
            state.queue.removeFirst(taken.count)
            return taken
        }
    }

    private func drain() async {
        while true {
            let first = take(upTo: limits.batchSizeMax, stopWhenEmpty: true)
            if first.isEmpty { return }
            await runBatch(first)
        }
    }

    private func runBatch(_ initial: [Job]) async {
        let db = connection.quietSQL()
        var queue = initial[...]
        var current: Job?
        var settled: [(job: Job, outcome: Outcome)] = []
        let opened = ContinuousClock.now
        let waitMax = Duration.microseconds(Int64(limits.batchWaitMicrosecondsMax))
        do {
            try await db.raw("BEGIN IMMEDIATE").run()
            while let job = queue.popFirst() {
                current = job
                try await db.raw("SAVEPOINT joinin_write").run()
                let outcome = await job.run(db)
                if case .failed = outcome {
                    try await db.raw("ROLLBACK TO SAVEPOINT joinin_write").run()
                }
                try await db.raw("RELEASE SAVEPOINT joinin_write").run()
                settled.append((job, outcome))
                current = nil
                if queue.isEmpty {
                    let room = limits.batchSizeMax - settled.count
                    if room > 0, ContinuousClock.now - opened < waitMax {
                        queue = take(upTo: room, stopWhenEmpty: false)[...]
                    }
                }
            }
            try await db.raw("COMMIT").run()
        } catch {
            // The transaction is broken: keep nothing, acknowledge nothing.
            do {
                try await db.raw("ROLLBACK").run()
            } catch {
                logger.error("group commit rollback failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            let unanswered = settled.map(\.job) + (current.map { [$0] } ?? []) + Array(queue)
            logger.error("group commit failed; every write in the batch rolled back",
                         metadata: ["writes": "\(unanswered.count)", "error": "\(String(reflecting: error))"])
            for job in unanswered { job.fail(error) }
            record(writes: unanswered.count, committed: false)
            return
        }
        record(writes: settled.count, committed: true)
        for (job, outcome) in settled {
            switch outcome {
            case .succeeded(let answer): answer()
            case .failed(let error): job.fail(error)
            }
        }
    }

    private func record(writes: Int, committed: Bool) {
        state.withLock { state in
            state.statistics.writes += writes
            if committed {
                state.statistics.commits += 1
                state.statistics.largestBatch = max(state.statistics.largestBatch, writes)
            }
        }
    }
}
