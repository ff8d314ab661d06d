/// A JSON value (RFC 8259) restricted to what credentials need: numbers are integers only
/// (fractions and exponents are rejected when parsing), and objects keep their members in
/// order, which makes serialization deterministic (signatures are computed over the bytes).
///
/// Equality compares object members in order, so `parse(v.serialized()) == v` for every value.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Int64)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    /// Largest input `parse` accepts, in bytes.
    public static let maxParseBytes = 64 * 1024
    /// Deepest nesting of arrays and objects `parse` accepts.
    public static let maxDepth = 32

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The value of the first member named `key` when this is an object.
    public subscript(key: String) -> JSONValue? {
        guard case let .object(members) = self else { return nil }
        return members.first(where: { $0.0 == key })?.1
    }

    public var string: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    public var int: Int64? {
        if case let .number(n) = self { return n }
        return nil
    }

    var bool: Bool? {
        if case let .bool(b) = self { return b }
        return nil
    }

    var array: [JSONValue]? {
        if case let .array(a) = self { return a }
        return nil
    }

    var members: [(String, JSONValue)]? {
        if case let .object(m) = self { return m }
        return nil
    }

    // MARK: Serialization

    /// Compact UTF-8 serialization: no whitespace, object members in stored order, strings escaped
    /// like Python's `json.dumps(ensure_ascii=False)` (`\"`, `\\`, `\b \f \n \r \t`, other
    /// control characters as lowercase `\u00xx`; everything else, including non-ASCII, raw).
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        write(to: &out)
        return out
    }

    private func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case let .bool(b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case let .number(n): out.append(contentsOf: String(n).utf8)
        case let .string(s): JSONValue.writeString(s, to: &out)
        case let .array(items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case let .object(members):
            out.append(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(member.0, to: &out)
                out.append(UInt8(ascii: ":"))
                member.1.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Fast path: nothing to escape (the usual case), copied in one go.
        let copied = s.utf8.withContiguousStorageIfAvailable { buffer -> Bool in
            for byte in buffer where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            out.append(contentsOf: buffer)
            return true
        }
        if copied != true {
            for byte in s.utf8 {
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
                case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
                case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
                case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
                case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                case 0x00..<0x20:
                    out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30])
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 0xF)])
                default: out.append(byte)
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends the decimal digits of `value` (with `-` when negative), at least `width` digits
    /// (zero-padded), without making a String.
    static func writeInteger(_ value: Int64, width: Int = 1, to out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 24 digits, no heap
        withUnsafeMutableBytes(of: &digits) { buffer in
            var count = 0
            repeat {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            while count < min(width, buffer.count) {
                buffer[count] = UInt8(ascii: "0")
                count += 1
            }
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(buffer[index]) }
        }
    }

    // MARK: Parsing

    /// Parses exactly one JSON value (surrounding whitespace allowed). Throws
    /// `CredentialError.malformed` for invalid syntax or UTF-8, fractions or exponents, integers
    /// outside Int64, duplicate object keys (compared as Swift strings, i.e. canonically
    /// equivalent names count as duplicates), lone surrogates, nesting deeper than `maxDepth`,
    /// input longer than `maxParseBytes`, or anything after the value.
    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        guard bytes.count <= maxParseBytes else { throw CredentialError.malformed("JSON longer than \(maxParseBytes) bytes") }
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.pos == bytes.count else { throw parser.error("trailing characters after the JSON value") }
        return value
    }

    private struct Parser {
        let bytes: [UInt8]
        var pos = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        func error(_ message: String) -> CredentialError {
            CredentialError.malformed("JSON: \(message) at byte \(pos)")
        }

        mutating func skipWhitespace() {
            // A switch, not `[…].contains`: an array literal here would be built on every byte.
            while pos < bytes.count {
                switch bytes[pos] {
                case 0x20, 0x09, 0x0A, 0x0D: pos += 1
                default: return
                }
            }
        }

        func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }

        mutating func expectLiteral(_ text: String) throws {
            for char in text.utf8 {
                guard peek() == char else { throw error("invalid literal") }
                pos += 1
            }
        }

        mutating func parseValue(depth: Int) throws -> JSONValue {
            guard let c = peek() else { throw error("unexpected end of input") }
            switch c {
            case UInt8(ascii: "{"):
                guard depth < JSONValue.maxDepth else { throw error("nesting deeper than \(JSONValue.maxDepth)") }
                return try parseObject(depth: depth + 1)
            case UInt8(ascii: "["):
                guard depth < JSONValue.maxDepth else { throw error("nesting deeper than \(JSONValue.maxDepth)") }
                return try parseArray(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
            case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
            case UInt8(ascii: "n"): try expectLiteral("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
            default: throw error("unexpected character")
            }
        }

        mutating func parseObject(depth: Int) throws -> JSONValue {
            pos += 1 // {
            var members: [(String, JSONValue)] = []
            // Duplicate names: a linear scan while the object is small (claims, headers, JWKs:
            // cheaper than hashing every name), a set once it grows.
            var seen = Set<String>()
            skipWhitespace()
            if peek() == UInt8(ascii: "}") { pos += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\"") else { throw error("expected a member name") }
                let keyStart = pos
                let key = try parseString()
                let duplicate: Bool
                if members.count < 16 {
                    duplicate = members.contains { $0.0 == key }
                } else {
                    if seen.isEmpty { seen = Set(members.map(\.0)) }
                    duplicate = !seen.insert(key).inserted
                }
                guard !duplicate else {
                    pos = keyStart
                    throw error("duplicate member name")
                }
                skipWhitespace()
                guard peek() == UInt8(ascii: ":") else { throw error("expected ':'") }
                pos += 1
                skipWhitespace()
                members.append((key, try parseValue(depth: depth)))
                skipWhitespace()
                switch peek() {
                case UInt8(ascii: ","): pos += 1
                case UInt8(ascii: "}"): pos += 1; return .object(members)
                default: throw error("expected ',' or '}'")
                }
            }
        }

        mutating func parseArray(depth: Int) throws -> JSONValue {
            pos += 1 // [
            var items: [JSONValue] = []
            skipWhitespace()
            if peek() == UInt8(ascii: "]") { pos += 1; return .array(items) }
            while true {
                skipWhitespace()
                items.append(try parseValue(depth: depth))
                skipWhitespace()
                switch peek() {
                case UInt8(ascii: ","): pos += 1
                case UInt8(ascii: "]"): pos += 1; return .array(items)
                default: throw error("expected ',' or ']'")
                }
            }
        }

        /// `-?(0|[1-9][0-9]*)` within Int64; a following `.`, `e` or `E` is rejected.
        mutating func parseNumber() throws -> Int64 {
            let negative = peek() == UInt8(ascii: "-")
            if negative { pos += 1 }
            guard let first = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
                throw error("expected a digit")
            }
            // Accumulate negatively so Int64.min is representable.
            var value: Int64 = 0
            if first == UInt8(ascii: "0") {
                pos += 1
                if let next = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) {
                    throw error("leading zero")
                }
            } else {
                while let d = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(d) {
                    let (m, o1) = value.multipliedReportingOverflow(by: 10)
                    let (s, o2) = m.subtractingReportingOverflow(Int64(d - UInt8(ascii: "0")))
                    guard !o1, !o2 else { throw error("integer out of range") }
                    value = s
                    pos += 1
                }
            }
            if let next = peek(), next == UInt8(ascii: ".") || next == UInt8(ascii: "e") || next == UInt8(ascii: "E") {
                throw error("only integers are accepted")
            }
            if negative { return value }
            guard value != Int64.min else { throw error("integer out of range") }
            return -value
        }

        mutating func parseHex4() throws -> UInt32 {
            guard pos + 4 <= bytes.count else { throw error("truncated \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[pos]
                let digit: UInt8
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = c - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
                default: throw error("invalid hex digit in \\u escape")
                }
                v = v << 4 | UInt32(digit)
                pos += 1
            }
            return v
        }

        mutating func parseString() throws -> String {
            pos += 1 // opening quote
            // Fast path: no escapes before the closing quote, so the bytes are the string.
            var end = pos
            while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 { end += 1 }
            if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
                guard let text = String(validating: bytes[pos..<end], as: UTF8.self) else { throw error("string is not valid UTF-8") }
                pos = end + 1
                return text
            }
            var out: [UInt8] = []
            while true {
                guard let c = peek() else { throw error("unterminated string") }
                switch c {
                case UInt8(ascii: "\""):
                    pos += 1
                    guard let text = String(validating: out, as: UTF8.self) else {
                        throw error("string is not valid UTF-8")
                    }
                    return text
                case UInt8(ascii: "\\"):
                    pos += 1
                    guard let e = peek() else { throw error("unterminated escape") }
                    pos += 1
                    switch e {
                    case UInt8(ascii: "\""): out.append(0x22)
                    case UInt8(ascii: "\\"): out.append(0x5C)
                    case UInt8(ascii: "/"): out.append(0x2F)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try parseHex4()
                        if (0xD800...0xDBFF).contains(scalar) {
                            guard pos + 2 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                                throw error("lone high surrogate")
                            }
                            pos += 2
                            let low = try parseHex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw error("high surrogate without low surrogate") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(scalar) {
                            throw error("lone low surrogate")
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                        out.append(contentsOf: UTF8.encode(u).map { Array($0) } ?? [])
                    default:
                        throw error("invalid escape")
                    }
                case 0x00..<0x20:
                    throw error("unescaped control character in string")
                default:
                    out.append(c)
                    pos += 1
                }
            }
        }
    }
}
