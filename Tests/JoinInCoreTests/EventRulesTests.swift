import JoinInTestSupport
import Testing
@testable import JoinInCore

/// Event rules by example: terms validation, registration with a waitlist, cancellation, promotion,
/// check-in and no-shows, every window probed exactly at its edges; then a seeded simulation
/// against a small model. Times are hand-computed Unix ms for Beijing time (UTC+8):
/// 2026-12-12 is day 20 799 since 1970-01-01 (2026-01-01 is day 20 454, plus 345), so
/// 2026-12-12 19:00 Beijing = 11:00 UTC = (20 799 × 86 400 + 39 600) s = 1 797 073 200 000 ms.
@Suite("Event rules")
struct EventRulesTests {
    static let minute: Int64 = 60_000
    static let hour: Int64 = 3_600_000
    static let day: Int64 = 86_400_000
    /// 2026-12-12 19:00.
    static let starts: Int64 = 1_797_073_200_000
    /// 2026-12-12 22:00.
    static let ends: Int64 = 1_797_084_000_000
    /// 2026-12-01 09:00 (11 days 10 hours before the start).
    static let opens: Int64 = 1_796_086_800_000
    /// 2026-12-12 12:00.
    static let closes: Int64 = 1_797_048_000_000
    /// 2026-12-11 19:00, a day before the start.
    static let deadline: Int64 = 1_796_986_800_000
    /// 2026-12-12 18:00.
    static let checkInOpens: Int64 = 1_797_069_600_000

    /// Two places, a waitlist of one, for holders of Shanghai (310000).
    static let terms = EventTerms(startsAtMs: starts, endsAtMs: ends, capacity: 2, registrationOpensAtMs: opens,
                                  registrationClosesAtMs: closes, cancellationDeadlineMs: deadline, cityOnly: "310000", waitlistMax: 1)

    /// The status's raw value, or the error's code.
    static func outcome(_ body: () throws -> RegistrationStatus) -> String {
        do { return try body().rawValue } catch let error as DomainError { return error.code } catch { return "unexpected" }
    }

    static func error(_ body: () throws -> Void) -> DomainError? {
        do { try body(); return nil } catch let error as DomainError { return error } catch { return nil }
    }

    @Test func handComputedTimesAgree() {
        // The constants above are consistent with each other and with their Beijing times.
        #expect(Self.ends - Self.starts == 3 * Self.hour)
        #expect(Self.starts - Self.opens == 11 * Self.day + 10 * Self.hour)
        #expect(Self.starts - Self.closes == 7 * Self.hour)
        #expect(Self.starts - Self.deadline == Self.day)
        #expect(Self.starts - Self.checkInOpens == Self.hour)
        #expect(Self.terms.checkInOpensAtMs == Self.checkInOpens)
        #expect(EventRules.shanghaiTime(Self.starts) == "2026-12-12 19:00")
        #expect(EventRules.shanghaiTime(Self.opens) == "2026-12-01 09:00")
        #expect(EventRules.shanghaiTime(Self.starts + 59_999) == "2026-12-12 19:00", "seconds are cut, not rounded")
        #expect(EventRules.shanghaiTime(0) == "1970-01-01 08:00")
        #expect(EventRules.shanghaiTime(-1) == "1970-01-01 07:59")
        #expect(EventRules.shanghaiTime(-8 * Self.hour) == "1970-01-01 00:00")
        #expect(EventRules.shanghaiTime(-8 * Self.hour - 1) == "1969-12-31 23:59")
        // Extreme values do not trap.
        #expect(!EventRules.shanghaiTime(Int64.max).isEmpty && !EventRules.shanghaiTime(Int64.min).isEmpty)
        let early = EventTerms(startsAtMs: Int64.min + 5, endsAtMs: Int64.min + 10, capacity: 1, registrationOpensAtMs: Int64.min,
                               registrationClosesAtMs: Int64.min + 1, cancellationDeadlineMs: Int64.min, cityOnly: nil, waitlistMax: 0)
        #expect(early.checkInOpensAtMs == Int64.min)
    }

    // MARK: Terms

    static func termsDetail(starts: Int64 = starts, ends: Int64 = ends, capacity: Int = 2, opens: Int64 = opens, closes: Int64 = closes,
                            deadline: Int64 = deadline, city: String? = "310000", waitlist: Int = 1, now: Int64 = opens - day) -> String? {
        do {
            _ = try EventTerms.validated(startsAtMs: starts, endsAtMs: ends, capacity: capacity, registrationOpensAtMs: opens,
                                         registrationClosesAtMs: closes, cancellationDeadlineMs: deadline, cityOnly: city,
                                         waitlistMax: waitlist, nowMs: now)
            return nil
        } catch let error as DomainError {
            #expect(error.code == "event.terms_invalid")
            #expect(error.kind == .rule)
            return error.detail
        } catch { return "unexpected" }
    }

    @Test func validTermsRoundTrip() throws {
        let terms = try EventTerms.validated(startsAtMs: Self.starts, endsAtMs: Self.ends, capacity: 2, registrationOpensAtMs: Self.opens,
                                             registrationClosesAtMs: Self.closes, cancellationDeadlineMs: Self.deadline, cityOnly: "310000",
                                             waitlistMax: 1, nowMs: Self.opens - Self.day)
        #expect(terms == Self.terms)
        // Limits that are allowed, each at its edge.
        #expect(Self.termsDetail(now: Self.starts - 1) == nil, "publishing a millisecond before the start")
        #expect(Self.termsDetail(ends: Self.starts + 1) == nil)
        #expect(Self.termsDetail(ends: Self.starts + 14 * Self.day) == nil, "exactly 14 days")
        #expect(Self.termsDetail(capacity: 1) == nil)
        #expect(Self.termsDetail(capacity: 100_000) == nil)
        #expect(Self.termsDetail(closes: Self.starts) == nil, "registration may run up to the start")
        #expect(Self.termsDetail(opens: Self.closes - 1, deadline: Self.starts) == nil)
        #expect(Self.termsDetail(deadline: Self.starts) == nil)
        #expect(Self.termsDetail(deadline: Self.opens) == nil)
        #expect(Self.termsDetail(city: nil) == nil)
        #expect(Self.termsDetail(waitlist: 0) == nil)
        #expect(Self.termsDetail(waitlist: 10_000) == nil)
        #expect(Self.termsDetail(opens: Self.opens - 30 * Self.day, now: Self.opens) == nil, "registration may already be open")
    }

    @Test func eachTermsRefusalNamesItsMember() {
        let cases: [(String?, String)] = [
            (Self.termsDetail(now: Self.starts), "starts_at"),
            (Self.termsDetail(now: Self.starts + 1), "starts_at"),
            (Self.termsDetail(ends: Self.starts), "ends_at"),
            (Self.termsDetail(ends: Self.starts - 1), "ends_at"),
            (Self.termsDetail(ends: Self.starts + 14 * Self.day + 1), "ends_at"),
            (Self.termsDetail(capacity: 0), "capacity"),
            (Self.termsDetail(capacity: -1), "capacity"),
            (Self.termsDetail(capacity: 100_001), "capacity"),
            (Self.termsDetail(opens: Self.closes), "registration_opens_at"),
            (Self.termsDetail(opens: Self.closes + 1, deadline: Self.starts), "registration_opens_at"),
            (Self.termsDetail(closes: Self.starts + 1), "registration_closes_at"),
            (Self.termsDetail(deadline: Self.starts + 1), "cancellation_deadline"),
            (Self.termsDetail(deadline: Self.opens - 1), "cancellation_deadline"),
            (Self.termsDetail(city: ""), "city_code"),
            (Self.termsDetail(city: "31000"), "city_code"),
            (Self.termsDetail(city: "3100000"), "city_code"),
            (Self.termsDetail(city: "31000A"), "city_code"),
            (Self.termsDetail(city: " 310000"), "city_code"),
            (Self.termsDetail(city: "３１００００"), "city_code"),
            (Self.termsDetail(waitlist: -1), "waitlist_max"),
            (Self.termsDetail(waitlist: 10_001), "waitlist_max"),
        ]
        for (index, (detail, member)) in cases.enumerated() {
            #expect(detail?.hasPrefix(member + ": ") == true, "case \(index): \(detail ?? "accepted")")
        }
        // A span so long that end − start overflows Int64 is refused, not trapped on.
        #expect(Self.termsDetail(starts: Int64.min + 10, ends: Int64.max, opens: Int64.min + 1, closes: Int64.min + 2,
                                 deadline: Int64.min + 3, now: Int64.min)?.hasPrefix("ends_at: ") == true)
        // Checked in the documented order: the first failing member is named.
        #expect(Self.termsDetail(ends: Self.starts, capacity: 0, now: Self.starts)?.hasPrefix("starts_at: ") == true)
        #expect(Self.termsDetail(capacity: 0, city: "x", waitlist: -1)?.hasPrefix("capacity: ") == true)
        #expect(Self.termsDetail(city: "x", waitlist: -1)?.hasPrefix("city_code: ") == true)
    }

    // MARK: Registration

    struct RegisterCase {
        var now: Int64
        var cancelled = false
        var permit = true
        var city = true
        var already = false
        var confirmed = 0
        var waitlisted = 0
        var terms = EventRulesTests.terms
        let expected: String
        let line: Int
    }

    @Test func registrationTable() {
        let noWaitlist = EventTerms(startsAtMs: Self.starts, endsAtMs: Self.ends, capacity: 2, registrationOpensAtMs: Self.opens,
                                    registrationClosesAtMs: Self.closes, cancellationDeadlineMs: Self.deadline, cityOnly: nil, waitlistMax: 0)
        let mid = Self.opens + Self.day
        let table: [RegisterCase] = [
            // The window: opens ≤ now < closes.
            RegisterCase(now: Self.opens - 1, expected: "event.registration_not_open", line: #line),
            RegisterCase(now: Self.opens, expected: "confirmed", line: #line),
            RegisterCase(now: Self.closes - 1, expected: "confirmed", line: #line),
            RegisterCase(now: Self.closes, expected: "event.registration_closed", line: #line),
            RegisterCase(now: Self.starts, expected: "event.registration_closed", line: #line),
            // Counts: capacity 2, waitlist 1.
            RegisterCase(now: mid, confirmed: 1, expected: "confirmed", line: #line),
            RegisterCase(now: mid, confirmed: 2, expected: "waitlisted", line: #line),
            RegisterCase(now: mid, confirmed: 2, waitlisted: 1, expected: "event.full", line: #line),
            RegisterCase(now: mid, confirmed: 3, waitlisted: 0, expected: "waitlisted", line: #line),
            RegisterCase(now: mid, confirmed: 1, waitlisted: 1, expected: "event.full", line: #line),
            RegisterCase(now: mid, confirmed: 2, terms: noWaitlist, expected: "event.full", line: #line),
            RegisterCase(now: mid, confirmed: 1, terms: noWaitlist, expected: "confirmed", line: #line),
            // A free place while someone waits belongs to the head of the waitlist.
            RegisterCase(now: mid, confirmed: 0, waitlisted: 1,
                         terms: EventTerms(startsAtMs: Self.starts, endsAtMs: Self.ends, capacity: 2, registrationOpensAtMs: Self.opens,
                                           registrationClosesAtMs: Self.closes, cancellationDeadlineMs: Self.deadline,
                                           cityOnly: nil, waitlistMax: 5),
                         expected: "waitlisted", line: #line),
            // Eligibility.
            RegisterCase(now: mid, cancelled: true, expected: "event.cancelled", line: #line),
            RegisterCase(now: mid, permit: false, expected: "event.permit_not_valid", line: #line),
            RegisterCase(now: mid, city: false, expected: "event.city_not_eligible", line: #line),
            RegisterCase(now: mid, city: false, terms: noWaitlist, expected: "confirmed", line: #line),
            RegisterCase(now: mid, already: true, expected: "event.already_registered", line: #line),
            // The order of refusals.
            RegisterCase(now: Self.opens - 1, cancelled: true, permit: false, city: false, already: true, confirmed: 2, waitlisted: 1,
                         expected: "event.cancelled", line: #line),
            RegisterCase(now: Self.opens - 1, permit: false, city: false, already: true, confirmed: 2, waitlisted: 1,
                         expected: "event.permit_not_valid", line: #line),
            RegisterCase(now: Self.opens - 1, city: false, already: true, confirmed: 2, waitlisted: 1,
                         expected: "event.city_not_eligible", line: #line),
            RegisterCase(now: Self.opens - 1, already: true, confirmed: 2, waitlisted: 1, expected: "event.registration_not_open", line: #line),
            RegisterCase(now: Self.closes, already: true, confirmed: 2, waitlisted: 1, expected: "event.registration_closed", line: #line),
            RegisterCase(now: mid, already: true, confirmed: 2, waitlisted: 1, expected: "event.already_registered", line: #line),
        ]
        for row in table {
            let got = Self.outcome {
                try EventRules.register(row.terms, nowMs: row.now, eventCancelled: row.cancelled, permitValid: row.permit,
                                        cityMatches: row.city, alreadyRegistered: row.already, confirmedCount: row.confirmed,
                                        waitlistedCount: row.waitlisted)
            }
            #expect(got == row.expected, "table row at line \(row.line)")
        }
    }

    @Test func registrationErrorKindsAndDetails() {
        func error(now: Int64 = Self.opens + Self.day, already: Bool = false, confirmed: Int = 0, waitlisted: Int = 0) -> DomainError? {
            Self.error {
                _ = try EventRules.register(Self.terms, nowMs: now, eventCancelled: false, permitValid: true, cityMatches: true,
                                            alreadyRegistered: already, confirmedCount: confirmed, waitlistedCount: waitlisted)
            }
        }
        #expect(error(already: true)?.kind == .conflict)
        #expect(error(confirmed: 2, waitlisted: 1)?.kind == .rule)
        #expect(error(now: Self.opens - 1)?.kind == .rule)
        #expect(error(now: Self.opens - 1)?.detail == "registration opens at 2026-12-01 09:00 (Beijing time)")
        #expect(error(now: Self.closes)?.detail == "registration closed at 2026-12-12 12:00 (Beijing time)")
        #expect(error(confirmed: 2, waitlisted: 1)?.detail == "all 2 places and all 1 waitlist places are taken")
    }

    // MARK: Cancellation

    @Test func cancellationTable() {
        // (status, now, expected: "promote" | "no_promotion" | error code)
        let table: [(RegistrationStatus, Int64, String, Int)] = [
            (.confirmed, Self.opens, "promote", #line),
            (.confirmed, Self.deadline - 1, "promote", #line),
            (.confirmed, Self.deadline, "event.cancellation_closed", #line),
            (.confirmed, Self.starts - 1, "event.cancellation_closed", #line),
            (.confirmed, Self.ends, "event.cancellation_closed", #line),
            (.waitlisted, Self.opens, "no_promotion", #line),
            (.waitlisted, Self.deadline, "no_promotion", #line),
            (.waitlisted, Self.starts - 1, "no_promotion", #line),
            (.waitlisted, Self.starts, "event.cancellation_closed", #line),
            (.waitlisted, Self.ends, "event.cancellation_closed", #line),
            (.cancelled, Self.opens, "event.registration_closed_state", #line),
            (.cancelled, Self.deadline - 1, "event.registration_closed_state", #line),
            (.attended, Self.deadline - 1, "event.registration_closed_state", #line),
            (.attended, Self.starts, "event.registration_closed_state", #line),
            (.noShow, Self.ends, "event.registration_closed_state", #line),
            (.noShow, Self.opens, "event.registration_closed_state", #line),
        ]
        for (status, now, expected, line) in table {
            let got: String
            do { got = try EventRules.cancel(status: status, terms: Self.terms, nowMs: now) ? "promote" : "no_promotion" } catch let error as DomainError {
                got = error.code
            } catch { got = "unexpected" }
            #expect(got == expected, "table row at line \(line)")
        }
        let closedState = Self.error { _ = try EventRules.cancel(status: .noShow, terms: Self.terms, nowMs: Self.opens) }
        #expect(closedState?.kind == .conflict)
        #expect(closedState?.detail == "the registration is already no_show")
        #expect(Self.error { _ = try EventRules.cancel(status: .attended, terms: Self.terms, nowMs: Self.opens) }?.detail
            == "the registration is already attended")
        let late = Self.error { _ = try EventRules.cancel(status: .confirmed, terms: Self.terms, nowMs: Self.deadline) }
        #expect(late?.kind == .rule)
        #expect(late?.detail == "cancellation closed at 2026-12-11 19:00 (Beijing time)")
    }

    @Test func promotion() {
        #expect(EventRules.mayPromote(terms: Self.terms, nowMs: Self.opens, confirmedCount: 1))
        #expect(EventRules.mayPromote(terms: Self.terms, nowMs: Self.deadline, confirmedCount: 1), "after the deadline, before the start")
        #expect(EventRules.mayPromote(terms: Self.terms, nowMs: Self.starts - 1, confirmedCount: 0))
        #expect(!EventRules.mayPromote(terms: Self.terms, nowMs: Self.starts, confirmedCount: 1), "the event has started")
        #expect(!EventRules.mayPromote(terms: Self.terms, nowMs: Self.opens, confirmedCount: 2), "no free place")
        #expect(!EventRules.mayPromote(terms: Self.terms, nowMs: Self.opens, confirmedCount: 3))
    }

    // MARK: Check-in and no-shows

    @Test func checkInTable() {
        let table: [(RegistrationStatus, Int64, String, Int)] = [
            (.confirmed, Self.checkInOpens - 1, "event.check_in_closed", #line),
            (.confirmed, Self.checkInOpens, "attended", #line),
            (.confirmed, Self.starts, "attended", #line),
            (.confirmed, Self.ends - 1, "attended", #line),
            (.confirmed, Self.ends, "event.check_in_closed", #line),
            (.confirmed, Self.opens, "event.check_in_closed", #line),
            (.attended, Self.starts, "event.already_checked_in", #line),
            (.attended, Self.ends + Self.day, "event.already_checked_in", #line),
            (.waitlisted, Self.starts, "event.not_confirmed", #line),
            (.waitlisted, Self.opens, "event.not_confirmed", #line),
            (.cancelled, Self.starts, "event.not_registered", #line),
            (.noShow, Self.starts, "event.not_registered", #line),
            (.noShow, Self.ends, "event.not_registered", #line),
        ]
        for (status, now, expected, line) in table {
            #expect(Self.outcome { try EventRules.checkIn(status: status, terms: Self.terms, nowMs: now) } == expected,
                    "table row at line \(line)")
        }
        func error(_ status: RegistrationStatus, _ now: Int64) -> DomainError? {
            Self.error { _ = try EventRules.checkIn(status: status, terms: Self.terms, nowMs: now) }
        }
        #expect(error(.attended, Self.starts)?.kind == .conflict)
        #expect(error(.waitlisted, Self.starts)?.kind == .rule)
        #expect(error(.cancelled, Self.starts)?.kind == .rule)
        #expect(error(.confirmed, Self.checkInOpens - 1)?.kind == .rule)
        #expect(error(.confirmed, Self.checkInOpens - 1)?.detail == "check-in opens at 2026-12-12 18:00 (Beijing time)")
        #expect(error(.confirmed, Self.ends)?.detail == "check-in closed at 2026-12-12 22:00 (Beijing time), when the event ended")
    }

    @Test func settledStatuses() {
        let table: [(RegistrationStatus, Int64, RegistrationStatus, Int)] = [
            (.confirmed, Self.ends - 1, .confirmed, #line),
            (.confirmed, Self.ends, .noShow, #line),
            (.confirmed, Self.ends + 30 * Self.day, .noShow, #line),
            (.attended, Self.ends, .attended, #line),
            (.waitlisted, Self.ends, .waitlisted, #line),
            (.cancelled, Self.ends, .cancelled, #line),
            (.noShow, Self.ends, .noShow, #line),
        ]
        for (status, now, expected, line) in table {
            #expect(EventRules.settled(status: status, terms: Self.terms, nowMs: now) == expected, "table row at line \(line)")
        }
        #expect(RegistrationStatus.noShow.rawValue == "no_show")
        #expect(RegistrationStatus.allCases.filter(\.isActive) == [.confirmed, .waitlisted])
        #expect(RegistrationStatus.allCases.filter(\.countsAsRegistered) == [.confirmed, .waitlisted, .attended, .noShow])
    }

    // MARK: Simulation

    /// Random sequences of register / cancel / promote / check-in at increasing times against a
    /// model that keeps places and a first-come-first-served queue; promotion after a cancellation
    /// is sometimes deferred to a sweeper step. Checks: places never exceed the capacity, the
    /// waitlist never exceeds its maximum, every answer is the model's, no newcomer gets a place
    /// while someone waits, a freed place goes to the earliest waiting person, and after a
    /// promotion step nobody waits while a place is free before the start.
    @Test func randomSequencesKeepCapacityAndServeTheWaitlistInOrder() throws {
        var rng = SeededGenerator(seed: 0xE7E_2026)
        var registrations = 0, promotions = 0, refusals = 0
        for run in 0..<400 {
            let capacity = Int.random(in: 1...4, using: &rng)
            let waitlistMax = Int.random(in: 0...4, using: &rng)
            // Small times: registration [0, 100 000), deadline 80 000, start 120 000, end 150 000.
            let terms = try EventTerms.validated(startsAtMs: 120_000, endsAtMs: 150_000, capacity: capacity, registrationOpensAtMs: 0,
                                                 registrationClosesAtMs: 100_000, cancellationDeadlineMs: 80_000, cityOnly: nil,
                                                 waitlistMax: waitlistMax, nowMs: -10_000)
            let people = 10
            var status = [RegistrationStatus?](repeating: nil, count: people)
            var queue: [Int] = []       // waiting people in the order they registered
            var holding = Set<Int>()    // confirmed or attended
            var now: Int64 = -5_000

            func promoteAll() {
                while EventRules.mayPromote(terms: terms, nowMs: now, confirmedCount: holding.count), let first = queue.first {
                    #expect(now < 120_000 && holding.count < capacity, "run \(run): promotion without a free place")
                    queue.removeFirst()
                    holding.insert(first)
                    status[first] = .confirmed
                    promotions += 1
                }
            }

            for _ in 0..<60 {
                now += Int64.random(in: 0...5_000, using: &rng)
                let person = Int.random(in: 0..<people, using: &rng)
                switch Int.random(in: 0..<10, using: &rng) {
                case 0..<5:
                    let active = status[person]?.countsAsRegistered == true
                    let expected: String
                    if now < 0 { expected = "event.registration_not_open" } else if now >= 100_000 { expected = "event.registration_closed" }
                    else if active { expected = "event.already_registered" }
                    else if holding.count < capacity && queue.isEmpty { expected = "confirmed" }
                    else if queue.count < waitlistMax { expected = "waitlisted" } else { expected = "event.full" }
                    let got = Self.outcome {
                        try EventRules.register(terms, nowMs: now, eventCancelled: false, permitValid: true, cityMatches: true,
                                                alreadyRegistered: active, confirmedCount: holding.count, waitlistedCount: queue.count)
                    }
                    #expect(got == expected, "run \(run) register at \(now)")
                    if got == "confirmed" {
                        #expect(queue.isEmpty, "run \(run): a newcomer took a place while \(queue.count) waited")
                        holding.insert(person); status[person] = .confirmed; registrations += 1
                    }
                    else if got == "waitlisted" { queue.append(person); status[person] = .waitlisted; registrations += 1 }
                    else { refusals += 1 }
                case 5..<8:
                    guard let current = status[person] else { continue }
                    let expected: String
                    switch current {
                    case .confirmed: expected = now < 80_000 ? "promote" : "event.cancellation_closed"
                    case .waitlisted: expected = now < 120_000 ? "no_promotion" : "event.cancellation_closed"
                    case .cancelled, .attended, .noShow: expected = "event.registration_closed_state"
                    }
                    let got: String
                    do { got = try EventRules.cancel(status: current, terms: terms, nowMs: now) ? "promote" : "no_promotion" } catch let error as DomainError {
                        got = error.code
                    } catch { got = "unexpected" }
                    #expect(got == expected, "run \(run) cancel \(current) at \(now)")
                    guard got == "promote" || got == "no_promotion" else { continue }
                    let head = queue.first
                    holding.remove(person)
                    queue.removeAll { $0 == person }
                    status[person] = .cancelled
                    // The server promotes in the cancelling transaction; half the time here it is
                    // left to the sweeper (case 8), so that free places and a waitlist coexist.
                    if got == "promote" && Bool.random(using: &rng) {
                        promoteAll()
                        // The freed place went to whoever had waited longest.
                        if let head { #expect(status[head] == .confirmed, "run \(run): the head of the waitlist was passed over") }
                    }
                case 8:
                    let head = queue.first, free = now < 120_000 && holding.count < capacity
                    promoteAll()
                    if let head, free { #expect(status[head] == .confirmed, "run \(run): the head of the waitlist was passed over") }
                    if now < 120_000 && !queue.isEmpty {
                        #expect(holding.count == capacity, "run \(run): someone waits while a place is free")
                    }
                default:
                    guard let current = status[person] else { continue }
                    let inWindow = now >= 120_000 - 3_600_000 && now < 150_000
                    let got = Self.outcome { try EventRules.checkIn(status: current, terms: terms, nowMs: now) }
                    if current == .confirmed && inWindow { #expect(got == "attended", "run \(run)"); status[person] = .attended }
                    else { #expect(got != "attended", "run \(run): check-in of \(current) at \(now)") }
                }
                #expect(holding.count <= capacity, "run \(run): \(holding.count) places taken of \(capacity)")
                #expect(queue.count <= waitlistMax, "run \(run): waitlist \(queue.count) of \(waitlistMax)")
                #expect(holding.count == status.filter { $0 == .confirmed || $0 == .attended }.count)
                #expect(queue.count == status.filter { $0 == .waitlisted }.count)
            }
            // After the end, whoever held a place without checking in is a no-show.
            for person in 0..<people {
                guard let current = status[person] else { continue }
                let settled = EventRules.settled(status: current, terms: terms, nowMs: 150_000)
                #expect(settled == (current == .confirmed ? .noShow : current))
            }
        }
        // The runs exercised every path, not just refusals.
        #expect(registrations > 2_000 && promotions > 200 && refusals > 5_000, "\(registrations) \(promotions) \(refusals)")
    }
}
