import JoinInTestSupport
import Testing
@testable import JoinInCore

@Suite("Credentials: Zlib")
struct CredentialZlibTests {
    @Test func vectorsCoverAllBlockTypes() {
        let types = Set(CredJOSEVectors.zlib.map(\.blockType))
        #expect(types == [0, 1, 2])
        #expect(Set(CredJOSEVectors.zlib.map(\.level)).isSuperset(of: [0, 1, 9]))
    }

    @Test(arguments: CredJOSEVectors.zlib.map(\.name))
    func inflatesCPythonZlibOutput(_ name: String) throws {
        let vector = try #require(CredJOSEVectors.zlib.first { $0.name == name })
        let input = credHex(vector.inputHex)
        let compressed = credHex(vector.compressedHex)
        #expect(try Zlib.decompress(compressed, limit: input.count) == input)
        if !input.isEmpty {
            #expect(credIsMalformed(credError { try Zlib.decompress(compressed, limit: input.count - 1) }), "limit")
        }
        // Our own compressor reproduces the input through our inflater too.
        #expect(try Zlib.decompress(Zlib.compress(input), limit: input.count) == input)
    }

    @Test func adler32KnownValues() {
        #expect(Zlib.adler32([]) == 1)
        #expect(Zlib.adler32(Array("Wikipedia".utf8)) == 0x11E6_0398)
        // Long enough to exercise the deferred modulo.
        #expect(Zlib.adler32([UInt8](repeating: 0xFF, count: 100_000)) == credAdler32Reference([UInt8](repeating: 0xFF, count: 100_000)))
    }

    @Test func compressedStreamHasAValidHeader() {
        let stream = Zlib.compress(Array("hello".utf8))
        #expect(stream[0] & 0x0F == 8)
        #expect((Int(stream[0]) << 8 | Int(stream[1])) % 31 == 0)
        #expect(stream[1] & 0x20 == 0)
    }

    @Test func randomInputsRoundTrip() throws {
        var rng = SeededGenerator(seed: 0x21B_0001)
        for round in 0..<300 {
            let input = credRandomPayload(&rng)
            let compressed = Zlib.compress(input)
            #expect(try Zlib.decompress(compressed, limit: input.count) == input, "round \(round), \(input.count) bytes")
        }
    }

    @Test func incompressibleInputFallsBackToStoredBlocks() throws {
        var rng = SeededGenerator(seed: 0x21B_0002)
        for count in [0, 1, 100, 65_535, 65_536, 140_000] {
            let input = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let compressed = Zlib.compress(input)
            let blocks = max(1, (count + 65_534) / 65_535)
            #expect(compressed.count <= 2 + blocks * 5 + count + 4, "\(count) bytes")
            #expect(try Zlib.decompress(compressed, limit: count) == input)
        }
    }

    @Test func statusListSizedInputsCompressWell() throws {
        var list = [UInt8](repeating: 0, count: 128 * 1024) // 1 Mi tokens
        for index in [0, 5, 77_777, 131_071] { list[index] = 0x10 }
        let compressed = Zlib.compress(list)
        #expect(compressed.count < 2_000, "\(compressed.count) bytes")
        #expect(try Zlib.decompress(compressed, limit: list.count) == list)
    }

    @Test func outputOverTheLimitThrows() {
        let zeros = Zlib.compress([UInt8](repeating: 0, count: 10_000))
        #expect(credIsMalformed(credError { try Zlib.decompress(zeros, limit: 9_999) }))
        #expect((try? Zlib.decompress(zeros, limit: 10_000))?.count == 10_000)
        // A tiny stream that inflates to a large output is stopped at the limit.
        let bomb = Zlib.compress([UInt8](repeating: 0, count: 1 << 20))
        #expect(credIsMalformed(credError { try Zlib.decompress(bomb, limit: 1_000) }))
        // Stored blocks are limited too.
        let stored = credHex(CredJOSEVectors.zlib.first { $0.name == "text-L0" }?.compressedHex ?? "")
        #expect(credIsMalformed(credError { try Zlib.decompress(stored, limit: 100) }))
    }

    @Test func corruptHeaderTrailerAndTruncationThrow() throws {
        for vector in CredJOSEVectors.zlib where ["hello-L9", "text-L9", "statuslist4k-L9", "random-L0"].contains(vector.name) {
            let good = credHex(vector.compressedHex)
            let limit = 1 << 20
            // Adler-32: every byte of the trailer.
            for k in 1...4 {
                var bad = good
                bad[bad.count - k] ^= 0x01
                #expect(credIsMalformed(credError { try Zlib.decompress(bad, limit: limit) }), "\(vector.name) adler byte \(k)")
            }
            // Header: compression method, FCHECK, preset dictionary (with a correct FCHECK), window.
            var cm = good; cm[0] = (cm[0] & 0xF0) | 7
            var fcheck = good; fcheck[1] ^= 0x01
            var fdict = good; fdict[1] |= 0x20; fdict[1] = (fdict[1] & 0xE0) | UInt8(31 - (Int(fdict[0]) << 8 | Int(fdict[1] & 0xE0)) % 31) % 31
            var window = good; window[0] = 0x88; window[1] = UInt8(31 - (0x8800 | Int(window[1] & 0xE0)) % 31) % 31 | (window[1] & 0xE0)
            #expect((Int(fdict[0]) << 8 | Int(fdict[1])) % 31 == 0)
            #expect((Int(window[0]) << 8 | Int(window[1])) % 31 == 0)
            for (what, bad) in [("cm", cm), ("fcheck", fcheck), ("fdict", fdict), ("window", window)] {
                #expect(credIsMalformed(credError { try Zlib.decompress(bad, limit: limit) }), "\(vector.name) \(what)")
            }
            // Every truncation, and trailing garbage.
            for length in 0..<good.count {
                #expect(credIsMalformed(credError { try Zlib.decompress(Array(good.prefix(length)), limit: limit) }), "\(vector.name) cut at \(length)")
            }
            #expect(credIsMalformed(credError { try Zlib.decompress(good + [0], limit: limit) }), "\(vector.name) trailing byte")
        }
    }

    @Test func invalidDeflateDataThrows() {
        func stream(_ deflate: [UInt8], adler: UInt32 = 1) -> [UInt8] {
            [0x78, 0x01] + deflate + [UInt8(adler >> 24), UInt8(adler >> 16 & 0xFF), UInt8(adler >> 8 & 0xFF), UInt8(adler & 0xFF)]
        }
        // Empty stored block, final: valid.
        #expect((try? Zlib.decompress(stream([0x01, 0x00, 0x00, 0xFF, 0xFF]), limit: 10)) == [])
        // LEN / NLEN mismatch.
        #expect(credIsMalformed(credError { try Zlib.decompress(stream([0x01, 0x00, 0x00, 0xFF, 0xFE]), limit: 10) }))
        // Block type 3.
        #expect(credIsMalformed(credError { try Zlib.decompress(stream([0x07, 0x00]), limit: 10) }))
        // Fixed block whose first symbol is a distance reference with nothing before it:
        // length 3 is code 257 (0000001), distance 0 (00000), then end of block.
        var writer = CredBitWriter()
        writer.write(1, 1); writer.write(1, 2); writer.code(0b0000001, 7); writer.code(0, 5); writer.code(0, 7)
        #expect(credIsMalformed(credError { try Zlib.decompress(stream(writer.bytes), limit: 10) }))
        // Fixed block with literal/length symbol 286 (code 11000110), which does not exist.
        writer = CredBitWriter()
        writer.write(1, 1); writer.write(1, 2); writer.code(0b1100_0110, 8); writer.code(0, 7)
        #expect(credIsMalformed(credError { try Zlib.decompress(stream(writer.bytes), limit: 10) }))
        // Fixed block with distance symbol 30 after a literal.
        writer = CredBitWriter()
        writer.write(1, 1); writer.write(1, 2); writer.code(0x30 + 65, 8); writer.code(0b0000001, 7); writer.code(30, 5); writer.code(0, 7)
        #expect(credIsMalformed(credError { try Zlib.decompress(stream(writer.bytes), limit: 10) }))
        // Dynamic block with an over-subscribed code length code (all 19 lengths 1).
        writer = CredBitWriter()
        writer.write(1, 1); writer.write(2, 2); writer.write(0, 5); writer.write(0, 5); writer.write(15, 4)
        for _ in 0..<19 { writer.write(1, 3) }
        #expect(credIsMalformed(credError { try Zlib.decompress(stream(writer.bytes + [0, 0]), limit: 10) }))
        // Non-final empty block followed by nothing.
        #expect(credIsMalformed(credError { try Zlib.decompress(stream([0x00, 0x00, 0x00, 0xFF, 0xFF]), limit: 10) }))
    }

    @Test func singleBitFlipsNeverYieldOtherData() throws {
        // Every bit of a few small streams, and a sample of a dynamic one: the result is either an
        // error or (for bits that carry nothing, like the padding of the last byte) the original.
        var rng = SeededGenerator(seed: 0xF11B_0001)
        for vector in CredJOSEVectors.zlib where ["hello-L1", "hello-L9", "statuslist4k-L9", "text-L9", "text-syncflush-L6"].contains(vector.name) {
            let good = credHex(vector.compressedHex)
            let input = credHex(vector.inputHex)
            let positions = good.count * 8 <= 1_000 ? Array(0..<(good.count * 8)) : (0..<400).map { _ in Int.random(in: 0..<(good.count * 8), using: &rng) }
            for bit in positions {
                var bad = good
                bad[bit / 8] ^= 1 << UInt8(bit % 8)
                if let output = try? Zlib.decompress(bad, limit: 1 << 16) {
                    #expect(output == input, "\(vector.name) bit \(bit)")
                }
            }
        }
    }

    @Test func randomGarbageNeverCrashes() {
        var rng = SeededGenerator(seed: 0x6A4B_0001)
        for _ in 0..<2_000 {
            var bytes: [UInt8] = [0x78, 0x9C]
            bytes += (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if let output = try? Zlib.decompress(bytes, limit: 4_096) {
                #expect(output.count <= 4_096)
            }
        }
    }
}

/// Adler-32 the slow, obvious way (RFC 1950 §9).
func credAdler32Reference(_ bytes: [UInt8]) -> UInt32 {
    var a: UInt32 = 1, b: UInt32 = 0
    for byte in bytes {
        a = (a + UInt32(byte)) % 65521
        b = (b + a) % 65521
    }
    return b << 16 | a
}

/// Random test data of several shapes: noise, runs, mostly zeros, repetitive text.
func credRandomPayload(_ rng: inout SeededGenerator) -> [UInt8] {
    let count = [0, 1, 2, 3, 4, 257, 258, 259, Int.random(in: 0...5_000, using: &rng)].randomElement(using: &rng) ?? 0
    switch Int.random(in: 0..<4, using: &rng) {
    case 0:
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    case 1:
        var out: [UInt8] = []
        while out.count < count {
            out += [UInt8](repeating: UInt8.random(in: 0...3, using: &rng), count: Int.random(in: 1...600, using: &rng))
        }
        return Array(out.prefix(count))
    case 2:
        var out = [UInt8](repeating: 0, count: count)
        for _ in 0..<(count / 100) { out[Int.random(in: 0..<count, using: &rng)] |= 1 << UInt8.random(in: 0...7, using: &rng) }
        return out
    default:
        let words = ["permit ", "card ", "valid ", "revoked ", "上海 ", "status ", "\n"]
        var out: [UInt8] = []
        while out.count < count { out += Array((words.randomElement(using: &rng) ?? "x").utf8) }
        return Array(out.prefix(count))
    }
}

/// Writes DEFLATE bits (least significant first) for hand-made invalid streams.
struct CredBitWriter {
    private var bits: [Bool] = []

    var bytes: [UInt8] {
        stride(from: 0, to: bits.count, by: 8).map { start in
            var byte: UInt8 = 0
            for k in 0..<min(8, bits.count - start) where bits[start + k] { byte |= 1 << UInt8(k) }
            return byte
        }
    }

    mutating func write(_ value: Int, _ count: Int) {
        for k in 0..<count { bits.append(value >> k & 1 == 1) }
    }

    /// A Huffman code, most significant bit first.
    mutating func code(_ value: Int, _ count: Int) {
        for k in stride(from: count - 1, through: 0, by: -1) { bits.append(value >> k & 1 == 1) }
    }
}
