public import Logging
public import SQLKit
import Foundation

/// The data store: one SQL layer over SQLite (embedded default) or PostgreSQL (for scale-out).
/// Write transactions are retryable closures; the SQLite engine group-commits them on one writer
/// connection (each in its own savepoint), the PostgreSQL engine runs them SERIALIZABLE and
/// retries serialization failures.
public final class Store: Sendable {
    public enum EngineKind: String, Sendable, CaseIterable {
        case sqlite, postgres
    }

    enum Engine: Sendable {
        case sqlite(SQLiteEngine)
        case postgres(PostgresEngine)
    }

    let engine: Engine
    let cipher: FieldCipher
    public let logger: Logger

    public var kind: EngineKind {
        switch engine {
        case .sqlite: return .sqlite
        case .postgres: return .postgres
        }
    }

    init(engine: Engine, cipher: FieldCipher, logger: Logger) {
        self.engine = engine
        self.cipher = cipher
        self.logger = logger
    }

    /// Opens the store named by `url` (`postgres://…` or a SQLite path / `sqlite://path`), runs
    /// `body` with it, and closes it. PostgreSQL's connection pool runs for the duration of `body`.
    public static func with<T: Sendable>(
        url: String, dataKeys: DataKeys, logger: Logger, groupCommit: GroupCommitLimits = .standard,
        _ body: @Sendable (Store) async throws -> T
    ) async throws -> T {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            let configuration = try PostgresEngine.Configuration(url: url)
            return try await PostgresEngine.with(configuration: configuration, logger: logger) { engine in
                try await body(Store(engine: .postgres(engine), cipher: FieldCipher(keys: dataKeys), logger: logger))
            }
        }
        let path = url.hasPrefix("sqlite://") ? String(url.dropFirst("sqlite://".count)) : url
        let engine = try await SQLiteEngine.open(path: path, limits: groupCommit, logger: logger)
        let store = Store(engine: .sqlite(engine), cipher: FieldCipher(keys: dataKeys), logger: logger)
        do {
            let result = try await body(store)
            await engine.close()
            return result
        } catch {
            await engine.close()
            throw error
        }
    }

    /// Runs `body` atomically as one write and returns once its effects are durable; on PostgreSQL
    /// it may run again after a serialization failure, so it must have no effects outside the
    /// transaction. On SQLite it shares a commit with concurrent writes (group commit), isolated
    /// by a savepoint: its effects and its answer stand or fall together with that commit.
    public func write<T: Sendable>(isolation: WriteIsolation = .serializable,
                                   _ body: @escaping @Sendable (StoreTx) async throws -> T) async throws -> T {
        try await write(isolation: isolation, deadline: .zero, body)
    }

    /// `deadline`: how long the write's statements may run on SQLite (`.zero`: the writer's
    /// standard deadline; `nil`: none, for migrations that rewrite whole tables).
    func write<T: Sendable>(isolation: WriteIsolation = .serializable, deadline: Duration?,
                            _ body: @escaping @Sendable (StoreTx) async throws -> T) async throws -> T {
        switch engine {
        case .sqlite(let sqlite):
            let memo = sqlite.groupWriter.memo
            return try await sqlite.write(deadline: deadline) { db in
                try await body(StoreTx(sql: db, cipher: self.cipher, engine: .sqlite, writerMemo: memo))
            }
        case .postgres(let postgres):
            return try await postgres.write(isolation: isolation) { db in
                try await body(StoreTx(sql: db, cipher: self.cipher, engine: .postgres))
            }
        }
    }

    /// The logger handed to the database drivers: never below `.info`, whatever the server's level,
    /// because the drivers' debug and trace output carries statements, bound values and wire
    /// messages (personal data, sealed columns, stored replies).
    static func driverLogger(_ logger: Logger) -> Logger {
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .info)
        return quiet
    }

    /// The stored form of a bearer secret (session token, terminal API key): a keyed digest, so a
    /// copy of the database gives nobody a way to test guesses.
    public func secretDigest(_ secret: String) -> String {
        cipher.secretDigest(secret)
    }

    /// Group-commit figures (SQLite; `nil` on PostgreSQL, which group-commits by itself).
    public var writeStatistics: WriteStatistics? {
        switch engine {
        case .sqlite(let sqlite):
            var statistics = sqlite.groupWriter.statistics
            statistics.readerStatements = sqlite.readerStatements
            return statistics
        case .postgres: return nil
        }
    }

    /// Lookup statements whose program builds a scratch table (SQLite; empty on PostgreSQL): a
    /// lookup should be point reads only, so the server tests expect none.
    public var lookupScratchTableStatements: Set<String> {
        switch engine {
        case .sqlite(let sqlite): return sqlite.lookupScratchTableStatements
        case .postgres: return []
        }
    }

    /// Runs `body` with a connection for reading (no writes).
    public func read<T: Sendable>(_ body: @Sendable (StoreTx) async throws -> T) async throws -> T {
        switch engine {
        case .sqlite(let sqlite):
            return try await sqlite.read { db in try await body(StoreTx(sql: db, cipher: self.cipher, engine: .sqlite)) }
        case .postgres(let postgres):
            return try await postgres.read { db in try await body(StoreTx(sql: db, cipher: self.cipher, engine: .postgres)) }
        }
    }

    /// A read of a few rows by key (a session and its principal, one record and its parts). On
    /// SQLite it is one snapshot like `read`, but runs on the caller's own thread instead of
    /// hopping to a reader's and back, and is interrupted after
    /// `SQLiteEngine.lookupDeadlineMilliseconds`: never use it for lists, reports or anything
    /// that scans. On PostgreSQL it is `read` (a pooled connection, statements in autocommit).
    public func lookup<T: Sendable>(_ body: @Sendable (StoreTx) async throws -> T) async throws -> T {
        switch engine {
        case .sqlite(let sqlite):
            return try await sqlite.lookup { db in try await body(StoreTx(sql: db, cipher: self.cipher, engine: .sqlite)) }
        case .postgres:
            return try await read(body)
        }
    }

    static let migrationTableAttempts = 5

    /// Applies every migration not yet recorded (up to `through`, for tests of a migration), each
    /// in its own transaction. Returns how many ran.
    @discardableResult
    public func migrate(through last: Int64 = .max) async throws -> Int {
        // Two processes creating the table at the same moment: PostgreSQL may refuse the second
        // with "type schema_migrations already exists" (42710) even with IF NOT EXISTS, as the
        // catalog rows collide; the first's table is there when it tries again.
        for attempt in 1...Self.migrationTableAttempts {
            do {
                try await write { tx in
                    try await tx.sql.raw("""
                        CREATE TABLE IF NOT EXISTS schema_migrations (
                            version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)
                        """).run()
                }
                break
            } catch where attempt < Self.migrationTableAttempts {
                logger.info("creating schema_migrations failed; trying again", metadata: ["attempt": "\(attempt)"])
                try await Task.sleep(for: .milliseconds(10 * attempt))
            }
        }
        var applied = 0
        for migration in Migrations.all where migration.version <= last {
            let ran = try await write(deadline: nil) { tx in
                let done = try await tx.sql.raw("SELECT version FROM schema_migrations WHERE version = \(bind: migration.version)")
                    .first() != nil
                if done { return false }
                // The version is claimed before the schema changes: a second process migrating at
                // the same moment (replicas starting together) waits on the key, then fails with a
                // unique violation once the first commits; the write is retried, finds the version
                // applied and moves on, instead of failing on "column already exists". Portable:
                // no advisory or table lock.
                try await tx.sql.raw("""
                    INSERT INTO schema_migrations (version, name, applied_at_ms)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: Int64(Date().timeIntervalSince1970 * 1000)))
                    """).run()
                for statement in migration.statements {
                    try await tx.sql.raw(SQLQueryString(statement)).run()
                }
                try await migration.rewrite?(tx)
                return true
            }
            if ran {
                applied += 1
                logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
            }
        }
        return applied
    }

    /// Checks that this process's keys are the ones the database was set up with, recording them
    /// (as keyed digests and a sealed probe, never the keys) on first use. A replica started with
    /// another keys directory would otherwise seal personal data and digest session tokens that
    /// no other replica can open or recognise.
    public func verifyKeys(nowMs: Int64) async throws {
        let probe = "joinin key check"
        let digests = cipher.secretDigest(probe) + ":" + cipher.blindIndex(probe, domain: "key-check")
        try await write { [cipher] tx in
            if let row = try await tx.sql.raw("SELECT digests, sealed FROM key_check WHERE id = 1").first() {
                let stored = try row.decode(column: "digests", as: String.self)
                let opened = try? cipher.open(try row.decode(column: "sealed", as: String.self), column: "key_check.sealed")
                guard stored == digests, opened == probe else { throw KeyDirectory.KeyError.mismatch }
                return
            }
            try await tx.sql.raw("""
                INSERT INTO key_check (id, digests, sealed, created_at_ms)
                VALUES (1, \(bind: digests), \(bind: try cipher.seal(probe, column: "key_check.sealed")), \(bind: nowMs))
                """).run()
        }
    }

    /// Ready when the store answers and every known migration is applied.
    public func readiness() async -> (ready: Bool, detail: String) {
        do {
            let version = try await read { tx in
                try await tx.sql.raw("SELECT MAX(version) AS v FROM schema_migrations").first()?
                    .decode(column: "v", as: Int64?.self)
            }
            let latest = Migrations.all.last?.version ?? 0
            guard let version, version >= latest else {
                return (false, "schema at version \(version.map(String.init) ?? "none"), code expects \(latest)")
            }
            return (true, "schema at version \(version)")
        } catch {
            return (false, "store unreachable")
        }
    }
}

/// How a write transaction keeps concurrent writers apart on PostgreSQL (DESIGN §5: "SERIALIZABLE
/// or lock rows in a fixed order"). SQLite has one writer, so every write there is serializable.
public enum WriteIsolation: Sendable {
    /// SERIALIZABLE, retried on serialization failures. Safe for any closure.
    case serializable
    /// READ COMMITTED, for hot paths (money) where SERIALIZABLE would keep failing on the same
    /// rows (branch vaults, merchant accounts, audit lanes) and retry storms. The closure must lock
    /// (`SELECT … FOR UPDATE`, in ascending id order) every row whose value it checks before it
    /// writes — `lockAccounts`, `post`, `appendAudit` do — and rely on unique keys or conditional
    /// updates for the rest. Concurrent writers then wait for each other instead of failing.
    case lockedRows
}

/// One transaction (or read connection) with the helpers repositories need.
public struct StoreTx: Sendable {
    public let sql: any SQLDatabase
    let cipher: FieldCipher
    public let engine: Store.EngineKind
    /// What the SQLite writer remembers between writes (`nil` for reads and on PostgreSQL).
    var writerMemo: WriterMemo? = nil
}

/// What the SQLite group-commit writer remembers between the writes it runs: the audit lane
/// heads as it last stored them, so appending an audit record need not read the head first.
/// Every use is a compare-and-set on (sequence, hash) in the same statement that moves the head,
/// so a remembered head that a savepoint or batch rollback undid, or that another process moved,
/// is noticed and read afresh: the memo can make a write cheaper, never wrong.
final class WriterMemo: @unchecked Sendable {
    // @unchecked: touched only by write closures, which the writer runs one at a time on its
    // own thread (GroupCommitWriter); never by readers or PostgreSQL writes.
    var auditHeads: [Int64: AuditHead] = [:]
}

/// Stored integer flags: both engines agree on BIGINT 0/1, not on boolean literals.
extension Bool {
    var storedFlag: Int64 { self ? 1 : 0 }
}
