import Foundation
import HTTPTypes
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import Testing

// Local social events and the inbox (issue 13) through the HTTP API, on both engines. The test
// clock starts on Tuesday 2026-12-01 at 12:00 in Shanghai.

extension Harness {
    struct EventWorld: Sendable {
        let world: World
        let organizer: String
        let organizerID: String
        let door: String
    }

    func eventWorld() async throws -> EventWorld {
        let world = try await world()
        let organizer = try await staff(.eventOrganizer)
        let organizerID = try #require(try await call(.get, "/v1/staff/me", token: organizer).string("id"))
        let door = try #require(try await call(.post, "/v1/terminals", token: world.admin,
                                               json: ["kind": "eventCheckIn", "name": "Hall door", "binding_id": organizerID]).string("api_key"))
        return EventWorld(world: world, organizer: organizer, organizerID: organizerID, door: door)
    }

    /// An event `startHours` from now, two hours long; registration open from an hour ago until
    /// an hour before the start; cancellations until `deadlineHours` from now.
    func publishEvent(_ e: EventWorld, capacity: Int, waitlist: Int, startHours: Int64 = 48, deadlineHours: Int64 = 24,
                      cityOnly: Bool = false) async throws -> String {
        func at(_ hours: Int64) -> String { Timestamps.rfc3339(ms: clock.now + hours * 3_600_000) }
        let reply = try await call(.post, "/v1/events", token: e.organizer, json: [
            "title": ["en": "Dumpling night", "zh": "包饺子之夜"], "description": ["en": "Make and eat dumplings.", "zh": "一起包饺子。"],
            "place": ["en": "Haishu Community Centre", "zh": "海曙社区中心"], "city_code": "330200", "starts_at": at(startHours),
            "ends_at": at(startHours + 2), "capacity": capacity, "registration_opens_at": at(-1), "registration_closes_at": at(startHours - 1),
            "cancellation_deadline": at(deadlineHours), "waitlist_max": waitlist, "city_only": cityOnly])
        try #require(reply.status == .created, "\(reply.text)")
        return try #require(reply.string("id"))
    }

    /// Cardholders with e-card sessions and active cards (each its own permit), so they can show a dynamic QR.
    func holders(_ world: World, count: Int, prefix: String) async throws -> [String] {
        var tokens: [String] = []
        for index in 0..<count {
            let passport = "\(prefix)\(1_000_000 + index)"
            let (permit, token) = try await registeredHolder(world, body: Harness.applicationBody(passport: passport, surname: "GUEST"))
            let card = try #require(try await issuedCard(world, permit: permit, passport: passport)["card_number"] as? String)
            let activated = try await call(.post, "/v1/cards/\(card)/activation", token: world.clerk, json: ["pin": "582931"])
            try #require(activated.status == .ok, "\(activated.text)")
            tokens.append(token)
        }
        return tokens
    }
}

@Suite("Events and the inbox")
struct EventAPITests {
    @Test("capacity, a first-come waitlist promoted on cancellation, check-in by dynamic QR, attendance and no-shows",
          arguments: TestStores.engines)
    func lifecycle(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let e = try await h.eventWorld()
            let eventID = try await h.publishEvent(e, capacity: 2, waitlist: 2)
            let people = try await h.holders(e.world, count: 5, prefix: "E")
            func register(_ token: String) async throws -> Reply {
                try await h.call(.post, "/v1/ecard/events/\(eventID)/registrations", token: token)
            }
            #expect(try await register(people[0]).string("status") == "confirmed")
            #expect(try await register(people[0]).code == "event.already_registered")
            #expect(try await register(people[1]).string("status") == "confirmed")
            let third = try await register(people[2])
            #expect(third.string("status") == "waitlisted" && third.value("waitlist_position") as? Int == 1, "\(third.text)")
            #expect(try await register(people[3]).value("waitlist_position") as? Int == 2)
            #expect(try await register(people[4]).code == "event.full")
            let listed = try await h.call(.get, "/v1/ecard/events", token: people[4])
            #expect(listed.items.first?["places_left"] as? Int == 0 && listed.items.first?["waitlist_left"] as? Int == 0, "\(listed.text)")

            // A confirmed place given back before the deadline goes to the first of the waitlist.
            let cancelled = try await h.call(.post, "/v1/ecard/events/\(eventID)/registration/cancellation", token: people[1])
            #expect(cancelled.status == .ok && cancelled.string("status") == "cancelled", "\(cancelled.text)")
            let promoted = try await h.call(.get, "/v1/ecard/event-registrations", token: people[2])
            #expect(promoted.items.first?["status"] as? String == "confirmed" && promoted.items.first?["promoted_at"] != nil, "\(promoted.text)")
            let inbox = try await h.call(.get, "/v1/ecard/inbox", token: people[2])
            #expect(inbox.items.first?["kind"] as? String == "waitlist_promoted", "\(inbox.text)")
            #expect(((inbox.items.first?["title"] as? [String: Any])?["zh"] as? String)?.isEmpty == false)
            #expect(try await h.call(.get, "/v1/ecard/event-registrations", token: people[3]).items.first?["waitlist_position"] as? Int == 1)
            #expect(try await register(people[1]).string("status") == "waitlisted", "a new registration joins the end of the waitlist")

            // After the deadline a confirmed holder can no longer cancel.
            h.clock.advance(seconds: 25 * 3600)
            #expect(try await h.call(.post, "/v1/ecard/events/\(eventID)/registration/cancellation", token: people[0]).code
                    == "event.cancellation_closed")

            // Check-in opens an hour before the start (48 h from the beginning): not yet.
            func checkIn(_ token: String) async throws -> Reply {
                let qr = try #require(try await h.call(.post, "/v1/ecard/dynamic-codes", token: token).string("code"))
                return try await h.call(.post, "/v1/event-check-ins", token: e.door, json: ["event_id": eventID, "dynamic_code": qr])
            }
            #expect(try await checkIn(people[0]).code == "event.check_in_closed")
            h.clock.advance(seconds: 22 * 3600 + 30 * 60)   // 30 minutes before the start
            // E-card sessions last 30 days; the organiser signs in again (staff sessions are shorter).
            let door = try await checkIn(people[0])
            #expect(door.status == .created && door.string("status") == "attended" && door.string("name") == "GUEST JANE ANN", "\(door.text)")
            #expect(try await checkIn(people[0]).code == "event.already_checked_in")
            #expect(try await checkIn(people[3]).code == "event.not_confirmed")
            #expect(try await checkIn(people[4]).code == "event.not_registered")
            // Another organiser's door cannot check in to this event.
            let otherOrganizer = try await h.staff(.eventOrganizer)
            let otherID = try #require(try await h.call(.get, "/v1/staff/me", token: otherOrganizer).string("id"))
            let otherDoor = try #require(try await h.call(.post, "/v1/terminals", token: try await h.admin(),
                                                          json: ["kind": "eventCheckIn", "name": "Other door", "binding_id": otherID]).string("api_key"))
            let qr = try #require(try await h.call(.post, "/v1/ecard/dynamic-codes", token: people[2]).string("code"))
            #expect(try await h.call(.post, "/v1/event-check-ins", token: otherDoor, json: ["event_id": eventID, "dynamic_code": qr]).code
                    == "event.not_found")

            // After the end: people[2] never came — a no-show, recorded by the sweeper.
            h.clock.advance(seconds: 3 * 3600)
            let swept = try await Sweeper.sweep(store: h.store, nowMs: h.clock.now)
            #expect(swept.eventNoShows == 1)
            let registrations = try await h.call(.get, "/v1/events/\(eventID)/registrations", token: try await h.signIn(try #require(
                try await h.store.read { tx in try await tx.staff(id: e.organizerID)?.username })))
            let statuses = registrations.items.compactMap { $0["status"] as? String }
            #expect(statuses.sorted() == ["attended", "cancelled", "no_show", "waitlisted", "waitlisted"], "\(registrations.text)")
            let audit = try await h.call(.get, "/v1/audit-records?limit=200", token: try await h.admin())
            #expect(audit.items.contains { $0["action"] as? String == "event.waitlist_promote" })
        }
    }

    @Test("concurrent registrations and cancellations never exceed the capacity or the waitlist", arguments: TestStores.engines)
    func races(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let e = try await h.eventWorld()
            let eventID = try await h.publishEvent(e, capacity: 3, waitlist: 2)
            let people = try await h.holders(e.world, count: 8, prefix: "R")
            // Replies are kept in the order of `people` (a task group yields them as they finish).
            let first = try await withThrowingTaskGroup(of: (Int, Reply).self) { group in
                for (index, token) in people.enumerated() {
                    group.addTask { (index, try await h.call(.post, "/v1/ecard/events/\(eventID)/registrations", token: token)) }
                }
                var all: [(Int, Reply)] = []
                for try await reply in group { all.append(reply) }
                return all.sorted { $0.0 < $1.0 }.map(\.1)
            }
            #expect(first.filter { $0.string("status") == "confirmed" }.count == 3, "\(first.map(\.text))")
            #expect(first.filter { $0.string("status") == "waitlisted" }.count == 2)
            #expect(first.filter { $0.code == "event.full" }.count == 3)
            // Every confirmed holder cancels while the full ones try again, all at once.
            let confirmed = zip(people, first).filter { $0.1.string("status") == "confirmed" }.map(\.0)
            let waitlisted = zip(people, first).filter { $0.1.string("status") == "waitlisted" }.map(\.0)
            let full = zip(people, first).filter { $0.1.code == "event.full" }.map(\.0)
            let second = try await withThrowingTaskGroup(of: (Bool, Reply).self) { group in
                for token in confirmed {
                    group.addTask { (false, try await h.call(.post, "/v1/ecard/events/\(eventID)/registration/cancellation", token: token)) }
                }
                for token in full { group.addTask { (true, try await h.call(.post, "/v1/ecard/events/\(eventID)/registrations", token: token)) } }
                var all: [(Bool, Reply)] = []
                for try await reply in group { all.append(reply) }
                return all
            }
            #expect(second.filter { !$0.0 }.allSatisfy { $0.1.status == .ok }, "every cancellation succeeds: \(second.map(\.1.text))")
            let retries = second.filter(\.0).map(\.1)
            #expect(retries.allSatisfy { $0.string("status") != nil || $0.code == "event.full" }, "\(retries.map(\.text))")
            let counts = try await h.store.read { tx in try await tx.eventRegistrationCounts(eventID: eventID) }
            let event = try #require(try await h.store.read { tx in try await tx.event(id: eventID) })
            let placed = counts["confirmed"] ?? 0, waiting = counts["waitlisted"] ?? 0
            #expect(placed <= 3 && waiting <= 2, "\(counts)")
            #expect(Int(event.confirmed) == placed && Int(event.waitlisted) == waiting,
                    "the event's counters agree with its registrations: \(counts), \(event.confirmed)/\(event.waitlisted)")
            // Nobody who got in is lost, and nobody waits while a place is free. Which retries got
            // in depends on the order the writes ran in.
            let retriedIn = retries.filter { $0.string("status") != nil }.count
            #expect(placed + waiting == waitlisted.count + retriedIn, "\(counts) vs replies \(retries.map(\.text))")
            #expect(waiting == 0 || placed == 3, "\(counts)")
            // Places freed before the deadline went to the waitlist first, in its order.
            for token in waitlisted {
                let mine = try await h.call(.get, "/v1/ecard/event-registrations", token: token)
                #expect(mine.items.first?["status"] as? String == "confirmed", "\(mine.text)")
            }
        }
    }

    @Test("who may register: a valid permit, the event's city, the registration window; organisers cancel and everyone is told",
          arguments: TestStores.engines)
    func eligibility(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let e = try await h.eventWorld()
            let ningboOnly = try await h.publishEvent(e, capacity: 5, waitlist: 0, cityOnly: true)
            let ningbo = try await h.holders(e.world, count: 1, prefix: "N")
            // A holder of the Beijing employer.
            let submitted = try await h.call(.post, "/v1/permit-applications", token: e.world.otherEmployer,
                                             json: Harness.applicationBody(passport: "B7654321", surname: "BEIJING"))
            let applicationID = try #require(submitted.string("id"), "\(submitted.text)")
            let issued = try await h.call(.post, "/v1/permit-applications/\(applicationID)/originals-verification", token: e.world.officer,
                                          json: ["checked_documents": Harness.allDocuments, "decision": "issue"])
            let beijingPermit = try #require(issued.string("permit.number"), "\(issued.text)")
            let registration = try await h.call(.post, "/v1/ecard/registrations", json: [
                "permit_number": beijingPermit, "name": "BEIJING JANE ANN",
                "activation_code": try #require(issued.string("activation_code")), "password": "moonlit harbour walk"])
            try #require(registration.status == .created, "\(registration.text)")
            let session = try await h.call(.post, "/v1/ecard/sessions", json: ["permit_number": beijingPermit, "password": "moonlit harbour walk"])
            let beijing = try #require(session.string("token"), "\(session.text)")
            #expect(try await h.call(.post, "/v1/ecard/events/\(ningboOnly)/registrations", token: beijing).code == "event.city_not_eligible")
            #expect(try await h.call(.post, "/v1/ecard/events/\(ningboOnly)/registrations", token: ningbo[0]).string("status") == "confirmed")
            // Terms are validated whole.
            let bad = try await h.call(.post, "/v1/events", token: e.organizer, json: [
                "title": ["en": "X", "zh": "X"], "description": ["en": "X", "zh": "X"], "place": ["en": "X", "zh": "X"], "city_code": "330200",
                "starts_at": "2026-12-05T10:00:00+08:00", "ends_at": "2026-12-05T09:00:00+08:00", "capacity": 5,
                "registration_opens_at": "2026-12-01T00:00:00+08:00", "registration_closes_at": "2026-12-04T00:00:00+08:00",
                "cancellation_deadline": "2026-12-04T00:00:00+08:00"])
            #expect(bad.code == "event.terms_invalid" && bad.string("detail")?.contains("ends_at") == true, "\(bad.text)")
            // The organiser cancels: the registrant is told; new registrations are refused.
            let cancelled = try await h.call(.post, "/v1/events/\(ningboOnly)/cancellation", token: e.organizer)
            #expect(cancelled.status == .ok && cancelled.string("status") == "cancelled", "\(cancelled.text)")
            #expect(try await h.call(.get, "/v1/ecard/inbox", token: ningbo[0]).items.first?["kind"] as? String == "event_cancelled")
            #expect(try await h.call(.post, "/v1/ecard/events/\(ningboOnly)/registrations", token: beijing).code == "event.cancelled")
            #expect(try await h.call(.get, "/v1/events/\(ningboOnly)", token: try await h.staff(.eventOrganizer)).code == "event.not_found")
        }
    }

    @Test("a library item due within 3 days gets one reminder per due date", arguments: TestStores.engines)
    func dueSoon(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.libraryWorld()
            let loan = try await h.checkout(w.kiosk, card: w.card, item: "TY000003")
            let due = try #require(loan.string("due_date"), "\(loan.text)")
            #expect(try await Sweeper.sweep(store: h.store, nowMs: h.clock.now).reminders == 0, "not due for a while")
            // Four days before the due date: not yet; three days before: the reminder, once.
            let dueMs = try #require(TapTime("\(due)T09:00:00+08:00")?.unixMs)
            h.clock.advance(seconds: (dueMs - 4 * 86_400_000 - h.clock.now) / 1000)
            #expect(try await Sweeper.sweep(store: h.store, nowMs: h.clock.now).reminders == 0)
            h.clock.advance(seconds: 86_400)
            #expect(try await Sweeper.sweep(store: h.store, nowMs: h.clock.now).reminders == 1)
            #expect(try await Sweeper.sweep(store: h.store, nowMs: h.clock.now).reminders == 0)
            let session = try await h.call(.post, "/v1/ecard/sessions", json: ["permit_number": w.permitNumber, "password": "moonlit harbour walk"])
            let token = try #require(session.string("token"), "\(session.text)")
            let inbox = try await h.call(.get, "/v1/ecard/inbox", token: token)
            let message = try #require(inbox.items.first { $0["kind"] as? String == "library_due_soon" }, "\(inbox.text)")
            #expect(((message["body"] as? [String: Any])?["zh"] as? String)?.contains(due) == true, "\(message)")
        }
    }

    @Test("the inbox hears of a lost card, a large debit, a permit about to expire and a library item due soon", arguments: TestStores.engines)
    func inboxProducers(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let (card, token) = try await h.bankedHolder(world)
            _ = try await h.call(.post, "/v1/cards/\(card)/deposits", token: world.clerk, json: ["amount_fen": 900_000, "account": "financial"],
                                 headers: [.idempotencyKey: "inbox-seed"])
            // 4,999.99 is not large; 5,000.00 is.
            _ = try await h.call(.post, "/v1/cards/\(card)/withdrawals", token: world.clerk, json: ["amount_fen": 499_999, "pin": "582931"],
                                 headers: [.idempotencyKey: "inbox-w1"])
            #expect(try await h.call(.get, "/v1/ecard/inbox", token: token).items.isEmpty)
            let large = try await h.call(.post, "/v1/cards/\(card)/withdrawals", token: world.clerk, json: ["amount_fen": 400_001, "pin": "582931"],
                                         headers: [.idempotencyKey: "inbox-w2"])
            #expect(large.status == .created, "\(large.text)")
            #expect(try await h.call(.get, "/v1/ecard/inbox", token: token).items.isEmpty, "4,000.01 is below the threshold")
            _ = try await h.call(.post, "/v1/cards/\(card)/deposits", token: world.clerk, json: ["amount_fen": 600_000, "account": "financial"],
                                 headers: [.idempotencyKey: "inbox-seed-2"])
            _ = try await h.call(.post, "/v1/cards/\(card)/withdrawals", token: world.clerk, json: ["amount_fen": 500_000, "pin": "582931"],
                                 headers: [.idempotencyKey: "inbox-w3"])
            var inbox = try await h.call(.get, "/v1/ecard/inbox", token: token)
            #expect(inbox.items.map { $0["kind"] as? String } == ["large_debit"], "\(inbox.text)")
            #expect(((inbox.items.first?["body"] as? [String: Any])?["en"] as? String)?.contains("5,000.00") == true, "\(inbox.text)")
            // A loss report.
            _ = try await h.call(.post, "/v1/ecard/card/loss-report", token: token)
            inbox = try await h.call(.get, "/v1/ecard/inbox", token: token)
            #expect(inbox.items.first?["kind"] as? String == "card_lost", "\(inbox.text)")
            // The permit runs to 2028-11-30: 60 days before, the sweeper warns once.
            h.clock.advance(seconds: (TapTime("2028-10-02T09:00:00+08:00")?.unixMs ?? 0) / 1000 - h.clock.now / 1000)
            let first = try await Sweeper.sweep(store: h.store, nowMs: h.clock.now)
            #expect(first.reminders == 1)
            #expect(first.inboxMessages == 2, "the two messages of 2026 are past the 180 days kept")
            #expect(try await Sweeper.sweep(store: h.store, nowMs: h.clock.now).reminders == 0, "once only")
            let permitNumber = try #require(try await h.store.read { tx -> String? in
                guard let stored = try await tx.card(number: card) else { return nil }
                return try await tx.person(id: stored.personId)?.permitNumber
            })
            let session = try await h.call(.post, "/v1/ecard/sessions", json: ["permit_number": permitNumber, "password": "moonlit harbour walk"])
            let later = try #require(session.string("token"), "\(session.text)")
            inbox = try await h.call(.get, "/v1/ecard/inbox", token: later)
            let expiring = try #require(inbox.items.first { $0["kind"] as? String == "permit_expiring" }, "\(inbox.text)")
            #expect(((expiring["body"] as? [String: Any])?["zh"] as? String)?.contains("2028-11-30") == true, "\(expiring)")
            // Retention: 180 days on, that one goes too.
            h.clock.advance(seconds: 181 * 86_400)
            #expect(try await Sweeper.sweep(store: h.store, nowMs: h.clock.now).inboxMessages == 1)
        }
    }
}
