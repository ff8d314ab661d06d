import Foundation
import Logging
import NIOSSL
import PostgresKit
import PostgresNIO
import SQLKit

/// PostgreSQL through PostgresNIO's Sendable `PostgresClient` pool. Write transactions run
/// SERIALIZABLE and are retried on serialization failure or deadlock (SQLSTATE 40001, 40P01).
struct PostgresEngine: Sendable {
    /// Enough for a hot row (a counter) shared by a few dozen concurrent writers: each conflict
    /// round lets at least one of them commit.
    static let writeAttemptsMax = 64
    static let retryBackoffMsMax = 64
    static let uniqueViolationRetriesMax = 3

    struct Configuration: Sendable {
        var client: PostgresClient.Configuration

        /// `postgres://user:password@host:port/database?sslmode=disable|require&schema=NAME`
        init(url: String) throws {
            guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
                throw StoreError.badURL("expected postgres://user:password@host:port/database")
            }
            let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
            guard let user = components.user, !user.isEmpty, !database.isEmpty else {
                throw StoreError.badURL("a user and a database name are required")
            }
            let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
            let tls: PostgresClient.Configuration.TLS
            switch query["sslmode"] ?? "disable" {
            case "disable": tls = .disable
            case "prefer": tls = .prefer(.makeClientConfiguration())
            case "require": tls = .require(.makeClientConfiguration())
            case let other: throw StoreError.badURL("sslmode must be disable, prefer or require, got '\(other)'")
            }
            var client = PostgresClient.Configuration(
                host: host, port: components.port ?? 5432, username: user,
                password: components.password?.removingPercentEncoding, database: database, tls: tls)
            if let schema = query["schema"] {
                guard !schema.isEmpty, schema.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                    throw StoreError.badURL("schema must be letters, digits and '_'")
                }
                client.options.additionalStartupParameters = [("search_path", schema)]
            }
            client.options.maximumConnections = 16
            self.client = client
        }
    }

    let client: PostgresClient
    let logger: Logger

    static func with<T: Sendable>(configuration: Configuration, logger: Logger,
                                  _ body: @Sendable (PostgresEngine) async throws -> T) async throws -> T {
        let client = PostgresClient(configuration: configuration.client, backgroundLogger: Store.driverLogger(logger))
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            defer { group.cancelAll() }
            let result = try await body(PostgresEngine(client: client, logger: logger))
            return result
        }
    }

    func write<T: Sendable>(isolation: WriteIsolation = .serializable,
                            _ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let begin: SQLQueryString = isolation == .serializable ? "BEGIN ISOLATION LEVEL SERIALIZABLE" : "BEGIN ISOLATION LEVEL READ COMMITTED"
        var attempt = 1
        var uniqueViolations = 0
        while true {
            do {
                return try await client.withConnection { connection in
                    let db = connection.sql(queryLogLevel: nil)
                    try await db.raw(begin).run()
                    do {
                        let result = try await body(db)
                        try await db.raw("COMMIT").run()
                        return result
                    } catch {
                        try? await db.raw("ROLLBACK").run()
                        throw error
                    }
                }
            } catch let error as PSQLError where Self.isRetryable(error) {
                guard attempt < Self.writeAttemptsMax else { throw StoreError.retriesExhausted(attempt) }
                if error.serverInfo?[.sqlState] == "23505" {
                    // A key that stays taken is a real duplicate, not a race: let the caller see it.
                    uniqueViolations += 1
                    guard uniqueViolations <= Self.uniqueViolationRetriesMax else { throw error }
                }
                attempt += 1
                // Jittered exponential back-off: 1, 2, 4 … capped, so colliding writers spread out.
                let ceiling = min(Self.retryBackoffMsMax, 1 << min(attempt, 6))
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...ceiling)))
            }
        }
    }

    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await body(connection.sql(queryLogLevel: nil))
        }
    }

    /// Serialization failures and deadlocks, and unique violations: under SERIALIZABLE a
    /// concurrent insert of the same key often surfaces as 23505 rather than 40001, and every
    /// write closure checks before it inserts, so the retry sees the winner's row and answers
    /// with the proper domain error.
    static func isRetryable(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40001" || state == "40P01" || state == "23505"
    }
}
