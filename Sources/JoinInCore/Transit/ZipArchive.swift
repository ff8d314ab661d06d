/// A minimal reader for the ZIP files GTFS feeds come in (PKWARE APPNOTE 6.3): the end of central
/// directory record, the central directory and each entry's local header; entries stored
/// (method 0) or deflated (method 8, via `Zlib.inflateRaw`), CRC-32 checked. Refused with a clear
/// reason: encrypted entries, ZIP64, archives split over several disks, more than `entriesMax`
/// entries, and extractions whose declared size exceeds `uncompressedBytesMax` (a zip-bomb guard;
/// each entry is also inflated with its declared size as the hard output limit).
///
/// Every error is `DomainError.malformed("gtfs.zip_invalid", …)`.
public struct ZipArchive: Sendable {
    public static let entriesMax = 200
    public static let uncompressedBytesMax = 256 << 20

    public struct Entry: Sendable, Equatable {
        /// The path inside the archive, `/`-separated; directories end with `/`.
        public let name: String
        /// 0 stored, 8 deflated (others are refused when the entry is read).
        public let method: Int
        public let crc32: UInt32
        public let compressedSize: Int
        public let uncompressedSize: Int
        let localHeaderOffset: Int

        public var isDirectory: Bool { name.hasSuffix("/") }
    }

    public let entries: [Entry]
    private let bytes: [UInt8]
    private let centralDirectoryOffset: Int

    static func invalid(_ reason: String) -> DomainError {
        DomainError.malformed("gtfs.zip_invalid", "zip archive: \(reason)")
    }

    /// Reads the directory of the archive in `bytes`; entry data is only read by `contents(of:)`.
    public init(_ bytes: [UInt8]) throws {
        self.bytes = bytes
        let reader = ByteReader(bytes: bytes)
        // End of central directory: 22 bytes plus a comment of at most 65 535 bytes, at the end.
        guard bytes.count >= 22 else { throw ZipArchive.invalid("too short to be a zip file") }
        var eocd: Int?
        var candidate = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65_535)
        while candidate >= lowest {
            if try reader.u32(candidate) == 0x0605_4B50, try Int(reader.u16(candidate + 20)) + candidate + 22 == bytes.count {
                eocd = candidate
                break
            }
            candidate -= 1
        }
        guard let end = eocd else { throw ZipArchive.invalid("no end of central directory record (not a zip file, or truncated)") }
        if end >= 20, try reader.u32(end - 20) == 0x0706_4B50 {
            throw ZipArchive.invalid("ZIP64 archives are not supported")
        }
        let disk = try reader.u16(end + 4), directoryDisk = try reader.u16(end + 6)
        let entriesOnDisk = try reader.u16(end + 8), entryCount = try reader.u16(end + 10)
        let directorySize = try reader.u32(end + 12), directoryOffset = try reader.u32(end + 16)
        if entriesOnDisk == 0xFFFF || entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            throw ZipArchive.invalid("ZIP64 archives are not supported")
        }
        guard disk == 0, directoryDisk == 0, entriesOnDisk == entryCount else {
            throw ZipArchive.invalid("archives split over several disks are not supported")
        }
        guard Int(entryCount) <= ZipArchive.entriesMax else {
            throw ZipArchive.invalid("\(entryCount) entries, more than the \(ZipArchive.entriesMax) allowed")
        }
        let directoryStart = Int(directoryOffset)
        guard directoryStart + Int(directorySize) <= end else {
            throw ZipArchive.invalid("the central directory lies outside the file")
        }
        centralDirectoryOffset = directoryStart

        var entries: [Entry] = []
        var p = directoryStart
        for _ in 0..<Int(entryCount) {
            guard try reader.u32(p) == 0x0201_4B50 else { throw ZipArchive.invalid("bad central directory entry signature") }
            let flags = try reader.u16(p + 8)
            let method = Int(try reader.u16(p + 10))
            let crc = try reader.u32(p + 16)
            let compressed = try reader.u32(p + 20), uncompressed = try reader.u32(p + 24)
            let nameLength = Int(try reader.u16(p + 28)), extraLength = Int(try reader.u16(p + 30))
            let commentLength = Int(try reader.u16(p + 32))
            let startDisk = try reader.u16(p + 34)
            let localOffset = try reader.u32(p + 42)
            let nameBytes = try reader.slice(p + 46, nameLength)
            let name = String(decoding: nameBytes, as: UTF8.self)
            let extra = try reader.slice(p + 46 + nameLength, extraLength)
            if compressed == 0xFFFF_FFFF || uncompressed == 0xFFFF_FFFF || localOffset == 0xFFFF_FFFF || startDisk == 0xFFFF
                || ZipArchive.hasZip64Extra(extra) {
                throw ZipArchive.invalid("entry '\(name.prefix(100))' uses ZIP64, which is not supported")
            }
            if flags & 0x0001 != 0 || flags & 0x0040 != 0 || method == 99 {
                throw ZipArchive.invalid("entry '\(name.prefix(100))' is encrypted")
            }
            guard startDisk == 0 else { throw ZipArchive.invalid("archives split over several disks are not supported") }
            entries.append(Entry(name: name, method: method, crc32: crc, compressedSize: Int(compressed),
                                 uncompressedSize: Int(uncompressed), localHeaderOffset: Int(localOffset)))
            p += 46 + nameLength + extraLength + commentLength
        }
        guard p <= directoryStart + Int(directorySize) else {
            throw ZipArchive.invalid("the central directory is longer than its recorded size")
        }
        self.entries = entries
    }

    /// True when an extra field block holds a ZIP64 extended information field (id 0x0001).
    static func hasZip64Extra(_ extra: [UInt8]) -> Bool {
        var p = 0
        while p + 4 <= extra.count {
            let id = Int(extra[p]) | Int(extra[p + 1]) << 8
            let size = Int(extra[p + 2]) | Int(extra[p + 3]) << 8
            if id == 0x0001 { return true }
            p += 4 + size
        }
        return false
    }

    /// The uncompressed bytes of `entry`, checked against its size and CRC-32.
    public func contents(of entry: Entry) throws -> [UInt8] {
        let label = "entry '\(entry.name.prefix(100))'"
        let reader = ByteReader(bytes: bytes)
        let p = entry.localHeaderOffset
        guard p + 30 <= centralDirectoryOffset, try reader.u32(p) == 0x0403_4B50 else {
            throw ZipArchive.invalid("\(label): bad local header")
        }
        let flags = try reader.u16(p + 6)
        let method = Int(try reader.u16(p + 8))
        guard flags & 0x0041 == 0 else { throw ZipArchive.invalid("\(label) is encrypted") }
        guard method == entry.method else { throw ZipArchive.invalid("\(label): local header and central directory disagree on the method") }
        let start = p + 30 + Int(try reader.u16(p + 26)) + Int(try reader.u16(p + 28))
        guard start + entry.compressedSize <= centralDirectoryOffset else {
            throw ZipArchive.invalid("\(label): data runs past the central directory")
        }
        let data = try reader.slice(start, entry.compressedSize)
        let output: [UInt8]
        switch method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw ZipArchive.invalid("\(label): stored entry with different compressed and uncompressed sizes")
            }
            output = data
        case 8:
            do {
                output = try Zlib.inflateRaw(data, limit: entry.uncompressedSize)
            } catch let error as CredentialError {
                guard case .malformed(let reason) = error else { throw ZipArchive.invalid("\(label): invalid deflate data") }
                throw ZipArchive.invalid("\(label): \(reason)")
            }
        default:
            throw ZipArchive.invalid("\(label): compression method \(method) is not supported (only stored and deflate)")
        }
        guard output.count == entry.uncompressedSize else {
            throw ZipArchive.invalid("\(label): \(output.count) bytes, but the directory says \(entry.uncompressedSize)")
        }
        guard ZipArchive.crc32(output) == entry.crc32 else { throw ZipArchive.invalid("\(label): CRC-32 mismatch") }
        return output
    }

    /// The files of the archive by name, when they all sit at its root or all inside one single
    /// top-level folder (which is then dropped from the names). Directories and macOS
    /// `__MACOSX/` metadata are left out.
    public func topLevelFiles() throws -> [String: Entry] {
        let files = entries.filter { !$0.isDirectory && !$0.name.hasPrefix("__MACOSX/") }
        var folder: String?
        if files.contains(where: { $0.name.contains("/") }) {
            for file in files {
                let parts = file.name.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, folder == nil || folder == String(parts[0]) else {
                    throw ZipArchive.invalid("the files must sit at the root of the archive or all inside one folder; found '\(file.name.prefix(100))'")
                }
                folder = String(parts[0])
            }
        }
        var result: [String: Entry] = [:]
        for file in files {
            let name = folder.map { String(file.name.dropFirst($0.count + 1)) } ?? file.name
            guard result[name] == nil else { throw ZipArchive.invalid("'\(name.prefix(100))' appears twice") }
            result[name] = file
        }
        return result
    }

    /// Reads `selected` (name → entry) after checking that their declared uncompressed sizes add
    /// up to at most `uncompressedBytesMax`.
    public func extract(_ selected: [String: Entry]) throws -> [String: [UInt8]] {
        let total = selected.values.reduce(0) { $0 + $1.uncompressedSize }
        guard total <= ZipArchive.uncompressedBytesMax else {
            throw ZipArchive.invalid("the files would expand to \(total) bytes, more than the \(ZipArchive.uncompressedBytesMax) allowed")
        }
        var result: [String: [UInt8]] = [:]
        for (name, entry) in selected { result[name] = try contents(of: entry) }
        return result
    }

    // MARK: CRC-32 (IEEE 802.3, reflected, as in ZIP and gzip)

    private static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        let table = crcTable
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    /// Little-endian reads that throw instead of trapping past the end.
    private struct ByteReader {
        let bytes: [UInt8]

        func u16(_ at: Int) throws -> UInt16 {
            guard at >= 0, at + 2 <= bytes.count else { throw ZipArchive.invalid("truncated (read past the end of the file)") }
            return UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
        }

        func u32(_ at: Int) throws -> UInt32 {
            guard at >= 0, at + 4 <= bytes.count else { throw ZipArchive.invalid("truncated (read past the end of the file)") }
            return UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }

        func slice(_ at: Int, _ count: Int) throws -> [UInt8] {
            guard at >= 0, count >= 0, at + count <= bytes.count else { throw ZipArchive.invalid("truncated (read past the end of the file)") }
            return Array(bytes[at..<(at + count)])
        }
    }
}
