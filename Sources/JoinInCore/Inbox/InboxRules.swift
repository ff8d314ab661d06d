/// The e-card's inbox: what each kind of message says, in English and Chinese, and the few
/// thresholds that decide when a message is sent or swept. Pure functions; the store keeps the
/// kind and its parameters, and the text is rendered when the message is shown.
///
/// Parameters per kind (keys of `plain` or `localized`; a key may come in either dictionary, a
/// `localized` value wins; a missing one renders as an empty string):
///
/// | kind                 | keys                                   | notes                                              |
/// |----------------------|----------------------------------------|----------------------------------------------------|
/// | request_needs_info   | service, reference, note               | service usually localized; note optional           |
/// | request_completed    | service, reference, note               | note optional                                      |
/// | request_rejected     | service, reference, note               | note: the reason, optional                         |
/// | waitlist_promoted    | event, starts, place                   | starts: "YYYY-MM-DD HH:MM" (EventRules.shanghaiTime)|
/// |                      |                                        | in Beijing time; place (the venue) optional        |
/// | event_cancelled      | event, starts, place                   | place optional                                     |
/// | library_due_soon     | title, due                             | due: YYYY-MM-DD                                    |
/// | library_hold_ready   | title, library, until                  | until: YYYY-MM-DD, the last day it is held         |
/// | transit_debt         | amount                                 | amount: fen ("1250" → 12.50) or yuan(fen)          |
/// | card_lost            | card                                   | card: the masked card number                       |
/// | permit_expiring      | valid_until, days                      | days: whole days from today to valid_until         |
/// | large_debit          | amount, account, what                  | account e.g. `accountName(_:)`; what (the kind of  |
/// |                      |                                        | transaction, e.g. Cash withdrawal) optional        |
///
/// An `amount` may be whole fen ("123456", shown as 1,234.56) or text already in yuan
/// (`yuan(fen)`, always with a decimal point): anything that is not an integer is shown as given.

public enum InboxKind: String, Sendable, CaseIterable, Codable {
    case requestNeedsInfo = "request_needs_info", requestCompleted = "request_completed", requestRejected = "request_rejected",
         waitlistPromoted = "waitlist_promoted", eventCancelled = "event_cancelled",
         libraryDueSoon = "library_due_soon", libraryHoldReady = "library_hold_ready",
         transitDebt = "transit_debt", cardLost = "card_lost", permitExpiring = "permit_expiring", largeDebit = "large_debit"

    /// The parameter keys the kind's text names (the table above).
    public var parameterKeys: [String] {
        switch self {
        case .requestNeedsInfo, .requestCompleted, .requestRejected: return ["service", "reference", "note"]
        case .waitlistPromoted, .eventCancelled: return ["event", "starts", "place"]
        case .libraryDueSoon: return ["title", "due"]
        case .libraryHoldReady: return ["title", "library", "until"]
        case .transitDebt: return ["amount"]
        case .cardLost: return ["card"]
        case .permitExpiring: return ["valid_until", "days"]
        case .largeDebit: return ["amount", "account", "what"]
        }
    }
}

public struct InboxText: Sendable, Equatable {
    public let title: LocalizedName
    public let body: LocalizedName

    public init(title: LocalizedName, body: LocalizedName) {
        self.title = title
        self.body = body
    }
}

public enum InboxRules {
    /// Messages older than this are deleted by the sweeper; at most `perPersonMax` kept per person (oldest go first).
    public static let retentionDays = 180
    public static let perPersonMax = 500
    /// A debit at least this large (fen) from a cardholder's account produces a large_debit message: 5,000.00 CNY.
    public static let largeDebitFen: Int64 = 500_000
    /// Permit expiry warnings start this many days before the permit's last valid day.
    public static let permitExpiryWarningDays = 60
    /// Library items due within this many days get a reminder.
    public static let libraryDueSoonDays = 3

    /// The bilingual text of one message; see the table in the file's header for the keys.
    public static func text(_ kind: InboxKind, plain: [String: String], localized: [String: LocalizedName]) -> InboxText {
        let p = Parameters(plain: plain, localized: localized)
        switch kind {
        case .requestNeedsInfo:
            let service = p.en("service"), serviceZh = p.zh("service"), reference = p.en("reference"), referenceZh = p.zh("reference")
            return InboxText(
                title: LocalizedName(en: "Your request needs more documents", zh: "办件需要补充材料"),
                body: LocalizedName(
                    en: "Your request “\(service)” (ref. \(reference)) needs more documents or information before it can go ahead."
                        + " Please add them in the e-card." + p.sentence("note", en: "Note from the office: "),
                    zh: "您的“\(serviceZh)”办件（编号\(referenceZh)）需要补充材料后才能继续办理，请在电子社保卡中补充提交。"
                        + p.sentence("note", zh: "补充说明：")))
        case .requestCompleted:
            let service = p.en("service"), serviceZh = p.zh("service"), reference = p.en("reference"), referenceZh = p.zh("reference")
            return InboxText(
                title: LocalizedName(en: "Your request is complete", zh: "办件已办结"),
                body: LocalizedName(
                    en: "Your request “\(service)” (ref. \(reference)) has been completed." + p.sentence("note", en: "Note: "),
                    zh: "您的“\(serviceZh)”办件（编号\(referenceZh)）已办结。" + p.sentence("note", zh: "说明：")))
        case .requestRejected:
            let service = p.en("service"), serviceZh = p.zh("service"), reference = p.en("reference"), referenceZh = p.zh("reference")
            return InboxText(
                title: LocalizedName(en: "Your request was not approved", zh: "办件未通过审核"),
                body: LocalizedName(
                    en: "Sorry, your request “\(service)” (ref. \(reference)) was not approved." + p.sentence("note", en: "Reason: "),
                    zh: "很抱歉，您的“\(serviceZh)”办件（编号\(referenceZh)）未通过审核。" + p.sentence("note", zh: "原因：")))
        case .waitlistPromoted:
            return InboxText(
                title: LocalizedName(en: "You're off the waitlist", zh: "候补成功"),
                body: LocalizedName(
                    en: "A place has opened up at \(p.en("event")) (starts \(p.en("starts")), Beijing time) and your registration is now confirmed."
                        + p.sentence("place", en: "Venue: ", end: ".") + " If you can no longer go, please cancel so that someone else can have the place.",
                    zh: "“\(p.zh("event"))”（\(p.zh("starts"))开始）有名额空出，您已由候补转为报名成功。" + p.sentence("place", zh: "地点：", end: "。")
                        + "如不能参加，请及时取消，把名额留给其他人。"))
        case .eventCancelled:
            return InboxText(
                title: LocalizedName(en: "Event cancelled", zh: "活动已取消"),
                body: LocalizedName(
                    en: "The organiser has cancelled \(p.en("event")), which was to start at \(p.en("starts")) (Beijing time)."
                        + p.sentence("place", en: "Venue: ", end: ".") + " Your registration has been cancelled; you don't need to do anything.",
                    zh: "主办方已取消原定于\(p.zh("starts"))开始的“\(p.zh("event"))”" + p.sentence("place", zh: "（地点：", end: "）")
                        + "，您的报名已随之取消，无需另行操作。"))
        case .libraryDueSoon:
            return InboxText(
                title: LocalizedName(en: "Library loan due soon", zh: "借阅即将到期"),
                body: LocalizedName(
                    en: "“\(p.en("title"))” is due back on \(p.en("due")). Please return or renew it in time: overdue loans block new borrowing.",
                    zh: "您借阅的《\(p.zh("title"))》将于\(p.zh("due"))到期，请按时归还或续借，逾期将暂停借阅。"))
        case .libraryHoldReady:
            return InboxText(
                title: LocalizedName(en: "Your hold is ready to collect", zh: "预约图书已到馆"),
                body: LocalizedName(
                    en: "“\(p.en("title"))” is waiting for you at \(p.en("library")). It is kept for you until \(p.en("until")).",
                    zh: "您预约的《\(p.zh("title"))》已在\(p.zh("library"))等您领取，保留至\(p.zh("until"))。"))
        case .transitDebt:
            return InboxText(
                title: LocalizedName(en: "Unpaid bus and metro fares", zh: "乘车欠费提醒"),
                body: LocalizedName(
                    en: "You owe \(p.amount("amount", en: true)) yuan in bus and metro fares. Top up your transit wallet to pay it;"
                        + " until then, gates may refuse your card.",
                    zh: "您有\(p.amount("amount", en: false))元公交、地铁车费未付。请为交通钱包充值补缴，补缴前闸机可能拒绝您的卡。"))
        case .cardLost:
            return InboxText(
                title: LocalizedName(en: "Card reported lost", zh: "聚英卡已挂失"),
                body: LocalizedName(
                    en: "Your Join In Card \(p.en("card")) has been reported lost: payments, withdrawals and rides with it are stopped."
                        + " If you did not report it, contact your bank at once. A bank branch can issue a replacement card.",
                    zh: "您的聚英卡（\(p.zh("card"))）已挂失，该卡的支付、取款和乘车功能已停用。如非本人操作，请立即联系发卡银行。补卡请到银行网点办理。"))
        case .permitExpiring:
            let days = p.en("days").trimmingWhitespace(), daysZh = p.zh("days").trimmingWhitespace()
            let until = p.en("valid_until"), untilZh = p.zh("valid_until")
            let en = switch days {
            case "0": "Your work permit is valid until \(until): today is its last valid day."
            case "1": "Your work permit is valid until \(until), 1 day from today."
            default: "Your work permit is valid until \(until), \(days) days from today."
            }
            let zh = daysZh == "0" ? "您的工作许可有效期至\(untilZh)，今天是最后一天。" : "您的工作许可有效期至\(untilZh)，距今还有\(daysZh)天。"
            return InboxText(
                title: LocalizedName(en: "Your work permit expires soon", zh: "工作许可即将到期"),
                body: LocalizedName(
                    en: en + " Please ask your employer to apply for an extension in good time: the card's benefits stop when the permit lapses.",
                    zh: zh + "请尽早联系用人单位申请延期，许可过期后卡上的各项权益将暂停。"))
        case .largeDebit:
            return InboxText(
                title: LocalizedName(en: "Large payment from your account", zh: "大额支出提醒"),
                body: LocalizedName(
                    en: "\(p.amount("amount", en: true)) yuan has just been paid out of your \(p.en("account"))"
                        + p.sentence("what", en: "(", end: ")") + ". If this wasn't you, report your card lost at once and contact your bank.",
                    zh: "您的\(p.zh("account"))刚刚支出\(p.amount("amount", en: false))元" + p.sentence("what", zh: "（", end: "）")
                        + "。如非本人操作，请立即挂失并联系发卡银行。"))
        }
    }

    /// Yuan text for fen: 123456 → "1,234.56", -5 → "-0.05".
    public static func yuan(_ fen: Int64) -> String {
        let magnitude = fen.magnitude
        let whole = String(magnitude / 100), cents = magnitude % 100
        var grouped = ""
        for (index, digit) in whole.enumerated() {
            if index > 0 && (whole.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return (fen < 0 ? "-" : "") + grouped + "." + (cents < 10 ? "0" : "") + String(cents)
    }

    /// Whether a permit valid until `validUntil` warrants the expiry message on `today` (0...60 days left, inclusive).
    public static func permitExpiresSoon(validUntil: CivilDate, today: CivilDate) -> Bool {
        (0...permitExpiryWarningDays).contains(validUntil.daysSinceEpoch - today.daysSinceEpoch)
    }

    /// The name of a cardholder's account for the large_debit message's `account`.
    public static func accountName(_ kind: AccountKind) -> LocalizedName {
        switch kind {
        case .financial: return LocalizedName(en: "bank account", zh: "银行账户")
        case .transitWallet: return LocalizedName(en: "transit wallet", zh: "交通钱包")
        case .medicalPersonal: return LocalizedName(en: "medical insurance personal account", zh: "医保个人账户")
        default: return LocalizedName(en: kind.rawValue, zh: kind.rawValue)
        }
    }

    /// Parameter look-up: `localized` first, then `plain`, else "".
    private struct Parameters {
        let plain: [String: String]
        let localized: [String: LocalizedName]

        func en(_ key: String) -> String { localized[key]?.en ?? plain[key] ?? "" }
        func zh(_ key: String) -> String { localized[key]?.zh ?? plain[key] ?? "" }

        /// " <prefix><value><end>" (English, after a space), or "" when the value is empty.
        func sentence(_ key: String, en prefix: String, end: String = "") -> String {
            let value = en(key).trimmingWhitespace()
            return value.isEmpty ? "" : " " + prefix + value + end
        }

        /// "<prefix><value><end>" (Chinese, no spaces), or "" when the value is empty.
        func sentence(_ key: String, zh prefix: String, end: String = "") -> String {
            let value = zh(key).trimmingWhitespace()
            return value.isEmpty ? "" : prefix + value + end
        }

        /// An integer amount in fen as yuan; anything else as given.
        func amount(_ key: String, en english: Bool) -> String {
            let raw = (english ? en(key) : zh(key)).trimmingWhitespace()
            return Int64(raw).map(InboxRules.yuan) ?? raw
        }
    }
}
