import Foundation
import JoinInAPI
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore

/// Bus and metro with the card (issue 9): operators and their fares, city caps, taps from offline
/// validators priced into trips and charged through the ledger, settlement, and the signed deny list.
struct TransitController: Sendable {
    let store: Store
    let config: ServerConfig
    let clock: AppClock
    let keys: CredentialKeys
    let feeds: FareFeeds

    static let batchBytesMax = 4 << 20
    static let denyListChangesMax = 10_000
    static let denyListTyp = "joinin-deny-list+jwt"

    func register(_ r: inout RouteRegistrar) {
        r.on(.post, "/v1/transit/operators", .staff(.admin)) { request, context in try await createOperator(request, context) }
        r.on(.get, "/v1/transit/operators", .anyone) { request, _ in
            let city = request.uri.queryParameters["city_code"].map(String.init)
            if let city, !(city.count == 6 && city.allSatisfy(\.isASCIIDigit)) {
                throw DomainError.malformed("city.code_invalid", "city_code must be a 6-digit GB/T 2260 code")
            }
            let now = clock.nowMs()
            let items = try await store.read { tx in
                var items: [Schemas.TransitOperator] = []
                for record in try await tx.transitOperators(cityCode: city) { items.append(try await operatorView(tx, record, nowMs: now)) }
                return items
            }
            return try JSON.response(Schemas.TransitOperatorPage(items: items))
        }
        r.on(.get, "/v1/transit/operators/{id}", Access.anyone.objects(.open(because: "operators and their fares are public"))) { _, context in
            let id = try context.parameters.require("id")
            let now = clock.nowMs()
            return try JSON.response(try await store.read { tx in try await operatorView(tx, try await existingOperator(tx, id), nowMs: now) })
        }
        r.on(.patch, "/v1/transit/operators/{id}", Access.staff(.admin).objects(.open(because: "admins manage every operator"))) { request, context in
            try await updateOperator(request, context, id: try context.parameters.require("id"))
        }
        r.on(.get, "/v1/transit/operators/{id}/fare-versions", Access.staff(.admin).objects(.open(because: "admins manage every operator"))) { _, context in
            let id = try context.parameters.require("id")
            let versions = try await store.read { tx in
                _ = try await existingOperator(tx, id)
                return try await tx.fareVersions(operatorID: id)
            }
            return try JSON.response(Schemas.FareVersionPage(items: versions.map(fareVersionView)))
        }
        r.on(.get, "/v1/transit/operators/{id}/settlement", Access.staff(.admin).objects(.open(because: "admins see every operator's settlement"))) { request, context in
            try await settlement(request, operatorID: try context.parameters.require("id"))
        }
        r.on(.get, "/v1/transit/cities/{code}", Access.anyone.objects(.open(because: "cities and their caps are public"))) { _, context in
            let code = try context.parameters.require("code")
            let today = clock.today
            return try JSON.response(try await store.read { tx in try await cityView(tx, code: code, today: today) })
        }
        r.on(.put, "/v1/transit/cities/{code}", Access.staff(.admin).objects(.open(because: "admins manage every city"))) { request, context in
            try await setCity(request, context, code: try context.parameters.require("code"))
        }
        r.on(.post, "/v1/transit/tap-batches", .terminal(.transitValidator)) { request, context in try await uploadTaps(request, context) }
        r.on(.get, "/v1/transit/deny-list", Access.terminal(.transitValidator).or(.staff(.admin))) { request, _ in try await denyList(request) }
        r.on(.get, "/v1/ecard/transit", .cardholder) { _, context in
            let holder = try context.cardholder()
            let summary = try await store.read { tx in
                let wallet = try await tx.account(kind: .transitWallet, ownerType: "person", ownerID: holder.personID)
                let debt = try await tx.account(kind: .transitDebt, ownerType: TransitBilling.debtorOwnerType, ownerID: holder.personID)
                let denied = try await !tx.denyListEntries(personID: holder.personID).isEmpty
                return Schemas.TransitSummary(wallet: API.money(wallet?.postedFen ?? 0), debt: API.money(max(0, -(debt?.postedFen ?? 0))),
                                              deniedAtGates: denied)
            }
            return try JSON.response(summary)
        }
        r.on(.get, "/v1/ecard/transit/trips", .cardholder) { request, context in try await trips(request, context) }
        r.on(.get, "/v1/ecard/transit/charges", .cardholder) { request, context in
            let holder = try context.cardholder()
            let list = try ListParameters(request)
            let cursor = try list.cursor.map(PageCursor.parse)
            let rows = try await store.read { tx in try await tx.transitCharges(personID: holder.personID, before: cursor, limit: list.limit + 1) }
            let (page, next) = list.page(rows) { PageCursor(timeMs: $0.createdAtMs, id: $0.id).encoded }
            return try JSON.response(Schemas.TransitChargePage(items: try page.map { charge in
                Schemas.TransitCharge(chargeId: charge.id, kind: try API.value(charge.kind), operatorId: charge.operatorId,
                                      serviceDay: charge.serviceDay, amount: API.money(charge.amountFen), fromWallet: API.money(charge.walletFen),
                                      asDebt: API.money(charge.debtFen), at: API.instant(ms: charge.createdAtMs))
            }, nextCursor: next))
        }
    }

    // MARK: operators

    func existingOperator(_ tx: StoreTx, _ id: String) async throws -> TransitOperatorRecord {
        guard let record = try await tx.transitOperator(id: id) else {
            throw DomainError.notFound("transit.operator_not_found", "no transit operator \(id.prefix(64))")
        }
        return record
    }

    func createOperator(_ request: Request, _ context: AppContext) async throws -> Response {
        let admin = try context.staff()
        let (body, bytes) = try await JSON.decode(Schemas.NewTransitOperatorRequest.self, from: request, limit: config.bodyBytesMax)
        let name = try LocalizedName.validated(en: body.name.en, zh: body.name.zh, field: "name")
        let modes = body.modes.map(\.rawValue)
        guard !modes.isEmpty, Set(modes).count == modes.count else {
            throw DomainError.malformed("transit.modes_invalid", "modes must list 1-5 different modes")
        }
        let category = try TransitRules.validatedCategory(body.cardholderCategoryId)
        let journey = try TransitRules.validatedJourneySeconds(minutes: body.maxJourneyMinutes ?? 180)
        let exitRule = body.exitWithoutEntry?.rawValue ?? TripPricing.ExitWithoutEntry.maximumFare.rawValue
        let now = clock.nowMs()
        let record = TransitOperatorRecord(id: newID(), name: name, cityCode: body.cityCode, modes: modes, cardholderCategoryId: category,
                                           maxJourneySeconds: journey, exitWithoutEntry: exitRule, createdAtMs: now, updatedAtMs: now)
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: admin.auditName, nowMs: now) { tx in
            try await tx.requireCity(body.cityCode)
            try await tx.insertTransitOperator(record)
            _ = try await tx.openAccount(kind: .transitOperatorSettlement, ownerType: TransitBilling.operatorOwnerType, ownerID: record.id, atMs: now)
            try await tx.appendAudit(actor: admin.auditName, action: "transit.operator_create", objectType: "transit_operator",
                                     objectID: record.id, detail: "city=\(record.cityCode)", atMs: now)
            return try .json(try await operatorView(tx, record, nowMs: now))
        }
    }

    func updateOperator(_ request: Request, _ context: AppContext, id: String) async throws -> Response {
        let admin = try context.staff()
        let (body, bytes) = try await JSON.decode(Schemas.TransitOperatorUpdate.self, from: request, limit: config.bodyBytesMax)
        try JSON.refuseNull(bytes, members: ["max_journey_minutes", "exit_without_entry"])
        // `cardholder_category_id: null` (back to the default category) and an absent member differ.
        let categoryGiven = JSON.members(of: bytes).keys.contains("cardholder_category_id")
        let category = try TransitRules.validatedCategory(body.cardholderCategoryId)
        let journey = try body.maxJourneyMinutes.map { try TransitRules.validatedJourneySeconds(minutes: $0) }
        let now = clock.nowMs()
        let view = try await store.write { tx in
            let current = try await existingOperator(tx, id)
            let newCategory = categoryGiven ? category : current.cardholderCategoryId
            if let newCategory, let version = try await versionInForce(tx, operatorID: id, atMs: now) {
                let feed = try await feeds.engine(tx, versionID: version.id).feed
                guard feed.riderCategories[newCategory] != nil else {
                    throw DomainError.rule("transit.category_unknown",
                                           "rider category '\(newCategory.prefix(64))' is not in fare version \(version.version)")
                }
            }
            try await tx.updateTransitOperatorTerms(id: id, cardholderCategoryID: newCategory,
                                                    maxJourneySeconds: journey ?? current.maxJourneySeconds,
                                                    exitWithoutEntry: body.exitWithoutEntry?.rawValue ?? current.exitWithoutEntry, atMs: now)
            try await tx.appendAudit(actor: admin.auditName, action: "transit.operator_update", objectType: "transit_operator",
                                     objectID: id, detail: "category=\(newCategory ?? "default")", atMs: now)
            return try await operatorView(tx, try await existingOperator(tx, id), nowMs: now)
        }
        return try JSON.response(view)
    }

    func versionInForce(_ tx: StoreTx, operatorID: String, atMs: Int64) async throws -> FareVersionRecord? {
        try await tx.fareVersions(operatorID: operatorID).filter { $0.validFromMs <= atMs }.max { $0.validFromMs < $1.validFromMs }
    }

    func operatorView(_ tx: StoreTx, _ record: TransitOperatorRecord, nowMs: Int64) async throws -> Schemas.TransitOperator {
        Schemas.TransitOperator(
            id: record.id, name: API.name(record.name), cityCode: record.cityCode,
            modes: try record.modeList.map { try API.value($0) }, cardholderCategoryId: record.cardholderCategoryId,
            maxJourneyMinutes: Int(record.maxJourneySeconds / 60), exitWithoutEntry: try API.value(record.exitWithoutEntry),
            fareVersion: try await versionInForce(tx, operatorID: record.id, atMs: nowMs).map(fareVersionView))
    }

    func fareVersionView(_ version: FareVersionRecord) -> Schemas.FareVersion {
        Schemas.FareVersion(id: version.id, version: version.version, validFrom: API.instant(ms: version.validFromMs),
                            feedSha256: version.feedSha256, summary: version.summary, importedBy: version.importedBy,
                            importedAt: API.instant(ms: version.createdAtMs))
    }

    // MARK: cities

    func cityView(_ tx: StoreTx, code: String, today: CivilDate) async throws -> Schemas.TransitCity {
        guard let city = try await tx.city(code: code) else { throw DomainError.notFound("city.not_found", "no city \(code.prefix(6))") }
        let rows = try await tx.transitCapSchedule(cityCodes: [code]).rows[code] ?? []
        let current = rows.last { $0.effectiveFrom <= today.description }
        let money: (Int64?) -> Schemas.Money? = { $0.map(API.money) }
        return Schemas.TransitCity(
            cityCode: code, interoperable: city.isInteroperable, dailyCap: money(current?.dailyCapFen), weeklyCap: money(current?.weeklyCapFen),
            capsEffectiveFrom: current?.effectiveFrom,
            upcomingCaps: rows.filter { $0.effectiveFrom > today.description }.map {
                .init(effectiveFrom: $0.effectiveFrom, dailyCap: money($0.dailyCapFen), weeklyCap: money($0.weeklyCapFen))
            })
    }

    func setCity(_ request: Request, _ context: AppContext, code: String) async throws -> Response {
        let admin = try context.staff()
        let (body, bytes) = try await JSON.decode(Schemas.TransitCityUpdate.self, from: request, limit: config.bodyBytesMax)
        try JSON.refuseNull(bytes, members: ["effective_from"])
        let time = clock.read()
        let today = TripPricing.serviceDay(unixMs: time.ms, utcOffsetMinutes: 8 * 60)
        let from = try body.effectiveFrom.map { try API.date($0, field: "effective_from") } ?? today
        try TransitRules.checkCaps(dailyFen: body.dailyCapFen, weeklyFen: body.weeklyCapFen, effectiveFrom: from, today: today)
        let view = try await store.write { tx in
            guard try await tx.setCityInteroperable(code: code, interoperable: body.interoperable, atMs: time.ms) else {
                throw DomainError.notFound("city.not_found", "no city \(code.prefix(6))")
            }
            try await tx.setTransitCityCaps(cityCode: code, effectiveFrom: from, dailyCapFen: body.dailyCapFen, weeklyCapFen: body.weeklyCapFen,
                                            atMs: time.ms)
            try await tx.appendAudit(actor: admin.auditName, action: "transit.city_update", objectType: "city", objectID: code,
                                     detail: "interoperable=\(body.interoperable) daily=\(body.dailyCapFen.map(String.init) ?? "none") weekly=\(body.weeklyCapFen.map(String.init) ?? "none") from=\(from)",
                                     atMs: time.ms)
            return try await cityView(tx, code: code, today: today)
        }
        return try JSON.response(view)
    }

    // MARK: settlement

    func settlement(_ request: Request, operatorID: String) async throws -> Response {
        let query = request.uri.queryParameters
        guard let fromText = query["from"], let toText = query["to"] else {
            throw DomainError.malformed("request.invalid_query", "from and to are required (YYYY-MM-DD)")
        }
        let from = try API.date(String(fromText), field: "from"), to = try API.date(String(toText), field: "to")
        guard from <= to, to.daysSinceEpoch - from.daysSinceEpoch < 366 else {
            throw DomainError.rule("transit.period_invalid", "from must not be after to, and the period at most 366 days")
        }
        let days = try await store.read { tx in
            _ = try await existingOperator(tx, operatorID)
            return try await tx.operatorSettlement(operatorID: operatorID, from: from, through: to)
        }
        let items = days.map { day in
            Schemas.OperatorSettlement.DaysPayloadPayload(
                serviceDay: day.serviceDay, charges: Int(day.charges), charged: API.money(day.chargedFen), adjustments: Int(day.adjustments),
                adjusted: API.money(day.adjustedFen), debt: API.money(day.debtFen), net: API.money(day.chargedFen + day.adjustedFen))
        }
        return try JSON.response(Schemas.OperatorSettlement(operatorId: operatorID, from: from.description, to: to.description, days: items,
                                                            total: API.money(days.reduce(0) { $0 + $1.chargedFen + $1.adjustedFen })))
    }

    // MARK: deny list

    func denyList(_ request: Request) async throws -> Response {
        var since: Int64?
        if let text = request.uri.queryParameters["since"] {
            guard let value = Int64(String(text)), value >= 0 else {
                throw DomainError.malformed("request.invalid_query", "since must be a non-negative integer (a deny-list version)")
            }
            since = value
        }
        let requested = since
        let (version, complete, hasMore, changes) = try await store.read { tx -> (Int64, Bool, Bool, [Schemas.DenyListChange]) in
            let head = try await tx.denyListVersion()
            // Changes answer only when every change after `since` is still kept (old ones are
            // swept after `Retention.denyListChangeMs`); otherwise the whole list.
            let oldest = try await tx.oldestDenyListChange()
            if let requested, requested <= head, requested == head || oldest.map({ requested + 1 >= $0 }) == true {
                let rows = try await tx.denyListChanges(since: requested, limit: Self.denyListChangesMax + 1)
                let page = rows.prefix(Self.denyListChangesMax)
                let reached = page.last?.version ?? requested
                return (rows.count > Self.denyListChangesMax ? reached : max(reached, requested), false, rows.count > Self.denyListChangesMax,
                        try page.map { Schemas.DenyListChange(cardNumber: $0.cardNumber, action: try API.value($0.action), reason: try API.value($0.reason)) })
            }
            let entries = try await tx.denyListEntries()
            return (head, true, false, try entries.map {
                Schemas.DenyListChange(cardNumber: $0.cardNumber, action: .add, reason: try API.value($0.reason))
            })
        }
        let nowSeconds = clock.nowMs() / 1000
        let payload = JSONValue.object([
            ("iss", .string(config.publicURL)), ("iat", .number(nowSeconds)), ("version", .number(version)),
            ("since", complete ? .null : requested.map(JSONValue.number) ?? .null), ("complete", .bool(complete)), ("has_more", .bool(hasMore)),
            ("changes", .array(changes.map { .object([("card_number", .string($0.cardNumber)), ("action", .string($0.action.rawValue)),
                                                       ("reason", .string($0.reason.rawValue))]) })),
        ])
        let jws = try JWS.sign(payload: payload.serialized(), kid: keys.signing.kid, typ: Self.denyListTyp, key: keys.signing.privateKey)
        return try JSON.response(Schemas.DenyList(version: version, since: complete ? nil : requested, complete: complete, hasMore: hasMore,
                                                  changes: changes, jws: jws))
    }

    // MARK: trips

    func trips(_ request: Request, _ context: AppContext) async throws -> Response {
        let holder = try context.cardholder()
        let list = try ListParameters(request)
        let cursor = try list.cursor.map(PageCursor.parse)
        let (page, next, operators, engines) = try await store.read { tx in
            let rows = try await tx.trips(personID: holder.personID, before: cursor, limit: list.limit + 1)
            let (page, next) = list.page(rows) { PageCursor(timeMs: $0.startedAtMs, id: $0.id).encoded }
            let operators = try await tx.transitOperators(ids: Set(page.map(\.operatorId)))
            let engines = try await feeds.engines(tx, versionIDs: Set(page.map(\.fareVersionId)))
            return (page, next, operators, engines)
        }
        let items = try page.map { trip -> Schemas.Trip in
            let feed = engines[trip.fareVersionId]?.feed
            func stop(_ id: String?) -> Schemas.TransitPlace? {
                id.map { Schemas.TransitPlace(id: $0, name: API.name(feed?.stops[$0]?.name ?? LocalizedName(en: $0, zh: $0))) }
            }
            let route = trip.routeId.map { Schemas.TransitPlace(id: $0, name: API.name(feed?.routes[$0]?.name ?? LocalizedName(en: $0, zh: $0))) }
            let operatorName = operators[trip.operatorId]?.name ?? LocalizedName(en: trip.operatorId, zh: trip.operatorId)
            return Schemas.Trip(
                tripId: trip.id, kind: try API.value(trip.kind), operatorId: trip.operatorId, operatorName: API.name(operatorName),
                serviceDay: trip.serviceDay, startedAt: API.instant(ms: trip.startedAtMs), endedAt: API.instant(ms: trip.endedAtMs),
                from: stop(trip.fromStopId), to: stop(trip.toStopId), route: route, fareProductId: trip.fareProductId,
                cardholderFare: trip.cardholderFare != 0, fullFare: API.money(trip.fullFareFen), fare: API.money(trip.fareFen),
                charged: API.money(trip.chargedFen), discount: API.money(trip.fullFareFen - trip.chargedFen), transfer: trip.isTransfer != 0,
                capApplied: trip.capApplied != 0, noMatchingRule: trip.noMatchingRule != 0)
        }
        return try JSON.response(Schemas.TripPage(items: items, nextCursor: next))
    }
}
