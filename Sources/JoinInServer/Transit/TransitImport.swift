import Crypto
import Foundation
public import JoinInCore
public import JoinInStore

/// Fare data and city settings loaded by the CLI (`joinin transit import-gtfs`, `import-cities`).
public enum TransitImport {
    public struct Imported: Sendable {
        public let versionID: String
        public let version: Int64
        public let validFromMs: Int64
        public let summary: String
    }

    /// Reads a feed from a directory (its known GTFS files) or a .zip file.
    public static func feedFiles(at path: String) throws -> [String: [UInt8]] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DomainError.malformed("gtfs.not_found", "\(path): no such file or directory")
        }
        if isDirectory.boolValue {
            var files: [String: [UInt8]] = [:]
            for name in GTFSFaresImport.knownFiles.sorted() {
                let file = URL(fileURLWithPath: path).appendingPathComponent(name).path
                guard FileManager.default.fileExists(atPath: file) else { continue }
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw DomainError.malformed("gtfs.unreadable", "\(name): cannot be read")
                }
                files[name] = Array(data)
            }
            return files
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DomainError.malformed("gtfs.unreadable", "\(path): cannot be read")
        }
        return try GTFSFaresImport.files(fromZip: Array(data))
    }

    /// Validates the whole feed, then stores it as the operator's next fare version, in force from
    /// `validFromMs` (the first version: from the beginning, unless given; later ones: from now,
    /// never earlier — taps already priced keep the version they were priced with).
    public static func importFeed(store: Store, operatorID: String, files: [String: [UInt8]], validFromMs: Int64?,
                                  cardholderCategoryID: String?, actor: String, nowMs: Int64) async throws -> Imported {
        let feed = try GTFSFaresImport.read(files: files)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(feed), as: UTF8.self)
        var hasher = SHA256()
        for name in files.keys.sorted() where GTFSFaresImport.knownFiles.contains(name) {
            hasher.update(data: Data(name.utf8))
            hasher.update(data: Data([0]))
            hasher.update(data: Data(files[name] ?? []))
        }
        let digest = Hex.lowercase(hasher.finalize())
        let summary = "\(feed.networks.count) networks, \(feed.areas.count) areas, \(feed.stops.count) stops, "
            + "\(feed.riderCategories.count) rider categories, \(Set(feed.fareProducts.map(\.id)).count) products, "
            + "\(feed.legRules.count) leg rules, \(feed.transferRules.count) transfer rules"
        if let category = cardholderCategoryID, feed.riderCategories[category] == nil {
            throw DomainError.rule("transit.category_unknown", "rider category '\(category.prefix(64))' is not in rider_categories.txt")
        }
        let id = UUID().uuidString.lowercased()
        return try await store.write { tx in
            guard let record = try await tx.transitOperator(id: operatorID) else {
                throw DomainError.notFound("transit.operator_not_found", "no transit operator \(operatorID.prefix(64))")
            }
            let latest = try await tx.fareVersions(operatorID: operatorID).map(\.validFromMs).max()
            let validFrom = try TransitRules.versionStart(requestedMs: validFromMs, latestStartMs: latest, nowMs: nowMs)
            let category = cardholderCategoryID ?? record.cardholderCategoryId
            if let category, feed.riderCategories[category] == nil {
                throw DomainError.rule("transit.category_unknown",
                                       "the operator's cardholder category '\(category.prefix(64))' is not in this feed; pass --cardholder-category")
            }
            if cardholderCategoryID != nil {
                try await tx.updateTransitOperatorTerms(id: operatorID, cardholderCategoryID: category, maxJourneySeconds: record.maxJourneySeconds,
                                                        exitWithoutEntry: record.exitWithoutEntry, atMs: nowMs)
            }
            let version = try await tx.insertFareVersion(id: id, operatorID: operatorID, validFromMs: validFrom, feedJSON: json,
                                                         feedSHA256: digest, summary: summary, importedBy: actor, atMs: nowMs)
            try await tx.appendAudit(actor: actor, action: "transit.fare_import", objectType: "transit_operator", objectID: operatorID,
                                     detail: "version=\(version.version) sha256=\(digest.prefix(16)) category=\(category ?? "default")", atMs: nowMs)
            return Imported(versionID: id, version: version.version, validFromMs: validFrom, summary: summary)
        }
    }

    public struct CityRow: Sendable, Equatable {
        public let code: String
        public let interoperable: Bool
        public let dailyCapFen: Int64?
        public let weeklyCapFen: Int64?
    }

    /// `code,interoperable,daily_cap_fen,weekly_cap_fen` (caps may be empty): validated whole.
    public static func parseCities(_ text: String) throws -> [CityRow] {
        let csv = try GTFSCSV(Array(text.utf8), file: "cities.csv")
        try csv.require("code", "interoperable")
        var rows: [CityRow] = []
        var seen = Set<String>()
        for row in csv.rows {
            let where_ = "cities.csv line \(row.line)"
            let code = csv.value(row, "code")
            guard code.count == 6, code.allSatisfy(\.isASCIIDigit) else {
                throw DomainError.malformed("import.code", "\(where_), field code: must be a 6-digit GB/T 2260 code")
            }
            guard seen.insert(code).inserted else { throw DomainError.malformed("import.duplicate", "\(where_): city \(code) twice") }
            let flag = csv.value(row, "interoperable")
            guard flag == "0" || flag == "1" else {
                throw DomainError.malformed("import.flag", "\(where_), field interoperable: must be 0 or 1")
            }
            func cap(_ column: String) throws -> Int64? {
                guard let text = csv.optional(row, column) else { return nil }
                guard let value = Int64(text), (1...100_000_000).contains(value) else {
                    throw DomainError.malformed("transit.cap_invalid", "\(where_), field \(column): must be 1-100000000 fen or empty")
                }
                return value
            }
            rows.append(CityRow(code: code, interoperable: flag == "1", dailyCapFen: try cap("daily_cap_fen"),
                                weeklyCapFen: try cap("weekly_cap_fen")))
        }
        return rows
    }

    /// Applies the rows in one transaction; caps from today's service day. Every code must be a known city.
    public static func importCities(store: Store, rows: [CityRow], actor: String, nowMs: Int64) async throws -> Int {
        let today = TripPricing.serviceDay(unixMs: nowMs, utcOffsetMinutes: 8 * 60)
        return try await store.write { tx in
            for row in rows {
                guard try await tx.setCityInteroperable(code: row.code, interoperable: row.interoperable, atMs: nowMs) else {
                    throw DomainError.rule("city.not_found", "city \(row.code) is not a known city; import cities first")
                }
                if row.dailyCapFen != nil || row.weeklyCapFen != nil {
                    try await tx.setTransitCityCaps(cityCode: row.code, effectiveFrom: today, dailyCapFen: row.dailyCapFen,
                                                    weeklyCapFen: row.weeklyCapFen, atMs: nowMs)
                }
            }
            try await tx.appendAudit(actor: actor, action: "transit.cities_import", objectType: "city", objectID: "*",
                                     detail: "rows=\(rows.count) interoperable=\(rows.filter(\.interoperable).count)", atMs: nowMs)
            return rows.count
        }
    }
}
