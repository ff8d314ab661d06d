import Foundation
import JoinInAPI
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore

/// Card issuance and the card's life at the bank counter: activation with a PIN, loss, cancellation,
/// replacement, financial functions.
struct CardController: Sendable {
    let store: Store
    let config: ServerConfig
    let clock: AppClock

    /// decisions §2: cardholders walk into any branch, so clerks act on any card of the bank.
    static let anyCardOfTheBank = Access.staff(.bankClerk)
        .objects(.open(because: "cardholders may go to any branch of the bank (decisions §2); the acting clerk and branch are audited"))

    func register(_ r: inout RouteRegistrar) {
        r.on(.post, "/v1/cards", .staff(.bankClerk)) { request, context in try await issueCard(request, context) }
        r.on(.get, "/v1/cards/{card_number}", Self.anyCardOfTheBank) { _, context in
            let number = try context.parameters.require("card_number")
            let dto = try await store.read { tx in try await CardViews.card(tx, try await tx.existingCard(number)) }
            return try JSON.response(dto)
        }
        r.on(.post, "/v1/cards/{card_number}/activation", Self.anyCardOfTheBank) { request, context in
            try await activateCard(request, context, number: try context.parameters.require("card_number"))
        }
        r.on(.post, "/v1/cards/{card_number}/loss-report", Self.anyCardOfTheBank) { _, context in
            try await changeCardStatus(context, number: try context.parameters.require("card_number"), action: .reportLoss,
                                       audit: "card.report_loss")
        }
        r.on(.post, "/v1/cards/{card_number}/cancellation", Self.anyCardOfTheBank) { _, context in
            try await changeCardStatus(context, number: try context.parameters.require("card_number"), action: .cancel,
                                       audit: "card.cancel")
        }
        r.on(.post, "/v1/cards/{card_number}/replacement", Self.anyCardOfTheBank) { request, context in
            try await replaceCard(request, context, number: try context.parameters.require("card_number"))
        }
        r.on(.post, "/v1/cards/{card_number}/financial-functions", Self.anyCardOfTheBank) { request, context in
            try await enableFinancialFunctions(request, context, number: try context.parameters.require("card_number"))
        }
    }

    func issueCard(_ request: Request, _ context: AppContext) async throws -> Response {
        let (clerk, branchID) = try context.branchClerk()
        let (body, bytes) = try await JSON.decode(Schemas.NewCardRequest.self, from: request, limit: config.bodyBytesMax)
        let permitNumber = try PermitNumber(validating: body.permitNumber)
        let passport = try PassportNumber(validating: body.passportNumber)
        let letter = body.decisionLetterNumber.trimmingWhitespace().uppercased()
        let now = clock.nowMs()
        let today = clock.today
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: clerk.auditName, nowMs: now) { tx in
            guard let permit = try await tx.latestPermit(number: permitNumber.value),
                  let person = try await tx.person(id: permit.personId) else {
                throw DomainError.rule("permit.not_found", "no permit \(permitNumber.value)")
            }
            let status = permit.status(today: today)
            guard status == .valid else {
                throw DomainError.rule("permit.not_valid", "permit \(permitNumber.value) is \(status.rawValue); a card needs a valid permit")
            }
            guard permit.decisionLetterNumber == letter else {
                throw DomainError.rule("card.decision_letter_mismatch", "decision_letter_number does not match permit \(permitNumber.value)")
            }
            guard tx.passportIndex(passport.value) == person.passportIndex else {
                throw DomainError.rule("card.passport_mismatch", "passport_number does not match the permit holder's passport")
            }
            if let live = try await tx.liveCard(personID: person.id) {
                throw DomainError.conflict("card.already_issued",
                                           "the holder already has card \(try CardNumber(validating: live.cardNumber).masked) (\(live.status)); report it lost and replace it instead")
            }
            let number = try await newCardNumber(tx)
            try await tx.insertCard(number: number.value, personID: person.id, permitID: permit.id, branchID: branchID,
                                    replaces: nil, issuedBy: clerk.auditName, atMs: now)
            // The card's own accounts; they belong to the person, so a replacement card keeps them.
            for kind in [AccountKind.transitWallet, .medicalPersonal] {
                _ = try await tx.openAccount(kind: kind, ownerType: "person", ownerID: person.id, atMs: now)
            }
            try await tx.appendAudit(actor: clerk.auditName, action: "card.issue", objectType: "card", objectID: number.value,
                                     detail: "permit=\(permit.permitNumber) branch=\(branchID)", atMs: now)
            return try .json(try await CardViews.card(tx, try await tx.existingCard(number.value)))
        }
    }

    func newCardNumber(_ tx: StoreTx) async throws -> CardNumber {
        let serial = try await tx.nextCounter("card-serial:\(config.cardIssuerPrefix)")
        return try CardNumber(issuerPrefix: config.cardIssuerPrefix, serial: serial)
    }

    func activateCard(_ request: Request, _ context: AppContext, number: String) async throws -> Response {
        let clerk = try context.staff()
        let (body, _) = try await JSON.decode(Schemas.ActivationRequest.self, from: request, limit: 16 * 1024)
        let card = try await store.read { tx in try await tx.existingCard(number) }
        guard let person = try await store.read({ tx in try await tx.person(id: card.personId) }) else {
            throw StoreError.corrupt("card \(number) lost its holder")
        }
        try PinPolicy.validate(body.pin, dateOfBirth: CivilDate(person.dateOfBirth))
        _ = try CardRules.transition(from: try card.checkedStatus(), .activate)  // refuse before paying for the hash
        let pinHash = try await PasswordHasher.hash(body.pin, cost: config.bcryptCost)
        let now = clock.nowMs()
        let dto = try await store.write { tx in
            let current = try await tx.existingCard(number)
            let next = try CardRules.transition(from: try current.checkedStatus(), .activate)
            guard try await tx.updateCardStatus(number: current.cardNumber, from: try current.checkedStatus(), to: next, atMs: now) else {
                throw DomainError.conflict("card.concurrent_change", "card \(number) changed meanwhile; retry")
            }
            try await tx.setCardPin(number: current.cardNumber, pinHash: pinHash)
            try await tx.setDebitsBlocked(ownerType: "person", ownerID: current.personId, blocked: false)
            try await tx.appendAudit(actor: clerk.auditName, action: "card.activate", objectType: "card", objectID: current.cardNumber, atMs: now)
            return try await CardViews.card(tx, try await tx.existingCard(number))
        }
        return try JSON.response(dto)
    }

    func changeCardStatus(_ context: AppContext, number: String, action: CardAction, audit: String) async throws -> Response {
        let staff = try context.staff()
        let now = clock.nowMs()
        let dto = try await store.write { tx in
            _ = try await Self.stopCard(tx, try await tx.existingCard(number), action, actor: staff.auditName, audit: audit, note: "", nowMs: now)
            return try await CardViews.card(tx, try await tx.existingCard(number))
        }
        return try JSON.response(dto)
    }

    /// A card reported lost or cancelled, by staff or by its holder, in one transaction: the
    /// state change, its credentials revoked, every debit of the holder's accounts blocked
    /// (reversals still post), the card on the next transit deny-list version, the audit record.
    static func stopCard(_ tx: StoreTx, _ card: CardRecord, _ action: CardAction, actor: String, audit: String, note: String,
                         nowMs: Int64) async throws -> CardStatus {
        let from = try card.checkedStatus()
        let next = try CardRules.transition(from: from, action)
        guard try await tx.updateCardStatus(number: card.cardNumber, from: from, to: next, atMs: nowMs) else {
            throw DomainError.conflict("card.concurrent_change", "card \(card.cardNumber) changed meanwhile; retry")
        }
        try await tx.revokeCredentials(cardNumber: card.cardNumber, atMs: nowMs)
        try await tx.setDebitsBlocked(ownerType: "person", ownerID: card.personId, blocked: true)
        try await TransitBilling.listCardChange(tx, card: card, to: next, nowMs: nowMs)
        if next == .lost {
            try await Inbox.post(tx, personID: card.personId, kind: .cardLost, plain: ["card": try CardNumber(validating: card.cardNumber).masked],
                                 link: (type: "card", id: try CardNumber(validating: card.cardNumber).masked), nowMs: nowMs)
        }
        try await tx.appendAudit(actor: actor, action: audit, objectType: "card", objectID: card.cardNumber,
                                 detail: "\(from.rawValue)->\(next.rawValue)\(note)", atMs: nowMs)
        return next
    }

    /// A new card number for the same person; the old card becomes `replaced`. Replacement does
    /// not need a valid permit: an ended permit suspends benefits but must never lock money away.
    func replaceCard(_ request: Request, _ context: AppContext, number: String) async throws -> Response {
        let (clerk, branchID) = try context.branchClerk()
        let bytes = try await request.body.collect(upTo: config.bodyBytesMax)
        let now = clock.nowMs()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: clerk.auditName, nowMs: now) { tx in
            let old = try await tx.existingCard(number)
            let from = try old.checkedStatus()
            let next = try CardRules.transition(from: from, .replace)
            guard try await tx.updateCardStatus(number: old.cardNumber, from: from, to: next, atMs: now) else {
                throw DomainError.conflict("card.concurrent_change", "card \(number) changed meanwhile; retry")
            }
            try await tx.revokeCredentials(cardNumber: old.cardNumber, atMs: now)
            try await TransitBilling.listCardChange(tx, card: old, to: next, nowMs: now)
            guard let person = try await tx.person(id: old.personId) else { throw StoreError.corrupt("card \(number) lost its holder") }
            let permitID = try await tx.latestPermit(number: person.permitNumber)?.id ?? old.permitId
            let replacement = try await newCardNumber(tx)
            try await tx.insertCard(number: replacement.value, personID: person.id, permitID: permitID, branchID: branchID,
                                    replaces: old.cardNumber, issuedBy: clerk.auditName, atMs: now)
            try await tx.setReplacedBy(number: old.cardNumber, replacement: replacement.value)
            if old.financialEnabledAtMs != nil, let documents = try await tx.financialDocuments(cardNumber: old.cardNumber) {
                try await tx.enableFinancialFunctions(number: replacement.value, documents: documents, atMs: now)
            }
            // A holder in transit debt gets the replacement card refused at gates too, until paid.
            try await TransitBilling.refreshDebtListing(tx, personID: person.id, nowMs: now)
            try await tx.appendAudit(actor: clerk.auditName, action: "card.replace", objectType: "card", objectID: old.cardNumber,
                                     detail: "replacement=\(replacement.value)", atMs: now)
            let card = try await CardViews.card(tx, try await tx.existingCard(replacement.value))
            return try .json(Schemas.Replacement(replacedCardNumber: old.cardNumber, card: card))
        }
    }

    func enableFinancialFunctions(_ request: Request, _ context: AppContext, number: String) async throws -> Response {
        let clerk = try context.staff()
        let (body, _) = try await JSON.decode(Schemas.FinancialFunctionsRequest.self, from: request, limit: config.bodyBytesMax)
        let tax = try body.taxCertificate.map {
            try TaxCertificate(number: $0.number, issuedOn: try API.date($0.issuedOn, field: "tax_certificate.issued_on"))
        }
        let residence = try body.residenceProof.map {
            try ResidenceProof(kind: $0.kind.rawValue, number: $0.number, validUntil: try API.date($0.validUntil, field: "residence_proof.valid_until"))
        }
        let today = clock.today
        let documents = try CardRules.checkFinancialDocuments(tax: tax, residence: residence, today: today)
        let now = clock.nowMs()
        let dto = try await store.write { tx in
            let card = try await tx.existingCard(number)
            let status = try card.checkedStatus()
            guard status == .issued || status == .active else {
                throw DomainError.rule("card.not_active", "card \(number) is \(status.rawValue); financial functions need an issued or active card")
            }
            guard card.financialEnabledAtMs == nil else {
                throw DomainError.conflict("card.financial_functions_enabled", "financial functions are already enabled on card \(number)")
            }
            guard let permit = try await tx.permit(id: card.permitId), permit.status(today: today) == .valid else {
                throw DomainError.rule("permit.not_valid", "financial functions need a valid work permit")
            }
            try await tx.enableFinancialFunctions(number: card.cardNumber,
                                                  documents: FinancialDocuments(taxCertificate: documents.tax, residenceProof: documents.residence), atMs: now)
            _ = try await tx.openAccount(kind: .financial, ownerType: "person", ownerID: card.personId, atMs: now)
            try await tx.appendAudit(actor: clerk.auditName, action: "card.enable_financial_functions", objectType: "card",
                                     objectID: card.cardNumber, atMs: now)
            return try await CardViews.card(tx, try await tx.existingCard(number))
        }
        return try JSON.response(dto)
    }
}

extension StoreTx {
    /// The card with this number, or 404 (also for a malformed number).
    func existingCard(_ number: String) async throws -> CardRecord {
        guard let valid = try? CardNumber(validating: number), let card = try await card(number: valid.value) else {
            throw DomainError.notFound("card.not_found", "no card \(number.prefix(40))")
        }
        return card
    }
}

extension CardRecord {
    /// The stored status as the domain type (a value the code does not know is corrupt data).
    func checkedStatus() throws -> CardStatus {
        guard let status = cardStatus else { throw StoreError.corrupt("card \(cardNumber) has status \(status)") }
        return status
    }
}

/// The card as the API shows it to bank staff.
enum CardViews {
    static func card(_ tx: StoreTx, _ card: CardRecord) async throws -> Schemas.Card {
        guard let person = try await tx.person(id: card.personId) else { throw StoreError.corrupt("card \(card.cardNumber) lost its holder") }
        return Schemas.Card(cardNumber: card.cardNumber, status: try API.value(card.status), holderName: person.fullName,
                            permitNumber: person.permitNumber, branchId: card.branchId, financialFunctions: card.financialEnabledAtMs != nil,
                            pinSet: card.pinHash != nil, replacesCardNumber: card.replacesCardNumber,
                            replacedByCardNumber: card.replacedByCardNumber, issuedAt: API.instant(ms: card.issuedAtMs),
                            statusChangedAt: API.instant(ms: card.statusChangedAtMs))
    }
}
