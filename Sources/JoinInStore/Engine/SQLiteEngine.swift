import CSQLite
import Logging
import SQLKit
import Synchronization

/// SQLite straight on libsqlite3 (docs/decisions.md §21): one writer connection owned by the
/// group-commit writer (DESIGN §5) and a few reader connections, each connection with a thread of
/// its own on which its statements run as synchronous calls. WAL lets readers proceed while the
/// writer works.
struct SQLiteEngine: Sendable {
    static let readerCount = 4
    static let busyTimeoutMs = 5000
    /// Page cache per connection, in KiB (SQLite's negative `cache_size`): the writer's holds the
    /// hot index pages of every money write, the readers' what statements and lists touch.
    static let writerCacheKiB = 65_536
    static let readerCacheKiB = 16_384

    let groupWriter: GroupCommitWriter
    let readers: ReaderPool
    let logger: Logger

    struct Reader: Sendable {
        let connection: SQLiteHandle
        let thread: ConnectionThread
        let database: SQLiteDatabase
    }

    static func open(path: String, limits: GroupCommitLimits = .standard, logger: Logger) async throws -> SQLiteEngine {
        var opened: [(SQLiteHandle, ConnectionThread)] = []
        do {
            for index in 0...readerCount {
                let connection = try SQLiteHandle(path: path)
                let thread = ConnectionThread(name: index == 0 ? "joinin-sqlite-writer" : "joinin-sqlite-reader-\(index)")
                opened.append((connection, thread))
                try await withTaskExecutorPreference(thread) {
                    try configure(connection, writer: index == 0)
                }
            }
        } catch {
            for (connection, thread) in opened {
                connection.close()
                thread.stop()
            }
            throw error
        }
        let readers = opened.dropFirst().map { Reader(connection: $0.0, thread: $0.1, database: SQLiteDatabase(connection: $0.0, logger: logger)) }
        return SQLiteEngine(
            groupWriter: GroupCommitWriter(connection: opened[0].0, thread: opened[0].1, limits: limits, logger: logger),
            readers: ReaderPool(readers),
            logger: logger
        )
    }

    /// Sets and then reads back every pragma: money must not live on a database that silently
    /// ignored `synchronous=FULL` or foreign keys. Readers are `query_only`: a write through a
    /// read connection would bypass the group commit and the single writer.
    static func configure(_ connection: SQLiteHandle, writer: Bool) throws {
        try connection.exec("PRAGMA busy_timeout = \(busyTimeoutMs)")
        try connection.exec("PRAGMA journal_mode = WAL")
        try connection.exec("PRAGMA synchronous = FULL")
        try connection.exec("PRAGMA foreign_keys = ON")
        try connection.exec("PRAGMA cache_size = -\(writer ? writerCacheKiB : readerCacheKiB)")
        if !writer { try connection.exec("PRAGMA query_only = ON") }
        func value(_ pragma: String) throws -> String {
            var result = "?"
            try connection.run("PRAGMA \(pragma)", binds: []) { _, values in
                switch values.first {
                case .text(let text): result = text
                case .integer(let number): result = String(number)
                default: break
                }
            }
            return result
        }
        // Text is read as the bytes stored (SQLiteHandle.column), so a UTF-16 file is refused
        // first (its answers here are UTF-16 too: the NULs are dropped for the message).
        let encoding = try value("encoding").filter { $0 != "\u{0}" }
        guard encoding == "UTF-8" else { throw StoreError.pragmasRefused("encoding=\(encoding) (only UTF-8 databases are supported)") }
        let journal = try value("journal_mode"), synchronous = try value("synchronous")
        let foreignKeys = try value("foreign_keys"), busy = try value("busy_timeout")
        guard journal.lowercased() == "wal", synchronous == "2", foreignKeys == "1", busy == String(busyTimeoutMs) else {
            throw StoreError.pragmasRefused("journal_mode=\(journal) synchronous=\(synchronous) foreign_keys=\(foreignKeys) busy_timeout=\(busy)")
        }
    }

    /// Runs `body` as one write: queued for the group-commit writer, which runs it inside its own
    /// savepoint of a shared transaction and answers only once that transaction is durable.
    func write<T: Sendable>(deadline: Duration? = .zero, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await groupWriter.submit(deadline: deadline, body)
    }

    /// Runs `body` as one read transaction (one snapshot of the database) on a reader's thread:
    /// one hop there and one back, whatever the number of statements.
    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let reader = await readers.acquire()
        defer { readers.release(reader) }
        return try await withTaskExecutorPreference(reader.thread) {
            try await Self.snapshot(reader, body)
        }
    }

    /// Longest a lookup may run before SQLite interrupts it.
    static let lookupDeadlineMilliseconds = 1_000

    /// Runs `body` as one read transaction on the caller's own thread: for point lookups by key
    /// (a session, one record), which take microseconds, less than the two thread hops of `read`
    /// (docs/decisions.md §23). The caller's thread is one of the few the runtime has, so a
    /// lookup that runs longer than `lookupDeadlineMilliseconds` is interrupted and fails.
    func lookup<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let reader = await readers.acquire()
        defer { readers.release(reader) }
        reader.connection.deadlineNs.store(SQLiteHandle.monotonicNs() + UInt64(Self.lookupDeadlineMilliseconds) * 1_000_000,
                                           ordering: .relaxed)
        reader.connection.auditsScratchTables = true
        defer {
            reader.connection.deadlineNs.store(0, ordering: .relaxed)
            reader.connection.auditsScratchTables = false
        }
        do {
            return try await Self.snapshot(reader, body)
        } catch let failure as SQLiteFailure where failure.primaryCode == SQLITE_INTERRUPT {
            throw StoreError.lookupDeadlineExceeded(Self.lookupDeadlineMilliseconds)
        }
    }

    /// BEGIN, `body`, COMMIT on a reader (ROLLBACK when `body` fails).
    private static func snapshot<T>(_ reader: Reader, _ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try reader.connection.exec("BEGIN")
        do {
            let result = try await body(reader.database)
            try reader.connection.exec("COMMIT")
            return result
        } catch {
            if !reader.connection.isAutocommit { try? reader.connection.exec("ROLLBACK") }
            throw error
        }
    }

    /// Lookup statements, prepared since the store opened, whose program builds a scratch table
    /// (see `SQLiteHandle.auditsScratchTables`).
    var lookupScratchTableStatements: Set<String> {
        readers.all.reduce(into: []) { result, reader in result.formUnion(reader.connection.scratchTableStatements.withLock { $0 }) }
    }

    /// Statements run by the reader connections since the store opened.
    var readerStatements: Int {
        readers.all.reduce(0) { $0 + $1.connection.statementsRun.load(ordering: .relaxed) }
    }

    func close() async {
        let writer = groupWriter
        await withTaskExecutorPreference(writer.thread) { writer.connection.close() }
        writer.thread.stop()
        for reader in readers.all {
            await withTaskExecutorPreference(reader.thread) { reader.connection.close() }
            reader.thread.stop()
        }
    }
}

/// The reader connections, handed out one holder at a time; waiters are served in order. A lock,
/// not an actor: taking a free reader costs no hop.
final class ReaderPool: Sendable {
    private struct State {
        var idle: [SQLiteEngine.Reader]
        var waiters: [CheckedContinuation<SQLiteEngine.Reader, Never>] = []
    }

    let all: [SQLiteEngine.Reader]
    private let state: Mutex<State>

    init(_ readers: [SQLiteEngine.Reader]) {
        precondition(!readers.isEmpty, "a pool needs at least one reader")
        all = readers
        state = Mutex(State(idle: readers))
    }

    func acquire() async -> SQLiteEngine.Reader {
        if let reader = state.withLock({ $0.idle.popLast() }) { return reader }
        return await withCheckedContinuation { continuation in
            let reader = state.withLock { state -> SQLiteEngine.Reader? in
                if let reader = state.idle.popLast() { return reader }
                state.waiters.append(continuation)
                return nil
            }
            if let reader { continuation.resume(returning: reader) }
        }
    }

    func release(_ reader: SQLiteEngine.Reader) {
        let waiter = state.withLock { state -> CheckedContinuation<SQLiteEngine.Reader, Never>? in
            if state.waiters.isEmpty {
                state.idle.append(reader)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: reader)
    }
}

public enum StoreError: Error, CustomStringConvertible {
    case pragmasRefused(String)
    case badURL(String)
    case retriesExhausted(Int)
    /// The SQLite writer's queue held its maximum; the write was not attempted.
    case writerQueueFull(Int)
    case corrupt(String)
    /// A write's statements ran past their deadline; its batch was rolled back (nothing applied).
    case writeDeadlineExceeded(Int)
    /// A lookup (`Store.lookup`) ran past its deadline in milliseconds and was interrupted.
    case lookupDeadlineExceeded(Int)

    public var description: String {
        switch self {
        case .pragmasRefused(let got): return "SQLite refused the required pragmas (got \(got)); refusing to start"
        case .badURL(let why): return "bad database URL: \(why)"
        case .retriesExhausted(let count): return "write transaction still conflicting after \(count) attempts"
        case .writerQueueFull(let limit): return "the writer's queue is full (\(limit) writes waiting)"
        case .corrupt(let what): return "stored data is not readable: \(what)"
        case .writeDeadlineExceeded(let seconds): return "a write ran past its \(seconds) s deadline and was rolled back"
        case .lookupDeadlineExceeded(let milliseconds): return "a lookup ran past its \(milliseconds) ms deadline and was interrupted"
        }
    }
}
