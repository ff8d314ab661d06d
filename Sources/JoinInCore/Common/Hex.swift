/// Lower-case hexadecimal of bytes. `String(format: "%02x")` per byte went through Foundation's
/// CFString formatting and was ~2% of the CPU of an authenticated request (session digests,
/// idempotency fingerprints; perf, `bench ledger`).
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func lowercase<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let input = Array(bytes)
        return String(unsafeUninitializedCapacity: input.count * 2) { buffer in
            var index = 0
            for byte in input {
                buffer[index] = digits[Int(byte >> 4)]
                buffer[index + 1] = digits[Int(byte & 0x0F)]
                index += 2
            }
            return index
        }
    }
}
