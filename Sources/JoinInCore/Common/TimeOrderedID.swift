import Synchronization

/// UUID version 7 (RFC 9562 §5.7) with a counter (§6.2, method 1): a 48-bit Unix-millisecond
/// timestamp, a 42-bit counter that only grows in this process, then 32 random bits. Ids made one
/// after another sort as text in the order they were made (within a process; across processes by
/// millisecond), so rows keyed by them append at the end of the primary-key index instead of
/// landing at random places in it (issue 14; measured with `joinin bench ledger`,
/// docs/performance.md). The random tail keeps ids of different processes or replicas apart.
public enum TimeOrderedID {
    private static let counter = Atomic<UInt64>(0)

    public static func make(unixMs: Int64) -> String {
        var generator = SystemRandomNumberGenerator()
        return make(unixMs: unixMs, using: &generator)
    }

    public static func make(unixMs: Int64, using generator: inout some RandomNumberGenerator) -> String {
        let time = UInt64(max(0, min(unixMs, (1 << 48) - 1)))
        let count = counter.add(1, ordering: .relaxed).newValue & 0x3FF_FFFF_FFFF   // 42 bits
        let random = generator.next() & 0xFFFF_FFFF
        let high = time << 16 | 0x7000 | (count >> 30)                           // time, version 7, counter (12 high bits)
        let low = 0x8000_0000_0000_0000 | (count & 0x3FFF_FFFF) << 32 | random  // variant 10, counter (30 bits), random
        // 36 ASCII bytes written in place: 8-4-4-4-12 hex digits (this runs for every row a write
        // inserts, so no intermediate strings).
        return String(unsafeUninitializedCapacity: 36) { buffer in
            let digits: StaticString = "0123456789abcdef"
            var position = 0
            func put(_ value: UInt64, nibbles: Int) {
                for shift in stride(from: (nibbles - 1) * 4, through: 0, by: -4) {
                    buffer[position] = digits.utf8Start[Int((value >> UInt64(shift)) & 0xF)]
                    position += 1
                }
            }
            func dash() {
                buffer[position] = UInt8(ascii: "-")
                position += 1
            }
            put(high >> 32, nibbles: 8)
            dash()
            put(high >> 16, nibbles: 4)
            dash()
            put(high, nibbles: 4)
            dash()
            put(low >> 48, nibbles: 4)
            dash()
            put(low, nibbles: 12)
            return position
        }
    }
}
