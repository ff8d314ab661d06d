import ArgumentParser
import Foundation
import Hummingbird
@testable import JoinInCLI
import JoinInCore
import JoinInServer
import JoinInStore
import JoinInTestSupport
import SQLKit
import Testing

@Suite("CLI: demo city")
struct DemoCityTests {
    /// Runs `body` with a server on a loopback port over `store` (bcrypt cost 4, as in every test).
    static func withServer(store: Store, _ body: @Sendable (Int) async throws -> Void) async throws {
        var config = ServerConfig()
        config.port = 0
        config.bcryptCost = 4
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        var quiet = TestStores.logger
        quiet.logLevel = .critical
        let app = buildApplication(store: store, config: config, keys: .random(kid: "demo-test"), logger: quiet,
                                   onServerRunning: { port in
                                       portContinuation.yield(port ?? 0)
                                       portContinuation.finish()
                                   })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            var port = 0
            for await value in ports { port = value }
            try #require(port > 0, "the server did not start")
            do {
                try await body(port)
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    static func rows(_ store: Store) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in ["permits", "cards", "staff", "terminals", "audit_log", "ledger_transfers", "transit_taps", "health_settlements",
                      "library_loans", "venue_entries", "payments", "service_requests", "event_registrations", "inbox_messages"] {
            counts[table] = try await store.read { tx in
                try await tx.sql.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()?.decode(column: "n", as: Int.self) ?? -1
            }
        }
        return counts
    }

    @Test("the demo seeds Ningbo through the API; the printed people see data in every domain; a second start seeds nothing",
          arguments: TestStores.engines)
    func seedsOnce(engine: Store.EngineKind) async throws {
        try await TestStores.withStore(engine) { store in
            try await ReferenceData.loadBuiltIn(store: store, nowMs: AppClock.system.nowMs())
            let otp = try #require(try await Provisioning.bootstrapAdmin(store: store, bcryptCost: 4, nowMs: AppClock.system.nowMs()))
            try await Self.withServer(store: store) { port in
                let started = ContinuousClock.now
                let outcome = try await DemoCity.run(store: store, host: "127.0.0.1", port: port, adminOneTimePassword: otp)
                guard case .seeded(let seeded) = outcome else {
                    Issue.record("a new database was not seeded: \(outcome)")
                    return
                }
                print("note: demo seeding took \(ContinuousClock.now - started)")
                try await Self.check(seeded, port: port)
                #expect(try await store.verifyLedger().isOK)

                // A second start on the same database: nothing is seeded, with or without a one-time password.
                let before = try await Self.rows(store)
                for password in [String?.none, otp] {
                    let again = try await DemoCity.run(store: store, host: "127.0.0.1", port: port, adminOneTimePassword: password)
                    guard case .alreadyPresent(let permits) = again else {
                        Issue.record("a seeded database was seeded again: \(again)")
                        return
                    }
                    #expect(permits == 2)
                    #expect(DemoCity.message(again).contains("already has data (2 permits)"))
                }
                #expect(try await Self.rows(store) == before)
            }
        }
    }

    /// Checks, signed in as the people of the printed list, that each domain has the seeded data.
    static func check(_ seeded: DemoCity.Seeded, port: Int) async throws {
        let banner = seeded.banner
        #expect(banner.contains("Demo city Ningbo is ready. Open http://127.0.0.1:\(port)/ (e-card) and http://127.0.0.1:\(port)/console (staff)."))
        for holder in seeded.cardholders {
            #expect(banner.contains(holder.permitNumber) && banner.contains(holder.password) && banner.contains(holder.pin))
            #expect(holder.pin.count == 6 && holder.password.count == 14)
        }
        for login in [seeded.admin] + seeded.staff {
            #expect(banner.contains(login.username) && banner.contains(login.password))
        }
        #expect(Set(seeded.staff.map(\.username)) == ["hr.chen", "hr.lin", "officer.wang", "clerk.zhao", "hrss.li", "events.sun", "shop.zhou"])
        #expect(Set(([seeded.admin] + seeded.staff).map(\.password) + seeded.cardholders.map(\.password)).count == 10, "every password is its own")

        let connection = try await LoopbackHTTPConnection(port: port)
        do {
            try await check(seeded, api: DemoAPI(connection: connection))
        } catch {
            await connection.close()
            throw error
        }
        await connection.close()
    }

    static func check(_ seeded: DemoCity.Seeded, api: DemoAPI) async throws {

        // Every console login works.
        var staffTokens: [String: String] = [:]
        for login in [seeded.admin] + seeded.staff {
            staffTokens[login.username] = try await api.call("sign in as \(login.username)", .POST, "/v1/staff/sessions",
                                                             .json(["username": login.username, "password": login.password])).string("token")
        }

        // Exact balances in fen: deposits 500.00 / 300.00, Anna → Lukas 88.00, top-ups 20.00 / 10.00, transit 2.90 / 3.20,
        // contributions 2% of 15,000.00 / 12,000.00, pharmacy 63.00 / 38.00, bookshop 128.00 / 64.00 less 10%.
        let expected: [String: [String: Int]] = [
            "Anna MÜLLER": ["financial": 50_000 - 8_800 - 2_000 - 11_520, "transitWallet": 2_000 - 240 - 50, "medicalPersonal": 30_000 - 6_300],
            "Lukas BERGER": ["financial": 30_000 + 8_800 - 1_000 - 5_760, "transitWallet": 1_000 - 160 - 160, "medicalPersonal": 24_000 - 3_800],
        ]
        let discounts = ["Anna MÜLLER": 1_280, "Lukas BERGER": 640]
        #expect(seeded.cardholders.map(\.name) == ["Anna MÜLLER", "Lukas BERGER"])
        for holder in seeded.cardholders {
            let who = holder.name
            let token = try await api.call("e-card sign-in of \(who)", .POST, "/v1/ecard/sessions",
                                           .json(["permit_number": holder.permitNumber, "password": holder.password])).string("token")
            func items(_ path: String) async throws -> [[String: Any]] {
                let reply = try await api.call("\(path) of \(who)", .GET, path, token: token)
                return try reply.value(["items"]) as? [[String: Any]] ?? []
            }
            func fen(_ object: Any?) -> Int? { (object as? [String: Any])?["amount_fen"] as? Int }

            let me = try await api.call("e-card of \(who)", .GET, "/v1/ecard/me", token: token)
            #expect(try me.string("permit", "number") == holder.permitNumber)

            let balances = Dictionary(try await items("/v1/ecard/accounts").compactMap { account -> (String, Int)? in
                guard let kind = account["kind"] as? String, let balance = fen(account["balance"]) else { return nil }
                return (kind, balance)
            }, uniquingKeysWith: { first, _ in first })
            #expect(balances == expected[who], "\(who)")

            #expect(try await items("/v1/ecard/transit/trips").count == 2, "\(who): trips")
            let settlements = try await items("/v1/ecard/health/settlements")
            #expect(settlements.count == 1 && settlements.first?["visit_type"] as? String == "pharmacy", "\(who): medical settlement")
            let loans = try await items("/v1/ecard/library/loans")
            #expect(loans.count == 1, "\(who): loan")
            #expect(try await items("/v1/ecard/venue-visits").count == 1, "\(who): museum visit")
            let savings = try await items("/v1/ecard/savings")
            #expect(savings.count == 1 && fen((savings.first?["payment"] as? [String: Any])?["discount"]) == discounts[who], "\(who): payment with the offer")
            let requests = try await items("/v1/ecard/service-requests")
            #expect(requests.count == 1 && requests.first?["status"] as? String == "completed", "\(who): service request")
            let registrations = try await items("/v1/ecard/event-registrations")
            #expect(registrations.count == 1 && registrations.first?["status"] as? String == "confirmed", "\(who): event")
            let inbox = try await items("/v1/ecard/inbox")
            #expect(inbox.contains { $0["kind"] as? String == "request_completed" }, "\(who): inbox")
        }

        // The organiser's event has both; the shop's administrator sees both payments.
        let organiser = try #require(staffTokens["events.sun"])
        let events = try await api.call("the organiser's events", .GET, "/v1/events", token: organiser).value(["items"]) as? [[String: Any]] ?? []
        #expect(events.count == 1)
        let event = try #require(events.first?["id"] as? String)
        let registrations = try await api.call("the event's registrations", .GET, "/v1/events/\(event)/registrations", token: organiser)
            .value(["items"]) as? [[String: Any]] ?? []
        #expect(registrations.count == 2)
        let shop = try #require(staffTokens["shop.zhou"])
        let payments = try await api.call("the shop's payments", .GET, "/v1/merchant/payments", token: shop).value(["items"]) as? [[String: Any]] ?? []
        #expect(payments.count == 2)
    }

    @Test("a failing step stops the server with one line naming the step and the problem's code and detail")
    func failingStep() async throws {
        try await TestStores.withStore(.sqlite) { store in
            try await ReferenceData.loadBuiltIn(store: store, nowMs: AppClock.system.nowMs())
            _ = try #require(try await Provisioning.bootstrapAdmin(store: store, bcryptCost: 4, nowMs: AppClock.system.nowMs()))
            var config = ServerConfig()
            config.port = 0
            config.bcryptCost = 4
            let (listening, listened) = AsyncStream.makeStream(of: Int.self)
            var quiet = TestStores.logger
            quiet.logLevel = .critical
            let app = buildApplication(store: store, config: config, keys: .random(kid: "demo-test"), logger: quiet,
                                       onServerRunning: { port in
                                           listened.yield(port ?? 0)
                                           listened.finish()
                                       })
            do {
                try await DemoCity.serve(app, listening: listening, store: store, host: "127.0.0.1", adminOneTimePassword: "not-the-password")
                Issue.record("the demo went on with a wrong one-time password")
            } catch let error as CLIError {
                #expect(error.description.hasPrefix("error: demo city: sign in as admin with the one-time password failed: HTTP 401 auth."),
                        "\(error)")
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test("a database whose administrator was created earlier is not seeded")
    func notNew() async throws {
        try await TestStores.withStore(.sqlite) { store in
            try await ReferenceData.loadBuiltIn(store: store, nowMs: AppClock.system.nowMs())
            let outcome = try await DemoCity.run(store: store, host: "127.0.0.1", port: 9, adminOneTimePassword: nil)
            guard case .notNew = outcome else {
                Issue.record("expected .notNew, got \(outcome)")
                return
            }
            #expect(DemoCity.message(outcome).contains("start on a new database"))
        }
    }

    @Test("`joinin demo` is `serve --demo`; random secrets follow the policies")
    func command() throws {
        let demo = try #require(try JoinInCommand.parseAsRoot(["demo", "--port", "18777", "--sip2-port", "16777"]) as? DemoCommand)
        #expect(demo.serve.port == 18777 && demo.serve.sip2Port == 16777)
        let serve = try #require(try JoinInCommand.parseAsRoot(["serve", "--demo"]) as? Serve)
        #expect(serve.demo)
        let plain = try #require(try JoinInCommand.parseAsRoot(["serve"]) as? Serve)
        #expect(!plain.demo)
        let birth = try #require(CivilDate("1990-04-01"))
        for _ in 0..<200 {
            let pin = DemoSecrets.pin(dateOfBirth: birth)
            #expect(throws: Never.self) { try PinPolicy.validate(pin, dateOfBirth: birth) }
            let password = DemoSecrets.password()
            #expect(password.count == 14 && password.split(separator: "-").count == 3)
        }
    }

    @Test("the demo reads the example data bundled with the executable, the same files as docs/examples")
    func bundledData() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/examples")
        func file(_ path: String) throws -> String { try String(contentsOf: examples.appendingPathComponent(path), encoding: .utf8) }
        #expect(try DemoData.healthPolicy2026 == (try file("health-demo/policy-330200-2026.json")))
        #expect(try DemoData.healthCatalogue == (try file("health-demo/catalogue-330200.csv")))
        #expect(try DemoData.libraryItems == (try file("library-demo/items-tianyi.csv")))
        #expect(try DemoData.serviceCatalogue == (try file("services-demo/catalogue.json")))
        let names = try FileManager.default.contentsOfDirectory(atPath: examples.appendingPathComponent("transit-demo-feed").path)
            .filter { $0.hasSuffix(".txt") }
        let feed = try DemoData.transitFeed
        #expect(Set(feed.keys) == Set(names) && names.count >= 10)
        #expect(try DemoData.directory().path.contains("joinin_JoinInCLI.resources"), "read from the bundle, not the checkout")
        #expect(throws: CLIError.self) { try DemoData.text("health-demo/no-such-file.json") }
    }
}
