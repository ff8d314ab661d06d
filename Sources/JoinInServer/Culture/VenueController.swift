import Foundation
import HTTPTypes
import Hummingbird
import JoinInAPI
import JoinInCore
import JoinInStore

/// Designated museums and scenic spots (issue 11): venues (admin), the cardholder's venue list,
/// reservations and visits, entry at `venueGate` terminals by card or dynamic QR, and the entries a
/// gate admitted offline on the permit credential, uploaded later.
struct VenueController: Sendable {
    let store: Store
    let config: ServerConfig
    let clock: AppClock
    let dynamicCodes: DynamicCodes

    static let offlineBatchMax = 500

    func register(_ r: inout RouteRegistrar) {
        r.on(.post, "/v1/venues", .staff(.admin)) { request, context in try await createVenue(request, context) }
        r.on(.get, "/v1/venues", .anyone) { request, _ in
            let list = try ListParameters(request)
            let city = try Self.cityFilter(request)
            if let cursor = list.cursor, cursor.utf8.count > 64 {
                throw DomainError.malformed("list.cursor_invalid", "cursor must be the id of the last venue of the previous page")
            }
            let rows = try await store.read { tx in try await tx.venues(cityCode: city, afterID: list.cursor, limit: list.limit + 1) }
            let (page, next) = list.page(rows) { $0.id }
            return try JSON.response(Schemas.VenuePage(items: try page.map { try Self.venueView($0, remaining: nil) }, nextCursor: next))
        }
        r.on(.get, "/v1/ecard/venues", .cardholder) { request, context in try await myVenues(request, context) }
        r.on(.post, "/v1/ecard/venue-reservations", .cardholder) { request, context in try await reserve(request, context) }
        r.on(.get, "/v1/ecard/venue-reservations", .cardholder) { _, context in
            let holder = try context.cardholder()
            let time = clock.read()
            let items = try await store.read { tx in
                var items: [Schemas.VenueReservation] = []
                for row in try await tx.venueReservations(personID: holder.personID, limit: 200) {
                    guard let venue = try await tx.venue(id: row.venueId) else { continue }
                    items.append(try Self.reservationView(row, venue: venue, time: time))
                }
                return items
            }
            return try JSON.response(Schemas.VenueReservationPage(items: items), headers: [.cacheControl: "no-store"])
        }
        r.on(.post, "/v1/ecard/venue-reservations/{id}/cancellation",
             Access.cardholder.objects(.owned(by: "a holder cancels only their own reservations"))) { _, context in
            let holder = try context.cardholder()
            let id = try context.parameters.require("id")
            let time = clock.read()
            let view = try await store.write { tx in
                guard let reservation = try await tx.venueReservation(id: id), reservation.personId == holder.personID,
                      let venue = try await tx.venue(id: reservation.venueId) else {
                    throw DomainError.notFound("venue.reservation_not_found", "no reservation \(id.prefix(64))")
                }
                guard try await tx.closeVenueReservation(id: id, as: "cancelled", atMs: time.ms) else {
                    throw DomainError.conflict("venue.reservation_closed", "the reservation is already \(reservation.status)")
                }
                try await tx.appendAudit(actor: holder.auditName, action: "venue.reservation_cancel", objectType: "venue", objectID: venue.id,
                                         detail: "reservation=\(id) day=\(reservation.day)", atMs: time.ms)
                guard let closed = try await tx.venueReservation(id: id) else { throw StoreError.corrupt("reservation \(id) vanished") }
                return try Self.reservationView(closed, venue: venue, time: time)
            }
            return try JSON.response(view)
        }
        r.on(.get, "/v1/ecard/venue-visits", .cardholder) { _, context in
            let holder = try context.cardholder()
            let items = try await store.read { tx in
                var items: [Schemas.VenueEntry] = []
                for row in try await tx.venueEntries(personID: holder.personID, limit: 200) {
                    guard let venue = try await tx.venue(id: row.venueId) else { continue }
                    items.append(try Self.entryView(row, venue: venue, holderName: nil))
                }
                return items
            }
            return try JSON.response(Schemas.VenueEntryPage(items: items), headers: [.cacheControl: "no-store"])
        }
        r.on(.post, "/v1/venue-entries", .terminal(.venueGate)) { request, context in try await enter(request, context) }
        r.on(.post, "/v1/venue-entries/offline-batches", .terminal(.venueGate)) { request, context in try await offlineBatch(request, context) }
    }

    // MARK: helpers and views

    static func cityFilter(_ request: Request) throws -> String? {
        let city = request.uri.queryParameters["city_code"].map(String.init)
        if let city, city.count != 6 || !city.allSatisfy(\.isASCIIDigit) {
            throw DomainError.malformed("city.code_invalid", "city_code must be a 6-digit GB/T 2260 code")
        }
        return city
    }

    /// "09:30" → 570; "24:00" → 1440.
    static func minutes(_ text: String, field: String) throws -> Int {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0...24).contains(hour), (0...59).contains(minute), hour * 60 + minute <= 1440 else {
            throw DomainError.malformed("venue.time_invalid", "\(field) must be a time HH:MM, got '\(text.prefix(10))'")
        }
        return hour * 60 + minute
    }

    /// The Shanghai minute of the day of an instant.
    static func minuteOfDay(ms: Int64) -> Int { Int(((ms / 1000 + 8 * 3600) % 86_400) / 60) }

    static func venueView(_ venue: VenueRecord, remaining: [Int]?) throws -> Schemas.Venue {
        let terms = try venue.terms()
        let hours = terms.hours.enumerated().compactMap { index, day in
            day.map { Schemas.OpeningHours(weekday: index + 1, opensAt: VenueRules.clock($0.opensAt), closesAt: VenueRules.clock($0.closesAt)) }
        }
        let slots = terms.slots.enumerated().map { index, slot in
            Schemas.TimedSlotView(index: index, startsAt: VenueRules.clock(slot.startsAt), endsAt: VenueRules.clock(slot.endsAt),
                                  capacity: slot.capacity, remainingToday: remaining.map { $0.indices.contains(index) ? $0[index] : 0 })
        }
        return Schemas.Venue(id: venue.id, name: API.name(venue.name), kind: try API.value(venue.kind), cityCode: venue.cityCode,
                             address: API.name(venue.address), openingHours: hours, dailyQuota: terms.dailyQuota, slots: slots)
    }

    /// A booked reservation whose slot (or day) is over unused shows as expired: its place is released.
    static func reservationView(_ reservation: VenueReservationRecord, venue: VenueRecord, time: AppClock.Reading) throws -> Schemas.VenueReservation {
        let terms = try venue.terms()
        let slot = reservation.slot >= 0 && Int(reservation.slot) < terms.slots.count ? terms.slots[Int(reservation.slot)] : nil
        let status = CivilDate(reservation.day).map {
            VenueRules.displayStatus(reservation.status, day: $0, slot: slot, terms: terms, today: time.today, minuteNow: minuteOfDay(ms: time.ms))
        } ?? reservation.status
        return Schemas.VenueReservation(id: reservation.id, venueId: venue.id, venueName: API.name(venue.name), date: reservation.day,
                                        slot: reservation.slot >= 0 ? Int(reservation.slot) : nil,
                                        slotTime: slot.map { "\(VenueRules.clock($0.startsAt))-\(VenueRules.clock($0.endsAt))" },
                                        status: try API.value(status), createdAt: API.instant(ms: reservation.createdAtMs))
    }

    static func entryView(_ entry: VenueEntryRecord, venue: VenueRecord, holderName: String?) throws -> Schemas.VenueEntry {
        Schemas.VenueEntry(id: entry.id, venueId: venue.id, venueName: API.name(venue.name), holderName: holderName, date: entry.day,
                           at: API.instant(ms: entry.atMs), source: try API.value(entry.source), reservationUsed: entry.reservationId != nil,
                           overQuota: entry.overQuota != 0, repeatVisit: entry.repeatVisit != 0)
    }

    /// Free entries left on `day` per slot (timed venues) or in all (quota venues; nil unlimited).
    static func remaining(_ tx: StoreTx, venue: VenueRecord, terms: VenueTerms, day: String) async throws -> (total: Int?, slots: [Int]) {
        if !terms.slots.isEmpty {
            var left: [Int] = []
            for (index, slot) in terms.slots.enumerated() {
                left.append(max(0, slot.capacity - (try await tx.bookedVenueReservations(venueID: venue.id, day: day, slot: index))
                                - (try await tx.usedVenueReservations(venueID: venue.id, day: day, slot: index))))
            }
            return (left.reduce(0, +), left)
        }
        let entries = try await tx.venueEntryCount(venueID: venue.id, day: day)
        let booked = try await tx.bookedVenueReservations(venueID: venue.id, day: day)
        return (terms.remaining(entries: entries, activeReservations: booked), [])
    }

    /// The holder's standing today: a valid permit and an active card.
    static func standing(_ tx: StoreTx, personID: String, today: CivilDate) async throws -> (permitValid: Bool, card: CardRecord?, name: String) {
        guard let person = try await tx.person(id: personID) else { throw StoreError.corrupt("person \(personID) missing") }
        let permitValid = try await tx.latestPermit(number: person.permitNumber)?.status(today: today) == .valid
        return (permitValid, try await tx.liveCard(personID: personID), person.fullName)
    }

    // MARK: admin

    func createVenue(_ request: Request, _ context: AppContext) async throws -> Response {
        let admin = try context.staff()
        let (body, bytes) = try await JSON.decode(Schemas.NewVenueRequest.self, from: request, limit: 64 * 1024)
        try JSON.refuseNull(bytes, members: ["daily_quota", "slots"])
        let name = try LocalizedName.validated(en: body.name.en, zh: body.name.zh, field: "name")
        let address = try LocalizedName.validated(en: body.address.en, zh: body.address.zh, field: "address")
        let kind: VenueKind = try API.domain(body.kind)
        var hours: [DayHours?] = Array(repeating: nil, count: 7)
        for (index, day) in body.openingHours.enumerated() {
            guard (1...7).contains(day.weekday), hours[day.weekday - 1] == nil else {
                throw DomainError.malformed("venue.terms_invalid", "opening_hours[\(index)].weekday: each weekday 1-7 at most once")
            }
            hours[day.weekday - 1] = DayHours(opensAt: try Self.minutes(day.opensAt, field: "opening_hours[\(index)].opens_at"),
                                              closesAt: try Self.minutes(day.closesAt, field: "opening_hours[\(index)].closes_at"))
        }
        let slots = try (body.slots ?? []).enumerated().map { index, slot in
            TimedSlot(startsAt: try Self.minutes(slot.startsAt, field: "slots[\(index)].starts_at"),
                      endsAt: try Self.minutes(slot.endsAt, field: "slots[\(index)].ends_at"), capacity: slot.capacity)
        }
        let terms = try VenueTerms.validated(hours: hours, dailyQuota: body.dailyQuota, slots: slots)
        let id = newID()
        let now = clock.nowMs()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: admin.auditName, nowMs: now) { tx in
            try await tx.requireCity(body.cityCode)
            try await tx.insertVenue(id: id, name: name, kind: kind, cityCode: body.cityCode, address: address, terms: terms, atMs: now)
            try await tx.appendAudit(actor: admin.auditName, action: "venue.create", objectType: "venue", objectID: id,
                                     detail: "city=\(body.cityCode) kind=\(kind.rawValue)", atMs: now)
            guard let venue = try await tx.venue(id: id) else { throw StoreError.corrupt("venue \(id) vanished") }
            return try .json(try Self.venueView(venue, remaining: nil))
        }
    }

    // MARK: the cardholder

    func myVenues(_ request: Request, _ context: AppContext) async throws -> Response {
        let holder = try context.cardholder()
        let asked = try Self.cityFilter(request)
        let time = clock.read()
        let page = try await store.read { tx in
            guard let permit = try await tx.latestPermit(number: holder.permitNumber) else { throw StoreError.corrupt("holder without permit") }
            let city: String
            if let asked { city = asked } else { city = try await tx.employer(id: permit.employerId)?.cityCode ?? "" }
            var items: [Schemas.ECardVenue] = []
            let day = time.today.description
            let minute = Self.minuteOfDay(ms: time.ms)
            for venue in try await tx.venues(cityCode: city, afterID: nil, limit: 200) {
                let terms = try venue.terms()
                let (total, slots) = try await Self.remaining(tx, venue: venue, terms: terms, day: day)
                let hours = terms.hours(on: time.today)
                let reservation = try await tx.venueReservation(venueID: venue.id, personID: holder.personID, day: day)
                items.append(Schemas.ECardVenue(
                    venue: try Self.venueView(venue, remaining: terms.slots.isEmpty ? nil : slots), openToday: hours != nil,
                    openNow: hours?.contains(minute: minute) ?? false, remainingToday: total,
                    enteredToday: try await tx.hasVenueEntry(venueID: venue.id, personID: holder.personID, day: day),
                    reservationToday: try reservation.map { try Self.reservationView($0, venue: venue, time: time) }))
            }
            return Schemas.ECardVenuePage(cityCode: city, items: items)
        }
        return try JSON.response(page, headers: [.cacheControl: "no-store"])
    }

    func reserve(_ request: Request, _ context: AppContext) async throws -> Response {
        let holder = try context.cardholder()
        let (body, bytes) = try await JSON.decode(Schemas.NewVenueReservationRequest.self, from: request, limit: 16 * 1024)
        try JSON.refuseNull(bytes, members: ["slot"])
        let date = try API.date(body.date, field: "date")
        let time = clock.read()
        let id = newID()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: holder.auditName, nowMs: time.ms) { tx in
            guard let venue = try await tx.venue(id: body.venueId) else {
                throw DomainError.notFound("venue.not_found", "no venue \(body.venueId.prefix(64))")
            }
            let terms = try venue.terms()
            let standing = try await Self.standing(tx, personID: holder.personID, today: time.today)
            let day = date.description
            let already = try await tx.venueReservation(venueID: venue.id, personID: holder.personID, day: day) != nil
            let reserved: Int
            if let slot = body.slot, terms.slots.indices.contains(slot) {
                reserved = try await tx.bookedVenueReservations(venueID: venue.id, day: day, slot: slot)
                    + (try await tx.usedVenueReservations(venueID: venue.id, day: day, slot: slot))
            } else {
                reserved = try await tx.bookedVenueReservations(venueID: venue.id, day: day)
            }
            try VenueRules.checkReservation(terms, date: date, slot: body.slot, today: time.today, minuteNow: Self.minuteOfDay(ms: time.ms),
                                            permitValid: standing.permitValid, cardActive: standing.card?.cardStatus == .active,
                                            alreadyReserved: already, reservedInSlotOrDay: reserved,
                                            enteredThatDay: try await tx.venueEntryCount(venueID: venue.id, day: day))
            try await tx.insertVenueReservation(id: id, venueID: venue.id, personID: holder.personID, day: day, slot: body.slot, atMs: time.ms)
            try await tx.appendAudit(actor: holder.auditName, action: "venue.reserve", objectType: "venue", objectID: venue.id,
                                     detail: "reservation=\(id) day=\(day)\(body.slot.map { " slot=\($0)" } ?? "")", atMs: time.ms)
            guard let row = try await tx.venueReservation(id: id) else { throw StoreError.corrupt("reservation \(id) vanished") }
            return try .json(try Self.reservationView(row, venue: venue, time: time))
        }
    }

    // MARK: gates

    func gateVenue(_ context: AppContext) async throws -> (TerminalPrincipal, VenueRecord) {
        let terminal = try context.terminal()
        guard let id = terminal.bindingID, let venue = try await store.read({ tx in try await tx.venue(id: id) }) else {
            throw DomainError.forbidden("auth.forbidden", "this gate is not bound to a venue")
        }
        return (terminal, venue)
    }

    func enter(_ request: Request, _ context: AppContext) async throws -> Response {
        let (terminal, venue) = try await gateVenue(context)
        let (body, bytes) = try await JSON.decode(Schemas.VenueEntryRequest.self, from: request, limit: 16 * 1024)
        try JSON.refuseNull(bytes, members: ["card_number", "dynamic_code"])
        let time = clock.read()
        let number = try body.cardNumber.map { try CardNumber(validating: $0).value }
        let code: DynamicCodes.Claims?
        switch (number, body.dynamicCode) {
        case (_?, nil): code = nil
        case (nil, let text?): code = try dynamicCodes.read(text)
        default: throw DomainError.malformed("venue.identification_required", "send exactly one of card_number and dynamic_code")
        }
        let id = newID()
        let actor = terminal.auditName
        let view = try await store.write { tx in
            let personID: String
            if let code {
                try await dynamicCodes.redeem(tx, code, by: actor, nowMs: time.ms)
                guard let holder = try await tx.cardholder(id: code.holderID) else { throw DomainError.rule("code.invalid", "unknown holder") }
                personID = holder.personId
            } else {
                personID = try await tx.existingCard(number ?? "").personId
            }
            let terms = try venue.terms()
            let standing = try await Self.standing(tx, personID: personID, today: time.today)
            let day = time.today.description
            let reservation = try await tx.venueReservation(venueID: venue.id, personID: personID, day: day)
            let booked = reservation?.status == "booked" ? reservation : nil
            try VenueRules.checkEntry(terms, today: time.today, minuteNow: Self.minuteOfDay(ms: time.ms), permitValid: standing.permitValid,
                                      cardActive: standing.card?.cardStatus == .active,
                                      enteredToday: try await tx.hasVenueEntry(venueID: venue.id, personID: personID, day: day),
                                      reservedSlot: booked.flatMap { $0.slot >= 0 ? Int($0.slot) : nil }, hasReservationToday: booked != nil,
                                      entriesToday: try await tx.venueEntryCount(venueID: venue.id, day: day),
                                      activeReservationsToday: try await tx.bookedVenueReservations(venueID: venue.id, day: day))
            if let booked { _ = try await tx.closeVenueReservation(id: booked.id, as: "used", atMs: time.ms) }
            let entry = VenueEntryRecord(id: id, venueId: venue.id, personId: personID, day: day, atMs: time.ms, source: code == nil ? "card" : "qr",
                                         terminalId: terminal.id, sequence: nil, reservationId: booked?.id, overQuota: false, repeatVisit: false,
                                         receivedAtMs: time.ms)
            try await tx.insertVenueEntry(entry)
            try await tx.appendAudit(actor: actor, action: "venue.entry", objectType: "venue", objectID: venue.id,
                                     detail: "entry=\(id) source=\(entry.source)\(booked.map { " reservation=\($0.id)" } ?? "")", atMs: time.ms)
            return try Self.entryView(entry, venue: venue, holderName: standing.name)
        }
        return try JSON.response(view, status: .created)
    }

    func offlineBatch(_ request: Request, _ context: AppContext) async throws -> Response {
        let (terminal, venue) = try await gateVenue(context)
        let (body, _) = try await JSON.decode(Schemas.OfflineEntryBatch.self, from: request, limit: 512 * 1024)
        guard (1...Self.offlineBatchMax).contains(body.entries.count) else {
            throw DomainError.malformed("venue.batch_invalid", "a batch has 1-\(Self.offlineBatchMax) entries, got \(body.entries.count)")
        }
        for (index, entry) in body.entries.enumerated() where entry.permitNumber.utf8.count > 40 || entry.sequence < 0 {
            throw DomainError.malformed("venue.batch_invalid", "entries[\(index)]: sequence ≥ 0 and permit_number of at most 40 characters")
        }
        let now = clock.nowMs()
        let ids = body.entries.map { _ in newID() }
        let result = try await store.write { tx in
            let terms = try venue.terms()
            typealias Line = Schemas.OfflineEntryBatchResult.ResultsPayloadPayload
            var results: [Line] = []
            var seen: [Int64: String] = [:]
            var counts = (recorded: 0, duplicates: 0, rejected: 0)
            for (index, entry) in body.entries.enumerated() {
                let fingerprint = "\(entry.at)|\(entry.permitNumber)"
                if let earlier = seen[entry.sequence] {
                    if earlier == fingerprint { counts.duplicates += 1; results.append(Line(sequence: entry.sequence, outcome: .duplicate)) } else {
                        counts.rejected += 1
                        results.append(Line(sequence: entry.sequence, outcome: .rejected, reason: .sequenceReused))
                    }
                    continue
                }
                seen[entry.sequence] = fingerprint
                guard let at = TapTime(entry.at) else {
                    counts.rejected += 1
                    results.append(Line(sequence: entry.sequence, outcome: .rejected, reason: .timeInvalid))
                    continue
                }
                guard let number = try? PermitNumber(validating: entry.permitNumber), let person = try await tx.person(permitNumber: number.value) else {
                    counts.rejected += 1
                    results.append(Line(sequence: entry.sequence, outcome: .rejected, reason: .permitUnknown))
                    continue
                }
                if let stored = try await tx.venueEntry(terminalID: terminal.id, sequence: entry.sequence) {
                    if stored.personId == person.id && stored.atMs == at.unixMs {
                        counts.duplicates += 1
                        results.append(Line(sequence: entry.sequence, outcome: .duplicate))
                    } else {
                        counts.rejected += 1
                        results.append(Line(sequence: entry.sequence, outcome: .rejected, reason: .sequenceReused))
                    }
                    continue
                }
                let day = CivilDate.shanghai(unixSeconds: at.unixMs / 1000).description
                let repeatVisit = try await tx.hasVenueEntry(venueID: venue.id, personID: person.id, day: day)
                let reservation = try await tx.venueReservation(venueID: venue.id, personID: person.id, day: day)
                let booked = reservation?.status == "booked" ? reservation : nil
                var overQuota = false
                if booked == nil, let left = terms.remaining(entries: try await tx.venueEntryCount(venueID: venue.id, day: day),
                                                            activeReservations: try await tx.bookedVenueReservations(venueID: venue.id, day: day)) {
                    overQuota = left <= 0
                }
                if let booked { _ = try await tx.closeVenueReservation(id: booked.id, as: "used", atMs: now) }
                try await tx.insertVenueEntry(VenueEntryRecord(
                    id: ids[index], venueId: venue.id, personId: person.id, day: day, atMs: at.unixMs, source: "offline", terminalId: terminal.id,
                    sequence: entry.sequence, reservationId: booked?.id, overQuota: overQuota, repeatVisit: repeatVisit, receivedAtMs: now))
                counts.recorded += 1
                results.append(Line(sequence: entry.sequence, outcome: .recorded, overQuota: overQuota, repeatVisit: repeatVisit))
            }
            try await tx.appendAudit(actor: terminal.auditName, action: "venue.offline_entries", objectType: "venue", objectID: venue.id,
                                     detail: "recorded=\(counts.recorded) duplicates=\(counts.duplicates) rejected=\(counts.rejected)", atMs: now)
            return Schemas.OfflineEntryBatchResult(recorded: counts.recorded, duplicates: counts.duplicates, rejected: counts.rejected, results: results)
        }
        return try JSON.response(result)
    }
}
