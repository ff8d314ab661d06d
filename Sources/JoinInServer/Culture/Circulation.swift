import JoinInCore
import JoinInStore

/// Library circulation, shared by the HTTP API and the SIP2 server so both apply the same rules to
/// the same records: patron check, checkout, checkin, renewal. Every operation is idempotent the
/// way a self-check kiosk retries: checking out an item the patron already has answers the loan
/// again, returning an item that is not on loan changes nothing.
struct Circulation: Sendable {
    let store: Store
    let clock: AppClock
    let pins: PINCheck

    /// The patron, as a kiosk sees them.
    struct Patron: Sendable {
        let card: CardRecord
        let person: PersonRecord
        let standing: PatronStanding
        let settings: LibrarySettings
        let loans: [LibraryLoanRecord]
        let overdue: [LibraryLoanRecord]
        let readyHolds: [LibraryHoldRecord]
        /// Why the patron may not borrow now (nil: may borrow).
        let block: DomainError?
        var loansLeft: Int { max(0, settings.maxLoans - loans.count) }
    }

    struct Checkout: Sendable {
        let loan: LibraryLoanRecord
        let item: LibraryItemRecord
        /// False when the patron already had the item (a retried checkout).
        let created: Bool
    }

    struct Checkin: Sendable {
        let item: LibraryItemRecord
        /// The loan this return closed; nil when the item was not on loan.
        let loan: LibraryLoanRecord?
        /// The hold the item now waits for on this library's hold shelf.
        let readyHold: LibraryHoldRecord?
    }

    /// The library a circulation terminal is bound to.
    func library(of terminal: TerminalPrincipal) async throws -> LibraryRecord {
        guard let id = terminal.bindingID, let library = try await store.read({ tx in try await tx.library(id: id) }) else {
            throw DomainError.forbidden("auth.forbidden", "this terminal is not bound to a library")
        }
        return library
    }

    /// Checks the patron's PIN when one was given (a self-check kiosk asks for it), counted like
    /// every PIN; a card alone identifies the patron at a staffed desk.
    func checkPIN(_ pin: String?, cardNumber: String, actor: String, time: AppClock.Reading) async throws {
        guard let pin else { return }
        let card = try await store.read { tx in try await tx.existingCard(cardNumber) }
        try await pins.check(pin, card: card, actor: actor, action: "library.patron", at: time)
    }

    static func standing(_ tx: StoreTx, card: CardRecord, cityCode: String, today: CivilDate) async throws -> Patron {
        guard let person = try await tx.person(id: card.personId) else { throw StoreError.corrupt("card \(card.cardNumber) has no person") }
        let permitValid = try await tx.latestPermit(number: person.permitNumber)?.status(today: today) == .valid
        let settings = try await tx.librarySettings(cityCode: cityCode)
        let loans = try await tx.openLoans(personID: card.personId)
        let overdue = loans.filter { CivilDate($0.dueDate).map { LibraryRules.isOverdue(due: $0, today: today) } ?? false }
        let holds = try await tx.libraryHolds(personID: card.personId, limit: 100).filter { $0.holdStatus == .ready }
        let standing = PatronStanding(permitValid: permitValid, cardActive: card.cardStatus == .active, openLoans: loans.count,
                                      overdueLoans: overdue.count)
        return Patron(card: card, person: person, standing: standing, settings: settings, loans: loans, overdue: overdue, readyHolds: holds,
                      block: LibraryRules.borrowingBlock(standing, settings: settings))
    }

    func patron(cardNumber: String, library: LibraryRecord) async throws -> Patron {
        let today = clock.today
        return try await store.read { tx in
            try await Self.standing(tx, card: try await tx.existingCard(cardNumber), cityCode: library.cityCode, today: today)
        }
    }

    static func item(_ tx: StoreTx, cityCode: String, barcode: String) async throws -> LibraryItemRecord {
        guard let item = try await tx.libraryItem(cityCode: cityCode, barcode: barcode) else {
            throw DomainError.notFound("library.item_not_found", "no item \(barcode.prefix(64)) in the libraries of city \(cityCode)")
        }
        return item
    }

    /// A ready hold not collected by its last day expires; the item passes to the next patron
    /// waiting, or back to the shelf. Returns the hold the item now waits for, if any.
    static func settleHoldShelf(_ tx: StoreTx, item: LibraryItemRecord, settings: LibrarySettings, today: CivilDate,
                                nowMs: Int64) async throws -> LibraryHoldRecord? {
        var holds = try await tx.activeLibraryHolds(cityCode: item.cityCode, barcode: item.barcode)
        if let ready = holds.first(where: { $0.holdStatus == .ready }) {
            guard let last = ready.expiresOn.flatMap(CivilDate.init), last < today else { return ready }
            _ = try await tx.closeLibraryHold(id: ready.id, as: .expired, atMs: nowMs)
            holds.removeAll { $0.id == ready.id }
        }
        guard item.itemStatus != .onLoan else { return nil }
        return try await passOn(tx, item: item, waiting: holds, libraryID: item.locationLibraryId, settings: settings, today: today, nowMs: nowMs)
    }

    /// Puts an item that is back in a library on the hold shelf for the first patron waiting, or
    /// on the open shelf.
    static func passOn(_ tx: StoreTx, item: LibraryItemRecord, waiting: [LibraryHoldRecord], libraryID: String, settings: LibrarySettings,
                       today: CivilDate, nowMs: Int64) async throws -> LibraryHoldRecord? {
        let current = item.itemStatus ?? .available
        if let next = waiting.first(where: { $0.holdStatus == .waiting }) {
            let expires = LibraryRules.holdExpiry(readyOn: today, settings: settings).description
            guard try await tx.markLibraryHoldReady(id: next.id, pickupLibraryID: libraryID, expiresOn: expires, atMs: nowMs) else {
                throw StoreError.corrupt("hold \(next.id) changed under a held lock")
            }
            _ = try await tx.setItemStatus(cityCode: item.cityCode, barcode: item.barcode, from: current, to: .onHoldShelf,
                                           locationLibraryID: libraryID, atMs: nowMs)
            let library = try await tx.library(id: libraryID)
            try await Inbox.post(tx, personID: next.personId, kind: .libraryHoldReady, plain: ["title": item.title, "until": expires],
                                 localized: ["library": LocalizedName(en: library?.nameEn ?? libraryID, zh: library?.nameZh ?? libraryID)],
                                 link: (type: "library_hold", id: next.id), nowMs: nowMs)
            return try await tx.libraryHold(id: next.id)
        }
        _ = try await tx.setItemStatus(cityCode: item.cityCode, barcode: item.barcode, from: current, to: .available,
                                       locationLibraryID: libraryID, atMs: nowMs)
        return nil
    }

    /// Clears an expired hold from the shelf in its own transaction, so the change stands even
    /// when the checkout that noticed it is refused.
    static func expireHoldShelf(_ store: Store, cityCode: String, barcode: String, time: AppClock.Reading) async throws {
        try await store.write { tx in
            guard let item = try await tx.libraryItem(cityCode: cityCode, barcode: barcode), item.itemStatus == .onHoldShelf else { return }
            let settings = try await tx.librarySettings(cityCode: cityCode)
            _ = try await settleHoldShelf(tx, item: item, settings: settings, today: time.today, nowMs: time.ms)
        }
    }

    /// The sweeper's part: every ready hold past its last day passes its item on. Returns how many.
    static func sweepExpiredHolds(store: Store, nowMs: Int64) async throws -> Int {
        let time = AppClock.Reading(ms: nowMs, today: CivilDate.shanghai(unixSeconds: nowMs / 1000))
        let expired = try await store.read { tx in try await tx.expiredReadyLibraryHolds(today: time.today.description, limit: 200) }
        for hold in expired { try await expireHoldShelf(store, cityCode: hold.cityCode, barcode: hold.barcode, time: time) }
        return expired.count
    }

    func checkout(cardNumber: String, barcode: String, library: LibraryRecord, terminalID: String, actor: String) async throws -> Checkout {
        let time = clock.read()
        let loanID = newID()
        try await Self.expireHoldShelf(store, cityCode: library.cityCode, barcode: barcode, time: time)
        return try await store.write { tx in
            let card = try await tx.existingCard(cardNumber)
            let patron = try await Self.standing(tx, card: card, cityCode: library.cityCode, today: time.today)
            var item = try await Self.item(tx, cityCode: library.cityCode, barcode: barcode)
            if let open = try await tx.openLoan(cityCode: item.cityCode, barcode: item.barcode) {
                if open.personId == card.personId { return Checkout(loan: open, item: item, created: false) }
                throw DomainError.conflict("library.item_on_loan", "the item is on loan to someone else")
            }
            let ready = try await Self.settleHoldShelf(tx, item: item, settings: patron.settings, today: time.today, nowMs: time.ms)
            item = try await Self.item(tx, cityCode: library.cityCode, barcode: barcode)
            let status = item.itemStatus ?? .available
            try LibraryRules.checkCheckout(patron.standing, settings: patron.settings, item: status,
                                           heldForThisPatron: ready?.personId == card.personId,
                                           heldForSomeoneElse: ready != nil && ready?.personId != card.personId)
            guard try await tx.setItemStatus(cityCode: item.cityCode, barcode: item.barcode, from: status, to: .onLoan,
                                             locationLibraryID: library.id, atMs: time.ms) else {
                throw DomainError.conflict("library.item_on_loan", "the item was just checked out at another terminal")
            }
            if let ready, ready.personId == card.personId { _ = try await tx.closeLibraryHold(id: ready.id, as: .fulfilled, atMs: time.ms) }
            let loan = LibraryLoanRecord(id: loanID, personId: card.personId, cardNumber: card.cardNumber, cityCode: item.cityCode,
                                         barcode: item.barcode, libraryId: library.id, terminalId: terminalID, checkedOutAtMs: time.ms,
                                         dueDate: LibraryRules.dueDate(from: time.today, settings: patron.settings).description, renewals: 0,
                                         returnedAtMs: nil, returnedLibraryId: nil)
            try await tx.insertLoan(loan)
            try await tx.appendAudit(actor: actor, action: "library.checkout", objectType: "library_item", objectID: "\(item.cityCode)/\(item.barcode)",
                                     detail: "loan=\(loanID) library=\(library.id) due=\(loan.dueDate)", atMs: time.ms)
            return Checkout(loan: loan, item: try await Self.item(tx, cityCode: library.cityCode, barcode: barcode), created: true)
        }
    }

    /// A return at any designated library of the item's city; never refused for the patron's
    /// permit or card (loans already out stay returnable).
    func checkin(barcode: String, library: LibraryRecord, actor: String) async throws -> Checkin {
        let time = clock.read()
        return try await store.write { tx in
            let item = try await Self.item(tx, cityCode: library.cityCode, barcode: barcode)
            guard let loan = try await tx.openLoan(cityCode: item.cityCode, barcode: item.barcode) else {
                return Checkin(item: item, loan: nil, readyHold: nil)
            }
            guard try await tx.returnLoan(id: loan.id, libraryID: library.id, atMs: time.ms) else {
                throw DomainError.conflict("library.already_returned", "the item was just returned at another terminal")
            }
            let settings = try await tx.librarySettings(cityCode: item.cityCode)
            let holds = try await tx.activeLibraryHolds(cityCode: item.cityCode, barcode: item.barcode)
            let ready = try await Self.passOn(tx, item: item, waiting: holds, libraryID: library.id, settings: settings, today: time.today,
                                              nowMs: time.ms)
            let overdue = CivilDate(loan.dueDate).map { LibraryRules.isOverdue(due: $0, today: time.today) } ?? false
            try await tx.appendAudit(actor: actor, action: "library.checkin", objectType: "library_item", objectID: "\(item.cityCode)/\(item.barcode)",
                                     detail: "loan=\(loan.id) library=\(library.id)\(overdue ? " overdue" : "")\(ready.map { " hold=\($0.id)" } ?? "")",
                                     atMs: time.ms)
            guard let returned = try await tx.loan(id: loan.id) else { throw StoreError.corrupt("loan \(loan.id) vanished") }
            return Checkin(item: try await Self.item(tx, cityCode: library.cityCode, barcode: barcode), loan: returned, readyHold: ready)
        }
    }

    /// Renews the patron's loan of an item, in the caller's transaction (so HTTP can guard it with
    /// an Idempotency-Key).
    static func renew(_ tx: StoreTx, personID: String, cityCode: String, barcode: String, actor: String,
                      time: AppClock.Reading) async throws -> (LibraryLoanRecord, LibraryItemRecord) {
        let item = try await item(tx, cityCode: cityCode, barcode: barcode)
        guard let loan = try await tx.openLoan(cityCode: cityCode, barcode: barcode), loan.personId == personID else {
            throw DomainError.notFound("library.loan_not_found", "you have no loan of item \(barcode.prefix(64))")
        }
        guard let card = try await tx.card(number: loan.cardNumber) else { throw StoreError.corrupt("loan \(loan.id) names no card") }
        // The holder's current card counts (a replaced card's loans move with the person).
        let live = try await tx.liveCard(personID: personID) ?? card
        let patron = try await standing(tx, card: live, cityCode: cityCode, today: time.today)
        let othersWaiting = try await tx.activeLibraryHolds(cityCode: cityCode, barcode: barcode).contains { $0.personId != personID }
        let due = try LibraryRules.renew(renewals: Int(loan.renewals), permitValid: patron.standing.permitValid,
                                         cardActive: patron.standing.cardActive, othersWaiting: othersWaiting, settings: patron.settings,
                                         today: time.today)
        guard try await tx.renewLoan(id: loan.id, renewals: loan.renewals, dueDate: due.description) else {
            throw DomainError.conflict("library.renewal_conflict", "the loan was just renewed or returned; look again")
        }
        try await tx.appendAudit(actor: actor, action: "library.renew", objectType: "library_item", objectID: "\(cityCode)/\(barcode)",
                                 detail: "loan=\(loan.id) due=\(due)", atMs: time.ms)
        guard let renewed = try await tx.loan(id: loan.id) else { throw StoreError.corrupt("loan \(loan.id) vanished") }
        return (renewed, item)
    }

    func renew(personID: String, cityCode: String, barcode: String, actor: String) async throws -> (LibraryLoanRecord, LibraryItemRecord) {
        let time = clock.read()
        return try await store.write { tx in try await Self.renew(tx, personID: personID, cityCode: cityCode, barcode: barcode, actor: actor, time: time) }
    }
}
