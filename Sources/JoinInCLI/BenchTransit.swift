import ArgumentParser
import Foundation
import Hummingbird
import JoinInAPI
import JoinInCore
import JoinInServer
import JoinInStore
import Logging
import NIOCore
import SQLKit

extension BenchCommand {
    /// `joinin bench transit`: taps ingested per second — parsed, checked, de-duplicated, paired,
    /// priced, charged through the ledger, durable — through the store and through HTTP, against
    /// plain multi-row inserts of the same tap rows measured in the same run.
    struct Transit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Taps/s through the store and the HTTP API (batches of 10,000), against raw inserts of the same rows.")

        @Option(help: "Database URL (default: a fresh SQLite file in a temp directory; postgres://… uses a fresh schema there)")
        var database: String?
        @Option(help: "Cardholders riding (each gets taps in every batch)") var cardholders: Int = 500
        @Option(help: "Taps per batch (1,000-10,000)") var batchSize: Int = 10_000
        @Option(help: "Batches per path (one service day each)") var batches: Int = 4
        @Option(help: "GTFS-Fares v2 feed to price with") var feed: String = "docs/examples/transit-demo-feed"

        func validate() throws {
            guard (10...20_000).contains(cardholders) else { throw ValidationError("--cardholders must be 10-20,000") }
            guard (1_000...10_000).contains(batchSize), batchSize % 2 == 0 else { throw ValidationError("--batch-size must be an even 1,000-10,000") }
            guard (1...30).contains(batches) else { throw ValidationError("--batches must be 1-30") }
        }

        func run() async throws {
            let logger: Logger = {
                var logger = cliLogger("joinin-bench")
                logger.logLevel = .error
                return logger
            }()
            let files = try TransitImport.feedFiles(at: feed)
            let (url, engineName, cleanup) = try await Ledger.freshDatabase(database, logger: logger)
            do {
                let report = try await measure(url: url, engineName: engineName, files: files, logger: logger)
                await cleanup()
                print(String(decoding: report, as: UTF8.self))
            } catch {
                await cleanup()
                throw error
            }
        }

        static let stations = ["GULOU", "DONGMENKOU", "TIANYI", "NINGBO-STN", "AIRPORT"]

        /// Batch `batch`: every cardholder rides metro journeys (entry, exit 15 minutes later) on one
        /// service day, days counting back from two months ago so every tap is in the accepted window.
        func taps(batch: Int, cards: [String], sequenceBase: Int, nowMs: Int64, daysAgo: Int = 60) -> [Components.Schemas.Tap] {
            let dayStartMs = (nowMs / 86_400_000 - Int64(daysAgo) + Int64(batch)) * 86_400_000 - 8 * 3_600_000 + 6 * 3_600_000
            var result: [Components.Schemas.Tap] = []
            result.reserveCapacity(batchSize)
            for journey in 0..<(batchSize / 2) {
                let holder = journey % cards.count, round = journey / cards.count
                let entryMs = dayStartMs + Int64(round) * 40 * 60_000 + Int64(holder % 600) * 1_000
                func time(_ ms: Int64) -> String {
                    let local = ms / 1000 + 8 * 3600
                    let date = CivilDate(daysSinceEpoch: Int(local / 86_400)).description
                    let seconds = Int(local % 86_400)
                    return "\(date)T" + String(format: "%02d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60) + "+08:00"
                }
                let from = Self.stations[(holder + round) % Self.stations.count], to = Self.stations[(holder + 2 * round + 1) % Self.stations.count]
                result.append(.init(sequence: Int64(sequenceBase + 2 * journey), time: time(entryMs), cardNumber: cards[holder], stopId: from,
                                    routeId: "L1", kind: .entry))
                result.append(.init(sequence: Int64(sequenceBase + 2 * journey + 1), time: time(entryMs + 15 * 60_000), cardNumber: cards[holder],
                                    stopId: to, routeId: "L1", kind: .exit))
            }
            return result
        }

        func measure(url: String, engineName: String, files: [String: [UInt8]], logger: Logger) async throws -> Data {
            try await Store.with(url: url, dataKeys: .random(), logger: logger) { store -> Data in
                try await store.migrate()
                let nowMs = AppClock.system.nowMs()
                try await ReferenceData.loadBuiltIn(store: store, nowMs: nowMs)
                var config = ServerConfig()
                config.port = 0
                config.bcryptCost = 4
                config.bodyBytesMax = 1 << 20
                let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
                var quiet = logger
                quiet.logLevel = .critical
                let app = buildApplication(store: store, config: config, keys: .random(kid: "bench"), logger: quiet,
                                           onServerRunning: { port in
                                               portContinuation.yield(port ?? 0)
                                               portContinuation.finish()
                                           })
                return try await withThrowingTaskGroup(of: Void.self) { group -> Data in
                    group.addTask { try await app.runService(gracefulShutdownSignals: []) }
                    var port = 0
                    for await value in portStream { port = value }
                    guard port > 0 else { throw CLIError(description: "error: the bench server did not start") }
                    let report = try await measure(store: store, port: port, engineName: engineName, files: files, nowMs: nowMs)
                    group.cancelAll()
                    return report
                }
            }
        }

        func measure(store: Store, port: Int, engineName: String, files: [String: [UInt8]], nowMs: Int64) async throws -> Data {
            let setupStarted = ContinuousClock.now
            let fixture = try await HTTPBench.Fixture.make(store: store, port: port, cards: cardholders)
            let operatorID = UUID().uuidString.lowercased()
            try await store.write { tx in
                _ = try await tx.setCityInteroperable(code: "330200", interoperable: true, atMs: nowMs)
                try await tx.insertTransitOperator(TransitOperatorRecord(
                    id: operatorID, name: LocalizedName(en: "Bench Metro", zh: "测试地铁"), cityCode: "330200", modes: ["metro"],
                    cardholderCategoryId: "joinin", maxJourneySeconds: 3 * 3600, exitWithoutEntry: "maximum_fare", createdAtMs: nowMs, updatedAtMs: nowMs))
            }
            _ = try await TransitImport.importFeed(store: store, operatorID: operatorID, files: files, validFromMs: nil, cardholderCategoryID: nil,
                                                   actor: "bench", nowMs: nowMs)
            let storeGate = try await Provisioning.addTerminal(kind: .transitValidator, name: "bench store", bindingID: operatorID, store: store,
                                                               actor: "bench", nowMs: nowMs)
            let httpGate = try await Provisioning.addTerminal(kind: .transitValidator, name: "bench http", bindingID: operatorID, store: store,
                                                              actor: "bench", nowMs: nowMs)
            // Every cardholder has money, so charges come from the wallet (no debt, no deny list).
            for card in fixture.cards {
                try await store.write(isolation: .lockedRows) { tx in
                    guard let person = try await tx.card(number: card)?.personId else { throw CLIError(description: "error: bench card vanished") }
                    let wallet = try await tx.openAccount(kind: .transitWallet, ownerType: "person", ownerID: person, atMs: nowMs)
                    let vault = try await tx.openAccount(kind: .branchVault, ownerType: "branch", ownerID: "bench", atMs: nowMs)
                    let id = UUID().uuidString.lowercased()
                    try await tx.registerReference(type: "deposit", id: id, atMs: nowMs)
                    try await tx.post([Posting(debit: vault.id, credit: wallet.id, amountFen: 10_000_000, kind: "cash_deposit",
                                               referenceType: "deposit", referenceID: id)], atMs: nowMs)
                }
            }
            let setupSeconds = Self.seconds(since: setupStarted)
            let feeds = FareFeeds()

            // Raw baseline: the same rows, multi-row INSERTs, one transaction per batch.
            try await store.write { tx in
                try await tx.sql.raw("""
                    CREATE TABLE bench_raw_taps (terminal_id TEXT NOT NULL, sequence BIGINT NOT NULL, card_number TEXT NOT NULL,
                        tapped_at TEXT NOT NULL, kind TEXT NOT NULL, stop_id TEXT NOT NULL, route_id TEXT, PRIMARY KEY (terminal_id, sequence))
                    """).run()
            }
            var rawSeconds = 0.0
            for batch in 0..<batches {
                let taps = taps(batch: batch, cards: fixture.cards, sequenceBase: batch * batchSize, nowMs: nowMs)
                let started = ContinuousClock.now
                try await store.write { tx in
                    for start in stride(from: 0, to: taps.count, by: 1_000) {
                        var query = SQLQueryString("INSERT INTO bench_raw_taps (terminal_id, sequence, card_number, tapped_at, kind, stop_id, route_id) VALUES")
                        query.appendRows(taps[start..<min(start + 1_000, taps.count)]) { tap in
                            ["raw", tap.sequence, tap.cardNumber, tap.time, tap.kind.rawValue, tap.stopId, tap.routeId]
                        }
                        try await tx.sql.raw(query).run()
                    }
                }
                rawSeconds += Self.seconds(since: started)
            }

            // The store path: the ingestion of POST /v1/transit/tap-batches without HTTP.
            var storeSeconds = 0.0
            var perBatch: [Double] = []
            var accepted = 0
            for batch in 0..<batches {
                let taps = taps(batch: batch, cards: fixture.cards, sequenceBase: batch * batchSize, nowMs: nowMs)
                let started = ContinuousClock.now
                let result = try await TransitBenchAccess.ingest(store: store, feeds: feeds, terminalID: storeGate.id, operatorID: operatorID,
                                                                 taps: taps, nowMs: nowMs)
                let seconds = Self.seconds(since: started)
                storeSeconds += seconds
                perBatch.append((Double(taps.count) / seconds).rounded())
                accepted += result.accepted
                guard result.accepted == taps.count else {
                    throw CLIError(description: "error: batch \(batch): \(result.accepted) of \(taps.count) taps accepted; first refusal: "
                                   + "\(result.results.first { $0.result != .accepted }.map { "\($0.reason?.rawValue ?? "?")" } ?? "-")")
                }
            }
            // A re-upload of the first batch: every tap a duplicate, nothing changes.
            let duplicateTaps = taps(batch: 0, cards: fixture.cards, sequenceBase: 0, nowMs: nowMs)
            let duplicateStarted = ContinuousClock.now
            let duplicates = try await TransitBenchAccess.ingest(store: store, feeds: feeds, terminalID: storeGate.id, operatorID: operatorID,
                                                                 taps: duplicateTaps, nowMs: nowMs)
            let duplicateSeconds = Self.seconds(since: duplicateStarted)
            guard duplicates.duplicates == duplicateTaps.count else { throw CLIError(description: "error: the re-upload was not all duplicates") }

            // The HTTP path: batches of the same shape as JSON bodies from another validator, one
            // keep-alive connection, a month later (other weeks, so both paths re-price alike).
            let connection = try await LoopbackHTTPConnection(port: port)
            var httpSeconds = 0.0
            var bodyBytes = 0
            do {
                let encoder = JSONEncoder()
                for batch in 0..<batches {
                    let taps = taps(batch: batch, cards: fixture.cards, sequenceBase: batch * batchSize, nowMs: nowMs, daysAgo: 30)
                    let body = try encoder.encode(Components.Schemas.TapBatchRequest(taps: taps))
                    bodyBytes = max(bodyBytes, body.count)
                    let started = ContinuousClock.now
                    let response = try await connection.send(.POST, "/v1/transit/tap-batches",
                                                              headers: [("Authorization", "Bearer \(httpGate.apiKey)"), ("Content-Type", "application/json")],
                                                              body: ByteBuffer(bytes: body))
                    httpSeconds += Self.seconds(since: started)
                    guard response.status == 200 else {
                        throw CLIError(description: "error: tap batch answered \(response.status): \(String(buffer: response.body).prefix(300))")
                    }
                }
                await connection.close()
            } catch {
                await connection.close()
                throw error
            }

            let verdict = try await store.verifyLedger()
            guard verdict.isOK else { throw CLIError(description: "error: ledger verification failed after the bench: \(verdict)") }
            let total = Double(batches * batchSize)
            let storeRate = (total / storeSeconds).rounded(), httpRate = (total / httpSeconds).rounded(), rawRate = (total / rawSeconds).rounded()
            let charges = try await store.read { tx in
                try await tx.sql.raw("SELECT COUNT(*) AS n FROM transit_charges").first()?.decode(column: "n", as: Int64.self) ?? 0
            }
            let results: [String: Any] = [
                "scenario": "transit", "engine": engineName, "cardholders": cardholders, "taps_per_batch": batchSize, "batches": batches,
                "store_taps_per_s": storeRate, "store_taps_per_s_by_batch": perBatch,
                "http_taps_per_s": httpRate, "http_body_bytes": bodyBytes,
                "raw_insert_taps_per_s": rawRate,
                "store_ratio_to_raw_insert": Ledger.ratio(storeRate, rawRate), "http_ratio_to_raw_insert": Ledger.ratio(httpRate, rawRate),
                "duplicate_batch_taps_per_s": (Double(duplicateTaps.count) / duplicateSeconds).rounded(),
                "charges_posted": charges, "setup_seconds": (setupSeconds * 10).rounded() / 10,
            ]
            return try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys])
        }

        static func seconds(since start: ContinuousClock.Instant) -> Double {
            let elapsed = ContinuousClock.now - start
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
    }
}
