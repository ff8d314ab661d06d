import Foundation
import JoinInAPI
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore

/// The cardholder's e-card account: registration with permit number, name and activation code,
/// sign-in, the holder's own view of permit and card, password change, loss report.
struct ECardController: Sendable {
    static let cardholderSessionSeconds = 30 * 24 * 3600

    let store: Store
    let config: ServerConfig
    let clock: AppClock
    let passwords: Passwords
    let attempts: AttemptGuard

    func register(_ r: inout RouteRegistrar) {
        r.on(.post, "/v1/ecard/registrations", .anyone) { request, _ in try await registerCardholder(request) }
        r.on(.post, "/v1/ecard/sessions", .anyone) { request, context in
            let (body, _) = try await JSON.decode(Schemas.ECardSignInRequest.self, from: request, limit: 16 * 1024)
            guard let number = try? PermitNumber(validating: body.permitNumber), (1...PasswordPolicy.lengthMax).contains(body.password.scalarCount) else {
                throw DomainError.malformed("auth.credentials_malformed", "permit_number must be a work permit number and password 1-128 characters")
            }
            let session = try await passwords.signIn(
                kind: "cardholder", account: number.value, password: body.password, source: context.remoteAddress,
                sessionSeconds: Self.cardholderSessionSeconds, tokenPrefix: Tokens.cardholderPrefix,
                wrongDetail: "permit number or password is wrong") { tx in
                    guard let holder = try await tx.cardholder(permitNumber: number.value) else { return nil }
                    return (holder.id, holder.passwordHash)
                }
            return try JSON.response(Schemas.ECardSession(token: session.token, expiresAt: API.instant(ms: session.expiresAtMs)),
                                     status: .created, headers: [.cacheControl: "no-store"])
        }
        r.on(.delete, "/v1/ecard/sessions/current", .cardholder) { _, context in
            let holder = try context.cardholder()
            let now = clock.nowMs()
            try await store.write { tx in
                try await tx.revokeSession(tokenHash: holder.tokenHash, atMs: now)
                try await tx.appendAudit(actor: holder.auditName, action: "cardholder.sign_out", objectType: "cardholder", objectID: holder.id, atMs: now)
            }
            return Response(status: .noContent)
        }
        r.on(.post, "/v1/ecard/me/password", .cardholder) { request, context in try await changeCardholderPassword(request, context) }
        // The e-card home: session, permit, person, employer and card in one lookup.
        r.lookup(.get, "/v1/ecard/me", .cardholder) { _, context, tx in
            let holder = try context.cardholder()
            let (permit, parties, card) = try await tx.holderPermitAndCard(holder)
            // The permit's status is computed once and both shown and used for the benefits.
            let status = permit.status(today: clock.today)
            let permitView = try PermitViews.permit(permit, parties, status: status)
            let benefits = ECardRules.benefits(permitStatus: status, cardStatus: card.flatMap(\.cardStatus))
            return try JSON.response(Schemas.ECardMe(person: permitView.holder, permit: permitView, card: try card.map(Self.card),
                                                     benefits: benefits.map(Self.benefit)),
                                     headers: [.cacheControl: "no-store"])
        }
        r.lookup(.get, "/v1/ecard/decision-letter", .cardholder) { _, context, tx in
            let holder = try context.cardholder()
            let (permit, parties) = try await tx.holderPermit(holder)
            let html = DecisionLetter.html(try PermitViews.permit(permit, parties, status: permit.status(today: clock.today)), activationCode: nil)
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: .init(string: html)))
        }
        r.on(.post, "/v1/ecard/card/loss-report", .cardholder) { _, context in
            let holder = try context.cardholder()
            let now = clock.nowMs()
            let dto = try await store.write { tx in
                guard let card = try await tx.liveCard(personID: holder.personID) else {
                    throw DomainError.rule("card.not_found", "you have no card to report lost")
                }
                let next = try await CardController.stopCard(tx, card, .reportLoss, actor: holder.auditName, audit: "card.report_loss",
                                                             note: " by holder", nowMs: now)
                return Schemas.ECardCard(maskedNumber: try CardNumber(validating: card.cardNumber).masked, status: try API.value(next.rawValue),
                                         financialFunctions: card.financialEnabledAtMs != nil)
            }
            return try JSON.response(dto)
        }
    }

    func registerCardholder(_ request: Request) async throws -> Response {
        let (body, _) = try await JSON.decode(Schemas.ECardRegistrationRequest.self, from: request, limit: 16 * 1024)
        let number = try PermitNumber(validating: body.permitNumber)
        guard (1...200).contains(body.name.scalarCount), (1...64).contains(body.activationCode.scalarCount) else {
            throw DomainError.malformed("registration.malformed", "name must be 1-200 and activation_code 1-64 characters")
        }
        try PasswordPolicy.validate(body.password, identifiers: [number.value])
        let counter = (key: "ecard-register:\(number.value)", policy: AttemptPolicy.backOff(free: LoginThrottle.failuresFree))
        let now = clock.nowMs()
        let today = clock.today
        // The attempt is reserved before the new password is hashed: a locked permit number is
        // refused without paying for bcrypt (otherwise every refused request would still cost a
        // full hash: unauthenticated CPU amplification).
        let reserved = try await attempts.reserve([counter])
        guard case .reserved(let reservation) = reserved else {
            if case .refused(let until) = reserved { throw Passwords.lockedOut(untilMs: until ?? now, nowMs: now) }
            throw Passwords.lockedOut(untilMs: now, nowMs: now)
        }
        let hash = try await PasswordHasher.hash(body.password, cost: config.bcryptCost)
        let id = newID()
        // One write checks the details and resolves the attempt: kept as a failure, or given
        // back with the account created. The outcome is returned rather than thrown so a counted
        // failure is not rolled back.
        enum Outcome: Sendable { case registered, failed(DomainError) }
        let outcome = try await store.write(isolation: .lockedRows) { tx -> Outcome in
            func fail(_ error: DomainError) async throws -> Outcome {
                let counters = try await tx.resolve(reservation, right: false, nowMs: now)
                try await tx.appendAudit(actor: "anonymous", action: "cardholder.register", objectType: "permit", objectID: number.value,
                                         outcome: "denied", detail: error.code, atMs: now)
                let locked = counters.map(\.lockedUntilMs).max() ?? 0
                return .failed(locked > now ? Passwords.lockedOut(untilMs: locked, nowMs: now) : error)
            }
            let mismatch = DomainError.rule("registration.details_mismatch",
                                            "the permit number, name and activation code do not match a valid work permit")
            guard let permit = try await tx.latestPermit(number: number.value), permit.status(today: today) == .valid,
                  let person = try await tx.person(id: permit.personId) else {
                return try await fail(mismatch)
            }
            guard try await tx.cardholder(personID: person.id) == nil else {
                try await tx.resolve(reservation, right: true, nowMs: now)
                return .failed(DomainError.conflict("ecard.already_registered",
                                                    "an e-card account already exists for permit \(number.value); sign in instead"))
            }
            guard let code = try await tx.activationCode(permitID: permit.id), ECardRules.codesMatch(body.activationCode, code),
                  ECardRules.nameMatches(body.name, surname: person.surname, givenNames: person.givenNames, chineseName: person.chineseName) else {
                return try await fail(mismatch)
            }
            try await tx.insertCardholder(id: id, personID: person.id, permitNumber: number.value, passwordHash: hash, atMs: now)
            try await tx.markActivationCodeUsed(permitID: permit.id, atMs: now)
            try await tx.clearLoginFailures(throttleKey: counter.key)
            try await tx.appendAudit(actor: "cardholder:\(id)", action: "cardholder.register", objectType: "cardholder", objectID: id,
                                     detail: "permit=\(number.value)", atMs: now)
            return .registered
        }
        if case .failed(let error) = outcome { throw error }
        return try JSON.response(Schemas.ECardRegistered(id: id, permitNumber: number.value), status: .created)
    }

    func changeCardholderPassword(_ request: Request, _ context: AppContext) async throws -> Response {
        let holder = try context.cardholder()
        return try await passwords.change(
            request, kind: "cardholder", id: holder.id, tokenHash: holder.tokenHash, identifiers: [holder.permitNumber],
            storedHash: { tx in try await tx.cardholder(id: holder.id)?.passwordHash },
            save: { tx, hash, now in try await tx.setCardholderPassword(id: holder.id, passwordHash: hash, atMs: now) })
    }

    /// A benefit as the API names it: a switch, not a lookup by raw value (the e-card home's
    /// hottest path; `ECardAPITests` checks every case against its raw value).
    static func benefit(_ benefit: ECardRules.Benefit) -> Schemas.ECardBenefit {
        switch benefit {
        case .medicalInsurance: .medicalInsurance
        case .transitFares: .transitFares
        case .libraryLoans: .libraryLoans
        case .freeEntry: .freeEntry
        case .merchantDiscounts: .merchantDiscounts
        case .governmentServices: .governmentServices
        case .localEvents: .localEvents
        }
    }

    /// The holder's card, its number masked.
    static func card(_ card: LiveCardSummary) throws -> Schemas.ECardCard {
        Schemas.ECardCard(maskedNumber: try CardNumber(validating: card.cardNumber).masked, status: try API.value(card.status),
                          financialFunctions: card.financialEnabledAtMs != nil)
    }
}

extension StoreTx {
    /// The holder's latest permit with its holder and employer, and live card (nil before a card
    /// is issued): one statement.
    func holderPermitAndCard(_ holder: CardholderPrincipal) async throws -> (permit: PermitRecord, parties: PermitParties, card: LiveCardSummary?) {
        guard let (permit, parties, card) = try await latestPermitWithPartiesAndLiveCard(number: holder.permitNumber, personID: holder.personID) else {
            throw StoreError.corrupt("cardholder \(holder.id) has no permit")
        }
        return (permit, parties, card)
    }

    /// The holder's latest permit with its holder and employer.
    func holderPermit(_ holder: CardholderPrincipal) async throws -> (permit: PermitRecord, parties: PermitParties) {
        guard let (permit, parties) = try await latestPermitWithParties(number: holder.permitNumber) else {
            throw StoreError.corrupt("cardholder \(holder.id) has no permit")
        }
        return (permit, parties)
    }
}
