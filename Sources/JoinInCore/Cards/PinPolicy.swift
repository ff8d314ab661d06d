/// Rules for a card PIN chosen by the holder.
public enum PinPolicy {
    /// Six ASCII digits: the only shape a PIN can have, so anything else is wrong without a check.
    public static func isWellFormed(_ pin: String) -> Bool {
        pin.utf8.count == 6 && pin.utf8.allSatisfy { (48...57).contains($0) }
    }

    /// Requires exactly 6 ASCII digits (`pin.format`) and refuses guessable PINs (`pin.weak`):
    /// one digit repeated, a run ascending or descending by 1 (no wrap-around, e.g. 123456, 987654),
    /// a repeated two-digit pattern (121212), a repeated three-digit pattern (123123), and the date
    /// of birth written YYMMDD, MMDDYY or DDMMYY.
    public static func validate(_ pin: String, dateOfBirth: CivilDate?) throws {
        var digits: [Int] = []
        for character in pin {
            guard let ascii = character.asciiValue, (48...57).contains(ascii) else {
                throw DomainError.malformed("pin.format", "pin must be exactly 6 digits")
            }
            digits.append(Int(ascii) - 48)
        }
        guard digits.count == 6 else {
            throw DomainError.malformed("pin.format", "pin must be exactly 6 digits")
        }
        if digits.allSatisfy({ $0 == digits[0] }) {
            throw DomainError.rule("pin.weak", "pin must not be a single digit repeated")
        }
        if zip(digits, digits.dropFirst()).allSatisfy({ $1 == $0 + 1 }) {
            throw DomainError.rule("pin.weak", "pin must not be ascending consecutive digits")
        }
        if zip(digits, digits.dropFirst()).allSatisfy({ $1 == $0 - 1 }) {
            throw DomainError.rule("pin.weak", "pin must not be descending consecutive digits")
        }
        if (2..<6).allSatisfy({ digits[$0] == digits[$0 - 2] }) {
            throw DomainError.rule("pin.weak", "pin must not repeat a two-digit pattern")
        }
        if (3..<6).allSatisfy({ digits[$0] == digits[$0 - 3] }) {
            throw DomainError.rule("pin.weak", "pin must not repeat a three-digit pattern")
        }
        if let date = dateOfBirth {
            let yy = twoDigits(date.year % 100), mm = twoDigits(date.month), dd = twoDigits(date.day)
            if pin == yy + mm + dd || pin == mm + dd + yy || pin == dd + mm + yy {
                throw DomainError.rule("pin.weak", "pin must not be the date of birth")
            }
        }
    }

    private static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0" + String(value) : String(value)
    }
}
