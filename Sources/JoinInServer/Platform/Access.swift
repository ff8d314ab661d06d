import JoinInCore

/// Who may call a route, declared with the route (`RouteRegistrar.on`) and checked by the router
/// before the handler runs: no credentials → 401, a principal the declaration does not name → 403.
/// Handlers then read the principal from the context and check only what is about objects and
/// bindings (an employer's own applications, a till's own payments). The authorization matrix
/// test is generated from these declarations.
struct Access: Sendable, Hashable, CustomStringConvertible {
    private(set) var isPublic = false
    private(set) var staffRoles: Set<StaffRole> = []
    /// Staff whose one-time password is still unchanged may call it (sign-out, me, the change itself).
    private(set) var allowsPendingPasswordChange = false
    private(set) var cardholder = false
    private(set) var terminalKinds: Set<TerminalKind> = []
    /// What the path's ids name, for the object-level (BOLA) part of the matrix.
    private(set) var objects: ObjectScope = .none

    private init() {}

    /// No credentials needed (health, keys, sign-in, registration, public verification).
    static let anyone: Access = {
        var access = Access()
        access.isPublic = true
        return access
    }()

    static func staff(_ roles: StaffRole...) -> Access {
        var access = Access()
        access.staffRoles = Set(roles)
        return access
    }

    /// Every staff role, including one whose one-time password is still to be changed.
    static let anyStaffEvenBeforePasswordChange: Access = {
        var access = Access()
        access.staffRoles = Set(StaffRole.allCases)
        access.allowsPendingPasswordChange = true
        return access
    }()

    static let cardholder: Access = {
        var access = Access()
        access.cardholder = true
        return access
    }()

    static func terminal(_ kinds: TerminalKind...) -> Access {
        var access = Access()
        access.terminalKinds = Set(kinds)
        return access
    }

    static let anyTerminal: Access = {
        var access = Access()
        access.terminalKinds = Set(TerminalKind.allCases)
        return access
    }()

    /// Admits whoever either declaration admits.
    func or(_ other: Access) -> Access {
        var access = self
        access.isPublic = isPublic || other.isPublic
        access.staffRoles.formUnion(other.staffRoles)
        access.allowsPendingPasswordChange = allowsPendingPasswordChange || other.allowsPendingPasswordChange
        access.cardholder = cardholder || other.cardholder
        access.terminalKinds.formUnion(other.terminalKinds)
        return access
    }

    /// Declares what the ids in the path name (required for every route with a path parameter).
    func objects(_ scope: ObjectScope) -> Access {
        var access = self
        access.objects = scope
        return access
    }

    /// Whether `principal` may call the route at all (object checks come later, in the handler).
    func admits(_ principal: Principal) -> Bool {
        (try? check(principal)) != nil
    }

    /// Throws 403 unless the declaration names the principal.
    func check(_ principal: Principal) throws {
        switch principal {
        case .staff(let staff):
            guard !staffRoles.isEmpty else {
                throw DomainError.forbidden("auth.forbidden", "this operation is for \(audience); staff accounts may not call it")
            }
            if staff.mustChangePassword && !allowsPendingPasswordChange {
                throw DomainError.forbidden("auth.password_change_required",
                                            "change the one-time password first: POST /v1/staff/me/password")
            }
            guard staffRoles.contains(staff.role) else {
                throw DomainError.forbidden("auth.forbidden", "this operation needs role \(Self.names(staffRoles)); you are \(staff.role.rawValue)")
            }
        case .cardholder:
            guard cardholder else {
                throw DomainError.forbidden("auth.forbidden", "this operation is for \(audience); e-card accounts may not call it")
            }
        case .terminal(let terminal):
            guard terminalKinds.contains(terminal.kind) else {
                throw DomainError.forbidden("auth.forbidden", "this operation is for \(audience); a \(terminal.kind.rawValue) terminal may not call it")
            }
        }
    }

    /// Who is admitted, in words, for 403 details and the route listing.
    var audience: String {
        if isPublic { return "anyone" }
        var parts: [String] = []
        if !staffRoles.isEmpty { parts.append("staff (\(Self.names(staffRoles)))") }
        if cardholder { parts.append("e-card accounts") }
        if !terminalKinds.isEmpty { parts.append("terminals (\(Self.names(terminalKinds)))") }
        return parts.isEmpty ? "nobody" : parts.joined(separator: " or ")
    }

    var description: String { audience }

    private static func names<T: RawRepresentable<String>>(_ values: Set<T>) -> String {
        values.map(\.rawValue).sorted().joined(separator: ", ")
    }
}

/// What the ids in a route's path name, and whether every admitted caller may see every one.
enum ObjectScope: Sendable, Hashable {
    /// The path names no object.
    case none
    /// Objects have an owner among the admitted callers (an employer's applications, a till's
    /// payments): a caller of the right kind that is not the owner gets 404, as for a missing id.
    case owned(by: String)
    /// Every admitted caller may reach every object; the reason says why that is right.
    case open(because: String)
}
