import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore
import NIOCore

struct VerificationRequestBody: Decodable {
    let credential: String
}

struct VerificationDTO: Encodable {
    let verdict: String
    let reason: String
    let claims: CredentialClaimsDTO?
}

struct CredentialClaimsDTO: Encodable {
    let permitNumber: String
    let surname: String
    let givenNames: String
    let chineseName: String?
    let nationality: String
    let category: String
    let employer: LocalizedName
    let validFrom: String
    let validUntil: String
    let card: String?
    let issuedAt: String
    let expiresAt: String

    init(_ claims: PermitClaims) {
        permitNumber = claims.permitNumber
        surname = claims.surname
        givenNames = claims.givenNames
        chineseName = claims.chineseName
        nationality = claims.nationality
        category = claims.category
        employer = claims.employer
        validFrom = claims.validFrom.description
        validUntil = claims.validUntil.description
        card = claims.maskedCardNumber
        issuedAt = Timestamps.rfc3339(ms: claims.issuedAt * 1000)
        expiresAt = Timestamps.rfc3339(ms: claims.expiresAt * 1000)
    }
}

struct IdentityCheckBody: Decodable {
    let code: String
}

struct IdentityDTO: Encodable {
    let surname: String
    let givenNames: String
    let chineseName: String?
    let nationality: String
    let permitNumber: String
    let permitStatus: String
    let permitValidUntil: String
    let cardStatus: String
    let card: String
}

enum DynamicCode {
    static let typ = "joinin-dqr+jwt"
}

extension JoinIn {
    /// Each status list covers this many credentials (1 bit each: 12.5 KiB uncompressed).
    static let statusListCapacity = 100_000
    static let statusListSeconds: Int64 = 300

    var nowSeconds: Int64 { nowMs / 1000 }

    func registerCredentials(_ r: inout RouteRegistrar) {
        r.on(.get, "/.well-known/jwks.json") { _, _ in
            let jwks = keys.jwks(nowSeconds: nowSeconds)
            return Response(status: .ok, headers: [.contentType: "application/jwk-set+json", .cacheControl: "max-age=300"],
                            body: .init(byteBuffer: ByteBuffer(bytes: jwks.serialized())))
        }
        r.on(.get, "/v1/credential-status/{list_id}") { _, context in
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
        r.on(.post, "/v1/credential-verifications") { request, _ in
            let (body, _) = try await JSON.decode(VerificationRequestBody.self, from: request, limit: 32 * 1024)
            let result = try await verifyOnline(body.credential)
            return try JSON.response(VerificationDTO(verdict: result.verdict.rawValue, reason: result.reason,
                                                     claims: result.claims.map(CredentialClaimsDTO.init)))
        }
        r.on(.post, "/v1/identity-checks") { request, _ in try await checkIdentity(request) }
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

    func issueCredential(_ request: Request) async throws -> Response {
        let holder = try await auth.requireCardholder(request)
        let now = nowMs
        let today = today
        let signing = keys.signing
        let dto = try await store.write { tx -> CredentialDTO in
            let (permit, card) = try await holderPermitAndCard(tx, holder)
            let status = permit.status(today: today)
            guard status == .valid, let validUntil = CivilDate(permit.validUntil), let validFrom = CivilDate(permit.validFrom) else {
                throw DomainError.rule("permit.not_valid", "your work permit is \(status.rawValue); no credential can be issued")
            }
            guard let person = try await tx.person(id: permit.personId), let employer = try await tx.employer(id: permit.employerId) else {
                throw StoreError.corrupt("permit \(permit.permitNumber) lost its person or employer")
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
                surname: person.surname, givenNames: person.givenNames, chineseName: person.chineseName, nationality: person.nationality,
                category: permit.category, employer: employer.name, validFrom: validFrom, validUntil: validUntil,
                maskedCardNumber: try shownCard.map { try CardNumber(validating: $0.cardNumber).masked },
                statusIndex: Int(entry.idx), statusURI: statusListURI(entry.listId))
            let credential = try PermitCredential.issue(claims, kid: signing.kid, key: signing.privateKey)
            return CredentialDTO(credential: credential, expiresAt: Timestamps.rfc3339(ms: expiresAt * 1000))
        }
        return try JSON.response(dto, headers: [.cacheControl: "no-store"])
    }

    /// A signed, short-lived, single-use token naming the cardholder: shown as a QR at counters.
    func issueDynamicCode(_ request: Request) async throws -> Response {
        let holder = try await auth.requireCardholder(request)
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
        let code = try JWS.sign(payload: payload.serialized(), kid: keys.signing.kid, typ: DynamicCode.typ, key: keys.signing.privateKey)
        return try JSON.response(DynamicCodeDTO(code: code, expiresAt: Timestamps.rfc3339(ms: expiresAt * 1000)),
                                 status: .created, headers: [.cacheControl: "no-store"])
    }

    struct DynamicCodeClaims: Sendable {
        let holderID: String
        let nonce: String
        let expiresAt: Int64
    }

    /// Checks a dynamic code's signature (outside any transaction) and reads its claims.
    func readDynamicCode(_ text: String) throws -> DynamicCodeClaims {
        let verified: JWS.Verified
        do {
            verified = try JWS.verify(text, keys: keys.verificationKeys(nowSeconds: nowSeconds), expectedTyp: DynamicCode.typ)
        } catch {
            throw DomainError.rule("code.invalid", "the code is not a dynamic code this platform issued")
        }
        let claims = try? JSONValue.parse(verified.payload)
        guard let holderID = claims?["sub"]?.string, let nonce = claims?["jti"]?.string, let expiresAt = claims?["exp"]?.int else {
            throw DomainError.rule("code.invalid", "the code's contents are not readable")
        }
        return DynamicCodeClaims(holderID: holderID, nonce: nonce, expiresAt: expiresAt)
    }

    /// Uses a code up inside the caller's transaction: a second use is 409, an expired code 422.
    func redeem(_ tx: StoreTx, _ code: DynamicCodeClaims, by redeemer: String, nowMs: Int64) async throws {
        guard try await tx.redeemCode(nonce: code.nonce, cardholderID: code.holderID, by: redeemer, atMs: nowMs,
                                      expiresAtMs: code.expiresAt * 1000) else {
            throw DomainError.conflict("code.already_used", "this code was already redeemed; ask for a fresh one")
        }
        guard code.expiresAt > nowMs / 1000 else {
            throw DomainError.rule("code.expired", "the code expired; ask the holder to refresh it")
        }
    }

    /// Redeems a dynamic code once: a terminal or a staff member learns who is in front of them.
    func checkIdentity(_ request: Request) async throws -> Response {
        let principal = try await auth.authenticate(request)
        switch principal {
        case .staff(let staff):
            _ = try auth.checkStaff(staff, roles: [.admin, .permitOfficer, .bankClerk, .departmentClerk])
        case .terminal:
            break
        case .cardholder:
            throw DomainError.forbidden("auth.forbidden", "cardholders cannot redeem dynamic codes")
        }
        let (body, _) = try await JSON.decode(IdentityCheckBody.self, from: request, limit: 16 * 1024)
        let code = try readDynamicCode(body.code)
        let nowMs = nowMs
        let today = today
        let dto = try await store.write { tx -> IdentityDTO in
            try await redeem(tx, code, by: principal.auditName, nowMs: nowMs)
            guard let holder = try await tx.cardholder(id: code.holderID), let person = try await tx.person(id: holder.personId),
                  let permit = try await tx.latestPermit(number: holder.permitNumber) else {
                throw DomainError.rule("code.invalid", "the code names no cardholder")
            }
            guard let card = try await tx.liveCard(personID: person.id), card.cardStatus == .active else {
                throw DomainError.rule("card.not_active", "the holder's card is not active (lost, frozen or not yet activated)")
            }
            try await tx.appendAudit(actor: principal.auditName, action: "identity.check", objectType: "cardholder", objectID: holder.id,
                                     atMs: nowMs)
            return IdentityDTO(surname: person.surname, givenNames: person.givenNames, chineseName: person.chineseName,
                               nationality: person.nationality, permitNumber: permit.permitNumber,
                               permitStatus: permit.status(today: today).rawValue, permitValidUntil: permit.validUntil,
                               cardStatus: card.status, card: try CardNumber(validating: card.cardNumber).masked)
        }
        return try JSON.response(dto)
    }
}
