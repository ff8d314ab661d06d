/// The Luhn (ISO/IEC 7812-1 "mod 10") check digit used by payment card numbers.
public enum Luhn {
    /// The check digit to append to `digits`; nil when `digits` is empty or has anything but ASCII digits.
    public static func checkDigit(forPayload digits: String) -> Character? {
        guard let (sum, count) = luhnSum(digits, doubleRightmost: true), count > 0 else { return nil }
        return Character(Unicode.Scalar(UInt8(48 + (10 - sum % 10) % 10)))
    }

    /// True when `number` is only ASCII digits, at least 2 long, and its last digit is the Luhn check digit.
    public static func isValid(_ number: String) -> Bool {
        guard let (sum, count) = luhnSum(number, doubleRightmost: false), count >= 2 else { return false }
        return sum % 10 == 0
    }

    /// Sum of the digits after doubling every second digit from the right (starting with the
    /// rightmost one when `doubleRightmost`), subtracting 9 from doubled values above 9, and the
    /// number of digits; nil when `text` has anything but ASCII digits. Read on the bytes.
    private static func luhnSum(_ text: String, doubleRightmost: Bool) -> (sum: Int, count: Int)? {
        var sum = 0
        var count = 0
        var double = doubleRightmost
        for byte in text.utf8.reversed() {
            guard (48...57).contains(byte) else { return nil }
            let value = Int(byte) - 48
            if double {
                let doubled = value * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += value
            }
            double.toggle()
            count += 1
        }
        return (sum, count)
    }
}
