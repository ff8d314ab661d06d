import Foundation
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore
import NIOCore

/// The cookies the web apps set. Session cookies carry the API session token itself (HttpOnly, so
/// page scripts never see it; SameSite=Lax; Secure when the deployment is reached over TLS): the
/// session is the API's, with its expiry, revocation and audit.
enum Cookie {
    static let card = "ji_card"
    static let staff = "ji_staff"
    /// A random value bound to a browser before anyone signs in: the CSRF token of the sign-in and
    /// registration forms is derived from it (login CSRF).
    static let preSession = "ji_pre"
    static let language = "ji_lang"

    static func parse(_ headers: HTTPFields) -> [String: String] {
        var cookies: [String: String] = [:]
        for header in headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                let name = parts[0].trimmingCharacters(in: .whitespaces)
                // The first occurrence wins (the most specific path comes first).
                if cookies[name] == nil { cookies[name] = parts[1].trimmingCharacters(in: .whitespaces) }
            }
        }
        return cookies
    }

    static func set(_ name: String, _ value: String, path: String = "/", maxAgeSeconds: Int?, secure: Bool) -> String {
        var text = "\(name)=\(value); Path=\(path); HttpOnly; SameSite=Lax"
        if let maxAgeSeconds { text += "; Max-Age=\(maxAgeSeconds)" }
        if secure { text += "; Secure" }
        return text
    }

    static func clear(_ name: String, path: String = "/", secure: Bool) -> String {
        set(name, "", path: path, maxAgeSeconds: 0, secure: secure)
    }
}

/// What a page handler knows about the browser's request.
struct WebRequest: Sendable {
    let method: HTTPRequest.Method
    let path: String
    /// The raw query string ("" when none): with the path, the address a menu item is matched on.
    var rawQuery = ""
    let query: [String: String]
    var cookies: [String: String]
    let language: Language
    /// The decoded form of a POST (every value of repeated names, in order).
    var form: [String: [String]] = [:]
    /// Cookies a handler decided to set (the pre-session value of a first visit).
    var pendingCookies: [String] = []

    func field(_ name: String) -> String { form[name]?.first ?? "" }
    func fields(_ name: String) -> [String] { form[name] ?? [] }

    /// A new random value (pre-session cookie, idempotency keys of rendered forms).
    static func nonce() -> String { Tokens.make(prefix: "") }
}

/// What a page handler answers: a page, or a redirect; plus cookies to set.
struct WebResponse: Sendable {
    var status: HTTPResponse.Status = .ok
    var html: HTML?
    var location: String?
    var cookies: [String] = []
    var contentType = "text/html; charset=utf-8"
    var raw: ByteBuffer?
    /// A page's own policy (the printable letter's inline stylesheet); the strict one otherwise.
    var contentSecurityPolicy: String?

    static func page(_ html: HTML, status: HTTPResponse.Status = .ok) -> WebResponse { WebResponse(status: status, html: html) }
    static func redirect(_ location: String) -> WebResponse { WebResponse(status: .seeOther, location: location) }
}

/// CSRF tokens: a keyed digest (the store's HMAC key, so every replica agrees) of the browser's
/// session token, or of its pre-session value before sign-in. Every form carries one; every POST
/// is refused without the right one, and with a foreign `Origin`.
struct CSRFTokens: Sendable {
    let store: Store

    func token(binding: String) -> String {
        String(store.secretDigest("web-csrf|" + binding).prefix(48))
    }

    func check(_ request: Request, form: [String: [String]], binding: String?) throws {
        if let origin = request.headers[.origin], origin != "null" {
            let host = request.head.authority ?? ""
            guard let originHost = URL(string: origin)?.host, !host.isEmpty,
                  originHost == host.split(separator: ":").first.map(String.init) else {
                throw WebProblem.csrf
            }
        }
        guard let binding, let sent = form["csrf"]?.first, sent.count == 48 else { throw WebProblem.csrf }
        let expected = token(binding: binding)
        // Constant time: the comparison does not stop at the first different byte.
        var difference: UInt8 = 0
        for (a, b) in zip(Array(sent.utf8), Array(expected.utf8)) { difference |= a ^ b }
        guard difference == 0 else { throw WebProblem.csrf }
    }
}

extension WebProblem {
    static let csrf = WebProblem(status: .forbidden, code: "web.csrf", title: "", detail: "")
    static let formMalformed = WebProblem(status: .badRequest, code: "web.form_malformed", title: "", detail: "")
    static let notFound = WebProblem(status: .notFound, code: "web.not_found", title: "", detail: "")
}

enum WebForm {
    static let bytesMax = 16 * 1024

    /// `application/x-www-form-urlencoded`, as browsers send it.
    static func read(_ request: Request) async throws -> [String: [String]] {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/x-www-form-urlencoded") else { throw WebProblem.formMalformed }
        let buffer = try await request.body.collect(upTo: bytesMax)
        return try parse(String(buffer: buffer))
    }

    static func parse(_ text: String) throws -> [String: [String]] {
        var form: [String: [String]] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : "") else {
                throw WebProblem.formMalformed
            }
            form[name, default: []].append(value)
        }
        return form
    }

    private static func decode(_ part: Substring) -> String? {
        String(part).replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

/// Amounts people type, in yuan, to fen: digits with at most two decimals (no floating point).
enum YuanInput {
    static func fen(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "")
        let parts = trimmed.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.count <= 11, whole.allSatisfy(\.isASCIIDigit),
              let yuan = Int64(whole) else { return nil }
        var cents: Int64 = 0
        if parts.count == 2 {
            let decimals = parts[1]
            guard (1...2).contains(decimals.count), decimals.allSatisfy(\.isASCIIDigit), let value = Int64(decimals) else { return nil }
            cents = decimals.count == 1 ? value * 10 : value
        }
        return yuan * 100 + cents
    }
}
