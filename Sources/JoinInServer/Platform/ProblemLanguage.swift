import Foundation
import JoinInCore

/// The language of a problem's `title` and `detail`, chosen from the request's `Accept-Language`
/// (RFC 9110 §12.5.4). The `code`, `type` and `status` never depend on it.
enum ProblemLanguage: String, Sendable, CaseIterable {
    case en
    case zh

    /// The served language the caller prefers most: the highest-weighted language range that
    /// names one we serve wins, ties going to the range listed first. A range matches by its
    /// primary subtag, case-insensitively (`zh`, `zh-CN`, `zh-Hans`, `zh-TW` → zh; `en-GB` → en),
    /// `*` stands for English (Chinese if English is excluded), and `q=0` on `en`, `zh` or `*`
    /// excludes that language. Elements that break the grammar are skipped; an absent header, a
    /// header with nothing usable, or one that excludes everything gives English. Never throws.
    static func negotiate(_ acceptLanguage: String?) -> ProblemLanguage {
        guard let acceptLanguage else { return .en }
        var excluded: Set<ProblemLanguage> = []
        var wildcardExcluded = false
        var candidates: [(language: ProblemLanguage?, quality: Int)] = []  // nil: the wildcard
        for element in Array(acceptLanguage.utf8).split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true) {
            guard let (range, quality) = parse(element) else { continue }
            let primary = range.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? range
            let language: ProblemLanguage?
            if range == "*" {
                language = nil
            } else if let served = ProblemLanguage(rawValue: primary) {
                language = served
            } else {
                continue
            }
            if quality == 0 {
                // Basic filtering: only the exact tag or `*` excludes; `zh-TW;q=0` does not exclude zh.
                if let language, range == language.rawValue { excluded.insert(language) }
                if language == nil { wildcardExcluded = true }
                continue
            }
            candidates.append((language, quality))
        }
        var best: (language: ProblemLanguage, quality: Int)?
        for candidate in candidates {
            let resolved: ProblemLanguage?
            if let language = candidate.language {
                resolved = excluded.contains(language) ? nil : language
            } else {
                resolved = wildcardExcluded ? nil : ProblemLanguage.allCases.first { !excluded.contains($0) }
            }
            guard let resolved else { continue }
            if best == nil || candidate.quality > (best?.quality ?? 0) { best = (resolved, candidate.quality) }
        }
        return best?.language ?? .en
    }

    /// One list element: `language-range [OWS ";" OWS "q=" qvalue]`, the range lower-cased and
    /// the weight in thousandths. Nil when the element breaks the grammar.
    private static func parse(_ element: ArraySlice<UInt8>) -> (range: String, quality: Int)? {
        let parts = element.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)
        guard let first = parts.first, let range = languageRange(trimmed(first)) else { return nil }
        var quality = 1000
        for parameter in parts.dropFirst() {
            let text = trimmed(parameter)
            guard text.count >= 2, (text[text.startIndex] | 0x20) == UInt8(ascii: "q"),
                  text[text.index(after: text.startIndex)] == UInt8(ascii: "=") else { return nil }
            guard let value = qvalue(text.dropFirst(2)) else { return nil }
            quality = value
        }
        return (range, quality)
    }

    /// `1*8ALPHA *("-" 1*8alphanum)` or `*` (RFC 4647 §2.1), lower-cased.
    private static func languageRange(_ bytes: ArraySlice<UInt8>) -> String? {
        if bytes.count == 1 && bytes.first == UInt8(ascii: "*") { return "*" }
        let subtags = bytes.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard let primary = subtags.first, (1...8).contains(primary.count), primary.allSatisfy(isAlpha) else { return nil }
        for subtag in subtags.dropFirst() {
            guard (1...8).contains(subtag.count), subtag.allSatisfy({ isAlpha($0) || isDigit($0) }) else { return nil }
        }
        return String(decoding: bytes.map { isAlpha($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// `( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` (RFC 9110 §12.4.2), in thousandths.
    private static func qvalue(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard let head = bytes.first, head == UInt8(ascii: "0") || head == UInt8(ascii: "1") else { return nil }
        let rest = bytes.dropFirst()
        var fraction = 0
        if !rest.isEmpty {
            guard rest.first == UInt8(ascii: "."), rest.count <= 4 else { return nil }
            let digits = rest.dropFirst()
            guard digits.allSatisfy(isDigit) else { return nil }
            for (offset, digit) in digits.enumerated() {
                fraction += Int(digit - UInt8(ascii: "0")) * [100, 10, 1][offset]
            }
        }
        if head == UInt8(ascii: "1") { return fraction == 0 ? 1000 : nil }
        return fraction
    }

    /// Without the optional whitespace (space, tab) at either end.
    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let start = bytes.firstIndex(where: { !isWhitespace($0) }),
              let end = bytes.lastIndex(where: { !isWhitespace($0) }) else { return [] }
        return bytes[start...end]
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
    private static func isAlpha(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
    private static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
}

/// The people-facing `title` and `detail` of a problem in the caller's language. The web UI shows
/// errors through the same function, so the API and the pages say the same thing.
enum ProblemText {
    /// English: the error's own title and detail, unchanged. Chinese: the code's entry in
    /// `ProblemTextZH.table`, where `{en}` in a detail stands for the English detail (the
    /// specifics: field, limit, date, amount) and `{retry}` for the seconds of `Retry-After`.
    /// A code without an entry (a test keeps that from happening) gets a generic title for its
    /// kind and the English detail.
    static func localized(_ error: DomainError, _ language: ProblemLanguage) -> (title: String, detail: String) {
        switch language {
        case .en:
            return (error.title, error.detail)
        case .zh:
            guard let entry = ProblemTextZH.table[error.code] else { return (genericTitleZH(error.kind), error.detail) }
            // `{retry}` first: the English detail may quote caller input that looks like a placeholder.
            let detail = entry.detail.replacingOccurrences(of: "{retry}", with: error.retryAfterSeconds.map(String.init) ?? "若干")
                .replacingOccurrences(of: "{en}", with: error.detail)
            return (entry.title, detail)
        }
    }

    static func genericTitleZH(_ kind: DomainError.Kind) -> String {
        switch kind {
        case .malformed: return "请求格式有误"
        case .unauthenticated: return "需要身份验证"
        case .forbidden: return "无权进行此操作"
        case .notFound: return "未找到"
        case .conflict: return "状态冲突"
        case .tooLarge: return "请求内容过大"
        case .unsupportedMediaType: return "不支持的内容类型"
        case .rule: return "业务规则不允许此请求"
        case .rateLimited: return "尝试次数过多"
        }
    }
}
