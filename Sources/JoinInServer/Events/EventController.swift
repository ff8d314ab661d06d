import Foundation
import JoinInAPI
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore

/// Local social activities (issue 13): organisers publish events; cardholders with a valid permit
/// register from the e-card, join a first-come waitlist when the event is full and are promoted
/// when a confirmed place is given back before the cancellation deadline; check-in at an
/// `eventCheckIn` terminal by dynamic QR; attendance and no-shows recorded (EventRules).
struct EventController: Sendable {
    let store: Store
    let config: ServerConfig
    let clock: AppClock
    let dynamicCodes: DynamicCodes

    func register(_ r: inout RouteRegistrar) {
        r.on(.post, "/v1/events", .staff(.eventOrganizer)) { request, context in try await publish(request, context) }
        r.on(.get, "/v1/events", .staff(.eventOrganizer)) { request, context in
            let organizer = try context.staff()
            let list = try ListParameters(request)
            let cursor = try list.cursor.map(PageCursor.parse)
            let time = clock.read()
            let (items, next) = try await store.read { tx in
                let rows = try await tx.events(organizerID: organizer.id, cityCode: nil, fromMs: 0, after: cursor, limit: list.limit + 1)
                let (page, next) = list.page(rows) { $0.cursor.encoded }
                return (try page.map { try Self.view($0, time: time) }, next)
            }
            return try JSON.response(Schemas.EventPage(items: items, nextCursor: next), headers: [.cacheControl: "no-store"])
        }
        r.on(.get, "/v1/events/{id}", Access.staff(.eventOrganizer).objects(.owned(by: "an organiser sees only their own events"))) { _, context in
            let organizer = try context.staff()
            let id = try context.parameters.require("id")
            let time = clock.read()
            let view = try await store.read { tx in
                let event = try await Self.ownEvent(tx, id: id, organizerID: organizer.id)
                var view = try Self.view(event, time: time)
                let counts = try await tx.eventRegistrationCounts(eventID: id)
                view.attendance = .init(confirmed: counts["confirmed"] ?? 0, waitlisted: counts["waitlisted"] ?? 0, attended: counts["attended"] ?? 0,
                                        noShow: counts["no_show"] ?? 0, cancelled: counts["cancelled"] ?? 0)
                return view
            }
            return try JSON.response(view, headers: [.cacheControl: "no-store"])
        }
        r.on(.get, "/v1/events/{id}/registrations", Access.staff(.eventOrganizer)
            .objects(.owned(by: "an organiser sees only their own events' registrations"))) { request, context in
            let organizer = try context.staff()
            let id = try context.parameters.require("id")
            let list = try ListParameters(request)
            let cursor = try list.cursor.map(PageCursor.parse)
            let time = clock.read()
            let (items, next) = try await store.read { tx in
                let event = try await Self.ownEvent(tx, id: id, organizerID: organizer.id)
                let terms = try event.terms()
                let rows = try await tx.eventRegistrations(eventID: id, statuses: nil, after: cursor, limit: list.limit + 1)
                let (page, next) = list.page(rows) { $0.cursor.encoded }
                var items: [Schemas.EventRegistration] = []
                for row in page {
                    let name = try await tx.person(id: row.personId)?.fullName
                    items.append(try await Self.registrationView(tx, row, event: event, terms: terms, time: time, name: name))
                }
                return (items, next)
            }
            return try JSON.response(Schemas.EventRegistrationPage(items: items, nextCursor: next), headers: [.cacheControl: "no-store"])
        }
        r.on(.post, "/v1/events/{id}/cancellation", Access.staff(.eventOrganizer)
            .objects(.owned(by: "an organiser cancels only their own events"))) { request, context in
            try await cancelEvent(request, context, id: try context.parameters.require("id"))
        }
        r.on(.get, "/v1/ecard/events", .cardholder) { request, context in
            let holder = try context.cardholder()
            let city = try request.uri.queryParameters["city_code"].map { try OfferController.cityCode(String($0)) }
            let time = clock.read()
            let items = try await store.read { tx in
                // Events still running or to come (those ended in the last day are not worth showing).
                let rows = try await tx.events(organizerID: nil, cityCode: city, fromMs: time.ms - 14 * 86_400_000, after: nil, limit: 500)
                    .filter { $0.endsAtMs > time.ms }.prefix(200)
                let mine = try await tx.activeRegistrations(personID: holder.personID, eventIDs: Set(rows.map(\.id)))
                var items: [Schemas.Event] = []
                for event in rows {
                    var view = try Self.view(event, time: time)
                    if let registration = mine[event.id] {
                        view.myRegistration = try await Self.registrationView(tx, registration, event: event, terms: try event.terms(), time: time, name: nil)
                    }
                    items.append(view)
                }
                return items
            }
            return try JSON.response(Schemas.EventPage(items: items), headers: [.cacheControl: "no-store"])
        }
        r.on(.post, "/v1/ecard/events/{id}/registrations", Access.cardholder
            .objects(.open(because: "any cardholder may register for a published event; the rules decide"))) { request, context in
            try await registerHolder(request, context, eventID: try context.parameters.require("id"))
        }
        r.on(.post, "/v1/ecard/events/{id}/registration/cancellation", Access.cardholder
            .objects(.owned(by: "a holder cancels only their own registration"))) { request, context in
            try await cancelRegistration(request, context, eventID: try context.parameters.require("id"))
        }
        r.on(.get, "/v1/ecard/event-registrations", .cardholder) { _, context in
            let holder = try context.cardholder()
            let time = clock.read()
            let items = try await store.read { tx in
                let rows = try await tx.eventRegistrations(personID: holder.personID, limit: 200)
                let events = try await tx.events(ids: Set(rows.map(\.eventId)))
                var items: [Schemas.EventRegistration] = []
                for row in rows {
                    guard let event = events[row.eventId] else { continue }
                    items.append(try await Self.registrationView(tx, row, event: event, terms: try event.terms(), time: time, name: nil))
                }
                return items
            }
            return try JSON.response(Schemas.EventRegistrationPage(items: items), headers: [.cacheControl: "no-store"])
        }
        r.on(.post, "/v1/event-check-ins", .terminal(.eventCheckIn)) { request, context in try await checkIn(request, context) }
    }

    // MARK: organisers

    func publish(_ request: Request, _ context: AppContext) async throws -> Response {
        let organizer = try context.staff()
        let (body, bytes) = try await JSON.decode(Schemas.NewEventRequest.self, from: request, limit: config.bodyBytesMax)
        try JSON.refuseNull(bytes, members: ["city_only", "waitlist_max"])
        let title = try LocalizedName.validated(en: body.title.en, zh: body.title.zh, field: "title")
        let place = try LocalizedName.validated(en: body.place.en, zh: body.place.zh, field: "place")
        let description = LocalizedName(en: body.description.en.trimmingWhitespace(), zh: body.description.zh.trimmingWhitespace())
        guard (1...4000).contains(description.en.scalarCount), (1...4000).contains(description.zh.scalarCount) else {
            throw DomainError.rule("event.terms_invalid", "description: en and zh must each be 1-4000 characters after trimming")
        }
        let city = try OfferController.cityCode(body.cityCode)
        func ms(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }
        let time = clock.read()
        let terms = try EventTerms.validated(
            startsAtMs: ms(body.startsAt), endsAtMs: ms(body.endsAt), capacity: body.capacity,
            registrationOpensAtMs: ms(body.registrationOpensAt), registrationClosesAtMs: ms(body.registrationClosesAt),
            cancellationDeadlineMs: ms(body.cancellationDeadline), cityOnly: body.cityOnly == true ? city : nil,
            waitlistMax: body.waitlistMax ?? 0, nowMs: time.ms)
        let id = newID()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: organizer.auditName, nowMs: time.ms) { tx in
            try await tx.requireCity(city)
            try await tx.insertEvent(NewEvent(id: id, organizerID: organizer.id, title: title, description: description, place: place,
                                              cityCode: city, terms: terms), atMs: time.ms)
            try await tx.appendAudit(actor: organizer.auditName, action: "event.publish", objectType: "event", objectID: id,
                                     detail: "city=\(city) capacity=\(terms.capacity) waitlist=\(terms.waitlistMax)", atMs: time.ms)
            guard let event = try await tx.event(id: id) else { throw StoreError.corrupt("event \(id) vanished") }
            return try .json(try Self.view(event, time: time))
        }
    }

    func cancelEvent(_ request: Request, _ context: AppContext, id: String) async throws -> Response {
        let organizer = try context.staff()
        let time = clock.read()
        return try await Idempotency.write(store: store, request: request, body: ByteBuffer(), principal: organizer.auditName, nowMs: time.ms,
                                           isolation: .lockedRows) { tx in
            let event = try await Self.ownEvent(tx, id: id, organizerID: organizer.id, locked: true)
            guard event.endsAtMs > time.ms else { throw DomainError.rule("event.already_ended", "the event has ended") }
            guard try await tx.cancelEvent(id: id, atMs: time.ms) else {
                throw DomainError.conflict("event.already_cancelled", "the event was cancelled already")
            }
            let active = try await tx.eventRegistrations(eventID: id, statuses: ["confirmed", "waitlisted"], after: nil, limit: 100_000)
            for registration in active {
                guard let status = registration.registrationStatus,
                      try await tx.moveEventRegistration(id: registration.id, from: status, to: .cancelled, atMs: time.ms) else { continue }
                try await Inbox.post(tx, personID: registration.personId, kind: .eventCancelled, plain: ["starts": Self.clockText(event.startsAtMs)],
                                     localized: ["event": event.title], link: (type: "event", id: id), nowMs: time.ms)
            }
            try await tx.appendAudit(actor: organizer.auditName, action: "event.cancel", objectType: "event", objectID: id,
                                     detail: "registrations=\(active.count)", atMs: time.ms)
            guard let updated = try await tx.event(id: id) else { throw StoreError.corrupt("event \(id) vanished") }
            return try .json(try Self.view(updated, time: time), status: .ok)
        }
    }

    // MARK: cardholders

    func registerHolder(_ request: Request, _ context: AppContext, eventID: String) async throws -> Response {
        let holder = try context.cardholder()
        let time = clock.read()
        let id = newID()
        do {
            return try await Idempotency.write(store: store, request: request, body: ByteBuffer(), principal: holder.auditName, nowMs: time.ms,
                                               isolation: .lockedRows) { tx in
                guard let event = try await tx.lockedEvent(id: eventID) else {
                    throw DomainError.notFound("event.not_found", "no event \(eventID.prefix(64))")
                }
                let terms = try event.terms()
                let (permitValid, city) = try await Self.standing(tx, personID: holder.personID, today: time.today)
                let existing = try await tx.eventRegistration(eventID: eventID, personID: holder.personID)
                // Any registration not cancelled counts (also one already checked in: it holds a place).
                let active = existing?.registrationStatus?.countsAsRegistered ?? false
                let decided = try EventRules.register(terms, nowMs: time.ms, eventCancelled: event.isCancelled, permitValid: permitValid,
                                                      cityMatches: terms.cityOnly.map { $0 == city } ?? true, alreadyRegistered: active,
                                                      confirmedCount: Int(event.confirmed), waitlistedCount: Int(event.waitlisted))
                // The event row's conditional updates are the guard: a place taken meanwhile (on
                // PostgreSQL the row lock already queued us) sends the registration to the waitlist.
                var status = decided
                if status == .confirmed, try await !tx.claimEventPlace(eventID: eventID) { status = .waitlisted }
                if status == .waitlisted, try await !tx.claimWaitlistPlace(eventID: eventID) {
                    throw DomainError.rule("event.full", "the event and its waitlist are full")
                }
                try await tx.insertEventRegistration(id: id, eventID: eventID, personID: holder.personID, status: status, atMs: time.ms)
                try await tx.appendAudit(actor: holder.auditName, action: "event.register", objectType: "event", objectID: eventID,
                                         detail: "registration=\(id) status=\(status.rawValue)", atMs: time.ms)
                guard let registration = try await tx.eventRegistration(id: id) else { throw StoreError.corrupt("registration \(id) vanished") }
                return try .json(try await Self.registrationView(tx, registration, event: event, terms: terms, time: time, name: nil))
            }
        } catch where isUniqueViolation(error) {
            throw DomainError.conflict("event.already_registered", "you are already registered for this event")
        }
    }

    func cancelRegistration(_ request: Request, _ context: AppContext, eventID: String) async throws -> Response {
        let holder = try context.cardholder()
        let time = clock.read()
        return try await Idempotency.write(store: store, request: request, body: ByteBuffer(), principal: holder.auditName, nowMs: time.ms,
                                           isolation: .lockedRows) { tx in
            guard let event = try await tx.lockedEvent(id: eventID),
                  let registration = try await tx.eventRegistration(eventID: eventID, personID: holder.personID),
                  let status = registration.registrationStatus else {
                throw DomainError.notFound("event.registration_not_found", "you have no registration for event \(eventID.prefix(64))")
            }
            let terms = try event.terms()
            let promote = try EventRules.cancel(status: status, terms: terms, nowMs: time.ms)
            guard try await tx.moveEventRegistration(id: registration.id, from: status, to: .cancelled, atMs: time.ms) else {
                throw DomainError.conflict("event.registration_changed", "the registration changed meanwhile; reload it")
            }
            try await tx.releaseEventPlace(eventID: eventID, confirmed: status == .confirmed)
            var promoted: String?
            if promote, !event.isCancelled, let next = try await Self.promoteNext(tx, event: event, terms: terms, time: time) {
                promoted = next
            }
            try await tx.appendAudit(actor: holder.auditName, action: "event.registration_cancel", objectType: "event", objectID: eventID,
                                     detail: "registration=\(registration.id)" + (promoted.map { " promoted=\($0)" } ?? ""), atMs: time.ms)
            guard let updated = try await tx.eventRegistration(id: registration.id) else { throw StoreError.corrupt("registration vanished") }
            return try .json(try await Self.registrationView(tx, updated, event: event, terms: terms, time: time, name: nil), status: .ok)
        }
    }

    /// Moves the first of the waitlist to a confirmed place, in the caller's transaction, and tells them.
    static func promoteNext(_ tx: StoreTx, event: EventRecord, terms: EventTerms, time: AppClock.Reading) async throws -> String? {
        guard let current = try await tx.event(id: event.id), EventRules.mayPromote(terms: terms, nowMs: time.ms, confirmedCount: Int(current.confirmed)),
              let next = try await tx.firstWaitlisted(eventID: event.id) else { return nil }
        guard try await tx.claimEventPlace(eventID: event.id) else { return nil }
        guard try await tx.moveEventRegistration(id: next.id, from: .waitlisted, to: .confirmed, atMs: time.ms, promoted: true) else {
            throw StoreError.corrupt("waitlisted registration \(next.id) changed under the event's lock")
        }
        try await tx.releaseEventPlace(eventID: event.id, confirmed: false)
        try await Inbox.post(tx, personID: next.personId, kind: .waitlistPromoted, plain: ["starts": clockText(event.startsAtMs)],
                             localized: ["event": event.title, "place": event.place], link: (type: "event", id: event.id), nowMs: time.ms)
        try await tx.appendAudit(actor: "system", action: "event.waitlist_promote", objectType: "event", objectID: event.id,
                                 detail: "registration=\(next.id)", atMs: time.ms)
        return next.id
    }

    // MARK: the door

    func checkIn(_ request: Request, _ context: AppContext) async throws -> Response {
        let terminal = try context.terminal()
        let (body, bytes) = try await JSON.decode(Schemas.EventCheckInRequest.self, from: request, limit: 16 * 1024)
        let code = try dynamicCodes.read(body.dynamicCode)
        let time = clock.read()
        let actor = terminal.auditName
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: actor, nowMs: time.ms,
                                           isolation: .lockedRows) { tx in
            guard let organizerID = terminal.bindingID else {
                throw DomainError.forbidden("auth.forbidden", "this check-in terminal is not bound to an organiser")
            }
            let event = try await Self.ownEvent(tx, id: body.eventId, organizerID: organizerID, locked: true)
            try await dynamicCodes.redeem(tx, code, by: actor, nowMs: time.ms)
            guard let holder = try await tx.cardholder(id: code.holderID) else { throw DomainError.rule("code.invalid", "the code's holder is unknown") }
            guard let registration = try await tx.eventRegistration(eventID: event.id, personID: holder.personId),
                  let status = registration.registrationStatus else {
                throw DomainError.rule("event.not_registered", "this cardholder is not registered for the event")
            }
            let terms = try event.terms()
            let next = try EventRules.checkIn(status: status, terms: terms, nowMs: time.ms)
            guard try await tx.moveEventRegistration(id: registration.id, from: status, to: next, atMs: time.ms, checkedInBy: terminal.id) else {
                throw DomainError.conflict("event.already_checked_in", "checked in meanwhile")
            }
            try await tx.appendAudit(actor: actor, action: "event.check_in", objectType: "event", objectID: event.id,
                                     detail: "registration=\(registration.id)", atMs: time.ms)
            guard let updated = try await tx.eventRegistration(id: registration.id) else { throw StoreError.corrupt("registration vanished") }
            let name = try await tx.person(id: holder.personId)?.fullName
            return try .json(try await Self.registrationView(tx, updated, event: event, terms: terms, time: time, name: name))
        }
    }

    // MARK: helpers

    /// Whether the person's permit is valid today, and the city of its employer.
    static func standing(_ tx: StoreTx, personID: String, today: CivilDate) async throws -> (permitValid: Bool, city: String?) {
        guard let person = try await tx.person(id: personID) else { throw StoreError.corrupt("person \(personID) vanished") }
        guard let permit = try await tx.latestPermit(number: person.permitNumber) else { return (false, nil) }
        return (permit.status(today: today) == .valid, try await tx.employer(id: permit.employerId)?.cityCode)
    }

    static func ownEvent(_ tx: StoreTx, id: String, organizerID: String, locked: Bool = false) async throws -> EventRecord {
        let found = locked ? try await tx.lockedEvent(id: id) : try await tx.event(id: id)
        guard let found, found.organizerId == organizerID else { throw DomainError.notFound("event.not_found", "no event \(id.prefix(64))") }
        return found
    }

    static func clockText(_ ms: Int64) -> String {
        let day = CivilDate.shanghai(unixSeconds: ms / 1000)
        return "\(day) \(OfferRules.clock(OfferRules.shanghaiMinute(ms: ms)))"
    }

    static func view(_ event: EventRecord, time: AppClock.Reading) throws -> Schemas.Event {
        let terms = try event.terms()
        let status: Schemas.Event.StatusPayload = event.isCancelled ? .cancelled
            : time.ms >= terms.endsAtMs ? .ended : time.ms >= terms.startsAtMs ? .underway
            : time.ms < terms.registrationOpensAtMs ? .announced : time.ms < terms.registrationClosesAtMs ? .registrationOpen : .registrationClosed
        return Schemas.Event(
            id: event.id, title: API.name(event.title), description: API.name(event.description), place: API.name(event.place),
            cityCode: event.cityCode, startsAt: API.instant(ms: terms.startsAtMs), endsAt: API.instant(ms: terms.endsAtMs),
            registrationOpensAt: API.instant(ms: terms.registrationOpensAtMs), registrationClosesAt: API.instant(ms: terms.registrationClosesAtMs),
            cancellationDeadline: API.instant(ms: terms.cancellationDeadlineMs), capacity: terms.capacity, waitlistMax: terms.waitlistMax,
            cityOnly: terms.cityOnly != nil, placesLeft: max(0, terms.capacity - Int(event.confirmed)),
            waitlistLeft: max(0, terms.waitlistMax - Int(event.waitlisted)), status: status)
    }

    static func registrationView(_ tx: StoreTx, _ registration: EventRegistrationRecord, event: EventRecord, terms: EventTerms,
                                 time: AppClock.Reading, name: String?) async throws -> Schemas.EventRegistration {
        let stored = registration.registrationStatus ?? .cancelled
        let shown = EventRules.settled(status: stored, terms: terms, nowMs: time.ms)
        let position = shown == .waitlisted ? try await tx.waitlistPosition(registration) : nil
        return Schemas.EventRegistration(
            id: registration.id, eventId: event.id, eventTitle: API.name(event.title), startsAt: API.instant(ms: terms.startsAtMs),
            status: try API.domain(shown), waitlistPosition: position, name: name, registeredAt: API.instant(ms: registration.createdAtMs),
            promotedAt: registration.promotedAtMs.map { API.instant(ms: $0) }, checkedInAt: registration.checkedInAtMs.map { API.instant(ms: $0) })
    }
}
