import Foundation
import HTTPTypes
import Hummingbird
import JoinInAPI
import JoinInCore
import JoinInStore

/// Settlement at the hospital counter or pharmacy till: pre-settlement (试算), settlement with its
/// ledger legs and accumulators in one transaction, reversal (退费), the cardholder's list, and
/// the FHIR ExplanationOfBenefit.
struct HealthSettlements: Sendable {
    let store: Store
    let clock: AppClock
    let pins: PINCheck
    let dynamicCodes: DynamicCodes

    static let referenceType = "health_settlement"
    static let counters = Access.terminal(.hospitalCounter, .pharmacyPOS)

    func register(_ r: inout RouteRegistrar) {
        r.on(.post, "/v1/health/pre-settlements", Self.counters) { request, context in try await settle(request, context, quote: true) }
        r.on(.post, "/v1/health/settlements", Self.counters) { request, context in try await settle(request, context, quote: false) }
        r.on(.get, "/v1/health/settlements/{id}", Self.counters.objects(.owned(by: "a provider sees only its own settlements"))) { _, context in
            let (_, provider) = try await providerTerminal(context)
            let id = try context.parameters.require("id")
            let dto = try await store.read { tx in
                try await self.view(tx, try await Self.settlement(tx, id: id) { $0.providerId == provider.id })
            }
            return try JSON.response(dto, headers: [.cacheControl: "no-store"])
        }
        r.on(.post, "/v1/health/settlements/{id}/reversal", Self.counters.objects(.owned(by: "a provider reverses only its own settlements"))) {
            request, context in try await reverse(request, context, id: try context.parameters.require("id"))
        }
        r.on(.get, "/v1/health/settlements/{id}/explanation-of-benefit",
             Self.counters.or(.cardholder).objects(.owned(by: "the provider that settled it and the patient"))) { _, context in
            let id = try context.parameters.require("id")
            let owner: @Sendable (HealthSettlementRecord) -> Bool
            switch context.principal {
            case .cardholder(let holder)?: owner = { $0.personId == holder.personID }
            default:
                let (_, provider) = try await providerTerminal(context)
                owner = { $0.providerId == provider.id }
            }
            let json = try await store.read { tx in
                let settlement = try await Self.settlement(tx, id: id, owner)
                guard let provider = try await tx.provider(id: settlement.providerId), let person = try await tx.person(id: settlement.personId) else {
                    throw StoreError.corrupt("settlement \(id) lost its provider or person")
                }
                return ExplanationOfBenefit.json(settlement, detail: try Self.detail(tx, settlement), provider: provider, person: person)
            }
            return Response(status: .ok, headers: [.contentType: "application/fhir+json", .cacheControl: "no-store"],
                            body: .init(byteBuffer: .init(bytes: json)))
        }
        r.on(.get, "/v1/ecard/health/settlements", .cardholder) { request, context in
            let holder = try context.cardholder()
            let list = try ListParameters(request)
            let cursor = try list.cursor.map(PageCursor.parse)
            let page = try await store.read { tx in
                let rows = try await tx.settlements(personID: holder.personID, before: cursor, limit: list.limit + 1)
                let (page, next) = list.page(rows) { PageCursor(timeMs: $0.createdAtMs, id: $0.id).encoded }
                var items: [Schemas.HealthSettlement] = []
                for row in page { items.append(try await view(tx, row)) }
                return Schemas.HealthSettlementPage(items: items, nextCursor: next)
            }
            return try JSON.response(page, headers: [.cacheControl: "no-store"])
        }
        r.on(.get, "/v1/ecard/health/settlements/{id}", Access.cardholder.objects(.owned(by: "a holder sees only their own settlements"))) { _, context in
            let holder = try context.cardholder()
            let id = try context.parameters.require("id")
            let dto = try await store.read { tx in
                try await self.view(tx, try await Self.settlement(tx, id: id) { $0.personId == holder.personID })
            }
            return try JSON.response(dto, headers: [.cacheControl: "no-store"])
        }
    }

    // MARK: loading

    /// The calling terminal and the provider it is bound to (of the kind the terminal serves).
    func providerTerminal(_ context: AppContext) async throws -> (TerminalPrincipal, HealthProviderRecord) {
        let terminal = try context.terminal()
        guard let bindingID = terminal.bindingID, let provider = try await store.read({ tx in try await tx.provider(id: bindingID) }),
              provider.providerKind == HealthController.providerKind(of: terminal.kind) else {
            throw DomainError.forbidden("auth.forbidden", "this terminal is not bound to a medical provider")
        }
        return (terminal, provider)
    }

    static func settlement(_ tx: StoreTx, id: String, _ owns: (HealthSettlementRecord) -> Bool) async throws -> HealthSettlementRecord {
        guard let settlement = try await tx.settlement(id: id), owns(settlement) else {
            throw DomainError.notFound("health.settlement_not_found", "no settlement \(id.prefix(64))")
        }
        return settlement
    }

    /// The sealed itemised bill and breakdown of a settlement.
    struct Detail: Codable, Sendable {
        struct Line: Codable, Sendable {
            let item: CatalogueItem
            let quantity: Int64
            let unitPriceFen: Int64
            let parts: SettlementRules.Parts
        }
        let lines: [Line]
        let total: SettlementRules.Parts
        let after: SettlementRules.Accumulators
        let annualFundCapFen: Int64
        let personalAccountBalanceFen: Int64
    }

    static func detail(_ tx: StoreTx, _ settlement: HealthSettlementRecord) throws -> Detail {
        try JSONDecoder().decode(Detail.self, from: Data(try tx.openSettlementDetail(settlement).utf8))
    }

    // MARK: views

    static func parts(_ parts: SettlementRules.Parts) -> Schemas.SettlementParts {
        Schemas.SettlementParts(amount: API.money(parts.amountFen), classC: API.money(parts.classCFen),
                                classBSelfPay: API.money(parts.classBSelfPayFen), deductible: API.money(parts.deductibleFen),
                                copay: API.money(parts.copayFen), overCap: API.money(parts.overCapFen), fund: API.money(parts.fundFen),
                                personalAccount: API.money(parts.personalAccountFen), cash: API.money(parts.cashFen))
    }

    struct ViewInput {
        var id: String?
        var status: Schemas.HealthSettlement.StatusPayload
        var visit: VisitType
        var provider: HealthProviderRecord
        var insuredCity: String
        var policyYear: Int
        var policyVersion: Int64
        var catalogueVersion: Int64
        var cardNumber: String
        var providerReference: String?
        var detail: Detail
        var cashMethod: String
        var atMs: Int64
        var reversedAtMs: Int64?
    }

    static func view(_ input: ViewInput) throws -> Schemas.HealthSettlement {
        let detail = input.detail
        let deductibleMet = detail.after.deductibleMetFen
        return Schemas.HealthSettlement(
            id: input.id, status: input.status, visitType: try API.domain(input.visit), provider: try HealthController.providerView(input.provider),
            insuredCity: input.insuredCity, treatmentCity: input.provider.cityCode, policyYear: input.policyYear,
            policyVersion: input.policyVersion, catalogueVersion: input.catalogueVersion,
            card: try CardNumber(validating: input.cardNumber).masked, providerReference: input.providerReference,
            lines: try detail.lines.map { line in
                Schemas.SettlementLine(code: line.item.code, name: API.name(line.item.name), _class: try API.domain(line.item.itemClass),
                                       unit: line.item.unit, quantity: line.quantity, unitPrice: API.money(line.unitPriceFen),
                                       parts: parts(line.parts))
            },
            total: parts(detail.total), cashMethod: try API.value(input.cashMethod),
            personalAccountBalance: API.money(detail.personalAccountBalanceFen),
            accumulators: Schemas.HealthAccumulators(
                fundPaid: API.money(detail.after.fundPaidYearFen), annualFundCap: API.money(detail.annualFundCapFen),
                deductibleMet: .init(outpatient: API.money(input.visit == .outpatient ? deductibleMet : 0),
                                     inpatient: API.money(input.visit == .inpatient ? deductibleMet : 0),
                                     pharmacy: API.money(input.visit == .pharmacy ? deductibleMet : 0))),
            at: API.instant(ms: input.atMs), reversedAt: input.reversedAtMs.map(API.instant))
    }

    func view(_ tx: StoreTx, _ settlement: HealthSettlementRecord) async throws -> Schemas.HealthSettlement {
        guard let provider = try await tx.provider(id: settlement.providerId) else {
            throw StoreError.corrupt("settlement \(settlement.id) names a missing provider")
        }
        return try Self.view(ViewInput(
            id: settlement.id, status: try API.value(settlement.status), visit: try API.value(settlement.visitType), provider: provider,
            insuredCity: settlement.insuredCity, policyYear: Int(settlement.policyYear), policyVersion: settlement.policyVersion,
            catalogueVersion: settlement.catalogueVersion, cardNumber: settlement.cardNumber, providerReference: settlement.providerReference,
            detail: try Self.detail(tx, settlement), cashMethod: settlement.cashMethod, atMs: settlement.createdAtMs,
            reversedAtMs: settlement.reversedAtMs))
    }

    // MARK: pre-settlement and settlement

    /// Who the patient is, as the counter presented them.
    struct Identification: Sendable {
        let cardNumber: String?
        let code: DynamicCodes.Claims?
        let pinVerified: Bool
    }

    func identify(_ body: Schemas.SettlementRequest, actor: String, at time: AppClock.Reading) async throws -> Identification {
        let number = try body.cardNumber.map { try CardNumber(validating: $0).value }
        switch (number, body.pin, body.dynamicCode) {
        case (let number?, let pin?, nil):
            let card = try await store.read { tx in try await tx.existingCard(number) }
            try await pins.check(pin, card: card, actor: actor, action: "health.settlement", at: time)
            return Identification(cardNumber: number, code: nil, pinVerified: true)
        case (_, let pin, let text?):
            let code = try dynamicCodes.read(text)
            guard code.expiresAt > time.ms / 1000 else {
                throw DomainError.rule("code.expired", "the code expired; ask the holder to refresh it")
            }
            guard let pin else { return Identification(cardNumber: number, code: code, pinVerified: false) }
            let card = try await store.read { tx -> CardRecord in
                if let number { return try await tx.existingCard(number) }
                guard let holder = try await tx.cardholder(id: code.holderID), let card = try await tx.liveCard(personID: holder.personId) else {
                    throw DomainError.rule("code.invalid", "the code's holder has no card")
                }
                return card
            }
            try await pins.check(pin, card: card, actor: actor, action: "health.settlement", at: time)
            return Identification(cardNumber: card.cardNumber, code: code, pinVerified: true)
        default:
            throw DomainError.malformed("health.identification_required", "send card_number with pin, or dynamic_code")
        }
    }

    /// Everything adjudication needs, loaded and checked in the caller's transaction.
    struct Case {
        let card: CardRecord
        let enrolment: HealthEnrolmentRecord
        let policy: MedicalPolicy
        let policyVersion: Int64
        let catalogueVersion: Int64
        let lines: [SettlementRules.BillLine]
        let personalAccount: LedgerAccountRecord?
        let personalAvailableFen: Int64
        let accumulators: SettlementRules.Accumulators
        let breakdown: SettlementRules.Breakdown
    }

    func loadCase(_ tx: StoreTx, _ body: Schemas.SettlementRequest, who: Identification, provider: HealthProviderRecord, visit: VisitType,
                  today: CivilDate, nowMs: Int64, settling: Bool) async throws -> Case {
        var card: CardRecord
        if let number = who.cardNumber {
            card = try await tx.existingCard(number)
        } else {
            guard let code = who.code, let holder = try await tx.cardholder(id: code.holderID), let live = try await tx.liveCard(personID: holder.personId) else {
                throw DomainError.rule("code.invalid", "the code's holder has no card")
            }
            card = live
        }
        if let code = who.code {
            guard try await tx.cardholder(id: code.holderID)?.personId == card.personId else {
                throw DomainError.rule("code.invalid", "the dynamic code belongs to another cardholder")
            }
        }
        guard card.cardStatus == .active else {
            throw DomainError.rule("card.not_active", "the card is \(card.status): medical insurance needs an active card")
        }
        guard let person = try await tx.person(id: card.personId), let permit = try await tx.latestPermit(number: person.permitNumber),
              permit.status(today: today) == .valid else {
            throw DomainError.rule("health.permit_not_valid", "the holder's work permit is not valid today: no new settlements")
        }
        let month = ContributionRules.month(of: today)
        guard let enrolment = try await tx.enrolments(personID: card.personId).first(where: { $0.covers(month: month) }),
              enrolment.insuranceTypes.contains(.medical) else {
            throw DomainError.rule("health.not_insured", "the holder has no medical-insurance enrolment covering \(month)")
        }
        guard let policyRecord = try await tx.currentPolicy(cityCode: enrolment.cityCode, year: today.year) else {
            throw DomainError.rule("health.policy_missing", "the insured city \(enrolment.cityCode) has no policy for \(today.year)")
        }
        if provider.cityCode != enrolment.cityCode {
            guard try await tx.city(code: provider.cityCode)?.interoperable == 1 else {
                throw DomainError.rule("health.cross_city_not_allowed",
                                       "city \(provider.cityCode) is not interoperable: cards insured in \(enrolment.cityCode) cannot settle there")
            }
        }
        guard let catalogue = try await tx.currentCatalogue(cityCode: provider.cityCode) else {
            throw DomainError.rule("health.catalogue_missing", "city \(provider.cityCode) has no medical-insurance catalogue")
        }
        let items = try await tx.catalogueItems(cityCode: provider.cityCode, version: catalogue.version, codes: Set(body.lines.map(\.code)))
        var lines: [SettlementRules.BillLine] = []
        for (index, line) in body.lines.enumerated() {
            guard let item = items[line.code] else {
                throw DomainError.rule("health.item_unknown",
                                       "lines[\(index)].code \(line.code.prefix(64)) is not in the catalogue of city \(provider.cityCode) (version \(catalogue.version))")
            }
            lines.append(SettlementRules.BillLine(item: item, quantity: line.quantity, unitPriceFen: line.unitPriceFen))
        }
        let policy = try policyRecord.policy()
        // The personal-account row is the person's medical lock: settlements and reversals of one
        // person queue on it before reading the accumulators (PostgreSQL: FOR UPDATE; SQLite: one writer).
        var account = try await tx.account(kind: .medicalPersonal, ownerType: "person", ownerID: card.personId)
        var available: Int64 = 0
        if settling {
            let opened = try await tx.openAccount(kind: .medicalPersonal, ownerType: "person", ownerID: card.personId, atMs: nowMs)
            let balance = try await tx.lockedBalances([opened.id])[opened.id]
            account = try await tx.account(id: opened.id)
            available = balance.map { $0.debitsBlocked ? 0 : $0.available } ?? 0
        } else if let account {
            available = account.debitsBlocked ? 0 : account.postedFen - account.pendingDebitsFen
        }
        let values = try await tx.accumulators(personID: card.personId, year: today.year)
        let before = SettlementRules.Accumulators(
            deductibleMetFen: values[SettlementRules.AccumulatorKey.deductible(visit)] ?? 0,
            fundPaidYearFen: values[SettlementRules.AccumulatorKey.fundYear] ?? 0,
            fundPaidVisitTypeFen: values[SettlementRules.AccumulatorKey.fund(visit)] ?? 0)
        let usable = body.usePersonalAccount ?? true ? max(0, available) : 0
        let breakdown = try SettlementRules.adjudicate(policy: policy, visit: visit, tier: provider.tier.map(Int.init), lines: lines,
                                                       before: before, personalAccountAvailableFen: usable)
        return Case(card: card, enrolment: enrolment, policy: policy, policyVersion: policyRecord.version, catalogueVersion: catalogue.version,
                     lines: lines, personalAccount: account, personalAvailableFen: available, accumulators: before, breakdown: breakdown)
    }

    static func detail(_ c: Case) -> Detail {
        Detail(lines: zip(c.lines, c.breakdown.lines).map { Detail.Line(item: $0.item, quantity: $0.quantity, unitPriceFen: $0.unitPriceFen, parts: $1) },
               total: c.breakdown.total, after: c.breakdown.after, annualFundCapFen: c.policy.annualFundCapFen,
               personalAccountBalanceFen: (c.personalAccount?.postedFen ?? 0) - c.breakdown.total.personalAccountFen)
    }

    func settle(_ request: Request, _ context: AppContext, quote: Bool) async throws -> Response {
        let (terminal, provider) = try await providerTerminal(context)
        let (body, bytes) = try await JSON.decode(Schemas.SettlementRequest.self, from: request, limit: 256 * 1024)
        try JSON.refuseNull(bytes, members: ["card_number", "pin", "dynamic_code", "use_personal_account", "cash_method", "provider_reference"])
        let visit: VisitType = try API.domain(body.visitType)
        guard provider.providerKind?.visitTypes.contains(visit) == true else {
            throw DomainError.rule("health.visit_not_offered", "a \(provider.kind) does not settle \(visit.rawValue) visits")
        }
        guard (1...SettlementRules.linesMax).contains(body.lines.count) else {
            throw DomainError.malformed("health.bill_invalid", "a bill has 1-\(SettlementRules.linesMax) lines, got \(body.lines.count)")
        }
        for (index, line) in body.lines.enumerated() where !MedicalCatalogue.isValidCode(line.code) {
            throw DomainError.malformed("health.bill_invalid", "lines[\(index)].code must be 1-64 of A-Z, a-z, 0-9, '.', '-', '_'")
        }
        let cashMethod = body.cashMethod?.rawValue ?? "counter"
        let reference = body.providerReference?.trimmingWhitespace() ?? ""
        if let given = body.providerReference, !(1...64).contains(given.scalarCount) {
            throw DomainError.malformed("health.reference_invalid", "provider_reference (the provider's invoice number) must be 1-64 characters")
        }
        if !quote {
            guard (1...64).contains(reference.scalarCount), !reference.containsControlCharacters else {
                throw DomainError.malformed("health.reference_invalid", "provider_reference (the provider's invoice number) must be 1-64 characters")
            }
            _ = try Idempotency.key(from: request, required: true)
        }
        let actor = terminal.auditName
        let time = clock.read()
        let who = try await identify(body, actor: actor, at: time)
        if quote {
            let dto = try await store.read { tx in
                let c = try await loadCase(tx, body, who: who, provider: provider, visit: visit, today: time.today, nowMs: time.ms, settling: false)
                return try Self.view(ViewInput(
                    id: nil, status: .quote, visit: visit, provider: provider, insuredCity: c.enrolment.cityCode, policyYear: c.policy.year,
                    policyVersion: c.policyVersion, catalogueVersion: c.catalogueVersion, cardNumber: c.card.cardNumber, providerReference: nil,
                    detail: Self.detail(c), cashMethod: cashMethod, atMs: time.ms))
            }
            return try JSON.response(dto, headers: [.cacheControl: "no-store"])
        }
        let id = newID()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: actor, nowMs: time.ms,
                                           keyRequired: true, isolation: .lockedRows) { tx in
            if let code = who.code { try await dynamicCodes.redeem(tx, code, by: actor, nowMs: time.ms) }
            let c = try await loadCase(tx, body, who: who, provider: provider, visit: visit, today: time.today, nowMs: time.ms, settling: true)
            let total = c.breakdown.total
            var postings: [Posting] = []
            if total.fundFen > 0 || total.personalAccountFen > 0 || (total.cashFen > 0 && cashMethod == "financial_account") {
                let providerAccount = try await tx.openAccount(kind: .medicalProviderSettlement, ownerType: HealthController.providerOwnerType,
                                                               ownerID: provider.id, atMs: time.ms)
                if total.fundFen > 0 {
                    let fund = try await tx.openAccount(kind: .medicalPoolingFund, ownerType: HealthController.cityOwnerType,
                                                        ownerID: c.enrolment.cityCode, atMs: time.ms)
                    postings.append(Posting(debit: fund.id, credit: providerAccount.id, amountFen: total.fundFen, kind: "medical_fund",
                                            referenceType: Self.referenceType, referenceID: id))
                }
                if total.personalAccountFen > 0, let personal = c.personalAccount {
                    postings.append(Posting(debit: personal.id, credit: providerAccount.id, amountFen: total.personalAccountFen,
                                            kind: "medical_personal_account", referenceType: Self.referenceType, referenceID: id))
                }
                if total.cashFen > 0 && cashMethod == "financial_account" {
                    guard who.pinVerified else {
                        throw DomainError.rule("health.pin_required", "paying from the card's financial account needs the card's PIN")
                    }
                    let financial = try await MoneyPostings.cardAccount(tx, card: c.card, kind: .financial, nowMs: time.ms)
                    postings.append(Posting(debit: financial.id, credit: providerAccount.id, amountFen: total.cashFen, kind: "medical_copay",
                                            referenceType: Self.referenceType, referenceID: id))
                    try await Inbox.noteDebit(tx, account: financial, amountFen: total.cashFen,
                                              what: LocalizedName(en: "Medical bill at \(provider.nameEn)", zh: "在\(provider.nameZh)结算医疗费用"), nowMs: time.ms)
                }
            }
            let detail = Self.detail(c)
            let sealed = try tx.sealSettlementDetail(String(decoding: try JSONEncoder().encode(detail), as: UTF8.self))
            let record = HealthSettlementRecord(
                id: id, personId: c.card.personId, cardNumber: c.card.cardNumber, providerId: provider.id, terminalId: terminal.id,
                visitType: visit.rawValue, tier: provider.tier, insuredCity: c.enrolment.cityCode, providerCity: provider.cityCode,
                policyYear: Int64(c.policy.year), policyVersion: c.policyVersion, catalogueVersion: c.catalogueVersion, amountFen: total.amountFen,
                fundFen: total.fundFen, personalAccountFen: total.personalAccountFen, cashFen: total.cashFen, cashMethod: cashMethod,
                deductibleCountedFen: c.breakdown.deductibleCountedFen, detailSealed: sealed, providerReference: reference, createdAtMs: time.ms)
            try await tx.insertSettlement(record)
            try await tx.registerReference(type: Self.referenceType, id: id, atMs: time.ms)
            if !postings.isEmpty { _ = try await tx.post(postings, atMs: time.ms) }
            try await tx.addToAccumulators(personID: c.card.personId, year: c.policy.year, Self.accumulatorDeltas(record, sign: 1))
            try await tx.appendAudit(actor: actor, action: "health.settle", objectType: "health_settlement", objectID: id,
                                     detail: "provider=\(provider.id) fund=\(total.fundFen) personal=\(total.personalAccountFen) cash=\(total.cashFen)",
                                     atMs: time.ms)
            return try .json(try Self.view(ViewInput(
                id: id, status: .settled, visit: visit, provider: provider, insuredCity: c.enrolment.cityCode, policyYear: c.policy.year,
                policyVersion: c.policyVersion, catalogueVersion: c.catalogueVersion, cardNumber: c.card.cardNumber,
                providerReference: reference, detail: detail, cashMethod: cashMethod, atMs: time.ms)),
                             headers: ["Cache-Control": "no-store"])
        }
    }

    /// What a settlement added to the person's yearly accumulators (sign -1 takes it back).
    static func accumulatorDeltas(_ settlement: HealthSettlementRecord, sign: Int64) -> [String: Int64] {
        guard let visit = VisitType(rawValue: settlement.visitType) else { return [:] }
        let fundYear = SettlementRules.AccumulatorKey.fundYear
        let fundVisit = SettlementRules.AccumulatorKey.fund(visit)
        let deductible = SettlementRules.AccumulatorKey.deductible(visit)
        return [fundYear: sign * settlement.fundFen, fundVisit: sign * settlement.fundFen, deductible: sign * settlement.deductibleCountedFen]
    }

    // MARK: reversal

    func reverse(_ request: Request, _ context: AppContext, id: String) async throws -> Response {
        let (terminal, provider) = try await providerTerminal(context)
        let (body, bytes) = try await JSON.decode(Schemas.ReversalRequest.self, from: request, limit: 16 * 1024)
        let reason = body.reason.trimmingWhitespace()
        guard (1...200).contains(reason.scalarCount), !reason.containsControlCharacters else {
            throw DomainError.malformed("health.reason_invalid", "reason must be 1-200 characters")
        }
        let actor = terminal.auditName
        let now = clock.nowMs()
        let reversalID = newID()
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: actor, nowMs: now,
                                           keyRequired: true, isolation: .lockedRows) { tx in
            let settlement = try await Self.settlement(tx, id: id) { $0.providerId == provider.id }
            let personal = try await tx.openAccount(kind: .medicalPersonal, ownerType: "person", ownerID: settlement.personId, atMs: now)
            try await tx.lockAccounts([personal.id])
            guard try await tx.markSettlementReversed(id: id, reversalID: reversalID, atMs: now) else {
                throw DomainError.conflict("health.already_reversed", "settlement \(id) was already reversed")
            }
            for transfer in try await tx.transfers(referenceType: Self.referenceType, referenceID: id) where transfer.reversesTransferId == nil {
                try await tx.reverse(transferID: transfer.id, kind: "medical_reversal", atMs: now)
            }
            try await tx.addToAccumulators(personID: settlement.personId, year: Int(settlement.policyYear),
                                           Self.accumulatorDeltas(settlement, sign: -1))
            try await tx.appendAudit(actor: actor, action: "health.reverse", objectType: "health_settlement", objectID: id,
                                     detail: "reversal=\(reversalID) fund=\(settlement.fundFen) personal=\(settlement.personalAccountFen) cash=\(settlement.cashFen) reason=\(reason.prefix(100))",
                                     atMs: now)
            guard let updated = try await tx.settlement(id: id) else { throw StoreError.corrupt("settlement \(id) vanished") }
            return try .json(try await view(tx, updated), status: .ok, headers: ["Cache-Control": "no-store"])
        }
    }
}
