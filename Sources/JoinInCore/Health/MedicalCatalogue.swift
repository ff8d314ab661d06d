/// The medical-insurance catalogue of drugs and services (医保目录) of one city: each item's code,
/// bilingual names, class and unit. Class A is eligible in full, class B after its
/// self-pay-first share, class C never by the fund.
public enum ItemClass: String, Sendable, CaseIterable, Codable {
    case A, B, C
}

public enum ItemKind: String, Sendable, CaseIterable, Codable {
    case drug, service, material
}

public struct CatalogueItem: Sendable, Equatable, Codable {
    public let code: String
    public let name: LocalizedName
    public let itemClass: ItemClass
    public let kind: ItemKind
    public let unit: String

    public init(code: String, name: LocalizedName, itemClass: ItemClass, kind: ItemKind, unit: String) {
        self.code = code
        self.name = name
        self.itemClass = itemClass
        self.kind = kind
        self.unit = unit
    }
}

public enum MedicalCatalogue {
    public static let itemsMax = 200_000
    public static let codeLengthMax = 64
    public static let unitLengthMax = 20

    /// An item code: 1–64 of A–Z, a–z, 0–9, '.', '-', '_'.
    public static func isValidCode(_ code: String) -> Bool {
        (1...codeLengthMax).contains(code.utf8.count) && code.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2E || byte == 0x2D || byte == 0x5F
        }
    }

    /// Reads a catalogue CSV (RFC 4180, UTF-8, header `code,name_en,name_zh,class,unit` and an
    /// optional `kind` column: drug (default), service or material) and validates it whole.
    /// Errors name the line and field; a code listed twice is refused.
    public static func parse(_ bytes: [UInt8], file: String = "catalogue.csv") throws -> [CatalogueItem] {
        let csv: GTFSCSV
        do { csv = try GTFSCSV(bytes, file: file) } catch let error as DomainError {
            throw DomainError.malformed("health.catalogue_invalid", error.detail)
        }
        func fail(_ line: Int, _ field: String, _ message: String) -> DomainError {
            DomainError.malformed("health.catalogue_invalid", "\(file) line \(line), field \(field): \(message)")
        }
        for column in ["code", "name_en", "name_zh", "class", "unit"] where !csv.has(column) {
            throw DomainError.malformed("health.catalogue_invalid", "\(file): the header must name the column \(column)")
        }
        guard !csv.rows.isEmpty else { throw DomainError.malformed("health.catalogue_invalid", "\(file): the catalogue has no items") }
        guard csv.rows.count <= itemsMax else {
            throw DomainError.malformed("health.catalogue_invalid", "\(file): \(csv.rows.count) items, more than the \(itemsMax) allowed")
        }
        var seen: [String: Int] = [:]
        var items: [CatalogueItem] = []
        items.reserveCapacity(csv.rows.count)
        for row in csv.rows {
            let code = csv.value(row, "code")
            guard isValidCode(code) else { throw fail(row.line, "code", "must be 1-\(codeLengthMax) of A-Z, a-z, 0-9, '.', '-', '_'") }
            if let first = seen[code] { throw fail(row.line, "code", "\(code) is already listed on line \(first)") }
            seen[code] = row.line
            let name: LocalizedName
            do { name = try LocalizedName.validated(en: csv.value(row, "name_en"), zh: csv.value(row, "name_zh"), field: "name") } catch let error as DomainError {
                throw fail(row.line, "name_en/name_zh", error.detail)
            }
            guard let itemClass = ItemClass(rawValue: csv.value(row, "class")) else { throw fail(row.line, "class", "must be A, B or C") }
            var kind = ItemKind.drug
            if let text = csv.optional(row, "kind"), !text.isEmpty {
                guard let parsed = ItemKind(rawValue: text) else { throw fail(row.line, "kind", "must be drug, service or material") }
                kind = parsed
            }
            let unit = csv.value(row, "unit")
            guard (1...unitLengthMax).contains(unit.scalarCount), !unit.containsControlCharacters else {
                throw fail(row.line, "unit", "must be 1-\(unitLengthMax) characters")
            }
            items.append(CatalogueItem(code: code, name: name, itemClass: itemClass, kind: kind, unit: unit))
        }
        return items
    }
}
