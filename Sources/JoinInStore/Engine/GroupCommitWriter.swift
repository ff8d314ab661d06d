import Foundation
import Logging
import CSQLite
import SQLKit
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
    /// Longest a write may wait in the queue; one that waited longer is refused without running
    /// (`StoreError.writerQueueFull`, 503): its caller has likely given up, and running it would
    /// only deepen the backlog.
    public var queueWaitMillisecondsMax: Int
    /// Longest one write's statements may run: past it, SQLite interrupts the statement, the batch
    /// is rolled back and every write in it refused (`StoreError.writeDeadlineExceeded`), so a
    /// runaway write cannot hold the single writer.
    public var jobDeadlineMilliseconds: Int

    public init(batchSizeMax: Int, batchWaitMicrosecondsMax: Int, queueLengthMax: Int = 8_192,
                queueWaitMillisecondsMax: Int = 15_000, jobDeadlineMilliseconds: Int = 120_000) {
        self.batchSizeMax = max(1, batchSizeMax)
        self.batchWaitMicrosecondsMax = max(0, batchWaitMicrosecondsMax)
        self.queueLengthMax = max(1, queueLengthMax)
        self.queueWaitMillisecondsMax = max(1, queueWaitMillisecondsMax)
        self.jobDeadlineMilliseconds = max(1, jobDeadlineMilliseconds)
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
    /// Writes refused because the queue was full or they waited in it too long.
    public var refused: Int = 0
    /// SQL statements the writer connection executed (its own BEGIN/SAVEPOINT/COMMIT included).
    public var statements: Int = 0
    /// SQL statements the reader connections executed (each read's BEGIN/COMMIT included).
    public var readerStatements: Int = 0

    public init() {}
}

/// What `submit` did with a write: queued it, queued it and must start the drain task, or refused it.
private enum Admission {
    case queued, queuedStartDrain, refused
}

/// SQLite group commit (DESIGN §5). A durable commit costs an fsync, so one commit per request
/// would cap every write endpoint near the disk's commit rate. Callers enqueue their write
/// closures; one drain task, running on the writer connection's own thread, runs whatever is
/// pending inside a single `BEGIN IMMEDIATE` transaction, each closure inside its own SAVEPOINT
/// (a failing write rolls back alone and gets its own error, the others keep their effects),
/// commits once, and only then answers every caller — success or failure — so nobody hears
/// about an outcome that might not survive.
///
/// Every statement is a synchronous libsqlite3 call on that thread: a batch costs one hop onto
/// the thread, not one per statement (docs/decisions.md §21).
///
/// A batch keeps taking newly arrived writes until the queue is empty, it holds
/// `batchSizeMax` writes, or `batchWaitMicrosecondsMax` has passed since it began. With one caller
/// at a time this is exactly one transaction per write; throughput grows with concurrency.
///
/// Bounded and asserted: the queue has a maximum and a longest wait, each write a deadline for
/// its statements, and after every write the connection must still be inside the batch's
/// transaction. If the transaction itself breaks (a write ended it, a savepoint cannot be released
/// or rolled back, a deadline interrupted a statement, COMMIT fails), everything in the batch is
/// rolled back and every caller gets the error: nothing was acknowledged, nothing was kept.
final class GroupCommitWriter: Sendable {
    /// One queued write: runs its closure and hands back how to answer its caller.
    struct Job: Sendable {
        let run: @Sendable (any SQLDatabase) async -> Outcome
        let fail: @Sendable (any Error) -> Void
        let enqueuedNs: UInt64
        /// Statement deadline for this write; `nil` for none (migrations).
        let deadline: Duration?
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

    let connection: SQLiteHandle
    let thread: ConnectionThread
    /// Kept across the writes this writer runs (audit lane heads); see `WriterMemo`.
    let memo = WriterMemo()
    private let database: SQLiteDatabase
    private let limits: GroupCommitLimits
    private let logger: Logger
    private let state = Mutex(State())

    init(connection: SQLiteHandle, thread: ConnectionThread, limits: GroupCommitLimits, logger: Logger) {
        self.connection = connection
        self.thread = thread
        self.database = SQLiteDatabase(connection: connection, logger: logger)
        self.limits = limits
        self.logger = logger
    }

    var statistics: WriteStatistics {
        var statistics = state.withLock { $0.statistics }
        statistics.statements = connection.statementsRun.load(ordering: .relaxed)
        return statistics
    }

    /// Writes waiting for the writer now.
    var queueLength: Int {
        state.withLock { $0.queue.count }
    }

    func submit<T: Sendable>(deadline: Duration? = .zero, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let deadline = deadline == .zero ? .milliseconds(Int64(limits.jobDeadlineMilliseconds)) : deadline
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(
                run: { db in
                    do {
                        let value = try await body(db)
                        return .succeeded(answer: { continuation.resume(returning: value) })
                    } catch {
                        return .failed(error)
                    }
                },
                fail: { error in continuation.resume(throwing: error) },
                enqueuedNs: SQLiteHandle.monotonicNs(),
                deadline: deadline
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
            case .queuedStartDrain: Task(executorPreference: thread) { await self.drain() }
            case .refused: continuation.resume(throwing: StoreError.writerQueueFull(limit))
            }
        }
    }

    /// Takes up to `count` queued jobs, refusing those that waited too long. With `stopWhenEmpty`,
    /// an empty queue ends the drain task (under the same lock, so a job enqueued right after
    /// starts a new one).
    private func take(upTo count: Int, stopWhenEmpty: Bool) -> [Job] {
        let waitMaxNs = UInt64(limits.queueWaitMillisecondsMax) * 1_000_000
        while true {
            let taken = state.withLock { state -> [Job] in
                if state.queue.isEmpty {
                    if stopWhenEmpty { state.draining = false }
                    return []
                }
                let taken = Array(state.queue.prefix(count))
                state.queue.removeFirst(taken.count)
                return taken
            }
            if taken.isEmpty { return [] }
            let now = SQLiteHandle.monotonicNs()
            let fresh = taken.filter { now &- $0.enqueuedNs <= waitMaxNs }
            if fresh.count < taken.count {
                let stale = taken.filter { now &- $0.enqueuedNs > waitMaxNs }
                state.withLock { $0.statistics.refused += stale.count }
                for job in stale { job.fail(StoreError.writerQueueFull(limits.queueLengthMax)) }
            }
            if !fresh.isEmpty { return fresh }
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
        var queue = initial[...]
        var current: Job?
        var settled: [(job: Job, outcome: Outcome)] = []
        let opened = ContinuousClock.now
        let waitMax = Duration.microseconds(Int64(limits.batchWaitMicrosecondsMax))
        do {
            try connection.exec("BEGIN IMMEDIATE")
            while let job = queue.popFirst() {
                current = job
                try connection.exec("SAVEPOINT joinin_write")
                if let deadline = job.deadline {
                    let (seconds, attoseconds) = deadline.components
                    let ns = UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000)
                    connection.deadlineNs.store(SQLiteHandle.monotonicNs() + ns, ordering: .relaxed)
                }
                let outcome = await job.run(database)
                connection.deadlineNs.store(0, ordering: .relaxed)
                if case .failed(let error) = outcome, let failure = error as? SQLiteFailure, failure.primaryCode == SQLITE_INTERRUPT {
                    throw StoreError.writeDeadlineExceeded(Int(job.deadline?.components.seconds ?? 0))
                }
                // A write must not end the batch's transaction (COMMIT, ROLLBACK, RELEASE of the
                // batch): its neighbours' effects would become durable, or vanish, unannounced.
                guard !connection.isAutocommit else {
                    throw StoreError.corrupt("a write ended the group-commit transaction; the batch is refused")
                }
                if case .failed = outcome {
                    try connection.exec("ROLLBACK TO SAVEPOINT joinin_write")
                }
                try connection.exec("RELEASE SAVEPOINT joinin_write")
                settled.append((job, outcome))
                current = nil
                if queue.isEmpty {
                    let room = limits.batchSizeMax - settled.count
                    if room > 0, ContinuousClock.now - opened < waitMax {
                        queue = take(upTo: room, stopWhenEmpty: false)[...]
                    }
                }
            }
            try connection.exec("COMMIT")
        } catch {
            connection.deadlineNs.store(0, ordering: .relaxed)
            // The transaction is broken: keep nothing, acknowledge nothing.
            if !connection.isAutocommit {
                do {
                    try connection.exec("ROLLBACK")
                } catch {
                    logger.error("group commit rollback failed", metadata: ["error": "\(String(reflecting: error))"])
                }
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
