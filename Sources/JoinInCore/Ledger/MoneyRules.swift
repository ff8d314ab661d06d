/// The card's money rules (issue 4): amounts, daily limits, wrong PINs, and which of the card's
/// accounts an operation may use. Handlers load, call these, and persist.
public enum MoneyRules {
    /// Card-to-card transfers per sending account and Shanghai day: 50,000.00 CNY.
    public static let transferDailyLimitFen: Int64 = 5_000_000
    /// Cash withdrawals per account and Shanghai day: 20,000.00 CNY.
    public static let withdrawalDailyLimitFen: Int64 = 2_000_000
    /// Wrong PINs per card and day before PIN use is blocked until the next day.
    public static let wrongPINsPerDayMax = 3
    /// The largest single operation: 100 million CNY.
    public static let amountFenMax: Int64 = 10_000_000_000

    /// A money operation's amount: 1 fen to `amountFenMax`.
    public static func validatedAmount(_ amount: Int64) throws -> Int64 {
        guard amount > 0, amount <= amountFenMax else {
            throw DomainError.malformed("ledger.amount_invalid", "amount_fen must be a whole number of fen from 1 to \(amountFenMax)")
        }
        return amount
    }

    /// Money moves only with an active card (a lost card stops every debit); the bank account
    /// needs financial functions; cardholders operate only `financial` and `transitWallet`.
    public static func checkCardAccount(status: CardStatus?, statusText: String, financialEnabled: Bool, kind: AccountKind) throws {
        guard status?.allowsDebits == true else {
            throw DomainError.rule("card.not_active", "card is \(statusText); money moves only with an active card")
        }
        if kind == .financial && !financialEnabled {
            throw DomainError.rule("card.financial_functions_disabled", "financial functions are not enabled on this card")
        }
        guard kind == .financial || kind == .transitWallet else {
            throw DomainError.malformed("ledger.account_invalid", "account must be financial or transitWallet")
        }
    }

    /// A card-to-card transfer may go to any live card with financial functions other than the
    /// sender's own (an unknown card is refused the same way: the number came from the body).
    public static func checkTransferRecipient(found: Bool, status: CardStatus?, financialEnabled: Bool, samePerson: Bool) throws {
        guard found, status?.isLive == true, financialEnabled, !samePerson else { throw recipientInvalid }
    }

    /// A daily limit: which transfers count towards it (their kind, debited from the account, not
    /// reversals) and how much they may add up to per Shanghai day.
    public struct DailyLimit: Sendable, Equatable {
        public let transferKind: String
        public let limitFen: Int64
        /// Named in the refusal: "withdrawal", "transfer".
        public let what: String
    }

    public static let withdrawalLimit = DailyLimit(transferKind: "cash_withdrawal", limitFen: withdrawalDailyLimitFen, what: "withdrawal")
    public static let transferLimit = DailyLimit(transferKind: "card_transfer", limitFen: transferDailyLimitFen, what: "transfer")

    /// A refund of `amountFen` against a payment of `paidFen` of which `refundedFen` is already
    /// refunded: never more than was paid. (The store's conditional update repeats the check
    /// atomically; this one words the refusal.)
    public static func checkRefund(amountFen: Int64, paidFen: Int64, refundedFen: Int64) throws {
        guard amountFen <= paidFen - refundedFen else {
            throw DomainError.rule("payment.refund_exceeds_payment",
                                   "\(refundedFen) of \(paidFen) fen already refunded; at most \(paidFen - refundedFen) fen more")
        }
    }

    public static let recipientInvalid = DomainError.rule("transfer.recipient_invalid", "to_card_number is not a card that can receive transfers")
}
