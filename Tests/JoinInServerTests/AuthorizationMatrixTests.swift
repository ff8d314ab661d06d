import Foundation
import HTTPTypes
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import Testing

/// Issue 8 §3: every route declares who may call it and the router enforces it. This matrix is
/// generated from the route table, so a new route is covered the moment it is registered: for
/// every operation, anonymous → 401; every principal kind the declaration does not name → 403;
/// every kind it names gets past the router; and every route whose path names an object owned by
/// someone gets a wrong-owner case → 404 (the BOLA matrix), on both engines.
@Suite("Authorization declared with each route, enforced by the router")
struct AuthorizationMatrixTests {
    /// A principal of every kind there is, signed in through the API.
    struct Caller: Sendable {
        let name: String
        let principal: Principal
        let token: String
    }

    static func concrete(_ template: String) -> String {
        template.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix("{") ? "matrix-0" : String(part)
        }.joined(separator: "/")
    }

    @Test("every route declares its callers; every route with a path id declares what the id names")
    func declarations() async throws {
        try await TestStores.withStore(.sqlite) { store in
            let routes = servedRoutes(store: store, config: Harness.config)
            #expect(routes.count >= 55)
            for route in routes {
                let name = "\(route.method) \(route.path)"
                #expect(route.access.audience != "nobody", "\(name) admits nobody")
                if route.path.contains("{") {
                    #expect(route.access.objects != .none, "\(name) names an object but does not say whose")
                } else {
                    #expect(route.access.objects == .none, "\(name) declares an object scope without a path id")
                }
            }
        }
    }

    @Test("anonymous → 401, undeclared principal kinds → 403, declared kinds pass the router, wrong owners → 404",
          arguments: TestStores.engines)
    func matrix(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let routes = servedRoutes(store: h.store, config: Harness.config)

            // One caller of every kind.
            var callers: [Caller] = []
            func staff(_ role: StaffRole, _ token: String) {
                callers.append(Caller(name: role.rawValue, principal: .staff(StaffPrincipal(
                    id: "-", username: "-", role: role, employerID: nil, branchID: nil, department: nil, merchantID: nil, mustChangePassword: false,
                    tokenHash: "-")), token: token))
            }
            staff(.admin, world.admin)
            staff(.employer, world.employer)
            staff(.permitOfficer, world.officer)
            staff(.bankClerk, world.clerk)
            let hrssClerk = try await h.staff(.departmentClerk, department: "hrss")
            staff(.departmentClerk, hrssClerk)
            let organizer = try await h.staff(.eventOrganizer)
            staff(.eventOrganizer, organizer)
            let organizerID = try #require(try await h.call(.get, "/v1/staff/me", token: organizer).string("id"))
            let (card, holder) = try await h.bankedHolder(world)
            callers.append(Caller(name: "cardholder", principal: .cardholder(CardholderPrincipal(id: "-", personID: "-", permitNumber: "-", tokenHash: "-")),
                                  token: holder))
            let merchant = try #require(try await h.call(.post, "/v1/merchants", token: world.admin,
                                                         json: ["name": ["en": "Shop", "zh": "店"], "category": "shopping", "city_code": "330200"])
                .string("id"))
            staff(.merchantAdmin, try await h.staff(.merchantAdmin, merchant: merchant))
            let transitOperator = try #require(try await h.call(.post, "/v1/transit/operators", token: world.admin,
                                                                json: ["name": ["en": "Metro", "zh": "地铁"], "city_code": "330200",
                                                                       "modes": ["metro"]]).string("id"))
            let hospitalID = try #require(try await h.call(.post, "/v1/health/providers", token: world.admin,
                                                           json: ["name": ["en": "Hospital", "zh": "医院"], "kind": "hospital", "tier": 2,
                                                                  "city_code": "330200"]).string("id"))
            let pharmacyID = try #require(try await h.call(.post, "/v1/health/providers", token: world.admin,
                                                           json: ["name": ["en": "Pharmacy", "zh": "药店"], "kind": "pharmacy",
                                                                  "city_code": "330200"]).string("id"))
            let libraryID = try #require(try await h.call(.post, "/v1/libraries", token: world.admin,
                                                          json: ["name": ["en": "Library", "zh": "图书馆"], "city_code": "330200",
                                                                 "address": ["en": "Ningbo", "zh": "宁波"]]).string("id"))
            let venueID = try #require(try await h.call(.post, "/v1/venues", token: world.admin, json: [
                "name": ["en": "Museum", "zh": "博物馆"], "kind": "museum", "city_code": "330200", "address": ["en": "Ningbo", "zh": "宁波"],
                "opening_hours": [["weekday": 3, "opens_at": "09:00", "closes_at": "17:00"]], "daily_quota": 10]).string("id"))
            var terminalTokens: [TerminalKind: String] = [:]
            for kind in TerminalKind.allCases {
                var body: [String: Any] = ["kind": kind.rawValue, "name": "matrix \(kind.rawValue)"]
                if kind == .merchantPos { body["binding_id"] = merchant }
                if kind == .transitValidator { body["binding_id"] = transitOperator }
                if kind == .hospitalCounter { body["binding_id"] = hospitalID }
                if kind == .pharmacyPOS { body["binding_id"] = pharmacyID }
                if kind == .libraryKiosk || kind == .libraryDesk { body["binding_id"] = libraryID }
                if kind == .venueGate { body["binding_id"] = venueID }
                if kind == .eventCheckIn { body["binding_id"] = organizerID }
                let key = try #require(try await h.call(.post, "/v1/terminals", token: world.admin, json: body).string("api_key"))
                terminalTokens[kind] = key
                callers.append(Caller(name: "terminal:\(kind.rawValue)", principal: .terminal(TerminalPrincipal(id: "-", kind: kind, bindingID: nil)),
                                      token: key))
            }

            // Objects for the BOLA part, made before the matrix calls (an admitted e-card loss report
            // there would stop the card paying).
            let world2Employer = world.otherEmployer
            let permit = try await h.issuedPermit(world, body: Harness.applicationBody(passport: "M55512345", surname: "OWNER"))
            let number = try #require(permit["number"] as? String)
            let applications = try await h.call(.get, "/v1/permit-applications", token: world.employer)
            let applicationID = try #require(applications.items.first?["id"] as? String)
            _ = try await h.call(.post, "/v1/cards/\(card)/deposits", token: world.clerk, json: ["amount_fen": 10_000, "account": "financial"],
                                 headers: [.idempotencyKey: "matrix-seed"])
            let otherMerchant = try #require(try await h.call(.post, "/v1/merchants", token: world.admin,
                                                              json: ["name": ["en": "Other", "zh": "别家"], "category": "dining", "city_code": "330200"])
                .string("id"))
            let otherTill = try #require(try await h.call(.post, "/v1/terminals", token: world.admin,
                                                          json: ["kind": "merchantPos", "name": "other till", "binding_id": otherMerchant]).string("api_key"))
            let till = try #require(terminalTokens[.merchantPos])
            let paid = try await h.call(.post, "/v1/payments", token: till, json: ["card_number": card, "pin": "582931", "amount_fen": 1_000,
                                                                                   "merchant_reference": "M1"], headers: [.idempotencyKey: "matrix-pay"])
            let paymentID = try #require(paid.string("payment_id"), "\(paid.text)")
            // Medical insurance: an insured holder with a settlement at the matrix's hospital; another
            // hospital, employer and holder are the strangers.
            let health = try await h.healthWorld(world: world, passport: "H77700001", surname: "PATIENT")
            let settled = try await h.call(.post, "/v1/health/settlements", token: health.hospital,
                                           json: ["card_number": health.card, "pin": "582931", "visit_type": "outpatient", "provider_reference": "BOLA",
                                                  "lines": h.bill([("110200001", 1, 2_500)])], headers: [.idempotencyKey: "matrix-settle"])
            let settlementID = try #require(settled.string("id"), "\(settled.text)")
            let otherHospital = try await h.provider(world.admin, kind: "hospital", tier: 1, name: "Other hospital")
            // Libraries: the patient borrows an item and holds another (on loan to the first holder).
            let books = try await h.library(world.admin, name: "Matrix library")
            _ = try await LibraryImport.importItems(store: h.store, libraryID: books.id, bytes: Harness.libraryItems, file: "items.csv",
                                                    actor: "test", nowMs: h.clock.now)
            let lent = try await h.checkout(books.key, card: health.card, item: "TY000001")
            let loanID = try #require(lent.string("id"), "\(lent.text)")
            _ = try await h.checkout(books.key, card: card, item: "TY000002")
            let held = try await h.call(.post, "/v1/ecard/library/holds", token: health.token, json: ["city_code": "330200", "item_barcode": "TY000002"])
            let holdID = try #require(held.string("id"), "\(held.text)")
            let reserved = try await h.call(.post, "/v1/ecard/venue-reservations", token: health.token,
                                            json: ["venue_id": venueID, "date": "2026-12-02"])
            let reservationID = try #require(reserved.string("id"), "\(reserved.text)")

            // Services: the demo catalogue; the patient's requests at the hrss counter — one completed
            // (with its certificate), one submitted, one waiting for the patient's information (which
            // also puts a message in the patient's inbox). An education clerk is the stranger.
            let catalogue = try String(contentsOfFile: Harness.repositoryFile("docs/examples/services-demo/catalogue.json"), encoding: .utf8)
            let imported = try await h.call(.put, "/v1/services/catalogue", token: world.admin, raw: catalogue)
            try #require(imported.status == .created, "\(imported.text)")
            func counterRequest(_ key: String) async throws -> String {
                let opened = try await h.call(.post, "/v1/service-requests", token: hrssClerk, json: [
                    "service_code": "contribution_certificate", "card_number": health.card, "pin": "582931", "values": ["purpose": "visa"],
                    "documents_checked": ["passport"]], headers: [.idempotencyKey: key])
                return try #require(opened.string("id"), "\(opened.text)")
            }
            let completedRequest = try await counterRequest("matrix-service-1")
            for action in ["accept", "start", "complete"] {
                let moved = try await h.call(.post, "/v1/service-requests/\(completedRequest)/actions", token: hrssClerk, json: ["action": action])
                try #require(moved.status == .ok, "\(action): \(moved.text)")
            }
            let openRequest = try await counterRequest("matrix-service-2")
            let askedRequest = try await counterRequest("matrix-service-3")
            let asked = try await h.call(.post, "/v1/service-requests/\(askedRequest)/actions", token: hrssClerk,
                                         json: ["action": "ask_info", "note": "Which visa?"])
            try #require(asked.status == .ok, "\(asked.text)")
            let educationClerk = try await h.staff(.departmentClerk, department: "education")
            let messageID = try #require(try await h.call(.get, "/v1/ecard/inbox", token: health.token).items.first?["id"] as? String)
            // Events: the organiser's event, the patient registered; another organiser is the stranger.
            let otherOrganizer = try await h.staff(.eventOrganizer)
            func at(_ hours: Int64) -> String { Timestamps.rfc3339(ms: h.clock.now + hours * 3_600_000) }
            let event = try await h.call(.post, "/v1/events", token: organizer, json: [
                "title": ["en": "Harbour walk", "zh": "港口徒步"], "description": ["en": "A walk", "zh": "徒步"], "place": ["en": "Quay", "zh": "码头"],
                "city_code": "330200", "starts_at": at(48), "ends_at": at(50), "capacity": 10, "registration_opens_at": at(-1),
                "registration_closes_at": at(47), "cancellation_deadline": at(24), "waitlist_max": 5])
            let eventID = try #require(event.string("id"), "\(event.text)")
            let registered = try await h.call(.post, "/v1/ecard/events/\(eventID)/registrations", token: health.token)
            try #require(registered.status == .created, "\(registered.text)")

            // Sign-outs end the caller's session, so their admitted calls go last.
            var signOuts: [(RouteTable.Route, Caller)] = []
            var checked = 0
            for route in routes {
                let path = Self.concrete(route.path)
                let name = "\(route.method) \(route.path)"
                let anonymous = try await h.call(route.method, path)
                if route.access.isPublic {
                    #expect(anonymous.status != .unauthorized && anonymous.status != .forbidden, "\(name) is public: \(anonymous.text)")
                    continue
                }
                #expect(anonymous.status == .unauthorized && anonymous.code == "auth.required", "\(name) anonymous: \(anonymous.text)")
                for caller in callers {
                    if route.access.admits(caller.principal) {
                        if route.method == .delete { signOuts.append((route, caller)); continue }
                        let reply = try await h.call(route.method, path, token: caller.token)
                        #expect(reply.status != .unauthorized && reply.status != .forbidden, "\(name) as \(caller.name) is declared but refused: \(reply.text)")
                    } else {
                        let reply = try await h.call(route.method, path, token: caller.token)
                        #expect(reply.status == .forbidden && reply.code == "auth.forbidden", "\(name) as \(caller.name): \(reply.status) \(reply.text)")
                    }
                    checked += 1
                }
            }
            #expect(checked >= routes.count * 10, "the matrix ran (\(checked) calls)")

            // BOLA: a caller of the right kind that is not the owner gets 404, exactly as for an id
            // that does not exist; the owner gets the object (so the 404 is not a missing fixture).
            struct Case {
                let method: HTTPRequest.Method
                let path: String
                let owner: String
                let stranger: String
                let body: [String: Any]?
                let ownerStatus: HTTPResponse.Status
            }
            let cases: [String: Case] = [
                "GET /v1/employers/{id}": Case(method: .get, path: "/v1/employers/\(world.employerID)", owner: world.employer,
                                               stranger: world2Employer, body: nil, ownerStatus: .ok),
                "GET /v1/permit-applications/{id}": Case(method: .get, path: "/v1/permit-applications/\(applicationID)", owner: world.employer,
                                                         stranger: world2Employer, body: nil, ownerStatus: .ok),
                "GET /v1/permits/{number}": Case(method: .get, path: "/v1/permits/\(number)", owner: world.employer, stranger: world2Employer,
                                                 body: nil, ownerStatus: .ok),
                "GET /v1/permits/{number}/decision-letter": Case(method: .get, path: "/v1/permits/\(number)/decision-letter",
                                                                 owner: world.employer, stranger: world2Employer, body: nil, ownerStatus: .ok),
                "GET /v1/health/enrolments/{id}": Case(method: .get, path: "/v1/health/enrolments/\(health.enrolmentID)", owner: world.employer,
                                                       stranger: world2Employer, body: nil, ownerStatus: .ok),
                "POST /v1/health/enrolments/{id}/end": Case(method: .post, path: "/v1/health/enrolments/\(health.enrolmentID)/end",
                                                            owner: world.employer, stranger: world2Employer,
                                                            body: ["end_month": "2026-12", "reason": "matrix"], ownerStatus: .ok),
                "GET /v1/health/settlements/{id}": Case(method: .get, path: "/v1/health/settlements/\(settlementID)", owner: health.hospital,
                                                        stranger: otherHospital.key, body: nil, ownerStatus: .ok),
                "GET /v1/health/settlements/{id}/explanation-of-benefit": Case(
                    method: .get, path: "/v1/health/settlements/\(settlementID)/explanation-of-benefit", owner: health.token, stranger: holder,
                    body: nil, ownerStatus: .ok),
                "GET /v1/ecard/health/settlements/{id}": Case(method: .get, path: "/v1/ecard/health/settlements/\(settlementID)", owner: health.token,
                                                              stranger: holder, body: nil, ownerStatus: .ok),
                "POST /v1/health/settlements/{id}/reversal": Case(method: .post, path: "/v1/health/settlements/\(settlementID)/reversal",
                                                                  owner: health.hospital, stranger: otherHospital.key, body: ["reason": "matrix"],
                                                                  ownerStatus: .ok),
                "POST /v1/ecard/library/loans/{id}/renewal": Case(method: .post, path: "/v1/ecard/library/loans/\(loanID)/renewal",
                                                                  owner: health.token, stranger: holder, body: nil, ownerStatus: .ok),
                "POST /v1/ecard/library/holds/{id}/cancellation": Case(method: .post, path: "/v1/ecard/library/holds/\(holdID)/cancellation",
                                                                       owner: health.token, stranger: holder, body: nil, ownerStatus: .ok),
                "POST /v1/ecard/venue-reservations/{id}/cancellation": Case(
                    method: .post, path: "/v1/ecard/venue-reservations/\(reservationID)/cancellation", owner: health.token, stranger: holder,
                    body: nil, ownerStatus: .ok),
                "GET /v1/service-requests/{id}": Case(method: .get, path: "/v1/service-requests/\(openRequest)", owner: hrssClerk,
                                                      stranger: educationClerk, body: nil, ownerStatus: .ok),
                "POST /v1/service-requests/{id}/actions": Case(method: .post, path: "/v1/service-requests/\(openRequest)/actions", owner: hrssClerk,
                                                               stranger: educationClerk, body: ["action": "accept"], ownerStatus: .ok),
                "GET /v1/service-requests/{id}/certificate": Case(method: .get, path: "/v1/service-requests/\(completedRequest)/certificate",
                                                                  owner: hrssClerk, stranger: educationClerk, body: nil, ownerStatus: .ok),
                "GET /v1/ecard/service-requests/{id}": Case(method: .get, path: "/v1/ecard/service-requests/\(openRequest)", owner: health.token,
                                                            stranger: holder, body: nil, ownerStatus: .ok),
                "POST /v1/ecard/service-requests/{id}/answer": Case(method: .post, path: "/v1/ecard/service-requests/\(askedRequest)/answer",
                                                                    owner: health.token, stranger: holder, body: ["note": "Tourist visa"],
                                                                    ownerStatus: .ok),
                "GET /v1/ecard/service-requests/{id}/certificate": Case(
                    method: .get, path: "/v1/ecard/service-requests/\(completedRequest)/certificate", owner: health.token, stranger: holder,
                    body: nil, ownerStatus: .ok),
                "POST /v1/ecard/inbox/{id}/read": Case(method: .post, path: "/v1/ecard/inbox/\(messageID)/read", owner: health.token,
                                                       stranger: holder, body: nil, ownerStatus: .ok),
                "GET /v1/events/{id}": Case(method: .get, path: "/v1/events/\(eventID)", owner: organizer, stranger: otherOrganizer, body: nil,
                                            ownerStatus: .ok),
                "GET /v1/events/{id}/registrations": Case(method: .get, path: "/v1/events/\(eventID)/registrations", owner: organizer,
                                                          stranger: otherOrganizer, body: nil, ownerStatus: .ok),
                "POST /v1/ecard/events/{id}/registration/cancellation": Case(
                    method: .post, path: "/v1/ecard/events/\(eventID)/registration/cancellation", owner: health.token, stranger: holder,
                    body: nil, ownerStatus: .ok),
                "POST /v1/events/{id}/cancellation": Case(method: .post, path: "/v1/events/\(eventID)/cancellation", owner: organizer,
                                                          stranger: otherOrganizer, body: nil, ownerStatus: .ok),
                "POST /v1/payments/{id}/refunds": Case(method: .post, path: "/v1/payments/\(paymentID)/refunds", owner: till, stranger: otherTill,
                                                       body: ["amount_fen": 100], ownerStatus: .created),
            ]
            let owned = Set(routes.filter { if case .owned = $0.access.objects { return true } else { return false } }
                .map { "\($0.method) \($0.path)" })
            #expect(owned == Set(cases.keys), "every route with owned objects needs a wrong-owner case: \(owned.symmetricDifference(cases.keys))")
            for (index, (name, test)) in cases.sorted(by: { $0.key < $1.key }).enumerated() {
                let stranger = try await h.call(test.method, test.path, token: test.stranger, json: test.body,
                                                headers: [.idempotencyKey: "bola-stranger-\(index)"])
                #expect(stranger.status == .notFound, "\(name) by a stranger: \(stranger.status) \(stranger.text)")
                let owner = try await h.call(test.method, test.path, token: test.owner, json: test.body, headers: [.idempotencyKey: "bola-owner-\(index)"])
                #expect(owner.status == test.ownerStatus, "\(name) by its owner: \(owner.status) \(owner.text)")
            }
            for (route, caller) in signOuts {
                let reply = try await h.call(route.method, Self.concrete(route.path), token: caller.token)
                #expect(reply.status == .noContent, "\(route.method) \(route.path) as \(caller.name): \(reply.text)")
            }
        }
    }
}
