public import JoinInStore
import SQLKit
import Foundation
public import Logging

/// Runs store tests on every engine available: SQLite always, PostgreSQL when
/// `JOININ_TEST_POSTGRES_URL` is set. Each test gets a fresh database (a temp SQLite file or a
/// new PostgreSQL schema), so tests run in parallel.
public enum TestStores {
    public static let postgresURL: String? = {
        let value = ProcessInfo.processInfo.environment["JOININ_TEST_POSTGRES_URL"]
        return value?.isEmpty == false ? value : nil
    }()

    /// The engines to parameterise store tests over. Printing here says, once per test process,
    /// why PostgreSQL cases are absent.
    public static let engines: [Store.EngineKind] = {
        if postgresURL == nil {
            print("note: PostgreSQL store tests skipped: JOININ_TEST_POSTGRES_URL is not set (SQLite cases still run)")
            return [.sqlite]
        }
        return [.sqlite, .postgres]
    }()

    public static var logger: Logger {
        var logger = Logger(label: "joinin-test")
        logger.logLevel = .error
        return logger
    }

    /// The database URL of a fresh, empty database for `engine`, and a cleanup to call after.
    public static func freshURL(_ engine: Store.EngineKind) async throws -> (url: String, cleanup: @Sendable () async -> Void) {
        let tag = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        switch engine {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("joinin-test-\(tag).sqlite").path
            return (path, {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            })
        case .postgres:
            guard let base = postgresURL else { throw TestStoreError.postgresUnavailable }
            let schema = "t_\(tag)"
            try await Store.with(url: base, dataKeys: .random(), logger: logger) { store in
                try await store.write { tx in try await tx.sql.raw("CREATE SCHEMA \(unsafeRaw: schema)").run() }
            }
            let url = base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"
            return (url, {
                try? await Store.with(url: base, dataKeys: .random(), logger: logger) { store in
                    try await store.write { tx in try await tx.sql.raw("DROP SCHEMA \(unsafeRaw: schema) CASCADE").run() }
                }
            })
        }
    }

    /// Opens a fresh, migrated store on `engine` for the duration of `body`.
    public static func withStore<T: Sendable>(_ engine: Store.EngineKind, dataKeys: DataKeys = .random(),
                                              groupCommit: GroupCommitLimits = .standard, logger: Logger = TestStores.logger,
                                              _ body: @Sendable (Store) async throws -> T) async throws -> T {
        let (url, cleanup) = try await freshURL(engine)
        do {
            let result = try await Store.with(url: url, dataKeys: dataKeys, logger: logger, groupCommit: groupCommit) { store in
                try await store.migrate()
                return try await body(store)
            }
            await cleanup()
            return result
        } catch {
            await cleanup()
            throw error
        }
    }
}

public enum TestStoreError: Error {
    case postgresUnavailable
}
