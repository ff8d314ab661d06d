import Testing
@testable import JoinInCore

/// The QR encoder against segno 1.6.6 (scripts/make-qr-vectors.py, with segno's padding-bit fix
/// of issue #148 applied) and against values from ISO/IEC 18004.
@Suite("QRCode encoder")
struct QRCodeTests {
    static func level(_ letter: String) -> QRErrorCorrection {
        QRErrorCorrection(rawValue: letter) ?? .medium
    }

    static func rows(of code: QRCode) -> [String] {
        (0..<code.size).map { y in String((0..<code.size).map { code.isDark(x: $0, y: y) ? "1" : "0" }) }
    }

    /// Index of the first differing row, nil when identical.
    static func firstDifference(_ a: [String], _ b: [String]) -> Int? {
        if a.count != b.count { return -1 }
        return zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset
    }

    // MARK: Against segno

    @Test("Forced version and mask: bit-identical to segno", arguments: QRVectors.all.filter(\.forced).map(\.name))
    func forcedMatchesSegno(name: String) throws {
        let vector = try #require(QRVectors.all.first { $0.name == name })
        let code = try QRCode.encode(vector.payload, errorCorrection: Self.level(vector.level),
                                     minimumVersion: vector.version, mask: vector.mask)
        #expect(code.version == vector.version)
        #expect(code.mask == vector.mask)
        #expect(code.size == 17 + 4 * vector.version)
        let ours = Self.rows(of: code)
        #expect(Self.firstDifference(ours, vector.rows) == nil, "\(name): first differing row")
    }

    @Test("Automatic choice: same version, mask and matrix as segno", arguments: QRVectors.all.filter { !$0.forced }.map(\.name))
    func automaticMatchesSegno(name: String) throws {
        let vector = try #require(QRVectors.all.first { $0.name == name })
        let code = try QRCode.encode(vector.payload, errorCorrection: Self.level(vector.level))
        #expect(code.version == vector.version)
        #expect(code.mask == vector.mask)
        #expect(Self.firstDifference(Self.rows(of: code), vector.rows) == nil, "\(name): first differing row")
    }

    @Test("Unpatched segno 1.6.6 differs only by its extra padding byte (segno issue #148)")
    func unpatchedSegnoDiffers() throws {
        let unpatched = QRVectors.unpatchedShortM10
        let patched = try #require(QRVectors.all.first { $0.name == "short-M-1-0" })
        let code = try QRCode.encode(unpatched.payload, errorCorrection: .medium, minimumVersion: 1, mask: 0)
        #expect(Self.rows(of: code) == patched.rows)
        #expect(Self.rows(of: code) != unpatched.rows)
        // The standard's stream: 0100, count 13, "Hello, world!", 0000 terminator (120 bits, on a
        // codeword boundary, so no padding bits), then the pad codeword 0xEC; segno writes 0x00.
        let data = QRCode.dataCodewords(unpatched.payload, version: 1, errorCorrection: .medium)
        #expect(data.count == 16)
        #expect(data[0] == 0x40 && data[1] == 0xD4 && data[2] == 0x86)
        #expect(data[14] == 0x10 && data[15] == 0xEC)
    }

    @Test("Text encodes its UTF-8 bytes")
    func textIsUTF8() throws {
        let text = "宁波聚英卡"
        let bytes = try #require(QRVectors.payloads["chinese"])
        #expect(Array(text.utf8) == bytes)
        #expect(try QRCode.encode(text, errorCorrection: .quartile) == QRCode.encode(bytes, errorCorrection: .quartile))
    }

    // MARK: Tables

    @Test("Data capacity of all 40 versions × 4 levels equals segno's")
    func capacityTable() {
        for version in 1...40 {
            for (index, level) in QRErrorCorrection.allCases.enumerated() {
                #expect(QRCode.dataCodewords(version: version, errorCorrection: level) * 8 == QRVectors.dataBits[version - 1][index],
                        "version \(version) level \(level.rawValue)")
            }
        }
    }

    @Test("Blocks fill exactly the modules of the encoding region")
    func blockStructure() {
        for version in 1...40 {
            // Remainder bits (Table 1): 0, 7, 0, 3, 4, 3, 0 by version range.
            let remainder = QRCode.rawDataModules(version: version) % 8
            let expected: Int = switch version {
            case 2...6: 7
            case 14...20, 28...34: 3
            case 21...27: 4
            default: 0
            }
            #expect(remainder == expected, "version \(version)")
            for level in QRErrorCorrection.allCases {
                let blocks = QRCode.errorCorrectionBlocks[level.tableIndex][version - 1]
                let data = QRCode.dataCodewords(version: version, errorCorrection: level)
                #expect(data > 0 && blocks <= data)
                let codewords = QRCode.addErrorCorrectionAndInterleave([UInt8](repeating: 0xA5, count: data), version: version, errorCorrection: level)
                #expect(codewords.count == QRCode.totalCodewords(version: version))
            }
        }
        #expect(QRCode.totalCodewords(version: 1) == 26)
        #expect(QRCode.totalCodewords(version: 40) == 3706)
    }

    @Test("Alignment pattern positions of all versions equal segno's (Annex E)")
    func alignmentPositions() {
        for version in 1...40 {
            #expect(QRCode.alignmentPositions(version: version) == QRVectors.alignment[version - 1], "version \(version)")
        }
    }

    // MARK: Reed–Solomon, format and version information

    @Test("Reed–Solomon: Annex I example 01234567 at 1-M")
    func reedSolomonAnnexI() {
        let data: [UInt8] = [0x10, 0x20, 0x0C, 0x56, 0x61, 0x80, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11, 0xEC, 0x11]
        let expected: [UInt8] = [0xA5, 0x24, 0xD4, 0xC1, 0xED, 0x36, 0xC7, 0x87, 0x2C, 0x55]
        #expect(ReedSolomon.remainder(data, degree: 10) == expected)
        #expect(data == QRVectors.rsData)
        #expect(expected == QRVectors.rsECC)
        // The codeword polynomial is divisible by the generator: appending the remainder leaves 0.
        #expect(ReedSolomon.remainder(data + expected, degree: 10) == [UInt8](repeating: 0, count: 10))
    }

    @Test("GF(256) arithmetic with 0x11D")
    func galoisField() {
        #expect(ReedSolomon.multiply(0x80, 0x02) == 0x1D)
        #expect(ReedSolomon.multiply(0x53, 0x01) == 0x53)
        #expect(ReedSolomon.multiply(0x00, 0xFF) == 0x00)
        // α^255 = 1
        var power: UInt8 = 1
        for _ in 0..<255 { power = ReedSolomon.multiply(power, 2) }
        #expect(power == 1)
        // Generator of degree 7 (Annex A): α^0, α^87, α^229, α^146, α^149, α^238, α^102, α^21.
        var exp = [UInt8](repeating: 0, count: 256)
        var value: UInt8 = 1
        for i in 0..<255 { exp[i] = value; value = ReedSolomon.multiply(value, 2) }
        #expect(ReedSolomon.generator(degree: 7) == [87, 229, 146, 149, 238, 102, 21].map { exp[$0] })
    }

    @Test("Format information: BCH(15,5), mask 0x5412 (Table C.1)")
    func formatInformation() {
        #expect(QRCode.formatBits(errorCorrection: .medium, mask: 0) == 0b101010000010010)
        #expect(QRCode.formatBits(errorCorrection: .medium, mask: 5) == 0b100000011001110)
        #expect(QRCode.formatBits(errorCorrection: .low, mask: 0) == 0b111011111000100)
        #expect(QRCode.formatBits(errorCorrection: .low, mask: 7) == 0b110100101110110)
        #expect(QRCode.formatBits(errorCorrection: .quartile, mask: 0) == 0b011010101011111)
        #expect(QRCode.formatBits(errorCorrection: .high, mask: 0) == 0b001011010001001)
        #expect(QRCode.formatBits(errorCorrection: .high, mask: 7) == 0b000100000111011)
        // Every code word is a multiple of the generator 0x537 once unmasked, and all 32 differ.
        var seen = Set<Int>()
        for level in QRErrorCorrection.allCases {
            for mask in 0..<8 {
                let bits = QRCode.formatBits(errorCorrection: level, mask: mask)
                seen.insert(bits)
                var remainder = bits ^ 0x5412
                for shift in stride(from: 4, through: 0, by: -1) where remainder >> (shift + 10) & 1 == 1 {
                    remainder ^= 0x537 << shift
                }
                #expect(remainder == 0)
            }
        }
        #expect(seen.count == 32)
    }

    @Test("Version information: BCH(18,6) (Table D.1)")
    func versionInformation() {
        #expect(QRCode.versionBits(7) == 0x07C94)
        #expect(QRCode.versionBits(8) == 0x085BC)
        #expect(QRCode.versionBits(21) == 0x15683)
        #expect(QRCode.versionBits(40) == 0x28C69)
    }

    // MARK: Capacity

    @Test("Capacity edges: the largest payload of a version fits, one byte more takes the next")
    func capacityEdges() throws {
        let known: [(Int, QRErrorCorrection, Int)] = [
            (1, .low, 17), (1, .medium, 14), (1, .quartile, 11), (1, .high, 7),
            (9, .medium, 180), (10, .medium, 213), (27, .quartile, 805),
            (40, .low, 2953), (40, .medium, 2331), (40, .quartile, 1663), (40, .high, 1273),
        ]
        for (version, level, bytes) in known {
            #expect(QRCode.maximumBytes(version: version, errorCorrection: level) == bytes, "\(version)-\(level.rawValue)")
        }
        for (version, level) in [(1, QRErrorCorrection.low), (1, .high), (5, .quartile), (9, .medium), (9, .low), (26, .high), (39, .low)] {
            let most = QRCode.maximumBytes(version: version, errorCorrection: level)
            let full = try QRCode.encode([UInt8](repeating: 0x61, count: most), errorCorrection: level)
            #expect(full.version == version, "\(version)-\(level.rawValue) with \(most) bytes")
            let over = try QRCode.encode([UInt8](repeating: 0x61, count: most + 1), errorCorrection: level)
            #expect(over.version == version + 1, "\(version)-\(level.rawValue) with \(most + 1) bytes")
        }
        #expect(try QRCode.encode([UInt8](repeating: 0x30, count: 2953), errorCorrection: .low).version == 40)
        #expect(try QRCode.encode([], errorCorrection: .high).version == 1)
        #expect(try QRCode.encode([1, 2, 3], minimumVersion: 12).version == 12)
    }

    @Test("Too long, bad version or mask: refused")
    func refusals() {
        #expect(throws: DomainError.rule("qr.too_long", "2954 bytes do not fit into a QR code at error correction level L (at most 2953).")) {
            try QRCode.encode([UInt8](repeating: 0x30, count: 2954), errorCorrection: .low)
        }
        do {
            _ = try QRCode.encode([UInt8](repeating: 0x30, count: 1274), errorCorrection: .high)
            Issue.record("1274 bytes at H must not fit")
        } catch let error as DomainError {
            #expect(error.code == "qr.too_long")
            #expect(error.kind == .rule)
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(throws: DomainError.self) { try QRCode.encode([1], mask: 8) }
        #expect(throws: DomainError.self) { try QRCode.encode([1], minimumVersion: 0) }
        #expect(throws: DomainError.self) { try QRCode.encode([1], minimumVersion: 41) }
        #expect(throws: DomainError.self) { try QRCode.encode([UInt8](repeating: 0, count: 200), errorCorrection: .high, minimumVersion: 40, mask: -1) }
    }

    @Test("Every forced mask 0...7 is used, the automatic one among them; function patterns stay")
    func allMasks() throws {
        let payload = Array("https://joinin.example".utf8)
        let codes = try (0..<8).map { try QRCode.encode(payload, errorCorrection: .quartile, minimumVersion: 7, mask: $0) }
        let auto = try QRCode.encode(payload, errorCorrection: .quartile, minimumVersion: 7)
        #expect(codes.map(\.mask) == Array(0..<8))
        #expect(codes.contains(auto))
        #expect(Set(codes.map { Self.rows(of: $0) }).count == 8)
        for code in codes {
            // Finder pattern corners and the dark module are the same for every mask.
            #expect(code.isDark(x: 0, y: 0) && code.isDark(x: code.size - 1, y: 0) && code.isDark(x: 0, y: code.size - 1))
            #expect(!code.isDark(x: 7, y: 7))
            #expect(code.isDark(x: 8, y: code.size - 8))
            #expect(!code.isDark(x: -1, y: 0) && !code.isDark(x: 0, y: code.size))
        }
    }

    // MARK: SVG

    @Test("SVG: well-formed, titled, quiet zone in the viewBox")
    func svg() throws {
        let code = try QRCode.encode("https://joinin.example/e/42", errorCorrection: .medium)
        let svg = code.svg(moduleSize: 5, title: "Ticket <42> & \"friends\"")
        let side = (code.size + 8) * 5
        #expect(svg.hasPrefix("<svg "))
        #expect(svg.hasSuffix("</svg>"))
        #expect(svg.contains("viewBox=\"0 0 \(side) \(side)\""))
        #expect(svg.contains("role=\"img\""))
        #expect(svg.contains("aria-label=\"Ticket &lt;42&gt; &amp; &quot;friends&quot;\""))
        #expect(svg.contains("<title>Ticket &lt;42&gt; &amp; &quot;friends&quot;</title>"))
        #expect(svg.ranges(of: "<path").count == 1)
        #expect(!svg.contains("<42>"))
        // The path covers exactly the dark modules: its horizontal runs add up to the dark count.
        var dark = 0
        for y in 0..<code.size { for x in 0..<code.size where code.isDark(x: x, y: y) { dark += 1 } }
        let pathStart = try #require(svg.firstRange(of: " d=\""))
        let path = svg[pathStart.upperBound...].prefix { $0 != "\"" }
        var covered = 0
        for segment in path.split(separator: "z") {
            let h = try #require(segment.split(separator: "h").dropFirst().first?.split(separator: "v").first)
            covered += try #require(Int(h)) / 5
            let move = segment.dropFirst().split(separator: "h")[0].split(separator: " ").compactMap { Int($0) }
            #expect(move.count == 2 && move.allSatisfy { $0 >= 20 && $0 < side - 20 })
        }
        #expect(covered == dark)
        #expect(code.svg(title: "x").contains("viewBox=\"0 0 \((code.size + 8) * 4) \((code.size + 8) * 4)\""))
    }
}
