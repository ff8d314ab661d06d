import Foundation
import HTTPTypes
import Hummingbird
import JoinInAPI
import JoinInCore
import JoinInStore
import NIOCore

/// Social insurance and medical insurance (issue 10): providers, the city's policy and catalogue,
/// enrolments and monthly contributions, the cardholder's insurance views. Settlement at the
/// counter lives in `HealthSettlements`.
struct HealthController: Sendable {
    let store: Store
    let config: ServerConfig
    let clock: AppClock
    let pins: PINCheck
    let dynamicCodes: DynamicCodes

    static let providerOwnerType = "medical_provider"
    static let cityOwnerType = "city"
    static let catalogueBytesMax = 16 << 20

    /// Which provider a health terminal must be bound to.
    static func providerKind(of kind: TerminalKind) -> ProviderKind? {
        switch kind {
        case .hospitalCounter: return .hospital
        case .pharmacyPOS: return .pharmacy
        default: return nil
        }
    }

    func register(_ r: inout RouteRegistrar) {
        r.on(.post, "/v1/health/providers", .staff(.admin)) { request, context in try await createProvider(request, context) }
        r.on(.get, "/v1/health/providers", .anyone) { request, _ in try await listProviders(request) }
        r.on(.put, "/v1/health/policies/{city_code}/{year}", Access.staff(.admin).objects(.open(because: "admins manage every city's policy"))) { request, context in
            let admin = try context.staff()
            let (city, year) = try Self.cityAndYear(context)
            let buffer = try await request.body.collect(upTo: MedicalPolicy.jsonBytesMax + 1)
            if let type = request.headers[.contentType], !type.lowercased().hasPrefix("application/json") {
                throw DomainError(.unsupportedMediaType, code: "request.unsupported_media_type", title: "Unsupported media type",
                                  detail: "send the policy as application/json, got \(type.prefix(60))")
            }
            let now = clock.nowMs()
            let (policy, version) = try await HealthImport.importPolicy(store: store, bytes: Array(buffer: buffer), expected: (city, year),
                                                                         actor: admin.auditName, nowMs: now)
            return try Self.policyResponse(city: policy.cityCode, year: policy.year, version: version, atMs: now, body: Array(buffer: buffer),
                                           status: .created)
        }
        r.on(.get, "/v1/health/policies/{city_code}/{year}", Access.anyone.objects(.open(because: "policies are public"))) { _, context in
            let (city, year) = try Self.cityAndYear(context)
            guard let record = try await store.read({ tx in try await tx.currentPolicy(cityCode: city, year: year) }) else {
                throw DomainError.notFound("health.policy_missing", "city \(city) has no medical-insurance policy for \(year)")
            }
            return try Self.policyResponse(city: city, year: year, version: record.version, atMs: record.createdAtMs,
                                           body: Array(record.body.utf8), status: .ok)
        }
        r.on(.put, "/v1/health/catalogues/{city_code}", Access.staff(.admin).objects(.open(because: "admins manage every city's catalogue"))) { request, context in
            let admin = try context.staff()
            let city = try Self.cityCode(context)
            guard let type = request.headers[.contentType], type.lowercased().hasPrefix("text/csv") else {
                throw DomainError(.unsupportedMediaType, code: "request.unsupported_media_type", title: "Unsupported media type",
                                  detail: "send the catalogue as text/csv")
            }
            let buffer = try await request.body.collect(upTo: Self.catalogueBytesMax)
            let now = clock.nowMs()
            let (version, count) = try await HealthImport.importCatalogue(store: store, cityCode: city, bytes: Array(buffer: buffer),
                                                                          actor: admin.auditName, nowMs: now)
            return try JSON.response(Schemas.HealthCatalogueVersion(cityCode: city, version: version, itemCount: Int64(count),
                                                                    importedAt: API.instant(ms: now)), status: .created)
        }
        r.on(.get, "/v1/health/catalogues/{city_code}", Access.anyone.objects(.open(because: "catalogues are public"))) { request, context in try await catalogue(request, context) }

        let employerOrAdmin = Access.staff(.employer, .admin)
        r.on(.post, "/v1/health/enrolments", employerOrAdmin) { request, context in try await enrol(request, context) }
        r.on(.get, "/v1/health/enrolments", employerOrAdmin) { request, context in try await listEnrolments(request, context) }
        r.on(.get, "/v1/health/enrolments/{id}", employerOrAdmin.objects(.owned(by: "an employer sees only its own enrolments"))) { _, context in
            let staff = try context.staff()
            let id = try context.parameters.require("id")
            let view = try await store.read { tx in
                try await enrolmentView(tx, try await ownedEnrolment(tx, id: id, staff: staff), today: clock.today)
            }
            return try JSON.response(view)
        }
        r.on(.post, "/v1/health/enrolments/{id}/end", employerOrAdmin.objects(.owned(by: "an employer ends only its own enrolments"))) {
            request, context in try await endEnrolment(request, context, id: try context.parameters.require("id"))
        }
        r.on(.post, "/v1/health/contribution-batches", employerOrAdmin) { request, context in try await contributions(request, context) }

        r.on(.get, "/v1/ecard/health", .cardholder) { _, context in try await mySummary(context) }
        r.on(.get, "/v1/ecard/health/contributions", .cardholder) { request, context in try await myContributions(request, context) }
        HealthSettlements(store: store, clock: clock, pins: pins, dynamicCodes: dynamicCodes).register(&r)
    }

    // MARK: providers, policies, catalogues

    static func cityCode(_ context: AppContext) throws -> String {
        let city = try context.parameters.require("city_code")
        guard city.count == 6, city.allSatisfy(\.isASCIIDigit) else {
            throw DomainError.malformed("city.code_invalid", "city_code must be a 6-digit GB/T 2260 code")
        }
        return city
    }

    static func cityAndYear(_ context: AppContext) throws -> (String, Int) {
        let city = try cityCode(context)
        guard let year = Int(try context.parameters.require("year")), MedicalPolicy.yearRange.contains(year) else {
            throw DomainError.malformed("health.year_invalid", "year must be a year from 2000 to 2100")
        }
        return (city, year)
    }

    /// The stored document is embedded as it was imported (it was validated on the way in).
    static func policyResponse(city: String, year: Int, version: Int64, atMs: Int64, body: [UInt8], status: HTTPResponse.Status) throws -> Response {
        var bytes = Array("{\"city_code\":\"\(city)\",\"imported_at\":\"\(Timestamps.rfc3339(ms: atMs))\",\"policy\":".utf8)
        bytes += body
        bytes += Array(",\"version\":\(version),\"year\":\(year)}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    func createProvider(_ request: Request, _ context: AppContext) async throws -> Response {
        let admin = try context.staff()
        let (body, bytes) = try await JSON.decode(Schemas.NewHealthProviderRequest.self, from: request, limit: config.bodyBytesMax)
        try JSON.refuseNull(bytes, members: ["tier"])
        let name = try LocalizedName.validated(en: body.name.en, zh: body.name.zh, field: "name")
        let kind: ProviderKind = try API.domain(body.kind)
        let tier = body.tier
        switch (kind, tier) {
        case (.hospital, .some(1...3)), (.pharmacy, .none): break
        case (.hospital, _): throw DomainError.rule("health.tier_invalid", "a hospital needs tier 1, 2 or 3")
        case (.pharmacy, .some): throw DomainError.rule("health.tier_invalid", "a pharmacy has no tier")
        }
        let id = newID()
        let now = clock.nowMs()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: admin.auditName, nowMs: now) { tx in
            try await tx.requireCity(body.cityCode)
            try await tx.insertProvider(id: id, kind: kind, tier: tier, cityCode: body.cityCode, name: name, atMs: now)
            _ = try await tx.openAccount(kind: .medicalProviderSettlement, ownerType: Self.providerOwnerType, ownerID: id, atMs: now)
            try await tx.appendAudit(actor: admin.auditName, action: "health.provider_create", objectType: "health_provider", objectID: id,
                                     detail: "kind=\(kind.rawValue) city=\(body.cityCode)", atMs: now)
            guard let provider = try await tx.provider(id: id) else { throw StoreError.corrupt("provider \(id) vanished") }
            return try .json(try Self.providerView(provider))
        }
    }

    static func providerView(_ provider: HealthProviderRecord) throws -> Schemas.HealthProvider {
        Schemas.HealthProvider(id: provider.id, name: API.name(provider.name), kind: try API.value(provider.kind), tier: provider.tier.map(Int.init),
                               cityCode: provider.cityCode)
    }

    func listProviders(_ request: Request) async throws -> Response {
        let list = try ListParameters(request)
        if let cursor = list.cursor, cursor.utf8.count > 64 {
            throw DomainError.malformed("list.cursor_invalid", "cursor must be the id of the last provider of the previous page")
        }
        let city = request.uri.queryParameters["city_code"].map(String.init)
        if let city, city.count != 6 || !city.allSatisfy(\.isASCIIDigit) {
            throw DomainError.malformed("city.code_invalid", "city_code must be a 6-digit GB/T 2260 code")
        }
        let rows = try await store.read { tx in try await tx.providers(cityCode: city, afterID: list.cursor, limit: list.limit + 1) }
        let (page, next) = list.page(rows) { $0.id }
        return try JSON.response(Schemas.HealthProviderPage(items: try page.map(Self.providerView), nextCursor: next))
    }

    func catalogue(_ request: Request, _ context: AppContext) async throws -> Response {
        let city = try Self.cityCode(context)
        let list = try ListParameters(request)
        let after = request.uri.queryParameters["after"].map(String.init)
        if let after, !MedicalCatalogue.isValidCode(after) {
            throw DomainError.malformed("health.after_invalid", "after must be an item code (1-64 of A-Z, a-z, 0-9, '.', '-', '_')")
        }
        let (record, items) = try await store.read { tx -> (HealthCatalogueRecord, [CatalogueItem]) in
            guard let record = try await tx.currentCatalogue(cityCode: city) else {
                throw DomainError.notFound("health.catalogue_missing", "city \(city) has no medical-insurance catalogue")
            }
            return (record, try await tx.catalogueItems(cityCode: city, version: record.version, afterCode: after, limit: list.limit + 1))
        }
        let (page, next) = list.page(items) { $0.code }
        return try JSON.response(Schemas.HealthCatalogue(cityCode: city, version: record.version, itemCount: record.itemCount,
                                                         items: try page.map(Self.itemView), nextAfter: next))
    }

    static func itemView(_ item: CatalogueItem) throws -> Schemas.CatalogueItem {
        Schemas.CatalogueItem(code: item.code, name: API.name(item.name), _class: try API.domain(item.itemClass), kind: try API.domain(item.kind),
                              unit: item.unit)
    }

    // MARK: enrolments

    func ownedEnrolment(_ tx: StoreTx, id: String, staff: StaffPrincipal) async throws -> HealthEnrolmentRecord {
        guard let enrolment = try await tx.enrolment(id: id), staff.role == .admin || enrolment.employerId == staff.employerID else {
            throw DomainError.notFound("health.enrolment_not_found", "no enrolment \(id.prefix(64))")
        }
        return enrolment
    }

    static func status(_ enrolment: HealthEnrolmentRecord, permit: PermitRecord?, today: CivilDate) -> Schemas.EnrolmentStatus {
        if let end = enrolment.endMonth, end < ContributionRules.month(of: today) { return .ended }
        if permit?.status(today: today) != .valid { return .permitNotValid }
        return .active
    }

    func enrolmentView(_ tx: StoreTx, _ enrolment: HealthEnrolmentRecord, today: CivilDate) async throws -> Schemas.HealthEnrolment {
        guard let permit = try await tx.permit(id: enrolment.permitId) else {
            throw StoreError.corrupt("enrolment \(enrolment.id) names a missing permit")
        }
        return Schemas.HealthEnrolment(
            id: enrolment.id, permitNumber: permit.permitNumber, employerId: enrolment.employerId, cityCode: enrolment.cityCode,
            wage: API.money(enrolment.wageFen), insurances: try enrolment.insuranceTypes.map { try API.domain($0) },
            startMonth: enrolment.startMonth, endMonth: enrolment.endMonth, endReason: enrolment.endReason,
            status: Self.status(enrolment, permit: permit, today: today), createdAt: API.instant(ms: enrolment.createdAtMs))
    }

    func enrol(_ request: Request, _ context: AppContext) async throws -> Response {
        let staff = try context.staff()
        let (body, bytes) = try await JSON.decode(Schemas.NewEnrolmentRequest.self, from: request, limit: 16 * 1024)
        guard let number = try? PermitNumber(validating: body.permitNumber) else {
            throw DomainError.malformed("permit_number.invalid", "permit_number is not a work permit number")
        }
        guard (1...ContributionRules.wageMaxFen).contains(body.wageFen) else {
            throw DomainError.malformed("health.wage_invalid", "wage_fen must be 1-\(ContributionRules.wageMaxFen)")
        }
        let insurances = Set(try body.insurances.map { try API.domain($0, as: InsuranceType.self) })
        guard !insurances.isEmpty, insurances.count == body.insurances.count else {
            throw DomainError.malformed("health.insurances_invalid", "insurances must list each insurance once, at least one")
        }
        _ = try ContributionRules.parseMonth(body.startMonth, field: "start_month")
        let id = newID()
        let time = clock.read()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: staff.auditName, nowMs: time.ms) { tx in
            guard let permit = try await tx.latestPermit(number: number.value),
                  staff.role == .admin || permit.employerId == staff.employerID else {
                throw DomainError.notFound("permit.not_found", "no permit \(number.value) of your employees")
            }
            let status = permit.status(today: time.today)
            guard status == .valid || status == .pending else {
                throw DomainError.rule("health.permit_not_valid", "permit \(number.value) is \(status.rawValue): no enrolment")
            }
            guard body.startMonth >= String(permit.validFrom.prefix(7)), body.startMonth <= String(permit.validUntil.prefix(7)) else {
                throw DomainError.rule("health.month_outside_permit",
                                       "start_month must fall within the permit's validity \(permit.validFrom) to \(permit.validUntil)")
            }
            let existing = try await tx.enrolments(personID: permit.personId)
            if let open = existing.first(where: { $0.endMonth.map { $0 >= body.startMonth } ?? true }) {
                throw DomainError.conflict("health.already_enrolled", "the person is already enrolled (enrolment \(open.id)); end it first")
            }
            guard let employer = try await tx.employer(id: permit.employerId) else { throw StoreError.corrupt("permit without employer") }
            let enrolment = HealthEnrolmentRecord(id: id, personId: permit.personId, employerId: employer.id, permitId: permit.id,
                                                  cityCode: employer.cityCode, wageFen: body.wageFen, insurances: insurances,
                                                  startMonth: body.startMonth, createdBy: staff.auditName, createdAtMs: time.ms)
            try await tx.insertEnrolment(enrolment)
            try await tx.appendAudit(actor: staff.auditName, action: "health.enrol", objectType: "health_enrolment", objectID: id,
                                     detail: "permit=\(number.value) from=\(body.startMonth)", atMs: time.ms)
            return try .json(try await enrolmentView(tx, enrolment, today: time.today))
        }
    }

    func listEnrolments(_ request: Request, _ context: AppContext) async throws -> Response {
        let staff = try context.staff()
        let list = try ListParameters(request)
        let cursor = try list.cursor.map(PageCursor.parse)
        let today = clock.today
        let view = try await store.read { tx in
            let rows = try await tx.enrolments(employerID: staff.role == .admin ? nil : staff.employerID ?? "", before: cursor, limit: list.limit + 1)
            let (page, next) = list.page(rows) { PageCursor(timeMs: $0.createdAtMs, id: $0.id).encoded }
            var items: [Schemas.HealthEnrolment] = []
            for row in page { items.append(try await enrolmentView(tx, row, today: today)) }
            return Schemas.HealthEnrolmentPage(items: items, nextCursor: next)
        }
        return try JSON.response(view)
    }

    func endEnrolment(_ request: Request, _ context: AppContext, id: String) async throws -> Response {
        let staff = try context.staff()
        let (body, bytes) = try await JSON.decode(Schemas.EndEnrolmentRequest.self, from: request, limit: 16 * 1024)
        _ = try ContributionRules.parseMonth(body.endMonth, field: "end_month")
        let reason = body.reason.trimmingWhitespace()
        guard (1...200).contains(reason.scalarCount), !reason.containsControlCharacters else {
            throw DomainError.malformed("health.reason_invalid", "reason must be 1-200 characters")
        }
        let time = clock.read()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: staff.auditName, nowMs: time.ms) { tx in
            let enrolment = try await ownedEnrolment(tx, id: id, staff: staff)
            guard enrolment.endMonth == nil else {
                throw DomainError.conflict("health.enrolment_ended", "enrolment \(id) already ended with \(enrolment.endMonth ?? "")")
            }
            guard body.endMonth >= enrolment.startMonth else {
                throw DomainError.rule("health.end_month_invalid", "end_month \(body.endMonth) is before the start \(enrolment.startMonth)")
            }
            let paid = try await tx.contributions(personID: enrolment.personId, fromMonth: body.endMonth + "~", toMonth: "9999-12")
            if let last = paid.first {
                throw DomainError.rule("health.end_month_invalid", "contributions were paid for \(last.month), after end_month \(body.endMonth)")
            }
            guard try await tx.endEnrolment(id: id, endMonth: body.endMonth, reason: reason, atMs: time.ms) else {
                throw DomainError.conflict("health.enrolment_ended", "enrolment \(id) already ended")
            }
            try await tx.appendAudit(actor: staff.auditName, action: "health.enrolment_end", objectType: "health_enrolment", objectID: id,
                                     detail: "end=\(body.endMonth)", atMs: time.ms)
            guard let updated = try await tx.enrolment(id: id) else { throw StoreError.corrupt("enrolment \(id) vanished") }
            return try .json(try await enrolmentView(tx, updated, today: time.today), status: .ok)
        }
    }

    // MARK: contributions

    func contributions(_ request: Request, _ context: AppContext) async throws -> Response {
        let staff = try context.staff()
        let (body, bytes) = try await JSON.decode(Schemas.ContributionBatchRequest.self, from: request, limit: 256 * 1024)
        let (year, _) = try ContributionRules.parseMonth(body.month, field: "month")
        guard (1...1000).contains(body.lines.count) else {
            throw DomainError.malformed("health.batch_invalid", "a batch has 1-1000 lines, got \(body.lines.count)")
        }
        for (index, line) in body.lines.enumerated() where line.permitNumber.utf8.count > 40 {
            throw DomainError.malformed("health.batch_invalid", "lines[\(index)].permit_number must be at most 40 characters")
        }
        let time = clock.read()
        guard body.month <= ContributionRules.month(of: time.today) else {
            throw DomainError.rule("health.month_in_future", "contributions for \(body.month) cannot be paid before the month begins")
        }
        let month = body.month
        let batchID = newID()
        let numbers = body.lines.map { (try? PermitNumber(validating: $0.permitNumber))?.value }
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: staff.auditName, nowMs: time.ms,
                                           isolation: .lockedRows) { tx in
            enum Outcome { case accepted([ContributionRules.Line], HealthEnrolmentRecord), duplicate, rejected(Schemas.ContributionRejection) }
            var outcomes: [Outcome] = []
            var seen: Set<String> = []
            var candidates: [(index: Int, enrolment: HealthEnrolmentRecord)] = []
            var policies: [String: MedicalPolicy] = [:]
            for number in numbers {
                guard let number, let permit = try await tx.latestPermit(number: number) else { outcomes.append(.rejected(.permitUnknown)); continue }
                guard seen.insert(permit.personId).inserted else { outcomes.append(.rejected(.listedTwice)); continue }
                let enrolments = try await tx.enrolments(personID: permit.personId)
                guard let enrolment = enrolments.first(where: { $0.covers(month: month) }),
                      staff.role == .admin || enrolment.employerId == staff.employerID,
                      let covered = try await tx.permit(id: enrolment.permitId) else {
                    outcomes.append(.rejected(.notEnrolled)); continue
                }
                // The enrolment ends with its permit: no month after the permit's last valid day.
                guard let validFrom = CivilDate(covered.validFrom), let validUntil = CivilDate(covered.validUntil),
                      ContributionRules.permitCovers(month: month, validFrom: validFrom, validUntil: validUntil,
                                                     cancelledOn: covered.cancelledAtMs.map { CivilDate.shanghai(unixSeconds: $0 / 1000) }) else {
                    outcomes.append(.rejected(.permitNotValid)); continue
                }
                if policies[enrolment.cityCode] == nil {
                    policies[enrolment.cityCode] = try await tx.currentPolicy(cityCode: enrolment.cityCode, year: year)?.policy()
                }
                guard let policy = policies[enrolment.cityCode] else { outcomes.append(.rejected(.policyMissing)); continue }
                outcomes.append(.accepted(ContributionRules.month(wageFen: enrolment.wageFen, insurances: Set(enrolment.insuranceTypes),
                                                                   policy: policy), enrolment))
                candidates.append((outcomes.count - 1, enrolment))
            }
            let paid = try await tx.contributedPersons(Set(candidates.map(\.enrolment.personId)), month: month)
            for candidate in candidates where paid.contains(candidate.enrolment.personId) { outcomes[candidate.index] = .duplicate }

            // Records, then the money: per person the personal-account share, per city the pooling share.
            var rows: [HealthContributionRecord] = []
            var personal: [(personID: String, city: String, fen: Int64)] = []
            var pooling: [String: Int64] = [:]
            for outcome in outcomes {
                guard case .accepted(let lines, let enrolment) = outcome else { continue }
                for line in lines {
                    rows.append(HealthContributionRecord(
                        personId: enrolment.personId, month: month, insurance: line.insurance.rawValue, enrolmentId: enrolment.id,
                        employerId: enrolment.employerId, cityCode: enrolment.cityCode, baseFen: line.baseFen, employerFen: line.employerFen,
                        employeeFen: line.employeeFen, personalAccountFen: line.personalAccountFen, batchId: batchID, createdAtMs: time.ms))
                    guard line.insurance == .medical else { continue }
                    if line.personalAccountFen > 0 { personal.append((enrolment.personId, enrolment.cityCode, line.personalAccountFen)) }
                    pooling[enrolment.cityCode, default: 0] += line.employerFen + line.employeeFen - line.personalAccountFen
                }
            }
            if !rows.isEmpty {
                try await tx.insertContributions(rows)
                try await tx.registerReference(type: "contribution_batch", id: batchID, atMs: time.ms)
                let cities = Set(personal.map(\.city)).union(pooling.keys)
                let clearing = try await tx.openAccounts(kind: .contributionClearing, ownerType: Self.cityOwnerType, ownerIDs: cities, atMs: time.ms)
                let funds = try await tx.openAccounts(kind: .medicalPoolingFund, ownerType: Self.cityOwnerType, ownerIDs: Set(pooling.keys), atMs: time.ms)
                let accounts = try await tx.openAccounts(kind: .medicalPersonal, ownerType: "person", ownerIDs: Set(personal.map(\.personID)),
                                                         atMs: time.ms)
                var postings: [Posting] = []
                for credit in personal {
                    guard let from = clearing[credit.city], let to = accounts[credit.personID] else { throw StoreError.corrupt("account missing") }
                    postings.append(Posting(debit: from.id, credit: to.id, amountFen: credit.fen, kind: "contribution_personal_account",
                                            referenceType: "contribution_batch", referenceID: batchID))
                }
                for (city, fen) in pooling.sorted(by: { $0.key < $1.key }) where fen > 0 {
                    guard let from = clearing[city], let to = funds[city] else { throw StoreError.corrupt("account missing") }
                    postings.append(Posting(debit: from.id, credit: to.id, amountFen: fen, kind: "contribution_pooling",
                                            referenceType: "contribution_batch", referenceID: batchID))
                }
                if !postings.isEmpty { _ = try await tx.post(postings, atMs: time.ms) }
            }
            var results: [Schemas.ContributionLineResult] = []
            var counts = (accepted: 0, duplicates: 0, rejected: 0)
            for (line, outcome) in zip(body.lines, outcomes) {
                switch outcome {
                case .accepted(let lines, _):
                    counts.accepted += 1
                    results.append(Schemas.ContributionLineResult(
                        permitNumber: line.permitNumber, outcome: .accepted,
                        employer: API.money(lines.reduce(0) { $0 + $1.employerFen }), employee: API.money(lines.reduce(0) { $0 + $1.employeeFen }),
                        personalAccount: API.money(lines.reduce(0) { $0 + $1.personalAccountFen })))
                case .duplicate:
                    counts.duplicates += 1
                    results.append(Schemas.ContributionLineResult(permitNumber: line.permitNumber, outcome: .duplicate))
                case .rejected(let reason):
                    counts.rejected += 1
                    results.append(Schemas.ContributionLineResult(permitNumber: line.permitNumber, outcome: .rejected, reason: reason))
                }
            }
            try await tx.appendAudit(actor: staff.auditName, action: "health.contributions", objectType: "contribution_batch", objectID: batchID,
                                     detail: "month=\(month) accepted=\(counts.accepted) duplicates=\(counts.duplicates) rejected=\(counts.rejected)",
                                     atMs: time.ms)
            return try .json(Schemas.ContributionBatchResult(batchId: batchID, month: month, accepted: counts.accepted,
                                                             duplicates: counts.duplicates, rejected: counts.rejected, lines: results),
                             status: .ok)
        }
    }

    // MARK: the cardholder's views

    func mySummary(_ context: AppContext) async throws -> Response {
        let holder = try context.cardholder()
        let today = clock.today
        let view = try await store.read { tx in
            let enrolment = try await tx.enrolments(personID: holder.personID).first
            let account = try await tx.account(kind: .medicalPersonal, ownerType: "person", ownerID: holder.personID)
            var summary = Schemas.HealthSummary(status: .notEnrolled, personalAccount: API.money(account?.postedFen ?? 0), year: today.year,
                                                accumulators: try await Self.accumulatorView(tx, personID: holder.personID, year: today.year,
                                                                                            city: enrolment?.cityCode))
            if let enrolment {
                let view = try await enrolmentView(tx, enrolment, today: today)
                summary.enrolment = view
                summary.employerName = try await tx.employer(id: enrolment.employerId).map { API.name($0.name) }
                switch view.status {
                case .active: summary.status = enrolment.insuranceTypes.contains(.medical) ? .insured : .notEnrolled
                case .ended: summary.status = .ended
                case .permitNotValid: summary.status = .permitNotValid
                }
            }
            return summary
        }
        return try JSON.response(view, headers: [.cacheControl: "no-store"])
    }

    static func accumulatorView(_ tx: StoreTx, personID: String, year: Int, city: String?) async throws -> Schemas.HealthAccumulators {
        let values = try await tx.accumulators(personID: personID, year: year)
        let cap = try await city.asyncMap { try await tx.currentPolicy(cityCode: $0, year: year)?.policy().annualFundCapFen }
        func met(_ visit: VisitType) -> Schemas.Money { API.money(values[SettlementRules.AccumulatorKey.deductible(visit)] ?? 0) }
        return Schemas.HealthAccumulators(fundPaid: API.money(values[SettlementRules.AccumulatorKey.fundYear] ?? 0),
                                          annualFundCap: (cap ?? nil).map(API.money),
                                          deductibleMet: .init(outpatient: met(.outpatient), inpatient: met(.inpatient), pharmacy: met(.pharmacy)))
    }

    func myContributions(_ request: Request, _ context: AppContext) async throws -> Response {
        let holder = try context.cardholder()
        var chosen = clock.today.year
        if let text = request.uri.queryParameters["year"] {
            guard let parsed = Int(String(text)), MedicalPolicy.yearRange.contains(parsed) else {
                throw DomainError.malformed("health.year_invalid", "year must be a year from 2000 to 2100")
            }
            chosen = parsed
        }
        let year = chosen
        let view = try await store.read { tx in
            let rows = try await tx.contributions(personID: holder.personID, fromMonth: String(format: "%04d-01", year),
                                                  toMonth: String(format: "%04d-12", year))
            var employers: [String: Schemas.LocalizedName] = [:]
            var months: [Schemas.ContributionHistory.MonthsPayloadPayload] = []
            var totals: [InsuranceType: (base: Int64, employer: Int64, employee: Int64, personal: Int64)] = [:]
            for (month, entries) in Dictionary(grouping: rows, by: \.month).sorted(by: { $0.key > $1.key }) {
                let employerID = entries.first?.employerId ?? ""
                if employers[employerID] == nil {
                    guard let employer = try await tx.employer(id: employerID) else { throw StoreError.corrupt("contribution without employer") }
                    employers[employerID] = API.name(employer.name)
                }
                var items: [Schemas.ContributionEntry] = []
                for entry in entries.sorted(by: { (InsuranceType(rawValue: $0.insurance) ?? .medical) < (InsuranceType(rawValue: $1.insurance) ?? .medical) }) {
                    let type: InsuranceType = try API.value(entry.insurance)
                    items.append(Schemas.ContributionEntry(insurance: try API.domain(type), base: API.money(entry.baseFen),
                                                           employer: API.money(entry.employerFen), employee: API.money(entry.employeeFen),
                                                           personalAccount: API.money(entry.personalAccountFen)))
                    var total = totals[type] ?? (0, 0, 0, 0)
                    total = (total.base + entry.baseFen, total.employer + entry.employerFen, total.employee + entry.employeeFen,
                             total.personal + entry.personalAccountFen)
                    totals[type] = total
                }
                months.append(.init(month: month, employerName: employers[employerID] ?? API.name(LocalizedName(en: "", zh: "")), entries: items))
            }
            let totalEntries = try totals.sorted(by: { $0.key < $1.key }).map { type, total in
                Schemas.ContributionEntry(insurance: try API.domain(type), base: API.money(total.base), employer: API.money(total.employer),
                                          employee: API.money(total.employee), personalAccount: API.money(total.personal))
            }
            return Schemas.ContributionHistory(year: year, months: months, totals: totalEntries)
        }
        return try JSON.response(view, headers: [.cacheControl: "no-store"])
    }
}
