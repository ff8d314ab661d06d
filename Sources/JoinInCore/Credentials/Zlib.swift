/// zlib streams (RFC 1950) around DEFLATE (RFC 1951), without Foundation or libz.
///
/// `compress` emits one fixed-Huffman block with a simple hash-chain LZ77 matcher (good enough
/// for status lists, which are mostly zero bytes), or stored blocks for incompressible input;
/// `decompress` is a full inflater for stored,
/// fixed and dynamic Huffman blocks in the style of Mark Adler's `puff.c`, with every
/// consistency check there plus the zlib header and Adler-32 trailer.
public enum Zlib {
    // MARK: Adler-32

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        var i = 0
        while i < bytes.count {
            let end = min(i + 5552, bytes.count) // largest run without UInt32 overflow
            while i < end {
                a &+= UInt32(bytes[i])
                b &+= a
                i += 1
            }
            a %= 65521
            b %= 65521
        }
        return b << 16 | a
    }

    // MARK: Compression

    /// A valid zlib stream: header 0x78 0x9C, then one fixed-Huffman DEFLATE block, or stored
    /// blocks when those are smaller (incompressible input), then the Adler-32.
    public static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var body = fixedHuffmanBlock(bytes)
        let storedSize = max(1, (bytes.count + 65_534) / 65_535) * 5 + bytes.count
        if body.count > storedSize { body = storedBlocks(bytes) }
        let adler = adler32(bytes)
        return [0x78, 0x9C] + body + [UInt8(adler >> 24), UInt8(adler >> 16 & 0xFF), UInt8(adler >> 8 & 0xFF), UInt8(adler & 0xFF)]
    }

    /// DEFLATE stored blocks of at most 65 535 bytes (RFC 1951 §3.2.4); one empty block for no input.
    private static func storedBlocks(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var start = 0
        repeat {
            let length = min(65_535, bytes.count - start)
            let final: UInt8 = start + length == bytes.count ? 1 : 0
            out.append(final) // BFINAL, BTYPE 00, padding to the byte boundary
            out.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8((~length >> 8) & 0xFF)])
            out.append(contentsOf: bytes[start..<(start + length)])
            start += length
        } while start < bytes.count
        return out
    }

    /// One final fixed-Huffman block with greedy hash-chain LZ77 matching.
    private static func fixedHuffmanBlock(_ bytes: [UInt8]) -> [UInt8] {
        var writer = BitWriter()
        writer.write(1, bits: 1) // BFINAL
        writer.write(1, bits: 2) // BTYPE = 01 fixed Huffman

        let count = bytes.count
        let hashBits = 15
        let windowSize = 32768
        let maxChain = 64
        var head = [Int](repeating: -1, count: 1 << hashBits)
        var prev = [Int](repeating: -1, count: windowSize)

        func hash(_ i: Int) -> Int {
            let v = Int(bytes[i]) << 16 | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2])
            return (v &* 2_654_435_761) >> 8 & ((1 << hashBits) - 1)
        }
        func insert(_ i: Int) {
            guard i + 2 < count else { return }
            let h = hash(i)
            prev[i & (windowSize - 1)] = head[h]
            head[h] = i
        }

        var i = 0
        while i < count {
            var bestLength = 0
            var bestDistance = 0
            if i + 2 < count {
                var candidate = head[hash(i)]
                var chain = 0
                let maxLength = min(258, count - i)
                while candidate >= 0, i - candidate <= windowSize, chain < maxChain {
                    var length = 0
                    while length < maxLength, bytes[candidate + length] == bytes[i + length] { length += 1 }
                    if length > bestLength {
                        bestLength = length
                        bestDistance = i - candidate
                        if length == maxLength { break }
                    }
                    let next = prev[candidate & (windowSize - 1)]
                    // Stop when the chain slot was reused for a newer position.
                    guard next < candidate else { break }
                    candidate = next
                    chain += 1
                }
            }
            if bestLength >= 3 {
                writer.writeLength(bestLength)
                writer.writeDistance(bestDistance)
                for j in i..<(i + bestLength) { insert(j) }
                i += bestLength
            } else {
                writer.writeLiteral(Int(bytes[i]))
                insert(i)
                i += 1
            }
        }
        writer.writeLiteral(256) // end of block
        writer.flush()
        return writer.out
    }

    private struct BitWriter {
        var out: [UInt8] = []
        var acc: UInt32 = 0
        var count: UInt32 = 0

        /// Appends `bits` bits of `value`, least significant first.
        mutating func write(_ value: Int, bits: Int) {
            acc |= UInt32(value) << count
            count += UInt32(bits)
            while count >= 8 {
                out.append(UInt8(acc & 0xFF))
                acc >>= 8
                count -= 8
            }
        }

        /// Appends a Huffman code, most significant bit first (RFC 1951 §3.1.1).
        mutating func writeCode(_ code: Int, length: Int) {
            var reversed = 0
            for k in 0..<length where code >> k & 1 == 1 { reversed |= 1 << (length - 1 - k) }
            write(reversed, bits: length)
        }

        /// A literal/length symbol with the fixed code (RFC 1951 §3.2.6).
        mutating func writeLiteral(_ symbol: Int) {
            switch symbol {
            case 0...143: writeCode(0x30 + symbol, length: 8)
            case 144...255: writeCode(0x190 + symbol - 144, length: 9)
            case 256...279: writeCode(symbol - 256, length: 7)
            default: writeCode(0xC0 + symbol - 280, length: 8)
            }
        }

        mutating func writeLength(_ length: Int) {
            var symbol = 28
            while Zlib.lengthBase[symbol] > length { symbol -= 1 }
            writeLiteral(257 + symbol)
            let extra = Zlib.lengthExtra[symbol]
            if extra > 0 { write(length - Zlib.lengthBase[symbol], bits: extra) }
        }

        mutating func writeDistance(_ distance: Int) {
            var symbol = 29
            while Zlib.distanceBase[symbol] > distance { symbol -= 1 }
            writeCode(symbol, length: 5)
            let extra = Zlib.distanceExtra[symbol]
            if extra > 0 { write(distance - Zlib.distanceBase[symbol], bits: extra) }
        }

        mutating func flush() {
            if count > 0 { out.append(UInt8(acc & 0xFF)) }
            acc = 0
            count = 0
        }
    }

    // MARK: Tables (RFC 1951 §3.2.5)

    static let lengthBase = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                             35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    static let lengthExtra = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                              3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0]
    static let distanceBase = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
                               257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145,
                               8193, 12289, 16385, 24577]
    static let distanceExtra = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
                                7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13]
    private static let codeLengthOrder = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]

    // MARK: Decompression

    /// Inflates a complete zlib stream. Throws `CredentialError.malformed` for a bad header
    /// (CM ≠ 8, window > 32 KiB, FCHECK, preset dictionary), any invalid or truncated DEFLATE
    /// data, a wrong Adler-32, bytes after the trailer, or more than `limit` bytes of output.
    public static func decompress(_ bytes: [UInt8], limit: Int) throws -> [UInt8] {
        guard bytes.count >= 6 else { throw CredentialError.malformed("zlib stream too short") }
        let cmf = bytes[0], flg = bytes[1]
        guard cmf & 0x0F == 8 else { throw CredentialError.malformed("zlib compression method is not deflate") }
        guard cmf >> 4 <= 7 else { throw CredentialError.malformed("zlib window size too large") }
        guard (UInt16(cmf) << 8 | UInt16(flg)) % 31 == 0 else { throw CredentialError.malformed("zlib header check failed") }
        guard flg & 0x20 == 0 else { throw CredentialError.malformed("zlib preset dictionary not supported") }

        var inflater = Inflater(input: bytes, position: 2, limit: limit)
        try inflater.run()
        // The trailer starts at the next byte boundary.
        let end = inflater.position
        guard end + 4 <= bytes.count else { throw CredentialError.malformed("zlib stream truncated (Adler-32 missing)") }
        let expected = UInt32(bytes[end]) << 24 | UInt32(bytes[end + 1]) << 16 | UInt32(bytes[end + 2]) << 8 | UInt32(bytes[end + 3])
        guard end + 4 == bytes.count else { throw CredentialError.malformed("bytes after the zlib stream") }
        guard adler32(inflater.output) == expected else { throw CredentialError.malformed("zlib Adler-32 mismatch") }
        return inflater.output
    }

    /// Inflates raw DEFLATE data (RFC 1951: no zlib header, no Adler-32), as stored in ZIP entries.
    /// Throws `CredentialError.malformed` for invalid or truncated data or more than `limit` bytes
    /// of output. Bytes after the final block are ignored.
    public static func inflateRaw(_ bytes: [UInt8], limit: Int) throws -> [UInt8] {
        var inflater = Inflater(input: bytes, position: 0, limit: limit)
        try inflater.run()
        return inflater.output
    }

    /// A canonical Huffman code as in puff.c: `counts[len]` codes of each length and the symbols
    /// ordered by code.
    private struct Huffman {
        var counts = [Int](repeating: 0, count: 16)
        var symbols: [Int]

        /// Builds the code; returns the "left" count: 0 for a complete code, > 0 for an
        /// incomplete one, < 0 for an over-subscribed one.
        init(lengths: [Int], left: inout Int) {
            symbols = [Int](repeating: 0, count: lengths.count)
            for length in lengths { counts[length] += 1 }
            left = 1
            if counts[0] == lengths.count { left = 0; return } // no codes: complete, but decoding fails
            for len in 1...15 {
                left <<= 1
                left -= counts[len]
                if left < 0 { return }
            }
            var offsets = [Int](repeating: 0, count: 16)
            for len in 1..<15 { offsets[len + 1] = offsets[len] + counts[len] }
            for (symbol, length) in lengths.enumerated() where length != 0 {
                symbols[offsets[length]] = symbol
                offsets[length] += 1
            }
        }
    }

    private static let fixedTables: (Huffman, Huffman) = {
        var left = 0
        var lengths = [Int](repeating: 8, count: 288)
        for s in 144..<256 { lengths[s] = 9 }
        for s in 256..<280 { lengths[s] = 7 }
        let literal = Huffman(lengths: lengths, left: &left)
        let distance = Huffman(lengths: [Int](repeating: 5, count: 30), left: &left)
        return (literal, distance)
    }()

    private struct Inflater {
        let input: [UInt8]
        var position: Int
        let limit: Int
        var output: [UInt8] = []
        var bitBuffer: UInt32 = 0
        var bitCount: UInt32 = 0

        init(input: [UInt8], position: Int, limit: Int) {
            self.input = input
            self.position = position
            self.limit = limit
        }

        mutating func bits(_ need: Int) throws -> Int {
            var value = bitBuffer
            while bitCount < UInt32(need) {
                guard position < input.count else { throw CredentialError.malformed("deflate data truncated") }
                value |= UInt32(input[position]) << bitCount
                position += 1
                bitCount += 8
            }
            bitBuffer = UInt32(truncatingIfNeeded: UInt64(value) >> UInt64(need))
            bitCount -= UInt32(need)
            return Int(value & ((1 << UInt32(need)) - 1))
        }

        mutating func run() throws {
            var last = false
            while !last {
                last = try bits(1) == 1
                switch try bits(2) {
                case 0: try stored()
                case 1: try codes(Zlib.fixedTables.0, Zlib.fixedTables.1)
                case 2: try dynamic()
                default: throw CredentialError.malformed("deflate block type 3 is invalid")
                }
            }
            // Discard the remaining bits of the last byte.
            bitBuffer = 0
            bitCount = 0
        }

        mutating func stored() throws {
            bitBuffer = 0
            bitCount = 0
            guard position + 4 <= input.count else { throw CredentialError.malformed("deflate data truncated") }
            let len = Int(input[position]) | Int(input[position + 1]) << 8
            let nlen = Int(input[position + 2]) | Int(input[position + 3]) << 8
            guard len == (~nlen & 0xFFFF) else { throw CredentialError.malformed("deflate stored block length check failed") }
            position += 4
            guard position + len <= input.count else { throw CredentialError.malformed("deflate data truncated") }
            guard output.count + len <= limit else { throw CredentialError.malformed("decompressed data exceeds \(limit) bytes") }
            output.append(contentsOf: input[position..<(position + len)])
            position += len
        }

        mutating func decode(_ h: Huffman) throws -> Int {
            var code = 0, first = 0, index = 0
            for len in 1...15 {
                code |= try bits(1)
                let count = h.counts[len]
                if code - count < first { return h.symbols[index + (code - first)] }
                index += count
                first += count
                first <<= 1
                code <<= 1
            }
            throw CredentialError.malformed("deflate invalid Huffman code")
        }

        mutating func codes(_ literal: Huffman, _ distance: Huffman) throws {
            while true {
                let symbol = try decode(literal)
                if symbol < 256 {
                    guard output.count < limit else { throw CredentialError.malformed("decompressed data exceeds \(limit) bytes") }
                    output.append(UInt8(symbol))
                } else if symbol == 256 {
                    return
                } else {
                    let lengthSymbol = symbol - 257
                    guard lengthSymbol < 29 else { throw CredentialError.malformed("deflate invalid length symbol") }
                    let length = Zlib.lengthBase[lengthSymbol] + (try bits(Zlib.lengthExtra[lengthSymbol]))
                    let distanceSymbol = try decode(distance)
                    guard distanceSymbol < 30 else { throw CredentialError.malformed("deflate invalid distance symbol") }
                    let dist = Zlib.distanceBase[distanceSymbol] + (try bits(Zlib.distanceExtra[distanceSymbol]))
                    guard dist <= output.count else { throw CredentialError.malformed("deflate distance too far back") }
                    guard output.count + length <= limit else { throw CredentialError.malformed("decompressed data exceeds \(limit) bytes") }
                    let start = output.count - dist
                    for k in 0..<length { output.append(output[start + k]) }
                }
            }
        }

        mutating func dynamic() throws {
            let nlen = try bits(5) + 257
            let ndist = try bits(5) + 1
            let ncode = try bits(4) + 4
            guard nlen <= 286, ndist <= 30 else { throw CredentialError.malformed("deflate bad code counts") }
            var lengths = [Int](repeating: 0, count: 19)
            for k in 0..<ncode { lengths[Zlib.codeLengthOrder[k]] = try bits(3) }
            var left = 0
            let lencode = Huffman(lengths: lengths, left: &left)
            guard left == 0 else { throw CredentialError.malformed("deflate incomplete code length code") }

            var all = [Int](repeating: 0, count: nlen + ndist)
            var index = 0
            while index < nlen + ndist {
                var symbol = try decode(lencode)
                if symbol < 16 {
                    all[index] = symbol
                    index += 1
                } else {
                    var len = 0
                    if symbol == 16 {
                        guard index > 0 else { throw CredentialError.malformed("deflate repeat with no first length") }
                        len = all[index - 1]
                        symbol = 3 + (try bits(2))
                    } else if symbol == 17 {
                        symbol = 3 + (try bits(3))
                    } else {
                        symbol = 11 + (try bits(7))
                    }
                    guard index + symbol <= nlen + ndist else { throw CredentialError.malformed("deflate too many lengths") }
                    for _ in 0..<symbol {
                        all[index] = len
                        index += 1
                    }
                }
            }
            guard all[256] != 0 else { throw CredentialError.malformed("deflate no end-of-block code") }

            let literalLengths = Array(all[0..<nlen])
            let literal = Huffman(lengths: literalLengths, left: &left)
            // Incomplete codes are only allowed when there is a single length-1 code (as in puff.c).
            if left < 0 || (left > 0 && nlen != literal.counts[0] + literal.counts[1]) {
                throw CredentialError.malformed("deflate bad literal/length code")
            }
            let distanceLengths = Array(all[nlen...])
            let distance = Huffman(lengths: distanceLengths, left: &left)
            if left < 0 || (left > 0 && ndist != distance.counts[0] + distance.counts[1]) {
                throw CredentialError.malformed("deflate bad distance code")
            }
            try codes(literal, distance)
        }
    }
}
