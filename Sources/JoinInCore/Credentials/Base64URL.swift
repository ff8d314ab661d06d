/// Base64 with the URL- and filename-safe alphabet (RFC 4648 §5), without padding, as used by
/// JOSE (RFC 7515 §2). Decoding is strict: only the 64 alphabet characters, no padding, no
/// whitespace, and the unused low bits of the last character must be zero, so every byte string
/// has exactly one accepted encoding.
public enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Value of each ASCII byte in the alphabet, 0xFF when not in it.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, char) in alphabet.enumerated() { table[Int(char)] = UInt8(index) }
        return table
    }()

    /// Encodes without padding.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        String(decoding: encodeBytes(Array(bytes)), as: UTF8.self)
    }

    /// Encodes without padding, as ASCII bytes (no String round trip on hot paths).
    static func encodeBytes(_ input: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(encodedCount(input.count))
        input.withUnsafeBytes { append(encoding: $0, to: &out) }
        return out
    }

    static func encodedCount(_ count: Int) -> Int {
        count / 3 * 4 + (count % 3 == 0 ? 0 : count % 3 + 1)
    }

    /// Appends the encoding of `input` to `out`, writing straight into the array's storage (the
    /// credential hot path: no per-character append).
    static func append(encoding input: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let start = out.count
        let count = encodedCount(input.count)
        out.append(contentsOf: repeatElement(0, count: count))
        out.withUnsafeMutableBufferPointer { buffer in
            alphabet.withUnsafeBufferPointer { table in
                var o = start
                var i = 0
                while i + 3 <= input.count {
                    let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                    buffer[o] = table[Int(n >> 18 & 63)]
                    buffer[o + 1] = table[Int(n >> 12 & 63)]
                    buffer[o + 2] = table[Int(n >> 6 & 63)]
                    buffer[o + 3] = table[Int(n & 63)]
                    o += 4
                    i += 3
                }
                switch input.count - i {
                case 1:
                    let n = UInt32(input[i]) << 16
                    buffer[o] = table[Int(n >> 18 & 63)]
                    buffer[o + 1] = table[Int(n >> 12 & 63)]
                case 2:
                    let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
                    buffer[o] = table[Int(n >> 18 & 63)]
                    buffer[o + 1] = table[Int(n >> 12 & 63)]
                    buffer[o + 2] = table[Int(n >> 6 & 63)]
                default:
                    break
                }
            }
        }
    }

    /// Decodes unpadded base64url; nil for any character outside the alphabet (including `=`,
    /// `+`, `/` and whitespace), a length that leaves a single character over (`len % 4 == 1`),
    /// or non-zero unused bits in the last character (a non-canonical encoding).
    public static func decode(_ text: String) -> [UInt8]? {
        decode(utf8: Array(text.utf8))
    }

    static func decode(utf8 chars: [UInt8]) -> [UInt8]? {
        guard chars.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for char in chars {
            let value = values[Int(char)]
            guard value != 0xFF else { return nil }
            acc = acc << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
                acc &= (1 << UInt32(bits)) - 1
            }
        }
        // Leftover bits (2 or 4) are padding and must be zero.
        guard acc == 0 else { return nil }
        return out
    }
}
