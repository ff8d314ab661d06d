/// QR Code model 2 encoder (ISO/IEC 18004:2015), byte mode only, pure Swift.
///
/// Pipeline: data bits (mode indicator 0100, character count, bytes, terminator, padding bits,
/// pad codewords 0xEC/0x11) -> Reed–Solomon error correction per block (GF(256), 0x11D) ->
/// interleaving -> function patterns -> codeword placement -> data masking (the pattern with the
/// lowest penalty N1 + N2 + N3 + N4) -> format and version information.

public enum QRErrorCorrection: String, Sendable, CaseIterable {
    case low = "L", medium = "M", quartile = "Q", high = "H"

    /// Index into the block tables (L, M, Q, H).
    var tableIndex: Int {
        switch self {
        case .low: 0
        case .medium: 1
        case .quartile: 2
        case .high: 3
        }
    }

    /// The two error correction level bits in the format information (Table 12).
    var formatBits: Int {
        switch self {
        case .low: 1
        case .medium: 0
        case .quartile: 3
        case .high: 2
        }
    }
}

public struct QRCode: Sendable, Equatable {
    public let version: Int
    public let errorCorrection: QRErrorCorrection
    public let mask: Int
    public let size: Int
    /// Row-major, `size * size`, true = dark.
    let modules: [Bool]

    init(version: Int, errorCorrection: QRErrorCorrection, mask: Int, modules: [Bool]) {
        self.version = version
        self.errorCorrection = errorCorrection
        self.mask = mask
        self.size = QRCode.size(of: version)
        self.modules = modules
    }

    /// Row `y`, column `x`, (0, 0) top-left. Outside the symbol (the quiet zone) is light.
    public func isDark(x: Int, y: Int) -> Bool {
        guard x >= 0, y >= 0, x < size, y < size else { return false }
        return modules[y * size + x]
    }

    // MARK: - Encoding

    /// Byte mode only (the payload's bytes). The smallest version that fits (at least
    /// `minimumVersion`), the mask with the lowest penalty score unless `mask` is given.
    public static func encode(_ bytes: [UInt8], errorCorrection: QRErrorCorrection = .medium,
                              minimumVersion: Int = 1, mask: Int? = nil) throws -> QRCode {
        guard (1...40).contains(minimumVersion) else {
            throw DomainError.malformed("qr.invalid_version", "The QR version must be between 1 and 40, not \(minimumVersion).")
        }
        if let mask, !(0...7).contains(mask) {
            throw DomainError.malformed("qr.invalid_mask", "The QR mask must be between 0 and 7, not \(mask).")
        }
        guard let version = (minimumVersion...40).first(where: { bitsNeeded(byteCount: bytes.count, version: $0) <= dataCodewords(version: $0, errorCorrection: errorCorrection) * 8 }) else {
            throw DomainError.rule("qr.too_long", "\(bytes.count) bytes do not fit into a QR code at error correction level \(errorCorrection.rawValue) (at most \(maximumBytes(version: 40, errorCorrection: errorCorrection))).")
        }
        let data = dataCodewords(bytes, version: version, errorCorrection: errorCorrection)
        let codewords = addErrorCorrectionAndInterleave(data, version: version, errorCorrection: errorCorrection)
        var matrix = Matrix(version: version)
        matrix.drawFunctionPatterns()
        matrix.placeCodewords(codewords)

        let chosen: Int
        if let mask {
            chosen = mask
        } else {
            // Scored as the standard's procedure orders it (7.1 steps 6 and 7): masking and
            // evaluation before the format and version information are written, their areas light.
            var best = 0
            var bestScore = Int.max
            for candidate in 0..<8 {
                var trial = matrix
                trial.applyMask(candidate)
                let score = trial.penaltyScore()
                if score < bestScore {
                    bestScore = score
                    best = candidate
                }
            }
            chosen = best
        }
        matrix.applyMask(chosen)
        matrix.drawFormatBits(formatBits(errorCorrection: errorCorrection, mask: chosen))
        if version >= 7 {
            matrix.drawVersionBits(versionBits(version))
        }
        return QRCode(version: version, errorCorrection: errorCorrection, mask: chosen, modules: matrix.dark)
    }

    /// The text's UTF-8 bytes in byte mode.
    public static func encode(_ text: String, errorCorrection: QRErrorCorrection = .medium) throws -> QRCode {
        try encode(Array(text.utf8), errorCorrection: errorCorrection)
    }

    // MARK: - Tables and sizes

    static func size(of version: Int) -> Int { 17 + 4 * version }

    /// Error correction codewords per block, [level L, M, Q, H][version - 1] (Table 9).
    static let eccCodewordsPerBlock: [[Int]] = [
        [7, 10, 15, 20, 26, 18, 20, 24, 30, 18, 20, 24, 26, 30, 22, 24, 28, 30, 28, 28, 28, 28, 30, 30, 26, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
        [10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28],
        [13, 22, 18, 26, 18, 24, 18, 22, 20, 24, 28, 26, 24, 20, 30, 24, 28, 28, 26, 30, 28, 30, 30, 30, 30, 28, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
        [17, 28, 22, 16, 22, 28, 26, 26, 24, 28, 24, 28, 22, 24, 24, 30, 28, 28, 26, 28, 30, 24, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30],
    ]

    /// Error correction blocks, [level L, M, Q, H][version - 1] (Table 9).
    static let errorCorrectionBlocks: [[Int]] = [
        [1, 1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4, 4, 6, 6, 6, 6, 7, 8, 8, 9, 9, 10, 12, 12, 12, 13, 14, 15, 16, 17, 18, 19, 19, 20, 21, 22, 24, 25],
        [1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49],
        [1, 1, 2, 2, 4, 4, 6, 6, 8, 8, 8, 10, 12, 16, 12, 17, 16, 18, 21, 20, 23, 23, 25, 27, 29, 34, 34, 35, 38, 40, 43, 45, 48, 51, 53, 56, 59, 62, 65, 68],
        [1, 1, 2, 4, 4, 4, 5, 6, 8, 8, 11, 11, 16, 16, 18, 16, 19, 21, 25, 25, 25, 34, 30, 32, 35, 37, 40, 42, 45, 48, 51, 54, 57, 60, 63, 66, 70, 74, 77, 81],
    ]

    /// Modules available for data and error correction codewords (incl. remainder bits).
    static func rawDataModules(version: Int) -> Int {
        var result = (16 * version + 128) * version + 64
        if version >= 2 {
            let alignments = version / 7 + 2
            result -= (25 * alignments - 10) * alignments - 55
            if version >= 7 { result -= 36 }
        }
        return result
    }

    static func totalCodewords(version: Int) -> Int { rawDataModules(version: version) / 8 }

    static func dataCodewords(version: Int, errorCorrection: QRErrorCorrection) -> Int {
        let level = errorCorrection.tableIndex
        return totalCodewords(version: version)
            - eccCodewordsPerBlock[level][version - 1] * errorCorrectionBlocks[level][version - 1]
    }

    static func characterCountBits(version: Int) -> Int { version <= 9 ? 8 : 16 }

    static func bitsNeeded(byteCount: Int, version: Int) -> Int {
        guard byteCount < 1 << characterCountBits(version: version) else { return Int.max }
        return 4 + characterCountBits(version: version) + 8 * byteCount
    }

    /// The most bytes byte mode holds in this version and level.
    static func maximumBytes(version: Int, errorCorrection: QRErrorCorrection) -> Int {
        let available = dataCodewords(version: version, errorCorrection: errorCorrection) * 8 - 4 - characterCountBits(version: version)
        return min(available / 8, (1 << characterCountBits(version: version)) - 1)
    }

    /// Centres of the alignment patterns in each direction (Annex E).
    static func alignmentPositions(version: Int) -> [Int] {
        guard version >= 2 else { return [] }
        let count = version / 7 + 2
        let step = (version * 8 + count * 3 + 5) / (count * 4 - 4) * 2
        var result = [6]
        var position = size(of: version) - 7
        var tail: [Int] = []
        while tail.count < count - 1 {
            tail.insert(position, at: 0)
            position -= step
        }
        result += tail
        return result
    }

    // MARK: - Data codewords

    /// Mode indicator, character count, data, terminator, padding bits and pad codewords.
    static func dataCodewords(_ bytes: [UInt8], version: Int, errorCorrection: QRErrorCorrection) -> [UInt8] {
        let capacity = dataCodewords(version: version, errorCorrection: errorCorrection) * 8
        var bits = BitBuffer()
        bits.append(0b0100, count: 4)
        bits.append(bytes.count, count: characterCountBits(version: version))
        for byte in bytes { bits.append(Int(byte), count: 8) }
        bits.append(0, count: min(4, capacity - bits.count))
        bits.append(0, count: (8 - bits.count % 8) % 8)
        var pad: UInt8 = 0xEC
        var result = bits.bytes
        while result.count * 8 < capacity {
            result.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        return result
    }

    /// Splits into blocks (short ones first), adds Reed–Solomon codewords, interleaves.
    static func addErrorCorrectionAndInterleave(_ data: [UInt8], version: Int, errorCorrection: QRErrorCorrection) -> [UInt8] {
        let level = errorCorrection.tableIndex
        let blockCount = errorCorrectionBlocks[level][version - 1]
        let eccLength = eccCodewordsPerBlock[level][version - 1]
        let total = totalCodewords(version: version)
        let shortBlocks = blockCount - total % blockCount
        let shortBlockLength = total / blockCount
        var dataBlocks: [[UInt8]] = []
        var eccBlocks: [[UInt8]] = []
        var offset = 0
        for index in 0..<blockCount {
            let dataLength = shortBlockLength - eccLength + (index < shortBlocks ? 0 : 1)
            let block = Array(data[offset..<offset + dataLength])
            offset += dataLength
            dataBlocks.append(block)
            eccBlocks.append(ReedSolomon.remainder(block, degree: eccLength))
        }
        var result: [UInt8] = []
        result.reserveCapacity(total)
        let longest = dataBlocks.map(\.count).max() ?? 0
        for i in 0..<longest {
            for block in dataBlocks where i < block.count { result.append(block[i]) }
        }
        for i in 0..<eccLength {
            for block in eccBlocks { result.append(block[i]) }
        }
        return result
    }

    // MARK: - Format and version information

    /// 15 bits: level and mask, BCH(15,5) with generator 0x537, XOR 0x5412.
    static func formatBits(errorCorrection: QRErrorCorrection, mask: Int) -> Int {
        let data = errorCorrection.formatBits << 3 | mask
        var remainder = data
        for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
        return (data << 10 | remainder) ^ 0x5412
    }

    /// 18 bits: version, BCH(18,6) with generator 0x1F25.
    static func versionBits(_ version: Int) -> Int {
        var remainder = version
        for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
        return version << 12 | remainder
    }

    // MARK: - SVG

    /// SVG with a 4-module quiet zone, `moduleSize` px per module, one path of the dark modules.
    public func svg(moduleSize: Int = 4, title: String) -> String {
        let unit = max(1, moduleSize)
        let side = (size + 8) * unit
        let label = QRCode.escapeXML(title)
        var path = ""
        for y in 0..<size {
            var x = 0
            while x < size {
                guard isDark(x: x, y: y) else { x += 1; continue }
                var end = x
                while end < size, isDark(x: end, y: y) { end += 1 }
                path += "M\((x + 4) * unit) \((y + 4) * unit)h\((end - x) * unit)v\(unit)h-\((end - x) * unit)z"
                x = end
            }
        }
        return """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(side) \(side)" width="\(side)" height="\(side)" role="img" aria-label="\(label)">\
        <title>\(label)</title>\
        <rect width="\(side)" height="\(side)" fill="#fff"/>\
        <path fill="#000" shape-rendering="crispEdges" d="\(path)"/>\
        </svg>
        """
    }

    // MARK: - PGM

    /// Binary greyscale PGM (netpbm "P5", maxval 255): dark modules 0, light 255, `quietZone`
    /// light modules on every side, `moduleSize` pixels per module. A raster any decoder reads
    /// (zbarimg through ImageMagick), for checking symbols with an independent implementation.
    public func pgm(moduleSize: Int = 4, quietZone: Int = 4) -> [UInt8] {
        let unit = max(1, moduleSize)
        let margin = max(0, quietZone)
        let side = (size + 2 * margin) * unit
        let header = Array("P5\n\(side) \(side)\n255\n".utf8)
        var result = header
        result.reserveCapacity(header.count + side * side)
        var row = [UInt8](repeating: 255, count: side)
        for moduleY in -margin..<(size + margin) {
            for moduleX in -margin..<(size + margin) {
                let value: UInt8 = isDark(x: moduleX, y: moduleY) ? 0 : 255
                let start = (moduleX + margin) * unit
                for pixel in start..<(start + unit) { row[pixel] = value }
            }
            for _ in 0..<unit { result.append(contentsOf: row) }
        }
        return result
    }

    static func escapeXML(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default: result.append(character)
            }
        }
        return result
    }
}

// MARK: - Bits

struct BitBuffer {
    private(set) var bits: [Bool] = []
    var count: Int { bits.count }

    mutating func append(_ value: Int, count: Int) {
        guard count > 0 else { return }
        for shift in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> shift) & 1 == 1) }
    }

    /// Whole bytes, most significant bit first; `count` must be a multiple of 8.
    var bytes: [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(bits.count / 8)
        var current: UInt8 = 0
        for (index, bit) in bits.enumerated() {
            current = current << 1 | (bit ? 1 : 0)
            if index % 8 == 7 {
                result.append(current)
                current = 0
            }
        }
        return result
    }
}

// MARK: - Reed–Solomon over GF(256), primitive polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D)

enum ReedSolomon {
    static func multiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
        var result = 0
        for shift in stride(from: 7, through: 0, by: -1) {
            result = (result << 1) ^ ((result >> 7) * 0x11D)
            result ^= ((Int(y) >> shift) & 1) * Int(x)
        }
        return UInt8(truncatingIfNeeded: result)
    }

    /// Generator polynomial of the given degree, coefficients from highest to lowest power,
    /// leading 1 omitted: product of (x - α^i) for i in 0..<degree.
    static func generator(degree: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: degree)
        result[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for j in 0..<degree {
                result[j] = multiply(result[j], root)
                if j + 1 < degree { result[j] ^= result[j + 1] }
            }
            root = multiply(root, 0x02)
        }
        return result
    }

    /// The `degree` error correction codewords for `data`.
    static func remainder(_ data: [UInt8], degree: Int) -> [UInt8] {
        let divisor = generator(degree: degree)
        var result = [UInt8](repeating: 0, count: degree)
        for byte in data {
            let factor = byte ^ result[0]
            result.removeFirst()
            result.append(0)
            for i in 0..<degree { result[i] ^= multiply(divisor[i], factor) }
        }
        return result
    }
}

// MARK: - Matrix

struct Matrix {
    let version: Int
    let size: Int
    var dark: [Bool]
    var isFunction: [Bool]

    init(version: Int) {
        self.version = version
        size = QRCode.size(of: version)
        dark = [Bool](repeating: false, count: size * size)
        isFunction = [Bool](repeating: false, count: size * size)
    }

    mutating func setFunction(x: Int, y: Int, dark isDark: Bool) {
        dark[y * size + x] = isDark
        isFunction[y * size + x] = true
    }

    /// Finders with separators, timing, alignment; format and version areas reserved (light).
    mutating func drawFunctionPatterns() {
        for i in 0..<size {
            setFunction(x: 6, y: i, dark: i % 2 == 0)
            setFunction(x: i, y: 6, dark: i % 2 == 0)
        }
        for (cx, cy) in [(3, 3), (size - 4, 3), (3, size - 4)] {
            for dy in -4...4 {
                for dx in -4...4 {
                    let x = cx + dx, y = cy + dy
                    guard x >= 0, y >= 0, x < size, y < size else { continue }
                    let distance = max(abs(dx), abs(dy))
                    setFunction(x: x, y: y, dark: distance != 2 && distance != 4)
                }
            }
        }
        let positions = QRCode.alignmentPositions(version: version)
        let last = positions.count - 1
        for (i, cx) in positions.enumerated() {
            for (j, cy) in positions.enumerated() {
                if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) { continue }
                for dy in -2...2 {
                    for dx in -2...2 {
                        setFunction(x: cx + dx, y: cy + dy, dark: max(abs(dx), abs(dy)) != 1)
                    }
                }
            }
        }
        // Reserve the format information (and the dark module) and version information areas.
        drawFormatBits(nil)
        if version >= 7 { drawVersionBits(nil) }
    }

    /// Writes the 15 format bits (or reserves the areas, light, when `bits` is nil).
    mutating func drawFormatBits(_ bits: Int?) {
        func bit(_ i: Int) -> Bool { bits.map { ($0 >> i) & 1 == 1 } ?? false }
        for i in 0...5 { setFunction(x: 8, y: i, dark: bit(i)) }
        setFunction(x: 8, y: 7, dark: bit(6))
        setFunction(x: 8, y: 8, dark: bit(7))
        setFunction(x: 7, y: 8, dark: bit(8))
        for i in 9..<15 { setFunction(x: 14 - i, y: 8, dark: bit(i)) }
        for i in 0..<8 { setFunction(x: size - 1 - i, y: 8, dark: bit(i)) }
        for i in 8..<15 { setFunction(x: 8, y: size - 15 + i, dark: bit(i)) }
        setFunction(x: 8, y: size - 8, dark: bits != nil)
    }

    /// Writes the 18 version bits (or reserves the areas, light, when `bits` is nil).
    mutating func drawVersionBits(_ bits: Int?) {
        for i in 0..<18 {
            let isDark = bits.map { ($0 >> i) & 1 == 1 } ?? false
            let a = size - 11 + i % 3, b = i / 3
            setFunction(x: a, y: b, dark: isDark)
            setFunction(x: b, y: a, dark: isDark)
        }
    }

    /// Two-module columns right to left, alternately upwards and downwards, skipping the
    /// vertical timing column; remainder bits stay light.
    mutating func placeCodewords(_ codewords: [UInt8]) {
        let totalBits = codewords.count * 8
        var index = 0
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            for vertical in 0..<size {
                for j in 0..<2 {
                    let x = right - j
                    let upward = (right + 1) & 2 == 0
                    let y = upward ? size - 1 - vertical : vertical
                    if !isFunction[y * size + x], index < totalBits {
                        dark[y * size + x] = (codewords[index >> 3] >> (7 - UInt8(index & 7))) & 1 == 1
                        index += 1
                    }
                }
            }
            right -= 2
        }
    }

    static func maskCondition(_ mask: Int, x: Int, y: Int) -> Bool {
        switch mask {
        case 0: (x + y) % 2 == 0
        case 1: y % 2 == 0
        case 2: x % 3 == 0
        case 3: (x + y) % 3 == 0
        case 4: (x / 3 + y / 2) % 2 == 0
        case 5: x * y % 2 + x * y % 3 == 0
        case 6: (x * y % 2 + x * y % 3) % 2 == 0
        default: ((x + y) % 2 + x * y % 3) % 2 == 0
        }
    }

    mutating func applyMask(_ mask: Int) {
        for y in 0..<size {
            for x in 0..<size where !isFunction[y * size + x] && Matrix.maskCondition(mask, x: x, y: y) {
                dark[y * size + x].toggle()
            }
        }
    }

    /// N1 + N2 + N3 + N4 (Table 11): runs of five or more (3 + extra), 2×2 blocks (3 each),
    /// 1:1:3:1:1 with four light modules on either side (40 each, the outside counts as
    /// light), and 10 per 5 % deviation of dark modules from 50 %.
    func penaltyScore() -> Int {
        var score = 0
        var darkCount = 0
        var row = [Bool](repeating: false, count: size)
        var column = [Bool](repeating: false, count: size)
        for i in 0..<size {
            for j in 0..<size {
                row[j] = dark[i * size + j]
                column[j] = dark[j * size + i]
                if row[j] { darkCount += 1 }
            }
            score += Matrix.runPenalty(row) + Matrix.runPenalty(column)
            score += Matrix.finderLikePenalty(row) + Matrix.finderLikePenalty(column)
        }
        for y in 0..<(size - 1) {
            for x in 0..<(size - 1) {
                let colour = dark[y * size + x]
                if colour == dark[y * size + x + 1], colour == dark[(y + 1) * size + x], colour == dark[(y + 1) * size + x + 1] {
                    score += 3
                }
            }
        }
        // Same floating-point steps as common encoders, so the boundaries round alike.
        let percent = Double(darkCount) / Double(size * size)
        score += 10 * Int(abs(percent * 100 - 50) / 5)
        return score
    }

    static func runPenalty(_ line: [Bool]) -> Int {
        var score = 0
        var run = 0
        var previous: Bool?
        for module in line {
            if module == previous {
                run += 1
            } else {
                if run >= 5 { score += run - 2 }
                run = 1
                previous = module
            }
        }
        if run >= 5 { score += run - 2 }
        return score
    }

    private static let finderLike: [Bool] = [true, false, true, true, true, false, true]

    static func finderLikePenalty(_ line: [Bool]) -> Int {
        let n = line.count
        func matches(at start: Int) -> Bool {
            for k in 0..<7 where line[start + k] != finderLike[k] { return false }
            return true
        }
        func allLight(_ range: Range<Int>) -> Bool {
            range.allSatisfy { !line[$0] }
        }
        var score = 0
        var start = 0
        while start + 7 <= n {
            guard matches(at: start) else { start += 1; continue }
            if allLight(max(start - 4, 0)..<start) || allLight((start + 7)..<min(start + 11, n)) {
                score += 40
                start += 7
            } else {
                start += 4
            }
        }
        return score
    }
}
