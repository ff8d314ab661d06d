/// Rules of "one card" service requests: checking a submitted form against its schema, merging
/// pre-filled verified data, the working-day calendar the time limits run on, and the life of a
/// request from submission to completion or rejection.

// MARK: - Form values

extension FormSchema {
    /// Checks submitted values (an object of name → value) and returns every problem, each
    /// `"<field>: <message>"`, empty when the values are valid. Fields are checked in form order
    /// (at most one problem per field: given more than once, required but missing, wrong JSON
    /// type, not one of the enum, too short or long, out of range, not a real date), then members
    /// that are not fields of the form are listed in the order given.
    ///
    /// A date is a string `YYYY-MM-DD` naming a real day. `null` is not a value (leave an
    /// optional field out instead). A required string field given as blank text counts as missing.
    /// Lengths count Unicode scalars; control characters other than tab, CR, LF are refused.
    public func problems(in values: [(String, JSONValue)]) -> [String] {
        var problems: [String] = []
        for field in fields {
            let given = values.filter { $0.0 == field.name }
            if given.count > 1 {
                problems.append("\(field.name): is given \(given.count) times")
            } else if let value = given.first?.1 {
                if let problem = FormSchema.problem(of: value, for: field, required: required.contains(field.name)) {
                    problems.append("\(field.name): \(problem)")
                }
            } else if required.contains(field.name) {
                problems.append("\(field.name): is required")
            }
        }
        var unknown: [String] = []
        for (name, _) in values where field(named: name) == nil && !unknown.contains(name) {
            unknown.append(name)
            problems.append("\(String(name.unicodeScalars.prefix(40))): is not a field of this form")
        }
        return problems
    }

    /// `problems(in:)`, throwing `DomainError.rule("service.form_invalid", …)` with all of them
    /// joined by "; " when there are any.
    public func validate(_ values: [(String, JSONValue)]) throws {
        let problems = problems(in: values)
        guard problems.isEmpty else { throw DomainError.rule("service.form_invalid", problems.joined(separator: "; ")) }
    }

    private static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "an integer"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    private static func quoted(_ text: String) -> String { "'\(String(text.unicodeScalars.prefix(40)))'" }

    private static func problem(of value: JSONValue, for field: FormField, required: Bool) -> String? {
        switch field.type {
        case .string:
            guard let text = value.string else { return "must be a string, got \(kind(of: value))" }
            if required, text.trimmingWhitespace().isEmpty { return "is required" }
            if text.containsControlCharacters { return "must not contain control characters" }
            if let allowed = field.enumValues {
                return allowed.contains(text) ? nil : "must be one of \(allowed.joined(separator: ", ")), got \(quoted(text))"
            }
            let length = text.scalarCount
            if let minLength = field.minLength, length < minLength {
                return "must be at least \(minLength) characters, got \(length)"
            }
            let maxLength = field.maxLength ?? FormField.defaultMaxLength
            if length > maxLength { return "must be at most \(maxLength) characters, got \(length)" }
            return nil
        case .integer:
            guard let number = value.int else { return "must be an integer, got \(kind(of: value))" }
            if let minimum = field.minimum, number < minimum { return "must be at least \(minimum), got \(number)" }
            if let maximum = field.maximum, number > maximum { return "must be at most \(maximum), got \(number)" }
            return nil
        case .boolean:
            return value.bool == nil ? "must be true or false, got \(kind(of: value))" : nil
        case .date:
            guard let text = value.string else { return "must be a date as YYYY-MM-DD, got \(kind(of: value))" }
            return CivilDate(text) == nil ? "must be a real calendar date as YYYY-MM-DD, got \(quoted(text))" : nil
        }
    }
}

// MARK: - Working days

/// Working days: Monday to Friday except `holidays`, plus the make-up `workdays` (调休). A date in
/// both lists is a working day (a parsed catalogue never has one).
public struct WorkingCalendar: Sendable, Equatable {
    public let holidays: Set<CivilDate>
    public let workdays: Set<CivilDate>

    public init(holidays: [CivilDate], workdays: [CivilDate]) {
        self.holidays = Set(holidays)
        self.workdays = Set(workdays)
    }

    public func isWorkingDay(_ date: CivilDate) -> Bool {
        if workdays.contains(date) { return true }
        if holidays.contains(date) { return false }
        return date.weekdayIndexFromMonday < 5
    }

    /// The due date of something received on `date` with a limit of `days` working days: the
    /// `days`-th working day after `date` (the day of receipt does not count, whether or not it is
    /// a working day). `days` ≥ 1; 0 or less gives `date` itself.
    public func due(receivedOn date: CivilDate, workingDays days: Int) -> CivilDate {
        var day = date
        var remaining = days
        while remaining > 0 {
            day = day.adding(days: 1)
            if isWorkingDay(day) { remaining -= 1 }
        }
        return day
    }
}

// MARK: - Requests

public enum RequestStatus: String, Sendable, CaseIterable, Codable {
    case submitted, accepted
    case inProgress = "in_progress"
    case needsInfo = "needs_info"
    case completed, rejected

    /// Not yet decided: neither completed nor rejected.
    public var isOpen: Bool { self != .completed && self != .rejected }
}

public enum RequestAction: String, Sendable, CaseIterable, Codable {
    case accept, start
    case askInfo = "ask_info"
    case answer, complete, reject

    /// Who takes the action: the cardholder answers a request for information, the department's
    /// clerk does everything else.
    public var actor: RequestActor { self == .answer ? .cardholder : .clerk }
}

public enum RequestActor: Sendable, Equatable {
    case clerk, cardholder
}

public enum ServiceRules {
    public static let noteLengthMax = 1000

    /// The request's next status, or why not:
    ///  - accept (clerk): submitted → accepted
    ///  - start (clerk): accepted → in_progress
    ///  - ask_info (clerk): submitted | accepted | in_progress → needs_info (the caller stores where
    ///    it was asked from)
    ///  - answer (cardholder): needs_info → `resume` (the status it was asked from: submitted,
    ///    accepted or in_progress)
    ///  - complete (clerk): in_progress → completed
    ///  - reject (clerk): submitted | accepted | in_progress | needs_info → rejected
    ///
    /// The actor is checked first: the wrong one is `DomainError.forbidden("service.action_not_allowed")`
    /// whatever the status. A transition not in the list (an answer without a status to resume
    /// among them) is `DomainError.conflict("service.invalid_transition", "cannot <action> a
    /// request that is <status>")`. `resume` is ignored by the other actions.
    public static func transition(from status: RequestStatus, action: RequestAction, by actor: RequestActor,
                                  resume: RequestStatus? = nil) throws -> RequestStatus {
        guard actor == action.actor else {
            let who = action.actor == .clerk ? "the department's clerk" : "the cardholder"
            throw DomainError.forbidden("service.action_not_allowed", "only \(who) may \(action.rawValue) a request")
        }
        let refused = DomainError.conflict("service.invalid_transition", "cannot \(action.rawValue) a request that is \(status.rawValue)")
        switch (action, status) {
        case (.accept, .submitted):
            return .accepted
        case (.start, .accepted):
            return .inProgress
        case (.askInfo, .submitted), (.askInfo, .accepted), (.askInfo, .inProgress):
            return .needsInfo
        case (.answer, .needsInfo):
            guard let resume, [.submitted, .accepted, .inProgress].contains(resume) else {
                throw DomainError.conflict("service.invalid_transition",
                                           "cannot answer a request that is needs_info without a status to resume (submitted, accepted or in_progress), got "
                                               + (resume?.rawValue ?? "none"))
            }
            return resume
        case (.complete, .inProgress):
            return .completed
        case (.reject, .submitted), (.reject, .accepted), (.reject, .inProgress), (.reject, .needsInfo):
            return .rejected
        default:
            throw refused
        }
    }

    /// A note or reason with an action: trimmed, 1-1000 characters, no control characters other
    /// than tab, CR, LF. ask_info (what is needed) and reject (why) require one
    /// (`DomainError.rule("service.note_required")`); for other actions a missing or blank note is nil.
    public static func validatedNote(_ note: String?, for action: RequestAction) throws -> String? {
        let trimmed = note?.trimmingWhitespace() ?? ""
        if trimmed.isEmpty {
            switch action {
            case .askInfo: throw DomainError.rule("service.note_required", "asking for information needs a note saying what is needed")
            case .reject: throw DomainError.rule("service.note_required", "rejecting a request needs a note giving the reason")
            case .accept, .start, .answer, .complete: return nil
            }
        }
        guard trimmed.scalarCount <= noteLengthMax else {
            throw DomainError.malformed("service.note_too_long", "the note must be at most \(noteLengthMax) characters, got \(trimmed.scalarCount)")
        }
        guard !trimmed.containsControlCharacters else {
            throw DomainError.malformed("service.note_invalid", "the note must not contain control characters")
        }
        return trimmed
    }

    /// Whether a request due on `due` (`WorkingCalendar.due` of its receipt and its service's time
    /// limit) is overdue on `today`: it is still open and today is after the due date.
    public static func isOverdue(status: RequestStatus, due: CivilDate, today: CivilDate) -> Bool {
        status.isOpen && today > due
    }

    /// Documents recorded as checked must be the service's; at the counter (`complete`) every one
    /// of them must be: the clerk has seen the originals before the request is opened.
    public static func checkDocuments(_ checked: [String], of service: ServiceDefinition, complete: Bool) throws {
        let known = Set(service.documents.map(\.code))
        if let unknown = checked.first(where: { !known.contains($0) }) {
            throw DomainError.rule("service.document_unknown", "documents_checked: \(unknown.prefix(40)) is not a document of \(service.code)")
        }
        guard complete else { return }
        let missing = service.documents.map(\.code).filter { !checked.contains($0) }
        guard missing.isEmpty else {
            throw DomainError.rule("service.documents_missing", "the originals of \(missing.joined(separator: ", ")) must be checked at the counter")
        }
    }

    // MARK: Pre-filled values

    /// The values of the schema's pre-filled fields from the verified `data`, in field order; a
    /// field whose source is missing from `data` is left out.
    public static func prefilledValues(_ schema: FormSchema, from data: [PrefillSource: JSONValue]) -> [(String, JSONValue)] {
        schema.fields.compactMap { field in
            guard let source = field.prefill, let value = data[source] else { return nil }
            return (field.name, value)
        }
    }

    /// The values to store for a request: the pre-filled values (from `prefilledValues`) and the
    /// other submitted values, in form field order, checked with the schema (members that are not
    /// fields are kept at the end so that the check reports them).
    ///
    /// A submitted value for a pre-filled field must equal the verified one: anything else — a
    /// different value, `null`, or a value where the platform holds none — is refused with
    /// `DomainError.rule("service.prefill_mismatch", "<field> comes from verified data and cannot be
    /// changed")` (every such field, joined by "; "). Then the form's own rules apply
    /// (`service.form_invalid`), so a required pre-filled field without verified data is missing.
    public static func merged(form: FormSchema, submitted: [(String, JSONValue)], prefill: [(String, JSONValue)]) throws -> [(String, JSONValue)] {
        var mismatched: [String] = []
        for field in form.fields where field.prefill != nil {
            let verified = prefill.first { $0.0 == field.name }?.1
            let differs = submitted.contains { name, value in name == field.name && value != verified }
            if differs { mismatched.append(field.name) }
        }
        guard mismatched.isEmpty else {
            throw DomainError.rule("service.prefill_mismatch",
                                   mismatched.map { "\($0) comes from verified data and cannot be changed" }.joined(separator: "; "))
        }
        var values: [(String, JSONValue)] = []
        for field in form.fields {
            if field.prefill != nil {
                if let verified = prefill.first(where: { $0.0 == field.name }) { values.append(verified) }
            } else {
                values.append(contentsOf: submitted.filter { $0.0 == field.name })
            }
        }
        values.append(contentsOf: submitted.filter { form.field(named: $0.0) == nil })
        try form.validate(values)
        return values
    }
}
