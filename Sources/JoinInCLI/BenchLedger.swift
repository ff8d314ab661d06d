import ArgumentParser
import Foundation
import NIOHTTP1
import Hummingbird
import JoinInCore
import JoinInServer
import JoinInStore
import Logging
import NIOCore
import SQLKit
import Synchronization

extension BenchCommand {
    /// `joinin bench ledger`: how fast money moves, and against what. Every figure comes with a
    /// baseline measured in the same run on the same database: plain multi-row inserts into a
    /// table shaped like `ledger_transfers` (what batching could at best reach) and single-row
    /// durable commits (what one commit per request would allow).
    struct Ledger: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ledger transfers/s: store batches, single transfers from 1 and 64 callers (store and HTTP API), against raw baselines.")

        @Option(help: "Database URL (default: a fresh SQLite file in a temp directory; postgres://… uses a fresh schema there)")
        var database: String?
        @Option(help: "Transfers for the batched measurement (8,000 per store call)") var batched: Int = 200_000
        @Option(help: "Single-transfer writes per concurrency measurement") var singles: Int = 4_000
        @Option(help: "Concurrent callers for the concurrent measurements") var concurrency: Int = 64
        @Option(help: "GET requests per read measurement (authenticated e-card read and hello-world)") var reads: Int = 20_000

        func validate() throws {
            guard (8_000...5_000_000).contains(batched) else { throw ValidationError("--batched must be 8,000-5,000,000") }
            guard (100...1_000_000).contains(singles) else { throw ValidationError("--singles must be 100-1,000,000") }
            guard (2...1024).contains(concurrency) else { throw ValidationError("--concurrency must be 2-1024") }
            guard (100...10_000_000).contains(reads) else { throw ValidationError("--reads must be 100-10,000,000") }
        }

        func run() async throws {
            print(String(decoding: try await report(), as: UTF8.self))
        }

        /// Runs every measurement on a fresh database; the JSON report.
        func report() async throws -> Data {
            let logger: Logger = {
                var logger = cliLogger("joinin-bench")
                logger.logLevel = .error
                return logger
            }()
            let (url, engineName, cleanup) = try await Self.freshDatabase(database, logger: logger)
            do {
                let report = try await measureAll(url: url, engineName: engineName, logger: logger)
                await cleanup()
                return report
            } catch {
                await cleanup()
                throw error
            }
        }

        func measureAll(url: String, engineName: String, logger: Logger) async throws -> Data {
            try await Store.with(url: url, dataKeys: .random(), logger: logger) { store -> Data in
                var results: [String: Any] = ["scenario": "ledger", "engine": engineName, "concurrency": concurrency]
                try await store.migrate()
                let bench = try await LedgerBench.prepare(store: store, accounts: 1_000, postgres: engineName == "postgres")

                let raw = try await bench.rawBatched(count: batched)
                let twin = try await bench.twinBatched(count: batched)
                let posted = try await bench.ledgerBatched(count: batched)
                results["batched"] = [
                    "transfers": batched, "batch_size": LedgerRules.batchSizeMax,
                    "transfers_per_s": posted.rounded(), "raw_insert_rows_per_s": raw.rounded(),
                    "ratio_to_raw_insert": Self.ratio(posted, raw),
                    "raw_insert_same_schema_rows_per_s": twin.rounded(),
                    "ratio_to_raw_insert_same_schema": Self.ratio(posted, twin),
                ] as [String: Any]

                let rawOne = try await bench.singles(count: min(singles, 2_000), concurrency: 1, raw: true)
                let rawMany = try await bench.singles(count: singles, concurrency: concurrency, raw: true)
                let one = try await bench.singles(count: min(singles, 2_000), concurrency: 1, raw: false)
                let beforeMany = StatementCount(store)
                let many = try await bench.singles(count: singles, concurrency: concurrency, raw: false)
                let transferStatements = StatementCount(store).since(beforeMany, operations: singles)
                results["raw_single_row_commits"] = ["callers_1": rawOne.json, "callers_\(concurrency)": rawMany.json]
                results["store_single_transfers"] = [
                    "callers_1": one.json, "callers_\(concurrency)": many.json, "statements_per_transfer": transferStatements,
                    "ratio_to_raw_single_commits_1_caller": Self.ratio(many.perSecond, rawOne.perSecond),
                    "ratio_to_raw_single_commits_same_callers": Self.ratio(many.perSecond, rawMany.perSecond),
                ] as [String: Any]

                let http = try await HTTPBench.run(store: store, logger: logger, singles: singles, concurrency: concurrency, reads: reads)
                results["http_deposits"] = [
                    "callers_1": http.one.json, "callers_\(concurrency)": http.many.json,
                    "ratio_to_raw_single_commits_1_caller": Self.ratio(http.many.perSecond, rawOne.perSecond),
                    "ratio_to_raw_single_commits_same_callers": Self.ratio(http.many.perSecond, rawMany.perSecond),
                    "statements_per_deposit": http.statements,
                ] as [String: Any]
                results["http_reads"] = [
                    "requests": reads, "connections": concurrency,
                    "ecard_me": http.me.json, "hello_world": http.hello.json,
                    "ratio_ecard_me_to_hello_world": Self.ratio(http.me.perSecond, http.hello.perSecond),
                    "statements_per_ecard_me": http.meStatements,
                ] as [String: Any]
                if let statistics = store.writeStatistics {
                    results["group_commit"] = ["writes": statistics.writes, "commits": statistics.commits,
                                               "largest_batch": statistics.largestBatch, "refused": statistics.refused]
                }
                let verdict = try await store.verifyLedger()
                guard verdict.isOK else { throw CLIError(description: "error: ledger verification failed after the bench: \(verdict)") }
                return try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys, .prettyPrinted])
            }
        }

        static func ratio(_ value: Double, _ baseline: Double) -> Double {
            baseline > 0 ? (value / baseline * 1000).rounded() / 1000 : 0
        }

        /// A database nobody else uses: a temp SQLite file, or a new schema on the PostgreSQL server.
        static func freshDatabase(_ requested: String?, logger: Logger) async throws -> (String, String, @Sendable () async -> Void) {
            let tag = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
            if let requested, requested.hasPrefix("postgres://") || requested.hasPrefix("postgresql://") {
                let schema = "bench_\(tag)"
                try await Store.with(url: requested, dataKeys: .random(), logger: logger) { store in
                    try await store.write { tx in try await tx.sql.raw("CREATE SCHEMA \(unsafeRaw: schema)").run() }
                }
                let url = requested + (requested.contains("?") ? "&" : "?") + "schema=\(schema)"
                return (url, "postgres", {
                    try? await Store.with(url: requested, dataKeys: .random(), logger: logger) { store in
                        try await store.write { tx in try await tx.sql.raw("DROP SCHEMA \(unsafeRaw: schema) CASCADE").run() }
                    }
                })
            }
            if let requested {
                return (requested, "sqlite", {})
            }
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("joinin-bench-\(tag)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return (directory.appendingPathComponent("bench.sqlite").path, "sqlite", {
                try? FileManager.default.removeItem(at: directory)
            })
        }
    }
}

/// Latency and throughput of one concurrent measurement.
struct LatencySummary {
    let perSecond: Double
    let p50Ms: Double
    let p99Ms: Double

    var json: [String: Any] { ["per_s": perSecond.rounded(), "p50_ms": p50Ms, "p99_ms": p99Ms] }

    /// Two runs of one measurement taken apart (before and after the other side), averaged.
    static func mean(_ a: LatencySummary, _ b: LatencySummary) -> LatencySummary {
        LatencySummary(perSecond: (a.perSecond + b.perSecond) / 2, p50Ms: ((a.p50Ms + b.p50Ms) * 50).rounded() / 100,
                       p99Ms: ((a.p99Ms + b.p99Ms) * 50).rounded() / 100)
    }

    /// Runs `count` operations from `concurrency` callers, each operation timed on its own.
    static func measure(count: Int, concurrency: Int, _ operation: @escaping @Sendable (Int) async throws -> Void) async throws -> LatencySummary {
        let next = Dispenser()
        let clock = ContinuousClock()
        let started = clock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var mine: [Double] = []
                    while true {
                        let index = next.take()
                        guard index < count else { return mine }
                        let began = clock.now
                        try await operation(index)
                        let elapsed = clock.now - began
                        mine.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
                    }
                }
            }
            return try await group.reduce(into: [Double]()) { $0 += $1 }.sorted()
        }
        let total = clock.now - started
        let seconds = Double(total.components.seconds) + Double(total.components.attoseconds) / 1e18
        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return 0 }
            return (latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] * 100).rounded() / 100
        }
        return LatencySummary(perSecond: Double(count) / seconds, p50Ms: percentile(0.5), p99Ms: percentile(0.99))
    }
}

/// SQL statements the SQLite engine ran, to report statements per operation (empty on PostgreSQL,
/// whose driver does not count them).
struct StatementCount {
    let statistics: WriteStatistics?

    init(_ store: Store) { statistics = store.writeStatistics }

    /// Per operation since `earlier`: the writer's statements (its BEGIN/SAVEPOINT/RELEASE/COMMIT
    /// shared out) and the readers' (each read's BEGIN/COMMIT included).
    func since(_ earlier: StatementCount, operations: Int) -> [String: Double] {
        guard let now = statistics, let then = earlier.statistics, operations > 0 else { return [:] }
        func per(_ value: Int) -> Double { (Double(value) / Double(operations) * 100).rounded() / 100 }
        return ["writer": per(now.statements - then.statements), "readers": per(now.readerStatements - then.readerStatements),
                "commits": per(now.commits - then.commits)]
    }
}

/// Hands out 0, 1, 2, … to concurrent callers.
final class Dispenser: Sendable {
    private let next = Mutex(0)

    func take() -> Int {
        next.withLock { value in
            defer { value += 1 }
            return value
        }
    }
}

/// Store-level measurements over a set of ledger accounts funded from one system account.
struct LedgerBench: Sendable {
    let store: Store
    let vault: String
    let accounts: [String]

    /// Opens `count` cardholder-like accounts and one system account (may go negative) to pay
    /// them from, and the raw baselines' tables: `bench_raw_transfers` (the transfer's columns and
    /// its key, nothing else) and `bench_twin_transfers` (a copy of `ledger_transfers` taken from
    /// the catalog: the same columns, checks, foreign keys and indexes).
    static func prepare(store: Store, accounts count: Int, postgres: Bool) async throws -> LedgerBench {
        let ids = try await store.write { tx -> (String, [String]) in
            let vault = try await tx.openAccount(kind: .branchVault, ownerType: "branch", ownerID: "bench-branch", atMs: nowMs)
            var ids: [String] = []
            for index in 0..<count {
                ids.append(try await tx.openAccount(kind: .transitWallet, ownerType: "person", ownerID: "bench-\(index)", atMs: nowMs).id)
            }
            try await tx.sql.raw("""
                CREATE TABLE bench_raw_transfers (
                    id TEXT PRIMARY KEY, debit_account_id TEXT NOT NULL, credit_account_id TEXT NOT NULL,
                    amount_fen BIGINT NOT NULL, kind TEXT NOT NULL, reference_type TEXT NOT NULL, reference_id TEXT NOT NULL,
                    reverses_transfer_id TEXT, hold_id TEXT, created_at_ms BIGINT NOT NULL)
                """).run()
            try await copySchema(of: "ledger_transfers", as: "bench_twin_transfers", postgres: postgres, tx: tx)
            return (vault.id, ids)
        }
        return LedgerBench(store: store, vault: ids.0, accounts: ids.1)
    }

    static var nowMs: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Creates `copy` with `table`'s columns, constraints, foreign keys and indexes, read from the
    /// catalog so the copy follows every migration. SQLite: the stored DDL of the table and its
    /// indexes with the name replaced. PostgreSQL: `LIKE … INCLUDING ALL`, which copies all but
    /// the foreign keys, and those from `pg_constraint`.
    static func copySchema(of table: String, as copy: String, postgres: Bool, tx: StoreTx) async throws {
        struct Definition: Decodable { let sql: String }
        var statements: [String] = []
        if postgres {
            statements.append("CREATE TABLE \(copy) (LIKE \(table) INCLUDING ALL)")
            let keys = try await tx.sql.raw("""
                SELECT pg_get_constraintdef(oid) AS sql FROM pg_constraint WHERE conrelid = \(bind: table)::regclass AND contype = 'f'
                """).all(decoding: Definition.self)
            statements += keys.map { "ALTER TABLE \(copy) ADD \($0.sql)" }
        } else {
            let definitions = try await tx.sql.raw("""
                SELECT sql FROM sqlite_master WHERE tbl_name = \(bind: table) AND sql IS NOT NULL ORDER BY type = 'index', name
                """).all(decoding: Definition.self)
            statements = definitions.map { $0.sql.replacingOccurrences(of: table, with: copy) }
        }
        guard statements.count > 1 else { throw CLIError(description: "error: bench: could not read the schema of \(table)") }
        for statement in statements {
            try await tx.sql.raw("\(unsafeRaw: statement)").run()
        }
    }

    /// Plain multi-row inserts of `count` rows, 8,000 per transaction (the same chunking the
    /// ledger uses), into a table with the transfer's columns and only its key: the ceiling for
    /// batched posting on this database.
    func rawBatched(count: Int) async throws -> Double {
        let accounts = self.accounts
        return try await plainInserts(into: "bench_raw_transfers", count: count) { index, batch in
            (accounts[index % accounts.count], accounts[(index + 1) % accounts.count], "raw-\(batch)")
        }
    }

    /// Plain multi-row inserts of the very rows `ledgerBatched` posts (the same debit, credits,
    /// amounts and reference), 8,000 per transaction, into `bench_twin_transfers`: what storing
    /// them costs in `ledger_transfers`' own schema, without the ledger's checks and balances.
    func twinBatched(count: Int) async throws -> Double {
        let accounts = self.accounts
        let vault = self.vault
        return try await plainInserts(into: "bench_twin_transfers", count: count) { index, batch in
            (vault, accounts[index % accounts.count], "twin-\(batch)")
        }
    }

    /// `count` transfer-shaped rows inserted with multi-row statements into `table`, 8,000 per
    /// transaction; `row` names each row's debit, credit and reference from its index and batch.
    private func plainInserts(into table: String, count: Int,
                              _ row: @escaping @Sendable (_ index: Int, _ batch: Int) -> (debit: String, credit: String, reference: String))
        async throws -> Double {
        let started = ContinuousClock.now
        var done = 0
        var batch = 0
        while done < count {
            let size = min(LedgerRules.batchSizeMax, count - done)
            let first = done
            let number = batch
            try await store.write { tx in
                var offset = 0
                while offset < size {
                    let chunk = min(tx.bindParametersMax / 10, size - offset)  // 10 binds per row: the ledger's own chunking
                    var query = SQLQueryString("""
                        INSERT INTO \(ident: table) (id, debit_account_id, credit_account_id, amount_fen, kind, reference_type,
                            reference_id, reverses_transfer_id, hold_id, created_at_ms) VALUES
                        """)
                    query.appendRows(0..<chunk) { position -> [any Encodable & Sendable] in
                        let index = first + offset + position
                        let (debit, credit, reference) = row(index, number)
                        return [TimeOrderedID.make(unixMs: Self.nowMs), debit, credit,
                                Int64(1 + index % 500), "bench", "bench", reference, String?.none, String?.none, Self.nowMs]
                    }
                    try await tx.sql.raw(query).run()
                    offset += chunk
                }
            }
            done += size
            batch += 1
        }
        return Double(count) / Self.seconds(since: started)
    }

    /// The ledger's own batch posting: validation, rules, transfers and balances, 8,000 per call.
    func ledgerBatched(count: Int) async throws -> Double {
        let accounts = self.accounts
        let vault = self.vault
        let started = ContinuousClock.now
        var done = 0
        var batch = 0
        while done < count {
            let size = min(LedgerRules.batchSizeMax, count - done)
            let first = done
            let reference = "batch-\(batch)"
            try await store.write { tx in
                try await tx.registerReference(type: "bench", id: reference, atMs: Self.nowMs)
                let postings = (0..<size).map { row in
                    let index = first + row
                    return Posting(debit: vault, credit: accounts[index % accounts.count], amountFen: Int64(1 + index % 500),
                                   kind: "bench", referenceType: "bench", referenceID: reference)
                }
                try await tx.post(postings, atMs: Self.nowMs)
            }
            done += size
            batch += 1
        }
        return Double(count) / Self.seconds(since: started)
    }

    /// One write per operation: a raw single-row insert, or a registered and posted transfer.
    func singles(count: Int, concurrency: Int, raw: Bool) async throws -> LatencySummary {
        let accounts = self.accounts
        let vault = self.vault
        let store = self.store
        let tag = UUID().uuidString.prefix(8)
        return try await LatencySummary.measure(count: count, concurrency: concurrency) { index in
            if raw {
                try await store.write { tx in
                    try await tx.sql.raw("""
                        INSERT INTO bench_raw_transfers (id, debit_account_id, credit_account_id, amount_fen, kind, reference_type,
                            reference_id, reverses_transfer_id, hold_id, created_at_ms)
                        VALUES (\(bind: TimeOrderedID.make(unixMs: Self.nowMs)), \(bind: vault), \(bind: accounts[index % accounts.count]),
                            \(bind: Int64(1 + index % 500)), 'bench', 'bench', \(bind: "single-\(tag)-\(index)"), NULL, NULL, \(bind: Self.nowMs))
                        """).run()
                }
            } else {
                let reference = "single-\(tag)-\(index)"
                // As the money endpoints post: registration and posting in one call, balances returned.
                _ = try await store.write(isolation: .lockedRows) { tx in
                    try await tx.registerAndPost(referenceType: "bench", referenceID: reference,
                                                 [Posting(debit: vault, credit: accounts[index % accounts.count], amountFen: Int64(1 + index % 500),
                                                          kind: "bench", referenceType: "bench", referenceID: reference)], atMs: Self.nowMs).transfers.count
                }
            }
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// Deposits through the real HTTP stack (server on a loopback port, one keep-alive connection
/// per caller): authentication, JSON, Idempotency-Key, card checks, posting, audit, response.
enum HTTPBench {
    struct Results {
        let one: LatencySummary
        let many: LatencySummary
        /// Writer and reader statements per deposit in the concurrent phase (SQLite only).
        let statements: [String: Double]
        let me: LatencySummary
        let hello: LatencySummary
        let meStatements: [String: Double]
    }

    static func run(store: Store, logger: Logger, singles: Int, concurrency: Int, reads: Int) async throws -> Results {
        try await ReferenceData.loadBuiltIn(store: store, nowMs: LedgerBench.nowMs)
        var config = ServerConfig()
        config.port = 0
        config.bcryptCost = 4
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        var quiet = logger
        quiet.logLevel = .critical  // the server's own shutdown chatter is not a bench result
        let app = buildApplication(store: store, config: config, keys: .random(kid: "bench"), logger: quiet,
                                   onServerRunning: { port in
                                       portContinuation.yield(port ?? 0)
                                       portContinuation.finish()
                                   })
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            var port = 0
            for await value in portStream { port = value }
            guard port > 0 else { throw CLIError(description: "error: the bench server did not start") }
            let fixture = try await Fixture.make(store: store, port: port)
            let one = try await deposits(fixture, port: port, count: min(singles, 2_000), concurrency: 1)
            let before = StatementCount(store)
            let many = try await deposits(fixture, port: port, count: singles, concurrency: concurrency)
            let statements = StatementCount(store).since(before, operations: singles)
            // Reads: the authenticated e-card home (session check + person, permit, card) against a
            // Hummingbird hello-world route in the same process, hello-world measured on both sides.
            let helloPort = try await HelloWorld.start(group: &group)
            let me = try await gets(port: port, path: "/v1/ecard/me", token: fixture.holder, count: reads, concurrency: concurrency)
            let beforeMe = StatementCount(store)
            let helloFirst = try await gets(port: helloPort, path: "/hello", token: nil, count: reads, concurrency: concurrency)
            let meAgain = try await gets(port: port, path: "/v1/ecard/me", token: fixture.holder, count: reads, concurrency: concurrency)
            let meStatements = StatementCount(store).since(beforeMe, operations: reads)
            let helloAgain = try await gets(port: helloPort, path: "/hello", token: nil, count: reads, concurrency: concurrency)
            group.cancelAll()
            return Results(one: one, many: many, statements: statements,
                           me: LatencySummary.mean(me, meAgain), hello: LatencySummary.mean(helloFirst, helloAgain), meStatements: meStatements)
        }
    }

    /// `count` GETs of `path` over `concurrency` keep-alive connections; every answer must be 200.
    static func gets(port: Int, path: String, token: String?, count: Int, concurrency: Int) async throws -> LatencySummary {
        var connections: [LoopbackHTTPConnection] = []
        do {
            for _ in 0..<concurrency { connections.append(try await LoopbackHTTPConnection(port: port)) }
            let pool = ConnectionPool(connections)
            let headers = token.map { [("Authorization", "Bearer \($0)")] } ?? []
            let summary = try await LatencySummary.measure(count: count, concurrency: concurrency) { _ in
                guard let connection = pool.take() else { throw CLIError(description: "error: no free connection") }
                defer { pool.give(connection) }
                let response = try await connection.send(.GET, path, headers: headers, body: ByteBuffer())
                guard response.status == 200 else {
                    throw CLIError(description: "error: GET \(path) answered \(response.status): \(String(buffer: response.body))")
                }
            }
            for connection in connections { await connection.close() }
            return summary
        } catch {
            for connection in connections { await connection.close() }
            throw error
        }
    }

    /// The floor of an HTTP answer in this process: a Hummingbird route that returns a constant.
    enum HelloWorld {
        static func start(group: inout ThrowingTaskGroup<Void, any Error>) async throws -> Int {
            let router = Router()
            router.get("/hello") { _, _ in "hello" }
            var quiet = Logger(label: "joinin-bench-hello")
            quiet.logLevel = .critical
            let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                                  onServerRunning: { channel in
                                      portContinuation.yield(channel.localAddress?.port ?? 0)
                                      portContinuation.finish()
                                  }, logger: quiet)
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            var port = 0
            for await value in portStream { port = value }
            guard port > 0 else { throw CLIError(description: "error: the hello-world server did not start") }
            return port
        }
    }

    static func deposits(_ fixture: Fixture, port: Int, count: Int, concurrency: Int) async throws -> LatencySummary {
        var connections: [LoopbackHTTPConnection] = []
        do {
            for _ in 0..<concurrency { connections.append(try await LoopbackHTTPConnection(port: port)) }
            let summary = try await measureDeposits(fixture, connections: connections, count: count, concurrency: concurrency)
            for connection in connections { await connection.close() }
            return summary
        } catch {
            for connection in connections { await connection.close() }
            throw error
        }
    }

    static func measureDeposits(_ fixture: Fixture, connections: [LoopbackHTTPConnection], count: Int, concurrency: Int) async throws -> LatencySummary {
        let pool = ConnectionPool(connections)
        let tag = UUID().uuidString.prefix(8)
        return try await LatencySummary.measure(count: count, concurrency: concurrency) { index in
            guard let connection = pool.take() else { throw CLIError(description: "error: no free connection") }
            defer { pool.give(connection) }
            let card = fixture.cards[index % fixture.cards.count]
            let response = try await connection.send(
                .POST, "/v1/cards/\(card)/deposits",
                headers: [("Authorization", "Bearer \(fixture.clerk)"), ("Content-Type", "application/json"),
                          ("Idempotency-Key", "bench-\(tag)-\(index)")],
                body: ByteBuffer(string: #"{"amount_fen":\#(1 + index % 500),"account":"transitWallet"}"#))
            guard response.status == 201 else {
                throw CLIError(description: "error: deposit answered \(response.status): \(String(buffer: response.body))")
            }
        }
    }

    /// One keep-alive connection per concurrent caller.
    final class ConnectionPool: Sendable {
        private let idle: Mutex<[LoopbackHTTPConnection]>
        init(_ connections: [LoopbackHTTPConnection]) { idle = Mutex(connections) }
        func take() -> LoopbackHTTPConnection? { idle.withLock { $0.popLast() } }
        func give(_ connection: LoopbackHTTPConnection) { idle.withLock { $0.append(connection) } }
    }

    /// A bank clerk's session and a few active cards, made through the API like a branch would.
    struct Fixture: Sendable {
        let clerk: String
        let cards: [String]
        /// An e-card session of the first card's holder.
        let holder: String

        static func make(store: Store, port: Int, cards count: Int = 8) async throws -> Fixture {
            let connection = try await LoopbackHTTPConnection(port: port)
            do {
                let fixture = try await make(store: store, connection: connection, cards: count)
                await connection.close()
                return fixture
            } catch {
                await connection.close()
                throw error
            }
        }

        static func make(store: Store, connection: LoopbackHTTPConnection, cards count: Int = 8) async throws -> Fixture {
            func call(_ method: HTTPMethod, _ path: String, token: String?, _ body: [String: Any]) async throws -> [String: Any] {
                var headers = [("Content-Type", "application/json")]
                if let token { headers.append(("Authorization", "Bearer \(token)")) }
                let response = try await connection.send(method, path, headers: headers,
                                                         body: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
                guard (200..<300).contains(response.status),
                      let json = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] else {
                    throw CLIError(description: "error: bench fixture \(path) answered \(response.status): \(String(buffer: response.body))")
                }
                return json
            }
            let password = "bench harbour lights"
            func staff(_ username: String, _ role: StaffRole, employer: String? = nil, branch: String? = nil) async throws -> String {
                _ = try await Provisioning.addStaff(.init(username: username, password: password, role: role, employerID: employer, branchID: branch),
                                                   store: store, actor: "bench", bcryptCost: 4, nowMs: LedgerBench.nowMs)
                return try await call(.POST, "/v1/staff/sessions", token: nil, ["username": username, "password": password])["token"] as? String ?? ""
            }
            let admin = try await staff("bench.admin", .admin)
            let branch = try await call(.POST, "/v1/branches", token: admin,
                                        ["name": ["en": "Bench Branch", "zh": "测试支行"], "city_code": "330200"])["id"] as? String ?? ""
            let employerID = try await call(.POST, "/v1/employers", token: admin,
                                            ["name": ["en": "Bench Employer", "zh": "测试雇主"], "uscc": "91350100M000100Y43",
                                             "city_code": "330200"])["id"] as? String ?? ""
            let employer = try await staff("bench.employer", .employer, employer: employerID)
            let officer = try await staff("bench.officer", .permitOfficer)
            let clerk = try await staff("bench.clerk", .bankClerk, branch: branch)
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
            formatter.dateFormat = "yyyy-MM-dd"
            let today = formatter.string(from: Date())
            let until = formatter.string(from: Date().addingTimeInterval(700 * 86_400))
            var cards: [String] = []
            var holder = ""
            for index in 0..<count {
                let passport = String(format: "BN%07d", index)
                let documents = ["passport", "photo", "employment_contract"]
                let application = try await call(.POST, "/v1/permit-applications", token: employer, [
                    "person": ["passport_number": passport, "nationality": "DEU", "surname": "BENCH", "given_names": "Card \(["Ann", "Ben", "Cai", "Dan", "Eva", "Fei", "Gus", "Hua"][index % 8])",
                               "date_of_birth": "1990-04-12", "sex": "F"],
                    "position": "Engineer", "category": "B", "contract_start": today, "contract_end": until, "documents": documents])
                let issued = try await call(.POST, "/v1/permit-applications/\(application["id"] as? String ?? "")/originals-verification",
                                            token: officer, ["checked_documents": documents, "decision": "issue"])
                let permit = issued["permit"] as? [String: Any] ?? [:]
                let card = try await call(.POST, "/v1/cards", token: clerk, [
                    "permit_number": permit["number"] as? String ?? "", "decision_letter_number": permit["decision_letter_number"] as? String ?? "",
                    "passport_number": passport])["card_number"] as? String ?? ""
                _ = try await call(.POST, "/v1/cards/\(card)/activation", token: clerk, ["pin": "582931"])
                cards.append(card)
                if index == 0 {
                    let number = permit["number"] as? String ?? ""
                    _ = try await call(.POST, "/v1/ecard/registrations", token: nil, [
                        "permit_number": number, "name": "Card Ann BENCH", "activation_code": issued["activation_code"] as? String ?? "",
                        "password": password])
                    holder = try await call(.POST, "/v1/ecard/sessions", token: nil, ["permit_number": number, "password": password])["token"] as? String ?? ""
                }
            }
            return Fixture(clerk: clerk, cards: cards, holder: holder)
        }
    }
}
