import Foundation
package import JoinInAPI
import Hummingbird
import JoinInCore
package import JoinInStore

/// `POST /v1/transit/tap-batches`: checks every tap on its own (a bad tap never sinks the batch),
/// stores the new ones once per (terminal, sequence), and re-prices the weeks they fall in.
extension TransitController {
    struct CheckedTap {
        let index: Int
        let record: TransitTapRecord
    }

    func uploadTaps(_ request: Request, _ context: AppContext) async throws -> Response {
        let terminal = try context.terminal()
        guard let operatorID = terminal.bindingID else {
            throw DomainError.forbidden("auth.forbidden", "this validator is not bound to a transit operator")
        }
        let (body, bytes) = try await JSON.decode(Schemas.TapBatchRequest.self, from: request, limit: Self.batchBytesMax)
        guard !body.taps.isEmpty else { throw DomainError.malformed("transit.batch_empty", "taps must hold 1-\(TransitRules.tapsPerBatchMax) taps") }
        guard body.taps.count <= TransitRules.tapsPerBatchMax else {
            throw DomainError.malformed("transit.batch_too_large", "at most \(TransitRules.tapsPerBatchMax) taps per batch, got \(body.taps.count)")
        }
        let taps = body.taps
        // What the schema says of each tap is a 400 for the whole batch (a gate sending malformed
        // taps has a bug to fix); what only the data can tell (a check digit, an impossible date,
        // an unknown stop) is a per-tap rejection.
        for (index, tap) in taps.enumerated() {
            let field = "taps[\(index)]"
            guard tap.sequence >= 0 else { throw DomainError.malformed("request.invalid_json", "\(field).sequence must be ≥ 0") }
            guard tap.cardNumber.utf8.count == 19, tap.cardNumber.allSatisfy(\.isASCIIDigit) else {
                throw DomainError.malformed("request.invalid_json", "\(field).card_number must be 19 digits")
            }
            guard (1...255).contains(tap.stopId.utf8.count) else {
                throw DomainError.malformed("request.invalid_json", "\(field).stop_id must be 1-255 bytes")
            }
            if let route = tap.routeId, !(1...255).contains(route.utf8.count) {
                throw DomainError.malformed("request.invalid_json", "\(field).route_id must be 1-255 bytes")
            }
            guard tap.time.utf8.count <= 40, Self.timeShape.matches(tap.time) else {
                throw DomainError.malformed("request.invalid_json", "\(field).time must be RFC 3339 with a UTC offset")
            }
        }
        let now = clock.nowMs()
        let batchID = newID()
        let feeds = self.feeds
        return try await Idempotency.write(store: store, request: request, body: bytes, principal: terminal.auditName, nowMs: now,
                                           isolation: .lockedRows) { tx in
            try .json(try await Self.ingest(tx, terminalID: terminal.id, actor: terminal.auditName, operatorID: operatorID, taps: taps,
                                            batchID: batchID, now: now, feeds: feeds), status: .ok)
        }
    }

    /// One batch in the caller's write transaction: check each tap, store the new ones, re-price
    /// the weeks they fall in, audit. Also used by `joinin bench transit`.
    static func ingest(_ tx: StoreTx, terminalID: String, actor: String, operatorID: String, taps: [Schemas.Tap], batchID: String,
                       now: Int64, feeds: FareFeeds) async throws -> Schemas.TapBatchResult {
        let billing = TransitBilling(feeds: feeds)
        guard let operatorRecord = try await tx.transitOperator(id: operatorID) else {
            throw DomainError.forbidden("auth.forbidden", "this validator's operator \(operatorID.prefix(64)) does not exist")
        }
        let terms = try operatorRecord.terms()
        var results = [Schemas.TapOutcome?](repeating: nil, count: taps.count)
        func reject(_ index: Int, _ reason: TapRejection) throws {
            results[index] = Schemas.TapOutcome(sequence: taps[index].sequence, result: .rejected, reason: try API.value(reason.rawValue))
        }
        let interoperable = try await tx.city(code: operatorRecord.cityCode)?.isInteroperable ?? false
        let boundStop = try await tx.terminalStop(terminalID: terminalID)
        let versions = try await tx.fareVersions(operatorID: operatorID).sorted { $0.validFromMs < $1.validFromMs }
        let numbers = Set(taps.compactMap { try? CardNumber(validating: $0.cardNumber).value })
        let cards = try await tx.cardStates(numbers: numbers)
        let windows = try await tx.permitWindows(personIDs: Set(cards.values.map(\.personId)))

        // A tap stored before is judged against what was stored, not against today's rules: a
        // re-upload is a duplicate even if, say, the card has been reported lost since.
        let previously = Dictionary(try await tx.taps(terminalID: terminalID, sequences: taps.map(\.sequence)).map { ($0.sequence, $0) },
                                    uniquingKeysWith: { first, _ in first })
        var checked: [CheckedTap] = []
        var firstIndex: [Int64: Int] = [:]
        for (index, tap) in taps.enumerated() {
            guard let time = TapTime(tap.time) else { try reject(index, .timeInvalid); continue }
            let number = try? CardNumber(validating: tap.cardNumber).value
            if let stored = previously[tap.sequence] {
                let same = (stored.cardNumber, stored.tappedAtMs, stored.utcOffsetMinutes, stored.kind, stored.stopId, stored.routeId)
                    == (number ?? tap.cardNumber, time.unixMs, Int64(time.utcOffsetMinutes), tap.kind.rawValue, tap.stopId, tap.routeId)
                if same {
                    results[index] = Schemas.TapOutcome(sequence: tap.sequence, result: .duplicate)
                } else {
                    try reject(index, .sequenceReused)
                }
                continue
            }
            let card = number.flatMap { cards[$0] }
            let state = card.flatMap { card in card.cardStatus.map { (status: $0, changedAtMs: card.statusChangedAtMs) } }
            if let reason = TransitRules.check(tapMs: time.unixMs, nowMs: now, cityInteroperable: interoperable, card: state) {
                try reject(index, reason)
                continue
            }
            guard let number, let card else { try reject(index, .cardUnknown); continue }
            guard let version = versions.last(where: { $0.validFromMs <= time.unixMs }) else { try reject(index, .noFareData); continue }
            let feed = try await feeds.engine(tx, versionID: version.id).feed
            if let reason = TransitRules.checkPlace(stopID: tap.stopId, routeID: tap.routeId, boundStopID: boundStop, feed: feed) {
                try reject(index, reason)
                continue
            }
            let local = FareEngine.LocalTime(unixMs: time.unixMs, utcOffsetMinutes: time.utcOffsetMinutes)
            let discounted = windows[card.personId]?.contains { $0.covers(date: local.date, atMs: time.unixMs) } ?? false
            let week = TripPricing.serviceDay(unixMs: time.unixMs, utcOffsetMinutes: time.utcOffsetMinutes).mondayOfWeek
            let record = TransitTapRecord(
                terminalId: terminalID, sequence: tap.sequence, operatorId: operatorID, cityCode: operatorRecord.cityCode,
                personId: card.personId, cardNumber: number, fareVersionId: version.id, tappedAtMs: time.unixMs,
                utcOffsetMinutes: Int64(time.utcOffsetMinutes), kind: tap.kind.rawValue, stopId: tap.stopId, routeId: tap.routeId,
                cardholderFare: discounted, terms: terms, serviceWeek: week.description, batchId: batchID, receivedAtMs: now)
            // The same sequence twice in one batch: the first one stands.
            if let first = firstIndex[tap.sequence] {
                if let earlier = checked.first(where: { $0.index == first }), earlier.record.sameTap(as: record) {
                    results[index] = Schemas.TapOutcome(sequence: tap.sequence, result: .duplicate)
                } else {
                    try reject(index, .sequenceReused)
                }
                continue
            }
            firstIndex[tap.sequence] = index
            checked.append(CheckedTap(index: index, record: record))
        }

        let inserted = try await tx.insertTaps(checked.map(\.record))
        // Not inserted although not stored before: a concurrent upload of the same tap won.
        let stored = try await tx.taps(terminalID: terminalID, sequences: checked.map(\.record.sequence).filter { !inserted.contains($0) })
        let storedBySequence = Dictionary(stored.map { ($0.sequence, $0) }, uniquingKeysWith: { first, _ in first })
        var units = Set<TransitUnit>()
        for tap in checked {
            let sequence = tap.record.sequence
            if inserted.contains(sequence) {
                results[tap.index] = Schemas.TapOutcome(sequence: sequence, result: .accepted)
                units.insert(TransitUnit(personID: tap.record.personId, cityCode: tap.record.cityCode, serviceWeek: tap.record.serviceWeek))
            } else if let existing = storedBySequence[sequence], existing.sameTap(as: tap.record) {
                results[tap.index] = Schemas.TapOutcome(sequence: sequence, result: .duplicate)
            } else {
                try reject(tap.index, .sequenceReused)
            }
        }
        let outcome = try await billing.reprice(tx, units: units, batchID: batchID, nowMs: now)
        let final = try results.enumerated().map { index, result in
            guard let result else { throw StoreError.corrupt("transit: tap \(index) of batch \(batchID) got no outcome") }
            return result
        }
        let accepted = final.filter { $0.result == .accepted }.count
        let duplicates = final.filter { $0.result == .duplicate }.count
        try await tx.appendAudit(actor: actor, action: "transit.tap_batch", objectType: "transit_operator", objectID: operatorID,
                                 detail: "batch=\(batchID) taps=\(taps.count) accepted=\(accepted) duplicates=\(duplicates) charges=\(outcome.charges) adjustments=\(outcome.adjustments) fen=\(outcome.chargedFen)",
                                 atMs: now)
        return Schemas.TapBatchResult(batchId: batchID, accepted: accepted, duplicates: duplicates,
                                      rejected: final.count - accepted - duplicates, results: final)
    }
}

extension TransitController {
    /// The spec's pattern for `Tap.time`: `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)`, digits only where digits go.
    enum timeShape {
        static func matches(_ text: String) -> Bool {
            let bytes = Array(text.utf8)
            func digit(_ i: Int) -> Bool { i < bytes.count && (48...57).contains(bytes[i]) }
            func char(_ i: Int, _ c: Character) -> Bool { i < bytes.count && bytes[i] == c.asciiValue }
            guard bytes.count >= 20, [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18].allSatisfy(digit),
                  char(4, "-"), char(7, "-"), char(10, "T"), char(13, ":"), char(16, ":") else { return false }
            var i = 19
            if char(i, ".") {
                i += 1
                let start = i
                while digit(i) { i += 1 }
                guard (1...9).contains(i - start) else { return false }
            }
            if char(i, "Z") { return i + 1 == bytes.count }
            guard char(i, "+") || char(i, "-"), i + 6 == bytes.count else { return false }
            return digit(i + 1) && digit(i + 2) && char(i + 3, ":") && digit(i + 4) && digit(i + 5)
        }
    }
}

/// `joinin bench transit` drives the same ingestion as `POST /v1/transit/tap-batches`, without HTTP.
package enum TransitBenchAccess {
    package static func ingest(store: Store, feeds: FareFeeds, terminalID: String, operatorID: String, taps: [Components.Schemas.Tap],
                               nowMs: Int64) async throws -> Components.Schemas.TapBatchResult {
        try await store.write(isolation: .lockedRows) { tx in
            try await TransitController.ingest(tx, terminalID: terminalID, actor: "terminal:\(terminalID)", operatorID: operatorID, taps: taps,
                                               batchID: newID(), now: nowMs, feeds: feeds)
        }
    }
}
