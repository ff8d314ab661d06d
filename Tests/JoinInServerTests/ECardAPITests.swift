import ArgumentParser
import Crypto
import Foundation
import JoinInCLI
import HTTPTypes
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import Testing

extension Harness {
    /// Issues a permit and registers the holder's e-card; returns (permit JSON, activation code, cardholder token).
    func registeredHolder(_ world: World, body: [String: Any] = Harness.applicationBody(),
                          password: String = "moonlit harbour walk") async throws -> (permit: [String: Any], token: String) {
        let submitted = try await call(.post, "/v1/permit-applications", token: world.employer, json: body)
        let id = try #require(submitted.string("id"))
        let issued = try await call(.post, "/v1/permit-applications/\(id)/originals-verification", token: world.officer,
                                    json: ["checked_documents": body["documents"] ?? Self.allDocuments, "decision": "issue"])
        let permit = try #require(issued.value("permit") as? [String: Any])
        let number = try #require(permit["number"] as? String)
        let code = try #require(issued.string("activation_code"))
        let person = try #require(body["person"] as? [String: Any])
        let name = "\(person["surname"] ?? "") \(person["given_names"] ?? "")"
        let registered = try await call(.post, "/v1/ecard/registrations",
                                        json: ["permit_number": number, "name": name, "activation_code": code, "password": password])
        try #require(registered.status == .created, "\(registered.text)")
        let session = try await call(.post, "/v1/ecard/sessions", json: ["permit_number": number, "password": password])
        try #require(session.status == .created, "\(session.text)")
        return (permit, try #require(session.string("token")))
    }

    func jwks() async throws -> [String: Curve25519.Signing.PublicKey] {
        let reply = try await call(.get, "/.well-known/jwks.json")
        try #require(reply.status == .ok)
        return try JWKS.parse(Array(reply.text.utf8)).keyMap()
    }

    func statusList(for claims: PermitClaims) async throws -> (uri: String, list: StatusList) {
        let path = try #require(claims.statusURI.range(of: "/v1/credential-status/").map { String(claims.statusURI[$0.lowerBound...]) })
        let reply = try await call(.get, path)
        try #require(reply.status == .ok, "\(reply.text)")
        #expect(reply.headers[.contentType] == "application/statuslist+jwt")
        let verified = try StatusListToken.verify(reply.text, keys: try await jwks(), now: clock.now / 1000)
        return (verified.uri, verified.list)
    }
}

@Suite("E-card: registration, sign-in, me")
struct ECardAPITests {
    @Test("every benefit maps to the API value of the same name")
    func benefitNames() {
        for benefit in ECardRules.Benefit.allCases {
            #expect(ECardController.benefit(benefit).rawValue == benefit.rawValue)
        }
    }

    @Test("registration needs a valid permit, the passport name and the one-time activation code", arguments: TestStores.engines)
    func registration(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let submitted = try await h.call(.post, "/v1/permit-applications", token: world.employer,
                                             json: Harness.applicationBody(surname: "Smith", givenNames: "Jane Ann"))
            let id = try #require(submitted.string("id"))
            let issued = try await h.call(.post, "/v1/permit-applications/\(id)/originals-verification", token: world.officer,
                                          json: ["checked_documents": Harness.allDocuments, "decision": "issue"])
            let number = try #require(issued.string("permit.number"))
            let code = try #require(issued.string("activation_code"))
            #expect(code.count == 14 && code.filter { $0 == "-" }.count == 2)
            let letter = try await h.call(.get, "/v1/permits/\(number)/decision-letter", token: world.officer)
            #expect(letter.text.contains(code))
            #expect(!(try await h.call(.get, "/v1/permits/\(number)/decision-letter", token: world.employer)).text.contains(code),
                    "the employer's print has no activation code")
            #expect(issued.headers[.cacheControl] == "no-store")
            func register(name: String = "SMITH  jane ann", code: String = code, password: String = "moonlit harbour walk") async throws -> Reply {
                try await h.call(.post, "/v1/ecard/registrations",
                                 json: ["permit_number": number, "name": name, "activation_code": code, "password": password])
            }
            #expect(try await register(password: "short").code == "password.too_short")
            #expect(try await register(password: number.lowercased() + "x").code == "password.contains_identifier")
            #expect(try await register(name: "John Smith").code == "registration.details_mismatch")
            #expect(try await register(code: "AAAA-BBBB-CCCC").code == "registration.details_mismatch")
            let created = try await register(name: "jane ann smith", code: code.lowercased().replacingOccurrences(of: "-", with: " "))
            #expect(created.status == .created, "\(created.text)")
            #expect(try await register().code == "ecard.already_registered")
            #expect(!(try await h.call(.get, "/v1/permits/\(number)/decision-letter", token: world.officer).text.contains(code)),
                    "a used code is no longer printed")
            let audit = try await h.call(.get, "/v1/audit-records?limit=200", token: world.admin)
            #expect(audit.items.contains { $0["action"] as? String == "cardholder.register" && $0["outcome"] as? String == "ok" })
            #expect(!audit.text.contains(code))
        }
    }

    @Test("repeated failed registrations for one permit number are locked out", arguments: TestStores.engines)
    func registrationRateLimit(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let permit = try await h.issuedPermit(world)
            let number = try #require(permit["number"] as? String)
            var statuses: [HTTPResponse.Status] = []
            for _ in 1...6 {
                statuses.append(try await h.call(.post, "/v1/ecard/registrations", json: [
                    "permit_number": number, "name": "SMITH JANE ANN", "activation_code": "WRONG-CODE-0000", "password": "moonlit harbour walk",
                ]).status)
            }
            #expect(statuses.prefix(4).allSatisfy { $0 == .unprocessableContent })
            #expect(statuses[4] == .tooManyRequests)
            #expect(statuses[5] == .tooManyRequests)
        }
    }

    @Test("sign-in, me before and after the card, sign-out, password change ends other sessions", arguments: TestStores.engines)
    func sessionsAndMe(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let (permit, token) = try await h.registeredHolder(world)
            let number = try #require(permit["number"] as? String)
            let before = try await h.call(.get, "/v1/ecard/me", token: token)
            #expect(before.status == .ok)
            #expect(before.string("permit.number") == number)
            #expect(before.string("person.surname") == "SMITH")
            #expect(before.value("card") == nil)
            #expect((before.value("benefits") as? [String]) == [])
            #expect(!before.text.contains("K12345678"), "the passport number is never shown")

            let card = try await h.issuedCard(world, permit: permit)
            let cardNumber = try #require(card["card_number"] as? String)
            let issuedCard = try await h.call(.get, "/v1/ecard/me", token: token)
            #expect(issuedCard.string("card.status") == "issued")
            #expect(issuedCard.string("card.masked_number") == String(cardNumber.prefix(6)) + "*********" + String(cardNumber.suffix(4)))
            #expect((issuedCard.value("benefits") as? [String]) == [])
            _ = try await h.call(.post, "/v1/cards/\(cardNumber)/activation", token: world.clerk, json: ["pin": "582931"])
            let active = try await h.call(.get, "/v1/ecard/me", token: token)
            #expect((active.value("benefits") as? [String])?.contains("transit_fares") == true)
            #expect(try await h.call(.get, "/v1/ecard/decision-letter", token: token).text.contains(number))

            let second = try #require(try await h.call(.post, "/v1/ecard/sessions",
                                                       json: ["permit_number": number, "password": "moonlit harbour walk"]).string("token"))
            #expect(try await h.call(.post, "/v1/ecard/sessions", json: ["permit_number": number, "password": "wrong password!"]).status
                    == .unauthorized)
            let changed = try await h.call(.post, "/v1/ecard/me/password", token: token,
                                           json: ["current_password": "moonlit harbour walk", "new_password": "sunrise over the bund"])
            #expect(changed.status == .ok)
            #expect(try await h.call(.get, "/v1/ecard/me", token: second).status == .unauthorized, "other sessions end")
            #expect(try await h.call(.get, "/v1/ecard/me", token: token).status == .ok)
            #expect(try await h.call(.delete, "/v1/ecard/sessions/current", token: token).status == .noContent)
            #expect(try await h.call(.get, "/v1/ecard/me", token: token).status == .unauthorized)

            // A cancelled permit leaves no benefits.
            let fresh = try #require(try await h.call(.post, "/v1/ecard/sessions",
                                                      json: ["permit_number": number, "password": "sunrise over the bund"]).string("token"))
            _ = try await h.call(.post, "/v1/permits/\(number)/cancellation", token: world.officer, json: ["reason": "left China"])
            let cancelled = try await h.call(.get, "/v1/ecard/me", token: fresh)
            #expect(cancelled.string("permit.status") == "cancelled")
            #expect((cancelled.value("benefits") as? [String]) == [])
            // The session check and the e-card home are point reads: no statement of theirs sorts
            // or builds an IN-list table (SQLite reports them; PostgreSQL has none to report).
            #expect(h.store.lookupScratchTableStatements.isEmpty, "\(h.store.lookupScratchTableStatements)")
        }
    }

    @Test("cardholder tokens reach only the e-card API, and staff tokens not the e-card API", arguments: TestStores.engines)
    func separation(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let (permit, token) = try await h.registeredHolder(world)
            let number = try #require(permit["number"] as? String)
            for (method, path) in [(HTTPRequest.Method.get, "/v1/permits/\(number)"), (.get, "/v1/permit-applications"), (.get, "/v1/staff/me"),
                                   (.get, "/v1/audit-records"), (.post, "/v1/cards"), (.post, "/v1/identity-checks")] {
                let reply = try await h.call(method, path, token: token, json: [:])
                #expect(reply.status == .forbidden, "\(method) \(path) → \(reply.status.code)")
            }
            for staff in [world.admin, world.officer, world.clerk, world.employer] {
                #expect(try await h.call(.get, "/v1/ecard/me", token: staff).status == .forbidden)
                #expect(try await h.call(.get, "/v1/ecard/permit-credential", token: staff).status == .forbidden)
            }
            #expect(try await h.call(.get, "/v1/ecard/me").status == .unauthorized)
        }
    }
}

@Suite("Permit credential and dynamic QR")
struct CredentialAPITests {
    @Test("the credential verifies offline with only the JWKS, and is revoked when the permit is cancelled", arguments: TestStores.engines)
    func credentialLifecycle(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let (permit, token) = try await h.registeredHolder(world)
            let number = try #require(permit["number"] as? String)
            let reply = try await h.call(.get, "/v1/ecard/permit-credential", token: token)
            #expect(reply.status == .ok, "\(reply.text)")
            let credential = try #require(reply.string("credential"))
            let keys = try await h.jwks()
            let now = h.clock.now / 1000
            let offline = PermitCredential.verify(credential, keys: keys, statusList: nil, now: now)
            #expect(offline.verdict == .valid, "\(offline.reason)")
            let claims = try #require(offline.claims)
            #expect(claims.permitNumber == number)
            #expect(claims.surname == "SMITH")
            #expect(claims.employer.en == "Ningbo Port Tech")
            #expect(claims.maskedCardNumber == nil, "no card yet")
            #expect(claims.expiresAt <= now + 24 * 3600)
            let header = try #require(credential.split(separator: ".").first.flatMap { Base64URL.decode(String($0)) })
            #expect(String(decoding: header, as: UTF8.self).contains("\"typ\":\"joinin-permit+jwt\""))
            let list = try await h.statusList(for: claims)
            #expect(PermitCredential.verify(credential, keys: keys, statusList: list, now: now).verdict == .valid)
            let online = try await h.call(.post, "/v1/credential-verifications", json: ["credential": credential])
            #expect(online.string("verdict") == "valid")
            #expect(online.string("claims.permit_number") == number)

            _ = try await h.call(.post, "/v1/permits/\(number)/cancellation", token: world.officer, json: ["reason": "contract terminated"])
            let revokedList = try await h.statusList(for: claims)
            #expect(revokedList.list.status(at: claims.statusIndex) == 1)
            #expect(PermitCredential.verify(credential, keys: keys, statusList: revokedList, now: now).verdict == .revoked)
            #expect(try await h.call(.post, "/v1/credential-verifications", json: ["credential": credential]).string("verdict") == "revoked")
            // `joinin verify`, fully offline with the files a verifier would have saved.
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("verify-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try (try await h.call(.get, "/.well-known/jwks.json")).text.write(toFile: directory + "/jwks.json", atomically: true, encoding: .utf8)
            let listPath = try #require(claims.statusURI.range(of: "/v1/credential-status/").map { String(claims.statusURI[$0.lowerBound...]) })
            try (try await h.call(.get, listPath)).text.write(toFile: directory + "/status.jwt", atomically: true, encoding: .utf8)
            func cliVerify() async throws -> Int32 {
                var command = try JoinInCommand.parseAsRoot(["verify", "--jwks", directory + "/jwks.json", "--status-list", directory + "/status.jwt",
                                                             "--at", String(now), credential])
                do {
                    if var asyncCommand = command as? any AsyncParsableCommand { try await asyncCommand.run() } else { try command.run() }
                    return 0
                } catch let exit as ExitCode {
                    return exit.rawValue
                }
            }
            #expect(try await cliVerify() == 1, "joinin verify says revoked and exits 1")
            #expect(try await h.call(.get, "/v1/ecard/permit-credential", token: token).code == "permit.not_valid")
            h.clock.advance(seconds: 25 * 3600)
            #expect(PermitCredential.verify(credential, keys: keys, statusList: nil, now: h.clock.now / 1000).verdict == .expired)
        }
    }

    @Test("a lost card revokes the credentials that show it; the next credential shows no card", arguments: TestStores.engines)
    func lostCardRevokes(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let (permit, token) = try await h.registeredHolder(world)
            let card = try await h.issuedCard(world, permit: permit)
            let cardNumber = try #require(card["card_number"] as? String)
            _ = try await h.call(.post, "/v1/cards/\(cardNumber)/activation", token: world.clerk, json: ["pin": "582931"])
            let withCard = try #require(try await h.call(.get, "/v1/ecard/permit-credential", token: token).string("credential"))
            let keys = try await h.jwks()
            let claims = try #require(PermitCredential.verify(withCard, keys: keys, statusList: nil, now: h.clock.now / 1000).claims)
            #expect(claims.maskedCardNumber == String(cardNumber.prefix(6)) + "*********" + String(cardNumber.suffix(4)))
            let lost = try await h.call(.post, "/v1/ecard/card/loss-report", token: token)
            #expect(lost.string("status") == "lost")
            #expect(try await h.call(.post, "/v1/ecard/card/loss-report", token: token).status == .conflict)
            let list = try await h.statusList(for: claims)
            #expect(PermitCredential.verify(withCard, keys: keys, statusList: list, now: h.clock.now / 1000).verdict == .revoked)
            let after = try #require(try await h.call(.get, "/v1/ecard/permit-credential", token: token).string("credential"))
            let afterClaims = try #require(PermitCredential.verify(after, keys: keys, statusList: nil, now: h.clock.now / 1000).claims)
            #expect(afterClaims.maskedCardNumber == nil)
            #expect(afterClaims.statusIndex != claims.statusIndex)
            #expect(PermitCredential.verify(after, keys: keys, statusList: try await h.statusList(for: afterClaims),
                                            now: h.clock.now / 1000).verdict == .valid)
            #expect(try await h.call(.get, "/v1/cards/\(cardNumber)", token: world.clerk).string("status") == "lost")
        }
    }

    @Test("dynamic codes are redeemed once, expire after 120 s, and need an active card", arguments: TestStores.engines)
    func dynamicCodes(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let (permit, token) = try await h.registeredHolder(world)
            #expect(try await h.call(.post, "/v1/ecard/dynamic-codes", token: token).code == "card.not_active")
            let card = try await h.issuedCard(world, permit: permit)
            let cardNumber = try #require(card["card_number"] as? String)
            _ = try await h.call(.post, "/v1/cards/\(cardNumber)/activation", token: world.clerk, json: ["pin": "582931"])
            let terminal = try #require(try await h.call(.post, "/v1/terminals", token: world.admin,
                                                         json: ["kind": "counter", "name": "Hospital desk 3"]).string("api_key"))
            func fresh() async throws -> String {
                let reply = try await h.call(.post, "/v1/ecard/dynamic-codes", token: token)
                try #require(reply.status == .created, "\(reply.text)")
                return try #require(reply.string("code"))
            }
            let code = try await fresh()
            let checked = try await h.call(.post, "/v1/identity-checks", token: terminal, json: ["code": code])
            #expect(checked.status == .ok, "\(checked.text)")
            #expect(checked.string("surname") == "SMITH")
            #expect(checked.string("permit_status") == "valid")
            #expect(checked.string("card_status") == "active")
            #expect(!checked.text.contains("K12345678"))
            let replay = try await h.call(.post, "/v1/identity-checks", token: world.clerk, json: ["code": code])
            #expect(replay.status == .conflict)
            #expect(replay.code == "code.already_used")

            let late = try await fresh()
            h.clock.advance(seconds: 121)
            #expect(try await h.call(.post, "/v1/identity-checks", token: terminal, json: ["code": late]).code == "code.expired")

            let forged = try JWS.sign(payload: Array(#"{"sub":"x","jti":"y","iat":1,"exp":9999999999}"#.utf8), kid: "test-key",
                                      typ: DynamicCodes.typ, key: Curve25519.Signing.PrivateKey())
            #expect(try await h.call(.post, "/v1/identity-checks", token: terminal, json: ["code": forged]).code == "code.invalid")
            #expect(try await h.call(.post, "/v1/identity-checks", token: terminal, json: ["code": "garbage"]).code == "code.invalid")
            #expect(try await h.call(.post, "/v1/identity-checks", token: world.employer, json: ["code": late]).status == .forbidden)

            let beforeLoss = try await fresh()
            _ = try await h.call(.post, "/v1/cards/\(cardNumber)/loss-report", token: world.clerk)
            #expect(try await h.call(.post, "/v1/identity-checks", token: terminal, json: ["code": beforeLoss]).code == "card.not_active")
            let audit = try await h.call(.get, "/v1/audit-records?limit=200", token: world.admin)
            #expect(audit.items.filter { $0["action"] as? String == "identity.check" }.count == 1)
        }
    }

    @Test("the JWKS keeps a rotated-out key until its credentials can no longer be live")
    func keyRotation() throws {
        let old = Curve25519.Signing.PrivateKey(), new = Curve25519.Signing.PrivateKey()
        let keys = try CredentialKeys([("20261201000000-aaaa", old), ("20261202000000-bbbb", new)])
        #expect(keys.signing.kid == "20261202000000-bbbb")
        let rotation: Int64 = 1_796_169_600  // 2026-12-02T00:00:00Z
        #expect(keys.published(nowSeconds: rotation + 3600).map(\.kid) == ["20261201000000-aaaa", "20261202000000-bbbb"])
        #expect(keys.published(nowSeconds: rotation + 24 * 3600).map(\.kid) == ["20261202000000-bbbb"])
    }
}
