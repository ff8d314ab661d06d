import Foundation
import HTTPTypes
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import Testing

@Suite("Reference data API")
struct ReferenceAPITests {
    @Test("cities list in code order with cursor pages and a filter", arguments: TestStores.engines)
    func cities(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            var codes: [String] = []
            var cursor: String?
            repeat {
                let reply = try await h.call(.get, "/v1/cities?limit=7" + (cursor.map { "&cursor=\($0)" } ?? ""))
                #expect(reply.status == .ok)
                codes += reply.items.compactMap { $0["code"] as? String }
                cursor = reply.string("next_cursor")
            } while cursor != nil
            #expect(codes == codes.sorted())
            #expect(Set(codes) == ChineseCities.builtInCodes)
            let ningbo = try await h.call(.get, "/v1/cities?limit=200").items.first { $0["code"] as? String == "330200" }
            #expect((ningbo?["name"] as? [String: String]) == ["en": "Ningbo", "zh": "宁波市"])
            #expect(try await h.call(.get, "/v1/cities?limit=0").code == "list.limit_invalid")
            #expect(try await h.call(.get, "/v1/cities?limit=201").code == "list.limit_invalid")
            #expect(try await h.call(.get, "/v1/cities?cursor=abc").code == "list.cursor_invalid")
            #expect(try await h.call(.get, "/v1/cities?interoperable=maybe").code == "list.filter_invalid")
            #expect(try await h.call(.get, "/v1/cities?interoperable=false").items.isEmpty)
        }
    }

    @Test("branches and employers: validation, duplicates and idempotent creation", arguments: TestStores.engines)
    func branchesAndEmployers(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let admin = try await h.admin()
            func employer(_ uscc: String, city: String = "330200", key: String? = nil, name: String = "Acme") async throws -> Reply {
                try await h.call(.post, "/v1/employers", token: admin, json: ["name": ["en": name, "zh": "阿克米"], "uscc": uscc, "city_code": city],
                                 headers: key.map { [.idempotencyKey: $0] } ?? [:])
            }
            let badCheck = try await employer("91350100M000100Y44")
            #expect(badCheck.status == .badRequest)
            #expect(badCheck.code == "uscc.check_character")
            #expect(try await employer("123").code == "uscc.invalid")
            #expect(try await employer(Harness.usccA, city: "999900").code == "city.not_found")
            #expect(try await employer(Harness.usccA, city: "33").code == "city.code_invalid")
            let first = try await employer(Harness.usccA, key: "k-1")
            #expect(first.status == .created)
            let replay = try await employer(Harness.usccA, key: "k-1")
            #expect(replay.status == .created)
            #expect(replay.headers[.idempotencyReplayed] == "true")
            #expect(replay.string("id") == first.string("id"))
            let reused = try await employer(Harness.usccB, key: "k-1")
            #expect(reused.status == .unprocessableContent)
            #expect(reused.code == "idempotency.key_reused")
            #expect(try await employer(Harness.usccA).code == "employer.uscc_taken")
            #expect(try await employer(Harness.usccB, key: String(repeating: "k", count: 300)).code == "idempotency.key_invalid")
            let listed = try await h.call(.get, "/v1/employers", token: admin)
            #expect(listed.items.count == 1)
            #expect(try await h.call(.post, "/v1/branches", token: admin,
                                     json: ["name": ["en": " ", "zh": "支行"], "city_code": "330200"]).code == "name.empty")
            let branch = try await h.call(.post, "/v1/branches", token: admin, json: ["name": ["en": "East", "zh": "东"], "city_code": "310000"])
            #expect(branch.status == .created)
            #expect(try await h.call(.get, "/v1/branches", token: admin).items.count == 1)
        }
    }
}

@Suite("Permit applications and permits API")
struct PermitAPITests {
    @Test("an employer's application is validated field by field", arguments: TestStores.engines)
    func applicationValidation(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            func submit(_ body: [String: Any]) async throws -> Reply {
                try await h.call(.post, "/v1/permit-applications", token: world.employer, json: body)
            }
            #expect(try await submit(Harness.applicationBody(passport: "K1")).code == "passport_number.invalid")
            let xyz = try await submit(Harness.applicationBody(nationality: "XYZ"))
            #expect(xyz.status == .badRequest && xyz.string("detail")?.hasPrefix("person.nationality") == true, "\(xyz.text)")
            #expect(try await submit(Harness.applicationBody(category: "D")).status == .badRequest)
            #expect(try await submit(Harness.applicationBody(sex: "Q")).status == .badRequest)
            #expect(try await submit(Harness.applicationBody(dateOfBirth: "1990-02-30")).status == .badRequest)
            #expect(try await submit(Harness.applicationBody(dateOfBirth: "2015-01-01")).code == "person.age_out_of_range")
            #expect(try await submit(Harness.applicationBody(contractStart: "2027-01-01", contractEnd: "2026-12-31")).code
                    == "application.contract_dates_out_of_order")
            #expect(try await submit(Harness.applicationBody(contractStart: "2020-01-01", contractEnd: "2021-01-01")).code
                    == "application.contract_ended")
            let missingDocs = try await submit(Harness.applicationBody(documents: ["passport", "photo"]))
            #expect(missingDocs.code == "application.documents_missing")
            #expect(missingDocs.string("detail")?.contains("employment_contract") == true)
            #expect(try await submit(Harness.applicationBody(documents: ["passport", "passport", "photo", "employment_contract"])).code
                    == "application.documents_duplicate")
            #expect(try await submit(Harness.applicationBody(documents: ["passport", "selfie"])).status == .badRequest)
            #expect(try await submit(Harness.applicationBody(surname: "SM1TH")).code == "person.name_invalid")

            let mrz = TestMRZ.make(surname: "SMITH", given: "JANE ANN", passport: "K12345678", nationality: "GBR", birth: "900401",
                                   sex: "F", expiry: "320101")
            let withMRZ = try await submit(Harness.applicationBody(mrz: mrz))
            #expect(withMRZ.status == .created, "\(withMRZ.text)")
            #expect(withMRZ.string("status") == "submitted")
            #expect(withMRZ.string("person.passport_number") == "******678", "employers see a masked passport number")
            let otherName = TestMRZ.make(surname: "SMYTHE", given: "JANE ANN", passport: "K12345678", nationality: "GBR", birth: "900401",
                                         sex: "F", expiry: "320101")
            let mismatch = try await submit(Harness.applicationBody(mrz: otherName))
            #expect(mismatch.code == "mrz.mismatch")
            #expect(mismatch.string("detail")?.contains("surname") == true)
            var broken = Array(mrz)
            broken[54] = broken[54] == "0" ? "1" : "0"
            let badDigit = try await submit(Harness.applicationBody(mrz: String(broken)))
            #expect(badDigit.status == .badRequest)
            #expect(badDigit.code == "mrz.check_digit")
            let expired = TestMRZ.make(surname: "SMITH", given: "JANE ANN", passport: "K12345678", nationality: "GBR", birth: "900401",
                                       sex: "F", expiry: "250101")
            #expect(try await submit(Harness.applicationBody(mrz: expired)).code == "passport.expired")
        }
    }

    @Test("the officer checks originals and issues the permit on the spot; numbers are for life", arguments: TestStores.engines)
    func issueOnTheSpot(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let submitted = try await h.call(.post, "/v1/permit-applications", token: world.employer, json: Harness.applicationBody())
            let id = try #require(submitted.string("id"))
            let officerView = try await h.call(.get, "/v1/permit-applications/\(id)", token: world.officer)
            #expect(officerView.string("person.passport_number") == "K12345678")
            let unchecked = try await h.call(.post, "/v1/permit-applications/\(id)/originals-verification", token: world.officer,
                                             json: ["checked_documents": ["passport", "photo"], "decision": "issue"])
            #expect(unchecked.status == .unprocessableContent)
            #expect(unchecked.code == "verification.originals_unchecked")
            #expect(try await h.call(.post, "/v1/permit-applications/\(id)/originals-verification", token: world.officer,
                                     json: ["checked_documents": [], "decision": "reject"]).code == "reason.required")
            let issued = try await h.call(.post, "/v1/permit-applications/\(id)/originals-verification", token: world.officer,
                                          json: ["checked_documents": Harness.allDocuments, "decision": "issue"])
            #expect(issued.status == .created)
            let number = try #require(issued.string("permit.number"))
            #expect(try PermitNumber(validating: number).value == number)
            #expect(number.hasPrefix("W3302002026"))
            #expect(issued.string("permit.valid_from") == "2026-12-01")
            #expect(issued.string("permit.valid_until") == "2028-11-30")
            #expect(issued.string("permit.status") == "valid")
            #expect(issued.string("permit.category") == "B")
            #expect(issued.string("permit.decision_letter_number") == "WPD-2026-00000001")
            #expect(issued.string("permit.holder.surname") == "SMITH")
            let again = try await h.call(.post, "/v1/permit-applications/\(id)/originals-verification", token: world.officer,
                                         json: ["checked_documents": Harness.allDocuments, "decision": "issue"])
            #expect(again.code == "application.already_decided")
            #expect(try await h.call(.get, "/v1/permit-applications/\(id)", token: world.employer).string("permit_number") == number)

            // A second application for the same passport cannot be issued while the permit is valid.
            let second = try await h.call(.post, "/v1/permit-applications", token: world.employer, json: Harness.applicationBody(category: "C"))
            let secondID = try #require(second.string("id"))
            let blocked = try await h.call(.post, "/v1/permit-applications/\(secondID)/originals-verification", token: world.officer,
                                           json: ["checked_documents": Harness.allDocuments, "decision": "issue"])
            #expect(blocked.code == "permit.already_valid")
            // After cancellation the person's next permit reuses the same number.
            let cancelled = try await h.call(.post, "/v1/permits/\(number)/cancellation", token: world.officer, json: ["reason": "left the employer"])
            #expect(cancelled.string("status") == "cancelled")
            #expect(try await h.call(.post, "/v1/permits/\(number)/cancellation", token: world.officer,
                                     json: ["reason": "again"]).code == "permit.already_cancelled")
            let reissued = try await h.call(.post, "/v1/permit-applications/\(secondID)/originals-verification", token: world.officer,
                                            json: ["checked_documents": Harness.allDocuments, "decision": "issue"])
            #expect(reissued.status == .created)
            #expect(reissued.string("permit.number") == number)
            #expect(reissued.string("permit.category") == "C")
            #expect(reissued.string("permit.valid_until") == "2027-11-30", "category C is capped at one year")
            #expect(reissued.string("permit.decision_letter_number") == "WPD-2026-00000002")

            // Another person gets the next serial.
            let other = try await h.issuedPermit(world, body: Harness.applicationBody(passport: "P99887766", nationality: "DEU", surname: "MÜLLER",
                                                                                     givenNames: "Jonas", dateOfBirth: "1985-07-09", sex: "M"))
            let otherNumber = try #require(other["number"] as? String)
            #expect(otherNumber != number)
            #expect(otherNumber.dropLast().hasSuffix("000002"))
        }
    }

    @Test("rejection, listing with filters, the decision letter, expiry by date", arguments: TestStores.engines)
    func listingAndLetters(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let permit = try await h.issuedPermit(world)
            let number = try #require(permit["number"] as? String)
            let rejected = try await h.call(.post, "/v1/permit-applications", token: world.employer,
                                            json: Harness.applicationBody(passport: "R1234567", surname: "DOE", givenNames: "John", sex: "M"))
            let rejectedID = try #require(rejected.string("id"))
            let decision = try await h.call(.post, "/v1/permit-applications/\(rejectedID)/originals-verification", token: world.officer,
                                            json: ["checked_documents": ["passport"], "decision": "reject", "reason": "degree certificate is a copy"])
            #expect(decision.status == .ok)
            #expect(decision.string("status") == "rejected")
            #expect(try await h.call(.get, "/v1/permit-applications?status=rejected", token: world.officer).items.count == 1)
            #expect(try await h.call(.get, "/v1/permit-applications?status=issued", token: world.officer).items.count == 1)
            #expect(try await h.call(.get, "/v1/permit-applications?status=bogus", token: world.officer).code == "list.filter_invalid")
            #expect(try await h.call(.get, "/v1/permit-applications", token: world.employer).items.count == 2)
            #expect(try await h.call(.get, "/v1/permit-applications", token: world.otherEmployer).items.isEmpty)

            let letter = try await h.call(.get, "/v1/permits/\(number)/decision-letter", token: world.employer)
            #expect(letter.status == .ok)
            #expect(letter.headers[.contentType] == "text/html; charset=utf-8")
            #expect(letter.text.contains(number))
            #expect(letter.text.contains("外国人工作许可决定书"))
            #expect(letter.text.contains("Work Permit Decision Letter"))
            #expect(letter.text.contains("WPD-2026-00000001"))

            #expect(try await h.call(.get, "/v1/permits?status=valid", token: world.officer).items.count == 1)
            #expect(try await h.call(.get, "/v1/permits?status=expired", token: world.officer).items.isEmpty)
            h.clock.advance(seconds: 3 * 365 * 86_400)
            let officer = try await h.staff(.permitOfficer)
            #expect(try await h.call(.get, "/v1/permits/\(number)", token: officer).string("status") == "expired")
            #expect(try await h.call(.get, "/v1/permits?status=expired", token: officer).items.count == 1)
            let valid = try await h.call(.get, "/v1/permits?status=valid", token: officer)
            #expect(valid.status == .ok)
            #expect(valid.items.isEmpty)
            #expect(try await h.call(.get, "/v1/permits/\(number)/decision-letter", token: officer).text.contains("EXPIRED"))
        }
    }

    @Test("a permit whose contract starts later is pending until then: no card, listed as pending", arguments: TestStores.engines)
    func pendingPermit(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let permit = try await h.issuedPermit(world, body: Harness.applicationBody(contractStart: "2027-06-01", contractEnd: "2029-05-31"))
            let number = try #require(permit["number"] as? String)
            #expect(permit["status"] as? String == "pending")
            #expect(permit["valid_from"] as? String == "2027-06-01")
            #expect(try await h.call(.get, "/v1/permits?status=pending", token: world.officer).items.count == 1)
            #expect(try await h.call(.get, "/v1/permits?status=valid", token: world.officer).items.isEmpty)
            let card = try await h.call(.post, "/v1/cards", token: world.clerk, json: [
                "permit_number": number, "decision_letter_number": permit["decision_letter_number"] as? String ?? "", "passport_number": "K12345678",
            ])
            #expect(card.code == "permit.not_valid")
            let again = try await h.call(.post, "/v1/permit-applications", token: world.employer, json: Harness.applicationBody())
            let blocked = try await h.call(.post, "/v1/permit-applications/\(try #require(again.string("id")))/originals-verification",
                                           token: world.officer, json: ["checked_documents": Harness.allDocuments, "decision": "issue"])
            #expect(blocked.code == "permit.already_valid", "a pending permit also blocks a second one")
        }
    }

    @Test("names in the decision letter are HTML-escaped")
    func letterEscaping() {
        let permit = Schemas.Permit(
            number: "W3302002026000001X", category: .b,
            employer: Schemas.EmployerRef(id: "e", name: Schemas.LocalizedName(en: "<script>alert(1)</script>", zh: "甲&乙")),
            position: "\"Engineer\"", validFrom: "2026-12-01", validUntil: "2028-11-30", status: .valid,
            decisionLetterNumber: "WPD-2026-00000001",
            holder: Schemas.Holder(surname: "O'NEIL", givenNames: "<b>", chineseName: nil, nationality: "IRL", dateOfBirth: "1990-01-01", sex: .m),
            issuedAt: Date(timeIntervalSince1970: 1_796_097_600), cancelledAt: nil, cancelReason: nil)
        let html = DecisionLetter.html(permit, activationCode: "AB<C-DEFG-HJKL")
        #expect(!html.contains("<script>"))
        #expect(html.contains("&lt;script&gt;"))
        #expect(html.contains("甲&amp;乙"))
        #expect(html.contains("O&#39;NEIL &lt;b&gt;"))
        #expect(html.contains("&quot;Engineer&quot;"))
        #expect(html.contains("AB&lt;C-DEFG-HJKL"))
    }
}
