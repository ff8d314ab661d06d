import Foundation
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore
import NIOCore

/// The two browser apps served by `joinin serve`: the cardholder's e-card at `/` and the staff
/// console at `/console`. Both are server-rendered HTML that works without JavaScript; every
/// action goes through the API in-process (`InternalAPI`), so the rules are the API's.
struct WebApp: Sendable {
    enum Area: Sendable {
        case ecard, console

        var sessionCookie: String { self == .ecard ? Cookie.card : Cookie.staff }
        var cookiePath: String { self == .ecard ? "/" : "/console" }
        var home: String { self == .ecard ? "/" : "/console" }
    }

    let store: Store
    let config: ServerConfig
    let clock: AppClock
    let api: InternalAPI
    let csrf: CSRFTokens

    init(store: Store, config: ServerConfig, clock: AppClock, responders: InternalAPI.ResponderBox) {
        self.store = store
        self.config = config
        self.clock = clock
        self.api = InternalAPI(box: responders)
        self.csrf = CSRFTokens(store: store)
    }

    /// Cookies get `Secure` (and responses HSTS) when people reach the deployment over TLS.
    var secure: Bool { config.publicURL.lowercased().hasPrefix("https://") }

    func register(_ router: Router<AppContext>) {
        router.get("/assets/app.css") { _, _ in Self.asset(Assets.css, type: "text/css; charset=utf-8") }
        router.get("/assets/ecard.js") { _, _ in Self.asset(Assets.ecardScript, type: "text/javascript; charset=utf-8") }
        router.get("/favicon.ico") { _, _ in Response(status: .noContent) }
        // The language switch only sets a preference cookie; `back` must be one of our own paths.
        router.get("/language") { request, _ in
            let query = request.uri.queryParameters
            let language = query["to"].flatMap { Language(rawValue: String($0)) } ?? .en
            var back = query["back"].map(String.init) ?? "/"
            if !back.hasPrefix("/") || back.hasPrefix("//") || back.contains("\\") || back.contains("\r") || back.contains("\n") { back = "/" }
            var response = finish(.redirect(back), area: .ecard)
            response.headers.append(HTTPField(name: .setCookie,
                                              value: Cookie.set(Cookie.language, language.rawValue, maxAgeSeconds: 365 * 24 * 3600, secure: secure)))
            return response
        }
        ECardPages(web: self).register(router)
        ConsolePages(web: self).register(router)
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=3600",
                                        HTTPField.Name.contentTypeOptions: "nosniff"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Registers one page. The wrapper reads cookies and language, reads and CSRF-checks a POST's
    /// form, and turns whatever goes wrong into a page in the reader's language.
    func page(_ router: Router<AppContext>, _ method: HTTPRequest.Method, _ path: String, _ area: Area,
              _ handler: @escaping @Sendable (inout WebRequest, AppContext) async throws -> WebResponse) {
        router.on(RouterPath(path), method: method) { request, context in
            let cookies = Cookie.parse(request.headers)
            let language = cookies[Cookie.language].flatMap(Language.init(rawValue:))
                ?? Language.negotiate(request.headers[.acceptLanguage])
            var query: [String: String] = [:]
            for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
            var web = WebRequest(method: method, path: request.uri.path, rawQuery: request.uri.query ?? "", query: query, cookies: cookies,
                                 language: language)
            do {
                if method == .post {
                    let form = try await WebForm.read(request)
                    try csrf.check(request, form: form, binding: cookies[area.sessionCookie] ?? cookies[Cookie.preSession])
                    web.form = form
                }
                var response = try await handler(&web, context)
                response.cookies += web.pendingCookies
                return finish(response, area: area)
            } catch let problem as WebProblem {
                return finish(failure(problem, web: web, area: area), area: area)
            } catch let error as DomainError {
                let text = ProblemText.localized(error, language)
                let problem = WebProblem(status: Problem.status(for: error.kind), code: error.code, title: text.title, detail: text.detail)
                return finish(failure(problem, web: web, area: area), area: area)
            } catch {
                context.logger.error("web page failed", metadata: ["error": "\(String(reflecting: type(of: error)))", "route": "\(path)"])
                let problem = WebProblem(status: .internalServerError, code: "internal", title: T.error(language), detail: "")
                return finish(failure(problem, web: web, area: area), area: area)
            }
        }
    }

    /// An API refusal that ends the page: an ended session goes back to sign-in; anything else
    /// is shown with its code.
    func failure(_ problem: WebProblem, web: WebRequest, area: Area) -> WebResponse {
        if problem.code == WebProblem.signInRequired.code { return .redirect(area.home) }
        if problem.code == WebProblem.passwordChangeRequired.code { return .redirect("/console/password") }
        if problem.status == .unauthorized, web.cookies[area.sessionCookie] != nil {
            var response = WebResponse.redirect(area.home + "?ended=1")
            response.cookies.append(Cookie.clear(area.sessionCookie, path: area.cookiePath, secure: secure))
            return response
        }
        let language = web.language
        let layout = Layout(language: language, area: area.home, currentPath: web.path)
        switch problem.code {
        case WebProblem.csrf.code:
            let shown = WebProblem(status: .forbidden, code: problem.code, title: T.error(language), detail: T.formExpired(language))
            return .page(layout.render(title: T.error(language), error: shown, "<p><a href=\"\(area.home)\">\(T.back(language))</a></p>"),
                         status: .forbidden)
        case WebProblem.notFound.code, "route.not_found":
            return .page(layout.render(title: T.notFound(language), "<p>\(T.notFoundDetail(language))</p><p><a href=\"\(area.home)\">\(T.back(language))</a></p>"),
                         status: .notFound)
        default:
            let shown = problem.title.isEmpty ? WebProblem(status: problem.status, code: problem.code, title: T.error(language), detail: problem.detail) : problem
            return .page(layout.render(title: T.error(language), error: shown, "<p><a href=\"\(area.home)\">\(T.back(language))</a></p>"),
                         status: problem.status)
        }
    }

    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    /// Printable documents the API renders (decision letter, certificate) carry their own inline
    /// stylesheet and nothing else: no script, no other origin.
    static let printablePolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"

    /// The security headers every page carries: a strict CSP (own scripts and styles only, no
    /// inline code, no framing, forms only to us), no sniffing, no referrer, no caching of pages
    /// that show personal data.
    func finish(_ web: WebResponse, area: Area) -> Response {
        var headers: HTTPFields = [
            .contentSecurityPolicy: web.contentSecurityPolicy ?? Self.contentSecurityPolicy,
            .contentTypeOptions: "nosniff",
            .referrerPolicy: "no-referrer",
            .frameOptions: "DENY",
            .cacheControl: "no-store",
            .vary: "Cookie, Accept-Language",
        ]
        if secure { headers[.strictTransportSecurity] = "max-age=31536000" }
        for cookie in web.cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        if let location = web.location {
            headers[.location] = location
            return Response(status: web.status, headers: headers)
        }
        headers[.contentType] = web.contentType
        let body = web.raw ?? ByteBuffer(string: web.html?.text ?? "")
        return Response(status: web.status, headers: headers, body: .init(byteBuffer: body))
    }
}

extension HTTPField.Name {
    static let contentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let frameOptions = HTTPField.Name("X-Frame-Options")!
}

extension WebRequest {
    /// The CSRF token for this page's forms, bound to the session, or before sign-in to a
    /// pre-session value (set now if the browser has none).
    mutating func csrfToken(_ web: WebApp, area: WebApp.Area) -> String {
        if let session = cookies[area.sessionCookie] { return web.csrf.token(binding: session) }
        if let pre = cookies[Cookie.preSession] { return web.csrf.token(binding: pre) }
        let pre = WebRequest.nonce()
        cookies[Cookie.preSession] = pre
        pendingCookies.append(Cookie.set(Cookie.preSession, pre, maxAgeSeconds: nil, secure: web.secure))
        return web.csrf.token(binding: pre)
    }
}

/// Dates and times as people in China read them (Asia/Shanghai).
enum WebFormat {
    static func dateTime(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970)
        let day = CivilDate.shanghai(unixSeconds: seconds)
        let minuteOfDay = ((seconds + 8 * 3600) % 86_400 + 86_400) % 86_400 / 60
        let hh = minuteOfDay / 60, mm = minuteOfDay % 60
        return "\(day) \(hh < 10 ? "0" : "")\(hh):\(mm < 10 ? "0" : "")\(mm)"
    }

    static func yuan(_ fen: Int64, _ language: Language) -> String {
        language == .zh ? "¥\(InboxRules.yuan(fen))" : "CNY \(InboxRules.yuan(fen))"
    }

    static func name(_ name: Schemas.LocalizedName, _ language: Language) -> String {
        language == .zh && !name.zh.isEmpty ? name.zh : name.en
    }
}
