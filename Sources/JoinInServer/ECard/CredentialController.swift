import Crypto
import Foundation
import JoinInAPI
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore
import NIOCore

/// The permit as an offline-verifiable credential (issue, publish keys and status lists, verify)
/// and the dynamic QR (issue, redeem as an identity check).
struct CredentialController: Sendable {
    /// Each status list covers this many credentials (1 bit each: 12.5 KiB uncompressed).
    static let statusListCapacity = 100_000
    static let statusListSeconds: Int64 = 300

    let store: Store
    let config: ServerConfig
    let clock: AppClock
    let keys: CredentialKeys
    let dynamicCodes: DynamicCodes

    var nowSeconds: Int64 { clock.nowMs() / 1000 }

    func register(_ r: inout RouteRegistrar) {
        r.on(.get, "/.well-known/jwks.json", .anyone) { _, _ in
            let jwks = keys.jwks(nowSeconds: nowSeconds)
            return Response(status: .ok, headers: [.contentType: "application/jwk-set+json", .cacheControl: "max-age=300"],
                            body: .init(byteBuffer: ByteBuffer(bytes: jwks.serialized())))
        }
        r.on(.get, "/v1/credential-status/{list_id}", Access.anyone.objects(.open(because: "status lists are published for offline verifiers"))) {
            _, context in
            let listID = try context.parameters.require("list_id")
            guard (1...12).contains(listID.count), listID.allSatisfy(\.isASCIIDigit) else {
                throw DomainError.notFound("status_list.not_found", "no status list \(listID.prefix(20))")
            }
            let (exists, revoked) = try await store.read { tx in try await tx.revokedIndexes(listID: listID) }
            guard exists else { throw DomainError.notFound("status_list.not_found", "no status list \(listID)") }
            var list = StatusList(capacity: Self.statusListCapacity)
            for index in revoked { list.setStatus(1, at: index) }
            let now = nowSeconds
            let token = try StatusListToken.sign(list: list, uri: statusListURI(listID), issuedAt: now, expiresAt: now + Self.statusListSeconds,
                                                 ttl: Self.statusListSeconds, kid: keys.signing.kid, key: keys.signing.privateKey)
            return Response(status: .ok, headers: [.contentType: "application/statuslist+jwt", .cacheControl: "max-age=60"],
                            body: .init(byteBuffer: ByteBuffer(string: token)))
        }
        r.on(.post, "/v1/credential-verifications", .anyone) { request, _ in
            let (body, _) = try await JSON.decode(Schemas.CredentialVerificationRequest.self, from: request, limit: 32 * 1024)
            let result = try await verifyOnline(body.credential)
            return try JSON.response(Schemas.CredentialVerification(verdict: try API.value(result.verdict.rawValue), reason: result.reason,
                                                                    claims: try result.claims.map(Self.claims)))
        }
        r.on(.get, "/v1/ecard/permit-credential", .cardholder) { _, context in try await issueCredential(context) }
        r.on(.post, "/v1/ecard/dynamic-codes", .cardholder) { _, context in try await issueDynamicCode(context) }
        r.on(.post, "/v1/identity-checks", Access.staff(.admin, .permitOfficer, .bankClerk, .departmentClerk).or(.anyTerminal)) {
            request, context in
            try await checkIdentity(request, context)
        }
    }

    func statusListURI(_ listID: String) -> String { config.publicURL + "/v1/credential-status/" + listID }

    /// Verifies against the live keys and the current revocation state (no status-list fetch needed).
    func verifyOnline(_ credential: String) async throws -> PermitCredential.Result {
        let now = nowSeconds
        let offline = PermitCredential.verify(credential, keys: keys.verificationKeys(nowSeconds: now), statusList: nil, now: now)
        guard offline.verdict == .valid, let claims = offline.claims else { return offline }
        let listID = claims.statusURI.hasPrefix(statusListURI("")) ? String(claims.statusURI.dropFirst(statusListURI("").count)) : ""
        let (_, revoked) = try await store.read { tx in try await tx.revokedIndexes(listID: listID) }
        if revoked.contains(claims.statusIndex) {
            return PermitCredential.Result(verdict: .revoked, claims: claims, reason: "the credential has been revoked")
        }
        return offline
    }

    func issueCredential(_ context: AppContext) async throws -> Response {
        let holder = try context.cardholder()
        let now = clock.nowMs()
        let today = clock.today
        let signing = keys.signing
        let dto = try await store.write { tx -> Schemas.PermitCredential in
            let (permit, parties, card) = try await tx.holderPermitAndCard(holder)
            let status = permit.status(today: today)
            guard status == .valid, let validUntil = CivilDate(permit.validUntil), let validFrom = CivilDate(permit.validFrom) else {
                throw DomainError.rule("permit.not_valid", "your work permit is \(status.rawValue); no credential can be issued")
            }
            // A lost card's credentials are revoked; a new credential then shows no card.
            let shownCard = card.flatMap { $0.cardStatus == .active || $0.cardStatus == .issued ? $0 : nil }
            let entry = try await tx.credentialStatus(permitID: permit.id, cardNumber: shownCard?.cardNumber ?? "",
                                                      listCapacity: Self.statusListCapacity, atMs: now)
            guard entry.revoked == 0 else {
                throw DomainError.rule("credential.revoked", "credentials for this permit and card have been revoked")
            }
            let issuedAt = now / 1000
            let expiresAt = ECardRules.credentialExpiry(nowSeconds: issuedAt, validUntil: validUntil)
            let claims = PermitClaims(
                issuer: config.publicURL, permitNumber: permit.permitNumber, issuedAt: issuedAt, expiresAt: expiresAt,
                surname: parties.holderSurname, givenNames: parties.holderGivenNames, chineseName: parties.holderChineseName,
                nationality: parties.holderNationality,
                category: permit.category, employer: parties.employerName, validFrom: validFrom, validUntil: validUntil,
                maskedCardNumber: try shownCard.map { try CardNumber(validating: $0.cardNumber).masked },
                statusIndex: Int(entry.idx), statusURI: statusListURI(entry.listId))
            let credential = try PermitCredential.issue(claims, kid: signing.kid, key: signing.privateKey)
            return Schemas.PermitCredential(credential: credential, expiresAt: API.instant(ms: expiresAt * 1000))
        }
        return try JSON.response(dto, headers: [.cacheControl: "no-store"])
    }

    /// A signed, short-lived, single-use token naming the cardholder: shown as a QR at counters.
    func issueDynamicCode(_ context: AppContext) async throws -> Response {
        let holder = try context.cardholder()
        let card = try await store.read { tx in try await tx.liveCard(personID: holder.personID) }
        guard let card, card.cardStatus == .active else {
            throw DomainError.rule("card.not_active", "a dynamic code needs an active card")
        }
        let issuedAt = nowSeconds
        let expiresAt = issuedAt + ECardRules.dynamicCodeSeconds
        let payload = JSONValue.object([
            ("sub", .string(holder.id)), ("jti", .string(Tokens.make(prefix: ""))),
            ("iat", .number(issuedAt)), ("exp", .number(expiresAt)),
        ])
        let code = try JWS.sign(payload: payload.serialized(), kid: keys.signing.kid, typ: DynamicCodes.typ, key: keys.signing.privateKey)
        return try JSON.response(Schemas.DynamicCode(code: code, expiresAt: API.instant(ms: expiresAt * 1000)),
                                 status: .created, headers: [.cacheControl: "no-store"])
    }

    /// Redeems a dynamic code once: a terminal or a staff member learns who is in front of them.
    func checkIdentity(_ request: Request, _ context: AppContext) async throws -> Response {
        let principal = try context.admitted()
        let (body, _) = try await JSON.decode(Schemas.IdentityCheckRequest.self, from: request, limit: 16 * 1024)
        let code = try dynamicCodes.read(body.code)
        let nowMs = clock.nowMs()
        let today = clock.today
        let dto = try await store.write { tx -> Schemas.IdentityCheckResult in
            try await dynamicCodes.redeem(tx, code, by: principal.auditName, nowMs: nowMs)
            guard let holder = try await tx.cardholder(id: code.holderID), let person = try await tx.person(id: holder.personId),
                  let permit = try await tx.latestPermit(number: holder.permitNumber) else {
                throw DomainError.rule("code.invalid", "the code names no cardholder")
            }
            guard let card = try await tx.liveCard(personID: person.id), card.cardStatus == .active else {
                throw DomainError.rule("card.not_active", "the holder's card is not active (lost, frozen or not yet activated)")
            }
            try await tx.appendAudit(actor: principal.auditName, action: "identity.check", objectType: "cardholder", objectID: holder.id,
                                     atMs: nowMs)
            return Schemas.IdentityCheckResult(
                surname: person.surname, givenNames: person.givenNames, chineseName: person.chineseName, nationality: person.nationality,
                permitNumber: permit.permitNumber, permitStatus: try API.value(permit.status(today: today).rawValue),
                permitValidUntil: permit.validUntil, cardStatus: try API.value(card.status),
                card: try CardNumber(validating: card.cardNumber).masked)
        }
        return try JSON.response(dto)
    }

    static func claims(_ claims: PermitClaims) throws -> Schemas.CredentialClaims {
        Schemas.CredentialClaims(
            permitNumber: claims.permitNumber, surname: claims.surname, givenNames: claims.givenNames, chineseName: claims.chineseName,
            nationality: claims.nationality, category: try API.value(claims.category), employer: API.name(claims.employer),
            validFrom: claims.validFrom.description, validUntil: claims.validUntil.description, card: claims.maskedCardNumber,
            issuedAt: API.instant(ms: claims.issuedAt * 1000), expiresAt: API.instant(ms: claims.expiresAt * 1000))
    }
}
