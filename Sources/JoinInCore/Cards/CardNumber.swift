/// The 19-digit primary account number of a card, ending in a Luhn check digit.
///
/// `description` is the masked form so that a card number interpolated into a log line does
/// not leak; use `value` for storage. Codable encodes the full `value` as a plain string.
public struct CardNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    public static let length = 19

    public let value: String

    /// Removes spaces (and surrounding whitespace); requires exactly 19 ASCII digits passing Luhn.
    public init(validating raw: String) throws {
        // The common case, a number as stored or typed without spaces, is checked on its bytes:
        // no Character (grapheme) work on every card view.
        if raw.utf8.count == Self.length, raw.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            guard Luhn.isValid(raw) else { throw DomainError.malformed("card_number.invalid", "card number fails the Luhn check") }
            self.value = raw
            return
        }
        let text = String(raw.trimmingWhitespace().filter { $0 != " " })
        guard text.allSatisfy(isPlainDigit) else {
            throw DomainError.malformed("card_number.invalid", "card number may contain only digits and spaces")
        }
        guard text.count == Self.length else {
            throw DomainError.malformed("card_number.invalid", "card number must be \(Self.length) digits, got \(text.count)")
        }
        guard Luhn.isValid(text) else {
            throw DomainError.malformed("card_number.invalid", "card number fails the Luhn check")
        }
        self.value = text
    }

    /// Issues a number: `issuerPrefix` (6–10 digits), then `serial` zero padded to fill
    /// 19 − prefix − 1 digits, then the Luhn check digit.
    public init(issuerPrefix: String, serial: Int64) throws {
        guard (6...10).contains(issuerPrefix.count), issuerPrefix.allSatisfy(isPlainDigit) else {
            throw DomainError.malformed("card_number.invalid", "issuer prefix must be 6 to 10 digits, got '\(issuerPrefix.prefix(20))'")
        }
        let width = Self.length - issuerPrefix.count - 1
        let serialText = String(serial)
        guard serial >= 1, serialText.count <= width else {
            throw DomainError.malformed("card_number.serial_exhausted",
                                        "serial \(serial) does not fit in \(width) digits after issuer prefix \(issuerPrefix)")
        }
        let payload = issuerPrefix + String(repeating: "0", count: width - serialText.count) + serialText
        guard let check = Luhn.checkDigit(forPayload: payload) else {
            throw DomainError.malformed("card_number.invalid", "card number payload is not all digits")
        }
        self.value = payload + String(check)
    }

    /// First 6 and last 4 digits with '*' between, same length: "623091*********1234".
    public var masked: String {
        // `value` is ASCII digits only (checked by every initializer): bytes are characters.
        let digits = value.utf8
        var masked: [UInt8] = []
        masked.reserveCapacity(digits.count)
        masked.append(contentsOf: digits.prefix(6))
        masked.append(contentsOf: repeatElement(UInt8(ascii: "*"), count: max(0, digits.count - 10)))
        masked.append(contentsOf: digits.suffix(4))
        return String(decoding: masked, as: UTF8.self)
    }

    public var description: String { masked }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            self = try CardNumber(validating: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "expected a 19-digit card number"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

private func isPlainDigit(_ character: Character) -> Bool {
    guard let ascii = character.asciiValue else { return false }
    return (48...57).contains(ascii)
}
