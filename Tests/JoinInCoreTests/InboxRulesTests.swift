import Testing
@testable import JoinInCore

/// The inbox's message texts, money formatting and the permit-expiry threshold, by example.
@Suite("Inbox rules")
struct InboxRulesTests {
    /// Sample parameters for every key the kinds use: values that differ by language are localized.
    static let plain: [String: String] = [
        "reference": "BJ-2026-0042", "note": "a scan of the new passport page", "starts": "2026-12-12 19:00",
        "due": "2026-12-10", "until": "2026-12-14", "amount": "123456", "card": "623456*********7890",
        "valid_until": "2027-01-31", "days": "45",
    ]
    static let localized: [String: LocalizedName] = [
        "service": LocalizedName(en: "Work permit extension", zh: "工作许可延期"),
        "event": LocalizedName(en: "Dumpling night", zh: "包饺子之夜"),
        "title": LocalizedName(en: "Fortress Besieged", zh: "围城"),
        "library": LocalizedName(en: "Shanghai Library East", zh: "上海图书馆东馆"),
        "account": LocalizedName(en: "bank account", zh: "银行账户"),
        "place": LocalizedName(en: "Jing'an Community Centre", zh: "静安社区中心"),
        "what": LocalizedName(en: "Cash withdrawal", zh: "现金取款"),
    ]

    /// What the body must show for `key` in each language.
    static func shown(_ key: String) -> (en: String, zh: String) {
        if key == "amount" { return ("1,234.56", "1,234.56") }
        if let name = localized[key] { return (name.en, name.zh) }
        let value = plain[key] ?? "?"
        return (value, value)
    }

    @Test func everyKindRendersBothLanguagesWithItsParameters() {
        #expect(InboxKind.allCases.count == 11)
        var titles = Set<String>()
        for kind in InboxKind.allCases {
            let text = InboxRules.text(kind, plain: Self.plain, localized: Self.localized)
            for part in [text.title.en, text.title.zh, text.body.en, text.body.zh] {
                #expect(!part.trimmingWhitespace().isEmpty, "\(kind)")
                #expect(part == part.trimmingWhitespace(), "\(kind): no stray spaces at the ends")
                #expect(!part.contains("  "), "\(kind): no double spaces")
            }
            #expect(text.title.en.scalarCount <= 40 && text.title.zh.scalarCount <= 12, "\(kind): titles are short")
            #expect(!kind.parameterKeys.isEmpty)
            for key in kind.parameterKeys {
                let (en, zh) = Self.shown(key)
                #expect(text.body.en.contains(en), "\(kind) en body lacks \(key): \(text.body.en)")
                #expect(text.body.zh.contains(zh), "\(kind) zh body lacks \(key): \(text.body.zh)")
            }
            // The Chinese text is Chinese.
            #expect(text.title.zh.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }, "\(kind)")
            #expect(text.body.zh.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }, "\(kind)")
            #expect(text.body.zh != text.body.en && text.title.zh != text.title.en, "\(kind)")
            titles.insert(text.title.en)
            titles.insert(text.title.zh)
        }
        #expect(titles.count == 22, "every kind has its own titles")
    }

    @Test func handWrittenTexts() {
        let needsInfo = InboxRules.text(.requestNeedsInfo, plain: Self.plain, localized: Self.localized)
        #expect(needsInfo.title == LocalizedName(en: "Your request needs more documents", zh: "办件需要补充材料"))
        #expect(needsInfo.body.zh == "您的“工作许可延期”办件（编号BJ-2026-0042）需要补充材料后才能继续办理，请在电子社保卡中补充提交。"
            + "补充说明：a scan of the new passport page")
        #expect(needsInfo.body.en == "Your request “Work permit extension” (ref. BJ-2026-0042) needs more documents or information"
            + " before it can go ahead. Please add them in the e-card. Note from the office: a scan of the new passport page")

        let promoted = InboxRules.text(.waitlistPromoted, plain: Self.plain, localized: Self.localized)
        #expect(promoted.title.zh == "候补成功")
        #expect(promoted.body.zh == "“包饺子之夜”（2026-12-12 19:00开始）有名额空出，您已由候补转为报名成功。地点：静安社区中心。"
            + "如不能参加，请及时取消，把名额留给其他人。")
        let promotedNoPlace = InboxRules.text(.waitlistPromoted, plain: Self.plain, localized: ["event": Self.localized["event"]!])
        #expect(promotedNoPlace.body.en == "A place has opened up at Dumpling night (starts 2026-12-12 19:00, Beijing time) and your registration"
            + " is now confirmed. If you can no longer go, please cancel so that someone else can have the place.")

        let debit = InboxRules.text(.largeDebit, plain: ["amount": "500000"], localized: ["account": InboxRules.accountName(.financial)])
        #expect(debit.body.zh == "您的银行账户刚刚支出5,000.00元。如非本人操作，请立即挂失并联系发卡银行。")
        #expect(debit.body.en.hasPrefix("5,000.00 yuan has just been paid out of your bank account. If this"))
        let withdrawal = InboxRules.text(.largeDebit, plain: Self.plain, localized: Self.localized)
        #expect(withdrawal.body.en == "1,234.56 yuan has just been paid out of your bank account (Cash withdrawal)."
            + " If this wasn't you, report your card lost at once and contact your bank.")
        #expect(withdrawal.body.zh == "您的银行账户刚刚支出1,234.56元（现金取款）。如非本人操作，请立即挂失并联系发卡银行。")
        let cancelled = InboxRules.text(.eventCancelled, plain: Self.plain, localized: Self.localized)
        #expect(cancelled.body.zh == "主办方已取消原定于2026-12-12 19:00开始的“包饺子之夜”（地点：静安社区中心），您的报名已随之取消，无需另行操作。")
        #expect(cancelled.body.en == "The organiser has cancelled Dumpling night, which was to start at 2026-12-12 19:00 (Beijing time)."
            + " Venue: Jing'an Community Centre. Your registration has been cancelled; you don't need to do anything.")

        let debt = InboxRules.text(.transitDebt, plain: ["amount": "350"], localized: [:])
        #expect(debt.body.zh.hasPrefix("您有3.50元公交、地铁车费未付。"))
        #expect(debt.body.en.hasPrefix("You owe 3.50 yuan in bus and metro fares."))

        let hold = InboxRules.text(.libraryHoldReady, plain: Self.plain, localized: Self.localized)
        #expect(hold.body.zh == "您预约的《围城》已在上海图书馆东馆等您领取，保留至2026-12-14。")
    }

    @Test func optionalNoteAndPermitDays() {
        let noNote = InboxRules.text(.requestRejected, plain: ["reference": "R-1"], localized: ["service": LocalizedName(en: "Residence", zh: "居留")])
        #expect(noNote.body.en == "Sorry, your request “Residence” (ref. R-1) was not approved.")
        #expect(noNote.body.zh == "很抱歉，您的“居留”办件（编号R-1）未通过审核。")
        let withNote = InboxRules.text(.requestRejected, plain: ["reference": "R-1", "note": "  the contract has expired "],
                                       localized: ["service": LocalizedName(en: "Residence", zh: "居留")])
        #expect(withNote.body.en.hasSuffix(" Reason: the contract has expired"))
        #expect(withNote.body.zh.hasSuffix("原因：the contract has expired"))

        func permit(_ days: String) -> InboxText {
            InboxRules.text(.permitExpiring, plain: ["valid_until": "2027-01-31", "days": days], localized: [:])
        }
        #expect(permit("0").body.en.hasPrefix("Your work permit is valid until 2027-01-31: today is its last valid day. "))
        #expect(permit("0").body.zh.hasPrefix("您的工作许可有效期至2027-01-31，今天是最后一天。"))
        #expect(permit("1").body.en.hasPrefix("Your work permit is valid until 2027-01-31, 1 day from today. "))
        #expect(permit("60").body.en.hasPrefix("Your work permit is valid until 2027-01-31, 60 days from today. "))
        #expect(permit("60").body.zh.hasPrefix("您的工作许可有效期至2027-01-31，距今还有60天。"))
    }

    @Test func parametersMayComeEitherWayAndMissingOnesAreEmpty() {
        // A localized value wins over a plain one with the same key.
        let both = InboxRules.text(.eventCancelled, plain: ["event": "plain name", "starts": "2026-12-12 19:00"],
                                   localized: ["event": LocalizedName(en: "Film club", zh: "电影俱乐部")])
        #expect(both.body.en.contains("Film club") && !both.body.en.contains("plain name"))
        #expect(both.body.zh.contains("电影俱乐部"))
        // A plain value serves both languages.
        let plainOnly = InboxRules.text(.eventCancelled, plain: ["event": "Jazz@Home", "starts": "2026-12-12 19:00"], localized: [:])
        #expect(plainOnly.body.en.contains("Jazz@Home") && plainOnly.body.zh.contains("Jazz@Home"))
        // Nothing at all: every kind still renders, with empty slots.
        for kind in InboxKind.allCases {
            let text = InboxRules.text(kind, plain: [:], localized: [:])
            #expect(!text.title.en.isEmpty && !text.title.zh.isEmpty && !text.body.en.isEmpty && !text.body.zh.isEmpty, "\(kind)")
            #expect(!text.body.en.contains("Optional") && !text.body.en.contains("nil"), "\(kind)")
        }
        #expect(InboxRules.text(.cardLost, plain: [:], localized: [:]).body.zh.hasPrefix("您的聚英卡（）已挂失"))
        // An amount that is not whole fen is shown as given.
        #expect(InboxRules.text(.transitDebt, plain: ["amount": "12.50"], localized: [:]).body.en.hasPrefix("You owe 12.50 yuan"))
    }

    @Test func yuanFormatting() {
        let examples: [(Int64, String)] = [
            (0, "0.00"), (5, "0.05"), (-5, "-0.05"), (10, "0.10"), (99, "0.99"), (100, "1.00"), (-100, "-1.00"),
            (99_999, "999.99"), (100_000, "1,000.00"), (123_456, "1,234.56"), (-123_456, "-1,234.56"),
            (500_000, "5,000.00"), (10_000_000, "100,000.00"), (123_456_789, "1,234,567.89"), (-100_000_000, "-1,000,000.00"),
            (Int64.max, "92,233,720,368,547,758.07"), (Int64.min, "-92,233,720,368,547,758.08"),
        ]
        for (fen, text) in examples {
            #expect(InboxRules.yuan(fen) == text, "\(fen)")
        }
        #expect(InboxRules.yuan(InboxRules.largeDebitFen) == "5,000.00")
    }

    @Test func permitExpiryWindow() throws {
        let today = try #require(CivilDate(year: 2026, month: 12, day: 7))
        #expect(InboxRules.permitExpiresSoon(validUntil: today, today: today), "the last valid day is today: 0 days left")
        #expect(InboxRules.permitExpiresSoon(validUntil: today.adding(days: 60), today: today))
        #expect(!InboxRules.permitExpiresSoon(validUntil: today.adding(days: 61), today: today))
        #expect(!InboxRules.permitExpiresSoon(validUntil: today.adding(days: -1), today: today), "already expired")
        // Across a year end and February: 2026-12-31 + 60 days is 2027-03-01 (31 + 28 + 1).
        let newYearsEve = try #require(CivilDate(year: 2026, month: 12, day: 31))
        #expect(InboxRules.permitExpiresSoon(validUntil: try #require(CivilDate(year: 2027, month: 3, day: 1)), today: newYearsEve))
        #expect(!InboxRules.permitExpiresSoon(validUntil: try #require(CivilDate(year: 2027, month: 3, day: 2)), today: newYearsEve))
        // In a leap year 2028-01-01 + 60 days is 2028-03-01 (31 + 29).
        let leap = try #require(CivilDate(year: 2028, month: 1, day: 1))
        #expect(InboxRules.permitExpiresSoon(validUntil: try #require(CivilDate(year: 2028, month: 3, day: 1)), today: leap))
        #expect(!InboxRules.permitExpiresSoon(validUntil: try #require(CivilDate(year: 2028, month: 3, day: 2)), today: leap))
    }

    @Test func constants() {
        #expect(InboxRules.retentionDays == 180 && InboxRules.perPersonMax == 500)
        #expect(InboxRules.permitExpiryWarningDays == 60 && InboxRules.libraryDueSoonDays == 3)
        #expect(InboxKind.waitlistPromoted.rawValue == "waitlist_promoted" && InboxKind.largeDebit.rawValue == "large_debit")
        #expect(InboxRules.accountName(.transitWallet) == LocalizedName(en: "transit wallet", zh: "交通钱包"))
        #expect(InboxRules.accountName(.medicalPersonal).zh == "医保个人账户")
    }
}
