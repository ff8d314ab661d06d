public import Hummingbird
import JoinInCore
import NIOCore

/// Per-request context: Hummingbird's core storage, the peer address (for login throttling) and
/// the principal the router admitted (nil on public routes).
public struct AppContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: String?
    var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
        self.principal = nil
    }

    public var requestID: String? { logger[metadataKey: "hb.request.id"]?.description }
}

/// The admitted principal, as the route's declaration promises it. A handler asking for a kind
/// its route does not admit is a programming error: it answers 500 and is logged, and the
/// authorization matrix test finds it.
extension AppContext {
    struct MisdeclaredRoute: Error, CustomStringConvertible {
        let wanted: String
        var description: String { "the handler needs a \(wanted) but its route does not admit one" }
    }

    func admitted() throws -> Principal {
        guard let principal else { throw MisdeclaredRoute(wanted: "principal") }
        return principal
    }

    func staff() throws -> StaffPrincipal {
        guard case .staff(let staff) = principal else { throw MisdeclaredRoute(wanted: "staff member") }
        return staff
    }

    func cardholder() throws -> CardholderPrincipal {
        guard case .cardholder(let holder) = principal else { throw MisdeclaredRoute(wanted: "cardholder") }
        return holder
    }

    func terminal() throws -> TerminalPrincipal {
        guard case .terminal(let terminal) = principal else { throw MisdeclaredRoute(wanted: "terminal") }
        return terminal
    }

    /// A bank clerk and the branch it is bound to (cash and cards are the branch's): 403 unbound.
    func branchClerk() throws -> (clerk: StaffPrincipal, branchID: String) {
        let clerk = try staff()
        guard let branchID = clerk.branchID else {
            throw DomainError.forbidden("auth.forbidden", "this bank clerk account is not bound to a branch")
        }
        return (clerk, branchID)
    }

    /// A merchant administrator and the merchant it is bound to: 403 unbound.
    func merchantAdmin() throws -> (staff: StaffPrincipal, merchantID: String) {
        let staff = try staff()
        guard let merchantID = staff.merchantID else {
            throw DomainError.forbidden("auth.forbidden", "this merchant administrator account is not bound to a merchant")
        }
        return (staff, merchantID)
    }
}
