/// Why a gate's tap is refused (the wire spelling is the raw value).
public enum TapRejection: String, Sendable, Codable, CaseIterable {
    case cardUnknown = "card_unknown"
    case cardNotActive = "card_not_active"
    case cardBlocked = "card_blocked"
    case stopUnknown = "stop_unknown"
    case stopNotThisTerminal = "stop_not_this_terminal"
    case routeUnknown = "route_unknown"
    case noFareData = "no_fare_data"
    case cityNotInteroperable = "city_not_interoperable"
    case timeInvalid = "time_invalid"
    case timeInFuture = "time_in_future"
    case timeTooOld = "time_too_old"
    case sequenceReused = "sequence_reused"
}

/// The rules of transit administration and of taps from offline gates (docs/transit.md).
public enum TransitRules {
    /// A gate's clock may run a little fast.
    public static let futureToleranceMs: Int64 = 5 * 60_000
    /// Older taps are not charged any more.
    public static let ageMaxMs: Int64 = 90 * 86_400_000
    public static let tapsPerBatchMax = 10_000
    public static let journeyMinutesRange = 1...720
    public static let capFenRange: ClosedRange<Int64> = 1...100_000_000

    /// A tap judged on when it happened and what the store knows of its city and card; nil: the
    /// tap may be accepted as far as these go (its stop and route are checked against the fares).
    /// A card lost, replaced or cancelled *after* the tap is still charged: the gate let the ride
    /// happen before the card stopped; a ride after that is never the holder's to pay.
    public static func check(tapMs: Int64, nowMs: Int64, cityInteroperable: Bool, card: (status: CardStatus, changedAtMs: Int64)?) -> TapRejection? {
        guard tapMs <= nowMs + futureToleranceMs else { return .timeInFuture }
        guard tapMs >= nowMs - ageMaxMs else { return .timeTooOld }
        guard cityInteroperable else { return .cityNotInteroperable }
        guard let card else { return .cardUnknown }
        switch card.status {
        case .issued: return .cardNotActive
        case .lost, .replaced, .cancelled: return card.changedAtMs <= tapMs ? .cardBlocked : nil
        case .active, .frozen: return nil
        }
    }

    /// The tap's stop and route against the fare data in force; a validator fixed at a station
    /// takes taps of that station and its platforms only.
    public static func checkPlace(stopID: String, routeID: String?, boundStopID: String?, feed: FareFeed) -> TapRejection? {
        guard feed.stops[stopID] != nil || feed.stopAreas[stopID] != nil else { return .stopUnknown }
        if let boundStopID, stopID != boundStopID, feed.stops[stopID]?.parentStation != boundStopID { return .stopNotThisTerminal }
        if let routeID, feed.routes[routeID] == nil { return .routeUnknown }
        return nil
    }

    public static func validatedJourneySeconds(minutes: Int) throws -> Int64 {
        guard journeyMinutesRange.contains(minutes) else {
            throw DomainError.malformed("transit.max_journey_invalid", "max_journey_minutes must be 1-720")
        }
        return Int64(minutes) * 60
    }

    /// A rider category id as an operator setting: trimmed, 1-255 bytes, no control characters.
    public static func validatedCategory(_ raw: String?) throws -> String? {
        guard let raw else { return nil }
        let trimmed = raw.trimmingWhitespace()
        guard (1...255).contains(trimmed.utf8.count), !trimmed.containsControlCharacters else {
            throw DomainError.malformed("transit.category_invalid", "cardholder_category_id must be 1-255 bytes")
        }
        return trimmed
    }

    /// Caps are 1-100,000,000 fen or none, and never start before today's service day: re-pricing
    /// a day must always use the caps that were in force on it.
    public static func checkCaps(dailyFen: Int64?, weeklyFen: Int64?, effectiveFrom: CivilDate, today: CivilDate) throws {
        for cap in [dailyFen, weeklyFen].compactMap({ $0 }) where !capFenRange.contains(cap) {
            throw DomainError.malformed("transit.cap_invalid", "caps must be 1 to 100,000,000 fen, or null")
        }
        guard effectiveFrom >= today else {
            throw DomainError.rule("transit.effective_from_past",
                                   "effective_from must be today's service day (\(today)) or later: caps never change for a past day")
        }
    }

    /// When a new fare version may start: the first from any time (by default the beginning), a
    /// later one from now (a minute of clock skew allowed) and after the version in force — taps
    /// already priced keep their version.
    public static func versionStart(requestedMs: Int64?, latestStartMs: Int64?, nowMs: Int64) throws -> Int64 {
        guard let latestStartMs else { return requestedMs ?? 0 }
        let start = requestedMs ?? nowMs
        guard start >= nowMs - 60_000, start > latestStartMs else {
            throw DomainError.rule("transit.valid_from_past",
                                   "a new fare version starts now or later (and after the current one): taps already priced keep their version")
        }
        return start
    }
}
