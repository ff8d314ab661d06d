public import JoinInCore
import SQLKit

/// A permit application as stored; the passport number and MRZ are decrypted on load.
public struct ApplicationRecord: Sendable, Equatable {
    public let id: String
    public let employerID: String
    public let status: ApplicationStatus
    public let person: ApplicantDeclaration
    public let passportIndex: String
    public let mrz: String?
    public let terms: ApplicationTerms
    public let checkedDocuments: [DocumentKind]?
    public let decisionReason: String?
    public let permitID: String?
    public let createdBy: String
    public let createdAtMs: Int64
    public let decidedBy: String?
    public let decidedAtMs: Int64?
}

struct ApplicationRow: Decodable {
    let id: String
    let employerId: String
    let status: String
    let passportIndex: String
    let passportEnc: String
    let mrzEnc: String?
    let nationality: String
    let surname: String
    let givenNames: String
    let chineseName: String?
    let dateOfBirth: String
    let sex: String
    let position: String
    let category: String
    let contractStart: String
    let contractEnd: String
    let documents: String
    let checkedDocuments: String?
    let decisionReason: String?
    let permitId: String?
    let createdBy: String
    let createdAtMs: Int64
    let decidedBy: String?
    let decidedAtMs: Int64?
}

/// What a permit's views and credentials show of its holder and employer (`permitParties`): the
/// person's names, nationality, birth date and sex, and the employer's names. Its columns carry
/// `holder_` and `employer_` prefixes, so they can sit beside a permit row's own.
public struct PermitParties: Sendable, Equatable, Decodable {
    public let holderSurname: String
    public let holderGivenNames: String
    public let holderChineseName: String?
    public let holderNationality: String
    public let holderDateOfBirth: String
    public let holderSex: String
    public let employerNameEn: String
    public let employerNameZh: String

    public var employerName: LocalizedName { LocalizedName(en: employerNameEn, zh: employerNameZh) }

    /// The select list, over `persons pe` and `employers e`.
    static let columns = """
        pe.surname AS holder_surname, pe.given_names AS holder_given_names, pe.chinese_name AS holder_chinese_name, \
        pe.nationality AS holder_nationality, pe.date_of_birth AS holder_date_of_birth, pe.sex AS holder_sex, \
        e.name_en AS employer_name_en, e.name_zh AS employer_name_zh
        """
}

public struct PersonRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let passportIndex: String
    public let nationality: String
    public let surname: String
    public let givenNames: String
    public let chineseName: String?
    public let dateOfBirth: String
    public let sex: String
    public let permitNumber: String
    public let createdAtMs: Int64

    public var fullName: String { givenNames.isEmpty ? surname : "\(surname) \(givenNames)" }
}

public struct PermitRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let permitNumber: String
    public let personId: String
    public let applicationId: String
    public let employerId: String
    public let position: String
    public let category: String
    public let validFrom: String
    public let validUntil: String
    public let decisionLetterNumber: String
    public let issuedBy: String
    public let issuedAtMs: Int64
    public let cancelledAtMs: Int64?
    public let cancelledBy: String?
    public let cancelReason: String?

    public init(id: String, permitNumber: String, personId: String, applicationId: String, employerId: String, position: String,
                category: String, validFrom: String, validUntil: String, decisionLetterNumber: String, issuedBy: String,
                issuedAtMs: Int64, cancelledAtMs: Int64?, cancelledBy: String?, cancelReason: String?) {
        self.id = id
        self.permitNumber = permitNumber
        self.personId = personId
        self.applicationId = applicationId
        self.employerId = employerId
        self.position = position
        self.category = category
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.decisionLetterNumber = decisionLetterNumber
        self.issuedBy = issuedBy
        self.issuedAtMs = issuedAtMs
        self.cancelledAtMs = cancelledAtMs
        self.cancelledBy = cancelledBy
        self.cancelReason = cancelReason
    }

    public func status(today: CivilDate) -> PermitStatus {
        guard let from = CivilDate(validFrom), let until = CivilDate(validUntil) else { return .expired }
        return PermitRules.status(validFrom: from, validUntil: until, cancelled: cancelledAtMs != nil, today: today)
    }
}

public struct ApplicationFilter: Sendable {
    public var employerID: String?
    public var status: ApplicationStatus?

    public init(employerID: String? = nil, status: ApplicationStatus? = nil) {
        self.employerID = employerID
        self.status = status
    }
}

public struct PermitFilter: Sendable {
    public var employerID: String?
    /// Stored state only: `cancelled` true/false; expiry is computed from dates by the caller.
    public var cancelled: Bool?
    public var validOn: CivilDate?
    public var expiredOn: CivilDate?
    public var pendingOn: CivilDate?

    public init(employerID: String? = nil, cancelled: Bool? = nil, validOn: CivilDate? = nil, expiredOn: CivilDate? = nil,
                pendingOn: CivilDate? = nil) {
        self.employerID = employerID
        self.cancelled = cancelled
        self.validOn = validOn
        self.expiredOn = expiredOn
        self.pendingOn = pendingOn
    }
}

extension StoreTx {
    public func insertApplication(id: String, employerID: String, person: ApplicantDeclaration, mrz: String?,
                                  terms: ApplicationTerms, createdBy: String, atMs: Int64) async throws {
        let passport = person.passportNumber.value
        let passportEnc = try seal(passport, column: "permit_applications.passport_enc")
        let mrzEnc = try mrz.map { try seal($0, column: "permit_applications.mrz_enc") }
        let documents = terms.documents.map(\.rawValue).joined(separator: ",")
        try await sql.raw("""
            INSERT INTO permit_applications (id, employer_id, status, passport_index, passport_enc, mrz_enc, nationality,
                surname, given_names, chinese_name, date_of_birth, sex, position, category, contract_start, contract_end,
                documents, created_by, created_at_ms)
            VALUES (\(bind: id), \(bind: employerID), \(bind: ApplicationStatus.submitted.rawValue), \(bind: passportIndex(passport)),
                \(bind: passportEnc), \(bind: mrzEnc), \(bind: person.nationality.alpha3), \(bind: person.surname),
                \(bind: person.givenNames), \(bind: person.chineseName), \(bind: person.dateOfBirth.description),
                \(bind: person.sex.rawValue), \(bind: terms.position), \(bind: terms.category.rawValue),
                \(bind: terms.contractStart.description), \(bind: terms.contractEnd.description), \(bind: documents),
                \(bind: createdBy), \(bind: atMs))
            """).run()
    }

    public func application(id: String) async throws -> ApplicationRecord? {
        guard let row = try await sql.raw("SELECT * FROM permit_applications WHERE id = \(bind: id)")
            .firstRecord(ApplicationRow.self) else { return nil }
        return try decode(row)
    }

    public func applications(filter: ApplicationFilter, before cursor: PageCursor?, limit: Int) async throws -> [ApplicationRecord] {
        let (time, id) = cursor.map { ($0.timeMs, $0.id) } ?? (Int64.max, "")
        var query = SQLQueryString("SELECT * FROM permit_applications WHERE (created_at_ms < \(bind: time) OR (created_at_ms = \(bind: time) AND id < \(bind: id)))")
        if let employer = filter.employerID { query.appendInterpolation(unsafeRaw: " AND employer_id = "); query.appendInterpolation(bind: employer) }
        if let status = filter.status { query.appendInterpolation(unsafeRaw: " AND status = "); query.appendInterpolation(bind: status.rawValue) }
        query.appendInterpolation(unsafeRaw: " ORDER BY created_at_ms DESC, id DESC LIMIT ")
        query.appendInterpolation(bind: limit)
        return try await sql.raw(query).allRecords(ApplicationRow.self).map(decode)
    }

    public func recordApplicationDecision(id: String, status: ApplicationStatus, checkedDocuments: [DocumentKind],
                                          reason: String?, permitID: String?, decidedBy: String, atMs: Int64) async throws {
        let checked = checkedDocuments.map(\.rawValue).joined(separator: ",")
        try await sql.raw("""
            UPDATE permit_applications SET status = \(bind: status.rawValue), checked_documents = \(bind: checked),
                decision_reason = \(bind: reason), permit_id = \(bind: permitID), decided_by = \(bind: decidedBy),
                decided_at_ms = \(bind: atMs)
            WHERE id = \(bind: id)
            """).run()
    }

    private func decode(_ row: ApplicationRow) throws -> ApplicationRecord {
        func corrupt(_ what: String) -> StoreError { StoreError.corrupt("application \(row.id): \(what)") }
        guard let status = ApplicationStatus(rawValue: row.status) else { throw corrupt("status") }
        guard let birth = CivilDate(row.dateOfBirth), let start = CivilDate(row.contractStart),
              let end = CivilDate(row.contractEnd) else { throw corrupt("dates") }
        guard let sex = Sex(rawValue: row.sex), let category = PermitCategory(rawValue: row.category) else { throw corrupt("enums") }
        let documents = try Self.documentList(row.documents, corrupt: corrupt("documents"))
        let checked = try row.checkedDocuments.map { try Self.documentList($0, corrupt: corrupt("checked_documents")) }
        let person = ApplicantDeclaration(
            passportNumber: try PassportNumber(validating: try open(row.passportEnc, column: "permit_applications.passport_enc")),
            nationality: try CountryCode(validating: row.nationality), surname: row.surname, givenNames: row.givenNames,
            chineseName: row.chineseName, dateOfBirth: birth, sex: sex)
        return ApplicationRecord(
            id: row.id, employerID: row.employerId, status: status, person: person, passportIndex: row.passportIndex,
            mrz: try row.mrzEnc.map { try open($0, column: "permit_applications.mrz_enc") },
            terms: ApplicationTerms(position: row.position, category: category, contractStart: start, contractEnd: end, documents: documents),
            checkedDocuments: checked, decisionReason: row.decisionReason, permitID: row.permitId, createdBy: row.createdBy,
            createdAtMs: row.createdAtMs, decidedBy: row.decidedBy, decidedAtMs: row.decidedAtMs)
    }

    private static func documentList(_ text: String, corrupt: @autoclosure () -> StoreError) throws -> [DocumentKind] {
        guard !text.isEmpty else { return [] }
        return try text.split(separator: ",").map {
            guard let kind = DocumentKind(rawValue: String($0)) else { throw corrupt() }
            return kind
        }
    }

    // MARK: persons

    public func person(passportIndex: String) async throws -> PersonRecord? {
        try await sql.raw("SELECT * FROM persons WHERE passport_index = \(bind: passportIndex)").firstRecord(PersonRecord.self)
    }

    public func person(id: String) async throws -> PersonRecord? {
        try await sql.raw("SELECT * FROM persons WHERE id = \(bind: id)").firstRecord(PersonRecord.self)
    }

    public func person(permitNumber: String) async throws -> PersonRecord? {
        try await sql.raw("SELECT * FROM persons WHERE permit_number = \(bind: permitNumber)").firstRecord(PersonRecord.self)
    }

    public func personPassportNumber(_ person: PersonRecord) async throws -> String {
        guard let sealed = try await sql.raw("SELECT passport_enc FROM persons WHERE id = \(bind: person.id)").first()?
            .decode(column: "passport_enc", as: String.self) else { throw StoreError.corrupt("person \(person.id) vanished") }
        return try open(sealed, column: "persons.passport_enc")
    }

    public func insertPerson(id: String, person: ApplicantDeclaration, permitNumber: PermitNumber, atMs: Int64) async throws {
        let passport = person.passportNumber.value
        try await sql.raw("""
            INSERT INTO persons (id, passport_index, passport_enc, nationality, surname, given_names, chinese_name,
                date_of_birth, sex, permit_number, created_at_ms)
            VALUES (\(bind: id), \(bind: passportIndex(passport)), \(bind: try seal(passport, column: "persons.passport_enc")),
                \(bind: person.nationality.alpha3), \(bind: person.surname), \(bind: person.givenNames), \(bind: person.chineseName),
                \(bind: person.dateOfBirth.description), \(bind: person.sex.rawValue), \(bind: permitNumber.value), \(bind: atMs))
            """).run()
    }

    /// Names may be corrected on a later application (e.g. a Chinese name added).
    public func updatePersonNames(id: String, surname: String, givenNames: String, chineseName: String?) async throws {
        try await sql.raw("""
            UPDATE persons SET surname = \(bind: surname), given_names = \(bind: givenNames), chinese_name = \(bind: chineseName)
            WHERE id = \(bind: id)
            """).run()
    }

    // MARK: permits

    public func insertPermit(_ permit: PermitRecord) async throws {
        try await sql.raw("""
            INSERT INTO permits (id, permit_number, person_id, application_id, employer_id, position, category, valid_from,
                valid_until, decision_letter_number, issued_by, issued_at_ms)
            VALUES (\(bind: permit.id), \(bind: permit.permitNumber), \(bind: permit.personId), \(bind: permit.applicationId),
                \(bind: permit.employerId), \(bind: permit.position), \(bind: permit.category), \(bind: permit.validFrom),
                \(bind: permit.validUntil), \(bind: permit.decisionLetterNumber), \(bind: permit.issuedBy), \(bind: permit.issuedAtMs))
            """).run()
    }

    public func permit(id: String) async throws -> PermitRecord? {
        try await sql.raw("SELECT * FROM permits WHERE id = \(bind: id)").firstRecord(PermitRecord.self)
    }

    /// The latest permit issued under a permit number (a person's number outlives each permit).
    public func latestPermit(number: String) async throws -> PermitRecord? {
        try await sql.raw("""
            SELECT * FROM permits WHERE permit_number = \(bind: number) ORDER BY issued_at_ms DESC, id DESC LIMIT 1
            """).firstRecord(PermitRecord.self)
    }

    /// The permit's holder and employer as its views show them, in one statement.
    public func permitParties(_ permit: PermitRecord) async throws -> PermitParties? {
        try await sql.raw("""
            SELECT \(unsafeRaw: PermitParties.columns) FROM persons pe JOIN employers e ON e.id = \(bind: permit.employerId)
            WHERE pe.id = \(bind: permit.personId)
            """).firstRecord(PermitParties.self)
    }

    /// The latest permit with `number`, its holder and employer (as `latestPermitWithParties`),
    /// and the live card of `personID` (as `liveCard` picks it; nil before a card is issued):
    /// one statement, for the e-card home and the credential.
    public func latestPermitWithPartiesAndLiveCard(number: String, personID: String) async throws
        -> (permit: PermitRecord, parties: PermitParties, card: LiveCardSummary?)? {
        var query = SQLQueryString("""
            SELECT p.*, \(unsafeRaw: PermitParties.columns), \(unsafeRaw: LiveCardSummary.columns)
            FROM permits p JOIN persons pe ON pe.id = p.person_id JOIN employers e ON e.id = p.employer_id
            LEFT JOIN cards lc ON lc.card_number = (
            """)
        query += Self.liveCardQuery(columns: "card_number", personID: personID)
        query.appendInterpolation(unsafeRaw: ") WHERE p.permit_number = ")
        query.appendInterpolation(bind: number)
        query.appendInterpolation(unsafeRaw: " ORDER BY p.issued_at_ms DESC, p.id DESC LIMIT 1")
        guard let row = try await sql.raw(query).first() else { return nil }
        let card = try row.decodeNil(column: "live_card_number") ? nil : try row.record(LiveCardSummary.self)
        return (try row.record(PermitRecord.self), try row.record(PermitParties.self), card)
    }

    /// `latestPermit` with its `permitParties`, in one statement (the decision letter).
    public func latestPermitWithParties(number: String) async throws -> (permit: PermitRecord, parties: PermitParties)? {
        guard let row = try await sql.raw("""
            SELECT p.*, \(unsafeRaw: PermitParties.columns)
            FROM permits p JOIN persons pe ON pe.id = p.person_id JOIN employers e ON e.id = p.employer_id
            WHERE p.permit_number = \(bind: number) ORDER BY p.issued_at_ms DESC, p.id DESC LIMIT 1
            """).first() else { return nil }
        return (try row.record(PermitRecord.self), try row.record(PermitParties.self))
    }

    public func permits(filter: PermitFilter, before cursor: PageCursor?, limit: Int) async throws -> [PermitRecord] {
        let (time, id) = cursor.map { ($0.timeMs, $0.id) } ?? (Int64.max, "")
        var query = SQLQueryString("SELECT * FROM permits WHERE (issued_at_ms < \(bind: time) OR (issued_at_ms = \(bind: time) AND id < \(bind: id)))")
        if let employer = filter.employerID { query.appendInterpolation(unsafeRaw: " AND employer_id = "); query.appendInterpolation(bind: employer) }
        if let cancelled = filter.cancelled {
            query.appendInterpolation(unsafeRaw: cancelled ? " AND cancelled_at_ms IS NOT NULL" : " AND cancelled_at_ms IS NULL")
        }
        if let day = filter.validOn {
            query.appendInterpolation(unsafeRaw: " AND cancelled_at_ms IS NULL AND valid_until >= ")
            query.appendInterpolation(bind: day.description)
            query.appendInterpolation(unsafeRaw: " AND valid_from <= ")
            query.appendInterpolation(bind: day.description)
        }
        if let day = filter.pendingOn {
            query.appendInterpolation(unsafeRaw: " AND cancelled_at_ms IS NULL AND valid_from > ")
            query.appendInterpolation(bind: day.description)
        }
        if let day = filter.expiredOn {
            query.appendInterpolation(unsafeRaw: " AND cancelled_at_ms IS NULL AND valid_until < ")
            query.appendInterpolation(bind: day.description)
        }
        query.appendInterpolation(unsafeRaw: " ORDER BY issued_at_ms DESC, id DESC LIMIT ")
        query.appendInterpolation(bind: limit)
        return try await sql.raw(query).allRecords(PermitRecord.self)
    }

    public func cancelPermit(id: String, by actor: String, reason: String, atMs: Int64) async throws {
        try await sql.raw("""
            UPDATE permits SET cancelled_at_ms = \(bind: atMs), cancelled_by = \(bind: actor), cancel_reason = \(bind: reason)
            WHERE id = \(bind: id) AND cancelled_at_ms IS NULL
            """).run()
    }
}
