import Foundation
import JoinInAPI
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore
import OpenAPIRuntime

/// One-card government services (issue 13): the catalogue (administrators import it, anyone reads
/// it), requests opened at a department's counter — the clerk identifies the cardholder by card +
/// PIN or the e-card's dynamic QR and the form is pre-filled from verified data — or online from
/// the e-card, moved through the request state machine (ServiceRules) with the cardholder's inbox
/// told, and the social-insurance contribution certificate as a signed JWS and a printable page.
struct ServiceController: Sendable {
    let store: Store
    let config: ServerConfig
    let clock: AppClock
    let pins: PINCheck
    let dynamicCodes: DynamicCodes
    let keys: CredentialKeys

    static let certificateTyp = "joinin-contribution-certificate+jwt"
    static let formBytesMax = 64 * 1024

    func register(_ r: inout RouteRegistrar) {
        r.on(.put, "/v1/services/catalogue", .staff(.admin)) { request, context in
            let admin = try context.staff()
            let body = try await request.body.collect(upTo: 1_048_576)
            let now = clock.nowMs()
            let summary = try await Self.importCatalogue(store: store, bytes: Array(buffer: body), actor: admin.auditName, nowMs: now)
            return try JSON.response(summary, status: .created)
        }
        r.on(.get, "/v1/services", .anyone) { _, _ in
            let record = try await store.read { tx in try await tx.currentServiceCatalogue() }
            guard let record else { return try JSON.response(Schemas.ServiceCatalogue(version: 0, departments: [], services: [])) }
            return try JSON.response(try Self.catalogueView(record))
        }
        r.on(.post, "/v1/service-requests", .staff(.departmentClerk)) { request, context in try await openAtCounter(request, context) }
        r.on(.get, "/v1/service-requests", .staff(.departmentClerk)) { request, context in try await queue(request, context) }
        r.on(.get, "/v1/service-requests/{id}", Access.staff(.departmentClerk)
            .objects(.owned(by: "a clerk sees only their department's requests"))) { _, context in
            let department = try clerkDepartment(context)
            let id = try context.parameters.require("id")
            let time = clock.read()
            let view = try await store.read { tx in
                let request = try await Self.request(tx, id: id) { $0.department == department.rawValue }
                return try await Self.view(tx, request, time: time, forClerk: true)
            }
            return try JSON.response(view, headers: [.cacheControl: "no-store"])
        }
        r.on(.post, "/v1/service-requests/{id}/actions", Access.staff(.departmentClerk)
            .objects(.owned(by: "a clerk acts only on their department's requests"))) { request, context in
            try await act(request, context, id: try context.parameters.require("id"))
        }
        r.on(.get, "/v1/service-requests/{id}/certificate", Access.staff(.departmentClerk)
            .objects(.owned(by: "a clerk prints only their department's certificates"))) { request, context in
            let department = try clerkDepartment(context)
            let id = try context.parameters.require("id")
            return try await certificate(request, id: id) { $0.department == department.rawValue }
        }
        r.on(.post, "/v1/ecard/service-requests", .cardholder) { request, context in try await openOnline(request, context) }
        r.on(.get, "/v1/ecard/service-requests", .cardholder) { request, context in
            let holder = try context.cardholder()
            let list = try ListParameters(request)
            let cursor = try list.cursor.map(PageCursor.parse)
            let time = clock.read()
            let (items, next) = try await store.read { tx in
                let rows = try await tx.serviceRequests(personID: holder.personID, before: cursor, limit: list.limit + 1)
                let (page, next) = list.page(rows) { PageCursor(timeMs: $0.createdAtMs, id: $0.id).encoded }
                var items: [Schemas.ServiceRequest] = []
                for row in page { items.append(try await Self.view(tx, row, time: time, forClerk: false)) }
                return (items, next)
            }
            return try JSON.response(Schemas.ServiceRequestPage(items: items, nextCursor: next), headers: [.cacheControl: "no-store"])
        }
        r.on(.get, "/v1/ecard/service-requests/{id}", Access.cardholder.objects(.owned(by: "a holder sees only their own requests"))) { _, context in
            let holder = try context.cardholder()
            let id = try context.parameters.require("id")
            let time = clock.read()
            let view = try await store.read { tx in
                let request = try await Self.request(tx, id: id) { $0.personId == holder.personID }
                return try await Self.view(tx, request, time: time, forClerk: false)
            }
            return try JSON.response(view, headers: [.cacheControl: "no-store"])
        }
        r.on(.post, "/v1/ecard/service-requests/{id}/answer", Access.cardholder
            .objects(.owned(by: "a holder answers only their own requests"))) { request, context in
            try await answer(request, context, id: try context.parameters.require("id"))
        }
        r.on(.get, "/v1/ecard/service-requests/{id}/certificate", Access.cardholder
            .objects(.owned(by: "a holder reads only their own certificates"))) { request, context in
            let holder = try context.cardholder()
            let id = try context.parameters.require("id")
            return try await certificate(request, id: id) { $0.personId == holder.personID }
        }
    }

    // MARK: catalogue

    /// Validates and stores a new catalogue version (the API and the CLI share this).
    static func importCatalogue(store: Store, bytes: [UInt8], actor: String, nowMs: Int64) async throws -> Schemas.ServiceCatalogueImported {
        let catalogue = try ServiceCatalogue.parse(bytes)
        let document = String(decoding: bytes, as: UTF8.self)
        let version = try await store.write { tx in
            let version = try await tx.insertServiceCatalogue(document: document, importedBy: actor, atMs: nowMs)
            try await tx.appendAudit(actor: actor, action: "service.catalogue_import", objectType: "service_catalogue", objectID: String(version),
                                     detail: "services=\(catalogue.services.count)", atMs: nowMs)
            return version
        }
        return Schemas.ServiceCatalogueImported(version: Int(version), services: catalogue.services.count)
    }

    static func catalogueView(_ record: ServiceCatalogueRecord) throws -> Schemas.ServiceCatalogue {
        let catalogue = try record.catalogue()
        let departments = try DepartmentCode.allCases.compactMap { code -> Schemas.ServiceCatalogue.DepartmentsPayloadPayload? in
            guard let name = catalogue.departments[code] else { return nil }
            return .init(code: try API.domain(code), name: API.name(name))
        }
        return Schemas.ServiceCatalogue(version: Int(record.version), departments: departments, services: try catalogue.services.map(serviceView))
    }

    static func serviceView(_ service: ServiceDefinition) throws -> Schemas.Service {
        Schemas.Service(
            code: service.code, department: try API.domain(service.department), name: API.name(service.name),
            description: API.name(service.description),
            form: try service.form.fields.map { field in
                Schemas.FormField(name: field.name, _type: try API.domain(field.type), title: API.name(field.title),
                                  required: service.form.required.contains(field.name), _enum: field.enumValues, minLength: field.minLength,
                                  maxLength: field.maxLength, minimum: field.minimum, maximum: field.maximum,
                                  prefill: try field.prefill.map { try API.domain($0) })
            },
            documents: service.documents.map { Schemas.Service.DocumentsPayloadPayload(code: $0.code, name: API.name($0.name)) },
            timeLimitWorkingDays: service.timeLimitWorkingDays, outcome: try API.domain(service.outcome), online: service.online)
    }

    // MARK: opening a request

    struct Opening {
        let catalogue: ServiceCatalogueRecord
        let service: ServiceDefinition
        let values: [(String, JSONValue)]
    }

    /// The body's `values` object, read with its members in order (JSONValue keeps integers exact).
    static func formValues(_ bytes: ByteBuffer) throws -> [(String, JSONValue)] {
        let parsed: JSONValue
        do { parsed = try JSONValue.parse(Array(buffer: bytes)) } catch {
            throw DomainError.malformed("request.invalid_json", "values: form values are strings, integers and booleans")
        }
        switch parsed["values"] {
        case nil: return []
        case .object(let members)?: return members
        default: throw DomainError.malformed("request.invalid_json", "values: must be an object")
        }
    }

    /// The verified data a form may be pre-filled from.
    static func verifiedData(_ tx: StoreTx, personID: String) async throws -> [PrefillSource: JSONValue] {
        guard let person = try await tx.person(id: personID) else { throw StoreError.corrupt("person \(personID) vanished") }
        var data: [PrefillSource: JSONValue] = [
            .fullName: .string(person.fullName), .nationality: .string(person.nationality), .permitNumber: .string(person.permitNumber),
        ]
        if let permit = try await tx.latestPermit(number: person.permitNumber) {
            data[.permitCategory] = .string(permit.category)
            data[.permitValidUntil] = .string(permit.validUntil)
            if let employer = try await tx.employer(id: permit.employerId) { data[.employerName] = .string(employer.name.en) }
        }
        let months = Set(try await tx.contributions(personID: personID, fromMonth: "0000-00", toMonth: "9999-99").map(\.month))
        data[.contributionMonths] = .number(Int64(months.count))
        return data
    }

    /// Loads the current catalogue and the service, and merges the submitted values with the
    /// verified ones.
    static func opening(_ tx: StoreTx, serviceCode: String, personID: String, submitted: [(String, JSONValue)],
                        allowed: (ServiceDefinition) throws -> Void) async throws -> Opening {
        guard let record = try await tx.currentServiceCatalogue(), let service = try record.catalogue().service(code: serviceCode) else {
            throw DomainError.rule("service.not_found", "no service \(serviceCode.prefix(64)) in the catalogue")
        }
        try allowed(service)
        let prefill = ServiceRules.prefilledValues(service.form, from: try await verifiedData(tx, personID: personID))
        let values = try ServiceRules.merged(form: service.form, submitted: submitted, prefill: prefill)
        return Opening(catalogue: record, service: service, values: values)
    }

    func clerkDepartment(_ context: AppContext) throws -> DepartmentCode {
        let clerk = try context.staff()
        guard let department = clerk.department.flatMap(DepartmentCode.init(rawValue:)) else {
            throw DomainError.forbidden("auth.forbidden", "this department clerk account is not bound to a department")
        }
        return department
    }

    func openAtCounter(_ request: Request, _ context: AppContext) async throws -> Response {
        let clerk = try context.staff()
        let department = try clerkDepartment(context)
        let (body, bytes) = try await JSON.decode(Schemas.CounterServiceRequest.self, from: request, limit: Self.formBytesMax)
        try JSON.refuseNull(bytes, members: ["card_number", "pin", "dynamic_code", "documents_checked", "note"])
        let submitted = try Self.formValues(bytes)
        let note = try ServiceRules.validatedNote(body.note, for: .accept)
        let time = clock.read()
        let actor = clerk.auditName
        // One card: the card and its PIN, or the e-card's dynamic QR (its holder's live card).
        var code: DynamicCodes.Claims?
        var cardNumber: String?
        switch (body.cardNumber, body.pin, body.dynamicCode) {
        case (let number?, let pin?, nil):
            let number = try CardNumber(validating: number).value
            let card = try await store.read { tx in try await tx.existingCard(number) }
            try await pins.check(pin, card: card, actor: actor, action: "service.identify", at: time)
            cardNumber = number
        case (nil, nil, let text?):
            code = try dynamicCodes.read(text)
        default:
            throw DomainError.malformed("service.identification_required", "send card_number with pin, or dynamic_code")
        }
        let presented = code, identified = cardNumber
        let id = newID()
        let checked = body.documentsChecked ?? []
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: actor, nowMs: time.ms,
                                           isolation: .lockedRows) { tx in
            let personID: String
            if let presented {
                try await dynamicCodes.redeem(tx, presented, by: actor, nowMs: time.ms)
                guard let holder = try await tx.cardholder(id: presented.holderID) else { throw DomainError.rule("code.invalid", "the code's holder is unknown") }
                personID = holder.personId
            } else if let identified {
                let card = try await tx.existingCard(identified)
                guard card.cardStatus?.isLive == true else {
                    throw DomainError.rule("card.not_active", "card is \(card.status); identify with a live card")
                }
                personID = card.personId
            } else {
                throw StoreError.corrupt("no identification")
            }
            let opening = try await Self.opening(tx, serviceCode: body.serviceCode, personID: personID, submitted: submitted) { service in
                guard service.department == department else {
                    throw DomainError.rule("service.other_department",
                                           "\(service.code) is a service of \(service.department.rawValue), not of your department")
                }
            }
            try ServiceRules.checkDocuments(checked, of: opening.service, complete: true)
            return try .json(try await open(tx, id: id, personID: personID, opening: opening, channel: "counter", documents: checked,
                                            actor: actor, note: note, time: time))
        }
    }

    func openOnline(_ request: Request, _ context: AppContext) async throws -> Response {
        let holder = try context.cardholder()
        let (body, bytes) = try await JSON.decode(Schemas.OnlineServiceRequest.self, from: request, limit: Self.formBytesMax)
        let submitted = try Self.formValues(bytes)
        let time = clock.read()
        let id = newID()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: holder.auditName, nowMs: time.ms) { tx in
            let opening = try await Self.opening(tx, serviceCode: body.serviceCode, personID: holder.personID, submitted: submitted) { service in
                guard service.online else {
                    throw DomainError.rule("service.counter_only", "\(service.code) is handled at the \(service.department.rawValue) counter only")
                }
            }
            return try .json(try await open(tx, id: id, personID: holder.personID, opening: opening, channel: "online", documents: [],
                                            actor: holder.auditName, note: nil, time: time))
        }
    }

    func open(_ tx: StoreTx, id: String, personID: String, opening: Opening, channel: String, documents: [String], actor: String,
              note: String?, time: AppClock.Reading) async throws -> Schemas.ServiceRequest {
        let catalogue = try opening.catalogue.catalogue()
        let calendar = WorkingCalendar(holidays: catalogue.holidays, workdays: catalogue.workdays)
        let due = calendar.due(receivedOn: time.today, workingDays: opening.service.timeLimitWorkingDays)
        try await tx.insertServiceRequest(NewServiceRequest(
            id: id, personID: personID, department: opening.service.department, serviceCode: opening.service.code,
            catalogueVersion: opening.catalogue.version, channel: channel, form: opening.values, documentsChecked: documents,
            receivedOn: time.today, dueOn: due, openedBy: actor), atMs: time.ms)
        try await tx.insertServiceRequestOpening(requestID: id, historyID: newID(), actor: actor, note: note, atMs: time.ms)
        try await tx.appendAudit(actor: actor, action: "service.request_open", objectType: "service_request", objectID: id,
                                 detail: "service=\(opening.service.code) channel=\(channel) due=\(due)", atMs: time.ms)
        guard let stored = try await tx.serviceRequest(id: id) else { throw StoreError.corrupt("request \(id) vanished") }
        return try await Self.view(tx, stored, time: time, forClerk: channel == "counter")
    }

    // MARK: the clerk's queue and actions

    func queue(_ request: Request, _ context: AppContext) async throws -> Response {
        let department = try clerkDepartment(context)
        let list = try ListParameters(request)
        let cursor = try list.cursor.map(PageCursor.parse)
        let statuses: [String]
        switch request.uri.queryParameters["status"].map(String.init) {
        case nil, "open"?: statuses = RequestStatus.allCases.filter(\.isOpen).map(\.rawValue)
        case "all"?: statuses = RequestStatus.allCases.map(\.rawValue)
        case let text?:
            guard let status = RequestStatus(rawValue: text) else {
                throw DomainError.malformed("service.status_invalid", "status must be open, all or a request status")
            }
            statuses = [status.rawValue]
        }
        let time = clock.read()
        let (items, next) = try await store.read { tx in
            let rows = try await tx.serviceRequests(department: department.rawValue, statuses: statuses, after: cursor, limit: list.limit + 1)
            let (page, next) = list.page(rows) { row in
                PageCursor(timeMs: Int64(CivilDate(row.dueOn)?.daysSinceEpoch ?? 0), id: row.id).encoded
            }
            var items: [Schemas.ServiceRequest] = []
            for row in page { items.append(try await Self.view(tx, row, time: time, forClerk: true)) }
            return (items, next)
        }
        return try JSON.response(Schemas.ServiceRequestPage(items: items, nextCursor: next), headers: [.cacheControl: "no-store"])
    }

    func act(_ request: Request, _ context: AppContext, id: String) async throws -> Response {
        let clerk = try context.staff()
        let department = try clerkDepartment(context)
        let (body, bytes) = try await JSON.decode(Schemas.ServiceRequestAction.self, from: request, limit: Self.formBytesMax)
        try JSON.refuseNull(bytes, members: ["note", "outcome_document", "documents_checked"])
        let action: RequestAction = try API.domain(body.action)
        guard action != .answer else {
            throw DomainError.forbidden("service.action_not_allowed", "only the cardholder answers a request for information")
        }
        let note = try ServiceRules.validatedNote(body.note, for: action)
        let time = clock.read()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: clerk.auditName, nowMs: time.ms,
                                           isolation: .lockedRows) { tx in
            let current = try await Self.request(tx, id: id, locked: true) { $0.department == department.rawValue }
            guard let status = current.requestStatus else { throw StoreError.corrupt("request \(id) has status \(current.status)") }
            let next = try ServiceRules.transition(from: status, action: action, by: .clerk)
            guard let record = try await tx.serviceCatalogue(version: current.catalogueVersion),
                  let service = try record.catalogue().service(code: current.serviceCode) else {
                throw StoreError.corrupt("request \(id) names a service its catalogue does not have")
            }
            var outcome: String?, certificate: String?
            if action == .complete {
                switch service.outcome {
                case .none: break
                case .document:
                    let text = body.outcomeDocument?.trimmingWhitespace() ?? ""
                    guard (1...10_000).contains(text.scalarCount) else {
                        throw DomainError.rule("service.outcome_required", "outcome_document (1-10000 characters) is required to complete \(service.code)")
                    }
                    outcome = text
                case .contributionCertificate:
                    certificate = try await contributionCertificate(tx, request: current, time: time)
                }
            }
            if let checked = body.documentsChecked { try ServiceRules.checkDocuments(checked, of: service, complete: false) }
            guard try await tx.moveServiceRequest(id: id, from: status, to: next, resume: action == .askInfo ? status : nil,
                                                  actor: clerk.auditName, action: action, note: note, atMs: time.ms, historyID: newID()) else {
                throw DomainError.conflict("service.request_changed", "the request changed meanwhile; reload it")
            }
            if let checked = body.documentsChecked, !Set(checked).isSubset(of: current.documentsChecked) {
                let all = service.documents.map(\.code).filter { checked.contains($0) || current.documentsChecked.contains($0) }
                try await tx.setServiceRequestDocuments(id: id, documents: all)
            }
            if outcome != nil || certificate != nil {
                try await tx.setServiceRequestOutcome(id: id, outcome: outcome, certificateJWS: certificate)
            }
            let link = (type: "service_request", id: id)
            let names: [String: LocalizedName] = ["service": service.name]
            let plain = ["reference": String(id.suffix(8)), "note": note ?? ""]
            switch action {
            case .askInfo: try await Inbox.post(tx, personID: current.personId, kind: .requestNeedsInfo, plain: plain, localized: names, link: link, nowMs: time.ms)
            case .complete: try await Inbox.post(tx, personID: current.personId, kind: .requestCompleted, plain: plain, localized: names, link: link, nowMs: time.ms)
            case .reject: try await Inbox.post(tx, personID: current.personId, kind: .requestRejected, plain: plain, localized: names, link: link, nowMs: time.ms)
            case .accept, .start, .answer: break
            }
            try await tx.appendAudit(actor: clerk.auditName, action: "service.request_\(action.rawValue)", objectType: "service_request", objectID: id,
                                     detail: "from=\(status.rawValue) to=\(next.rawValue)", atMs: time.ms)
            guard let updated = try await tx.serviceRequest(id: id) else { throw StoreError.corrupt("request \(id) vanished") }
            return try .json(try await Self.view(tx, updated, time: time, forClerk: true), status: .ok)
        }
    }

    func answer(_ request: Request, _ context: AppContext, id: String) async throws -> Response {
        let holder = try context.cardholder()
        let (body, bytes) = try await JSON.decode(Schemas.ServiceRequestAnswer.self, from: request, limit: Self.formBytesMax)
        let submitted = try Self.formValues(bytes)
        let note = try ServiceRules.validatedNote(body.note, for: .askInfo)
        let time = clock.read()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: holder.auditName, nowMs: time.ms,
                                           isolation: .lockedRows) { tx in
            let current = try await Self.request(tx, id: id, locked: true) { $0.personId == holder.personID }
            guard let status = current.requestStatus else { throw StoreError.corrupt("request \(id) has status \(current.status)") }
            let resume = current.resumeStatus.flatMap(RequestStatus.init(rawValue:))
            let next = try ServiceRules.transition(from: status, action: .answer, by: .cardholder, resume: resume)
            if !submitted.isEmpty {
                guard let record = try await tx.serviceCatalogue(version: current.catalogueVersion),
                      let service = try record.catalogue().service(code: current.serviceCode) else {
                    throw StoreError.corrupt("request \(id) names a service its catalogue does not have")
                }
                // Answered values replace the ones given before; verified ones stay as they were.
                var values = current.form.filter { name, _ in !submitted.contains { $0.0 == name } }
                values += submitted
                let prefill = ServiceRules.prefilledValues(service.form, from: try await Self.verifiedData(tx, personID: holder.personID))
                try await tx.updateServiceRequestForm(id: id, form: try ServiceRules.merged(form: service.form, submitted: values, prefill: prefill),
                                                      atMs: time.ms)
            }
            guard try await tx.moveServiceRequest(id: id, from: status, to: next, resume: nil, actor: holder.auditName, action: .answer,
                                                  note: note, atMs: time.ms, historyID: newID()) else {
                throw DomainError.conflict("service.request_changed", "the request changed meanwhile; reload it")
            }
            try await tx.appendAudit(actor: holder.auditName, action: "service.request_answer", objectType: "service_request", objectID: id,
                                     detail: "to=\(next.rawValue)", atMs: time.ms)
            guard let updated = try await tx.serviceRequest(id: id) else { throw StoreError.corrupt("request \(id) vanished") }
            return try .json(try await Self.view(tx, updated, time: time, forClerk: false), status: .ok)
        }
    }

    // MARK: the contribution certificate

    /// Signs the certificate of every month's contributions on record for the request's person.
    func contributionCertificate(_ tx: StoreTx, request: ServiceRequestRecord, time: AppClock.Reading) async throws -> String {
        guard let person = try await tx.person(id: request.personId) else { throw StoreError.corrupt("person \(request.personId) vanished") }
        let rows = try await tx.contributions(personID: request.personId, fromMonth: "0000-00", toMonth: "9999-99")
        guard !rows.isEmpty else {
            throw DomainError.rule("service.no_contributions", "there are no social-insurance contributions on record to certify")
        }
        var employers: [String: String] = [:]
        for id in Set(rows.map(\.employerId)) { employers[id] = try await tx.employer(id: id)?.name.en ?? id }
        let months = Dictionary(grouping: rows, by: \.month).sorted { $0.key < $1.key }.map { month, lines -> JSONValue in
            .object([
                ("month", .string(month)),
                ("employer", .string(lines.first.flatMap { employers[$0.employerId] } ?? "")),
                ("insurances", .array(lines.sorted { $0.insurance < $1.insurance }.map { line in
                    .object([("insurance", .string(line.insurance)), ("base_fen", .number(line.baseFen)),
                             ("employer_fen", .number(line.employerFen)), ("employee_fen", .number(line.employeeFen))])
                })),
            ])
        }
        let payload = JSONValue.object([
            ("iss", .string(config.publicURL)),
            ("sub", .string(person.permitNumber)),
            ("jti", .string(request.id)),
            ("iat", .number(time.ms / 1000)),
            ("type", .string("ContributionCertificate")),
            ("name", .string(person.fullName)),
            ("nationality", .string(person.nationality)),
            ("issued_on", .string(time.today.description)),
            ("months", .array(months)),
            ("total_employer_fen", .number(rows.reduce(0) { $0 + $1.employerFen })),
            ("total_employee_fen", .number(rows.reduce(0) { $0 + $1.employeeFen })),
        ])
        return try JWS.sign(payload: payload.serialized(), kid: keys.signing.kid, typ: Self.certificateTyp, key: keys.signing.privateKey)
    }

    /// `GET …/certificate`: the JWS and its claims as JSON, or (Accept: text/html) a printable
    /// bilingual page carrying the JWS for anyone to verify with the published keys.
    func certificate(_ request: Request, id: String, owned: @escaping @Sendable (ServiceRequestRecord) -> Bool) async throws -> Response {
        let found = try await store.read { tx in try await Self.request(tx, id: id, where: owned) }
        guard let jws = found.certificateJws else {
            throw DomainError.notFound("service.certificate_not_found", "request \(id.prefix(64)) has no certificate (yet)")
        }
        let verified = try JWS.verify(jws, keys: keys.verificationKeys(nowSeconds: clock.nowMs() / 1000), expectedTyp: Self.certificateTyp)
        let claims = try JSONValue.parse(verified.payload)
        if request.headers[.accept]?.contains("text/html") == true {
            var response = Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                                    body: .init(byteBuffer: ByteBuffer(string: CertificatePage.html(claims: claims, jws: jws))))
            response.headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'"
            return response
        }
        return try JSON.response(Schemas.ContributionCertificate(jws: jws, typ: Self.certificateTyp, claims: try Self.claimsView(claims)),
                                 headers: [.cacheControl: "no-store"])
    }

    static func claimsView(_ claims: JSONValue) throws -> Schemas.ContributionCertificate.ClaimsPayload {
        let months = Self.array(claims["months"])
        return Schemas.ContributionCertificate.ClaimsPayload(
            permitNumber: claims["sub"]?.string ?? "", name: claims["name"]?.string ?? "", nationality: claims["nationality"]?.string ?? "",
            issuedOn: claims["issued_on"]?.string ?? "", months: months.compactMap { $0["month"]?.string },
            totalEmployer: API.money(claims["total_employer_fen"]?.int ?? 0), totalEmployee: API.money(claims["total_employee_fen"]?.int ?? 0))
    }

    // MARK: views and lookups

    static func array(_ value: JSONValue?) -> [JSONValue] {
        guard case .array(let items)? = value else { return [] }
        return items
    }

    /// A request the caller may see, else 404 (another department's or person's looks like none).
    static func request(_ tx: StoreTx, id: String, locked: Bool = false,
                        where owned: (ServiceRequestRecord) -> Bool) async throws -> ServiceRequestRecord {
        let found = locked ? try await tx.lockedServiceRequest(id: id) : try await tx.serviceRequest(id: id)
        guard let found, owned(found) else { throw DomainError.notFound("service.request_not_found", "no request \(id.prefix(64))") }
        return found
    }

    static func view(_ tx: StoreTx, _ request: ServiceRequestRecord, time: AppClock.Reading, forClerk: Bool) async throws -> Schemas.ServiceRequest {
        let service = try await tx.serviceCatalogue(version: request.catalogueVersion)?.catalogue().service(code: request.serviceCode)
        let history = try await tx.serviceRequestHistory(requestID: request.id)
        let status = request.requestStatus ?? .submitted
        let due = CivilDate(request.dueOn) ?? time.today
        var form: [String: (any Sendable)?] = [:]
        for (name, value) in request.form {
            switch value {
            case .string(let text): form[name] = text
            case .number(let number): form[name] = Int(number)
            case .bool(let flag): form[name] = flag
            default: form[name] = nil
            }
        }
        var person: Schemas.ServiceRequest.PersonPayload?
        if forClerk, let record = try await tx.person(id: request.personId) {
            person = .init(name: record.fullName, permitNumber: record.permitNumber, nationality: record.nationality)
        }
        return Schemas.ServiceRequest(
            id: request.id, reference: String(request.id.suffix(8)).uppercased(), serviceCode: request.serviceCode,
            serviceName: API.name(service?.name ?? LocalizedName(en: request.serviceCode, zh: request.serviceCode)),
            department: try API.value(request.department), status: try API.value(request.status), channel: try API.value(request.channel),
            form: Schemas.FormValues(additionalProperties: try OpenAPIObjectContainer(unvalidatedValue: form)), prefilled: service?.form.fields.compactMap { $0.prefill == nil ? nil : $0.name } ?? [],
            documentsRequired: service?.documents.map { Schemas.ServiceRequest.DocumentsRequiredPayloadPayload(code: $0.code, name: API.name($0.name)) } ?? [],
            documentsChecked: request.documentsChecked, receivedOn: request.receivedOn, dueOn: request.dueOn,
            overdue: ServiceRules.isOverdue(status: status, due: due, today: time.today), outcomeDocument: request.outcome,
            certificate: request.certificateJws != nil, person: person,
            history: history.map { entry in
                Schemas.ServiceRequest.HistoryPayloadPayload(
                    at: API.instant(ms: entry.atMs), action: entry.action, fromStatus: entry.fromStatus, toStatus: entry.toStatus, note: entry.note,
                    by: entry.actor.hasPrefix("cardholder:") ? .cardholder : .clerk)
            },
            createdAt: API.instant(ms: request.createdAtMs), updatedAt: API.instant(ms: request.updatedAtMs))
    }
}

/// The printable bilingual contribution certificate (no script; the JWS printed for verification).
enum CertificatePage {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func html(claims: JSONValue, jws: String) -> String {
        let months = ServiceController.array(claims["months"])
        let rows = months.map { month -> String in
            let insurances = ServiceController.array(month["insurances"])
            let names = insurances.compactMap { $0["insurance"]?.string }.joined(separator: ", ")
            let paid = insurances.reduce(Int64(0)) { $0 + ($1["employer_fen"]?.int ?? 0) + ($1["employee_fen"]?.int ?? 0) }
            return "<tr><td>\(escape(month["month"]?.string ?? ""))</td><td>\(escape(month["employer"]?.string ?? ""))</td>"
                + "<td>\(escape(names))</td><td class=\"n\">\(InboxRules.yuan(paid))</td></tr>"
        }.joined(separator: "\n")
        return """
        <!DOCTYPE html>
        <html lang="zh-CN"><head><meta charset="utf-8"><title>社会保险缴费证明 · Social-insurance contribution certificate</title>
        <style>body{font-family:sans-serif;max-width:48rem;margin:2rem auto;color:#111}table{border-collapse:collapse;width:100%}
        td,th{border:1px solid #444;padding:.3rem .5rem;text-align:left}.n{text-align:right}code{word-break:break-all;font-size:.7rem}</style></head>
        <body><h1>社会保险缴费证明<br><span lang="en">Social-insurance contribution certificate</span></h1>
        <p>姓名 <span lang="en">Name</span>: <strong>\(escape(claims["name"]?.string ?? ""))</strong> ·
        国籍 <span lang="en">Nationality</span>: \(escape(claims["nationality"]?.string ?? "")) ·
        工作许可 <span lang="en">Work permit</span>: \(escape(claims["sub"]?.string ?? ""))</p>
        <table><thead><tr><th>月份 <span lang="en">Month</span></th><th>单位 <span lang="en">Employer</span></th>
        <th>险种 <span lang="en">Insurances</span></th><th class="n">缴费（元） <span lang="en">Paid (CNY)</span></th></tr></thead>
        <tbody>
        \(rows)
        </tbody></table>
        <p>单位缴费合计 <span lang="en">Employer total</span>: \(InboxRules.yuan(claims["total_employer_fen"]?.int ?? 0)) ·
        个人缴费合计 <span lang="en">Employee total</span>: \(InboxRules.yuan(claims["total_employee_fen"]?.int ?? 0))</p>
        <p>出具日期 <span lang="en">Issued on</span>: \(escape(claims["issued_on"]?.string ?? "")) ·
        出具方 <span lang="en">Issuer</span>: \(escape(claims["iss"]?.string ?? ""))</p>
        <p>电子签名（JWS，可用公布的公钥离线验证）<span lang="en">Signature (JWS; verify offline with the published keys at /.well-known/jwks.json)</span>:</p>
        <p><code>\(escape(jws))</code></p>
        </body></html>
        """
    }
}
