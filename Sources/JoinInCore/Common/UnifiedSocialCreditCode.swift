/// The 18-character unified social credit code (统一社会信用代码) of a Chinese legal person or
/// other organisation, GB 32100-2015.
///
/// Layout (1-based positions): 1 registration authority, 2 organisation category,
/// 3–8 GB/T 2260 administrative division code (digits), 9–17 organisation code (GB 11714),
/// 18 check character. All characters come from a 31-character alphabet (digits and upper-case
/// letters without I, O, Z, S, V). The check character is `31 − (Σ value(cᵢ)·wᵢ mod 31)` with the
/// weights `wᵢ = 3^(i−1) mod 31`, and 31 is written as `0`.
public struct UnifiedSocialCreditCode: Sendable, Hashable, CustomStringConvertible {
    public let value: String

    /// The 31 characters allowed in a code, in value order (the index is the character's value).
    public static let alphabet: [Character] = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")

    private static let weights: [Int] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    /// Trims whitespace, upper-cases ASCII letters, and checks length, alphabet, the division-code
    /// digits and the check character.
    public init(validating raw: String) throws {
        let text = uppercasedASCII(raw.trimmingWhitespace())
        let characters = Array(text)
        guard characters.count == 18 else {
            throw DomainError.malformed("uscc.invalid", "uscc must be 18 characters, got \(characters.count)")
        }
        for (offset, character) in characters.enumerated() where Self.value(of: character) == nil {
            throw DomainError.malformed(
                "uscc.invalid",
                "uscc character \(offset + 1) is '\(character)'; only digits and upper-case letters other than I, O, Z, S, V are allowed")
        }
        for offset in 2...7 where !isPlainASCIIDigit(characters[offset]) {
            throw DomainError.malformed(
                "uscc.invalid",
                "uscc positions 3-8 (administrative division code) must be digits, got '\(characters[offset])' at position \(offset + 1)")
        }
        guard let expected = Self.checkCharacter(forFirst17: String(characters[0..<17])) else {
            throw DomainError.malformed("uscc.invalid", "uscc contains characters outside its alphabet")
        }
        guard characters[17] == expected else {
            throw DomainError.malformed("uscc.check_character", "uscc check character is '\(characters[17])', expected '\(expected)'")
        }
        self.value = text
    }

    /// The check character for the first 17 characters; nil unless `s` is exactly 17 characters
    /// of `alphabet` (no case folding).
    public static func checkCharacter(forFirst17 s: String) -> Character? {
        var sum = 0
        var index = 0
        for character in s {
            guard index < 17, let value = value(of: character) else { return nil }
            sum += value * weights[index]
            index += 1
        }
        guard index == 17 else { return nil }
        return alphabet[(31 - sum % 31) % 31]
    }

    public var description: String { value }

    private static func value(of character: Character) -> Int? {
        alphabet.firstIndex(of: character)
    }
}

private func isPlainASCIIDigit(_ character: Character) -> Bool {
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
