/// A calendar date (proleptic Gregorian) without time zone, as `YYYY-MM-DD`.
/// Business dates (validity, due dates) are calendar dates in Asia/Shanghai.
public struct CivilDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Creates a date; nil when the components do not name a real day in years 1...9999.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...CivilDate.daysIn(month: month, year: year)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses exactly `YYYY-MM-DD`.
    public init?(_ text: String) {
        // Exactly YYYY-MM-DD in ASCII, read as bytes (credential verification parses two per token).
        let bytes = text.utf8
        guard bytes.count == 10 else { return nil }
        var y = 0, m = 0, d = 0
        for (index, byte) in bytes.enumerated() {
            if index == 4 || index == 7 {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            let digit = Int(byte - UInt8(ascii: "0"))
            switch index {
            case 0..<4: y = y * 10 + digit
            case 5..<7: m = m * 10 + digit
            default: d = d * 10 + digit
            }
        }
        self.init(year: y, month: m, day: d)
    }

    /// Parses a date or throws a 400 naming `field`.
    public static func parse(_ text: String, field: String) throws -> CivilDate {
        guard let date = CivilDate(text) else {
            throw DomainError.malformed("date.invalid", "\(field) must be a real calendar date as YYYY-MM-DD, got '\(text.prefix(40))'")
        }
        return date
    }

    public var description: String {
        let y = String(year), m = String(month), d = String(day)
        return String(repeating: "0", count: max(0, 4 - y.count)) + y + "-"
            + (m.count == 1 ? "0" + m : m) + "-" + (d.count == 1 ? "0" + d : d)
    }

    public static func < (a: CivilDate, b: CivilDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    public static func isLeap(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The date `days` days since 1970-01-01 (civil_from_days).
    public init(daysSinceEpoch days: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.month = m
        self.day = d
    }

    public func adding(days: Int) -> CivilDate { CivilDate(daysSinceEpoch: daysSinceEpoch + days) }

    /// Same day `years` later; 29 February falls back to 28 February in a non-leap year.
    public func adding(years: Int) -> CivilDate {
        let y = year + years
        let d = min(day, CivilDate.daysIn(month: month, year: y))
        return CivilDate(uncheckedYear: y, month: month, day: d)
    }

    /// Same day `months` later, clamped to the month's last day.
    public func adding(months: Int) -> CivilDate {
        let total = (year * 12 + (month - 1)) + months
        let y = total / 12
        let m = total % 12 + 1
        return CivilDate(uncheckedYear: y, month: m, day: min(day, CivilDate.daysIn(month: m, year: y)))
    }

    /// Whole years from `self` to `other` (age arithmetic).
    public func wholeYears(until other: CivilDate) -> Int {
        var years = other.year - year
        if (other.month, other.day) < (month, day) { years -= 1 }
        return years
    }

    /// The calendar date in Asia/Shanghai (UTC+8, no daylight saving since 1991) at a Unix time.
    public static func shanghai(unixSeconds: Int64) -> CivilDate {
        let local = unixSeconds + 8 * 3600
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        return CivilDate(daysSinceEpoch: Int(days))
    }

    /// This date as a day in Asia/Shanghai: [local midnight, next local midnight) in Unix ms. Daily
    /// limits and wrong-PIN counters run on this window.
    public var shanghaiDayMs: Range<Int64> {
        let start = (Int64(daysSinceEpoch) * 86_400 - 8 * 3600) * 1000
        return start..<(start + 86_400_000)
    }

    private init(uncheckedYear year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = CivilDate(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "expected a calendar date YYYY-MM-DD, got '\(text.prefix(40))'"))
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension Character {
    /// Exactly one ASCII scalar 0-9 (a digit with a combining mark is not a digit).
    public var isASCIIDigit: Bool { unicodeScalars.count == 1 && asciiValue.map { (0x30...0x39).contains($0) } == true }
    /// Exactly one ASCII scalar A-Z.
    public var isASCIIUppercaseLetter: Bool { unicodeScalars.count == 1 && asciiValue.map { (0x41...0x5A).contains($0) } == true }
}
