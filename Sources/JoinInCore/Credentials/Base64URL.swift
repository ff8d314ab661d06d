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
        chars.withUnsafeBytes { decode(bytes: $0) }
    }

    static func decode(utf8 chars: ArraySlice<UInt8>) -> [UInt8]? {
        chars.withUnsafeBytes { decode(bytes: $0) }
    }

    /// Four characters at a time straight into the result's storage.
    static func decode(bytes chars: UnsafeRawBufferPointer) -> [UInt8]? {
        let remainder = chars.count % 4
        guard remainder != 1 else { return nil }
        let outCount = chars.count / 4 * 3 + (remainder == 0 ? 0 : remainder - 1)
        var valid = true
        let out = values.withUnsafeBufferPointer { table in
            [UInt8](unsafeUninitializedCapacity: outCount) { buffer, initialized in
                var i = 0
                var o = 0
                while i + 4 <= chars.count {
                    let a = table[Int(chars[i])], b = table[Int(chars[i + 1])]
                    let c = table[Int(chars[i + 2])], d = table[Int(chars[i + 3])]
                    // Alphabet values are below 64; 0xFF marks a byte outside the alphabet.
                    guard (a | b | c | d) & 0xC0 == 0 else { valid = false; return }
                    let n = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    buffer[o] = UInt8(truncatingIfNeeded: n >> 16)
                    buffer[o + 1] = UInt8(truncatingIfNeeded: n >> 8)
                    buffer[o + 2] = UInt8(truncatingIfNeeded: n)
                    i += 4
                    o += 3
                }
                if remainder >= 2 {
                    let a = table[Int(chars[i])], b = table[Int(chars[i + 1])]
                    let c = remainder == 3 ? table[Int(chars[i + 2])] : 0
                    guard (a | b | c) & 0xC0 == 0 else { valid = false; return }
                    // The unused low bits of the last character must be zero (canonical form).
                    guard remainder == 2 ? b & 0x0F == 0 : c & 0x03 == 0 else { valid = false; return }
                    let n = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6
                    buffer[o] = UInt8(truncatingIfNeeded: n >> 16)
                    o += 1
                    if remainder == 3 {
                        buffer[o] = UInt8(truncatingIfNeeded: n >> 8)
                        o += 1
                    }
                }
                initialized = o
            }
        }
        return valid ? out : nil
    }
}
