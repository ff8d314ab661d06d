import Crypto
import Foundation
import HTTPTypes
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import Logging
import SQLKit
import Testing

/// Issue 8 §1–2: nothing secret can be read or brute-forced from a copy of the database or from a
/// trace-level log, and the counters that guard secrets cannot be outrun by parallel guesses.
@Suite("Secrets at rest and counters that guard them")
struct SecretsAtRestTests {
    static func sha256Hex(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Every value of every row of every table of the store, as text.
    static func everyStoredValue(_ store: Store) async throws -> [String] {
        try await store.read { tx -> [String] in
            let tables: [String]
            switch tx.engine {
            case .sqlite:
                tables = try await tx.sql.raw("SELECT name FROM sqlite_master WHERE type = 'table'").all()
                    .map { try $0.decode(column: "name", as: String.self) }
            case .postgres:
                tables = try await tx.sql.raw("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema()")
                    .all().map { try $0.decode(column: "name", as: String.self) }
            }
            #expect(tables.contains("idempotency_keys") && tables.contains("sessions") && tables.contains("audit_log"))
            var values: [String] = []
            for table in tables {
                for row in try await tx.sql.raw("SELECT * FROM \(ident: table)").all() {
                    for column in row.allColumns {
                        if (try? row.decodeNil(column: column)) == true {
                            continue
                        } else if let text = try? row.decode(column: column, as: String.self) {
                            values.append(text)
                        } else if let number = try? row.decode(column: column, as: Int64.self) {
                            values.append(String(number))
                        } else {
                            Issue.record("\(table).\(column) is neither text nor an integer")
                        }
                    }
                }
            }
            return values
        }
    }

    @Test("after a journey through every secret-bearing operation, no table and no trace-level log line holds a secret, a PIN-equivalent hash or an unkeyed token digest",
          arguments: TestStores.engines)
    func nothingRecoverable(engine: Store.EngineKind) async throws {
        let capture = LogCapture()
        try await Harness.run(engine, logger: capture.logger()) { h in
            let world = try await h.world()
            var secrets: [String: String] = [:]
            var pinHashes: [String] = []
            func keyed(_ method: HTTPRequest.Method, _ path: String, _ json: [String: Any], token: String, key: String) async throws -> Reply {
                let reply = try await h.call(method, path, token: token, json: json, headers: [.idempotencyKey: key])
                try #require(reply.status == .created || reply.status == .ok, "\(path): \(reply.text)")
                // What the old scheme stored: a plain SHA-256 of the request with its secrets.
                let body = try JSONSerialization.data(withJSONObject: json)
                pinHashes.append(Idempotency.legacyHash(method: method, path: path, body: .init(bytes: body)))
                return reply
            }
            let passport = "E98765432"
            let application = try await keyed(.post, "/v1/permit-applications", Harness.applicationBody(passport: passport),
                                              token: world.employer, key: "app-1")
            let applicationID = try #require(application.string("id"))
            let issued = try await keyed(.post, "/v1/permit-applications/\(applicationID)/originals-verification",
                                         ["checked_documents": Harness.allDocuments, "decision": "issue"], token: world.officer, key: "issue-1")
            let code = try #require(issued.string("activation_code"))
            let permit = try #require(issued.value("permit") as? [String: Any])
            let number = try #require(permit["number"] as? String)
            let password = "moonlit harbour walk"
            let registered = try await h.call(.post, "/v1/ecard/registrations",
                                              json: ["permit_number": number, "name": "SMITH JANE ANN", "activation_code": code, "password": password])
            try #require(registered.status == .created, "\(registered.text)")
            let holder = try #require(try await h.call(.post, "/v1/ecard/sessions", json: ["permit_number": number, "password": password])
                .string("token"))
            let card = try await keyed(.post, "/v1/cards", ["permit_number": number, "passport_number": passport,
                                                            "decision_letter_number": permit["decision_letter_number"] as? String ?? ""],
                                       token: world.clerk, key: "card-1")
            let cardNumber = try #require(card.string("card_number"))
            let pin = "582931"
            _ = try await keyed(.post, "/v1/cards/\(cardNumber)/activation", ["pin": pin], token: world.clerk, key: "act-1")
            let tax = "TAX-3302-7788", residence = "RP33029911"
            _ = try await keyed(.post, "/v1/cards/\(cardNumber)/financial-functions",
                                ["tax_certificate": ["number": tax, "issued_on": "2026-06-30"],
                                 "residence_proof": ["kind": "residence_permit", "number": residence, "valid_until": "2028-06-30"]],
                                token: world.clerk, key: "fin-1")
            _ = try await keyed(.post, "/v1/cards/\(cardNumber)/deposits", ["amount_fen": 100_000, "account": "financial"],
                                token: world.clerk, key: "dep-1")
            _ = try await keyed(.post, "/v1/cards/\(cardNumber)/withdrawals", ["amount_fen": 1_000, "pin": pin], token: world.clerk, key: "wd-1")
            let merchant = try #require(try await keyed(.post, "/v1/merchants", ["name": ["en": "Books", "zh": "书店"], "category": "shopping",
                                                                                 "city_code": "330200"], token: world.admin, key: "m-1").string("id"))
            let apiKey = try #require(try await keyed(.post, "/v1/terminals", ["kind": "merchantPos", "name": "Till", "binding_id": merchant],
                                                      token: world.admin, key: "t-1").string("api_key"))
            _ = try await keyed(.post, "/v1/payments", ["card_number": cardNumber, "pin": pin, "amount_fen": 500, "merchant_reference": "A1"],
                                token: apiKey, key: "pay-1")
            let dynamic = try #require(try await h.call(.post, "/v1/ecard/dynamic-codes", token: holder).string("code"))
            _ = try await keyed(.post, "/v1/payments", ["card_number": cardNumber, "dynamic_code": dynamic, "amount_fen": 500,
                                                        "merchant_reference": "A2"], token: apiKey, key: "pay-2")
            // A wrong PIN and a failed sign-in leave counters and audit records behind too.
            let wrong = try await h.call(.post, "/v1/payments", token: apiKey, json: ["card_number": cardNumber, "pin": "904417",
                                                                                     "amount_fen": 500, "merchant_reference": "A3"],
                                         headers: [.idempotencyKey: "pay-3"])
            #expect(wrong.code == "card.pin_invalid")
            #expect(try await h.call(.post, "/v1/ecard/sessions", json: ["permit_number": number, "password": "not it at all"]).status
                    == .unauthorized)

            secrets["activation code"] = code
            secrets["activation code, unformatted"] = ECardRules.normalizedActivationCode(code)
            secrets["terminal API key"] = apiKey
            secrets["cardholder token"] = holder
            secrets["admin token"] = world.admin
            secrets["clerk token"] = world.clerk
            secrets["dynamic code"] = dynamic
            secrets["passport number"] = passport
            secrets["tax certificate number"] = tax
            secrets["residence document number"] = residence
            secrets["cardholder password"] = password
            secrets["staff password"] = Harness.password
            var digests: [String: String] = [:]
            for (name, value) in secrets { digests["unkeyed SHA-256 of the \(name)"] = Self.sha256Hex(value) }
            digests["unkeyed SHA-256 of the PIN"] = Self.sha256Hex(pin)
            for (index, hash) in pinHashes.enumerated() { digests["plain request hash #\(index)"] = hash }

            let stored = try await Self.everyStoredValue(h.store)
            #expect(stored.count > 200, "the scan saw the data")
            #expect(stored.contains { $0.contains(cardNumber) }, "the scan can find a value that is stored in clear")
            for (name, value) in secrets.merging(digests, uniquingKeysWith: { first, _ in first }) {
                #expect(!stored.contains { $0.contains(value) }, "\(name) is stored in clear")
            }
            // The PIN as a bound value would be a six-digit number in some column.
            #expect(!stored.contains(pin), "the PIN is stored")
            let log = capture.text
            #expect(capture.count > 0)
            for (name, value) in secrets {
                #expect(!log.contains(value), "\(name) appears in the trace-level log")
            }
            #expect(!log.contains("\"pin\":\"\(pin)\"") && !log.contains("[\(pin)]"), "the PIN appears in the log")
        }
    }

    @Test("32 concurrent wrong-PIN payments on one card: exactly 3 are checked against the PIN, the other 29 answer card.pin_blocked unchecked",
          arguments: TestStores.engines)
    func concurrentWrongPINs(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let (card, _) = try await h.bankedHolder(world)
            _ = try await h.call(.post, "/v1/cards/\(card)/deposits", token: world.clerk, json: ["amount_fen": 100_000, "account": "financial"],
                                 headers: [.idempotencyKey: "seed"])
            let merchant = try #require(try await h.call(.post, "/v1/merchants", token: world.admin,
                                                         json: ["name": ["en": "Shop", "zh": "店"], "category": "shopping", "city_code": "330200"])
                .string("id"))
            let pos = try #require(try await h.call(.post, "/v1/terminals", token: world.admin,
                                                    json: ["kind": "merchantPos", "name": "Till", "binding_id": merchant]).string("api_key"))
            let codes = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<32 {
                    group.addTask {
                        let guess = String(format: "%06d", 100_000 + index * 7)
                        return try await h.call(.post, "/v1/payments", token: pos,
                                                json: ["card_number": card, "pin": guess, "amount_fen": 100, "merchant_reference": "G\(index)"],
                                                headers: [.idempotencyKey: "guess-\(index)"]).code ?? "none"
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(codes.filter { $0 == "card.pin_invalid" }.count == 2, "\(codes)")
            #expect(codes.filter { $0 == "card.pin_blocked" }.count == 30, "\(codes)")
            let details = try await h.store.read { tx in
                try await tx.sql.raw("SELECT detail FROM audit_log WHERE object_id = \(bind: card) AND outcome = 'denied'").all()
                    .map { try $0.decode(column: "detail", as: String.self) }
            }
            #expect(details.filter { $0 == "wrong pin" }.count == 3, "exactly three PINs were checked")
            #expect(details.filter { $0 == "pin blocked" }.count == 29, "the rest were refused before any check")
            // The right PIN waits for tomorrow too; the next day it works.
            let right = ["card_number": card, "pin": "582931", "amount_fen": 100, "merchant_reference": "OK"] as [String: Any]
            #expect(try await h.call(.post, "/v1/payments", token: pos, json: right, headers: [.idempotencyKey: "ok-1"]).code == "card.pin_blocked")
            h.clock.advance(seconds: 86_400)
            #expect(try await h.call(.post, "/v1/payments", token: pos, json: right, headers: [.idempotencyKey: "ok-2"]).status == .created)
        }
    }

    @Test("a right PIN gives its reserved attempt back: correct PINs never use up the day's wrong-PIN allowance", arguments: TestStores.engines)
    func rightPINGivesBack(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let (card, _) = try await h.bankedHolder(world)
            _ = try await h.call(.post, "/v1/cards/\(card)/deposits", token: world.clerk, json: ["amount_fen": 100_000, "account": "financial"],
                                 headers: [.idempotencyKey: "seed"])
            for index in 0..<5 {
                let reply = try await h.call(.post, "/v1/cards/\(card)/withdrawals", token: world.clerk, json: ["amount_fen": 100, "pin": "582931"],
                                             headers: [.idempotencyKey: "w\(index)"])
                #expect(reply.status == .created, "\(reply.text)")
            }
            let wrong = try await h.call(.post, "/v1/cards/\(card)/withdrawals", token: world.clerk, json: ["amount_fen": 100, "pin": "904417"],
                                         headers: [.idempotencyKey: "bad"])
            #expect(wrong.code == "card.pin_invalid")
            #expect(wrong.string("detail")?.contains("2 attempt(s) left") == true, "\(wrong.text)")
        }
    }

    @Test("32 concurrent wrong staff passwords: exactly 5 are checked, the rest are locked out unchecked", arguments: TestStores.engines)
    func concurrentSignIns(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            _ = try await h.staff(.permitOfficer, username: "officer-target")
            let statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String?).self) { group in
                for index in 0..<32 {
                    group.addTask {
                        let reply = try await h.call(.post, "/v1/staff/sessions", json: ["username": "officer-target", "password": "guess number \(index)"])
                        return (reply.status, reply.code)
                    }
                }
                return try await group.reduce(into: [(HTTPResponse.Status, String?)]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0.1 == "auth.invalid_credentials" }.count == 4, "\(statuses)")
            #expect(statuses.filter { $0.1 == "auth.locked_out" }.count == 28, "\(statuses)")
            let checked = try await h.store.read { tx in
                try await tx.sql.raw("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'staff.sign_in' AND outcome = 'denied'").first()?
                    .decode(column: "n", as: Int.self)
            }
            #expect(checked == 5, "exactly five passwords were compared")
            let locked = try await h.call(.post, "/v1/staff/sessions", json: ["username": "officer-target", "password": Harness.password])
            #expect(locked.code == "auth.locked_out", "the right password waits for the lock too")
            #expect(locked.headers[.retryAfter] != nil)
            h.clock.advance(seconds: 31)
            #expect(try await h.call(.post, "/v1/staff/sessions", json: ["username": "officer-target", "password": Harness.password]).status == .created)
        }
    }

    @Test("32 concurrent wrong e-card registrations for one permit: exactly 5 are compared, the rest are locked out", arguments: TestStores.engines)
    func concurrentRegistrations(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let permit = try await h.issuedPermit(world)
            let number = try #require(permit["number"] as? String)
            let codes = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<32 {
                    group.addTask {
                        try await h.call(.post, "/v1/ecard/registrations",
                                         json: ["permit_number": number, "name": "SMITH JANE ANN", "activation_code": "WRONG\(index)CODE",
                                                "password": "moonlit harbour walk"]).code ?? "none"
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(codes.filter { $0 == "registration.details_mismatch" }.count == 4, "\(codes)")
            #expect(codes.filter { $0 == "auth.locked_out" }.count == 28, "\(codes)")
            let compared = try await h.store.read { tx in
                try await tx.sql.raw("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'cardholder.register' AND outcome = 'denied'").first()?
                    .decode(column: "n", as: Int.self)
            }
            #expect(compared == 5)
        }
    }

    @Test("a stolen session cannot brute-force the current password: wrong ones lock the change after 5, even in parallel",
          arguments: TestStores.engines)
    func currentPasswordGuesses(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let token = try await h.staff(.permitOfficer, username: "officer-pw")
            let codes = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<16 {
                    group.addTask {
                        try await h.call(.post, "/v1/staff/me/password", token: token,
                                         json: ["current_password": "guess number \(index)", "new_password": "a brand new passphrase"]).code ?? "none"
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            // Exactly five current passwords are compared; the rest are refused unchecked.
            #expect(codes.filter { $0 == "auth.current_password_wrong" }.count == 5, "\(codes)")
            #expect(codes.filter { $0 == "auth.locked_out" }.count == 11, "\(codes)")
            let right = ["current_password": Harness.password, "new_password": "a brand new passphrase"]
            #expect(try await h.call(.post, "/v1/staff/me/password", token: token, json: right).code == "auth.locked_out")
            h.clock.advance(seconds: 31)
            #expect(try await h.call(.post, "/v1/staff/me/password", token: token, json: right).status == .ok)
        }
    }

    @Test("the sweeper deletes idempotency records, idle counters, ended sessions and spent nonces past their retention, and nothing younger", arguments: TestStores.engines)
    func sweeper(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let (card, holder) = try await h.bankedHolder(world)
            func username(_ role: StaffRole) async throws -> String {
                try #require(try await h.store.read { tx in
                    try await tx.sql.raw("SELECT username FROM staff WHERE role = \(bind: role.rawValue)").first()?.decode(column: "username", as: String.self)
                })
            }
            func deposit(_ key: String, token: String) async throws -> Reply {
                try await h.call(.post, "/v1/cards/\(card)/deposits", token: token, json: ["amount_fen": 1_000, "account": "financial"],
                                 headers: [.idempotencyKey: key])
            }
            #expect(try await deposit("old", token: world.clerk).status == .created)
            _ = try await h.call(.post, "/v1/cards/\(card)/withdrawals", token: world.clerk, json: ["amount_fen": 100, "pin": "904417"],
                                 headers: [.idempotencyKey: "wrong"])
            let code = try #require(try await h.call(.post, "/v1/ecard/dynamic-codes", token: holder).string("code"))
            #expect(try await h.call(.post, "/v1/identity-checks", token: world.clerk, json: ["code": code]).status.code < 300)
            let signedOut = try await h.signIn(try await username(.admin))
            #expect(try await h.call(.delete, "/v1/staff/sessions/current", token: signedOut).status.code < 300)
            func count(_ table: String) async throws -> Int {
                try await h.store.read { tx in try await tx.sql.raw("SELECT COUNT(*) AS n FROM \(ident: table)").first()?.decode(column: "n", as: Int.self) } ?? -1
            }
            let idempotencyBefore = try await count("idempotency_keys")
            #expect(idempotencyBefore > 0)
            #expect(try await count("redeemed_codes") == 1)
            #expect(try await Sweeper.sweep(store: h.store, nowMs: h.clock.now).total == 0, "nothing is old yet")

            h.clock.advance(seconds: 11 * 3600)
            #expect(try await deposit("young", token: world.clerk).status == .created)
            h.clock.advance(seconds: 13 * 3600 + 1)
            let first = try await Sweeper.sweep(store: h.store, nowMs: h.clock.now)
            #expect(first.idempotencyRecords == idempotencyBefore, "exactly the records older than 24 h")
            #expect(first.sessions >= 1, "the ended session, a day after it ended")
            #expect(first.redeemedCodes == 1)
            #expect(first.attemptCounters == 0, "the wrong-PIN counter is a day old, not two")
            let clerk = try await h.signIn(try await username(.bankClerk))
            #expect(try await deposit("young", token: clerk).headers[.idempotencyReplayed] == "true", "a 13-hour-old record still replays")
            #expect(try await deposit("old", token: clerk).headers[.idempotencyReplayed] == nil, "a swept key is a new request")

            h.clock.advance(seconds: 2 * 86_400)
            let later = try await Sweeper.sweep(store: h.store, nowMs: h.clock.now)
            #expect(later.attemptCounters >= 1, "the old day's PIN counter")
            #expect(try await count("login_throttle") == 0)
            #expect(try await count("idempotency_keys") == 0)
            #expect(try await count("redeemed_codes") == 0)
        }
    }
}
