public enum CardStatus: String, Sendable, Codable, CaseIterable {
    case issued, active, lost, frozen, replaced, cancelled

    /// A live card blocks issuing another one to the same person.
    public var isLive: Bool {
        switch self {
        case .issued, .active, .lost, .frozen: return true
        case .replaced, .cancelled: return false
        }
    }

    /// Only an active card may be debited; a lost card stops every debit at once.
    public var allowsDebits: Bool { self == .active }
}

public enum CardAction: String, Sendable, CaseIterable {
    case activate, reportLoss, replace, cancel
}

public enum CardRules {
    /// The card state machine: issued → active → lost | frozen → replaced | cancelled.
    public static func transition(from status: CardStatus, _ action: CardAction) throws -> CardStatus {
        switch (action, status) {
        case (.activate, .issued): return .active
        case (.reportLoss, .issued), (.reportLoss, .active), (.reportLoss, .frozen): return .lost
        case (.replace, .issued), (.replace, .active), (.replace, .lost), (.replace, .frozen): return .replaced
        case (.cancel, .issued), (.cancel, .active), (.cancel, .lost), (.cancel, .frozen): return .cancelled
        default:
            throw DomainError.conflict("card.invalid_transition", "cannot \(action.rawValue) a card that is \(status.rawValue)")
        }
    }

    public static let residenceProofKinds: Set<String> = ["residence_permit", "temporary_residence_registration"]
    /// A tax certificate counts for a year after issue.
    public static let taxCertificateMonthsValid = 12

    /// Financial functions need a current tax certificate and proof of residence.
    @discardableResult
    public static func checkFinancialDocuments(tax: TaxCertificate?, residence: ResidenceProof?,
                                               today: CivilDate) throws -> (tax: TaxCertificate, residence: ResidenceProof) {
        guard let tax else {
            throw DomainError.rule("card.tax_certificate_missing", "tax_certificate is required to enable financial functions")
        }
        guard let residence else {
            throw DomainError.rule("card.residence_proof_missing", "residence_proof is required to enable financial functions")
        }
        guard tax.issuedOn <= today else {
            throw DomainError.rule("card.tax_certificate_invalid", "tax_certificate.issued_on \(tax.issuedOn) is in the future")
        }
        let taxExpiry = tax.issuedOn.adding(months: taxCertificateMonthsValid)
        guard today < taxExpiry else {
            throw DomainError.rule("card.tax_certificate_expired",
                                   "tax_certificate issued on \(tax.issuedOn) expired on \(taxExpiry); a certificate counts for \(taxCertificateMonthsValid) months")
        }
        guard residence.validUntil >= today else {
            throw DomainError.rule("card.residence_proof_expired", "residence_proof expired on \(residence.validUntil)")
        }
        return (tax, residence)
    }
}

public struct TaxCertificate: Sendable, Equatable, Codable {
    public let number: String
    public let issuedOn: CivilDate

    public init(number: String, issuedOn: CivilDate) throws {
        self.number = try DocumentNumber.validated(number, field: "tax_certificate.number")
        self.issuedOn = issuedOn
    }
}

public struct ResidenceProof: Sendable, Equatable, Codable {
    public let kind: String
    public let number: String
    public let validUntil: CivilDate

    public init(kind: String, number: String, validUntil: CivilDate) throws {
        guard CardRules.residenceProofKinds.contains(kind) else {
            let allowed = CardRules.residenceProofKinds.sorted().joined(separator: ", ")
            throw DomainError.malformed("residence_proof.kind_invalid", "residence_proof.kind must be one of \(allowed)")
        }
        self.kind = kind
        self.number = try DocumentNumber.validated(number, field: "residence_proof.number")
        self.validUntil = validUntil
    }
}

public enum DocumentNumber {
    /// Official document numbers: 4-40 characters of A-Z, 0-9 and '-'.
    public static func validated(_ raw: String, field: String) throws -> String {
        // Upper-case ASCII letters only: a full Unicode upper-casing turns "ß" into "SS" or "ﬁ" into "FI"
        // and would accept characters that are not on any document.
        let value = String(raw.trimmingWhitespace().map { $0.isASCII ? Character($0.uppercased()) : $0 })
        guard (4...40).contains(value.count),
              value.allSatisfy({ $0.isASCIIDigit || $0.isASCIIUppercaseLetter || $0 == "-" }) else {
            throw DomainError.malformed("document_number.invalid", "\(field) must be 4-40 characters of A-Z, 0-9 and '-'")
        }
        return value
    }
}
