public import JoinInCore
import Foundation
import SQLKit

// Designated museums and scenic spots (issue 11): venues, reservations and entries.

public struct VenueRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let nameEn: String
    public let nameZh: String
    public let kind: String
    public let cityCode: String
    public let addressEn: String
    public let addressZh: String
    public let termsJson: String
    public let createdAtMs: Int64

    public var name: LocalizedName { LocalizedName(en: nameEn, zh: nameZh) }
    public var address: LocalizedName { LocalizedName(en: addressEn, zh: addressZh) }

    public func terms() throws -> VenueTerms {
        do { return try JSONDecoder().decode(VenueTerms.self, from: Data(termsJson.utf8)) } catch {
            throw StoreError.corrupt("venue \(id) has unreadable terms")
        }
    }
}

public struct VenueReservationRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let venueId: String
    public let personId: String
    public let day: String
    /// The timed slot's index, or -1 for a day reservation under a quota.
    public let slot: Int64
    public let status: String
    public let createdAtMs: Int64
    public let closedAtMs: Int64?
}

public struct VenueEntryRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let venueId: String
    public let personId: String
    public let day: String
    public let atMs: Int64
    public let source: String
    public let terminalId: String
    public let sequence: Int64?
    public let reservationId: String?
    public let overQuota: Int64
    public let repeatVisit: Int64
    public let receivedAtMs: Int64

    public init(id: String, venueId: String, personId: String, day: String, atMs: Int64, source: String, terminalId: String, sequence: Int64?,
                reservationId: String?, overQuota: Bool, repeatVisit: Bool, receivedAtMs: Int64) {
        self.id = id
        self.venueId = venueId
        self.personId = personId
        self.day = day
        self.atMs = atMs
        self.source = source
        self.terminalId = terminalId
        self.sequence = sequence
        self.reservationId = reservationId
        self.overQuota = overQuota ? 1 : 0
        self.repeatVisit = repeatVisit ? 1 : 0
        self.receivedAtMs = receivedAtMs
    }
}

extension StoreTx {
    public func insertVenue(id: String, name: LocalizedName, kind: VenueKind, cityCode: String, address: LocalizedName, terms: VenueTerms,
                            atMs: Int64) async throws {
        let json = String(decoding: try JSONEncoder().encode(terms), as: UTF8.self)
        try await sql.raw("""
            INSERT INTO venues (id, name_en, name_zh, kind, city_code, address_en, address_zh, terms_json, created_at_ms)
            VALUES (\(bind: id), \(bind: name.en), \(bind: name.zh), \(bind: kind.rawValue), \(bind: cityCode), \(bind: address.en),
                \(bind: address.zh), \(bind: json), \(bind: atMs))
            """).run()
    }

    public func venue(id: String) async throws -> VenueRecord? {
        try await sql.raw("SELECT * FROM venues WHERE id = \(bind: id)").firstRecord(VenueRecord.self)
    }

    public func venues(cityCode: String?, afterID: String?, limit: Int) async throws -> [VenueRecord] {
        var query = SQLQueryString("SELECT * FROM venues WHERE id > \(bind: afterID ?? "")")
        if let cityCode { query = query + SQLQueryString(" AND city_code = \(bind: cityCode)") }
        query = query + SQLQueryString(" ORDER BY id LIMIT \(bind: max(0, limit))")
        return try await sql.raw(query).allRecords(VenueRecord.self)
    }

    // MARK: reservations

    public func insertVenueReservation(id: String, venueID: String, personID: String, day: String, slot: Int?, atMs: Int64) async throws {
        try await sql.raw("""
            INSERT INTO venue_reservations (id, venue_id, person_id, day, slot, status, created_at_ms)
            VALUES (\(bind: id), \(bind: venueID), \(bind: personID), \(bind: day), \(bind: Int64(slot ?? -1)), 'booked', \(bind: atMs))
            """).run()
    }

    public func venueReservation(id: String) async throws -> VenueReservationRecord? {
        try await sql.raw("SELECT * FROM venue_reservations WHERE id = \(bind: id)").firstRecord(VenueReservationRecord.self)
    }

    /// Booked (not cancelled, not yet used) reservations of a venue's day, optionally of one slot.
    public func bookedVenueReservations(venueID: String, day: String, slot: Int? = nil) async throws -> Int {
        var query = SQLQueryString("""
            SELECT COUNT(*) AS n FROM venue_reservations WHERE venue_id = \(bind: venueID) AND day = \(bind: day) AND status = 'booked'
            """)
        if let slot { query = query + SQLQueryString(" AND slot = \(bind: Int64(slot))") }
        return Int(try await sql.raw(query).first()?.decode(column: "n", as: Int64.self) ?? 0)
    }

    /// Reservations of a slot already used at the gate (they keep their place in the slot).
    public func usedVenueReservations(venueID: String, day: String, slot: Int) async throws -> Int {
        Int(try await sql.raw("""
            SELECT COUNT(*) AS n FROM venue_reservations WHERE venue_id = \(bind: venueID) AND day = \(bind: day) AND slot = \(bind: Int64(slot))
                AND status = 'used'
            """).first()?.decode(column: "n", as: Int64.self) ?? 0)
    }

    /// The person's booked or used reservation of a venue's day.
    public func venueReservation(venueID: String, personID: String, day: String) async throws -> VenueReservationRecord? {
        try await sql.raw("""
            SELECT * FROM venue_reservations WHERE venue_id = \(bind: venueID) AND person_id = \(bind: personID) AND day = \(bind: day)
                AND status IN ('booked', 'used') ORDER BY created_at_ms LIMIT 1
            """).firstRecord(VenueReservationRecord.self)
    }

    public func venueReservations(personID: String, limit: Int) async throws -> [VenueReservationRecord] {
        try await sql.raw("""
            SELECT * FROM venue_reservations WHERE person_id = \(bind: personID) ORDER BY day DESC, created_at_ms DESC LIMIT \(bind: max(0, limit))
            """).allRecords(VenueReservationRecord.self)
    }

    /// Moves a booked reservation to `used` or `cancelled`; false when it was not booked any more.
    public func closeVenueReservation(id: String, as status: String, atMs: Int64) async throws -> Bool {
        try await sql.raw("""
            UPDATE venue_reservations SET status = \(bind: status), closed_at_ms = \(bind: atMs) WHERE id = \(bind: id) AND status = 'booked'
            RETURNING id
            """).all().count == 1
    }

    // MARK: entries

    public func insertVenueEntry(_ entry: VenueEntryRecord) async throws {
        try await sql.raw("""
            INSERT INTO venue_entries (id, venue_id, person_id, day, at_ms, source, terminal_id, sequence, reservation_id, over_quota,
                repeat_visit, received_at_ms)
            VALUES (\(bind: entry.id), \(bind: entry.venueId), \(bind: entry.personId), \(bind: entry.day), \(bind: entry.atMs),
                \(bind: entry.source), \(bind: entry.terminalId), \(bind: entry.sequence), \(bind: entry.reservationId), \(bind: entry.overQuota),
                \(bind: entry.repeatVisit), \(bind: entry.receivedAtMs))
            """).run()
    }

    public func venueEntryCount(venueID: String, day: String) async throws -> Int {
        Int(try await sql.raw("SELECT COUNT(*) AS n FROM venue_entries WHERE venue_id = \(bind: venueID) AND day = \(bind: day)")
            .first()?.decode(column: "n", as: Int64.self) ?? 0)
    }

    public func hasVenueEntry(venueID: String, personID: String, day: String) async throws -> Bool {
        try await sql.raw("""
            SELECT id FROM venue_entries WHERE venue_id = \(bind: venueID) AND day = \(bind: day) AND person_id = \(bind: personID) LIMIT 1
            """).first() != nil
    }

    public func venueEntry(terminalID: String, sequence: Int64) async throws -> VenueEntryRecord? {
        try await sql.raw("SELECT * FROM venue_entries WHERE terminal_id = \(bind: terminalID) AND sequence = \(bind: sequence)")
            .firstRecord(VenueEntryRecord.self)
    }

    public func venueEntries(personID: String, limit: Int) async throws -> [VenueEntryRecord] {
        try await sql.raw("""
            SELECT * FROM venue_entries WHERE person_id = \(bind: personID) ORDER BY at_ms DESC, id DESC LIMIT \(bind: max(0, limit))
            """).allRecords(VenueEntryRecord.self)
    }
}
