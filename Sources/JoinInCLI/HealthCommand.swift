import ArgumentParser
import Foundation
import JoinInCore
import JoinInServer
import JoinInStore

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "health", abstract: "Medical-insurance policies and catalogues.",
                                                    subcommands: [ImportPolicy.self, ImportCatalogue.self])

    static func read(_ file: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: file) else { throw CLIError(description: "error: cannot read \(file)") }
        return Array(data)
    }

    struct ImportPolicy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-policy",
            abstract: "Import a city's medical-insurance policy for a year (JSON) as its next version.",
            discussion: "The whole document is validated first; errors name the JSON path. See docs/health.md.")

        @Argument(help: "Policy JSON file") var file: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await runReportingErrors {
                let bytes = try HealthCommand.read(file)
                let (policy, version) = try await store.withStore(logger: cliLogger()) { store, _ in
                    try await HealthImport.importPolicy(store: store, bytes: bytes, expected: nil, actor: "cli:\(NSUserName())",
                                                        nowMs: AppClock.system.nowMs())
                }
                print("imported policy version \(version) of city \(policy.cityCode) for \(policy.year)")
            }
        }
    }

    struct ImportCatalogue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-catalogue",
            abstract: "Import a city's catalogue of drugs and services (CSV: code,name_en,name_zh,class,unit[,kind]) as its next version.")

        @Option(help: "City code (6 digits)") var city: String
        @Argument(help: "Catalogue CSV file") var file: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await runReportingErrors {
                let bytes = try HealthCommand.read(file)
                let (version, count) = try await store.withStore(logger: cliLogger()) { store, _ in
                    try await HealthImport.importCatalogue(store: store, cityCode: city, bytes: bytes, actor: "cli:\(NSUserName())",
                                                           nowMs: AppClock.system.nowMs())
                }
                print("imported catalogue version \(version) of city \(city): \(count) items")
            }
        }
    }
}

struct ServicesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "services", abstract: "One-card government services.",
                                                    subcommands: [ImportCatalogue.self])

    struct ImportCatalogue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-catalogue",
            abstract: "Import the departments' service catalogue (JSON) as its next version.",
            discussion: "The whole document is validated first; errors name the JSON path. See docs/services.md.")

        @Argument(help: "Catalogue JSON file") var file: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await runReportingErrors {
                let bytes = try HealthCommand.read(file)
                let (version, count) = try await store.withStore(logger: cliLogger()) { store, _ in
                    try await ServiceImport.importCatalogue(store: store, bytes: bytes, actor: "cli:\(NSUserName())", nowMs: AppClock.system.nowMs())
                }
                print("imported service catalogue version \(version): \(count) services")
            }
        }
    }
}
