/// Staff roles (DESIGN.md §1). Raw values are the wire and CLI spelling.
public enum StaffRole: String, Sendable, Codable, CaseIterable {
    case admin, employer, permitOfficer, bankClerk, departmentClerk, merchantAdmin, eventOrganizer
}

/// Kinds of terminal (gates, POS, hospital systems, kiosks). Raw values are the wire spelling.
public enum TerminalKind: String, Sendable, Codable, CaseIterable {
    case transitValidator, merchantPos, hospitalCounter, pharmacyPOS, libraryKiosk, libraryDesk, venueGate, eventCheckIn, counter
}

/// Government departments of "one-card handling".
public enum DepartmentCode: String, Sendable, Codable, CaseIterable {
    case hrss, education, civilAffairs, housing
}

/// What a staff account is bound to: employer staff to one employer, clerks to a branch or a
/// department, merchant administrators to one merchant.
public enum StaffBinding: Sendable, Equatable {
    case none
    case employer(String)
    case branch(String)
    case department(DepartmentCode)
    case merchant(String)

    /// Checks that the binding fits the role: exactly the binding the role needs, no other.
    public static func validated(role: StaffRole, employerID: String?, branchID: String?, department: String?,
                                 merchantID: String? = nil) throws -> StaffBinding {
        let given = [employerID, branchID, department, merchantID].compactMap { $0 }
        switch role {
        case .admin, .permitOfficer, .eventOrganizer:
            guard given.isEmpty else {
                throw DomainError.malformed("staff.binding_unexpected", "role \(role.rawValue) takes no employer_id, branch_id, department or merchant_id")
            }
            return .none
        case .employer:
            guard let employerID, given.count == 1 else {
                throw DomainError.malformed("staff.binding_required", "role employer needs employer_id and nothing else")
            }
            return .employer(employerID)
        case .bankClerk:
            guard let branchID, given.count == 1 else {
                throw DomainError.malformed("staff.binding_required", "role bankClerk needs branch_id and nothing else")
            }
            return .branch(branchID)
        case .departmentClerk:
            guard let department, given.count == 1 else {
                throw DomainError.malformed("staff.binding_required", "role departmentClerk needs department and nothing else")
            }
            guard let code = DepartmentCode(rawValue: department) else {
                let allowed = DepartmentCode.allCases.map(\.rawValue).joined(separator: ", ")
                throw DomainError.malformed("staff.department_invalid", "department must be one of \(allowed), got '\(department.prefix(40))'")
            }
            return .department(code)
        case .merchantAdmin:
            guard let merchantID, given.count == 1 else {
                throw DomainError.malformed("staff.binding_required", "role merchantAdmin needs merchant_id and nothing else")
            }
            return .merchant(merchantID)
        }
    }
}

public enum UsernamePolicy {
    public static let lengthRange = 3...64

    /// Lower-case ASCII letters, digits, '.', '_' and '-', starting with a letter.
    public static func validate(_ username: String) throws -> String {
        let trimmed = username.trimmingWhitespace()
        // ASCII first: lower-casing would fold look-alikes such as the Kelvin sign (U+212A) into 'k'.
        guard trimmed.unicodeScalars.allSatisfy(\.isASCII) else {
            throw DomainError.malformed("username.invalid", "username must be 3-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter")
        }
        let name = trimmed.lowercased()
        let isLower: (Character) -> Bool = { $0.unicodeScalars.count == 1 && $0.asciiValue.map { (0x61...0x7A).contains($0) } == true }
        let allowed: (Character) -> Bool = { $0.isASCIIDigit || isLower($0) || $0 == "." || $0 == "_" || $0 == "-" }
        guard lengthRange.contains(name.count), let first = name.first, isLower(first), name.allSatisfy(allowed) else {
            throw DomainError.malformed("username.invalid",
                                        "username must be 3-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter")
        }
        return name
    }
}

public enum PasswordPolicy {
    public static let lengthMin = 10
    public static let lengthMax = 128
    static let common: Set<String> = [
        "password", "password1", "password12", "password123", "password1234", "1234567890", "12345678910",
        "qwertyuiop", "qwerty1234", "1q2w3e4r5t", "iloveyou123", "administrator", "admin12345", "admin123456",
        "changeme123", "letmein1234", "welcome123", "welcome1234", "abc1234567", "abcdefghij", "0000000000",
        "1111111111", "passw0rd123", "p@ssw0rd123", "zaq12wsxcde", "football123", "sunshine123", "princess123",
    ]

    /// Refuses short, overlong, common passwords and passwords equal to an identifier of the account.
    public static func validate(_ password: String, identifiers: [String]) throws {
        guard password.scalarCount >= lengthMin else {
            throw DomainError.rule("password.too_short", "password must be at least \(lengthMin) characters")
        }
        guard password.scalarCount <= lengthMax else {
            throw DomainError.malformed("password.too_long", "password must be at most \(lengthMax) characters")
        }
        let lowered = password.lowercased()
        guard !common.contains(lowered) else {
            throw DomainError.rule("password.common", "password is on the list of commonly used passwords")
        }
        for identifier in identifiers where !identifier.isEmpty && lowered.contains(identifier.lowercased()) {
            throw DomainError.rule("password.contains_identifier", "password must not contain the account's username or number")
        }
        guard Set(password).count >= 4 else {
            throw DomainError.rule("password.too_simple", "password must use at least 4 different characters")
        }
    }
}

/// Back-off after repeated failed sign-ins, per account and per source.
public enum LoginThrottle {
    public static let failuresFree = 5
    /// A source address may be shared (NAT, a proxy's clients), so it gets more room before locking.
    public static let sourceFailuresFree = 20
    public static let lockoutSecondsBase = 30
    public static let lockoutSecondsMax = 3600

    /// Seconds the key stays locked after its `failures`-th consecutive failure: none for the first
    /// few, then 30 s doubling up to an hour.
    public static func lockoutSeconds(afterFailures failures: Int, free: Int = failuresFree) -> Int {
        guard free >= 0, failures >= free else { return 0 }
        let doublings = min(failures - free, 7)
        return min(lockoutSecondsMax, lockoutSecondsBase << doublings)
    }
}
