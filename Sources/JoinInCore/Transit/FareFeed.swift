/// One operator's fare data, as read from a GTFS-Fares v2 feed (https://gtfs.org/schedule/reference/,
/// files networks … fare_transfer_rules, with stops/routes for names and calendar for timeframes).
///
/// The importer (`GTFSFaresImport`) builds and validates it; the fare engine (`FareEngine`) only
/// reads it. It is stored as JSON per feed version, so it is `Codable` with stable keys. Ids are
/// the feed's own strings. Empty optional GTFS fields are `nil`, never "".
public struct FareFeed: Sendable, Equatable, Codable {
    public struct Stop: Sendable, Equatable, Codable {
        public var id: String
        public var name: LocalizedName
        /// `stops.parent_station`: a platform's station. Area membership of the parent applies to the child.
        public var parentStation: String?
        public init(id: String, name: LocalizedName, parentStation: String? = nil) {
            self.id = id
            self.name = name
            self.parentStation = parentStation
        }
    }

    public struct Route: Sendable, Equatable, Codable {
        public var id: String
        public var name: LocalizedName
        /// From `route_networks.txt` or `routes.network_id` (a feed may use only one of the two).
        public var networkID: String?
        public init(id: String, name: LocalizedName, networkID: String? = nil) {
            self.id = id
            self.name = name
            self.networkID = networkID
        }
    }

    /// One row of `timeframes.txt`: local time of day [start, end) in seconds after midnight on the
    /// days of `serviceID`. GTFS writes end 24:00:00 as 86400.
    public struct Timeframe: Sendable, Equatable, Codable {
        public var startSeconds: Int
        public var endSeconds: Int
        public var serviceID: String
        public init(startSeconds: Int, endSeconds: Int, serviceID: String) {
            self.startSeconds = startSeconds
            self.endSeconds = endSeconds
            self.serviceID = serviceID
        }
    }

    /// A service from `calendar.txt` and/or `calendar_dates.txt`.
    public struct Service: Sendable, Equatable, Codable {
        /// Monday … Sunday, as in calendar.txt's columns.
        public var weekdays: [Bool]
        /// Inclusive date range of the calendar.txt row; nil when the service has only calendar_dates rows.
        public var startDate: CivilDate?
        public var endDate: CivilDate?
        /// calendar_dates.txt exception_type 1 / 2.
        public var added: Set<CivilDate>
        public var removed: Set<CivilDate>
        public init(weekdays: [Bool] = Array(repeating: false, count: 7), startDate: CivilDate? = nil, endDate: CivilDate? = nil,
                    added: Set<CivilDate> = [], removed: Set<CivilDate> = []) {
            self.weekdays = weekdays
            self.startDate = startDate
            self.endDate = endDate
            self.added = added
            self.removed = removed
        }
    }

    public struct RiderCategory: Sendable, Equatable, Codable {
        public var id: String
        public var name: String
        /// `is_default_fare_category` = 1. At most one per feed.
        public var isDefault: Bool
        public init(id: String, name: String, isDefault: Bool) {
            self.id = id
            self.name = name
            self.isDefault = isDefault
        }
    }

    public struct FareMedium: Sendable, Equatable, Codable {
        public var id: String
        public var name: String?
        /// `fare_media_type`: 0 none, 1 paper ticket, 2 physical transit card, 3 cEMV, 4 mobile app.
        public var type: Int
        public init(id: String, name: String?, type: Int) {
            self.id = id
            self.name = name
            self.type = type
        }
    }

    /// One row of `fare_products.txt`; several rows may share a product id (per rider category / medium).
    public struct FareProduct: Sendable, Equatable, Codable {
        public var id: String
        public var name: String?
        public var riderCategoryID: String?
        public var fareMediaID: String?
        /// `amount` in fen (currency must be CNY, at most 2 decimals, ≥ 0).
        public var amountFen: Int64
        public init(id: String, name: String?, riderCategoryID: String?, fareMediaID: String?, amountFen: Int64) {
            self.id = id
            self.name = name
            self.riderCategoryID = riderCategoryID
            self.fareMediaID = fareMediaID
            self.amountFen = amountFen
        }
    }

    public struct LegRule: Sendable, Equatable, Codable {
        public var legGroupID: String?
        public var networkID: String?
        public var fromAreaID: String?
        public var toAreaID: String?
        public var fromTimeframeGroupID: String?
        public var toTimeframeGroupID: String?
        public var fareProductID: String
        /// nil when the row's rule_priority is empty (treated as 0).
        public var rulePriority: Int?
        public init(legGroupID: String? = nil, networkID: String? = nil, fromAreaID: String? = nil, toAreaID: String? = nil,
                    fromTimeframeGroupID: String? = nil, toTimeframeGroupID: String? = nil, fareProductID: String, rulePriority: Int? = nil) {
            self.legGroupID = legGroupID
            self.networkID = networkID
            self.fromAreaID = fromAreaID
            self.toAreaID = toAreaID
            self.fromTimeframeGroupID = fromTimeframeGroupID
            self.toTimeframeGroupID = toTimeframeGroupID
            self.fareProductID = fareProductID
            self.rulePriority = rulePriority
        }
    }

    public struct TransferRule: Sendable, Equatable, Codable {
        public var fromLegGroupID: String?
        public var toLegGroupID: String?
        /// -1 = no limit; nil when from ≠ to leg group (the spec forbids it then).
        public var transferCount: Int?
        public var durationLimitSeconds: Int?
        /// 0 departure→arrival, 1 departure→departure, 2 arrival→departure, 3 arrival→arrival.
        public var durationLimitType: Int?
        /// 0: A + AB, 1: A + AB + B, 2: AB.
        public var fareTransferType: Int
        /// nil: the transfer itself costs nothing.
        public var fareProductID: String?
        public init(fromLegGroupID: String? = nil, toLegGroupID: String? = nil, transferCount: Int? = nil, durationLimitSeconds: Int? = nil,
                    durationLimitType: Int? = nil, fareTransferType: Int, fareProductID: String? = nil) {
            self.fromLegGroupID = fromLegGroupID
            self.toLegGroupID = toLegGroupID
            self.transferCount = transferCount
            self.durationLimitSeconds = durationLimitSeconds
            self.durationLimitType = durationLimitType
            self.fareTransferType = fareTransferType
            self.fareProductID = fareProductID
        }
    }

    public var networks: [String: String]          // network_id → network_name ("" when unnamed)
    public var areas: [String: String]             // area_id → area_name ("" when unnamed)
    public var stops: [String: Stop]
    public var routes: [String: Route]
    /// stop_id → the area ids `stop_areas.txt` puts it in directly.
    public var stopAreas: [String: Set<String>]
    /// timeframe_group_id → its rows.
    public var timeframes: [String: [Timeframe]]
    public var services: [String: Service]
    public var riderCategories: [String: RiderCategory]
    public var fareMedia: [String: FareMedium]
    public var fareProducts: [FareProduct]
    public var legRules: [LegRule]
    public var transferRules: [TransferRule]
    /// True when fare_leg_rules.txt has a `rule_priority` column: empty fields then match anything
    /// instead of "every value not named elsewhere" (GTFS reference, fare_leg_rules.network_id).
    public var legRulesHavePriority: Bool

    public init(networks: [String: String] = [:], areas: [String: String] = [:], stops: [String: Stop] = [:],
                routes: [String: Route] = [:], stopAreas: [String: Set<String>] = [:], timeframes: [String: [Timeframe]] = [:],
                services: [String: Service] = [:], riderCategories: [String: RiderCategory] = [:], fareMedia: [String: FareMedium] = [:],
                fareProducts: [FareProduct] = [], legRules: [LegRule] = [], transferRules: [TransferRule] = [],
                legRulesHavePriority: Bool = false) {
        self.networks = networks
        self.areas = areas
        self.stops = stops
        self.routes = routes
        self.stopAreas = stopAreas
        self.timeframes = timeframes
        self.services = services
        self.riderCategories = riderCategories
        self.fareMedia = fareMedia
        self.fareProducts = fareProducts
        self.legRules = legRules
        self.transferRules = transferRules
        self.legRulesHavePriority = legRulesHavePriority
    }

    /// The rider category marked default, if the feed has one.
    public var defaultRiderCategoryID: String? {
        riderCategories.values.filter(\.isDefault).map(\.id).min()
    }
}
