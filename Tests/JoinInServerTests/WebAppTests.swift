import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JoinInCore
@testable import JoinInServer
import JoinInStore
import JoinInTestSupport
import NIOCore
import Testing

/// A browser as far as the server can tell: a cookie jar, forms posted url-encoded with the CSRF
/// token the page carried, redirects followed by hand.
struct Browser {
    let h: Harness
    var cookies: [String: String] = [:]
    var language: String?

    struct Page {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let html: String

        var location: String? { headers[.location] }
        /// The value of the first hidden input named `name`.
        func hidden(_ name: String) -> String? {
            guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
            let rest = html[range.upperBound...]
            return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
        }
        var problemCode: String? {
            guard let range = html.range(of: "data-code=\"") else { return nil }
            let rest = html[range.upperBound...]
            return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
        }
    }

    init(_ h: Harness) { self.h = h }

    mutating func request(_ method: HTTPRequest.Method, _ path: String, form: [(String, String)]? = nil,
                          headers extra: HTTPFields = [:]) async throws -> Page {
        var headers = extra
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }
        if let language { headers[.acceptLanguage] = language }
        var body: ByteBuffer?
        if let form {
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            let text = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
            body = ByteBuffer(string: text)
            headers[.contentType] = "application/x-www-form-urlencoded"
        }
        let response = try await h.client.execute(uri: path, method: method, headers: headers, body: body)
        for value in response.headers[values: .setCookie] {
            let pair = value.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(pair[0]), content = pair.count > 1 ? String(pair[1]) : ""
            if value.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = content }
        }
        return Page(status: response.status, headers: response.headers, html: String(buffer: response.body))
    }

    mutating func get(_ path: String) async throws -> Page { try await request(.get, path) }

    /// Loads `page` for its CSRF token (and idempotency key), then posts `fields` to `action`.
    mutating func submit(_ page: String, to action: String, _ fields: [(String, String)], headers: HTTPFields = [:]) async throws -> Page {
        let form = try await get(page)
        let csrf = try #require(form.hidden("csrf"), "no CSRF token on \(page): \(form.html.prefix(400))")
        var all = [("csrf", csrf)] + fields
        if let idem = form.hidden("idem") { all.append(("idem", idem)) }
        return try await request(.post, action, form: all, headers: headers)
    }
}

extension Harness {
    /// A staff member made as the CLI would, signed in through the console's form.
    func consoleStaff(_ role: StaffRole, username: String, branch: String? = nil, employer: String? = nil) async throws -> Browser {
        _ = try await Provisioning.addStaff(.init(username: username, password: Self.password, role: role, employerID: employer, branchID: branch),
                                            store: store, actor: "test", bcryptCost: 4, nowMs: clock.now)
        var browser = Browser(self)
        let signedIn = try await browser.submit("/console", to: "/console/signin", [("username", username), ("password", Self.password)])
        try #require(signedIn.status == .seeOther && signedIn.location == "/console", "console sign-in: \(signedIn.status) \(signedIn.html)")
        return browser
    }
}

@Suite("Web e-card and staff console")
struct WebAppTests {
    @Test("officer issues on the spot and prints the letter, clerk issues the card, holder registers and uses the e-card",
          arguments: TestStores.engines)
    func journey(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let world = try await h.world()
            let submitted = try await h.call(.post, "/v1/permit-applications", token: world.employer,
                                             json: Harness.applicationBody(passport: "E98765432", surname: "NOVAK", givenNames: "PETRA"))
            let applicationID = try #require(submitted.string("id"))

            // The officer: arrivals queue → originals check → issue → decision letter.
            var officer = try await h.consoleStaff(.permitOfficer, username: "officer.web")
            let arrivals = try await officer.get("/console/applications?status=submitted")
            #expect(arrivals.status == .ok && arrivals.html.contains("/console/applications/\(applicationID)"), "\(arrivals.html)")
            #expect(arrivals.html.contains("href=\"/console/applications?status=submitted\" aria-current=\"page\"")
                    && !arrivals.html.contains("href=\"/console/applications\" aria-current"), "the menu marks the arrivals, not all applications")
            let detail = try await officer.get("/console/applications/\(applicationID)")
            #expect(detail.html.contains("id=\"decision-form\"") && detail.html.contains("E98765432"))
            let unchecked = try await officer.submit("/console/applications/\(applicationID)", to: "/console/applications/\(applicationID)/decision",
                                                     [("decision", "issue")])
            #expect(unchecked.status == .unprocessableContent && unchecked.problemCode == "verification.originals_unchecked", "\(unchecked.html)")
            let issued = try await officer.submit("/console/applications/\(applicationID)", to: "/console/applications/\(applicationID)/decision",
                                                  [("decision", "issue")] + Harness.allDocuments.map { ("checked_documents", $0) })
            #expect(issued.status == .seeOther, "\(issued.html)")
            let decided = try await officer.get("/console/applications/\(applicationID)")
            #expect(decided.html.contains("id=\"letter-link\"") && !decided.html.contains("id=\"decision-form\""))
            let letter = try await officer.get("/console/applications/\(applicationID)/letter")
            #expect(letter.status == .ok && letter.html.contains("E-card activation code"))
            let code = try #require(letter.html.range(of: "E-card activation code: <strong>").map { range in
                String(letter.html[range.upperBound...].prefix { $0 != "<" })
            })
            let permit = try #require(try await h.call(.get, "/v1/permits?limit=5", token: world.officer).items.first)
            let permitNumber = try #require(permit["number"] as? String)
            let letterNumber = try #require(permit["decision_letter_number"] as? String)

            // The bank clerk issues the card at the branch; the holder sets the PIN at the pad.
            var clerk = try await h.consoleStaff(.bankClerk, username: "clerk.web", branch: world.branchID)
            let wrongPassport = try await clerk.submit("/console/cards", to: "/console/cards/issue", [
                ("permit_number", permitNumber), ("decision_letter_number", letterNumber), ("passport_number", "X00000000")])
            #expect(wrongPassport.problemCode == "card.passport_mismatch", "\(wrongPassport.html)")
            let card = try await clerk.submit("/console/cards", to: "/console/cards/issue", [
                ("permit_number", permitNumber), ("decision_letter_number", letterNumber), ("passport_number", "E98765432")])
            #expect(card.status == .created, "\(card.html)")
            let cardNumber = try #require(card.html.range(of: "id=\"card-number\">").map { String(card.html[$0.upperBound...].prefix(19)) })
            #expect(card.html.contains("id=\"activate-form\""))
            let csrf = try #require(card.hidden("csrf"))
            let weakPIN = try await clerk.request(.post, "/console/cards/activation", form: [("csrf", csrf), ("card_number", cardNumber), ("pin", "123456")])
            #expect(weakPIN.problemCode?.hasPrefix("pin.") == true, "\(weakPIN.problemCode ?? "-")")
            let activated = try await clerk.request(.post, "/console/cards/activation", form: [("csrf", csrf), ("card_number", cardNumber), ("pin", "582931")])
            #expect(activated.html.contains("id=\"card-notice\"") && activated.html.contains("id=\"cash-form\""), "\(activated.problemCode ?? "-")")
            let found = try await clerk.submit("/console/cards", to: "/console/cards/find", [("card_number", cardNumber)])
            #expect(found.html.contains("NOVAK") && found.html.contains("id=\"card-loss-form\""), "\(found.html)")

            // The holder registers with the letter's code and is signed in.
            var phone = Browser(h)
            let wrongCode = try await phone.submit("/register", to: "/register", [
                ("permit_number", permitNumber), ("name", "NOVAK PETRA"), ("activation_code", "AAAA-BBBB-CCCC"), ("password", "a long web password 7")])
            #expect(wrongCode.status == .unprocessableContent && wrongCode.problemCode == "registration.details_mismatch")
            #expect(wrongCode.html.contains("value=\"\(permitNumber)\""), "the form keeps what was typed (but not the code or password)")
            let registered = try await phone.submit("/register", to: "/register", [
                ("permit_number", permitNumber), ("name", "NOVAK PETRA"), ("activation_code", code), ("password", "a long web password 7")])
            #expect(registered.status == .seeOther && registered.location == "/home", "\(registered.html)")
            #expect(phone.cookies[Cookie.card]?.hasPrefix("jic_") == true)
            let cookieHeader = try #require(registered.headers[values: .setCookie].first { $0.hasPrefix("ji_card=") })
            #expect(cookieHeader.contains("HttpOnly") && cookieHeader.contains("SameSite=Lax") && !cookieHeader.contains("Secure"))

            // Home: the permit, its credential as a QR of exactly the credential text, the dynamic code.
            let home = try await phone.get("/home")
            #expect(home.status == .ok && home.html.contains(permitNumber) && home.html.contains("NOVAK PETRA"))
            let credential = try #require(home.html.range(of: "readonly rows=\"6\">").map { range in
                String(home.html[range.upperBound...].prefix { $0 != "<" })
            })
            let verified = try await h.call(.post, "/v1/credential-verifications", json: ["credential": credential])
            #expect(verified.string("verdict") == "valid" && verified.string("claims.permit_number") == permitNumber, "\(verified.text)")
            let svg = try QRCode.encode(credential, errorCorrection: .medium).svg(moduleSize: 4, title: T.credentialTitle(.en))
            #expect(home.html.contains(svg), "the credential QR on the page encodes the credential text")
            #expect(home.html.contains("src=\"/ecard/dynamic-qr.svg\"") && home.html.contains("/assets/ecard.js"))
            let dynamic = try await phone.get("/ecard/dynamic-qr.svg")
            #expect(dynamic.status == .ok && dynamic.headers[.contentType] == "image/svg+xml" && dynamic.html.hasPrefix("<svg"))

            // Money: a bad amount is refused by the page; an empty account by the API; then a top-up.
            let badAmount = try await phone.submit("/top-up", to: "/top-up", [("amount", "12.345")])
            #expect(badAmount.status == .badRequest && badAmount.problemCode == "web.amount_invalid")
            let noFunctions = try await phone.submit("/top-up", to: "/top-up", [("amount", "20")])
            #expect(noFunctions.problemCode == "card.financial_functions_disabled", "\(noFunctions.html)")
            let enabled = try await h.call(.post, "/v1/cards/\(cardNumber)/financial-functions", token: world.clerk,
                                           json: ["tax_certificate": ["number": "TAX-3302-0009", "issued_on": "2026-06-30"],
                                                  "residence_proof": ["kind": "residence_permit", "number": "RP33020099", "valid_until": "2028-06-30"]])
            try #require(enabled.status == .ok, "\(enabled.text)")
            _ = try await h.call(.post, "/v1/cards/\(cardNumber)/deposits", token: world.clerk, json: ["amount_fen": 50_000, "account": "financial"],
                                 headers: [.idempotencyKey: "web-deposit-1"])
            let form = try await phone.get("/top-up")
            let fields = [("csrf", try #require(form.hidden("csrf"))), ("idem", try #require(form.hidden("idem"))), ("amount", "20.50")]
            let toppedUp = try await phone.request(.post, "/top-up", form: fields)
            #expect(toppedUp.status == .ok && toppedUp.html.contains("id=\"balance-now\">CNY 20.50"), "\(toppedUp.html)")
            let again = try await phone.request(.post, "/top-up", form: fields)
            #expect(again.html.contains("id=\"balance-now\">CNY 20.50"), "the same form sent twice is one top-up")
            let accounts = try await phone.get("/accounts")
            #expect(accounts.html.contains("data-account=\"financial\">CNY 479.50"), "\(accounts.html)")
            #expect(accounts.html.contains("data-account=\"transitWallet\">CNY 20.50"))
            let statement = try await phone.get("/accounts/financial")
            #expect(statement.html.contains("CNY -20.50") && statement.html.contains("CNY 500.00"), "\(statement.html)")

            // Chinese, then sign-out ends the API session too.
            phone.language = "zh-CN,zh;q=0.9"
            let chinese = try await phone.get("/home")
            #expect(chinese.html.contains("<html lang=\"zh-Hans\">") && chinese.html.contains("工作许可"))
            let signOutCSRF = try #require(chinese.hidden("csrf"))
            let token = try #require(phone.cookies[Cookie.card])
            let out = try await phone.request(.post, "/signout", form: [("csrf", signOutCSRF)])
            #expect(out.status == .seeOther && out.location == "/" && phone.cookies[Cookie.card] == nil)
            #expect(try await h.call(.get, "/v1/ecard/me", token: token).status == .unauthorized)
            #expect(try await phone.get("/home").location == "/", "signed out: the e-card sends you to sign in")
        }
    }

    @Test("CSRF tokens, Origin, security headers, the same lockouts as the API, sessions that end, roles kept apart")
    func security() async throws {
        var config = Harness.config
        config.publicURLOverride = "https://joinin.example"
        try await Harness.run(config: config) { h in
            var browser = Browser(h)
            let page = try await browser.get("/")
            #expect(page.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            #expect(page.headers[.contentSecurityPolicy]?.contains("unsafe-inline") == false)
            #expect(page.headers[.frameOptions] == "DENY" && page.headers[.cacheControl] == "no-store")
            #expect(page.headers[.strictTransportSecurity] != nil, "HSTS behind TLS")
            let pre = try #require(page.headers[values: .setCookie].first { $0.hasPrefix("ji_pre=") })
            #expect(pre.contains("HttpOnly") && pre.contains("Secure"), "\(pre)")
            #expect(!page.html.contains("<script>") && !page.html.contains("style=\""), "no inline script or style")
            let csrf = try #require(page.hidden("csrf"))
            let credentials = [("permit_number", "W1100002024000001X"), ("password", "not the password")]

            // Without a token, with another token, or from another origin: refused before the API is asked.
            let none = try await browser.request(.post, "/signin", form: credentials)
            let forged = try await browser.request(.post, "/signin", form: [("csrf", String(repeating: "0", count: 48))] + credentials)
            let foreign = try await browser.request(.post, "/signin", form: [("csrf", csrf)] + credentials,
                                                    headers: [.origin: "https://evil.example"])
            var stranger = Browser(h)
            let otherBrowser = try await stranger.request(.post, "/signin", form: [("csrf", csrf)] + credentials)
            for refused in [none, forged, foreign, otherBrowser] {
                #expect(refused.status == .forbidden && refused.problemCode == "web.csrf", "\(refused.status) \(refused.html)")
            }
            let audit = try await h.store.read { tx in try await tx.auditRecords(before: nil, limit: 50) }
            #expect(!audit.contains { $0.entry.action.contains("sign_in") }, "refused forms never reached the API")

            // Wrong passwords: the API's lockout, shown on the page.
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<(LoginThrottle.failuresFree + 1) {
                statuses.append(try await browser.request(.post, "/signin", form: [("csrf", csrf)] + credentials).status)
            }
            #expect(statuses.first == .unauthorized && statuses.last == .tooManyRequests, "\(statuses)")

            // A console session cookie is scoped to /console; a clerk cannot reach the officer's pages.
            let world = try await h.world()
            var clerk = try await h.consoleStaff(.bankClerk, username: "clerk.sec", branch: world.branchID)
            var anonymous = Browser(h)
            let signIn = try await anonymous.request(.get, "/console")
            #expect(signIn.html.contains("console-signin-form"))
            let officersPage = try await clerk.get("/console/applications?status=submitted")
            #expect(officersPage.status == .forbidden && officersPage.problemCode == "auth.forbidden", "\(officersPage.html)")
            let home = try await clerk.get("/console")
            #expect(home.html.contains("/console/cards") && !home.html.contains("/console/applications") && !home.html.contains("/console/audit"))

            // An ended session sends the person back to sign in and clears the cookie.
            h.clock.advance(seconds: 13 * 3600)
            let ended = try await clerk.get("/console/cards")
            #expect(ended.status == .seeOther && ended.location == "/console?ended=1" && clerk.cookies[Cookie.staff] == nil)

            // A new staff member must replace the one-time password before any page.
            _ = try await Provisioning.addStaff(.init(username: "new.officer", password: Harness.password, role: .permitOfficer,
                                                      mustChangePassword: true),
                                                store: h.store, actor: "test", bcryptCost: 4, nowMs: h.clock.now)
            var newcomer = Browser(h)
            let first = try await newcomer.submit("/console", to: "/console/signin", [("username", "new.officer"), ("password", Harness.password)])
            #expect(first.location == "/console/password")
            #expect(try await newcomer.get("/console/applications").location == "/console/password")
            let changed = try await newcomer.submit("/console/password", to: "/console/password", [
                ("current_password", Harness.password), ("new_password", "a fresh officer password 3")])
            #expect(changed.status == .seeOther && changed.location == "/console", "\(changed.html)")
            #expect(try await newcomer.get("/console/applications").status == .ok)
        }
    }

    @Test("no personal data in any link or form address; the language switch only goes to our own pages")
    func addresses() async throws {
        try await Harness.run { h in
            let world = try await h.world()
            let (permit, _) = try await h.registeredHolder(world, body: Harness.applicationBody(passport: "P55501234", surname: "ORTEGA"))
            let number = try #require(permit["number"] as? String)
            var phone = Browser(h)
            let signedIn = try await phone.submit("/", to: "/signin", [("permit_number", number), ("password", "moonlit harbour walk")])
            #expect(signedIn.location == "/home", "\(signedIn.html)")
            var admin = try await h.consoleStaff(.admin, username: "admin.web")
            var pages: [Browser.Page] = []
            for path in ["/home", "/accounts", "/transfer", "/top-up", "/inbox", "/card/loss"] { pages.append(try await phone.get(path)) }
            let auditPage = try await admin.get("/console/audit")
            #expect(!auditPage.html.contains("id=\"audit-verdict\""), "viewing the list does not walk the chain")
            pages.append(auditPage)
            pages.append(try await admin.submit("/console/audit", to: "/console/audit/verification", []))
            let secrets = [number, "P55501234", "ORTEGA"]
            for page in pages {
                #expect(page.status == .ok, "\(page.html.prefix(300))")
                for attribute in ["href=\"", "action=\"", "src=\""] {
                    var rest = Substring(page.html)
                    while let range = rest.range(of: attribute) {
                        let value = rest[range.upperBound...].prefix { $0 != "\"" }
                        for secret in secrets { #expect(!value.contains(secret), "\(attribute)\(value)") }
                        rest = rest[range.upperBound...]
                    }
                }
            }
            #expect(pages.last?.html.contains("id=\"audit-verdict\"") == true)
            var browser = Browser(h)
            for (back, expected) in [("/accounts", "/accounts"), ("https://evil.example/", "/"), ("//evil.example", "/"), ("/\\evil", "/")] {
                let switched = try await browser.get("/language?to=zh&back=\(back.addingPercentEncodingForQuery())")
                #expect(switched.location == expected, "\(back)")
            }
            #expect(browser.cookies[Cookie.language] == "zh")
            #expect(try await browser.get("/").html.contains("登录电子社保卡"))
        }
    }

    @Test("every benefit page answers for a holder; an event place is taken and given back from the e-card", arguments: TestStores.engines)
    func benefits(engine: Store.EngineKind) async throws {
        try await Harness.run(engine) { h in
            let e = try await h.eventWorld()
            let eventID = try await h.publishEvent(e, capacity: 1, waitlist: 0)
            let token = try #require(try await h.holders(e.world, count: 1, prefix: "W").first)
            var phone = Browser(h)
            phone.cookies[Cookie.card] = token
            let titles = ["/trips": "Trips", "/medical": "Medical insurance", "/library": "Library", "/venues": "Museums and scenic spots",
                          "/offers": "Offers", "/services": "Government services", "/events": "Events"]
            for (path, title) in titles.sorted(by: { $0.key < $1.key }) {
                let page = try await phone.get(path)
                #expect(page.status == .ok && page.html.contains("<h1>\(title)</h1>"), "\(path): \(page.status) \(page.html.prefix(600))")
                #expect(page.html.contains("aria-current=\"page\""), "\(path) marks itself in the menu")
            }
            let events = try await phone.get("/events")
            #expect(events.html.contains("action=\"/events/\(eventID)/registration\""), "\(events.html)")
            let taken = try await phone.request(.post, "/events/\(eventID)/registration", form: [("csrf", try #require(events.hidden("csrf")))])
            #expect(taken.status == .seeOther && taken.location == "/events", "\(taken.html)")
            let mine = try await h.call(.get, "/v1/ecard/event-registrations", token: token)
            #expect(mine.items.first?["status"] as? String == "confirmed", "\(mine.text)")
            let again = try await phone.request(.post, "/events/\(eventID)/registration", form: [("csrf", try #require(events.hidden("csrf")))])
            #expect(again.status == .conflict || again.status == .unprocessableContent, "a second registration is the API's refusal, shown: \(again.status)")
            #expect(again.problemCode != nil)
            let listed = try await phone.get("/events")
            #expect(listed.html.contains("action=\"/events/\(eventID)/cancellation\""))
            let given = try await phone.request(.post, "/events/\(eventID)/cancellation", form: [("csrf", try #require(listed.hidden("csrf")))])
            #expect(given.status == .seeOther)
            let after = try await h.call(.get, "/v1/ecard/event-registrations", token: token)
            #expect(after.items.first?["status"] as? String == "cancelled", "\(after.text)")
            let bogus = try await phone.request(.post, "/events/not-a-uuid/registration", form: [("csrf", try #require(listed.hidden("csrf")))])
            #expect(bogus.status == .notFound)
        }
    }

    @Test("the console's role pages: admin reference data, staff, terminals, keys, accounts; employer application; clerk card services; department queue; organiser events")
    func rolePages() async throws {
        try await Harness.run { h in
            let w = try await h.healthWorld()
            try await h.importServiceCatalogue(w.world.admin)
            var admin = try await h.consoleStaff(.admin, username: "admin.roles")
            let branch = try await admin.submit("/console/reference", to: "/console/branches", [
                ("name_en", "Beilun Branch"), ("name_zh", "北仑支行"), ("city_code", "330200")])
            #expect(branch.status == .created && branch.html.contains("Beilun Branch"), "\(branch.html.prefix(300))")
            let badCity = try await admin.submit("/console/reference", to: "/console/branches", [
                ("name_en", "Nowhere"), ("name_zh", "无处"), ("city_code", "999999")])
            #expect(badCity.problemCode == "city.not_found", "\(badCity.status)")
            let added = try await admin.submit("/console/staff", to: "/console/staff", [
                ("username", "officer.added"), ("password", "officer added password 9"), ("role", "permitOfficer")])
            #expect(added.status == .created, "\(added.html.prefix(600))")
            let duplicate = try await admin.submit("/console/staff", to: "/console/staff", [
                ("username", "officer.added"), ("password", "officer added password 9"), ("role", "permitOfficer")])
            #expect(duplicate.problemCode != nil && duplicate.status.code >= 400)
            var addedOfficer = Browser(h)
            let signedIn = try await addedOfficer.submit("/console", to: "/console/signin", [("username", "officer.added"), ("password", "officer added password 9")])
            #expect(signedIn.status == .seeOther)
            let unbound = try await admin.submit("/console/terminals", to: "/console/terminals", [("kind", "libraryKiosk"), ("name", "Kiosk 1")])
            #expect(unbound.problemCode == "library.not_found")
            let terminal = try await admin.submit("/console/terminals", to: "/console/terminals", [
                ("kind", "hospitalCounter"), ("name", "Counter 1"), ("binding_id", w.hospitalID)])
            #expect(terminal.status == .created && terminal.html.contains("id=\"terminal-key\">jit_"), "\(terminal.status) \(terminal.problemCode ?? "-")")
            let terminalID = try #require(terminal.html.range(of: "id=\"terminal-id\">").map { String(terminal.html[$0.upperBound...].prefix(36)) })
            let revoked = try await admin.submit("/console/terminals", to: "/console/terminals/revocation", [("terminal_id", terminalID)])
            #expect(revoked.status == .ok && !revoked.html.contains("terminal-key"), "the key is shown once only")
            let again = try await admin.submit("/console/terminals", to: "/console/terminals/revocation", [("terminal_id", terminalID)])
            #expect(again.problemCode == "terminal.already_revoked")
            #expect(try await admin.get("/console/keys").html.contains("EdDSA"))
            #expect(try await admin.get("/console/system-accounts").html.contains("id=\"system-accounts\""))

            // The employer files an application from the console; the officer finds it in the arrivals.
            var employer = try await h.consoleStaff(.employer, username: "hr.roles", employer: w.world.employerID)
            let missing = try await employer.submit("/console/applications/new", to: "/console/applications/new", [
                ("passport_number", "Q12345678"), ("nationality", "FRA"), ("surname", "Martin"), ("given_names", "Claire"),
                ("date_of_birth", "1991-13-01"), ("sex", "F"), ("position", "Architect"), ("category", "B"),
                ("contract_start", "2026-12-01"), ("contract_end", "2028-11-30"), ("documents", "passport")])
            #expect(missing.status.code >= 400 && missing.problemCode != nil && missing.html.contains("value=\"Q12345678\""), "\(missing.status)")
            let filed = try await employer.submit("/console/applications/new", to: "/console/applications/new", [
                ("passport_number", "Q12345678"), ("nationality", "FRA"), ("surname", "Martin"), ("given_names", "Claire"),
                ("date_of_birth", "1991-03-01"), ("sex", "F"), ("position", "Architect"), ("category", "B"),
                ("contract_start", "2026-12-01"), ("contract_end", "2028-11-30")] + Harness.allDocuments.map { ("documents", $0) })
            #expect(filed.status == .seeOther && filed.location?.hasPrefix("/console/applications/") == true, "\(filed.status) \(filed.problemCode ?? "-") \(filed.html.range(of: "alert").map { String(filed.html[$0.lowerBound...].prefix(400)) } ?? "")")
            var officer = try await h.consoleStaff(.permitOfficer, username: "officer.roles")
            #expect(try await officer.get("/console/applications?status=submitted").html.contains("MARTIN"), "names are filed in capitals, as in the passport")

            // The clerk: cash on the holder's card from the card page.
            var clerk = try await h.consoleStaff(.bankClerk, username: "clerk.roles", branch: w.world.branchID)
            let found = try await clerk.submit("/console/cards", to: "/console/cards/find", [("card_number", w.card)])
            #expect(found.html.contains("id=\"cash-form\""), "\(found.html.prefix(300))")
            let idem = try #require(found.html.range(of: "id=\"cash-form\"").flatMap { range -> String? in
                let rest = found.html[range.upperBound...]
                return rest.range(of: "name=\"idem\" value=\"").map { String(rest[$0.upperBound...].prefix { $0 != "\"" }) }
            })
            let cashForm = [("csrf", try #require(found.hidden("csrf"))), ("card_number", w.card), ("idem", idem), ("operation", "deposit"),
                            ("account", "transitWallet"), ("amount", "30"), ("pin", "")]
            let deposited = try await clerk.request(.post, "/console/cards/cash", form: cashForm)
            #expect(deposited.html.contains("id=\"card-notice\"") && deposited.html.contains("CNY 30.00"), "\(deposited.html.prefix(1500))")
            _ = try await clerk.request(.post, "/console/cards/cash", form: cashForm)
            let wallet = try await h.call(.get, "/v1/ecard/accounts", token: w.token)
            let transit = wallet.items.first { $0["kind"] as? String == "transitWallet" }
            #expect((transit?["balance"] as? [String: Any])?["amount_fen"] as? Int == 3000, "one deposit for one form: \(wallet.text)")

            // The department clerk's queue, a request opened at the counter, accepted from the console.
            let qr = try #require(try await h.call(.post, "/v1/ecard/dynamic-codes", token: w.token).string("code"))
            let apiClerk = try await h.staff(.departmentClerk, username: "hrss.api", department: "hrss")
            let opened = try await h.call(.post, "/v1/service-requests", token: apiClerk, json: [
                "service_code": "contribution_certificate", "dynamic_code": qr, "values": ["purpose": "visa"], "documents_checked": ["passport"]],
                                          headers: [.idempotencyKey: "web-open-1"])
            let requestID = try #require(opened.string("id"), "\(opened.text)")
            _ = try await Provisioning.addStaff(.init(username: "hrss.web", password: Harness.password, role: .departmentClerk, department: "hrss"),
                                                store: h.store, actor: "test", bcryptCost: 4, nowMs: h.clock.now)
            var hrss = Browser(h)
            _ = try await hrss.submit("/console", to: "/console/signin", [("username", "hrss.web"), ("password", Harness.password)])
            #expect(try await hrss.get("/console/requests").html.contains("/console/requests/\(requestID)"))
            let accepted = try await hrss.submit("/console/requests/\(requestID)", to: "/console/requests/\(requestID)/action", [("action", "accept")])
            #expect(accepted.status == .seeOther, "\(accepted.html.prefix(800))")
            #expect(try await h.call(.get, "/v1/service-requests/\(requestID)", token: apiClerk).string("status") == "accepted")
            let early = try await hrss.submit("/console/requests/\(requestID)", to: "/console/requests/\(requestID)/action", [("action", "complete")])
            #expect(early.problemCode != nil && early.status.code >= 400, "no completion before work starts")

            // Chinese problem text on a console page.
            hrss.language = "zh-CN"
            let zh = try await hrss.submit("/console/requests/\(requestID)", to: "/console/requests/\(requestID)/action", [("action", "complete")])
            #expect(zh.html.contains("<html lang=\"zh-Hans\">") && zh.html.range(of: "\\p{Han}", options: .regularExpression) != nil)

            // The organiser's events and who registered.
            var organiser = try await h.consoleStaff(.eventOrganizer, username: "organiser.web")
            let organiserToken = try await h.signIn("organiser.web")
            let organiserID = try #require(try await h.call(.get, "/v1/staff/me", token: organiserToken).string("id"))
            let eventID = try await h.publishEvent(.init(world: w.world, organizer: organiserToken, organizerID: organiserID, door: ""),
                                                   capacity: 2, waitlist: 0)
            _ = try await h.call(.post, "/v1/ecard/events/\(eventID)/registrations", token: w.token)
            #expect(try await organiser.get("/console/events").html.contains("/console/events/\(eventID)"))
            let registrations = try await organiser.get("/console/events/\(eventID)")
            #expect(registrations.html.contains("SMITH JANE ANN") && registrations.html.contains("confirmed"), "\(registrations.html.prefix(300))")
            #expect(try await hrss.get("/console/events/\(eventID)").status == .forbidden, "another role gets the API's refusal")

            // The clerk reports the card lost and replaces it; the new card waits for its PIN.
            let card = try await clerk.submit("/console/cards", to: "/console/cards/find", [("card_number", w.card)])
            let lost = try await clerk.request(.post, "/console/cards/loss", form: [("csrf", try #require(card.hidden("csrf"))), ("card_number", w.card)])
            #expect(lost.html.contains("id=\"card-status\">Reported lost") && lost.html.contains("id=\"card-replace-form\""), "\(lost.problemCode ?? "-")")
            let replaceIdem = try #require(lost.html.range(of: "id=\"card-replace-form\"").flatMap { range -> String? in
                let rest = lost.html[range.upperBound...]
                return rest.range(of: "name=\"idem\" value=\"").map { String(rest[$0.upperBound...].prefix { $0 != "\"" }) }
            })
            let replaced = try await clerk.request(.post, "/console/cards/replacement", form: [
                ("csrf", try #require(lost.hidden("csrf"))), ("card_number", w.card), ("idem", replaceIdem)])
            #expect(replaced.html.contains("id=\"card-notice\"") && replaced.html.contains("id=\"activate-form\""), "\(replaced.problemCode ?? "-")")
            let newNumber = try #require(replaced.html.range(of: "id=\"card-number\">").map { String(replaced.html[$0.upperBound...].prefix(19)) })
            #expect(newNumber != w.card)
            #expect(try await h.call(.get, "/v1/ecard/me", token: w.token).string("card.status") == "issued")
        }
    }

    @Test("a merchant administrator's day: settlement figures and payments as the API computes them")
    func merchantDay() async throws {
        try await Harness.run { h in
            let w = try await h.offerWorld()
            let paid = try await h.pay(w, amount: 12_800, key: "web-pay-1")
            try #require(paid.status == .created, "\(paid.text)")
            _ = try await Provisioning.addStaff(.init(username: "shop.bound", password: Harness.password, role: .merchantAdmin, merchantID: w.merchantID),
                                                store: h.store, actor: "test", bcryptCost: 4, nowMs: h.clock.now)
            var bound = Browser(h)
            _ = try await bound.submit("/console", to: "/console/signin", [("username", "shop.bound"), ("password", Harness.password)])
            let day = try await bound.get("/console/merchant?date=2026-12-01")
            let api = try await h.call(.get, "/v1/merchant/settlement?date=2026-12-01", token: w.merchantAdmin)
            let net = try #require(api.value("net.amount_fen") as? Int)
            #expect(day.status == .ok && day.html.contains("CNY \(InboxRules.yuan(Int64(net)))") && day.html.contains("<table id=\"payments\">"),
                    "\(day.html.prefix(400))")
            #expect(day.html.contains("623091*********"), "cards are shown masked")
            #expect(try await bound.get("/console").html.contains("/console/merchant"))
            #expect(try await bound.get("/console/merchant?date=2026-12-02").html.contains("<p id=\"payments\">"), "another day: no payments")
            var clerk = try await h.consoleStaff(.bankClerk, username: "clerk.shop", branch: w.world.branchID)
            #expect(try await clerk.get("/console/merchant").problemCode == "auth.forbidden", "other roles get the API's refusal")
        }
    }
}
