/// The Luhn (ISO/IEC 7812-1 "mod 10") check digit used by payment card numbers.
public enum Luhn {
    /// The check digit to append to `digits`; nil when `digits` is empty or has anything but ASCII digits.
    public static func checkDigit(forPayload digits: String) -> Character? {
        guard let values = asciiDigitValues(digits), !values.isEmpty else { return nil }
        let sum = luhnSum(values, doubleRightmost: true)
        return Character(Unicode.Scalar(UInt8(48 + (10 - sum % 10) % 10)))
    }

    /// True when `number` is only ASCII digits, at least 2 long, and its last digit is the Luhn check digit.
    public static func isValid(_ number: String) -> Bool {
        guard let values = asciiDigitValues(number), values.count >= 2 else { return false }
        return luhnSum(values, doubleRightmost: false) % 10 == 0
    }

    /// Sum of the digits after doubling every second digit from the right (starting with the
    /// rightmost one when `doubleRightmost`), subtracting 9 from doubled values above 9.
    private static func luhnSum(_ values: [Int], doubleRightmost: Bool) -> Int {
        var sum = 0
        var double = doubleRightmost
        for value in values.reversed() {
            if double {
                let doubled = value * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += value
            }
            double.toggle()
        }
        return sum
    }

    private static func asciiDigitValues(_ text: String) -> [Int]? {
        var values: [Int] = []
        values.reserveCapacity(text.utf8.count)
        for character in text {
            guard let ascii = character.asciiValue, (48...57).contains(ascii) else { return nil }
            values.append(Int(ascii) - 48)
        }
        return values
    }
}
