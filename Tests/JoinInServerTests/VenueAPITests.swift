import Foundation
import HTTPTypes
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import Testing

// The test clock stands at 2026-12-01 (a Tuesday) 12:00 in Shanghai.

extension Harness {
    /// A venue open Tuesday to Sunday 09:00-17:00 (closed Mondays), with a gate.
    func venue(_ admin: String, name: String, quota: Int? = nil, slots: [[String: Any]] = []) async throws -> (id: String, gate: String) {
        var body: [String: Any] = [
            "name": ["en": name, "zh": name], "kind": "museum", "city_code": "330200", "address": ["en": "Ningbo", "zh": "宁波"],
            "opening_hours": (2...7).map { ["weekday": $0, "opens_at": "09:00", "closes_at": "17:00"] },
        ]
        if let quota { body["daily_quota"] = quota }
        if !slots.isEmpty { body["slots"] = slots }
        let created = try await call(.post, "/v1/venues", token: admin, json: body)
        try #require(created.status == .created, "\(created.text)")
        let id = try #require(created.string("id"))
        let gate = try await call(.post, "/v1/terminals", token: admin, json: ["kind": "venueGate", "name": "\(name) gate", "binding_id": id])
        try #require(gate.status == .created, "\(gate.text)")
        return (id, try #require(gate.string("api_key")))
    }

    func holders(_ world: World, count: Int) async throws -> [(card: String, token: String, permit: String)] {
        var all: [(String, String, String)] = []
        for index in 0..<count {
            let passport = "V\(String(format: "%08d", 4_000_000 + index))"
            let (card, token) = try await bankedHolder(world, passport: passport, surname: "VISITOR\(["A", "B", "C", "D", "E", "F"][index])")
            let permit = try #require(try await call(.get, "/v1/ecard/me", token: token).string("permit.number"))
            all.append((card, token, permit))
        }
        return all
    }
}

@Suite("Venues: free entry, quotas, timed slots, reservations, offline gates")
struct VenueAPITests {
    @Test("free entry once a day by card or dynamic QR, within the daily quota; the e-card shows what is left", arguments: TestStores.engines)
    func entryAndQuota(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let museum = try await h.venue(world.admin, name: "Ningbo Museum", quota: 2)
            let people = try await h.holders(world, count: 3)
            let list = try await h.call(.get, "/v1/ecard/venues", token: people[0].token)
            #expect(list.string("city_code") == "330200")
            #expect(list.items.first?["remaining_today"] as? Int == 2 && list.items.first?["open_now"] as? Bool == true, "\(list.text)")

            let first = try await h.call(.post, "/v1/venue-entries", token: museum.gate, json: ["card_number": people[0].card])
            #expect(first.status == .created && first.string("source") == "card", "\(first.text)")
            #expect(try await h.call(.post, "/v1/venue-entries", token: museum.gate,
                                     json: ["card_number": people[0].card]).code == "venue.already_entered")
            let code = try #require(try await h.call(.post, "/v1/ecard/dynamic-codes", token: people[1].token).string("code"))
            let second = try await h.call(.post, "/v1/venue-entries", token: museum.gate, json: ["dynamic_code": code])
            #expect(second.status == .created && second.string("source") == "qr", "\(second.text)")
            #expect(try await h.call(.post, "/v1/venue-entries", token: museum.gate, json: ["dynamic_code": code]).code == "code.already_used")
            #expect(try await h.call(.post, "/v1/venue-entries", token: museum.gate,
                                     json: ["card_number": people[2].card]).code == "venue.full", "the quota of 2 is used up")
            #expect(try await h.call(.post, "/v1/venue-entries", token: museum.gate, json: [:]).code == "venue.identification_required")
            #expect(try await h.call(.get, "/v1/ecard/venues", token: people[2].token).items.first?["remaining_today"] as? Int == 0)
            let visits = try await h.call(.get, "/v1/ecard/venue-visits", token: people[0].token)
            #expect(visits.items.count == 1 && (visits.items.first?["venue_name"] as? [String: Any])?["en"] as? String == "Ningbo Museum")

            // Closing time, then a Monday: closed.
            h.clock.advance(seconds: 5 * 3600 + 60)
            #expect(try await h.call(.post, "/v1/venue-entries", token: museum.gate,
                                     json: ["card_number": people[2].card]).code == "venue.closed")
            // A lapsed permit suspends free entry (the next day, with quota again).
            h.clock.advance(seconds: 18 * 3600)
            let officer = try await h.staff(.permitOfficer, username: "officer.venue")
            _ = try await h.call(.post, "/v1/permits/\(people[2].permit)/cancellation", token: officer, json: ["reason": "left"])
            let lapsed = try await h.call(.post, "/v1/venue-entries", token: museum.gate, json: ["card_number": people[2].card])
            #expect(["venue.permit_not_valid", "card.not_active"].contains(lapsed.code ?? ""), "\(lapsed.text)")
            let auditor = try await h.staff(.admin, username: "admin.later")
            let audit = try await h.call(.get, "/v1/audit-records?limit=200", token: auditor)
            #expect(audit.items.filter { $0["action"] as? String == "venue.entry" }.count == 2, "\(audit.text.prefix(300))")
        }
    }

    @Test("timed slots: entry by reservation in its slot, no double booking, an ended slot cannot be booked", arguments: TestStores.engines)
    func slots(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let pavilion = try await h.venue(world.admin, name: "Tianyi Pavilion", slots: [
                ["starts_at": "09:00", "ends_at": "11:00", "capacity": 1], ["starts_at": "11:00", "ends_at": "13:00", "capacity": 1],
                ["starts_at": "13:00", "ends_at": "15:00", "capacity": 1],
            ])
            let people = try await h.holders(world, count: 2)
            #expect(try await h.call(.post, "/v1/venue-entries", token: pavilion.gate,
                                     json: ["card_number": people[0].card]).code == "venue.reservation_required")
            func reserve(_ token: String, date: String = "2026-12-01", slot: Int?) async throws -> Reply {
                var body: [String: Any] = ["venue_id": pavilion.id, "date": date]
                if let slot { body["slot"] = slot }
                return try await h.call(.post, "/v1/ecard/venue-reservations", token: token, json: body)
            }
            #expect(try await reserve(people[0].token, slot: 0).code == "venue.slot_over", "09:00-11:00 has ended at 12:00")
            #expect(try await reserve(people[0].token, slot: nil).code == "venue.slot_required")
            let mine = try await reserve(people[0].token, slot: 1)
            #expect(mine.status == .created && mine.string("slot_time") == "11:00-13:00", "\(mine.text)")
            #expect(try await reserve(people[0].token, slot: 2).code == "venue.already_reserved")
            #expect(try await reserve(people[1].token, slot: 1).code == "venue.full")
            let later = try await reserve(people[1].token, slot: 2)
            #expect(later.status == .created)
            #expect(try await reserve(people[1].token, date: "2026-12-07", slot: 1).code == "venue.closed", "a Monday")
            #expect(try await reserve(people[1].token, date: "2026-12-30", slot: 1).code == "venue.date_out_of_range")
            let entered = try await h.call(.post, "/v1/venue-entries", token: pavilion.gate, json: ["card_number": people[0].card])
            #expect(entered.status == .created && entered.value("reservation_used") as? Bool == true, "\(entered.text)")
            #expect(try await h.call(.post, "/v1/venue-entries", token: pavilion.gate,
                                     json: ["card_number": people[1].card]).code == "venue.not_your_slot", "13:00 has not come")
            // Cancelled, the place is free again; an unused reservation shows expired after its slot.
            let laterID = try #require(later.string("id"))
            #expect(try await h.call(.post, "/v1/ecard/venue-reservations/\(laterID)/cancellation", token: people[1].token)
                .string("status") == "cancelled")
            #expect(try await h.call(.post, "/v1/ecard/venue-reservations/\(laterID)/cancellation", token: people[1].token)
                .code == "venue.reservation_closed")
            #expect(try await h.call(.post, "/v1/ecard/venue-reservations/\(laterID)/cancellation", token: people[0].token)
                .code == "venue.reservation_not_found")
            let again = try await reserve(people[1].token, slot: 2)
            #expect(again.status == .created)
            h.clock.advance(seconds: 3 * 3600 + 60)
            let listed = try await h.call(.get, "/v1/ecard/venue-reservations", token: people[1].token)
            #expect(listed.items.contains { $0["status"] as? String == "expired" }, "\(listed.text)")
            #expect(try await h.call(.get, "/v1/ecard/venue-reservations", token: people[0].token).items.first?["status"] as? String == "used")
        }
    }

    @Test("concurrent reservations never pass the daily quota", arguments: TestStores.engines)
    func quotaRace(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let museum = try await h.venue(world.admin, name: "Port Museum", quota: 2)
            let people = try await h.holders(world, count: 5)
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for person in people {
                    group.addTask {
                        try await h.call(.post, "/v1/ecard/venue-reservations", token: person.token, json: ["venue_id": museum.id, "date": "2026-12-02"])
                    }
                }
                var all: [Reply] = []
                for try await reply in group { all.append(reply) }
                return all
            }
            #expect(replies.filter { $0.status == .created }.count == 2, "\(replies.map { "\($0.status.code) \($0.code ?? "")" })")
            #expect(replies.filter { $0.code == "venue.full" }.count == 3, "\(replies.map(\.text))")
            let booked = try await h.store.read { tx in try await tx.bookedVenueReservations(venueID: museum.id, day: "2026-12-02") }
            #expect(booked == 2)
        }
    }

    @Test("offline gates upload what they let in: duplicates ignored, quota overruns and repeat visits recorded, never refused",
          arguments: TestStores.engines)
    func offline(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let museum = try await h.venue(world.admin, name: "Harbour Museum", quota: 1)
            let people = try await h.holders(world, count: 2)
            let batch: [[String: Any]] = [
                ["sequence": 1, "at": "2026-12-01T10:00:00+08:00", "permit_number": people[0].permit],
                ["sequence": 2, "at": "2026-12-01T10:05:00+08:00", "permit_number": people[1].permit],
                ["sequence": 3, "at": "2026-12-01T10:30:00+08:00", "permit_number": people[0].permit],
                ["sequence": 4, "at": "2026-12-01T10:40:00+08:00", "permit_number": "W33020020269999999"],
                ["sequence": 5, "at": "yesterday", "permit_number": people[0].permit],
            ]
            let first = try await h.call(.post, "/v1/venue-entries/offline-batches", token: museum.gate, json: ["entries": batch])
            #expect(first.status == .ok, "\(first.text)")
            #expect(first.value("recorded") as? Int == 3 && first.value("rejected") as? Int == 2, "\(first.text)")
            let results = try #require(first.value("results") as? [[String: Any]])
            #expect(results[1]["over_quota"] as? Bool == true, "the quota of 1 was used by the first entry")
            #expect(results[2]["repeat_visit"] as? Bool == true)
            #expect(results[3]["reason"] as? String == "permit_unknown" && results[4]["reason"] as? String == "time_invalid")
            let again = try await h.call(.post, "/v1/venue-entries/offline-batches", token: museum.gate, json: ["entries": Array(batch.prefix(2))])
            #expect(again.value("duplicates") as? Int == 2 && again.value("recorded") as? Int == 0, "\(again.text)")
            let reused = try await h.call(.post, "/v1/venue-entries/offline-batches", token: museum.gate,
                                          json: ["entries": [["sequence": 1, "at": "2026-12-01T11:00:00+08:00", "permit_number": people[1].permit]]])
            #expect((reused.value("results") as? [[String: Any]])?.first?["reason"] as? String == "sequence_reused")
            // Online, the day is already full and the first holder already in.
            #expect(try await h.call(.post, "/v1/venue-entries", token: museum.gate,
                                     json: ["card_number": people[0].card]).code == "venue.already_entered")
            let visits = try await h.call(.get, "/v1/ecard/venue-visits", token: people[0].token)
            #expect(visits.items.count == 2 && visits.items.allSatisfy { $0["source"] as? String == "offline" })
        }
    }

    @Test("venues are validated whole and public", arguments: TestStores.engines)
    func admin(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let admin = try await h.admin()
            let bad = try await h.call(.post, "/v1/venues", token: admin, json: [
                "name": ["en": "X", "zh": "X"], "kind": "park", "city_code": "330200", "address": ["en": "a", "zh": "a"],
                "opening_hours": [["weekday": 1, "opens_at": "09:00", "closes_at": "17:00"]],
                "slots": [["starts_at": "08:00", "ends_at": "10:00", "capacity": 5]]])
            #expect(bad.code == "venue.terms_invalid" && bad.string("detail")?.contains("slots[0]") == true, "\(bad.text)")
            #expect(try await h.call(.post, "/v1/venues", token: admin, json: [
                "name": ["en": "X", "zh": "X"], "kind": "park", "city_code": "330200", "address": ["en": "a", "zh": "a"],
                "opening_hours": [["weekday": 1, "opens_at": "09:00", "closes_at": "25:00"]]]).status == .badRequest)
            _ = try await h.venue(admin, name: "West Lake", quota: 100)
            let listed = try await h.call(.get, "/v1/venues?city_code=330200")
            #expect(listed.items.count == 1 && (listed.items.first?["opening_hours"] as? [Any])?.count == 6)
            #expect(try await h.call(.post, "/v1/terminals", token: admin, json: ["kind": "venueGate", "name": "g"]).code == "venue.not_found")
        }
    }
}
