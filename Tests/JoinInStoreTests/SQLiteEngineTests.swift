import Foundation
import JoinInCore
@testable import JoinInStore
import JoinInTestSupport
import SQLKit
import Synchronization
import Testing

/// The SQLite engine straight on libsqlite3 (docs/decisions.md §21): values in and out, errors,
/// the statement cache, the engine's ownership of transactions, deadlines, read snapshots and
/// statement counts.
@Suite("SQLite engine")
struct SQLiteEngineTests {
    enum Colour: String, Codable { case red, green }
    struct Nested: Codable, Equatable { var name: String; var tags: [String] }

    @Test("values round-trip exactly: integers at their limits, floats, Unicode and NUL text, bytes, NULL, enums, JSON")
    func values() async throws {
        try await TestStores.withStore(.sqlite) { store in
            try await store.write { tx in
                try await tx.sql.raw("CREATE TABLE probe (id BIGINT PRIMARY KEY, i BIGINT, f REAL, t TEXT, b BLOB, n TEXT, e TEXT, j TEXT)").run()
            }
            let text = "聚英卡 Müller \u{0}after-NUL 🇨🇳"
            let bytes: [UInt8] = Array(0...255)
            let nested = Nested(name: "x", tags: ["a", "b"])
            for (id, integer) in [(1, Int64.max), (2, Int64.min), (3, 0)] {
                try await store.write { tx in
                    try await tx.sql.raw("""
                        INSERT INTO probe (id, i, f, t, b, n, e, j) VALUES (\(bind: Int64(id)), \(bind: integer), \(bind: 0.1 + 0.2),
                        \(bind: id == 3 ? "" : text), \(bind: Data(id == 3 ? [] : bytes)), \(bind: String?.none), \(bind: Colour.green), \(bind: nested))
                        """).run()
                }
            }
            let rows = try await store.read { tx in try await tx.sql.raw("SELECT * FROM probe ORDER BY id").all() }
            #expect(rows.count == 3)
            #expect(try rows[0].decode(column: "i", as: Int64.self) == .max)
            #expect(try rows[1].decode(column: "i", as: Int64.self) == .min)
            #expect(try rows[0].decode(column: "f", as: Double.self) == 0.1 + 0.2)
            #expect(try rows[0].decode(column: "t", as: String.self) == text)
            #expect(try rows[2].decode(column: "t", as: String.self) == "")
            #expect(try rows[0].decode(column: "b", as: Data.self) == Data(bytes))
            #expect(try rows[2].decode(column: "b", as: Data.self) == Data())
            #expect(try rows[0].decode(column: "n", as: String?.self) == nil)
            #expect(try rows[0].decodeNil(column: "n"))
            #expect(try rows[0].decode(column: "e", as: Colour.self) == .green)
            #expect(try rows[0].decode(column: "j", as: Nested.self) == nested)
            #expect(try rows[2].decode(column: "i", as: Bool.self) == false)
            // Refusals name what went wrong instead of guessing.
            #expect(throws: DecodingError.self) { try rows[0].decode(column: "t", as: Int64.self) }
            #expect(throws: DecodingError.self) { try rows[0].decode(column: "n", as: String.self) }
            #expect(throws: DecodingError.self) { try rows[0].decode(column: "no_such_column", as: String.self) }
            #expect(rows[0].contains(column: "j") && !rows[0].contains(column: "zz"))
        }
    }

    @Test("constraint failures carry SQLite's extended codes: unique and primary-key violations are recognised, others are not")
    func errors() async throws {
        try await TestStores.withStore(.sqlite) { store in
            try await store.write { tx in
                try await tx.sql.raw("CREATE TABLE parent (id BIGINT PRIMARY KEY, code TEXT UNIQUE)").run()
                try await tx.sql.raw("CREATE TABLE child (id BIGINT PRIMARY KEY, parent BIGINT NOT NULL REFERENCES parent(id))").run()
                try await tx.sql.raw("INSERT INTO parent (id, code) VALUES (1, 'a')").run()
            }
            func failure(_ sql: SQLQueryString) async -> (any Error)? {
                do {
                    try await store.write { tx in try await tx.sql.raw(sql).run() }
                    return nil
                } catch { return error }
            }
            let primary = await failure("INSERT INTO parent (id, code) VALUES (1, 'b')")
            let unique = await failure("INSERT INTO parent (id, code) VALUES (2, 'a')")
            let foreign = await failure("INSERT INTO child (id, parent) VALUES (1, 99)")
            let notNull = await failure("INSERT INTO child (id) VALUES (2)")
            let syntax = await failure("INSERT INTO nowhere VALUES (1)")
            #expect(primary.map(isUniqueViolation) == true)
            #expect(unique.map(isUniqueViolation) == true)
            #expect(foreign.map(isUniqueViolation) == false)
            #expect(notNull.map(isUniqueViolation) == false)
            #expect((foreign as? SQLiteFailure)?.code == 787)  // SQLITE_CONSTRAINT_FOREIGNKEY
            #expect((notNull as? SQLiteFailure)?.code == 1299)  // SQLITE_CONSTRAINT_NOTNULL
            #expect((syntax as? SQLiteFailure)?.message.contains("no such table") == true)
            // The store is unharmed: the next write commits.
            #expect(await failure("INSERT INTO parent (id, code) VALUES (3, 'c')") == nil)
        }
    }

    @Test("cached statements stay correct across thousands of runs and a schema change; one call runs one statement")
    func statementCache() async throws {
        try await TestStores.withStore(.sqlite) { store in
            try await store.write { tx in try await tx.sql.raw("CREATE TABLE cache_probe (id BIGINT PRIMARY KEY, v TEXT)").run() }
            try await store.write { tx in
                for id in 0..<2_000 {
                    try await tx.sql.raw("INSERT INTO cache_probe (id, v) VALUES (\(bind: Int64(id)), \(bind: "v\(id)"))").run()
                }
            }
            let sum = try await store.read { tx in
                var sum: Int64 = 0
                for id in stride(from: 0, to: 2_000, by: 7) {
                    let row = try await tx.sql.raw("SELECT id, v FROM cache_probe WHERE id = \(bind: Int64(id))").first()
                    #expect(try row?.decode(column: "v", as: String.self) == "v\(id)")
                    sum += try row?.decode(column: "id", as: Int64.self) ?? 0
                }
                return sum
            }
            #expect(sum == Int64(stride(from: 0, to: 2_000, by: 7).reduce(0, +)))
            // `SELECT *` prepared before a column is added sees the column afterwards.
            let before = try await store.read { tx in try await tx.sql.raw("SELECT * FROM cache_probe WHERE id = 1").first()?.allColumns }
            try await store.write { tx in try await tx.sql.raw("ALTER TABLE cache_probe ADD COLUMN w TEXT").run() }
            let after = try await store.read { tx in try await tx.sql.raw("SELECT * FROM cache_probe WHERE id = 1").first()?.allColumns }
            #expect(before == ["id", "v"])
            #expect(after == ["id", "v", "w"])
            // On one connection (the writer), the remembered column names follow a schema change:
            // a column added, then one renamed (same count, other name).
            let names = try await store.write { tx -> [[String]] in
                try await tx.sql.raw("CREATE TABLE names_probe (id BIGINT PRIMARY KEY, v TEXT)").run()
                try await tx.sql.raw("INSERT INTO names_probe (id, v) VALUES (1, 'a')").run()
                var seen: [[String]] = []
                for change in ["ALTER TABLE names_probe ADD COLUMN x TEXT", "ALTER TABLE names_probe RENAME COLUMN v TO renamed", ""] {
                    seen.append(try await tx.sql.raw("SELECT * FROM names_probe WHERE id = 1").first()?.allColumns ?? [])
                    if !change.isEmpty { try await tx.sql.raw(SQLQueryString(change)).run() }
                }
                return seen
            }
            #expect(names == [["id", "v"], ["id", "v", "x"], ["id", "renamed", "x"]])
            // A second statement in one call would silently never run: refused.
            await #expect(throws: SQLiteFailure.self) {
                try await store.write { tx in try await tx.sql.raw("UPDATE cache_probe SET v = 'x'; DELETE FROM cache_probe").run() }
            }
            let count = try await store.read { tx in try await tx.sql.raw("SELECT COUNT(*) AS n FROM cache_probe WHERE v = 'x'").first()?.decode(column: "n", as: Int64.self) }
            #expect(count == 0)
            // Comments, semicolons and whitespace after the statement are no second statement.
            for text in ["SELECT 1 AS n -- trailing comment", "SELECT 1 AS n; /* block */ ;", "SELECT 1 AS n;\n-- one\n-- two\n"] {
                let value = try await store.read { tx in try await tx.sql.raw(SQLQueryString(text)).first()?.decode(column: "n", as: Int64.self) }
                #expect(value == 1, "\(text)")
            }
            for text in ["UPDATE cache_probe SET v = 'x'; -- c\n DELETE FROM cache_probe", "UPDATE cache_probe SET v = 'x'; /* c */ DELETE FROM cache_probe",
                         "UPDATE cache_probe SET v = 'x'; garbage"] {
                await #expect(throws: SQLiteFailure.self, "\(text)") {
                    try await store.write { tx in try await tx.sql.raw(SQLQueryString(text)).run() }
                }
            }
            let still = try await store.read { tx in try await tx.sql.raw("SELECT COUNT(*) AS n FROM cache_probe WHERE v = 'x'").first()?.decode(column: "n", as: Int64.self) }
            #expect(still == 0)
        }
    }

    @Test("the engine owns transactions: a write or read cannot begin, commit or roll back, and readers cannot write")
    func transactionOwnership() async throws {
        try await TestStores.withStore(.sqlite) { store in
            try await store.write { tx in try await tx.sql.raw("CREATE TABLE own_probe (id BIGINT PRIMARY KEY)").run() }
            for statement in ["COMMIT", "  rollback", "BEGIN IMMEDIATE", "END", "RELEASE SAVEPOINT joinin_write", "SAVEPOINT x"] {
                do {
                    try await store.write { tx in
                        try await tx.sql.raw("INSERT INTO own_probe (id) VALUES (1)").run()
                        try await tx.sql.raw(SQLQueryString(statement)).run()
                    }
                    Issue.record("\(statement) was allowed inside a write")
                } catch let failure as SQLiteFailure {
                    #expect(failure.message.contains("belongs to the store engine"), "\(failure)")
                }
                await #expect(throws: SQLiteFailure.self) {
                    try await store.read { tx in try await tx.sql.raw(SQLQueryString(statement)).run() }
                }
            }
            #expect(SQLiteDatabase.transactionControl("\n\tcommit;") == "COMMIT")
            #expect(SQLiteDatabase.transactionControl("SavePoint x") == "SAVEPOINT")
            for other in ["SELECT 1", "BEGINS", "ENDS", "SAVEPOINTS x", "UPDATE t SET a = 1", "", "   ", "COMMI"] {
                #expect(SQLiteDatabase.transactionControl(other) == nil, "\(other)")
            }
            // Each refused write rolled back to its savepoint: no row was kept.
            let rows = try await store.read { tx in try await tx.sql.raw("SELECT COUNT(*) AS n FROM own_probe").first()?.decode(column: "n", as: Int64.self) }
            #expect(rows == 0)
            // Reader connections are query-only.
            do {
                try await store.read { tx in try await tx.sql.raw("INSERT INTO own_probe (id) VALUES (2)").run() }
                Issue.record("a reader wrote")
            } catch let failure as SQLiteFailure {
                #expect(failure.primaryCode == 8, "\(failure)")  // SQLITE_READONLY
            }
        }
    }

    @Test("a read is one snapshot: a write committed in the middle of it is not seen until the next read")
    func readSnapshot() async throws {
        try await TestStores.withStore(.sqlite) { store in
            try await store.write { tx in
                try await tx.sql.raw("CREATE TABLE snap_probe (id BIGINT PRIMARY KEY)").run()
                try await tx.sql.raw("INSERT INTO snap_probe (id) VALUES (1)").run()
            }
            let counts = try await store.read { tx in
                let first = try await tx.sql.raw("SELECT COUNT(*) AS n FROM snap_probe").first()?.decode(column: "n", as: Int64.self)
                try await store.write { tx in try await tx.sql.raw("INSERT INTO snap_probe (id) VALUES (2)").run() }
                let second = try await tx.sql.raw("SELECT COUNT(*) AS n FROM snap_probe").first()?.decode(column: "n", as: Int64.self)
                return [first, second]
            }
            #expect(counts == [1, 1])
            let later = try await store.read { tx in try await tx.sql.raw("SELECT COUNT(*) AS n FROM snap_probe").first()?.decode(column: "n", as: Int64.self) }
            #expect(later == 2)
        }
    }

    @Test("a write past its deadline is interrupted; its whole batch is refused and rolled back; the writer carries on")
    func deadline() async throws {
        // A batch that stays open for new writes long enough (5 s) for a loaded machine to queue the
        // runaway write while the neighbour runs.
        let limits = GroupCommitLimits(batchSizeMax: 64, batchWaitMicrosecondsMax: 5_000_000, jobDeadlineMilliseconds: 300)
        try await TestStores.withStore(.sqlite, groupCommit: limits) { store in
            try await store.write { tx in try await tx.sql.raw("CREATE TABLE dl_probe (id BIGINT PRIMARY KEY)").run() }
            let (started, signal) = AsyncStream<Void>.makeStream()
            // A neighbour joins the batch first, then the runaway write (a recursive query of some
            // seconds, bounded so that a broken deadline fails the test instead of hanging it).
            async let neighbour: Result<Void, any Error> = outcome {
                try await store.write { tx in
                    try await tx.sql.raw("INSERT INTO dl_probe (id) VALUES (1)").run()
                    signal.yield()
                    // Still running when the runaway write arrives, so the two share a batch.
                    guard case .sqlite(let engine) = store.engine else { return }
                    for _ in 0..<2_000 where engine.groupWriter.queueLength == 0 {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                }
            }
            for await _ in started { break }
            let clock = ContinuousClock()
            let began = clock.now
            let runaway: Result<Int64?, any Error> = await outcome {
                try await store.write { tx in
                    try await tx.sql.raw("""
                        WITH RECURSIVE slow(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM slow WHERE n < 100000000) SELECT MAX(n) AS m FROM slow
                        """).first()?.decode(column: "m", as: Int64?.self)
                }
            }
            let elapsed = clock.now - began
            guard case .failure(let error) = runaway, case StoreError.writeDeadlineExceeded = error else {
                Issue.record("the runaway write was not stopped: \(runaway)")
                return
            }
            #expect(elapsed < .seconds(10))
            // The neighbour shared the batch: it was refused too, and its row is gone.
            if case .success = await neighbour { Issue.record("a write in a rolled-back batch was acknowledged") }
            let rows = try await store.read { tx in try await tx.sql.raw("SELECT COUNT(*) AS n FROM dl_probe").first()?.decode(column: "n", as: Int64.self) }
            #expect(rows == 0)
            try await store.write { tx in try await tx.sql.raw("INSERT INTO dl_probe (id) VALUES (2)").run() }
            let after = try await store.read { tx in try await tx.sql.raw("SELECT COUNT(*) AS n FROM dl_probe").first()?.decode(column: "n", as: Int64.self) }
            #expect(after == 1)
        }
    }

    @Test("statements are counted: one write of three statements costs three plus BEGIN, SAVEPOINT, RELEASE and COMMIT")
    func statementCounts() async throws {
        try await TestStores.withStore(.sqlite) { store in
            try await store.write { tx in try await tx.sql.raw("CREATE TABLE count_probe (id BIGINT PRIMARY KEY)").run() }
            let before = try #require(store.writeStatistics)
            try await store.write { tx in
                try await tx.sql.raw("INSERT INTO count_probe (id) VALUES (1)").run()
                try await tx.sql.raw("INSERT INTO count_probe (id) VALUES (2)").run()
                _ = try await tx.sql.raw("SELECT id FROM count_probe").all()
            }
            _ = try await store.read { tx in try await tx.sql.raw("SELECT id FROM count_probe").all() }
            let after = try #require(store.writeStatistics)
            #expect(after.statements - before.statements == 7)
            #expect(after.readerStatements - before.readerStatements == 3)  // BEGIN, SELECT, COMMIT
        }
    }

    @Test("a database file in UTF-16 is refused when it opens (text is read as the UTF-8 bytes stored)")
    func utf16Refused() async throws {
        let (path, cleanup) = try await TestStores.freshURL(.sqlite)
        defer { Task { await cleanup() } }
        let handle = try SQLiteHandle(path: path)
        try handle.exec("PRAGMA encoding = 'UTF-16le'")
        try handle.exec("CREATE TABLE probe (x TEXT)")
        handle.close()
        do {
            try await Store.with(url: path, dataKeys: .random(), logger: TestStores.logger) { _ in
                Issue.record("a UTF-16 database was opened")
            }
        } catch StoreError.pragmasRefused(let settings) {
            #expect(settings.contains("encoding=UTF-16le"), "\(settings)")
        }
    }

    @Test("remembered audit heads stay a valid chain through rolled-back writes and a second process on the same file")
    func auditMemo() async throws {
        let (url, cleanup) = try await TestStores.freshURL(.sqlite)
        defer { Task { await cleanup() } }
        let keys = DataKeys.random()
        struct Refused: Error {}
        try await Store.with(url: url, dataKeys: keys, logger: TestStores.logger) { first in
            try await first.migrate()
            try await Store.with(url: url, dataKeys: keys, logger: TestStores.logger) { second in
                let existing = try await first.read { tx in
                    try await tx.sql.raw("SELECT COUNT(*) AS n FROM audit_log").first()?.decode(column: "n", as: Int.self)
                } ?? 0
                var kept = 0
                for round in 0..<120 {
                    // Alternate between two stores (two writers, two memos) on one file; every
                    // fourth write appends and is then rolled back with its savepoint.
                    let store = round % 3 == 2 ? second : first
                    let refused = round % 4 == 3
                    do {
                        try await store.write { tx in
                            try await tx.appendAudit(actor: "memo-test", action: "probe", objectType: "round", objectID: "\(round)", atMs: Int64(round))
                            if refused { throw Refused() }
                        }
                        kept += 1
                    } catch is Refused {}
                }
                #expect(kept == 90)
                let verdict = try await first.verifyAudit()
                #expect(verdict == .intact(count: existing + 90), "\(verdict)")
                let stored = try await first.read { tx in
                    try await tx.sql.raw("SELECT COUNT(*) AS n FROM audit_log WHERE actor = 'memo-test'").first()?.decode(column: "n", as: Int64.self)
                }
                #expect(stored == 90)
            }
        }
    }

    /// Records the column names a row decoder asks for.
    final class ProbeRow: SQLRow {
        let asked = Mutex<[String]>([])
        var allColumns: [String] { [] }
        func contains(column: String) -> Bool { true }
        func decodeNil(column: String) throws -> Bool { false }
        func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
            asked.withLock { $0.append(column) }
            return try #require("" as? D)
        }
    }

    struct TrickyNames: Decodable {
        let ownerId, passportMRZ, aBC, createdAtMs, x, myURLProperty, id, debitsBlocked, lowercase, ABTest: String
    }

    @Test("the memoized snake-case decoder asks for exactly the columns SQLKit's convertFromSnakeCase asks for")
    func snakeCaseKeys() throws {
        let ours = ProbeRow(), theirs = ProbeRow()
        for _ in 0..<2 {  // the second round answers from the memo
            ours.asked.withLock { $0.removeAll() }
            theirs.asked.withLock { $0.removeAll() }
            _ = try SQLRowDecoder.snake.decode(TrickyNames.self, from: ours)
            _ = try SQLRowDecoder(keyDecodingStrategy: .convertFromSnakeCase).decode(TrickyNames.self, from: theirs)
            let asked = ours.asked.withLock { $0 }
            #expect(asked == theirs.asked.withLock { $0 })
            #expect(asked.contains("owner_id") && asked.contains("created_at_ms") && asked.count == 10, "\(asked)")
        }
    }

    struct RecordProbe: Decodable, Equatable {
        let id: String
        let countFen: Int64
        let smallCount: Int
        let isActive: Bool
        let ratio: Double
        let colour: Colour
        let nested: Nested
        let note: String?
        let closedAtMs: Int64?
        let flag: Bool?
        let missingColumn: String?
    }

    @Test("records decode through the direct path exactly as through SQLKit's decoder: values, NULLs, missing columns, enums, JSON, errors")
    func recordDecoder() async throws {
        try await TestStores.withStore(.sqlite) { store in
            try await store.write { tx in
                try await tx.sql.raw("""
                    CREATE TABLE record_probe (id TEXT PRIMARY KEY, count_fen BIGINT, small_count BIGINT, is_active BIGINT, ratio REAL,
                        colour TEXT, nested TEXT, note TEXT, closed_at_ms BIGINT, flag TEXT)
                    """).run()
                try await tx.sql.raw("""
                    INSERT INTO record_probe VALUES ('a', \(bind: Int64.min), 7, 1, 0.25, 'green', \(bind: Nested(name: "n", tags: ["x"])),
                        '聚英卡', \(bind: Int64.max), 'true'),
                        ('b', 0, -3, 0, 2, 'red', \(bind: Nested(name: "", tags: [])), NULL, NULL, NULL)
                    """).run()
            }
            let (ours, sqlkit, rows) = try await store.read { tx in
                (try await tx.sql.raw("SELECT * FROM record_probe ORDER BY id").allRecords(RecordProbe.self),
                 try await tx.sql.raw("SELECT * FROM record_probe ORDER BY id").all(decoding: RecordProbe.self, with: .snake),
                 try await tx.sql.raw("SELECT * FROM record_probe ORDER BY id").all())
            }
            #expect(ours == sqlkit)
            #expect(ours.count == 2)
            #expect(ours.first == RecordProbe(id: "a", countFen: .min, smallCount: 7, isActive: true, ratio: 0.25, colour: .green,
                                              nested: Nested(name: "n", tags: ["x"]), note: "聚英卡", closedAtMs: .max, flag: true,
                                              missingColumn: nil))
            #expect(ours.last?.note == nil && ours.last?.closedAtMs == nil && ours.last?.flag == nil && ours.last?.isActive == false)
            #expect(try rows.map { try $0.record(RecordProbe.self) } == ours)
            // The second row of a type is decoded by the first one's plan; a type that asks for
            // other columns depending on a value still gets the right ones.
            struct Conditional: Decodable, Equatable {
                let id: String
                let other: String?
                enum CodingKeys: String, CodingKey { case id, note, colour }
                init(id: String, other: String?) { self.id = id; self.other = other }
                init(from decoder: any Decoder) throws {
                    let container = try decoder.container(keyedBy: CodingKeys.self)
                    id = try container.decode(String.self, forKey: .id)
                    other = try container.decodeIfPresent(String.self, forKey: id == "a" ? .note : .colour)
                }
            }
            #expect(try rows.map { try $0.record(Conditional.self) } == [Conditional(id: "a", other: "聚英卡"), Conditional(id: "b", other: "red")])
            #expect(try rows.reversed().map { try $0.record(Conditional.self) } == [Conditional(id: "b", other: "red"), Conditional(id: "a", other: "聚英卡")])

            // Failures: a missing required column, NULL where a value is required, a type that does not convert.
            struct NeedsColumn: Decodable { let absent: String }
            struct NeedsValue: Decodable { let note: String }
            struct NeedsInteger: Decodable { let colour: Int64 }
            let row = try #require(rows.last)
            #expect { try row.record(NeedsColumn.self) } throws: { error in
                guard case DecodingError.keyNotFound(let key, _) = error else { return false }
                return key.stringValue == "absent"
            }
            for attempt in [{ _ = try row.record(NeedsValue.self) }, { _ = try row.record(NeedsInteger.self) }] {
                #expect { try attempt() } throws: { error in
                    guard case DecodingError.typeMismatch = error else { return false }
                    return true
                }
                // SQLKit's decoder refuses the same rows.
            }
            #expect(throws: (any Error).self) { try row.decode(model: NeedsValue.self, with: .snake) }
            #expect(throws: (any Error).self) { try row.decode(model: NeedsInteger.self, with: .snake) }
        }
    }

    @Test("a lookup runs on the caller's thread as one snapshot; one that runs long is interrupted and refused")
    func lookup() async throws {
        try await TestStores.withStore(.sqlite) { store in
            try await store.write { tx in
                try await tx.sql.raw("CREATE TABLE lookup_probe (id BIGINT PRIMARY KEY)").run()
                try await tx.sql.raw("INSERT INTO lookup_probe (id) VALUES (1)").run()
            }
            let before = try #require(store.writeStatistics)
            let counts = try await store.lookup { tx in
                let first = try await tx.sql.raw("SELECT COUNT(*) AS n FROM lookup_probe").first()?.decode(column: "n", as: Int64.self)
                try await store.write { tx in try await tx.sql.raw("INSERT INTO lookup_probe (id) VALUES (2)").run() }
                let second = try await tx.sql.raw("SELECT COUNT(*) AS n FROM lookup_probe").first()?.decode(column: "n", as: Int64.self)
                return [first, second]
            }
            #expect(counts == [1, 1], "one snapshot")
            let after = try #require(store.writeStatistics)
            #expect(after.readerStatements - before.readerStatements == 4)  // BEGIN, 2 × SELECT, COMMIT on a reader

            let clock = ContinuousClock()
            let began = clock.now
            let runaway: Result<Int64?, any Error> = await outcome {
                try await store.lookup { tx in
                    try await tx.sql.raw("""
                        WITH RECURSIVE slow(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM slow WHERE n < 1000000000) SELECT MAX(n) AS m FROM slow
                        """).first()?.decode(column: "m", as: Int64?.self)
                }
            }
            guard case .failure(let error) = runaway, case StoreError.lookupDeadlineExceeded(let milliseconds) = error else {
                Issue.record("the long lookup was not stopped: \(runaway)")
                return
            }
            #expect(milliseconds == SQLiteEngine.lookupDeadlineMilliseconds)
            #expect(clock.now - began < .seconds(10))
            // The reader is usable again, without a deadline left behind.
            let later = try await store.lookup { tx in try await tx.sql.raw("SELECT COUNT(*) AS n FROM lookup_probe").first()?.decode(column: "n", as: Int64.self) }
            #expect(later == 2)
            let long = try await store.read { tx in
                try await tx.sql.raw("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 300000) SELECT MAX(n) AS m FROM c")
                    .first()?.decode(column: "m", as: Int64.self)
            }
            #expect(long == 300_000)
        }
    }

    @Test("a lookup statement that sorts or builds an IN-list table is reported; point reads and other reads are not")
    func lookupScratchTables() async throws {
        try await TestStores.withStore(.sqlite) { store in
            try await store.write { tx in
                try await tx.sql.raw("CREATE TABLE scratch_probe (id BIGINT PRIMARY KEY, kind TEXT NOT NULL, at BIGINT NOT NULL)").run()
                try await tx.sql.raw("CREATE INDEX scratch_probe_by_kind ON scratch_probe (kind, at)").run()
                try await tx.sql.raw("INSERT INTO scratch_probe (id, kind, at) VALUES (1, 'a', 10), (2, 'a', 20), (3, 'b', 30)").run()
            }
            let sorted = "SELECT id FROM scratch_probe WHERE kind = ?1 ORDER BY at DESC, id DESC LIMIT 1"
            let listed = "SELECT id FROM scratch_probe WHERE kind = ?1 AND at IN (?2, ?3, ?4)"
            let indexed = "SELECT id FROM scratch_probe WHERE kind = ?1 ORDER BY at DESC LIMIT 1"
            // Not a lookup: a read may sort.
            let read = try await store.read { tx in
                try await tx.sql.raw("SELECT id FROM scratch_probe ORDER BY kind DESC, id").all().map { try $0.decode(column: "id", as: Int64.self) }
            }
            #expect(read == [3, 1, 2])
            let ids = try await store.lookup { tx in
                try [try await tx.sql.raw("SELECT id FROM scratch_probe WHERE kind = \(bind: "a") ORDER BY at DESC, id DESC LIMIT 1").first(),
                 try await tx.sql.raw("SELECT id FROM scratch_probe WHERE kind = \(bind: "a") AND at IN (\(binds: [10, 20, 30]))").first(),
                 try await tx.sql.raw("SELECT id FROM scratch_probe WHERE kind = \(bind: "a") ORDER BY at DESC LIMIT 1").first()]
                    .map { try $0?.decode(column: "id", as: Int64.self) }
            }
            #expect(ids == [2, 1, 2])
            #expect(store.lookupScratchTableStatements == [sorted, listed], "\(store.lookupScratchTableStatements)")
            #expect(!store.lookupScratchTableStatements.contains(indexed))
        }
    }

    private func outcome<T>(_ body: () async throws -> T) async -> Result<T, any Error> {
        do { return .success(try await body()) } catch { return .failure(error) }
    }

    @Test("exactly one SQLite library is loaded in the process: the system's libsqlite3")
    func oneLibrary() throws {
        // /proc files report a size of 0: read to the end instead of by size.
        let file = try #require(FileHandle(forReadingAtPath: "/proc/self/maps"))
        let maps = String(decoding: try #require(try file.readToEnd()), as: UTF8.self)
        #expect(maps.contains("libswiftCore") || maps.contains("xctest") || maps.contains("joinin"))
        let libraries = Set(maps.split(separator: "\n").compactMap { line -> String? in
            guard let path = line.split(separator: " ", omittingEmptySubsequences: true).last, path.hasPrefix("/") else { return nil }
            // Shared objects only: the open test databases' `-shm` files are mapped too.
            let name = path.split(separator: "/").last.map(String.init) ?? ""
            return name.lowercased().contains("sqlite") && name.contains(".so") ? String(path) : nil
        })
        #expect(libraries.count == 1, "\(libraries)")
        #expect(libraries.first?.contains("libsqlite3.so") == true, "\(libraries)")
        // No second, vendored copy linked into the executable under another prefix.
        let handle = try #require(dlopen(nil, RTLD_NOW))
        defer { dlclose(handle) }
        #expect(dlsym(handle, "sqlite_nio_sqlite3_open_v2") == nil)
        #expect(dlsym(handle, "sqlite3_open_v2") != nil)
    }
}
