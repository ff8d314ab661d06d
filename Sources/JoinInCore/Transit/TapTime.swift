/// An RFC 3339 timestamp with its UTC offset kept (`2026-12-05T08:31:07+08:00`): the instant, and
/// the offset that gives the local time a fare's timeframe is judged by.
public struct TapTime: Sendable, Equatable {
    public let unixMs: Int64
    public let utcOffsetMinutes: Int

    /// Nil unless `text` is `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` naming a real instant
    /// (offsets up to ±18:00; leap seconds are refused).
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.count <= 40 else { return nil }
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                guard index < bytes.count, (48...57).contains(bytes[index]) else { return nil }
                value = value * 10 + Int(bytes[index] - 48)
            }
            return value
        }
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              let year = digits(0..<4), let month = digits(5..<7), let day = digits(8..<10),
              let hour = digits(11..<13), let minute = digits(14..<16), let second = digits(17..<19),
              hour < 24, minute < 60, second < 60,
              let date = CivilDate(year: year, month: month, day: day) else { return nil }
        var index = 19
        var millis = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var count = 0
            while index < bytes.count, (48...57).contains(bytes[index]) {
                if count < 3 { millis = millis * 10 + Int(bytes[index] - 48) }
                count += 1
                index += 1
            }
            guard (1...9).contains(count) else { return nil }
            for _ in count..<3 where count < 3 { millis *= 10 }
        }
        guard index < bytes.count else { return nil }
        let offset: Int
        if bytes[index] == UInt8(ascii: "Z") || bytes[index] == UInt8(ascii: "z") {
            guard index + 1 == bytes.count else { return nil }
            offset = 0
        } else {
            guard bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-"), index + 6 == bytes.count,
                  bytes[index + 3] == UInt8(ascii: ":"),
                  let offsetHours = digits((index + 1)..<(index + 3)), let offsetMinutes = digits((index + 4)..<(index + 6)),
                  offsetMinutes < 60, offsetHours * 60 + offsetMinutes <= 18 * 60 else { return nil }
            offset = (bytes[index] == UInt8(ascii: "-") ? -1 : 1) * (offsetHours * 60 + offsetMinutes)
        }
        let localSeconds = Int64(date.daysSinceEpoch) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        unixMs = (localSeconds - Int64(offset) * 60) * 1000 + Int64(millis)
        utcOffsetMinutes = offset
    }

    public init(unixMs: Int64, utcOffsetMinutes: Int) {
        self.unixMs = unixMs
        self.utcOffsetMinutes = utcOffsetMinutes
    }
}
