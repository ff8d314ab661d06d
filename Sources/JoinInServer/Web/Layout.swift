import Foundation
import JoinInCore

/// The frame every page shares: document head with the stylesheet (no inline style or script,
/// so the Content-Security-Policy can forbid both), a skip link, the language switch, the menu,
/// one `h1`, and the sign-out form.
struct Layout {
    struct MenuItem {
        let path: String
        let label: Text
    }

    let language: Language
    /// `/` for the e-card, `/console` for the staff console.
    let area: String
    let currentPath: String
    /// The page's query string, for menu items that differ only by it (the officer's arrivals).
    var currentQuery = ""
    var menu: [MenuItem] = []
    /// The sign-out form's CSRF token, when someone is signed in.
    var signOutCSRF: String?
    var scripts: [String] = []

    func render(title: String, notice: HTML? = nil, error: WebProblem? = nil, _ body: HTML) -> HTML {
        let appName = area == "/console" ? T.consoleName(language) : T.appName(language)
        let other: Language = language == .zh ? .en : .zh
        let back = currentPath
        let switchHref = "/language?to=\(other.rawValue)&back=\(back.addingPercentEncodingForQuery())"
        let menuHTML: HTML = menu.isEmpty ? .empty : """
            <nav class="menu" aria-label="\(T.mainMenu(language))"><ul>\(menu.map { item -> HTML in
                // The item for the full address if there is one (arrivals = applications?status=…),
                // else the item for the path (a list page with a cursor stays marked).
                let full = currentPath + "?" + currentQuery
                let current = menu.contains { $0.path == full } ? item.path == full : item.path == currentPath
                return "<li><a href=\"\(item.path)\"\(HTML(raw: current ? " aria-current=\"page\"" : ""))>\(item.label(language))</a></li>"
            })</ul></nav>
            """
        let signOut: HTML = signOutCSRF.map { csrf in
            """
            <form class="signout" id="signout-form" method="post" action="\(area == "/console" ? "/console/signout" : "/signout")">\
            <input type="hidden" name="csrf" value="\(csrf)"><button type="submit" class="link">\(T.signOut(language))</button></form>
            """
        } ?? .empty
        let errorHTML: HTML = error.map { problem in
            """
            <div class="alert" role="alert" id="problem" data-code="\(problem.code)"><p><strong>\(problem.title)</strong></p>\
            <p>\(problem.detail)</p><p class="code">\(T.errorCode(language)): \(problem.code)</p></div>
            """
        } ?? .empty
        let noticeHTML: HTML = notice.map { "<div class=\"notice\" role=\"status\">\($0)</div>" } ?? .empty
        return """
        <!DOCTYPE html>
        <html lang="\(language == .zh ? "zh-Hans" : "en")">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(title) · \(appName)</title>
        <link rel="stylesheet" href="/assets/app.css">
        \(scripts.map { HTML("<script src=\"\($0)\" defer></script>\n") })</head>
        <body>
        <a class="skip" href="#main">\(T.skipToContent(language))</a>
        <header class="top">
        <a class="brand" href="\(area)">\(appName)</a>
        <a class="lang" href="\(switchHref)" hreflang="\(other.rawValue)" lang="\(other == .zh ? "zh-Hans" : "en")">\(T.switchLanguage(language))</a>
        \(signOut)</header>
        \(menuHTML)
        <main id="main">
        <h1>\(title)</h1>
        \(noticeHTML)\(errorHTML)\(body)
        </main>
        </body>
        </html>
        """
    }
}

extension String {
    /// Percent-encodes everything but unreserved characters (RFC 3986 §2.3), for a query value.
    func addingPercentEncodingForQuery() -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        return addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}

/// Form controls with their labels, hints and error associations (WCAG 1.3.1, 3.3.2, 4.1.2).
enum Field {
    static func input(_ name: String, label: String, hint: String? = nil, type: String = "text", value: String = "",
                      autocomplete: String? = nil, required: Bool = true, extra: String = "") -> HTML {
        let hintID = "\(name)-hint"
        let hintHTML: HTML = hint.map { "<p class=\"hint\" id=\"\(hintID)\">\($0)</p>" } ?? .empty
        let describedBy: HTML = hint == nil ? .empty : HTML(raw: " aria-describedby=\"\(hintID)\"")
        let auto: HTML = autocomplete.map { HTML(raw: " autocomplete=\"\(HTML.escape($0))\"") } ?? .empty
        return """
        <div class="field"><label for="\(name)">\(label)</label>\(hintHTML)\
        <input id="\(name)" name="\(name)" type="\(type)" value="\(value)"\(auto)\(describedBy)\(HTML(raw: required ? " required" : ""))\(HTML(raw: extra))></div>
        """
    }

    static func hidden(_ name: String, _ value: String) -> HTML {
        "<input type=\"hidden\" name=\"\(name)\" value=\"\(value)\">"
    }

    static func submit(_ label: String, id: String? = nil, danger: Bool = false) -> HTML {
        "<button type=\"submit\"\(HTML(raw: danger ? " class=\"danger\"" : ""))\(HTML(raw: id.map { " id=\"\(HTML.escape($0))\"" } ?? ""))>\(label)</button>"
    }
}
