import ArgumentParser
import Foundation
import Hummingbird
import JoinInCore
import JoinInServer
import JoinInStore
import NIOCore
import NIOHTTP1
import SQLKit

/// `joinin demo`: the same as `joinin serve --demo`.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start the platform as `serve` does and seed the demo city Ningbo on a new database (= `serve --demo`; docs/demo.md).")

    @OptionGroup var serve: Serve

    func run() async throws {
        var serve = self.serve
        serve.demo = true
        try await serve.run()
    }
}

/// The demo city (docs/demo.md): once the server listens, a new database is filled with Ningbo's
/// bank branch, employers, staff, two cardholders and a history in every domain — through the
/// public HTTP API over loopback, as a client would, signed in as the administrator with the
/// one-time password this start created. The only exceptions are the two imports that have no
/// HTTP API (a GTFS fare feed, a library's holdings): they run the same functions as
/// `joinin transit import-gtfs` and `joinin import library-items`, as the README tour does.
/// Every password and PIN is random, made now, and printed once on standard output (never logged).
enum DemoCity {
    static let city = "330200"

    struct StaffLogin: Sendable {
        let role: String
        let username: String
        let password: String
    }

    struct Cardholder: Sendable {
        let name: String
        let chineseName: String
        let permitNumber: String
        let cardNumber: String
        let password: String
        let pin: String
    }

    struct Seeded: Sendable {
        let base: String
        let admin: StaffLogin
        let staff: [StaffLogin]
        let cardholders: [Cardholder]

        /// The sign-in list, printed once.
        var banner: String {
            func pad(_ text: String, _ width: Int) -> String {
                text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
            }
            var lines = ["------------------------------------------------------------------",
                         "Demo city Ningbo is ready. Open \(base)/ (e-card) and \(base)/console (staff).",
                         "Shown only this once (stored as hashes only):"]
            for holder in cardholders {
                lines.append("  e-card   \(pad(holder.name, 14))\(pad(holder.chineseName, 6))permit \(holder.permitNumber)  password \(holder.password)"
                             + "  (card \(holder.cardNumber), PIN \(holder.pin))")
            }
            for login in [admin] + staff {
                lines.append("  console  \(pad(login.role, 10))\(pad(login.username, 14))password \(login.password)")
            }
            lines.append("The administrator's one-time password was replaced by the one above. What was seeded: docs/demo.md.")
            lines.append("------------------------------------------------------------------")
            return lines.joined(separator: "\n")
        }
    }

    enum Outcome: Sendable {
        case seeded(Seeded)
        /// The database has permits: nothing is seeded (a second start never duplicates anything).
        case alreadyPresent(permits: Int)
        /// No permits, but the administrator was created by an earlier start: the demo cannot sign in.
        case notNew
    }

    /// What `serve --demo` prints for an outcome.
    static func message(_ outcome: Outcome) -> String {
        switch outcome {
        case .seeded(let seeded):
            return seeded.banner
        case .alreadyPresent(let permits):
            return """
            Demo: this database already has data (\(permits) permit\(permits == 1 ? "" : "s")), so nothing was seeded: serving it as it is.
              If --demo seeded it, its sign-in list was printed then; passwords and PINs are stored only as hashes
              and cannot be shown again. For a fresh demo city, start on a new database (--database, --keys).
            """
        case .notNew:
            return """
            Demo: this database has no permits, but its administrator was created by an earlier start, so the demo
              cannot sign in (it seeds through the API, signed in with the one-time password of a new database's
              administrator). Serving it as it is; for the demo city, start on a new database (--database, --keys).
            """
        }
    }

    /// Runs the server and, once it listens, the demo beside it. A failing demo step stops the server
    /// with its one-line message (a non-zero exit); the server stopping ends the demo.
    static func serve(_ app: some ApplicationProtocol, listening: AsyncStream<Int>, store: Store, host: String,
                      adminOneTimePassword: String?) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await app.runService()
                return true
            }
            group.addTask {
                var port: Int?
                for await value in listening {
                    port = value
                    break
                }
                guard let port else { return false }
                if adminOneTimePassword != nil {
                    say("Demo: seeding the demo city Ningbo through the API (this takes a moment)…")
                }
                say(message(try await run(store: store, host: host, port: port, adminOneTimePassword: adminOneTimePassword)))
                return false
            }
            while let serverEnded = try await group.next() {
                if serverEnded {
                    group.cancelAll()
                    return
                }
            }
        }
    }

    /// Seeds the demo city on a new database (see `Outcome`); `host` and `port` are where the server listens.
    static func run(store: Store, host: String, port: Int, adminOneTimePassword: String?) async throws -> Outcome {
        let permits = try await store.read { tx in
            try await tx.sql.raw("SELECT COUNT(*) AS n FROM permits").first()?.decode(column: "n", as: Int.self) ?? 0
        }
        guard permits == 0 else { return .alreadyPresent(permits: permits) }
        guard let adminOneTimePassword else { return .notNew }
        let clientHost = switch host {
        case "0.0.0.0", "": "127.0.0.1"
        case "::": "::1"
        default: host
        }
        let base = "http://\(clientHost.contains(":") ? "[\(clientHost)]" : clientHost):\(port)"
        let connection = try await LoopbackHTTPConnection(host: clientHost, port: port)
        do {
            let seeded = try await Seeder(api: DemoAPI(connection: connection), store: store)
                .seed(base: base, adminOneTimePassword: adminOneTimePassword)
            await connection.close()
            return .seeded(seeded)
        } catch {
            await connection.close()
            throw error
        }
    }
}

// MARK: - Secrets

enum DemoSecrets {
    /// 14 characters, three groups of four without look-alikes (e.g. `k7dm-x2qa-9fzt`): random, typeable.
    static func password() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        while true {
            let characters = (0..<12).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
            guard Set(characters).count >= 6 else { continue }
            return stride(from: 0, to: 12, by: 4).map { String(characters[$0..<$0 + 4]) }.joined(separator: "-")
        }
    }

    /// Six random digits the PIN policy accepts for this date of birth.
    static func pin(dateOfBirth: CivilDate?) -> String {
        var generator = SystemRandomNumberGenerator()
        while true {
            let pin = String((0..<6).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
            if (try? PinPolicy.validate(pin, dateOfBirth: dateOfBirth)) != nil { return pin }
        }
    }
}

// MARK: - The API client

/// One HTTP answer: the step it belongs to and its JSON.
struct DemoReply {
    let step: String
    let json: Any?

    func value(_ path: [String]) throws -> Any {
        var current: Any? = json
        for key in path {
            current = (current as? [String: Any])?[key]
        }
        guard let current else {
            throw CLIError(description: "error: demo city: \(step): the answer has no \(path.joined(separator: "."))")
        }
        return current
    }

    func string(_ path: String...) throws -> String {
        guard let text = try value(path) as? String else {
            throw CLIError(description: "error: demo city: \(step): \(path.joined(separator: ".")) is not text")
        }
        return text
    }

    func int(_ path: String...) throws -> Int {
        guard let number = try value(path) as? Int else {
            throw CLIError(description: "error: demo city: \(step): \(path.joined(separator: ".")) is not a number")
        }
        return number
    }
}

/// JSON calls over one loopback connection. A status other than 2xx stops the demo with the step's
/// name and the problem's `code` and `detail`.
struct DemoAPI: Sendable {
    let connection: LoopbackHTTPConnection
    /// Idempotency keys are this run's: a retried step would not pay twice, another run never collides.
    let run = UUID().uuidString.lowercased().prefix(8)

    enum Body {
        case none
        case json(Any)
        case text(String, contentType: String)
    }

    @discardableResult
    func call(_ step: String, _ method: HTTPMethod, _ path: String, token: String? = nil, _ body: Body = .none,
              idempotent: Bool = false) async throws -> DemoReply {
        var headers: [(String, String)] = []
        var bytes = ByteBuffer()
        switch body {
        case .none:
            break
        case .json(let object):
            headers.append(("Content-Type", "application/json"))
            bytes = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object))
        case .text(let text, let contentType):
            headers.append(("Content-Type", contentType))
            bytes = ByteBuffer(string: text)
        }
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        if idempotent {
            let slug = String(step.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" }.prefix(80))
            headers.append(("Idempotency-Key", "demo-\(run)-\(slug)"))
        }
        let response: LoopbackHTTPConnection.Response
        do {
            response = try await connection.send(method, path, headers: headers, body: bytes)
        } catch {
            throw CLIError(description: "error: demo city: \(step) failed: no answer from the server (\(error))")
        }
        let json = response.body.readableBytes == 0 ? nil : try? JSONSerialization.jsonObject(with: Data(buffer: response.body))
        guard (200..<300).contains(response.status) else {
            let problem = json as? [String: Any]
            let code = problem?["code"] as? String ?? "no problem code"
            let detail = problem?["detail"] as? String ?? String(buffer: response.body).prefix(200).description
            throw CLIError(description: "error: demo city: \(step) failed: HTTP \(response.status) \(code): \(detail)")
        }
        return DemoReply(step: step, json: json)
    }
}

// MARK: - The seeding

/// One line of a pharmacy bill.
private struct BillLine: Sendable {
    let code: String
    let quantity: Int
    let unitPriceFen: Int

    var json: [String: Any] { ["code": code, "quantity": quantity, "unit_price_fen": unitPriceFen] }
}

/// Who a demo cardholder is; the rest (permit, card, passwords) comes from the API.
private struct Resident: Sendable {
    let surname: String
    let givenNames: String
    let chineseName: String
    let passport: String
    let nationality: String
    let dateOfBirth: String
    let sex: String
    let position: String
    let taxNumber: String
    let residenceNumber: String
    let depositFen: Int
    let topUpFen: Int
    let wageFen: Int
    let purpose: String
    let book: String
    let paymentFen: Int
    let pharmacyLines: [BillLine]
    var name: String { "\(givenNames) \(surname)" }
}

private struct Seeder {
    let api: DemoAPI
    let store: Store

    /// The figures docs/demo.md and DemoCityTests rely on.
    static let anna = Resident(
        surname: "MÜLLER", givenNames: "Anna", chineseName: "穆安娜", passport: "C01X00T47", nationality: "DEU",
        dateOfBirth: "1990-04-01", sex: "F", position: "Port systems engineer", taxNumber: "TAX-3302-0101",
        residenceNumber: "RP33020101", depositFen: 50_000, topUpFen: 2_000, wageFen: 1_500_000, purpose: "visa",
        book: "TY000002", paymentFen: 12_800,
        pharmacyLines: [BillLine(code: "XA01BAA001", quantity: 2, unitPriceFen: 1_850),
                        BillLine(code: "XR06AEA004", quantity: 1, unitPriceFen: 2_600)])
    static let lukas = Resident(
        surname: "BERGER", givenNames: "Lukas", chineseName: "贝卢卡", passport: "P4366918", nationality: "AUT",
        dateOfBirth: "1987-09-15", sex: "M", position: "Robotics integration lead", taxNumber: "TAX-3302-0102",
        residenceNumber: "RP33020102", depositFen: 30_000, topUpFen: 1_000, wageFen: 1_200_000, purpose: "housing",
        book: "TY000004", paymentFen: 6_400,
        pharmacyLines: [BillLine(code: "XR06AEA004", quantity: 1, unitPriceFen: 2_600),
                        BillLine(code: "XN02BEA002", quantity: 1, unitPriceFen: 1_200)])
    static let transferFen = 8_800

    private static func name(_ en: String, _ zh: String) -> [String: Any] { ["en": en, "zh": zh] }

    /// Issued, carded, activated, with financial functions and an e-card account.
    private struct Holder {
        let resident: Resident
        let permit: String
        let card: String
        let pin: String
        let password: String
        let session: String
    }

    func seed(base: String, adminOneTimePassword: String) async throws -> DemoCity.Seeded {
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        let today = CivilDate.shanghai(unixSeconds: nowMs / 1000)
        let start = today.description
        let end = today.adding(years: 2).description
        let month = String(start.prefix(7))

        // The administrator: the one-time password is replaced at once (the account can do nothing else).
        let otpSession = try await api.call("sign in as admin with the one-time password", .POST, "/v1/staff/sessions",
                                            .json(["username": "admin", "password": adminOneTimePassword]))
        let admin = try otpSession.string("token")
        let adminPassword = DemoSecrets.password()
        try await api.call("replace the administrator's one-time password", .POST, "/v1/staff/me/password", token: admin,
                           .json(["current_password": adminOneTimePassword, "new_password": adminPassword]))

        // Reference data: a bank branch and two employers.
        let branch = try await api.call("create the bank branch", .POST, "/v1/branches", token: admin,
                                        .json(["name": Self.name("Ningbo Main Branch", "宁波分行营业部"), "city_code": DemoCity.city]))
            .string("id")
        let portTech = try await api.call("create the employer Ningbo Port Technology", .POST, "/v1/employers", token: admin,
                                          .json(["name": Self.name("Ningbo Port Technology Co.", "宁波港科技有限公司"),
                                                 "uscc": "91330200MA2H7K3Q16", "city_code": DemoCity.city])).string("id")
        let robotics = try await api.call("create the employer Hangzhou Bay Robotics", .POST, "/v1/employers", token: admin,
                                          .json(["name": Self.name("Hangzhou Bay Robotics", "杭州湾机器人有限公司"),
                                                 "uscc": "91330201MA2GX4P257", "city_code": DemoCity.city])).string("id")

        // Staff accounts, each with a random password the administrator sets (no change needed at first sign-in).
        var logins: [DemoCity.StaffLogin] = []
        func staff(_ role: String, _ label: String, _ username: String, _ binding: [String: Any] = [:]) async throws -> String {
            let password = DemoSecrets.password()
            var body: [String: Any] = ["username": username, "password": password, "role": role]
            body.merge(binding) { new, _ in new }
            try await api.call("create the staff account \(username)", .POST, "/v1/staff", token: admin, .json(body))
            logins.append(DemoCity.StaffLogin(role: label, username: username, password: password))
            return try await api.call("sign in as \(username)", .POST, "/v1/staff/sessions",
                                      .json(["username": username, "password": password])).string("token")
        }
        let hrPort = try await staff("employer", "employer", "hr.chen", ["employer_id": portTech])
        let hrRobotics = try await staff("employer", "employer", "hr.lin", ["employer_id": robotics])
        let officer = try await staff("permitOfficer", "officer", "officer.wang")
        let clerk = try await staff("bankClerk", "clerk", "clerk.zhao", ["branch_id": branch])
        let hrss = try await staff("departmentClerk", "hrss", "hrss.li", ["department": "hrss"])
        let organiser = try await staff("eventOrganizer", "organiser", "events.sun")

        // The two cardholders: permit issued on the spot, card, PIN, financial functions, e-card.
        let anna = try await holder(Self.anna, employer: hrPort, officer: officer, clerk: clerk, start: start, end: end)
        let lukas = try await holder(Self.lukas, employer: hrRobotics, officer: officer, clerk: clerk, start: start, end: end)
        let holders = [anna, lukas]

        // Money: cash deposits at the counter, a transfer between them, transit-wallet top-ups.
        for holder in holders {
            try await api.call("deposit for \(holder.resident.name)", .POST, "/v1/cards/\(holder.card)/deposits", token: clerk,
                               .json(["amount_fen": holder.resident.depositFen, "account": "financial"]), idempotent: true)
        }
        try await api.call("transfer from \(anna.resident.name) to \(lukas.resident.name)", .POST, "/v1/ecard/transfers", token: anna.session,
                           .json(["to_card_number": lukas.card, "amount_fen": Self.transferFen, "memo": "hotpot dinner 火锅"]), idempotent: true)
        for holder in holders {
            try await api.call("transit-wallet top-up of \(holder.resident.name)", .POST, "/v1/ecard/wallet-top-ups", token: holder.session,
                               .json(["amount_fen": holder.resident.topUpFen]), idempotent: true)
        }

        try await transit(admin: admin, anna: anna, lukas: lukas, nowMs: nowMs, today: today)
        try await health(admin: admin, employers: [hrPort, hrRobotics], holders: holders, year: today.year, month: month)
        try await library(admin: admin, holders: holders)
        try await museum(admin: admin, holders: holders)
        let shop = try await bookshop(admin: admin, holders: holders, start: start, end: end)
        logins.append(shop)
        try await services(admin: admin, clerk: hrss, holders: holders)
        try await event(organiser: organiser, holders: holders, nowMs: nowMs)

        return DemoCity.Seeded(base: base, admin: DemoCity.StaffLogin(role: "admin", username: "admin", password: adminPassword), staff: logins,
                      cardholders: holders.map {
                          DemoCity.Cardholder(name: $0.resident.name, chineseName: $0.resident.chineseName, permitNumber: $0.permit,
                                     cardNumber: $0.card, password: $0.password, pin: $0.pin)
                      })
    }

    private func holder(_ resident: Resident, employer: String, officer: String, clerk: String, start: String, end: String) async throws -> Holder {
        let who = resident.name
        let documents = ["passport", "photo", "highest_degree", "employment_contract"]
        let application = try await api.call("file the permit application of \(who)", .POST, "/v1/permit-applications", token: employer, .json([
            "person": ["passport_number": resident.passport, "nationality": resident.nationality, "surname": resident.surname,
                       "given_names": resident.givenNames, "chinese_name": resident.chineseName, "date_of_birth": resident.dateOfBirth,
                       "sex": resident.sex],
            "position": resident.position, "category": "B", "contract_start": start, "contract_end": end, "documents": documents,
        ])).string("id")
        let issued = try await api.call("issue the permit of \(who)", .POST, "/v1/permit-applications/\(application)/originals-verification",
                                        token: officer, .json(["checked_documents": documents, "decision": "issue"]), idempotent: true)
        let permit = try issued.string("permit", "number")
        let card = try await api.call("issue the card of \(who)", .POST, "/v1/cards", token: clerk, .json([
            "permit_number": permit, "decision_letter_number": try issued.string("permit", "decision_letter_number"),
            "passport_number": resident.passport,
        ])).string("card_number")
        let pin = DemoSecrets.pin(dateOfBirth: CivilDate(resident.dateOfBirth))
        try await api.call("activate the card of \(who)", .POST, "/v1/cards/\(card)/activation", token: clerk, .json(["pin": pin]))
        try await api.call("enable the financial functions of \(who)", .POST, "/v1/cards/\(card)/financial-functions", token: clerk, .json([
            "tax_certificate": ["number": resident.taxNumber, "issued_on": start],
            "residence_proof": ["kind": "residence_permit", "number": resident.residenceNumber, "valid_until": end],
        ]))
        let password = DemoSecrets.password()
        try await api.call("register \(who) in the e-card", .POST, "/v1/ecard/registrations", .json([
            "permit_number": permit, "name": who, "activation_code": try issued.string("activation_code"), "password": password,
        ]))
        let session = try await api.call("sign in to the e-card as \(who)", .POST, "/v1/ecard/sessions",
                                         .json(["permit_number": permit, "password": password])).string("token")
        return Holder(resident: resident, permit: permit, card: card, pin: pin, password: password, session: session)
    }

    private func dynamicCode(_ holder: Holder, for purpose: String) async throws -> String {
        try await api.call("show the e-card QR of \(holder.resident.name) (\(purpose))", .POST, "/v1/ecard/dynamic-codes",
                           token: holder.session).string("code")
    }

    private func terminal(admin: String, kind: String, name: String, binding: String) async throws -> String {
        try await api.call("register the terminal \(name)", .POST, "/v1/terminals", token: admin,
                           .json(["kind": kind, "name": name, "binding_id": binding])).string("api_key")
    }

    /// Ningbo joins the interoperable network (15.00 daily cap), the operator's fare feed is imported,
    /// and a validator uploads the day's taps: Anna a metro ride and a transfer to the bus (2.40 + 0.50),
    /// Lukas a bus ride and a metro ride (1.60 + 1.60).
    private func transit(admin: String, anna: Holder, lukas: Holder, nowMs: Int64, today: CivilDate) async throws {
        try await api.call("make Ningbo's transit interoperable", .PUT, "/v1/transit/cities/\(DemoCity.city)", token: admin,
                           .json(["interoperable": true, "daily_cap_fen": 1_500]))
        let operatorID = try await api.call("register the transit operator", .POST, "/v1/transit/operators", token: admin, .json([
            "name": Self.name("Ningbo Rail & Bus", "宁波轨道公交"), "city_code": DemoCity.city, "modes": ["metro", "bus"],
        ])).string("id")
        do {
            _ = try await TransitImport.importFeed(store: store, operatorID: operatorID,
                                                   files: try DemoData.transitFeed.mapValues { Array($0.utf8) }, validFromMs: nil,
                                                   cardholderCategoryID: "joinin", actor: "demo", nowMs: nowMs)
        } catch let error as DomainError {
            throw CLIError(description: "error: demo city: import the fare feed failed: \(error.code): \(error.detail)")
        }
        let gate = try await terminal(admin: admin, kind: "transitValidator", name: "Gulou gate 2", binding: operatorID)
        // Taps of the last 40 minutes, all of them today (Shanghai), so the permit is valid on each.
        let nowSeconds = nowMs / 1000
        let earliest = max(nowSeconds - 40 * 60, today.shanghaiDayMs.lowerBound / 1000 + 1)
        let span = max(nowSeconds - 1 - earliest, 0)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssxxx"
        func at(_ fraction: Int64) -> String {
            formatter.string(from: Date(timeIntervalSince1970: Double(earliest + span * fraction / 100)))
        }
        let taps: [[String: Any]] = [
            ["sequence": 1, "time": at(0), "card_number": anna.card, "stop_id": "GULOU-L1", "route_id": "L1", "kind": "entry"],
            ["sequence": 2, "time": at(45), "card_number": anna.card, "stop_id": "NINGBO-STN", "route_id": "L1", "kind": "exit"],
            ["sequence": 3, "time": at(88), "card_number": anna.card, "stop_id": "B-TIANYI", "route_id": "B8", "kind": "single"],
            ["sequence": 4, "time": at(10), "card_number": lukas.card, "stop_id": "B-MOON", "route_id": "B8", "kind": "single"],
            ["sequence": 5, "time": at(50), "card_number": lukas.card, "stop_id": "TIANYI", "route_id": "L1", "kind": "entry"],
            ["sequence": 6, "time": at(75), "card_number": lukas.card, "stop_id": "DONGMENKOU", "route_id": "L1", "kind": "exit"],
        ]
        let batch = try await api.call("upload the validator's taps", .POST, "/v1/transit/tap-batches", token: gate, .json(["taps": taps]))
        guard try batch.int("accepted") == taps.count else {
            throw CLIError(description: "error: demo city: upload the validator's taps failed: \(try batch.int("rejected")) of \(taps.count) taps rejected")
        }
    }

    /// This year's policy and catalogue, both enrolled by their employers with this month's
    /// contributions (2% of the wage to the personal account), and a pharmacy settlement each.
    private func health(admin: String, employers: [String], holders: [Holder], year: Int, month: String) async throws {
        try await api.call("import this year's medical policy", .PUT, "/v1/health/policies/\(DemoCity.city)/\(year)", token: admin,
                           .text(try DemoData.healthPolicy2026.replacingOccurrences(of: "\"year\": 2026", with: "\"year\": \(year)"),
                                 contentType: "application/json"))
        try await api.call("import the drug and service catalogue", .PUT, "/v1/health/catalogues/\(DemoCity.city)", token: admin,
                           .text(try DemoData.healthCatalogue, contentType: "text/csv; charset=utf-8"))
        for (employer, holder) in zip(employers, holders) {
            try await api.call("enrol \(holder.resident.name) in social insurance", .POST, "/v1/health/enrolments", token: employer, .json([
                "permit_number": holder.permit, "wage_fen": holder.resident.wageFen, "start_month": month,
                "insurances": ["medical", "pension", "unemployment", "work_injury", "maternity"],
            ]))
            let batch = try await api.call("pay this month's contributions of \(holder.resident.name)", .POST, "/v1/health/contribution-batches",
                                           token: employer, .json(["month": month, "lines": [["permit_number": holder.permit]]]))
            guard try batch.int("accepted") == 1 else {
                throw CLIError(description: "error: demo city: pay this month's contributions of \(holder.resident.name) failed: the line was not accepted")
            }
        }
        try await api.call("register the hospital", .POST, "/v1/health/providers", token: admin, .json([
            "name": Self.name("Ningbo No.2 Hospital", "宁波市第二医院"), "kind": "hospital", "tier": 2, "city_code": DemoCity.city,
        ]))
        let pharmacy = try await api.call("register the pharmacy", .POST, "/v1/health/providers", token: admin, .json([
            "name": Self.name("Haishu Dafang Pharmacy", "海曙大方药店"), "kind": "pharmacy", "city_code": DemoCity.city,
        ])).string("id")
        let till = try await terminal(admin: admin, kind: "pharmacyPOS", name: "Dispensary till", binding: pharmacy)
        for (index, holder) in holders.enumerated() {
            let code = try await dynamicCode(holder, for: "pharmacy")
            try await api.call("settle the pharmacy purchase of \(holder.resident.name)", .POST, "/v1/health/settlements", token: till, .json([
                "dynamic_code": code, "visit_type": "pharmacy", "provider_reference": "RX-000\(index + 1)", "lines": holder.resident.pharmacyLines.map(\.json),
            ]), idempotent: true)
        }
    }

    /// A designated library with its holdings; each borrows a book at the desk with card and PIN.
    private func library(admin: String, holders: [Holder]) async throws {
        let library = try await api.call("register the library", .POST, "/v1/libraries", token: admin, .json([
            "name": Self.name("Tianyi Library", "天一图书馆"), "city_code": DemoCity.city,
            "address": Self.name("1 Tianyi Road, Haishu", "海曙区天一路1号"),
        ])).string("id")
        do {
            _ = try await LibraryImport.importItems(store: store, libraryID: library, bytes: Array(try DemoData.libraryItems.utf8),
                                                    file: "items-tianyi.csv", actor: "demo", nowMs: Int64(Date().timeIntervalSince1970 * 1000))
        } catch let error as DomainError {
            throw CLIError(description: "error: demo city: import the library's holdings failed: \(error.code): \(error.detail)")
        }
        let desk = try await terminal(admin: admin, kind: "libraryDesk", name: "Lending desk", binding: library)
        for holder in holders {
            try await api.call("lend \(holder.resident.book) to \(holder.resident.name)", .POST, "/v1/library/checkouts", token: desk,
                               .json(["card_number": holder.card, "item_barcode": holder.resident.book, "pin": holder.pin]))
        }
    }

    /// A designated museum, open every day; each enters with the e-card's QR.
    private func museum(admin: String, holders: [Holder]) async throws {
        let hours = (1...7).map { ["weekday": $0, "opens_at": "00:00", "closes_at": "24:00"] as [String: Any] }
        let museum = try await api.call("register the museum", .POST, "/v1/venues", token: admin, .json([
            "name": Self.name("Ningbo Museum", "宁波博物馆"), "kind": "museum", "city_code": DemoCity.city,
            "address": Self.name("1000 Shounan Road, Yinzhou", "鄞州区首南中路1000号"), "daily_quota": 500, "opening_hours": hours,
        ])).string("id")
        let turnstile = try await terminal(admin: admin, kind: "venueGate", name: "North gate", binding: museum)
        for holder in holders {
            let code = try await dynamicCode(holder, for: "museum")
            try await api.call("let \(holder.resident.name) into the museum", .POST, "/v1/venue-entries", token: turnstile,
                               .json(["dynamic_code": code]))
        }
    }

    /// A bookshop, the bureau's "10% off at bookshops" subsidy, a payment each by PIN (the offer
    /// applies by itself), and the shop's administrator.
    private func bookshop(admin: String, holders: [Holder], start: String, end: String) async throws -> DemoCity.StaffLogin {
        let merchant = try await api.call("register the bookshop", .POST, "/v1/merchants", token: admin, .json([
            "name": Self.name("Tianyi Square Books", "天一广场书店"), "category": "shopping", "city_code": DemoCity.city,
        ])).string("id")
        let till = try await terminal(admin: admin, kind: "merchantPos", name: "Till 1", binding: merchant)
        try await api.call("publish the bookshop offer", .POST, "/v1/offers", token: admin, .json([
            "city_code": DemoCity.city, "category": "shopping",
            "title": Self.name("10% off at bookshops", "书店九折"),
            "terms": Self.name("At most 50.00 off per payment, twice a day.", "每笔最多优惠50元，每日两次。"),
            "percent_off_bp": 1_000, "cap_fen": 5_000, "per_card_per_day": 2, "valid_from": start, "valid_until": end,
            "funding": "subsidy", "budget_fen": 1_000_000,
        ]), idempotent: true)
        for (index, holder) in holders.enumerated() {
            try await api.call("pay at the bookshop with the card of \(holder.resident.name)", .POST, "/v1/payments", token: till, .json([
                "card_number": holder.card, "pin": holder.pin, "amount_fen": holder.resident.paymentFen, "merchant_reference": "INV-000\(index + 1)",
            ]), idempotent: true)
        }
        let password = DemoSecrets.password()
        try await api.call("create the staff account shop.zhou", .POST, "/v1/staff", token: admin, .json([
            "username": "shop.zhou", "password": password, "role": "merchantAdmin", "merchant_id": merchant,
        ]))
        return DemoCity.StaffLogin(role: "shop", username: "shop.zhou", password: password)
    }

    /// The departments' catalogue; at the HR & social-security counter each asks for a contribution
    /// certificate with the e-card's QR, and the clerk completes it (the inbox says it is ready).
    private func services(admin: String, clerk: String, holders: [Holder]) async throws {
        try await api.call("import the service catalogue", .PUT, "/v1/services/catalogue", token: admin,
                           .text(try DemoData.serviceCatalogue, contentType: "application/json"))
        for holder in holders {
            let code = try await dynamicCode(holder, for: "service counter")
            let request = try await api.call("open the certificate request of \(holder.resident.name)", .POST, "/v1/service-requests",
                                             token: clerk, .json([
                                                 "service_code": "contribution_certificate", "dynamic_code": code,
                                                 "values": ["purpose": holder.resident.purpose], "documents_checked": ["passport"],
                                             ]), idempotent: true).string("id")
            for action in ["accept", "start", "complete"] {
                try await api.call("\(action) the certificate request of \(holder.resident.name)", .POST,
                                   "/v1/service-requests/\(request)/actions", token: clerk, .json(["action": action]))
            }
        }
    }

    /// A dumpling night in three days; both register.
    private func event(organiser: String, holders: [Holder], nowMs: Int64) async throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssxxx"
        func inHours(_ hours: Double) -> String {
            formatter.string(from: Date(timeIntervalSince1970: Double(nowMs) / 1000 + hours * 3600))
        }
        let event = try await api.call("publish the event", .POST, "/v1/events", token: organiser, .json([
            "title": Self.name("Dumpling night", "包饺子之夜"),
            "description": Self.name("Make and eat dumplings with neighbours.", "和邻居一起包饺子。"),
            "place": Self.name("Haishu Community Centre", "海曙社区中心"), "city_code": DemoCity.city,
            "starts_at": inHours(72), "ends_at": inHours(74), "capacity": 20, "waitlist_max": 5,
            "registration_opens_at": inHours(-1), "registration_closes_at": inHours(48), "cancellation_deadline": inHours(48),
        ]), idempotent: true).string("id")
        for holder in holders {
            try await api.call("register \(holder.resident.name) for the event", .POST, "/v1/ecard/events/\(event)/registrations",
                               token: holder.session)
        }
    }
}
/// The example data files (docs/examples), bundled with the executable as its resources: a
/// deployed binary has no checkout beside it, and the repository keeps one copy of each file.
enum DemoData {
    static func directory() throws -> URL {
        guard let url = Bundle.module.url(forResource: "examples", withExtension: nil) else {
            throw CLIError(description: "error: demo city: the example data is missing from the executable's resources (joinin_JoinInCLI.resources)")
        }
        return url
    }

    static func text(_ path: String) throws -> String {
        let url = try directory().appendingPathComponent(path)
        do {
            return try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw CLIError(description: "error: demo city: cannot read the example file \(path)")
        }
    }

    static var healthPolicy2026: String { get throws { try text("health-demo/policy-330200-2026.json") } }
    static var healthCatalogue: String { get throws { try text("health-demo/catalogue-330200.csv") } }
    static var libraryItems: String { get throws { try text("library-demo/items-tianyi.csv") } }
    static var serviceCatalogue: String { get throws { try text("services-demo/catalogue.json") } }

    /// transit-demo-feed, file by file (the GTFS text files only).
    static var transitFeed: [String: String] {
        get throws {
            let feed = try directory().appendingPathComponent("transit-demo-feed")
            let names = try FileManager.default.contentsOfDirectory(atPath: feed.path).filter { $0.hasSuffix(".txt") }
            var files: [String: String] = [:]
            for name in names { files[name] = try text("transit-demo-feed/" + name) }
            return files
        }
    }
}
