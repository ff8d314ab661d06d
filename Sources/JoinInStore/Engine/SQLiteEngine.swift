import Logging
import SQLKit
import SQLiteKit
import SQLiteNIO

/// SQLite: one writer connection owned by the group-commit writer (DESIGN §5) and a few reader
/// connections; WAL lets readers proceed while the writer works.
struct SQLiteEngine: Sendable {
    static let readerCount = 4
    static let busyTimeoutMs = 5000

    let groupWriter: GroupCommitWriter
    let readers: ResourcePool<SQLiteConnection>
    let connections: [SQLiteConnection]
    let logger: Logger

    static func open(path: String, limits: GroupCommitLimits = .standard, logger: Logger) async throws -> SQLiteEngine {
        var connections: [SQLiteConnection] = []
        do {
            for _ in 0...readerCount {
                let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: Store.driverLogger(logger))
                connections.append(connection)
                try await configure(connection)
            }
        } catch {
            for connection in connections { try? await connection.close() }
            throw error
        }
        return SQLiteEngine(
            groupWriter: GroupCommitWriter(connection: connections[0], limits: limits, logger: logger),
            readers: ResourcePool(Array(connections.dropFirst())),
            connections: connections,
            logger: logger
        )
    }

    /// Sets and then reads back every pragma: money must not live on a database that silently
    /// ignored `synchronous=FULL` or foreign keys.
    static func configure(_ connection: SQLiteConnection) async throws {
        let db = connection.quietSQL()
        try await db.raw("PRAGMA busy_timeout = \(unsafeRaw: String(busyTimeoutMs))").run()
        try await db.raw("PRAGMA journal_mode = WAL").run()
        try await db.raw("PRAGMA synchronous = FULL").run()
        try await db.raw("PRAGMA foreign_keys = ON").run()
        let journal = try await db.raw("PRAGMA journal_mode").first()?.decode(column: "journal_mode", as: String.self)
        let synchronous = try await db.raw("PRAGMA synchronous").first()?.decode(column: "synchronous", as: Int.self)
        let foreignKeys = try await db.raw("PRAGMA foreign_keys").first()?.decode(column: "foreign_keys", as: Int.self)
        let busy = try await db.raw("PRAGMA busy_timeout").first()?.decode(column: "timeout", as: Int.self)
        guard journal?.lowercased() == "wal", synchronous == 2, foreignKeys == 1, busy == busyTimeoutMs else {
            throw StoreError.pragmasRefused(
                "journal_mode=\(journal ?? "?") synchronous=\(synchronous.map(String.init) ?? "?") foreign_keys=\(foreignKeys.map(String.init) ?? "?") busy_timeout=\(busy.map(String.init) ?? "?")")
        }
    }

    /// Runs `body` as one write: queued for the group-commit writer, which runs it inside its own
    /// savepoint of a shared transaction and answers only once that transaction is durable.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await groupWriter.submit(body)
    }

    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let connection = await readers.acquire()
        do {
            let result = try await body(connection.quietSQL())
            await readers.release(connection)
            return result
        } catch {
            await readers.release(connection)
            throw error
        }
    }

    func close() async {
        for connection in connections {
            try? await connection.close()
        }
    }
}

public enum StoreError: Error, CustomStringConvertible {
    case pragmasRefused(String)
    case badURL(String)
    case retriesExhausted(Int)
    /// The SQLite writer's queue held its maximum; the write was not attempted.
    case writerQueueFull(Int)
    case corrupt(String)

    public var description: String {
        switch self {
        case .pragmasRefused(let got): return "SQLite refused the required pragmas (got \(got)); refusing to start"
        case .badURL(let why): return "bad database URL: \(why)"
        case .retriesExhausted(let count): return "write transaction still conflicting after \(count) attempts"
        case .writerQueueFull(let limit): return "the writer's queue is full (\(limit) writes waiting)"
        case .corrupt(let what): return "stored data is not readable: \(what)"
        }
    }
}

extension SQLiteConnection {
    /// SQLKit over this connection without query logging: SQLKit logs statements with their bound
    /// values (PINs' surroundings, sealed columns, personal data) at `.debug`.
    func quietSQL() -> any SQLDatabase {
        sql(encoder: .init(), decoder: .init(), queryLogLevel: nil)
    }
}
