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
                                                   files: DemoData.transitFeed.mapValues { Array($0.utf8) }, validFromMs: nil,
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
                           .text(DemoData.healthPolicy2026.replacingOccurrences(of: "\"year\": 2026", with: "\"year\": \(year)"),
                                 contentType: "application/json"))
        try await api.call("import the drug and service catalogue", .PUT, "/v1/health/catalogues/\(DemoCity.city)", token: admin,
                           .text(DemoData.healthCatalogue, contentType: "text/csv; charset=utf-8"))
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
            _ = try await LibraryImport.importItems(store: store, libraryID: library, bytes: Array(DemoData.libraryItems.utf8),
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
                           .text(DemoData.serviceCatalogue, contentType: "application/json"))
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
/// Copies of docs/examples (a deployed binary has no checkout beside it); DemoCityTests keeps them identical to the files.
enum DemoData {
    /// docs/examples/health-demo/policy-330200-2026.json
    static let healthPolicy2026 = #"""
        {
          "city_code": "330200",
          "year": 2026,
          "note": "Demo policy shaped like a prefecture city's employee medical insurance (城镇职工基本医疗保险); figures are illustrative.",
          "contribution_base": {"min_fen": 420000, "max_fen": 2100000},
          "rates": {
            "medical": {"employer_bp": 750, "employee_bp": 200},
            "pension": {"employer_bp": 1600, "employee_bp": 800},
            "unemployment": {"employer_bp": 50, "employee_bp": 50},
            "work_injury": {"employer_bp": 40, "employee_bp": 0},
            "maternity": {"employer_bp": 50, "employee_bp": 0}
          },
          "personal_account_bp": 200,
          "class_b_self_pay_bp": 1000,
          "annual_fund_cap_fen": 40000000,
          "visits": {
            "outpatient": {
              "deductible_period": "year",
              "annual_fund_cap_fen": 500000,
              "personal_account_pays": ["class_b_self_pay", "deductible", "copay"],
              "tiers": {
                "1": {"deductible_fen": 30000, "ratio_bp": 7000},
                "2": {"deductible_fen": 30000, "ratio_bp": 6000},
                "3": {"deductible_fen": 30000, "ratio_bp": 5000}
              }
            },
            "inpatient": {
              "deductible_period": "visit",
              "personal_account_pays": ["class_b_self_pay", "deductible", "copay"],
              "tiers": {
                "1": {"deductible_fen": 30000, "ratio_bp": 9000},
                "2": {"deductible_fen": 60000, "ratio_bp": 8500},
                "3": {"deductible_fen": 80000, "ratio_bp": 8000}
              }
            },
            "pharmacy": {
              "deductible_period": "year",
              "deductible_fen": 0,
              "ratio_bp": 0,
              "personal_account_pays": ["class_b_self_pay", "deductible", "copay"]
            }
          }
        }

        """#

    /// docs/examples/health-demo/catalogue-330200.csv
    static let healthCatalogue = #"""
        code,name_en,name_zh,class,unit,kind
        XA01BAA001,Amoxicillin capsules 0.25 g,阿莫西林胶囊,A,box,drug
        XN02BEA002,Paracetamol tablets 0.5 g,对乙酰氨基酚片,A,box,drug
        XC10AAA003,Atorvastatin calcium tablets 20 mg,阿托伐他汀钙片,B,box,drug
        XR06AEA004,Cetirizine hydrochloride tablets 10 mg,盐酸西替利嗪片,B,box,drug
        ZA0001,Vitamin C effervescent tablets,维生素C泡腾片,C,tube,drug
        110200001,General outpatient consultation,普通门诊诊查费,A,visit,service
        250101001,Complete blood count,血常规检查,A,test,service
        210300001,Chest CT scan,胸部CT检查,B,scan,service
        310800001,Inpatient bed (standard ward),普通病房床位费,A,day,service
        330100001,Appendectomy,阑尾切除术,A,operation,service
        311300001,Dental whitening,牙齿美白,C,session,service

        """#

    /// docs/examples/library-demo/items-tianyi.csv
    static let libraryItems = #"""
        barcode,title,author,isbn
        TY000001,Dream of the Red Chamber / 红楼梦,Cao Xueqin,9787020002207
        TY000002,The Three-Body Problem / 三体,Liu Cixin,9787532152797
        TY000003,Fortress Besieged / 围城,Qian Zhongshu,9787020024391
        TY000004,Ningbo: A History of the Port City / 宁波港史,Zhang Wei,9787308112345
        TY000005,Learning Chinese Characters,Alison Matthews,9780804838160
        TY000006,Chinese Cooking at Home / 家常菜,Wang Hong,
        TY000007,Tea Culture of Zhejiang / 浙江茶文化,Chen Li,9787213011221
        TY000008,A Brief History of Time,Stephen Hawking,9780553380163

        """#

    /// docs/examples/services-demo/catalogue.json
    static let serviceCatalogue = #"""
        {
          "departments": {
            "hrss": {"en": "Human Resources and Social Security Bureau", "zh": "人力资源和社会保障局"},
            "education": {"en": "Education Bureau", "zh": "教育局"},
            "civilAffairs": {"en": "Civil Affairs Bureau", "zh": "民政局"},
            "housing": {"en": "Housing and Urban-Rural Development Bureau", "zh": "住房和城乡建设局"}
          },
          "holidays": [
            "2026-01-01", "2026-01-02", "2026-01-03",
            "2026-02-15", "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23",
            "2026-04-04", "2026-04-05", "2026-04-06",
            "2026-05-01", "2026-05-02", "2026-05-03", "2026-05-04", "2026-05-05",
            "2026-06-19", "2026-06-20", "2026-06-21",
            "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06", "2026-10-07"
          ],
          "workdays": ["2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
          "services": [
            {
              "code": "contribution_certificate",
              "department": "hrss",
              "name": {"en": "Social-insurance contribution certificate", "zh": "社会保险缴费证明"},
              "description": {
                "en": "A certificate of your social-insurance contributions month by month, generated from the records your employer has paid in. Visa, school and home-purchase offices accept it.",
                "zh": "根据用人单位缴纳记录生成的个人社会保险逐月缴费证明，可用于签证、子女入学、购房等。"
              },
              "form": {
                "fields": [
                  {"name": "full_name", "type": "string", "title": {"en": "Name", "zh": "姓名"}, "prefill": "full_name"},
                  {"name": "permit_number", "type": "string", "title": {"en": "Permit number", "zh": "工作许可证号"}, "prefill": "permit_number"},
                  {"name": "purpose", "type": "string", "title": {"en": "Purpose", "zh": "用途"},
                   "enum": ["visa", "housing", "school", "car_purchase", "other"]},
                  {"name": "from_month", "type": "string", "title": {"en": "From month (YYYY-MM)", "zh": "起始月份（年-月）"}, "min_length": 7, "max_length": 7},
                  {"name": "to_month", "type": "string", "title": {"en": "To month (YYYY-MM)", "zh": "截止月份（年-月）"}, "min_length": 7, "max_length": 7}
                ],
                "required": ["full_name", "permit_number", "purpose"]
              },
              "documents": [{"code": "passport", "name": {"en": "Passport", "zh": "护照"}}],
              "time_limit_working_days": 3,
              "outcome": "contribution_certificate",
              "online": true
            },
            {
              "code": "employment_registration",
              "department": "hrss",
              "name": {"en": "Employment registration of a foreign employee", "zh": "外国人就业登记"},
              "description": {
                "en": "Registers your employment with the labour administration after your work permit is issued; the employer's human-resources contact usually files it with you.",
                "zh": "取得工作许可后，向劳动保障行政部门办理就业登记，一般由用人单位人事专员协助办理。"
              },
              "form": {
                "fields": [
                  {"name": "full_name", "type": "string", "title": {"en": "Name", "zh": "姓名"}, "prefill": "full_name"},
                  {"name": "nationality", "type": "string", "title": {"en": "Nationality", "zh": "国籍"}, "prefill": "nationality"},
                  {"name": "permit_number", "type": "string", "title": {"en": "Permit number", "zh": "工作许可证号"}, "prefill": "permit_number"},
                  {"name": "permit_category", "type": "string", "title": {"en": "Permit category", "zh": "许可类别"}, "prefill": "permit_category"},
                  {"name": "permit_valid_until", "type": "date", "title": {"en": "Permit valid until", "zh": "许可有效期至"}, "prefill": "permit_valid_until"},
                  {"name": "employer_name", "type": "string", "title": {"en": "Employer", "zh": "用人单位"}, "prefill": "employer_name"},
                  {"name": "job_title", "type": "string", "title": {"en": "Job title", "zh": "职位"}, "min_length": 1, "max_length": 100},
                  {"name": "start_date", "type": "date", "title": {"en": "Start of employment", "zh": "入职日期"}},
                  {"name": "monthly_salary_yuan", "type": "integer", "title": {"en": "Monthly salary (yuan)", "zh": "月工资（元）"},
                   "minimum": 1, "maximum": 10000000}
                ],
                "required": ["full_name", "nationality", "permit_number", "permit_category", "permit_valid_until", "employer_name",
                             "job_title", "start_date", "monthly_salary_yuan"]
              },
              "documents": [
                {"code": "passport", "name": {"en": "Passport", "zh": "护照"}},
                {"code": "labour_contract", "name": {"en": "Labour contract", "zh": "劳动合同"}},
                {"code": "employer_licence", "name": {"en": "Employer's business licence", "zh": "用人单位营业执照"}}
              ],
              "time_limit_working_days": 5,
              "outcome": "document",
              "online": true
            },
            {
              "code": "school_enrolment",
              "department": "education",
              "name": {"en": "Public-school enrolment of a foreign child", "zh": "外籍人员子女公办学校入学申请"},
              "description": {
                "en": "Applies for a place for your child at a public primary or junior middle school near your home. Bring the originals to the district education bureau's enrolment counter.",
                "zh": "为随迁子女申请就近入读公办小学或初中，请携带原件到区教育局招生窗口办理。"
              },
              "form": {
                "fields": [
                  {"name": "parent_name", "type": "string", "title": {"en": "Parent's name", "zh": "家长姓名"}, "prefill": "full_name"},
                  {"name": "child_name", "type": "string", "title": {"en": "Child's name (as in the passport)", "zh": "子女姓名（与护照一致）"},
                   "min_length": 1, "max_length": 100},
                  {"name": "child_date_of_birth", "type": "date", "title": {"en": "Child's date of birth", "zh": "子女出生日期"}},
                  {"name": "child_nationality", "type": "string", "title": {"en": "Child's nationality (ISO 3166 code, e.g. DEU)", "zh": "子女国籍（三位字母代码）"},
                   "min_length": 3, "max_length": 3},
                  {"name": "grade", "type": "string", "title": {"en": "Grade applied for", "zh": "申请年级"},
                   "enum": ["primary_1", "primary_2", "primary_3", "primary_4", "primary_5", "primary_6", "junior_1", "junior_2", "junior_3"]},
                  {"name": "home_address", "type": "string", "title": {"en": "Home address", "zh": "居住地址"}, "min_length": 5, "max_length": 300},
                  {"name": "preferred_school", "type": "string", "title": {"en": "Preferred school", "zh": "意向学校"}, "max_length": 100},
                  {"name": "needs_chinese_support", "type": "boolean", "title": {"en": "Needs Chinese-language support", "zh": "需要汉语辅导"}}
                ],
                "required": ["parent_name", "child_name", "child_date_of_birth", "child_nationality", "grade", "home_address"]
              },
              "documents": [
                {"code": "child_passport", "name": {"en": "Child's passport with residence permit", "zh": "子女护照及居留许可"}},
                {"code": "birth_certificate", "name": {"en": "Child's birth certificate (translated)", "zh": "子女出生证明（附中文译本）"}},
                {"code": "vaccination_record", "name": {"en": "Vaccination record", "zh": "预防接种证"}},
                {"code": "residence_proof", "name": {"en": "Lease or property certificate of the home", "zh": "住所租赁合同或房产证"}}
              ],
              "time_limit_working_days": 20,
              "outcome": "document",
              "online": false
            },
            {
              "code": "marriage_registration",
              "department": "civilAffairs",
              "name": {"en": "Marriage registration with a Chinese citizen", "zh": "涉外婚姻登记"},
              "description": {
                "en": "Books the joint appearance of both partners at the marriage registry of the Chinese partner's household registration. Both partners must come in person.",
                "zh": "预约到中国公民一方常住户口所在地的婚姻登记机关办理结婚登记，双方须亲自到场。"
              },
              "form": {
                "fields": [
                  {"name": "full_name", "type": "string", "title": {"en": "Your name", "zh": "本人姓名"}, "prefill": "full_name"},
                  {"name": "nationality", "type": "string", "title": {"en": "Your nationality", "zh": "本人国籍"}, "prefill": "nationality"},
                  {"name": "previously_married", "type": "boolean", "title": {"en": "Previously married", "zh": "曾有婚史"}},
                  {"name": "spouse_name", "type": "string", "title": {"en": "Partner's name", "zh": "对方姓名"}, "min_length": 1, "max_length": 100},
                  {"name": "spouse_id_number", "type": "string", "title": {"en": "Partner's resident identity card number", "zh": "对方居民身份证号码"},
                   "min_length": 18, "max_length": 18},
                  {"name": "spouse_date_of_birth", "type": "date", "title": {"en": "Partner's date of birth", "zh": "对方出生日期"}},
                  {"name": "spouse_previously_married", "type": "boolean", "title": {"en": "Partner previously married", "zh": "对方曾有婚史"}},
                  {"name": "appointment_date", "type": "date", "title": {"en": "Preferred appointment date", "zh": "预约登记日期"}}
                ],
                "required": ["full_name", "nationality", "previously_married", "spouse_name", "spouse_id_number", "spouse_date_of_birth",
                             "spouse_previously_married", "appointment_date"]
              },
              "documents": [
                {"code": "passport", "name": {"en": "Passport", "zh": "护照"}},
                {"code": "no_marriage_certificate", "name": {"en": "Certificate of no marriage, notarised and legalised",
                                                             "zh": "经公证认证的无配偶证明"}},
                {"code": "spouse_id_card", "name": {"en": "Partner's resident identity card", "zh": "对方居民身份证"}},
                {"code": "spouse_hukou", "name": {"en": "Partner's household register", "zh": "对方户口簿"}},
                {"code": "photos", "name": {"en": "Three joint 2-inch photos", "zh": "双方近期半身免冠合影照片三张"}}
              ],
              "time_limit_working_days": 1,
              "outcome": "none",
              "online": false
            },
            {
              "code": "rental_registration",
              "department": "housing",
              "name": {"en": "Residential lease registration", "zh": "房屋租赁登记备案"},
              "description": {
                "en": "Registers the lease of the home you rent; the registration certificate is needed for a residence permit, school enrolment and provident-fund withdrawal for rent.",
                "zh": "办理住房租赁合同登记备案，备案证明可用于办理居留许可、子女入学和提取住房公积金支付房租。"
              },
              "form": {
                "fields": [
                  {"name": "full_name", "type": "string", "title": {"en": "Tenant's name", "zh": "承租人姓名"}, "prefill": "full_name"},
                  {"name": "permit_number", "type": "string", "title": {"en": "Permit number", "zh": "工作许可证号"}, "prefill": "permit_number"},
                  {"name": "address", "type": "string", "title": {"en": "Address of the home", "zh": "房屋地址"}, "min_length": 5, "max_length": 300},
                  {"name": "floor_area_m2", "type": "integer", "title": {"en": "Floor area (m²)", "zh": "建筑面积（平方米）"}, "minimum": 5, "maximum": 2000},
                  {"name": "landlord_name", "type": "string", "title": {"en": "Landlord's name", "zh": "出租人姓名或名称"}, "min_length": 1, "max_length": 100},
                  {"name": "landlord_phone", "type": "string", "title": {"en": "Landlord's telephone", "zh": "出租人联系电话"}, "min_length": 5, "max_length": 20},
                  {"name": "lease_start", "type": "date", "title": {"en": "Lease starts", "zh": "租赁起始日期"}},
                  {"name": "lease_end", "type": "date", "title": {"en": "Lease ends", "zh": "租赁终止日期"}},
                  {"name": "monthly_rent_yuan", "type": "integer", "title": {"en": "Monthly rent (yuan)", "zh": "月租金（元）"}, "minimum": 1, "maximum": 1000000}
                ],
                "required": ["full_name", "permit_number", "address", "landlord_name", "landlord_phone", "lease_start", "lease_end", "monthly_rent_yuan"]
              },
              "documents": [
                {"code": "lease_contract", "name": {"en": "Signed lease", "zh": "房屋租赁合同"}},
                {"code": "property_certificate", "name": {"en": "Landlord's property certificate", "zh": "出租人房屋所有权证明"}},
                {"code": "landlord_id", "name": {"en": "Landlord's identity document", "zh": "出租人身份证明"}}
              ],
              "time_limit_working_days": 3,
              "outcome": "document",
              "online": true
            },
            {
              "code": "provident_fund_withdrawal",
              "department": "housing",
              "name": {"en": "Housing provident fund withdrawal", "zh": "住房公积金提取"},
              "description": {
                "en": "Withdraws from your housing provident fund account to pay rent or a home purchase, or closes it when you leave China for good. The money is paid to your bank account.",
                "zh": "提取住房公积金用于支付房租、购房，或在出境定居时销户提取，款项转入本人银行账户。"
              },
              "form": {
                "fields": [
                  {"name": "full_name", "type": "string", "title": {"en": "Name", "zh": "姓名"}, "prefill": "full_name"},
                  {"name": "permit_number", "type": "string", "title": {"en": "Permit number", "zh": "工作许可证号"}, "prefill": "permit_number"},
                  {"name": "contribution_months", "type": "integer", "title": {"en": "Months contributed", "zh": "缴存月数"}, "prefill": "contribution_months"},
                  {"name": "amount_yuan", "type": "integer", "title": {"en": "Amount (yuan)", "zh": "提取金额（元）"}, "minimum": 100, "maximum": 500000},
                  {"name": "reason", "type": "string", "title": {"en": "Reason", "zh": "提取原因"},
                   "enum": ["rent", "home_purchase", "leaving_china", "retirement", "serious_illness"]},
                  {"name": "bank_account", "type": "string", "title": {"en": "Bank account number", "zh": "本人银行账号"}, "min_length": 10, "max_length": 30}
                ],
                "required": ["full_name", "permit_number", "amount_yuan", "reason", "bank_account"]
              },
              "documents": [
                {"code": "bank_card", "name": {"en": "Your bank card", "zh": "本人银行卡"}},
                {"code": "reason_proof", "name": {"en": "Proof of the reason (lease, purchase contract, exit record)", "zh": "提取原因证明材料（租赁合同、购房合同或出境证明）"}}
              ],
              "time_limit_working_days": 3,
              "outcome": "none",
              "online": true
            }
          ]
        }

        """#

    /// docs/examples/transit-demo-feed, file by file.
    static let transitFeed: [String: String] = [
        "areas.txt": #"""
            area_id,area_name
            zone1,City centre
            zone2,Inner ring
            zone3,Airport

            """#,
        "fare_leg_rules.txt": #"""
            leg_group_id,network_id,from_area_id,to_area_id,fare_product_id
            metro,metro,zone1,zone1,metro_1zone
            metro,metro,zone2,zone2,metro_1zone
            metro,metro,zone3,zone3,metro_1zone
            metro,metro,zone1,zone2,metro_2zone
            metro,metro,zone2,zone1,metro_2zone
            metro,metro,zone2,zone3,metro_2zone
            metro,metro,zone3,zone2,metro_2zone
            metro,metro,zone1,zone3,metro_3zone
            metro,metro,zone3,zone1,metro_3zone
            bus,bus,,,bus_flat

            """#,
        "fare_media.txt": #"""
            fare_media_id,fare_media_name,fare_media_type
            card,Transit card,2
            app,Ningbo transit app,4

            """#,
        "fare_products.txt": #"""
            fare_product_id,fare_product_name,rider_category_id,fare_media_id,amount,currency
            metro_1zone,Metro 1 zone,adult,,2.00,CNY
            metro_1zone,Metro 1 zone,joinin,card,1.60,CNY
            metro_2zone,Metro 2 zones,adult,,3.00,CNY
            metro_2zone,Metro 2 zones,joinin,card,2.40,CNY
            metro_3zone,Metro 3 zones,adult,,5.00,CNY
            metro_3zone,Metro 3 zones,joinin,card,4.00,CNY
            bus_flat,Bus,adult,,2.00,CNY
            bus_flat,Bus,joinin,card,1.60,CNY
            metro_bus_transfer,Metro to bus transfer,adult,,1.00,CNY
            metro_bus_transfer,Metro to bus transfer,joinin,card,0.50,CNY

            """#,
        "fare_transfer_rules.txt": #"""
            from_leg_group_id,to_leg_group_id,duration_limit,duration_limit_type,fare_transfer_type,fare_product_id
            metro,bus,5400,2,0,metro_bus_transfer

            """#,
        "networks.txt": #"""
            network_id,network_name
            metro,Ningbo Rail Transit
            bus,Ningbo Bus

            """#,
        "rider_categories.txt": #"""
            rider_category_id,rider_category_name,is_default_fare_category
            adult,Adult,1
            joinin,Join In cardholder,0

            """#,
        "route_networks.txt": #"""
            network_id,route_id
            metro,L1
            metro,L2
            bus,B8

            """#,
        "routes.txt": #"""
            route_id,route_short_name,route_long_name,route_type
            L1,1,Line 1,1
            L2,2,Line 2,1
            B8,8,Bus 8,3

            """#,
        "stop_areas.txt": #"""
            area_id,stop_id
            zone1,GULOU
            zone1,DONGMENKOU
            zone1,TIANYI
            zone2,NINGBO-STN
            zone3,AIRPORT

            """#,
        "stops.txt": #"""
            stop_id,stop_name,location_type,parent_station
            GULOU,Gulou,1,
            GULOU-L1,Gulou Line 1,0,GULOU
            DONGMENKOU,Dongmenkou,1,
            TIANYI,Tianyi Square,1,
            NINGBO-STN,Ningbo Railway Station,1,
            AIRPORT,Lishe Airport,1,
            B-TIANYI,Tianyi Square (bus),0,
            B-MOON,Moon Lake (bus),0,

            """#,
        "translations.txt": #"""
            table_name,field_name,language,translation,record_id
            stops,stop_name,zh,鼓楼,GULOU
            stops,stop_name,zh,鼓楼(1号线),GULOU-L1
            stops,stop_name,zh,东门口,DONGMENKOU
            stops,stop_name,zh,天一广场,TIANYI
            stops,stop_name,zh,宁波火车站,NINGBO-STN
            stops,stop_name,zh,栎社机场,AIRPORT
            stops,stop_name,zh,天一广场(公交),B-TIANYI
            stops,stop_name,zh,月湖(公交),B-MOON
            routes,route_long_name,zh,1号线,L1
            routes,route_long_name,zh,2号线,L2
            routes,route_long_name,zh,8路,B8

            """#,
    ]
}
