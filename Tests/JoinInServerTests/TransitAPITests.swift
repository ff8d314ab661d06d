import Foundation
import HTTPTypes
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import Testing

/// The demo feed in docs/examples (also used by the README tour).
enum DemoFeed {
    static var directory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/examples/transit-demo-feed").path
    }
    static func files() throws -> [String: [UInt8]] { try TransitImport.feedFiles(at: directory) }
}

/// A city with a metro+bus operator on the demo feed, a validator, and a topped-up cardholder.
struct TransitWorld: Sendable {
    let world: Harness.World
    let operatorID: String
    let validator: String
    let card: String
    let token: String
}

extension Harness {
    /// Times in the tests are Shanghai local times on 2026-12-01, the morning before the test clock's
    /// start (12:00), within the holder's permit (valid from 2026-12-01).
    static func at(_ time: String, day: String = "2026-12-01") -> String { "\(day)T\(time):00+08:00" }

    func transitWorld(dailyCapFen: Int? = nil, walletFen: Int = 1_000, world given: World? = nil,
                      passport: String = "K12345678", surname: String = "SMITH") async throws -> TransitWorld {
        let world: World
        if let given { world = given } else { world = try await self.world() }
        var city: [String: Any] = ["interoperable": true, "effective_from": "2026-11-23"]
        if let dailyCapFen { city["daily_cap_fen"] = dailyCapFen }
        // Caps may not start in the past: the test moves the clock back to set them for the test week.
        let operatorID: String
        if let existing = try await call(.get, "/v1/transit/operators?city_code=330200").items.first?["id"] as? String {
            operatorID = existing
        } else {
            try await withClock(at: "2026-11-23T05:00:00+08:00") {
                let set = try await call(.put, "/v1/transit/cities/330200", token: world.admin, json: city)
                try #require(set.status == .ok, "\(set.text)")
            }
            let created = try await call(.post, "/v1/transit/operators", token: world.admin,
                                         json: ["name": ["en": "Ningbo Rail & Bus", "zh": "宁波轨道公交"], "city_code": "330200",
                                                "modes": ["metro", "bus"]])
            try #require(created.status == .created, "\(created.text)")
            operatorID = try #require(created.string("id"))
            _ = try await TransitImport.importFeed(store: store, operatorID: operatorID, files: try DemoFeed.files(), validFromMs: nil,
                                                   cardholderCategoryID: "joinin", actor: "test", nowMs: clock.now)
        }
        let terminal = try await call(.post, "/v1/terminals", token: world.admin,
                                      json: ["kind": "transitValidator", "name": "Validator", "binding_id": operatorID])
        try #require(terminal.status == .created, "\(terminal.text)")
        let validator = try #require(terminal.string("api_key"))
        let (permit, token) = try await registeredHolder(world, body: Harness.applicationBody(passport: passport, surname: surname))
        let card = try #require(try await issuedCard(world, permit: permit, passport: passport)["card_number"] as? String)
        _ = try await call(.post, "/v1/cards/\(card)/activation", token: world.clerk, json: ["pin": "582931"])
        if walletFen > 0 {
            let deposit = try await call(.post, "/v1/cards/\(card)/deposits", token: world.clerk,
                                         json: ["amount_fen": walletFen, "account": "transitWallet"], headers: [.idempotencyKey: UUID().uuidString])
            try #require(deposit.status == .created, "\(deposit.text)")
        }
        return TransitWorld(world: world, operatorID: operatorID, validator: validator, card: card, token: token)
    }

    /// Runs `body` with the clock at `instant`, then puts it back.
    func withClock(at instant: String, _ body: () async throws -> Void) async throws {
        let saved = clock.now
        let target = try #require(TapTime(instant)).unixMs
        clock.advance(seconds: (target - saved) / 1000)
        defer { clock.advance(seconds: (saved - clock.now) / 1000) }
        try await body()
    }

    @discardableResult
    func taps(_ t: TransitWorld, _ taps: [[String: Any]], validator: String? = nil) async throws -> Reply {
        let reply = try await call(.post, "/v1/transit/tap-batches", token: validator ?? t.validator, json: ["taps": taps])
        try #require(reply.status == .ok, "\(reply.text)")
        return reply
    }

    func wallet(_ t: TransitWorld) async throws -> (wallet: Int64, debt: Int64) {
        let summary = try await call(.get, "/v1/ecard/transit", token: t.token)
        return (try #require(summary.value("wallet.amount_fen") as? Int64 ?? (summary.value("wallet.amount_fen") as? Int).map(Int64.init)),
                try #require(summary.value("debt.amount_fen") as? Int64 ?? (summary.value("debt.amount_fen") as? Int).map(Int64.init)))
    }
}

func tap(_ sequence: Int, _ card: String, _ time: String, _ stop: String, _ kind: String, route: String? = nil) -> [String: Any] {
    var tap: [String: Any] = ["sequence": sequence, "time": time, "card_number": card, "stop_id": stop, "kind": kind]
    if let route { tap["route_id"] = route }
    return tap
}

func fen(_ value: Any?) -> Int64? { (value as? Int64) ?? (value as? Int).map(Int64.init) }

@Suite("Transit: taps, fares, transfers, caps, debt, deny list")
struct TransitAPITests {
    @Test("a metro ride with a transfer to a bus: cardholder fares from the GTFS-Fares v2 feed, names in both languages",
          arguments: TestStores.engines)
    func metroThenBus(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let t = try await h.transitWorld()
            let reply = try await h.taps(t, [
                tap(1, t.card, Harness.at("08:00"), "GULOU-L1", "entry", route: "L1"),
                tap(2, t.card, Harness.at("08:20"), "NINGBO-STN", "exit", route: "L1"),
                tap(3, t.card, Harness.at("08:50"), "B-TIANYI", "single", route: "B8"),
            ])
            #expect(reply["accepted"] as? Int == 3)
            // Metro zone 1 → zone 2 at the Join In fare 2.40 (adult 3.00); the bus within 90 minutes of
            // leaving the metro costs the transfer product 0.50 instead of the bus fare.
            #expect(try await h.wallet(t).wallet == 1_000 - 240 - 50)
            let trips = try await h.call(.get, "/v1/ecard/transit/trips", token: t.token)
            try #require(trips.items.count == 2)
            let bus = trips.items[0], metro = trips.items[1]
            #expect(metro["kind"] as? String == "complete")
            #expect(fen((metro["full_fare"] as? [String: Any])?["amount_fen"]) == 300)
            #expect(fen((metro["charged"] as? [String: Any])?["amount_fen"]) == 240)
            #expect(fen((metro["discount"] as? [String: Any])?["amount_fen"]) == 60)
            #expect((metro["from"] as? [String: Any])?["name"] as? [String: String] == ["en": "Gulou Line 1", "zh": "鼓楼(1号线)"])
            #expect((metro["to"] as? [String: Any])?["name"] as? [String: String] == ["en": "Ningbo Railway Station", "zh": "宁波火车站"])
            #expect((metro["route"] as? [String: Any])?["name"] as? [String: String] == ["en": "Line 1", "zh": "1号线"])
            #expect(metro["cardholder_fare"] as? Bool == true)
            #expect(bus["transfer"] as? Bool == true)
            #expect(fen((bus["charged"] as? [String: Any])?["amount_fen"]) == 50)
            #expect(fen((bus["full_fare"] as? [String: Any])?["amount_fen"]) == 100)
            #expect(bus["service_day"] as? String == "2026-12-01")
            // The ledger agrees and the operator's settlement shows the day.
            let settlement = try await h.call(.get, "/v1/transit/operators/\(t.operatorID)/settlement?from=2026-12-01&to=2026-12-01",
                                              token: t.world.admin)
            #expect(fen(settlement.value("total.amount_fen")) == 290)
            #expect(settlement.value("days.0.charges") as? Int == 1)
            // … and equals what the ledger moved into the operator's settlement account.
            let accounts = try await h.call(.get, "/v1/system-accounts?limit=200", token: t.world.admin)
            let account = accounts.items.first { $0["owner_type"] as? String == "transit_operator" && $0["owner_id"] as? String == t.operatorID }
            #expect(fen((account?["balance"] as? [String: Any])?["amount_fen"]) == 290)
            let verdict = try await h.store.verifyLedger()
            #expect(verdict.isOK)
        }
    }

    @Test("a re-uploaded batch changes nothing; a reused sequence with other content is rejected", arguments: TestStores.engines)
    func duplicates(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let t = try await h.transitWorld()
            let batch = [tap(10, t.card, Harness.at("09:00"), "TIANYI", "entry", route: "L2"),
                         tap(11, t.card, Harness.at("09:15"), "AIRPORT", "exit", route: "L2")]
            try await h.taps(t, batch)
            let after = try await h.wallet(t)
            let again = try await h.taps(t, batch)
            #expect(again["duplicates"] as? Int == 2)
            #expect(again["accepted"] as? Int == 0)
            #expect(try await h.wallet(t) == after)
            #expect(after.wallet == 1_000 - 400)
            let reused = try await h.taps(t, [tap(10, t.card, Harness.at("09:01"), "TIANYI", "entry", route: "L2"),
                                              tap(12, t.card, Harness.at("10:00"), "B-MOON", "single", route: "B8"),
                                              tap(12, t.card, Harness.at("10:00"), "B-MOON", "single", route: "B8")])
            #expect(reused.value("results.0.reason") as? String == "sequence_reused")
            #expect(reused.value("results.1.result") as? String == "accepted")
            #expect(reused.value("results.2.result") as? String == "duplicate")
            let charges = try await h.call(.get, "/v1/ecard/transit/charges", token: t.token)
            #expect(charges.items.count == 2)
        }
    }

    @Test("an exit before its entry: maximum fare first, then an adjustment, never an edited transfer", arguments: TestStores.engines)
    func exitBeforeEntry(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let t = try await h.transitWorld()
            try await h.taps(t, [tap(2, t.card, Harness.at("10:40"), "AIRPORT", "exit", route: "L2")])
            h.clock.advance(seconds: 1)
            // Exit without entry: the most a journey ending at the airport costs (zone 1 → 3, 4.00).
            #expect(try await h.wallet(t).wallet == 1_000 - 400)
            try await h.taps(t, [tap(1, t.card, Harness.at("10:10"), "NINGBO-STN", "entry", route: "L2")])
            // Zone 2 → 3 at the Join In fare: 2.40; 1.60 comes back as an adjustment.
            #expect(try await h.wallet(t).wallet == 1_000 - 240)
            let charges = try await h.call(.get, "/v1/ecard/transit/charges", token: t.token)
            #expect(charges.items.map { $0["kind"] as? String } == ["adjustment", "charge"])
            #expect(fen(charges.value("items.0.amount.amount_fen")) == -160)
            let trips = try await h.call(.get, "/v1/ecard/transit/trips", token: t.token)
            #expect(trips.items.count == 1)
            #expect(trips.items.first?["kind"] as? String == "complete")
            let transfers = try await h.store.read { tx -> [LedgerTransferRecord] in
                let wallet = try #require(try await tx.account(kind: .transitWallet, ownerType: "person",
                                                              ownerID: try await tx.existingCard(t.card).personId))
                return try await tx.transfers(accountID: wallet.id, before: nil, limit: 10)
            }
            #expect(transfers.map(\.kind).filter { $0.hasPrefix("transit") }.sorted() == ["transit_adjustment", "transit_fare"])
        }
    }

    @Test("an entry without an exit is charged the maximum fare from that station", arguments: TestStores.engines)
    func entryWithoutExit(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let t = try await h.transitWorld()
            try await h.taps(t, [tap(1, t.card, Harness.at("07:00"), "NINGBO-STN", "entry", route: "L2"),
                                 tap(2, t.card, Harness.at("10:30"), "GULOU", "entry", route: "L1"),
                                 tap(3, t.card, Harness.at("10:45"), "DONGMENKOU", "exit", route: "L1")])
            let trips = try await h.call(.get, "/v1/ecard/transit/trips", token: t.token)
            #expect(trips.items.map { $0["kind"] as? String } == ["complete", "no_exit"])
            // From zone 2 the dearest Join In fare is 2.40 (to zone 1 or 3); then a zone 1 ride 1.60.
            #expect(try await h.wallet(t).wallet == 1_000 - 240 - 160)
        }
    }

    @Test("the daily cap stops charging for the day", arguments: TestStores.engines)
    func dailyCap(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let t = try await h.transitWorld(dailyCapFen: 500)
            var taps: [[String: Any]] = []
            for (index, hour) in ["07", "08", "09", "10"].enumerated() {
                taps.append(tap(index * 2, t.card, Harness.at("\(hour):00"), "GULOU", "entry", route: "L1"))
                taps.append(tap(index * 2 + 1, t.card, Harness.at("\(hour):20"), "NINGBO-STN", "exit", route: "L1"))
            }
            try await h.taps(t, taps)
            #expect(try await h.wallet(t).wallet == 1_000 - 500)
            let trips = try await h.call(.get, "/v1/ecard/transit/trips", token: t.token)
            #expect(trips.items.compactMap { fen(($0["charged"] as? [String: Any])?["amount_fen"]) } == [0, 20, 240, 240])
            #expect(trips.items.map { $0["cap_applied"] as? Bool } == [true, true, false, false])
        }
    }

    @Test("taps are rejected with a reason: unknown card or stop, future, blocked card, city outside the network", arguments: TestStores.engines)
    func rejections(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let t = try await h.transitWorld()
            let unknownCard = "6230919999999999998"
            let reply = try await h.taps(t, [
                tap(1, unknownCard, Harness.at("08:00"), "GULOU", "entry"),
                tap(2, t.card, Harness.at("08:00"), "NOWHERE", "entry"),
                tap(3, t.card, Harness.at("08:00", day: "2026-12-02"), "GULOU", "entry"),
                tap(4, t.card, "2026-11-31T08:00:00+08:00", "GULOU", "entry"),
                tap(5, t.card, Harness.at("08:00"), "GULOU", "entry", route: "L9"),
                tap(6, t.card, Harness.at("08:00", day: "2026-06-01"), "GULOU", "entry"),
            ])
            #expect((reply["results"] as? [[String: Any]])?.map { $0["reason"] as? String }
                    == ["card_unknown", "stop_unknown", "time_in_future", "time_invalid", "route_unknown", "time_too_old"])
            #expect(try await h.wallet(t).wallet == 1_000)
            // A card reported lost: taps after the loss are refused, taps before it still count.
            let lost = try await h.call(.post, "/v1/ecard/card/loss-report", token: t.token)
            try #require(lost.status == .ok, "\(lost.text)")
            let after = try await h.taps(t, [tap(7, t.card, Harness.at("12:02"), "GULOU", "entry"),
                                             tap(8, t.card, Harness.at("08:00"), "B-MOON", "single", route: "B8")])
            #expect(after.value("results.0.reason") as? String == "card_blocked")
            #expect(after.value("results.1.result") as? String == "accepted")
            // The wallet is blocked with the card: the fare becomes transit debt.
            #expect(try await h.wallet(t) == (1_000, 160))
            let city = try await h.call(.put, "/v1/transit/cities/330200", token: t.world.admin, json: ["interoperable": false])
            try #require(city.status == .ok, "\(city.text)")
            let outside = try await h.taps(t, [tap(9, t.card, Harness.at("09:00"), "B-MOON", "single", route: "B8")])
            #expect(outside.value("results.0.reason") as? String == "city_not_interoperable")
        }
    }

    @Test("a lapsed permit rides at the default fare, never refused", arguments: TestStores.engines)
    func lapsedPermit(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let t = try await h.transitWorld()
            // The permit is valid from 2026-12-01: a ride on 2026-11-30 is at the adult fare.
            try await h.taps(t, [tap(1, t.card, Harness.at("08:00", day: "2026-11-30"), "GULOU", "entry", route: "L1"),
                                 tap(2, t.card, Harness.at("08:10", day: "2026-11-30"), "TIANYI", "exit", route: "L1"),
                                 tap(3, t.card, Harness.at("08:00", day: "2026-12-01"), "GULOU", "entry", route: "L1"),
                                 tap(4, t.card, Harness.at("08:10", day: "2026-12-01"), "TIANYI", "exit", route: "L1")])
            let trips = try await h.call(.get, "/v1/ecard/transit/trips", token: t.token)
            #expect(trips.items.map { $0["cardholder_fare"] as? Bool } == [true, false])
            #expect(trips.items.compactMap { fen(($0["charged"] as? [String: Any])?["amount_fen"]) } == [160, 200])
        }
    }

    @Test("a short wallet becomes transit debt and the card goes on the signed deny list; a top-up clears both",
          arguments: TestStores.engines)
    func debtAndDenyList(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let t = try await h.transitWorld(walletFen: 100)
            let before = try await h.call(.get, "/v1/transit/deny-list", token: t.validator)
            let start = try #require(fen(before["version"]))
            try await h.taps(t, [tap(1, t.card, Harness.at("08:00"), "GULOU", "entry", route: "L1"),
                                 tap(2, t.card, Harness.at("08:20"), "NINGBO-STN", "exit", route: "L1")])
            #expect(try await h.wallet(t) == (0, 140))
            // The holder's inbox hears of the debt in the batch's transaction (issue 13).
            let inbox = try await h.call(.get, "/v1/ecard/inbox", token: t.token)
            let debt = try #require(inbox.items.first { $0["kind"] as? String == "transit_debt" }, "\(inbox.text)")
            #expect(((debt["body"] as? [String: Any])?["en"] as? String)?.contains("1.40") == true, "\(debt)")
            let listed = try await h.call(.get, "/v1/transit/deny-list?since=\(start)", token: t.validator)
            #expect(listed["complete"] as? Bool == false)
            #expect(listed["changes"] as? [[String: String]] == [["card_number": t.card, "action": "add", "reason": "transit_debt"]])
            // The signature verifies with the published keys, and says the same thing.
            let keys = try JWKS.parse(Array(try await h.call(.get, "/.well-known/jwks.json").text.utf8)).keyMap()
            let verified = try JWS.verify(try #require(listed.string("jws")), keys: keys, expectedTyp: TransitController.denyListTyp,
                                          lengthMax: 1 << 24)
            let payload = try #require(try JSONSerialization.jsonObject(with: Data(verified.payload)) as? [String: Any])
            #expect(payload["changes"] as? [[String: String]] == listed["changes"] as? [[String: String]])
            #expect(fen(payload["version"]) == fen(listed["version"]))
            let full = try await h.call(.get, "/v1/transit/deny-list", token: t.world.admin)
            #expect(full["complete"] as? Bool == true)
            #expect((full["changes"] as? [[String: String]])?.contains { $0["card_number"] == t.card } == true)
            // A top-up pays the debt first and takes the card off the list.
            let topUp = try await h.call(.post, "/v1/cards/\(t.card)/deposits", token: t.world.clerk,
                                         json: ["amount_fen": 500, "account": "transitWallet"], headers: [.idempotencyKey: "top-1"])
            try #require(topUp.status == .created, "\(topUp.text)")
            #expect(try await h.wallet(t) == (360, 0))
            let cleared = try await h.call(.get, "/v1/transit/deny-list?since=\(try #require(fen(listed["version"])))", token: t.validator)
            #expect(cleared["changes"] as? [[String: String]] == [["card_number": t.card, "action": "remove", "reason": "transit_debt"]])
            #expect(try await h.store.verifyLedger().isOK)
        }
    }

    @Test("a card reported lost is on the deny-list version committed with the loss", arguments: TestStores.engines)
    func lossListed(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let t = try await h.transitWorld()
            let head = try #require(fen(try await h.call(.get, "/v1/transit/deny-list", token: t.validator)["version"]))
            let lost = try await h.call(.post, "/v1/cards/\(t.card)/loss-report", token: t.world.clerk)
            try #require(lost.status == .ok, "\(lost.text)")
            let changes = try await h.call(.get, "/v1/transit/deny-list?since=\(head)", token: t.validator)
            #expect(fen(changes["version"]) == head + 1)
            #expect(changes["changes"] as? [[String: String]] == [["card_number": t.card, "action": "add", "reason": "lost"]])
            let replaced = try await h.call(.post, "/v1/cards/\(t.card)/replacement", token: t.world.clerk)
            try #require(replaced.status == .created, "\(replaced.text)")
            let next = try await h.call(.get, "/v1/transit/deny-list?since=\(head + 1)", token: t.validator)
            #expect(next["changes"] as? [[String: String]] == [["card_number": t.card, "action": "add", "reason": "replaced"]])
            // Changes older than the retention are swept; a gate that far behind gets the whole list.
            let swept = try await Sweeper.sweep(store: h.store, nowMs: h.clock.now + Retention.denyListChangeMs + 1)
            #expect(swept.denyListChanges == 2)
            let behind = try await h.call(.get, "/v1/transit/deny-list?since=\(head)", token: t.validator)
            #expect(behind["complete"] as? Bool == true)
            #expect(fen(behind["version"]) == head + 2)
            #expect((behind["changes"] as? [[String: String]])?.contains { $0["card_number"] == t.card && $0["reason"] == "replaced" } == true)
            let current = try await h.call(.get, "/v1/transit/deny-list?since=\(head + 2)", token: t.validator)
            #expect(current["complete"] as? Bool == false)
            #expect((current["changes"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("a validator fixed at a station takes taps of that station and its platforms only", arguments: TestStores.engines)
    func stopBoundValidator(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let t = try await h.transitWorld()
            let unknown = try await h.call(.post, "/v1/terminals", token: t.world.admin,
                                           json: ["kind": "transitValidator", "name": "Gate", "binding_id": t.operatorID, "stop_id": "ATLANTIS"])
            #expect(unknown.code == "transit.stop_unknown")
            let unbound = try await h.call(.post, "/v1/terminals", token: t.world.admin, json: ["kind": "transitValidator", "name": "Gate"])
            #expect(unbound.code == "transit.operator_not_found")
            let created = try await h.call(.post, "/v1/terminals", token: t.world.admin,
                                           json: ["kind": "transitValidator", "name": "Gulou gate", "binding_id": t.operatorID, "stop_id": "GULOU"])
            let gate = try #require(created.string("api_key"), "\(created.text)")
            let reply = try await h.taps(t, [tap(1, t.card, Harness.at("08:00"), "GULOU-L1", "entry", route: "L1"),
                                             tap(2, t.card, Harness.at("08:20"), "TIANYI", "exit", route: "L1")], validator: gate)
            #expect(reply.value("results.0.result") as? String == "accepted")
            #expect(reply.value("results.1.reason") as? String == "stop_not_this_terminal")
        }
    }

    @Test("operators: settings, fare versions in force when the tap happened, the default category, exits without entries",
          arguments: TestStores.engines)
    func operatorSettingsAndVersions(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let t = try await h.transitWorld()
            let listed = try await h.call(.get, "/v1/transit/operators?city_code=330200")
            #expect(listed.items.count == 1)
            #expect(listed.value("items.0.fare_version.version") as? Int == 1)
            #expect(listed.value("items.0.cardholder_category_id") as? String == "joinin")
            let city = try await h.call(.get, "/v1/transit/cities/330200")
            #expect(city["interoperable"] as? Bool == true)

            // Version 2 doubles the metro prices from now on; a tap before now keeps version 1.
            var files = try DemoFeed.files()
            files["fare_products.txt"] = Array(String(decoding: files["fare_products.txt"] ?? [], as: UTF8.self)
                .replacingOccurrences(of: "1.60,CNY", with: "1.20,CNY").utf8)
            _ = try await TransitImport.importFeed(store: h.store, operatorID: t.operatorID, files: files, validFromMs: h.clock.now,
                                                   cardholderCategoryID: nil, actor: "test", nowMs: h.clock.now)
            let versions = try await h.call(.get, "/v1/transit/operators/\(t.operatorID)/fare-versions", token: t.world.admin)
            #expect(versions.items.compactMap { $0["version"] as? Int } == [2, 1])
            try await h.taps(t, [tap(1, t.card, Harness.at("08:00"), "GULOU", "entry", route: "L1"),
                                 tap(2, t.card, Harness.at("08:10"), "TIANYI", "exit", route: "L1"),
                                 tap(3, t.card, Harness.at("12:01"), "GULOU", "entry", route: "L1"),
                                 tap(4, t.card, Harness.at("12:02"), "TIANYI", "exit", route: "L1")])
            let trips = try await h.call(.get, "/v1/ecard/transit/trips", token: t.token)
            #expect(trips.items.compactMap { fen(($0["charged"] as? [String: Any])?["amount_fen"]) } == [120, 160])

            // Cardholders back to the default category; exits without entries free; a category the feed lacks is refused.
            let unknown = try await h.call(.patch, "/v1/transit/operators/\(t.operatorID)", token: t.world.admin,
                                           json: ["cardholder_category_id": "student"])
            #expect(unknown.code == "transit.category_unknown")
            let nullExit = try await h.call(.patch, "/v1/transit/operators/\(t.operatorID)", token: t.world.admin,
                                            json: ["exit_without_entry": NSNull()])
            #expect(nullExit.status == .badRequest)
            let patched = try await h.call(.patch, "/v1/transit/operators/\(t.operatorID)", token: t.world.admin,
                                           json: ["cardholder_category_id": NSNull(), "exit_without_entry": "no_charge"])
            try #require(patched.status == .ok, "\(patched.text)")
            #expect(patched["cardholder_category_id"] == nil)
            #expect(patched["exit_without_entry"] as? String == "no_charge")
            try await h.taps(t, [tap(5, t.card, Harness.at("09:00"), "AIRPORT", "exit", route: "L2"),
                                 tap(6, t.card, Harness.at("10:00"), "B-MOON", "single", route: "B8")])
            // The same week is re-priced, but taps keep the terms they were accepted under: the earlier rides
            // stay at the cardholder fare, the new bus ride is at the default fare, the exit is free.
            let all = try await h.call(.get, "/v1/ecard/transit/trips?limit=10", token: t.token)
            #expect(all.items.compactMap { fen(($0["charged"] as? [String: Any])?["amount_fen"]) } == [120, 200, 0, 160])
            let exitOnly = all.items.first { $0["kind"] as? String == "no_entry" }
            #expect(fen((exitOnly?["charged"] as? [String: Any])?["amount_fen"]) == 0)
            #expect(try await h.store.verifyLedger().isOK)
        }
    }

    @Test("concurrent uploads for the same cardholder from many validators charge exactly what one upload does",
          arguments: TestStores.engines)
    func concurrentUploads(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let a = try await h.transitWorld(dailyCapFen: 900)
            let b = try await h.transitWorld(world: a.world, passport: "C1234567", surname: "CHARLIE")
            var validators: [String] = []
            for index in 0..<6 {
                let created = try await h.call(.post, "/v1/terminals", token: a.world.admin,
                                               json: ["kind": "transitValidator", "name": "gate \(index)", "binding_id": a.operatorID])
                validators.append(try #require(created.string("api_key")))
            }
            var generator = SeededGenerator(seed: 77)
            let journeys = TransitJourneyGenerator.taps(count: 12, generator: &generator)
            try await h.taps(a, journeys.enumerated().map { index, tap in tap.json(sequence: index, card: a.card) })
            // B's taps: one per validator, all uploaded at once (each also re-sent, as gates retry).
            let parts = Dictionary(grouping: journeys.enumerated(), by: { $0.offset % validators.count })
            let uploads: [(token: String, body: String)] = try parts.map { slot, part in
                let body = try JSONSerialization.data(withJSONObject: ["taps": part.map { $0.element.json(sequence: $0.offset, card: b.card) }])
                return (validators[slot], String(decoding: body, as: UTF8.self))
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for upload in uploads + uploads {
                    group.addTask {
                        let reply = try await h.call(.post, "/v1/transit/tap-batches", token: upload.token, raw: upload.body)
                        #expect(reply.status == .ok, "\(reply.text)")
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await h.wallet(a) == (try await h.wallet(b)))
            let charged: (TransitWorld) async throws -> [Int64] = { t in
                try await h.call(.get, "/v1/ecard/transit/trips?limit=200", token: t.token).items
                    .compactMap { fen(($0["charged"] as? [String: Any])?["amount_fen"]) }
            }
            #expect(try await charged(a) == (try await charged(b)))
            #expect(try await h.store.verifyLedger().isOK)
        }
    }

    @Test("upload order does not matter: shuffled, split batches give the same wallet and trips", arguments: TestStores.engines)
    func orderIndependence(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let first = try await h.transitWorld(dailyCapFen: 700)
            let world = first.world
            var generator = SeededGenerator(seed: 9)
            for round in 0..<3 {
                let a = round == 0 ? first : try await h.transitWorld(world: world, passport: "A\(round)234567", surname: "ALPHA")
                let b = try await h.transitWorld(world: world, passport: "B\(round)234567", surname: "BRAVO")
                let journeys = TransitJourneyGenerator.taps(count: 10, generator: &generator)
                // A: in time order, one batch. B: shuffled and split across two validators.
                try await h.taps(a, journeys.enumerated().map { index, tap in tap.json(sequence: index, card: a.card) })
                var shuffled = Array(journeys.enumerated())
                shuffled.shuffle(using: &generator)
                let split = Int.random(in: 1..<shuffled.count, using: &generator)
                for (part, slice) in [shuffled[..<split], shuffled[split...]].enumerated() {
                    let validator = part == 0 ? b.validator : a.validator
                    try await h.taps(b, slice.map { index, tap in tap.json(sequence: 1_000 + round * 100 + index, card: b.card) },
                                     validator: validator)
                }
                #expect(try await h.wallet(a) == (try await h.wallet(b)), "round \(round): \(journeys)")
                let tripsA = try await h.call(.get, "/v1/ecard/transit/trips?limit=200", token: a.token).items
                let tripsB = try await h.call(.get, "/v1/ecard/transit/trips?limit=200", token: b.token).items
                let shape: ([String: Any]) -> String = {
                    "\($0["kind"] ?? "") \($0["started_at"] ?? "") \(($0["charged"] as? [String: Any])?["amount_fen"] ?? "") \($0["transfer"] ?? "")"
                }
                #expect(tripsA.map(shape) == tripsB.map(shape), "round \(round)")
            }
            #expect(try await h.store.verifyLedger().isOK)
        }
    }
}

/// Random journeys on the demo feed over two days (gated metro entries and exits, bus taps, some
/// taps missing), for the order-independence property.
enum TransitJourneyGenerator {
    struct GeneratedTap: CustomStringConvertible {
        let time: String
        let stop: String
        let kind: String
        let route: String
        func json(sequence: Int, card: String) -> [String: Any] { tap(sequence, card, time, stop, kind, route: route) }
        var description: String { "\(time.dropFirst(8).prefix(8)) \(kind) \(stop)" }
    }

    static let stations = ["GULOU", "DONGMENKOU", "TIANYI", "NINGBO-STN", "AIRPORT"]

    static func taps(count: Int, generator: inout SeededGenerator) -> [GeneratedTap] {
        var taps: [GeneratedTap] = []
        var minute = 6 * 60
        for _ in 0..<count {
            minute += Int.random(in: 5...240, using: &generator)
            func time(_ m: Int) -> String {
                let day = m < 24 * 60 ? "2026-11-29" : "2026-11-30"
                let local = m % (24 * 60)
                return "\(day)T\(String(format: "%02d:%02d", local / 60, local % 60)):00+08:00"
            }
            guard minute + 40 < 48 * 60 else { break }
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<6:
                let from = stations.randomElement(using: &generator) ?? "GULOU"
                let to = stations.randomElement(using: &generator) ?? "TIANYI"
                let skip = Int.random(in: 0..<8, using: &generator)
                if skip != 0 { taps.append(GeneratedTap(time: time(minute), stop: from, kind: "entry", route: "L1")) }
                minute += Int.random(in: 8...40, using: &generator)
                if skip != 1 { taps.append(GeneratedTap(time: time(minute), stop: to, kind: "exit", route: "L1")) }
            default:
                let stop = Bool.random(using: &generator) ? "B-TIANYI" : "B-MOON"
                taps.append(GeneratedTap(time: time(minute), stop: stop, kind: "single", route: "B8"))
            }
        }
        return taps
    }
}
