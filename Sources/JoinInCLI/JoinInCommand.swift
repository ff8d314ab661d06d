public import ArgumentParser
import Foundation
import JoinInCore
import JoinInServer
import JoinInStore
import Logging


public struct JoinInCommand: AsyncParsableCommand {
    public init() {}
    public static let configuration = CommandConfiguration(
        commandName: "joinin",
        abstract: "JoinIn: the Join In Card (聚英卡) platform — work permits, cards and the e-card.",
        subcommands: [Serve.self, DemoCommand.self, Migrate.self, StaffCommand.self, TerminalsCommand.self, ImportCommand.self, AuditCommand.self,
                      KeysCommand.self, VerifyCommand.self, BenchCommand.self, LedgerCommand.self, TransitCommand.self, HealthCommand.self, ServicesCommand.self],
        defaultSubcommand: nil)
}

/// Options every command that opens the store shares. Flags win; `JOININ_*` variables are the fallback.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "SQLite path or postgres:// URL (env JOININ_DATABASE_URL; default ./joinin.sqlite)")
    var database: String?

    @Option(name: .long, help: "Key directory (env JOININ_KEYS; default ./joinin-keys/)")
    var keys: String?

    @Option(name: .long, help: "SQLite group commit: most writes sharing one commit, 1-10000 (env JOININ_BATCH_SIZE_MAX; default 512)")
    var batchSizeMax: Int?

    @Option(name: .long, help: "SQLite group commit: longest a batch stays open, µs, 0-1000000 (env JOININ_BATCH_WAIT_US_MAX; default 20000)")
    var batchWaitUsMax: Int?

    func validate() throws {
        _ = try groupCommit()
    }

    /// DESIGN §5's `batch_size_max` and `batch_wait_us_max`, from flags or the environment.
    func groupCommit() throws -> GroupCommitLimits {
        func value(_ flag: Int?, _ name: String, _ variable: String, _ range: ClosedRange<Int>, _ fallback: Int) throws -> Int {
            guard let raw = flag.map(String.init) ?? Environment.value(variable) else { return fallback }
            guard let number = Int(raw), range.contains(number) else {
                throw ValidationError("--\(name) (\(variable)) must be \(range.lowerBound)-\(range.upperBound), got '\(raw.prefix(20))'")
            }
            return number
        }
        let standard = GroupCommitLimits.standard
        return GroupCommitLimits(
            batchSizeMax: try value(batchSizeMax, "batch-size-max", "JOININ_BATCH_SIZE_MAX", 1...10_000, standard.batchSizeMax),
            batchWaitMicrosecondsMax: try value(batchWaitUsMax, "batch-wait-us-max", "JOININ_BATCH_WAIT_US_MAX", 0...1_000_000,
                                                standard.batchWaitMicrosecondsMax))
    }

    var databaseURL: String { database ?? Environment.value("JOININ_DATABASE_URL") ?? "./joinin.sqlite" }
    var keysPath: String { keys ?? Environment.value("JOININ_KEYS") ?? "./joinin-keys/" }

    /// Opens the store with the data keys, migrated and with built-in reference data.
    func withStore<T: Sendable>(logger: Logger, _ body: @Sendable (Store, KeyDirectory) async throws -> T) async throws -> T {
        let keys = try KeyDirectory.loadOrCreate(path: keysPath)
        return try await Store.with(url: databaseURL, dataKeys: keys.dataKeys, logger: logger, groupCommit: try groupCommit()) { store in
            try await store.migrate()
            try await store.verifyKeys(nowMs: AppClock.system.nowMs())
            try await ReferenceData.loadBuiltIn(store: store, nowMs: AppClock.system.nowMs())
            return try await body(store, keys)
        }
    }
}

enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}

/// CLI failures: one line on stderr and a non-zero exit, never a stack trace.
struct CLIError: Error, CustomStringConvertible {
    let description: String
}

func cliLogger(_ label: String = "joinin") -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = Environment.value("JOININ_LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .warning
    return logger
}

/// Runs a command body and turns known errors into one-line messages.
func runReportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as DomainError {
        throw CLIError(description: "error: \(error.detail) (\(error.code))")
    } catch let error as StoreError {
        throw CLIError(description: "error: \(error)")
    } catch let error as KeyDirectory.KeyError {
        throw CLIError(description: "error: \(error)")
    } catch let error as CLIError {
        throw error
    } catch let error as CocoaError {
        throw CLIError(description: "error: \(error.localizedDescription)")
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending schema migrations and exit.")
    @OptionGroup var store: StoreOptions

    func run() async throws {
        try await runReportingErrors {
            let keys = try KeyDirectory.loadOrCreate(path: store.keysPath)
            let applied = try await Store.with(url: store.databaseURL, dataKeys: keys.dataKeys, logger: cliLogger()) { store in
                let applied = try await store.migrate()
                try await store.verifyKeys(nowMs: AppClock.system.nowMs())
                return applied
            }
            print(applied == 0 ? "schema is current" : "applied \(applied) migration(s)")
        }
    }
}
