/// Rules of the cardholder's electronic card (电子社保卡): registration, benefits, code lifetimes.
public enum ECardRules {
    /// Activation codes are printed on the decision letter: 12 characters without look-alikes,
    /// shown in groups of four.
    public static let activationAlphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    public static let activationLength = 12

    public static func formatActivationCode(_ raw: String) -> String {
        let characters = Array(raw)
        return stride(from: 0, to: characters.count, by: 4)
            .map { String(characters[$0..<min($0 + 4, characters.count)]) }.joined(separator: "-")
    }

    /// What the holder typed, reduced to the code's characters: case, spaces and dashes do not matter.
    public static func normalizedActivationCode(_ typed: String) -> String {
        String(typed.uppercased().filter { $0 != "-" && !$0.isWhitespace })
    }

    /// Constant-time comparison, so response timing does not leak how much of a code was right.
    public static func codesMatch(_ typed: String, _ expected: String) -> Bool {
        let a = Array(normalizedActivationCode(typed).utf8), b = Array(normalizedActivationCode(expected).utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    /// Name matching for registration: the passport name in either order, ignoring case and
    /// spacing, or the recorded Chinese name.
    public static func nameMatches(_ typed: String, surname: String, givenNames: String, chineseName: String?) -> Bool {
        func folded(_ text: String) -> String {
            text.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        let candidate = folded(typed)
        guard !candidate.isEmpty else { return false }
        var accepted = [folded("\(surname) \(givenNames)"), folded("\(givenNames) \(surname)")]
        if let chineseName, !chineseName.isEmpty {
            accepted.append(folded(chineseName))
            accepted.append(String(chineseName.filter { !$0.isWhitespace }))
        }
        return accepted.contains(candidate) || accepted.contains(String(candidate.filter { !$0.isWhitespace }))
    }

    /// The benefits the card grants: none without an active card, none while the permit is not
    /// valid (the card's money stays usable; that is the financial functions, not a benefit).
    public enum Benefit: String, Sendable, CaseIterable, Codable {
        case medicalInsurance = "medical_insurance"
        case transitFares = "transit_fares"
        case libraryLoans = "library_loans"
        case freeEntry = "free_entry"
        case merchantDiscounts = "merchant_discounts"
        case governmentServices = "government_services"
        case localEvents = "local_events"
    }

    public static func benefits(permitStatus: PermitStatus, cardStatus: CardStatus?) -> [Benefit] {
        guard permitStatus == .valid, cardStatus == .active else { return [] }
        return Benefit.allCases
    }

    /// A credential lives at most a day, and never past the permit's last valid day (Shanghai).
    public static let credentialSecondsMax: Int64 = 24 * 3600
    /// A dynamic QR code is short-lived.
    public static let dynamicCodeSeconds: Int64 = 120

    public static func credentialExpiry(nowSeconds: Int64, validUntil: CivilDate) -> Int64 {
        // End of the last valid day in Asia/Shanghai (UTC+8).
        let endOfValidity = Int64(validUntil.adding(days: 1).daysSinceEpoch) * 86_400 - 8 * 3600
        return min(nowSeconds + credentialSecondsMax, endOfValidity)
    }
}
