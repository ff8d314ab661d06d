import Foundation
import JoinInAPI
import JoinInCore
import JoinInStore

/// Which offer a payment (or its quote) uses: the shared path of `POST /v1/payments` and
/// `POST /v1/payments/quotes`, so a quote answers exactly what the payment would do.
enum OfferSelection {
    /// The till's choice: the best offer (default), none, or one named offer.
    enum Choice: Equatable {
        case best, none, named(String)

        static func parse(_ text: String?) throws -> Choice {
            switch text {
            case nil, "best"?: return .best
            case "none"?: return .none
            case let id?:
                guard UUID(uuidString: id) != nil, id == id.lowercased() else {
                    throw DomainError.malformed("payment.offer_invalid", "offer must be best, none or an offer id")
                }
                return .named(id)
            }
        }
    }

    struct Evaluated {
        let record: OfferRecord
        let candidate: OfferCandidate
        let result: Result<Int64, OfferRefusalError>
    }

    /// Every offer covering `merchant` today, evaluated for `priceFen` and (when known) the
    /// person's permit and usage, in the order a payment tries them: eligible ones best first,
    /// then the rest.
    static func evaluate(_ tx: StoreTx, merchant: MerchantRecord, personID: String?, priceFen: Int64,
                         time: AppClock.Reading) async throws -> [Evaluated] {
        let records = try await tx.offers(covering: merchant, on: time.today)
        guard !records.isEmpty else { return [] }
        var permitValid = true
        var usage: [String: OfferUsage] = [:]
        if let personID {
            guard let person = try await tx.person(id: personID) else { throw StoreError.corrupt("person \(personID) vanished") }
            permitValid = try await tx.latestPermit(number: person.permitNumber)?.status(today: time.today) == .valid
            usage = try await tx.offerUsage(personID: personID, offerIDs: Set(records.map(\.id)), day: time.today.shanghaiDayMs)
        }
        let minute = OfferRules.shanghaiMinute(ms: time.ms)
        let evaluated = try records.map { record in
            let candidate = try record.candidate()
            return Evaluated(record: record, candidate: candidate,
                             result: OfferRules.evaluate(candidate, priceFen: priceFen, day: time.today, minute: minute,
                                                         usage: usage[record.id] ?? OfferUsage(today: 0, total: 0), permitValid: permitValid))
        }
        let eligible = evaluated.compactMap { item -> (candidate: OfferCandidate, discountFen: Int64)? in
            guard case .success(let discount) = item.result else { return nil }
            return (item.candidate, discount)
        }
        let order = OfferRules.ranked(eligible).map(\.candidate.id)
        let byID = Dictionary(uniqueKeysWithValues: evaluated.map { ($0.record.id, $0) })
        return order.compactMap { byID[$0] } + evaluated.filter { if case .failure = $0.result { return true } else { return false } }
    }

    /// The offers `choice` allows a payment to try, in order.
    static func tries(_ evaluated: [Evaluated], choice: Choice) throws -> [(record: OfferRecord, discountFen: Int64)] {
        switch choice {
        case .none:
            return []
        case .best:
            return evaluated.compactMap { item in
                guard case .success(let discount) = item.result else { return nil }
                return (item.record, discount)
            }
        case .named(let id):
            guard let item = evaluated.first(where: { $0.record.id == id }) else {
                throw DomainError.rule("offer.not_applicable", "offer \(id) does not cover this merchant today")
            }
            switch item.result {
            case .success(let discount): return [(item.record, discount)]
            case .failure(let refusal):
                throw DomainError.rule("offer.not_applicable", "offer \(id) does not apply: \(refusal.refusal.rawValue)")
            }
        }
    }

    static func applied(_ record: OfferRecord) -> Schemas.AppliedOffer {
        Schemas.AppliedOffer(offerId: record.id, title: API.name(record.title), funding: record.funding == OfferFunding.subsidy.rawValue ? .subsidy : .merchant)
    }
}
