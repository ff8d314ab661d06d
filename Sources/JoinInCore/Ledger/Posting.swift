/// One transfer to post: `amountFen` moves from the debit account to the credit account.
/// Immutable once posted; a correction is a new posting with the accounts swapped and
/// `isReversal` set.
public struct Posting: Sendable, Equatable, Hashable {
    public let debitAccountID: String
    public let creditAccountID: String
    /// Integer fen (1 CNY = 100 fen), always > 0.
    public let amountFen: Int64
    /// What the transfer is for (`deposit`, `withdrawal`, `payment`, `fare`, …); free text for the ledger.
    public let kind: String
    /// The business object the transfer pays for; it must be registered as a ledger reference.
    public let referenceType: String
    public let referenceID: String
    /// A reversal may debit an account whose debits are blocked (a lost card): it undoes a credit.
    public let isReversal: Bool

    public init(debit debitAccountID: String, credit creditAccountID: String, amountFen: Int64, kind: String,
                referenceType: String, referenceID: String, isReversal: Bool = false) {
        self.debitAccountID = debitAccountID
        self.creditAccountID = creditAccountID
        self.amountFen = amountFen
        self.kind = kind
        self.referenceType = referenceType
        self.referenceID = referenceID
        self.isReversal = isReversal
    }

    /// The posting that undoes this one: same amount and reference, accounts swapped.
    public func reversal(kind: String) -> Posting {
        Posting(debit: creditAccountID, credit: debitAccountID, amountFen: amountFen, kind: kind,
                referenceType: referenceType, referenceID: referenceID, isReversal: true)
    }
}

/// The state of one account as the rules see it.
///
/// Balance convention: `posted` = Σ credits − Σ debits of the account's transfers (money held for
/// a cardholder is positive; a vault that let cash in is negative). `pendingDebits` is the sum of
/// the account's pending holds. `available` = `posted` − `pendingDebits`.
public struct AccountBalance: Sendable, Equatable {
    public var posted: Int64
    public var pendingDebits: Int64
    /// Only system accounts may have `available` < 0.
    public var mayGoNegative: Bool
    /// A lost card: every debit is refused except reversals (credits still arrive).
    public var debitsBlocked: Bool

    public init(posted: Int64 = 0, pendingDebits: Int64 = 0, mayGoNegative: Bool, debitsBlocked: Bool = false) {
        self.posted = posted
        self.pendingDebits = pendingDebits
        self.mayGoNegative = mayGoNegative
        self.debitsBlocked = debitsBlocked
    }

    /// `posted` − `pendingDebits`, saturating at the bounds of `Int64` (only an account that may
    /// go negative can get near them).
    public var available: Int64 {
        let (value, overflow) = posted.subtractingReportingOverflow(pendingDebits)
        guard overflow else { return value }
        return pendingDebits > 0 ? Int64.min : Int64.max
    }
}
