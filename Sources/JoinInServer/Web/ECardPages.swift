import Foundation
import HTTPTypes
import Hummingbird
import JoinInCore
import NIOCore

/// The cardholder's e-card in the browser, mobile first: sign-in and registration, the permit as
/// a card with its offline-verifiable credential and the dynamic code as QR codes, balances and
/// statements, transfers and wallet top-ups, the loss report, messages.
struct ECardPages: Sendable {
    let web: WebApp

    static let menu: [Layout.MenuItem] = [
        .init(path: "/home", label: T.home), .init(path: "/accounts", label: T.accounts),
        .init(path: "/transfer", label: T.transfer), .init(path: "/top-up", label: T.topUp),
        .init(path: "/inbox", label: T.inbox),
    ] + BenefitPages.menu + [.init(path: "/card/loss", label: T.reportLoss)]

    func register(_ router: Router<AppContext>) {
        web.page(router, .get, "/", .ecard) { request, _ in
            if request.cookies[Cookie.card] != nil { return .redirect("/home") }
            let notice: HTML? = request.query["ended"] == nil ? nil : "\(T.signedOutNotice(request.language))"
            return .page(signInPage(&request, notice: notice))
        }
        web.page(router, .post, "/signin", .ecard) { request, context in try await signIn(&request, context) }
        web.page(router, .post, "/signout", .ecard) { request, context in
            if let token = request.cookies[Cookie.card] {
                _ = try await web.api.call(.delete, "/v1/ecard/sessions/current", token: token, language: request.language, context: context)
            }
            var response = WebResponse.redirect("/")
            response.cookies.append(Cookie.clear(Cookie.card, secure: web.secure))
            return response
        }
        web.page(router, .get, "/register", .ecard) { request, _ in .page(registerPage(&request)) }
        web.page(router, .post, "/register", .ecard) { request, context in try await registerHolder(&request, context) }
        web.page(router, .get, "/home", .ecard) { request, context in try await home(&request, context) }
        web.page(router, .get, "/ecard/dynamic-qr.svg", .ecard) { request, context in try await dynamicQR(request, context) }
        web.page(router, .get, "/accounts", .ecard) { request, context in try await accounts(&request, context) }
        web.page(router, .get, "/accounts/{kind}", .ecard) { request, context in try await statement(&request, context) }
        web.page(router, .get, "/transfer", .ecard) { request, _ in .page(transferPage(&request)) }
        web.page(router, .post, "/transfer", .ecard) { request, context in try await transfer(&request, context) }
        web.page(router, .get, "/top-up", .ecard) { request, _ in .page(topUpPage(&request)) }
        web.page(router, .post, "/top-up", .ecard) { request, context in try await topUp(&request, context) }
        web.page(router, .get, "/card/loss", .ecard) { request, _ in .page(lossPage(&request)) }
        web.page(router, .post, "/card/loss", .ecard) { request, context in try await reportLoss(&request, context) }
        web.page(router, .get, "/inbox", .ecard) { request, context in try await inbox(&request, context) }
        web.page(router, .post, "/inbox/read-all", .ecard) { request, context in
            _ = try await call(.post, "/v1/ecard/inbox/read-all", request, context)
            return .redirect("/inbox")
        }
        BenefitPages(pages: self).register(router)
    }

    // MARK: - Plumbing

    func token(_ request: WebRequest) throws -> String {
        guard let token = request.cookies[Cookie.card] else { throw WebProblem.signInRequired }
        return token
    }

    func layout(_ request: inout WebRequest, signedIn: Bool = true, scripts: [String] = []) -> Layout {
        let csrf = request.csrfToken(web, area: .ecard)
        return Layout(language: request.language, area: "/", currentPath: request.path, menu: signedIn ? Self.menu : [],
                      signOutCSRF: signedIn ? csrf : nil, scripts: scripts)
    }

    /// One API call as the signed-in holder; a refusal is thrown for the page wrapper unless the
    /// caller handles it.
    func call(_ method: HTTPRequest.Method, _ path: String, _ request: WebRequest, _ context: AppContext,
              json: Data? = nil, idempotencyKey: String? = nil) async throws -> InternalAPI.Reply {
        let reply = try await web.api.call(method, path, token: try token(request), language: request.language, json: json,
                                           idempotencyKey: idempotencyKey, context: context)
        guard reply.ok else { throw reply.problem }
        return reply
    }

    func get<T: Decodable>(_ path: String, _ request: WebRequest, _ context: AppContext, as type: T.Type) async throws -> T {
        try await call(.get, path, request, context).decode(T.self)
    }

    // MARK: - Sign-in and registration

    func signInPage(_ request: inout WebRequest, permitNumber: String = "", notice: HTML? = nil, error: WebProblem? = nil) -> HTML {
        let l = request.language
        let csrf = request.csrfToken(web, area: .ecard)
        return layout(&request, signedIn: false).render(title: T.signInTitle(l), notice: notice, error: error, """
            <p>\(T.signInIntro(l))</p>
            <form id="signin-form" method="post" action="/signin">
            \(Field.hidden("csrf", csrf))
            \(Field.input("permit_number", label: T.permitNumber(l), hint: T.permitNumberHint(l), value: permitNumber,
                          autocomplete: "username", extra: " autocapitalize=\"characters\" spellcheck=\"false\""))
            \(Field.input("password", label: T.password(l), type: "password", autocomplete: "current-password"))
            \(Field.submit(T.signIn(l)))
            </form>
            <h2>\(T.noAccount(l))</h2>
            <p><a href="/register">\(T.registerTitle(l))</a></p>
            """)
    }

    func signIn(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let number = request.field("permit_number").trimmingCharacters(in: .whitespaces).uppercased()
        let body = try InternalAPI.json(Schemas.ECardSignInRequest(permitNumber: number, password: request.field("password")))
        let reply = try await web.api.call(.post, "/v1/ecard/sessions", token: nil, language: request.language, json: body, context: context)
        guard reply.ok else {
            return .page(signInPage(&request, permitNumber: number, error: reply.problem), status: reply.status)
        }
        return signedIn(try reply.decode(Schemas.ECardSession.self))
    }

    func signedIn(_ session: Schemas.ECardSession) -> WebResponse {
        var response = WebResponse.redirect("/home")
        response.cookies.append(Cookie.set(Cookie.card, session.token, maxAgeSeconds: ECardController.cardholderSessionSeconds, secure: web.secure))
        response.cookies.append(Cookie.clear(Cookie.preSession, secure: web.secure))
        return response
    }

    func registerPage(_ request: inout WebRequest, error: WebProblem? = nil) -> HTML {
        let l = request.language
        let csrf = request.csrfToken(web, area: .ecard)
        return layout(&request, signedIn: false).render(title: T.registerTitle(l), error: error, """
            <p>\(T.registerIntro(l))</p>
            <form id="register-form" method="post" action="/register">
            \(Field.hidden("csrf", csrf))
            \(Field.input("permit_number", label: T.permitNumber(l), hint: T.permitNumberHint(l), value: request.field("permit_number"),
                          autocomplete: "username", extra: " autocapitalize=\"characters\" spellcheck=\"false\""))
            \(Field.input("name", label: T.fullName(l), hint: T.fullNameHint(l), value: request.field("name"), autocomplete: "name"))
            \(Field.input("activation_code", label: T.activationCode(l), hint: T.activationCodeHint(l), autocomplete: "one-time-code",
                          extra: " autocapitalize=\"characters\" spellcheck=\"false\""))
            \(Field.input("password", label: T.newPassword(l), hint: T.passwordHint(l), type: "password", autocomplete: "new-password"))
            \(Field.submit(T.register(l)))
            </form>
            <p><a href="/">\(T.signIn(l))</a></p>
            """)
    }

    /// Registers, then signs in with the same password (one step for the person).
    func registerHolder(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let number = request.field("permit_number").trimmingCharacters(in: .whitespaces).uppercased()
        let registration = Schemas.ECardRegistrationRequest(permitNumber: number, name: request.field("name"),
                                                            activationCode: request.field("activation_code"), password: request.field("password"))
        let reply = try await web.api.call(.post, "/v1/ecard/registrations", token: nil, language: request.language,
                                           json: try InternalAPI.json(registration), context: context)
        guard reply.ok else { return .page(registerPage(&request, error: reply.problem), status: reply.status) }
        let signIn = try InternalAPI.json(Schemas.ECardSignInRequest(permitNumber: number, password: request.field("password")))
        let session = try await web.api.call(.post, "/v1/ecard/sessions", token: nil, language: request.language, json: signIn, context: context)
        guard session.ok else { return .page(signInPage(&request, permitNumber: number, error: session.problem), status: session.status) }
        return signedIn(try session.decode(Schemas.ECardSession.self))
    }

    // MARK: - Home: the permit, its credential and the dynamic code

    func home(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        let me = try await get("/v1/ecard/me", request, context, as: Schemas.ECardMe.self)
        let permit = me.permit
        let person = me.person
        let name = [person.surname, person.givenNames].filter { !$0.isEmpty }.joined(separator: " ")
        var credentialHTML: HTML = "<p>\(T.credentialUnavailable(l))</p>"
        if permit.status == .valid {
            let reply = try await web.api.call(.get, "/v1/ecard/permit-credential", token: try token(request), language: l, context: context)
            if reply.ok {
                let credential = try reply.decode(Schemas.PermitCredential.self).credential
                let code = try QRCode.encode(credential, errorCorrection: .medium)
                credentialHTML = """
                    <figure class="qr" id="credential-qr">\(HTML(raw: code.svg(moduleSize: 4, title: T.credentialTitle(l))))
                    <figcaption>\(T.credentialHelp(l))</figcaption></figure>
                    <details><summary>\(T.credentialText(l))</summary>
                    <label for="credential-text">\(T.credentialText(l))</label>
                    <textarea id="credential-text" readonly rows="6">\(credential)</textarea></details>
                    """
            } else {
                credentialHTML = "<p>\(reply.problem.detail)</p>"
            }
        }
        let cardHTML: HTML
        var dynamicHTML: HTML = "<p>\(T.dynamicUnavailable(l))</p>"
        if let card = me.card {
            cardHTML = """
                <dl class="facts"><dt>\(T.cardNumber(l))</dt><dd>\(card.maskedNumber)</dd>
                <dt>\(T.status(l))</dt><dd class="status" id="card-status">\(Names.cardStatus(card.status.rawValue, l))</dd>
                <dt>\(T.financialFunctions(l))</dt><dd>\(card.financialFunctions ? T.yes(l) : T.no(l))</dd></dl>
                """
            if card.status == .active {
                dynamicHTML = """
                    <figure class="qr" id="dynamic-qr"><img id="dynamic-qr-image" src="/ecard/dynamic-qr.svg" data-src="/ecard/dynamic-qr.svg" \
                    alt="\(T.dynamicTitle(l))" width="232" height="232">
                    <figcaption>\(T.dynamicHelp(l))</figcaption></figure>
                    <p><a href="/home">\(T.dynamicRefresh(l))</a></p>
                    """
            }
        } else {
            cardHTML = "<p>\(T.noCard(l))</p>"
        }
        let suspended: HTML = me.benefits.isEmpty ? "<p class=\"alert\">\(T.benefitsSuspended(l))</p>" : .empty
        let body: HTML = """
            \(suspended)
            <section class="card" id="permit-card" aria-labelledby="permit-heading">
            <h2 id="permit-heading">\(T.workPermit(l))</h2>
            <dl class="facts">
            <dt>\(T.fullName(l))</dt><dd id="holder-name">\(name)\(person.chineseName.map { " (\($0))" } ?? "")</dd>
            <dt>\(T.nationality(l))</dt><dd>\(person.nationality)</dd>
            <dt>\(T.permitNumber(l))</dt><dd id="permit-number">\(permit.number)</dd>
            <dt>\(T.category(l))</dt><dd>\(permit.category.rawValue)</dd>
            <dt>\(T.validity(l))</dt><dd>\(permit.validFrom) – \(permit.validUntil)</dd>
            <dt>\(T.employer(l))</dt><dd>\(WebFormat.name(permit.employer.name, l))</dd>
            <dt>\(T.position(l))</dt><dd>\(permit.position)</dd>
            <dt>\(T.status(l))</dt><dd class="status" id="permit-status">\(Names.permitStatus(permit.status.rawValue, l))</dd>
            </dl></section>
            <section class="card" aria-labelledby="card-heading"><h2 id="card-heading">\(T.card(l))</h2>\(cardHTML)</section>
            <section aria-labelledby="dynamic-heading"><h2 id="dynamic-heading">\(T.dynamicTitle(l))</h2>\(dynamicHTML)</section>
            <section aria-labelledby="credential-heading"><h2 id="credential-heading">\(T.credentialTitle(l))</h2>\(credentialHTML)</section>
            """
        return .page(layout(&request, scripts: ["/assets/ecard.js"]).render(title: T.home(l), body))
    }

    /// A fresh dynamic code as an SVG image (the page's `<img>` reloads it).
    func dynamicQR(_ request: WebRequest, _ context: AppContext) async throws -> WebResponse {
        let reply = try await call(.post, "/v1/ecard/dynamic-codes", request, context)
        let code = try reply.decode(Schemas.DynamicCode.self)
        let svg = try QRCode.encode(code.code, errorCorrection: .medium).svg(moduleSize: 4, title: T.dynamicTitle(request.language))
        return WebResponse(status: .ok, contentType: "image/svg+xml", raw: ByteBuffer(string: svg))
    }

    // MARK: - Money

    func accounts(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        let page = try await get("/v1/ecard/accounts", request, context, as: Schemas.AccountPage.self)
        let rows: [HTML] = page.items.map { account in
            """
            <tr><th scope="row"><a href="/accounts/\(account.kind.rawValue)">\(Names.account(account.kind.rawValue, l))</a></th>\
            <td class="num" data-account="\(account.kind.rawValue)">\(WebFormat.yuan(account.balance.amountFen, l))</td>\
            <td class="num">\(WebFormat.yuan(account.available.amountFen, l))</td></tr>
            """
        }
        let blocked: HTML = page.items.contains(where: \.debitsBlocked) ? "<p class=\"alert\">\(T.debitsBlocked(l))</p>" : .empty
        return .page(layout(&request).render(title: T.accounts(l), """
            \(blocked)<table id="accounts"><caption>\(T.accounts(l))</caption>
            <thead><tr><th scope="col">\(T.accounts(l))</th><th scope="col" class="num">\(T.balance(l))</th><th scope="col" class="num">\(T.available(l))</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """))
    }

    func statement(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        let kind = request.path.split(separator: "/").last.map(String.init) ?? ""
        guard ["financial", "transitWallet", "medicalPersonal"].contains(kind) else { throw WebProblem.notFound }
        var path = "/v1/ecard/accounts/\(kind)/transfers?limit=50"
        if let cursor = request.query["cursor"] { path += "&cursor=\(cursor.addingPercentEncodingForQuery())" }
        let page = try await get(path, request, context, as: Schemas.StatementPage.self)
        let rows: [HTML] = page.items.map { line in
            """
            <tr><td>\(WebFormat.dateTime(line.at))</td><td>\(WebFormat.name(line.description, l))</td>\
            <td class="num">\(WebFormat.yuan(line.amount.amountFen, l))</td></tr>
            """
        }
        let next: HTML = page.nextCursor.map { "<p><a href=\"/accounts/\(kind)?cursor=\($0.addingPercentEncodingForQuery())\">\(T.next(l))</a></p>" } ?? .empty
        let table: HTML = rows.isEmpty ? "<p>\(T.none(l))</p>" : """
            <table id="statement"><caption>\(Names.account(kind, l))</caption>
            <thead><tr><th scope="col">\(T.time(l))</th><th scope="col">\(T.description(l))</th><th scope="col" class="num">\(T.amount(l))</th></tr></thead>
            <tbody>\(rows)</tbody></table>
            """
        return .page(layout(&request).render(title: "\(T.statement(l)): \(Names.account(kind, l))", "\(table)\(next)<p><a href=\"/accounts\">\(T.back(l))</a></p>"))
    }

    func transferPage(_ request: inout WebRequest, error: WebProblem? = nil) -> HTML {
        let l = request.language
        let csrf = request.csrfToken(web, area: .ecard)
        let idem = request.field("idem").isEmpty ? WebRequest.nonce() : request.field("idem")
        return layout(&request).render(title: T.transfer(l), error: error, """
            <form id="transfer-form" method="post" action="/transfer">
            \(Field.hidden("csrf", csrf))\(Field.hidden("idem", idem))
            \(Field.input("to_card_number", label: T.toCard(l), hint: T.toCardHint(l), value: request.field("to_card_number"),
                          autocomplete: "off", extra: " inputmode=\"numeric\" pattern=\"[0-9 ]{19,23}\""))
            \(Field.input("amount", label: T.amountYuan(l), hint: T.amountHint(l), value: request.field("amount"), autocomplete: "off",
                          extra: " inputmode=\"decimal\""))
            \(Field.input("memo", label: T.memo(l), value: request.field("memo"), required: false, extra: " maxlength=\"500\""))
            \(Field.submit(T.send(l)))
            </form>
            """)
    }

    func transfer(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        guard let fen = YuanInput.fen(request.field("amount")) else {
            return .page(transferPage(&request, error: WebProblem.amountInvalid(l)), status: .badRequest)
        }
        let memo = request.field("memo").trimmingCharacters(in: .whitespaces)
        let body = Schemas.CardTransferRequest(toCardNumber: request.field("to_card_number").replacingOccurrences(of: " ", with: ""),
                                               amountFen: fen, memo: memo.isEmpty ? nil : memo)
        let reply = try await web.api.call(.post, "/v1/ecard/transfers", token: try token(request), language: l,
                                           json: try InternalAPI.json(body), idempotencyKey: request.field("idem"), context: context)
        guard reply.ok else { return .page(transferPage(&request, error: reply.problem), status: reply.status) }
        return .page(moneyDone(&request, title: T.transfer(l), notice: T.sent(l), try reply.decode(Schemas.MoneyOperation.self)))
    }

    func topUpPage(_ request: inout WebRequest, error: WebProblem? = nil) -> HTML {
        let l = request.language
        let csrf = request.csrfToken(web, area: .ecard)
        let idem = request.field("idem").isEmpty ? WebRequest.nonce() : request.field("idem")
        return layout(&request).render(title: T.topUp(l), error: error, """
            <form id="top-up-form" method="post" action="/top-up">
            \(Field.hidden("csrf", csrf))\(Field.hidden("idem", idem))
            \(Field.input("amount", label: T.amountYuan(l), hint: T.amountHint(l), value: request.field("amount"), autocomplete: "off",
                          extra: " inputmode=\"decimal\""))
            \(Field.submit(T.topUpAction(l)))
            </form>
            """)
    }

    func topUp(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        guard let fen = YuanInput.fen(request.field("amount")) else {
            return .page(topUpPage(&request, error: WebProblem.amountInvalid(l)), status: .badRequest)
        }
        let reply = try await web.api.call(.post, "/v1/ecard/wallet-top-ups", token: try token(request), language: l,
                                           json: try InternalAPI.json(Schemas.TopUpRequest(amountFen: fen)),
                                           idempotencyKey: request.field("idem"), context: context)
        guard reply.ok else { return .page(topUpPage(&request, error: reply.problem), status: reply.status) }
        return .page(moneyDone(&request, title: T.topUp(l), notice: T.toppedUp(l), try reply.decode(Schemas.MoneyOperation.self)))
    }

    func moneyDone(_ request: inout WebRequest, title: String, notice: String, _ operation: Schemas.MoneyOperation) -> HTML {
        let l = request.language
        return layout(&request).render(title: title, notice: "\(notice)", """
            <dl class="facts" id="money-result"><dt>\(T.amount(l))</dt><dd>\(WebFormat.yuan(operation.amount.amountFen, l))</dd>
            <dt>\(T.newBalance(l)) · \(Names.account(operation.account.kind.rawValue, l))</dt>\
            <dd id="balance-now">\(WebFormat.yuan(operation.account.balance.amountFen, l))</dd></dl>
            <p><a href="/accounts">\(T.accounts(l))</a></p>
            """)
    }

    // MARK: - Card loss

    func lossPage(_ request: inout WebRequest) -> HTML {
        let l = request.language
        let csrf = request.csrfToken(web, area: .ecard)
        return layout(&request).render(title: T.reportLoss(l), """
            <p>\(T.reportLossHelp(l))</p>
            <form id="loss-form" method="post" action="/card/loss">\(Field.hidden("csrf", csrf))\(Field.submit(T.reportLossConfirm(l), danger: true))</form>
            """)
    }

    func reportLoss(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        _ = try await call(.post, "/v1/ecard/card/loss-report", request, context)
        return .page(layout(&request).render(title: T.reportLoss(l), notice: "\(T.reported(l))", "<p><a href=\"/home\">\(T.home(l))</a></p>"))
    }

    // MARK: - Messages

    func inbox(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        var path = "/v1/ecard/inbox?limit=50"
        if let cursor = request.query["cursor"] { path += "&cursor=\(cursor.addingPercentEncodingForQuery())" }
        let page = try await get(path, request, context, as: Schemas.InboxPage.self)
        let csrf = request.csrfToken(web, area: .ecard)
        let items: [HTML] = page.items.map { message in
            """
            <li class="\(message.read ? "read" : "unread")"><h2>\(WebFormat.name(message.title, l))\(HTML(raw: message.read ? "" : " <span class=\"status\">(\(HTML.escape(T.unread(l))))</span>"))</h2>\
            <p>\(WebFormat.name(message.body, l))</p><p class="code">\(WebFormat.dateTime(message.at))</p></li>
            """
        }
        let list: HTML = items.isEmpty ? "<p>\(T.none(l))</p>" : "<ul class=\"plain\" id=\"inbox\">\(items)</ul>"
        let readAll: HTML = page.unreadCount == 0 ? .empty : """
            <form method="post" action="/inbox/read-all">\(Field.hidden("csrf", csrf))\(Field.submit(T.markAllRead(l)))</form>
            """
        let next: HTML = page.nextCursor.map { "<p><a href=\"/inbox?cursor=\($0.addingPercentEncodingForQuery())\">\(T.next(l))</a></p>" } ?? .empty
        return .page(layout(&request).render(title: "\(T.inbox(l)) (\(page.unreadCount) \(T.unread(l)))", "\(readAll)\(list)\(next)"))
    }
}

extension WebProblem {
    static let signInRequired = WebProblem(status: .unauthorized, code: "web.sign_in_required", title: "", detail: "")

    static func amountInvalid(_ language: Language) -> WebProblem {
        WebProblem(status: .badRequest, code: "web.amount_invalid", title: T.error(language), detail: T.amountInvalid(language))
    }
}

/// Names of the API's enumerations as people read them.
enum Names {
    static func permitStatus(_ value: String, _ l: Language) -> String {
        switch value {
        case "pending": return Text("Not yet in force", "尚未生效")(l)
        case "valid": return Text("Valid", "有效")(l)
        case "expired": return Text("Expired", "已过期")(l)
        case "cancelled": return Text("Cancelled", "已注销")(l)
        default: return value
        }
    }

    static func cardStatus(_ value: String, _ l: Language) -> String {
        switch value {
        case "issued": return Text("Issued, not yet activated", "已发卡，未激活")(l)
        case "active": return Text("Active", "正常")(l)
        case "lost": return Text("Reported lost", "已挂失")(l)
        case "frozen": return Text("Frozen", "已冻结")(l)
        case "replaced": return Text("Replaced", "已补换")(l)
        case "cancelled": return Text("Cancelled", "已注销")(l)
        default: return value
        }
    }

    static func account(_ kind: String, _ l: Language) -> String {
        switch kind {
        case "financial": return T.accountFinancial(l)
        case "transitWallet": return T.accountTransit(l)
        case "medicalPersonal": return T.accountMedical(l)
        default: return kind
        }
    }
}
