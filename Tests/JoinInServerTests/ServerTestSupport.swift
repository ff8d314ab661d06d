import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import Logging
import NIOCore
import Synchronization
import Testing

/// A settable clock so tests control "today" and lockout expiry.
final class TestClock: Sendable {
    private let ms: Mutex<Int64>

    /// 2026-12-01 12:00 in Shanghai.
    static let start: Int64 = 1_796_097_600_000

    init(_ start: Int64 = TestClock.start) {
        ms = Mutex(start)
    }

    var now: Int64 { ms.withLock { $0 } }
    func advance(seconds: Int64) { ms.withLock { $0 += seconds * 1000 } }
    var appClock: AppClock { AppClock { [self] in self.now } }
}

/// One HTTP exchange's outcome, with the body parsed when it is JSON.
struct Reply: @unchecked Sendable {
    // @unchecked: `json` holds Foundation JSON values (dictionaries, arrays, strings, numbers)
    // that are never mutated after parsing and never leave the test task that made them.
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let text: String
    let json: Any?

    subscript(_ key: String) -> Any? { (json as? [String: Any])?[key] }
    func string(_ path: String) -> String? { value(path) as? String }
    func value(_ path: String) -> Any? {
        var current: Any? = json
        for part in path.split(separator: ".") {
            if let index = Int(part), let array = current as? [Any] {
                current = index < array.count ? array[index] : nil
            } else {
                current = (current as? [String: Any])?[String(part)]
            }
        }
        return current
    }
    var code: String? { string("code") }
    var items: [[String: Any]] { (value("items") as? [[String: Any]]) ?? [] }
}

struct Harness: Sendable {
    let store: Store
    let client: any TestClientProtocol
    let clock: TestClock

    static let password = "correct horse battery staple"

    static var config: ServerConfig {
        var config = ServerConfig()
        config.bcryptCost = 4
        return config
    }

    /// Runs `body` against the router (no socket) over a fresh store on `engine`.
    static func run(_ engine: Store.EngineKind = .sqlite, config: ServerConfig = Harness.config, logger: Logger = TestStores.logger,
                    _ body: @escaping @Sendable (Harness) async throws -> Void) async throws {
        let clock = TestClock()
        try await TestStores.withStore(engine, logger: logger) { (store: Store) async throws in
            try await ReferenceData.loadBuiltIn(store: store, nowMs: clock.now)
            let router = buildRouter(store: store, config: config, keys: .random(), clock: clock.appClock, logger: logger)
            let app = Application(router: router)
            try await app.test(.router) { client in
                try await body(Harness(store: store, client: client, clock: clock))
            }
            // Every lookup the test made (each authenticated request's session check, the e-card
            // home, …) was point reads: none sorted or built an IN-list table (SQLite only).
            #expect(store.lookupScratchTableStatements.isEmpty, "lookups with scratch tables: \(store.lookupScratchTableStatements)")
        }
    }

    @discardableResult
    func call(_ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: Any? = nil, raw: String? = nil,
              headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
        } else if let raw {
            body = ByteBuffer(string: raw)
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
        }
        let response = try await client.execute(uri: path, method: method, headers: headers, body: body)
        let text = String(buffer: response.body)
        let parsed = text.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(text.utf8))
        return Reply(status: response.status, headers: response.headers, text: text, json: parsed)
    }

    // MARK: principals

    /// A staff account made directly (as the CLI would) and signed in through the API.
    func staff(_ role: StaffRole, username: String? = nil, employer: String? = nil, branch: String? = nil,
               department: String? = nil, merchant: String? = nil) async throws -> String {
        let name = username ?? "\(role.rawValue.lowercased())-\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await Provisioning.addStaff(
            .init(username: name, password: Self.password, role: role, employerID: employer, branchID: branch, department: department,
                  merchantID: merchant),
            store: store, actor: "test", bcryptCost: 4, nowMs: clock.now)
        return try await signIn(name)
    }

    func signIn(_ username: String, password: String = Harness.password) async throws -> String {
        let reply = try await call(.post, "/v1/staff/sessions", json: ["username": username, "password": password])
        try #require(reply.status == .created, "sign-in failed: \(reply.text)")
        return try #require(reply.string("token"))
    }

    func admin() async throws -> String { try await staff(.admin) }

    /// A file of this repository (demo data under docs/examples), by its path from the root.
    static func repositoryFile(_ path: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(path).path
    }

    // MARK: fixtures through the API

    struct World: Sendable {
        let admin: String
        let employerID: String
        let otherEmployerID: String
        let branchID: String
        let employer: String
        let otherEmployer: String
        let officer: String
        let clerk: String
    }

    static let usccA = "91350100M000100Y43"
    static let usccB = "91110000600037341L"

    /// Branch, two employers and a signed-in account for each role.
    func world() async throws -> World {
        let admin = try await admin()
        let branch = try await call(.post, "/v1/branches", token: admin,
                                    json: ["name": ["en": "Ningbo Main Branch", "zh": "宁波分行营业部"], "city_code": "330200"])
        try #require(branch.status == .created, "\(branch.text)")
        let employerA = try await call(.post, "/v1/employers", token: admin,
                                       json: ["name": ["en": "Ningbo Port Tech", "zh": "宁波港科技"], "uscc": Self.usccA, "city_code": "330200"])
        try #require(employerA.status == .created, "\(employerA.text)")
        let employerB = try await call(.post, "/v1/employers", token: admin,
                                       json: ["name": ["en": "Beijing Robotics", "zh": "北京机器人"], "uscc": Self.usccB, "city_code": "110000"])
        try #require(employerB.status == .created, "\(employerB.text)")
        let employerID = try #require(employerA.string("id"))
        let otherID = try #require(employerB.string("id"))
        let branchID = try #require(branch.string("id"))
        return World(admin: admin, employerID: employerID, otherEmployerID: otherID, branchID: branchID,
                     employer: try await staff(.employer, employer: employerID),
                     otherEmployer: try await staff(.employer, employer: otherID),
                     officer: try await staff(.permitOfficer), clerk: try await staff(.bankClerk, branch: branchID))
    }

    static let allDocuments = DocumentKind.allCases.map(\.rawValue)

    static func applicationBody(passport: String = "K12345678", nationality: String = "GBR", surname: String = "SMITH",
                                givenNames: String = "JANE ANN", dateOfBirth: String = "1990-04-01", sex: String = "F",
                                mrz: String? = nil, category: String = "B", contractStart: String = "2026-12-01",
                                contractEnd: String = "2028-11-30", documents: [String] = allDocuments) -> [String: Any] {
        var person: [String: Any] = ["passport_number": passport, "nationality": nationality, "surname": surname,
                                     "given_names": givenNames, "date_of_birth": dateOfBirth, "sex": sex]
        if let mrz { person["mrz"] = mrz }
        return ["person": person, "position": "Senior Port Systems Engineer", "category": category,
                "contract_start": contractStart, "contract_end": contractEnd, "documents": documents]
    }

    /// Submits an application as `employer` and issues it as `officer`; returns the permit JSON.
    func issuedPermit(_ world: World, body: [String: Any] = Harness.applicationBody()) async throws -> [String: Any] {
        let submitted = try await call(.post, "/v1/permit-applications", token: world.employer, json: body)
        try #require(submitted.status == .created, "\(submitted.text)")
        let id = try #require(submitted.string("id"))
        let documents = (body["documents"] as? [String]) ?? Self.allDocuments
        let issued = try await call(.post, "/v1/permit-applications/\(id)/originals-verification", token: world.officer,
                                    json: ["checked_documents": documents, "decision": "issue"])
        try #require(issued.status == .created, "\(issued.text)")
        return try #require(issued.value("permit") as? [String: Any])
    }

    /// Issues a card to the permit holder; returns the card JSON.
    func issuedCard(_ world: World, permit: [String: Any], passport: String = "K12345678") async throws -> [String: Any] {
        let reply = try await call(.post, "/v1/cards", token: world.clerk, json: [
            "permit_number": permit["number"] as? String ?? "", "decision_letter_number": permit["decision_letter_number"] as? String ?? "",
            "passport_number": passport,
        ])
        try #require(reply.status == .created, "\(reply.text)")
        return try #require(reply.json as? [String: Any])
    }
}

/// Builds a TD3 MRZ with correct check digits (the digit routine is tested on its own in Core).
enum TestMRZ {
    static func make(surname: String, given: String, passport: String, nationality: String, birth: String, sex: String,
                     expiry: String) -> String {
        func pad(_ text: String, _ length: Int) -> String { String((text + String(repeating: "<", count: length)).prefix(length)) }
        func digit(_ field: String) -> String { String(MachineReadableZone.checkDigit(Substring(field)) ?? 0) }
        let names = surname.replacingOccurrences(of: " ", with: "<") + "<<" + given.replacingOccurrences(of: " ", with: "<")
        let line1 = pad("P<" + pad(nationality, 3) + names, 44)
        let number = pad(passport, 9)
        let personal = pad("", 14)
        let composite = number + digit(number) + birth + digit(birth) + expiry + digit(expiry) + personal + digit(personal)
        let line2 = number + digit(number) + pad(nationality, 3) + birth + digit(birth) + sex + expiry + digit(expiry)
            + personal + digit(personal) + digit(composite)
        return line1 + "\n" + line2
    }
}
