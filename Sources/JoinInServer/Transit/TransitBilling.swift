import Foundation
import JoinInCore
import JoinInStore
import Synchronization

/// Parsed fare versions, by id. A version never changes once imported, so a cached engine is
/// always right; the cache is bounded (cleared when full — versions are few and cheap to reload).
package final class FareFeeds: Sendable {
    static let cachedMax = 256
    package init() {}
    private let engines = Mutex<[String: FareEngine]>([:])

    func engine(_ tx: StoreTx, versionID: String) async throws -> FareEngine {
        if let cached = engines.withLock({ $0[versionID] }) { return cached }
        guard let json = try await tx.fareFeedJSON(versionID: versionID) else {
            throw StoreError.corrupt("transit: fare version \(versionID) is missing")
        }
        let engine = FareEngine(feed: try JSONDecoder().decode(FareFeed.self, from: Data(json.utf8)))
        engines.withLock { cache in
            if cache.count >= Self.cachedMax { cache.removeAll() }
            cache[versionID] = engine
        }
        return engine
    }

    func engines(_ tx: StoreTx, versionIDs: Set<String>) async throws -> [String: FareEngine] {
        var result: [String: FareEngine] = [:]
        for id in versionIDs.sorted() { result[id] = try await engine(tx, versionID: id) }
        return result
    }
}

/// Re-prices cardholders' weeks after taps arrive and moves the difference through the ledger:
/// charges from the transit wallet (the shortfall as transit debt), adjustments back (debt first).
/// Runs inside the write transaction that stored the taps.
struct TransitBilling: Sendable {
    let feeds: FareFeeds

    static let debtorOwnerType = "transit_debtor"
    static let operatorOwnerType = "transit_operator"

    struct Outcome: Sendable {
        var charges = 0
        var adjustments = 0
        var chargedFen: Int64 = 0
    }

    func reprice(_ tx: StoreTx, units: Set<TransitUnit>, batchID: String, nowMs: Int64) async throws -> Outcome {
        guard !units.isEmpty else { return Outcome() }
        let personIDs = Set(units.map(\.personID))
        // Lock every touched wallet first (ascending id): a concurrent batch for the same
        // cardholder waits here, then reads the taps and charges this one committed.
        let wallets = try await tx.openAccounts(kind: .transitWallet, ownerType: "person", ownerIDs: personIDs, atMs: nowMs)
        let debts = try await tx.openAccounts(kind: .transitDebt, ownerType: Self.debtorOwnerType, ownerIDs: personIDs, atMs: nowMs)
        var balances = try await tx.lockedBalances(Set(wallets.values.map(\.id)).union(debts.values.map(\.id)))
        let owedBefore = debts.mapValues { -(balances[$0.id]?.posted ?? 0) }

        let tapsByUnit = try await tx.taps(units: units)
        let posted = try await tx.chargedTotals(units: units)
        let allTaps = tapsByUnit.values.flatMap { $0 }
        let engines = try await feeds.engines(tx, versionIDs: Set(allTaps.map(\.fareVersionId)))
        let schedule = try await tx.transitCapSchedule(cityCodes: Set(units.map(\.cityCode)))

        var tripRecords: [TransitTripRecord] = []
        var charges: [TransitChargeRecord] = []
        var postings: [Posting] = []
        func move(_ from: String, _ to: String, _ fen: Int64, _ kind: String, _ chargeID: String) {
            guard fen > 0 else { return }
            postings.append(Posting(debit: from, credit: to, amountFen: fen, kind: kind, referenceType: "transit_charge", referenceID: chargeID))
        }
        var outcome = Outcome()
        var operatorAccounts: [String: LedgerAccountRecord] = [:]
        for unit in units.sorted() {
            let taps = try (tapsByUnit[unit] ?? []).map { try $0.pricingTap() }
            let trips = try TripPricing.price(taps: taps, engines: engines,
                                              caps: { schedule.caps(city: unit.cityCode, on: $0) })
            tripRecords += trips.map { Self.record($0, unit: unit, nowMs: nowMs) }
            let totals = TripPricing.totals(trips)
            let before = posted[unit] ?? [:]
            guard let wallet = wallets[unit.personID], let debt = debts[unit.personID] else {
                throw StoreError.corrupt("transit: no accounts for \(unit.personID)")
            }
            for key in Set(totals.keys).union(before.keys).sorted() {
                let delta = totals[key, default: 0] - before[key, default: 0]
                guard delta != 0 else { continue }
                if operatorAccounts[key.operatorID] == nil {
                    operatorAccounts[key.operatorID] = try await tx.openAccount(kind: .transitOperatorSettlement,
                                                                                ownerType: Self.operatorOwnerType,
                                                                                ownerID: key.operatorID, atMs: nowMs)
                }
                guard let operatorAccount = operatorAccounts[key.operatorID],
                      var walletBalance = balances[wallet.id], var debtBalance = balances[debt.id] else {
                    throw StoreError.corrupt("transit: accounts vanished while billing \(unit.personID)")
                }
                let id = newID()
                let walletFen: Int64, debtFen: Int64
                if delta > 0 {
                    let split = TransitDebtRules.charge(delta, walletAvailableFen: walletBalance.available,
                                                        walletBlocked: walletBalance.debitsBlocked)
                    walletFen = split.walletFen
                    debtFen = split.debtFen
                    move(wallet.id, operatorAccount.id, split.walletFen, "transit_fare", id)
                    move(debt.id, operatorAccount.id, split.debtFen, "transit_fare_on_debt", id)
                } else {
                    let split = TransitDebtRules.credit(-delta, debtFen: -debtBalance.posted)
                    walletFen = -split.walletFen
                    debtFen = -split.debtFen
                    move(operatorAccount.id, debt.id, split.debtFen, "transit_adjustment", id)
                    move(operatorAccount.id, wallet.id, split.walletFen, "transit_adjustment", id)
                }
                walletBalance.posted -= walletFen
                debtBalance.posted -= debtFen
                balances[wallet.id] = walletBalance
                balances[debt.id] = debtBalance
                let kind = before[key] == nil ? "charge" : "adjustment"
                if kind == "charge" { outcome.charges += 1 } else { outcome.adjustments += 1 }
                outcome.chargedFen += delta
                charges.append(TransitChargeRecord(
                    id: id, personId: unit.personID, operatorId: key.operatorID, cityCode: unit.cityCode,
                    serviceDay: key.serviceDay.description, serviceWeek: unit.serviceWeek, kind: kind, amountFen: delta,
                    walletFen: walletFen, debtFen: debtFen, batchId: batchID, createdAtMs: nowMs))
            }
        }
        try await tx.replaceTrips(units: units, with: tripRecords)
        try await tx.registerReferences(type: "transit_charge", ids: charges.map(\.id), atMs: nowMs)
        try await tx.insertTransitCharges(charges)
        for start in stride(from: 0, to: postings.count, by: LedgerRules.batchSizeMax) {
            try await tx.post(Array(postings[start..<min(start + LedgerRules.batchSizeMax, postings.count)]), atMs: nowMs)
        }
        // Only cardholders who owe, or owed before this batch, can need a deny-list change.
        for person in personIDs.sorted() {
            guard let debt = debts[person], let balance = balances[debt.id] else { continue }
            let owed = -balance.posted
            if owed > 0 || owedBefore[person, default: 0] > 0 {
                try await Self.refreshDenyListing(tx, personID: person, owedFen: owed, nowMs: nowMs)
            }
            // A new or larger transit debt: tell the holder (once per Shanghai day at most).
            if owed > owedBefore[person, default: 0] {
                let day = CivilDate.shanghai(unixSeconds: nowMs / 1000)
                try await Inbox.post(tx, personID: person, kind: .transitDebt, plain: ["amount": InboxRules.yuan(owed)],
                                     link: (type: "account", id: "transitWallet"), dedupeKey: "transit-debt:\(day)", nowMs: nowMs)
            }
        }
        return outcome
    }

    static func record(_ trip: TripPricing.Trip, unit: TransitUnit, nowMs: Int64) -> TransitTripRecord {
        TransitTripRecord(
            id: trip.id, personId: unit.personID, cityCode: unit.cityCode, serviceWeek: unit.serviceWeek,
            serviceDay: trip.serviceDay.description, operatorId: trip.operatorID, kind: trip.kind.rawValue, fareVersionId: trip.feedVersionID,
            entryTapId: trip.entryTapID, exitTapId: trip.exitTapID, fromStopId: trip.fromStopID, toStopId: trip.toStopID,
            routeId: trip.routeID, startedAtMs: trip.startMs, endedAtMs: trip.endMs, utcOffsetMinutes: Int64(trip.utcOffsetMinutes),
            fareProductId: trip.fareProductID, cardholderFare: trip.cardholderFare ? 1 : 0, fullFareFen: trip.fullFareFen,
            fareFen: trip.fareFen, chargedFen: trip.chargedFen, isTransfer: trip.isTransfer ? 1 : 0, capApplied: trip.capApplied ? 1 : 0,
            noMatchingRule: trip.noMatchingRule ? 1 : 0, pricedAtMs: nowMs)
    }

    /// A cardholder in transit debt has every usable card on the deny list (reason
    /// `transit_debt`); once the debt is paid those entries go. Entries for a loss, replacement or
    /// cancellation are never touched here.
    static func refreshDenyListing(_ tx: StoreTx, personID: String, owedFen: Int64, nowMs: Int64) async throws {
        let listed = Dictionary(uniqueKeysWithValues: try await tx.denyListEntries(personID: personID).map { ($0.cardNumber, $0.reason) })
        for card in try await tx.cards(personID: personID) {
            if owedFen > 0 {
                guard card.cardStatus?.isLive == true, card.cardStatus != .lost, listed[card.cardNumber] == nil else { continue }
                try await tx.denyCard(card.cardNumber, personID: personID, reason: "transit_debt", atMs: nowMs)
            } else if listed[card.cardNumber] == "transit_debt" {
                try await tx.allowCard(card.cardNumber, reason: "transit_debt", atMs: nowMs)
            }
        }
    }

    /// Re-reads what the person owes and lists or unlists their cards accordingly.
    static func refreshDebtListing(_ tx: StoreTx, personID: String, nowMs: Int64) async throws {
        let debt = try await tx.account(kind: .transitDebt, ownerType: debtorOwnerType, ownerID: personID)
        try await refreshDenyListing(tx, personID: personID, owedFen: -(debt?.postedFen ?? 0), nowMs: nowMs)
    }

    /// After money arrives in the transit wallet: the debt is paid from it first.
    static func settleDebt(_ tx: StoreTx, personID: String, nowMs: Int64) async throws {
        guard let debt = try await tx.account(kind: .transitDebt, ownerType: debtorOwnerType, ownerID: personID),
              let wallet = try await tx.account(kind: .transitWallet, ownerType: "person", ownerID: personID) else { return }
        let balances = try await tx.lockedBalances([debt.id, wallet.id])
        guard let owed = balances[debt.id].map({ -$0.posted }), owed > 0, let walletBalance = balances[wallet.id],
              !walletBalance.debitsBlocked else { return }
        let amount = min(owed, max(0, walletBalance.available))
        if amount > 0 {
            let id = newID()
            try await tx.registerReference(type: "transit_debt_repayment", id: id, atMs: nowMs)
            try await tx.post([Posting(debit: wallet.id, credit: debt.id, amountFen: amount, kind: "transit_debt_repayment",
                                       referenceType: "transit_debt_repayment", referenceID: id)], atMs: nowMs)
        }
        try await refreshDenyListing(tx, personID: personID, owedFen: owed - amount, nowMs: nowMs)
    }

    /// A card that stops being usable is on the next deny-list version, in the same transaction.
    static func listCardChange(_ tx: StoreTx, card: CardRecord, to status: CardStatus, nowMs: Int64) async throws {
        switch status {
        case .lost, .replaced, .cancelled:
            try await tx.denyCard(card.cardNumber, personID: card.personId, reason: status.rawValue, atMs: nowMs)
        case .issued, .active, .frozen:
            break
        }
    }
}
