/// Local social events for cardholders (a benefit of the card, `ECardRules.Benefit.localEvents`):
/// an organiser publishes an event with a capacity and an optional waitlist, cardholders register,
/// cancel and check in at the door, and confirmed registrations that never checked in read as
/// no-shows once the event is over. Pure functions of what the store read; times are Unix
/// milliseconds, shown in Beijing time (UTC+8 all year).
///
/// Windows, all half-open (the start included, the end not):
/// - registration: `registrationOpensAtMs ≤ now < registrationClosesAtMs`;
/// - cancellation: confirmed `now < cancellationDeadlineMs`, waitlisted `now < startsAtMs`;
/// - promotion from the waitlist: `now < startsAtMs` while a confirmed place is free;
/// - check-in: `startsAtMs − 60 min ≤ now < endsAtMs`;
/// - a confirmed registration is a no-show from `endsAtMs` on.

public enum RegistrationStatus: String, Sendable, CaseIterable, Codable {
    case confirmed, waitlisted, cancelled, attended
    case noShow = "no_show"

    /// Holds a place or a position on the waitlist.
    public var isActive: Bool { self == .confirmed || self == .waitlisted }

    /// Blocks a new registration of the same person for the same event (`alreadyRegistered`):
    /// everything but a cancelled registration, so someone who checked in cannot register again
    /// and take a second place.
    public var countsAsRegistered: Bool { self != .cancelled }
}

/// An event as published by an organiser, validated.
public struct EventTerms: Sendable, Equatable, Codable {
    public let startsAtMs: Int64
    public let endsAtMs: Int64
    /// Confirmed places, 1...`capacityMax`.
    public let capacity: Int
    public let registrationOpensAtMs: Int64
    /// No later than `startsAtMs`.
    public let registrationClosesAtMs: Int64
    /// No later than `startsAtMs`; a confirmed registration cannot be cancelled from here on.
    public let cancellationDeadlineMs: Int64
    /// A 6-digit city code: only holders whose card/permit is of this city may register (the
    /// caller checks and passes the answer to `EventRules.register` as `cityMatches`).
    public let cityOnly: String?
    /// 0...`waitlistLimit`; 0 means no waitlist.
    public let waitlistMax: Int

    public static let capacityMax = 100_000
    public static let waitlistLimit = 10_000
    /// An event lasts at most 14 days.
    public static let durationMaxMs: Int64 = 14 * 86_400_000
    /// Check-in opens 60 minutes before the start and closes at the end.
    public static let checkInOpensMinutesBefore = 60

    /// Terms as stored, without checks: for values read back from the store. Input goes through
    /// `validated`.
    public init(startsAtMs: Int64, endsAtMs: Int64, capacity: Int, registrationOpensAtMs: Int64, registrationClosesAtMs: Int64,
                cancellationDeadlineMs: Int64, cityOnly: String?, waitlistMax: Int) {
        self.startsAtMs = startsAtMs
        self.endsAtMs = endsAtMs
        self.capacity = capacity
        self.registrationOpensAtMs = registrationOpensAtMs
        self.registrationClosesAtMs = registrationClosesAtMs
        self.cancellationDeadlineMs = cancellationDeadlineMs
        self.cityOnly = cityOnly
        self.waitlistMax = waitlistMax
    }

    /// Validates: ends after starts (at most 14 days long), registration opens before it closes,
    /// closes no later than the start, cancellation deadline no later than the start and not
    /// before registration opens, capacity/waitlist ranges, city code 6 digits. `nowMs`: an event
    /// that has already started (`startsAtMs ≤ nowMs`) cannot be published. Each refusal is
    /// DomainError.rule("event.terms_invalid", "<member>: <message>") with member names
    /// starts_at, ends_at, capacity, registration_opens_at, registration_closes_at,
    /// cancellation_deadline, city_code, waitlist_max, checked in that order.
    public static func validated(startsAtMs: Int64, endsAtMs: Int64, capacity: Int, registrationOpensAtMs: Int64,
                                 registrationClosesAtMs: Int64, cancellationDeadlineMs: Int64, cityOnly: String?,
                                 waitlistMax: Int, nowMs: Int64) throws -> EventTerms {
        func fail(_ member: String, _ message: String) -> DomainError { DomainError.rule("event.terms_invalid", "\(member): \(message)") }
        guard startsAtMs > nowMs else { throw fail("starts_at", "the event must start in the future") }
        guard endsAtMs > startsAtMs else { throw fail("ends_at", "must be after starts_at") }
        // endsAtMs > startsAtMs, so an overflowing difference is a huge positive one.
        let (duration, overflow) = endsAtMs.subtractingReportingOverflow(startsAtMs)
        guard !overflow, duration <= durationMaxMs else { throw fail("ends_at", "an event lasts at most 14 days") }
        guard (1...capacityMax).contains(capacity) else { throw fail("capacity", "must be 1-\(capacityMax)") }
        guard registrationOpensAtMs < registrationClosesAtMs else {
            throw fail("registration_opens_at", "must be before registration_closes_at")
        }
        guard registrationClosesAtMs <= startsAtMs else { throw fail("registration_closes_at", "must be no later than starts_at") }
        guard cancellationDeadlineMs <= startsAtMs else { throw fail("cancellation_deadline", "must be no later than starts_at") }
        guard cancellationDeadlineMs >= registrationOpensAtMs else {
            throw fail("cancellation_deadline", "must not be before registration_opens_at")
        }
        if let cityOnly, !(cityOnly.count == 6 && cityOnly.allSatisfy(\.isASCIIDigit)) {
            throw fail("city_code", "must be a 6-digit city code, got '\(cityOnly.prefix(20))'")
        }
        guard (0...waitlistLimit).contains(waitlistMax) else { throw fail("waitlist_max", "must be 0-\(waitlistLimit) (0: no waitlist)") }
        return EventTerms(startsAtMs: startsAtMs, endsAtMs: endsAtMs, capacity: capacity, registrationOpensAtMs: registrationOpensAtMs,
                          registrationClosesAtMs: registrationClosesAtMs, cancellationDeadlineMs: cancellationDeadlineMs,
                          cityOnly: cityOnly, waitlistMax: waitlistMax)
    }

    /// When check-in opens: `checkInOpensMinutesBefore` before the start (saturating at Int64.min).
    public var checkInOpensAtMs: Int64 {
        let (opens, overflow) = startsAtMs.subtractingReportingOverflow(Int64(Self.checkInOpensMinutesBefore) * 60_000)
        return overflow ? Int64.min : opens
    }
}

public enum EventRules {
    /// A new registration: `.confirmed` while a confirmed place is free (`confirmedCount <
    /// capacity`) and nobody is waiting for one (`waitlistedCount == 0`: a freed place belongs to
    /// the head of the waitlist, see `mayPromote`), else `.waitlisted` when `waitlistedCount <
    /// waitlistMax`, else refused. Refusals, in this order:
    ///  event.cancelled (rule) when the event was cancelled by its organiser;
    ///  event.permit_not_valid (rule) when !permitValid;
    ///  event.city_not_eligible (rule) when the event is for one city (`cityOnly`) and !cityMatches;
    ///  event.registration_not_open (rule) before opens; event.registration_closed (rule) at/after closes;
    ///  event.already_registered (conflict) when alreadyRegistered (a registration of this person for
    ///  this event that is not cancelled: confirmed, waitlisted or attended — `countsAsRegistered`);
    ///  event.full (rule) when both capacity and waitlist are used up.
    /// `confirmedCount` counts every registration holding a place: confirmed and attended (check-in
    /// opens before registration may close).
    public static func register(_ terms: EventTerms, nowMs: Int64, eventCancelled: Bool, permitValid: Bool, cityMatches: Bool,
                                alreadyRegistered: Bool, confirmedCount: Int, waitlistedCount: Int) throws -> RegistrationStatus {
        if eventCancelled { throw DomainError.rule("event.cancelled", "the organiser has cancelled this event") }
        if !permitValid { throw DomainError.rule("event.permit_not_valid", "registering for events needs a valid work permit") }
        if let city = terms.cityOnly, !cityMatches {
            throw DomainError.rule("event.city_not_eligible", "this event is only for holders of a card or permit of city \(city)")
        }
        if nowMs < terms.registrationOpensAtMs {
            throw DomainError.rule("event.registration_not_open",
                                   "registration opens at \(shanghaiTime(terms.registrationOpensAtMs)) (Beijing time)")
        }
        if nowMs >= terms.registrationClosesAtMs {
            throw DomainError.rule("event.registration_closed",
                                   "registration closed at \(shanghaiTime(terms.registrationClosesAtMs)) (Beijing time)")
        }
        if alreadyRegistered { throw DomainError.conflict("event.already_registered", "you are already registered for this event") }
        if confirmedCount < terms.capacity && waitlistedCount <= 0 { return .confirmed }
        if waitlistedCount < terms.waitlistMax { return .waitlisted }
        throw DomainError.rule("event.full", terms.waitlistMax == 0
            ? "all \(terms.capacity) places are taken"
            : "all \(terms.capacity) places and all \(terms.waitlistMax) waitlist places are taken")
    }

    /// A cardholder cancels their own registration. Allowed for confirmed strictly before the
    /// cancellation deadline, for waitlisted strictly before the start; refusals:
    /// event.registration_closed_state (conflict: "the registration is already <status>") for
    /// cancelled/attended/no_show; event.cancellation_closed (rule) after the deadline (confirmed)
    /// or from the start (waitlisted). Returns whether the first waitlisted person must now be
    /// promoted: true when a confirmed place was freed (always before the deadline), false for a
    /// waitlisted one. The status is taken as passed: settle it first if it should read no_show.
    public static func cancel(status: RegistrationStatus, terms: EventTerms, nowMs: Int64) throws -> Bool {
        switch status {
        case .cancelled, .attended, .noShow:
            throw DomainError.conflict("event.registration_closed_state", "the registration is already \(status.rawValue)")
        case .confirmed:
            guard nowMs < terms.cancellationDeadlineMs else {
                throw DomainError.rule("event.cancellation_closed",
                                       "cancellation closed at \(shanghaiTime(terms.cancellationDeadlineMs)) (Beijing time)")
            }
            return true
        case .waitlisted:
            guard nowMs < terms.startsAtMs else {
                throw DomainError.rule("event.cancellation_closed",
                                       "the event started at \(shanghaiTime(terms.startsAtMs)) (Beijing time)")
            }
            return false
        }
    }

    /// Whether the first waitlisted person may be promoted now (the event has not started and a
    /// confirmed place is free: confirmedCount < capacity, confirmedCount counting confirmed and
    /// attended). Promotion takes the waitlisted registration that registered first.
    public static func mayPromote(terms: EventTerms, nowMs: Int64, confirmedCount: Int) -> Bool {
        nowMs < terms.startsAtMs && confirmedCount < terms.capacity
    }

    /// Check-in at the door: only a confirmed registration (attended → event.already_checked_in
    /// conflict; waitlisted → event.not_confirmed rule; cancelled/no_show → event.not_registered
    /// rule), from checkInOpensMinutesBefore before the start until the end (event.check_in_closed
    /// rule outside, the detail saying when it opens/closed). Returns .attended.
    public static func checkIn(status: RegistrationStatus, terms: EventTerms, nowMs: Int64) throws -> RegistrationStatus {
        switch status {
        case .attended: throw DomainError.conflict("event.already_checked_in", "this registration has already checked in")
        case .waitlisted: throw DomainError.rule("event.not_confirmed", "a waitlisted registration has no place at the event")
        case .cancelled, .noShow: throw DomainError.rule("event.not_registered", "there is no valid registration (it is \(status.rawValue))")
        case .confirmed: break
        }
        if nowMs < terms.checkInOpensAtMs {
            throw DomainError.rule("event.check_in_closed", "check-in opens at \(shanghaiTime(terms.checkInOpensAtMs)) (Beijing time)")
        }
        if nowMs >= terms.endsAtMs {
            throw DomainError.rule("event.check_in_closed", "check-in closed at \(shanghaiTime(terms.endsAtMs)) (Beijing time), when the event ended")
        }
        return .attended
    }

    /// After the event has ended (`nowMs ≥ endsAtMs`), a confirmed registration is a no-show: the
    /// status to show/store. Every other status is returned unchanged.
    public static func settled(status: RegistrationStatus, terms: EventTerms, nowMs: Int64) -> RegistrationStatus {
        status == .confirmed && nowMs >= terms.endsAtMs ? .noShow : status
    }

    /// "YYYY-MM-DD HH:MM" in Beijing time (UTC+8) for a Unix time in ms: for details and the
    /// inbox's `starts` parameter.
    public static func shanghaiTime(_ ms: Int64) -> String {
        let (quotient, remainder) = ms.quotientAndRemainder(dividingBy: 1000)
        let seconds = remainder < 0 ? quotient - 1 : quotient
        let date = CivilDate.shanghai(unixSeconds: seconds)
        let local = seconds + 8 * 3600
        let secondOfDay = ((local % 86_400) + 86_400) % 86_400
        let hour = Int(secondOfDay / 3600), minute = Int(secondOfDay % 3600 / 60)
        return "\(date) \(hour < 10 ? "0" : "")\(hour):\(minute < 10 ? "0" : "")\(minute)"
    }
}
