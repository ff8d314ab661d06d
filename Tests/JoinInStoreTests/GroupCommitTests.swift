import Foundation
import JoinInCore
@testable import JoinInStore
import JoinInTestSupport
import SQLKit
import Testing

/// DESIGN §5 group commit: concurrent writes share commits on SQLite, each isolated by a savepoint.
/// The isolation half runs on every engine (PostgreSQL keeps one transaction per write).
@Suite("Group commit")
struct GroupCommitTests {
    struct Refused: Error, Equatable { let index: Int }

    @Test("concurrent writes: failures roll back alone, successes all stay, each caller gets its own answer",
          arguments: TestStores.engines)
    func isolation(engine: Store.EngineKind) async throws {
        try await TestStores.withStore(engine) { (store: Store) async throws in
            try await store.write { tx in
                try await tx.sql.raw("CREATE TABLE gc_probe (id BIGINT PRIMARY KEY, tag TEXT NOT NULL)").run()
            }
            let before = store.writeStatistics
            let writers = 200
            // Every 5th write inserts and then throws; every 7th collides with row 0's key
            // (a constraint violation inside its own savepoint); the rest succeed.
            let answers = try await withThrowingTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
                for index in 0..<writers {
                    group.addTask {
                        do {
                            let value = try await store.write { tx -> Int in
                                let id = index % 7 == 6 ? 0 : index
                                try await tx.sql.raw("INSERT INTO gc_probe (id, tag) VALUES (\(bind: Int64(id)), \(bind: "w\(index)"))").run()
                                if index % 5 == 4 { throw Refused(index: index) }
                                return index * 10
                            }
                            return (index, .success(value))
                        } catch {
                            return (index, .failure(error))
                        }
                    }
                }
                return try await group.reduce(into: [Int: Result<Int, any Error>]()) { $0[$1.0] = $1.1 }
            }
            #expect(answers.count == writers)
            var expectedRows: [Int64: String] = [:]
            for index in 0..<writers {
                let answer = try #require(answers[index])
                let collides = index % 7 == 6 && index != 0
                switch answer {
                case .success(let value):
                    #expect(!collides && index % 5 != 4, "write \(index) should have failed")
                    #expect(value == index * 10)
                    expectedRows[Int64(index)] = "w\(index)"
                case .failure(let error):
                    if index % 5 == 4 && !collides {
                        #expect(error as? Refused == Refused(index: index))
                    } else {
                        #expect(collides || index % 5 == 4, "write \(index) failed: \(error)")
                    }
                }
            }
            let rows = try await store.read { tx in
                try await tx.sql.raw("SELECT id, tag FROM gc_probe").all().map {
                    (try $0.decode(column: "id", as: Int64.self), try $0.decode(column: "tag", as: String.self))
                }
            }
            #expect(Dictionary(uniqueKeysWithValues: rows) == expectedRows)

            if engine == .sqlite {
                let after = try #require(store.writeStatistics)
                let start = try #require(before)
                #expect(after.writes - start.writes == writers)
                #expect(after.commits - start.commits < writers, "200 concurrent writes should share commits")
                #expect(after.largestBatch > 1)
            } else {
                #expect(store.writeStatistics == nil)
            }
        }
    }

    @Test("a write sees the uncommitted effects of earlier writes in its batch, and one caller at a time gets one commit each")
    func sequentialAndVisibility() async throws {
        try await TestStores.withStore(.sqlite) { (store: Store) async throws in
            let start = try #require(store.writeStatistics)
            for expected in 1...20 {
                #expect(try await store.write { tx in try await tx.nextCounter("seq") } == Int64(expected))
            }
            let sequential = try #require(store.writeStatistics)
            #expect(sequential.commits - start.commits == 20)
            // Concurrent counters in shared batches still hand out distinct values: each write
            // reads the counter as left by the writes before it in the same transaction.
            let values = try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<100 { group.addTask { try await store.write { tx in try await tx.nextCounter("seq") } } }
                return try await group.reduce(into: [Int64]()) { $0.append($1) }
            }
            #expect(values.sorted() == Array(21...120))
        }
    }

    @Test("batch bounds: at most batchSizeMax writes share a commit")
    func batchSizeBound() async throws {
        let limits = GroupCommitLimits(batchSizeMax: 4, batchWaitMicrosecondsMax: 1_000_000)
        try await TestStores.withStore(.sqlite, groupCommit: limits) { (store: Store) async throws in
            try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<64 { group.addTask { try await store.write { tx in try await tx.nextCounter("b") } } }
                try await group.waitForAll()
            }
            let statistics = try #require(store.writeStatistics)
            #expect(statistics.largestBatch <= 4)
            #expect(statistics.largestBatch > 1)
            #expect(try await store.write { tx in try await tx.nextCounter("b") } == 65)
        }
    }

    @Test("a full writer queue refuses at once with writerQueueFull instead of growing, and takes writes again once drained")
    func boundedQueue() async throws {
        let limits = GroupCommitLimits(batchSizeMax: 1, batchWaitMicrosecondsMax: 0, queueLengthMax: 2)
        try await TestStores.withStore(.sqlite, groupCommit: limits) { (store: Store) async throws in
            // One write holds the writer until the test lets it go; 20 more arrive meanwhile.
            let (started, startedSignal) = AsyncStream<Void>.makeStream()
            let (gate, opener) = AsyncStream<Void>.makeStream()
            let slow = Task {
                try await store.write { _ in
                    startedSignal.yield()
                    for await _ in gate { break }
                }
            }
            for await _ in started { break }
            let outcomes = await withTaskGroup(of: String.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        do {
                            try await store.write { _ in }
                            return "written"
                        } catch StoreError.writerQueueFull(let limit) {
                            return "refused \(limit)"
                        } catch {
                            return "other: \(error)"
                        }
                    }
                }
                // The refusals come back while the writer is held; then it is let go.
                let safety = Task { try await Task.sleep(for: .seconds(20)); opener.finish() }
                var outcomes: [String] = []
                for await outcome in group {
                    outcomes.append(outcome)
                    if outcomes.count == 18 { opener.finish() }
                }
                safety.cancel()
                return outcomes
            }
            try await slow.value
            // Exactly the queue's two places are taken; the other 18 are refused at once.
            #expect(outcomes.filter { $0 == "refused 2" }.count == 18, "\(outcomes)")
            #expect(outcomes.filter { $0 == "written" }.count == 2, "\(outcomes)")
            #expect(store.writeStatistics?.refused == 18)
            try await store.write { _ in }  // drained: writes go through again
        }
    }
}
