import Foundation
import HTTPTypes
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import Testing

/// Two designated libraries in Ningbo holding the demo items (docs/examples/library-demo), a kiosk
/// at each, and a cardholder with an active card.
struct LibraryWorld: Sendable {
    let world: Harness.World
    let tianyi: String
    let eastern: String
    let kiosk: String
    let kioskID: String
    let desk: String
    let card: String
    let token: String
    let permitNumber: String
}

extension Harness {
    static var libraryItems: [UInt8] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/examples/library-demo/items-tianyi.csv").path
        return Array(FileManager.default.contents(atPath: path) ?? Data())
    }

    func library(_ admin: String, name: String) async throws -> (id: String, key: String, terminalID: String) {
        let created = try await call(.post, "/v1/libraries", token: admin,
                                     json: ["name": ["en": name, "zh": name], "city_code": "330200", "address": ["en": "Ningbo", "zh": "宁波"]])
        try #require(created.status == .created, "\(created.text)")
        let id = try #require(created.string("id"))
        let terminal = try await call(.post, "/v1/terminals", token: admin, json: ["kind": "libraryKiosk", "name": "\(name) kiosk", "binding_id": id])
        try #require(terminal.status == .created, "\(terminal.text)")
        return (id, try #require(terminal.string("api_key")), try #require(terminal.string("id")))
    }

    func libraryWorld(world given: World? = nil, passport: String = "K12345678", surname: String = "SMITH") async throws -> LibraryWorld {
        let world: World
        if let given { world = given } else { world = try await self.world() }
        let tianyi = try await library(world.admin, name: "Tianyi Library \(surname)")
        let eastern = try await library(world.admin, name: "Eastern Branch \(surname)")
        _ = try await LibraryImport.importItems(store: store, libraryID: tianyi.id, bytes: Self.libraryItems, file: "items-tianyi.csv",
                                                actor: "test", nowMs: clock.now)
        let (card, token) = try await bankedHolder(world, passport: passport, surname: surname)
        let permitNumber = try #require(try await call(.get, "/v1/ecard/me", token: token).string("permit.number"))
        return LibraryWorld(world: world, tianyi: tianyi.id, eastern: eastern.id, kiosk: tianyi.key, kioskID: tianyi.terminalID, desk: eastern.key, card: card, token: token,
                            permitNumber: permitNumber)
    }

    @discardableResult
    func checkout(_ kiosk: String, card: String, item: String) async throws -> Reply {
        try await call(.post, "/v1/library/checkouts", token: kiosk, json: ["card_number": card, "item_barcode": item])
    }

    @discardableResult
    func checkin(_ kiosk: String, item: String) async throws -> Reply {
        try await call(.post, "/v1/library/checkins", token: kiosk, json: ["item_barcode": item])
    }
}

@Suite("Libraries: circulation, limits, renewals, holds")
struct LibraryAPITests {
    @Test("checkout without a deposit, retried checkouts answer the same loan, returns at any library of the city",
          arguments: TestStores.engines)
    func checkoutAndReturn(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.libraryWorld()
            let first = try await h.checkout(w.kiosk, card: w.card, item: "TY000002")
            #expect(first.status == .created, "\(first.text)")
            // The test clock's day is 2026-12-01: due 30 days later.
            #expect(first.string("due_date") == "2026-12-31")
            #expect(first.string("title") == "The Three-Body Problem / 三体")
            #expect(first.value("renewals_left") as? Int == 2)
            let again = try await h.checkout(w.kiosk, card: w.card, item: "TY000002")
            #expect(again.status == .ok && again.string("id") == first.string("id"), "a kiosk's retry: \(again.text)")
            let (otherCard, _) = try await h.bankedHolder(w.world, passport: "P87654321", surname: "WEBER")
            #expect(try await h.checkout(w.desk, card: otherCard, item: "TY000002").code == "library.item_on_loan")

            let patron = try await h.call(.post, "/v1/library/patron-checks", token: w.desk, json: ["card_number": w.card])
            #expect(patron.status == .ok, "\(patron.text)")
            #expect(patron.value("may_borrow") as? Bool == true)
            #expect(patron.value("loans_out") as? Int == 1 && patron.value("loans_left") as? Int == 9)
            #expect(try await h.call(.post, "/v1/library/patron-checks", token: w.desk,
                                     json: ["card_number": w.card, "pin": "000000"]).code == "card.pin_invalid")

            let mine = try await h.call(.get, "/v1/ecard/library/loans", token: w.token)
            #expect(mine.items.count == 1)
            #expect((mine.items.first?["library"] as? [String: Any])?["en"] as? String == "Tianyi Library SMITH")

            // Returned at the other library of the city: the item is now there.
            let back = try await h.checkin(w.desk, item: "TY000002")
            #expect(back.status == .ok && back.value("returned") as? Bool == true, "\(back.text)")
            #expect(back.value("location.en") as? String == "Eastern Branch SMITH")
            let twice = try await h.checkin(w.desk, item: "TY000002")
            #expect(twice.status == .ok && twice.value("returned") as? Bool == false, "a second return changes nothing")
            #expect(try await h.checkout(w.kiosk, card: w.card, item: "NOPE").code == "library.item_not_found")
            #expect(try await h.checkout(w.kiosk, card: w.card, item: "bad barcode!").status == .badRequest)
            let audit = try await h.call(.get, "/v1/audit-records?limit=200", token: w.world.admin)
            #expect(audit.items.filter { $0["action"] as? String == "library.checkout" }.count == 1)
            #expect(audit.items.filter { $0["action"] as? String == "library.checkin" }.count == 1)
        }
    }

    @Test("the city's limit, the overdue block and a lapsed permit stop new loans; returns always work", arguments: TestStores.engines)
    func limits(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.libraryWorld()
            let set = try await h.call(.put, "/v1/library-settings/330200", token: w.world.admin,
                                       json: ["max_loans": 2, "loan_days": 14, "renewals_max": 1, "hold_days": 3])
            #expect(set.status == .ok, "\(set.text)")
            #expect(try await h.call(.get, "/v1/library-settings/330200").value("loan_days") as? Int == 14)
            #expect(try await h.call(.put, "/v1/library-settings/330200", token: w.world.admin,
                                     json: ["max_loans": 0, "loan_days": 14, "renewals_max": 1, "hold_days": 3]).status == .badRequest)
            #expect(try await h.checkout(w.kiosk, card: w.card, item: "TY000001").string("due_date") == "2026-12-15")
            #expect(try await h.checkout(w.kiosk, card: w.card, item: "TY000003").status == .created)
            #expect(try await h.checkout(w.kiosk, card: w.card, item: "TY000004").code == "library.limit_reached")
            try await h.checkin(w.kiosk, item: "TY000003")
            // 15 days later the first loan is overdue: no new loan until it is back.
            h.clock.advance(seconds: 15 * 86_400)
            #expect(try await h.checkout(w.kiosk, card: w.card, item: "TY000004").code == "library.overdue_block")
            let patron = try await h.call(.post, "/v1/library/patron-checks", token: w.kiosk, json: ["card_number": w.card])
            #expect(patron.value("may_borrow") as? Bool == false && patron.string("block.code") == "library.overdue_block")
            let returned = try await h.checkin(w.kiosk, item: "TY000001")
            #expect(returned.value("was_overdue") as? Bool == true)
            #expect(try await h.checkout(w.kiosk, card: w.card, item: "TY000004").status == .created)
            // A cancelled permit suspends borrowing and renewals; the loan can still be returned.
            let officer = try await h.staff(.permitOfficer, username: "officer.later")   // staff sessions do not last 15 days
            let cancelled = try await h.call(.post, "/v1/permits/\(w.permitNumber)/cancellation", token: officer, json: ["reason": "left"])
            #expect(cancelled.status == .ok, "\(cancelled.text)")
            let refused = try await h.checkout(w.kiosk, card: w.card, item: "TY000005")
            #expect(["library.permit_not_valid", "card.not_active"].contains(refused.code ?? ""), "\(refused.text)")
            #expect(try await h.checkin(w.kiosk, item: "TY000004").value("returned") as? Bool == true)
        }
    }

    @Test("renewals: exactly once per key, up to the limit, never while someone waits", arguments: TestStores.engines)
    func renewals(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.libraryWorld()
            let loan = try await h.checkout(w.kiosk, card: w.card, item: "TY000005")
            let loanID = try #require(loan.string("id"))
            let (_, otherToken) = try await h.bankedHolder(w.world, passport: "P87654321", surname: "WEBER")
            h.clock.advance(seconds: 10 * 86_400)
            let renewed = try await h.call(.post, "/v1/ecard/library/loans/\(loanID)/renewal", token: w.token, headers: [.idempotencyKey: "r1"])
            #expect(renewed.status == .ok, "\(renewed.text)")
            #expect(renewed.string("due_date") == "2027-01-10" && renewed.value("renewals") as? Int == 1)
            let replay = try await h.call(.post, "/v1/ecard/library/loans/\(loanID)/renewal", token: w.token, headers: [.idempotencyKey: "r1"])
            #expect(replay.value("renewals") as? Int == 1 && replay.headers[.idempotencyReplayed] == "true")
            #expect(try await h.call(.post, "/v1/ecard/library/loans/\(loanID)/renewal", token: w.token).code == "idempotency.key_required")
            let atKiosk = try await h.call(.post, "/v1/library/renewals", token: w.kiosk, json: ["card_number": w.card, "item_barcode": "TY000005"],
                                           headers: [.idempotencyKey: "r2"])
            #expect(atKiosk.value("renewals") as? Int == 2, "\(atKiosk.text)")
            #expect(try await h.call(.post, "/v1/library/renewals", token: w.kiosk, json: ["card_number": w.card, "item_barcode": "TY000005"],
                                     headers: [.idempotencyKey: "r3"]).code == "library.renewals_exhausted")
            // Someone else waiting for another item blocks its renewal.
            let other = try await h.checkout(w.kiosk, card: w.card, item: "TY000006")
            #expect(try await h.call(.post, "/v1/ecard/library/holds", token: otherToken,
                                     json: ["city_code": "330200", "item_barcode": "TY000006"]).status == .created)
            #expect(try await h.call(.post, "/v1/ecard/library/loans/\(try #require(other.string("id")))/renewal", token: w.token,
                                     headers: [.idempotencyKey: "r4"]).code == "library.renewal_on_hold")
        }
    }

    @Test("holds: the returned item waits on the hold shelf for the first patron, then passes on when not collected",
          arguments: TestStores.engines)
    func holds(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.libraryWorld()
            let (bCard, bToken) = try await h.bankedHolder(w.world, passport: "P87654321", surname: "WEBER")
            let (cCard, cToken) = try await h.bankedHolder(w.world, passport: "M55512345", surname: "OWNER")
            #expect(try await h.call(.post, "/v1/ecard/library/holds", token: bToken,
                                     json: ["city_code": "330200", "item_barcode": "TY000007"]).code == "library.item_available")
            _ = try await h.checkout(w.kiosk, card: w.card, item: "TY000007")
            #expect(try await h.call(.post, "/v1/ecard/library/holds", token: w.token,
                                     json: ["city_code": "330200", "item_barcode": "TY000007"]).code == "library.hold_own_loan")
            let bHold = try await h.call(.post, "/v1/ecard/library/holds", token: bToken, json: ["city_code": "330200", "item_barcode": "TY000007"])
            #expect(bHold.status == .created && bHold.string("status") == "waiting", "\(bHold.text)")
            #expect(try await h.call(.post, "/v1/ecard/library/holds", token: bToken,
                                     json: ["city_code": "330200", "item_barcode": "TY000007"]).code == "library.hold_exists")
            let cHold = try await h.call(.post, "/v1/ecard/library/holds", token: cToken, json: ["city_code": "330200", "item_barcode": "TY000007"])
            #expect(cHold.status == .created)

            // Returned at the eastern branch: on its hold shelf for B (first in the queue) for 7 days.
            let back = try await h.checkin(w.desk, item: "TY000007")
            #expect(back.value("hold_shelf") as? Bool == true && back.string("hold_expires_on") == "2026-12-08", "\(back.text)")
            let bHolds = try await h.call(.get, "/v1/ecard/library/holds", token: bToken)
            #expect(bHolds.items.first?["status"] as? String == "ready")
            // B's inbox says so, in the checkin's transaction (issue 13).
            let bInbox = try await h.call(.get, "/v1/ecard/inbox", token: bToken)
            let ready = try #require(bInbox.items.first { $0["kind"] as? String == "library_hold_ready" }, "\(bInbox.text)")
            #expect(((ready["body"] as? [String: Any])?["en"] as? String)?.contains("2026-12-08") == true, "\(ready)")
            #expect(try await h.call(.get, "/v1/ecard/inbox", token: cToken).items.isEmpty)
            #expect((bHolds.items.first?["pickup_library"] as? [String: Any])?["en"] as? String == "Eastern Branch SMITH")
            #expect(try await h.checkout(w.desk, card: cCard, item: "TY000007").code == "library.item_on_hold")

            // B does not come: 8 days later the hold expires and the item waits for C.
            h.clock.advance(seconds: 8 * 86_400)
            #expect(try await h.checkout(w.desk, card: bCard, item: "TY000007").code == "library.item_on_hold")
            #expect(try await h.call(.get, "/v1/ecard/library/holds", token: bToken).items.first?["status"] as? String == "expired")
            let cReady = try await h.call(.get, "/v1/ecard/library/holds", token: cToken)
            #expect(cReady.items.first?["status"] as? String == "ready", "\(cReady.text)")
            let taken = try await h.checkout(w.desk, card: cCard, item: "TY000007")
            #expect(taken.status == .created, "\(taken.text)")
            #expect(try await h.call(.get, "/v1/ecard/library/holds", token: cToken).items.first?["status"] as? String == "fulfilled")

            // Cancelling a hold: once.
            _ = try await h.checkout(w.kiosk, card: w.card, item: "TY000008")
            let hold = try await h.call(.post, "/v1/ecard/library/holds", token: bToken, json: ["city_code": "330200", "item_barcode": "TY000008"])
            let holdID = try #require(hold.string("id"))
            #expect(try await h.call(.post, "/v1/ecard/library/holds/\(holdID)/cancellation", token: bToken).string("status") == "cancelled")
            #expect(try await h.call(.post, "/v1/ecard/library/holds/\(holdID)/cancellation", token: bToken).code == "library.hold_closed")
            #expect(try await h.call(.post, "/v1/ecard/library/holds/\(holdID)/cancellation", token: cToken).code == "library.hold_not_found")
            #expect(try await h.checkin(w.kiosk, item: "TY000008").value("hold_shelf") as? Bool == false)
        }
    }

    @Test("two kiosks checking out one item at once: exactly one loan", arguments: TestStores.engines)
    func checkoutRace(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.libraryWorld()
            let (bCard, _) = try await h.bankedHolder(w.world, passport: "P87654321", surname: "WEBER")
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for (index, card) in [w.card, bCard, w.card, bCard].enumerated() {
                    group.addTask { try await h.checkout(index % 2 == 0 ? w.kiosk : w.desk, card: card, item: "TY000001") }
                }
                var all: [Reply] = []
                for try await reply in group { all.append(reply) }
                return all
            }
            let won = replies.filter { $0.status == .created }
            #expect(won.count == 1, "\(replies.map { "\($0.status.code) \($0.code ?? "")" })")
            #expect(replies.allSatisfy { [.created, .ok, .conflict].contains($0.status) }, "\(replies.map(\.text))")
            let loans = try await h.store.read { tx in try await tx.openLoan(cityCode: "330200", barcode: "TY000001") }
            #expect(loans != nil)
        }
    }

    @Test("items import: validated whole, idempotent, a barcode belongs to one library of the city", arguments: TestStores.engines)
    func itemsImport(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.libraryWorld()
            let again = try await LibraryImport.importItems(store: h.store, libraryID: w.tianyi, bytes: Harness.libraryItems, file: "items.csv",
                                                            actor: "test", nowMs: h.clock.now)
            #expect(again.added == 0 && again.updated == 0)
            await #expect(throws: DomainError.self) {
                _ = try await LibraryImport.importItems(store: h.store, libraryID: w.eastern, bytes: Harness.libraryItems, file: "items.csv",
                                                        actor: "test", nowMs: h.clock.now)
            }
            do {
                _ = try await LibraryImport.importItems(store: h.store, libraryID: w.eastern,
                                                        bytes: Array("barcode,title,isbn\nE1,Book,9787020002208\n".utf8), file: "e.csv",
                                                        actor: "test", nowMs: h.clock.now)
                Issue.record("a wrong ISBN check digit was imported")
            } catch let error as DomainError {
                #expect(error.detail.contains("e.csv line 2, field isbn"), "\(error.detail)")
            }
            #expect(try await h.checkout(w.kiosk, card: w.card, item: "E1").code == "library.item_not_found")
            #expect(try await h.call(.get, "/v1/libraries?city_code=330200").items.count == 2)
        }
    }
}
