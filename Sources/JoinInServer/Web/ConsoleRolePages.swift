import Foundation
import HTTPTypes
import Hummingbird
import JoinInCore

/// The console pages of the other roles: the administrator (staff, terminals, reference data,
/// keys, system accounts), the employer (a new application), the bank clerk's card services
/// (financial functions, cash), the department clerk's queue and the event organiser's events.
/// Like every page they post to the API in-process and show what it answers.
struct ConsoleRolePages: Sendable {
    let console: ConsolePages
    var web: WebApp { console.web }

    func register(_ router: Router<AppContext>) {
        // Administrator
        web.page(router, .get, "/console/staff", .console) { request, context in try await staffPage(&request, context) }
        web.page(router, .post, "/console/staff", .console) { request, context in try await addStaff(&request, context) }
        web.page(router, .get, "/console/terminals", .console) { request, context in try await terminalsPage(&request, context) }
        web.page(router, .post, "/console/terminals", .console) { request, context in try await addTerminal(&request, context) }
        web.page(router, .post, "/console/terminals/revocation", .console) { request, context in try await revokeTerminal(&request, context) }
        web.page(router, .get, "/console/reference", .console) { request, context in try await referencePage(&request, context) }
        web.page(router, .post, "/console/branches", .console) { request, context in
            try await createNamed(&request, context, path: "/v1/branches", extra: [:])
        }
        web.page(router, .post, "/console/employers", .console) { request, context in
            try await createNamed(&request, context, path: "/v1/employers", extra: ["uscc": request.field("uscc").trimmingCharacters(in: .whitespaces)])
        }
        web.page(router, .get, "/console/system-accounts", .console) { request, context in try await systemAccounts(&request, context) }
        web.page(router, .get, "/console/keys", .console) { request, context in try await keys(&request, context) }
        // Employer
        web.page(router, .get, "/console/applications/new", .console) { request, context in
            let me = try await console.staff(request, context)
            return applicationForm(&request, me)
        }
        web.page(router, .post, "/console/applications/new", .console) { request, context in try await submitApplication(&request, context) }
        // Bank clerk: card services on a found card
        web.page(router, .post, "/console/cards/financial-functions", .console) { request, context in try await enableFinance(&request, context) }
        web.page(router, .post, "/console/cards/cash", .console) { request, context in try await cash(&request, context) }
        web.page(router, .post, "/console/cards/replacement", .console) { request, context in
            let number = try cardNumber(request)
            let (reply, answer) = try await post("/v1/cards/\(number)/replacement", [:], request, context, idempotent: true)
            let next = J.s(answer, "card.card_number")
            guard reply.ok, next.count == 19 else {
                return try await console.cardResult(&request, context, number: number, reply: reply)
            }
            // The new card, to be activated by its holder at the PIN pad.
            return try await console.cardResult(&request, context, number: next, notice: CT.replaced(request.language))
        }
        web.page(router, .post, "/console/cards/activation", .console) { request, context in
            let number = try cardNumber(request)
            let (reply, _) = try await post("/v1/cards/\(number)/activation", ["pin": request.field("pin")], request, context)
            return try await console.cardResult(&request, context, number: number, reply: reply, notice: CT.activated(request.language))
        }
        // Department clerk
        web.page(router, .get, "/console/requests", .console) { request, context in try await requestQueue(&request, context) }
        web.page(router, .get, "/console/requests/{id}", .console) { request, context in
            try await requestDetail(&request, context, id: try ConsolePages.uuid(request.path, at: 2))
        }
        web.page(router, .post, "/console/requests/{id}/action", .console) { request, context in
            try await requestAction(&request, context, id: try ConsolePages.uuid(request.path, at: 2))
        }
        // Merchant administrator
        web.page(router, .get, "/console/merchant", .console) { request, context in try await merchantDay(&request, context) }
        // Event organiser
        web.page(router, .get, "/console/events", .console) { request, context in try await eventsPage(&request, context) }
        web.page(router, .get, "/console/events/{id}", .console) { request, context in
            try await eventRegistrations(&request, context, id: try ConsolePages.uuid(request.path, at: 2))
        }
    }

    // MARK: - Plumbing

    func frame(_ request: inout WebRequest, _ me: Schemas.Staff, title: String, notice: HTML? = nil, error: WebProblem? = nil,
               status: HTTPResponse.Status = .ok, _ body: HTML) -> WebResponse {
        .page(console.layout(&request, me).render(title: title, notice: notice, error: error, body), status: status)
    }

    func json(_ path: String, _ request: WebRequest, _ context: AppContext) async throws -> [String: Any] {
        let reply = try await console.call(.get, path, request, context)
        return (try JSONSerialization.jsonObject(with: reply.data)) as? [String: Any] ?? [:]
    }

    /// Posts a JSON object; the reply (2xx or the problem) is returned for the page to show.
    func post(_ path: String, _ object: [String: Any], _ request: WebRequest, _ context: AppContext,
              idempotent: Bool = false) async throws -> (reply: InternalAPI.Reply, body: [String: Any]) {
        let data = try JSONSerialization.data(withJSONObject: object)
        let reply = try await web.api.call(.post, path, token: try console.token(request), language: request.language, json: data,
                                           idempotencyKey: idempotent ? request.field("idem") : nil, context: context)
        return (reply, ((try? JSONSerialization.jsonObject(with: reply.data)) as? [String: Any]) ?? [:])
    }

    func trimmed(_ request: WebRequest, _ name: String) -> String { request.field(name).trimmingCharacters(in: .whitespaces) }

    /// Optional members: absent when the field was left empty.
    func optional(_ request: WebRequest, _ names: [String]) -> [String: Any] {
        var object: [String: Any] = [:]
        for name in names where !trimmed(request, name).isEmpty { object[name] = trimmed(request, name) }
        return object
    }

    static func select(_ name: String, label: String, options: [(value: String, label: String)], selected: String = "") -> HTML {
        let items: [HTML] = options.map { option in
            "<option value=\"\(option.value)\"\(HTML(raw: option.value == selected ? " selected" : ""))>\(option.label)</option>"
        }
        return "<div class=\"field\"><label for=\"\(name)\">\(label)</label><select id=\"\(name)\" name=\"\(name)\">\(items)</select></div>"
    }

    // MARK: - Administrator

    func staffPage(_ request: inout WebRequest, _ context: AppContext, notice: HTML? = nil, error: WebProblem? = nil,
                   status: HTTPResponse.Status = .ok) async throws -> WebResponse {
        let l = request.language
        let me = try await console.staff(request, context)
        guard me.role == .admin else { throw WebProblem.forbiddenPage }
        let csrf = request.csrfToken(web, area: .console)
        let roles = Schemas.StaffRole.allCases.map { (value: $0.rawValue, label: Names.role($0.rawValue, l)) }
        return frame(&request, me, title: T.staff(l), notice: notice, error: error, status: status, """
            <form id="staff-form" method="post" action="/console/staff">\(Field.hidden("csrf", csrf))
            \(Field.input("username", label: T.username(l), autocomplete: "off", extra: " autocapitalize=\"none\" spellcheck=\"false\""))
            \(Field.input("password", label: CT.initialPassword(l), hint: T.passwordHint(l), type: "password", autocomplete: "new-password"))
            \(Self.select("role", label: T.role(l), options: roles))
            <p class="hint">\(CT.bindingHint(l))</p>
            \(Field.input("employer_id", label: CT.employerID(l), required: false))
            \(Field.input("branch_id", label: CT.branchID(l), required: false))
            \(Field.input("department", label: CT.department(l), required: false))
            \(Field.input("merchant_id", label: CT.merchantID(l), required: false))
            \(Field.submit(CT.addStaff(l)))</form>
            """)
    }

    func addStaff(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        var body = optional(request, ["employer_id", "branch_id", "department", "merchant_id"])
        body["username"] = trimmed(request, "username")
        body["password"] = request.field("password")
        body["role"] = request.field("role")
        let (reply, answer) = try await post("/v1/staff", body, request, context)
        guard reply.ok else { return try await staffPage(&request, context, error: reply.problem, status: reply.status) }
        return try await staffPage(&request, context, notice: "\(CT.staffAdded(request.language)): \(J.s(answer, "id"))", status: .created)
    }

    func terminalsPage(_ request: inout WebRequest, _ context: AppContext, notice: HTML? = nil, error: WebProblem? = nil,
                       status: HTTPResponse.Status = .ok) async throws -> WebResponse {
        let l = request.language
        let me = try await console.staff(request, context)
        guard me.role == .admin else { throw WebProblem.forbiddenPage }
        let csrf = request.csrfToken(web, area: .console)
        let kinds = Schemas.TerminalKind.allCases.map { (value: $0.rawValue, label: $0.rawValue) }
        return frame(&request, me, title: CT.terminals(l), notice: notice, error: error, status: status, """
            <form id="terminal-form" method="post" action="/console/terminals">\(Field.hidden("csrf", csrf))
            \(Self.select("kind", label: CT.kind(l), options: kinds))
            \(Field.input("name", label: CT.name(l)))
            \(Field.input("binding_id", label: CT.bindingID(l), hint: CT.terminalBindingHint(l), required: false))
            \(Field.input("stop_id", label: CT.stopID(l), required: false))
            \(Field.submit(CT.addTerminal(l)))</form>
            <h2>\(CT.revokeTerminal(l))</h2>
            <form id="revoke-form" method="post" action="/console/terminals/revocation">\(Field.hidden("csrf", csrf))
            \(Field.input("terminal_id", label: CT.terminalID(l)))\(Field.submit(CT.revokeTerminal(l), danger: true))</form>
            """)
    }

    func addTerminal(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        var body = optional(request, ["binding_id", "stop_id"])
        body["kind"] = request.field("kind")
        body["name"] = trimmed(request, "name")
        let (reply, answer) = try await post("/v1/terminals", body, request, context)
        guard reply.ok else { return try await terminalsPage(&request, context, error: reply.problem, status: reply.status) }
        let l = request.language
        // The API key is shown this once, like the API's own answer; nothing keeps it.
        return try await terminalsPage(&request, context, notice: """
            \(CT.terminalAdded(l)): <code id="terminal-id">\(J.s(answer, "id"))</code><br>\(CT.apiKeyOnce(l)): \
            <code id="terminal-key">\(J.s(answer, "api_key"))</code>
            """, status: .created)
    }

    func revokeTerminal(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        guard let id = UUID(uuidString: trimmed(request, "terminal_id")) else {
            return try await terminalsPage(&request, context, error: WebProblem(status: .notFound, code: "terminal.not_found",
                                                                                title: T.error(request.language), detail: CT.terminalID(request.language)),
                                           status: .notFound)
        }
        let (reply, _) = try await post("/v1/terminals/\(id.uuidString.lowercased())/revocation", [:], request, context)
        guard reply.ok else { return try await terminalsPage(&request, context, error: reply.problem, status: reply.status) }
        return try await terminalsPage(&request, context, notice: "\(CT.terminalRevoked(request.language))")
    }

    func referencePage(_ request: inout WebRequest, _ context: AppContext, notice: HTML? = nil, error: WebProblem? = nil,
                       status: HTTPResponse.Status = .ok) async throws -> WebResponse {
        let l = request.language
        let me = try await console.staff(request, context)
        let branches = try await json("/v1/branches?limit=200", request, context)
        let employers = try await json("/v1/employers?limit=200", request, context)
        let csrf = request.csrfToken(web, area: .console)
        let branchTable = J.table(id: "branches", caption: CT.branches(l), J.items(branches), l, columns: [
            .init(CT.name) { J.name($0, "name", $1) }, .init(CT.city) { J.s($0, "city_code") }, .init(CT.id) { J.s($0, "id") },
        ])
        let employerTable = J.table(id: "employers", caption: CT.employers(l), J.items(employers), l, columns: [
            .init(CT.name) { J.name($0, "name", $1) }, .init(CT.uscc) { J.s($0, "uscc") }, .init(CT.city) { J.s($0, "city_code") },
            .init(CT.id) { J.s($0, "id") },
        ])
        func nameFields(_ prefix: String) -> HTML {
            """
            \(Field.input("\(prefix)name_en", label: CT.nameEN(l)))\(Field.input("\(prefix)name_zh", label: CT.nameZH(l)))\
            \(Field.input("\(prefix)city_code", label: CT.city(l), hint: CT.cityHint(l), extra: " inputmode=\"numeric\""))
            """
        }
        return frame(&request, me, title: CT.reference(l), notice: notice, error: error, status: status, """
            \(branchTable)
            <form id="branch-form" method="post" action="/console/branches">\(Field.hidden("csrf", csrf))\(nameFields(""))\
            \(Field.submit(CT.addBranch(l)))</form>
            \(employerTable)
            <form id="employer-form" method="post" action="/console/employers">\(Field.hidden("csrf", csrf))\(nameFields("e_"))\
            \(Field.input("uscc", label: CT.uscc(l)))\(Field.submit(CT.addEmployer(l)))</form>
            """)
    }

    func createNamed(_ request: inout WebRequest, _ context: AppContext, path: String, extra: [String: Any]) async throws -> WebResponse {
        let prefix = path == "/v1/employers" ? "e_" : ""
        var body = extra
        body["name"] = ["en": trimmed(request, "\(prefix)name_en"), "zh": trimmed(request, "\(prefix)name_zh")]
        body["city_code"] = trimmed(request, "\(prefix)city_code")
        let (reply, answer) = try await post(path, body, request, context)
        guard reply.ok else { return try await referencePage(&request, context, error: reply.problem, status: reply.status) }
        return try await referencePage(&request, context, notice: "\(CT.added(request.language)): \(J.s(answer, "id"))", status: .created)
    }

    func systemAccounts(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        let me = try await console.staff(request, context)
        let page = try await json("/v1/system-accounts?limit=200", request, context)
        return frame(&request, me, title: T.systemAccounts(l), J.table(id: "system-accounts", caption: T.systemAccounts(l), J.items(page), l, columns: [
            .init(CT.kind) { J.s($0, "kind") }, .init(CT.owner) { "\(J.s($0, "owner_type")) \(J.s($0, "owner_id"))" },
            .init(T.balance, numeric: true) { J.money($0, "balance", $1) },
        ]))
    }

    func keys(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        let me = try await console.staff(request, context)
        guard me.role == .admin else { throw WebProblem.forbiddenPage }
        let reply = try await web.api.call(.get, "/.well-known/jwks.json", token: nil, language: l, context: context)
        let jwks = ((try? JSONSerialization.jsonObject(with: reply.data)) as? [String: Any]) ?? [:]
        let keys = (jwks["keys"] as? [[String: Any]]) ?? []
        return frame(&request, me, title: CT.keys(l), """
            <p>\(CT.keysHelp(l))</p>\(J.table(id: "keys", caption: CT.keys(l), keys, l, columns: [
                .init(CT.keyID) { J.s($0, "kid") }, .init(CT.algorithm) { "\(J.s($0, "alg")) \(J.s($0, "crv"))" },
                .init(CT.publicKey) { J.s($0, "x") },
            ]))<p><a href="/.well-known/jwks.json">JWKS</a></p>
            """)
    }

    // MARK: - Employer: a new application

    func applicationForm(_ request: inout WebRequest, _ me: Schemas.Staff, error: WebProblem? = nil, status: HTTPResponse.Status = .ok) -> WebResponse {
        let l = request.language
        let csrf = request.csrfToken(web, area: .console)
        let documents: [HTML] = Schemas.DocumentKind.allCases.map { kind in
            let checked = request.method == .get || request.fields("documents").contains(kind.rawValue)
            return "<label class=\"check\"><input type=\"checkbox\" name=\"documents\" value=\"\(kind.rawValue)\"\(HTML(raw: checked ? " checked" : ""))> \(Names.document(kind.rawValue, l))</label>"
        }
        let sexes = [(value: "F", label: CT.female(l)), (value: "M", label: CT.male(l)), (value: "X", label: CT.unspecified(l))]
        let categories = ["A", "B", "C"].map { (value: $0, label: $0) }
        return frame(&request, me, title: CT.newApplication(l), error: error, status: status, """
            <form id="application-form" method="post" action="/console/applications/new">\(Field.hidden("csrf", csrf))\(Field.hidden("idem", request.field("idem").isEmpty ? WebRequest.nonce() : request.field("idem")))
            <fieldset><legend>\(T.applicant(l))</legend>
            \(Field.input("passport_number", label: T.passportNumber(l), value: request.field("passport_number"), autocomplete: "off"))
            \(Field.input("nationality", label: T.nationality(l), hint: CT.nationalityHint(l), value: request.field("nationality"), autocomplete: "off"))
            \(Field.input("surname", label: CT.surname(l), value: request.field("surname"), autocomplete: "off"))
            \(Field.input("given_names", label: CT.givenNames(l), value: request.field("given_names"), autocomplete: "off", required: false))
            \(Field.input("chinese_name", label: CT.chineseName(l), value: request.field("chinese_name"), autocomplete: "off", required: false))
            \(Field.input("date_of_birth", label: CT.dateOfBirth(l), hint: CT.dateHint(l), value: request.field("date_of_birth"), autocomplete: "off"))
            \(Self.select("sex", label: CT.sex(l), options: sexes, selected: request.field("sex")))
            </fieldset>
            \(Field.input("position", label: T.position(l), value: request.field("position")))
            \(Self.select("category", label: T.category(l), options: categories, selected: request.field("category")))
            \(Field.input("contract_start", label: CT.contractStart(l), hint: CT.dateHint(l), value: request.field("contract_start")))
            \(Field.input("contract_end", label: CT.contractEnd(l), hint: CT.dateHint(l), value: request.field("contract_end")))
            <fieldset><legend>\(T.documents(l))</legend>\(documents)</fieldset>
            \(Field.submit(CT.submitApplication(l)))</form>
            """)
    }

    func submitApplication(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let me = try await console.staff(request, context)
        var person = optional(request, ["given_names", "chinese_name"])
        for name in ["passport_number", "nationality", "surname", "date_of_birth", "sex"] { person[name] = trimmed(request, name).uppercased() }
        person["given_names"] = trimmed(request, "given_names").uppercased()
        person["date_of_birth"] = trimmed(request, "date_of_birth")
        if let chinese = person["chinese_name"] as? String { person["chinese_name"] = chinese }
        let body: [String: Any] = ["person": person, "position": trimmed(request, "position"), "category": request.field("category"),
                                   "contract_start": trimmed(request, "contract_start"), "contract_end": trimmed(request, "contract_end"),
                                   "documents": request.fields("documents")]
        let (reply, answer) = try await post("/v1/permit-applications", body, request, context, idempotent: true)
        guard reply.ok else { return applicationForm(&request, me, error: reply.problem, status: reply.status) }
        return .redirect("/console/applications/\(J.s(answer, "id"))")
    }

    // MARK: - Bank clerk: financial functions and cash on a found card

    static func cardServices(_ cardNumber: String, _ l: Language, csrf: String) -> HTML {
        let kinds = [(value: "residence_permit", label: CT.residencePermit(l)),
                     (value: "temporary_residence_registration", label: CT.registrationForm(l))]
        let accounts = [(value: "financial", label: T.accountFinancial(l)), (value: "transitWallet", label: T.accountTransit(l))]
        return """
            <h2>\(T.financialFunctions(l))</h2>
            <form id="finance-form" method="post" action="/console/cards/financial-functions">\(Field.hidden("csrf", csrf))\(Field.hidden("card_number", cardNumber))
            \(Field.input("tax_number", label: CT.taxNumber(l), autocomplete: "off"))
            \(Field.input("tax_issued_on", label: CT.taxIssuedOn(l), hint: CT.dateHint(l), autocomplete: "off"))
            \(select("residence_kind", label: CT.residenceKind(l), options: kinds))
            \(Field.input("residence_number", label: CT.residenceNumber(l), autocomplete: "off"))
            \(Field.input("residence_valid_until", label: CT.residenceValidUntil(l), hint: CT.dateHint(l), autocomplete: "off"))
            \(Field.submit(CT.enableFinance(l)))</form>
            <h2>\(CT.cash(l))</h2>
            <form id="cash-form" method="post" action="/console/cards/cash">\(Field.hidden("csrf", csrf))\(Field.hidden("card_number", cardNumber))\
            \(Field.hidden("idem", WebRequest.nonce()))
            \(select("operation", label: CT.operation(l), options: [(value: "deposit", label: CT.deposit(l)), (value: "withdrawal", label: CT.withdrawal(l))]))
            \(select("account", label: T.accounts(l), options: accounts))
            \(Field.input("amount", label: T.amountYuan(l), hint: T.amountHint(l), autocomplete: "off", extra: " inputmode=\"decimal\""))
            \(Field.input("pin", label: CT.pin(l), hint: CT.pinHint(l), type: "password", autocomplete: "off", required: false,
                          extra: " inputmode=\"numeric\""))
            \(Field.submit(CT.cash(l)))</form>
            """
    }

    /// The holder sets the PIN on the branch's PIN pad; the card becomes active.
    static func activation(_ cardNumber: String, _ l: Language, csrf: String) -> HTML {
        """
        <h2>\(CT.activate(l))</h2>
        <form id="activate-form" method="post" action="/console/cards/activation">\(Field.hidden("csrf", csrf))\(Field.hidden("card_number", cardNumber))
        \(Field.input("pin", label: CT.newPIN(l), hint: CT.pinHint(l), type: "password", autocomplete: "off", extra: " inputmode=\"numeric\""))
        \(Field.submit(CT.activate(l)))</form>
        """
    }

    func cardNumber(_ request: WebRequest) throws -> String {
        let number = request.field("card_number")
        guard number.count == 19, number.allSatisfy(\.isASCIIDigit) else { throw WebProblem.formMalformed }
        return number
    }

    func enableFinance(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let number = try cardNumber(request)
        let body: [String: Any] = [
            "tax_certificate": ["number": trimmed(request, "tax_number"), "issued_on": trimmed(request, "tax_issued_on")],
            "residence_proof": ["kind": request.field("residence_kind"), "number": trimmed(request, "residence_number"),
                                "valid_until": trimmed(request, "residence_valid_until")],
        ]
        let (reply, _) = try await post("/v1/cards/\(number)/financial-functions", body, request, context)
        return try await console.cardResult(&request, context, number: number, reply: reply, notice: CT.financeEnabled(request.language))
    }

    func cash(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let number = try cardNumber(request)
        let l = request.language
        guard let fen = YuanInput.fen(request.field("amount")) else {
            return try await console.cardResult(&request, context, number: number, problem: WebProblem.amountInvalid(l))
        }
        let withdrawal = request.field("operation") == "withdrawal"
        let body: [String: Any] = withdrawal ? ["amount_fen": fen, "pin": request.field("pin")]
            : ["amount_fen": fen, "account": request.field("account")]
        let (reply, answer) = try await post("/v1/cards/\(number)/\(withdrawal ? "withdrawals" : "deposits")", body, request, context, idempotent: true)
        let done = "\(withdrawal ? CT.withdrawal(l) : CT.deposit(l)) \(WebFormat.yuan(fen, l)) · \(T.newBalance(l)) \(J.money(answer, "account.balance", l))"
        return try await console.cardResult(&request, context, number: number, reply: reply, notice: done)
    }

    // MARK: - Department clerk

    func requestQueue(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        let me = try await console.staff(request, context)
        let page = try await json("/v1/service-requests?limit=100", request, context)
        return frame(&request, me, title: CT.queue(l), J.table(id: "requests", caption: CT.queue(l), J.items(page), l, columns: [
            .init(BT.reference) { "\(J.s($0, "reference"))" },
            .init(T.services) { J.name($0, "service_name", $1) },
            .init(T.status) { J.s($0, "status") },
            .init(BT.due) { row, l in J.s(row, "due_on") + (J.bool(row, "overdue") ? " (\(BT.overdue(l)))" : "") },
        ], actions: { row in "<a href=\"/console/requests/\(J.s(row, "id"))\">\(CT.open(l))</a>" }))
    }

    func requestDetail(_ request: inout WebRequest, _ context: AppContext, id: String, error: WebProblem? = nil,
                       status: HTTPResponse.Status = .ok) async throws -> WebResponse {
        let l = request.language
        let me = try await console.staff(request, context)
        let item = try await json("/v1/service-requests/\(id)", request, context)
        let csrf = request.csrfToken(web, area: .console)
        let form = (item["form"] as? [String: Any]) ?? [:]
        let values: [HTML] = form.keys.sorted().map { key in
            let value = form[key].map { "\($0)" } ?? ""
            return "<dt>\(key)</dt><dd>\(value)</dd>"
        }
        let documents = ((item["documents_required"] as? [Any]) ?? []).compactMap { ($0 as? [String: Any]).map { J.s($0, "code") } ?? ($0 as? String) }
        let checks: [HTML] = documents.map { "<label class=\"check\"><input type=\"checkbox\" name=\"documents_checked\" value=\"\($0)\"> \($0)</label>" }
        let actions = ["accept", "start", "ask_info", "complete", "reject"].map { (value: $0, label: Names.serviceAction($0, l)) }
        return frame(&request, me, title: "\(BT.reference(l)) \(J.s(item, "reference"))", error: error, status: status, """
            <dl class="facts" id="request"><dt>\(T.services(l))</dt><dd>\(J.name(item, "service_name", l))</dd>
            <dt>\(T.fullName(l))</dt><dd>\(J.s(item, "person.name"))</dd>
            <dt>\(T.status(l))</dt><dd id="request-status">\(J.s(item, "status"))</dd><dt>\(BT.due(l))</dt><dd>\(J.s(item, "due_on"))</dd></dl>
            <h2>\(CT.formValues(l))</h2><dl class="facts">\(values)</dl>
            <form id="action-form" method="post" action="/console/requests/\(id)/action">\(Field.hidden("csrf", csrf))\(Field.hidden("idem", WebRequest.nonce()))
            \(Self.select("action", label: T.action(l), options: actions))
            \(checks.isEmpty ? .empty : "<fieldset><legend>\(T.originalsChecked(l))</legend>\(checks)</fieldset>")
            \(Field.input("note", label: CT.note(l), required: false, extra: " maxlength=\"1000\""))
            \(Field.input("outcome_document", label: CT.outcome(l), required: false))
            \(Field.submit(T.submit(l)))</form>
            """)
    }

    func requestAction(_ request: inout WebRequest, _ context: AppContext, id: String) async throws -> WebResponse {
        var body = optional(request, ["note", "outcome_document"])
        body["action"] = request.field("action")
        if !request.fields("documents_checked").isEmpty { body["documents_checked"] = request.fields("documents_checked") }
        let (reply, _) = try await post("/v1/service-requests/\(id)/actions", body, request, context, idempotent: true)
        guard reply.ok else { return try await requestDetail(&request, context, id: id, error: reply.problem, status: reply.status) }
        return .redirect("/console/requests/\(id)")
    }

    // MARK: - Merchant administrator: one day's settlement and payments

    func merchantDay(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        let me = try await console.staff(request, context)
        let date = request.query["date"].flatMap(CivilDate.init) ?? web.clock.today
        let settlement = try await json("/v1/merchant/settlement?date=\(date)", request, context)
        let payments = try await json("/v1/merchant/payments?date=\(date)&limit=200", request, context)
        func row(_ label: Text, _ path: String) -> HTML { "<dt>\(label(l))</dt><dd>\(J.money(settlement, path, l))</dd>" }
        let facts: HTML = """
            <form id="day-form" method="get" action="/console/merchant">\(Field.input("date", label: T.date(l), hint: CT.dateHint(l), value: date.description))\
            \(Field.submit(CT.show(l)))</form>
            <dl class="facts" id="settlement"><dt>\(CT.payments(l))</dt><dd>\(J.s(settlement, "payments"))</dd>
            \(row(CT.gross, "gross"))\(row(CT.merchantDiscount, "merchant_funded_discount"))\(row(CT.subsidyDiscount, "subsidy_discount"))
            \(row(CT.paidByCards, "paid_by_cards"))\(row(CT.refunded, "refunded"))\(row(CT.subsidyReturned, "subsidy_returned"))
            \(row(CT.net, "net"))\(row(CT.ledgerNet, "ledger_net"))</dl>
            """
        let list = J.table(id: "payments", caption: CT.payments(l), J.items(payments), l, columns: [
            .init(BT.when) { J.time($0, "at") }, .init(T.cardNumber) { J.s($0, "card") },
            .init(T.amount, numeric: true) { J.money($0, "amount", $1) }, .init(CT.discount, numeric: true) { J.money($0, "discount", $1) },
            .init(CT.refunded, numeric: true) { J.money($0, "refunded", $1) },
        ])
        return frame(&request, me, title: CT.merchantDay(l), "\(facts)\(list)")
    }

    // MARK: - Event organiser

    func eventsPage(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        let me = try await console.staff(request, context)
        let page = try await json("/v1/events?limit=100", request, context)
        return frame(&request, me, title: T.events(l), J.table(id: "organiser-events", caption: T.events(l), J.items(page), l, columns: [
            .init(T.events) { J.name($0, "title", $1) },
            .init(BT.when) { J.time($0, "starts_at") },
            .init(T.status) { J.s($0, "status") },
            .init(BT.placesLeft, numeric: true) { J.s($0, "places_left") },
        ], actions: { row in "<a href=\"/console/events/\(J.s(row, "id"))\">\(CT.registrations(l))</a>" }))
    }

    func eventRegistrations(_ request: inout WebRequest, _ context: AppContext, id: String) async throws -> WebResponse {
        let l = request.language
        let me = try await console.staff(request, context)
        let event = try await json("/v1/events/\(id)", request, context)
        let page = try await json("/v1/events/\(id)/registrations?limit=200", request, context)
        return frame(&request, me, title: J.name(event, "title", l), J.table(id: "registrations", caption: CT.registrations(l), J.items(page), l, columns: [
            .init(T.fullName) { J.s($0, "name") },
            .init(T.status) { J.s($0, "status") },
            .init(CT.position) { J.s($0, "waitlist_position") },
            .init(CT.checkedIn) { J.time($0, "checked_in_at") },
        ]))
    }
}

extension WebProblem {
    static let forbiddenPage = WebProblem(status: .forbidden, code: "auth.forbidden", title: "", detail: "")
}

extension Names {
    static func serviceAction(_ value: String, _ l: Language) -> String {
        switch value {
        case "accept": return Text("Accept", "受理")(l)
        case "start": return Text("Start work", "开始办理")(l)
        case "ask_info": return Text("Ask for information", "要求补正")(l)
        case "complete": return Text("Complete", "办结")(l)
        case "reject": return Text("Reject", "不予办理")(l)
        default: return value
        }
    }
}

/// Texts of the console's role pages.
enum CT {
    static let initialPassword = Text("Initial password", "初始密码")
    static let bindingHint = Text("Bind the account: an employer account to its employer, a bank clerk to a branch, a department clerk to its department (hrss, education, civil_affairs, housing), a merchant administrator to a merchant.",
                                  "绑定账户：用人单位账户绑定单位，银行柜员绑定网点，部门窗口人员绑定部门（hrss、education、civil_affairs、housing），商户管理员绑定商户。")
    static let employerID = Text("Employer id", "用人单位编号")
    static let branchID = Text("Branch id", "网点编号")
    static let department = Text("Department", "部门")
    static let merchantID = Text("Merchant id", "商户编号")
    static let addStaff = Text("Add the staff account", "添加工作人员账户")
    static let staffAdded = Text("Staff account added", "已添加工作人员账户")
    static let terminals = Text("Terminals", "终端")
    static let kind = Text("Kind", "类型")
    static let name = Text("Name", "名称")
    static let bindingID = Text("Bound to (id)", "绑定对象编号")
    static let terminalBindingHint = Text("The merchant, hospital, library, venue, operator or organiser the terminal belongs to.",
                                          "终端所属的商户、医院、图书馆、场馆、运营单位或活动组织者。")
    static let stopID = Text("Stop id (transit validators)", "站点编号（交通验票机）")
    static let addTerminal = Text("Add the terminal", "添加终端")
    static let terminalAdded = Text("Terminal added", "已添加终端")
    static let apiKeyOnce = Text("Its API key, shown only now", "其接口密钥（仅此一次显示）")
    static let revokeTerminal = Text("Revoke a terminal", "停用终端")
    static let terminalID = Text("Terminal id", "终端编号")
    static let terminalRevoked = Text("Terminal revoked.", "终端已停用。")
    static let reference = Text("Reference data", "基础数据")
    static let branches = Text("Bank branches", "银行网点")
    static let employers = Text("Employers", "用人单位")
    static let city = Text("City code", "城市代码")
    static let cityHint = Text("6-digit GB/T 2260 code, e.g. 330200 for Ningbo.", "6 位 GB/T 2260 代码，如宁波为 330200。")
    static let id = Text("Id", "编号")
    static let uscc = Text("Unified social credit code", "统一社会信用代码")
    static let nameEN = Text("Name in English", "英文名称")
    static let nameZH = Text("Name in Chinese", "中文名称")
    static let addBranch = Text("Add the branch", "添加网点")
    static let addEmployer = Text("Add the employer", "添加用人单位")
    static let added = Text("Added", "已添加")
    static let owner = Text("Owner", "所属")
    static let keys = Text("Signing keys", "签名密钥")
    static let keysHelp = Text("The public keys anyone uses to verify credentials offline. Rotate them with `joinin keys rotate`.",
                               "任何人离线核验凭证所用的公钥。使用 `joinin keys rotate` 轮换。")
    static let keyID = Text("Key id", "密钥编号")
    static let algorithm = Text("Algorithm", "算法")
    static let publicKey = Text("Public key", "公钥")
    static let newApplication = Text("New permit application", "新建工作许可申请")
    static let nationalityHint = Text("Three letters (ISO 3166), e.g. DEU.", "三位字母代码（ISO 3166），如 DEU。")
    static let surname = Text("Surname", "姓")
    static let givenNames = Text("Given names", "名")
    static let chineseName = Text("Chinese name (optional)", "中文姓名（选填）")
    static let dateOfBirth = Text("Date of birth", "出生日期")
    static let dateHint = Text("YYYY-MM-DD", "格式：YYYY-MM-DD")
    static let sex = Text("Sex", "性别")
    static let female = Text("Female", "女")
    static let male = Text("Male", "男")
    static let unspecified = Text("Unspecified", "未说明")
    static let contractStart = Text("Contract starts", "合同开始日期")
    static let contractEnd = Text("Contract ends", "合同结束日期")
    static let submitApplication = Text("Submit the application", "提交申请")
    static let residencePermit = Text("Residence permit", "居留许可")
    static let registrationForm = Text("Temporary residence registration", "临时住宿登记")
    static let taxNumber = Text("Tax certificate number", "完税证明编号")
    static let taxIssuedOn = Text("Tax certificate issued on", "完税证明开具日期")
    static let residenceKind = Text("Proof of residence", "居住证明")
    static let residenceNumber = Text("Its number", "证明编号")
    static let residenceValidUntil = Text("Valid until", "有效期至")
    static let enableFinance = Text("Enable financial functions", "开通金融功能")
    static let financeEnabled = Text("Financial functions enabled.", "金融功能已开通。")
    static let cash = Text("Cash", "现金业务")
    static let operation = Text("Operation", "业务")
    static let deposit = Text("Deposit", "存款")
    static let withdrawal = Text("Withdrawal", "取款")
    static let pin = Text("PIN (withdrawals)", "交易密码（取款）")
    static let pinHint = Text("Typed by the cardholder on the PIN pad.", "由持卡人在密码键盘上输入。")
    static let replace = Text("Replace the card", "补换卡")
    static let replaced = Text("A new card replaces the old one; the holder now sets its PIN.", "新卡已替换旧卡，请持卡人设置交易密码。")
    static let activate = Text("Activate the card", "激活卡片")
    static let activated = Text("The card is active.", "卡片已激活。")
    static let newPIN = Text("New PIN (6 digits)", "新交易密码（6 位数字）")
    static let queue = Text("Request queue", "办件队列")
    static let open = Text("Open", "打开")
    static let formValues = Text("Form", "表单")
    static let note = Text("Note", "备注")
    static let outcome = Text("Outcome document (on completion)", "办结文书（办结时）")
    static let registrations = Text("Registrations", "报名")
    static let merchantDay = Text("Sales and settlement", "销售与结算")
    static let show = Text("Show", "查看")
    static let payments = Text("Card payments", "刷卡消费")
    static let gross = Text("Gross sales", "销售总额")
    static let merchantDiscount = Text("Discounts you funded", "商户让利")
    static let subsidyDiscount = Text("Discounts the city funded", "政府补贴优惠")
    static let paidByCards = Text("Paid by cards", "持卡人实付")
    static let refunded = Text("Refunded", "已退款")
    static let subsidyReturned = Text("Subsidy handed back", "退回补贴")
    static let net = Text("Net for the day", "当日净额")
    static let ledgerNet = Text("Net in the ledger", "账本净额")
    static let discount = Text("Discount", "优惠")
    static let position = Text("Waitlist position", "候补序号")
    static let checkedIn = Text("Checked in", "签到时间")
}
