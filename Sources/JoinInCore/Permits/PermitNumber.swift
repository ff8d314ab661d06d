/// The foreigner's work permit number, issued once and kept for life.
///
/// Format, 18 characters:
///
///     W  CCCCCC  YYYY  SSSSSS  K
///     │  │       │     │       └ check character, ISO 7064 MOD 11-2 over the 16 digits
///     │  │       │     │         (values 0–10, 10 written 'X'), as in the resident identity card
///     │  │       │     └ serial within city and year, zero padded, 000001–999999
///     │  │       └ year of first issue, 1000–9999
///     │  └ GB/T 2260 administrative division code of the city of first issue
///     └ literal 'W'
///
/// Example: Beijing (110000), first issued 2024, serial 1 → `W1100002024000001X`.
public struct PermitNumber: Sendable, Hashable, Codable, CustomStringConvertible {
    public let value: String

    /// Trims whitespace, upper-cases ASCII letters, and checks the shape and the check character.
    public init(validating raw: String) throws {
        let text = uppercasedASCII(raw.trimmingWhitespace())
        let characters = Array(text)
        guard characters.count == 18 else {
            throw DomainError.malformed("permit_number.invalid", "permit number must be 18 characters, got \(characters.count)")
        }
        guard characters[0] == "W" else {
            throw DomainError.malformed("permit_number.invalid", "permit number must start with 'W', got '\(characters[0])'")
        }
        for offset in 1...16 where !isPlainDigit(characters[offset]) {
            throw DomainError.malformed("permit_number.invalid",
                                        "permit number positions 2-17 must be digits, got '\(characters[offset])' at position \(offset + 1)")
        }
        let digits = String(characters[1...16])
        let year = Int(String(characters[7...10])) ?? 0
        guard (1000...9999).contains(year) else {
            throw DomainError.malformed("permit_number.invalid", "permit number year of first issue must be 1000-9999, got \(String(characters[7...10]))")
        }
        guard String(characters[11...16]) != "000000" else {
            throw DomainError.malformed("permit_number.invalid", "permit number serial must not be 000000")
        }
        guard let expected = Self.checkCharacter(forDigits: digits) else {
            throw DomainError.malformed("permit_number.invalid", "permit number positions 2-17 must be digits")
        }
        guard characters[17] == expected else {
            throw DomainError.malformed("permit_number.invalid",
                                        "permit number check character is '\(characters[17])', expected '\(expected)'")
        }
        self.value = text
    }

    /// Builds a permit number and appends its check character.
    public init(cityCode: String, year: Int, serial: Int) throws {
        guard cityCode.count == 6, cityCode.allSatisfy(isPlainDigit) else {
            throw DomainError.malformed("permit_number.invalid", "city code must be 6 digits, got '\(cityCode.prefix(20))'")
        }
        guard (1000...9999).contains(year) else {
            throw DomainError.malformed("permit_number.invalid", "year of first issue must be 1000-9999, got \(year)")
        }
        guard (1...999_999).contains(serial) else {
            throw DomainError.malformed("permit_number.invalid", "serial must be 1-999999, got \(serial)")
        }
        let serialText = String(serial)
        let digits = cityCode + String(year) + String(repeating: "0", count: 6 - serialText.count) + serialText
        guard let check = Self.checkCharacter(forDigits: digits) else {
            throw DomainError.malformed("permit_number.invalid", "permit number digits are not all digits")
        }
        self.value = "W" + digits + String(check)
    }

    /// ISO 7064 MOD 11-2 check character for a string of ASCII digits ('0'-'9', or 'X' for 10);
    /// nil when `forDigits` is empty or has anything but ASCII digits.
    public static func checkCharacter(forDigits: String) -> Character? {
        guard !forDigits.isEmpty else { return nil }
        // Pure ISO 7064 recursion: p ← (p + a) · 2 mod 11; then check = (12 − p) mod 11,
        // so that Σ aᵢ·2^(n−i+1) + check ≡ 1 (mod 11).
        var p = 0
        for character in forDigits {
            guard let ascii = character.asciiValue, (48...57).contains(ascii) else { return nil }
            p = ((p + Int(ascii) - 48) * 2) % 11
        }
        let check = (12 - p) % 11
        return check == 10 ? "X" : Character(Unicode.Scalar(UInt8(48 + check)))
    }

    public var description: String { value }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            self = try PermitNumber(validating: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "expected a work permit number, got '\(text.prefix(40))'"))
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

private func uppercasedASCII(_ text: String) -> String {
    var scalars = String.UnicodeScalarView()
    for scalar in text.unicodeScalars {
        if (97...122).contains(scalar.value) {
            scalars.append(Unicode.Scalar(UInt8(scalar.value - 32)))
        } else {
            scalars.append(scalar)
        }
    }
    return String(scalars)
}
