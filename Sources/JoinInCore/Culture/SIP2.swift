/// 3M Standard Interchange Protocol 2.00 (SIP2), the line protocol library self-check kiosks
/// (the "SC") speak to a circulation system (the "ACS", here JoinIn). This is the pure codec: no
/// sockets, no clock, no state.
///
/// A message is `command` (two digits) + a fixed-length part whose layout depends on the command +
/// variable fields (a two-character id, the value, `|`) + optionally the error-detection trailer
/// `AY<sequence digit>AZ<4 hex checksum>` (no `|` inside or after it) + the terminator `\r`.
/// `parse` takes one message without its terminator; `encode` returns one without it.
///
/// Interoperability notes (checked against the Python `Sip2` 1.1 client):
/// - That client always ends what it sends in `AY<n>AZ<hex>` and, when reading a response, cuts the
///   last six characters off as `AZxxxx` before splitting fields. A response must therefore carry
///   the trailer whenever the request did: `Message.replying(to:)` copies it over.
/// - It writes the checksum with Python's `format(x, 'X')`, without leading zeros, so one message in
///   sixteen arrives with a 3-hex-digit (or shorter) checksum. `parse` and `verifyChecksum` accept
///   1 to 4 hex digits; `encode` always writes 4.
/// - It sums Unicode code points rather than UTF-8 bytes; `verifyChecksum` accepts either sum.
///
/// Errors are `DomainError.malformed` with code `sip2.malformed` (the text is not a readable SIP2
/// message, or a required field is missing) or `sip2.unsupported` (a well-formed request this codec
/// does not turn into a `Request`, or an encrypted login).
public enum SIP2 {
    /// Longest message `parse` accepts, in UTF-8 bytes without the terminator.
    public static let messageLengthMax = 4096
    /// Longest variable field value `encode` writes, in UTF-8 bytes (the spec's 255-character limit,
    /// counted in bytes so that no reader has to guess the encoding).
    public static let fieldBytesMax = 255

    // MARK: - Message

    /// One variable-length field: a two-character id such as `AA` and its value (never containing `|`).
    public struct Field: Sendable, Equatable, Hashable {
        /// Two ASCII letters or digits, e.g. `AO`.
        public var id: String
        /// The text between the id and the field terminator `|`.
        public var value: String

        /// A field `id` + `value`.
        public init(id: String, value: String) {
            self.id = id
            self.value = value
        }

        /// A field `id` + `value`.
        public init(_ id: String, _ value: String) {
            self.init(id: id, value: value)
        }
    }

    /// One SIP2 message, split into its parts but not interpreted.
    public struct Message: Sendable, Equatable {
        /// The two-digit command, e.g. `"93"` (login) or `"12"` (checkout response).
        public var command: String
        /// The fixed-length part between the command and the first variable field.
        public var fixed: String
        /// The variable fields in message order; an id may repeat (several `AU` charged items).
        public var fields: [Field]
        /// The `AY` sequence number 0-9, nil when the message has none.
        public var sequence: Int?
        /// The `AZ` checksum as sent (hex digits), nil when the message has none. When encoding, a
        /// non-nil value only means "write a checksum"; the value itself is always recomputed.
        public var checksum: String?

        /// A message from its parts.
        public init(command: String, fixed: String = "", fields: [Field] = [], sequence: Int? = nil, checksum: String? = nil) {
            self.command = command
            self.fixed = fixed
            self.fields = fields
            self.sequence = sequence
            self.checksum = checksum
        }

        /// The value of the first field `id`, nil when there is none.
        public func field(_ id: String) -> String? {
            fields.first { $0.id == id }?.value
        }

        /// The values of every field `id`, in message order.
        public func fields(_ id: String) -> [String] {
            fields.filter { $0.id == id }.map(\.value)
        }

        /// This message (a response) with the error-detection trailer of `request`: the same `AY`
        /// sequence number, and a checksum whenever the request carried one. The spec has the ACS
        /// answer with the sequence number of the message it answers.
        public func replying(to request: Message) -> Message {
            var reply = self
            reply.sequence = request.sequence
            reply.checksum = request.sequence != nil || request.checksum != nil ? "" : nil
            return reply
        }
    }

    // MARK: - Command layouts

    /// One piece of a command's fixed-length part.
    struct FixedPart: Sendable {
        enum Kind: Sendable {
            /// Printable ASCII.
            case text
            /// ASCII digits only.
            case digits
            /// ASCII digits, or all blanks ("not available" in the 64 counts).
            case digitsOrBlank
        }

        let name: String
        let width: Int
        let kind: Kind
    }

    /// What `parse` knows about a command.
    struct Layout: Sendable {
        let name: String
        /// True for messages an SC sends to the ACS.
        let isRequest: Bool
        let parts: [FixedPart]
        let width: Int

        init(_ name: String, request: Bool, _ parts: [FixedPart]) {
            self.name = name
            self.isRequest = request
            self.parts = parts
            self.width = parts.reduce(0) { $0 + $1.width }
        }
    }

    private static func text(_ name: String, _ width: Int) -> FixedPart { FixedPart(name: name, width: width, kind: .text) }
    private static func digits(_ name: String, _ width: Int) -> FixedPart { FixedPart(name: name, width: width, kind: .digits) }
    private static func count(_ name: String) -> FixedPart { FixedPart(name: name, width: 4, kind: .digitsOrBlank) }
    private static let date = FixedPart(name: "transaction date", width: 18, kind: .text)

    /// Fixed-part layouts of every SIP2 2.00 message, from the 3M specification (the same offsets
    /// the Python client slices responses at).
    static let layouts: [String: Layout] = [
        "01": Layout("block patron", request: true, [text("card retained", 1), date]),
        "09": Layout("checkin", request: true, [text("no block", 1), date, text("return date", 18)]),
        "10": Layout("checkin response", request: false,
                     [digits("ok", 1), text("resensitize", 1), text("magnetic media", 1), text("alert", 1), date]),
        "11": Layout("checkout", request: true,
                     [text("SC renewal policy", 1), text("no block", 1), date, text("nb due date", 18)]),
        "12": Layout("checkout response", request: false,
                     [digits("ok", 1), text("renewal ok", 1), text("magnetic media", 1), text("desensitize", 1), date]),
        "15": Layout("hold", request: true, [text("hold mode", 1), date]),
        "16": Layout("hold response", request: false, [digits("ok", 1), text("available", 1), date]),
        "17": Layout("item information", request: true, [date]),
        "18": Layout("item information response", request: false,
                     [digits("circulation status", 2), digits("security marker", 2), digits("fee type", 2), date]),
        "19": Layout("item status update", request: true, [date]),
        "20": Layout("item status update response", request: false, [digits("item properties ok", 1), date]),
        "23": Layout("patron status", request: true, [digits("language", 3), date]),
        "24": Layout("patron status response", request: false, [text("patron status", 14), digits("language", 3), date]),
        "25": Layout("patron enable", request: true, [date]),
        "26": Layout("patron enable response", request: false, [text("patron status", 14), digits("language", 3), date]),
        "29": Layout("renew", request: true,
                     [text("third party allowed", 1), text("no block", 1), date, text("nb due date", 18)]),
        "30": Layout("renew response", request: false,
                     [digits("ok", 1), text("renewal ok", 1), text("magnetic media", 1), text("desensitize", 1), date]),
        "35": Layout("end patron session", request: true, [date]),
        "36": Layout("end session response", request: false, [text("end session", 1), date]),
        "37": Layout("fee paid", request: true,
                     [date, digits("fee type", 2), digits("payment type", 2), text("currency type", 3)]),
        "38": Layout("fee paid response", request: false, [text("payment accepted", 1), date]),
        "63": Layout("patron information", request: true, [digits("language", 3), date, text("summary", 10)]),
        "64": Layout("patron information response", request: false,
                     [text("patron status", 14), digits("language", 3), date,
                      count("hold items count"), count("overdue items count"), count("charged items count"),
                      count("fine items count"), count("recall items count"), count("unavailable holds count")]),
        "65": Layout("renew all", request: true, [date]),
        "66": Layout("renew all response", request: false,
                     [digits("ok", 1), digits("renewed count", 4), digits("unrenewed count", 4), date]),
        "93": Layout("login", request: true, [text("UID algorithm", 1), text("PWD algorithm", 1)]),
        "94": Layout("login response", request: false, [digits("ok", 1)]),
        "96": Layout("request SC resend", request: false, []),
        "97": Layout("request ACS resend", request: true, []),
        "98": Layout("ACS status", request: false,
                     [text("on-line status", 1), text("checkin ok", 1), text("checkout ok", 1), text("ACS renewal policy", 1),
                      text("status update ok", 1), text("off-line ok", 1), digits("timeout period", 3),
                      digits("retries allowed", 3), text("date / time sync", 18), text("protocol version", 4)]),
        "99": Layout("SC status", request: true,
                     [digits("status code", 1), digits("max print width", 3), text("protocol version", 4)]),
    ]

    /// Names of the field ids this codec reads or writes, for error details.
    static let fieldNames: [String: String] = [
        "AA": "patron identifier", "AB": "item identifier", "AC": "terminal password", "AD": "patron password",
        "AE": "personal name", "AF": "screen message", "AH": "due date", "AJ": "title identifier",
        "AM": "library name", "AN": "terminal location", "AO": "institution id", "AP": "current location",
        "AQ": "permanent location", "AS": "hold items", "AT": "overdue items", "AU": "charged items",
        "AY": "sequence number", "AZ": "checksum", "BL": "valid patron", "BO": "fee acknowledged",
        "BP": "start item", "BQ": "end item", "BX": "supported messages", "BZ": "hold items limit",
        "CA": "overdue items limit", "CB": "charged items limit", "CL": "sort bin", "CN": "login user id",
        "CO": "login password", "CP": "location code", "CQ": "valid patron password",
    ]

    // MARK: - Bytes

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let bar = UInt8(ascii: "|")
    private static let space = UInt8(ascii: " ")
    private static let letterA = UInt8(ascii: "A")
    private static let letterY = UInt8(ascii: "Y")
    private static let letterZ = UInt8(ascii: "Z")
    private static let letterN = UInt8(ascii: "N")

    private static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
    private static func isPrintableASCII(_ byte: UInt8) -> Bool { (0x20...0x7E).contains(byte) }
    private static func isControl(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x7F }
    private static func isHex(_ byte: UInt8) -> Bool {
        isDigit(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
    }
    private static func isIDByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }
    private static func hexValue(_ byte: UInt8) -> Int {
        switch byte {
        case 0x30...0x39: return Int(byte - 0x30)
        case 0x41...0x46: return Int(byte - 0x41 + 10)
        case 0x61...0x66: return Int(byte - 0x61 + 10)
        default: return 0
        }
    }

    /// Up to 24 bytes for an error detail: printable ASCII as is, anything else as `\xHH`.
    static func snippet<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var out = ""
        var count = 0
        for byte in bytes {
            if count == 24 {
                out += "..."
                break
            }
            if isPrintableASCII(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "\\x" + hex(Int(byte), width: 2)
            }
            count += 1
        }
        return out
    }

    private static func hex(_ value: Int, width: Int) -> String {
        let digits = Array("0123456789ABCDEF".unicodeScalars)
        var out = String.UnicodeScalarView()
        for shift in stride(from: (width - 1) * 4, through: 0, by: -4) {
            out.append(digits[(value >> shift) & 0xF])
        }
        return String(out)
    }

    private static func malformed(_ detail: String) -> DomainError {
        DomainError.malformed("sip2.malformed", detail)
    }

    private static func label(_ command: String, _ layout: Layout) -> String {
        "\(command) (\(layout.name))"
    }

    // MARK: - Parse

    /// Splits one message (without its `\r` terminator) into command, fixed part, fields and
    /// trailer. A trailing `\n` or `\r\n` and a single leading `\n` (the rest of a `\r\n` terminator
    /// when a stream is split on `\r`) are ignored. The checksum is not verified here (see
    /// `verifyChecksum`: the ACS answers a bad checksum with `scResendRequest()`, not an error).
    ///
    /// Rules: at most `messageLengthMax` bytes; no control characters (C0 or DEL); a known two-digit
    /// command; the command's fixed part complete, printable ASCII, with digits where the spec has
    /// numbers; then fields, each a two-letter-or-digit id and a value ended by `|`; then optionally
    /// `AY<digit>` and/or `AZ<1-4 hex digits>` with nothing after. Values may be any other UTF-8 text
    /// of any length within the message limit.
    ///
    /// - Throws: `DomainError.malformed` with code `sip2.malformed` and a detail naming the problem.
    public static func parse(_ text: String) throws -> Message {
        let utf8 = text.utf8
        guard utf8.count <= messageLengthMax + 3 else {
            throw malformed("the message is \(utf8.count) bytes, more than the \(messageLengthMax) allowed")
        }
        var start = utf8.startIndex
        var end = utf8.endIndex
        if start < end && utf8[start] == lf { start = utf8.index(after: start) }
        if start < end && utf8[utf8.index(before: end)] == lf { end = utf8.index(before: end) }
        if start < end && utf8[utf8.index(before: end)] == cr { end = utf8.index(before: end) }
        let bytes = Array(utf8[start..<end])

        guard !bytes.isEmpty else { throw malformed("the message is empty") }
        guard bytes.count <= messageLengthMax else {
            throw malformed("the message is \(bytes.count) bytes, more than the \(messageLengthMax) allowed")
        }
        if let position = bytes.firstIndex(where: isControl) {
            throw malformed("control character \\x\(hex(Int(bytes[position]), width: 2)) at byte \(position); "
                + "only the terminator (CR, LF or CR LF) may be a control character")
        }
        guard bytes.count >= 2, isDigit(bytes[0]), isDigit(bytes[1]) else {
            throw malformed("a message starts with a two-digit command, got '\(snippet(bytes.prefix(2)))'")
        }
        let command = String(decoding: bytes[0..<2], as: UTF8.self)
        guard let layout = layouts[command] else {
            throw malformed("unknown command '\(command)'")
        }
        let fixedEnd = 2 + layout.width
        guard bytes.count >= fixedEnd else {
            throw malformed("\(label(command, layout)): the fixed part needs \(layout.width) characters, "
                + "the message has \(bytes.count - 2) after the command")
        }
        try checkFixed(bytes[2..<fixedEnd], layout, command)
        let fixed = String(decoding: bytes[2..<fixedEnd], as: UTF8.self)

        var fields: [Field] = []
        var sequence: Int?
        var checksum: String?
        var position = fixedEnd
        while position < bytes.count {
            let terminator = bytes[position...].firstIndex(of: bar)
            let startsTrailer = bytes.count - position >= 2 && bytes[position] == letterA
                && (bytes[position + 1] == letterY || bytes[position + 1] == letterZ)
            if terminator == nil && startsTrailer {
                (sequence, checksum) = try trailer(bytes, from: position, command: command, layout: layout)
                break
            }
            guard let terminator else {
                throw malformed("\(label(command, layout)): '\(snippet(bytes[position...]))' at byte \(position) "
                    + "is neither a field ended by '|' nor the AY/AZ trailer")
            }
            guard terminator - position >= 2 else {
                throw malformed("\(label(command, layout)): the field at byte \(position) is shorter than its 2-character id")
            }
            guard isIDByte(bytes[position]), isIDByte(bytes[position + 1]) else {
                throw malformed("\(label(command, layout)): a field id is two ASCII letters or digits, "
                    + "got '\(snippet(bytes[position..<(position + 2)]))' at byte \(position)")
            }
            let id = String(decoding: bytes[position..<(position + 2)], as: UTF8.self)
            guard id != "AY" && id != "AZ" else {
                throw malformed("\(label(command, layout)): \(id) (\(fieldNames[id] ?? id)) at byte \(position) "
                    + "must come after the last field, without a '|'")
            }
            fields.append(Field(id: id, value: String(decoding: bytes[(position + 2)..<terminator], as: UTF8.self)))
            position = terminator + 1
        }
        return Message(command: command, fixed: fixed, fields: fields, sequence: sequence, checksum: checksum)
    }

    /// Reads `AY<digit>[AZ<hex>]` or `AZ<hex>` from `start` to the end of `bytes`.
    private static func trailer(_ bytes: [UInt8], from start: Int, command: String, layout: Layout) throws -> (Int?, String?) {
        var position = start
        var sequence: Int?
        if bytes[position + 1] == letterY {
            guard position + 2 < bytes.count, isDigit(bytes[position + 2]) else {
                throw malformed("\(label(command, layout)): AY (sequence number) at byte \(position) needs one digit, "
                    + "got '\(snippet(bytes[(position + 2)...].prefix(1)))'")
            }
            sequence = Int(bytes[position + 2] - 0x30)
            position += 3
            if position == bytes.count { return (sequence, nil) }
            guard bytes.count - position >= 2, bytes[position] == letterA, bytes[position + 1] == letterZ else {
                throw malformed("\(label(command, layout)): only AZ (checksum) may follow the sequence number, "
                    + "got '\(snippet(bytes[position...]))' at byte \(position)")
            }
        }
        let digits = bytes[(position + 2)...]
        guard (1...4).contains(digits.count), digits.allSatisfy(isHex) else {
            throw malformed("\(label(command, layout)): AZ (checksum) at byte \(position) must be followed by 4 hex digits "
                + "and end the message, got '\(snippet(digits))'")
        }
        return (sequence, String(decoding: digits, as: UTF8.self))
    }

    /// Checks a complete fixed part: printable ASCII, digits where the layout wants them.
    private static func checkFixed(_ bytes: ArraySlice<UInt8>, _ layout: Layout, _ command: String) throws {
        var offset = bytes.startIndex
        for part in layout.parts {
            let piece = bytes[offset..<(offset + part.width)]
            if let bad = piece.firstIndex(where: { !isPrintableASCII($0) }) {
                throw malformed("\(label(command, layout)): \(part.name) must be printable ASCII, "
                    + "got '\(snippet(piece))' (byte \(bad))")
            }
            switch part.kind {
            case .text:
                break
            case .digits:
                guard piece.allSatisfy(isDigit) else {
                    throw malformed("\(label(command, layout)): \(part.name) must be \(part.width) digit\(part.width == 1 ? "" : "s"), "
                        + "got '\(snippet(piece))'")
                }
            case .digitsOrBlank:
                guard piece.allSatisfy(isDigit) || piece.allSatisfy({ $0 == space }) else {
                    throw malformed("\(label(command, layout)): \(part.name) must be \(part.width) digits or blanks, "
                        + "got '\(snippet(piece))'")
                }
            }
            offset += part.width
        }
    }

    // MARK: - Checksum

    /// The SIP2 checksum of `textThroughAZ` (everything from the command up to and including the
    /// `AZ` field id): the sum of its UTF-8 bytes, lower 16 bits, two's complement, as 4 uppercase
    /// hex digits.
    public static func checksum(_ textThroughAZ: String) -> String {
        var sum: UInt16 = 0
        for byte in textThroughAZ.utf8 { sum &+= UInt16(byte) }
        return hex(Int(0 &- sum), width: 4)
    }

    /// True when `text` (a whole message, terminator optional) ends in `AZ` + hex digits that are its
    /// checksum. The hex compare ignores case and leading zeros (1 to 4 digits, as the Python client
    /// writes them); the sum may be over UTF-8 bytes (the wire bytes, per the spec) or over Unicode
    /// code points (what the Python client sums). False when there is no checksum.
    public static func verifyChecksum(_ text: String) -> Bool {
        var bytes = Array(text.utf8)
        if bytes.first == lf { bytes.removeFirst() }
        if bytes.last == lf { bytes.removeLast() }
        if bytes.last == cr { bytes.removeLast() }
        guard let z = bytes.lastIndex(of: letterZ), z >= 1, bytes[z - 1] == letterA else { return false }
        let digits = bytes[(z + 1)...]
        guard (1...4).contains(digits.count), digits.allSatisfy(isHex) else { return false }
        let sent = digits.reduce(0) { $0 * 16 + hexValue($1) }
        let covered = bytes[...z]
        var byteSum = 0
        for byte in covered { byteSum = (byteSum + Int(byte)) & 0xFFFF }
        if (byteSum + sent) & 0xFFFF == 0 { return true }
        var scalarSum = 0
        for scalar in String(decoding: covered, as: UTF8.self).unicodeScalars {
            scalarSum = (scalarSum + Int(scalar.value)) & 0xFFFF
        }
        return (scalarSum + sent) & 0xFFFF == 0
    }

    // MARK: - Encode

    /// The wire text of `message`, without the `\r` terminator: command + fixed part + each field as
    /// id + value + `|`, then the trailer:
    /// - `sequence` non-nil: `AY<n>AZ<checksum>` (n is taken modulo 10);
    /// - `sequence` nil, `checksum` non-nil: `AZ<checksum>` (the spec's form for the resend messages);
    /// - both nil: nothing (error detection off). The Python client with its default settings
    ///   expects a trailer on every response, so answer its requests via `Message.replying(to:)`.
    ///
    /// The checksum is always computed here. Field values are sanitised: `|`, C0 controls (CR, LF,
    /// ...) and DEL become a space, and the value is cut to `fieldBytesMax` UTF-8 bytes on a
    /// character boundary. In the command and fixed part, any character that is not printable
    /// ASCII becomes a space. Field ids are written as given and should be two ASCII letters or
    /// digits. The message length is not limited here; keep item lists short (`BP`/`BQ`) so the
    /// result stays within `messageLengthMax`.
    public static func encode(_ message: Message) -> String {
        var out = asciiText(message.command) + asciiText(message.fixed)
        for field in message.fields {
            out += field.id
            out += sanitize(field.value)
            out += "|"
        }
        if let sequence = message.sequence {
            out += "AY\(((sequence % 10) + 10) % 10)AZ"
            out += checksum(out)
        } else if message.checksum != nil {
            out += "AZ"
            out += checksum(out)
        }
        return out
    }

    /// `encode(Message(command:fixed:fields:sequence:))`, with a checksum exactly when there is a
    /// sequence number. Fields are written in the order given; an id may repeat.
    public static func encode(command: String, fixed: String = "", fields: KeyValuePairs<String, String> = [:], sequence: Int? = nil) -> String {
        encode(Message(command: command, fixed: fixed, fields: fields.map { Field(id: $0.key, value: $0.value) }, sequence: sequence))
    }

    /// A field value made safe to send: `|`, C0 controls and DEL replaced by a space, then cut to at
    /// most `fieldBytesMax` UTF-8 bytes without splitting a character.
    public static func sanitize(_ value: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F || scalar == "|" {
                scalars.append(" ")
            } else {
                scalars.append(scalar)
            }
        }
        let clean = String(scalars)
        guard clean.utf8.count > fieldBytesMax else { return clean }
        var out = ""
        var bytes = 0
        for character in clean {
            let size = character.utf8.count
            if bytes + size > fieldBytesMax { break }
            out.append(character)
            bytes += size
        }
        return out
    }

    /// `text` with every character that is not a single printable ASCII scalar replaced by a space.
    private static func asciiText(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for character in text {
            if character.unicodeScalars.count == 1, let ascii = character.asciiValue, isPrintableASCII(ascii) {
                out.append(Unicode.Scalar(ascii))
            } else {
                out.append(" ")
            }
        }
        return String(out)
    }

    /// `text` made printable ASCII and padded with blanks or cut to exactly `width` characters.
    private static func fixedWidth(_ text: String, _ width: Int) -> String {
        let ascii = asciiText(text)
        if ascii.count >= width { return String(ascii.prefix(width)) }
        return ascii + String(repeating: " ", count: width - ascii.count)
    }

    /// `value` clamped to 0...10^width-1, zero-padded to `width` digits.
    private static func number(_ value: Int, _ width: Int) -> String {
        var limit = 1
        for _ in 0..<width { limit *= 10 }
        let text = String(min(max(value, 0), limit - 1))
        return String(repeating: "0", count: width - text.count) + text
    }

    private static func yesNo(_ flag: Bool) -> String { flag ? "Y" : "N" }

    // MARK: - Dates

    /// The 18-character SIP2 date `YYYYMMDDZZZZHHMMSS` for a Unix time in milliseconds, in local time
    /// at `utcOffsetMinutes` east of UTC (default +480, Asia/Shanghai) with ZZZZ as four blanks (the
    /// spec's "local time"; `   Z` is never written). Milliseconds are dropped (floor), the offset is
    /// clamped to ±24 h, and times outside 0001-01-01 00:00:00 ... 9999-12-31 23:59:59 local are clamped.
    public static func timestamp(unixMs: Int64, utcOffsetMinutes: Int = 480) -> String {
        var seconds = unixMs / 1000
        if unixMs % 1000 < 0 { seconds -= 1 }
        seconds += Int64(min(max(utcOffsetMinutes, -1440), 1440)) * 60
        seconds = min(max(seconds, -62_135_596_800), 253_402_300_799)
        var days = seconds / 86_400
        if seconds % 86_400 < 0 { days -= 1 }
        let secondOfDay = Int(seconds - days * 86_400)
        let date = CivilDate(daysSinceEpoch: Int(days))
        return number(date.year, 4) + number(date.month, 2) + number(date.day, 2) + "    "
            + number(secondOfDay / 3600, 2) + number(secondOfDay / 60 % 60, 2) + number(secondOfDay % 60, 2)
    }

    /// Reads an 18-character SIP2 date `YYYYMMDDZZZZHHMMSS` whose ZZZZ is four blanks (local time) or
    /// `   Z` (UTC); nil for anything else, including a day that does not exist, an hour above 23, a
    /// minute or second above 59, and the "unsupported" all-zero date. The zone is not reported.
    public static func parseTimestamp(_ s: String) -> (date: CivilDate, hour: Int, minute: Int, second: Int)? {
        let bytes = Array(s.utf8)
        guard bytes.count == 18 else { return nil }
        let digitRanges = [0..<8, 12..<18]
        for range in digitRanges where !bytes[range].allSatisfy(isDigit) { return nil }
        guard bytes[8..<11].allSatisfy({ $0 == space }), bytes[11] == space || bytes[11] == letterZ else { return nil }
        func value(_ range: Range<Int>) -> Int { bytes[range].reduce(0) { $0 * 10 + Int($1 - 0x30) } }
        guard let date = CivilDate(year: value(0..<4), month: value(4..<6), day: value(6..<8)) else { return nil }
        let hour = value(12..<14), minute = value(14..<16), second = value(16..<18)
        guard hour <= 23, minute <= 59, second <= 59 else { return nil }
        return (date, hour, minute, second)
    }

    // MARK: - Requests

    /// A request from an SC, with the fields the ACS acts on. Dates are the raw 18-character fixed
    /// fields (read them with `parseTimestamp`); optional fields are nil when absent.
    public enum Request: Sendable, Equatable {
        /// 93: log the SC in (`CN`, `CO`, optional `CP`). Only plain-text credentials are accepted.
        case login(userID: String, password: String, location: String?)
        /// 99: SC status; `statusCode` 0 (OK), 1 (out of paper) or 2 (shutting down).
        case scStatus(statusCode: Character, maxPrintWidth: Int, protocolVersion: String)
        /// 23: patron status.
        case patronStatus(language: String, date: String, institution: String, patron: String,
                          terminalPassword: String?, patronPassword: String?)
        /// 63: patron information; `summary` is the 10-character Y/blank item-category selector.
        case patronInformation(language: String, date: String, summary: String, institution: String, patron: String,
                               terminalPassword: String?, patronPassword: String?, startItem: Int?, endItem: Int?)
        /// 11: check an item out; `renewalAllowed` is the SC renewal policy flag.
        case checkout(renewalAllowed: Bool, noBlock: Bool, date: String, institution: String, patron: String, item: String,
                      terminalPassword: String?, patronPassword: String?, feeAcknowledged: Bool?)
        /// 09: check an item in at `location` (`AP`).
        case checkin(noBlock: Bool, date: String, returnDate: String, location: String, institution: String, item: String,
                     terminalPassword: String?)
        /// 29: renew an item named by `item` (`AB`) and/or `title` (`AJ`), at least one of them.
        case renew(thirdPartyAllowed: Bool, noBlock: Bool, date: String, institution: String, patron: String,
                   patronPassword: String?, item: String?, title: String?, terminalPassword: String?)
        /// 35: the patron has finished.
        case endPatronSession(date: String, institution: String, patron: String, terminalPassword: String?, patronPassword: String?)
        /// 17: item information.
        case itemInformation(date: String, institution: String, item: String, terminalPassword: String?)
        /// 97: the SC asks the ACS to send its last message again.
        case resend
    }

    /// The typed request in `message`.
    ///
    /// - Throws: `sip2.malformed` when the message is not a request, its fixed part is not the
    ///   command's layout, a required field is missing (the detail names it, e.g.
    ///   "checkout (11) needs AB (item identifier)"), a Y/N flag holds something else, or a number
    ///   field is not a number; `sip2.unsupported` for requests outside `Request` (block patron,
    ///   hold, fee paid, ...) and for logins with an encrypted user id or password.
    public static func request(_ message: Message) throws -> Request {
        guard let layout = layouts[message.command] else {
            throw malformed("unknown command '\(snippet(message.command.utf8))'")
        }
        let command = message.command
        let what = "\(layout.name) (\(command))"
        guard layout.isRequest else {
            throw malformed("\(what) is a message the ACS sends, not a request")
        }
        let fixed = Array(message.fixed.utf8)
        guard fixed.count == layout.width else {
            throw malformed("\(what): the fixed part must be \(layout.width) characters, got \(fixed.count)")
        }
        try checkFixed(fixed[...], layout, command)

        func text(_ offset: Int, _ width: Int) -> String {
            String(decoding: fixed[offset..<(offset + width)], as: UTF8.self)
        }
        func flag(_ offset: Int) throws -> Bool {
            let byte = fixed[offset]
            if byte == letterY { return true }
            if byte == letterN { return false }
            let name = layout.parts.reduce(into: (0, "")) { state, part in
                if state.0 <= offset && offset < state.0 + part.width { state.1 = part.name }
                state.0 += part.width
            }.1
            throw malformed("\(what): \(name) must be Y or N, got '\(snippet([byte]))'")
        }
        func required(_ id: String) throws -> String {
            guard let value = message.field(id) else {
                throw malformed("\(what) needs \(id) (\(fieldNames[id] ?? id))")
            }
            return value
        }
        func optionalFlag(_ id: String) throws -> Bool? {
            guard let value = message.field(id), !value.isEmpty else { return nil }
            if value == "Y" { return true }
            if value == "N" { return false }
            throw malformed("\(what): \(id) (\(fieldNames[id] ?? id)) must be Y or N, got '\(snippet(value.utf8))'")
        }
        func optionalNumber(_ id: String) throws -> Int? {
            guard let value = message.field(id), !value.isEmpty else { return nil }
            let bytes = Array(value.utf8)
            guard bytes.count <= 9, bytes.allSatisfy(isDigit) else {
                throw malformed("\(what): \(id) (\(fieldNames[id] ?? id)) must be a whole number of at most 9 digits, "
                    + "got '\(snippet(bytes))'")
            }
            return bytes.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }

        switch command {
        case "93":
            for (offset, name) in [(0, "UID"), (1, "PWD")] where fixed[offset] != UInt8(ascii: "0") && fixed[offset] != space {
                throw DomainError.malformed("sip2.unsupported",
                                            "\(what): \(name) algorithm '\(snippet([fixed[offset]]))' is not supported, only 0 (plain text)")
            }
            return .login(userID: try required("CN"), password: try required("CO"), location: message.field("CP"))
        case "99":
            let code = fixed[0]
            guard (UInt8(ascii: "0")...UInt8(ascii: "2")).contains(code) else {
                throw malformed("\(what): status code must be 0, 1 or 2, got '\(snippet([code]))'")
            }
            return .scStatus(statusCode: Character(Unicode.Scalar(code)), maxPrintWidth: Int(text(1, 3)) ?? 0,
                             protocolVersion: text(4, 4))
        case "23":
            return .patronStatus(language: text(0, 3), date: text(3, 18), institution: try required("AO"),
                                 patron: try required("AA"), terminalPassword: message.field("AC"),
                                 patronPassword: message.field("AD"))
        case "63":
            return .patronInformation(language: text(0, 3), date: text(3, 18), summary: text(21, 10),
                                      institution: try required("AO"), patron: try required("AA"),
                                      terminalPassword: message.field("AC"), patronPassword: message.field("AD"),
                                      startItem: try optionalNumber("BP"), endItem: try optionalNumber("BQ"))
        case "11":
            return .checkout(renewalAllowed: try flag(0), noBlock: try flag(1), date: text(2, 18),
                             institution: try required("AO"), patron: try required("AA"), item: try required("AB"),
                             terminalPassword: message.field("AC"), patronPassword: message.field("AD"),
                             feeAcknowledged: try optionalFlag("BO"))
        case "09":
            return .checkin(noBlock: try flag(0), date: text(1, 18), returnDate: text(19, 18),
                            location: try required("AP"), institution: try required("AO"), item: try required("AB"),
                            terminalPassword: message.field("AC"))
        case "29":
            let thirdParty = try flag(0), noBlock = try flag(1)
            let institution = try required("AO"), patron = try required("AA")
            let item = message.field("AB"), title = message.field("AJ")
            guard item != nil || title != nil else {
                throw malformed("\(what) needs AB (item identifier) or AJ (title identifier)")
            }
            return .renew(thirdPartyAllowed: thirdParty, noBlock: noBlock, date: text(2, 18), institution: institution,
                          patron: patron, patronPassword: message.field("AD"), item: item, title: title,
                          terminalPassword: message.field("AC"))
        case "35":
            return .endPatronSession(date: text(0, 18), institution: try required("AO"), patron: try required("AA"),
                                     terminalPassword: message.field("AC"), patronPassword: message.field("AD"))
        case "17":
            return .itemInformation(date: text(0, 18), institution: try required("AO"), item: try required("AB"),
                                    terminalPassword: message.field("AC"))
        case "97":
            return .resend
        default:
            throw DomainError.malformed("sip2.unsupported", "\(what) is not supported")
        }
    }

    /// The message an SC would send for `request` (no trailer; set `sequence` to add one). The
    /// inverse of `request(_:)` for clean values: dates are padded or cut to 18 characters, the
    /// language to 3, the summary to 10; nb due dates are sent blank; nil fields are left out.
    public static func message(for request: Request) -> Message {
        func optional(_ id: String, _ value: String?) -> [Field] { value.map { [Field(id, $0)] } ?? [] }
        func optionalFlag(_ id: String, _ value: Bool?) -> [Field] { value.map { [Field(id, yesNo($0))] } ?? [] }
        func optionalNumber(_ id: String, _ value: Int?) -> [Field] { value.map { [Field(id, String($0))] } ?? [] }
        let blankDate = String(repeating: " ", count: 18)
        switch request {
        case let .login(userID, password, location):
            return Message(command: "93", fixed: "00", fields: [Field("CN", userID), Field("CO", password)] + optional("CP", location))
        case let .scStatus(statusCode, maxPrintWidth, protocolVersion):
            return Message(command: "99", fixed: fixedWidth(String(statusCode), 1) + number(maxPrintWidth, 3) + fixedWidth(protocolVersion, 4))
        case let .patronStatus(language, date, institution, patron, terminalPassword, patronPassword):
            return Message(command: "23", fixed: fixedWidth(language, 3) + fixedWidth(date, 18),
                           fields: [Field("AO", institution), Field("AA", patron)]
                               + optional("AC", terminalPassword) + optional("AD", patronPassword))
        case let .patronInformation(language, date, summary, institution, patron, terminalPassword, patronPassword, startItem, endItem):
            return Message(command: "63", fixed: fixedWidth(language, 3) + fixedWidth(date, 18) + fixedWidth(summary, 10),
                           fields: [Field("AO", institution), Field("AA", patron)]
                               + optional("AC", terminalPassword) + optional("AD", patronPassword)
                               + optionalNumber("BP", startItem) + optionalNumber("BQ", endItem))
        case let .checkout(renewalAllowed, noBlock, date, institution, patron, item, terminalPassword, patronPassword, feeAcknowledged):
            return Message(command: "11", fixed: yesNo(renewalAllowed) + yesNo(noBlock) + fixedWidth(date, 18) + blankDate,
                           fields: [Field("AO", institution), Field("AA", patron), Field("AB", item)]
                               + optional("AC", terminalPassword) + optional("AD", patronPassword)
                               + optionalFlag("BO", feeAcknowledged))
        case let .checkin(noBlock, date, returnDate, location, institution, item, terminalPassword):
            return Message(command: "09", fixed: yesNo(noBlock) + fixedWidth(date, 18) + fixedWidth(returnDate, 18),
                           fields: [Field("AP", location), Field("AO", institution), Field("AB", item)]
                               + optional("AC", terminalPassword))
        case let .renew(thirdPartyAllowed, noBlock, date, institution, patron, patronPassword, item, title, terminalPassword):
            return Message(command: "29", fixed: yesNo(thirdPartyAllowed) + yesNo(noBlock) + fixedWidth(date, 18) + blankDate,
                           fields: [Field("AO", institution), Field("AA", patron)] + optional("AD", patronPassword)
                               + optional("AB", item) + optional("AJ", title) + optional("AC", terminalPassword))
        case let .endPatronSession(date, institution, patron, terminalPassword, patronPassword):
            return Message(command: "35", fixed: fixedWidth(date, 18),
                           fields: [Field("AO", institution), Field("AA", patron)]
                               + optional("AC", terminalPassword) + optional("AD", patronPassword))
        case let .itemInformation(date, institution, item, terminalPassword):
            return Message(command: "17", fixed: fixedWidth(date, 18),
                           fields: [Field("AO", institution), Field("AB", item)] + optional("AC", terminalPassword))
        case .resend:
            return Message(command: "97")
        }
    }

    // MARK: - Responses

    /// The 14-position patron status of responses 24 and 64: `Y` where a condition holds, a blank
    /// where it does not.
    public struct PatronStatusFlags: Sendable, Equatable, Hashable {
        /// Position 0.
        public var chargePrivilegesDenied: Bool
        /// Position 1.
        public var renewalPrivilegesDenied: Bool
        /// Position 2.
        public var recallPrivilegesDenied: Bool
        /// Position 3.
        public var holdPrivilegesDenied: Bool
        /// Position 4.
        public var cardReportedLost: Bool
        /// Position 5.
        public var tooManyItemsCharged: Bool
        /// Position 6.
        public var tooManyItemsOverdue: Bool
        /// Position 7.
        public var tooManyRenewals: Bool
        /// Position 8.
        public var tooManyClaimsOfItemsReturned: Bool
        /// Position 9.
        public var tooManyItemsLost: Bool
        /// Position 10.
        public var excessiveOutstandingFines: Bool
        /// Position 11.
        public var excessiveOutstandingFees: Bool
        /// Position 12.
        public var recallOverdue: Bool
        /// Position 13.
        public var tooManyItemsBilled: Bool

        /// Flags, all clear unless given.
        public init(chargePrivilegesDenied: Bool = false, renewalPrivilegesDenied: Bool = false,
                    recallPrivilegesDenied: Bool = false, holdPrivilegesDenied: Bool = false,
                    cardReportedLost: Bool = false, tooManyItemsCharged: Bool = false,
                    tooManyItemsOverdue: Bool = false, tooManyRenewals: Bool = false,
                    tooManyClaimsOfItemsReturned: Bool = false, tooManyItemsLost: Bool = false,
                    excessiveOutstandingFines: Bool = false, excessiveOutstandingFees: Bool = false,
                    recallOverdue: Bool = false, tooManyItemsBilled: Bool = false) {
            self.chargePrivilegesDenied = chargePrivilegesDenied
            self.renewalPrivilegesDenied = renewalPrivilegesDenied
            self.recallPrivilegesDenied = recallPrivilegesDenied
            self.holdPrivilegesDenied = holdPrivilegesDenied
            self.cardReportedLost = cardReportedLost
            self.tooManyItemsCharged = tooManyItemsCharged
            self.tooManyItemsOverdue = tooManyItemsOverdue
            self.tooManyRenewals = tooManyRenewals
            self.tooManyClaimsOfItemsReturned = tooManyClaimsOfItemsReturned
            self.tooManyItemsLost = tooManyItemsLost
            self.excessiveOutstandingFines = excessiveOutstandingFines
            self.excessiveOutstandingFees = excessiveOutstandingFees
            self.recallOverdue = recallOverdue
            self.tooManyItemsBilled = tooManyItemsBilled
        }

        /// Reads a patron status field: a `Y` (or `y`) sets the flag at its position; anything else,
        /// and positions beyond the text, leave it clear.
        public init(text: String) {
            var flags = Array(repeating: false, count: 14)
            for (index, byte) in text.utf8.prefix(14).enumerated() {
                flags[index] = byte == UInt8(ascii: "Y") || byte == UInt8(ascii: "y")
            }
            self.init(chargePrivilegesDenied: flags[0], renewalPrivilegesDenied: flags[1], recallPrivilegesDenied: flags[2],
                      holdPrivilegesDenied: flags[3], cardReportedLost: flags[4], tooManyItemsCharged: flags[5],
                      tooManyItemsOverdue: flags[6], tooManyRenewals: flags[7], tooManyClaimsOfItemsReturned: flags[8],
                      tooManyItemsLost: flags[9], excessiveOutstandingFines: flags[10], excessiveOutstandingFees: flags[11],
                      recallOverdue: flags[12], tooManyItemsBilled: flags[13])
        }

        /// The 14-character field, `Y` or a blank per position.
        public var text: String {
            let flags = [chargePrivilegesDenied, renewalPrivilegesDenied, recallPrivilegesDenied, holdPrivilegesDenied,
                         cardReportedLost, tooManyItemsCharged, tooManyItemsOverdue, tooManyRenewals,
                         tooManyClaimsOfItemsReturned, tooManyItemsLost, excessiveOutstandingFines,
                         excessiveOutstandingFees, recallOverdue, tooManyItemsBilled]
            return flags.map { $0 ? "Y" : " " }.joined()
        }
    }

    /// 94 login response: `1` when the login succeeded, `0` otherwise.
    public static func loginResponse(ok: Bool) -> Message {
        Message(command: "94", fixed: ok ? "1" : "0")
    }

    /// 98 ACS status. `timeoutPeriod` (tenths of a second; 000 = ACS off-line, 999 = unknown) and
    /// `retriesAllowed` (999 = unknown) are clamped to 0...999; `dateTime` is padded or cut to 18
    /// characters (use `timestamp`); the protocol version is `2.00`. `supportedMessages` is the 16
    /// position `BX` field (patron status, checkout, checkin, block patron, SC/ACS status, resend,
    /// login, patron information, end patron session, fee paid, item information, item status
    /// update, patron enable, hold, renew, renew all): `Y` stays `Y`, anything else and missing
    /// positions become `N`, characters beyond 16 are dropped. Fields: AO, AM, BX, AN, AF.
    public static func acsStatus(online: Bool, checkinOK: Bool, checkoutOK: Bool, renewalPolicy: Bool,
                                 statusUpdateOK: Bool, offlineOK: Bool, timeoutPeriod: Int, retriesAllowed: Int,
                                 dateTime: String, institution: String, libraryName: String?, supportedMessages: String,
                                 terminalLocation: String?, screenMessage: String?) -> Message {
        var supported = supportedMessages.prefix(16).map { (position: Character) -> String in position == "Y" ? "Y" : "N" }.joined()
        supported += String(repeating: "N", count: 16 - supported.count)
        let fixed = yesNo(online) + yesNo(checkinOK) + yesNo(checkoutOK) + yesNo(renewalPolicy) + yesNo(statusUpdateOK)
            + yesNo(offlineOK) + number(timeoutPeriod, 3) + number(retriesAllowed, 3) + fixedWidth(dateTime, 18) + "2.00"
        var fields = [Field("AO", institution)]
        if let libraryName { fields.append(Field("AM", libraryName)) }
        fields.append(Field("BX", supported))
        if let terminalLocation { fields.append(Field("AN", terminalLocation)) }
        if let screenMessage { fields.append(Field("AF", screenMessage)) }
        return Message(command: "98", fixed: fixed, fields: fields)
    }

    /// 24 patron status response: status flags + language (3 digits, e.g. `000` unknown, `019`
    /// Chinese) + date; fields AO, AA, AE, BL and CQ (when given), AF (when given).
    public static func patronStatusResponse(status: PatronStatusFlags, language: String, date: String, institution: String,
                                            patron: String, personalName: String, validPatron: Bool?, validPassword: Bool?,
                                            screenMessage: String?) -> Message {
        var fields = [Field("AO", institution), Field("AA", patron), Field("AE", personalName)]
        if let validPatron { fields.append(Field("BL", yesNo(validPatron))) }
        if let validPassword { fields.append(Field("CQ", yesNo(validPassword))) }
        if let screenMessage { fields.append(Field("AF", screenMessage)) }
        return Message(command: "24", fixed: status.text + language3(language) + fixedWidth(date, 18), fields: fields)
    }

    /// A language code as 3 digits: digits are kept (zero-padded on the left), anything else is `000`.
    private static func language3(_ language: String) -> String {
        let bytes = Array(language.utf8)
        guard !bytes.isEmpty, bytes.count <= 3, bytes.allSatisfy(isDigit) else { return "000" }
        return String(repeating: "0", count: 3 - bytes.count) + language
    }

    /// 64 patron information response: status flags + language + date + the six item counts (each
    /// clamped to 0...9999, 4 digits); fields AO, AA, AE, BZ/CA/CB limits (4 digits, when given),
    /// BL, CQ (when given), one AS per hold item, AT per overdue item, AU per charged item, AF.
    public static func patronInformationResponse(status: PatronStatusFlags, language: String, date: String,
                                                 holdCount: Int, overdueCount: Int, chargedCount: Int, fineCount: Int,
                                                 recallCount: Int, unavailableHoldCount: Int, institution: String,
                                                 patron: String, personalName: String, holdLimit: Int? = nil,
                                                 overdueLimit: Int? = nil, chargedLimit: Int? = nil, validPatron: Bool? = nil,
                                                 validPassword: Bool? = nil, holdItems: [String] = [],
                                                 overdueItems: [String] = [], chargedItems: [String] = [],
                                                 screenMessage: String? = nil) -> Message {
        let fixed = status.text + language3(language) + fixedWidth(date, 18)
            + [holdCount, overdueCount, chargedCount, fineCount, recallCount, unavailableHoldCount].map { number($0, 4) }.joined()
        var fields = [Field("AO", institution), Field("AA", patron), Field("AE", personalName)]
        if let holdLimit { fields.append(Field("BZ", number(holdLimit, 4))) }
        if let overdueLimit { fields.append(Field("CA", number(overdueLimit, 4))) }
        if let chargedLimit { fields.append(Field("CB", number(chargedLimit, 4))) }
        if let validPatron { fields.append(Field("BL", yesNo(validPatron))) }
        if let validPassword { fields.append(Field("CQ", yesNo(validPassword))) }
        fields += holdItems.map { Field("AS", $0) }
        fields += overdueItems.map { Field("AT", $0) }
        fields += chargedItems.map { Field("AU", $0) }
        if let screenMessage { fields.append(Field("AF", screenMessage)) }
        return Message(command: "64", fixed: fixed, fields: fields)
    }

    /// 12 checkout response: ok `1`/`0`, renewal ok Y/N, magnetic media `U` (unknown), desensitize
    /// `Y` when ok else `N`, date; fields AO, AA, AB, AJ, AH, AF. AH is required by the spec, so it
    /// is always sent: the due date when ok, empty otherwise.
    public static func checkoutResponse(ok: Bool, renewalOK: Bool, date: String, institution: String, patron: String,
                                        item: String, title: String, dueDate: String?, screenMessage: String?) -> Message {
        circulationResponse("12", ok: ok, renewalOK: renewalOK, date: date, institution: institution, patron: patron,
                            item: item, title: title, dueDate: dueDate, screenMessage: screenMessage)
    }

    /// 30 renew response, laid out like the checkout response (`checkoutResponse`).
    public static func renewResponse(ok: Bool, renewalOK: Bool, date: String, institution: String, patron: String,
                                     item: String, title: String, dueDate: String?, screenMessage: String?) -> Message {
        circulationResponse("30", ok: ok, renewalOK: renewalOK, date: date, institution: institution, patron: patron,
                            item: item, title: title, dueDate: dueDate, screenMessage: screenMessage)
    }

    private static func circulationResponse(_ command: String, ok: Bool, renewalOK: Bool, date: String, institution: String,
                                            patron: String, item: String, title: String, dueDate: String?,
                                            screenMessage: String?) -> Message {
        let fixed = (ok ? "1" : "0") + yesNo(renewalOK) + "U" + yesNo(ok) + fixedWidth(date, 18)
        var fields = [Field("AO", institution), Field("AA", patron), Field("AB", item), Field("AJ", title),
                      Field("AH", ok ? dueDate ?? "" : "")]
        if let screenMessage { fields.append(Field("AF", screenMessage)) }
        return Message(command: command, fixed: fixed, fields: fields)
    }

    /// 10 checkin response: ok `1`/`0`, resensitize Y/N, magnetic media `U`, alert Y/N, date; fields
    /// AO, AB, AQ, then AJ, CL, AA, AF when given.
    public static func checkinResponse(ok: Bool, resensitize: Bool, alert: Bool, date: String, institution: String,
                                       item: String, permanentLocation: String, title: String?, patron: String?,
                                       sortBin: String?, screenMessage: String?) -> Message {
        let fixed = (ok ? "1" : "0") + yesNo(resensitize) + "U" + yesNo(alert) + fixedWidth(date, 18)
        var fields = [Field("AO", institution), Field("AB", item), Field("AQ", permanentLocation)]
        if let title { fields.append(Field("AJ", title)) }
        if let sortBin { fields.append(Field("CL", sortBin)) }
        if let patron { fields.append(Field("AA", patron)) }
        if let screenMessage { fields.append(Field("AF", screenMessage)) }
        return Message(command: "10", fixed: fixed, fields: fields)
    }

    /// 36 end session response: end session Y/N + date; fields AO, AA, AF.
    public static func endSessionResponse(ended: Bool, date: String, institution: String, patron: String,
                                          screenMessage: String?) -> Message {
        var fields = [Field("AO", institution), Field("AA", patron)]
        if let screenMessage { fields.append(Field("AF", screenMessage)) }
        return Message(command: "36", fixed: yesNo(ended) + fixedWidth(date, 18), fields: fields)
    }

    /// 18 item information response: circulation status (clamped to 0...99, 2 digits: 01 other,
    /// 02 on order, 03 available, 04 charged, 05 charged not to be recalled, 06 in process,
    /// 07 recalled, 08 waiting on hold shelf, 09 waiting to be re-shelved, 10 in transit, 11 claimed
    /// returned, 12 lost, 13 missing) + security marker `00` (other) + fee type `01` (other/unknown)
    /// + date; fields AB, AJ, AH (when given), AF (when given).
    public static func itemInformationResponse(circulationStatus: Int, date: String, item: String, title: String,
                                               dueDate: String?, screenMessage: String?) -> Message {
        var fields = [Field("AB", item), Field("AJ", title)]
        if let dueDate { fields.append(Field("AH", dueDate)) }
        if let screenMessage { fields.append(Field("AF", screenMessage)) }
        return Message(command: "18", fixed: number(circulationStatus, 2) + "00" + "01" + fixedWidth(date, 18), fields: fields)
    }

    /// 96 request SC resend, the answer to a request whose checksum is wrong. Per the spec it carries
    /// a checksum but never a sequence number, so it encodes as `96AZFEF6`.
    public static func scResendRequest() -> Message {
        Message(command: "96", checksum: checksum("96AZ"))
    }
}
