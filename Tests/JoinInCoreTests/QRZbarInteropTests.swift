import Foundation
import Testing
@testable import JoinInCore

/// Every symbol version 1–40 read back by an independent decoder, zbar's `zbarimg` (Debian package
/// zbar-tools): our encoder writes a PGM raster, zbar must return exactly the payload's bytes.
///
/// Without `zbarimg` on PATH the zbar test prints why and passes, unless `JOININ_REQUIRE_ZBAR=1`
/// (set by .ci/run), which makes its absence a failure.
///
/// zbar flags: `--raw` alone still guesses a character set for QR byte mode (UTF-8 Chinese comes
/// back as mojibake re-encoded from Shift JIS); `-Sbinary` (zbar ≥ 0.23) returns the bytes as
/// they are and adds no newline, so outputs of several images would run together (and `--xml` is
/// ignored with `-Sbinary`): one process per image, as many at a time as there are cores.
@Suite("QRCode read back by zbar")
struct QRZbarInteropTests {
    struct Sample: Sendable {
        let name: String
        let bytes: [UInt8]
        let level: QRErrorCorrection
        /// The version the payload's length must select, nil when not checked.
        let expectedVersion: Int?
        let moduleSize: Int
        /// A forced mask; nil: the encoder chooses (lowest penalty).
        var mask: Int? = nil
    }

    enum Kind: CaseIterable {
        case ascii, chinese, utf8Mixed, rawBytes
    }

    // MARK: Seeded inputs

    /// SplitMix64: the same inputs on every run and machine.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Exactly `count` bytes of the given kind. Chinese and mixed are valid UTF-8 (multi-byte
    /// scalars while they fit, then ASCII); raw bytes are any of 0...255, usually not UTF-8.
    static func payload(_ kind: Kind, count: Int, using rng: inout SeededGenerator) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        func append(_ scalar: Unicode.Scalar) { bytes.append(contentsOf: Array(String(Character(scalar)).utf8)) }
        func randomScalar(in range: ClosedRange<UInt32>) -> Unicode.Scalar {
            while true {
                if let scalar = Unicode.Scalar(UInt32.random(in: range, using: &rng)) { return scalar }
            }
        }
        switch kind {
        case .ascii:
            while bytes.count < count {
                bytes.append(Int.random(in: 0..<40, using: &rng) == 0 ? 0x0A : UInt8.random(in: 0x20...0x7E, using: &rng))
            }
        case .chinese:
            while count - bytes.count >= 3 { append(randomScalar(in: 0x4E00...0x9FFF)) }
            while bytes.count < count { bytes.append(UInt8.random(in: 0x30...0x39, using: &rng)) }
        case .utf8Mixed:
            // C0 controls with NUL, Latin-1 with C1 controls, BMP (no surrogates), astral planes.
            let ranges: [(ClosedRange<UInt32>, Int)] = [(0x00...0x7F, 1), (0x80...0x7FF, 2), (0x800...0xFFFD, 3), (0x1_0000...0x10_FFFF, 4)]
            while bytes.count < count {
                let (range, length) = ranges[Int.random(in: 0..<ranges.count, using: &rng)]
                guard count - bytes.count >= length else { continue }
                append(randomScalar(in: range))
            }
        case .rawBytes:
            while bytes.count < count { bytes.append(UInt8.random(in: 0...255, using: &rng)) }
        }
        return bytes
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A compact JWS of e-card size: header, a claims set of about 1,050 bytes, 64-byte signature.
    static func jwsLike(using rng: inout SeededGenerator) -> String {
        let header = #"{"alg":"EdDSA","kid":"ecard-2026-01","typ":"joinin-ecard+jwt"}"#
        let filler = String((0..<820).map { _ in Character(Unicode.Scalar(UInt8.random(in: 0x61...0x7A, using: &rng))) })
        let claims = #"{"iss":"https://ecard.joinin.example.cn","sub":"623091000000001234","iat":1767225600,"exp":1767225660,"# +
            #""name":"安娜 O'BRIEN-MÜLLER","nonce":""# + filler + #""}"#
        let signature = (0..<64).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return [base64URL(Array(header.utf8)), base64URL(Array(claims.utf8)), base64URL(signature)].joined(separator: ".")
    }

    /// Every version at M (mask chosen by the encoder) and at Q (masks 0–7 forced in turn) with a
    /// length only that version fits (one of four kinds in turn); L at its full capacity and H at
    /// its smallest length for a spread of versions; fixed samples: Chinese text, a real joserfc
    /// JWS, a ~1,500-character JWS-like string, all 256 byte values. 2 to 4 pixels per module
    /// (zbar's time grows with the pixels: large versions get 2).
    static func samples() -> [Sample] {
        var rng = SeededGenerator(state: 0x4A6F_696E_496E_5152)  // "JoinInQR"
        var result: [Sample] = []
        let kinds = Kind.allCases
        func lengths(_ version: Int, _ level: QRErrorCorrection) -> ClosedRange<Int> {
            let low = version == 1 ? 1 : QRCode.maximumBytes(version: version - 1, errorCorrection: level) + 1
            return low...QRCode.maximumBytes(version: version, errorCorrection: level)
        }
        for version in 1...40 {
            for (offset, level) in [QRErrorCorrection.medium, .quartile].enumerated() {
                let kind = kinds[(version + offset) % kinds.count]
                let count = Int.random(in: lengths(version, level), using: &rng)
                // M: the mask the encoder chooses; Q: each of the 8 masks forced in turn.
                let mask = level == .quartile ? version % 8 : nil
                result.append(Sample(name: "v\(version)-\(level.rawValue)-\(kind)-\(count)B" + (mask.map { "-mask\($0)" } ?? ""),
                                     bytes: payload(kind, count: count, using: &rng), level: level,
                                     expectedVersion: version, moduleSize: version <= 20 ? 2 + version % 2 : 2, mask: mask))
            }
        }
        for version in [1, 2, 6, 7, 9, 10, 14, 21, 26, 27, 33, 40] {
            let full = lengths(version, .low).upperBound
            let kind = kinds[version % kinds.count]
            result.append(Sample(name: "v\(version)-L-full-\(kind)-\(full)B", bytes: payload(kind, count: full, using: &rng),
                                 level: .low, expectedVersion: version, moduleSize: 2))
            let least = lengths(version, .high).lowerBound
            result.append(Sample(name: "v\(version)-H-least-\(kind)-\(least)B", bytes: payload(kind, count: least, using: &rng),
                                 level: .high, expectedVersion: version, moduleSize: version <= 20 ? 3 : 2))
        }
        let chinese = "宁波聚英卡：外国人永久居留身份证持有人的一卡通，乘车、借书、就医、缴费都用它。"
        result.append(Sample(name: "chinese-text-Q", bytes: Array(chinese.utf8), level: .quartile, expectedVersion: nil, moduleSize: 4))
        result.append(Sample(name: "joserfc-permit-jws-M", bytes: Array(CredJOSEVectors.permitJWS.utf8), level: .medium,
                             expectedVersion: nil, moduleSize: 2))
        let jws = jwsLike(using: &rng)
        for level in [QRErrorCorrection.low, .medium, .quartile] {
            result.append(Sample(name: "jws-like-\(jws.utf8.count)B-\(level.rawValue)", bytes: Array(jws.utf8), level: level,
                                 expectedVersion: nil, moduleSize: 2))
        }
        result.append(Sample(name: "all-256-byte-values-H", bytes: (0...255).map { UInt8($0) }, level: .high,
                             expectedVersion: nil, moduleSize: 3))
        return result
    }

    // MARK: Running zbarimg

    static func zbarimgPath() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/zbarimg"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    struct Decoded: Sendable {
        let status: Int32
        let output: [UInt8]
        let errors: String
    }

    /// `zbarimg --raw -q -Sbinary image`: the decoded bytes exactly (stderr, which may carry
    /// D-Bus connection noise, goes to a file read only to explain a failure).
    static func zbarimg(_ executable: String, image: URL) throws -> Decoded {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--raw", "-q", "-Sbinary", image.path]
        let stdout = Pipe()
        let stderrURL = image.appendingPathExtension("stderr")
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let stderr = try FileHandle(forWritingTo: stderrURL)
        defer { try? stderr.close() }
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errors = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        return Decoded(status: process.terminationStatus, output: Array(output), errors: errors)
    }

    /// Results written from `DispatchQueue.concurrentPerform`'s threads.
    final class Outcomes: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Int: Result<(QRCode, Decoded), any Error>] = [:]
        private var seconds = (encoding: 0.0, decoding: 0.0)
        func add(encoding: Double, decoding: Double) {
            lock.lock()
            defer { lock.unlock() }
            seconds.encoding += encoding
            seconds.decoding += decoding
        }
        var time: (encoding: Double, decoding: Double) {
            lock.lock()
            defer { lock.unlock() }
            return seconds
        }
        func set(_ index: Int, _ value: Result<(QRCode, Decoded), any Error>) {
            lock.lock()
            defer { lock.unlock() }
            values[index] = value
        }
        var all: [Int: Result<(QRCode, Decoded), any Error>] {
            lock.lock()
            defer { lock.unlock() }
            return values
        }
    }

    // MARK: Tests

    @Test("PGM raster: P5 header, quiet zone light, modules scaled")
    func pgmRaster() throws {
        let code = try QRCode.encode("https://joinin.example/e/42", errorCorrection: .medium)
        let image = code.pgm(moduleSize: 3, quietZone: 4)
        let side = (code.size + 8) * 3
        let header = Array("P5\n\(side) \(side)\n255\n".utf8)
        #expect(Array(image.prefix(header.count)) == header)
        #expect(image.count == header.count + side * side)
        let pixels = Array(image.dropFirst(header.count))
        func pixel(_ x: Int, _ y: Int) -> UInt8 { pixels[y * side + x] }
        #expect(Set(pixels) == [0, 255])
        for x in 0..<side { #expect(pixel(x, 0) == 255 && pixel(x, 11) == 255 && pixel(x, side - 1) == 255) }
        var wrong: [String] = []
        for y in 0..<code.size {
            for x in 0..<code.size {
                let expected: UInt8 = code.isDark(x: x, y: y) ? 0 : 255
                let block = (0..<9).map { pixel(12 + 3 * x + $0 % 3, 12 + 3 * y + $0 / 3) }
                if block.contains(where: { $0 != expected }) { wrong.append("(\(x), \(y))") }
            }
        }
        #expect(wrong.count == 0, "\(wrong.count) modules drawn wrong, first \(wrong.prefix(5).joined(separator: " "))")
        let plain = code.pgm()
        let plainSide = (code.size + 8) * 4
        #expect(plain.count == Array("P5\n\(plainSide) \(plainSide)\n255\n".utf8).count + plainSide * plainSide)
        let bare = code.pgm(moduleSize: 1, quietZone: 0)
        #expect(bare.count == Array("P5\n\(code.size) \(code.size)\n255\n".utf8).count + code.size * code.size)
        #expect(bare.last == (code.isDark(x: code.size - 1, y: code.size - 1) ? 0 : 255))
    }

    @Test("zbar decodes every version 1–40, all four levels and eight masks, to exactly the encoded bytes")
    func zbarReadsBack() async throws {
        guard let zbarimg = Self.zbarimgPath() else {
            if ProcessInfo.processInfo.environment["JOININ_REQUIRE_ZBAR"] == "1" {
                Issue.record("JOININ_REQUIRE_ZBAR=1 but zbarimg is not on PATH: apt-get install zbar-tools")
            } else {
                print("note: QR zbar interop test skipped: zbarimg is not on PATH (apt-get install zbar-tools; JOININ_REQUIRE_ZBAR=1 makes this a failure)")
            }
            return
        }
        let samples = Self.samples()
        #expect(Set(samples.compactMap(\.expectedVersion)) == Set(1...40))
        #expect(Set(samples.map(\.level)) == Set(QRErrorCorrection.allCases))
        #expect(Set(samples.compactMap(\.mask)) == Set(0..<8))
        #expect(samples.contains { $0.name.hasPrefix("jws-like-") && (1_400...1_600).contains($0.bytes.count) })

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("joinin-zbar-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let outcomes = Outcomes()
        let started = Date()
        // Encode, write and decode in parallel, one zbarimg process per image, on Dispatch's
        // threads (the blocking waits stay off Swift concurrency's cooperative pool).
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                DispatchQueue.concurrentPerform(iterations: samples.count) { index in
                    let sample = samples[index]
                    outcomes.set(index, Result {
                        let start = Date()
                        let code = try QRCode.encode(sample.bytes, errorCorrection: sample.level, mask: sample.mask)
                        let image = directory.appendingPathComponent("\(index)-\(sample.name).pgm")
                        try Data(code.pgm(moduleSize: sample.moduleSize)).write(to: image)
                        let encoded = Date()
                        let decoded = try Self.zbarimg(zbarimg, image: image)
                        outcomes.add(encoding: encoded.timeIntervalSince(start), decoding: Date().timeIntervalSince(encoded))
                        return (code, decoded)
                    })
                }
                continuation.resume()
            }
        }
        let results = outcomes.all
        var failures = 0
        for (index, sample) in samples.enumerated() {
            let label = "\(sample.name) (\(sample.bytes.count) bytes, level \(sample.level.rawValue))"
            guard let result = results[index] else {
                Issue.record("\(label): not run")
                failures += 1
                continue
            }
            let code: QRCode, decoded: Decoded
            do {
                (code, decoded) = try result.get()
            } catch {
                Issue.record("\(label): \(error)")
                failures += 1
                continue
            }
            if let expected = sample.expectedVersion, code.version != expected {
                Issue.record("\(label): version \(code.version), expected \(expected)")
                failures += 1
            }
            if let mask = sample.mask, code.mask != mask {
                Issue.record("\(label): mask \(code.mask), forced \(mask)")
                failures += 1
            }
            guard decoded.status == 0, decoded.output == sample.bytes else {
                let firstDifference = zip(decoded.output, sample.bytes).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                Issue.record("""
                    \(label), version \(code.version), mask \(code.mask): zbarimg exit status \(decoded.status), \
                    \(decoded.output.count) bytes decoded, first difference at \(firstDifference.map(String.init) ?? "the end"); \
                    stderr: \(decoded.errors.split(separator: "\n").filter { !$0.hasPrefix("Connection") }.suffix(3).joined(separator: " | "))
                    """)
                failures += 1
                continue
            }
        }
        let elapsed = Date().timeIntervalSince(started)
        if failures == 0 {
            try? FileManager.default.removeItem(at: directory)
        } else {
            print("QR zbar interop: \(failures) failures; images kept in \(directory.path)")
        }
        let time = outcomes.time
        print("QR zbar interop: \(samples.count) symbols, \(samples.reduce(0) { $0 + $1.bytes.count }) bytes, read back by \(zbarimg) in " +
              "\(String(format: "%.1f", elapsed)) s (encoding \(String(format: "%.1f", time.encoding)) s, zbarimg \(String(format: "%.1f", time.decoding)) s, summed over threads)")
    }
}
