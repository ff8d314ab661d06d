/// The kinds of ledger account (DESIGN.md §6). Raw values are stored and appear in the API.
public enum AccountKind: String, Sendable, Codable, CaseIterable {
    // Per card (owned by the cardholder, so a replacement card keeps them).
    /// The bank account; exists only once financial functions are enabled.
    case financial
    /// Stored value for transit fares.
    case transitWallet
    /// The medical insurance personal account (个人账户).
    case medicalPersonal
    // Per system.
    /// A branch's cash vault: cash deposits come from it, withdrawals go back to it.
    case branchVault
    /// Money entering or leaving the system through interbank clearing.
    case externalClearing
    /// The medical insurance pooling fund (统筹基金).
    case medicalPoolingFund
    /// What the system owes one merchant.
    case merchantSettlement
    /// What the system owes one transit operator.
    case transitOperatorSettlement
    /// What the system owes one medical provider.
    case medicalProviderSettlement
    /// What one cardholder owes for transit rides an offline gate let through when the wallet was
    /// short (owner type `transit_debtor`, the person's id). Negative while in debt; a top-up
    /// pays it back first. Not blocked by a card loss: it is the system's claim, not the holder's money.
    case transitDebt
    /// Social-insurance contributions entering the system from employers (per city, owner type
    /// `city`): the mirror image of what the personal accounts and the pooling fund received.
    case contributionClearing
    /// A city bureau's subsidy money entering the system to pay offers' discounts (owner type
    /// `city`): the mirror image of what the offer budgets received.
    case subsidyFunding
    /// One subsidy-funded offer's budget (owner type `offer`): what it may still pay merchants in
    /// discounts. Never negative, so the ledger itself refuses a discount the budget cannot pay.
    case offerBudget
    /// One merchant-funded offer's discounts (owner type `offer`): a payment credits the merchant
    /// the discount from here (the gross sale) and the merchant pays it straight back (its
    /// contribution), so the merchant's statement shows both and the balance returns to zero.
    case merchantPromotion

    /// Only the system's own accounts may go negative: a vault's or clearing account's balance is
    /// the mirror image of the money it let into the ledger. Settlement accounts are amounts owed
    /// to someone outside and are never negative.
    public var mayGoNegative: Bool {
        switch self {
        case .branchVault, .externalClearing, .medicalPoolingFund, .transitDebt, .contributionClearing, .subsidyFunding, .merchantPromotion:
            return true
        case .financial, .transitWallet, .medicalPersonal,
             .merchantSettlement, .transitOperatorSettlement, .medicalProviderSettlement, .offerBudget: return false
        }
    }

    /// Accounts that belong to a cardholder (and are blocked for debits while the card is lost).
    public var isCardholderAccount: Bool {
        switch self {
        case .financial, .transitWallet, .medicalPersonal: return true
        case .branchVault, .externalClearing, .medicalPoolingFund, .merchantSettlement, .transitOperatorSettlement,
             .medicalProviderSettlement, .transitDebt, .contributionClearing, .subsidyFunding, .offerBudget,
             .merchantPromotion: return false
        }
    }
}
