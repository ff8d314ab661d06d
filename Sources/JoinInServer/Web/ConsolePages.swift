import Foundation
import HTTPTypes
import Hummingbird
import JoinInCore
import NIOCore

/// The staff console at `/console`: sign-in (and the forced change of a one-time password), then
/// the pages of the signed-in role only. Like the e-card it calls the API in-process, so a page
/// can never do what the role's API access does not allow.
struct ConsolePages: Sendable {
    let web: WebApp

    static func menu(for role: Schemas.StaffRole) -> [Layout.MenuItem] {
        var items: [Layout.MenuItem] = [.init(path: "/console", label: T.overview)]
        switch role {
        case .permitOfficer: items += [.init(path: "/console/applications?status=submitted", label: T.arrivals),
                                       .init(path: "/console/applications", label: T.applications)]
        case .employer: items += [.init(path: "/console/applications", label: T.applications),
                                  .init(path: "/console/applications/new", label: CT.newApplication)]
        case .bankClerk: items.append(.init(path: "/console/cards", label: T.cards))
        case .admin: items += [.init(path: "/console/audit", label: T.audit), .init(path: "/console/staff", label: T.staff),
                               .init(path: "/console/terminals", label: CT.terminals), .init(path: "/console/reference", label: CT.reference),
                               .init(path: "/console/system-accounts", label: T.systemAccounts), .init(path: "/console/keys", label: CT.keys)]
        case .departmentClerk: items.append(.init(path: "/console/requests", label: CT.queue))
        case .eventOrganizer: items.append(.init(path: "/console/events", label: T.events))
        case .merchantAdmin: items.append(.init(path: "/console/merchant", label: CT.merchantDay))
        }
        return items
    }

    func register(_ router: Router<AppContext>) {
        web.page(router, .get, "/console", .console) { request, context in try await home(&request, context) }
        web.page(router, .post, "/console/signin", .console) { request, context in try await signIn(&request, context) }
        web.page(router, .post, "/console/signout", .console) { request, context in
            if let token = request.cookies[Cookie.staff] {
                _ = try await web.api.call(.delete, "/v1/staff/sessions/current", token: token, language: request.language, context: context)
            }
            var response = WebResponse.redirect("/console")
            response.cookies.append(Cookie.clear(Cookie.staff, path: "/console", secure: web.secure))
            return response
        }
        web.page(router, .get, "/console/password", .console) { request, context in
            _ = try await staff(request, context, allowPendingPassword: true)
            return .page(passwordPage(&request))
        }
        web.page(router, .post, "/console/password", .console) { request, context in try await changePassword(&request, context) }
        web.page(router, .get, "/console/applications", .console) { request, context in try await applications(&request, context) }
        web.page(router, .get, "/console/applications/{id}", .console) { request, context in
            try await application(&request, context, id: try id(request))
        }
        web.page(router, .post, "/console/applications/{id}/decision", .console) { request, context in
            try await decide(&request, context, id: try id(request))
        }
        web.page(router, .get, "/console/applications/{id}/letter", .console) { request, context in
            try await letter(request, context, id: try id(request))
        }
        web.page(router, .get, "/console/cards", .console) { request, context in
            let me = try await staff(request, context)
            return .page(cardsPage(&request, me))
        }
        web.page(router, .post, "/console/cards/issue", .console) { request, context in try await issueCard(&request, context) }
        web.page(router, .post, "/console/cards/find", .console) { request, context in try await findCard(&request, context) }
        web.page(router, .post, "/console/cards/loss", .console) { request, context in try await reportLoss(&request, context) }
        web.page(router, .get, "/console/audit", .console) { request, context in try await audit(&request, context, verify: false) }
        web.page(router, .post, "/console/audit/verification", .console) { request, context in try await audit(&request, context, verify: true) }
        ConsoleRolePages(console: self).register(router)
    }

    // MARK: - Plumbing

    func id(_ request: WebRequest) throws -> String { try Self.uuid(request.path, at: 2) }

    /// The UUID at `index` of a path's segments, lower case, or 404 (never sent on to the API as typed).
    static func uuid(_ path: String, at index: Int) throws -> String {
        let parts = path.split(separator: "/")
        guard parts.count > index, let id = UUID(uuidString: String(parts[index])) else { throw WebProblem.notFound }
        return id.uuidString.lowercased()
    }

    func token(_ request: WebRequest) throws -> String {
        guard let token = request.cookies[Cookie.staff] else { throw WebProblem.signInRequired }
        return token
    }

    func call(_ method: HTTPRequest.Method, _ path: String, _ request: WebRequest, _ context: AppContext,
              json: Data? = nil, idempotencyKey: String? = nil, accept: String = "application/json") async throws -> InternalAPI.Reply {
        let reply = try await web.api.call(method, path, token: try token(request), language: request.language, json: json,
                                           idempotencyKey: idempotencyKey, accept: accept, context: context)
        guard reply.ok else { throw reply.problem }
        return reply
    }

    /// The signed-in staff member; one who must still change a one-time password is sent there.
    func staff(_ request: WebRequest, _ context: AppContext, allowPendingPassword: Bool = false) async throws -> Schemas.Staff {
        let me = try await call(.get, "/v1/staff/me", request, context).decode(Schemas.Staff.self)
        if me.mustChangePassword && !allowPendingPassword { throw WebProblem.passwordChangeRequired }
        return me
    }

    func layout(_ request: inout WebRequest, _ me: Schemas.Staff?) -> Layout {
        let csrf = request.csrfToken(web, area: .console)
        return Layout(language: request.language, area: "/console", currentPath: request.path, currentQuery: request.rawQuery,
                      menu: me.map { Self.menu(for: $0.role) } ?? [], signOutCSRF: me == nil ? nil : csrf)
    }

    // MARK: - Sign-in

    func home(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        guard request.cookies[Cookie.staff] != nil else {
            let notice: HTML? = request.query["ended"] == nil ? nil : "\(T.signedOutNotice(l))"
            return .page(signInPage(&request, notice: notice))
        }
        let me = try await staff(request, context)
        let links: [HTML] = Self.menu(for: me.role).dropFirst().map { "<li><a href=\"\($0.path)\">\($0.label(l))</a></li>" }
        let body: HTML = """
            <dl class="facts"><dt>\(T.signedInAs(l))</dt><dd id="staff-username">\(me.username)</dd>
            <dt>\(T.role(l))</dt><dd id="staff-role">\(Names.role(me.role.rawValue, l))</dd></dl>
            \(links.isEmpty ? "<p>\(T.nothingForRole(l))</p>" : "<ul class=\"plain\">\(links)</ul>")
            """
        return .page(layout(&request, me).render(title: T.consoleName(l), body))
    }

    func signInPage(_ request: inout WebRequest, username: String = "", notice: HTML? = nil, error: WebProblem? = nil) -> HTML {
        let l = request.language
        let csrf = request.csrfToken(web, area: .console)
        return layout(&request, nil).render(title: T.consoleSignInTitle(l), notice: notice, error: error, """
            <form id="console-signin-form" method="post" action="/console/signin">
            \(Field.hidden("csrf", csrf))
            \(Field.input("username", label: T.username(l), value: username, autocomplete: "username",
                          extra: " autocapitalize=\"none\" spellcheck=\"false\""))
            \(Field.input("password", label: T.password(l), type: "password", autocomplete: "current-password"))
            \(Field.submit(T.signIn(l)))
            </form>
            """)
    }

    func signIn(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let username = request.field("username").trimmingCharacters(in: .whitespaces)
        let body = try InternalAPI.json(Schemas.SignInRequest(username: username, password: request.field("password")))
        let reply = try await web.api.call(.post, "/v1/staff/sessions", token: nil, language: request.language, json: body, context: context)
        guard reply.ok else { return .page(signInPage(&request, username: username, error: reply.problem), status: reply.status) }
        let session = try reply.decode(Schemas.Session.self)
        var response = WebResponse.redirect(session.mustChangePassword ? "/console/password" : "/console")
        response.cookies.append(Cookie.set(Cookie.staff, session.token, path: "/console",
                                           maxAgeSeconds: web.config.staffSessionSeconds, secure: web.secure))
        response.cookies.append(Cookie.clear(Cookie.preSession, secure: web.secure))
        return response
    }

    func passwordPage(_ request: inout WebRequest, error: WebProblem? = nil) -> HTML {
        let l = request.language
        let csrf = request.csrfToken(web, area: .console)
        var frame = layout(&request, nil)
        frame.signOutCSRF = csrf
        return frame.render(title: T.changePasswordTitle(l), error: error, """
            <p>\(T.changePasswordIntro(l))</p>
            <form id="password-form" method="post" action="/console/password">
            \(Field.hidden("csrf", csrf))
            \(Field.input("current_password", label: T.currentPassword(l), type: "password", autocomplete: "current-password"))
            \(Field.input("new_password", label: T.newPassword(l), hint: T.passwordHint(l), type: "password", autocomplete: "new-password"))
            \(Field.submit(T.submit(l)))
            </form>
            """)
    }

    func changePassword(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let body = try InternalAPI.json(Schemas.PasswordChangeRequest(currentPassword: request.field("current_password"),
                                                                      newPassword: request.field("new_password")))
        let reply = try await web.api.call(.post, "/v1/staff/me/password", token: try token(request), language: request.language,
                                           json: body, context: context)
        guard reply.ok else { return .page(passwordPage(&request, error: reply.problem), status: reply.status) }
        return .redirect("/console")
    }

    // MARK: - Permit applications (officer: arrivals → originals check → issue → letter)

    func applications(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        let me = try await staff(request, context)
        var path = "/v1/permit-applications?limit=50"
        let status = request.query["status"].flatMap(Schemas.ApplicationStatus.init(rawValue:))
        if let status { path += "&status=\(status.rawValue)" }
        if let cursor = request.query["cursor"] { path += "&cursor=\(cursor.addingPercentEncodingForQuery())" }
        let page = try await call(.get, path, request, context).decode(Schemas.ApplicationPage.self)
        let rows: [HTML] = page.items.map { item in
            """
            <tr><td><a href="/console/applications/\(item.id)">\(item.person.surname) \(item.person.givenNames)</a></td>\
            <td>\(item.person.nationality)</td><td>\(item.category.rawValue)</td>\
            <td>\(Names.applicationStatus(item.status.rawValue, l))</td><td>\(WebFormat.dateTime(item.createdAt))</td></tr>
            """
        }
        let title = status == .submitted ? T.arrivals(l) : T.applications(l)
        let table: HTML = rows.isEmpty ? "<p>\(T.none(l))</p>" : """
            <table id="applications"><caption>\(title)</caption><thead><tr><th scope="col">\(T.applicant(l))</th>\
            <th scope="col">\(T.nationality(l))</th><th scope="col">\(T.category(l))</th><th scope="col">\(T.status(l))</th>\
            <th scope="col">\(T.submitted(l))</th></tr></thead><tbody>\(rows)</tbody></table>
            """
        return .page(layout(&request, me).render(title: title, table))
    }

    func application(_ request: inout WebRequest, _ context: AppContext, id: String, error: WebProblem? = nil) async throws -> WebResponse {
        let l = request.language
        let me = try await staff(request, context)
        let item = try await call(.get, "/v1/permit-applications/\(id)", request, context).decode(Schemas.Application.self)
        let person = item.person
        var decision: HTML = .empty
        if me.role == .permitOfficer && item.status == .submitted {
            let csrf = request.csrfToken(web, area: .console)
            let boxes: [HTML] = item.documents.map { kind in
                """
                <label class="check"><input type="checkbox" name="checked_documents" value="\(kind.rawValue)"> \(Names.document(kind.rawValue, l))</label>
                """
            }
            decision = """
                <form id="decision-form" method="post" action="/console/applications/\(item.id)/decision">
                \(Field.hidden("csrf", csrf))\(Field.hidden("idem", WebRequest.nonce()))
                <fieldset><legend>\(T.originalsChecked(l))</legend>\(boxes)</fieldset>
                <button type="submit" name="decision" value="issue" id="issue-button">\(T.issuePermit(l))</button>
                <h2>\(T.rejectApplication(l))</h2>
                \(Field.input("reason", label: T.reason(l), required: false, extra: " maxlength=\"500\""))
                <button type="submit" name="decision" value="reject" class="danger">\(T.rejectApplication(l))</button>
                </form>
                """
        }
        let letter: HTML = item.permitNumber == nil ? .empty : """
            <p><a id="letter-link" href="/console/applications/\(item.id)/letter">\(T.printLetter(l))</a></p>
            """
        let body: HTML = """
            <dl class="facts" id="application">
            <dt>\(T.applicant(l))</dt><dd>\(person.surname) \(person.givenNames)\(person.chineseName.map { " (\($0))" } ?? "")</dd>
            <dt>\(T.nationality(l))</dt><dd>\(person.nationality)</dd>
            <dt>\(T.passport(l))</dt><dd>\(person.passportNumber)</dd>
            <dt>\(T.position(l))</dt><dd>\(item.position)</dd>
            <dt>\(T.category(l))</dt><dd>\(item.category.rawValue)</dd>
            <dt>\(T.contract(l))</dt><dd>\(item.contractStart) – \(item.contractEnd)</dd>
            <dt>\(T.documents(l))</dt><dd>\(item.documents.map { Names.document($0.rawValue, l) }.joined(separator: ", "))</dd>
            <dt>\(T.status(l))</dt><dd id="application-status">\(Names.applicationStatus(item.status.rawValue, l))</dd>
            \(item.permitNumber.map { "<dt>\(T.permitNumber(l))</dt><dd id=\"permit-number\">\($0)</dd>" } ?? .empty)
            \(item.decisionReason.map { "<dt>\(T.reason(l))</dt><dd>\($0)</dd>" } ?? .empty)
            </dl>\(letter)\(decision)
            """
        return .page(layout(&request, me).render(title: "\(T.applicant(l)): \(person.surname)", error: error, body),
                     status: error?.status ?? .ok)
    }

    func decide(_ request: inout WebRequest, _ context: AppContext, id: String) async throws -> WebResponse {
        let decision = request.field("decision") == "reject" ? Schemas.VerificationRequest.DecisionPayload.reject : .issue
        let checked = request.fields("checked_documents").compactMap(Schemas.DocumentKind.init(rawValue:))
        let reason = request.field("reason").trimmingCharacters(in: .whitespaces)
        let body = Schemas.VerificationRequest(checkedDocuments: checked, decision: decision,
                                               reason: decision == .reject ? reason : nil)
        let reply = try await web.api.call(.post, "/v1/permit-applications/\(id)/originals-verification", token: try token(request),
                                           language: request.language, json: try InternalAPI.json(body),
                                           idempotencyKey: request.field("idem"), context: context)
        guard reply.ok else { return try await application(&request, context, id: id, error: reply.problem) }
        return .redirect("/console/applications/\(id)")
    }

    /// The decision letter as the API prints it for this role (an officer's print carries the
    /// e-card activation code while it is unused). The letter is a standalone printable page.
    func letter(_ request: WebRequest, _ context: AppContext, id: String) async throws -> WebResponse {
        let item = try await call(.get, "/v1/permit-applications/\(id)", request, context).decode(Schemas.Application.self)
        guard let number = item.permitNumber else { throw WebProblem.notFound }
        let reply = try await call(.get, "/v1/permits/\(number)/decision-letter", request, context, accept: "text/html")
        return WebResponse(status: .ok, contentType: "text/html; charset=utf-8", raw: reply.body,
                           contentSecurityPolicy: WebApp.printablePolicy)
    }

    // MARK: - Cards (bank clerk)

    func cardsPage(_ request: inout WebRequest, _ me: Schemas.Staff, error: WebProblem? = nil, result: HTML = .empty) -> HTML {
        let l = request.language
        let csrf = request.csrfToken(web, area: .console)
        return layout(&request, me).render(title: T.cards(l), error: error, """
            \(result)
            <h2>\(T.issueCard(l))</h2>
            <form id="issue-card-form" method="post" action="/console/cards/issue">
            \(Field.hidden("csrf", csrf))\(Field.hidden("idem", WebRequest.nonce()))
            \(Field.input("permit_number", label: T.permitNumber(l), autocomplete: "off", extra: " autocapitalize=\"characters\" spellcheck=\"false\""))
            \(Field.input("decision_letter_number", label: T.decisionLetterNumber(l), autocomplete: "off", extra: " spellcheck=\"false\""))
            \(Field.input("passport_number", label: T.passportNumber(l), autocomplete: "off", extra: " autocapitalize=\"characters\" spellcheck=\"false\""))
            \(Field.submit(T.issueCard(l)))
            </form>
            <h2>\(T.findCard(l))</h2>
            <form id="find-card-form" method="post" action="/console/cards/find">
            \(Field.hidden("csrf", csrf))
            \(Field.input("card_number", label: T.cardNumber(l), autocomplete: "off", extra: " inputmode=\"numeric\""))
            \(Field.submit(T.findCard(l)))
            </form>
            """)
    }

    func cardFacts(_ card: Schemas.Card, _ l: Language, csrf: String) -> HTML {
        var loss: HTML = card.status == .active || card.status == .issued ? """
            <form id="card-loss-form" method="post" action="/console/cards/loss">\(Field.hidden("csrf", csrf))\
            \(Field.hidden("card_number", card.cardNumber))\(Field.submit(T.reportLoss(l), danger: true))</form>
            """ : .empty
        if [.issued, .active, .lost, .frozen].contains(card.status) {
            loss = """
                \(loss)<form id="card-replace-form" method="post" action="/console/cards/replacement">\(Field.hidden("csrf", csrf))\
                \(Field.hidden("card_number", card.cardNumber))\(Field.hidden("idem", WebRequest.nonce()))\(Field.submit(CT.replace(l)))</form>
                """
        }
        return """
            <section class="card" id="card-result"><h2>\(T.card(l))</h2><dl class="facts">
            <dt>\(T.cardNumber(l))</dt><dd id="card-number">\(card.cardNumber)</dd>
            <dt>\(T.fullName(l))</dt><dd>\(card.holderName)</dd>
            <dt>\(T.permitNumber(l))</dt><dd>\(card.permitNumber)</dd>
            <dt>\(T.status(l))</dt><dd id="card-status">\(Names.cardStatus(card.status.rawValue, l))</dd>
            <dt>\(T.financialFunctions(l))</dt><dd>\(card.financialFunctions ? T.yes(l) : T.no(l))</dd>
            </dl>\(loss)</section>
            \(card.status == .issued ? ConsoleRolePages.activation(card.cardNumber, l, csrf: csrf) : .empty)\
            \(card.status == .active ? ConsoleRolePages.cardServices(card.cardNumber, l, csrf: csrf) : .empty)
            """
    }

    /// The card page after a card service: the API's answer (or refusal) over the card as it now is.
    func cardResult(_ request: inout WebRequest, _ context: AppContext, number: String, reply: InternalAPI.Reply? = nil,
                    notice: String = "", problem: WebProblem? = nil) async throws -> WebResponse {
        let me = try await staff(request, context)
        let error = problem ?? reply.flatMap { $0.ok ? nil : $0.problem }
        let card = try await call(.get, "/v1/cards/\(number)", request, context).decode(Schemas.Card.self)
        let csrf = request.csrfToken(web, area: .console)
        let done: HTML = error == nil && !notice.isEmpty ? "<div class=\"notice\" role=\"status\" id=\"card-notice\">\(notice)</div>" : .empty
        return .page(cardsPage(&request, me, error: error, result: "\(done)\(cardFacts(card, request.language, csrf: csrf))"),
                     status: error?.status ?? .ok)
    }

    func issueCard(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let me = try await staff(request, context)
        let body = Schemas.NewCardRequest(permitNumber: request.field("permit_number").trimmingCharacters(in: .whitespaces).uppercased(),
                                          decisionLetterNumber: request.field("decision_letter_number").trimmingCharacters(in: .whitespaces),
                                          passportNumber: request.field("passport_number").trimmingCharacters(in: .whitespaces).uppercased())
        let reply = try await web.api.call(.post, "/v1/cards", token: try token(request), language: request.language,
                                           json: try InternalAPI.json(body), idempotencyKey: request.field("idem"), context: context)
        guard reply.ok else { return .page(cardsPage(&request, me, error: reply.problem), status: reply.status) }
        let card = try reply.decode(Schemas.Card.self)
        let csrf = request.csrfToken(web, area: .console)
        let result: HTML = "<div class=\"notice\" role=\"status\">\(T.cardIssued(request.language))</div>\(cardFacts(card, request.language, csrf: csrf))"
        return .page(cardsPage(&request, me, result: result), status: .created)
    }

    func findCard(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let me = try await staff(request, context)
        let number = request.field("card_number").replacingOccurrences(of: " ", with: "")
        guard number.count == 19, number.allSatisfy(\.isASCIIDigit) else {
            let problem = WebProblem(status: .badRequest, code: "card_number.invalid", title: T.error(request.language),
                                     detail: T.toCardHint(request.language))
            return .page(cardsPage(&request, me, error: problem), status: .badRequest)
        }
        let reply = try await web.api.call(.get, "/v1/cards/\(number)", token: try token(request), language: request.language, context: context)
        guard reply.ok else { return .page(cardsPage(&request, me, error: reply.problem), status: reply.status) }
        let csrf = request.csrfToken(web, area: .console)
        return .page(cardsPage(&request, me, result: cardFacts(try reply.decode(Schemas.Card.self), request.language, csrf: csrf)))
    }

    func reportLoss(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let me = try await staff(request, context)
        let number = request.field("card_number")
        guard number.count == 19, number.allSatisfy(\.isASCIIDigit) else { throw WebProblem.formMalformed }
        let reply = try await web.api.call(.post, "/v1/cards/\(number)/loss-report", token: try token(request), language: request.language,
                                           context: context)
        guard reply.ok else { return .page(cardsPage(&request, me, error: reply.problem), status: reply.status) }
        let csrf = request.csrfToken(web, area: .console)
        return .page(cardsPage(&request, me, result: cardFacts(try reply.decode(Schemas.Card.self), request.language, csrf: csrf)))
    }

    // MARK: - Audit (admin)

    /// The newest records; with `verify` (the page's button, a POST) the whole hash chain is
    /// walked and the verdict shown. Viewing alone does not walk the chain: that reads every
    /// audit record, which grows with all traffic.
    func audit(_ request: inout WebRequest, _ context: AppContext, verify: Bool) async throws -> WebResponse {
        let l = request.language
        var path = "/v1/audit-records?limit=100"
        if let cursor = request.query["cursor"] { path += "&cursor=\(cursor.addingPercentEncodingForQuery())" }
        // The list call is the access check (admins only); the verification is the CLI's own.
        let page = try await call(.get, path, request, context).decode(Schemas.AuditRecordPage.self)
        let me = try await staff(request, context)
        let csrf = request.csrfToken(web, area: .console)
        var verdict: HTML = """
            <form method="post" action="/console/audit/verification" id="audit-verify"><input type="hidden" name="csrf" value="\(csrf)">\
            <button type="submit">\(T.verifyAudit(l))</button></form>
            """
        if verify {
            switch try await web.store.verifyAudit() {
            case .intact(let count):
                verdict = "<div class=\"notice\" role=\"status\" id=\"audit-verdict\">\(T.auditVerified(l)): \(count)</div>"
            case .broken(let sequence, let reason):
                verdict = "<div class=\"alert\" role=\"alert\" id=\"audit-verdict\"><p>\(sequence): \(reason)</p></div>"
            }
        }
        let rows: [HTML] = page.items.map { record in
            """
            <tr><td>\(WebFormat.dateTime(record.at))</td><td>\(record.actor)</td><td>\(record.action)</td>\
            <td>\(record.objectType) \(record.objectId)</td><td>\(record.outcome)</td></tr>
            """
        }
        let next: HTML = page.nextCursor.map { "<p><a href=\"/console/audit?cursor=\($0.addingPercentEncodingForQuery())\">\(T.next(l))</a></p>" } ?? .empty
        return .page(layout(&request, me).render(title: T.audit(l), """
            \(verdict)<table id="audit"><caption>\(T.audit(l))</caption><thead><tr><th scope="col">\(T.time(l))</th>\
            <th scope="col">\(T.actor(l))</th><th scope="col">\(T.action(l))</th><th scope="col">\(T.object(l))</th>\
            <th scope="col">\(T.outcome(l))</th></tr></thead><tbody>\(rows)</tbody></table>\(next)
            """))
    }
}

extension WebProblem {
    static let passwordChangeRequired = WebProblem(status: .forbidden, code: "auth.password_change_required", title: "", detail: "")
}

extension Names {
    static func role(_ value: String, _ l: Language) -> String {
        switch value {
        case "admin": return Text("Administrator", "系统管理员")(l)
        case "employer": return Text("Employer", "用人单位")(l)
        case "permitOfficer": return Text("Permit officer", "许可审批人员")(l)
        case "bankClerk": return Text("Bank clerk", "银行柜员")(l)
        case "departmentClerk": return Text("Department clerk", "部门窗口人员")(l)
        case "merchantAdmin": return Text("Merchant administrator", "商户管理员")(l)
        case "eventOrganizer": return Text("Event organiser", "活动组织者")(l)
        default: return value
        }
    }

    static func applicationStatus(_ value: String, _ l: Language) -> String {
        switch value {
        case "submitted": return Text("Waiting for the originals check", "待核验原件")(l)
        case "originalsVerified": return Text("Originals verified", "原件已核验")(l)
        case "issued": return Text("Permit issued", "已签发许可")(l)
        case "rejected": return Text("Rejected", "不予许可")(l)
        default: return value
        }
    }

    static func document(_ value: String, _ l: Language) -> String {
        switch value {
        case "passport": return Text("Passport", "护照")(l)
        case "photo": return Text("Photo", "照片")(l)
        case "highest_degree": return Text("Highest degree", "最高学历证明")(l)
        case "work_experience_proof": return Text("Proof of work experience", "工作经历证明")(l)
        case "criminal_record_certificate": return Text("Criminal record certificate", "无犯罪记录证明")(l)
        case "medical_certificate": return Text("Medical certificate", "体检证明")(l)
        case "employment_contract": return Text("Employment contract", "劳动合同")(l)
        default: return value
        }
    }
}
