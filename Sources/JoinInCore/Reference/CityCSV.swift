/// The prefecture-level city CSV (`code,name,provinceCode`, 4-digit codes) of the shared
/// reference data. Parsing is all-or-nothing: one bad row rejects the file, naming its line.
public enum CityCSV {
    public static let rowsMax = 10_000
    /// Placeholder rows of municipalities and directly administered counties: not cities.
    public static let placeholderNames: Set<String> = ["市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"]

    public struct Row: Sendable, Equatable {
        public let line: Int
        /// 6-digit GB/T 2260 code (the file's 4 digits + "00").
        public let code: String
        public let nameZh: String
        public let provinceCode: String
    }

    public struct Parsed: Sendable, Equatable {
        public let rows: [Row]
        public let skippedPlaceholders: Int
    }

    public static func parse(_ text: String) throws -> Parsed {
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { String($0).trimmingSuffix("\r") }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let header = lines.first else {
            throw DomainError.malformed("import.empty", "the file is empty")
        }
        let columns = try fields(of: header.trimmingPrefix("\u{FEFF}"), line: 1)
        guard columns == ["code", "name", "provinceCode"] else {
            throw DomainError.malformed("import.header", "line 1: expected header code,name,provinceCode, got \(header.prefix(80))")
        }
        guard lines.count - 1 <= rowsMax else {
            throw DomainError.malformed("import.too_many_rows", "at most \(rowsMax) rows per file")
        }
        var rows: [Row] = []
        var skipped = 0
        var seen: Set<String> = []
        for (offset, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            let number = offset + 1
            let values = try fields(of: line, line: number)
            guard values.count == 3 else {
                throw DomainError.malformed("import.row", "line \(number): expected 3 fields, got \(values.count)")
            }
            let (code, name, province) = (values[0], values[1].trimmingWhitespace(), values[2])
            guard code.count == 4, code.allSatisfy(\.isASCIIDigit) else {
                throw DomainError.malformed("import.code", "line \(number): code must be 4 digits, got '\(code.prefix(20))'")
            }
            guard province.count == 2, province.allSatisfy(\.isASCIIDigit), code.hasPrefix(province) else {
                throw DomainError.malformed("import.province", "line \(number): provinceCode must be the first 2 digits of code")
            }
            guard !name.isEmpty, name.count <= LocalizedName.lengthMax else {
                throw DomainError.malformed("import.name", "line \(number): name must be 1-\(LocalizedName.lengthMax) characters")
            }
            if placeholderNames.contains(name) {
                skipped += 1
                continue
            }
            guard seen.insert(code).inserted else {
                throw DomainError.malformed("import.duplicate", "line \(number): code \(code) appears twice")
            }
            rows.append(Row(line: number, code: code + "00", nameZh: name, provinceCode: province))
        }
        return Parsed(rows: rows, skippedPlaceholders: skipped)
    }

    /// RFC 4180 fields of one line: commas, double-quoted fields with "" escapes.
    static func fields(of line: String, line number: Int) throws -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var index = line.startIndex
        while index < line.endIndex {
            let character = line[index]
            if quoted {
                if character == "\"" {
                    let next = line.index(after: index)
                    if next < line.endIndex && line[next] == "\"" {
                        current.append("\"")
                        index = next
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"" && current.isEmpty {
                quoted = true
            } else if character == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(character)
            }
            index = line.index(after: index)
        }
        guard !quoted else { throw DomainError.malformed("import.quote", "line \(number): unterminated quoted field") }
        fields.append(current)
        return fields
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String { hasSuffix(suffix) ? String(dropLast(suffix.count)) : self }
    func trimmingPrefix(_ prefix: String) -> String { hasPrefix(prefix) ? String(dropFirst(prefix.count)) : self }
}
