import Foundation
import JoinInTestSupport
import Testing
@testable import JoinInCore

// The fare engine by example (GTFS-Fares v2 semantics, written as small feeds) and by property
// (random taps on the demo feed). Expected amounts are written by hand.

private func feed(_ files: [String: String]) throws -> FareFeed {
    try GTFSFaresImport.read(files: files.mapValues { Array($0.utf8) })
}

/// 2026-11-30 is a Monday.
private func at(_ time: String, _ day: String = "2026-11-30") -> FareEngine.LocalTime {
    let parsed = TapTime("\(day)T\(time):00+08:00")
    return FareEngine.LocalTime(unixMs: parsed?.unixMs ?? 0, utcOffsetMinutes: 480)
}

private func leg(_ network: String?, _ from: Set<String> = [], _ to: Set<String> = [], _ start: String = "08:00",
                 _ end: String = "08:20", day: String = "2026-11-30") -> FareEngine.Leg {
    FareEngine.Leg(networkID: network, fromAreas: from, toAreas: to, start: at(start, day), end: at(end, day))
}

private let products = """
    fare_product_id,amount,currency
    a,2.00,CNY
    b,3.00,CNY
    ab,1.00,CNY
    ab_dear,2.50,CNY
    other,9.00,CNY
    """

@Suite("Fare engine: GTFS-Fares v2 rules")
struct FareEngineTests {
    @Test("without rule_priority an empty network_id matches only networks no rule names")
    func emptyFieldsWithoutPriority() throws {
        let engine = FareEngine(feed: try feed([
            "networks.txt": "network_id\nA\nB\n",
            "fare_products.txt": products,
            "fare_leg_rules.txt": "network_id,fare_product_id\nA,a\n,other\n",
        ]))
        #expect(engine.price(leg("A"), riderCategoryID: nil)?.fareProductID == "a")
        #expect(engine.price(leg("B"), riderCategoryID: nil)?.fareProductID == "other")
        #expect(engine.price(leg(nil), riderCategoryID: nil)?.fareProductID == "other")
    }

    @Test("with rule_priority an empty field matches everything and the highest priority wins, even when dearer")
    func priority() throws {
        let engine = FareEngine(feed: try feed([
            "networks.txt": "network_id\nA\nB\n",
            "fare_products.txt": products,
            "fare_leg_rules.txt": "network_id,fare_product_id,rule_priority\nA,other,1\n,a,0\n",
        ]))
        #expect(engine.price(leg("A"), riderCategoryID: nil)?.amountFen == 900)
        #expect(engine.price(leg("B"), riderCategoryID: nil)?.amountFen == 200)
    }

    @Test("areas: exact pairs, a platform inherits its station's area, no rule → nil")
    func areas() throws {
        let engine = FareEngine(feed: try feed([
            "stops.txt": "stop_id,stop_name,parent_station\nS1,One,\nS1-P,One platform,S1\nS2,Two,\n",
            "areas.txt": "area_id\nz1\nz2\n",
            "stop_areas.txt": "area_id,stop_id\nz1,S1\nz2,S2\n",
            "fare_products.txt": products,
            "fare_leg_rules.txt": "from_area_id,to_area_id,fare_product_id\nz1,z2,b\nz1,z1,a\n",
        ]))
        #expect(engine.areas(ofStop: "S1-P") == ["z1"])
        let price = engine.price(leg(nil, engine.areas(ofStop: "S1-P"), engine.areas(ofStop: "S2")), riderCategoryID: nil)
        #expect(price?.amountFen == 300)
        #expect(engine.price(leg(nil, ["z2"], ["z1"]), riderCategoryID: nil) == nil)
        #expect(engine.maximumFare(fromAreas: ["z1"], networkID: nil, at: at("08:00"), riderCategoryID: nil)?.amountFen == 300)
        #expect(engine.highestFare(riderCategoryID: nil) == 300)
    }

    @Test("timeframes follow the service calendar: weekdays, date range, removed dates")
    func timeframes() throws {
        let engine = FareEngine(feed: try feed([
            "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
                + "weekdays,1,1,1,1,1,0,0,20260101,20271231\n",
            "calendar_dates.txt": "service_id,date,exception_type\nweekdays,20261201,2\n",
            "timeframes.txt": "timeframe_group_id,start_time,end_time,service_id\npeak,07:00:00,09:00:00,weekdays\n",
            "fare_products.txt": products,
            "fare_leg_rules.txt": "from_timeframe_group_id,fare_product_id,rule_priority\npeak,b,1\n,a,0\n",
        ]))
        #expect(engine.price(leg(nil, [], [], "08:00"), riderCategoryID: nil)?.amountFen == 300)         // Monday peak
        #expect(engine.price(leg(nil, [], [], "09:00"), riderCategoryID: nil)?.amountFen == 200)         // end is exclusive
        #expect(engine.price(leg(nil, [], [], "08:00", day: "2026-12-05"), riderCategoryID: nil)?.amountFen == 200) // Saturday
        #expect(engine.price(leg(nil, [], [], "08:00", day: "2026-12-01"), riderCategoryID: nil)?.amountFen == 200) // removed date
    }

    @Test("products: the rider's category, else rows for any category, else the default; only card media count")
    func riderCategoriesAndMedia() throws {
        let engine = FareEngine(feed: try feed([
            "rider_categories.txt": "rider_category_id,rider_category_name,is_default_fare_category\nadult,Adult,1\njoinin,Join In,0\nsenior,Senior,0\n",
            "fare_media.txt": "fare_media_id,fare_media_type\ncard,2\napp,4\n",
            "fare_products.txt": """
                fare_product_id,rider_category_id,fare_media_id,amount,currency
                ride,adult,,2.00,CNY
                ride,joinin,card,1.60,CNY
                ride,joinin,app,0.10,CNY
                ride,senior,app,0.50,CNY
                """,
            "fare_leg_rules.txt": "fare_product_id\nride\n",
        ]))
        #expect(engine.amount(ofProduct: "ride", riderCategoryID: "joinin") == 160)   // the app row is not for the card
        #expect(engine.amount(ofProduct: "ride", riderCategoryID: nil) == 200)
        #expect(engine.amount(ofProduct: "ride", riderCategoryID: "senior") == 200)   // no card row: the default's
    }

    func transferEngine(type: Int, transferProduct: String = "ab", count: String = "", limit: String = "") throws -> FareEngine {
        let countColumn = count.isEmpty ? "" : ",transfer_count"
        let limitColumns = limit.isEmpty ? "" : ",duration_limit,duration_limit_type"
        let from = count.isEmpty ? "ga,gb" : "ga,ga"
        return FareEngine(feed: try feed([
            "networks.txt": "network_id\nA\nB\n",
            "fare_products.txt": products,
            "fare_leg_rules.txt": "leg_group_id,network_id,fare_product_id\nga,A,a\ngb,B,b\n",
            "fare_transfer_rules.txt": "from_leg_group_id,to_leg_group_id,fare_transfer_type,fare_product_id\(countColumn)\(limitColumns)\n"
                + "\(from),\(type),\(transferProduct)\(count.isEmpty ? "" : ",\(count)")\(limit.isEmpty ? "" : ",\(limit),1")\n",
        ]))
    }

    func run(_ engine: FareEngine, _ legs: [FareEngine.Leg]) -> [Int64] {
        let inputs = legs.compactMap { leg in
            engine.price(leg, riderCategoryID: nil).map { FareEngine.PricedInput(leg: leg, price: $0, transferable: true) }
        }
        return engine.applyTransfers(inputs, riderCategoryID: nil).map(\.amountFen)
    }

    @Test("fare_transfer_type 0 (A + AB), 1 (A + AB + B), 2 (AB)")
    func transferTypes() throws {
        let legs = [leg("A", [], [], "08:00", "08:20"), leg("B", [], [], "08:30", "08:50")]
        #expect(run(try transferEngine(type: 0), legs) == [200, 100])
        #expect(run(try transferEngine(type: 1), legs) == [200, 400])
        #expect(run(try transferEngine(type: 2), legs) == [100, 0])
        #expect(run(try transferEngine(type: 2, transferProduct: "ab_dear"), legs) == [200, 50])
        // No rule from B to A: two sub-journeys at full fare.
        #expect(run(try transferEngine(type: 0), legs.reversed()) == [300, 200])
    }

    @Test("transfer_count bounds consecutive transfers; duration_limit ends the sub-journey")
    func countAndDuration() throws {
        let three = [leg("A", [], [], "08:00", "08:10"), leg("A", [], [], "08:15", "08:25"), leg("A", [], [], "08:30", "08:40")]
        #expect(run(try transferEngine(type: 0, count: "1"), three) == [200, 100, 200])
        #expect(run(try transferEngine(type: 0, count: "-1"), three) == [200, 100, 100])
        let late = [leg("A", [], [], "08:00", "08:10"), leg("B", [], [], "09:40", "09:50")]
        #expect(run(try transferEngine(type: 0, limit: "5400"), late) == [200, 300])     // 100 min after departure
        let inTime = [leg("A", [], [], "08:00", "08:10"), leg("B", [], [], "09:20", "09:50")]
        #expect(run(try transferEngine(type: 0, limit: "5400"), inTime) == [200, 100])
    }
}

@Suite("Trip pricing: journeys, cardholder fares, caps")
struct TripPricingTests {
    static var demo: FareFeed {
        get throws {
            let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("docs/examples/transit-demo-feed")
            var files: [String: [UInt8]] = [:]
            for name in GTFSFaresImport.knownFiles {
                if let data = FileManager.default.contents(atPath: directory.appendingPathComponent(name).path) { files[name] = Array(data) }
            }
            return try GTFSFaresImport.read(files: files)
        }
    }

    static let terms = TripPricing.OperatorTerms(cardholderCategoryID: "joinin", maxJourneySeconds: 3 * 3600, exitWithoutEntry: .maximumFare)

    static func tap(_ id: String, _ time: String, _ kind: TripPricing.TapKind, _ stop: String, _ route: String,
                    day: String = "2026-11-30", cardholder: Bool = true) -> TripPricing.Tap {
        let parsed = TapTime("\(day)T\(time):00+08:00")
        return TripPricing.Tap(id: id, operatorID: "op", feedVersionID: "v1", unixMs: parsed?.unixMs ?? 0, utcOffsetMinutes: 480, kind: kind,
                               stopID: stop, routeID: route, cardholderFare: cardholder, terms: terms)
    }

    static func price(_ taps: [TripPricing.Tap], daily: Int64? = nil, weekly: Int64? = nil) throws -> [TripPricing.Trip] {
        try TripPricing.price(taps: taps, engines: ["v1": FareEngine(feed: try demo)],
                              caps: { _ in TripPricing.Caps(dailyFen: daily, weeklyFen: weekly) })
    }

    @Test("entries pair with exits; lone entries and exits are incomplete journeys; the service day starts at 04:00")
    func pairing() throws {
        let trips = try Self.price([
            Self.tap("1", "08:00", .entry, "GULOU", "L1"), Self.tap("2", "08:20", .exit, "NINGBO-STN", "L1"),
            Self.tap("3", "09:00", .entry, "TIANYI", "L1"),
            Self.tap("4", "12:30", .exit, "AIRPORT", "L2"),
            Self.tap("5", "03:30", .single, "B-MOON", "B8", day: "2026-12-01"),
        ])
        #expect(trips.map(\.kind) == [.complete, .noExit, .noEntry, .single])
        #expect(trips.map(\.fareFen) == [240, 400, 400, 160])
        #expect(trips[3].serviceDay == CivilDate("2026-11-30"))
    }

    @Test("a lapsed permit pays the default fare; the discount never exceeds the full fare")
    func cardholderFare() throws {
        let trips = try Self.price([Self.tap("1", "08:00", .entry, "GULOU", "L1", cardholder: false),
                                    Self.tap("2", "08:20", .exit, "NINGBO-STN", "L1", cardholder: false)])
        #expect(trips.map(\.fareFen) == [300])
        #expect(trips.map(\.cardholderFare) == [false])
    }

    @Test("daily and weekly caps; incomplete journeys are charged in full and outside the cap")
    func caps() throws {
        var taps: [TripPricing.Tap] = []
        for (index, day) in ["2026-11-30", "2026-12-01", "2026-12-02"].enumerated() {
            for hour in 7...9 {
                taps.append(Self.tap("\(index)-\(hour)-in", "0\(hour):00", .entry, "GULOU", "L1", day: day))
                taps.append(Self.tap("\(index)-\(hour)-out", "0\(hour):20", .exit, "AIRPORT", "L1", day: day))
            }
        }
        taps.append(Self.tap("x", "10:00", .entry, "GULOU", "L1", day: "2026-12-02"))
        let trips = try Self.price(taps, daily: 1_000, weekly: 2_500)
        let totals = Dictionary(grouping: trips.filter { !$0.kind.isIncomplete }, by: \.serviceDay).mapValues { $0.reduce(0) { $0 + $1.chargedFen } }
        #expect(totals.values.sorted() == [500, 1_000, 1_000])   // 3 × 4.00 capped at 10.00 per day, 25.00 per week
        #expect(trips.last?.kind == .noExit)
        #expect(trips.last?.chargedFen == 400)
    }

    @Test("properties: fares never negative, charged ≤ fare ≤ full fare, days within the cap, same trips in any order")
    func properties() throws {
        var generator = SeededGenerator(seed: 2026)
        let stations = ["GULOU", "DONGMENKOU", "TIANYI", "NINGBO-STN", "AIRPORT", "B-TIANYI", "B-MOON"]
        let kinds: [TripPricing.TapKind] = [.entry, .exit, .single]
        for _ in 0..<200 {
            var taps: [TripPricing.Tap] = []
            for index in 0..<Int.random(in: 1...16, using: &generator) {
                let minute = Int.random(in: 0..<(3 * 24 * 60), using: &generator)
                let day = ["2026-11-30", "2026-12-01", "2026-12-02"][minute / (24 * 60)]
                let local = minute % (24 * 60)
                taps.append(Self.tap("t\(index)", String(format: "%02d:%02d", local / 60, local % 60),
                                     kinds.randomElement(using: &generator) ?? .single, stations.randomElement(using: &generator) ?? "GULOU",
                                     Bool.random(using: &generator) ? "L1" : "B8", day: day, cardholder: Bool.random(using: &generator)))
            }
            let daily = Int64.random(in: 100...2_000, using: &generator)
            let trips = try Self.price(taps, daily: daily, weekly: nil)
            for trip in trips {
                #expect(trip.chargedFen >= 0 && trip.chargedFen <= trip.fareFen && trip.fareFen <= trip.fullFareFen, "\(trip)")
            }
            for (_, day) in Dictionary(grouping: trips.filter { !$0.kind.isIncomplete }, by: \.serviceDay) {
                #expect(day.reduce(0) { $0 + $1.chargedFen } <= daily)
            }
            #expect(try Self.price(taps.shuffled(using: &generator), daily: daily, weekly: nil) == trips)
        }
    }

    @Test("transit debt: the end state depends only on the net amount")
    func debtRules() {
        #expect(TransitDebtRules.charge(300, walletAvailableFen: 100, walletBlocked: false) == .init(walletFen: 100, debtFen: 200))
        #expect(TransitDebtRules.charge(300, walletAvailableFen: 1_000, walletBlocked: true) == .init(walletFen: 0, debtFen: 300))
        #expect(TransitDebtRules.credit(300, debtFen: 200) == .init(walletFen: 100, debtFen: 200))
        #expect(TransitDebtRules.credit(100, debtFen: 0) == .init(walletFen: 100, debtFen: 0))
    }

    @Test("tap times: RFC 3339 with the offset kept")
    func tapTimes() {
        #expect(TapTime("2026-12-01T08:00:00+08:00") == TapTime(unixMs: 1_796_083_200_000, utcOffsetMinutes: 480))
        // The same instant at UTC, and 08:00 in India (13:30 UTC) with a fraction.
        #expect(TapTime("2026-12-01T00:00:00Z") == TapTime(unixMs: 1_796_083_200_000, utcOffsetMinutes: 0))
        let india = TapTime("2026-12-01T08:00:00.25+05:30")
        let expected: Int64 = 1_796_083_200_000 + 9_000_250
        #expect(india?.unixMs == expected)
        #expect(india?.utcOffsetMinutes == 330)
        for bad in ["2026-12-01T08:00:00", "2026-02-30T08:00:00Z", "2026-12-01T24:00:00Z", "2026-12-01T08:00:00+19:00",
                    "2026-12-01 08:00:00Z", "2026-12-01T08:00:00.Z", "2026-12-01T08:00:60Z"] {
            #expect(TapTime(bad) == nil, "\(bad)")
        }
    }
}

@Suite("Transit rules: taps and settings")
struct TransitRulesTests {
    static let now: Int64 = 1_796_097_600_000

    @Test("a tap is refused for its time, its city, or its card's state at the time of the tap")
    func tapChecks() {
        let active = (status: CardStatus.active, changedAtMs: Self.now - 86_400_000)
        #expect(TransitRules.check(tapMs: Self.now - 1_000, nowMs: Self.now, cityInteroperable: true, card: active) == nil)
        #expect(TransitRules.check(tapMs: Self.now + 300_000, nowMs: Self.now, cityInteroperable: true, card: active) == nil)
        #expect(TransitRules.check(tapMs: Self.now + 300_001, nowMs: Self.now, cityInteroperable: true, card: active) == .timeInFuture)
        #expect(TransitRules.check(tapMs: Self.now - 91 * 86_400_000, nowMs: Self.now, cityInteroperable: true, card: active) == .timeTooOld)
        #expect(TransitRules.check(tapMs: Self.now, nowMs: Self.now, cityInteroperable: false, card: active) == .cityNotInteroperable)
        #expect(TransitRules.check(tapMs: Self.now, nowMs: Self.now, cityInteroperable: true, card: nil) == .cardUnknown)
        #expect(TransitRules.check(tapMs: Self.now, nowMs: Self.now, cityInteroperable: true, card: (.issued, 0)) == .cardNotActive)
        // Lost at `now`: a ride a minute before is charged, one at or after the loss is not.
        #expect(TransitRules.check(tapMs: Self.now - 60_000, nowMs: Self.now, cityInteroperable: true, card: (.lost, Self.now)) == nil)
        #expect(TransitRules.check(tapMs: Self.now, nowMs: Self.now, cityInteroperable: true, card: (.lost, Self.now)) == .cardBlocked)
        #expect(TransitRules.check(tapMs: Self.now, nowMs: Self.now, cityInteroperable: true, card: (.replaced, 0)) == .cardBlocked)
        #expect(TransitRules.check(tapMs: Self.now, nowMs: Self.now, cityInteroperable: true, card: (.frozen, 0)) == nil)
    }

    @Test("places: a known stop, a platform of the validator's station, a known route")
    func places() throws {
        let feed = try TripPricingTests.demo
        #expect(TransitRules.checkPlace(stopID: "GULOU-L1", routeID: "L1", boundStopID: "GULOU", feed: feed) == nil)
        #expect(TransitRules.checkPlace(stopID: "TIANYI", routeID: nil, boundStopID: "GULOU", feed: feed) == .stopNotThisTerminal)
        #expect(TransitRules.checkPlace(stopID: "ATLANTIS", routeID: nil, boundStopID: nil, feed: feed) == .stopUnknown)
        #expect(TransitRules.checkPlace(stopID: "GULOU", routeID: "L9", boundStopID: nil, feed: feed) == .routeUnknown)
    }

    @Test("fare versions never start in the past; caps never change a past day")
    func starts() throws {
        #expect(try TransitRules.versionStart(requestedMs: nil, latestStartMs: nil, nowMs: Self.now) == 0)
        #expect(try TransitRules.versionStart(requestedMs: nil, latestStartMs: 0, nowMs: Self.now) == Self.now)
        #expect(throws: DomainError.self) { try TransitRules.versionStart(requestedMs: Self.now - 3_600_000, latestStartMs: 0, nowMs: Self.now) }
        #expect(throws: DomainError.self) { try TransitRules.versionStart(requestedMs: Self.now, latestStartMs: Self.now + 1, nowMs: Self.now) }
        let today = CivilDate(year: 2026, month: 12, day: 1) ?? CivilDate(daysSinceEpoch: 0)
        try TransitRules.checkCaps(dailyFen: 1_500, weeklyFen: nil, effectiveFrom: today, today: today)
        #expect(throws: DomainError.self) { try TransitRules.checkCaps(dailyFen: 0, weeklyFen: nil, effectiveFrom: today, today: today) }
        #expect(throws: DomainError.self) { try TransitRules.checkCaps(dailyFen: nil, weeklyFen: nil, effectiveFrom: today.adding(days: -1), today: today) }
        #expect(throws: DomainError.self) { try TransitRules.validatedJourneySeconds(minutes: 721) }
        #expect(try TransitRules.validatedCategory("  joinin ") == "joinin")
    }
}

@Suite("Time-ordered ids")
struct TimeOrderedIDTests {
    @Test("UUIDv7 layout: version 7, RFC variant, the timestamp first; ids sort in the order they were made")
    func layout() {
        let ids = (0..<2_000).map { TimeOrderedID.make(unixMs: 1_796_097_600_000 + Int64($0 / 100)) }
        #expect(ids == ids.sorted(), "made one after another, they sort as text in that order")
        #expect(Set(ids).count == ids.count)
        for (index, id) in ids.enumerated() where index % 150 == 0 {
            let parts = id.split(separator: "-").map(String.init)
            #expect(parts.map(\.count) == [8, 4, 4, 4, 12])
            #expect(id.utf8.allSatisfy { "0123456789abcdef-".utf8.contains($0) }, "lowercase hex: \(id)")
            #expect(UUID(uuidString: id)?.uuidString.lowercased() == id)
            #expect(parts[2].first == "7")
            #expect(["8", "9", "a", "b"].contains(parts[3].first))
            let expectedMs = UInt64(1_796_097_600_000 + index / 100)
            #expect(UInt64(parts[0] + parts[1], radix: 16) == expectedMs)
        }
        // Same millisecond, same order; a later millisecond sorts after whatever came before.
        let earlier = TimeOrderedID.make(unixMs: 1_000), later = TimeOrderedID.make(unixMs: 2_000)
        #expect(earlier < later)
    }
}
