import ArgumentParser
import Crypto
import Foundation
@testable import JoinInCLI
import JoinInCore
import JoinInServer
import JoinInStore
import JoinInTestSupport
import Logging
import SQLKit
import Synchronization
import Testing

/// Runs CLI commands in-process, as `joinin …` would, against a temp key directory and a temp SQLite
/// file (or, through `with(_:)`, a fresh database on either engine).
struct CLIFixture: Sendable {
    let directory: String
    let database: String
    var keys: String { directory + "/keys" }

    init(database: String? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("joinin-cli-\(UUID().uuidString)").path
        self.database = database ?? directory + "/joinin.sqlite"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// A fixture on a fresh database of `engine` for the duration of `body`, cleaned up after.
    static func with(_ engine: Store.EngineKind, _ body: @Sendable (CLIFixture) async throws -> Void) async throws {
        let (url, dropDatabase) = try await TestStores.freshURL(engine)
        let fixture = try CLIFixture(database: url)
        do {
            try await body(fixture)
        } catch {
            fixture.cleanup()
            await dropDatabase()
            throw error
        }
        fixture.cleanup()
        await dropDatabase()
    }

    func run(_ arguments: [String]) async throws {
        try await Self.runCommand(arguments + ["--database", database, "--keys", keys])
    }

    /// Parses and runs a command line as `joinin` would.
    static func runCommand(_ arguments: [String]) async throws {
        var command = try JoinInCommand.parseAsRoot(arguments)
        if var asyncCommand = command as? any AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
    }

    func withStore<T: Sendable>(_ body: @Sendable (Store) async throws -> T) async throws -> T {
        let keys = try KeyDirectory.loadOrCreate(path: keys)
        return try await Store.with(url: database, dataKeys: keys.dataKeys, logger: TestStores.logger, body)
    }

    func cleanup() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// ../shared/data/cities.csv beside the package, if present.
    static var sharedCities: String? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.deletingLastPathComponent().appendingPathComponent("shared/data/cities.csv").path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}

@Suite("CLI")
struct CLITests {
    @Test("migrate applies the schema once and creates the key directory", arguments: TestStores.engines)
    func migrate(engine: Store.EngineKind) async throws {
        try await CLIFixture.with(engine) { fixture in
            try await fixture.run(["migrate"])
            try await fixture.run(["migrate"])
            #expect(try await fixture.withStore { await $0.readiness() }.ready)
            let mode = try FileManager.default.attributesOfItem(atPath: fixture.keys + "/data-encryption.key")[.posixPermissions] as? Int
            #expect(mode == 0o600)
            // Another keys directory on this database: refused with a one-line reason (migrate, and
            // serve and every command that opens the store through StoreOptions.withStore).
            let other = fixture.directory + "/other-keys"
            await #expect(throws: CLIError.self) {
                try await CLIFixture.runCommand(["migrate", "--database", fixture.database, "--keys", other])
            }
            do {
                let catalogue = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                    .appendingPathComponent("docs/examples/services-demo/catalogue.json").path
                try await CLIFixture.runCommand(["services", "import-catalogue", catalogue, "--database", fixture.database, "--keys", other])
                Issue.record("a command with other keys ran")
            } catch let error as CLIError {
                #expect(error.description.contains("does not match this database"), "\(error)")
            }
            try await fixture.run(["migrate"])
        }
    }

    @Test("import cities loads the shared CSV, is idempotent, and reports a bad file by line without importing it", arguments: TestStores.engines)
    func importCities(engine: Store.EngineKind) async throws {
        try await CLIFixture.with(engine) { fixture in
            guard let path = CLIFixture.sharedCities else {
                print("note: ../shared/data/cities.csv not found; skipping the shared-file import")
                return
            }
            try await fixture.run(["import", "cities", "--file", path])
            let count = try await fixture.withStore { store in try await store.read { tx in try await tx.cityCount() } }
            let parsed = try CityCSV.parse(try String(contentsOfFile: path, encoding: .utf8))
            let expected = Set(parsed.rows.map(\.code)).union(ChineseCities.builtInCodes).count
            #expect(count == expected)
            #expect(parsed.skippedPlaceholders > 0)
            let jiaxing = try await fixture.withStore { store in try await store.read { tx in try await tx.city(code: "330400") } }
            #expect(jiaxing?.nameZh == "嘉兴市")
            #expect(jiaxing?.nameEn == "Jiaxing")
            let auditBefore = try await fixture.withStore { store in try await store.read { tx in try await tx.auditRecords(before: nil, limit: 200) } }
            try await fixture.run(["import", "cities", "--file", path])
            let auditAfter = try await fixture.withStore { store in try await store.read { tx in try await tx.auditRecords(before: nil, limit: 200) } }
            #expect(auditAfter.count == auditBefore.count, "a re-import that changes nothing writes nothing")

            let bad = fixture.directory + "/bad.csv"
            try "code,name,provinceCode\n3399,\"新城市\",33\n33AB,\"坏\",33\n".write(toFile: bad, atomically: true, encoding: .utf8)
            do {
                try await fixture.run(["import", "cities", "--file", bad])
                Issue.record("a bad file was accepted")
            } catch {
                #expect("\(error)".contains("line 3"), "\(error)")
            }
            #expect(try await fixture.withStore { store in try await store.read { tx in try await tx.city(code: "339900") } } == nil)
            do {
                try await fixture.run(["import", "cities", "--file", fixture.directory + "/missing.csv"])
                Issue.record("a missing file was accepted")
            } catch {
                #expect("\(error)".contains("cannot read"))
            }
        }
    }

    @Test("audit verify passes on an intact chain and exits 1 after tampering", arguments: TestStores.engines)
    func auditVerify(engine: Store.EngineKind) async throws {
        try await CLIFixture.with(engine) { fixture in
            try await fixture.run(["terminals", "add", "--kind", "counter", "--name", "Main hall counter 1"])
            try await fixture.run(["audit", "verify"])
            try await fixture.withStore { store in
                try await store.write { tx in try await tx.sql.raw("UPDATE audit_log SET actor = 'someone-else'").run() }
            }
            do {
                try await fixture.run(["audit", "verify"])
                Issue.record("tampering went unnoticed")
            } catch let exit as ExitCode {
                #expect(exit.rawValue == 1)
            }
        }
    }

    @Test("staff add refuses to run without a password on standard input; bad arguments are parse errors")
    func staffAddErrors() async throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanup() }
        do {
            try await fixture.run(["staff", "add", "--username", "amy", "--role", "admin"])
            Issue.record("ran without --password-stdin")
        } catch {
            #expect("\(error)".contains("--password-stdin"))
        }
        #expect(throws: (any Error).self) { _ = try JoinInCommand.parseAsRoot(["staff", "add", "--username", "amy", "--role", "wizard"]) }
        #expect(throws: (any Error).self) { _ = try JoinInCommand.parseAsRoot(["terminals", "add", "--kind", "toaster", "--name", "x"]) }
    }

    @Test("terminals add stores only the key's hash", arguments: TestStores.engines)
    func terminalsAdd(engine: Store.EngineKind) async throws {
        try await CLIFixture.with(engine) { fixture in
            try await fixture.run(["terminals", "add", "--kind", "counter", "--name", "Service desk 4", "--binding", "ningbo-hall"])
            let terminals = try await fixture.withStore { store in
                try await store.read { tx in try await tx.sql.raw("SELECT kind, binding_id, key_hash FROM terminals").all() }
            }
            #expect(terminals.count == 1)
            #expect(try terminals.first?.decode(column: "kind", as: String.self) == "counter")
            #expect(try terminals.first?.decode(column: "key_hash", as: String.self).count == 64)
            await #expect(throws: (any Error).self) {
                try await fixture.run(["terminals", "add", "--kind", "counter", "--name", "   "])
            }
            // A validator needs an existing transit operator.
            await #expect(throws: (any Error).self) {
                try await fixture.run(["terminals", "add", "--kind", "transitValidator", "--name", "Line 1 gate 4", "--binding", "ningbo-metro"])
            }
        }
    }
}

@Suite("CLI: keys and offline verification")
struct CLICredentialTests {
    static func claims(statusIndex: Int, expiresAt: Int64 = 2_000_000_000) throws -> PermitClaims {
        PermitClaims(issuer: "http://127.0.0.1:8080", permitNumber: try PermitNumber(cityCode: "330200", year: 2026, serial: 7).value,
                     issuedAt: 1_796_097_600, expiresAt: expiresAt, surname: "SMITH", givenNames: "JANE ANN", chineseName: nil,
                     nationality: "GBR", category: "B", employer: LocalizedName(en: "Ningbo Port Tech", zh: "宁波港科技"),
                     validFrom: try #require(CivilDate("2026-12-01")), validUntil: try #require(CivilDate("2028-11-30")),
                     maskedCardNumber: "623091*********0014", statusIndex: statusIndex,
                     statusURI: "http://127.0.0.1:8080/v1/credential-status/1")
    }

    @Test("keys rotate adds a newer signing key; keys list shows it last")
    func rotate() async throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanup() }
        try await fixture.run(["migrate"])
        let before = try KeyDirectory.loadOrCreate(path: fixture.keys).signingKeys.map(\.kid)
        try await CLIFixture.runCommand(["keys", "rotate", "--keys", fixture.keys])
        let after = try KeyDirectory.loadOrCreate(path: fixture.keys).signingKeys.map(\.kid)
        #expect(after.count == before.count + 1)
        #expect(after.dropLast() == before[...])
        #expect(after == after.sorted())
    }

    @Test("verify prints a verdict and exits 0 only for valid", arguments: CredentialVerdict.allCases)
    func verify(expected: CredentialVerdict) async throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanup() }
        let key = Curve25519.Signing.PrivateKey()
        let jwks = JWKS(keys: [JWK(publicKey: key.publicKey, kid: "k1")])
        try Data(jwks.serialized()).write(to: URL(fileURLWithPath: fixture.directory + "/jwks.json"))
        var list = StatusList(capacity: 64)
        list.setStatus(1, at: 5)
        let statusToken = try StatusListToken.sign(list: list, uri: "http://127.0.0.1:8080/v1/credential-status/1", issuedAt: 1_796_097_600,
                                                   expiresAt: 2_000_000_000, ttl: 300, kid: "k1", key: key)
        try statusToken.write(toFile: fixture.directory + "/status.jwt", atomically: true, encoding: .utf8)
        let credential: String
        switch expected {
        case .valid: credential = try PermitCredential.issue(try Self.claims(statusIndex: 4), kid: "k1", key: key)
        case .revoked: credential = try PermitCredential.issue(try Self.claims(statusIndex: 5), kid: "k1", key: key)
        case .expired: credential = try PermitCredential.issue(try Self.claims(statusIndex: 4, expiresAt: 1_796_100_000), kid: "k1", key: key)
        case .unknownKey: credential = try PermitCredential.issue(try Self.claims(statusIndex: 4), kid: "k2", key: key)
        case .badSignature: credential = try PermitCredential.issue(try Self.claims(statusIndex: 4), kid: "k1", key: Curve25519.Signing.PrivateKey())
        case .malformed: credential = "not.a.credential"
        }
        do {
            try await CLIFixture.runCommand(["verify", "--jwks", fixture.directory + "/jwks.json", "--status-list",
                                             fixture.directory + "/status.jwt", "--at", "1796200000", credential])
            #expect(expected == .valid, "exit 0 for \(expected)")
        } catch let exit as ExitCode {
            #expect(expected != .valid)
            #expect(exit.rawValue == 1)
        }
        #expect(PermitCredential.verify(credential, keys: try jwks.keyMap(), statusList: ("http://127.0.0.1:8080/v1/credential-status/1", list),
                                        now: 1_796_200_000).verdict == expected)
    }

    @Test("verify refuses unreadable key files with a one-line error")
    func badJWKS() async throws {
        let fixture = try CLIFixture()
        defer { fixture.cleanup() }
        try "not json".write(toFile: fixture.directory + "/jwks.json", atomically: true, encoding: .utf8)
        do {
            try await CLIFixture.runCommand(["verify", "--jwks", fixture.directory + "/jwks.json", "x.y.z"])
            Issue.record("accepted a broken JWKS")
        } catch {
            #expect("\(error)".contains("not a readable JWKS"))
        }
    }
}

@Suite("CLI: ledger verify")
struct CLILedgerTests {
    @Test("ledger verify passes on consistent books and exits 1 when a balance was tampered with", arguments: TestStores.engines)
    func ledgerVerify(engine: Store.EngineKind) async throws {
        try await CLIFixture.with(engine) { fixture in
            try await fixture.run(["migrate"])
            try await fixture.withStore { store in
                try await store.write { tx in
                    let vault = try await tx.openAccount(kind: .branchVault, ownerType: "branch", ownerID: "b1", atMs: 1)
                    let wallet = try await tx.openAccount(kind: .transitWallet, ownerType: "person", ownerID: "p1", atMs: 1)
                    try await tx.registerReference(type: "deposit", id: "op1", atMs: 1)
                    try await tx.post([Posting(debit: vault.id, credit: wallet.id, amountFen: 1_250, kind: "cash_deposit",
                                               referenceType: "deposit", referenceID: "op1")], atMs: 2)
                }
            }
            try await fixture.run(["ledger", "verify"])
            try await fixture.withStore { store in
                try await store.write { tx in try await tx.sql.raw("UPDATE ledger_accounts SET posted_fen = posted_fen + 1 WHERE kind = 'transitWallet'").run() }
            }
            do {
                try await fixture.run(["ledger", "verify"])
                Issue.record("tampered books passed")
            } catch let exit as ExitCode {
                #expect(exit.rawValue == 1)
            }
        }
    }
}

@Suite("CLI: bench ledger")
struct CLIBenchLedgerTests {
    @Test("the same-schema baseline table has ledger_transfers' indexes, checks and foreign keys", arguments: TestStores.engines)
    func twinSchema(engine: Store.EngineKind) async throws {
        try await TestStores.withStore(engine) { store in
            let bench = try await LedgerBench.prepare(store: store, accounts: 2, postgres: engine == .postgres)
            struct Count: Decodable { let n: Int }
            func indexes(_ table: String) async throws -> Int {
                try await store.read { tx in
                    try await tx.sql.raw(engine == .postgres
                        ? "SELECT COUNT(*) AS n FROM pg_indexes WHERE tablename = \(bind: table) AND schemaname = current_schema()"
                        : "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'index' AND tbl_name = \(bind: table)")
                        .first(decoding: Count.self)?.n ?? -1
                }
            }
            let original = try await indexes("ledger_transfers")
            #expect(original >= 5)
            #expect(try await indexes("bench_twin_transfers") == original)
            func insert(debit: String, amount: Int64) async throws {
                try await store.write { tx in
                    try await tx.sql.raw("""
                        INSERT INTO bench_twin_transfers (id, debit_account_id, credit_account_id, amount_fen, kind, reference_type,
                            reference_id, created_at_ms) VALUES ('t-\(unsafeRaw: String(amount))', \(bind: debit), \(bind: bench.accounts[0]),
                            \(bind: amount), 'bench', 'bench', 'x', 0)
                        """).run()
                }
            }
            try await insert(debit: bench.vault, amount: 1)
            await #expect(throws: (any Error).self, "foreign key") { try await insert(debit: "no-such-account", amount: 2) }
            await #expect(throws: (any Error).self, "check") { try await insert(debit: bench.vault, amount: 0) }
        }
    }

    @Test("bench ledger reports every measurement with its baseline, and leaves balanced books", arguments: TestStores.engines)
    func benchLedger(engine: Store.EngineKind) async throws {
        var arguments = ["bench", "ledger", "--batched", "8000", "--singles", "120", "--concurrency", "4", "--reads", "200"]
        if engine == .postgres, let url = TestStores.postgresURL { arguments += ["--database", url] }
        let command = try #require(try JoinInCommand.parseAsRoot(arguments) as? BenchCommand.Ledger)
        let report = try #require(try JSONSerialization.jsonObject(with: try await command.report()) as? [String: Any])
        #expect(report["engine"] as? String == engine.rawValue)
        let batched = try #require(report["batched"] as? [String: Any])
        #expect((batched["transfers_per_s"] as? Double ?? 0) > 0)
        #expect((batched["raw_insert_rows_per_s"] as? Double ?? 0) > 0)
        #expect((batched["ratio_to_raw_insert"] as? Double ?? 0) > 0)
        #expect((batched["raw_insert_same_schema_rows_per_s"] as? Double ?? 0) > 0)
        #expect((batched["ratio_to_raw_insert_same_schema"] as? Double ?? 0) > 0)
        for section in ["store_single_transfers", "raw_single_row_commits", "http_deposits"] {
            let figures = try #require(report[section] as? [String: Any], "\(section) missing")
            for callers in ["callers_1", "callers_4"] {
                let one = try #require(figures[callers] as? [String: Any], "\(section).\(callers) missing")
                #expect((one["per_s"] as? Double ?? 0) > 0, "\(section).\(callers)")
                #expect((one["p99_ms"] as? Double ?? -1) >= (one["p50_ms"] as? Double ?? 0), "\(section).\(callers)")
            }
        }
        let reads = try #require(report["http_reads"] as? [String: Any])
        for side in ["ecard_me", "hello_world"] {
            let figures = try #require(reads[side] as? [String: Any], "http_reads.\(side) missing")
            #expect((figures["per_s"] as? Double ?? 0) > 0, "\(side)")
        }
        #expect((reads["ratio_ecard_me_to_hello_world"] as? Double ?? 0) > 0)
        if engine == .sqlite {
            let groupCommit = try #require(report["group_commit"] as? [String: Any])
            #expect((groupCommit["commits"] as? Int ?? 0) <= (groupCommit["writes"] as? Int ?? 0))
            // Statements per operation: a posted transfer is a handful in the writer; a deposit
            // reads its session (readers) and writes a dozen or so; the e-card read writes nothing.
            let perTransfer = try #require((report["store_single_transfers"] as? [String: Any])?["statements_per_transfer"] as? [String: Any])
            #expect((4.0...10.0).contains(perTransfer["writer"] as? Double ?? 0), "\(perTransfer)")
            let perDeposit = try #require((report["http_deposits"] as? [String: Any])?["statements_per_deposit"] as? [String: Any])
            #expect((8.0...20.0).contains(perDeposit["writer"] as? Double ?? 0), "\(perDeposit)")
            #expect((perDeposit["readers"] as? Double ?? 0) >= 2, "\(perDeposit)")
            let perRead = try #require(reads["statements_per_ecard_me"] as? [String: Any])
            #expect(perRead["writer"] as? Double == 0 && (perRead["readers"] as? Double ?? 0) >= 4, "\(perRead)")
        }
        #expect(throws: (any Error).self) { try JoinInCommand.parseAsRoot(["bench", "ledger", "--batched", "10"]) }
        #expect(throws: (any Error).self) { try JoinInCommand.parseAsRoot(["bench", "ledger", "--reads", "5"]) }
    }
}

@Suite("CLI: group commit options")
struct CLIGroupCommitOptionTests {
    @Test("batch limits are read from the flags, checked, and default to the standard limits")
    func batchLimits() throws {
        let defaults = try #require(try JoinInCommand.parseAsRoot(["migrate"]) as? Migrate)
        #expect(try defaults.store.groupCommit() == .standard)
        let tuned = try #require(try JoinInCommand.parseAsRoot(["migrate", "--batch-size-max", "64", "--batch-wait-us-max", "500"]) as? Migrate)
        #expect(try tuned.store.groupCommit() == GroupCommitLimits(batchSizeMax: 64, batchWaitMicrosecondsMax: 500))
        for bad in [["--batch-size-max", "0"], ["--batch-size-max", "10001"], ["--batch-wait-us-max", "-1"], ["--batch-wait-us-max", "x"]] {
            #expect(throws: (any Error).self, "\(bad)") { try JoinInCommand.parseAsRoot(["migrate"] + bad) }
        }
    }
}

@Suite("CLI: log handler")
struct LogHandlerTests {
    final class Lines: TextOutputStream, Sendable {
        let text = Mutex("")
        func write(_ string: String) { text.withLock { $0 += string } }
    }

    @Test("the logger's metadata is written with each message, sorted, under the message's own")
    func deferredMetadata() {
        let lines = Lines()
        var logger = Logger(label: "joinin-test") { label in DeferredMetadataLogHandler(label: label, stream: lines) }
        logger.logLevel = .info
        logger[metadataKey: "hb.request.id"] = "r-1"
        logger[metadataKey: "alpha"] = "a"
        logger.debug("not written")
        logger.info("written", metadata: ["alpha": "explicit", "zeta": "z"])
        logger[metadataKey: "alpha"] = nil
        logger.warning("again")
        let written = lines.text.withLock { $0 }.split(separator: "\n").map(String.init)
        #expect(written.count == 2, "\(written)")
        #expect(written.first?.hasSuffix(" info joinin-test: alpha=explicit hb.request.id=r-1 zeta=z [JoinInCLITests] written") == true, "\(written)")
        #expect(written.last?.hasSuffix(" warning joinin-test: hb.request.id=r-1 [JoinInCLITests] again") == true, "\(written)")
        #expect(logger[metadataKey: "hb.request.id"] == "r-1")
    }
}
