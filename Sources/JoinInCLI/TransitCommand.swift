import ArgumentParser
import Foundation
import JoinInCore
import JoinInServer
import JoinInStore

struct TransitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "transit", abstract: "Transit fares and cities.",
                                                    subcommands: [ImportGTFS.self, ImportCities.self])

    struct ImportGTFS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-gtfs",
            abstract: "Import an operator's GTFS-Fares v2 feed (a directory or .zip) as its next fare version.",
            discussion: "The whole feed is validated first; errors name file, line and field. See docs/transit.md.")

        @Option(help: "Transit operator id") var `operator`: String
        @Option(help: "First instant the version prices taps, RFC 3339 (default: now; the first version: always)") var validFrom: String?
        @Option(help: "Rider category Join In cardholders get (default: keep the operator's)") var cardholderCategory: String?
        @Argument(help: "Feed directory or .zip") var feed: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await runReportingErrors {
                let validFromMs = try validFrom.map { text -> Int64 in
                    guard let time = TapTime(text) else {
                        throw CLIError(description: "error: --valid-from must be RFC 3339 with an offset, e.g. 2026-12-05T00:00:00+08:00")
                    }
                    return time.unixMs
                }
                let files = try TransitImport.feedFiles(at: feed)
                let imported = try await store.withStore(logger: cliLogger()) { store, _ in
                    try await TransitImport.importFeed(store: store, operatorID: `operator`, files: files, validFromMs: validFromMs,
                                                       cardholderCategoryID: cardholderCategory, actor: "cli:\(NSUserName())",
                                                       nowMs: AppClock.system.nowMs())
                }
                let from = imported.validFromMs == 0 ? "the start" : ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(imported.validFromMs) / 1000))
                print("imported fare version \(imported.version) (\(imported.versionID)) of operator \(`operator`), in force from \(from)")
                print(imported.summary)
            }
        }
    }

    struct ImportCities: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-cities",
            abstract: "Flag cities interoperable and set their fare caps from a CSV: code,interoperable,daily_cap_fen,weekly_cap_fen.")

        @Argument(help: "CSV file") var file: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await runReportingErrors {
                guard let data = FileManager.default.contents(atPath: file) else { throw CLIError(description: "error: cannot read \(file)") }
                guard let text = String(data: data, encoding: .utf8) else { throw CLIError(description: "error: \(file) is not UTF-8") }
                let rows = try TransitImport.parseCities(text)
                let count = try await store.withStore(logger: cliLogger()) { store, _ in
                    try await TransitImport.importCities(store: store, rows: rows, actor: "cli:\(NSUserName())", nowMs: AppClock.system.nowMs())
                }
                print("updated \(count) cities (\(rows.filter(\.interoperable).count) interoperable)")
            }
        }
    }
}
