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
            staff(.departmentClerk, try await h.staff(.departmentClerk, department: "hrss"))
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
                "POST /v1/payments/{id}/refunds": Case(method: .post, path: "/v1/payments/\(paymentID)/refunds", owner: till, stranger: otherTill,
                                                       body: ["amount_fen": 100], ownerStatus: .created),
            ]
            let owned = Set(routes.filter { if case .owned = $0.access.objects { return true } else { return false } }
                .map { "\($0.method) \($0.path)" })
            #expect(owned == Set(cases.keys), "every route with owned objects needs a wrong-owner case: \(owned.symmetricDifference(cases.keys))")
            for (name, test) in cases.sorted(by: { $0.key < $1.key }) {
                let stranger = try await h.call(test.method, test.path, token: test.stranger, json: test.body,
                                                headers: [.idempotencyKey: "bola-stranger"])
                #expect(stranger.status == .notFound, "\(name) by a stranger: \(stranger.status) \(stranger.text)")
                let owner = try await h.call(test.method, test.path, token: test.owner, json: test.body, headers: [.idempotencyKey: "bola-owner"])
                #expect(owner.status == test.ownerStatus, "\(name) by its owner: \(owner.status) \(owner.text)")
            }
            for (route, caller) in signOuts {
                let reply = try await h.call(route.method, Self.concrete(route.path), token: caller.token)
                #expect(reply.status == .noContent, "\(route.method) \(route.path) as \(caller.name): \(reply.text)")
            }
        }
    }
}
