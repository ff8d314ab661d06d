import Foundation
import Testing
@testable import JoinInCore

// "One card" government services: the request state machine against a table written out here,
// working-day due dates by example on the 2026 calendar (holidays and make-up working days from
// the State Council's notice, as in the demo catalogue), form checks by example, the catalogue
// parser (the demo file, a small test document and its mutations, each naming the JSON path) and
// the merge of pre-filled verified data. Every expected value is worked out by hand.

// MARK: - Demo data, written out in code

enum ServiceDemo {
    static func name(_ en: String, _ zh: String) -> LocalizedName { LocalizedName(en: en, zh: zh) }

    static func date(_ text: String) -> CivilDate {
        guard let date = CivilDate(text) else {
            Issue.record("not a date: \(text)")
            return CivilDate(daysSinceEpoch: 0)
        }
        return date
    }

    /// China's 2026 public holidays as given for the demo catalogue.
    static let holidays2026 = [
        "2026-01-01", "2026-01-02", "2026-01-03",
        "2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23",
        "2026-04-04", "2026-04-05", "2026-04-06",
        "2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05",
        "2026-06-19", "2026-06-20", "2026-06-21",
        "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07",
    ].map(date)
    /// The make-up working days (调休): Saturdays 02-14, 02-28, 05-09, 10-10 and Sunday 09-20.
    static let workdays2026 = ["2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"].map(date)

    static let calendar2026 = WorkingCalendar(holidays: holidays2026, workdays: workdays2026)

    /// A form with a field of every kind of rule.
    static let form = FormSchema(fields: [
        FormField(name: "full_name", type: .string, title: name("Name", "姓名"), prefill: .fullName),
        FormField(name: "purpose", type: .string, title: name("Purpose", "用途"), enumValues: ["visa", "housing", "school", "other"]),
        FormField(name: "from_month", type: .string, title: name("From month", "起始月份"), minLength: 7, maxLength: 7),
        FormField(name: "remarks", type: .string, title: name("Remarks", "备注")),
        FormField(name: "amount_yuan", type: .integer, title: name("Amount", "金额"), minimum: 100, maximum: 500_000),
        FormField(name: "urgent", type: .boolean, title: name("Urgent", "加急")),
        FormField(name: "move_in", type: .date, title: name("Move-in date", "入住日期")),
    ], required: ["full_name", "purpose", "amount_yuan"])

    static func file(_ name: String) throws -> [UInt8] {
        let path = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent() // JoinInCoreTests
            .deletingLastPathComponent() // Tests
            .deletingLastPathComponent() // package root
            .appendingPathComponent("docs/examples/services-demo")
            .appendingPathComponent(name).path
        return Array(try #require(FileManager.default.contents(atPath: path), "cannot read \(path)"))
    }
}

// MARK: - Request transitions

@Suite("ServiceRules: request transitions")
struct ServiceRulesTransitionTests {
    /// Who may take each action, written out.
    static let actorOf: [RequestAction: RequestActor] = [
        .accept: .clerk, .start: .clerk, .askInfo: .clerk, .answer: .cardholder, .complete: .clerk, .reject: .clerk,
    ]

    /// Every allowed (status, action) and its result; `answer` is taken with resume in_progress.
    static let allowed: [RequestStatus: [RequestAction: RequestStatus]] = [
        .submitted: [.accept: .accepted, .askInfo: .needsInfo, .reject: .rejected],
        .accepted: [.start: .inProgress, .askInfo: .needsInfo, .reject: .rejected],
        .inProgress: [.askInfo: .needsInfo, .complete: .completed, .reject: .rejected],
        .needsInfo: [.answer: .inProgress, .reject: .rejected],
        .completed: [:],
        .rejected: [:],
    ]

    @Test func everyStatusActionAndActor() {
        var results = (allowed: 0, forbidden: 0, conflict: 0)
        for status in RequestStatus.allCases {
            for action in RequestAction.allCases {
                for actor in [RequestActor.clerk, .cardholder] {
                    let label = "\(action.rawValue) by \(actor) from \(status.rawValue)"
                    let outcome = Result { try ServiceRules.transition(from: status, action: action, by: actor, resume: .inProgress) }
                    if actor != Self.actorOf[action] {
                        guard case let .failure(error as DomainError) = outcome else {
                            Issue.record("\(label): expected forbidden, got \(outcome)")
                            continue
                        }
                        #expect(error.kind == .forbidden, "\(label)")
                        #expect(error.code == "service.action_not_allowed", "\(label)")
                        results.forbidden += 1
                    } else if let expected = Self.allowed[status]?[action] {
                        #expect((try? outcome.get()) == expected, "\(label)")
                        results.allowed += 1
                    } else {
                        guard case let .failure(error as DomainError) = outcome else {
                            Issue.record("\(label): expected a conflict, got \(outcome)")
                            continue
                        }
                        #expect(error.kind == .conflict, "\(label)")
                        #expect(error.code == "service.invalid_transition", "\(label)")
                        #expect(error.detail == "cannot \(action.rawValue) a request that is \(status.rawValue)", "\(label)")
                        results.conflict += 1
                    }
                }
            }
        }
        // 6 statuses × 6 actions × 2 actors: half with the wrong actor, 11 allowed, the rest refused.
        #expect(results.forbidden == 36)
        #expect(results.allowed == 11)
        #expect(results.conflict == 25)
    }

    @Test func anAnswerResumesWhereTheQuestionWasAsked() throws {
        for resume in [RequestStatus.submitted, .accepted, .inProgress] {
            #expect(try ServiceRules.transition(from: .needsInfo, action: .answer, by: .cardholder, resume: resume) == resume)
        }
        for resume in [RequestStatus.needsInfo, .completed, .rejected, nil] {
            let error = #expect(throws: DomainError.self, "resume \(String(describing: resume))") {
                try ServiceRules.transition(from: .needsInfo, action: .answer, by: .cardholder, resume: resume)
            }
            #expect(error?.code == "service.invalid_transition")
            #expect(error?.kind == .conflict)
        }
    }

    @Test func theWrongActorIsForbiddenWhateverTheStatus() {
        // A cardholder cannot complete even a request in progress; a clerk cannot answer for them.
        #expect(throws: DomainError.forbidden("service.action_not_allowed", "only the department's clerk may complete a request")) {
            try ServiceRules.transition(from: .inProgress, action: .complete, by: .cardholder)
        }
        #expect(throws: DomainError.forbidden("service.action_not_allowed", "only the cardholder may answer a request")) {
            try ServiceRules.transition(from: .needsInfo, action: .answer, by: .clerk, resume: .accepted)
        }
        // The actor is checked before the status: a cardholder accepting a completed request.
        #expect(throws: DomainError.forbidden("service.action_not_allowed", "only the department's clerk may accept a request")) {
            try ServiceRules.transition(from: .completed, action: .accept, by: .cardholder)
        }
    }

    @Test func aRequestFromSubmissionToCompletion() throws {
        var status = RequestStatus.submitted
        status = try ServiceRules.transition(from: status, action: .askInfo, by: .clerk)
        #expect(status == .needsInfo)
        status = try ServiceRules.transition(from: status, action: .answer, by: .cardholder, resume: .submitted)
        #expect(status == .submitted)
        status = try ServiceRules.transition(from: status, action: .accept, by: .clerk)
        status = try ServiceRules.transition(from: status, action: .start, by: .clerk)
        #expect(status == .inProgress)
        status = try ServiceRules.transition(from: status, action: .askInfo, by: .clerk)
        status = try ServiceRules.transition(from: status, action: .answer, by: .cardholder, resume: .inProgress)
        #expect(status == .inProgress)
        status = try ServiceRules.transition(from: status, action: .complete, by: .clerk)
        #expect(status == .completed)
        #expect(!status.isOpen)
    }

    @Test func openStatuses() {
        #expect(RequestStatus.allCases.filter(\.isOpen) == [.submitted, .accepted, .inProgress, .needsInfo])
        #expect(RequestStatus.inProgress.rawValue == "in_progress")
        #expect(RequestStatus.needsInfo.rawValue == "needs_info")
        #expect(RequestAction.askInfo.rawValue == "ask_info")
    }
}

// MARK: - Notes

@Suite("ServiceRules: notes")
struct ServiceRulesNoteTests {
    @Test func optionalNotesMayBeLeftOut() throws {
        for action in [RequestAction.accept, .start, .answer, .complete] {
            #expect(try ServiceRules.validatedNote(nil, for: action) == nil)
            #expect(try ServiceRules.validatedNote(" \n\t ", for: action) == nil)
        }
        #expect(try ServiceRules.validatedNote("  Collect at counter 3. \n", for: .complete) == "Collect at counter 3.")
    }

    @Test func askInfoAndRejectNeedANote() throws {
        for action in [RequestAction.askInfo, .reject] {
            for note in [nil, "", "   \n"] {
                let error = #expect(throws: DomainError.self) { try ServiceRules.validatedNote(note, for: action) }
                #expect(error?.code == "service.note_required")
                #expect(error?.kind == .rule)
            }
        }
        #expect(try ServiceRules.validatedNote(" 请补充租赁合同 ", for: .askInfo) == "请补充租赁合同")
        #expect(try ServiceRules.validatedNote("Lease expired.\nPlease renew it first.", for: .reject)
            == "Lease expired.\nPlease renew it first.")
    }

    @Test func aNoteIsBounded() throws {
        // 1000 characters (scalars, 3000 UTF-8 bytes) pass, surrounding spaces are not counted; 1001 do not.
        let thousand = String(repeating: "文", count: 1000)
        #expect(try ServiceRules.validatedNote("  " + thousand + "  ", for: .reject) == thousand)
        let tooLong = #expect(throws: DomainError.self) { try ServiceRules.validatedNote(thousand + "文", for: .reject) }
        #expect(tooLong?.code == "service.note_too_long")
        #expect(tooLong?.kind == .malformed)
        let control = #expect(throws: DomainError.self) { try ServiceRules.validatedNote("bell\u{7}", for: .complete) }
        #expect(control?.code == "service.note_invalid")
    }
}

// MARK: - Working days

@Suite("ServiceRules: working days")
struct ServiceRulesCalendarTests {
    @Test(arguments: [
        ("2026-03-06", true),  // a Friday
        ("2026-03-07", false), // a Saturday
        ("2026-03-08", false), // a Sunday
        ("2026-10-01", false), // National Day, a Thursday
        ("2026-10-03", false), // a holiday on a Saturday
        ("2026-10-08", true),  // the Thursday after the holiday week
        ("2026-10-10", true),  // a make-up Saturday
        ("2026-10-11", false), // the Sunday after it
        ("2026-09-20", true),  // a make-up Sunday
        ("2026-02-14", true),  // the make-up Saturday before the Spring Festival
        ("2026-02-23", false), // the last day of the Spring Festival, a Monday
        ("2026-01-04", false), // a Sunday, not a make-up day in the demo list
    ])
    func isWorkingDay(_ date: String, _ expected: Bool) {
        #expect(ServiceDemo.calendar2026.isWorkingDay(ServiceDemo.date(date)) == expected)
    }

    @Test(arguments: [
        // Across a weekend: Friday + 1 → Monday; Monday + 5 → the next Monday.
        ("2026-03-06", 1, "2026-03-09"),
        ("2026-03-09", 5, "2026-03-16"),
        // Received on a Saturday: the day of receipt never counts.
        ("2026-03-07", 1, "2026-03-09"),
        // The National Day week: Wed 09-30 + 1 → Thu 10-08; + 3 → 10-08, 10-09, Sat 10-10 (make-up).
        ("2026-09-30", 1, "2026-10-08"),
        ("2026-09-30", 3, "2026-10-10"),
        // + 4: Sunday 10-11 is off again → Monday 10-12.
        ("2026-09-30", 4, "2026-10-12"),
        // Received during the holiday.
        ("2026-10-02", 1, "2026-10-08"),
        // The make-up Sunday before it: Friday 09-18 + 1 → Sunday 09-20.
        ("2026-09-18", 1, "2026-09-20"),
        ("2026-09-18", 2, "2026-09-21"),
        // Spring Festival: Friday 02-13 + 1 → Sat 02-14 (make-up); + 2 → 02-15..23 off → Tue 02-24.
        ("2026-02-13", 1, "2026-02-14"),
        ("2026-02-13", 2, "2026-02-24"),
        // Labour Day: Thursday 04-30 + 1 → 05-01..05 off → Wed 05-06; + 4 → 05-06, 07, 08, Sat 05-09.
        ("2026-04-30", 1, "2026-05-06"),
        ("2026-04-30", 4, "2026-05-09"),
        // Across the new year: Wed 2025-12-31 + 1 → 01-01..03 off, Sunday 01-04 → Mon 01-05.
        ("2025-12-31", 1, "2026-01-05"),
        // Qingming (Sat 04-04 .. Mon 04-06): Friday 04-03 + 1 → Tue 04-07.
        ("2026-04-03", 1, "2026-04-07"),
        // Dragon Boat (Fri 06-19 .. Sun 06-21): Thursday 06-18 + 1 → Mon 06-22.
        ("2026-06-18", 1, "2026-06-22"),
    ])
    func dueDates(_ received: String, _ days: Int, _ expected: String) {
        #expect(ServiceDemo.calendar2026.due(receivedOn: ServiceDemo.date(received), workingDays: days) == ServiceDemo.date(expected))
    }

    @Test func withoutHolidaysSixtyWorkingDaysAreTwelveWeeks() {
        let plain = WorkingCalendar(holidays: [], workdays: [])
        // Friday 2026-03-06 + 60 working days = 12 whole weeks = 84 days → Friday 2026-05-29.
        #expect(plain.due(receivedOn: ServiceDemo.date("2026-03-06"), workingDays: 60) == ServiceDemo.date("2026-05-29"))
        // Zero days is the day itself (documented edge; services always have 1-60).
        #expect(plain.due(receivedOn: ServiceDemo.date("2026-03-07"), workingDays: 0) == ServiceDemo.date("2026-03-07"))
    }

    @Test func overdueIsAfterTheDueDateWhileOpen() {
        let due = ServiceDemo.date("2026-10-10")
        #expect(!ServiceRules.isOverdue(status: .inProgress, due: due, today: due))
        #expect(!ServiceRules.isOverdue(status: .inProgress, due: due, today: ServiceDemo.date("2026-10-09")))
        for status in [RequestStatus.submitted, .accepted, .inProgress, .needsInfo] {
            #expect(ServiceRules.isOverdue(status: status, due: due, today: ServiceDemo.date("2026-10-11")), "\(status)")
        }
        for status in [RequestStatus.completed, .rejected] {
            #expect(!ServiceRules.isOverdue(status: status, due: due, today: ServiceDemo.date("2027-01-01")), "\(status)")
        }
    }
}

// MARK: - Form values

/// A submission and the problems it must produce, in order.
struct ServiceFormExample: Sendable, CustomTestStringConvertible {
    let name: String
    let values: [(String, JSONValue)]
    let problems: [String]

    var testDescription: String { name }
}

private let validBase: [(String, JSONValue)] = [
    ("full_name", .string("Anna Schmidt")), ("purpose", .string("visa")), ("amount_yuan", .number(100)),
]

private func base(replacing name: String, with value: JSONValue?) -> [(String, JSONValue)] {
    var values = validBase.filter { $0.0 != name }
    if let value { values.append((name, value)) }
    return values
}

let serviceFormExamples: [ServiceFormExample] = [
    ServiceFormExample(name: "every field valid", values: [
        ("full_name", .string("Anna Schmidt")), ("purpose", .string("housing")), ("from_month", .string("2026-01")),
        ("remarks", .string("Second copy,\nplease.")), ("amount_yuan", .number(500_000)), ("urgent", .bool(false)),
        ("move_in", .string("2026-02-28")),
    ], problems: []),
    ServiceFormExample(name: "only the required fields", values: validBase, problems: []),
    ServiceFormExample(name: "members in any order", values: Array(validBase.reversed()), problems: []),
    ServiceFormExample(name: "required fields missing", values: [("full_name", .string("Anna Schmidt"))],
                       problems: ["purpose: is required", "amount_yuan: is required"]),
    ServiceFormExample(name: "a blank required string", values: base(replacing: "full_name", with: .string("  ")),
                       problems: ["full_name: is required"]),
    ServiceFormExample(name: "an unknown member", values: validBase + [("colour", .string("red"))],
                       problems: ["colour: is not a field of this form"]),
    ServiceFormExample(name: "an unknown member twice is one problem", values: validBase + [("colour", .string("red")), ("colour", .number(1))],
                       problems: ["colour: is not a field of this form"]),
    ServiceFormExample(name: "a field given twice", values: validBase + [("purpose", .string("school"))],
                       problems: ["purpose: is given 2 times"]),
    ServiceFormExample(name: "an integer as a string", values: base(replacing: "amount_yuan", with: .string("100")),
                       problems: ["amount_yuan: must be an integer, got a string"]),
    ServiceFormExample(name: "null is not a value", values: base(replacing: "purpose", with: .null),
                       problems: ["purpose: must be a string, got null"]),
    ServiceFormExample(name: "an array for a string", values: base(replacing: "purpose", with: .array([.string("visa")])),
                       problems: ["purpose: must be a string, got an array"]),
    ServiceFormExample(name: "a boolean as a string", values: validBase + [("urgent", .string("true"))],
                       problems: ["urgent: must be true or false, got a string"]),
    ServiceFormExample(name: "a date as an integer", values: validBase + [("move_in", .number(20_260_228))],
                       problems: ["move_in: must be a date as YYYY-MM-DD, got an integer"]),
    ServiceFormExample(name: "29 February 2026 does not exist", values: validBase + [("move_in", .string("2026-02-29"))],
                       problems: ["move_in: must be a real calendar date as YYYY-MM-DD, got '2026-02-29'"]),
    ServiceFormExample(name: "a date without leading zeros", values: validBase + [("move_in", .string("2026-2-28"))],
                       problems: ["move_in: must be a real calendar date as YYYY-MM-DD, got '2026-2-28'"]),
    ServiceFormExample(name: "not one of the enum", values: base(replacing: "purpose", with: .string("travel")),
                       problems: ["purpose: must be one of visa, housing, school, other, got 'travel'"]),
    ServiceFormExample(name: "the enum is case-sensitive", values: base(replacing: "purpose", with: .string("Visa")),
                       problems: ["purpose: must be one of visa, housing, school, other, got 'Visa'"]),
    ServiceFormExample(name: "shorter than min_length", values: validBase + [("from_month", .string("2026-1"))],
                       problems: ["from_month: must be at least 7 characters, got 6"]),
    ServiceFormExample(name: "longer than max_length", values: validBase + [("from_month", .string("2026-011"))],
                       problems: ["from_month: must be at most 7 characters, got 8"]),
    ServiceFormExample(name: "500 characters by default", values: validBase + [("remarks", .string(String(repeating: "医", count: 500)))],
                       problems: []),
    ServiceFormExample(name: "501 characters by default", values: validBase + [("remarks", .string(String(repeating: "医", count: 501)))],
                       problems: ["remarks: must be at most 500 characters, got 501"]),
    ServiceFormExample(name: "a control character", values: validBase + [("remarks", .string("a\u{0}b"))],
                       problems: ["remarks: must not contain control characters"]),
    ServiceFormExample(name: "below the minimum", values: base(replacing: "amount_yuan", with: .number(99)),
                       problems: ["amount_yuan: must be at least 100, got 99"]),
    ServiceFormExample(name: "above the maximum", values: base(replacing: "amount_yuan", with: .number(500_001)),
                       problems: ["amount_yuan: must be at most 500000, got 500001"]),
    ServiceFormExample(name: "everything at once, in form order, unknown members last", values: [
        ("colour", .string("red")), ("move_in", .string("2026-13-01")), ("urgent", .string("yes")), ("amount_yuan", .number(99)),
        ("purpose", .string("travel")),
    ], problems: [
        "full_name: is required",
        "purpose: must be one of visa, housing, school, other, got 'travel'",
        "amount_yuan: must be at least 100, got 99",
        "urgent: must be true or false, got a string",
        "move_in: must be a real calendar date as YYYY-MM-DD, got '2026-13-01'",
        "colour: is not a field of this form",
    ]),
]

@Suite("ServiceRules: form values")
struct ServiceRulesFormTests {
    @Test(arguments: serviceFormExamples)
    func problems(_ example: ServiceFormExample) {
        #expect(ServiceDemo.form.problems(in: example.values) == example.problems)
    }

    @Test func validateThrowsEveryProblem() throws {
        try ServiceDemo.form.validate(validBase)
        #expect(throws: DomainError.rule("service.form_invalid", "purpose: is required; amount_yuan: must be an integer, got a boolean")) {
            try ServiceDemo.form.validate([("full_name", .string("Anna Schmidt")), ("amount_yuan", .bool(true))])
        }
    }

    @Test func anEmptyFormTakesNothing() {
        let empty = FormSchema(fields: [], required: [])
        #expect(empty.problems(in: []) == [])
        #expect(empty.problems(in: [("x", .null)]) == ["x: is not a field of this form"])
    }
}

// MARK: - Pre-filled values

@Suite("ServiceRules: pre-filled values")
struct ServiceRulesPrefillTests {
    static let form = FormSchema(fields: [
        FormField(name: "full_name", type: .string, title: ServiceDemo.name("Name", "姓名"), prefill: .fullName),
        FormField(name: "purpose", type: .string, title: ServiceDemo.name("Purpose", "用途"), enumValues: ["visa", "other"]),
        FormField(name: "permit_number", type: .string, title: ServiceDemo.name("Permit number", "许可证号"), prefill: .permitNumber),
        FormField(name: "months", type: .integer, title: ServiceDemo.name("Months", "缴费月数"), prefill: .contributionMonths),
    ], required: ["full_name", "purpose", "permit_number"])

    static let data: [PrefillSource: JSONValue] = [
        .contributionMonths: .number(14), .nationality: .string("DEU"), .fullName: .string("Anna Schmidt"),
        .permitNumber: .string("ZJ2026000123"),
    ]

    static let prefill = ServiceRules.prefilledValues(form, from: data)

    static let expected: [(String, JSONValue)] = [
        ("full_name", .string("Anna Schmidt")), ("purpose", .string("visa")), ("permit_number", .string("ZJ2026000123")),
        ("months", .number(14)),
    ]

    static func same(_ a: [(String, JSONValue)], _ b: [(String, JSONValue)]) -> Bool { JSONValue.object(a) == JSONValue.object(b) }

    static func errorOf(_ body: () throws -> [(String, JSONValue)]) -> DomainError? {
        do {
            _ = try body()
            return nil
        } catch let error as DomainError {
            return error
        } catch {
            Issue.record("not a DomainError: \(error)")
            return nil
        }
    }

    @Test func prefilledValuesInFieldOrder() {
        // The nationality is not a field of this form; the data's order does not matter.
        #expect(Self.same(Self.prefill, [("full_name", .string("Anna Schmidt")), ("permit_number", .string("ZJ2026000123")),
                                         ("months", .number(14))]))
        // A source without data is left out.
        let partial = ServiceRules.prefilledValues(Self.form, from: [.contributionMonths: .number(3)])
        #expect(Self.same(partial, [("months", .number(3))]))
    }

    @Test func theVerifiedValuesAreFilledIn() throws {
        let values = try ServiceRules.merged(form: Self.form, submitted: [("purpose", .string("visa"))], prefill: Self.prefill)
        #expect(Self.same(values, Self.expected))
    }

    @Test func anEqualValueIsAccepted() throws {
        let submitted: [(String, JSONValue)] = [("months", .number(14)), ("purpose", .string("visa")), ("full_name", .string("Anna Schmidt"))]
        let values = try ServiceRules.merged(form: Self.form, submitted: submitted, prefill: Self.prefill)
        #expect(Self.same(values, Self.expected))
    }

    @Test(arguments: [
        ("full_name", JSONValue.string("Anna Smith")),
        ("full_name", JSONValue.null),
        ("months", JSONValue.string("14")),
        ("months", JSONValue.number(15)),
    ])
    func aChangedValueIsRefused(_ name: String, _ value: JSONValue) {
        let error = Self.errorOf {
            try ServiceRules.merged(form: Self.form, submitted: [("purpose", .string("visa")), (name, value)], prefill: Self.prefill)
        }
        #expect(error == DomainError.rule("service.prefill_mismatch", "\(name) comes from verified data and cannot be changed"))
    }

    @Test func everyChangedFieldIsNamed() {
        let error = Self.errorOf {
            try ServiceRules.merged(form: Self.form, submitted: [("months", .number(0)), ("full_name", .null), ("purpose", .string("visa"))],
                                    prefill: Self.prefill)
        }
        #expect(error?.code == "service.prefill_mismatch")
        #expect(error?.detail == "full_name comes from verified data and cannot be changed; months comes from verified data and cannot be changed")
    }

    @Test func withoutVerifiedDataThePersonCannotSupplyIt() {
        let prefill = ServiceRules.prefilledValues(Self.form, from: [.fullName: .string("Anna Schmidt")])
        // Typing a permit number the platform does not hold is refused…
        let typed = Self.errorOf {
            try ServiceRules.merged(form: Self.form, submitted: [("purpose", .string("visa")), ("permit_number", .string("ZJ1"))], prefill: prefill)
        }
        #expect(typed == DomainError.rule("service.prefill_mismatch", "permit_number comes from verified data and cannot be changed"))
        // …and leaving it out leaves a required field missing (months is optional).
        let missing = Self.errorOf {
            try ServiceRules.merged(form: Self.form, submitted: [("purpose", .string("visa"))], prefill: prefill)
        }
        #expect(missing == DomainError.rule("service.form_invalid", "permit_number: is required"))
    }

    @Test func theFormStillApplies() {
        let unknown = Self.errorOf {
            try ServiceRules.merged(form: Self.form, submitted: [("colour", .string("red")), ("purpose", .string("visa"))], prefill: Self.prefill)
        }
        #expect(unknown == DomainError.rule("service.form_invalid", "colour: is not a field of this form"))
        let twice = Self.errorOf {
            try ServiceRules.merged(form: Self.form, submitted: [("purpose", .string("visa")), ("purpose", .string("other"))], prefill: Self.prefill)
        }
        #expect(twice == DomainError.rule("service.form_invalid", "purpose: is given 2 times"))
        let missing = Self.errorOf { try ServiceRules.merged(form: Self.form, submitted: [], prefill: Self.prefill) }
        #expect(missing == DomainError.rule("service.form_invalid", "purpose: is required"))
    }
}

// MARK: - Catalogue parsing

private let serviceCatalogueJSON = """
{
  "departments": {
    "hrss": {"en": "Human Resources and Social Security Bureau", "zh": "人力资源和社会保障局"},
    "education": {"en": "Education Bureau", "zh": "教育局"},
    "civilAffairs": {"en": "Civil Affairs Bureau", "zh": "民政局"},
    "housing": {"en": "Housing and Urban-Rural Development Bureau", "zh": "住房和城乡建设局"}
  },
  "holidays": ["2026-10-01", "2026-10-02", "2026-10-03"],
  "workdays": ["2026-09-20", "2026-10-10"],
  "services": [
    {"code": "contribution_certificate", "department": "hrss",
     "name": {"en": "Contribution certificate", "zh": "社会保险缴费证明"},
     "description": {"en": "  From your contribution records. ", "zh": "根据缴费记录生成。"},
     "form": {"fields": [
        {"name": "full_name", "type": "string", "title": {"en": "Name", "zh": "姓名"}, "prefill": "full_name"},
        {"name": "purpose", "type": "string", "title": {"en": "Purpose", "zh": "用途"}, "enum": ["visa", "housing", "school", "other"]},
        {"name": "from_month", "type": "string", "title": {"en": "From", "zh": "起始月份"}, "min_length": 7, "max_length": 7}],
      "required": ["full_name", "purpose"]},
     "documents": [{"code": "passport", "name": {"en": "Passport", "zh": "护照"}}],
     "time_limit_working_days": 3, "outcome": "contribution_certificate", "online": true},
    {"code": "provident_fund_withdrawal", "department": "housing",
     "name": {"en": "Provident fund withdrawal", "zh": "住房公积金提取"},
     "description": {"en": "Paid to your bank account.", "zh": "转入本人银行账户。"},
     "form": {"fields": [
        {"name": "amount_yuan", "type": "integer", "title": {"en": "Amount", "zh": "金额"}, "minimum": 100, "maximum": 500000},
        {"name": "months", "type": "integer", "title": {"en": "Months", "zh": "缴存月数"}, "prefill": "contribution_months"},
        {"name": "leaving", "type": "boolean", "title": {"en": "Leaving China", "zh": "出境定居"}},
        {"name": "move_out", "type": "date", "title": {"en": "Move-out date", "zh": "搬离日期"}}]},
     "time_limit_working_days": 60, "outcome": "none", "online": false}
  ]
}
"""

/// The test document, written out by hand (`documents` and `required` left out mean none; names are trimmed).
private let serviceCatalogueExpected: ServiceCatalogue = {
    let name = ServiceDemo.name
    return ServiceCatalogue(
        departments: [
            .hrss: name("Human Resources and Social Security Bureau", "人力资源和社会保障局"),
            .education: name("Education Bureau", "教育局"),
            .civilAffairs: name("Civil Affairs Bureau", "民政局"),
            .housing: name("Housing and Urban-Rural Development Bureau", "住房和城乡建设局"),
        ],
        services: [
            ServiceDefinition(
                code: "contribution_certificate", department: .hrss, name: name("Contribution certificate", "社会保险缴费证明"),
                description: name("From your contribution records.", "根据缴费记录生成。"),
                form: FormSchema(fields: [
                    FormField(name: "full_name", type: .string, title: name("Name", "姓名"), prefill: .fullName),
                    FormField(name: "purpose", type: .string, title: name("Purpose", "用途"), enumValues: ["visa", "housing", "school", "other"]),
                    FormField(name: "from_month", type: .string, title: name("From", "起始月份"), minLength: 7, maxLength: 7),
                ], required: ["full_name", "purpose"]),
                documents: [DocumentRequirement(code: "passport", name: name("Passport", "护照"))],
                timeLimitWorkingDays: 3, outcome: .contributionCertificate, online: true),
            ServiceDefinition(
                code: "provident_fund_withdrawal", department: .housing, name: name("Provident fund withdrawal", "住房公积金提取"),
                description: name("Paid to your bank account.", "转入本人银行账户。"),
                form: FormSchema(fields: [
                    FormField(name: "amount_yuan", type: .integer, title: name("Amount", "金额"), minimum: 100, maximum: 500_000),
                    FormField(name: "months", type: .integer, title: name("Months", "缴存月数"), prefill: .contributionMonths),
                    FormField(name: "leaving", type: .boolean, title: name("Leaving China", "出境定居")),
                    FormField(name: "move_out", type: .date, title: name("Move-out date", "搬离日期")),
                ], required: []),
                documents: [], timeLimitWorkingDays: 60, outcome: .none, online: false),
        ],
        holidays: ["2026-10-01", "2026-10-02", "2026-10-03"].map(ServiceDemo.date),
        workdays: ["2026-09-20", "2026-10-10"].map(ServiceDemo.date))
}()

/// `value` with the member or array item at `path` replaced (nil: removed); a missing member, or
/// the item just past the end of an array, is added.
private func serviceEditing(_ value: JSONValue, _ path: ArraySlice<String>, _ new: JSONValue?) -> JSONValue {
    guard let step = path.first else { return new ?? value }
    switch value {
    case var .object(members):
        if let index = members.firstIndex(where: { $0.0 == step }) {
            if path.count == 1, new == nil {
                members.remove(at: index)
            } else {
                members[index].1 = serviceEditing(members[index].1, path.dropFirst(), new)
            }
        } else if path.count == 1, let new {
            members.append((step, new))
        }
        return .object(members)
    case var .array(items):
        guard let index = Int(step) else { return value }
        if index < items.count {
            if path.count == 1, new == nil {
                items.remove(at: index)
            } else {
                items[index] = serviceEditing(items[index], path.dropFirst(), new)
            }
        } else if index == items.count, path.count == 1, let new {
            items.append(new)
        }
        return .array(items)
    default:
        return value
    }
}

private func serviceCatalogueError(_ bytes: [UInt8]) -> DomainError? {
    do {
        _ = try ServiceCatalogue.parse(bytes)
        return nil
    } catch let error as DomainError {
        return error
    } catch {
        Issue.record("not a DomainError: \(error)")
        return nil
    }
}

/// An invalid catalogue: the change to the test document and the error detail it must produce.
struct ServiceCatalogueMutation: Sendable, CustomTestStringConvertible {
    let name: String
    let path: [String]
    let value: JSONValue?
    /// The whole detail, or its beginning when it ends with "…".
    let detail: String

    var testDescription: String { name }
}

private func texts(_ items: String...) -> JSONValue { .array(items.map(JSONValue.string)) }
private let aTitle = JSONValue.object([("en", .string("Name")), ("zh", .string("姓名"))])

let serviceCatalogueMutations: [ServiceCatalogueMutation] = [
    // The cases of the brief.
    ServiceCatalogueMutation(name: "unknown member in a field", path: ["services", "0", "form", "fields", "0", "colour"], value: .string("red"),
                             detail: "services[0].form.fields[0].colour: is not a member of a form field"),
    ServiceCatalogueMutation(name: "duplicate service code", path: ["services", "1", "code"], value: .string("contribution_certificate"),
                             detail: "services[1].code: 'contribution_certificate' is already the code of services[0]"),
    ServiceCatalogueMutation(name: "required field not in fields", path: ["services", "0", "form", "required", "1"], value: .string("nickname"),
                             detail: "services[0].form.required[1]: 'nickname' is not a field of the form"),
    ServiceCatalogueMutation(name: "enum on an integer", path: ["services", "1", "form", "fields", "0", "enum"], value: texts("100"),
                             detail: "services[1].form.fields[0].enum: only string fields take enum; this field is integer"),
    ServiceCatalogueMutation(name: "unknown prefill source", path: ["services", "0", "form", "fields", "0", "prefill"], value: .string("passport_photo"),
                             detail: "services[0].form.fields[0].prefill: must be one of full_name, nationality, permit_number, permit_category, "
                                 + "permit_valid_until, employer_name, contribution_months"),
    ServiceCatalogueMutation(name: "time limit 0", path: ["services", "0", "time_limit_working_days"], value: .number(0),
                             detail: "services[0].time_limit_working_days: must be between 1 and 60, got 0"),
    ServiceCatalogueMutation(name: "missing department", path: ["departments", "housing"], value: nil,
                             detail: "departments.housing: is required"),
    ServiceCatalogueMutation(name: "workday on a Monday", path: ["workdays", "1"], value: .string("2026-10-12"),
                             detail: "workdays[1]: 2026-10-12 is a Monday; a make-up working day must be a Saturday or Sunday"),
    ServiceCatalogueMutation(name: "workday on a Friday", path: ["workdays", "1"], value: .string("2026-10-09"),
                             detail: "workdays[1]: 2026-10-09 is a Friday; a make-up working day must be a Saturday or Sunday"),
    // Top level and calendar.
    ServiceCatalogueMutation(name: "unknown top-level member", path: ["servces"], value: .array([]),
                             detail: "servces: is not a member of a service catalogue"),
    ServiceCatalogueMutation(name: "missing services", path: ["services"], value: nil, detail: "services: is required"),
    ServiceCatalogueMutation(name: "missing holidays", path: ["holidays"], value: nil, detail: "holidays: is required"),
    ServiceCatalogueMutation(name: "unknown department", path: ["departments", "police"], value: aTitle,
                             detail: "departments.police: is not a member of departments (hrss, education, civilAffairs, housing)"),
    ServiceCatalogueMutation(name: "blank department name", path: ["departments", "education", "zh"], value: .string("  "),
                             detail: "departments.education.zh: must not be empty"),
    ServiceCatalogueMutation(name: "workday also a holiday", path: ["workdays", "1"], value: .string("2026-10-03"),
                             detail: "workdays[1]: 2026-10-03 is also listed as a holiday"),
    ServiceCatalogueMutation(name: "holidays out of order", path: ["holidays", "2"], value: .string("2026-09-30"),
                             detail: "holidays[2]: 2026-09-30 is listed after 2026-10-02: the dates must be in ascending order"),
    ServiceCatalogueMutation(name: "holiday twice", path: ["holidays", "2"], value: .string("2026-10-02"),
                             detail: "holidays[2]: 2026-10-02 is listed twice"),
    ServiceCatalogueMutation(name: "holiday not a real date", path: ["holidays", "0"], value: .string("2026-02-30"),
                             detail: "holidays[0]: must be a real calendar date as YYYY-MM-DD"),
    ServiceCatalogueMutation(name: "workdays not an array", path: ["workdays"], value: .string("2026-10-10"),
                             detail: "workdays: must be an array of dates YYYY-MM-DD"),
    // A service.
    ServiceCatalogueMutation(name: "service not an object", path: ["services", "1"], value: .string("x"), detail: "services[1]: must be an object"),
    ServiceCatalogueMutation(name: "service code with a capital", path: ["services", "0", "code"], value: .string("Contribution"),
                             detail: "services[0].code: must match [a-z][a-z0-9_]{1,63}, got 'Contribution'"),
    ServiceCatalogueMutation(name: "service code of one letter", path: ["services", "0", "code"], value: .string("c"),
                             detail: "services[0].code: must match [a-z][a-z0-9_]{1,63}, got 'c'"),
    ServiceCatalogueMutation(name: "service code of 65 characters", path: ["services", "0", "code"], value: .string(String(repeating: "a", count: 65)),
                             detail: "services[0].code: must match [a-z][a-z0-9_]{1,63}, got …"),
    ServiceCatalogueMutation(name: "unknown department of a service", path: ["services", "1", "department"], value: .string("police"),
                             detail: "services[1].department: must be one of hrss, education, civilAffairs, housing"),
    ServiceCatalogueMutation(name: "name too long", path: ["services", "0", "name", "en"], value: .string(String(repeating: "x", count: 201)),
                             detail: "services[0].name.en: must be at most 200 characters, got 201"),
    ServiceCatalogueMutation(name: "name without zh", path: ["services", "0", "name", "zh"], value: nil, detail: "services[0].name.zh: is required"),
    ServiceCatalogueMutation(name: "description too long", path: ["services", "1", "description", "zh"],
                             value: .string(String(repeating: "长", count: 1001)),
                             detail: "services[1].description.zh: must be at most 1000 characters, got 1001"),
    ServiceCatalogueMutation(name: "missing form", path: ["services", "1", "form"], value: nil, detail: "services[1].form: is required"),
    ServiceCatalogueMutation(name: "time limit 61", path: ["services", "1", "time_limit_working_days"], value: .number(61),
                             detail: "services[1].time_limit_working_days: must be between 1 and 60, got 61"),
    ServiceCatalogueMutation(name: "time limit a string", path: ["services", "0", "time_limit_working_days"], value: .string("3"),
                             detail: "services[0].time_limit_working_days: must be an integer"),
    ServiceCatalogueMutation(name: "unknown outcome", path: ["services", "0", "outcome"], value: .string("certificate"),
                             detail: "services[0].outcome: must be one of none, document, contribution_certificate"),
    ServiceCatalogueMutation(name: "online a string", path: ["services", "0", "online"], value: .string("yes"),
                             detail: "services[0].online: must be true or false"),
    ServiceCatalogueMutation(name: "duplicate document code", path: ["services", "0", "documents", "1"],
                             value: .object([("code", .string("passport")), ("name", aTitle)]),
                             detail: "services[0].documents[1].code: 'passport' is already the code of documents[0]"),
    ServiceCatalogueMutation(name: "document without a name", path: ["services", "0", "documents", "0", "name"], value: nil,
                             detail: "services[0].documents[0].name: is required"),
    // A form and its fields.
    ServiceCatalogueMutation(name: "required listed twice", path: ["services", "0", "form", "required", "2"], value: .string("purpose"),
                             detail: "services[0].form.required[2]: 'purpose' is listed twice"),
    ServiceCatalogueMutation(name: "unknown member in a form", path: ["services", "0", "form", "optional"], value: .array([]),
                             detail: "services[0].form.optional: is not a member of a form"),
    ServiceCatalogueMutation(name: "field name with a hyphen", path: ["services", "0", "form", "fields", "2", "name"], value: .string("from-month"),
                             detail: "services[0].form.fields[2].name: must match [a-z][a-z0-9_]{0,39}, got 'from-month'"),
    ServiceCatalogueMutation(name: "duplicate field name", path: ["services", "0", "form", "fields", "2", "name"], value: .string("purpose"),
                             detail: "services[0].form.fields[2].name: 'purpose' is already the name of fields[1]"),
    ServiceCatalogueMutation(name: "unknown field type", path: ["services", "1", "form", "fields", "0", "type"], value: .string("number"),
                             detail: "services[1].form.fields[0].type: must be one of string, integer, boolean, date"),
    ServiceCatalogueMutation(name: "field without a title", path: ["services", "1", "form", "fields", "2", "title"], value: nil,
                             detail: "services[1].form.fields[2].title: is required"),
    ServiceCatalogueMutation(name: "minimum on a string", path: ["services", "0", "form", "fields", "2", "minimum"], value: .number(1),
                             detail: "services[0].form.fields[2].minimum: only integer fields take minimum; this field is string"),
    ServiceCatalogueMutation(name: "max_length on a date", path: ["services", "1", "form", "fields", "3", "max_length"], value: .number(10),
                             detail: "services[1].form.fields[3].max_length: only string fields take max_length; this field is date"),
    ServiceCatalogueMutation(name: "prefill of the wrong type", path: ["services", "1", "form", "fields", "1", "prefill"], value: .string("full_name"),
                             detail: "services[1].form.fields[1].prefill: full_name fills string fields; this field is integer"),
    ServiceCatalogueMutation(name: "a date prefill on a string", path: ["services", "0", "form", "fields", "0", "prefill"],
                             value: .string("permit_valid_until"),
                             detail: "services[0].form.fields[0].prefill: permit_valid_until fills date fields; this field is string"),
    ServiceCatalogueMutation(name: "prefill with a constraint", path: ["services", "0", "form", "fields", "0", "max_length"], value: .number(100),
                             detail: "services[0].form.fields[0].max_length: a pre-filled field takes no max_length: its value is verified data"),
    ServiceCatalogueMutation(name: "prefill source used twice", path: ["services", "0", "form", "fields", "3"],
                             value: .object([("name", .string("name_again")), ("type", .string("string")), ("title", aTitle),
                                             ("prefill", .string("full_name"))]),
                             detail: "services[0].form.fields[3].prefill: full_name already fills fields[0]"),
    ServiceCatalogueMutation(name: "enum with max_length", path: ["services", "0", "form", "fields", "1", "max_length"], value: .number(10),
                             detail: "services[0].form.fields[1].max_length: a field with enum takes no max_length"),
    ServiceCatalogueMutation(name: "empty enum", path: ["services", "0", "form", "fields", "1", "enum"], value: .array([]),
                             detail: "services[0].form.fields[1].enum: must be an array of 1 to 50 strings"),
    ServiceCatalogueMutation(name: "enum value twice", path: ["services", "0", "form", "fields", "1", "enum", "4"], value: .string("visa"),
                             detail: "services[0].form.fields[1].enum[4]: 'visa' is listed twice"),
    ServiceCatalogueMutation(name: "enum value not a string", path: ["services", "0", "form", "fields", "1", "enum", "0"], value: .number(1),
                             detail: "services[0].form.fields[1].enum[0]: must be a string of 1 to 100 characters"),
    ServiceCatalogueMutation(name: "enum value of 101 characters", path: ["services", "0", "form", "fields", "1", "enum", "0"],
                             value: .string(String(repeating: "v", count: 101)),
                             detail: "services[0].form.fields[1].enum[0]: must be a string of 1 to 100 characters"),
    ServiceCatalogueMutation(name: "min_length above max_length", path: ["services", "0", "form", "fields", "2", "min_length"], value: .number(8),
                             detail: "services[0].form.fields[2].min_length: 8 is above max_length 7"),
    ServiceCatalogueMutation(name: "max_length 2001", path: ["services", "0", "form", "fields", "2", "max_length"], value: .number(2001),
                             detail: "services[0].form.fields[2].max_length: must be between 1 and 2000, got 2001"),
    ServiceCatalogueMutation(name: "max_length 0", path: ["services", "0", "form", "fields", "2", "max_length"], value: .number(0),
                             detail: "services[0].form.fields[2].max_length: must be between 1 and 2000, got 0"),
    ServiceCatalogueMutation(name: "minimum above maximum", path: ["services", "1", "form", "fields", "0", "minimum"], value: .number(500_001),
                             detail: "services[1].form.fields[0].minimum: 500001 is above maximum 500000"),
]

@Suite("ServiceRules: catalogue parsing")
struct ServiceRulesCatalogueTests {
    @Test func theTestDocumentParsesToTheCatalogueWrittenOut() throws {
        let catalogue = try ServiceCatalogue.parse(Array(serviceCatalogueJSON.utf8))
        #expect(catalogue == serviceCatalogueExpected)
        #expect(catalogue.service(code: "provident_fund_withdrawal")?.form.required == [])
        #expect(catalogue.service(code: "no_such_service") == nil)
        // Compact serialisation parses the same: the mutations start from it.
        let tree = try JSONValue.parse(Array(serviceCatalogueJSON.utf8))
        #expect(try ServiceCatalogue.parse(tree.serialized()) == serviceCatalogueExpected)
    }

    @Test(arguments: serviceCatalogueMutations)
    func anInvalidCatalogueNamesThePath(_ mutation: ServiceCatalogueMutation) throws {
        let tree = try JSONValue.parse(Array(serviceCatalogueJSON.utf8))
        let changed = serviceEditing(tree, mutation.path[...], mutation.value)
        #expect(changed != tree, "the mutation changed nothing")
        let error = try #require(serviceCatalogueError(changed.serialized()))
        #expect(error.code == "service.catalogue_invalid")
        #expect(error.kind == .rule)
        if mutation.detail.hasSuffix("…") {
            #expect(error.detail.hasPrefix(String(mutation.detail.dropLast())), "detail: \(error.detail)")
        } else {
            #expect(error.detail == mutation.detail)
        }
    }

    @Test func edgesThatAreAccepted() throws {
        let tree = try JSONValue.parse(Array(serviceCatalogueJSON.utf8))
        // No services, holidays or workdays at all; a min_length equal to the default maximum;
        // a two-letter service code and a 64-letter one; a time limit of 60; a 40-letter field name.
        var edited = serviceEditing(tree, ["holidays"], .array([]))
        edited = serviceEditing(edited, ["workdays"], .array([]))
        #expect(try ServiceCatalogue.parse(serviceEditing(edited, ["services"], .array([])).serialized()).services.isEmpty)
        edited = serviceEditing(edited, ["services", "0", "form", "fields", "2", "max_length"], nil)
        edited = serviceEditing(edited, ["services", "0", "form", "fields", "2", "min_length"], .number(500))
        edited = serviceEditing(edited, ["services", "0", "code"], .string("ab"))
        edited = serviceEditing(edited, ["services", "1", "code"], .string(String(repeating: "z", count: 64)))
        edited = serviceEditing(edited, ["services", "1", "form", "fields", "3", "name"], .string("m" + String(repeating: "_", count: 39)))
        let catalogue = try ServiceCatalogue.parse(edited.serialized())
        #expect(catalogue.services.map(\.code) == ["ab", String(repeating: "z", count: 64)])
        #expect(catalogue.services[0].form.fields[2].minLength == 500)
        #expect(catalogue.services[0].form.fields[2].maxLength == nil)
        #expect(catalogue.services[1].form.fields[3].name.count == 40)
        // One more than the default maximum is refused, naming the default.
        let over = serviceEditing(edited, ["services", "0", "form", "fields", "2", "min_length"], .number(501))
        #expect(serviceCatalogueError(over.serialized())?.detail
            == "services[0].form.fields[2].min_length: 501 is above max_length 500 (the default)")
        let longName = serviceEditing(edited, ["services", "1", "form", "fields", "3", "name"], .string("m" + String(repeating: "_", count: 40)))
        #expect(serviceCatalogueError(longName.serialized())?.detail.hasPrefix("services[1].form.fields[3].name: must match") == true)
    }

    @Test func countsAreBounded() throws {
        let tree = try JSONValue.parse(Array(serviceCatalogueJSON.utf8))
        func field(_ index: Int) -> JSONValue {
            .object([("name", .string("f\(index)")), ("type", .string("boolean")), ("title", aTitle)])
        }
        let forty = serviceEditing(tree, ["services", "1", "form", "fields"], .array((0..<40).map(field)))
        #expect(try ServiceCatalogue.parse(forty.serialized()).services[1].form.fields.count == 40)
        let fortyOne = serviceEditing(tree, ["services", "1", "form", "fields"], .array((0..<41).map(field)))
        #expect(serviceCatalogueError(fortyOne.serialized())?.detail == "services[1].form.fields: has 41 fields, more than the 40 allowed")

        func document(_ index: Int) -> JSONValue { .object([("code", .string("d\(index)")), ("name", aTitle)]) }
        let twenty = serviceEditing(tree, ["services", "1", "documents"], .array((0..<20).map(document)))
        #expect(try ServiceCatalogue.parse(twenty.serialized()).services[1].documents.count == 20)
        let twentyOne = serviceEditing(tree, ["services", "1", "documents"], .array((0..<21).map(document)))
        #expect(serviceCatalogueError(twentyOne.serialized())?.detail == "services[1].documents: has 21 documents, more than the 20 allowed")

        func service(_ index: Int) -> JSONValue {
            .object([("code", .string("s\(index)")), ("department", .string("hrss")), ("name", aTitle), ("description", aTitle),
                     ("form", .object([("fields", .array([]))])), ("time_limit_working_days", .number(1)), ("outcome", .string("none")),
                     ("online", .bool(true))])
        }
        let twoHundred = serviceEditing(tree, ["services"], .array((0..<200).map(service)))
        #expect(try ServiceCatalogue.parse(twoHundred.serialized()).services.count == 200)
        let twoHundredOne = serviceEditing(tree, ["services"], .array((0..<201).map(service)))
        #expect(serviceCatalogueError(twoHundredOne.serialized())?.detail == "services: has 201 services, more than the 200 allowed")
    }

    @Test func notACatalogueAtAll() {
        #expect(serviceCatalogueError(Array("[]".utf8))?.detail == "document: must be an object")
        let truncated = serviceCatalogueError(Array("{\"departments\": ".utf8))
        #expect(truncated?.code == "service.catalogue_invalid")
        #expect(truncated?.kind == .rule)
        #expect(truncated?.detail.hasPrefix("document: is not JSON with integer numbers") == true)
        let fraction = serviceCatalogueJSON.replacingOccurrences(of: "\"time_limit_working_days\": 3", with: "\"time_limit_working_days\": 3.5")
        #expect(fraction != serviceCatalogueJSON)
        #expect(serviceCatalogueError(Array(fraction.utf8))?.detail.contains("only integers are accepted") == true)
        let padded = serviceCatalogueJSON.replacingOccurrences(of: "Paid to your bank account.",
                                                               with: String(repeating: " ", count: ServiceCatalogue.jsonBytesMax))
        #expect(serviceCatalogueError(Array(padded.utf8))?.detail.hasPrefix("document: is \(padded.utf8.count) bytes, more than the") == true)
    }

    @Test func theDemoCatalogue() throws {
        let catalogue = try ServiceCatalogue.parse(ServiceDemo.file("catalogue.json"))
        #expect(catalogue.departments[.hrss] == LocalizedName(en: "Human Resources and Social Security Bureau", zh: "人力资源和社会保障局"))
        #expect(catalogue.departments[.civilAffairs]?.zh == "民政局")
        #expect(catalogue.holidays == ServiceDemo.holidays2026)
        #expect(catalogue.workdays == ServiceDemo.workdays2026)
        #expect(catalogue.calendar == ServiceDemo.calendar2026)
        #expect(catalogue.services.map(\.code) == ["contribution_certificate", "employment_registration", "school_enrolment",
                                                   "marriage_registration", "rental_registration", "provident_fund_withdrawal"])
        #expect(catalogue.services.map(\.department) == [.hrss, .hrss, .education, .civilAffairs, .housing, .housing])
        #expect(catalogue.services.map(\.outcome) == [.contributionCertificate, .document, .document, .none, .document, .none])
        #expect(catalogue.services.map(\.online) == [true, true, false, false, true, true])

        let certificate = try #require(catalogue.service(code: "contribution_certificate"))
        #expect(certificate.timeLimitWorkingDays == 3)
        #expect(certificate.form.field(named: "purpose")?.enumValues == ["visa", "housing", "school", "car_purchase", "other"])
        // Received on Wednesday 2026-09-30 with 3 working days: 10-08, 10-09, 10-10 (make-up Saturday).
        #expect(catalogue.calendar.due(receivedOn: ServiceDemo.date("2026-09-30"), workingDays: certificate.timeLimitWorkingDays)
            == ServiceDemo.date("2026-10-10"))

        let school = try #require(catalogue.service(code: "school_enrolment"))
        #expect(school.form.field(named: "child_date_of_birth")?.type == .date)
        #expect(school.form.field(named: "grade")?.enumValues?.count == 9)
        #expect(school.documents.map(\.code).contains("vaccination_record"))

        let fund = try #require(catalogue.service(code: "provident_fund_withdrawal"))
        let amount = try #require(fund.form.field(named: "amount_yuan"))
        #expect(amount.type == .integer)
        #expect(amount.minimum == 100)
        #expect(amount.maximum == 500_000)
        #expect(fund.form.field(named: "contribution_months")?.prefill == .contributionMonths)

        let employment = try #require(catalogue.service(code: "employment_registration"))
        #expect(employment.form.fields.compactMap(\.prefill) == [.fullName, .nationality, .permitNumber, .permitCategory, .permitValidUntil,
                                                                  .employerName])

        // A submission for the fund, pre-filled from verified data, goes through.
        let data: [PrefillSource: JSONValue] = [.fullName: .string("Anna Schmidt"), .permitNumber: .string("ZJ2026000123"),
                                                .contributionMonths: .number(14)]
        let values = try ServiceRules.merged(form: fund.form,
                                             submitted: [("reason", .string("rent")), ("amount_yuan", .number(12_000)),
                                                         ("bank_account", .string("6222020200112233445"))],
                                             prefill: ServiceRules.prefilledValues(fund.form, from: data))
        #expect(values.map(\.0) == ["full_name", "permit_number", "contribution_months", "amount_yuan", "reason", "bank_account"])
    }
}
