public import JoinInCore
public import JoinInStore
import Foundation

/// Creating staff accounts and terminals: shared by the admin API and the CLI, so both apply the
/// same rules and both leave an audit record.
public enum Provisioning {
    public struct NewStaffRequest: Sendable {
        public var username: String
        public var password: String
        public var role: StaffRole
        public var employerID: String?
        public var branchID: String?
        public var department: String?
        public var merchantID: String?
        public var mustChangePassword: Bool

        public init(username: String, password: String, role: StaffRole, employerID: String? = nil, branchID: String? = nil,
                    department: String? = nil, merchantID: String? = nil, mustChangePassword: Bool = false) {
            self.username = username
            self.password = password
            self.role = role
            self.employerID = employerID
            self.branchID = branchID
            self.department = department
            self.merchantID = merchantID
            self.mustChangePassword = mustChangePassword
        }
    }

    /// Validates and stores a staff account; returns its id.
    public static func addStaff(_ request: NewStaffRequest, store: Store, actor: String, bcryptCost: UInt8, nowMs: Int64) async throws -> String {
        let username = try UsernamePolicy.validate(request.username)
        let binding = try StaffBinding.validated(role: request.role, employerID: request.employerID, branchID: request.branchID,
                                                 department: request.department, merchantID: request.merchantID)
        try PasswordPolicy.validate(request.password, identifiers: [username])
        let hash = try await PasswordHasher.hash(request.password, cost: bcryptCost)
        let id = UUID().uuidString.lowercased()
        do {
            try await store.write { tx in
                switch binding {
                case .employer(let employerID):
                    guard try await tx.employer(id: employerID) != nil else {
                        throw DomainError.rule("employer.not_found", "employer_id \(employerID) names no employer")
                    }
                case .branch(let branchID):
                    guard try await tx.branch(id: branchID) != nil else {
                        throw DomainError.rule("branch.not_found", "branch_id \(branchID) names no branch")
                    }
                case .merchant(let merchantID):
                    guard try await tx.merchant(id: merchantID) != nil else {
                        throw DomainError.rule("merchant.not_found", "merchant_id \(merchantID.prefix(64)) names no merchant")
                    }
                case .none, .department:
                    break
                }
                guard try await tx.staff(username: username) == nil else {
                    throw DomainError.conflict("staff.username_taken", "username '\(username)' is already taken")
                }
                try await tx.insertStaff(NewStaff(id: id, username: username, passwordHash: hash, role: request.role,
                                                  binding: binding, mustChangePassword: request.mustChangePassword), atMs: nowMs)
                try await tx.appendAudit(actor: actor, action: "staff.create", objectType: "staff", objectID: id,
                                         detail: "username=\(username) role=\(request.role.rawValue)", atMs: nowMs)
            }
        } catch where isUniqueViolation(error) {
            throw DomainError.conflict("staff.username_taken", "username '\(username)' is already taken")
        }
        return id
    }

    /// Stores a terminal and returns (id, API key). The key is shown once: only its hash is kept.
    public static func addTerminal(kind: TerminalKind, name: String, bindingID: String?, stopID: String? = nil, store: Store,
                                   actor: String, nowMs: Int64) async throws -> (id: String, apiKey: String) {
        let name = name.trimmingWhitespace()
        guard (1...100).contains(name.scalarCount) else {
            throw DomainError.malformed("terminal.name_invalid", "name must be 1-100 characters")
        }
        if let bindingID, !(1...64).contains(bindingID.scalarCount) {
            throw DomainError.malformed("terminal.binding_invalid", "binding_id must be 1-64 characters")
        }
        if let stopID {
            guard kind == .transitValidator else {
                throw DomainError.rule("terminal.stop_unexpected", "only a transitValidator is fixed at a stop")
            }
            guard (1...255).contains(stopID.utf8.count), !stopID.containsControlCharacters else {
                throw DomainError.malformed("terminal.stop_invalid", "stop_id must be 1-255 bytes")
            }
        }
        let id = UUID().uuidString.lowercased()
        let apiKey = Tokens.make(prefix: Tokens.terminalPrefix)
        try await store.write { tx in
            if kind == .transitValidator {
                try await checkValidatorBinding(tx, operatorID: bindingID, stopID: stopID, nowMs: nowMs)
            }
            if kind == .venueGate {
                guard let bindingID, try await tx.venue(id: bindingID) != nil else {
                    throw DomainError.rule("venue.not_found", "a venueGate terminal must be bound (binding_id) to an existing venue")
                }
            }
            if kind == .eventCheckIn {
                guard let bindingID, try await tx.staff(id: bindingID)?.staffRole == .eventOrganizer else {
                    throw DomainError.rule("event.organizer_not_found", "an eventCheckIn terminal must be bound (binding_id) to an event organiser's staff id")
                }
            }
            if kind == .libraryKiosk || kind == .libraryDesk {
                guard let bindingID, try await tx.library(id: bindingID) != nil else {
                    throw DomainError.rule("library.not_found", "a \(kind.rawValue) terminal must be bound (binding_id) to an existing library")
                }
            }
            if let providerKind = HealthController.providerKind(of: kind) {
                guard let bindingID, let provider = try await tx.provider(id: bindingID), provider.providerKind == providerKind else {
                    throw DomainError.rule("health.provider_not_found",
                                           "a \(kind.rawValue) terminal must be bound (binding_id) to an existing \(providerKind.rawValue)")
                }
            }
            try await tx.insertTerminal(id: id, kind: kind, name: name, bindingID: bindingID, keyHash: store.secretDigest(apiKey), atMs: nowMs)
            if let stopID { try await tx.setTerminalStop(terminalID: id, stopID: stopID) }
            try await tx.appendAudit(actor: actor, action: "terminal.create", objectType: "terminal", objectID: id,
                                     detail: "kind=\(kind.rawValue)", atMs: nowMs)
        }
        return (id, apiKey)
    }

    /// A validator belongs to an existing operator; a fixed one to a stop of its fares.
    static func checkValidatorBinding(_ tx: StoreTx, operatorID: String?, stopID: String?, nowMs: Int64) async throws {
        guard let operatorID, try await tx.transitOperator(id: operatorID) != nil else {
            throw DomainError.rule("transit.operator_not_found", "a transitValidator must be bound (binding_id) to an existing transit operator")
        }
        guard let stopID else { return }
        let versions = try await tx.fareVersions(operatorID: operatorID).filter { $0.validFromMs <= nowMs }
        guard let current = versions.max(by: { $0.validFromMs < $1.validFromMs }) else { return }
        let feed = try await FareFeeds().engine(tx, versionID: current.id).feed
        guard feed.stops[stopID] != nil || feed.stopAreas[stopID] != nil else {
            throw DomainError.rule("transit.stop_unknown", "stop \(stopID.prefix(64)) is not in the operator's fare version \(current.version)")
        }
    }

    /// On a store without staff, creates `admin` with a one-time password that must be changed at
    /// first sign-in. Returns the password, to be shown once; nil when staff already exist.
    public static func bootstrapAdmin(store: Store, bcryptCost: UInt8, nowMs: Int64) async throws -> String? {
        guard try await store.read({ tx in try await tx.staffCount() }) == 0 else { return nil }
        let password = Tokens.oneTimePassword()
        let hash = try await PasswordHasher.hash(password, cost: bcryptCost)
        let created = try await store.write { tx -> Bool in
            guard try await tx.staffCount() == 0 else { return false }
            let id = UUID().uuidString.lowercased()
            try await tx.insertStaff(NewStaff(id: id, username: "admin", passwordHash: hash, role: .admin, binding: .none,
                                              mustChangePassword: true), atMs: nowMs)
            try await tx.appendAudit(actor: "system", action: "staff.bootstrap_admin", objectType: "staff", objectID: id, atMs: nowMs)
            return true
        }
        return created ? password : nil
    }
}
