public import JoinInCore
import Foundation
import SQLKit

// One-card government services (issue 13): the imported catalogue, requests and their history.

public struct ServiceCatalogueRecord: Sendable, Equatable, Decodable {
    public let version: Int64
    public let document: String
    public let importedBy: String
    public let importedAtMs: Int64

    public func catalogue() throws -> ServiceCatalogue {
        do { return try ServiceCatalogue.parse(Array(document.utf8)) } catch {
            throw StoreError.corrupt("service catalogue version \(version) no longer parses")
        }
    }
}

public struct ServiceRequestRecord: Sendable, Equatable {
    public let id: String
    public let personId: String
    public let department: String
    public let serviceCode: String
    public let catalogueVersion: Int64
    public let status: String
    public let resumeStatus: String?
    public let channel: String
    /// The form's values, in the form's field order.
    public let form: [(String, JSONValue)]
    public let documentsChecked: [String]
    public let receivedOn: String
    public let dueOn: String
    public let openedBy: String
    public let outcome: String?
    public let certificateJws: String?
    public let createdAtMs: Int64
    public let updatedAtMs: Int64
    public let closedAtMs: Int64?

    public var requestStatus: RequestStatus? { RequestStatus(rawValue: status) }

    public static func == (a: ServiceRequestRecord, b: ServiceRequestRecord) -> Bool {
        a.id == b.id && a.updatedAtMs == b.updatedAtMs && a.status == b.status
    }
}

struct ServiceRequestRow: Decodable {
    let id: String
    let personId: String
    let department: String
    let serviceCode: String
    let catalogueVersion: Int64
    let status: String
    let resumeStatus: String?
    let channel: String
    let formSealed: String
    let documentsJson: String
    let receivedOn: String
    let dueOn: String
    let openedBy: String
    let outcomeSealed: String?
    let certificateJws: String?
    let createdAtMs: Int64
    let updatedAtMs: Int64
    let closedAtMs: Int64?
}

public struct ServiceRequestHistoryRecord: Sendable, Equatable {
    public let id: String
    public let requestId: String
    public let atMs: Int64
    public let actor: String
    public let action: String
    public let fromStatus: String?
    public let toStatus: String
    public let note: String?
}

struct ServiceRequestHistoryRow: Decodable {
    let id: String
    let requestId: String
    let atMs: Int64
    let actor: String
    let action: String
    let fromStatus: String?
    let toStatus: String
    let noteSealed: String?
}

/// A new request as the handler built it.
public struct NewServiceRequest: Sendable {
    public let id: String
    public let personID: String
    public let department: DepartmentCode
    public let serviceCode: String
    public let catalogueVersion: Int64
    public let channel: String
    public let form: [(String, JSONValue)]
    public let documentsChecked: [String]
    public let receivedOn: CivilDate
    public let dueOn: CivilDate
    public let openedBy: String

    public init(id: String, personID: String, department: DepartmentCode, serviceCode: String, catalogueVersion: Int64, channel: String,
                form: [(String, JSONValue)], documentsChecked: [String], receivedOn: CivilDate, dueOn: CivilDate, openedBy: String) {
        self.id = id
        self.personID = personID
        self.department = department
        self.serviceCode = serviceCode
        self.catalogueVersion = catalogueVersion
        self.channel = channel
        self.form = form
        self.documentsChecked = documentsChecked
        self.receivedOn = receivedOn
        self.dueOn = dueOn
        self.openedBy = openedBy
    }
}

extension StoreTx {
    static let serviceFormColumn = "service_requests.form"
    static let serviceOutcomeColumn = "service_requests.outcome"
    static let serviceNoteColumn = "service_request_history.note"

    // MARK: catalogue

    /// Stores a new catalogue version (the previous ones stay: requests keep the version they were made under).
    public func insertServiceCatalogue(document: String, importedBy: String, atMs: Int64) async throws -> Int64 {
        let latest = try await sql.raw("SELECT MAX(version) AS v FROM service_catalogues").first()?.decode(column: "v", as: Int64?.self) ?? 0
        let version = latest + 1
        try await sql.raw("""
            INSERT INTO service_catalogues (version, document, imported_by, imported_at_ms)
            VALUES (\(bind: version), \(bind: document), \(bind: importedBy), \(bind: atMs))
            """).run()
        return version
    }

    public func currentServiceCatalogue() async throws -> ServiceCatalogueRecord? {
        try await sql.raw("SELECT * FROM service_catalogues ORDER BY version DESC LIMIT 1")
            .firstRecord(ServiceCatalogueRecord.self)
    }

    public func serviceCatalogue(version: Int64) async throws -> ServiceCatalogueRecord? {
        try await sql.raw("SELECT * FROM service_catalogues WHERE version = \(bind: version)")
            .firstRecord(ServiceCatalogueRecord.self)
    }

    // MARK: requests

    public func insertServiceRequest(_ request: NewServiceRequest, atMs: Int64) async throws {
        let form = try seal(String(decoding: JSONValue.object(request.form).serialized(), as: UTF8.self), column: Self.serviceFormColumn)
        let documents = String(decoding: try JSONEncoder().encode(request.documentsChecked), as: UTF8.self)
        try await sql.raw("""
            INSERT INTO service_requests (id, person_id, department, service_code, catalogue_version, status, channel, form_sealed,
                documents_json, received_on, due_on, opened_by, created_at_ms, updated_at_ms)
            VALUES (\(bind: request.id), \(bind: request.personID), \(bind: request.department.rawValue), \(bind: request.serviceCode),
                \(bind: request.catalogueVersion), \(bind: RequestStatus.submitted.rawValue), \(bind: request.channel), \(bind: form),
                \(bind: documents), \(bind: request.receivedOn.description), \(bind: request.dueOn.description), \(bind: request.openedBy),
                \(bind: atMs), \(bind: atMs))
            """).run()
    }

    func serviceRequestRecord(_ row: ServiceRequestRow) throws -> ServiceRequestRecord {
        guard case .object(let form) = try JSONValue.parse(Array(try open(row.formSealed, column: Self.serviceFormColumn).utf8)) else {
            throw StoreError.corrupt("service request \(row.id) has an unreadable form")
        }
        let documents = (try? JSONDecoder().decode([String].self, from: Data(row.documentsJson.utf8))) ?? []
        return ServiceRequestRecord(
            id: row.id, personId: row.personId, department: row.department, serviceCode: row.serviceCode,
            catalogueVersion: row.catalogueVersion, status: row.status, resumeStatus: row.resumeStatus, channel: row.channel, form: form,
            documentsChecked: documents, receivedOn: row.receivedOn, dueOn: row.dueOn, openedBy: row.openedBy,
            outcome: try row.outcomeSealed.map { try open($0, column: Self.serviceOutcomeColumn) }, certificateJws: row.certificateJws,
            createdAtMs: row.createdAtMs, updatedAtMs: row.updatedAtMs, closedAtMs: row.closedAtMs)
    }

    public func serviceRequest(id: String) async throws -> ServiceRequestRecord? {
        try await sql.raw("SELECT * FROM service_requests WHERE id = \(bind: id)")
            .firstRecord(ServiceRequestRow.self).map(serviceRequestRecord)
    }

    /// `serviceRequest(id:)` for a write that decides on its status (locked on PostgreSQL).
    public func lockedServiceRequest(id: String) async throws -> ServiceRequestRecord? {
        try await sql.raw("SELECT * FROM service_requests WHERE id = \(bind: id)\(unsafeRaw: lockForUpdate)")
            .firstRecord(ServiceRequestRow.self).map(serviceRequestRecord)
    }

    /// A department's queue: by due date, earliest first (so overdue requests lead), open ones by
    /// default. The cursor is (due date as days, id).
    public func serviceRequests(department: String, statuses: [String], after cursor: PageCursor?, limit: Int) async throws -> [ServiceRequestRecord] {
        let (due, id) = cursor.map { (CivilDate(daysSinceEpoch: Int($0.timeMs)).description, $0.id) } ?? ("", "")
        return try await sql.raw("""
            SELECT * FROM service_requests WHERE department = \(bind: department) AND status IN (\(binds: statuses))
                AND due_on >= \(bind: due) AND (due_on > \(bind: due) OR id > \(bind: id))
            ORDER BY due_on, id LIMIT \(bind: max(0, limit))
            """).allRecords(ServiceRequestRow.self).map(serviceRequestRecord)
    }

    /// A cardholder's requests, newest first.
    public func serviceRequests(personID: String, before cursor: PageCursor?, limit: Int) async throws -> [ServiceRequestRecord] {
        let (time, id) = cursor.map { ($0.timeMs, $0.id) } ?? (Int64.max, "")
        return try await sql.raw("""
            SELECT * FROM service_requests WHERE person_id = \(bind: personID)
                AND created_at_ms <= \(bind: time) AND (created_at_ms < \(bind: time) OR id < \(bind: id))
            ORDER BY created_at_ms DESC, id DESC LIMIT \(bind: max(0, limit))
            """).allRecords(ServiceRequestRow.self).map(serviceRequestRecord)
    }

    /// Moves a request from `from` (compare-and-set) to `to`, recording history; false when it was
    /// no longer in `from`.
    public func moveServiceRequest(id: String, from: RequestStatus, to: RequestStatus, resume: RequestStatus?, actor: String,
                                   action: RequestAction, note: String?, atMs: Int64, historyID: String) async throws -> Bool {
        let closed: Int64? = to.isOpen ? nil : atMs
        guard try await sql.raw("""
            UPDATE service_requests SET status = \(bind: to.rawValue), resume_status = \(bind: resume?.rawValue), updated_at_ms = \(bind: atMs),
                closed_at_ms = \(bind: closed)
            WHERE id = \(bind: id) AND status = \(bind: from.rawValue) RETURNING id
            """).all().count == 1 else { return false }
        try await sql.raw("""
            INSERT INTO service_request_history (id, request_id, at_ms, actor, action, from_status, to_status, note_sealed)
            VALUES (\(bind: historyID), \(bind: id), \(bind: atMs), \(bind: actor), \(bind: action.rawValue), \(bind: from.rawValue),
                \(bind: to.rawValue), \(bind: try note.map { try seal($0, column: Self.serviceNoteColumn) }))
            """).run()
        return true
    }

    /// Records the opening of a request in its history.
    public func insertServiceRequestOpening(requestID: String, historyID: String, actor: String, note: String?, atMs: Int64) async throws {
        try await sql.raw("""
            INSERT INTO service_request_history (id, request_id, at_ms, actor, action, from_status, to_status, note_sealed)
            VALUES (\(bind: historyID), \(bind: requestID), \(bind: atMs), \(bind: actor), 'open', NULL, \(bind: RequestStatus.submitted.rawValue),
                \(bind: try note.map { try seal($0, column: Self.serviceNoteColumn) }))
            """).run()
    }

    /// Replaces the form values (a cardholder's answer to needs_info).
    public func updateServiceRequestForm(id: String, form: [(String, JSONValue)], atMs: Int64) async throws {
        let sealed = try seal(String(decoding: JSONValue.object(form).serialized(), as: UTF8.self), column: Self.serviceFormColumn)
        try await sql.raw("UPDATE service_requests SET form_sealed = \(bind: sealed), updated_at_ms = \(bind: atMs) WHERE id = \(bind: id)").run()
    }

    /// Records more originals as checked (an online request's documents seen at the counter later).
    public func setServiceRequestDocuments(id: String, documents: [String]) async throws {
        let json = String(decoding: try JSONEncoder().encode(documents), as: UTF8.self)
        try await sql.raw("UPDATE service_requests SET documents_json = \(bind: json) WHERE id = \(bind: id)").run()
    }

    public func setServiceRequestOutcome(id: String, outcome: String?, certificateJWS: String?) async throws {
        try await sql.raw("""
            UPDATE service_requests SET outcome_sealed = \(bind: try outcome.map { try seal($0, column: Self.serviceOutcomeColumn) }),
                certificate_jws = \(bind: certificateJWS)
            WHERE id = \(bind: id)
            """).run()
    }

    public func serviceRequestHistory(requestID: String) async throws -> [ServiceRequestHistoryRecord] {
        try await sql.raw("SELECT * FROM service_request_history WHERE request_id = \(bind: requestID) ORDER BY at_ms, id")
            .allRecords(ServiceRequestHistoryRow.self).map { row in
                ServiceRequestHistoryRecord(id: row.id, requestId: row.requestId, atMs: row.atMs, actor: row.actor, action: row.action,
                                            fromStatus: row.fromStatus, toStatus: row.toStatus,
                                            note: try row.noteSealed.map { try open($0, column: Self.serviceNoteColumn) })
            }
    }
}
