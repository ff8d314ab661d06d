/// Free entry to designated museums and scenic spots (issue 11, second part): a venue's opening
/// hours, daily quota of free entries and timed slots, and the decisions of reservation and entry,
/// as pure functions of what the store read. The HTTP and gate layers are not built yet.

public enum VenueKind: String, Sendable, CaseIterable, Codable {
    case museum, gallery, park
    case scenicSpot = "scenic_spot"
    case heritageSite = "heritage_site"
}

/// Opening hours of one day: minutes after local midnight, open ≤ minute < close.
public struct DayHours: Sendable, Equatable, Codable {
    public let opensAt: Int
    public let closesAt: Int

    public init(opensAt: Int, closesAt: Int) {
        self.opensAt = opensAt
        self.closesAt = closesAt
    }

    public func contains(minute: Int) -> Bool { (opensAt..<closesAt).contains(minute) }
}

/// A timed entry slot, every open day: minutes after local midnight and how many free entries it holds.
public struct TimedSlot: Sendable, Equatable, Codable {
    public let startsAt: Int
    public let endsAt: Int
    public let capacity: Int

    public init(startsAt: Int, endsAt: Int, capacity: Int) {
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.capacity = capacity
    }
}

/// What a venue offers: weekly hours (index 0 Monday … 6 Sunday; nil closed), an optional daily
/// quota of free entries, optional timed slots (then every free entry needs a slot reservation).
public struct VenueTerms: Sendable, Equatable, Codable {
    public let hours: [DayHours?]
    public let dailyQuota: Int?
    public let slots: [TimedSlot]

    public static let quotaMax = 100_000
    public static let slotsMax = 48
    /// How far ahead a reservation may be made.
    public static let reservationDaysAhead = 7

    public init(hours: [DayHours?], dailyQuota: Int?, slots: [TimedSlot]) {
        self.hours = hours
        self.dailyQuota = dailyQuota
        self.slots = slots
    }

    /// Checks the shape: 7 days, hours inside the day, slots inside the day's hours on every open
    /// day, in order and not overlapping, capacities and quota positive; errors name the field.
    public static func validated(hours: [DayHours?], dailyQuota: Int?, slots: [TimedSlot]) throws -> VenueTerms {
        func fail(_ field: String, _ message: String) -> DomainError { DomainError.malformed("venue.terms_invalid", "\(field): \(message)") }
        guard hours.count == 7 else { throw fail("hours", "7 days, Monday first, got \(hours.count)") }
        guard hours.contains(where: { $0 != nil }) else { throw fail("hours", "a venue is open at least one day a week") }
        for (index, day) in hours.enumerated() {
            guard let day else { continue }
            guard day.opensAt >= 0, day.closesAt <= 1440, day.opensAt < day.closesAt else {
                throw fail("hours[\(index)]", "opens_at < closes_at, both within 00:00-24:00")
            }
        }
        if let dailyQuota, !(1...quotaMax).contains(dailyQuota) { throw fail("daily_quota", "must be 1-\(quotaMax)") }
        guard slots.count <= slotsMax else { throw fail("slots", "at most \(slotsMax)") }
        var previousEnd = 0
        for (index, slot) in slots.enumerated() {
            guard slot.startsAt >= previousEnd, slot.startsAt < slot.endsAt, slot.endsAt <= 1440 else {
                throw fail("slots[\(index)]", "slots run in order, do not overlap and end within the day")
            }
            guard (1...quotaMax).contains(slot.capacity) else { throw fail("slots[\(index)].capacity", "must be 1-\(quotaMax)") }
            for (dayIndex, day) in hours.enumerated() {
                guard let day else { continue }
                guard slot.startsAt >= day.opensAt, slot.endsAt <= day.closesAt else {
                    throw fail("slots[\(index)]", "lies outside the opening hours of day \(dayIndex)")
                }
            }
            previousEnd = slot.endsAt
        }
        return VenueTerms(hours: hours, dailyQuota: dailyQuota, slots: slots)
    }

    public func hours(on date: CivilDate) -> DayHours? { hours[date.weekdayIndexFromMonday] }

    /// Whether free entries are only by reservation (timed slots) or also walk-in (quota or none).
    public var needsReservation: Bool { !slots.isEmpty }

    /// Free entries a day can still give: nil when unlimited.
    public func remaining(entries: Int, activeReservations: Int) -> Int? {
        if !slots.isEmpty { return max(0, slots.reduce(0) { $0 + $1.capacity } - entries - activeReservations) }
        return dailyQuota.map { max(0, $0 - entries - activeReservations) }
    }
}

public enum VenueRules {
    /// A reservation for `date` (and slot `slot` when the venue has slots): by a patron with a valid
    /// permit and an active card, for an open day from today up to 7 days ahead, a slot that has
    /// not ended, one per patron, venue and day, never beyond capacity.
    public static func checkReservation(_ terms: VenueTerms, date: CivilDate, slot: Int?, today: CivilDate, minuteNow: Int,
                                        permitValid: Bool, cardActive: Bool, alreadyReserved: Bool, reservedInSlotOrDay: Int,
                                        enteredThatDay: Int) throws {
        if !cardActive { throw DomainError.rule("card.not_active", "the card is not active: no reservations") }
        if !permitValid { throw DomainError.rule("venue.permit_not_valid", "free entry needs a valid work permit") }
        guard date >= today, date.daysSinceEpoch - today.daysSinceEpoch <= VenueTerms.reservationDaysAhead else {
            throw DomainError.rule("venue.date_out_of_range", "reservations are for today up to \(VenueTerms.reservationDaysAhead) days ahead")
        }
        guard let hours = terms.hours(on: date) else { throw DomainError.rule("venue.closed", "the venue is closed on \(date)") }
        if alreadyReserved { throw DomainError.conflict("venue.already_reserved", "you already have a reservation here on \(date)") }
        if terms.slots.isEmpty {
            guard slot == nil else { throw DomainError.rule("venue.slot_unexpected", "this venue has no timed slots") }
            guard terms.dailyQuota != nil else {
                throw DomainError.rule("venue.no_reservation_needed", "entry here is free without a reservation")
            }
            if date == today, minuteNow >= hours.closesAt { throw DomainError.rule("venue.closed", "the venue has closed for today") }
            guard (terms.remaining(entries: enteredThatDay, activeReservations: reservedInSlotOrDay) ?? 1) > 0 else {
                throw DomainError.conflict("venue.full", "no free entries are left on \(date)")
            }
            return
        }
        guard let slot, terms.slots.indices.contains(slot) else {
            throw DomainError.rule("venue.slot_required", "choose one of the \(terms.slots.count) timed slots (0-\(terms.slots.count - 1))")
        }
        if date == today, minuteNow >= terms.slots[slot].endsAt { throw DomainError.rule("venue.slot_over", "that slot has ended") }
        guard reservedInSlotOrDay < terms.slots[slot].capacity else {
            throw DomainError.conflict("venue.full", "the slot is full")
        }
    }

    /// Free entry at the gate now: a valid permit and an active card, open now, once per venue and
    /// day; with timed slots only on a reservation for a slot that has started (up to 15 minutes
    /// early) and not ended; under a quota only while entries are left (a reservation holds one).
    public static func checkEntry(_ terms: VenueTerms, today: CivilDate, minuteNow: Int, permitValid: Bool, cardActive: Bool,
                                  enteredToday: Bool, reservedSlot: Int?, hasReservationToday: Bool, entriesToday: Int,
                                  activeReservationsToday: Int) throws {
        if !cardActive { throw DomainError.rule("card.not_active", "the card is not active: no free entry") }
        if !permitValid { throw DomainError.rule("venue.permit_not_valid", "free entry needs a valid work permit") }
        guard let hours = terms.hours(on: today), hours.contains(minute: minuteNow) else {
            throw DomainError.rule("venue.closed", "the venue is closed now")
        }
        if enteredToday { throw DomainError.conflict("venue.already_entered", "free entry is once per venue and day") }
        if !terms.slots.isEmpty {
            guard let reservedSlot, terms.slots.indices.contains(reservedSlot) else {
                throw DomainError.rule("venue.reservation_required", "entry here is by timed reservation")
            }
            let slot = terms.slots[reservedSlot]
            guard minuteNow >= slot.startsAt - 15, minuteNow < slot.endsAt else {
                throw DomainError.rule("venue.not_your_slot", "your slot is \(clock(slot.startsAt))-\(clock(slot.endsAt))")
            }
            return
        }
        if hasReservationToday { return }
        if let left = terms.remaining(entries: entriesToday, activeReservations: activeReservationsToday), left <= 0 {
            throw DomainError.rule("venue.full", "today's free entries are used up")
        }
    }

    /// How a reservation reads now: a booked one whose slot (or, without slots, whose day's
    /// opening) has ended unused is `expired` — its place is released, since capacity only counts
    /// until the slot ends.
    public static func displayStatus(_ status: String, day: CivilDate, slot: TimedSlot?, terms: VenueTerms, today: CivilDate,
                                     minuteNow: Int) -> String {
        guard status == "booked" else { return status }
        let end = slot?.endsAt ?? terms.hours(on: day)?.closesAt ?? 1440
        return day < today || (day == today && minuteNow >= end) ? "expired" : status
    }

    /// "09:30" for 570.
    public static func clock(_ minute: Int) -> String {
        let hour = minute / 60, rest = minute % 60
        return "\(hour < 10 ? "0" : "")\(hour):\(rest < 10 ? "0" : "")\(rest)"
    }
}
