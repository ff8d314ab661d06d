import Crypto
import Foundation
import HTTPTypes
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import Testing

// One-card government services (issue 13) through the HTTP API, on both engines. The test clock
// starts on Tuesday 2026-12-01 at 12:00 in Shanghai.

extension Harness {
    func importServiceCatalogue(_ admin: String) async throws {
        let text = try String(contentsOfFile: Harness.repositoryFile("docs/examples/services-demo/catalogue.json"), encoding: .utf8)
        let imported = try await call(.put, "/v1/services/catalogue", token: admin, raw: text)
        try #require(imported.status == .created, "\(imported.text)")
    }
}

@Suite("Services: one-card government services")
struct ServiceAPITests {
    @Test("at the counter by dynamic QR: pre-filled from verified data, documents checked, moved to completion, a signed certificate",
          arguments: TestStores.engines)
    func counter(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let w = try await h.healthWorld()
            try await h.importServiceCatalogue(w.world.admin)
            let catalogue = try await h.call(.get, "/v1/services")
            #expect((catalogue.value("services") as? [Any])?.count == 6 && (catalogue.value("departments") as? [Any])?.count == 4, "\(catalogue.text.prefix(200))")
            let clerk = try await h.staff(.departmentClerk, department: "hrss")
            let qr = try #require(try await h.call(.post, "/v1/ecard/dynamic-codes", token: w.token).string("code"))
            func open(_ body: [String: Any], key: String) async throws -> Reply {
                try await h.call(.post, "/v1/service-requests", token: clerk, json: body, headers: [.idempotencyKey: key])
            }
            let base: [String: Any] = ["service_code": "contribution_certificate", "dynamic_code": qr, "values": ["purpose": "visa"],
                                       "documents_checked": ["passport"]]
            #expect(try await open(base.merging(["documents_checked": []]) { $1 }, key: "o1").code == "service.documents_missing")
            #expect(try await open(base.merging(["values": ["purpose": "visa", "full_name": "SOMEONE ELSE"]]) { $1 }, key: "o2").code
                    == "service.prefill_mismatch")
            #expect(try await open(base.merging(["values": ["purpose": "holiday"]]) { $1 }, key: "o3").code == "service.form_invalid")
            #expect(try await open(base.merging(["service_code": "school_enrolment"]) { $1 }, key: "o4").code == "service.other_department")
            #expect(try await open(["service_code": "contribution_certificate", "values": ["purpose": "visa"]], key: "o5").code
                    == "service.identification_required")
            let opened = try await open(base, key: "o6")
            #expect(opened.status == .created, "\(opened.text)")
            let id = try #require(opened.string("id"))
            // Pre-filled from the permit; the 3-working-day limit from Tuesday is Friday.
            #expect(opened.value("form.full_name") as? String == "SMITH JANE ANN" && opened.value("form.permit_number") as? String == w.permitNumber,
                    "\(opened.text)")
            #expect(opened.string("due_on") == "2026-12-04" && opened.string("status") == "submitted" && opened.string("channel") == "counter")
            #expect(opened.string("person.permit_number") == w.permitNumber)
            // The QR is used up.
            #expect(try await open(base, key: "o7").code == "code.already_used")

            // The state machine through the API: no completion before work starts; reject needs a reason.
            func act(_ action: String, note: String? = nil, as token: String? = nil) async throws -> Reply {
                var body: [String: Any] = ["action": action]
                if let note { body["note"] = note }
                return try await h.call(.post, "/v1/service-requests/\(id)/actions", token: token ?? clerk, json: body)
            }
            #expect(try await act("complete").code == "service.invalid_transition")
            #expect(try await act("reject").code == "service.note_required")
            #expect(try await act("answer").status == .badRequest, "answering is the cardholder's, not an action of the clerk")
            #expect(try await act("accept").string("status") == "accepted")
            #expect(try await act("start").string("status") == "in_progress")
            let completed = try await act("complete")
            #expect(completed.string("status") == "completed" && completed.value("certificate") as? Bool == true, "\(completed.text)")
            #expect(try await act("reject", note: "too late").code == "service.invalid_transition")
            #expect((completed.value("history") as? [Any])?.count == 4)

            // The certificate: a JWS anyone verifies with the published keys.
            let certificate = try await h.call(.get, "/v1/ecard/service-requests/\(id)/certificate", token: w.token)
            #expect(certificate.status == .ok, "\(certificate.text)")
            let jws = try #require(certificate.string("jws"))
            let jwks = try JWKS.parse(Array(try await h.call(.get, "/.well-known/jwks.json").text.utf8))
            var keys: [String: Curve25519.Signing.PublicKey] = [:]
            for key in jwks.keys { keys[key.kid] = try key.publicKey() }
            let verified = try JWS.verify(jws, keys: keys, expectedTyp: "joinin-contribution-certificate+jwt")
            let claims = try JSONValue.parse(verified.payload)
            #expect(claims["sub"]?.string == w.permitNumber && claims["type"]?.string == "ContributionCertificate")
            #expect(certificate.value("claims.months") as? [String] == ["2026-12"], "\(certificate.text)")
            // Pension 16% employer + 8% employee, medical 7.5% + 2%, … of a 10,000.00 wage, as the contribution batch posted.
            #expect((certificate.value("claims.total_employer.amount_fen") as? Int ?? 0) > 0)
            // A tampered certificate does not verify.
            var tampered = Array(jws)
            tampered[tampered.count / 2] = tampered[tampered.count / 2] == "A" ? "B" : "A"
            #expect(throws: (any Error).self) { _ = try JWS.verify(String(tampered), keys: keys, expectedTyp: "joinin-contribution-certificate+jwt") }
            let page = try await h.call(.get, "/v1/service-requests/\(id)/certificate", token: clerk, headers: [.accept: "text/html"])
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true && page.text.contains("社会保险缴费证明")
                    && page.text.contains("Social-insurance contribution certificate") && page.text.contains(jws), "\(page.text.prefix(300))")
            // The holder's inbox says it is done.
            let inbox = try await h.call(.get, "/v1/ecard/inbox", token: w.token)
            #expect(inbox.items.contains { $0["kind"] as? String == "request_completed" }, "\(inbox.text)")
            // Form values are personal data: sealed at rest.
            let stored = try await h.store.read { tx in
                try await tx.sql.raw("SELECT form_sealed FROM service_requests").all().map { try $0.decode(column: "form_sealed", as: String.self) }
            }
            #expect(stored.count == 1 && !(stored.first ?? "").contains("SMITH"))
        }
    }

    @Test("online: a request needing information goes back and forth; the queue puts overdue requests first", arguments: TestStores.engines)
    func online(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            try await h.importServiceCatalogue(world.admin)
            let (_, token) = try await h.bankedHolder(world)
            let clerk = try await h.staff(.departmentClerk, department: "housing")
            let counterOnly = try await h.call(.post, "/v1/ecard/service-requests", token: token,
                                               json: ["service_code": "marriage_registration", "values": [:] as [String: Any]])
            #expect(counterOnly.code == "service.counter_only")
            let rental: [String: Any] = ["service_code": "rental_registration", "values": [
                "address": "18 Zhongshan East Road, Haishu", "landlord_name": "Wang Fang", "landlord_phone": "13800000000",
                "lease_start": "2026-12-01", "lease_end": "2027-11-30", "monthly_rent_yuan": 4500]]
            let first = try await h.call(.post, "/v1/ecard/service-requests", token: token, json: rental)
            #expect(first.status == .created && first.string("channel") == "online", "\(first.text)")
            let firstID = try #require(first.string("id"))
            // A week later a second one; the first is overdue by then and leads the queue.
            h.clock.advance(seconds: 7 * 86_400)
            let holder = try await h.call(.post, "/v1/ecard/sessions", json: ["permit_number": try #require(try await h.call(.get, "/v1/ecard/me", token: token)
                .string("permit.number")), "password": "moonlit harbour walk"])
            let fresh = try #require(holder.string("token"), "\(holder.text)")
            let second = try await h.call(.post, "/v1/ecard/service-requests", token: fresh, json: rental)
            let secondID = try #require(second.string("id"), "\(second.text)")
            let clerkNow = try await h.staff(.departmentClerk, department: "housing")
            let queue = try await h.call(.get, "/v1/service-requests", token: clerkNow)
            #expect(queue.items.compactMap { $0["id"] as? String } == [firstID, secondID], "\(queue.text)")
            #expect(queue.items.first?["overdue"] as? Bool == true && queue.items.last?["overdue"] as? Bool == false)
            #expect(try await h.call(.get, "/v1/service-requests", token: try await h.staff(.departmentClerk, department: "hrss")).items.isEmpty)
            _ = clerk

            // Needs information: the holder is told and answers; the request resumes where it was.
            func act(_ body: [String: Any]) async throws -> Reply {
                try await h.call(.post, "/v1/service-requests/\(firstID)/actions", token: clerkNow, json: body)
            }
            #expect(try await act(["action": "accept", "documents_checked": ["passport"]]).code == "service.document_unknown")
            let accepted = try await act(["action": "accept", "documents_checked": ["lease_contract", "landlord_id"]])
            #expect(accepted.string("status") == "accepted" && accepted.value("documents_checked") as? [String] == ["lease_contract", "landlord_id"],
                    "\(accepted.text)")
            let asked = try await act(["action": "ask_info", "note": "Please give the landlord's mobile number again."])
            #expect(asked.string("status") == "needs_info", "\(asked.text)")
            let inbox = try await h.call(.get, "/v1/ecard/inbox?unread=true", token: fresh)
            let message = try #require(inbox.items.first { $0["kind"] as? String == "request_needs_info" }, "\(inbox.text)")
            #expect(((message["body"] as? [String: Any])?["en"] as? String)?.contains("landlord's mobile") == true, "\(message)")
            #expect(inbox.value("unread_count") as? Int == 1)
            let answered = try await h.call(.post, "/v1/ecard/service-requests/\(firstID)/answer", token: fresh,
                                            json: ["note": "Corrected", "values": ["landlord_phone": "13900000000"]])
            #expect(answered.status == .ok && answered.string("status") == "accepted", "\(answered.text)")
            #expect(answered.value("form.landlord_phone") as? String == "13900000000")
            #expect(try await h.call(.post, "/v1/ecard/service-requests/\(firstID)/answer", token: fresh, json: ["note": "again"]).code
                    == "service.invalid_transition")
            #expect(try await act(["action": "start"]).string("status") == "in_progress")
            #expect(try await act(["action": "complete"]).code == "service.outcome_required")
            let done = try await act(["action": "complete", "outcome_document": "Rental registration certificate No. NB-2026-0042"])
            #expect(done.string("status") == "completed" && done.string("outcome_document")?.contains("NB-2026-0042") == true, "\(done.text)")
            let mine = try await h.call(.get, "/v1/ecard/service-requests/\(firstID)", token: fresh)
            #expect(mine.string("outcome_document")?.contains("NB-2026-0042") == true && mine.value("person") == nil)
            #expect(try await h.call(.get, "/v1/ecard/service-requests/\(firstID)/certificate", token: fresh).code == "service.certificate_not_found")
            // Read and unread.
            let all = try await h.call(.get, "/v1/ecard/inbox", token: fresh)
            #expect(all.items.count == 2 && all.value("unread_count") as? Int == 2, "\(all.text)")
            let messageID = try #require(all.items.first?["id"] as? String)
            #expect(try await h.call(.post, "/v1/ecard/inbox/\(messageID)/read", token: fresh).value("read") as? Bool == true)
            #expect(try await h.call(.get, "/v1/ecard/inbox?unread=true", token: fresh).items.count == 1)
            #expect(try await h.call(.post, "/v1/ecard/inbox/read-all", token: fresh).value("marked") as? Int == 1)
            #expect(try await h.call(.get, "/v1/ecard/inbox?unread=maybe", token: fresh).code == "inbox.filter_invalid")
        }
    }

    @Test("the catalogue is validated whole; the CLI and the API import the same way", arguments: TestStores.engines)
    func catalogue(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let admin = try await h.admin()
            #expect(try await h.call(.get, "/v1/services").value("version") as? Int == 0)
            let broken = try String(contentsOfFile: Harness.repositoryFile("docs/examples/services-demo/catalogue.json"), encoding: .utf8)
                .replacingOccurrences(of: "\"time_limit_working_days\": 3", with: "\"time_limit_working_days\": 0")
            let refused = try await h.call(.put, "/v1/services/catalogue", token: admin, raw: broken)
            #expect(refused.code == "service.catalogue_invalid" && refused.string("detail")?.contains("time_limit_working_days") == true,
                    "\(refused.text)")
            #expect(try await h.call(.put, "/v1/services/catalogue", token: try await h.staff(.departmentClerk, department: "hrss"),
                                     raw: broken).status == .forbidden)
            try await h.importServiceCatalogue(admin)
            try await h.importServiceCatalogue(admin)
            #expect(try await h.call(.get, "/v1/services").value("version") as? Int == 2)
        }
    }
}


