import Foundation
import HTTPTypes
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import Testing

@Suite("Operations endpoints and error shape")
struct OperationsAPITests {
    @Test("health, readiness, metrics and the spec are served", arguments: TestStores.engines)
    func operations(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            #expect(try await h.call(.get, "/healthz").string("status") == "ok")
            let ready = try await h.call(.get, "/readyz")
            #expect(ready.status == .ok)
            #expect(ready.string("status") == "ready")
            #expect(try await h.call(.get, "/metrics").status == .ok)
            let spec = try await h.call(.get, "/openapi.yaml")
            #expect(spec.status == .ok)
            #expect(spec.text.hasPrefix("openapi: 3.1"))
        }
    }

    @Test("unknown routes are 404 and undeclared methods 405 with Allow, both as problem+json", arguments: TestStores.engines)
    func routing(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let missing = try await h.call(.get, "/v1/nothing-here")
            #expect(missing.status == .notFound)
            #expect(missing.headers[.contentType] == "application/problem+json")
            #expect(missing.code == "route.not_found")
            let wrongMethod = try await h.call(.delete, "/v1/cities")
            #expect(wrongMethod.status == .methodNotAllowed)
            #expect(wrongMethod.headers[.allow] == "GET")
            #expect(wrongMethod.code == "route.method_not_allowed")
            let wrongOnTemplate = try await h.call(.put, "/v1/cards/6230910000000000011/activation")
            #expect(wrongOnTemplate.status == .methodNotAllowed)
            #expect(wrongOnTemplate.headers[.allow] == "POST")
        }
    }

    @Test("malformed bodies are 400 naming the field, oversize bodies 413, never 500", arguments: TestStores.engines)
    func malformedInput(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let admin = try await h.admin()
            let notJSON = try await h.call(.post, "/v1/branches", token: admin, raw: "{not json")
            #expect(notJSON.status == .badRequest)
            #expect(notJSON.code == "request.invalid_json")
            let missing = try await h.call(.post, "/v1/branches", token: admin, json: ["name": ["en": "X", "zh": "X"]])
            #expect(missing.status == .badRequest)
            #expect(missing.string("detail")?.contains("city_code") == true)
            let wrongType = try await h.call(.post, "/v1/branches", token: admin, json: ["name": "Main", "city_code": "330200"])
            #expect(wrongType.status == .badRequest)
            #expect(wrongType.string("detail")?.contains("name") == true)
            let badEnum = try await h.call(.post, "/v1/terminals", token: admin, json: ["kind": "toaster", "name": "T"])
            #expect(badEnum.status == .badRequest)
            #expect(badEnum.string("detail")?.contains("kind") == true)
            let huge = String(repeating: "x", count: 1_100_000)
            let oversize = try await h.call(.post, "/v1/branches", token: admin, raw: "{\"name\":{\"en\":\"\(huge)\",\"zh\":\"x\"},\"city_code\":\"330200\"}")
            #expect(oversize.status == .contentTooLarge)
            #expect(oversize.code == "request.too_large")
            let wrongMedia = try await h.call(.post, "/v1/branches", token: admin, raw: "{}", headers: [.contentType: "text/plain"])
            #expect(wrongMedia.status == .unsupportedMediaType)
            #expect(wrongMedia.code == "request.unsupported_media_type")
            let empty = try await h.call(.post, "/v1/branches", token: admin, raw: "")
            #expect(empty.status == .badRequest)
        }
    }

    @Test("control characters in bodies and URIs, and overlong text hidden in combining marks, are refused", arguments: TestStores.engines)
    func hostileText(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let admin = try await h.admin()
            let nul = try await h.call(.post, "/v1/terminals", token: admin, raw: #"{"kind":"counter","name":"a\u0000b"}"#)
            #expect(nul.status == .badRequest)
            #expect(nul.code == "request.control_character")
            let signIn = try await h.call(.post, "/v1/staff/sessions", raw: #"{"username":"ad\u0000min","password":"x"}"#)
            #expect(signIn.code == "request.control_character")
            #expect(try await h.call(.post, "/v1/terminals", token: admin, raw: #"{"kind":"counter","name":"tab\tis fine"}"#).status == .created)
            #expect(try await h.call(.get, "/v1/branches?cursor=MToA", token: admin).code == "list.cursor_invalid")
            #expect(try await h.call(.get, "/v1/permits/W%00", token: admin).code == "request.control_character")
            let accents = "a" + String(repeating: "\u{0301}", count: 5000)
            let long = try await h.call(.post, "/v1/terminals", token: admin, json: ["kind": "counter", "name": accents])
            #expect(long.code == "terminal.name_invalid")
            #expect(try await h.call(.post, "/v1/branches", token: admin,
                                     json: ["name": ["en": "e" + String(repeating: "\u{0301}", count: 300), "zh": "支行"],
                                            "city_code": "330200"]).code == "name.too_long")
            #expect(try await h.call(.post, "/v1/staff", token: admin,
                                     json: ["username": "\u{212A}elvin", "password": Harness.password, "role": "admin"]).code == "username.invalid")
            #expect(try await h.call(.head, "/healthz").status == .ok)
        }
    }

    @Test("every byte of a long password counts (bcrypt alone would read only 72)", arguments: TestStores.engines)
    func longPasswords(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let admin = try await h.admin()
            let password = String(repeating: "abcd", count: 20)
            #expect(try await h.call(.post, "/v1/staff", token: admin,
                                     json: ["username": "longpw", "password": password, "role": "permitOfficer"]).status == .created)
            let truncatedTwin = String(repeating: "abcd", count: 18) + "XXXXYYYY"
            #expect(try await h.call(.post, "/v1/staff/sessions", json: ["username": "longpw", "password": truncatedTwin]).status == .unauthorized)
            #expect(try await h.call(.post, "/v1/staff/sessions", json: ["username": "longpw", "password": password]).status == .created)
        }
    }

    @Test("junk of every shape sent to every write endpoint gets a 4xx, never a 5xx", arguments: TestStores.engines)
    func noServerErrorsForBadInput(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let junk: [String] = ["", "null", "[]", "42", "\"s\"", "{}", "{\"a\":1}", "{\"person\":{}}", "{\"pin\":123456}",
                                  "{\"name\":{\"en\":null}}", "{\"decision\":\"maybe\",\"checked_documents\":\"passport\"}",
                                  "{\"permit_number\":\"W\",\"decision_letter_number\":1,\"passport_number\":[]}", "\u{0}\u{1}"]
            let paths = ["/v1/staff", "/v1/terminals", "/v1/branches", "/v1/employers", "/v1/permit-applications",
                         "/v1/permit-applications/nope/originals-verification", "/v1/permits/W0000000000000000X/cancellation",
                         "/v1/cards", "/v1/cards/6230910000000000011/activation", "/v1/cards/6230910000000000011/financial-functions",
                         "/v1/staff/sessions", "/v1/staff/me/password"]
            let tokens = [world.admin, world.employer, world.officer, world.clerk]
            for path in paths {
                for body in junk {
                    for token in tokens {
                        let reply = try await h.call(.post, path, token: token, raw: body)
                        #expect((400..<500).contains(reply.status.code), "\(path) \(body) → \(reply.status.code) \(reply.text)")
                        #expect(reply.headers[.contentType] == "application/problem+json", "\(path) \(body)")
                    }
                }
            }
        }
    }
}

@Suite("Staff sign-in, sessions and accounts")
struct StaffAPITests {
    @Test("the bootstrapped admin must change the one-time password before doing anything else", arguments: TestStores.engines)
    func firstAdmin(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let oneTime = try #require(try await Provisioning.bootstrapAdmin(store: h.store, bcryptCost: 4, nowMs: h.clock.now))
            #expect(try await Provisioning.bootstrapAdmin(store: h.store, bcryptCost: 4, nowMs: h.clock.now) == nil)
            let session = try await h.call(.post, "/v1/staff/sessions", json: ["username": "admin", "password": oneTime])
            #expect(session.status == .created)
            #expect(session.value("must_change_password") as? Bool == true)
            let token = try #require(session.string("token"))
            let blocked = try await h.call(.post, "/v1/branches", token: token, json: ["name": ["en": "A", "zh": "甲"], "city_code": "330200"])
            #expect(blocked.status == .forbidden)
            #expect(blocked.code == "auth.password_change_required")
            let weak = try await h.call(.post, "/v1/staff/me/password", token: token,
                                        json: ["current_password": oneTime, "new_password": "password123"])
            #expect(weak.status == .unprocessableContent)
            #expect(weak.code == "password.common")
            let wrongCurrent = try await h.call(.post, "/v1/staff/me/password", token: token,
                                                json: ["current_password": "nope-nope-nope", "new_password": "a much better passphrase"])
            #expect(wrongCurrent.code == "auth.current_password_wrong")
            let changed = try await h.call(.post, "/v1/staff/me/password", token: token,
                                           json: ["current_password": oneTime, "new_password": "a much better passphrase"])
            #expect(changed.status == .ok)
            let allowed = try await h.call(.post, "/v1/branches", token: token, json: ["name": ["en": "A", "zh": "甲"], "city_code": "330200"])
            #expect(allowed.status == .created)
            let me = try await h.call(.get, "/v1/staff/me", token: token)
            #expect(me.value("must_change_password") as? Bool == false)
            #expect(try await h.call(.post, "/v1/staff/sessions", json: ["username": "admin", "password": oneTime]).status == .unauthorized)
        }
    }

    @Test("wrong passwords are 401, then lock the account out with 429 and Retry-After", arguments: TestStores.engines)
    func lockout(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            _ = try await h.staff(.permitOfficer, username: "olga")
            for _ in 1...4 {
                let reply = try await h.call(.post, "/v1/staff/sessions", json: ["username": "olga", "password": "wrong password!"])
                #expect(reply.status == .unauthorized)
                #expect(reply.code == "auth.invalid_credentials")
            }
            let fifth = try await h.call(.post, "/v1/staff/sessions", json: ["username": "olga", "password": "wrong password!"])
            #expect(fifth.status == .tooManyRequests)
            #expect(fifth.headers[.retryAfter] == "30")
            let locked = try await h.call(.post, "/v1/staff/sessions", json: ["username": "olga", "password": Harness.password])
            #expect(locked.status == .tooManyRequests, "even the right password waits out the lockout")
            h.clock.advance(seconds: 31)
            #expect(try await h.call(.post, "/v1/staff/sessions", json: ["username": "olga", "password": Harness.password]).status == .created)
            let unknownUser = try await h.call(.post, "/v1/staff/sessions", json: ["username": "nobody", "password": "whatever it is"])
            #expect(unknownUser.status == .unauthorized)
            #expect(unknownUser.string("detail") == "username or password is wrong")
        }
    }

    @Test("sign-out ends the session; unknown and expired tokens are 401", arguments: TestStores.engines)
    func sessions(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let token = try await h.staff(.permitOfficer)
            #expect(try await h.call(.get, "/v1/staff/me", token: token).status == .ok)
            #expect(try await h.call(.delete, "/v1/staff/sessions/current", token: token).status == .noContent)
            let after = try await h.call(.get, "/v1/staff/me", token: token)
            #expect(after.status == .unauthorized)
            #expect(after.headers[.wwwAuthenticate] == "Bearer")
            #expect(try await h.call(.get, "/v1/staff/me", token: "jis_made-up").status == .unauthorized)
            #expect(try await h.call(.get, "/v1/staff/me").code == "auth.required")
            #expect(try await h.call(.get, "/v1/staff/me", headers: [.authorization: "Basic abc"]).code == "auth.malformed")
            // The scheme in any case; two Authorization fields are refused, even when one is good.
            #expect(try await h.call(.get, "/v1/staff/me", headers: [.authorization: "bEaReR  \(token)"]).status == .unauthorized)
            let fresh = try await h.staff(.permitOfficer)
            #expect(try await h.call(.get, "/v1/staff/me", headers: [.authorization: "bEaReR  \(fresh)"]).status == .ok)
            var twice = HTTPFields()
            twice.append(HTTPField(name: .authorization, value: "Bearer \(fresh)"))
            twice.append(HTTPField(name: .authorization, value: "Bearer \(fresh)"))
            #expect(try await h.call(.get, "/v1/staff/me", headers: twice).code == "auth.malformed")
            let other = try await h.staff(.permitOfficer)
            h.clock.advance(seconds: Int64(Harness.config.staffSessionSeconds) + 1)
            #expect(try await h.call(.get, "/v1/staff/me", token: other).status == .unauthorized)
        }
    }

    @Test("a bearer token is read from its header on the bytes")
    func bearerToken() {
        #expect(Authenticator.bearerToken("Bearer jis_abc") == "jis_abc")
        #expect(Authenticator.bearerToken("BEARER   jis_abc def") == "jis_abc def")
        for refused in ["Bearer", "Bearer ", "Bearer    ", "Bearerx jis_abc", "Basic jis_abc", "Bearer\tjis_abc", "Béarer jis_abc", "",
                        "Bearer " + String(repeating: "x", count: 201)] {
            #expect(Authenticator.bearerToken(refused) == nil, "\(refused)")
        }
        #expect(Authenticator.bearerToken("Bearer " + String(repeating: "x", count: 200))?.count == 200)
        #expect(Authenticator.bearerToken("Bearer " + String(repeating: "é", count: 200))?.count == 200)
    }

    @Test("admins create staff with validated roles, bindings and passwords", arguments: TestStores.engines)
    func createStaff(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            func create(_ body: [String: Any]) async throws -> Reply { try await h.call(.post, "/v1/staff", token: world.admin, json: body) }
            let ok = try await create(["username": "Clerk.Two", "password": Harness.password, "role": "bankClerk", "branch_id": world.branchID])
            #expect(ok.status == .created)
            #expect(try await h.signIn("clerk.two").hasPrefix("jis_"))
            #expect(try await create(["username": "clerk.two", "password": Harness.password, "role": "bankClerk",
                                      "branch_id": world.branchID]).code == "staff.username_taken")
            #expect(try await create(["username": "x1", "password": Harness.password, "role": "wizard"]).status == .badRequest)
            #expect(try await create(["username": "emp", "password": Harness.password, "role": "employer"]).code == "staff.binding_required")
            #expect(try await create(["username": "emp", "password": Harness.password, "role": "employer",
                                      "employer_id": "no-such"]).code == "employer.not_found")
            #expect(try await create(["username": "off", "password": Harness.password, "role": "permitOfficer",
                                      "branch_id": world.branchID]).code == "staff.binding_unexpected")
            // Enumerated in the spec: refused while decoding, naming the field.
            let space = try await create(["username": "dep", "password": Harness.password, "role": "departmentClerk", "department": "space"])
            #expect(space.status == .badRequest && space.string("detail")?.hasPrefix("department") == true, "\(space.text)")
            #expect(try await create(["username": "dep", "password": "short", "role": "departmentClerk",
                                      "department": "housing"]).code == "password.too_short")
            #expect(try await create(["username": "1bad", "password": Harness.password, "role": "admin"]).code == "username.invalid")
            let notAdmin = try await h.call(.post, "/v1/staff", token: world.officer,
                                            json: ["username": "sneaky", "password": Harness.password, "role": "admin"])
            #expect(notAdmin.status == .forbidden)
        }
    }

    @Test("terminals get a one-time API key that authenticates until revoked", arguments: TestStores.engines)
    func terminals(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let admin = try await h.admin()
            let created = try await h.call(.post, "/v1/terminals", token: admin, json: ["kind": "merchantPos", "name": "Till 1", "binding_id": "m-1"])
            #expect(created.status == .created)
            #expect(created.headers[.cacheControl] == "no-store")
            let key = try #require(created.string("api_key"))
            let id = try #require(created.string("id"))
            #expect(key.hasPrefix("jit_"))
            let asTerminal = try await h.call(.get, "/v1/staff/me", token: key)
            #expect(asTerminal.status == .forbidden, "a valid terminal key is authenticated but not staff")
            let stored = try await h.store.read { tx in try await tx.sql.raw("SELECT key_hash FROM terminals").all() }
            #expect(try stored.allSatisfy { try !$0.decode(column: "key_hash", as: String.self).contains(key) })
            #expect(try await h.call(.post, "/v1/terminals/\(id)/revocation", token: admin).status == .ok)
            #expect(try await h.call(.post, "/v1/terminals/\(id)/revocation", token: admin).code == "terminal.already_revoked")
            #expect(try await h.call(.get, "/v1/staff/me", token: key).status == .unauthorized)
            #expect(try await h.call(.post, "/v1/terminals/nope/revocation", token: admin).status == .notFound)
        }
    }
}
