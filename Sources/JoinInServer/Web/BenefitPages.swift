import Foundation
import HTTPTypes
import Hummingbird
import JoinInCore

/// The e-card's benefit pages: trips, medical insurance, library, museums and scenic spots,
/// offers, government services and events. Each shows what the API's e-card views return; the
/// few actions (renew a loan, cancel a hold, register for an event, give a place back) post a
/// CSRF-checked form that becomes the same API call the app would make.
struct BenefitPages: Sendable {
    let pages: ECardPages
    var web: WebApp { pages.web }

    static let menu: [Layout.MenuItem] = [
        .init(path: "/trips", label: T.trips), .init(path: "/medical", label: T.medical), .init(path: "/library", label: T.library),
        .init(path: "/venues", label: T.venues), .init(path: "/offers", label: T.offers), .init(path: "/services", label: T.services),
        .init(path: "/events", label: T.events),
    ]

    func register(_ router: Router<AppContext>) {
        web.page(router, .get, "/trips", .ecard) { request, context in try await trips(&request, context) }
        web.page(router, .get, "/medical", .ecard) { request, context in try await medical(&request, context) }
        web.page(router, .get, "/library", .ecard) { request, context in try await library(&request, context) }
        web.page(router, .post, "/library/loans/{id}/renewal", .ecard) { request, context in
            try await act(&request, context, "/v1/ecard/library/loans/\(try ConsolePages.uuid(request.path, at: 2))/renewal", back: "/library")
        }
        web.page(router, .post, "/library/holds/{id}/cancellation", .ecard) { request, context in
            try await act(&request, context, "/v1/ecard/library/holds/\(try ConsolePages.uuid(request.path, at: 2))/cancellation", back: "/library")
        }
        web.page(router, .get, "/venues", .ecard) { request, context in try await venues(&request, context) }
        web.page(router, .post, "/venues/reservations/{id}/cancellation", .ecard) { request, context in
            try await act(&request, context, "/v1/ecard/venue-reservations/\(try ConsolePages.uuid(request.path, at: 2))/cancellation", back: "/venues")
        }
        web.page(router, .get, "/offers", .ecard) { request, context in try await offers(&request, context) }
        web.page(router, .get, "/services", .ecard) { request, context in try await services(&request, context) }
        web.page(router, .get, "/services/{id}/certificate", .ecard) { request, context in
            let id = try ConsolePages.uuid(request.path, at: 1)
            let reply = try await pages.call(.get, "/v1/ecard/service-requests/\(id)/certificate", request, context)
            return WebResponse(status: .ok, contentType: "text/html; charset=utf-8", raw: reply.body,
                               contentSecurityPolicy: WebApp.printablePolicy)
        }
        web.page(router, .get, "/events", .ecard) { request, context in try await events(&request, context) }
        web.page(router, .post, "/events/{id}/registration", .ecard) { request, context in
            try await act(&request, context, "/v1/ecard/events/\(try ConsolePages.uuid(request.path, at: 1))/registrations", back: "/events")
        }
        web.page(router, .post, "/events/{id}/cancellation", .ecard) { request, context in
            try await act(&request, context, "/v1/ecard/events/\(try ConsolePages.uuid(request.path, at: 1))/registration/cancellation",
                          back: "/events")
        }
    }

    /// A one-button action: the API call, then back to the list (or the list with the refusal).
    func act(_ request: inout WebRequest, _ context: AppContext, _ path: String, back: String) async throws -> WebResponse {
        let reply = try await web.api.call(.post, path, token: try pages.token(request), language: request.language, context: context)
        guard reply.ok else { throw reply.problem }
        return .redirect(back)
    }

    func json(_ path: String, _ request: WebRequest, _ context: AppContext) async throws -> [String: Any] {
        let reply = try await pages.call(.get, path, request, context)
        return (try JSONSerialization.jsonObject(with: reply.data)) as? [String: Any] ?? [:]
    }

    func frame(_ request: inout WebRequest, title: Text, _ body: HTML) -> WebResponse {
        .page(pages.layout(&request).render(title: title(request.language), body))
    }

    func button(_ action: String, _ label: String, csrf: String, danger: Bool = false) -> HTML {
        "<form class=\"inline\" method=\"post\" action=\"\(action)\">\(Field.hidden("csrf", csrf))\(Field.submit(label, danger: danger))</form>"
    }

    // MARK: - Pages

    func trips(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        let summary = try await json("/v1/ecard/transit", request, context)
        let page = try await json("/v1/ecard/transit/trips?limit=50", request, context)
        let debt = J.fen(summary, "debt.amount_fen")
        let facts: HTML = """
            <dl class="facts" id="transit-summary"><dt>\(T.accountTransit(l))</dt><dd>\(J.money(summary, "wallet", l))</dd>
            \(debt > 0 ? "<dt>\(BT.debt(l))</dt><dd>\(J.money(summary, "debt", l))</dd>" : .empty)</dl>
            \(J.bool(summary, "denied_at_gates") ? "<p class=\"alert\">\(BT.deniedAtGates(l))</p>" : .empty)
            """
        let table = J.table(id: "trips", caption: T.trips(l), J.items(page), l, columns: [
            .init(BT.when) { J.time($0, "started_at") },
            .init(BT.operatorName) { J.name($0, "operator_name", $1) },
            .init(BT.journey) { row, l in
                let from = J.name(row, "from.name", l), to = J.name(row, "to.name", l), route = J.name(row, "route.name", l)
                return [route, from.isEmpty && to.isEmpty ? "" : "\(from) → \(to)"].filter { !$0.isEmpty }.joined(separator: " · ")
            },
            .init(BT.fare, numeric: true) { J.money($0, "charged", $1) },
        ])
        return frame(&request, title: T.trips, "\(facts)\(table)")
    }

    func medical(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        let summary = try await json("/v1/ecard/health", request, context)
        let settlements = try await json("/v1/ecard/health/settlements?limit=50", request, context)
        let contributions = try await json("/v1/ecard/health/contributions", request, context)
        let facts: HTML = """
            <dl class="facts" id="health-summary"><dt>\(T.status(l))</dt><dd>\(J.s(summary, "status"))</dd>
            <dt>\(T.employer(l))</dt><dd>\(J.name(summary, "employer_name", l))</dd>
            <dt>\(T.accountMedical(l))</dt><dd>\(J.money(summary, "personal_account", l))</dd></dl>
            """
        let settled = J.table(id: "settlements", caption: BT.settlements(l), J.items(settlements), l, columns: [
            .init(BT.when) { J.time($0, "at") },
            .init(BT.provider) { J.name($0, "provider.name", $1) },
            .init(T.amount, numeric: true) { J.money($0, "total.amount", $1) },
            .init(BT.fund, numeric: true) { J.money($0, "total.fund", $1) },
            .init(T.accountMedical, numeric: true) { J.money($0, "total.personal_account", $1) },
            .init(BT.cash, numeric: true) { J.money($0, "total.cash", $1) },
        ])
        let months = (contributions["months"] as? [[String: Any]]) ?? []
        let paid = J.table(id: "contributions", caption: "\(BT.contributions(l)) \(J.s(contributions, "year"))", months, l, columns: [
            .init(BT.month) { J.s($0, "month") },
            .init(T.employer) { J.name($0, "employer_name", $1) },
            .init(BT.insurances) { row, _ in "\(((row["entries"] as? [Any]) ?? []).count)" },
        ])
        return frame(&request, title: T.medical, "\(facts)\(settled)\(paid)")
    }

    func library(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        let loans = try await json("/v1/ecard/library/loans?limit=50", request, context)
        let holds = try await json("/v1/ecard/library/holds", request, context)
        let csrf = request.csrfToken(web, area: .ecard)
        let loanTable = J.table(id: "loans", caption: BT.loans(l), J.items(loans), l, columns: [
            .init(BT.titleColumn) { J.s($0, "title") },
            .init(T.library) { J.name($0, "library", $1) },
            .init(BT.due) { row, l in J.s(row, "due_date") + (J.bool(row, "overdue") ? " (\(BT.overdue(l)))" : "") },
        ], actions: { row in
            J.s(row, "returned_at").isEmpty && J.int(row, "renewals_left") > 0
                ? button("/library/loans/\(J.s(row, "id"))/renewal", BT.renew(l), csrf: csrf) : .empty
        })
        let holdTable = J.table(id: "holds", caption: BT.holds(l), J.items(holds), l, columns: [
            .init(BT.titleColumn) { J.s($0, "title") },
            .init(T.status) { J.s($0, "status") },
            .init(BT.pickup) { J.name($0, "pickup_library", $1) },
        ], actions: { row in
            ["waiting", "ready"].contains(J.s(row, "status"))
                ? button("/library/holds/\(J.s(row, "id"))/cancellation", BT.cancel(l), csrf: csrf, danger: true) : .empty
        })
        return frame(&request, title: T.library, "\(loanTable)\(holdTable)")
    }

    func venues(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        let venues = try await json("/v1/ecard/venues", request, context)
        let visits = try await json("/v1/ecard/venue-visits", request, context)
        let reservations = try await json("/v1/ecard/venue-reservations", request, context)
        let csrf = request.csrfToken(web, area: .ecard)
        let list = J.table(id: "venues", caption: T.venues(l), J.items(venues), l, columns: [
            .init(BT.venue) { J.name($0, "venue.name", $1) },
            .init(BT.openToday) { row, l in J.bool(row, "open_now") ? BT.openNow(l) : (J.bool(row, "open_today") ? T.yes(l) : T.no(l)) },
            .init(BT.placesLeft, numeric: true) { J.s($0, "remaining_today") },
            .init(BT.visitedToday) { row, l in J.bool(row, "entered_today") ? T.yes(l) : T.no(l) },
        ])
        let history = J.table(id: "visits", caption: BT.visits(l), J.items(visits), l, columns: [
            .init(BT.when) { J.time($0, "at") },
            .init(BT.venue) { J.name($0, "venue_name", $1) },
        ])
        let booked = J.table(id: "reservations", caption: BT.reservations(l), J.items(reservations), l, columns: [
            .init(BT.venue) { J.name($0, "venue_name", $1) },
            .init(T.date) { row, _ in "\(J.s(row, "date")) \(J.s(row, "slot_time"))" },
            .init(T.status) { J.s($0, "status") },
        ], actions: { row in
            J.s(row, "status") == "booked"
                ? button("/venues/reservations/\(J.s(row, "id"))/cancellation", BT.cancel(l), csrf: csrf, danger: true) : .empty
        })
        return frame(&request, title: T.venues, "<p>\(BT.venuesHelp(l))</p>\(list)\(booked)\(history)")
    }

    func offers(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        let offers = try await json("/v1/ecard/offers", request, context)
        let savings = try await json("/v1/ecard/savings", request, context)
        let facts: HTML = """
            <dl class="facts" id="savings"><dt>\(BT.savedThisYear(l))</dt><dd>\(J.money(savings, "saved_this_year", l))</dd>
            <dt>\(BT.savedInAll(l))</dt><dd>\(J.money(savings, "saved_in_all", l))</dd></dl>
            """
        let list = J.table(id: "offers", caption: T.offers(l), J.items(offers), l, columns: [
            .init(T.offers) { J.name($0, "title", $1) },
            .init(BT.terms) { J.name($0, "terms", $1) },
            .init(BT.validUntil) { J.s($0, "valid_until") },
            .init(BT.usesLeftToday, numeric: true) { row, _ in J.s(row, "remaining_uses.today").isEmpty ? "∞" : J.s(row, "remaining_uses.today") },
        ])
        return frame(&request, title: T.offers, "\(facts)\(list)")
    }

    func services(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        let requests = try await json("/v1/ecard/service-requests?limit=50", request, context)
        let list = J.table(id: "service-requests", caption: BT.myRequests(l), J.items(requests), l, columns: [
            .init(BT.reference) { J.s($0, "reference") },
            .init(T.services) { J.name($0, "service_name", $1) },
            .init(T.status) { J.s($0, "status") },
            .init(BT.due) { row, l in J.s(row, "due_on") + (J.bool(row, "overdue") ? " (\(BT.overdue(l)))" : "") },
        ], actions: { row in
            J.bool(row, "certificate") ? "<a href=\"/services/\(J.s(row, "id"))/certificate\">\(BT.certificate(l))</a>" : .empty
        })
        return frame(&request, title: T.services, "<p>\(BT.servicesHelp(l))</p>\(list)")
    }

    func events(_ request: inout WebRequest, _ context: AppContext) async throws -> WebResponse {
        let l = request.language
        let events = try await json("/v1/ecard/events", request, context)
        let csrf = request.csrfToken(web, area: .ecard)
        let list = J.table(id: "events", caption: T.events(l), J.items(events), l, columns: [
            .init(T.events) { J.name($0, "title", $1) },
            .init(BT.place) { J.name($0, "place", $1) },
            .init(BT.when) { J.time($0, "starts_at") },
            .init(BT.placesLeft, numeric: true) { J.s($0, "places_left") },
            .init(BT.myPlace) { J.s($0, "my_registration.status") },
        ], actions: { row in
            let id = J.s(row, "id")
            switch J.s(row, "my_registration.status") {
            case "confirmed", "waitlisted": return button("/events/\(id)/cancellation", BT.giveBack(l), csrf: csrf, danger: true)
            case "": return J.s(row, "status") == "registration_open" ? button("/events/\(id)/registration", BT.registerForEvent(l), csrf: csrf) : .empty
            default: return .empty
            }
        })
        return frame(&request, title: T.events, list)
    }
}

/// Reading the API's JSON for display: dotted paths, localized names, money, instants.
enum J {
    struct Column {
        let label: Text
        let numeric: Bool
        let value: ([String: Any], Language) -> String

        init(_ label: Text, numeric: Bool = false, _ value: @escaping ([String: Any], Language) -> String) {
            self.label = label
            self.numeric = numeric
            self.value = value
        }

        init(_ label: Text, numeric: Bool = false, _ value: @escaping ([String: Any]) -> String) {
            self.init(label, numeric: numeric) { row, _ in value(row) }
        }
    }

    static func value(_ object: [String: Any], _ path: String) -> Any? {
        var current: Any? = object
        for part in path.split(separator: ".") { current = (current as? [String: Any])?[String(part)] }
        return current
    }

    static func s(_ object: [String: Any], _ path: String) -> String {
        switch value(object, path) {
        case let text as String: return text
        case let number as NSNumber: return number.stringValue
        default: return ""
        }
    }

    static func int(_ object: [String: Any], _ path: String) -> Int { (value(object, path) as? NSNumber)?.intValue ?? 0 }
    static func fen(_ object: [String: Any], _ path: String) -> Int64 { (value(object, path) as? NSNumber)?.int64Value ?? 0 }
    static func bool(_ object: [String: Any], _ path: String) -> Bool { (value(object, path) as? Bool) ?? false }

    static func name(_ object: [String: Any], _ path: String, _ language: Language) -> String {
        guard let name = value(object, path) as? [String: Any] else { return "" }
        let zh = name["zh"] as? String ?? "", en = name["en"] as? String ?? ""
        return language == .zh && !zh.isEmpty ? zh : en
    }

    static func money(_ object: [String: Any], _ path: String, _ language: Language) -> String {
        guard value(object, path + ".amount_fen") != nil else { return "" }
        return WebFormat.yuan(fen(object, path + ".amount_fen"), language)
    }

    static func time(_ object: [String: Any], _ path: String) -> String {
        let text = s(object, path)
        guard let date = JSON.instant(text) else { return text }
        return WebFormat.dateTime(date)
    }

    static func items(_ page: [String: Any]) -> [[String: Any]] { (page["items"] as? [[String: Any]]) ?? [] }

    static func table(id: String, caption: String, _ rows: [[String: Any]], _ language: Language, columns: [Column],
                      actions: (([String: Any]) -> HTML)? = nil) -> HTML {
        guard !rows.isEmpty else { return "<h2>\(caption)</h2><p id=\"\(id)\">\(T.none(language))</p>" }
        let head: [HTML] = columns.map { "<th scope=\"col\"\(HTML(raw: $0.numeric ? " class=\"num\"" : ""))>\($0.label(language))</th>" }
        let actionHead: HTML = actions == nil ? .empty : "<th scope=\"col\"><span class=\"visually-hidden\">\(BT.actions(language))</span></th>"
        let body: [HTML] = rows.map { row in
            let cells: [HTML] = columns.map { "<td\(HTML(raw: $0.numeric ? " class=\"num\"" : ""))>\($0.value(row, language))</td>" }
            let action: HTML = actions.map { "<td>\($0(row))</td>" } ?? .empty
            return "<tr>\(cells)\(action)</tr>"
        }
        return """
            <div class="table-wrap"><table id="\(id)"><caption>\(caption)</caption><thead><tr>\(head)\(actionHead)</tr></thead>\
            <tbody>\(body)</tbody></table></div>
            """
    }
}

/// Texts of the benefit pages.
enum BT {
    static let when = Text("When", "时间")
    static let operatorName = Text("Operator", "运营单位")
    static let journey = Text("Journey", "行程")
    static let fare = Text("Fare", "票价")
    static let debt = Text("Fares owed", "欠费")
    static let deniedAtGates = Text("Gates refuse the card until the fares owed are paid: top up the transit wallet.",
                                    "欠费结清前闸机将拒绝此卡，请为交通钱包充值。")
    static let settlements = Text("Settlements", "结算记录")
    static let provider = Text("Hospital or pharmacy", "医院或药店")
    static let fund = Text("Paid by the fund", "统筹基金支付")
    static let cash = Text("Paid by you", "个人现金支付")
    static let contributions = Text("Contributions", "缴费记录")
    static let month = Text("Month", "月份")
    static let insurances = Text("Insurances paid", "缴费险种数")
    static let loans = Text("Loans", "借阅")
    static let holds = Text("Holds", "预约")
    static let titleColumn = Text("Title", "书名")
    static let due = Text("Due", "到期")
    static let overdue = Text("overdue", "已逾期")
    static let renew = Text("Renew", "续借")
    static let cancel = Text("Cancel", "取消")
    static let pickup = Text("Pick up at", "取书馆")
    static let venue = Text("Place", "场馆")
    static let openToday = Text("Open today", "今日开放")
    static let openNow = Text("Open now", "正在开放")
    static let placesLeft = Text("Places left", "剩余名额")
    static let visitedToday = Text("Visited today", "今日已入馆")
    static let visits = Text("Visits", "参观记录")
    static let reservations = Text("Reservations", "预约")
    static let venuesHelp = Text("Entry is free with your card or the dynamic code, once a day per place.",
                                 "凭卡或动态码免费入馆，每处每天一次。")
    static let savedThisYear = Text("Saved this year", "今年已优惠")
    static let savedInAll = Text("Saved in all", "累计优惠")
    static let terms = Text("Terms", "使用条件")
    static let validUntil = Text("Valid until", "有效期至")
    static let usesLeftToday = Text("Uses left today", "今日剩余次数")
    static let myRequests = Text("My requests", "我的办件")
    static let reference = Text("Reference", "办件编号")
    static let certificate = Text("Certificate", "证明")
    static let servicesHelp = Text("Requests made at a service counter or online, and their progress.", "在窗口或网上提交的办件及其进度。")
    static let place = Text("Place", "地点")
    static let myPlace = Text("My place", "我的报名")
    static let giveBack = Text("Give my place back", "取消报名")
    static let registerForEvent = Text("Register", "报名")
    static let actions = Text("Actions", "操作")
}
