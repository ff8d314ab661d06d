import ArgumentParser
import Foundation
import JoinInCore
import JoinInStore

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ledger", abstract: "The double-entry ledger.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every ledger invariant (conservation, balances, holds, references, reversals); exit 1 naming the first violation.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            var violated = false
            try await runReportingErrors {
                let keys = try KeyDirectory.loadOrCreate(path: store.keysPath)
                let verdict = try await Store.with(url: store.databaseURL, dataKeys: keys.dataKeys, logger: cliLogger()) { store in
                    try await store.migrate()
                    return try await store.verifyLedger()
                }
                print("ledger: \(verdict)")
                violated = !verdict.isOK
            }
            if violated { throw ExitCode(1) }
        }
    }
}
