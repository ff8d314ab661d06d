public import JoinInCore
import SQLKit

public struct TransitOperatorRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let nameEn: String
    public let nameZh: String
    public let cityCode: String
    /// Comma-separated modes (`metro,bus`).
    public let modes: String
    public let cardholderCategoryId: String?
    public let maxJourneySeconds: Int64
    public let exitWithoutEntry: String
    public let createdAtMs: Int64
    public let updatedAtMs: Int64

    public var name: LocalizedName { LocalizedName(en: nameEn, zh: nameZh) }
    public var modeList: [String] { modes.split(separator: ",").map(String.init) }

    public init(id: String, name: LocalizedName, cityCode: String, modes: [String], cardholderCategoryId: String?,
                maxJourneySeconds: Int64, exitWithoutEntry: String, createdAtMs: Int64, updatedAtMs: Int64) {
        self.id = id
        nameEn = name.en
        nameZh = name.zh
        self.cityCode = cityCode
        self.modes = modes.joined(separator: ",")
        self.cardholderCategoryId = cardholderCategoryId
        self.maxJourneySeconds = maxJourneySeconds
        self.exitWithoutEntry = exitWithoutEntry
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
    }

    public func terms() throws -> TripPricing.OperatorTerms {
        guard let rule = TripPricing.ExitWithoutEntry(rawValue: exitWithoutEntry) else {
            throw StoreError.corrupt("transit operator \(id): exit_without_entry '\(exitWithoutEntry)'")
        }
        return TripPricing.OperatorTerms(cardholderCategoryID: cardholderCategoryId, maxJourneySeconds: Int(maxJourneySeconds),
                                         exitWithoutEntry: rule)
    }
}

/// One imported feed version, without the feed itself.
public struct FareVersionRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let operatorId: String
    public let version: Int64
    public let validFromMs: Int64
    public let feedSha256: String
    public let summary: String
    public let importedBy: String
    public let createdAtMs: Int64
}

/// A city's caps from one service day on (until the next row's `effective_from`).
public struct TransitCityCaps: Sendable, Equatable, Decodable {
    public let cityCode: String
    public let effectiveFrom: String
    public let dailyCapFen: Int64?
    public let weeklyCapFen: Int64?
    public let updatedAtMs: Int64

    public var caps: TripPricing.Caps { TripPricing.Caps(dailyFen: dailyCapFen, weeklyFen: weeklyCapFen) }
}

/// Every cap row of some cities: which caps were in force on a day.
public struct TransitCapSchedule: Sendable, Equatable {
    public let rows: [String: [TransitCityCaps]]   // city → rows by effective_from ascending
    public init(rows: [String: [TransitCityCaps]]) { self.rows = rows }

    public func caps(city: String, on day: CivilDate) -> TripPricing.Caps {
        let text = day.description
        return rows[city]?.last(where: { $0.effectiveFrom <= text })?.caps ?? TripPricing.Caps(dailyFen: nil, weeklyFen: nil)
    }
}

/// A tap as stored: accepted once per (terminal, sequence).
public struct TransitTapRecord: Sendable, Equatable, Decodable {
    public let terminalId: String
    public let sequence: Int64
    public let operatorId: String
    public let cityCode: String
    public let personId: String
    public let cardNumber: String
    public let fareVersionId: String
    public let tappedAtMs: Int64
    public let utcOffsetMinutes: Int64
    public let kind: String
    public let stopId: String
    public let routeId: String?
    public let cardholderFare: Int64
    /// The operator's terms when the tap was accepted (`TripPricing.Tap.terms`).
    public let riderCategoryId: String?
    public let maxJourneySeconds: Int64
    public let exitWithoutEntry: String
    public let serviceWeek: String
    public let batchId: String
    public let receivedAtMs: Int64

    public init(terminalId: String, sequence: Int64, operatorId: String, cityCode: String, personId: String, cardNumber: String,
                fareVersionId: String, tappedAtMs: Int64, utcOffsetMinutes: Int64, kind: String, stopId: String, routeId: String?,
                cardholderFare: Bool, terms: TripPricing.OperatorTerms, serviceWeek: String, batchId: String, receivedAtMs: Int64) {
        self.terminalId = terminalId
        self.sequence = sequence
        self.operatorId = operatorId
        self.cityCode = cityCode
        self.personId = personId
        self.cardNumber = cardNumber
        self.fareVersionId = fareVersionId
        self.tappedAtMs = tappedAtMs
        self.utcOffsetMinutes = utcOffsetMinutes
        self.kind = kind
        self.stopId = stopId
        self.routeId = routeId
        self.cardholderFare = cardholderFare ? 1 : 0
        riderCategoryId = terms.cardholderCategoryID
        maxJourneySeconds = Int64(terms.maxJourneySeconds)
        exitWithoutEntry = terms.exitWithoutEntry.rawValue
        self.serviceWeek = serviceWeek
        self.batchId = batchId
        self.receivedAtMs = receivedAtMs
    }

    /// Column names spelled out: rows are decoded without a key strategy, because converting every
    /// key of every row to snake case cost a quarter of a 10,000-tap batch (measured with perf).
    enum CodingKeys: String, CodingKey {
        case terminalId = "terminal_id", sequence, operatorId = "operator_id", cityCode = "city_code", personId = "person_id"
        case cardNumber = "card_number", fareVersionId = "fare_version_id", tappedAtMs = "tapped_at_ms"
        case utcOffsetMinutes = "utc_offset_minutes", kind, stopId = "stop_id", routeId = "route_id", cardholderFare = "cardholder_fare"
        case riderCategoryId = "rider_category_id", maxJourneySeconds = "max_journey_seconds", exitWithoutEntry = "exit_without_entry"
        case serviceWeek = "service_week", batchId = "batch_id", receivedAtMs = "received_at_ms"
    }

    public var tapID: String { "\(terminalId):\(sequence)" }

    /// The same tap as another upload of it: everything the gate sent is equal.
    public func sameTap(as other: TransitTapRecord) -> Bool {
        (cardNumber, tappedAtMs, utcOffsetMinutes, kind, stopId, routeId)
            == (other.cardNumber, other.tappedAtMs, other.utcOffsetMinutes, other.kind, other.stopId, other.routeId)
    }

    public func pricingTap() throws -> TripPricing.Tap {
        guard let kind = TripPricing.TapKind(rawValue: kind), let rule = TripPricing.ExitWithoutEntry(rawValue: exitWithoutEntry) else {
            throw StoreError.corrupt("transit tap \(tapID): kind '\(kind)' or exit rule '\(exitWithoutEntry)'")
        }
        return TripPricing.Tap(id: tapID, operatorID: operatorId, feedVersionID: fareVersionId, unixMs: tappedAtMs,
                               utcOffsetMinutes: Int(utcOffsetMinutes), kind: kind, stopID: stopId, routeID: routeId,
                               cardholderFare: cardholderFare != 0,
                               terms: TripPricing.OperatorTerms(cardholderCategoryID: riderCategoryId, maxJourneySeconds: Int(maxJourneySeconds),
                                                                exitWithoutEntry: rule))
    }
}

/// One cardholder's week in one city: the unit that is re-priced when a tap arrives.
public struct TransitUnit: Sendable, Hashable, Comparable {
    public let personID: String
    public let cityCode: String
    /// The Monday of the service week, YYYY-MM-DD.
    public let serviceWeek: String
    public init(personID: String, cityCode: String, serviceWeek: String) {
        self.personID = personID
        self.cityCode = cityCode
        self.serviceWeek = serviceWeek
    }
    public static func < (a: Self, b: Self) -> Bool { (a.personID, a.cityCode, a.serviceWeek) < (b.personID, b.cityCode, b.serviceWeek) }
}

public struct TransitTripRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let personId: String
    public let cityCode: String
    public let serviceWeek: String
    public let serviceDay: String
    public let operatorId: String
    public let kind: String
    public let fareVersionId: String
    public let entryTapId: String?
    public let exitTapId: String?
    public let fromStopId: String?
    public let toStopId: String?
    public let routeId: String?
    public let startedAtMs: Int64
    public let endedAtMs: Int64
    public let utcOffsetMinutes: Int64
    public let fareProductId: String?
    public let cardholderFare: Int64
    public let fullFareFen: Int64
    public let fareFen: Int64
    public let chargedFen: Int64
    public let isTransfer: Int64
    public let capApplied: Int64
    public let noMatchingRule: Int64
    public let pricedAtMs: Int64

    public init(id: String, personId: String, cityCode: String, serviceWeek: String, serviceDay: String, operatorId: String, kind: String, fareVersionId: String, entryTapId: String?, exitTapId: String?, fromStopId: String?, toStopId: String?, routeId: String?, startedAtMs: Int64, endedAtMs: Int64, utcOffsetMinutes: Int64, fareProductId: String?, cardholderFare: Int64, fullFareFen: Int64, fareFen: Int64, chargedFen: Int64, isTransfer: Int64, capApplied: Int64, noMatchingRule: Int64, pricedAtMs: Int64) {
        self.id = id
        self.personId = personId
        self.cityCode = cityCode
        self.serviceWeek = serviceWeek
        self.serviceDay = serviceDay
        self.operatorId = operatorId
        self.kind = kind
        self.fareVersionId = fareVersionId
        self.entryTapId = entryTapId
        self.exitTapId = exitTapId
        self.fromStopId = fromStopId
        self.toStopId = toStopId
        self.routeId = routeId
        self.startedAtMs = startedAtMs
        self.endedAtMs = endedAtMs
        self.utcOffsetMinutes = utcOffsetMinutes
        self.fareProductId = fareProductId
        self.cardholderFare = cardholderFare
        self.fullFareFen = fullFareFen
        self.fareFen = fareFen
        self.chargedFen = chargedFen
        self.isTransfer = isTransfer
        self.capApplied = capApplied
        self.noMatchingRule = noMatchingRule
        self.pricedAtMs = pricedAtMs
    }
}

public struct TransitChargeRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let personId: String
    public let operatorId: String
    public let cityCode: String
    public let serviceDay: String
    public let serviceWeek: String
    /// `charge` (amount > 0) or `adjustment` (either sign).
    public let kind: String
    public let amountFen: Int64
    public let walletFen: Int64
    public let debtFen: Int64
    public let batchId: String
    public let createdAtMs: Int64

    public init(id: String, personId: String, operatorId: String, cityCode: String, serviceDay: String, serviceWeek: String, kind: String,
                amountFen: Int64, walletFen: Int64, debtFen: Int64, batchId: String, createdAtMs: Int64) {
        self.id = id
        self.personId = personId
        self.operatorId = operatorId
        self.cityCode = cityCode
        self.serviceDay = serviceDay
        self.serviceWeek = serviceWeek
        self.kind = kind
        self.amountFen = amountFen
        self.walletFen = walletFen
        self.debtFen = debtFen
        self.batchId = batchId
        self.createdAtMs = createdAtMs
    }
}

public struct OperatorDaySettlement: Sendable, Equatable, Decodable {
    public let serviceDay: String
    public let charges: Int64
    public let chargedFen: Int64
    public let adjustments: Int64
    public let adjustedFen: Int64
    public let debtFen: Int64
}

public struct DenyListChange: Sendable, Equatable, Decodable {
    public let version: Int64
    public let cardNumber: String
    public let action: String
    public let reason: String
    public let atMs: Int64
}

public struct DenyListEntry: Sendable, Equatable, Decodable {
    public let cardNumber: String
    public let personId: String
    public let reason: String
    public let version: Int64
    public let listedAtMs: Int64
}

extension StoreTx {
    // MARK: operators

    public func insertTransitOperator(_ record: TransitOperatorRecord) async throws {
        try await sql.raw("""
            INSERT INTO transit_operators (id, name_en, name_zh, city_code, modes, cardholder_category_id, max_journey_seconds,
                exit_without_entry, created_at_ms, updated_at_ms)
            VALUES (\(bind: record.id), \(bind: record.nameEn), \(bind: record.nameZh), \(bind: record.cityCode), \(bind: record.modes),
                \(bind: record.cardholderCategoryId), \(bind: record.maxJourneySeconds), \(bind: record.exitWithoutEntry),
                \(bind: record.createdAtMs), \(bind: record.updatedAtMs))
            """).run()
    }

    public func updateTransitOperatorTerms(id: String, cardholderCategoryID: String?, maxJourneySeconds: Int64, exitWithoutEntry: String,
                                           atMs: Int64) async throws {
        try await sql.raw("""
            UPDATE transit_operators SET cardholder_category_id = \(bind: cardholderCategoryID),
                max_journey_seconds = \(bind: maxJourneySeconds), exit_without_entry = \(bind: exitWithoutEntry), updated_at_ms = \(bind: atMs)
            WHERE id = \(bind: id)
            """).run()
    }

    public func transitOperator(id: String) async throws -> TransitOperatorRecord? {
        try await sql.raw("SELECT * FROM transit_operators WHERE id = \(bind: id)").firstRecord(TransitOperatorRecord.self)
    }

    public func transitOperators(ids: Set<String>) async throws -> [String: TransitOperatorRecord] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await sql.raw("SELECT * FROM transit_operators WHERE id IN (\(binds: ids.sorted()))")
            .allRecords(TransitOperatorRecord.self)
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.id, $0) })
    }

    public func transitOperators(cityCode: String?) async throws -> [TransitOperatorRecord] {
        if let cityCode {
            return try await sql.raw("SELECT * FROM transit_operators WHERE city_code = \(bind: cityCode) ORDER BY id")
                .allRecords(TransitOperatorRecord.self)
        }
        return try await sql.raw("SELECT * FROM transit_operators ORDER BY id").allRecords(TransitOperatorRecord.self)
    }

    // MARK: fare versions

    /// Stores a new fare version of the operator (1, 2, …) in force from `validFromMs`.
    public func insertFareVersion(id: String, operatorID: String, validFromMs: Int64, feedJSON: String, feedSHA256: String,
                                  summary: String, importedBy: String, atMs: Int64) async throws -> FareVersionRecord {
        let last = try await sql.raw("""
            SELECT COALESCE(MAX(version), 0) AS v FROM transit_fare_versions WHERE operator_id = \(bind: operatorID)
            """).first()?.decode(column: "v", as: Int64.self) ?? 0
        let record = FareVersionRecord(id: id, operatorId: operatorID, version: last + 1, validFromMs: validFromMs, feedSha256: feedSHA256,
                                       summary: summary, importedBy: importedBy, createdAtMs: atMs)
        try await sql.raw("""
            INSERT INTO transit_fare_versions (id, operator_id, version, valid_from_ms, feed_json, feed_sha256, summary, imported_by, created_at_ms)
            VALUES (\(bind: id), \(bind: operatorID), \(bind: record.version), \(bind: validFromMs), \(bind: feedJSON), \(bind: feedSHA256),
                \(bind: summary), \(bind: importedBy), \(bind: atMs))
            """).run()
        return record
    }

    public func fareVersions(operatorID: String) async throws -> [FareVersionRecord] {
        try await sql.raw("""
            SELECT id, operator_id, version, valid_from_ms, feed_sha256, summary, imported_by, created_at_ms
            FROM transit_fare_versions WHERE operator_id = \(bind: operatorID) ORDER BY version DESC
            """).allRecords(FareVersionRecord.self)
    }

    public func fareFeedJSON(versionID: String) async throws -> String? {
        try await sql.raw("SELECT feed_json FROM transit_fare_versions WHERE id = \(bind: versionID)").first()?
            .decode(column: "feed_json", as: String.self)
    }

    // MARK: cities

    public func transitCapSchedule(cityCodes: Set<String>) async throws -> TransitCapSchedule {
        guard !cityCodes.isEmpty else { return TransitCapSchedule(rows: [:]) }
        let rows = try await sql.raw("""
            SELECT * FROM transit_city_caps WHERE city_code IN (\(binds: cityCodes.sorted())) ORDER BY city_code, effective_from
            """).allRecords(TransitCityCaps.self)
        return TransitCapSchedule(rows: Dictionary(grouping: rows, by: \.cityCode))
    }

    /// Sets the caps from `effectiveFrom` on; later rows (caps set to start after it) are replaced.
    public func setTransitCityCaps(cityCode: String, effectiveFrom: CivilDate, dailyCapFen: Int64?, weeklyCapFen: Int64?,
                                   atMs: Int64) async throws {
        try await sql.raw("""
            DELETE FROM transit_city_caps WHERE city_code = \(bind: cityCode) AND effective_from >= \(bind: effectiveFrom.description)
            """).run()
        try await sql.raw("""
            INSERT INTO transit_city_caps (city_code, effective_from, daily_cap_fen, weekly_cap_fen, updated_at_ms)
            VALUES (\(bind: cityCode), \(bind: effectiveFrom.description), \(bind: dailyCapFen), \(bind: weeklyCapFen), \(bind: atMs))
            """).run()
    }

    public func setCityInteroperable(code: String, interoperable: Bool, atMs: Int64) async throws -> Bool {
        try await sql.raw("""
            UPDATE cities SET interoperable = \(bind: interoperable.storedFlag), updated_at_ms = \(bind: atMs)
            WHERE code = \(bind: code) RETURNING code
            """).all().count == 1
    }

    // MARK: terminals

    public func setTerminalStop(terminalID: String, stopID: String?) async throws {
        try await sql.raw("UPDATE terminals SET stop_id = \(bind: stopID) WHERE id = \(bind: terminalID)").run()
    }

    public func terminalStop(terminalID: String) async throws -> String? {
        let row = try await sql.raw("SELECT stop_id FROM terminals WHERE id = \(bind: terminalID)").first()
        return try row?.decode(column: "stop_id", as: String?.self)
    }

    // MARK: taps

    /// Inserts the taps not stored yet (by terminal and sequence); returns the sequences inserted.
    public func insertTaps(_ taps: [TransitTapRecord]) async throws -> Set<Int64> {
        var inserted = Set<Int64>()
        for chunk in chunked(taps, bindsPerItem: 19) {
            var query = SQLQueryString("""
                INSERT INTO transit_taps (terminal_id, sequence, operator_id, city_code, person_id, card_number, fare_version_id,
                    tapped_at_ms, utc_offset_minutes, kind, stop_id, route_id, cardholder_fare, rider_category_id, max_journey_seconds,
                    exit_without_entry, service_week, batch_id, received_at_ms) VALUES
                """)
            query.appendRows(chunk) { tap in
                [tap.terminalId, tap.sequence, tap.operatorId, tap.cityCode, tap.personId, tap.cardNumber, tap.fareVersionId,
                 tap.tappedAtMs, tap.utcOffsetMinutes, tap.kind, tap.stopId, tap.routeId, tap.cardholderFare, tap.riderCategoryId,
                 tap.maxJourneySeconds, tap.exitWithoutEntry, tap.serviceWeek, tap.batchId, tap.receivedAtMs]
            }
            query.appendLiteral(" ON CONFLICT (terminal_id, sequence) DO NOTHING RETURNING sequence")
            for row in try await sql.raw(query).all() { inserted.insert(try row.decode(column: "sequence", as: Int64.self)) }
        }
        return inserted
    }

    public func taps(terminalID: String, sequences: [Int64]) async throws -> [TransitTapRecord] {
        var result: [TransitTapRecord] = []
        for chunk in chunked(sequences, bindsPerItem: 1) {
            result += try await sql.raw("""
                SELECT * FROM transit_taps WHERE terminal_id = \(bind: terminalID) AND sequence IN (\(binds: Array(chunk)))
                """).all(decoding: TransitTapRecord.self)
        }
        return result
    }

    public func taps(units: Set<TransitUnit>) async throws -> [TransitUnit: [TransitTapRecord]] {
        var result: [TransitUnit: [TransitTapRecord]] = [:]
        for chunk in chunked(units.sorted(), bindsPerItem: 3) {
            var query = SQLQueryString("SELECT t.* FROM transit_taps t JOIN (VALUES")
            query.appendRows(chunk) { [$0.personID, $0.cityCode, $0.serviceWeek] }
            query.appendLiteral(") AS u ON t.person_id = u.column1 AND t.city_code = u.column2 AND t.service_week = u.column3")
            for tap in try await sql.raw(query).all(decoding: TransitTapRecord.self) {
                result[TransitUnit(personID: tap.personId, cityCode: tap.cityCode, serviceWeek: tap.serviceWeek), default: []].append(tap)
            }
        }
        return result
    }

    // MARK: trips

    public func replaceTrips(units: Set<TransitUnit>, with trips: [TransitTripRecord]) async throws {
        for chunk in chunked(units.sorted(), bindsPerItem: 3) {
            var query = SQLQueryString("DELETE FROM transit_trips WHERE (person_id, city_code, service_week) IN (VALUES")
            query.appendRows(chunk) { [$0.personID, $0.cityCode, $0.serviceWeek] }
            query.appendLiteral(")")
            try await sql.raw(query).run()
        }
        for chunk in chunked(trips, bindsPerItem: 25) {
            var query = SQLQueryString("""
                INSERT INTO transit_trips (id, person_id, city_code, service_week, service_day, operator_id, kind, fare_version_id,
                    entry_tap_id, exit_tap_id, from_stop_id, to_stop_id, route_id, started_at_ms, ended_at_ms, utc_offset_minutes,
                    fare_product_id, cardholder_fare, full_fare_fen, fare_fen, charged_fen, is_transfer, cap_applied, no_matching_rule,
                    priced_at_ms) VALUES
                """)
            query.appendRows(chunk) { trip in
                [trip.id, trip.personId, trip.cityCode, trip.serviceWeek, trip.serviceDay, trip.operatorId, trip.kind, trip.fareVersionId,
                 trip.entryTapId, trip.exitTapId, trip.fromStopId, trip.toStopId, trip.routeId, trip.startedAtMs, trip.endedAtMs,
                 trip.utcOffsetMinutes, trip.fareProductId, trip.cardholderFare, trip.fullFareFen, trip.fareFen, trip.chargedFen,
                 trip.isTransfer, trip.capApplied, trip.noMatchingRule, trip.pricedAtMs]
            }
            try await sql.raw(query).run()
        }
    }

    /// A cardholder's trips, newest first.
    public func trips(personID: String, before cursor: PageCursor?, limit: Int) async throws -> [TransitTripRecord] {
        let (time, id) = cursor.map { ($0.timeMs, $0.id) } ?? (Int64.max, "")
        return try await sql.raw("""
            SELECT * FROM transit_trips WHERE person_id = \(bind: personID)
                AND started_at_ms <= \(bind: time) AND (started_at_ms < \(bind: time) OR id < \(bind: id))
            ORDER BY started_at_ms DESC, id DESC LIMIT \(bind: max(0, limit))
            """).allRecords(TransitTripRecord.self)
    }

    // MARK: charges

    /// What has been posted so far per (unit, operator, service day).
    public func chargedTotals(units: Set<TransitUnit>) async throws -> [TransitUnit: [TripPricing.DayKey: Int64]] {
        var result: [TransitUnit: [TripPricing.DayKey: Int64]] = [:]
        for chunk in chunked(units.sorted(), bindsPerItem: 3) {
            var query = SQLQueryString("""
                SELECT c.person_id, c.city_code, c.service_week, c.operator_id, c.service_day, CAST(SUM(c.amount_fen) AS BIGINT) AS total
                FROM transit_charges c JOIN (VALUES
                """)
            query.appendRows(chunk) { [$0.personID, $0.cityCode, $0.serviceWeek] }
            query.appendLiteral("""
                ) AS u ON c.person_id = u.column1 AND c.city_code = u.column2 AND c.service_week = u.column3
                GROUP BY c.person_id, c.city_code, c.service_week, c.operator_id, c.service_day
                """)
            for row in try await sql.raw(query).all() {
                let unit = TransitUnit(personID: try row.decode(column: "person_id", as: String.self),
                                       cityCode: try row.decode(column: "city_code", as: String.self),
                                       serviceWeek: try row.decode(column: "service_week", as: String.self))
                let dayText = try row.decode(column: "service_day", as: String.self)
                guard let day = CivilDate(dayText) else { throw StoreError.corrupt("transit charge: service day '\(dayText)'") }
                let key = TripPricing.DayKey(operatorID: try row.decode(column: "operator_id", as: String.self), serviceDay: day)
                result[unit, default: [:]][key] = try row.decode(column: "total", as: Int64.self)
            }
        }
        return result
    }

    public func insertTransitCharges(_ charges: [TransitChargeRecord]) async throws {
        for chunk in chunked(charges, bindsPerItem: 12) {
            var query = SQLQueryString("""
                INSERT INTO transit_charges (id, person_id, operator_id, city_code, service_day, service_week, kind, amount_fen,
                    wallet_fen, debt_fen, batch_id, created_at_ms) VALUES
                """)
            query.appendRows(chunk) { charge in
                [charge.id, charge.personId, charge.operatorId, charge.cityCode, charge.serviceDay, charge.serviceWeek, charge.kind,
                 charge.amountFen, charge.walletFen, charge.debtFen, charge.batchId, charge.createdAtMs]
            }
            try await sql.raw(query).run()
        }
    }

    /// Per service day of one operator: charges, adjustments and the part that became debt.
    public func operatorSettlement(operatorID: String, from: CivilDate, through: CivilDate) async throws -> [OperatorDaySettlement] {
        try await sql.raw("""
            SELECT service_day,
                CAST(SUM(CASE WHEN kind = 'charge' THEN 1 ELSE 0 END) AS BIGINT) AS charges,
                CAST(SUM(CASE WHEN kind = 'charge' THEN amount_fen ELSE 0 END) AS BIGINT) AS charged_fen,
                CAST(SUM(CASE WHEN kind = 'adjustment' THEN 1 ELSE 0 END) AS BIGINT) AS adjustments,
                CAST(SUM(CASE WHEN kind = 'adjustment' THEN amount_fen ELSE 0 END) AS BIGINT) AS adjusted_fen,
                CAST(SUM(debt_fen) AS BIGINT) AS debt_fen
            FROM transit_charges WHERE operator_id = \(bind: operatorID)
                AND service_day >= \(bind: from.description) AND service_day <= \(bind: through.description)
            GROUP BY service_day ORDER BY service_day
            """).allRecords(OperatorDaySettlement.self)
    }

    // MARK: deny list

    /// The next deny-list version. The counter row is the list's lock: changes commit in version
    /// order (PostgreSQL holds the row until commit; SQLite has one writer), so a gate that has
    /// version N and asks for changes since N never misses one committed later with a lower number.
    func nextDenyListVersion() async throws -> Int64 {
        try await nextCounter("transit_deny_list_version")
    }

    public func denyListVersion() async throws -> Int64 {
        try await sql.raw("SELECT value FROM counters WHERE name = 'transit_deny_list_version'").first()?
            .decode(column: "value", as: Int64.self) ?? 0
    }

    /// Puts a card on the deny list (or changes its reason); no change when it is listed for that reason already.
    public func denyCard(_ cardNumber: String, personID: String, reason: String, atMs: Int64) async throws {
        let existing = try await sql.raw("SELECT * FROM transit_deny_list WHERE card_number = \(bind: cardNumber)")
            .firstRecord(DenyListEntry.self)
        if existing?.reason == reason { return }
        let version = try await nextDenyListVersion()
        try await sql.raw("""
            INSERT INTO transit_deny_list (card_number, person_id, reason, version, listed_at_ms)
            VALUES (\(bind: cardNumber), \(bind: personID), \(bind: reason), \(bind: version), \(bind: atMs))
            ON CONFLICT (card_number) DO UPDATE SET reason = \(bind: reason), version = \(bind: version), listed_at_ms = \(bind: atMs)
            """).run()
        try await sql.raw("""
            INSERT INTO transit_deny_list_changes (version, card_number, action, reason, at_ms)
            VALUES (\(bind: version), \(bind: cardNumber), 'add', \(bind: reason), \(bind: atMs))
            """).run()
    }

    /// Takes a card off the list when it is listed for `reason`.
    public func allowCard(_ cardNumber: String, reason: String, atMs: Int64) async throws {
        let rows = try await sql.raw("""
            DELETE FROM transit_deny_list WHERE card_number = \(bind: cardNumber) AND reason = \(bind: reason) RETURNING card_number
            """).all()
        guard !rows.isEmpty else { return }
        let version = try await nextDenyListVersion()
        try await sql.raw("""
            INSERT INTO transit_deny_list_changes (version, card_number, action, reason, at_ms)
            VALUES (\(bind: version), \(bind: cardNumber), 'remove', \(bind: reason), \(bind: atMs))
            """).run()
    }

    public func denyListEntries() async throws -> [DenyListEntry] {
        try await sql.raw("SELECT * FROM transit_deny_list ORDER BY card_number").allRecords(DenyListEntry.self)
    }

    public func denyListEntries(personID: String) async throws -> [DenyListEntry] {
        try await sql.raw("SELECT * FROM transit_deny_list WHERE person_id = \(bind: personID) ORDER BY card_number")
            .allRecords(DenyListEntry.self)
    }

    public func denyListChanges(since version: Int64, limit: Int) async throws -> [DenyListChange] {
        try await sql.raw("""
            SELECT * FROM transit_deny_list_changes WHERE version > \(bind: version) ORDER BY version LIMIT \(bind: max(0, limit))
            """).allRecords(DenyListChange.self)
    }

    /// The oldest version still kept as a change (older changes may be compacted away).
    public func oldestDenyListChange() async throws -> Int64? {
        try await sql.raw("SELECT MIN(version) AS v FROM transit_deny_list_changes").first()?.decode(column: "v", as: Int64?.self)
    }

    /// What a gate's tap needs to know of a card: whose it is and since when it is in its state.
    public struct CardState: Sendable, Equatable, Decodable {
        public let cardNumber: String
        public let personId: String
        public let status: String
        public let statusChangedAtMs: Int64
        public var cardStatus: CardStatus? { CardStatus(rawValue: status) }

        enum CodingKeys: String, CodingKey {
            case cardNumber = "card_number", personId = "person_id", status, statusChangedAtMs = "status_changed_at_ms"
        }
    }

    public func cardStates(numbers: Set<String>) async throws -> [String: CardState] {
        var result: [String: CardState] = [:]
        for chunk in chunked(numbers.sorted(), bindsPerItem: 1) {
            for card in try await sql.raw("""
                SELECT card_number, person_id, status, status_changed_at_ms FROM cards WHERE card_number IN (\(binds: Array(chunk)))
                """).all(decoding: CardState.self) {
                result[card.cardNumber] = card
            }
        }
        return result
    }

    public func cards(personID: String) async throws -> [CardRecord] {
        try await sql.raw("SELECT * FROM cards WHERE person_id = \(bind: personID) ORDER BY issued_at_ms")
            .allRecords(CardRecord.self)
    }
}

/// When a person held a valid permit: the cardholder fare applies to taps inside a window.
public struct PermitWindow: Sendable, Equatable, Decodable {
    public let personId: String
    public let validFrom: String
    public let validUntil: String
    public let cancelledAtMs: Int64?

    /// Valid on the local date of the tap and not yet cancelled at its instant.
    public func covers(date: CivilDate, atMs: Int64) -> Bool {
        guard let from = CivilDate(validFrom), let until = CivilDate(validUntil) else { return false }
        return from <= date && date <= until && (cancelledAtMs.map { $0 > atMs } ?? true)
    }
}

extension StoreTx {
    public func permitWindows(personIDs: Set<String>) async throws -> [String: [PermitWindow]] {
        var result: [String: [PermitWindow]] = [:]
        for chunk in chunked(personIDs.sorted(), bindsPerItem: 1) {
            for window in try await sql.raw("""
                SELECT person_id, valid_from, valid_until, cancelled_at_ms FROM permits WHERE person_id IN (\(binds: Array(chunk)))
                """).allRecords(PermitWindow.self) {
                result[window.personId, default: []].append(window)
            }
        }
        return result
    }

    public func transitCharges(personID: String, before cursor: PageCursor?, limit: Int) async throws -> [TransitChargeRecord] {
        let (time, id) = cursor.map { ($0.timeMs, $0.id) } ?? (Int64.max, "")
        return try await sql.raw("""
            SELECT * FROM transit_charges WHERE person_id = \(bind: personID)
                AND created_at_ms <= \(bind: time) AND (created_at_ms < \(bind: time) OR id < \(bind: id))
            ORDER BY created_at_ms DESC, id DESC LIMIT \(bind: max(0, limit))
            """).allRecords(TransitChargeRecord.self)
    }
}
