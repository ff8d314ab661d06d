public import JoinInCore
import Foundation
import SQLKit

// Local social events (issue 13): events with a capacity and a first-come waitlist, and the
// registrations. The event row's `confirmed` and `waitlisted` counters are changed only by
// conditional updates, which are the atomic guard against overbooking under concurrency.

public struct EventRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let organizerId: String
    public let titleEn: String
    public let titleZh: String
    public let descriptionEn: String
    public let descriptionZh: String
    public let placeEn: String
    public let placeZh: String
    public let cityCode: String
    public let termsJson: String
    public let startsAtMs: Int64
    public let endsAtMs: Int64
    public let capacity: Int64
    public let waitlistMax: Int64
    public let confirmed: Int64
    public let waitlisted: Int64
    /// `published` or `cancelled`.
    public let status: String
    public let createdAtMs: Int64
    public let cancelledAtMs: Int64?

    public var title: LocalizedName { LocalizedName(en: titleEn, zh: titleZh) }
    public var description: LocalizedName { LocalizedName(en: descriptionEn, zh: descriptionZh) }
    public var place: LocalizedName { LocalizedName(en: placeEn, zh: placeZh) }
    public var isCancelled: Bool { status == "cancelled" }

    public func terms() throws -> EventTerms {
        do { return try JSONDecoder().decode(EventTerms.self, from: Data(termsJson.utf8)) } catch {
            throw StoreError.corrupt("event \(id) has unreadable terms")
        }
    }

    public var cursor: PageCursor { PageCursor(timeMs: startsAtMs, id: id) }
}

public struct EventRegistrationRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let eventId: String
    public let personId: String
    public let status: String
    public let createdAtMs: Int64
    public let updatedAtMs: Int64
    public let promotedAtMs: Int64?
    public let checkedInAtMs: Int64?
    public let checkInTerminal: String?

    public var registrationStatus: RegistrationStatus? { RegistrationStatus(rawValue: status) }
    public var cursor: PageCursor { PageCursor(timeMs: createdAtMs, id: id) }
}

public struct NewEvent: Sendable {
    public let id: String
    public let organizerID: String
    public let title: LocalizedName
    public let description: LocalizedName
    public let place: LocalizedName
    public let cityCode: String
    public let terms: EventTerms

    public init(id: String, organizerID: String, title: LocalizedName, description: LocalizedName, place: LocalizedName, cityCode: String,
                terms: EventTerms) {
        self.id = id
        self.organizerID = organizerID
        self.title = title
        self.description = description
        self.place = place
        self.cityCode = cityCode
        self.terms = terms
    }
}

extension StoreTx {
    public func insertEvent(_ event: NewEvent, atMs: Int64) async throws {
        let json = String(decoding: try JSONEncoder().encode(event.terms), as: UTF8.self)
        try await sql.raw("""
            INSERT INTO events (id, organizer_id, title_en, title_zh, description_en, description_zh, place_en, place_zh, city_code, terms_json,
                starts_at_ms, ends_at_ms, capacity, waitlist_max, confirmed, waitlisted, status, created_at_ms)
            VALUES (\(bind: event.id), \(bind: event.organizerID), \(bind: event.title.en), \(bind: event.title.zh), \(bind: event.description.en),
                \(bind: event.description.zh), \(bind: event.place.en), \(bind: event.place.zh), \(bind: event.cityCode), \(bind: json),
                \(bind: event.terms.startsAtMs), \(bind: event.terms.endsAtMs), \(bind: Int64(event.terms.capacity)), \(bind: Int64(event.terms.waitlistMax)),
                \(bind: Int64(0)), \(bind: Int64(0)), 'published', \(bind: atMs))
            """).run()
    }

    public func event(id: String) async throws -> EventRecord? {
        try await sql.raw("SELECT * FROM events WHERE id = \(bind: id)").firstRecord(EventRecord.self)
    }

    public func events(ids: Set<String>) async throws -> [String: EventRecord] {
        try await rows(of: "events", ids: ids, as: EventRecord.self, id: \.id)
    }

    /// Events starting at or after `fromMs`, soonest first: of one organizer, or published ones of a city (or of every city).
    public func events(organizerID: String?, cityCode: String?, fromMs: Int64, after cursor: PageCursor?, limit: Int) async throws -> [EventRecord] {
        let (time, id) = cursor.map { ($0.timeMs, $0.id) } ?? (Int64.min, "")
        var query = SQLQueryString("SELECT * FROM events WHERE starts_at_ms >= \(bind: fromMs)")
        query.appendInterpolation(unsafeRaw: " AND starts_at_ms >= ")
        query.appendInterpolation(bind: time)
        query.appendInterpolation(unsafeRaw: " AND (starts_at_ms > ")
        query.appendInterpolation(bind: time)
        query.appendInterpolation(unsafeRaw: " OR id > ")
        query.appendInterpolation(bind: id)
        query.appendInterpolation(unsafeRaw: ")")
        if let organizerID {
            query.appendInterpolation(unsafeRaw: " AND organizer_id = ")
            query.appendInterpolation(bind: organizerID)
        } else {
            query.appendInterpolation(unsafeRaw: " AND status = 'published'")
        }
        if let cityCode {
            query.appendInterpolation(unsafeRaw: " AND city_code = ")
            query.appendInterpolation(bind: cityCode)
        }
        query.appendInterpolation(unsafeRaw: " ORDER BY starts_at_ms, id LIMIT ")
        query.appendInterpolation(bind: max(0, limit))
        return try await sql.raw(query).allRecords(EventRecord.self)
    }

    /// Takes a confirmed place if one is free; false when the event is full (or cancelled).
    public func claimEventPlace(eventID: String) async throws -> Bool {
        try await sql.raw("""
            UPDATE events SET confirmed = confirmed + 1 WHERE id = \(bind: eventID) AND status = 'published' AND confirmed < capacity RETURNING id
            """).all().count == 1
    }

    /// Takes a waitlist place if one is free; false otherwise.
    public func claimWaitlistPlace(eventID: String) async throws -> Bool {
        try await sql.raw("""
            UPDATE events SET waitlisted = waitlisted + 1
            WHERE id = \(bind: eventID) AND status = 'published' AND waitlisted < waitlist_max RETURNING id
            """).all().count == 1
    }

    /// Gives back a place of the given kind.
    public func releaseEventPlace(eventID: String, confirmed: Bool) async throws {
        let column = confirmed ? "confirmed" : "waitlisted"
        try await sql.raw("UPDATE events SET \(unsafeRaw: column) = \(unsafeRaw: column) - 1 WHERE id = \(bind: eventID) AND \(unsafeRaw: column) > 0")
            .run()
    }

    /// Locks the event row (PostgreSQL) and reads it: registrations and cancellations of one event queue.
    public func lockedEvent(id: String) async throws -> EventRecord? {
        try await sql.raw("SELECT * FROM events WHERE id = \(bind: id)\(unsafeRaw: lockForUpdate)").firstRecord(EventRecord.self)
    }

    public func cancelEvent(id: String, atMs: Int64) async throws -> Bool {
        try await sql.raw("""
            UPDATE events SET status = 'cancelled', cancelled_at_ms = \(bind: atMs) WHERE id = \(bind: id) AND status = 'published' RETURNING id
            """).all().count == 1
    }

    public func insertEventRegistration(id: String, eventID: String, personID: String, status: RegistrationStatus, atMs: Int64) async throws {
        try await sql.raw("""
            INSERT INTO event_registrations (id, event_id, person_id, status, created_at_ms, updated_at_ms)
            VALUES (\(bind: id), \(bind: eventID), \(bind: personID), \(bind: status.rawValue), \(bind: atMs), \(bind: atMs))
            """).run()
    }

    public func eventRegistration(id: String) async throws -> EventRegistrationRecord? {
        try await sql.raw("SELECT * FROM event_registrations WHERE id = \(bind: id)").firstRecord(EventRegistrationRecord.self)
    }

    /// The person's registration for an event that is not cancelled, else their latest one.
    public func eventRegistration(eventID: String, personID: String) async throws -> EventRegistrationRecord? {
        try await sql.raw("""
            SELECT * FROM event_registrations WHERE event_id = \(bind: eventID) AND person_id = \(bind: personID)
            ORDER BY CASE WHEN status <> 'cancelled' THEN 0 ELSE 1 END, created_at_ms DESC, id DESC LIMIT 1
            """).firstRecord(EventRegistrationRecord.self)
    }

    /// Moves a registration from `from` to `to` (compare-and-set); false when it was no longer in `from`.
    public func moveEventRegistration(id: String, from: RegistrationStatus, to: RegistrationStatus, atMs: Int64, promoted: Bool = false,
                                      checkedInBy terminal: String? = nil) async throws -> Bool {
        try await sql.raw("""
            UPDATE event_registrations SET status = \(bind: to.rawValue), updated_at_ms = \(bind: atMs),
                promoted_at_ms = CASE WHEN \(bind: promoted ? 1 : 0) = 1 THEN \(bind: atMs) ELSE promoted_at_ms END,
                checked_in_at_ms = CASE WHEN \(bind: terminal == nil ? 0 : 1) = 1 THEN \(bind: atMs) ELSE checked_in_at_ms END,
                check_in_terminal = COALESCE(\(bind: terminal), check_in_terminal)
            WHERE id = \(bind: id) AND status = \(bind: from.rawValue) RETURNING id
            """).all().count == 1
    }

    /// The first of the waitlist (first come, first served).
    public func firstWaitlisted(eventID: String) async throws -> EventRegistrationRecord? {
        try await sql.raw("""
            SELECT * FROM event_registrations WHERE event_id = \(bind: eventID) AND status = 'waitlisted' ORDER BY created_at_ms, id LIMIT 1
            """).firstRecord(EventRegistrationRecord.self)
    }

    /// A waitlisted registration's place in the queue (1 = next).
    public func waitlistPosition(_ registration: EventRegistrationRecord) async throws -> Int {
        Int(try await sql.raw("""
            SELECT COUNT(*) AS n FROM event_registrations WHERE event_id = \(bind: registration.eventId) AND status = 'waitlisted'
                AND (created_at_ms < \(bind: registration.createdAtMs) OR (created_at_ms = \(bind: registration.createdAtMs) AND id <= \(bind: registration.id)))
            """).first()?.decode(column: "n", as: Int64.self) ?? 0)
    }

    /// An event's registrations in registration order (optionally of some statuses).
    public func eventRegistrations(eventID: String, statuses: [String]?, after cursor: PageCursor?, limit: Int) async throws -> [EventRegistrationRecord] {
        let (time, id) = cursor.map { ($0.timeMs, $0.id) } ?? (Int64.min, "")
        let filter = statuses.map { $0.isEmpty ? [""] : $0 } ?? RegistrationStatus.allCases.map(\.rawValue)
        return try await sql.raw("""
            SELECT * FROM event_registrations WHERE event_id = \(bind: eventID) AND status IN (\(binds: filter))
                AND created_at_ms >= \(bind: time) AND (created_at_ms > \(bind: time) OR id > \(bind: id))
            ORDER BY created_at_ms, id LIMIT \(bind: max(0, limit))
            """).allRecords(EventRegistrationRecord.self)
    }

    /// A person's registrations, newest first.
    public func eventRegistrations(personID: String, limit: Int) async throws -> [EventRegistrationRecord] {
        try await sql.raw("""
            SELECT * FROM event_registrations WHERE person_id = \(bind: personID) ORDER BY created_at_ms DESC, id DESC LIMIT \(bind: max(0, limit))
            """).allRecords(EventRegistrationRecord.self)
    }

    /// Per event, the person's active registration (for the e-card's list).
    public func activeRegistrations(personID: String, eventIDs: Set<String>) async throws -> [String: EventRegistrationRecord] {
        var found: [String: EventRegistrationRecord] = [:]
        for chunk in chunked(eventIDs.sorted(), bindsPerItem: 1) {
            for row in try await sql.raw("""
                SELECT * FROM event_registrations WHERE person_id = \(bind: personID) AND event_id IN (\(binds: Array(chunk)))
                ORDER BY created_at_ms, id
                """).allRecords(EventRegistrationRecord.self) {
                found[row.eventId] = row
            }
        }
        return found
    }

    /// Counts per status of one event's registrations.
    public func eventRegistrationCounts(eventID: String) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await sql.raw("SELECT status, COUNT(*) AS n FROM event_registrations WHERE event_id = \(bind: eventID) GROUP BY status").all() {
            counts[try row.decode(column: "status", as: String.self)] = Int(try row.decode(column: "n", as: Int64.self))
        }
        return counts
    }

    /// Confirmed registrations of events that ended before `endedBeforeMs`: recorded as no-shows.
    public func markEventNoShows(endedBeforeMs: Int64, atMs: Int64, limit: Int) async throws -> Int {
        try await sql.raw("""
            UPDATE event_registrations SET status = 'no_show', updated_at_ms = \(bind: atMs)
            WHERE id IN (SELECT r.id FROM event_registrations r JOIN events e ON e.id = r.event_id
                         WHERE r.status = 'confirmed' AND e.status = 'published'
                           AND e.ends_at_ms <= \(bind: endedBeforeMs) LIMIT \(bind: limit))
            RETURNING id
            """).all().count
    }
}
