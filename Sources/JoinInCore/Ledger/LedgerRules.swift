/// The rules of the ledger, pure: given the balances of the accounts involved, what posting a
/// batch, placing, posting or voiding a hold does to them, or why it is refused. The store loads
/// the balances, calls these, and writes the result together with the transfers.
///
/// Ordering: a batch is checked posting by posting in the order given, so it is valid only if
/// every prefix of it is valid — no account may dip below zero even transiently inside a batch.
/// A caller that moves money through an intermediate account lists the credit into it before the
/// debit out of it. This keeps the rule local (each posting can be explained on its own), makes
/// the error name the first posting that fails, and means a batch's reversal applied in reverse
/// order always succeeds.
///
/// Arithmetic is overflow-checked everywhere: money never wraps.
public enum LedgerRules {
    /// A daily limit (withdrawals, transfers): what was already moved today plus this amount may
    /// reach the limit but not pass it.
    public static func checkDailyLimit(usedFen: Int64, amountFen: Int64, limitFen: Int64, what: String) throws {
        let (total, overflow) = usedFen.addingReportingOverflow(amountFen)
        guard !overflow, total <= limitFen else {
            throw DomainError.rule("ledger.limit_exceeded", "the daily \(what) limit is \(limitFen) fen; \(usedFen) fen already used today")
        }
    }

    /// The most postings one call may carry.
    public static let batchSizeMax = 8_000

    /// Checks what can be checked without balances: amount > 0 and two different accounts.
    public static func validate(_ posting: Posting) throws {
        guard posting.amountFen > 0 else {
            throw DomainError.malformed("ledger.amount_invalid", "amount_fen must be a positive number of fen, got \(posting.amountFen)")
        }
        guard posting.debitAccountID != posting.creditAccountID else {
            throw DomainError.malformed("ledger.same_account", "a transfer needs two different accounts; both are \(posting.debitAccountID)")
        }
    }

    /// Applies `postings` in order to `balances` and returns the new balances, or throws the first
    /// refusal (in which case nothing applies: the input is a value and stays as it was).
    /// Every posting is validated before any is applied, so a malformed batch reports the
    /// malformed posting even if an earlier one would also have been refused by a rule.
    public static func apply(postings: [Posting], to balances: [String: AccountBalance]) throws -> [String: AccountBalance] {
        for posting in postings { try validate(posting) }
        var result = balances
        for posting in postings {
            try apply(posting, to: &result)
        }
        return result
    }

    static func apply(_ posting: Posting, to balances: inout [String: AccountBalance]) throws {
        var debit = try balance(posting.debitAccountID, in: balances)
        var credit = try balance(posting.creditAccountID, in: balances)
        if debit.debitsBlocked && !posting.isReversal {
            throw DomainError.rule("card.not_active",
                                   "account \(posting.debitAccountID) is blocked for debits (the card is reported lost); only reversals may debit it")
        }
        let availableBefore = debit.available
        debit.posted = try subtract(posting.amountFen, from: debit.posted, account: posting.debitAccountID)
        credit.posted = try add(posting.amountFen, to: credit.posted, account: posting.creditAccountID)
        try requireAvailable(debit, account: posting.debitAccountID, availableBefore: availableBefore, debitFen: posting.amountFen)
        balances[posting.debitAccountID] = debit
        balances[posting.creditAccountID] = credit
    }

    // MARK: holds (pending transfers)

    /// Reserves `amount` fen on one account: `pendingDebits` grows, `posted` stays. Refused like a
    /// debit: when the account's debits are blocked, or when a non-negative account would have
    /// less than zero available.
    public static func hold(amount: Int64, on balance: AccountBalance, accountID: String) throws -> AccountBalance {
        guard amount > 0 else {
            throw DomainError.malformed("ledger.amount_invalid", "amount_fen must be a positive number of fen, got \(amount)")
        }
        if balance.debitsBlocked {
            throw DomainError.rule("card.not_active",
                                   "account \(accountID) is blocked for debits (the card is reported lost); no hold may be placed on it")
        }
        var result = balance
        let availableBefore = balance.available
        let (pending, overflow) = balance.pendingDebits.addingReportingOverflow(amount)
        guard !overflow else {
            throw DomainError.rule("ledger.overflow", "holding \(amount) fen on account \(accountID) would overflow its pending debits")
        }
        result.pendingDebits = pending
        try requireAvailable(result, account: accountID, availableBefore: availableBefore, debitFen: amount)
        return result
    }

    /// Places the hold described by `terms` (its debit account reserves `terms.amountFen`; the
    /// credit account must exist and is untouched until the hold posts).
    public static func hold(_ terms: Posting, in balances: [String: AccountBalance]) throws -> [String: AccountBalance] {
        try validate(terms)
        let debit = try balance(terms.debitAccountID, in: balances)
        _ = try balance(terms.creditAccountID, in: balances)
        var result = balances
        result[terms.debitAccountID] = try hold(amount: terms.amountFen, on: debit, accountID: terms.debitAccountID)
        return result
    }

    /// Posts a pending hold: releases the whole reservation and posts `postedFen` (1 … the held
    /// amount; a fare lower than the pre-authorised maximum posts less) from the debit to the
    /// credit account. Posting is a debit, so a blocked account refuses it (void the hold instead).
    public static func postHold(_ terms: Posting, postedFen: Int64, in balances: [String: AccountBalance]) throws -> [String: AccountBalance] {
        try validate(terms)
        guard postedFen > 0, postedFen <= terms.amountFen else {
            throw DomainError.malformed("ledger.amount_invalid",
                                        "a hold of \(terms.amountFen) fen posts between 1 and \(terms.amountFen) fen, got \(postedFen)")
        }
        var result = try release(terms, in: balances)
        let posting = Posting(debit: terms.debitAccountID, credit: terms.creditAccountID, amountFen: postedFen, kind: terms.kind,
                              referenceType: terms.referenceType, referenceID: terms.referenceID)
        try apply(posting, to: &result)
        return result
    }

    /// Voids a pending hold: the reservation is released and nothing is posted. Always allowed,
    /// also on a blocked account.
    public static func voidHold(_ terms: Posting, in balances: [String: AccountBalance]) throws -> [String: AccountBalance] {
        try validate(terms)
        return try release(terms, in: balances)
    }

    static func release(_ terms: Posting, in balances: [String: AccountBalance]) throws -> [String: AccountBalance] {
        var debit = try balance(terms.debitAccountID, in: balances)
        _ = try balance(terms.creditAccountID, in: balances)
        guard debit.pendingDebits >= terms.amountFen else {
            throw DomainError.conflict("ledger.hold_inconsistent",
                                       "account \(terms.debitAccountID) has \(debit.pendingDebits) fen pending, less than the hold's \(terms.amountFen) fen")
        }
        debit.pendingDebits -= terms.amountFen
        var result = balances
        result[terms.debitAccountID] = debit
        return result
    }

    // MARK: helpers

    static func balance(_ id: String, in balances: [String: AccountBalance]) throws -> AccountBalance {
        guard let balance = balances[id] else {
            throw DomainError.rule("ledger.account_not_found", "no ledger account \(id)")
        }
        return balance
    }

    static func add(_ amount: Int64, to posted: Int64, account: String) throws -> Int64 {
        let (sum, overflow) = posted.addingReportingOverflow(amount)
        guard !overflow else {
            throw DomainError.rule("ledger.overflow", "crediting \(amount) fen to account \(account) would overflow its balance of \(posted) fen")
        }
        return sum
    }

    static func subtract(_ amount: Int64, from posted: Int64, account: String) throws -> Int64 {
        let (difference, overflow) = posted.subtractingReportingOverflow(amount)
        guard !overflow else {
            throw DomainError.rule("ledger.overflow", "debiting \(amount) fen from account \(account) would overflow its balance of \(posted) fen")
        }
        return difference
    }

    /// A non-negative account must keep `available` ≥ 0 after a debit or hold.
    static func requireAvailable(_ balance: AccountBalance, account: String, availableBefore: Int64, debitFen: Int64) throws {
        guard !balance.mayGoNegative else { return }
        let available = balance.available
        guard available < 0 else { return }
        let shortfall = available.magnitude
        throw DomainError.rule("ledger.insufficient_funds",
                               "account \(account) has \(availableBefore) fen available, \(debitFen) fen needed: short by \(shortfall) fen")
    }
}
