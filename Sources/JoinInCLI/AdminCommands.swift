public import ArgumentParser
import Foundation
import JoinInCore
import JoinInServer
import JoinInStore

extension StaffRole: ExpressibleByArgument {}
extension TerminalKind: ExpressibleByArgument {}

struct StaffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "staff", abstract: "Manage staff accounts.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a staff account; the password is read from standard input.")

        @Option(help: "Username: 3-64 of a-z 0-9 . _ -") var username: String
        @Option(help: "Role: \(StaffRole.allCases.map(\.rawValue).joined(separator: ", "))") var role: StaffRole
        @Option(help: "Employer id (role employer)") var employer: String?
        @Option(help: "Branch id (role bankClerk)") var branch: String?
        @Option(help: "Department: \(DepartmentCode.allCases.map(\.rawValue).joined(separator: ", ")) (role departmentClerk)") var department: String?
        @Option(help: "Merchant id (role merchantAdmin)") var merchant: String?
        @Flag(help: "Read the password from standard input (required).") var passwordStdin = false
        @OptionGroup var store: StoreOptions

        func run() async throws {
            guard passwordStdin else { throw CLIError(description: "error: pass --password-stdin and send the password on standard input") }
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw CLIError(description: "error: no password on standard input")
            }
            let request = Provisioning.NewStaffRequest(username: username, password: line, role: role, employerID: employer,
                                                       branchID: branch, department: department, merchantID: merchant)
            try await runReportingErrors {
                let id = try await store.withStore(logger: cliLogger()) { store, _ in
                    try await Provisioning.addStaff(request, store: store, actor: "cli:\(NSUserName())", bcryptCost: 12,
                                                    nowMs: AppClock.system.nowMs())
                }
                print("created staff \(username) (\(role.rawValue)) id \(id)")
            }
        }
    }
}

struct TerminalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "terminals", abstract: "Manage terminals.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a terminal and print its API key (shown once).")

        @Option(help: "Kind: \(TerminalKind.allCases.map(\.rawValue).joined(separator: ", "))") var kind: TerminalKind
        @Option(help: "Name shown to operators") var name: String
        @Option(help: "Id of the operator, merchant, provider or venue it belongs to") var binding: String?
        @Option(help: "transitValidator only: the stop or station it is fixed at") var stop: String?
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await runReportingErrors {
                let created = try await store.withStore(logger: cliLogger()) { store, _ in
                    try await Provisioning.addTerminal(kind: kind, name: name, bindingID: binding, stopID: stop, store: store,
                                                       actor: "cli:\(NSUserName())", nowMs: AppClock.system.nowMs())
                }
                print("created terminal \(created.id)")
                print("api key (shown once): \(created.apiKey)")
            }
        }
    }
}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "import", abstract: "Import reference data.",
                                                    subcommands: [Cities.self, LibraryItems.self])

    struct LibraryItems: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "library-items",
            abstract: "Import a designated library's holdings from a CSV (barcode,title,author,isbn); idempotent.",
            discussion: "The whole file is validated first; errors name line and field. A second run adds nothing and updates only changed titles.")

        @Option(help: "Library id") var library: String
        @Argument(help: "CSV file") var file: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await runReportingErrors {
                guard let data = FileManager.default.contents(atPath: file) else { throw CLIError(description: "error: cannot read \(file)") }
                let (added, updated) = try await store.withStore(logger: cliLogger()) { store, _ in
                    try await LibraryImport.importItems(store: store, libraryID: library, bytes: Array(data),
                                                        file: URL(fileURLWithPath: file).lastPathComponent, actor: "cli:\(NSUserName())",
                                                        nowMs: AppClock.system.nowMs())
                }
                print("library \(library): \(added) items added, \(updated) updated")
            }
        }
    }

    struct Cities: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import prefecture-level cities from a CSV (code,name,provinceCode; 4-digit codes).")

        @Option(help: "CSV file, e.g. ../shared/data/cities.csv") var file: String
        @Flag(help: "Mark newly imported cities as not interoperable for transit.") var notInteroperable = false
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw CLIError(description: "error: cannot read \(file) as UTF-8 text")
            }
            let interoperable = !notInteroperable
            try await runReportingErrors {
                let summary = try await store.withStore(logger: cliLogger()) { store, _ in
                    try await ReferenceData.importCities(csv: text, interoperable: interoperable, store: store, actor: "cli:\(NSUserName())",
                                                         nowMs: AppClock.system.nowMs()) { done, total in
                        FileHandle.standardError.write(Data("\rimporting cities: \(done)/\(total)".utf8))
                    }
                }
                FileHandle.standardError.write(Data("\n".utf8))
                print(summary)
            }
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Audit trail.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Verify the hash chain; exit 1 at the first broken link.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            var broken = false
            try await runReportingErrors {
                let keys = try KeyDirectory.loadOrCreate(path: store.keysPath)
                let verdict = try await Store.with(url: store.databaseURL, dataKeys: keys.dataKeys, logger: cliLogger()) { store in
                    try await store.verifyAudit()
                }
                switch verdict {
                case .intact(let count):
                    print("audit chain intact: \(count) records")
                case .broken(let sequence, let reason):
                    print("audit chain BROKEN at record \(sequence): \(reason)")
                    broken = true
                }
            }
            if broken { throw ExitCode(1) }
        }
    }
}
