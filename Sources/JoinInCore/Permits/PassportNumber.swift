/// A passport number as printed in the passport: 5 to 12 characters of A–Z and 0–9.
///
/// `description` is the masked form so that a passport number interpolated into a log line does
/// not leak; use `value` for storage and comparison.
public struct PassportNumber: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    private static let lengthRange = 5...12

    /// Trims surrounding whitespace and upper-cases ASCII letters; nothing else is removed.
    public init(validating raw: String) throws {
        let text = uppercasedASCII(raw.trimmingWhitespace())
        let count = text.count
        guard Self.lengthRange.contains(count) else {
            throw DomainError.malformed("passport_number.invalid",
                                        "passport number must be 5 to 12 characters, got \(count)")
        }
        for (offset, character) in text.enumerated() {
            guard let ascii = character.asciiValue, (48...57).contains(ascii) || (65...90).contains(ascii) else {
                throw DomainError.malformed(
                    "passport_number.invalid",
                    "passport number may contain only letters A-Z and digits 0-9, found '\(character)' at position \(offset + 1)")
            }
        }
        self.value = text
    }

    /// All but the last 3 characters replaced by '*', e.g. `E1234567` → `*****567`.
    public var masked: String {
        let kept = 3
        return String(repeating: "*", count: max(0, value.count - kept)) + String(value.suffix(kept))
    }

    public var description: String { masked }
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
