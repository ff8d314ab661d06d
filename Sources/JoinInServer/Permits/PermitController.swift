import Foundation
import JoinInAPI
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore

/// Work-permit applications and permits: employers file, permit officers check originals and
/// issue on the spot, both read (an employer only its own).
struct PermitController: Sendable {
    let store: Store
    let config: ServerConfig
    let clock: AppClock

    static let ownApplications = ObjectScope.owned(by: "an employer account sees only its own employer's applications")
    static let ownPermits = ObjectScope.owned(by: "an employer account sees only the permits its employer holds")
    static let officersDecide = ObjectScope.open(because: "permit officers check originals and decide on any application or permit")

    func register(_ r: inout RouteRegistrar) {
        r.on(.post, "/v1/permit-applications", .staff(.employer)) { request, context in try await submitApplication(request, context) }
        r.on(.get, "/v1/permit-applications", .staff(.employer, .permitOfficer)) { request, context in
            try await listApplications(request, context)
        }
        r.on(.get, "/v1/permit-applications/{id}", Access.staff(.employer, .permitOfficer).objects(Self.ownApplications)) { request, context in
            let staff = try context.staff()
            let id = try context.parameters.require("id")
            let application = try await store.read { tx in try await visibleApplication(tx, id: id, to: staff) }
            let permitNumber = try await store.read { tx in try await application.permitID.asyncMap { try await tx.permit(id: $0)?.permitNumber } } ?? nil
            return try JSON.response(try Self.application(application, permitNumber: permitNumber, for: staff))
        }
        r.on(.post, "/v1/permit-applications/{id}/originals-verification", Access.staff(.permitOfficer).objects(Self.officersDecide)) {
            request, context in
            try await verifyOriginals(request, context, id: try context.parameters.require("id"))
        }
        r.on(.get, "/v1/permits", .staff(.permitOfficer, .employer)) { request, context in try await listPermits(request, context) }
        r.on(.get, "/v1/permits/{number}", Access.staff(.permitOfficer, .employer).objects(Self.ownPermits)) { request, context in
            let staff = try context.staff()
            let number = try context.parameters.require("number")
            let dto = try await store.read { tx in
                try await PermitViews.permit(tx, try await visiblePermit(tx, number: number, to: staff), today: clock.today)
            }
            return try JSON.response(dto)
        }
        r.on(.get, "/v1/permits/{number}/decision-letter", Access.staff(.permitOfficer, .employer).objects(Self.ownPermits)) { request, context in
            let staff = try context.staff()
            let number = try context.parameters.require("number")
            let html = try await store.read { tx in
                let permit = try await visiblePermit(tx, number: number, to: staff)
                // Only the officer's print carries the e-card activation code: the employer must not
                // be able to register the holder's account.
                let code = staff.role == .permitOfficer
                    ? try await tx.activationCode(permitID: permit.id).map(ECardRules.formatActivationCode) : nil
                return DecisionLetter.html(try await PermitViews.permit(tx, permit, today: clock.today), activationCode: code)
            }
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                            body: .init(byteBuffer: .init(string: html)))
        }
        r.on(.post, "/v1/permits/{number}/cancellation", Access.staff(.permitOfficer).objects(Self.officersDecide)) { request, context in
            let officer = try context.staff()
            let number = try context.parameters.require("number")
            let (body, _) = try await JSON.decode(Schemas.CancellationRequest.self, from: request, limit: config.bodyBytesMax)
            let reason = try PermitRules.validatedReason(body.reason, required: true) ?? ""
            let now = clock.nowMs()
            let dto = try await store.write { tx in
                let permit = try await visiblePermit(tx, number: number, to: officer)
                guard permit.cancelledAtMs == nil else {
                    throw DomainError.conflict("permit.already_cancelled", "permit \(number) is already cancelled")
                }
                try await tx.cancelPermit(id: permit.id, by: officer.auditName, reason: reason, atMs: now)
                try await tx.revokeCredentials(permitID: permit.id, atMs: now)
                try await tx.appendAudit(actor: officer.auditName, action: "permit.cancel", objectType: "permit", objectID: number,
                                         detail: reason, atMs: now)
                guard let cancelled = try await tx.permit(id: permit.id) else {
                    throw DomainError.notFound("permit.not_found", "no permit \(number)")
                }
                return try await PermitViews.permit(tx, cancelled, today: clock.today)
            }
            return try JSON.response(dto)
        }
    }

    // MARK: applications

    func submitApplication(_ request: Request, _ context: AppContext) async throws -> Response {
        let staff = try context.staff()
        guard let employerID = staff.employerID else {
            throw DomainError.forbidden("auth.forbidden", "this employer account is not bound to an employer")
        }
        let (body, bytes) = try await JSON.decode(Schemas.NewApplicationRequest.self, from: request, limit: config.bodyBytesMax)
        let today = clock.today
        let person = ApplicantDeclaration(
            passportNumber: try PassportNumber(validating: body.person.passportNumber),
            nationality: try CountryCode(validating: body.person.nationality.rawValue),
            surname: try PermitRules.validatedName(body.person.surname, field: "person.surname", allowEmpty: false),
            givenNames: try PermitRules.validatedName(body.person.givenNames, field: "person.given_names", allowEmpty: true),
            chineseName: try PermitRules.validatedChineseName(body.person.chineseName),
            dateOfBirth: try API.date(body.person.dateOfBirth, field: "person.date_of_birth"), sex: try API.domain(body.person.sex))
        let terms = ApplicationTerms(position: body.position.trimmingWhitespace(), category: try API.domain(body.category),
                                     contractStart: try API.date(body.contractStart, field: "contract_start"),
                                     contractEnd: try API.date(body.contractEnd, field: "contract_end"),
                                     documents: try body.documents.map { try API.domain($0) })
        try PermitRules.validate(person: person, terms: terms, today: today)
        var mrzText: String?
        if let raw = body.person.mrz {
            guard raw.scalarCount <= 200 else { throw DomainError.malformed("mrz.format", "person.mrz must be two lines of 44 characters") }
            let mrz = try MachineReadableZone.parse(raw, today: today)
            try PermitRules.checkAgreement(person: person, mrz: mrz, today: today)
            mrzText = raw.trimmingWhitespace()
        }
        let id = newID()
        let now = clock.nowMs()
        let mrzStored = mrzText
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: staff.auditName, nowMs: now) { tx in
            try await tx.insertApplication(id: id, employerID: employerID, person: person, mrz: mrzStored, terms: terms,
                                           createdBy: staff.auditName, atMs: now)
            try await tx.appendAudit(actor: staff.auditName, action: "permit_application.submit", objectType: "permit_application",
                                     objectID: id, atMs: now)
            guard let stored = try await tx.application(id: id) else {
                throw DomainError.notFound("application.not_found", "no application \(id)")
            }
            return try .json(try Self.application(stored, permitNumber: nil, for: staff))
        }
    }

    func listApplications(_ request: Request, _ context: AppContext) async throws -> Response {
        let staff = try context.staff()
        let list = try ListParameters(request)
        let query = request.uri.queryParameters
        var filter = ApplicationFilter()
        if let status = query["status"] {
            guard let value = ApplicationStatus(rawValue: String(status)) else {
                throw DomainError.malformed("list.filter_invalid",
                                            "status must be one of \(ApplicationStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            filter.status = value
        }
        if staff.role == .employer {
            filter.employerID = staff.employerID ?? "-"
        } else if let employer = query["employer_id"] {
            filter.employerID = String(employer)
        }
        let cursor = try list.cursor.map(PageCursor.parse)
        let chosen = filter
        let rows = try await store.read { tx in try await tx.applications(filter: chosen, before: cursor, limit: list.limit + 1) }
        let (page, next) = list.page(rows) { PageCursor(timeMs: $0.createdAtMs, id: $0.id).encoded }
        let items = try await store.read { tx in
            var items: [Schemas.Application] = []
            for application in page {
                let number = try await application.permitID.asyncMap { try await tx.permit(id: $0)?.permitNumber } ?? nil
                items.append(try Self.application(application, permitNumber: number, for: staff))
            }
            return items
        }
        return try JSON.response(Schemas.ApplicationPage(items: items, nextCursor: next))
    }

    /// An employer sees only its own applications; anything else is "not found".
    func visibleApplication(_ tx: StoreTx, id: String, to staff: StaffPrincipal) async throws -> ApplicationRecord {
        guard let application = try await tx.application(id: id),
              staff.role == .permitOfficer || (staff.role == .employer && application.employerID == staff.employerID) else {
            throw DomainError.notFound("application.not_found", "no permit application \(id)")
        }
        return application
    }

    static func application(_ application: ApplicationRecord, permitNumber: String?, for staff: StaffPrincipal) throws -> Schemas.Application {
        let person = application.person
        return Schemas.Application(
            id: application.id, employerId: application.employerID, status: try API.value(application.status.rawValue),
            person: Schemas.Applicant(
                passportNumber: staff.role == .permitOfficer ? person.passportNumber.value : person.passportNumber.masked,
                nationality: person.nationality.alpha3, surname: person.surname, givenNames: person.givenNames,
                chineseName: person.chineseName, dateOfBirth: person.dateOfBirth.description, sex: try API.value(person.sex.rawValue)),
            position: application.terms.position, category: try API.value(application.terms.category.rawValue),
            contractStart: application.terms.contractStart.description, contractEnd: application.terms.contractEnd.description,
            documents: try application.terms.documents.map { try API.value($0.rawValue) },
            checkedDocuments: try application.checkedDocuments?.map { try API.value($0.rawValue) },
            decisionReason: application.decisionReason, permitNumber: permitNumber,
            createdAt: API.instant(ms: application.createdAtMs), decidedAt: application.decidedAtMs.map(API.instant))
    }

    // MARK: issuing on the spot

    func verifyOriginals(_ request: Request, _ context: AppContext, id: String) async throws -> Response {
        let officer = try context.staff()
        let (body, bytes) = try await JSON.decode(Schemas.VerificationRequest.self, from: request, limit: config.bodyBytesMax)
        let checked: [DocumentKind] = try body.checkedDocuments.map { try API.domain($0) }
        let reason = try PermitRules.validatedReason(body.reason, required: body.decision == .reject)
        let now = clock.nowMs()
        let today = clock.today
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: officer.auditName, nowMs: now) { tx in
            let application = try await visibleApplication(tx, id: id, to: officer)
            guard application.status == .submitted else {
                throw DomainError.conflict("application.already_decided", "application \(id) is already \(application.status.rawValue)")
            }
            guard Set(checked).count == checked.count else {
                throw DomainError.malformed("verification.documents_duplicate", "checked_documents lists a kind more than once")
            }
            let unlisted = Set(checked).subtracting(application.terms.documents).map(\.rawValue).sorted()
            guard unlisted.isEmpty else {
                throw DomainError.malformed("verification.document_not_listed",
                                            "checked_documents names documents the application did not list: \(unlisted.joined(separator: ", "))")
            }
            switch body.decision {
            case .reject:
                try await tx.recordApplicationDecision(id: id, status: .rejected, checkedDocuments: checked, reason: reason,
                                                       permitID: nil, decidedBy: officer.auditName, atMs: now)
                try await tx.appendAudit(actor: officer.auditName, action: "permit_application.reject", objectType: "permit_application",
                                         objectID: id, detail: reason ?? "", atMs: now)
                guard let stored = try await tx.application(id: id) else { throw DomainError.notFound("application.not_found", id) }
                return try .json(try Self.application(stored, permitNumber: nil, for: officer), status: .ok)
            case .issue:
                try PermitRules.checkOriginals(listed: application.terms.documents, checked: checked)
                let permit = try await issuePermit(tx, application: application, checked: checked, reason: reason,
                                                   officer: officer, nowMs: now, today: today)
                let code = Self.newActivationCode()
                try await tx.setActivationCode(permitID: permit.id, code: code)
                return try .json(Schemas.Issued(applicationId: id, status: .issued, permit: try await PermitViews.permit(tx, permit, today: today),
                                                activationCode: ECardRules.formatActivationCode(code)),
                                 headers: ["Cache-Control": "no-store"])
            }
        }
    }

    /// Issues the permit in the officer's transaction: finds or creates the person (the permit
    /// number is theirs for life), computes validity, records the decision letter.
    func issuePermit(_ tx: StoreTx, application: ApplicationRecord, checked: [DocumentKind], reason: String?,
                     officer: StaffPrincipal, nowMs: Int64, today: CivilDate) async throws -> PermitRecord {
        if let mrz = application.mrz {
            try PermitRules.checkAgreement(person: application.person, mrz: try MachineReadableZone.parse(mrz, today: today), today: today)
        }
        let terms = application.terms
        let validity = try PermitRules.validity(category: terms.category, contractStart: terms.contractStart,
                                                contractEnd: terms.contractEnd, issueDate: today)
        guard let employer = try await tx.employer(id: application.employerID) else {
            throw DomainError.rule("employer.not_found", "the application's employer no longer exists")
        }
        let person = application.person
        let personID: String
        let permitNumber: String
        if let existing = try await tx.person(passportIndex: application.passportIndex) {
            guard existing.nationality == person.nationality.alpha3, existing.dateOfBirth == person.dateOfBirth.description else {
                throw DomainError.conflict("person.identity_conflict",
                                           "the passport is on record for a person with another nationality or date of birth")
            }
            if let current = try await tx.latestPermit(number: existing.permitNumber),
               [.valid, .pending].contains(current.status(today: today)) {
                throw DomainError.conflict("permit.already_valid",
                                           "this person already holds permit \(existing.permitNumber) valid until \(current.validUntil); cancel it first")
            }
            try await tx.updatePersonNames(id: existing.id, surname: person.surname, givenNames: person.givenNames,
                                           chineseName: person.chineseName ?? existing.chineseName)
            personID = existing.id
            permitNumber = existing.permitNumber
        } else {
            let serial = try await tx.nextCounter("permit-number:\(employer.cityCode):\(today.year)")
            let number = try PermitNumber(cityCode: employer.cityCode, year: today.year, serial: Int(serial))
            personID = newID()
            permitNumber = number.value
            try await tx.insertPerson(id: personID, person: person, permitNumber: number, atMs: nowMs)
        }
        let letterSerial = try await tx.nextCounter("decision-letter:\(today.year)")
        let letterNumber = "WPD-\(today.year)-" + String(repeating: "0", count: max(0, 8 - String(letterSerial).count)) + String(letterSerial)
        let permit = PermitRecord(
            id: newID(), permitNumber: permitNumber, personId: personID, applicationId: application.id, employerId: employer.id,
            position: terms.position, category: terms.category.rawValue, validFrom: validity.validFrom.description,
            validUntil: validity.validUntil.description, decisionLetterNumber: letterNumber, issuedBy: officer.auditName,
            issuedAtMs: nowMs, cancelledAtMs: nil, cancelledBy: nil, cancelReason: nil)
        try await tx.insertPermit(permit)
        try await tx.recordApplicationDecision(id: application.id, status: .issued, checkedDocuments: checked, reason: reason,
                                               permitID: permit.id, decidedBy: officer.auditName, atMs: nowMs)
        try await tx.appendAudit(actor: officer.auditName, action: "permit.issue", objectType: "permit", objectID: permitNumber,
                                 detail: "application=\(application.id) letter=\(letterNumber)", atMs: nowMs)
        return permit
    }

    static func newActivationCode() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = ECardRules.activationAlphabet
        return String((0..<ECardRules.activationLength).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    // MARK: permits

    func listPermits(_ request: Request, _ context: AppContext) async throws -> Response {
        let staff = try context.staff()
        let list = try ListParameters(request)
        let query = request.uri.queryParameters
        var filter = PermitFilter()
        let today = clock.today
        if let status = query["status"] {
            switch PermitStatus(rawValue: String(status)) {
            case .valid: filter.validOn = today
            case .pending: filter.pendingOn = today
            case .expired: filter.expiredOn = today
            case .cancelled: filter.cancelled = true
            case nil:
                throw DomainError.malformed("list.filter_invalid", "status must be one of pending, valid, expired, cancelled")
            }
        }
        if staff.role == .employer {
            filter.employerID = staff.employerID ?? "-"
        } else if let employer = query["employer_id"] {
            filter.employerID = String(employer)
        }
        let cursor = try list.cursor.map(PageCursor.parse)
        let chosen = filter
        let (items, next) = try await store.read { tx in
            let rows = try await tx.permits(filter: chosen, before: cursor, limit: list.limit + 1)
            let (page, next) = list.page(rows) { PageCursor(timeMs: $0.issuedAtMs, id: $0.id).encoded }
            var items: [Schemas.Permit] = []
            for permit in page { items.append(try await PermitViews.permit(tx, permit, today: today)) }
            return (items, next)
        }
        return try JSON.response(Schemas.PermitPage(items: items, nextCursor: next))
    }

    /// Officers see every permit; an employer only the permits it holds.
    func visiblePermit(_ tx: StoreTx, number: String, to staff: StaffPrincipal) async throws -> PermitRecord {
        guard let permitNumber = try? PermitNumber(validating: number),
              let permit = try await tx.latestPermit(number: permitNumber.value),
              staff.role == .permitOfficer || (staff.role == .employer && permit.employerId == staff.employerID) else {
            throw DomainError.notFound("permit.not_found", "no permit \(number.prefix(40))")
        }
        return permit
    }
}

/// The permit as the API shows it (permits, the e-card, decision letters).
enum PermitViews {
    static func permit(_ tx: StoreTx, _ permit: PermitRecord, today: CivilDate) async throws -> Schemas.Permit {
        try await self.permit(tx, permit, status: permit.status(today: today))
    }

    /// The permit with a status the caller has already computed (and uses for its own decision).
    static func permit(_ tx: StoreTx, _ permit: PermitRecord, status: PermitStatus) async throws -> Schemas.Permit {
        guard let parties = try await tx.permitParties(permit) else {
            throw StoreError.corrupt("permit \(permit.permitNumber) lost its person or employer")
        }
        return try self.permit(permit, parties, status: status)
    }

    /// The permit with its holder and employer already read (`latestPermitWithParties`).
    static func permit(_ permit: PermitRecord, _ parties: PermitParties, status: PermitStatus) throws -> Schemas.Permit {
        Schemas.Permit(
            number: permit.permitNumber, category: try API.value(permit.category),
            employer: Schemas.EmployerRef(id: permit.employerId, name: API.name(parties.employerName)),
            position: permit.position, validFrom: permit.validFrom, validUntil: permit.validUntil,
            status: try API.value(status.rawValue), decisionLetterNumber: permit.decisionLetterNumber,
            holder: try holder(parties), issuedAt: API.instant(ms: permit.issuedAtMs), cancelledAt: permit.cancelledAtMs.map(API.instant),
            cancelReason: permit.cancelReason)
    }

    static func holder(_ parties: PermitParties) throws -> Schemas.Holder {
        Schemas.Holder(surname: parties.holderSurname, givenNames: parties.holderGivenNames, chineseName: parties.holderChineseName,
                       nationality: parties.holderNationality, dateOfBirth: parties.holderDateOfBirth, sex: try API.value(parties.holderSex))
    }
}
