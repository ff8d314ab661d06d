public import JoinInCore
import SQLKit

// Designated libraries (issue 11): libraries, their items, loans, holds and the city's settings.

public struct LibraryRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let nameEn: String
    public let nameZh: String
    public let cityCode: String
    public let addressEn: String
    public let addressZh: String
    public let createdAtMs: Int64

    public var name: LocalizedName { LocalizedName(en: nameEn, zh: nameZh) }
    public var address: LocalizedName { LocalizedName(en: addressEn, zh: addressZh) }
}

public struct LibraryItemRecord: Sendable, Equatable, Decodable {
    public let cityCode: String
    public let barcode: String
    public let libraryId: String
    public let locationLibraryId: String
    public let title: String
    public let author: String
    public let isbn: String
    public let status: String
    public let createdAtMs: Int64
    public let updatedAtMs: Int64

    public var itemStatus: ItemStatus? { ItemStatus(rawValue: status) }
}

public struct LibraryLoanRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let personId: String
    public let cardNumber: String
    public let cityCode: String
    public let barcode: String
    public let libraryId: String
    public let terminalId: String
    public let checkedOutAtMs: Int64
    public let dueDate: String
    public let renewals: Int64
    public let returnedAtMs: Int64?
    public let returnedLibraryId: String?

    public init(id: String, personId: String, cardNumber: String, cityCode: String, barcode: String, libraryId: String, terminalId: String,
                checkedOutAtMs: Int64, dueDate: String, renewals: Int64, returnedAtMs: Int64?, returnedLibraryId: String?) {
        self.id = id
        self.personId = personId
        self.cardNumber = cardNumber
        self.cityCode = cityCode
        self.barcode = barcode
        self.libraryId = libraryId
        self.terminalId = terminalId
        self.checkedOutAtMs = checkedOutAtMs
        self.dueDate = dueDate
        self.renewals = renewals
        self.returnedAtMs = returnedAtMs
        self.returnedLibraryId = returnedLibraryId
    }
}

public struct LibraryHoldRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let personId: String
    public let cityCode: String
    public let barcode: String
    public let status: String
    public let placedAtMs: Int64
    public let readyAtMs: Int64?
    public let expiresOn: String?
    public let pickupLibraryId: String?
    public let closedAtMs: Int64?

    public var holdStatus: HoldStatus? { HoldStatus(rawValue: status) }
}

extension StoreTx {
    // MARK: libraries and settings

    public func insertLibrary(id: String, name: LocalizedName, cityCode: String, address: LocalizedName, atMs: Int64) async throws {
        try await sql.raw("""
            INSERT INTO libraries (id, name_en, name_zh, city_code, address_en, address_zh, created_at_ms)
            VALUES (\(bind: id), \(bind: name.en), \(bind: name.zh), \(bind: cityCode), \(bind: address.en), \(bind: address.zh), \(bind: atMs))
            """).run()
    }

    public func library(id: String) async throws -> LibraryRecord? {
        try await sql.raw("SELECT * FROM libraries WHERE id = \(bind: id)").firstRecord(LibraryRecord.self)
    }

    public func libraries(ids: Set<String>) async throws -> [String: LibraryRecord] {
        try await rows(of: "libraries", ids: ids, as: LibraryRecord.self, id: \.id)
    }

    public func libraries(cityCode: String?, afterID: String?, limit: Int) async throws -> [LibraryRecord] {
        var query = SQLQueryString("SELECT * FROM libraries WHERE id > \(bind: afterID ?? "")")
        if let cityCode { query = query + SQLQueryString(" AND city_code = \(bind: cityCode)") }
        query = query + SQLQueryString(" ORDER BY id LIMIT \(bind: max(0, limit))")
        return try await sql.raw(query).allRecords(LibraryRecord.self)
    }

    public func librarySettings(cityCode: String) async throws -> LibrarySettings {
        guard let row = try await sql.raw("SELECT * FROM library_settings WHERE city_code = \(bind: cityCode)").first() else {
            return .standard
        }
        return LibrarySettings(maxLoans: Int(try row.decode(column: "max_loans", as: Int64.self)),
                               loanDays: Int(try row.decode(column: "loan_days", as: Int64.self)),
                               renewalsMax: Int(try row.decode(column: "renewals_max", as: Int64.self)),
                               holdDays: Int(try row.decode(column: "hold_days", as: Int64.self)))
    }

    public func setLibrarySettings(cityCode: String, _ settings: LibrarySettings, atMs: Int64) async throws {
        try await sql.raw("""
            INSERT INTO library_settings (city_code, max_loans, loan_days, renewals_max, hold_days, updated_at_ms)
            VALUES (\(bind: cityCode), \(bind: Int64(settings.maxLoans)), \(bind: Int64(settings.loanDays)), \(bind: Int64(settings.renewalsMax)),
                \(bind: Int64(settings.holdDays)), \(bind: atMs))
            ON CONFLICT (city_code) DO UPDATE SET max_loans = excluded.max_loans, loan_days = excluded.loan_days,
                renewals_max = excluded.renewals_max, hold_days = excluded.hold_days, updated_at_ms = excluded.updated_at_ms
            """).run()
    }

    // MARK: items

    /// Items of a city with these barcodes.
    public func libraryItems(cityCode: String, barcodes: Set<String>) async throws -> [String: LibraryItemRecord] {
        var result: [String: LibraryItemRecord] = [:]
        for chunk in chunked(barcodes.sorted(), bindsPerItem: 1) {
            for row in try await sql.raw("""
                SELECT * FROM library_items WHERE city_code = \(bind: cityCode) AND barcode IN (\(binds: Array(chunk)))
                """).allRecords(LibraryItemRecord.self) {
                result[row.barcode] = row
            }
        }
        return result
    }

    public func libraryItem(cityCode: String, barcode: String) async throws -> LibraryItemRecord? {
        try await sql.raw("SELECT * FROM library_items WHERE city_code = \(bind: cityCode) AND barcode = \(bind: barcode)")
            .firstRecord(LibraryItemRecord.self)
    }

    /// Adds new items and updates the catalogue data of existing ones (an import run twice changes
    /// nothing the second time); returns (added, updated).
    public func upsertLibraryItems(libraryID: String, cityCode: String, items: [LibraryItemData], atMs: Int64) async throws -> (Int, Int) {
        let existing = try await libraryItems(cityCode: cityCode, barcodes: Set(items.map(\.barcode)))
        var added = 0, updated = 0
        for item in items {
            if let old = existing[item.barcode] {
                guard old.title != item.title || old.author != item.author || old.isbn != item.isbn else { continue }
                try await sql.raw("""
                    UPDATE library_items SET title = \(bind: item.title), author = \(bind: item.author), isbn = \(bind: item.isbn),
                        updated_at_ms = \(bind: atMs) WHERE city_code = \(bind: cityCode) AND barcode = \(bind: item.barcode)
                    """).run()
                updated += 1
            } else {
                added += 1
            }
        }
        let fresh = items.filter { existing[$0.barcode] == nil }
        for chunk in chunked(fresh, bindsPerItem: 10) {
            var query = SQLQueryString("""
                INSERT INTO library_items (city_code, barcode, library_id, location_library_id, title, author, isbn, status, created_at_ms,
                    updated_at_ms) VALUES
                """)
            for (index, item) in chunk.enumerated() {
                query = query + SQLQueryString(index == 0 ? " " : ", ") + SQLQueryString("""
                    (\(bind: cityCode), \(bind: item.barcode), \(bind: libraryID), \(bind: libraryID), \(bind: item.title), \(bind: item.author),
                     \(bind: item.isbn), \(bind: ItemStatus.available.rawValue), \(bind: atMs), \(bind: atMs))
                    """)
            }
            try await sql.raw(query).run()
        }
        return (added, updated)
    }

    /// Moves an item to a status and location if it is still in `expected`; false when it was not.
    public func setItemStatus(cityCode: String, barcode: String, from expected: ItemStatus, to status: ItemStatus, locationLibraryID: String?,
                              atMs: Int64) async throws -> Bool {
        var query = SQLQueryString("UPDATE library_items SET status = \(bind: status.rawValue), updated_at_ms = \(bind: atMs)")
        if let locationLibraryID { query = query + SQLQueryString(", location_library_id = \(bind: locationLibraryID)") }
        query = query + SQLQueryString("""
             WHERE city_code = \(bind: cityCode) AND barcode = \(bind: barcode) AND status = \(bind: expected.rawValue) RETURNING barcode
            """)
        return try await sql.raw(query).all().count == 1
    }

    // MARK: loans

    public func insertLoan(_ loan: LibraryLoanRecord) async throws {
        try await sql.raw("""
            INSERT INTO library_loans (id, person_id, card_number, city_code, barcode, library_id, terminal_id, checked_out_at_ms, due_date,
                renewals)
            VALUES (\(bind: loan.id), \(bind: loan.personId), \(bind: loan.cardNumber), \(bind: loan.cityCode), \(bind: loan.barcode),
                \(bind: loan.libraryId), \(bind: loan.terminalId), \(bind: loan.checkedOutAtMs), \(bind: loan.dueDate), \(bind: loan.renewals))
            """).run()
    }

    public func loan(id: String) async throws -> LibraryLoanRecord? {
        try await sql.raw("SELECT * FROM library_loans WHERE id = \(bind: id)").firstRecord(LibraryLoanRecord.self)
    }

    /// The item's loan that is still out.
    public func openLoan(cityCode: String, barcode: String) async throws -> LibraryLoanRecord? {
        try await sql.raw("""
            SELECT * FROM library_loans WHERE city_code = \(bind: cityCode) AND barcode = \(bind: barcode) AND returned_at_ms IS NULL
            """).firstRecord(LibraryLoanRecord.self)
    }

    /// A person's loans still out, in every city, soonest due first.
    public func openLoans(personID: String) async throws -> [LibraryLoanRecord] {
        try await sql.raw("""
            SELECT * FROM library_loans WHERE person_id = \(bind: personID) AND returned_at_ms IS NULL ORDER BY due_date, id LIMIT 500
            """).allRecords(LibraryLoanRecord.self)
    }

    /// A person's loans, newest first (returned ones included).
    public func loans(personID: String, before cursor: PageCursor?, limit: Int) async throws -> [LibraryLoanRecord] {
        let (time, id) = cursor.map { ($0.timeMs, $0.id) } ?? (Int64.max, "")
        return try await sql.raw("""
            SELECT * FROM library_loans WHERE person_id = \(bind: personID)
                AND checked_out_at_ms <= \(bind: time) AND (checked_out_at_ms < \(bind: time) OR id < \(bind: id))
            ORDER BY checked_out_at_ms DESC, id DESC LIMIT \(bind: max(0, limit))
            """).allRecords(LibraryLoanRecord.self)
    }

    /// Returns a loan; false when it was already returned (the conditional update is the guard).
    public func returnLoan(id: String, libraryID: String, atMs: Int64) async throws -> Bool {
        try await sql.raw("""
            UPDATE library_loans SET returned_at_ms = \(bind: atMs), returned_library_id = \(bind: libraryID)
            WHERE id = \(bind: id) AND returned_at_ms IS NULL RETURNING id
            """).all().count == 1
    }

    /// Renews a loan that still has `renewals` renewals recorded; false when another renewal won.
    public func renewLoan(id: String, renewals: Int64, dueDate: String) async throws -> Bool {
        try await sql.raw("""
            UPDATE library_loans SET renewals = renewals + 1, due_date = \(bind: dueDate)
            WHERE id = \(bind: id) AND renewals = \(bind: renewals) AND returned_at_ms IS NULL RETURNING id
            """).all().count == 1
    }

    // MARK: holds

    public func insertLibraryHold(id: String, personID: String, cityCode: String, barcode: String, atMs: Int64) async throws {
        try await sql.raw("""
            INSERT INTO library_holds (id, person_id, city_code, barcode, status, placed_at_ms)
            VALUES (\(bind: id), \(bind: personID), \(bind: cityCode), \(bind: barcode), \(bind: HoldStatus.waiting.rawValue), \(bind: atMs))
            """).run()
    }

    public func libraryHold(id: String) async throws -> LibraryHoldRecord? {
        try await sql.raw("SELECT * FROM library_holds WHERE id = \(bind: id)").firstRecord(LibraryHoldRecord.self)
    }

    /// The item's holds still waiting or ready, first placed first.
    public func activeLibraryHolds(cityCode: String, barcode: String) async throws -> [LibraryHoldRecord] {
        try await sql.raw("""
            SELECT * FROM library_holds WHERE city_code = \(bind: cityCode) AND barcode = \(bind: barcode) AND status IN ('waiting', 'ready')
            ORDER BY placed_at_ms, id
            """).allRecords(LibraryHoldRecord.self)
    }

    /// A person's holds, newest first.
    public func libraryHolds(personID: String, limit: Int) async throws -> [LibraryHoldRecord] {
        try await sql.raw("""
            SELECT * FROM library_holds WHERE person_id = \(bind: personID) ORDER BY placed_at_ms DESC, id DESC LIMIT \(bind: max(0, limit))
            """).allRecords(LibraryHoldRecord.self)
    }

    /// Ready holds whose last day to collect is before `today` (YYYY-MM-DD), oldest first.
    public func expiredReadyLibraryHolds(today: String, limit: Int) async throws -> [LibraryHoldRecord] {
        try await sql.raw("""
            SELECT * FROM library_holds WHERE status = 'ready' AND expires_on < \(bind: today) ORDER BY expires_on, id LIMIT \(bind: max(0, limit))
            """).allRecords(LibraryHoldRecord.self)
    }

    public func markLibraryHoldReady(id: String, pickupLibraryID: String, expiresOn: String, atMs: Int64) async throws -> Bool {
        try await sql.raw("""
            UPDATE library_holds SET status = 'ready', ready_at_ms = \(bind: atMs), expires_on = \(bind: expiresOn),
                pickup_library_id = \(bind: pickupLibraryID)
            WHERE id = \(bind: id) AND status = 'waiting' RETURNING id
            """).all().count == 1
    }

    /// Closes a waiting or ready hold as fulfilled, cancelled or expired; false when it was closed already.
    public func closeLibraryHold(id: String, as status: HoldStatus, atMs: Int64) async throws -> Bool {
        try await sql.raw("""
            UPDATE library_holds SET status = \(bind: status.rawValue), closed_at_ms = \(bind: atMs)
            WHERE id = \(bind: id) AND status IN ('waiting', 'ready') RETURNING id
            """).all().count == 1
    }
}
