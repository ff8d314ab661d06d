/// Sex as recorded in a travel document. In the MRZ, `<` (and, from some issuers, `X`) means unspecified.
public enum Sex: String, Sendable, Codable, CaseIterable {
    case female = "F", male = "M", unspecified = "X"
}

/// The machine readable zone of a passport booklet: ICAO Doc 9303 part 4, TD3 format,
/// two lines of 44 characters from `A`–`Z`, `0`–`9` and the filler `<`.
///
/// Line 1: `P` + type (1) | issuing state (3) | primary identifier `<<` secondary identifier (39).
/// Line 2: document number (9) + check | nationality (3) | birth date YYMMDD + check | sex |
/// expiry date YYMMDD + check | personal number (14) + check | composite check over
/// positions 1–10, 14–20 and 22–43.
public struct MachineReadableZone: Sendable, Equatable {
    /// e.g. "P" or "PO" (first two characters, '<' stripped).
    public let documentCode: String
    /// The 3-character issuing state with '<' stripped, as printed (Germany is "D").
    public let issuingState: String
    /// Primary identifier, '<' → space, trimmed.
    public let surname: String
    /// Secondary identifier, '<' → space, runs of spaces collapsed, trimmed; empty when absent.
    public let givenNames: String
    /// Document number with '<' stripped.
    public let passportNumber: String
    public let nationality: CountryCode
    public let dateOfBirth: CivilDate
    public let sex: Sex
    public let expiryDate: CivilDate
    /// Optional personal number with '<' stripped; empty when unused.
    public let personalNumber: String

    private static let lineLength = 44

    /// Parses two lines separated by "\n" (also accepts "\r\n" and surrounding whitespace). `today` resolves
    /// two-digit years: birth year = the latest year ≤ today's year ending in YY; expiry year = 20YY.
    ///
    /// Checks, in this order: shape and character set (`mrz.format`), the five check digits
    /// (`mrz.check_digit`), the dates (`mrz.date`), the nationality (`mrz.nationality`).
    public static func parse(_ text: String, today: CivilDate) throws -> MachineReadableZone {
        let lines = text.trimmingWhitespace()
            .split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { String($0).trimmingWhitespace() }
        guard lines.count == 2 else {
            throw DomainError.malformed("mrz.format", "mrz must be 2 lines of \(lineLength) characters, got \(lines.count) lines")
        }
        var rows: [[Character]] = []
        for (index, line) in lines.enumerated() {
            let characters = Array(line)
            guard characters.count == lineLength else {
                throw DomainError.malformed("mrz.format",
                                            "mrz line \(index + 1) must be \(lineLength) characters, got \(characters.count)")
            }
            for (offset, character) in characters.enumerated() where mrzValue(character) == nil {
                throw DomainError.malformed(
                    "mrz.format",
                    "mrz line \(index + 1) position \(offset + 1) has '\(character)'; only A-Z, 0-9 and '<' are allowed")
            }
            rows.append(characters)
        }
        let line1 = rows[0], line2 = rows[1]

        // Line 1 shape.
        guard line1[0] == "P" else {
            throw DomainError.malformed("mrz.format",
                                        "mrz line 1 position 1 must be 'P' for a passport (TD3), got '\(line1[0])'")
        }
        for offset in 1..<lineLength where isPlainDigit(line1[offset]) {
            let part = offset == 1 ? "document code" : offset < 5 ? "issuing state" : "name"
            throw DomainError.malformed("mrz.format",
                                        "mrz line 1 position \(offset + 1) (\(part)) has digit '\(line1[offset])'; only A-Z and '<' are allowed")
        }
        let nameField = String(line1[5..<lineLength])
        let (primary, secondary) = splitName(nameField)
        let surname = String(primary.map { $0 == "<" ? " " : $0 }).trimmingWhitespace()
        guard !surname.isEmpty else {
            throw DomainError.malformed("mrz.format", "mrz line 1 name field has no primary identifier (surname)")
        }
        let givenNames = secondary.split(separator: "<").joined(separator: " ")

        // Line 2 shape.
        let passportNumber = String(line2[0..<9].filter { $0 != "<" })
        guard !passportNumber.isEmpty else {
            throw DomainError.malformed("mrz.format", "mrz line 2 positions 1-9 (passport number) are empty")
        }
        let sex: Sex
        switch line2[20] {
        case "F": sex = .female
        case "M": sex = .male
        case "<", "X": sex = .unspecified
        default:
            throw DomainError.malformed("mrz.format",
                                        "mrz line 2 position 21 (sex) must be 'F', 'M' or '<', got '\(line2[20])'")
        }

        // Check digits.
        try verify("passport number", field: line2[0..<9], check: line2[9], fillerAllowed: false)
        try verify("date of birth", field: line2[13..<19], check: line2[19], fillerAllowed: false)
        try verify("expiry date", field: line2[21..<27], check: line2[27], fillerAllowed: false)
        try verify("personal number", field: line2[28..<42], check: line2[42], fillerAllowed: true)
        let composite = Array(line2[0..<10]) + Array(line2[13..<20]) + Array(line2[21..<43])
        try verify("composite", field: composite[...], check: line2[43], fillerAllowed: false)

        // Dates.
        let birth = try twoDigitYearDate(line2[13..<19], name: "date of birth")
        let century = today.year - today.year % 100
        let birthYear = century + birth.yy > today.year ? century + birth.yy - 100 : century + birth.yy
        guard let dateOfBirth = CivilDate(year: birthYear, month: birth.month, day: birth.day) else {
            throw DomainError.malformed("mrz.date", "mrz date of birth '\(String(line2[13..<19]))' is not a real date")
        }
        let expiry = try twoDigitYearDate(line2[21..<27], name: "expiry date")
        guard let expiryDate = CivilDate(year: 2000 + expiry.yy, month: expiry.month, day: expiry.day) else {
            throw DomainError.malformed("mrz.date", "mrz expiry date '\(String(line2[21..<27]))' is not a real date")
        }

        // Nationality.
        let nationalityField = String(line2[10..<13])
        guard let nationality = CountryCode(mrz: nationalityField) else {
            throw DomainError.malformed("mrz.nationality",
                                        "mrz nationality '\(nationalityField)' is not an ISO 3166-1 alpha-3 code")
        }

        return MachineReadableZone(
            documentCode: String(line1[0..<2].filter { $0 != "<" }),
            issuingState: String(line1[2..<5].filter { $0 != "<" }),
            surname: surname,
            givenNames: givenNames,
            passportNumber: passportNumber,
            nationality: nationality,
            dateOfBirth: dateOfBirth,
            sex: sex,
            expiryDate: expiryDate,
            personalNumber: String(line2[28..<42].filter { $0 != "<" }))
    }

    /// ICAO 9303 check digit: weights 7,3,1 repeating; '0'-'9' = 0-9, 'A'-'Z' = 10-35, '<' = 0.
    /// nil if another character occurs.
    public static func checkDigit(_ field: Substring) -> Int? {
        checkDigit(of: field)
    }

    private static func checkDigit<C: Collection<Character>>(of field: C) -> Int? {
        let weights = [7, 3, 1]
        var sum = 0
        for (index, character) in field.enumerated() {
            guard let value = mrzValue(character) else { return nil }
            sum += value * weights[index % 3]
        }
        return sum % 10
    }

    private static func verify(_ name: String, field: ArraySlice<Character>, check: Character, fillerAllowed: Bool) throws {
        guard let expected = checkDigit(of: field) else {
            throw DomainError.malformed("mrz.format", "mrz \(name) field has characters outside A-Z, 0-9 and '<'")
        }
        if fillerAllowed, check == "<", field.allSatisfy({ $0 == "<" }) { return }
        guard let ascii = check.asciiValue, (48...57).contains(ascii), Int(ascii) - 48 == expected else {
            throw DomainError.malformed("mrz.check_digit", "mrz \(name) check digit is '\(check)', expected '\(expected)'")
        }
    }

    private static func twoDigitYearDate(_ field: ArraySlice<Character>, name: String) throws -> (yy: Int, month: Int, day: Int) {
        var digits: [Int] = []
        for character in field {
            guard let ascii = character.asciiValue, (48...57).contains(ascii) else {
                throw DomainError.malformed("mrz.date", "mrz \(name) must be 6 digits YYMMDD, got '\(String(field))'")
            }
            digits.append(Int(ascii) - 48)
        }
        return (digits[0] * 10 + digits[1], digits[2] * 10 + digits[3], digits[4] * 10 + digits[5])
    }

    /// Splits the name field at the first "<<" into primary and secondary identifier.
    private static func splitName(_ field: String) -> (String, String) {
        let characters = Array(field)
        var index = 0
        while index + 1 < characters.count {
            if characters[index] == "<", characters[index + 1] == "<" {
                return (String(characters[..<index]), String(characters[(index + 2)...]))
            }
            index += 1
        }
        return (field, "")
    }
}

/// The ICAO 9303 value of an MRZ character: digits 0–9, letters 10–35, filler 0; nil otherwise.
private func mrzValue(_ character: Character) -> Int? {
    guard let ascii = character.asciiValue else { return nil }
    switch ascii {
    case 48...57: return Int(ascii) - 48
    case 65...90: return Int(ascii) - 55
    case 60: return 0
    default: return nil
    }
}

private func isPlainDigit(_ character: Character) -> Bool {
    guard let ascii = character.asciiValue else { return false }
    return (48...57).contains(ascii)
}
