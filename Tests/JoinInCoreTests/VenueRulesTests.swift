import Testing
@testable import JoinInCore

/// Venue rules by example: terms validation, reservations and entry decisions. Dates: 2026-12-07 is
/// a Monday.
@Suite("Venue rules")
struct VenueRulesTests {
    static let monday = CivilDate(year: 2026, month: 12, day: 7)!
    /// Tuesday to Sunday 09:00-17:00, closed Mondays (as most Chinese museums).
    static let museumHours: [DayHours?] = [nil] + Array(repeating: DayHours(opensAt: 540, closesAt: 1020), count: 6)

    static func code(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let error as DomainError { return error.code } catch { return "unexpected" }
    }

    @Test func termsAreValidatedWithTheField() throws {
        let slots = [TimedSlot(startsAt: 540, endsAt: 660, capacity: 100), TimedSlot(startsAt: 660, endsAt: 780, capacity: 100)]
        let terms = try VenueTerms.validated(hours: Self.museumHours, dailyQuota: nil, slots: slots)
        #expect(terms.needsReservation)
        #expect(terms.remaining(entries: 30, activeReservations: 50) == 120)
        func detail(_ hours: [DayHours?], _ quota: Int?, _ slots: [TimedSlot]) -> String? {
            do { _ = try VenueTerms.validated(hours: hours, dailyQuota: quota, slots: slots); return nil } catch let error as DomainError {
                #expect(error.code == "venue.terms_invalid")
                return error.detail
            } catch { return "unexpected" }
        }
        #expect(detail(Array(Self.museumHours.prefix(6)), nil, [])?.hasPrefix("hours:") == true)
        #expect(detail(Array(repeating: nil, count: 7), nil, [])?.contains("at least one day") == true)
        #expect(detail([DayHours(opensAt: 600, closesAt: 540)] + Array(repeating: nil, count: 6), nil, [])?.hasPrefix("hours[0]") == true)
        #expect(detail(Self.museumHours, 0, [])?.hasPrefix("daily_quota") == true)
        #expect(detail(Self.museumHours, nil, [TimedSlot(startsAt: 600, endsAt: 700, capacity: 5),
                                               TimedSlot(startsAt: 650, endsAt: 720, capacity: 5)])?.hasPrefix("slots[1]") == true)
        #expect(detail(Self.museumHours, nil, [TimedSlot(startsAt: 480, endsAt: 600, capacity: 5)])?.contains("outside the opening hours") == true)
        #expect(detail(Self.museumHours, nil, [TimedSlot(startsAt: 600, endsAt: 700, capacity: 0)])?.hasPrefix("slots[0].capacity") == true)
    }

    @Test func reservations() throws {
        let quota = try VenueTerms.validated(hours: Self.museumHours, dailyQuota: 2, slots: [])
        let tuesday = Self.monday.adding(days: 1)
        func reserve(_ terms: VenueTerms, _ date: CivilDate, slot: Int? = nil, minute: Int = 600, permit: Bool = true, card: Bool = true,
                     already: Bool = false, reserved: Int = 0, entered: Int = 0) -> String? {
            Self.code {
                try VenueRules.checkReservation(terms, date: date, slot: slot, today: Self.monday, minuteNow: minute, permitValid: permit,
                                                cardActive: card, alreadyReserved: already, reservedInSlotOrDay: reserved, enteredThatDay: entered)
            }
        }
        #expect(reserve(quota, tuesday) == nil)
        #expect(reserve(quota, Self.monday) == "venue.closed", "closed on Mondays")
        #expect(reserve(quota, Self.monday.adding(days: -1)) == "venue.date_out_of_range")
        #expect(reserve(quota, Self.monday.adding(days: 8)) == "venue.date_out_of_range")
        #expect(reserve(quota, Self.monday.adding(days: 6)) == nil, "Sunday, six days ahead")
        #expect(reserve(quota, Self.monday.adding(days: 7)) == "venue.closed", "seven days ahead is allowed, but a Monday")
        #expect(reserve(quota, tuesday, permit: false) == "venue.permit_not_valid")
        #expect(reserve(quota, tuesday, card: false) == "card.not_active")
        #expect(reserve(quota, tuesday, already: true) == "venue.already_reserved")
        #expect(reserve(quota, tuesday, reserved: 1, entered: 1) == "venue.full", "one reservation and one entry use the quota of 2")
        #expect(reserve(quota, tuesday, reserved: 1) == nil)
        #expect(reserve(quota, tuesday, slot: 0) == "venue.slot_unexpected")
        let open = try VenueTerms.validated(hours: Self.museumHours, dailyQuota: nil, slots: [])
        #expect(reserve(open, tuesday) == "venue.no_reservation_needed")

        let slotted = try VenueTerms.validated(hours: Self.museumHours, dailyQuota: nil,
                                               slots: [TimedSlot(startsAt: 540, endsAt: 660, capacity: 3), TimedSlot(startsAt: 660, endsAt: 780, capacity: 3)])
        #expect(reserve(slotted, tuesday) == "venue.slot_required")
        #expect(reserve(slotted, tuesday, slot: 2) == "venue.slot_required")
        #expect(reserve(slotted, tuesday, slot: 1, reserved: 2) == nil)
        #expect(reserve(slotted, tuesday, slot: 1, reserved: 3) == "venue.full")
    }

    @Test func entries() throws {
        let tuesday = Self.monday.adding(days: 1)
        let quota = try VenueTerms.validated(hours: Self.museumHours, dailyQuota: 2, slots: [])
        func enter(_ terms: VenueTerms, day: CivilDate = tuesday, minute: Int = 600, permit: Bool = true, entered: Bool = false,
                   slot: Int? = nil, reservation: Bool = false, entries: Int = 0, reservations: Int = 0) -> String? {
            Self.code {
                try VenueRules.checkEntry(terms, today: day, minuteNow: minute, permitValid: permit, cardActive: true, enteredToday: entered,
                                          reservedSlot: slot, hasReservationToday: reservation, entriesToday: entries,
                                          activeReservationsToday: reservations)
            }
        }
        #expect(enter(quota) == nil)
        #expect(enter(quota, day: Self.monday) == "venue.closed")
        #expect(enter(quota, minute: 1020) == "venue.closed", "17:00 is closing time")
        #expect(enter(quota, minute: 539) == "venue.closed")
        #expect(enter(quota, permit: false) == "venue.permit_not_valid")
        #expect(enter(quota, entered: true) == "venue.already_entered")
        #expect(enter(quota, entries: 1, reservations: 1) == "venue.full", "the last entry is held by a reservation")
        #expect(enter(quota, reservation: true, entries: 1, reservations: 1) == nil, "the reservation holder gets in")
        let slotted = try VenueTerms.validated(hours: Self.museumHours, dailyQuota: nil,
                                               slots: [TimedSlot(startsAt: 540, endsAt: 660, capacity: 3), TimedSlot(startsAt: 660, endsAt: 780, capacity: 3)])
        #expect(enter(slotted) == "venue.reservation_required")
        #expect(enter(slotted, minute: 645, slot: 1, reservation: true) == nil, "up to 15 minutes early")
        #expect(enter(slotted, minute: 644, slot: 1, reservation: true) == "venue.not_your_slot")
        #expect(enter(slotted, minute: 780, slot: 1, reservation: true) == "venue.closed" || enter(slotted, minute: 780, slot: 1, reservation: true) == "venue.not_your_slot")
        #expect(enter(slotted, minute: 700, slot: 0, reservation: true) == "venue.not_your_slot", "a slot that has ended")
        #expect(VenueRules.clock(570) == "09:30" && VenueRules.clock(1020) == "17:00")
        // A booked reservation reads expired once its slot (or day) is over.
        let slot = slotted.slots[1]
        #expect(VenueRules.displayStatus("booked", day: tuesday, slot: slot, terms: slotted, today: tuesday, minuteNow: 779) == "booked")
        #expect(VenueRules.displayStatus("booked", day: tuesday, slot: slot, terms: slotted, today: tuesday, minuteNow: 780) == "expired")
        #expect(VenueRules.displayStatus("booked", day: tuesday, slot: nil, terms: quota, today: tuesday.adding(days: 1), minuteNow: 0) == "expired")
        #expect(VenueRules.displayStatus("used", day: tuesday, slot: slot, terms: slotted, today: tuesday.adding(days: 3), minuteNow: 0) == "used")
    }
}
