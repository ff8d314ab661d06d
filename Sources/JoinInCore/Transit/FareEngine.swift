/// Prices one leg, and one operator's sequence of legs, from a `FareFeed` following the
/// GTFS-Fares v2 reference: fare leg rule matching (exact ids, empty fields, `rule_priority`),
/// fare products per rider category and fare medium, and fare transfer rules (leg groups,
/// `transfer_count`, `duration_limit` and its type, `fare_transfer_type`). Pure: no clock, no store.
public struct FareEngine: Sendable {
    public let feed: FareFeed
    /// Ids named by some rule, for the "empty = every value not named elsewhere" semantics of a
    /// feed without `rule_priority`.
    let namedNetworks: Set<String>
    let namedFromAreas: Set<String>
    let namedToAreas: Set<String>
    let namedFromLegGroups: Set<String>
    let namedToLegGroups: Set<String>
    let productRows: [String: [FareFeed.FareProduct]]
    /// Every to-area a rule names, plus "no area": the destinations `maximumFare` tries.
    let destinationAreas: [Set<String>]
    let originAreas: [Set<String>]

    public init(feed: FareFeed) {
        self.feed = feed
        namedNetworks = Set(feed.legRules.compactMap(\.networkID))
        namedFromAreas = Set(feed.legRules.compactMap(\.fromAreaID))
        namedToAreas = Set(feed.legRules.compactMap(\.toAreaID))
        namedFromLegGroups = Set(feed.transferRules.compactMap(\.fromLegGroupID))
        namedToLegGroups = Set(feed.transferRules.compactMap(\.toLegGroupID))
        productRows = Dictionary(grouping: feed.fareProducts, by: \.id)
        destinationAreas = [[]] + Set(feed.areas.keys).sorted().map { [$0] }
        originAreas = destinationAreas
    }

    /// What the engine needs to know about one leg.
    public struct Leg: Sendable, Equatable {
        public var networkID: String?
        /// Areas of the boarding stop (and of its parent station); empty when unknown.
        public var fromAreas: Set<String>
        /// Areas of the alighting stop; empty for a single (bus) tap or an unknown exit.
        public var toAreas: Set<String>
        public var start: LocalTime
        public var end: LocalTime
        public init(networkID: String?, fromAreas: Set<String>, toAreas: Set<String>, start: LocalTime, end: LocalTime) {
            self.networkID = networkID
            self.fromAreas = fromAreas
            self.toAreas = toAreas
            self.start = start
            self.end = end
        }
    }

    /// A validation instant with the wall-clock time at the place of validation.
    public struct LocalTime: Sendable, Equatable, Comparable {
        public var unixMs: Int64
        public var date: CivilDate
        public var secondsOfDay: Int
        public init(unixMs: Int64, utcOffsetMinutes: Int) {
            self.unixMs = unixMs
            let local = unixMs / 1000 + Int64(utcOffsetMinutes) * 60
            let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
            date = CivilDate(daysSinceEpoch: Int(days))
            secondsOfDay = Int(local - days * 86_400)
        }
        public static func < (a: Self, b: Self) -> Bool { a.unixMs < b.unixMs }
    }

    /// The price of a leg on its own: the matched rule's leg group and product, and the amount.
    public struct LegPrice: Sendable, Equatable {
        public var legGroupID: String?
        public var fareProductID: String
        public var amountFen: Int64
    }

    // MARK: areas

    /// The areas a stop belongs to: its own, or its parent station's when it has none of its own.
    public func areas(ofStop stopID: String) -> Set<String> {
        if let own = feed.stopAreas[stopID], !own.isEmpty { return own }
        if let parent = feed.stops[stopID]?.parentStation, let inherited = feed.stopAreas[parent] { return inherited }
        return []
    }

    public func network(ofRoute routeID: String?) -> String? {
        routeID.flatMap { feed.routes[$0]?.networkID }
    }

    // MARK: leg rules

    func matches(_ rule: FareFeed.LegRule, _ leg: Leg) -> Bool {
        let priority = feed.legRulesHavePriority
        // network_id
        if let network = rule.networkID {
            guard leg.networkID == network else { return false }
        } else if !priority, let network = leg.networkID, namedNetworks.contains(network) {
            return false
        }
        // from_area_id / to_area_id
        if let area = rule.fromAreaID {
            guard leg.fromAreas.contains(area) else { return false }
        } else if !priority, !leg.fromAreas.isDisjoint(with: namedFromAreas) {
            return false
        }
        if let area = rule.toAreaID {
            guard leg.toAreas.contains(area) else { return false }
        } else if !priority, !leg.toAreas.isDisjoint(with: namedToAreas) {
            return false
        }
        // timeframes: empty means the time does not matter
        if let group = rule.fromTimeframeGroupID, !inTimeframe(group, leg.start) { return false }
        if let group = rule.toTimeframeGroupID, !inTimeframe(group, leg.end) { return false }
        return true
    }

    func inTimeframe(_ groupID: String, _ time: LocalTime) -> Bool {
        (feed.timeframes[groupID] ?? []).contains { frame in
            (frame.startSeconds..<frame.endSeconds).contains(time.secondsOfDay) && serviceRuns(frame.serviceID, on: time.date)
        }
    }

    public func serviceRuns(_ serviceID: String, on date: CivilDate) -> Bool {
        guard let service = feed.services[serviceID] else { return false }
        if service.removed.contains(date) { return false }
        if service.added.contains(date) { return true }
        guard let start = service.startDate, let end = service.endDate, start <= date, date <= end else { return false }
        return service.weekdays[date.weekdayIndexFromMonday]
    }

    /// The amount of `productID` for a rider of `riderCategoryID` paying with the Join In card (a
    /// physical transit card, fare_media_type 2; rows without a medium apply to every medium). A
    /// category the product has no row for pays the default category's amount. Nil: no usable row.
    public func amount(ofProduct productID: String, riderCategoryID: String?) -> Int64? {
        let usable = (productRows[productID] ?? []).filter { row in
            guard let media = row.fareMediaID else { return true }
            return feed.fareMedia[media]?.type == 2
        }
        let defaultCategory = feed.defaultRiderCategoryID
        let wanted = riderCategoryID ?? defaultCategory
        for category in [wanted, nil, defaultCategory] {
            let rows = usable.filter { $0.riderCategoryID == category }
            if let cheapest = rows.map(\.amountFen).min() { return cheapest }
        }
        return nil
    }

    /// The fare of one leg on its own, or nil when no rule matches (or no matching rule's product
    /// has a usable price). Of the matching rules, those with the highest `rule_priority` count;
    /// when several remain, the rider gets the cheapest.
    public func price(_ leg: Leg, riderCategoryID: String?) -> LegPrice? {
        let matching = feed.legRules.filter { matches($0, leg) }
        guard let top = matching.map({ $0.rulePriority ?? 0 }).max() else { return nil }
        var best: LegPrice?
        for rule in matching where (rule.rulePriority ?? 0) == top {
            guard let amount = amount(ofProduct: rule.fareProductID, riderCategoryID: riderCategoryID) else { continue }
            let candidate = LegPrice(legGroupID: rule.legGroupID, fareProductID: rule.fareProductID, amountFen: amount)
            if let current = best, (current.amountFen, current.fareProductID, current.legGroupID ?? "")
                <= (amount, rule.fareProductID, rule.legGroupID ?? "") { continue }
            best = candidate
        }
        return best
    }

    /// The most any leg boarding at `fromAreas` can cost (an entry without an exit).
    public func maximumFare(fromAreas: Set<String>, networkID: String?, at time: LocalTime, riderCategoryID: String?) -> LegPrice? {
        mostExpensive(destinationAreas.map { Leg(networkID: networkID, fromAreas: fromAreas, toAreas: $0, start: time, end: time) },
                      riderCategoryID: riderCategoryID)
    }

    /// The most any leg alighting at `toAreas` can cost (an exit without an entry).
    public func maximumFare(toAreas: Set<String>, networkID: String?, at time: LocalTime, riderCategoryID: String?) -> LegPrice? {
        mostExpensive(originAreas.map { Leg(networkID: networkID, fromAreas: $0, toAreas: toAreas, start: time, end: time) },
                      riderCategoryID: riderCategoryID)
    }

    /// The most expensive product a rider of the category can be charged on this feed: the last
    /// resort for a leg no rule prices.
    public func highestFare(riderCategoryID: String?) -> Int64 {
        Set(feed.legRules.map(\.fareProductID)).compactMap { amount(ofProduct: $0, riderCategoryID: riderCategoryID) }.max() ?? 0
    }

    func mostExpensive(_ legs: [Leg], riderCategoryID: String?) -> LegPrice? {
        var best: LegPrice?
        for leg in legs {
            guard let price = price(leg, riderCategoryID: riderCategoryID) else { continue }
            if let current = best, current.amountFen >= price.amountFen { continue }
            best = price
        }
        return best
    }

    // MARK: transfers

    /// One leg of a sub-journey as the transfer rules see it.
    public struct PricedInput: Sendable, Equatable {
        public var leg: Leg
        public var price: LegPrice
        /// Incomplete journeys never take part in a transfer.
        public var transferable: Bool
        public init(leg: Leg, price: LegPrice, transferable: Bool) {
            self.leg = leg
            self.price = price
            self.transferable = transferable
        }
    }

    /// What each leg of an operator's consecutive legs costs once transfer rules apply, and which
    /// legs were a transfer. A sub-journey continues while a transfer rule matches the pair of
    /// consecutive legs; the count of transfers so far selects among rules with `transfer_count`.
    public func applyTransfers(_ legs: [PricedInput], riderCategoryID: String?) -> [(amountFen: Int64, isTransfer: Bool)] {
        var result = legs.map { (amountFen: $0.price.amountFen, isTransfer: false) }
        var transfers = 0
        for index in legs.indices.dropFirst() {
            let previous = legs[index - 1], current = legs[index]
            guard previous.transferable, current.transferable,
                  let (rule, transferFen) = transferRule(from: previous, to: current, count: transfers + 1, riderCategoryID: riderCategoryID)
            else {
                transfers = 0
                continue
            }
            transfers += 1
            result[index].isTransfer = true
            switch rule.fareTransferType {
            case 0: result[index].amountFen = transferFen                          // A + AB
            case 1: result[index].amountFen = transferFen + current.price.amountFen // A + AB + B
            default:                                                                // AB
                let paid = result[index - 1].amountFen
                if transferFen >= paid {
                    result[index].amountFen = transferFen - paid
                } else {
                    result[index - 1].amountFen = transferFen
                    result[index].amountFen = 0
                }
            }
        }
        return result
    }

    func transferRule(from previous: PricedInput, to current: PricedInput, count: Int,
                      riderCategoryID: String?) -> (FareFeed.TransferRule, Int64)? {
        let fromGroup = previous.price.legGroupID, toGroup = current.price.legGroupID
        let candidates = feed.transferRules.filter { rule in
            if let from = rule.fromLegGroupID {
                guard from == fromGroup else { return false }
            } else if let fromGroup, namedFromLegGroups.contains(fromGroup) {
                return false
            }
            if let to = rule.toLegGroupID {
                guard to == toGroup else { return false }
            } else if let toGroup, namedToLegGroups.contains(toGroup) {
                return false
            }
            if let limit = rule.durationLimitSeconds {
                let elapsedMs: Int64
                switch rule.durationLimitType ?? 0 {
                case 0: elapsedMs = current.leg.end.unixMs - previous.leg.start.unixMs
                case 1: elapsedMs = current.leg.start.unixMs - previous.leg.start.unixMs
                case 2: elapsedMs = current.leg.start.unixMs - previous.leg.end.unixMs
                default: elapsedMs = current.leg.end.unixMs - previous.leg.end.unixMs
                }
                guard elapsedMs >= 0, elapsedMs <= Int64(limit) * 1000 else { return false }
            }
            if let allowed = rule.transferCount, allowed != -1, count > allowed { return false }
            return true
        }
        // Among rules with a transfer_count, the smallest count that still covers this transfer.
        let counted = candidates.filter { $0.transferCount != nil && $0.transferCount != -1 }
        let chosen: [FareFeed.TransferRule]
        if let smallest = counted.compactMap(\.transferCount).min() {
            chosen = counted.filter { $0.transferCount == smallest }
        } else {
            chosen = candidates
        }
        // When several rules remain, the rider gets the cheapest pair (ties: the earlier row).
        var best: (rule: FareFeed.TransferRule, fen: Int64, pair: Int64)?
        for rule in chosen {
            let fen = rule.fareProductID.map { amount(ofProduct: $0, riderCategoryID: riderCategoryID) ?? 0 } ?? 0
            let pair: Int64
            switch rule.fareTransferType {
            case 0: pair = previous.price.amountFen + fen
            case 1: pair = previous.price.amountFen + fen + current.price.amountFen
            default: pair = fen
            }
            if let best, best.pair <= pair { continue }
            best = (rule, fen, pair)
        }
        return best.map { ($0.rule, $0.fen) }
    }
}

extension CivilDate {
    /// 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
    public var weekdayIndexFromMonday: Int {
        let days = daysSinceEpoch + 3
        return ((days % 7) + 7) % 7
    }

    /// The Monday of this date's ISO week.
    public var mondayOfWeek: CivilDate { adding(days: -weekdayIndexFromMonday) }
}
