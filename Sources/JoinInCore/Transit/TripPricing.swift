/// From one cardholder's taps in one city to priced trips: pairs entries with exits, prices each
/// leg with the feed version in force when it began, applies the operator's transfer rules, the
/// cardholder fare, and the city's daily and weekly caps.
///
/// The result depends only on the *set* of taps (they are sorted by time and id first), so the
/// final charges cannot depend on the order in which gates uploaded them. The store re-prices a
/// cardholder's whole week in a city whenever one of its taps arrives and posts the difference.
public enum TripPricing {
    /// A transit service day runs from 04:00 to 04:00 local time (a ride after midnight belongs to
    /// the evening before, as on most metros; TfL uses 04:30).
    public static let serviceDayStartSeconds = 4 * 3600

    public enum TapKind: String, Sendable, Codable, CaseIterable {
        case entry, exit, single
    }

    public struct Tap: Sendable, Equatable {
        /// Stable and unique: "terminal:sequence".
        public var id: String
        public var operatorID: String
        public var feedVersionID: String
        public var unixMs: Int64
        public var utcOffsetMinutes: Int
        public var kind: TapKind
        public var stopID: String
        public var routeID: String?
        /// The cardholder's permit was valid at the time of the tap: cardholder fare, not the default.
        public var cardholderFare: Bool
        /// The operator's terms when the tap was accepted (a later change of the operator's settings
        /// never re-prices it): the rider category a cardholder fare uses (nil: the feed's default),
        /// the journey limit of an entry, and the rule for an exit without an entry.
        public var terms: OperatorTerms

        public init(id: String, operatorID: String, feedVersionID: String, unixMs: Int64, utcOffsetMinutes: Int, kind: TapKind,
                    stopID: String, routeID: String?, cardholderFare: Bool, terms: OperatorTerms) {
            self.id = id
            self.operatorID = operatorID
            self.feedVersionID = feedVersionID
            self.unixMs = unixMs
            self.utcOffsetMinutes = utcOffsetMinutes
            self.kind = kind
            self.stopID = stopID
            self.routeID = routeID
            self.cardholderFare = cardholderFare
            self.terms = terms
        }

        public var time: FareEngine.LocalTime { FareEngine.LocalTime(unixMs: unixMs, utcOffsetMinutes: utcOffsetMinutes) }
    }

    /// What to do with an exit that has no entry before it.
    public enum ExitWithoutEntry: String, Sendable, Codable, CaseIterable {
        /// The most a journey ending at that station can cost (TfL's rule).
        case maximumFare = "maximum_fare"
        /// Nothing (some operators open the gates on the way out).
        case noCharge = "no_charge"
    }

    /// Each operator's fare terms besides its feed.
    public struct OperatorTerms: Sendable, Equatable {
        /// The rider category Join In cardholders get; nil: the feed's default category.
        public var cardholderCategoryID: String?
        /// An entry and an exit further apart than this are two incomplete journeys.
        public var maxJourneySeconds: Int
        public var exitWithoutEntry: ExitWithoutEntry
        public init(cardholderCategoryID: String?, maxJourneySeconds: Int, exitWithoutEntry: ExitWithoutEntry) {
            self.cardholderCategoryID = cardholderCategoryID
            self.maxJourneySeconds = maxJourneySeconds
            self.exitWithoutEntry = exitWithoutEntry
        }
    }

    /// JoinIn's extension to GTFS-Fares v2: what one cardholder pays at most per service day and
    /// per week (Monday to Sunday) across a city's operators. Nil: no cap.
    public struct Caps: Sendable, Equatable {
        public var dailyFen: Int64?
        public var weeklyFen: Int64?
        public init(dailyFen: Int64?, weeklyFen: Int64?) {
            self.dailyFen = dailyFen
            self.weeklyFen = weeklyFen
        }
    }

    public enum TripKind: String, Sendable, Codable, CaseIterable {
        /// An entry and its exit.
        case complete
        /// One tap on boarding (a bus).
        case single
        /// An entry without an exit: the maximum fare from that station.
        case noExit = "no_exit"
        /// An exit without an entry: charged per the operator's rule.
        case noEntry = "no_entry"

        public var isIncomplete: Bool { self == .noExit || self == .noEntry }
    }

    public struct Trip: Sendable, Equatable {
        /// The first tap's id.
        public var id: String
        public var kind: TripKind
        public var operatorID: String
        public var feedVersionID: String
        public var entryTapID: String?
        public var exitTapID: String?
        public var fromStopID: String?
        public var toStopID: String?
        public var routeID: String?
        public var startMs: Int64
        public var endMs: Int64
        public var utcOffsetMinutes: Int
        public var serviceDay: CivilDate
        public var fareProductID: String?
        public var cardholderFare: Bool
        /// The default category's fare for this trip, transfers included.
        public var fullFareFen: Int64
        /// The cardholder's fare, transfers included; never above the full fare.
        public var fareFen: Int64
        /// What is charged once the caps apply; never above `fareFen`.
        public var chargedFen: Int64
        public var isTransfer: Bool
        public var capApplied: Bool
        /// No fare leg rule matched: charged the feed's highest fare.
        public var noMatchingRule: Bool
    }

    public static func serviceDay(_ time: FareEngine.LocalTime, utcOffsetMinutes: Int) -> CivilDate {
        FareEngine.LocalTime(unixMs: time.unixMs - Int64(serviceDayStartSeconds) * 1000, utcOffsetMinutes: utcOffsetMinutes).date
    }

    public static func serviceDay(unixMs: Int64, utcOffsetMinutes: Int) -> CivilDate {
        FareEngine.LocalTime(unixMs: unixMs - Int64(serviceDayStartSeconds) * 1000, utcOffsetMinutes: utcOffsetMinutes).date
    }

    /// Thrown when a tap names a feed version or operator the caller did not supply.
    public struct MissingFareData: Error, Sendable, Equatable {
        public let what: String
    }

    /// `caps` gives the caps in force on a service day: a day's cap is that day's, a week's cap
    /// the one in force on its Monday.
    public static func price(taps: [Tap], engines: [String: FareEngine], caps: (CivilDate) -> Caps) throws -> [Trip] {
        let sorted = taps.sorted { ($0.unixMs, $0.id) < ($1.unixMs, $1.id) }
        var pending: Tap?
        var shapes: [(kind: TripKind, first: Tap, last: Tap)] = []
        func closePending() {
            if let entry = pending { shapes.append((.noExit, entry, entry)) }
            pending = nil
        }
        for tap in sorted {
            switch tap.kind {
            case .entry:
                closePending()
                pending = tap
            case .exit:
                if let entry = pending, entry.operatorID == tap.operatorID,
                   tap.unixMs - entry.unixMs <= Int64(entry.terms.maxJourneySeconds) * 1000 {
                    shapes.append((.complete, entry, tap))
                    pending = nil
                } else {
                    closePending()
                    shapes.append((.noEntry, tap, tap))
                }
            case .single:
                closePending()
                shapes.append((.single, tap, tap))
            }
        }
        closePending()

        var trips: [Trip] = []
        var inputs: [(full: FareEngine.PricedInput, own: FareEngine.PricedInput)] = []
        var categories: [String?] = []
        for shape in shapes {
            let first = shape.first, last = shape.last
            guard let engine = engines[first.feedVersionID] else { throw MissingFareData(what: "feed version \(first.feedVersionID)") }
            // An exit without an entry follows the rule in force at the exit.
            let operatorTerms = shape.kind == .noEntry ? last.terms : first.terms
            let category = first.cardholderFare ? first.terms.cardholderCategoryID : nil
            let network = engine.network(ofRoute: first.routeID) ?? engine.network(ofRoute: last.routeID)
            let leg = FareEngine.Leg(networkID: network,
                                     fromAreas: shape.kind == .noEntry ? [] : engine.areas(ofStop: first.stopID),
                                     toAreas: shape.kind == .complete || shape.kind == .noEntry ? engine.areas(ofStop: last.stopID) : [],
                                     start: first.time, end: last.time)
            func priced(_ riderCategory: String?) -> (FareEngine.LegPrice?, matched: Bool) {
                let price: FareEngine.LegPrice?
                switch shape.kind {
                case .complete, .single: price = engine.price(leg, riderCategoryID: riderCategory)
                case .noExit: price = engine.maximumFare(fromAreas: leg.fromAreas, networkID: network, at: leg.start, riderCategoryID: riderCategory)
                case .noEntry:
                    if operatorTerms.exitWithoutEntry == .noCharge {
                        return (FareEngine.LegPrice(legGroupID: nil, fareProductID: "", amountFen: 0), true)
                    }
                    price = engine.maximumFare(toAreas: leg.toAreas, networkID: network, at: leg.end, riderCategoryID: riderCategory)
                }
                if let price { return (price, true) }
                return (FareEngine.LegPrice(legGroupID: nil, fareProductID: "", amountFen: engine.highestFare(riderCategoryID: riderCategory)), false)
            }
            let (fullPrice, matchedFull) = priced(nil)
            let (ownPrice, matchedOwn) = priced(category)
            let full = fullPrice ?? FareEngine.LegPrice(legGroupID: nil, fareProductID: "", amountFen: 0)
            let own = ownPrice ?? full
            let transferable = !shape.kind.isIncomplete
            inputs.append((FareEngine.PricedInput(leg: leg, price: full, transferable: transferable),
                           FareEngine.PricedInput(leg: leg, price: own, transferable: transferable)))
            categories.append(category)
            trips.append(Trip(
                id: first.id, kind: shape.kind, operatorID: first.operatorID, feedVersionID: first.feedVersionID,
                entryTapID: shape.kind == .complete || shape.kind == .noExit ? first.id : nil,
                exitTapID: shape.kind == .complete || shape.kind == .noEntry ? last.id : nil,
                fromStopID: shape.kind == .noEntry ? nil : first.stopID,
                toStopID: shape.kind == .complete || shape.kind == .noEntry ? last.stopID : nil,
                routeID: first.routeID ?? last.routeID, startMs: first.unixMs, endMs: last.unixMs, utcOffsetMinutes: first.utcOffsetMinutes,
                serviceDay: serviceDay(unixMs: first.unixMs, utcOffsetMinutes: first.utcOffsetMinutes),
                fareProductID: own.fareProductID.isEmpty ? nil : own.fareProductID, cardholderFare: category != nil,
                fullFareFen: full.amountFen, fareFen: own.amountFen, chargedFen: own.amountFen,
                isTransfer: false, capApplied: false, noMatchingRule: !(matchedFull && matchedOwn)))
        }

        // Transfers: within runs of consecutive trips on one operator's same feed version.
        var runStart = 0
        while runStart < trips.count {
            var runEnd = runStart + 1
            while runEnd < trips.count, trips[runEnd].operatorID == trips[runStart].operatorID,
                  trips[runEnd].feedVersionID == trips[runStart].feedVersionID { runEnd += 1 }
            guard let engine = engines[trips[runStart].feedVersionID] else {
                throw MissingFareData(what: "feed version \(trips[runStart].feedVersionID)")
            }
            let run = runStart..<runEnd
            let category = categories[runStart]
            // A run mixes cardholder and default-fare trips only when the permit lapsed mid-run;
            // each pass prices the run in one category, and each trip takes its own.
            let full = engine.applyTransfers(run.map { inputs[$0].full }, riderCategoryID: nil)
            let own = engine.applyTransfers(run.map { inputs[$0].own }, riderCategoryID: category)
            for (offset, index) in run.enumerated() {
                let fullFen = full[offset].amountFen
                let ownFen = trips[index].cardholderFare ? own[offset].amountFen : fullFen
                trips[index].fullFareFen = fullFen
                trips[index].fareFen = max(0, min(ownFen, fullFen))
                trips[index].chargedFen = trips[index].fareFen
                trips[index].isTransfer = trips[index].cardholderFare ? own[offset].isTransfer : full[offset].isTransfer
            }
            runStart = runEnd
        }

        // Caps: in time order; incomplete journeys are charged in full and do not count (TfL's
        // rule: not tapping out must never be the cheaper way to travel).
        var usedDay: [CivilDate: Int64] = [:]
        var usedWeek: [CivilDate: Int64] = [:]
        for index in trips.indices where !trips[index].kind.isIncomplete {
            let day = trips[index].serviceDay, week = day.mondayOfWeek
            var allowed = trips[index].fareFen
            if let cap = caps(day).dailyFen { allowed = min(allowed, max(0, cap - usedDay[day, default: 0])) }
            if let cap = caps(week).weeklyFen { allowed = min(allowed, max(0, cap - usedWeek[week, default: 0])) }
            trips[index].capApplied = allowed < trips[index].fareFen
            trips[index].chargedFen = allowed
            usedDay[day, default: 0] += allowed
            usedWeek[week, default: 0] += allowed
        }
        return trips
    }

    /// What a cardholder owes each operator per service day for these trips.
    public struct DayKey: Sendable, Hashable, Comparable {
        public var operatorID: String
        public var serviceDay: CivilDate
        public init(operatorID: String, serviceDay: CivilDate) {
            self.operatorID = operatorID
            self.serviceDay = serviceDay
        }
        public static func < (a: Self, b: Self) -> Bool { (a.serviceDay, a.operatorID) < (b.serviceDay, b.operatorID) }
    }

    public static func totals(_ trips: [Trip]) -> [DayKey: Int64] {
        var totals: [DayKey: Int64] = [:]
        for trip in trips { totals[DayKey(operatorID: trip.operatorID, serviceDay: trip.serviceDay), default: 0] += trip.chargedFen }
        return totals
    }
}

/// How a charge or an adjustment splits between the transit wallet and transit debt, so that the
/// end state depends only on the net amount: a charge takes what the wallet has and owes the
/// rest; a refund pays the debt back first; a top-up clears the debt before it fills the wallet.
/// Invariant: the cardholder is in debt only while the wallet is empty.
public enum TransitDebtRules {
    public struct Split: Sendable, Equatable {
        public var walletFen: Int64
        public var debtFen: Int64
    }

    /// A charge of `amountFen`: `walletFen` from the wallet (what it has, unless its debits are
    /// blocked), `debtFen` becomes debt.
    public static func charge(_ amountFen: Int64, walletAvailableFen: Int64, walletBlocked: Bool) -> Split {
        let fromWallet = walletBlocked ? 0 : min(amountFen, max(0, walletAvailableFen))
        return Split(walletFen: fromWallet, debtFen: amountFen - fromWallet)
    }

    /// Money back to the cardholder (`amountFen` > 0) while they owe `debtFen` (≥ 0): the debt first.
    public static func credit(_ amountFen: Int64, debtFen: Int64) -> Split {
        let toDebt = min(amountFen, max(0, debtFen))
        return Split(walletFen: amountFen - toDebt, debtFen: toDebt)
    }
}
