import Foundation
import Testing
@testable import JoinInCore

// Tests for the GTFS-Fares v2 importer (`GTFSFaresImport`), its CSV reader (`GTFSCSV`) and its ZIP
// reader (`ZipArchive`). Every expected value is written by hand; zip archives are built by the
// small writer below or, for DEFLATE entries, come from Python's zipfile (fixture at the end).

// MARK: - Test support

/// A feed as file name → lines (without line ends); `bytes` joins them with LF.
private struct GTFSTestFeed {
    var files: [String: [String]]

    var bytes: [String: [UInt8]] { files.mapValues { Array(($0.joined(separator: "\n") + "\n").utf8) } }

    /// Appends a data row to `file` and returns its line number.
    mutating func add(_ file: String, _ row: String) -> Int {
        files[file, default: []].append(row)
        return files[file, default: []].count
    }

    /// Replaces line `line` (1-based) of `file`.
    mutating func set(_ file: String, line: Int, _ row: String) {
        files[file, default: []][line - 1] = row
    }

    func read() throws -> FareFeed { try GTFSFaresImport.read(files: bytes) }
}

/// Expects `body` to throw a malformed `DomainError` with `code` whose detail starts with
/// "`file` line `line`, field `field`:" (file and line only when `field` is nil).
private func expectGTFSError(_ code: String, file: String, line: Int?, field: String?, mentioning fragments: [String] = [],
                             sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected DomainError \(code), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as DomainError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(error.kind == .malformed, "\(error)", sourceLocation: sourceLocation)
        var prefix = file
        if let line { prefix += " line \(line)" }
        if let field { prefix += ", field \(field)" }
        prefix += ":"
        #expect(error.detail.hasPrefix(prefix), "detail '\(error.detail)' should start with '\(prefix)'", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(error.detail.contains(fragment), "detail '\(error.detail)' should mention '\(fragment)'", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected DomainError \(code), got \(error)", sourceLocation: sourceLocation)
    }
}

/// Expects a `gtfs.zip_invalid` error mentioning `fragment`.
private func expectZipError(_ fragment: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected gtfs.zip_invalid, but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as DomainError {
        #expect(error.code == "gtfs.zip_invalid", "\(error)", sourceLocation: sourceLocation)
        #expect(error.kind == .malformed, "\(error)", sourceLocation: sourceLocation)
        #expect(error.detail.contains(fragment), "detail '\(error.detail)' should mention '\(fragment)'", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected gtfs.zip_invalid, got \(error)", sourceLocation: sourceLocation)
    }
}

/// A minimal ZIP writer: local headers, central directory, end record. Sizes and CRC can be
/// overridden to build broken archives.
private struct TestZipEntry {
    var name: String
    var data: [UInt8]               // the bytes written after the local header
    var method: UInt16 = 0
    var crc: UInt32? = nil          // default: CRC-32 of `data` (right for stored entries)
    var uncompressedSize: Int? = nil // default: data.count
    var flags: UInt16 = 0
}

private func testZip(_ entries: [TestZipEntry]) -> [UInt8] {
    func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] }
    func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24 & 0xFF)] }
    var out: [UInt8] = []
    var central: [UInt8] = []
    for entry in entries {
        let name = Array(entry.name.utf8)
        let crc = entry.crc ?? ZipArchive.crc32(entry.data)
        let size = UInt32(entry.uncompressedSize ?? entry.data.count)
        let offset = UInt32(out.count)
        let common = le16(20) + le16(Int(entry.flags)) + le16(Int(entry.method)) + le16(0) + le16(0x5A21)
            + le32(crc) + le32(UInt32(entry.data.count)) + le32(size) + le16(name.count) + le16(0)
        out += le32(0x0403_4B50) + common + name + entry.data
        central += le32(0x0201_4B50) + le16(0x031E) + common + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + name
    }
    let directoryOffset = UInt32(out.count)
    out += central
    out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(entries.count) + le16(entries.count)
        + le32(UInt32(central.count)) + le32(directoryOffset) + le16(0)
    return out
}

/// Raw DEFLATE data (no zlib header/trailer) from `Zlib.compress`.
private func rawDeflate(_ bytes: [UInt8]) -> [UInt8] {
    let zlib = Zlib.compress(bytes)
    return Array(zlib[2..<(zlib.count - 4)])
}

// MARK: - The reference feed

/// A complete small feed: a metro and a bus network, zones, stations with platforms and en/zh
/// names, peak/off-peak timeframes, rider categories with a default, fare media, products, leg
/// rules with rule_priority and transfer rules. trips.txt is junk: it must not be read at all.
private func referenceFeed() -> GTFSTestFeed {
    GTFSTestFeed(files: [
        "networks.txt": [
            "network_id,network_name",
            "metro,Metro",
            "bus,Bus",
        ],
        "routes.txt": [
            "route_id,agency_id,route_short_name,route_long_name,route_type",
            "L1,a,1,地铁1号线,1",
            "B5,a,5路,,3",
            "X9,a,,,3",
        ],
        "route_networks.txt": [
            "network_id,route_id",
            "metro,L1",
            "bus,B5",
        ],
        "stops.txt": [
            "stop_id,stop_code,stop_name,stop_lat,stop_lon,location_type,parent_station",
            "S1,,人民广场,31.23,121.47,1,",
            "S1-P1,,人民广场,31.23,121.47,0,S1",
            "S2,,\"Xujiahui, \"\"West\"\"\",31.19,121.43,1,",
            "N1,,,,,3,",
        ],
        "areas.txt": [
            "area_id,area_name",
            "zone1,Zone 1",
            "zone2,",
        ],
        "stop_areas.txt": [
            "area_id,stop_id",
            "zone1,S1",
            "zone2,S2",
            "zone1,N1",
            "zone2,N1",
        ],
        "calendar.txt": [
            "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date",
            "weekday,1,1,1,1,1,0,0,20250101,20251231",
            "weekend,0,0,0,0,0,1,1,20250101,20251231",
        ],
        "calendar_dates.txt": [
            "service_id,date,exception_type",
            "weekday,20251001,2",
            "holiday,20251001,1",
            "weekend,20251001,1",
        ],
        "timeframes.txt": [
            "timeframe_group_id,start_time,end_time,service_id",
            "peak,7:00:00,09:00:00,weekday",
            "peak,17:00:00,19:00:00,weekday",
            "offpeak,,,weekend",
            "offpeak,00:00:00,07:00:00,weekday",
            "offpeak,09:00:00,17:00:00,weekday",
            "offpeak,19:00:00,24:00:00,weekday",
            "holiday,,,holiday",
        ],
        "rider_categories.txt": [
            "rider_category_id,rider_category_name,is_default_fare_category,eligibility_url",
            "adult,Adult,1,",
            "student,Student,0,https://example.com/student",
            "senior,Senior,,",
        ],
        "fare_media.txt": [
            "fare_media_id,fare_media_name,fare_media_type",
            "card,Transport card,2",
            "qr,,4",
            "cash,Cash,0",
        ],
        "fare_products.txt": [
            "fare_product_id,fare_product_name,rider_category_id,fare_media_id,amount,currency",
            "metro_short,Metro short,,,3,CNY",
            "metro_short,Metro short,student,,1.5,CNY",
            "metro_long,Metro long,adult,card,5.00,CNY",
            "metro_long,Metro long,adult,qr,5.00,CNY",
            "bus_flat,,,cash,2,CNY",
            "bus_flat,,,,0.05,CNY",
            "transfer_discount,Transfer, , , 0 ,CNY",
            "peak_extra,,,,001.00,CNY",
        ],
        "fare_leg_rules.txt": [
            "leg_group_id,network_id,from_area_id,to_area_id,from_timeframe_group_id,to_timeframe_group_id,fare_product_id,rule_priority",
            "metro_leg,metro,zone1,zone1,,,metro_short,1",
            "metro_leg,metro,zone1,zone2,,,metro_long,",
            "bus_leg,bus,,,,,bus_flat,0",
            ",metro,,,peak,offpeak,peak_extra,2",
        ],
        "fare_transfer_rules.txt": [
            "from_leg_group_id,to_leg_group_id,transfer_count,duration_limit,duration_limit_type,fare_transfer_type,fare_product_id",
            "metro_leg,bus_leg,,5400,1,0,transfer_discount",
            "bus_leg,bus_leg,-1,3600,0,1,",
            "bus_leg,bus_leg,2,,,2,",
            "metro_leg,metro_leg,1,7200,3,1,",
            ",,,,,2,",
        ],
        "translations.txt": [
            "table_name,field_name,language,translation,record_id,record_sub_id,field_value",
            "stops,stop_name,en,People's Square,S1,,",
            "stops,stop_name,fr,Place du Peuple,S1,,",
            "stops,stop_name,zh-Hans,徐家汇,S2,,",
            "stops,stop_name,en,Ignored (keyed by value),,,人民广场",
            "routes,route_long_name,EN,Line 1,L1,,",
            "routes,route_short_name,en,Line 1 short (not the name field),L1,,",
            "routes,route_short_name,en,Bus 5,B5,,",
            "agency,agency_name,en,Metro Co,a,,",
            "stops,stop_name,en,Node One,N1,,",
        ],
        "trips.txt": [
            "this is not \"csv at all",
        ],
    ])
}

private func gtfsDate(_ text: String) throws -> CivilDate { try #require(CivilDate(text)) }

/// The `FareFeed` `referenceFeed()` describes, written out by hand.
private func referenceExpected() throws -> FareFeed {
    let weekdays = [true, true, true, true, true, false, false]
    let weekend = [false, false, false, false, false, true, true]
    let oct1 = try gtfsDate("2025-10-01")
    return FareFeed(
        networks: ["metro": "Metro", "bus": "Bus"],
        areas: ["zone1": "Zone 1", "zone2": ""],
        stops: [
            "S1": .init(id: "S1", name: LocalizedName(en: "People's Square", zh: "人民广场")),
            "S1-P1": .init(id: "S1-P1", name: LocalizedName(en: "人民广场", zh: "人民广场"), parentStation: "S1"),
            "S2": .init(id: "S2", name: LocalizedName(en: "Xujiahui, \"West\"", zh: "徐家汇")),
            "N1": .init(id: "N1", name: LocalizedName(en: "Node One", zh: "N1")),
        ],
        routes: [
            "L1": .init(id: "L1", name: LocalizedName(en: "Line 1", zh: "地铁1号线"), networkID: "metro"),
            "B5": .init(id: "B5", name: LocalizedName(en: "Bus 5", zh: "5路"), networkID: "bus"),
            "X9": .init(id: "X9", name: LocalizedName(en: "X9", zh: "X9"), networkID: nil),
        ],
        stopAreas: ["S1": ["zone1"], "S2": ["zone2"], "N1": ["zone1", "zone2"]],
        timeframes: [
            "peak": [
                .init(startSeconds: 7 * 3600, endSeconds: 9 * 3600, serviceID: "weekday"),
                .init(startSeconds: 17 * 3600, endSeconds: 19 * 3600, serviceID: "weekday"),
            ],
            "offpeak": [
                .init(startSeconds: 0, endSeconds: 86_400, serviceID: "weekend"),
                .init(startSeconds: 0, endSeconds: 7 * 3600, serviceID: "weekday"),
                .init(startSeconds: 9 * 3600, endSeconds: 17 * 3600, serviceID: "weekday"),
                .init(startSeconds: 19 * 3600, endSeconds: 86_400, serviceID: "weekday"),
            ],
            "holiday": [.init(startSeconds: 0, endSeconds: 86_400, serviceID: "holiday")],
        ],
        services: [
            "weekday": .init(weekdays: weekdays, startDate: try gtfsDate("2025-01-01"), endDate: try gtfsDate("2025-12-31"), removed: [oct1]),
            "weekend": .init(weekdays: weekend, startDate: try gtfsDate("2025-01-01"), endDate: try gtfsDate("2025-12-31"), added: [oct1]),
            "holiday": .init(added: [oct1]),
        ],
        riderCategories: [
            "adult": .init(id: "adult", name: "Adult", isDefault: true),
            "student": .init(id: "student", name: "Student", isDefault: false),
            "senior": .init(id: "senior", name: "Senior", isDefault: false),
        ],
        fareMedia: [
            "card": .init(id: "card", name: "Transport card", type: 2),
            "qr": .init(id: "qr", name: nil, type: 4),
            "cash": .init(id: "cash", name: "Cash", type: 0),
        ],
        fareProducts: [
            .init(id: "metro_short", name: "Metro short", riderCategoryID: nil, fareMediaID: nil, amountFen: 300),
            .init(id: "metro_short", name: "Metro short", riderCategoryID: "student", fareMediaID: nil, amountFen: 150),
            .init(id: "metro_long", name: "Metro long", riderCategoryID: "adult", fareMediaID: "card", amountFen: 500),
            .init(id: "metro_long", name: "Metro long", riderCategoryID: "adult", fareMediaID: "qr", amountFen: 500),
            .init(id: "bus_flat", name: nil, riderCategoryID: nil, fareMediaID: "cash", amountFen: 200),
            .init(id: "bus_flat", name: nil, riderCategoryID: nil, fareMediaID: nil, amountFen: 5),
            .init(id: "transfer_discount", name: "Transfer", riderCategoryID: nil, fareMediaID: nil, amountFen: 0),
            .init(id: "peak_extra", name: nil, riderCategoryID: nil, fareMediaID: nil, amountFen: 100),
        ],
        legRules: [
            .init(legGroupID: "metro_leg", networkID: "metro", fromAreaID: "zone1", toAreaID: "zone1", fareProductID: "metro_short", rulePriority: 1),
            .init(legGroupID: "metro_leg", networkID: "metro", fromAreaID: "zone1", toAreaID: "zone2", fareProductID: "metro_long", rulePriority: nil),
            .init(legGroupID: "bus_leg", networkID: "bus", fareProductID: "bus_flat", rulePriority: 0),
            .init(networkID: "metro", fromTimeframeGroupID: "peak", toTimeframeGroupID: "offpeak", fareProductID: "peak_extra", rulePriority: 2),
        ],
        transferRules: [
            .init(fromLegGroupID: "metro_leg", toLegGroupID: "bus_leg", transferCount: nil, durationLimitSeconds: 5400, durationLimitType: 1,
                  fareTransferType: 0, fareProductID: "transfer_discount"),
            .init(fromLegGroupID: "bus_leg", toLegGroupID: "bus_leg", transferCount: -1, durationLimitSeconds: 3600, durationLimitType: 0,
                  fareTransferType: 1),
            .init(fromLegGroupID: "bus_leg", toLegGroupID: "bus_leg", transferCount: 2, fareTransferType: 2),
            .init(fromLegGroupID: "metro_leg", toLegGroupID: "metro_leg", transferCount: 1, durationLimitSeconds: 7200, durationLimitType: 3,
                  fareTransferType: 1),
            .init(fareTransferType: 2),
        ],
        legRulesHavePriority: true
    )
}

// MARK: - Valid feeds

@Suite struct GTFSFaresImportTests {
    @Test func referenceFeedParsesToTheExpectedFareFeed() throws {
        let feed = try referenceFeed().read()
        let expected = try referenceExpected()
        #expect(feed.networks == expected.networks)
        #expect(feed.areas == expected.areas)
        #expect(feed.stops == expected.stops)
        #expect(feed.routes == expected.routes)
        #expect(feed.stopAreas == expected.stopAreas)
        #expect(feed.timeframes == expected.timeframes)
        #expect(feed.services == expected.services)
        #expect(feed.riderCategories == expected.riderCategories)
        #expect(feed.fareMedia == expected.fareMedia)
        #expect(feed.fareProducts == expected.fareProducts)
        #expect(feed.legRules == expected.legRules)
        #expect(feed.transferRules == expected.transferRules)
        #expect(feed.legRulesHavePriority)
        #expect(feed == expected)
        #expect(feed.defaultRiderCategoryID == "adult")
    }

    @Test func crlfBomAndQuotedLineBreaksAreRead() throws {
        var feed = referenceFeed()
        var files = feed.bytes
        // stops.txt with a BOM, CRLF line ends, blank lines and a quoted name spanning two lines.
        let stops = "\u{FEFF}stop_id,stop_name,parent_station\r\n\r\nS1,\"  人民\r\n广场 \",\r\n  S1-P1 , 人民广场 ,S1\r\nS2,x,\r\nN1,,\r\n\r\n"
        files["stops.txt"] = Array(stops.utf8)
        feed.files["stops.txt"] = nil
        let read = try GTFSFaresImport.read(files: files)
        #expect(read.stops["S1"] == .init(id: "S1", name: LocalizedName(en: "People's Square", zh: "人民\r\n广场")))
        #expect(read.stops["S1-P1"] == .init(id: "S1-P1", name: LocalizedName(en: "人民广场", zh: "人民广场"), parentStation: "S1"))
        #expect(read.stops.count == 4)
    }

    @Test func minimalFeedWithoutPriorityOrCategories() throws {
        let feed = GTFSTestFeed(files: [
            "fare_products.txt": ["fare_product_id,amount,currency", "flat,2,CNY"],
            "fare_leg_rules.txt": ["leg_group_id,fare_product_id", "all,flat"],
        ])
        let read = try feed.read()
        #expect(read == FareFeed(fareProducts: [.init(id: "flat", name: nil, riderCategoryID: nil, fareMediaID: nil, amountFen: 200)],
                                 legRules: [.init(legGroupID: "all", fareProductID: "flat")], legRulesHavePriority: false))
    }

    @Test func routesNetworkIDDefinesUnnamedNetworks() throws {
        let feed = GTFSTestFeed(files: [
            "routes.txt": ["route_id,route_short_name,network_id", "B1,1,citybus", "B2,2,"],
            "fare_products.txt": ["fare_product_id,amount,currency", "flat,1,CNY"],
            "fare_leg_rules.txt": ["network_id,fare_product_id", "citybus,flat"],
        ])
        let read = try feed.read()
        #expect(read.networks == ["citybus": ""])
        #expect(read.routes == ["B1": .init(id: "B1", name: LocalizedName(en: "1", zh: "1"), networkID: "citybus"),
                                "B2": .init(id: "B2", name: LocalizedName(en: "2", zh: "2"), networkID: nil)])
    }

    @Test func routeNetworksWithoutRoutesFileCreatesRoutes() throws {
        let feed = GTFSTestFeed(files: [
            "networks.txt": ["network_id", "metro"],
            "route_networks.txt": ["network_id,route_id", "metro,L2"],
            "fare_products.txt": ["fare_product_id,amount,currency", "flat,1,CNY"],
            "fare_leg_rules.txt": ["network_id,fare_product_id", "metro,flat"],
        ])
        let read = try feed.read()
        #expect(read.networks == ["metro": ""])
        #expect(read.routes == ["L2": .init(id: "L2", name: LocalizedName(en: "L2", zh: "L2"), networkID: "metro")])
    }

    @Test func defaultPriceWithoutDefaultCategoryNeedsAnEmptyCategoryRow() throws {
        var feed = referenceFeed()
        feed.files["rider_categories.txt"] = ["rider_category_id,rider_category_name", "adult,Adult", "student,Student", "senior,Senior"]
        // metro_long is priced only for 'adult', which is no longer the default.
        expectGTFSError("gtfs.no_default_price", file: "fare_leg_rules.txt", line: 3, field: "fare_product_id",
                        mentioning: ["'metro_long'"]) { _ = try feed.read() }
        feed.set("fare_products.txt", line: 4, "metro_long,Metro long,,card,5.00,CNY")
        #expect(try feed.read().fareProducts[2].riderCategoryID == nil)
    }

    @Test func amountsConvertToFenExactly() {
        let cases: [(String, Int64)] = [("0", 0), ("0.0", 0), ("0.01", 1), ("0.1", 10), ("1.99", 199), ("19.9", 1990),
                                        ("0100000", 10_000_000), ("100000.00", 10_000_000), ("99999.99", 9_999_999), ("7.", -1),
                                        (".5", -1), ("1.234", -1), ("-1", -1), ("+1", -1), ("1e2", -1), ("1,5", -1), ("100000.01", -1),
                                        ("1.2.3", -1), ("", -1), ("１", -1)]
        for (text, fen) in cases {
            let result = try? GTFSFaresImport.fen(text).get()
            #expect(result == (fen < 0 ? nil : fen), "\(text)")
        }
    }

    @Test func timesParse() {
        let cases: [(String, Int?)] = [("00:00:00", 0), ("7:05:09", 25_509), ("23:59:59", 86_399), ("24:00:00", 86_400),
                                       ("24:00:01", nil), ("25:00:00", nil), ("12:60:00", nil), ("12:00:60", nil), ("123:00:00", nil),
                                       ("12:0:00", nil), ("12:00", nil), ("-1:00:00", nil), ("", nil)]
        for (text, seconds) in cases {
            #expect(GTFSFaresImport.seconds(text) == seconds, "\(text)")
        }
    }

    // MARK: Files and columns

    @Test func missingRequiredFile() {
        var feed = referenceFeed()
        feed.files["fare_leg_rules.txt"] = nil
        expectGTFSError("gtfs.missing_file", file: "fare_leg_rules.txt", line: nil, field: nil) { _ = try feed.read() }
    }

    @Test func missingRequiredColumn() {
        var feed = referenceFeed()
        feed.set("fare_products.txt", line: 1, "fare_product_id,fare_product_name,rider_category_id,fare_media_id,price,currency")
        expectGTFSError("gtfs.missing_column", file: "fare_products.txt", line: 1, field: "amount") { _ = try feed.read() }
    }

    @Test func missingColumnInOptionalFile() {
        var feed = referenceFeed()
        feed.set("timeframes.txt", line: 1, "timeframe_group_id,start_time,end_time,service")
        expectGTFSError("gtfs.missing_column", file: "timeframes.txt", line: 1, field: "service_id") { _ = try feed.read() }
    }

    @Test func missingRequiredValue() {
        var feed = referenceFeed()
        let line = feed.add("fare_products.txt", " ,x,,,1,CNY")
        expectGTFSError("gtfs.missing_value", file: "fare_products.txt", line: line, field: "fare_product_id") { _ = try feed.read() }
    }

    // MARK: Amounts and currency

    @Test func amountWithThreeDecimals() {
        var feed = referenceFeed()
        let line = feed.add("fare_products.txt", "extra,,,,1.234,CNY")
        #expect(line == 10)
        expectGTFSError("gtfs.amount_invalid", file: "fare_products.txt", line: line, field: "amount",
                        mentioning: ["'1.234' has more than 2 decimals"]) { _ = try feed.read() }
    }

    @Test func negativeAmount() {
        var feed = referenceFeed()
        let line = feed.add("fare_products.txt", "extra,,,,-2.00,CNY")
        expectGTFSError("gtfs.amount_invalid", file: "fare_products.txt", line: line, field: "amount", mentioning: ["negative"]) { _ = try feed.read() }
    }

    @Test func amountNotANumber() {
        var feed = referenceFeed()
        let line = feed.add("fare_products.txt", "extra,,,,2.5元,CNY")
        expectGTFSError("gtfs.amount_invalid", file: "fare_products.txt", line: line, field: "amount") { _ = try feed.read() }
    }

    @Test func amountTooLarge() {
        var feed = referenceFeed()
        let line = feed.add("fare_products.txt", "extra,,,,100000.01,CNY")
        expectGTFSError("gtfs.amount_invalid", file: "fare_products.txt", line: line, field: "amount", mentioning: ["100000.00"]) { _ = try feed.read() }
    }

    @Test func currencyOtherThanCNY() {
        var feed = referenceFeed()
        let line = feed.add("fare_products.txt", "extra,,,,2.00,USD")
        expectGTFSError("gtfs.currency_unsupported", file: "fare_products.txt", line: line, field: "currency", mentioning: ["'USD'"]) { _ = try feed.read() }
    }

    // MARK: Ids and duplicates

    @Test func duplicateNetworkID() {
        var feed = referenceFeed()
        let line = feed.add("networks.txt", "metro,Metro again")
        expectGTFSError("gtfs.duplicate", file: "networks.txt", line: line, field: "network_id", mentioning: ["line 2"]) { _ = try feed.read() }
    }

    @Test func duplicateStopID() {
        var feed = referenceFeed()
        let line = feed.add("stops.txt", "S2,,again,,,,")
        expectGTFSError("gtfs.duplicate", file: "stops.txt", line: line, field: "stop_id") { _ = try feed.read() }
    }

    @Test func duplicateFareProductTriple() {
        var feed = referenceFeed()
        let line = feed.add("fare_products.txt", "metro_long,Metro long,adult,qr,6.00,CNY")
        expectGTFSError("gtfs.duplicate", file: "fare_products.txt", line: line, field: "fare_product_id", mentioning: ["line 5"]) { _ = try feed.read() }
    }

    @Test func duplicateLegRule() {
        var feed = referenceFeed()
        let line = feed.add("fare_leg_rules.txt", "other_group,bus,,,,,bus_flat,5")
        expectGTFSError("gtfs.duplicate", file: "fare_leg_rules.txt", line: line, field: "fare_product_id", mentioning: ["line 4"]) { _ = try feed.read() }
    }

    @Test func idWithControlCharacter() {
        var feed = referenceFeed()
        let line = feed.add("areas.txt", "\"zone\u{7}3\",Zone 3")
        expectGTFSError("gtfs.invalid_id", file: "areas.txt", line: line, field: "area_id", mentioning: ["control"]) { _ = try feed.read() }
    }

    @Test func idTooLong() {
        var feed = referenceFeed()
        let line = feed.add("areas.txt", String(repeating: "z", count: 256) + ",Long")
        expectGTFSError("gtfs.invalid_id", file: "areas.txt", line: line, field: "area_id", mentioning: ["255 bytes"]) { _ = try feed.read() }
    }

    // MARK: References

    @Test func unknownRiderCategory() {
        var feed = referenceFeed()
        let line = feed.add("fare_products.txt", "extra,,child,,1,CNY")
        expectGTFSError("gtfs.unknown_reference", file: "fare_products.txt", line: line, field: "rider_category_id",
                        mentioning: ["'child'", "rider_categories.txt"]) { _ = try feed.read() }
    }

    @Test func unknownFareMedium() {
        var feed = referenceFeed()
        let line = feed.add("fare_products.txt", "extra,,,nfc,1,CNY")
        expectGTFSError("gtfs.unknown_reference", file: "fare_products.txt", line: line, field: "fare_media_id") { _ = try feed.read() }
    }

    @Test func fareMediumWhenFileAbsent() {
        var feed = referenceFeed()
        feed.files["fare_media.txt"] = nil
        expectGTFSError("gtfs.unknown_reference", file: "fare_products.txt", line: 4, field: "fare_media_id",
                        mentioning: ["not in the feed"]) { _ = try feed.read() }
    }

    @Test func unknownNetworkInLegRule() {
        var feed = referenceFeed()
        let line = feed.add("fare_leg_rules.txt", "g,tram,,,,,bus_flat,")
        expectGTFSError("gtfs.unknown_reference", file: "fare_leg_rules.txt", line: line, field: "network_id", mentioning: ["'tram'"]) { _ = try feed.read() }
    }

    @Test func unknownAreaInLegRule() {
        var feed = referenceFeed()
        let line = feed.add("fare_leg_rules.txt", "g,metro,zone1,zone9,,,metro_long,")
        expectGTFSError("gtfs.unknown_reference", file: "fare_leg_rules.txt", line: line, field: "to_area_id") { _ = try feed.read() }
    }

    @Test func unknownTimeframeGroupInLegRule() {
        var feed = referenceFeed()
        let line = feed.add("fare_leg_rules.txt", "g,metro,,,night,,metro_long,")
        expectGTFSError("gtfs.unknown_reference", file: "fare_leg_rules.txt", line: line, field: "from_timeframe_group_id") { _ = try feed.read() }
    }

    @Test func unknownFareProductInLegRule() {
        var feed = referenceFeed()
        let line = feed.add("fare_leg_rules.txt", "g,bus,,,,,bus_night,")
        expectGTFSError("gtfs.unknown_reference", file: "fare_leg_rules.txt", line: line, field: "fare_product_id") { _ = try feed.read() }
    }

    @Test func unknownLegGroupInTransferRule() {
        var feed = referenceFeed()
        let line = feed.add("fare_transfer_rules.txt", "metro_leg,tram_leg,,,,0,")
        expectGTFSError("gtfs.unknown_reference", file: "fare_transfer_rules.txt", line: line, field: "to_leg_group_id") { _ = try feed.read() }
    }

    @Test func unknownServiceInTimeframe() {
        var feed = referenceFeed()
        let line = feed.add("timeframes.txt", "night,00:00:00,05:00:00,sundays")
        expectGTFSError("gtfs.unknown_reference", file: "timeframes.txt", line: line, field: "service_id",
                        mentioning: ["calendar.txt or calendar_dates.txt"]) { _ = try feed.read() }
    }

    @Test func unknownParentStation() {
        var feed = referenceFeed()
        let line = feed.add("stops.txt", "S3-P1,,Platform,,,0,S3")
        expectGTFSError("gtfs.unknown_reference", file: "stops.txt", line: line, field: "parent_station") { _ = try feed.read() }
    }

    @Test func unknownStopInStopAreas() {
        var feed = referenceFeed()
        let line = feed.add("stop_areas.txt", "zone1,S9")
        expectGTFSError("gtfs.unknown_reference", file: "stop_areas.txt", line: line, field: "stop_id") { _ = try feed.read() }
    }

    @Test func unknownRouteInRouteNetworks() {
        var feed = referenceFeed()
        let line = feed.add("route_networks.txt", "bus,B99")
        expectGTFSError("gtfs.unknown_reference", file: "route_networks.txt", line: line, field: "route_id") { _ = try feed.read() }
    }

    @Test func routeNetworkIDAndRouteNetworksTogether() {
        var feed = referenceFeed()
        feed.files["routes.txt"] = ["route_id,route_short_name,network_id", "L1,1,metro", "B5,5,bus", "X9,,"]
        expectGTFSError("gtfs.conflict", file: "route_networks.txt", line: 2, field: "network_id", mentioning: ["routes.network_id"]) { _ = try feed.read() }
    }

    // MARK: Times, dates and enumerations

    @Test func timeOutOfRange() {
        var feed = referenceFeed()
        let line = feed.add("timeframes.txt", "night,23:00:00,25:00:00,weekend")
        expectGTFSError("gtfs.invalid_value", file: "timeframes.txt", line: line, field: "end_time", mentioning: ["'25:00:00'"]) { _ = try feed.read() }
    }

    @Test func timeNotATime() {
        var feed = referenceFeed()
        let line = feed.add("timeframes.txt", "night,7am,09:00:00,weekend")
        expectGTFSError("gtfs.invalid_value", file: "timeframes.txt", line: line, field: "start_time") { _ = try feed.read() }
    }

    @Test func endTimeNotAfterStartTime() {
        var feed = referenceFeed()
        let line = feed.add("timeframes.txt", "night,05:00:00,05:00:00,holiday")
        expectGTFSError("gtfs.invalid_value", file: "timeframes.txt", line: line, field: "end_time", mentioning: ["not after"]) { _ = try feed.read() }
    }

    @Test func startTimeWithoutEndTime() {
        var feed = referenceFeed()
        let line = feed.add("timeframes.txt", "night,05:00:00,,holiday")
        expectGTFSError("gtfs.missing_value", file: "timeframes.txt", line: line, field: "end_time") { _ = try feed.read() }
    }

    @Test func overlappingTimeframes() {
        var feed = referenceFeed()
        let line = feed.add("timeframes.txt", "peak,08:30:00,10:00:00,weekday")
        expectGTFSError("gtfs.conflict", file: "timeframes.txt", line: line, field: "start_time", mentioning: ["line 2"]) { _ = try feed.read() }
    }

    @Test func calendarDateNotReal() {
        var feed = referenceFeed()
        let line = feed.add("calendar.txt", "odd,1,0,0,0,0,0,0,20250230,20251231")
        expectGTFSError("gtfs.invalid_value", file: "calendar.txt", line: line, field: "start_date", mentioning: ["'20250230'"]) { _ = try feed.read() }
    }

    @Test func calendarEndBeforeStart() {
        var feed = referenceFeed()
        let line = feed.add("calendar.txt", "odd,1,0,0,0,0,0,0,20250301,20250201")
        expectGTFSError("gtfs.invalid_value", file: "calendar.txt", line: line, field: "end_date") { _ = try feed.read() }
    }

    @Test func calendarWeekdayNotBoolean() {
        var feed = referenceFeed()
        let line = feed.add("calendar.txt", "odd,1,0,0,yes,0,0,0,20250101,20251231")
        expectGTFSError("gtfs.invalid_value", file: "calendar.txt", line: line, field: "thursday") { _ = try feed.read() }
    }

    @Test func badExceptionType() {
        var feed = referenceFeed()
        let line = feed.add("calendar_dates.txt", "weekday,20251002,3")
        expectGTFSError("gtfs.invalid_value", file: "calendar_dates.txt", line: line, field: "exception_type") { _ = try feed.read() }
    }

    @Test func badFareMediaType() {
        var feed = referenceFeed()
        let line = feed.add("fare_media.txt", "nfc,NFC,5")
        expectGTFSError("gtfs.invalid_value", file: "fare_media.txt", line: line, field: "fare_media_type",
                        mentioning: ["0, 1, 2, 3, 4"]) { _ = try feed.read() }
    }

    @Test func badDefaultFlag() {
        var feed = referenceFeed()
        let line = feed.add("rider_categories.txt", "child,Child,2,")
        expectGTFSError("gtfs.invalid_value", file: "rider_categories.txt", line: line, field: "is_default_fare_category") { _ = try feed.read() }
    }

    @Test func twoDefaultRiderCategories() {
        var feed = referenceFeed()
        let line = feed.add("rider_categories.txt", "child,Child,1,")
        expectGTFSError("gtfs.conflict", file: "rider_categories.txt", line: line, field: "is_default_fare_category",
                        mentioning: ["line 2"]) { _ = try feed.read() }
    }

    @Test func negativeRulePriority() {
        var feed = referenceFeed()
        let line = feed.add("fare_leg_rules.txt", "g,bus,zone1,,,,bus_flat,-1")
        expectGTFSError("gtfs.invalid_value", file: "fare_leg_rules.txt", line: line, field: "rule_priority") { _ = try feed.read() }
    }

    @Test func badFareTransferType() {
        var feed = referenceFeed()
        let line = feed.add("fare_transfer_rules.txt", "bus_leg,metro_leg,,,,3,")
        expectGTFSError("gtfs.invalid_value", file: "fare_transfer_rules.txt", line: line, field: "fare_transfer_type") { _ = try feed.read() }
    }

    @Test func missingFareTransferType() {
        var feed = referenceFeed()
        let line = feed.add("fare_transfer_rules.txt", "bus_leg,metro_leg,,,,,")
        expectGTFSError("gtfs.missing_value", file: "fare_transfer_rules.txt", line: line, field: "fare_transfer_type") { _ = try feed.read() }
    }

    // MARK: Transfer rules

    @Test func transferCountForbiddenBetweenDifferentGroups() {
        var feed = referenceFeed()
        let line = feed.add("fare_transfer_rules.txt", "bus_leg,metro_leg,1,,,0,")
        expectGTFSError("gtfs.invalid_value", file: "fare_transfer_rules.txt", line: line, field: "transfer_count") { _ = try feed.read() }
    }

    @Test func transferCountRequiredWithinOneGroup() {
        var feed = referenceFeed()
        let line = feed.add("fare_transfer_rules.txt", "bus_leg,bus_leg,,600,0,0,")
        expectGTFSError("gtfs.missing_value", file: "fare_transfer_rules.txt", line: line, field: "transfer_count") { _ = try feed.read() }
    }

    @Test func transferCountZero() {
        var feed = referenceFeed()
        let line = feed.add("fare_transfer_rules.txt", "metro_leg,metro_leg,0,,,0,")
        expectGTFSError("gtfs.invalid_value", file: "fare_transfer_rules.txt", line: line, field: "transfer_count") { _ = try feed.read() }
    }

    @Test func durationLimitWithoutType() {
        var feed = referenceFeed()
        let line = feed.add("fare_transfer_rules.txt", "bus_leg,metro_leg,,600,,0,")
        expectGTFSError("gtfs.missing_value", file: "fare_transfer_rules.txt", line: line, field: "duration_limit_type") { _ = try feed.read() }
    }

    @Test func durationLimitTypeWithoutLimit() {
        var feed = referenceFeed()
        let line = feed.add("fare_transfer_rules.txt", "bus_leg,metro_leg,,,2,0,")
        expectGTFSError("gtfs.invalid_value", file: "fare_transfer_rules.txt", line: line, field: "duration_limit_type") { _ = try feed.read() }
    }

    @Test func durationLimitNotPositive() {
        var feed = referenceFeed()
        let line = feed.add("fare_transfer_rules.txt", "bus_leg,metro_leg,,0,1,0,")
        expectGTFSError("gtfs.invalid_value", file: "fare_transfer_rules.txt", line: line, field: "duration_limit") { _ = try feed.read() }
    }

    @Test func transferProductWithoutDefaultPrice() {
        var feed = referenceFeed()
        _ = feed.add("fare_products.txt", "student_transfer,,student,,0.50,CNY")
        let line = feed.add("fare_transfer_rules.txt", "bus_leg,metro_leg,,,,0,student_transfer")
        expectGTFSError("gtfs.no_default_price", file: "fare_transfer_rules.txt", line: line, field: "fare_product_id",
                        mentioning: ["'student_transfer'", "'adult'"]) { _ = try feed.read() }
    }

    @Test func legProductOnlyForAnotherCategory() {
        var feed = referenceFeed()
        _ = feed.add("fare_products.txt", "senior_metro,,senior,,0,CNY")
        let line = feed.add("fare_leg_rules.txt", "g,metro,zone2,zone2,,,senior_metro,")
        expectGTFSError("gtfs.no_default_price", file: "fare_leg_rules.txt", line: line, field: "fare_product_id",
                        mentioning: ["'senior_metro'"]) { _ = try feed.read() }
    }

    @Test func nameWithControlCharacter() {
        var feed = referenceFeed()
        let line = feed.add("stops.txt", "S3,,\"Bad\u{0}name\",,,1,")
        expectGTFSError("gtfs.invalid_value", file: "stops.txt", line: line, field: "stop_name", mentioning: ["'Bad?name'"]) { _ = try feed.read() }
    }

    // MARK: CSV syntax and limits

    @Test func unclosedQuote() {
        var feed = referenceFeed()
        let line = feed.add("areas.txt", "zone3,\"Zone 3")
        expectGTFSError("gtfs.csv_invalid", file: "areas.txt", line: line, field: "area_name", mentioning: ["not closed"]) { _ = try feed.read() }
    }

    @Test func textAfterClosingQuote() {
        var feed = referenceFeed()
        let line = feed.add("areas.txt", "zone3,\"Zone\" 3")
        expectGTFSError("gtfs.csv_invalid", file: "areas.txt", line: line, field: "area_name") { _ = try feed.read() }
    }

    @Test func wrongFieldCount() {
        var feed = referenceFeed()
        let line = feed.add("areas.txt", "zone3,Zone 3,extra")
        expectGTFSError("gtfs.csv_invalid", file: "areas.txt", line: line, field: nil, mentioning: ["3 fields", "header has 2"]) { _ = try feed.read() }
    }

    @Test func duplicateHeaderColumn() {
        var feed = referenceFeed()
        feed.set("areas.txt", line: 1, "area_id,area_id")
        expectGTFSError("gtfs.csv_invalid", file: "areas.txt", line: 1, field: "area_id") { _ = try feed.read() }
    }

    @Test func invalidUTF8() {
        var files = referenceFeed().bytes
        files["areas.txt"] = Array("area_id,area_name\nzone1,Zone 1\n".utf8) + [0x7A, 0x33, 0x2C, 0xC3, 0x28, 0x0A]
        expectGTFSError("gtfs.csv_invalid", file: "areas.txt", line: 3, field: "area_name", mentioning: ["UTF-8"]) {
            _ = try GTFSFaresImport.read(files: files)
        }
    }

    @Test func fieldTooLong() {
        var feed = referenceFeed()
        let line = feed.add("areas.txt", "zone3," + String(repeating: "x", count: GTFSCSV.fieldBytesMax + 1))
        expectGTFSError("gtfs.csv_limit", file: "areas.txt", line: line, field: "area_name", mentioning: ["4096"]) { _ = try feed.read() }
    }

    @Test func fileTooLarge() {
        var files = referenceFeed().bytes
        files["stops.txt"] = [UInt8](repeating: 0x20, count: GTFSCSV.fileBytesMax + 1)
        expectGTFSError("gtfs.csv_limit", file: "stops.txt", line: nil, field: nil) { _ = try GTFSFaresImport.read(files: files) }
    }

    @Test func csvReaderBasics() throws {
        let text = "\u{FEFF} a , b ,\"c\"\r\n\r\n1,\"x,\"\"y\"\"\", z \r\n  \n\"\",2,3"
        let csv = try GTFSCSV(Array(text.utf8), file: "t.txt")
        #expect(csv.header == ["a", "b", "c"])
        #expect(csv.rows == [.init(line: 3, fields: ["1", "x,\"y\"", "z"]), .init(line: 5, fields: ["", "2", "3"])])
        #expect(csv.value(csv.rows[0], "b") == "x,\"y\"")
        #expect(csv.value(csv.rows[0], "missing") == "")
        #expect(csv.optional(csv.rows[1], "a") == nil)
        let empty = try GTFSCSV([], file: "e.txt")
        #expect(empty.header.isEmpty && empty.rows.isEmpty)
    }

    @Test func csvRowLimit() {
        // rowsMax + 1 one-character rows: about 2 MB.
        var bytes = Array("a\n".utf8)
        bytes.reserveCapacity(2 * GTFSCSV.rowsMax + 8)
        for _ in 0...GTFSCSV.rowsMax { bytes += [0x31, 0x0A] }
        expectGTFSError("gtfs.csv_limit", file: "big.txt", line: GTFSCSV.rowsMax + 2, field: nil) { _ = try GTFSCSV(bytes, file: "big.txt") }
        bytes.removeLast(2)
        #expect((try? GTFSCSV(bytes, file: "big.txt"))?.rows.count == GTFSCSV.rowsMax)
    }

    @Test func errorNeverYieldsAPartialFeed() {
        // The last file read (translations) is fine, but an error late in the rules must still throw.
        var feed = referenceFeed()
        let line = feed.add("fare_transfer_rules.txt", ",,,,,9,")
        var result: FareFeed?
        expectGTFSError("gtfs.invalid_value", file: "fare_transfer_rules.txt", line: line, field: "fare_transfer_type") { result = try feed.read() }
        #expect(result == nil)
    }
}

// MARK: - ZIP

@Suite struct GTFSZipTests {
    private static func minimalFiles() -> [String: [UInt8]] {
        [
            "fare_products.txt": Array("fare_product_id,amount,currency\nflat,2.00,CNY\n".utf8),
            "fare_leg_rules.txt": Array("network_id,fare_product_id\nmetro,flat\n".utf8),
            "networks.txt": Array("network_id,network_name\nmetro,地铁\n".utf8),
        ]
    }

    @Test func storedEntriesAtTheRoot() throws {
        let files = Self.minimalFiles()
        let zip = testZip(files.keys.sorted().map { TestZipEntry(name: $0, data: files[$0] ?? []) }
                          + [TestZipEntry(name: "shapes.txt", data: Array("not read".utf8), method: 12)])
        let read = try GTFSFaresImport.files(fromZip: zip)
        #expect(read == files) // shapes.txt (method 12, unsupported) is never decompressed
        let feed = try GTFSFaresImport.read(files: read)
        #expect(feed.networks == ["metro": "地铁"])
        #expect(feed.fareProducts == [.init(id: "flat", name: nil, riderCategoryID: nil, fareMediaID: nil, amountFen: 200)])
    }

    @Test func deflateEntriesFromPythonZipfile() throws {
        let zip = try #require(Data(base64Encoded: gtfsPythonZipFixture.joined())).map { $0 }
        let archive = try ZipArchive(zip)
        #expect(archive.entries.map(\.name) == ["fare_products.txt", "fare_leg_rules.txt", "networks.txt", "stops.txt", "trips.txt"])
        #expect(archive.entries.map(\.method) == [8, 8, 0, 8, 12])
        let files = try GTFSFaresImport.files(fromZip: zip)
        #expect(files.keys.sorted() == ["fare_leg_rules.txt", "fare_products.txt", "networks.txt", "stops.txt"])
        var stops = "stop_id,stop_name\n"
        for i in 0..<300 { stops += "S\(i),Stop \(i)\n" }
        #expect(files["stops.txt"] == Array(stops.utf8)) // a dynamic-Huffman block
        let feed = try GTFSFaresImport.read(files: files)
        #expect(feed.networks == ["metro": "地铁"])
        #expect(feed.stops.count == 300)
        #expect(feed.stops["S299"] == .init(id: "S299", name: LocalizedName(en: "Stop 299", zh: "Stop 299")))
        #expect(feed.legRules == [.init(networkID: "metro", fareProductID: "flat")])
    }

    @Test func deflateEntryFromZlibCompress() throws {
        var text = "stop_id,stop_name\n"
        for i in 0..<50 { text += "S\(i),Stop\n" }
        let data = Array(text.utf8)
        var files = Self.minimalFiles()
        files["stops.txt"] = data
        let zip = testZip(files.keys.sorted().map { name in
            let bytes = files[name] ?? []
            return TestZipEntry(name: name, data: rawDeflate(bytes), method: 8, crc: ZipArchive.crc32(bytes), uncompressedSize: bytes.count)
        })
        #expect(try GTFSFaresImport.files(fromZip: zip) == files)
    }

    @Test func singleWrappingFolder() throws {
        let files = Self.minimalFiles()
        let zip = testZip([TestZipEntry(name: "feed/", data: [])]
                          + files.keys.sorted().map { TestZipEntry(name: "feed/" + $0, data: files[$0] ?? []) }
                          + [TestZipEntry(name: "__MACOSX/feed/._networks.txt", data: [0, 1, 2])])
        #expect(try GTFSFaresImport.files(fromZip: zip) == files)
    }

    @Test func twoFoldersOrMixedLayoutAreRefused() {
        let files = Self.minimalFiles()
        let twoFolders = testZip([TestZipEntry(name: "a/fare_products.txt", data: files["fare_products.txt"] ?? []),
                                  TestZipEntry(name: "b/fare_leg_rules.txt", data: files["fare_leg_rules.txt"] ?? [])])
        expectZipError("one folder") { _ = try GTFSFaresImport.files(fromZip: twoFolders) }
        let mixed = testZip([TestZipEntry(name: "fare_products.txt", data: files["fare_products.txt"] ?? []),
                             TestZipEntry(name: "feed/fare_leg_rules.txt", data: files["fare_leg_rules.txt"] ?? [])])
        expectZipError("one folder") { _ = try GTFSFaresImport.files(fromZip: mixed) }
        let nested = testZip([TestZipEntry(name: "a/b/fare_products.txt", data: files["fare_products.txt"] ?? [])])
        expectZipError("one folder") { _ = try GTFSFaresImport.files(fromZip: nested) }
    }

    @Test func crcMismatch() {
        let files = Self.minimalFiles()
        let good = files["fare_products.txt"] ?? []
        let zip = testZip([TestZipEntry(name: "fare_products.txt", data: good, crc: ZipArchive.crc32(good) ^ 1)])
        expectZipError("CRC-32 mismatch") { _ = try GTFSFaresImport.files(fromZip: zip) }
    }

    @Test func crc32KnownValue() {
        #expect(ZipArchive.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(ZipArchive.crc32([]) == 0)
    }

    @Test func zipBombDeclaredSize() {
        // The central directory declares more than 256 MiB in total: refused before inflating.
        let small = rawDeflate([UInt8](repeating: 0, count: 1000))
        let zip = testZip([
            TestZipEntry(name: "fare_products.txt", data: small, method: 8, crc: 0, uncompressedSize: 200 << 20),
            TestZipEntry(name: "stops.txt", data: small, method: 8, crc: 0, uncompressedSize: 100 << 20),
        ])
        expectZipError("more than the 268435456 allowed") { _ = try GTFSFaresImport.files(fromZip: zip) }
    }

    @Test func zipBombOutputBeyondDeclaredSize() {
        // 1 MiB of zeros deflates to a few KB; the entry claims 1000 bytes, so inflating stops there.
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        let zip = testZip([TestZipEntry(name: "fare_products.txt", data: rawDeflate(zeros), method: 8,
                                        crc: ZipArchive.crc32(zeros), uncompressedSize: 1000)])
        expectZipError("exceeds 1000 bytes") { _ = try GTFSFaresImport.files(fromZip: zip) }
    }

    @Test func tooManyEntries() {
        let zip = testZip((0...ZipArchive.entriesMax).map { TestZipEntry(name: "f\($0).txt", data: []) })
        expectZipError("201 entries") { _ = try GTFSFaresImport.files(fromZip: zip) }
    }

    @Test func encryptedEntry() {
        let zip = testZip([TestZipEntry(name: "fare_products.txt", data: [1, 2, 3], flags: 1)])
        expectZipError("encrypted") { _ = try GTFSFaresImport.files(fromZip: zip) }
    }

    @Test func zip64Refused() {
        var zip = testZip([TestZipEntry(name: "fare_products.txt", data: [1, 2, 3])])
        // Total entries 0xFFFF in the end record means "see the ZIP64 record".
        zip[zip.count - 12] = 0xFF
        zip[zip.count - 11] = 0xFF
        zip[zip.count - 14] = 0xFF
        zip[zip.count - 13] = 0xFF
        expectZipError("ZIP64") { _ = try GTFSFaresImport.files(fromZip: zip) }
    }

    @Test func notAZipAndTruncated() {
        expectZipError("too short") { _ = try GTFSFaresImport.files(fromZip: Array("fare_products.txt".utf8)) }
        expectZipError("end of central directory") { _ = try GTFSFaresImport.files(fromZip: Array(repeating: 0, count: 100)) }
        let zip = testZip([TestZipEntry(name: "fare_products.txt", data: Array("abc".utf8))])
        expectZipError("end of central directory") { _ = try GTFSFaresImport.files(fromZip: Array(zip.dropLast(5))) }
    }

    @Test func corruptDeflateData() {
        let zip = testZip([TestZipEntry(name: "fare_products.txt", data: [0xFF, 0xFF, 0xFF], method: 8, crc: 0, uncompressedSize: 10)])
        expectZipError("fare_products.txt") { _ = try GTFSFaresImport.files(fromZip: zip) }
    }

    @Test func duplicateNamesRefused() {
        let zip = testZip([TestZipEntry(name: "fare_products.txt", data: []), TestZipEntry(name: "fare_products.txt", data: [])])
        expectZipError("appears twice") { _ = try GTFSFaresImport.files(fromZip: zip) }
    }

    @Test func inflateRawMatchesZlibDecompress() throws {
        var text: [UInt8] = []
        for i in 0..<2000 { text += Array("row \(i % 37),\(i * 7919 % 1000)\n".utf8) }
        let raw = rawDeflate(text)
        #expect(try Zlib.inflateRaw(raw, limit: text.count) == text)
        #expect(throws: CredentialError.self) { try Zlib.inflateRaw(raw, limit: text.count - 1) }
    }
}

// MARK: - Fixture

/// A zip written by Python's `zipfile` (deflate via zlib): fare_products.txt, fare_leg_rules.txt
/// (deflate, fixed Huffman), networks.txt (stored), stops.txt (300 rows, deflate with a dynamic
/// Huffman block) and trips.txt (bzip2, method 12: must be skipped, never decompressed).
///
///     import zipfile, io
///     stops = "stop_id,stop_name\n" + "".join(f"S{i},Stop {i}\n" for i in range(300))
///     with zipfile.ZipFile(buf, "w") as z:
///         z.writestr(zipfile.ZipInfo("fare_products.txt", (2025,1,1,0,0,0)), "fare_product_id,amount,currency\nflat,2.00,CNY\n", compress_type=zipfile.ZIP_DEFLATED)
///         z.writestr(zipfile.ZipInfo("fare_leg_rules.txt", (2025,1,1,0,0,0)), "network_id,fare_product_id\nmetro,flat\n", compress_type=zipfile.ZIP_DEFLATED)
///         z.writestr(zipfile.ZipInfo("networks.txt", (2025,1,1,0,0,0)), "network_id,network_name\nmetro,地铁\n", compress_type=zipfile.ZIP_STORED)
///         z.writestr(zipfile.ZipInfo("stops.txt", (2025,1,1,0,0,0)), stops, compress_type=zipfile.ZIP_DEFLATED)
///         z.writestr(zipfile.ZipInfo("trips.txt", (2025,1,1,0,0,0)), "route_id,service_id,trip_id\n" * 50, compress_type=zipfile.ZIP_BZIP2)
private let gtfsPythonZipFixture: [String] = [
    "UEsDBBQAAAAIAAAAIVrkLofsMAAAAC4AAAARAAAAZmFyZV9wcm9kdWN0cy50eHRLSyxKjS8oyk8pTS6Jz0zRSczNL80r0UkuLSpKzUuu5ErLSS",
    "zRMdIzMNBx9ovkAgBQSwMEFAAAAAgAAAAhWtQFxfomAAAAJgAAABIAAABmYXJlX2xlZ19ydWxlcy50eHTLSy0pzy/Kjs9M0UlLLEqNLyjKTylN",
    "LgHyuXJTS4ryddJyEku4AFBLAwQUAAAAAAAAACFatiqeqiUAAAAlAAAADAAAAG5ldHdvcmtzLnR4dG5ldHdvcmtfaWQsbmV0d29ya19uYW1lCm",
    "1ldHJvLOWcsOmTgQpQSwMEFAAAAAgAAAAhWiPLmFQFBQAAng8AAAkAAABzdG9wcy50eHQ91zmO7EYURFGfq9ACvsG4HHMdtQBBgGTI0AB87R96",
    "kfUirWY7fbNrOAz+/O+ff3/98/cfP/3z79/++mP77D8+9csv+/bR90rbh+8V2+f4Xh3b5/xendvn+l5d2+f+Xt3b5/lePdvn/V6922d8r0b95Y",
    "7IlWSqow6pSuqUqqWOqWrqnKqnDqqK6qSqqY6qquqsqkt3qS7dxf9f/sHq0l2qS3epLt2lunSX6tJdqkt3qS7dpbpHd4/qHt09qnt09/Arm5e2",
    "ukd3j+oe3T2qe3T3qO7R3aO6R3eP6h7dPap7dves7tnds7pnd8/qnt09/Z7mTa3u2d2zumd3z+qe3T2re3b3rO7Z3bO6V3ev6l7dvap7dfeq7t",
    "Xdq7pXdy9/mvJxqu7V3au6V3ev6l7dvap7dfeq7t3du7p3d+/q3t29q3t3967u3d27und3b3+O80Gu7t3du7p3d+/q3t29q/t096nu092nuk93",
    "n+o+3X2q+3T3qe7T3ae6T3cff4PyFaru092nuk93n+q+3X2r+3b3re7b3be6b3ff6r7dfav7dvet7tvdt7pvd19/d/Plre7b3be6o7ujuqO7o7",
    "qju6O6o7ujuqO7o7qju6O6o7ujuqO7o7qju8NqhI3pxoLDcuyhY7cde/DYrccePnb7sQeQ3YLsIWS3IXsQ2a3IHkZ2O7IHkt2S7KFk91kWYl/F",
    "FmM+y4JsSrYom5YtzKZmi7Pp2QJtirZIm6Yt1KZqizW7psAmy6bQJqapC1WfJbzJvinAycIpxMnGKcjJyinMyc4p0MnSKdTJ1inYydop3MneKe",
    "DpmMIv4n2WoCerp7Anu6fAJ8un0Cfbp+An66fwJ/unACgLqBAoG6ggKCuoMKhz3m/WDcdnCYWyhQqGsoYKh7KHCoiyiAqJsokKirKKCouyiwqM",
    "sowKjbKNCo665t1v3f58lgApC6kQKRupICkrqTApO6lAKUupUClbqWApa6lwKXupgCmLqZCpe96L183YZwmbspsKnLKcCp2ynQqesp4Kn7KfCq",
    "CyoAqhsqEKorKiCqOyowqkeuYyWNPAZwmmsqYKp7KnCqiyqAqpsqkKqrKqCquyqwqssqwKrbKtCq6yrgqveudOWUPFZwmxsrEKsrKyCrOyswq0",
    "srQKtbK1Craytgq3srcKuLK4CrmyuQq6GnM1rdk0d9MaTl5OcRe7S9zF7hJ3sbvEXewucRe7S9zF7hJ3sbvEXewucRe7S9xFc8WtGeezxF3sLn",
    "EXu0vcxe4Sd7G7xF3sLnEXu0vcxe4Sd5l7cg3KuSjXpPxuyjUqfZY1K+euXMNyLss1Lee2XONyrss1L+e+XANzLsw1Me0ucRe7S9zF7hJ3OebC",
    "XRPXZ4m72F3iLnaXuIvdJe5id4m72F3iLnaXuIvdJe5id4m72F3iLufc22tw+yxxF7tL3MXuEnexu8Rd7C5xF7tL3MXuEnexu8Rd7C5xF7tL3O",
    "Wa63/Nf58l7mJ3ibvYXeIudpe4i90l7mJ3ibvYXeIudpe4i90l7mJ3ibvc81lkPYz4LHEXu0vcxe4Sd7G7xF3sLnEXu0vcxe4Sd7G7xF3sLnEX",
    "u0vc5ZlPRuvRyGeJu9hd4i52l7iL3SXuYneJu9hd4i52l7iL3SXuYneJu9hd4i7vfE5bD2o+S9zF7hJ3sbvEXewucRe7S9zF7hJ3sbvEXewucR",
    "e7S9zF7hJ3GfOpcT02ju1/UEsDBC4AAAAMAAAAIVqpwG+WVAAAAHgFAAAJAAAAdHJpcHMudHh0QlpoOTFBWSZTWaswY18AAiXTgAAQAAQAAI4g",
    "3wAgAHBAAAClUI9NTanp8UjKLBF2ItIsotItovFI/kWEWEXiLKLSLaLhFtF2i9F3JFOFCQqzBjXwUEsBAhQDFAAAAAgAAAAhWuQuh+wwAAAALg",
    "AAABEAAAAAAAAAAAAAAIABAAAAAGZhcmVfcHJvZHVjdHMudHh0UEsBAhQDFAAAAAgAAAAhWtQFxfomAAAAJgAAABIAAAAAAAAAAAAAAIABXwAA",
    "AGZhcmVfbGVnX3J1bGVzLnR4dFBLAQIUAxQAAAAAAAAAIVq2Kp6qJQAAACUAAAAMAAAAAAAAAAAAAACAAbUAAABuZXR3b3Jrcy50eHRQSwECFA",
    "MUAAAACAAAACFaI8uYVAUFAACeDwAACQAAAAAAAAAAAAAAgAEEAQAAc3RvcHMudHh0UEsBAi4DLgAAAAwAAAAhWqnAb5ZUAAAAeAUAAAkAAAAA",
    "AAAAAAAAAIABMAYAAHRyaXBzLnR4dFBLBQYAAAAABQAFACcBAACrBgAAAAA=",]
