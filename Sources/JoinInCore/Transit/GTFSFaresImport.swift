/// Reads a GTFS-Fares v2 feed (https://gtfs.org/schedule/reference/) into a `FareFeed`.
///
/// Only the files fares need are parsed: `fare_products.txt` and `fare_leg_rules.txt` (required),
/// and networks, route_networks, routes, stops, areas, stop_areas, timeframes, calendar,
/// calendar_dates, rider_categories, fare_media, fare_transfer_rules and translations (optional).
/// Anything else in the feed (trips, stop_times, shapes …) is ignored unread.
///
/// The whole feed is validated before anything is returned: the first problem throws a
/// `DomainError.malformed` whose detail names the file, line and field, e.g.
/// `fare_products.txt line 7, field amount: '1.234' has more than 2 decimals`.
/// Error codes: `gtfs.missing_file`, `gtfs.missing_column`, `gtfs.missing_value`, `gtfs.invalid_id`,
/// `gtfs.invalid_value`, `gtfs.duplicate`, `gtfs.unknown_reference`, `gtfs.amount_invalid`,
/// `gtfs.currency_unsupported`, `gtfs.conflict`, `gtfs.no_default_price`, plus `gtfs.csv_invalid` /
/// `gtfs.csv_limit` from `GTFSCSV` and `gtfs.zip_invalid` from `ZipArchive`.
public enum GTFSFaresImport {
    public static let requiredFiles: [String] = ["fare_products.txt", "fare_leg_rules.txt"]
    public static let optionalFiles: [String] = [
        "networks.txt", "route_networks.txt", "routes.txt", "stops.txt", "areas.txt", "stop_areas.txt", "timeframes.txt",
        "calendar.txt", "calendar_dates.txt", "rider_categories.txt", "fare_media.txt", "fare_transfer_rules.txt", "translations.txt",
    ]
    /// Every file the importer reads.
    public static var knownFiles: Set<String> { Set(requiredFiles + optionalFiles) }

    /// The only currency accepted: JoinIn charges in fen.
    public static let currency = "CNY"
    /// Largest `fare_products.amount`, in fen (100 000.00 CNY).
    public static let amountFenMax: Int64 = 10_000_000
    public static let idBytesMax = 255

    /// The feed files (name → bytes) in a zip archive, at its root or inside one wrapping folder.
    /// Only `knownFiles` are decompressed; the zip-bomb guard applies to them.
    public static func files(fromZip bytes: [UInt8]) throws -> [String: [UInt8]] {
        let archive = try ZipArchive(bytes)
        let all = try archive.topLevelFiles()
        let known = knownFiles
        return try archive.extract(all.filter { known.contains($0.key) })
    }

    /// Parses and validates the feed; `files` maps file names (`fare_products.txt` …) to bytes.
    /// Files the importer does not know are ignored.
    public static func read(files: [String: [UInt8]]) throws -> FareFeed {
        var builder = Builder(files: files)
        return try builder.build()
    }
}

// MARK: - Table helpers

/// One parsed file plus the checks every reader needs, each error naming file, line and field.
private struct GTFSTable {
    let csv: GTFSCSV
    var file: String { csv.file }
    var rows: [GTFSCSV.Row] { csv.rows }

    func error(_ code: String, _ row: GTFSCSV.Row, _ field: String, _ message: String) -> DomainError {
        DomainError.malformed(code, "\(file) line \(row.line), field \(field): \(message)")
    }

    func has(_ column: String) -> Bool { csv.has(column) }

    func value(_ row: GTFSCSV.Row, _ field: String) -> String { csv.value(row, field) }

    /// The field's text, nil when empty.
    func text(_ row: GTFSCSV.Row, _ field: String) -> String? { csv.optional(row, field) }

    /// An optional text shown to people: nil when empty; control characters other than tab and
    /// line ends are refused (NUL cannot be stored).
    func name(_ row: GTFSCSV.Row, _ field: String) throws -> String? {
        guard let value = csv.optional(row, field) else { return nil }
        guard !value.containsControlCharacters else {
            throw error("gtfs.invalid_value", row, field, "\(shown(value)) contains a control character")
        }
        return value
    }

    func required(_ row: GTFSCSV.Row, _ field: String) throws -> String {
        guard let value = csv.optional(row, field) else { throw error("gtfs.missing_value", row, field, "a value is required") }
        return value
    }

    /// An optional id: nil when empty, else at most 255 bytes without control characters.
    func id(_ row: GTFSCSV.Row, _ field: String) throws -> String? {
        guard let value = csv.optional(row, field) else { return nil }
        guard value.utf8.count <= GTFSFaresImport.idBytesMax else {
            throw error("gtfs.invalid_id", row, field, "\(shown(value)) is longer than \(GTFSFaresImport.idBytesMax) bytes")
        }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw error("gtfs.invalid_id", row, field, "\(shown(value)) contains a control character")
        }
        return value
    }

    func requiredID(_ row: GTFSCSV.Row, _ field: String) throws -> String {
        guard let value = try id(row, field) else { throw error("gtfs.missing_value", row, field, "a value is required") }
        return value
    }

    /// The row's required id, refused when an earlier row of the file had it; `lines` remembers
    /// the line of each id seen.
    func uniqueID(_ row: GTFSCSV.Row, _ field: String, seen lines: inout [String: Int]) throws -> String {
        let id = try requiredID(row, field)
        if let first = lines[id] {
            throw error("gtfs.duplicate", row, field, "\(shown(id)) already appears on line \(first)")
        }
        lines[id] = row.line
        return id
    }

    /// An optional non-negative decimal integer (ASCII digits, at most 9 of them).
    func count(_ row: GTFSCSV.Row, _ field: String) throws -> Int? {
        guard let value = text(row, field) else { return nil }
        guard let number = GTFSFaresImport.digits(value) else {
            throw error("gtfs.invalid_value", row, field, "\(shown(value)) is not a non-negative integer")
        }
        return number
    }

    /// An optional enumerated value in `allowed`.
    func choice(_ row: GTFSCSV.Row, _ field: String, _ allowed: ClosedRange<Int>) throws -> Int? {
        guard let value = text(row, field) else { return nil }
        guard let number = GTFSFaresImport.digits(value), allowed.contains(number) else {
            throw error("gtfs.invalid_value", row, field, "\(shown(value)) is not one of \(allowed.map(String.init).joined(separator: ", "))")
        }
        return number
    }

    func requiredChoice(_ row: GTFSCSV.Row, _ field: String, _ allowed: ClosedRange<Int>) throws -> Int {
        guard let number = try choice(row, field, allowed) else { throw error("gtfs.missing_value", row, field, "a value is required") }
        return number
    }

    /// Throws unless `id` (when given) is defined in `target`, which the caller looked up.
    func reference(_ row: GTFSCSV.Row, _ field: String, _ id: String?, exists: (String) -> Bool, in target: String, fileAbsent: Bool) throws {
        guard let id, !exists(id) else { return }
        let suffix = fileAbsent ? " (the file is not in the feed)" : ""
        throw error("gtfs.unknown_reference", row, field, "\(shown(id)) is not defined in \(target)\(suffix)")
    }
}

/// A value quoted for an error detail: at most 60 characters, control characters shown as `?`.
private func shown(_ value: String) -> String {
    var text = ""
    for scalar in value.unicodeScalars.prefix(60) {
        text.unicodeScalars.append(scalar.properties.generalCategory == .control ? "?" : scalar)
    }
    return "'" + text + (value.unicodeScalars.count > 60 ? "…'" : "'")
}

extension GTFSFaresImport {
    /// ASCII digits only, at most 9 (no sign, no spaces): the value, else nil.
    static func digits(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 9, bytes.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return bytes.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// GTFS Time `HH:MM:SS` (or `H:MM:SS`) from 00:00:00 to 24:00:00, as seconds after midnight.
    static func seconds(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, (1...2).contains(parts[0].count), parts[1].count == 2, parts[2].count == 2,
              let h = digits(String(parts[0])), let m = digits(String(parts[1])), let s = digits(String(parts[2])),
              m < 60, s < 60 else { return nil }
        let total = h * 3600 + m * 60 + s
        return total <= 86_400 ? total : nil
    }

    /// GTFS Date `YYYYMMDD`.
    static func date(_ text: String) -> CivilDate? {
        guard text.utf8.count == 8, let number = digits(text) else { return nil }
        return CivilDate(year: number / 10_000, month: number / 100 % 100, day: number % 100)
    }

    /// Parses a decimal amount into fen with string arithmetic: `123`, `0.5`, `12.30`.
    /// Returns the reason when it is refused.
    static func fen(_ text: String) -> Result<Int64, AmountProblem> {
        var bytes = Array(text.utf8)
        if bytes.first == UInt8(ascii: "-") {
            bytes.removeFirst()
            if !bytes.isEmpty && bytes.allSatisfy({ (0x30...0x39).contains($0) || $0 == UInt8(ascii: ".") }) { return .failure(.negative) }
            return .failure(.syntax)
        }
        let pieces = bytes.split(separator: UInt8(ascii: "."), maxSplits: 2, omittingEmptySubsequences: false)
        guard pieces.count <= 2, let whole = pieces.first, !whole.isEmpty,
              pieces.allSatisfy({ $0.allSatisfy { (0x30...0x39).contains($0) } }) else { return .failure(.syntax) }
        let fraction = pieces.count == 2 ? Array(pieces[1]) : []
        guard pieces.count == 1 || !fraction.isEmpty else { return .failure(.syntax) }
        guard fraction.count <= 2 else { return .failure(.decimals) }
        let significant = whole.drop(while: { $0 == 0x30 })
        guard significant.count <= 6 else { return .failure(.tooLarge) }
        var fen: Int64 = 0
        for digit in significant { fen = fen * 10 + Int64(digit - 0x30) }
        fen *= 100
        if fraction.count >= 1 { fen += Int64(fraction[0] - 0x30) * 10 }
        if fraction.count == 2 { fen += Int64(fraction[1] - 0x30) }
        guard fen <= amountFenMax else { return .failure(.tooLarge) }
        return .success(fen)
    }

    enum AmountProblem: Error, Equatable {
        case syntax, negative, decimals, tooLarge
    }
}

// MARK: - Builder

private struct Builder {
    let files: [String: [UInt8]]
    var feed = FareFeed()

    // Names before translations are applied, and where routes took theirs from.
    var stopNames: [String: String] = [:]
    var routeNames: [String: (field: String?, name: String)] = [:]
    var networksFileIDs: Set<String> = []
    var hasNetworksFile = false
    var hasRoutesFile = false
    var hasStopsFile = false
    var hasAreasFile = false
    var hasTimeframesFile = false
    var hasCalendar = false
    var hasRiderCategoriesFile = false
    var hasFareMediaFile = false

    init(files: [String: [UInt8]]) {
        self.files = files
    }

    func table(_ name: String) throws -> GTFSTable? {
        guard let bytes = files[name] else { return nil }
        return GTFSTable(csv: try GTFSCSV(bytes, file: name))
    }

    func requiredTable(_ name: String) throws -> GTFSTable {
        guard let table = try table(name) else {
            throw DomainError.malformed("gtfs.missing_file", "\(name): required file is missing from the feed")
        }
        return table
    }

    mutating func build() throws -> FareFeed {
        // Both required files must be there before any other work.
        for name in GTFSFaresImport.requiredFiles where files[name] == nil {
            throw DomainError.malformed("gtfs.missing_file", "\(name): required file is missing from the feed")
        }
        try readNetworks()
        try readRoutes()
        try readRouteNetworks()
        try readStops()
        try readAreas()
        try readStopAreas()
        try readCalendar()
        try readCalendarDates()
        try readTimeframes()
        try readRiderCategories()
        try readFareMedia()
        try readFareProducts()
        let legRuleLines = try readLegRules()
        let transferRuleLines = try readTransferRules()
        try checkDefaultPrices(legRuleLines: legRuleLines, transferRuleLines: transferRuleLines)
        try applyNames()
        return feed
    }

    // MARK: Networks and routes

    mutating func readNetworks() throws {
        guard let table = try table("networks.txt") else { return }
        hasNetworksFile = true
        try table.csv.require("network_id")
        var lines: [String: Int] = [:]
        for row in table.rows {
            let id = try table.uniqueID(row, "network_id", seen: &lines)
            feed.networks[id] = try table.name(row, "network_name") ?? ""
        }
        networksFileIDs = Set(lines.keys)
    }

    /// First line of routes.txt that sets routes.network_id (nil when none does).
    var routesNetworkLine: Int?

    mutating func readRoutes() throws {
        guard let table = try table("routes.txt") else { return }
        hasRoutesFile = true
        try table.csv.require("route_id")
        var lines: [String: Int] = [:]
        for row in table.rows {
            let id = try table.uniqueID(row, "route_id", seen: &lines)
            let network = try table.id(row, "network_id")
            if let network {
                if routesNetworkLine == nil { routesNetworkLine = row.line }
                if feed.networks[network] == nil { feed.networks[network] = "" }
            }
            let long = try table.name(row, "route_long_name"), short = try table.name(row, "route_short_name")
            if let long {
                routeNames[id] = ("route_long_name", long)
            } else if let short {
                routeNames[id] = ("route_short_name", short)
            } else {
                routeNames[id] = (nil, id)
            }
            feed.routes[id] = FareFeed.Route(id: id, name: LocalizedName(en: id, zh: id), networkID: network)
        }
    }

    mutating func readRouteNetworks() throws {
        guard let table = try table("route_networks.txt") else { return }
        try table.csv.require("network_id", "route_id")
        var lines: [String: Int] = [:]
        for row in table.rows {
            if let routesLine = routesNetworkLine {
                throw table.error("gtfs.conflict", row, "network_id",
                                  "routes.txt already assigns networks (routes.network_id, line \(routesLine)); a feed may use only one of the two")
            }
            let network = try table.requiredID(row, "network_id")
            let route = try table.requiredID(row, "route_id")
            try table.reference(row, "network_id", network, exists: { networksFileIDs.contains($0) }, in: "networks.txt",
                                fileAbsent: !hasNetworksFile)
            if let first = lines[route] {
                throw table.error("gtfs.duplicate", row, "route_id", "\(shown(route)) already appears on line \(first)")
            }
            lines[route] = row.line
            if hasRoutesFile {
                try table.reference(row, "route_id", route, exists: { feed.routes[$0] != nil }, in: "routes.txt", fileAbsent: false)
                feed.routes[route]?.networkID = network
            } else {
                routeNames[route] = (nil, route)
                feed.routes[route] = FareFeed.Route(id: route, name: LocalizedName(en: route, zh: route), networkID: network)
            }
        }
    }

    // MARK: Stops and areas

    mutating func readStops() throws {
        guard let table = try table("stops.txt") else { return }
        hasStopsFile = true
        try table.csv.require("stop_id")
        var lines: [String: Int] = [:]
        var parents: [(row: GTFSCSV.Row, stop: String, parent: String)] = []
        for row in table.rows {
            let id = try table.uniqueID(row, "stop_id", seen: &lines)
            let parent = try table.id(row, "parent_station")
            if let parent { parents.append((row, id, parent)) }
            stopNames[id] = try table.name(row, "stop_name") ?? id
            feed.stops[id] = FareFeed.Stop(id: id, name: LocalizedName(en: id, zh: id), parentStation: parent)
        }
        for (row, stop, parent) in parents {
            guard parent != stop else {
                throw table.error("gtfs.invalid_value", row, "parent_station", "\(shown(parent)) is the stop itself")
            }
            try table.reference(row, "parent_station", parent, exists: { lines[$0] != nil }, in: "stops.txt", fileAbsent: false)
        }
    }

    mutating func readAreas() throws {
        guard let table = try table("areas.txt") else { return }
        hasAreasFile = true
        try table.csv.require("area_id")
        var lines: [String: Int] = [:]
        for row in table.rows {
            let id = try table.uniqueID(row, "area_id", seen: &lines)
            feed.areas[id] = try table.name(row, "area_name") ?? ""
        }
    }

    mutating func readStopAreas() throws {
        guard let table = try table("stop_areas.txt") else { return }
        try table.csv.require("area_id", "stop_id")
        var lines: [String: Int] = [:]
        for row in table.rows {
            let area = try table.requiredID(row, "area_id")
            let stop = try table.requiredID(row, "stop_id")
            try table.reference(row, "area_id", area, exists: { feed.areas[$0] != nil }, in: "areas.txt", fileAbsent: !hasAreasFile)
            if hasStopsFile {
                try table.reference(row, "stop_id", stop, exists: { feed.stops[$0] != nil }, in: "stops.txt", fileAbsent: false)
            }
            let key = area + "\u{0}" + stop
            if let first = lines[key] {
                throw table.error("gtfs.duplicate", row, "stop_id", "stop \(shown(stop)) is already in area \(shown(area)) on line \(first)")
            }
            lines[key] = row.line
            feed.stopAreas[stop, default: []].insert(area)
        }
    }

    // MARK: Services and timeframes

    static let weekdayColumns = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    mutating func readCalendar() throws {
        guard let table = try table("calendar.txt") else { return }
        hasCalendar = true
        try table.csv.require("service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
                              "start_date", "end_date")
        var lines: [String: Int] = [:]
        for row in table.rows {
            let id = try table.uniqueID(row, "service_id", seen: &lines)
            var weekdays: [Bool] = []
            for column in Builder.weekdayColumns {
                weekdays.append(try table.requiredChoice(row, column, 0...1) == 1)
            }
            let start = try date(table, row, "start_date")
            let end = try date(table, row, "end_date")
            guard start <= end else {
                throw table.error("gtfs.invalid_value", row, "end_date",
                                  "\(shown(table.value(row, "end_date"))) is before start_date \(shown(table.value(row, "start_date")))")
            }
            feed.services[id] = FareFeed.Service(weekdays: weekdays, startDate: start, endDate: end)
        }
    }

    func date(_ table: GTFSTable, _ row: GTFSCSV.Row, _ field: String) throws -> CivilDate {
        let text = try table.required(row, field)
        guard let date = GTFSFaresImport.date(text) else {
            throw table.error("gtfs.invalid_value", row, field, "\(shown(text)) is not a date as YYYYMMDD")
        }
        return date
    }

    mutating func readCalendarDates() throws {
        guard let table = try table("calendar_dates.txt") else { return }
        hasCalendar = true
        try table.csv.require("service_id", "date", "exception_type")
        var lines: [String: Int] = [:]
        for row in table.rows {
            let id = try table.requiredID(row, "service_id")
            let day = try date(table, row, "date")
            let type = try table.requiredChoice(row, "exception_type", 1...2)
            let key = id + "\u{0}" + day.description
            if let first = lines[key] {
                throw table.error("gtfs.duplicate", row, "date", "service \(shown(id)) already has \(day) on line \(first)")
            }
            lines[key] = row.line
            var service = feed.services[id] ?? FareFeed.Service()
            if type == 1 { service.added.insert(day) } else { service.removed.insert(day) }
            feed.services[id] = service
        }
    }

    mutating func readTimeframes() throws {
        guard let table = try table("timeframes.txt") else { return }
        hasTimeframesFile = true
        try table.csv.require("timeframe_group_id", "service_id")
        var seen: [String: [(line: Int, start: Int, end: Int)]] = [:]
        for row in table.rows {
            let group = try table.requiredID(row, "timeframe_group_id")
            let startText = table.text(row, "start_time"), endText = table.text(row, "end_time")
            var start = 0, end = 86_400
            switch (startText, endText) {
            case (nil, nil):
                break
            case (.some, nil):
                throw table.error("gtfs.missing_value", row, "end_time", "required when start_time is given")
            case (nil, .some):
                throw table.error("gtfs.missing_value", row, "start_time", "required when end_time is given")
            case let (.some(s), .some(e)):
                guard let startSeconds = GTFSFaresImport.seconds(s) else {
                    throw table.error("gtfs.invalid_value", row, "start_time", "\(shown(s)) is not a time from 00:00:00 to 24:00:00")
                }
                guard let endSeconds = GTFSFaresImport.seconds(e) else {
                    throw table.error("gtfs.invalid_value", row, "end_time", "\(shown(e)) is not a time from 00:00:00 to 24:00:00")
                }
                guard endSeconds > startSeconds else {
                    throw table.error("gtfs.invalid_value", row, "end_time", "\(shown(e)) is not after start_time \(shown(s))")
                }
                start = startSeconds
                end = endSeconds
            }
            let service = try table.requiredID(row, "service_id")
            try table.reference(row, "service_id", service, exists: { feed.services[$0] != nil },
                                in: "calendar.txt or calendar_dates.txt", fileAbsent: !hasCalendar)
            let key = group + "\u{0}" + service
            if let other = seen[key, default: []].first(where: { $0.start < end && start < $0.end }) {
                throw table.error("gtfs.conflict", row, "start_time",
                                  "overlaps line \(other.line) of timeframe group \(shown(group)) on service \(shown(service))")
            }
            seen[key, default: []].append((row.line, start, end))
            feed.timeframes[group, default: []].append(FareFeed.Timeframe(startSeconds: start, endSeconds: end, serviceID: service))
        }
    }

    // MARK: Rider categories, fare media, fare products

    mutating func readRiderCategories() throws {
        guard let table = try table("rider_categories.txt") else { return }
        hasRiderCategoriesFile = true
        try table.csv.require("rider_category_id", "rider_category_name")
        var lines: [String: Int] = [:]
        var defaultLine: Int?
        for row in table.rows {
            let id = try table.uniqueID(row, "rider_category_id", seen: &lines)
            guard let name = try table.name(row, "rider_category_name") else {
                throw table.error("gtfs.missing_value", row, "rider_category_name", "a value is required")
            }
            let isDefault = try table.choice(row, "is_default_fare_category", 0...1) == 1
            if isDefault {
                if let first = defaultLine {
                    throw table.error("gtfs.conflict", row, "is_default_fare_category",
                                      "line \(first) already marks the default category; at most one is allowed")
                }
                defaultLine = row.line
            }
            feed.riderCategories[id] = FareFeed.RiderCategory(id: id, name: name, isDefault: isDefault)
        }
    }

    mutating func readFareMedia() throws {
        guard let table = try table("fare_media.txt") else { return }
        hasFareMediaFile = true
        try table.csv.require("fare_media_id", "fare_media_type")
        var lines: [String: Int] = [:]
        for row in table.rows {
            let id = try table.uniqueID(row, "fare_media_id", seen: &lines)
            let type = try table.requiredChoice(row, "fare_media_type", 0...4)
            feed.fareMedia[id] = FareFeed.FareMedium(id: id, name: try table.name(row, "fare_media_name"), type: type)
        }
    }

    mutating func readFareProducts() throws {
        let table = try requiredTable("fare_products.txt")
        try table.csv.require("fare_product_id", "amount", "currency")
        var lines: [String: Int] = [:]
        for row in table.rows {
            let id = try table.requiredID(row, "fare_product_id")
            let category = try table.id(row, "rider_category_id")
            let medium = try table.id(row, "fare_media_id")
            try table.reference(row, "rider_category_id", category, exists: { feed.riderCategories[$0] != nil },
                                in: "rider_categories.txt", fileAbsent: !hasRiderCategoriesFile)
            try table.reference(row, "fare_media_id", medium, exists: { feed.fareMedia[$0] != nil },
                                in: "fare_media.txt", fileAbsent: !hasFareMediaFile)
            let amountText = try table.required(row, "amount")
            let amount: Int64
            switch GTFSFaresImport.fen(amountText) {
            case .success(let fen):
                amount = fen
            case .failure(let problem):
                let reason = switch problem {
                case .syntax: "is not a decimal amount such as 2 or 3.50"
                case .negative: "is negative; amounts must be 0 or more"
                case .decimals: "has more than 2 decimals"
                case .tooLarge: "is more than 100000.00"
                }
                throw table.error("gtfs.amount_invalid", row, "amount", "\(shown(amountText)) \(reason)")
            }
            let currency = try table.required(row, "currency")
            guard currency == GTFSFaresImport.currency else {
                throw table.error("gtfs.currency_unsupported", row, "currency",
                                  "\(shown(currency)) is not accepted; amounts must be in \(GTFSFaresImport.currency)")
            }
            let key = [id, category ?? "", medium ?? ""].joined(separator: "\u{0}")
            if let first = lines[key] {
                throw table.error("gtfs.duplicate", row, "fare_product_id",
                                  "\(shown(id)) with the same rider_category_id and fare_media_id already appears on line \(first)")
            }
            lines[key] = row.line
            feed.fareProducts.append(FareFeed.FareProduct(id: id, name: try table.name(row, "fare_product_name"), riderCategoryID: category,
                                                          fareMediaID: medium, amountFen: amount))
        }
    }

    // MARK: Rules

    /// Reads fare_leg_rules.txt; returns, per fare product, the first line that uses it.
    mutating func readLegRules() throws -> (table: GTFSTable, lines: [String: GTFSCSV.Row]) {
        let table = try requiredTable("fare_leg_rules.txt")
        try table.csv.require("fare_product_id")
        feed.legRulesHavePriority = table.has("rule_priority")
        let products = Set(feed.fareProducts.map(\.id))
        var firstUse: [String: GTFSCSV.Row] = [:]
        var lines: [String: Int] = [:]
        for row in table.rows {
            let group = try table.id(row, "leg_group_id")
            let network = try table.id(row, "network_id")
            let fromArea = try table.id(row, "from_area_id"), toArea = try table.id(row, "to_area_id")
            let fromTimeframe = try table.id(row, "from_timeframe_group_id"), toTimeframe = try table.id(row, "to_timeframe_group_id")
            let product = try table.requiredID(row, "fare_product_id")
            let priority = try table.count(row, "rule_priority")
            try table.reference(row, "network_id", network, exists: { feed.networks[$0] != nil },
                                in: "networks.txt or routes.network_id", fileAbsent: false)
            for (field, area) in [("from_area_id", fromArea), ("to_area_id", toArea)] {
                try table.reference(row, field, area, exists: { feed.areas[$0] != nil }, in: "areas.txt", fileAbsent: !hasAreasFile)
            }
            for (field, timeframe) in [("from_timeframe_group_id", fromTimeframe), ("to_timeframe_group_id", toTimeframe)] {
                try table.reference(row, field, timeframe, exists: { feed.timeframes[$0] != nil }, in: "timeframes.txt",
                                    fileAbsent: !hasTimeframesFile)
            }
            try table.reference(row, "fare_product_id", product, exists: { products.contains($0) }, in: "fare_products.txt", fileAbsent: false)
            let key = [network, fromArea, toArea, fromTimeframe, toTimeframe, product].map { $0 ?? "" }.joined(separator: "\u{0}")
            if let first = lines[key] {
                throw table.error("gtfs.duplicate", row, "fare_product_id",
                                  "line \(first) has the same network, areas, timeframes and fare product")
            }
            lines[key] = row.line
            if firstUse[product] == nil { firstUse[product] = row }
            feed.legRules.append(FareFeed.LegRule(legGroupID: group, networkID: network, fromAreaID: fromArea, toAreaID: toArea,
                                                  fromTimeframeGroupID: fromTimeframe, toTimeframeGroupID: toTimeframe,
                                                  fareProductID: product, rulePriority: priority))
        }
        return (table, firstUse)
    }

    mutating func readTransferRules() throws -> (table: GTFSTable, lines: [String: GTFSCSV.Row])? {
        guard let table = try table("fare_transfer_rules.txt") else { return nil }
        try table.csv.require("fare_transfer_type")
        let products = Set(feed.fareProducts.map(\.id))
        let legGroups = Set(feed.legRules.compactMap(\.legGroupID))
        var firstUse: [String: GTFSCSV.Row] = [:]
        var lines: [String: Int] = [:]
        for row in table.rows {
            let from = try table.id(row, "from_leg_group_id"), to = try table.id(row, "to_leg_group_id")
            for (field, group) in [("from_leg_group_id", from), ("to_leg_group_id", to)] {
                try table.reference(row, field, group, exists: { legGroups.contains($0) }, in: "fare_leg_rules.txt (as a leg_group_id)",
                                    fileAbsent: false)
            }
            var transferCount: Int?
            if let text = table.text(row, "transfer_count") {
                guard from == to else {
                    throw table.error("gtfs.invalid_value", row, "transfer_count", "must be empty when from_leg_group_id differs from to_leg_group_id")
                }
                guard text == "-1" || (GTFSFaresImport.digits(text) ?? 0) >= 1 else {
                    throw table.error("gtfs.invalid_value", row, "transfer_count", "\(shown(text)) is not -1 or an integer of 1 or more")
                }
                transferCount = text == "-1" ? -1 : GTFSFaresImport.digits(text)
            } else if from == to, from != nil {
                throw table.error("gtfs.missing_value", row, "transfer_count", "required when from_leg_group_id equals to_leg_group_id")
            }
            let duration = try table.count(row, "duration_limit")
            if let duration, duration < 1 {
                throw table.error("gtfs.invalid_value", row, "duration_limit", "must be a positive number of seconds")
            }
            let durationType = try table.choice(row, "duration_limit_type", 0...3)
            if duration != nil && durationType == nil {
                throw table.error("gtfs.missing_value", row, "duration_limit_type", "required when duration_limit is given")
            }
            if duration == nil && durationType != nil {
                throw table.error("gtfs.invalid_value", row, "duration_limit_type", "must be empty when duration_limit is empty")
            }
            let transferType = try table.requiredChoice(row, "fare_transfer_type", 0...2)
            let product = try table.id(row, "fare_product_id")
            try table.reference(row, "fare_product_id", product, exists: { products.contains($0) }, in: "fare_products.txt", fileAbsent: false)
            let key = [from, to, product, transferCount.map(String.init), duration.map(String.init)].map { $0 ?? "" }.joined(separator: "\u{0}")
            if let first = lines[key] {
                throw table.error("gtfs.duplicate", row, "from_leg_group_id",
                                  "line \(first) has the same leg groups, fare product, transfer_count and duration_limit")
            }
            lines[key] = row.line
            if let product, firstUse[product] == nil { firstUse[product] = row }
            feed.transferRules.append(FareFeed.TransferRule(fromLegGroupID: from, toLegGroupID: to, transferCount: transferCount,
                                                            durationLimitSeconds: duration, durationLimitType: durationType,
                                                            fareTransferType: transferType, fareProductID: product))
        }
        return (table, firstUse)
    }

    /// Every product a rule charges must have a row the default rider can pay.
    func checkDefaultPrices(legRuleLines: (table: GTFSTable, lines: [String: GTFSCSV.Row]),
                            transferRuleLines: (table: GTFSTable, lines: [String: GTFSCSV.Row])?) throws {
        let defaultCategory = feed.riderCategories.values.first(where: \.isDefault)?.id
        let priced = Set(feed.fareProducts.filter { $0.riderCategoryID == nil || $0.riderCategoryID == defaultCategory }.map(\.id))
        let who = defaultCategory.map { "the default rider category \(shown($0))" } ?? "riders without a category (the feed has no default rider category)"
        let needs = defaultCategory.map { "an empty rider_category_id or \(shown($0))" } ?? "an empty rider_category_id"
        for uses in [legRuleLines] + (transferRuleLines.map { [$0] } ?? []) {
            for (product, row) in uses.lines.sorted(by: { $0.value.line < $1.value.line }) where !priced.contains(product) {
                throw uses.table.error("gtfs.no_default_price", row, "fare_product_id",
                                       "fare product \(shown(product)) has no price for \(who): fare_products.txt needs a row with \(needs)")
            }
        }
    }

    // MARK: Names and translations

    mutating func applyNames() throws {
        var translated: [String: String] = [:] // "table \0 field \0 record \0 en|zh" → text
        if let table = try table("translations.txt") {
            try table.csv.require("table_name", "field_name", "language", "translation")
            for row in table.rows {
                let tableName = try table.required(row, "table_name")
                let field = try table.required(row, "field_name")
                let language = try table.required(row, "language").lowercased()
                // Only record_id-keyed names of stops and routes are used; other rows are not checked further.
                guard (tableName == "stops" && field == "stop_name")
                        || (tableName == "routes" && (field == "route_long_name" || field == "route_short_name")),
                      let record = table.text(row, "record_id"), let text = try table.name(row, "translation") else { continue }
                let slot: String
                if language == "en" || language.hasPrefix("en-") || language.hasPrefix("en_") {
                    slot = "en"
                } else if language == "zh" || language.hasPrefix("zh-") || language.hasPrefix("zh_") {
                    slot = "zh"
                } else {
                    continue
                }
                let key = [tableName, field, record, slot].joined(separator: "\u{0}")
                if translated[key] == nil { translated[key] = text }
            }
        }
        func lookup(_ table: String, _ field: String?, _ record: String, _ slot: String) -> String? {
            guard let field else { return nil }
            return translated[[table, field, record, slot].joined(separator: "\u{0}")]
        }
        for (id, name) in stopNames {
            feed.stops[id]?.name = LocalizedName(en: lookup("stops", "stop_name", id, "en") ?? name,
                                                 zh: lookup("stops", "stop_name", id, "zh") ?? name)
        }
        for (id, source) in routeNames {
            feed.routes[id]?.name = LocalizedName(en: lookup("routes", source.field, id, "en") ?? source.name,
                                                  zh: lookup("routes", source.field, id, "zh") ?? source.name)
        }
    }
}
