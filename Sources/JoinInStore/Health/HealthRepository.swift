public import JoinInCore
import Foundation
import SQLKit

// Medical insurance (issue 10): providers, the city's yearly policy and its catalogue (both
// versioned), enrolments, monthly contributions, the yearly accumulators and settlements.

public struct HealthProviderRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let kind: String
    public let tier: Int64?
    public let cityCode: String
    public let nameEn: String
    public let nameZh: String
    public let createdAtMs: Int64

    public var name: LocalizedName { LocalizedName(en: nameEn, zh: nameZh) }
    public var providerKind: ProviderKind? { ProviderKind(rawValue: kind) }
}

public struct HealthPolicyRecord: Sendable, Equatable, Decodable {
    public let cityCode: String
    public let year: Int64
    public let version: Int64
    public let body: String
    public let importedBy: String
    public let createdAtMs: Int64

    /// The stored document, validated again on the way out (a row that no longer parses is corrupt).
    public func policy() throws -> MedicalPolicy {
        do { return try MedicalPolicy.parse(Array(body.utf8)) } catch {
            throw StoreError.corrupt("health policy \(cityCode)/\(year) v\(version) no longer parses: \(error)")
        }
    }
}

public struct HealthCatalogueRecord: Sendable, Equatable, Decodable {
    public let cityCode: String
    public let version: Int64
    public let itemCount: Int64
    public let importedBy: String
    public let createdAtMs: Int64
}

struct CatalogueItemRow: Decodable {
    let code: String
    let nameEn: String
    let nameZh: String
    let itemClass: String
    let kind: String
    let unit: String

    func item() throws -> CatalogueItem {
        guard let itemClass = ItemClass(rawValue: itemClass), let kind = ItemKind(rawValue: kind) else {
            throw StoreError.corrupt("catalogue item \(code) has class \(itemClass) kind \(kind)")
        }
        return CatalogueItem(code: code, name: LocalizedName(en: nameEn, zh: nameZh), itemClass: itemClass, kind: kind, unit: unit)
    }
}

public struct HealthEnrolmentRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let personId: String
    public let employerId: String
    public let permitId: String
    public let cityCode: String
    public let wageFen: Int64
    public let insurances: String
    public let startMonth: String
    public let endMonth: String?
    public let endReason: String?
    public let createdBy: String
    public let createdAtMs: Int64
    public let endedAtMs: Int64?

    public init(id: String, personId: String, employerId: String, permitId: String, cityCode: String, wageFen: Int64,
                insurances: Set<InsuranceType>, startMonth: String, createdBy: String, createdAtMs: Int64) {
        self.id = id
        self.personId = personId
        self.employerId = employerId
        self.permitId = permitId
        self.cityCode = cityCode
        self.wageFen = wageFen
        self.insurances = insurances.sorted().map(\.rawValue).joined(separator: ",")
        self.startMonth = startMonth
        self.endMonth = nil
        self.endReason = nil
        self.createdBy = createdBy
        self.createdAtMs = createdAtMs
        self.endedAtMs = nil
    }

    public var insuranceTypes: [InsuranceType] {
        insurances.split(separator: ",").compactMap { InsuranceType(rawValue: String($0)) }.sorted()
    }

    /// Months `YYYY-MM` compare as text; the enrolment covers start…end (open-ended without an end).
    public func covers(month: String) -> Bool {
        month >= startMonth && (endMonth.map { month <= $0 } ?? true)
    }
}

public struct HealthContributionRecord: Sendable, Equatable, Decodable {
    public let personId: String
    public let month: String
    public let insurance: String
    public let enrolmentId: String
    public let employerId: String
    public let cityCode: String
    public let baseFen: Int64
    public let employerFen: Int64
    public let employeeFen: Int64
    public let personalAccountFen: Int64
    public let batchId: String
    public let createdAtMs: Int64

    public init(personId: String, month: String, insurance: String, enrolmentId: String, employerId: String, cityCode: String,
                baseFen: Int64, employerFen: Int64, employeeFen: Int64, personalAccountFen: Int64, batchId: String, createdAtMs: Int64) {
        self.personId = personId
        self.month = month
        self.insurance = insurance
        self.enrolmentId = enrolmentId
        self.employerId = employerId
        self.cityCode = cityCode
        self.baseFen = baseFen
        self.employerFen = employerFen
        self.employeeFen = employeeFen
        self.personalAccountFen = personalAccountFen
        self.batchId = batchId
        self.createdAtMs = createdAtMs
    }
}

public struct HealthSettlementRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let personId: String
    public let cardNumber: String
    public let providerId: String
    public let terminalId: String
    public let visitType: String
    public let tier: Int64?
    public let insuredCity: String
    public let providerCity: String
    public let policyYear: Int64
    public let policyVersion: Int64
    public let catalogueVersion: Int64
    public let amountFen: Int64
    public let fundFen: Int64
    public let personalAccountFen: Int64
    public let cashFen: Int64
    public let cashMethod: String
    public let deductibleCountedFen: Int64
    /// The itemised bill and its breakdown, sealed: what was bought at a hospital is health data.
    public let detailSealed: String
    public let providerReference: String
    public let status: String
    public let createdAtMs: Int64
    public let reversedAtMs: Int64?
    public let reversalId: String?

    public init(id: String, personId: String, cardNumber: String, providerId: String, terminalId: String, visitType: String, tier: Int64?,
                insuredCity: String, providerCity: String, policyYear: Int64, policyVersion: Int64, catalogueVersion: Int64,
                amountFen: Int64, fundFen: Int64, personalAccountFen: Int64, cashFen: Int64, cashMethod: String,
                deductibleCountedFen: Int64, detailSealed: String, providerReference: String, createdAtMs: Int64) {
        self.id = id
        self.personId = personId
        self.cardNumber = cardNumber
        self.providerId = providerId
        self.terminalId = terminalId
        self.visitType = visitType
        self.tier = tier
        self.insuredCity = insuredCity
        self.providerCity = providerCity
        self.policyYear = policyYear
        self.policyVersion = policyVersion
        self.catalogueVersion = catalogueVersion
        self.amountFen = amountFen
        self.fundFen = fundFen
        self.personalAccountFen = personalAccountFen
        self.cashFen = cashFen
        self.cashMethod = cashMethod
        self.deductibleCountedFen = deductibleCountedFen
        self.detailSealed = detailSealed
        self.providerReference = providerReference
        self.status = "settled"
        self.createdAtMs = createdAtMs
        self.reversedAtMs = nil
        self.reversalId = nil
    }
}

extension StoreTx {
    static let settlementDetailColumn = "health_settlements.detail_sealed"

    // MARK: providers

    public func insertProvider(id: String, kind: ProviderKind, tier: Int?, cityCode: String, name: LocalizedName, atMs: Int64) async throws {
        try await sql.raw("""
            INSERT INTO health_providers (id, kind, tier, city_code, name_en, name_zh, created_at_ms)
            VALUES (\(bind: id), \(bind: kind.rawValue), \(bind: tier.map(Int64.init)), \(bind: cityCode), \(bind: name.en), \(bind: name.zh), \(bind: atMs))
            """).run()
    }

    public func provider(id: String) async throws -> HealthProviderRecord? {
        try await sql.raw("SELECT * FROM health_providers WHERE id = \(bind: id)").firstRecord(HealthProviderRecord.self)
    }

    /// Providers in id order after `afterID`, optionally of one city.
    public func providers(cityCode: String?, afterID: String?, limit: Int) async throws -> [HealthProviderRecord] {
        var query = SQLQueryString("SELECT * FROM health_providers WHERE id > \(bind: afterID ?? "")")
        if let cityCode { query = query + SQLQueryString(" AND city_code = \(bind: cityCode)") }
        query = query + SQLQueryString(" ORDER BY id LIMIT \(bind: max(0, limit))")
        return try await sql.raw(query).allRecords(HealthProviderRecord.self)
    }

    // MARK: policies

    /// Stores a policy document as the next version for its city and year; returns the version.
    public func insertPolicy(_ policy: MedicalPolicy, body: String, importedBy: String, atMs: Int64) async throws -> Int64 {
        let row = try await sql.raw("""
            SELECT COALESCE(MAX(version), 0) AS v FROM health_policies WHERE city_code = \(bind: policy.cityCode) AND year = \(bind: Int64(policy.year))
            """).first()
        let version = (try row?.decode(column: "v", as: Int64.self) ?? 0) + 1
        try await sql.raw("""
            INSERT INTO health_policies (city_code, year, version, body, imported_by, created_at_ms)
            VALUES (\(bind: policy.cityCode), \(bind: Int64(policy.year)), \(bind: version), \(bind: body), \(bind: importedBy), \(bind: atMs))
            """).run()
        return version
    }

    /// The newest version of a city's policy for a year.
    public func currentPolicy(cityCode: String, year: Int) async throws -> HealthPolicyRecord? {
        try await sql.raw("""
            SELECT * FROM health_policies WHERE city_code = \(bind: cityCode) AND year = \(bind: Int64(year)) ORDER BY version DESC LIMIT 1
            """).firstRecord(HealthPolicyRecord.self)
    }

    public func policy(cityCode: String, year: Int, version: Int64) async throws -> HealthPolicyRecord? {
        try await sql.raw("""
            SELECT * FROM health_policies WHERE city_code = \(bind: cityCode) AND year = \(bind: Int64(year)) AND version = \(bind: version)
            """).firstRecord(HealthPolicyRecord.self)
    }

    /// Every version of a city's policies, newest year and version first.
    public func policies(cityCode: String) async throws -> [HealthPolicyRecord] {
        try await sql.raw("""
            SELECT * FROM health_policies WHERE city_code = \(bind: cityCode) ORDER BY year DESC, version DESC LIMIT 200
            """).allRecords(HealthPolicyRecord.self)
    }

    // MARK: catalogues

    /// Stores a catalogue as the city's next version; returns the version.
    public func insertCatalogue(cityCode: String, items: [CatalogueItem], importedBy: String, atMs: Int64) async throws -> Int64 {
        let row = try await sql.raw("SELECT COALESCE(MAX(version), 0) AS v FROM health_catalogues WHERE city_code = \(bind: cityCode)").first()
        let version = (try row?.decode(column: "v", as: Int64.self) ?? 0) + 1
        try await sql.raw("""
            INSERT INTO health_catalogues (city_code, version, item_count, imported_by, created_at_ms)
            VALUES (\(bind: cityCode), \(bind: version), \(bind: Int64(items.count)), \(bind: importedBy), \(bind: atMs))
            """).run()
        for chunk in chunked(items, bindsPerItem: 8) {
            var query = SQLQueryString("INSERT INTO health_catalogue_items (city_code, version, code, name_en, name_zh, item_class, kind, unit) VALUES ")
            for (index, item) in chunk.enumerated() {
                if index > 0 { query = query + SQLQueryString(", ") }
                query = query + SQLQueryString("""
                    (\(bind: cityCode), \(bind: version), \(bind: item.code), \(bind: item.name.en), \(bind: item.name.zh),
                     \(bind: item.itemClass.rawValue), \(bind: item.kind.rawValue), \(bind: item.unit))
                    """)
            }
            try await sql.raw(query).run()
        }
        return version
    }

    public func currentCatalogue(cityCode: String) async throws -> HealthCatalogueRecord? {
        try await sql.raw("SELECT * FROM health_catalogues WHERE city_code = \(bind: cityCode) ORDER BY version DESC LIMIT 1")
            .firstRecord(HealthCatalogueRecord.self)
    }

    /// The items of one catalogue version with these codes (codes not in it are absent).
    public func catalogueItems(cityCode: String, version: Int64, codes: Set<String>) async throws -> [String: CatalogueItem] {
        var result: [String: CatalogueItem] = [:]
        for chunk in chunked(codes.sorted(), bindsPerItem: 1) {
            let query = SQLQueryString("""
                SELECT code, name_en, name_zh, item_class, kind, unit FROM health_catalogue_items
                WHERE city_code = \(bind: cityCode) AND version = \(bind: version) AND code IN (\(binds: Array(chunk)))
                """)
            for row in try await sql.raw(query).allRecords(CatalogueItemRow.self) {
                result[row.code] = try row.item()
            }
        }
        return result
    }

    /// A page of one catalogue version in code order.
    public func catalogueItems(cityCode: String, version: Int64, afterCode: String?, limit: Int) async throws -> [CatalogueItem] {
        try await sql.raw("""
            SELECT code, name_en, name_zh, item_class, kind, unit FROM health_catalogue_items
            WHERE city_code = \(bind: cityCode) AND version = \(bind: version) AND code > \(bind: afterCode ?? "")
            ORDER BY code LIMIT \(bind: max(0, limit))
            """).allRecords(CatalogueItemRow.self).map { try $0.item() }
    }

    // MARK: enrolments

    public func insertEnrolment(_ enrolment: HealthEnrolmentRecord) async throws {
        try await sql.raw("""
            INSERT INTO health_enrolments (id, person_id, employer_id, permit_id, city_code, wage_fen, insurances, start_month,
                created_by, created_at_ms)
            VALUES (\(bind: enrolment.id), \(bind: enrolment.personId), \(bind: enrolment.employerId), \(bind: enrolment.permitId),
                \(bind: enrolment.cityCode), \(bind: enrolment.wageFen), \(bind: enrolment.insurances), \(bind: enrolment.startMonth),
                \(bind: enrolment.createdBy), \(bind: enrolment.createdAtMs))
            """).run()
    }

    public func enrolment(id: String) async throws -> HealthEnrolmentRecord? {
        try await sql.raw("SELECT * FROM health_enrolments WHERE id = \(bind: id)").firstRecord(HealthEnrolmentRecord.self)
    }

    /// A person's enrolments, newest first.
    public func enrolments(personID: String) async throws -> [HealthEnrolmentRecord] {
        try await sql.raw("SELECT * FROM health_enrolments WHERE person_id = \(bind: personID) ORDER BY created_at_ms DESC, id DESC LIMIT 100")
            .allRecords(HealthEnrolmentRecord.self)
    }

    /// An employer's enrolments (or everyone's, for nil), newest first.
    public func enrolments(employerID: String?, before cursor: PageCursor?, limit: Int) async throws -> [HealthEnrolmentRecord] {
        let (time, id) = cursor.map { ($0.timeMs, $0.id) } ?? (Int64.max, "")
        var query = SQLQueryString("""
            SELECT * FROM health_enrolments WHERE created_at_ms <= \(bind: time) AND (created_at_ms < \(bind: time) OR id < \(bind: id))
            """)
        if let employerID { query = query + SQLQueryString(" AND employer_id = \(bind: employerID)") }
        query = query + SQLQueryString(" ORDER BY created_at_ms DESC, id DESC LIMIT \(bind: max(0, limit))")
        return try await sql.raw(query).allRecords(HealthEnrolmentRecord.self)
    }

    /// Ends an open enrolment with its last covered month; false when it had already ended.
    public func endEnrolment(id: String, endMonth: String, reason: String, atMs: Int64) async throws -> Bool {
        try await sql.raw("""
            UPDATE health_enrolments SET end_month = \(bind: endMonth), end_reason = \(bind: reason), ended_at_ms = \(bind: atMs)
            WHERE id = \(bind: id) AND end_month IS NULL RETURNING id
            """).all().count == 1
    }

    // MARK: contributions

    /// Which of these persons already have contributions recorded for `month`.
    public func contributedPersons(_ personIDs: Set<String>, month: String) async throws -> Set<String> {
        var result: Set<String> = []
        for chunk in chunked(personIDs.sorted(), bindsPerItem: 1) {
            let query = SQLQueryString("""
                SELECT DISTINCT person_id FROM health_contributions WHERE month = \(bind: month) AND person_id IN (\(binds: Array(chunk)))
                """)
            for row in try await sql.raw(query).all() { result.insert(try row.decode(column: "person_id", as: String.self)) }
        }
        return result
    }

    public func insertContributions(_ rows: [HealthContributionRecord]) async throws {
        for chunk in chunked(rows, bindsPerItem: 12) {
            var query = SQLQueryString("""
                INSERT INTO health_contributions (person_id, month, insurance, enrolment_id, employer_id, city_code, base_fen, employer_fen,
                    employee_fen, personal_account_fen, batch_id, created_at_ms) VALUES
                """)
            for (index, row) in chunk.enumerated() {
                query = query + SQLQueryString(index == 0 ? " " : ", ") + SQLQueryString("""
                    (\(bind: row.personId), \(bind: row.month), \(bind: row.insurance), \(bind: row.enrolmentId), \(bind: row.employerId),
                     \(bind: row.cityCode), \(bind: row.baseFen), \(bind: row.employerFen), \(bind: row.employeeFen),
                     \(bind: row.personalAccountFen), \(bind: row.batchId), \(bind: row.createdAtMs))
                    """)
            }
            try await sql.raw(query).run()
        }
    }

    /// A person's contributions in months `fromMonth…toMonth`, newest month first.
    public func contributions(personID: String, fromMonth: String, toMonth: String) async throws -> [HealthContributionRecord] {
        try await sql.raw("""
            SELECT * FROM health_contributions WHERE person_id = \(bind: personID) AND month >= \(bind: fromMonth) AND month <= \(bind: toMonth)
            ORDER BY month DESC, insurance LIMIT 1000
            """).allRecords(HealthContributionRecord.self)
    }

    // MARK: accumulators

    public func accumulators(personID: String, year: Int) async throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for row in try await sql.raw("""
            SELECT accumulator, amount_fen FROM health_accumulators WHERE person_id = \(bind: personID) AND year = \(bind: Int64(year))
            """).all() {
            result[try row.decode(column: "accumulator", as: String.self)] = try row.decode(column: "amount_fen", as: Int64.self)
        }
        return result
    }

    /// Adds (or, negative, takes back) amounts to a person's yearly accumulators. The caller holds
    /// the person's medical lock (their personal account row), so accumulators never race.
    public func addToAccumulators(personID: String, year: Int, _ deltas: [String: Int64]) async throws {
        for (key, delta) in deltas.sorted(by: { $0.key < $1.key }) where delta != 0 {
            let updated = try await sql.raw("""
                INSERT INTO health_accumulators (person_id, year, accumulator, amount_fen)
                VALUES (\(bind: personID), \(bind: Int64(year)), \(bind: key), \(bind: delta))
                ON CONFLICT (person_id, year, accumulator) DO UPDATE SET amount_fen = health_accumulators.amount_fen + excluded.amount_fen
                RETURNING amount_fen
                """).first()
            guard let value = try updated?.decode(column: "amount_fen", as: Int64.self), value >= 0 else {
                throw StoreError.corrupt("accumulator \(key) of person \(personID) for \(year) would be negative")
            }
        }
    }

    // MARK: settlements

    public func sealSettlementDetail(_ json: String) throws -> String { try seal(json, column: Self.settlementDetailColumn) }

    public func openSettlementDetail(_ settlement: HealthSettlementRecord) throws -> String {
        try open(settlement.detailSealed, column: Self.settlementDetailColumn)
    }

    public func insertSettlement(_ s: HealthSettlementRecord) async throws {
        try await sql.raw("""
            INSERT INTO health_settlements (id, person_id, card_number, provider_id, terminal_id, visit_type, tier, insured_city,
                provider_city, policy_year, policy_version, catalogue_version, amount_fen, fund_fen, personal_account_fen, cash_fen,
                cash_method, deductible_counted_fen, detail_sealed, provider_reference, status, created_at_ms)
            VALUES (\(bind: s.id), \(bind: s.personId), \(bind: s.cardNumber), \(bind: s.providerId), \(bind: s.terminalId),
                \(bind: s.visitType), \(bind: s.tier), \(bind: s.insuredCity), \(bind: s.providerCity), \(bind: s.policyYear),
                \(bind: s.policyVersion), \(bind: s.catalogueVersion), \(bind: s.amountFen), \(bind: s.fundFen),
                \(bind: s.personalAccountFen), \(bind: s.cashFen), \(bind: s.cashMethod), \(bind: s.deductibleCountedFen),
                \(bind: s.detailSealed), \(bind: s.providerReference), \(bind: s.status), \(bind: s.createdAtMs))
            """).run()
    }

    public func settlement(id: String) async throws -> HealthSettlementRecord? {
        try await sql.raw("SELECT * FROM health_settlements WHERE id = \(bind: id)").firstRecord(HealthSettlementRecord.self)
    }

    /// A person's settlements, newest first.
    public func settlements(personID: String, before cursor: PageCursor?, limit: Int) async throws -> [HealthSettlementRecord] {
        let (time, id) = cursor.map { ($0.timeMs, $0.id) } ?? (Int64.max, "")
        return try await sql.raw("""
            SELECT * FROM health_settlements WHERE person_id = \(bind: personID)
                AND created_at_ms <= \(bind: time) AND (created_at_ms < \(bind: time) OR id < \(bind: id))
            ORDER BY created_at_ms DESC, id DESC LIMIT \(bind: max(0, limit))
            """).allRecords(HealthSettlementRecord.self)
    }

    /// Marks a settlement reversed; false when it already was (the conditional update is the guard).
    public func markSettlementReversed(id: String, reversalID: String, atMs: Int64) async throws -> Bool {
        try await sql.raw("""
            UPDATE health_settlements SET status = 'reversed', reversed_at_ms = \(bind: atMs), reversal_id = \(bind: reversalID)
            WHERE id = \(bind: id) AND status = 'settled' RETURNING id
            """).all().count == 1
    }
}
