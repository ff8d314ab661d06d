import Foundation
import HTTPTypes
import Hummingbird
import JoinInAPI
import JoinInCore
import JoinInStore

/// Designated libraries (issue 11): libraries and the city's circulation settings (admin), HTTP
/// circulation for `libraryKiosk` / `libraryDesk` terminals, and the cardholder's loans and holds.
/// SIP2 kiosks reach the same `Circulation` through `SIP2Server`.
struct LibraryController: Sendable {
    let store: Store
    let config: ServerConfig
    let clock: AppClock
    let circulation: Circulation

    static let terminals = Access.terminal(.libraryKiosk, .libraryDesk)

    func register(_ r: inout RouteRegistrar) {
        r.on(.post, "/v1/libraries", .staff(.admin)) { request, context in try await createLibrary(request, context) }
        r.on(.get, "/v1/libraries", .anyone) { request, _ in
            let list = try ListParameters(request)
            let city = request.uri.queryParameters["city_code"].map(String.init)
            if let city, city.count != 6 || !city.allSatisfy(\.isASCIIDigit) {
                throw DomainError.malformed("city.code_invalid", "city_code must be a 6-digit GB/T 2260 code")
            }
            if let cursor = list.cursor, cursor.utf8.count > 64 {
                throw DomainError.malformed("list.cursor_invalid", "cursor must be the id of the last library of the previous page")
            }
            let rows = try await store.read { tx in try await tx.libraries(cityCode: city, afterID: list.cursor, limit: list.limit + 1) }
            let (page, next) = list.page(rows) { $0.id }
            return try JSON.response(Schemas.LibraryPage(items: page.map(Self.libraryView), nextCursor: next))
        }
        r.on(.put, "/v1/library-settings/{city_code}", Access.staff(.admin).objects(.open(because: "admins manage every city's settings"))) {
            request, context in
            let admin = try context.staff()
            let city = try HealthController.cityCode(context)
            let (body, _) = try await JSON.decode(Schemas.LibrarySettings.self, from: request, limit: 16 * 1024)
            let settings = try LibrarySettings.validated(maxLoans: body.maxLoans, loanDays: body.loanDays, renewalsMax: body.renewalsMax,
                                                         holdDays: body.holdDays)
            let now = clock.nowMs()
            try await store.write { tx in
                try await tx.requireCity(city)
                try await tx.setLibrarySettings(cityCode: city, settings, atMs: now)
                try await tx.appendAudit(actor: admin.auditName, action: "library.settings", objectType: "city", objectID: city,
                                         detail: "max_loans=\(settings.maxLoans) loan_days=\(settings.loanDays) renewals=\(settings.renewalsMax) hold_days=\(settings.holdDays)",
                                         atMs: now)
            }
            return try JSON.response(Self.settingsView(settings))
        }
        r.on(.get, "/v1/library-settings/{city_code}", Access.anyone.objects(.open(because: "circulation rules are public"))) { _, context in
            let city = try HealthController.cityCode(context)
            return try JSON.response(Self.settingsView(try await store.read { tx in try await tx.librarySettings(cityCode: city) }))
        }

        r.on(.post, "/v1/library/patron-checks", Self.terminals) { request, context in
            let terminal = try context.terminal()
            let (body, bytes) = try await JSON.decode(Schemas.PatronCheckRequest.self, from: request, limit: 16 * 1024)
            try JSON.refuseNull(bytes, members: ["pin"])
            let number = try CardNumber(validating: body.cardNumber).value
            let library = try await circulation.library(of: terminal)
            try await circulation.checkPIN(body.pin, cardNumber: number, actor: terminal.auditName, time: clock.read())
            let patron = try await circulation.patron(cardNumber: number, library: library)
            return try JSON.response(try await patronView(patron), headers: [.cacheControl: "no-store"])
        }
        r.on(.post, "/v1/library/checkouts", Self.terminals) { request, context in
            let terminal = try context.terminal()
            let (body, bytes) = try await JSON.decode(Schemas.CheckoutRequest.self, from: request, limit: 16 * 1024)
            try JSON.refuseNull(bytes, members: ["pin"])
            let number = try CardNumber(validating: body.cardNumber).value
            let barcode = try Self.barcode(body.itemBarcode)
            let library = try await circulation.library(of: terminal)
            try await circulation.checkPIN(body.pin, cardNumber: number, actor: terminal.auditName, time: clock.read())
            let done = try await circulation.checkout(cardNumber: number, barcode: barcode, library: library, terminalID: terminal.id,
                                                      actor: terminal.auditName)
            return try JSON.response(try await loanView(done.loan, item: done.item), status: done.created ? .created : .ok)
        }
        r.on(.post, "/v1/library/checkins", Self.terminals) { request, context in
            let terminal = try context.terminal()
            let (body, _) = try await JSON.decode(Schemas.CheckinRequest.self, from: request, limit: 16 * 1024)
            let barcode = try Self.barcode(body.itemBarcode)
            let library = try await circulation.library(of: terminal)
            let done = try await circulation.checkin(barcode: barcode, library: library, actor: terminal.auditName)
            let libraries = try await store.read { tx in try await tx.libraries(ids: [done.item.locationLibraryId]) }
            return try JSON.response(Schemas.CheckinResult(
                itemBarcode: done.item.barcode, title: done.item.title, returned: done.loan != nil,
                wasOverdue: done.loan.flatMap { loan in CivilDate(loan.dueDate).map { LibraryRules.isOverdue(due: $0, today: clock.today) } },
                holdShelf: done.readyHold != nil, holdExpiresOn: done.readyHold?.expiresOn,
                location: libraries[done.item.locationLibraryId].map { API.name($0.name) }))
        }
        r.on(.post, "/v1/library/renewals", Self.terminals) { request, context in
            let terminal = try context.terminal()
            let (body, bytes) = try await JSON.decode(Schemas.CheckoutRequest.self, from: request, limit: 16 * 1024)
            try JSON.refuseNull(bytes, members: ["pin"])
            let number = try CardNumber(validating: body.cardNumber).value
            let barcode = try Self.barcode(body.itemBarcode)
            let library = try await circulation.library(of: terminal)
            let time = clock.read()
            try await circulation.checkPIN(body.pin, cardNumber: number, actor: terminal.auditName, time: time)
            _ = try Idempotency.key(from: request, required: true)
            let card = try await store.read { tx in try await tx.existingCard(number) }
            return try await renewReply(request, bytes: bytes, principal: terminal.auditName, personID: card.personId, cityCode: library.cityCode,
                                        barcode: barcode)
        }

        r.on(.get, "/v1/ecard/library/loans", .cardholder) { request, context in
            let holder = try context.cardholder()
            let list = try ListParameters(request)
            let cursor = try list.cursor.map(PageCursor.parse)
            let (rows, next) = try await store.read { tx in
                let rows = try await tx.loans(personID: holder.personID, before: cursor, limit: list.limit + 1)
                return list.page(rows) { PageCursor(timeMs: $0.checkedOutAtMs, id: $0.id).encoded }
            }
            let items = try await loanViews(rows)
            return try JSON.response(Schemas.LoanPage(items: items, nextCursor: next), headers: [.cacheControl: "no-store"])
        }
        r.on(.post, "/v1/ecard/library/loans/{id}/renewal", Access.cardholder.objects(.owned(by: "a holder renews only their own loans"))) {
            request, context in
            let holder = try context.cardholder()
            let id = try context.parameters.require("id")
            guard let loan = try await store.read({ tx in try await tx.loan(id: id) }), loan.personId == holder.personID else {
                throw DomainError.notFound("library.loan_not_found", "no loan \(id.prefix(64))")
            }
            guard loan.returnedAtMs == nil else { throw DomainError.rule("library.loan_returned", "the item was already returned") }
            _ = try Idempotency.key(from: request, required: true)
            return try await renewReply(request, bytes: .init(), principal: holder.auditName, personID: holder.personID, cityCode: loan.cityCode,
                                        barcode: loan.barcode)
        }
        r.on(.get, "/v1/ecard/library/holds", .cardholder) { _, context in
            let holder = try context.cardholder()
            let holds = try await store.read { tx in try await tx.libraryHolds(personID: holder.personID, limit: 100) }
            var items: [Schemas.Hold] = []
            for hold in holds { items.append(try await holdView(hold)) }
            return try JSON.response(Schemas.HoldPage(items: items), headers: [.cacheControl: "no-store"])
        }
        r.on(.post, "/v1/ecard/library/holds", .cardholder) { request, context in try await placeHold(request, context) }
        r.on(.post, "/v1/ecard/library/holds/{id}/cancellation", Access.cardholder.objects(.owned(by: "a holder cancels only their own holds"))) {
            _, context in try await cancelHold(context, id: try context.parameters.require("id"))
        }
    }

    static func barcode(_ text: String) throws -> String {
        let barcode = text.trimmingWhitespace()
        guard MedicalCatalogue.isValidCode(barcode) else {
            throw DomainError.malformed("library.barcode_invalid", "item_barcode must be 1-64 of A-Z, a-z, 0-9, '.', '-', '_'")
        }
        return barcode
    }

    static func libraryView(_ library: LibraryRecord) -> Schemas.Library {
        Schemas.Library(id: library.id, name: API.name(library.name), cityCode: library.cityCode, address: API.name(library.address))
    }

    static func settingsView(_ settings: LibrarySettings) -> Schemas.LibrarySettings {
        Schemas.LibrarySettings(maxLoans: settings.maxLoans, loanDays: settings.loanDays, renewalsMax: settings.renewalsMax, holdDays: settings.holdDays)
    }

    func createLibrary(_ request: Request, _ context: AppContext) async throws -> Response {
        let admin = try context.staff()
        let (body, bytes) = try await JSON.decode(Schemas.NewLibraryRequest.self, from: request, limit: 16 * 1024)
        let name = try LocalizedName.validated(en: body.name.en, zh: body.name.zh, field: "name")
        let address = try LocalizedName.validated(en: body.address.en, zh: body.address.zh, field: "address")
        let id = newID()
        let now = clock.nowMs()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: admin.auditName, nowMs: now) { tx in
            try await tx.requireCity(body.cityCode)
            try await tx.insertLibrary(id: id, name: name, cityCode: body.cityCode, address: address, atMs: now)
            try await tx.appendAudit(actor: admin.auditName, action: "library.create", objectType: "library", objectID: id,
                                     detail: "city=\(body.cityCode)", atMs: now)
            guard let library = try await tx.library(id: id) else { throw StoreError.corrupt("library \(id) vanished") }
            return try .json(Self.libraryView(library))
        }
    }

    static func loanView(_ tx: StoreTx, _ loan: LibraryLoanRecord, item: LibraryItemRecord, today: CivilDate) async throws -> Schemas.Loan {
        let libraries = try await tx.libraries(ids: [loan.libraryId])
        let settings = try await tx.librarySettings(cityCode: loan.cityCode)
        let overdue = loan.returnedAtMs == nil && (CivilDate(loan.dueDate).map { LibraryRules.isOverdue(due: $0, today: today) } ?? false)
        return Schemas.Loan(id: loan.id, itemBarcode: loan.barcode, title: item.title, author: item.author,
                            library: libraries[loan.libraryId].map { API.name($0.name) } ?? API.name(LocalizedName(en: "", zh: "")),
                            cityCode: loan.cityCode, checkedOutAt: API.instant(ms: loan.checkedOutAtMs), dueDate: loan.dueDate,
                            renewals: Int(loan.renewals), renewalsLeft: max(0, settings.renewalsMax - Int(loan.renewals)), overdue: overdue,
                            returnedAt: loan.returnedAtMs.map(API.instant))
    }

    /// Views of several loans, read in one transaction.
    func loanViews(_ loans: [LibraryLoanRecord]) async throws -> [Schemas.Loan] {
        let today = clock.today
        return try await store.read { tx in
            var views: [Schemas.Loan] = []
            for loan in loans {
                views.append(try await Self.loanView(tx, loan, item: try await Circulation.item(tx, cityCode: loan.cityCode, barcode: loan.barcode),
                                                     today: today))
            }
            return views
        }
    }

    func loanView(_ loan: LibraryLoanRecord, item: LibraryItemRecord) async throws -> Schemas.Loan {
        let today = clock.today
        return try await store.read { tx in try await Self.loanView(tx, loan, item: item, today: today) }
    }

    func patronView(_ patron: Circulation.Patron) async throws -> Schemas.PatronStatus {
        let loans = try await loanViews(patron.loans)
        return Schemas.PatronStatus(
            name: patron.person.fullName, card: try CardNumber(validating: patron.card.cardNumber).masked, mayBorrow: patron.block == nil,
            block: patron.block.map { Schemas.PatronStatus.BlockPayload(code: $0.code, detail: $0.detail) },
            loansOut: patron.loans.count, loansLeft: patron.loansLeft, overdue: patron.overdue.count, holdsReady: patron.readyHolds.count,
            loans: loans)
    }

    func holdView(_ hold: LibraryHoldRecord) async throws -> Schemas.Hold {
        let (item, libraries) = try await store.read { tx in
            (try await Circulation.item(tx, cityCode: hold.cityCode, barcode: hold.barcode),
             try await tx.libraries(ids: Set([hold.pickupLibraryId].compactMap { $0 })))
        }
        return Schemas.Hold(id: hold.id, itemBarcode: hold.barcode, title: item.title, cityCode: hold.cityCode, status: try API.value(hold.status),
                            placedAt: API.instant(ms: hold.placedAtMs), pickupLibrary: hold.pickupLibraryId.flatMap { libraries[$0] }.map { API.name($0.name) },
                            expiresOn: hold.expiresOn)
    }

    /// A renewal is exactly-once: it runs under the request's Idempotency-Key.
    func renewReply(_ request: Request, bytes: ByteBuffer, principal: String, personID: String, cityCode: String,
                    barcode: String) async throws -> Response {
        let time = clock.read()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: principal, nowMs: time.ms,
                                           keyRequired: true) { tx in
            let (loan, item) = try await Circulation.renew(tx, personID: personID, cityCode: cityCode, barcode: barcode, actor: principal,
                                                           time: time)
            return try .json(try await Self.loanView(tx, loan, item: item, today: time.today), status: .ok)
        }
    }

    func placeHold(_ request: Request, _ context: AppContext) async throws -> Response {
        let holder = try context.cardholder()
        let (body, bytes) = try await JSON.decode(Schemas.NewHoldRequest.self, from: request, limit: 16 * 1024)
        let barcode = try Self.barcode(body.itemBarcode)
        let time = clock.read()
        let id = newID()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: holder.auditName, nowMs: time.ms) { tx in
            guard let card = try await tx.liveCard(personID: holder.personID) else {
                throw DomainError.rule("card.not_active", "you have no active card: no holds")
            }
            let patron = try await Circulation.standing(tx, card: card, cityCode: body.cityCode, today: time.today)
            let item = try await Circulation.item(tx, cityCode: body.cityCode, barcode: barcode)
            let holds = try await tx.activeLibraryHolds(cityCode: item.cityCode, barcode: item.barcode)
            let open = try await tx.openLoan(cityCode: item.cityCode, barcode: item.barcode)
            try LibraryRules.checkHold(patron.standing, item: item.itemStatus ?? .available, onLoanToThisPatron: open?.personId == holder.personID,
                                       alreadyHolding: holds.contains { $0.personId == holder.personID })
            try await tx.insertLibraryHold(id: id, personID: holder.personID, cityCode: item.cityCode, barcode: item.barcode, atMs: time.ms)
            try await tx.appendAudit(actor: holder.auditName, action: "library.hold", objectType: "library_item",
                                     objectID: "\(item.cityCode)/\(item.barcode)", detail: "hold=\(id) queue=\(holds.count + 1)", atMs: time.ms)
            guard let hold = try await tx.libraryHold(id: id) else { throw StoreError.corrupt("hold \(id) vanished") }
            return try .json(Self.holdView(hold, item: item, pickup: nil))
        }
    }

    static func holdView(_ hold: LibraryHoldRecord, item: LibraryItemRecord, pickup: LibraryRecord?) throws -> Schemas.Hold {
        Schemas.Hold(id: hold.id, itemBarcode: hold.barcode, title: item.title, cityCode: hold.cityCode, status: try API.value(hold.status),
                     placedAt: API.instant(ms: hold.placedAtMs), pickupLibrary: pickup.map { API.name($0.name) }, expiresOn: hold.expiresOn)
    }

    func cancelHold(_ context: AppContext, id: String) async throws -> Response {
        let holder = try context.cardholder()
        let time = clock.read()
        let hold = try await store.write { tx in
            guard let hold = try await tx.libraryHold(id: id), hold.personId == holder.personID else {
                throw DomainError.notFound("library.hold_not_found", "no hold \(id.prefix(64))")
            }
            guard try await tx.closeLibraryHold(id: id, as: .cancelled, atMs: time.ms) else {
                throw DomainError.conflict("library.hold_closed", "the hold is already \(hold.status)")
            }
            // A cancelled ready hold frees the item for the next patron waiting, or the shelf.
            if hold.holdStatus == .ready {
                let item = try await Circulation.item(tx, cityCode: hold.cityCode, barcode: hold.barcode)
                let settings = try await tx.librarySettings(cityCode: hold.cityCode)
                _ = try await Circulation.passOn(tx, item: item, waiting: try await tx.activeLibraryHolds(cityCode: hold.cityCode, barcode: hold.barcode),
                                                 libraryID: item.locationLibraryId, settings: settings, today: time.today, nowMs: time.ms)
            }
            try await tx.appendAudit(actor: holder.auditName, action: "library.hold_cancel", objectType: "library_item",
                                     objectID: "\(hold.cityCode)/\(hold.barcode)", detail: "hold=\(id)", atMs: time.ms)
            guard let closed = try await tx.libraryHold(id: id) else { throw StoreError.corrupt("hold \(id) vanished") }
            return closed
        }
        return try JSON.response(try await holdView(hold))
    }
}
