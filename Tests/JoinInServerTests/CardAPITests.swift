import Foundation
import HTTPTypes
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import Testing

@Suite("Card API")
struct CardAPITests {
    static var taxOK: [String: Any] { ["number": "TAX-3302-2026-88", "issued_on": "2026-06-30"] }
    static var residenceOK: [String: Any] { ["kind": "residence_permit", "number": "RP33020088", "valid_until": "2028-06-30"] }

    @Test("issuing checks the permit, the decision letter and the passport; one live card per person", arguments: TestStores.engines)
    func issue(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let permit = try await h.issuedPermit(world)
            let number = try #require(permit["number"] as? String)
            let letter = try #require(permit["decision_letter_number"] as? String)
            func issue(_ permitNumber: String = number, _ letterNumber: String = letter, _ passport: String = "K12345678") async throws -> Reply {
                try await h.call(.post, "/v1/cards", token: world.clerk,
                                 json: ["permit_number": permitNumber, "decision_letter_number": letterNumber, "passport_number": passport])
            }
            #expect(try await issue(number, "WPD-2026-99999999").code == "card.decision_letter_mismatch")
            #expect(try await issue(number, letter, "K12345679").code == "card.passport_mismatch")
            #expect(try await issue("W3302002026999999X").status == .badRequest)
            let unknown = try PermitNumber(cityCode: "330200", year: 2026, serial: 999)
            #expect(try await issue(unknown.value).code == "permit.not_found")
            let officerTry = try await h.call(.post, "/v1/cards", token: world.officer,
                                              json: ["permit_number": number, "decision_letter_number": letter, "passport_number": "K12345678"])
            #expect(officerTry.status == .forbidden)
            let card = try await issue(number, letter.lowercased(), " k12345678 ")
            #expect(card.status == .created, "\(card.text)")
            let cardNumber = try #require(card.string("card_number"))
            #expect(cardNumber.count == 19)
            #expect(cardNumber.hasPrefix("623091"))
            #expect(Luhn.isValid(cardNumber))
            #expect(card.string("status") == "issued")
            #expect(card.value("financial_functions") as? Bool == false)
            #expect(card.string("permit_number") == number)
            let second = try await issue()
            #expect(second.status == .conflict)
            #expect(second.code == "card.already_issued")
            #expect(second.string("detail")?.contains(cardNumber) == false, "the other card number is shown masked")
            let shown = try await h.call(.get, "/v1/cards/\(cardNumber)", token: world.clerk)
            #expect(shown.string("card_number") == cardNumber)
            #expect(try await h.call(.get, "/v1/cards/6230910000000000000", token: world.clerk).status == .notFound)
            #expect(try await h.call(.get, "/v1/cards/not-a-card", token: world.clerk).status == .notFound)

            _ = try await h.call(.post, "/v1/permits/\(number)/cancellation", token: world.officer, json: ["reason": "contract ended"])
            _ = try await h.call(.post, "/v1/cards/\(cardNumber)/cancellation", token: world.clerk)
            #expect(try await issue().code == "permit.not_valid")
        }
    }

    @Test("activation sets a strong PIN; the state machine refuses impossible moves", arguments: TestStores.engines)
    func activationAndStates(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let card = try await h.issuedCard(world, permit: try await h.issuedPermit(world))
            let number = try #require(card["card_number"] as? String)
            func activate(_ pin: String) async throws -> Reply {
                try await h.call(.post, "/v1/cards/\(number)/activation", token: world.clerk, json: ["pin": pin])
            }
            #expect(try await activate("12345").code == "pin.format")
            #expect(try await activate("123456").code == "pin.weak")
            #expect(try await activate("000000").code == "pin.weak")
            #expect(try await activate("900401").code == "pin.weak", "the holder's birth date as YYMMDD")
            let active = try await activate("582931")
            #expect(active.status == .ok)
            #expect(active.string("status") == "active")
            #expect(active.value("pin_set") as? Bool == true)
            let stored = try await h.store.read { tx in try await tx.card(number: number) }
            #expect(stored?.pinHash?.contains("582931") == false)
            #expect(try await activate("582931").code == "card.invalid_transition")
            let lost = try await h.call(.post, "/v1/cards/\(number)/loss-report", token: world.clerk)
            #expect(lost.string("status") == "lost")
            #expect(try await h.call(.post, "/v1/cards/\(number)/loss-report", token: world.clerk).status == .conflict)
            let replaced = try await h.call(.post, "/v1/cards/\(number)/replacement", token: world.clerk)
            #expect(replaced.status == .created)
            let newNumber = try #require(replaced.string("card.card_number"))
            #expect(newNumber != number)
            #expect(replaced.string("card.status") == "issued")
            #expect(replaced.string("card.replaces_card_number") == number)
            let old = try await h.call(.get, "/v1/cards/\(number)", token: world.clerk)
            #expect(old.string("status") == "replaced")
            #expect(old.string("replaced_by_card_number") == newNumber)
            #expect(try await h.call(.post, "/v1/cards/\(number)/replacement", token: world.clerk).code == "card.invalid_transition")
            #expect(try await h.call(.post, "/v1/cards/\(number)/cancellation", token: world.clerk).code == "card.invalid_transition")
            let cancelled = try await h.call(.post, "/v1/cards/\(newNumber)/cancellation", token: world.clerk)
            #expect(cancelled.string("status") == "cancelled")
        }
    }

    @Test("financial functions need a current tax certificate and proof of residence", arguments: TestStores.engines)
    func financialFunctions(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let card = try await h.issuedCard(world, permit: try await h.issuedPermit(world))
            let number = try #require(card["card_number"] as? String)
            func enable(_ body: [String: Any]) async throws -> Reply {
                try await h.call(.post, "/v1/cards/\(number)/financial-functions", token: world.clerk, json: body)
            }
            #expect(try await enable(["residence_proof": Self.residenceOK]).code == "card.tax_certificate_missing")
            #expect(try await enable(["tax_certificate": Self.taxOK]).code == "card.residence_proof_missing")
            #expect(try await enable(["tax_certificate": ["number": "TAX-0001", "issued_on": "2025-12-01"], "residence_proof": Self.residenceOK]).code
                    == "card.tax_certificate_expired")
            #expect(try await enable(["tax_certificate": Self.taxOK,
                                      "residence_proof": ["kind": "residence_permit", "number": "RP1234", "valid_until": "2026-11-30"]]).code
                    == "card.residence_proof_expired")
            let hotel = try await enable(["tax_certificate": Self.taxOK,
                                          "residence_proof": ["kind": "hotel_receipt", "number": "RP1234", "valid_until": "2027-11-30"]])
            #expect(hotel.status == .badRequest && hotel.string("detail")?.hasPrefix("residence_proof.kind") == true, "\(hotel.text)")
            let enabled = try await enable(["tax_certificate": Self.taxOK, "residence_proof": Self.residenceOK])
            #expect(enabled.status == .ok, "\(enabled.text)")
            #expect(enabled.value("financial_functions") as? Bool == true)
            #expect(try await enable(["tax_certificate": Self.taxOK, "residence_proof": Self.residenceOK]).code == "card.financial_functions_enabled")
            let sealed = try await h.store.read { tx in
                try await tx.sql.raw("SELECT financial_documents_enc FROM cards").first()?.decode(column: "financial_documents_enc", as: String.self)
            }
            #expect(sealed?.contains("RP33020088") == false)
        }
    }
}

@Suite("End-to-end journey")
struct JourneyTests {
    @Test("apply → issue on the spot → card → activate → financial functions → audit trail intact", arguments: TestStores.engines)
    func journey(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let mrz = TestMRZ.make(surname: "GARCIA LOPEZ", given: "MARIA", passport: "XDA123456", nationality: "ESP", birth: "880214",
                                   sex: "F", expiry: "310630")
            let permit = try await h.issuedPermit(world, body: Harness.applicationBody(
                passport: "XDA123456", nationality: "ESP", surname: "Garcia Lopez", givenNames: "Maria", dateOfBirth: "1988-02-14",
                mrz: mrz, category: "A", contractEnd: "2033-06-30"))
            #expect(permit["valid_until"] as? String == "2031-11-30", "five years less a day caps category A")
            let card = try await h.issuedCard(world, permit: permit, passport: "XDA123456")
            let number = try #require(card["card_number"] as? String)
            #expect(try await h.call(.post, "/v1/cards/\(number)/activation", token: world.clerk, json: ["pin": "730418"]).status == .ok)
            let enabled = try await h.call(.post, "/v1/cards/\(number)/financial-functions", token: world.clerk,
                                           json: ["tax_certificate": CardAPITests.taxOK, "residence_proof": CardAPITests.residenceOK])
            #expect(enabled.value("financial_functions") as? Bool == true)
            #expect(enabled.string("status") == "active")
            let audit = try await h.call(.get, "/v1/audit-records?limit=200", token: world.admin)
            let actions = Set(audit.items.compactMap { $0["action"] as? String })
            for action in ["permit_application.submit", "permit.issue", "card.issue", "card.activate", "card.enable_financial_functions",
                           "employer.create", "branch.create", "staff.sign_in"] {
                #expect(actions.contains(action), "missing audit record \(action)")
            }
            #expect(!audit.text.contains("XDA123456"), "personal data never enters the audit trail")
            guard case .intact(let count) = try await h.store.verifyAudit() else {
                Issue.record("audit chain broken")
                return
            }
            #expect(count == audit.items.count)
        }
    }
}
