/// The life of a hold (a pending transfer): reserved, then posted or voided exactly once.
public enum HoldState: String, Sendable, Codable, CaseIterable {
    case pending, posted, voided
}

/// The outcome of checking every ledger invariant of DESIGN.md §6.
public enum LedgerVerdict: Sendable, Equatable, CustomStringConvertible {
    /// Every invariant holds over this many accounts and transfers.
    case ok(accounts: Int64, transfers: Int64)
    /// The first violation found, in words that name the account, transfer or hold.
    case violated(String)

    public var isOK: Bool {
        if case .ok = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .ok(let accounts, let transfers):
            return "ok: \(accounts) accounts, \(transfers) transfers, every invariant holds"
        case .violated(let what):
            return "violated: \(what)"
        }
    }
}
