import JoinInCore
@testable import JoinInServer
import Testing

/// The spec's enumerations and the domain's are the same sets: a value the code can produce is
/// always one the spec (and so every generated client) knows, and every value the spec accepts
/// means something to the code. `API.value` would answer 500 on a mismatch; this finds it first.
@Suite("Spec enumerations match the domain's")
struct APIEnumTests {
    static func same<Domain: CaseIterable & RawRepresentable<String>, Spec: CaseIterable & RawRepresentable<String>>(
        _: Domain.Type, _: Spec.Type) -> Bool {
        Set(Domain.allCases.map(\.rawValue)) == Set(Spec.allCases.map(\.rawValue))
    }

    @Test("every shared enumeration lists exactly the domain's values")
    func enumerations() {
        #expect(Self.same(StaffRole.self, Schemas.StaffRole.self))
        #expect(Self.same(TerminalKind.self, Schemas.TerminalKind.self))
        #expect(Self.same(DepartmentCode.self, Schemas.DepartmentCode.self))
        #expect(Self.same(PermitCategory.self, Schemas.PermitCategory.self))
        #expect(Self.same(DocumentKind.self, Schemas.DocumentKind.self))
        #expect(Self.same(ApplicationStatus.self, Schemas.ApplicationStatus.self))
        #expect(Self.same(PermitStatus.self, Schemas.PermitStatus.self))
        #expect(Self.same(Sex.self, Schemas.Sex.self))
        #expect(Self.same(CardStatus.self, Schemas.CardStatus.self))
        #expect(Self.same(ECardRules.Benefit.self, Schemas.ECardBenefit.self))
        #expect(Self.same(CredentialVerdict.self, Schemas.CredentialVerdict.self))
        #expect(Set(Schemas.ResidenceProofKind.allCases.map(\.rawValue)) == CardRules.residenceProofKinds)
        #expect(Set(Schemas.Account.KindPayload.allCases.map(\.rawValue))
                == Set(AccountKind.allCases.filter(\.isCardholderAccount).map(\.rawValue)))
        #expect(Set(Schemas.DepositRequest.AccountPayload.allCases.map(\.rawValue)) == ["financial", "transitWallet"])
        #expect(Self.same(TripPricing.ExitWithoutEntry.self, Schemas.ExitWithoutEntry.self))
        #expect(Self.same(TripPricing.TapKind.self, Schemas.Tap.KindPayload.self))
        #expect(Self.same(TripPricing.TripKind.self, Schemas.Trip.KindPayload.self))
        #expect(Self.same(TapRejection.self, Schemas.TapRejection.self))
        #expect(Self.same(ProviderKind.self, Schemas.ProviderKind.self))
        #expect(Self.same(InsuranceType.self, Schemas.InsuranceType.self))
        #expect(Self.same(VisitType.self, Schemas.VisitType.self))
        #expect(Self.same(PatientPart.self, Schemas.PatientPart.self))
        #expect(Self.same(ItemClass.self, Schemas.CatalogueItem.ClassPayload.self))
        #expect(Self.same(ItemClass.self, Schemas.SettlementLine.ClassPayload.self))
        #expect(Self.same(ItemKind.self, Schemas.CatalogueItem.KindPayload.self))
        #expect(Self.same(DeductiblePeriod.self, Schemas.VisitRules.DeductiblePeriodPayload.self))
        #expect(Self.same(HoldStatus.self, Schemas.HoldStatus.self))
        #expect(Self.same(VenueKind.self, Schemas.VenueKind.self))
        #expect(Self.same(MerchantCategory.self, Schemas.MerchantCategory.self))
        #expect(Self.same(OfferFunding.self, Schemas.OfferFunding.self))
        #expect(Self.same(OfferRefusal.self, Schemas.OfferRefusal.self))
        #expect(Self.same(InboxKind.self, Schemas.InboxKind.self))
        #expect(Self.same(RegistrationStatus.self, Schemas.RegistrationStatus.self))
        #expect(Self.same(PrefillSource.self, Schemas.PrefillSource.self))
        #expect(Self.same(FormFieldType.self, Schemas.FormField._TypePayload.self))
        #expect(Self.same(ServiceOutcome.self, Schemas.Service.OutcomePayload.self))
        #expect(Self.same(RequestStatus.self, Schemas.ServiceRequest.StatusPayload.self))
        // The clerk's actions are every action but the cardholder's answer.
        #expect(Set(Schemas.ServiceRequestAction.ActionPayload.allCases.map(\.rawValue))
                == Set(RequestAction.allCases.filter { $0 != .answer }.map(\.rawValue)))
        #expect(Set(Schemas.VenueEntrySource.allCases.map(\.rawValue)) == ["card", "qr", "offline"])
        // Deny-list reasons: the card states that stop a card, and transit debt.
        #expect(Set(Schemas.DenyListChange.ReasonPayload.allCases.map(\.rawValue))
                == Set(CardStatus.allCases.filter { !$0.isLive || $0 == .lost }.map(\.rawValue)).union(["transit_debt"]))
    }

    @Test("every ISO 3166 alpha-3 code the domain accepts is in the spec, and no other")
    func countries() throws {
        #expect(Set(Schemas.CountryCode.allCases.map(\.rawValue)) == CountryCode.all)
    }
}
