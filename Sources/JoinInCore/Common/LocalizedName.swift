/// A name shown to people, in English and Chinese.
public struct LocalizedName: Sendable, Equatable, Hashable, Codable {
    public let en: String
    public let zh: String

    public static let lengthMax = 200

    public init(en: String, zh: String) {
        self.en = en
        self.zh = zh
    }

    /// Validates both parts: trimmed, non-empty, bounded. `field` names the JSON field in errors.
    public static func validated(en: String, zh: String, field: String) throws -> LocalizedName {
        let en = en.trimmingWhitespace()
        let zh = zh.trimmingWhitespace()
        guard !en.isEmpty, !zh.isEmpty else {
            throw DomainError.malformed("name.empty", "\(field).en and \(field).zh must both be non-empty")
        }
        guard en.scalarCount <= lengthMax, zh.scalarCount <= lengthMax else {
            throw DomainError.malformed("name.too_long", "\(field) must be at most \(lengthMax) characters in each language")
        }
        return LocalizedName(en: en, zh: zh)
    }
}

extension String {
    /// Length for limits: Unicode scalars, not user-perceived characters, so a letter followed by
    /// thousands of combining marks cannot pass as "one character".
    public var scalarCount: Int { unicodeScalars.count }

    /// True when the text contains a control character other than tab, CR, LF (NUL among them:
    /// PostgreSQL cannot store it, and no field of ours needs one).
    public var containsControlCharacters: Bool {
        unicodeScalars.contains { $0.properties.generalCategory == .control && $0 != "\t" && $0 != "\n" && $0 != "\r" }
    }

    /// Trims spaces, tabs and newlines at both ends (no Foundation needed).
    public func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
