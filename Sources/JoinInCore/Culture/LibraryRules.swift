/// Free borrowing at designated libraries (issue 11): the city's circulation settings and the
/// decisions of checkout, renewal, return and holds, as pure functions of what the store read.

/// Circulation settings per city; the defaults apply until an admin sets the city's own.
public struct LibrarySettings: Sendable, Equatable, Codable {
    /// Items on loan at once, across all designated libraries.
    public var maxLoans: Int
    /// Loan period in days.
    public var loanDays: Int
    /// Renewals per loan.
    public var renewalsMax: Int
    /// Days a returned item waits on the hold shelf for the patron who placed the hold.
    public var holdDays: Int

    public init(maxLoans: Int = 10, loanDays: Int = 30, renewalsMax: Int = 2, holdDays: Int = 7) {
        self.maxLoans = maxLoans
        self.loanDays = loanDays
        self.renewalsMax = renewalsMax
        self.holdDays = holdDays
    }

    public static let standard = LibrarySettings()

    public static let maxLoansRange = 1...100
    public static let loanDaysRange = 1...365
    public static let renewalsRange = 0...20
    public static let holdDaysRange = 1...60

    public static func validated(maxLoans: Int, loanDays: Int, renewalsMax: Int, holdDays: Int) throws -> LibrarySettings {
        func check(_ value: Int, _ range: ClosedRange<Int>, _ field: String) throws {
            guard range.contains(value) else {
                throw DomainError.malformed("library.settings_invalid", "\(field) must be \(range.lowerBound)-\(range.upperBound), got \(value)")
            }
        }
        try check(maxLoans, maxLoansRange, "max_loans")
        try check(loanDays, loanDaysRange, "loan_days")
        try check(renewalsMax, renewalsRange, "renewals_max")
        try check(holdDays, holdDaysRange, "hold_days")
        return LibrarySettings(maxLoans: maxLoans, loanDays: loanDays, renewalsMax: renewalsMax, holdDays: holdDays)
    }
}

/// Where an item is.
public enum ItemStatus: String, Sendable, CaseIterable, Codable {
    case available
    case onLoan = "on_loan"
    /// Returned and waiting on the hold shelf for one patron.
    case onHoldShelf = "on_hold_shelf"
}

public enum HoldStatus: String, Sendable, CaseIterable, Codable {
    /// In the queue for an item still on loan.
    case waiting
    /// The item is on the hold shelf for this patron until `expires_on`.
    case ready
    /// The patron borrowed it.
    case fulfilled
    case cancelled
    /// Not collected in time.
    case expired
}

/// What the store knows about a patron when a circulation decision is made.
public struct PatronStanding: Sendable, Equatable {
    public let permitValid: Bool
    public let cardActive: Bool
    public let openLoans: Int
    public let overdueLoans: Int

    public init(permitValid: Bool, cardActive: Bool, openLoans: Int, overdueLoans: Int) {
        self.permitValid = permitValid
        self.cardActive = cardActive
        self.openLoans = openLoans
        self.overdueLoans = overdueLoans
    }
}

public enum LibraryRules {
    /// Why this patron may not borrow now, or nil. Order: card, permit, overdue items, the limit.
    public static func borrowingBlock(_ patron: PatronStanding, settings: LibrarySettings) -> DomainError? {
        if !patron.cardActive {
            return DomainError.rule("card.not_active", "the card is not active: no loans")
        }
        if !patron.permitValid {
            return DomainError.rule("library.permit_not_valid", "free borrowing needs a valid work permit; items on loan can still be returned")
        }
        if patron.overdueLoans > 0 {
            return DomainError.rule("library.overdue_block", "\(patron.overdueLoans) item(s) overdue: return them before borrowing more")
        }
        if patron.openLoans >= settings.maxLoans {
            return DomainError.rule("library.limit_reached", "\(patron.openLoans) items on loan, the most allowed is \(settings.maxLoans)")
        }
        return nil
    }

    /// Checkout of an item: the patron must be allowed to borrow and the item be on the shelf, or
    /// on the hold shelf for this very patron.
    public static func checkCheckout(_ patron: PatronStanding, settings: LibrarySettings, item: ItemStatus, heldForThisPatron: Bool,
                                     heldForSomeoneElse: Bool) throws {
        switch item {
        case .onLoan:
            throw DomainError.conflict("library.item_on_loan", "the item is on loan to someone else")
        case .onHoldShelf where !heldForThisPatron:
            throw DomainError.rule("library.item_on_hold", "the item is on the hold shelf for another patron")
        case .available where heldForSomeoneElse:
            throw DomainError.rule("library.item_on_hold", "the item is reserved for another patron")
        case .available, .onHoldShelf:
            break
        }
        if let block = borrowingBlock(patron, settings: settings) { throw block }
    }

    /// The due date of a loan made (or renewed) today.
    public static func dueDate(from today: CivilDate, settings: LibrarySettings) -> CivilDate {
        today.adding(days: settings.loanDays)
    }

    /// A loan is overdue from the day after its due date.
    public static func isOverdue(due: CivilDate, today: CivilDate) -> Bool {
        due < today
    }

    /// Renewal: refused while the permit is not valid, when the renewals are used up, or when
    /// someone else is waiting for the item. The new due date runs from today.
    public static func renew(renewals: Int, permitValid: Bool, cardActive: Bool, othersWaiting: Bool, settings: LibrarySettings,
                             today: CivilDate) throws -> CivilDate {
        if !cardActive { throw DomainError.rule("card.not_active", "the card is not active: no renewals") }
        if !permitValid {
            throw DomainError.rule("library.permit_not_valid", "renewals need a valid work permit; the item can still be returned")
        }
        if othersWaiting { throw DomainError.rule("library.renewal_on_hold", "another patron is waiting for this item: return it by its due date") }
        guard renewals < settings.renewalsMax else {
            throw DomainError.rule("library.renewals_exhausted", "this loan was renewed \(renewals) time(s), the most allowed is \(settings.renewalsMax)")
        }
        return dueDate(from: today, settings: settings)
    }

    /// A hold: only on an item on loan to someone else (an item on the shelf is simply borrowed),
    /// by a patron allowed to borrow, once per patron and item.
    public static func checkHold(_ patron: PatronStanding, item: ItemStatus, onLoanToThisPatron: Bool, alreadyHolding: Bool) throws {
        if !patron.cardActive { throw DomainError.rule("card.not_active", "the card is not active: no holds") }
        if !patron.permitValid { throw DomainError.rule("library.permit_not_valid", "holds need a valid work permit") }
        if alreadyHolding { throw DomainError.conflict("library.hold_exists", "you already have a hold on this item") }
        if onLoanToThisPatron { throw DomainError.rule("library.hold_own_loan", "the item is on loan to you") }
        guard item != .available else {
            throw DomainError.rule("library.item_available", "the item is on the shelf: borrow it instead of placing a hold")
        }
    }

    /// The last day a ready hold waits on the shelf.
    public static func holdExpiry(readyOn today: CivilDate, settings: LibrarySettings) -> CivilDate {
        today.adding(days: settings.holdDays)
    }
}

/// One item of a library's holdings, as imported.
public struct LibraryItemData: Sendable, Equatable {
    public let line: Int
    public let barcode: String
    public let title: String
    public let author: String
    public let isbn: String

    public init(line: Int, barcode: String, title: String, author: String, isbn: String) {
        self.line = line
        self.barcode = barcode
        self.title = title
        self.author = author
        self.isbn = isbn
    }
}

public enum LibraryItemsCSV {
    public static let itemsMax = 500_000

    /// ISBN-10 or ISBN-13 with a correct check digit (hyphens and spaces ignored), or empty.
    public static func normalizedISBN(_ text: String) -> String? {
        let compact = String(text.filter { $0 != "-" && $0 != " " }).uppercased()
        if compact.isEmpty { return "" }
        let digits = compact.compactMap { $0.wholeNumberValue }
        if compact.count == 13, digits.count == 13 {
            let sum = digits.enumerated().reduce(0) { $0 + $1.element * ($1.offset % 2 == 0 ? 1 : 3) }
            return sum % 10 == 0 ? compact : nil
        }
        if compact.count == 10, compact.dropLast().allSatisfy(\.isASCIIDigit), let last = compact.last, last.isASCIIDigit || last == "X" {
            let values = compact.dropLast().compactMap { $0.wholeNumberValue } + [last == "X" ? 10 : last.wholeNumberValue ?? 0]
            let sum = values.enumerated().reduce(0) { $0 + $1.element * (10 - $1.offset) }
            return sum % 11 == 0 ? compact : nil
        }
        return nil
    }

    /// Reads `barcode,title,author,isbn` (RFC 4180, header required; author and isbn may be
    /// empty) and validates it whole: errors name the line and field, a barcode listed twice is refused.
    public static func parse(_ bytes: [UInt8], file: String = "items.csv") throws -> [LibraryItemData] {
        let csv: GTFSCSV
        do { csv = try GTFSCSV(bytes, file: file) } catch let error as DomainError {
            throw DomainError.malformed("library.items_invalid", error.detail)
        }
        for column in ["barcode", "title"] where !csv.has(column) {
            throw DomainError.malformed("library.items_invalid", "\(file): the header must name the column \(column)")
        }
        guard !csv.rows.isEmpty else { throw DomainError.malformed("library.items_invalid", "\(file): no items") }
        guard csv.rows.count <= itemsMax else {
            throw DomainError.malformed("library.items_invalid", "\(file): \(csv.rows.count) items, more than the \(itemsMax) allowed")
        }
        func fail(_ line: Int, _ field: String, _ message: String) -> DomainError {
            DomainError.malformed("library.items_invalid", "\(file) line \(line), field \(field): \(message)")
        }
        var seen: [String: Int] = [:]
        return try csv.rows.map { row in
            let barcode = csv.value(row, "barcode")
            guard MedicalCatalogue.isValidCode(barcode) else { throw fail(row.line, "barcode", "must be 1-64 of A-Z, a-z, 0-9, '.', '-', '_'") }
            if let first = seen[barcode] { throw fail(row.line, "barcode", "\(barcode) is already listed on line \(first)") }
            seen[barcode] = row.line
            let title = csv.value(row, "title")
            guard (1...500).contains(title.scalarCount), !title.containsControlCharacters else { throw fail(row.line, "title", "must be 1-500 characters") }
            let author = csv.optional(row, "author") ?? ""
            guard author.scalarCount <= 300, !author.containsControlCharacters else { throw fail(row.line, "author", "must be at most 300 characters") }
            guard let isbn = normalizedISBN(csv.optional(row, "isbn") ?? "") else {
                throw fail(row.line, "isbn", "must be an ISBN-10 or ISBN-13 with its check digit, or empty")
            }
            return LibraryItemData(line: row.line, barcode: barcode, title: title, author: author, isbn: isbn)
        }
    }
}
