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

/// Problem `title` and `detail` follow the caller's `Accept-Language` (English by default,
/// Chinese on request); `code`, `type` and `status` never change.
@Suite("Problem language")
struct ProblemLanguageTests {
    // MARK: negotiation

    static let negotiationCases: [(header: String?, expected: ProblemLanguage)] = [
        (nil, .en),
        ("", .en),
        ("zh", .zh),
        ("en", .en),
        ("zh-CN", .zh),
        ("zh-Hans", .zh),
        ("zh-Hant-TW", .zh),
        ("zh-TW", .zh),
        ("ZH-cn", .zh),
        ("EN-gb", .en),
        ("zh-CN,zh;q=0.9,en;q=0.8", .zh),
        ("en-US,en;q=0.9,zh-CN;q=0.8", .en),
        ("en;q=0.5, zh;q=0.8", .zh),
        ("zh;q=0.5, en;q=0.5", .zh),          // a tie keeps header order
        ("en;q=0.5, zh;q=0.5", .en),
        ("fr-FR, de;q=0.9, zh;q=0.1", .zh),   // the only served language, however low
        ("fr-FR, de;q=0.9", .en),             // nothing served: the default
        ("*", .en),
        ("fr, *;q=0.5", .en),
        ("en;q=0, *", .zh),                   // `*` with English excluded
        ("zh;q=0, zh-CN", .en),               // zh excluded outright
        ("zh-TW;q=0, zh-CN;q=0.9", .zh),      // excluding one variant does not exclude zh
        ("en;q=0, zh;q=0", .en),              // everything excluded: the default
        ("  zh-CN ;  q=0.7 ,\ten ; q=0.6 ", .zh),
        ("zh ; Q=1.000", .zh),
        ("zh;q=1.5, en", .en),                // q above 1: the element is skipped
        ("zh;q=0.0001, en;q=0.5", .en),        // four decimals: skipped
        ("zh;q=abc", .en),
        ("zh;q=, en;q=0.1", .en),
        ("zh;level=1, en;q=0.1", .en),        // a parameter other than q: skipped
        ("zh_CN", .en),                       // underscore is not a language-range
        ("zh-", .en),
        ("chinese-simplified", .en),          // a language we do not serve
        ("zhongwenzh-CN, fr", .en),           // a primary subtag of 9 letters is not a range
        ("中文, zh;q=0.2", .zh),
        (",,,;;;===", .en),
        ("q=0.9", .en),
        ("en-US;q=0.001, zh-CN;q=0.002", .zh),
        ("zh-CN;q=0.9;q=0.1, en;q=0.5", .en),  // the last q counts
    ]

    @Test("Accept-Language negotiation", arguments: ProblemLanguageTests.negotiationCases.indices)
    func negotiation(index: Int) {
        let (header, expected) = Self.negotiationCases[index]
        #expect(ProblemLanguage.negotiate(header) == expected, "\(header.map { "\"\($0)\"" } ?? "absent")")
    }

    @Test("negotiation survives random bytes and header-shaped garbage")
    func negotiationFuzz() {
        var rng = SeededGenerator(seed: 0xACCE_97_1A96)
        let pieces = ["zh", "en", "ZH", "-", "CN", "Hans", "*", ";", "q=", "Q=", "0", "1", ".", "5", "000", ",", " ", "\t", "=",
                      "x", "中", "\u{0}", "\u{FFFD}", "123456789", "abcdefghij"]
        var chosen: [ProblemLanguage: Int] = [:]
        for round in 0..<20_000 {
            let header: String
            if round.isMultiple(of: 2) {
                let bytes = (0..<Int.random(in: 0...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                header = String(decoding: bytes, as: UTF8.self)
            } else {
                header = (0..<Int.random(in: 0...24, using: &rng)).map { _ in pieces.randomElement(using: &rng) ?? "" }.joined()
            }
            let language = ProblemLanguage.negotiate(header)
            #expect(ProblemLanguage.negotiate(header) == language, "not deterministic for \(Array(header.utf8))")
            chosen[language, default: 0] += 1
        }
        // The structured half reaches both outcomes, so the parser's paths are exercised.
        #expect((chosen[.zh] ?? 0) > 100 && (chosen[.en] ?? 0) > 100, "\(chosen)")
        // A very long header is parsed in one pass without trouble.
        #expect(ProblemLanguage.negotiate(String(repeating: "fr;q=0.1, ", count: 50_000) + "zh") == .zh)
    }

    // MARK: the Chinese table

    /// Where problem codes are written in Sources/. A code is a lower-case literal: dotted
    /// (`card.not_found`) in these forms, plus the undotted `internal`:
    /// 1. first argument of a `DomainError` factory or of a helper that builds one, possibly on the
    ///    next line: `.rule("x.y", …)`, `DomainError.malformed(\n "x.y", …)`, `table.error("gtfs.x", …)`;
    /// 2. the `code:` after the kind in `DomainError(.kind, code: "x.y", …)` or `.init(.kind, code: …)`
    ///    (the web pages' own `WebProblem(status:code:…)` are not API problems and have their own text);
    /// 3. both branches of a ternary that picks a code: `left == 0 ? "card.pin_blocked" : "card.pin_invalid"`.
    static let codePatterns = [
        #"\b(?:malformed|rule|conflict|notFound|forbidden|unauthenticated|tooLarge|rateLimited|unsupportedMediaType|error)\(\s*"([a-z][a-z0-9_]*\.[a-z0-9_.]+)""#,
        #"\(\s*\.(?:malformed|rule|conflict|notFound|forbidden|unauthenticated|tooLarge|rateLimited|unsupportedMediaType)\s*,\s*code:\s*"([a-z][a-z0-9_.]*)""#,
        #"\?\s*"([a-z][a-z0-9_]*\.[a-z0-9_.]+)"\s*:\s*"([a-z][a-z0-9_]*\.[a-z0-9_.]+)""#,
    ]

    /// Every problem code literal in Sources/**/*.swift (except the table itself).
    static func codesInSources() throws -> [String: String] {
        let root = Harness.repositoryFile("Sources")
        let regexes = try codePatterns.map { try NSRegularExpression(pattern: $0) }
        var found: [String: String] = [:]  // code → first file using it
        let files = try #require(FileManager.default.enumerator(atPath: root)).compactMap { $0 as? String }
        for file in files.sorted() where file.hasSuffix(".swift") && !file.hasSuffix("ProblemTextZH.swift") {
            let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
            let whole = NSRange(text.startIndex..., in: text)
            for regex in regexes {
                for match in regex.matches(in: text, range: whole) {
                    for group in 1..<match.numberOfRanges {
                        guard let range = Range(match.range(at: group), in: text) else { continue }
                        let code = String(text[range])
                        if found[code] == nil { found[code] = file }
                    }
                }
            }
        }
        return found
    }

    @Test("every problem code in Sources/ has a Chinese entry, and the table has no stale ones")
    func tableIsComplete() throws {
        let used = try Self.codesInSources()
        #expect(used.count > 250, "the scan found only \(used.count) codes: are the patterns still right?")
        for sample in ["card.not_found", "internal", "store.busy", "route.method_not_allowed", "card.pin_invalid", "gtfs.invalid_value",
                       "uscc.invalid"] {
            #expect(used[sample] != nil, "the scan misses \(sample)")
        }
        let table = Set(ProblemTextZH.table.keys)
        let missing = Set(used.keys).subtracting(table).sorted()
        #expect(missing.isEmpty, "codes without a Chinese entry in ProblemTextZH.swift: \(missing.map { "\($0) (\(used[$0] ?? ""))" })")
        let stale = table.subtracting(used.keys).sorted()
        #expect(stale.isEmpty, "entries for codes no longer used in Sources/: \(stale)")
    }

    @Test("the table's entries are sorted, unique, Chinese, and use only known placeholders")
    func tableIsWellFormed() throws {
        let source = try String(contentsOfFile: Harness.repositoryFile("Sources/JoinInServer/Platform/ProblemTextZH.swift"), encoding: .utf8)
        let keys = source.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("\""), let end = trimmed.dropFirst().firstIndex(of: "\"") else { return nil }
            return String(trimmed[trimmed.index(after: trimmed.startIndex)..<end])
        }
        #expect(keys.count == ProblemTextZH.table.count, "one line per entry (a duplicate key would also trap at run time)")
        #expect(keys == keys.sorted(), "entries must be sorted by code")
        #expect(Set(keys).count == keys.count)
        for (code, entry) in ProblemTextZH.table {
            #expect(Self.hasCJK(entry.title) && Self.hasCJK(entry.detail), "\(code)")
            #expect(!entry.title.hasSuffix("。"), "\(code): a title is not a sentence")
            let withoutPlaceholders = entry.detail.replacingOccurrences(of: "（{en}）", with: "").replacingOccurrences(of: "{retry}", with: "")
            #expect(!withoutPlaceholders.contains("{") && !withoutPlaceholders.contains("}"), "\(code): unknown placeholder")
            #expect(withoutPlaceholders.hasSuffix("。"), "\(code): the Chinese detail is a complete sentence")
            if entry.detail.contains("{en}") { #expect(entry.detail.hasSuffix("（{en}）"), "\(code): English specifics go last, in full-width parentheses") }
        }
    }

    @Test("localized text: English unchanged, Chinese from the table with specifics kept, a generic fallback")
    func localizedText() {
        let refusal = DomainError.rule("ledger.insufficient_funds", "account a1 has 100 fen available, 250 fen needed: short by 150 fen")
        let english = ProblemText.localized(refusal, .en)
        #expect(english.title == refusal.title && english.detail == refusal.detail)
        let chinese = ProblemText.localized(refusal, .zh)
        #expect(chinese.title == "余额不足")
        #expect(chinese.detail == "账户可用余额不足，请充值后重试或减少金额。（account a1 has 100 fen available, 250 fen needed: short by 150 fen）")

        let locked = DomainError(.rateLimited, code: "auth.locked_out", title: "Too many failed attempts",
                                 detail: "too many failed attempts; try again in 900 seconds", retryAfterSeconds: 900)
        #expect(ProblemText.localized(locked, .zh).detail == "失败次数过多，已暂时锁定，请在 900 秒后重试。")

        let plain = ProblemText.localized(DomainError.notFound("route.not_found", "no such endpoint"), .zh)
        #expect(plain.title == "接口不存在" && plain.detail == "没有此接口，请核对请求地址。")

        // Caller input in the English detail that looks like a placeholder is not expanded.
        let echoed = DomainError.malformed("date.invalid", "from must be a real calendar date as YYYY-MM-DD, got '{retry}{en}'")
        #expect(ProblemText.localized(echoed, .zh).detail.hasSuffix("got '{retry}{en}'）"))

        let unknown = ProblemText.localized(DomainError.conflict("nothing.like_this", "the English detail"), .zh)
        #expect(unknown.title == "状态冲突" && unknown.detail == "the English detail")
    }

    @Test("English problem bodies are byte-for-byte what they were")
    func englishBytesUnchanged() async throws {
        let router = Router(context: AppContext.self)
        router.add(middleware: ProblemMiddleware<AppContext>())
        router.post("/v1/branches") { _, _ -> Response in
            throw DomainError.malformed("request.invalid_json", "body is not valid JSON")
        }
        // The body as it was before problems had a language (keys sorted, slashes unescaped).
        let expected = #"{"code":"request.invalid_json","detail":"body is not valid JSON","instance":"/v1/branches","#
            + #""status":400,"title":"Malformed request","type":"https://joinin.example/problems/request.invalid_json"}"#
        try await Application(router: router).test(.router) { client in
            for header in [nil, "en", "en-GB, fr;q=0.5", "fr", "*"] as [String?] {
                var headers = HTTPFields()
                if let header { headers[.acceptLanguage] = header }
                let response = try await client.execute(uri: "/v1/branches", method: .post, headers: headers)
                #expect(response.status == .badRequest)
                #expect(Self.withoutRequestID(String(buffer: response.body)) == expected, "\(header ?? "absent")")
                #expect(response.headers[.contentLanguage] == "en")
                #expect(response.headers[.vary] == "Accept-Language")
            }
            let chinese = try await client.execute(uri: "/v1/branches", method: .post, headers: [.acceptLanguage: "zh"])
            let text = String(buffer: chinese.body)
            #expect(chinese.status == .badRequest)
            #expect(chinese.headers[.contentLanguage] == "zh")
            #expect(text.contains(#""code":"request.invalid_json""#))
            #expect(text.contains(#""status":400"#))
            #expect(text.contains(#""type":"https://joinin.example/problems/request.invalid_json""#))
            #expect(text.contains(#""title":"请求体格式有误""#))
        }
    }

    // MARK: through HTTP

    static let chineseBrowser: HTTPFields = [.acceptLanguage: "zh-CN,zh;q=0.9,en;q=0.8"]

    /// One exchange asked in Chinese, then with no header and in English: the same status and
    /// code each time, Chinese text in the first, the expected English text in the others.
    static func expectBilingual(_ h: Harness, _ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: Any? = nil,
                                raw: String? = nil, status: HTTPResponse.Status, code: String, englishTitle: String, englishDetail: String,
                                sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let zh = try await h.call(method, path, token: token, json: json, raw: raw, headers: chineseBrowser)
        #expect(zh.status == status, "\(zh.text)", sourceLocation: sourceLocation)
        #expect(zh.code == code, sourceLocation: sourceLocation)
        #expect(zh.string("type") == "https://joinin.example/problems/\(code)", sourceLocation: sourceLocation)
        #expect(zh.value("status") as? Int == Int(status.code), sourceLocation: sourceLocation)
        #expect(zh.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
        #expect(zh.headers[.contentLanguage] == "zh", sourceLocation: sourceLocation)
        #expect(zh.headers[.vary] == "Accept-Language", sourceLocation: sourceLocation)
        #expect(hasCJK(zh.string("title") ?? ""), "\(zh.text)", sourceLocation: sourceLocation)
        #expect(hasCJK(zh.string("detail") ?? ""), "\(zh.text)", sourceLocation: sourceLocation)
        #expect(zh.string("title") == ProblemTextZH.table[code]?.title, sourceLocation: sourceLocation)

        var englishBodies: [String] = []
        for headers: HTTPFields in [[:], [.acceptLanguage: "en"], [.acceptLanguage: "en-US,en;q=0.9"]] {
            let en = try await h.call(method, path, token: token, json: json, raw: raw, headers: headers)
            #expect(en.status == status, sourceLocation: sourceLocation)
            #expect(en.code == code, sourceLocation: sourceLocation)
            #expect(en.headers[.contentLanguage] == "en", sourceLocation: sourceLocation)
            #expect(en.headers[.vary] == "Accept-Language", sourceLocation: sourceLocation)
            #expect(en.string("title") == englishTitle, sourceLocation: sourceLocation)
            #expect(en.string("detail") == englishDetail, sourceLocation: sourceLocation)
            englishBodies.append(withoutRequestID(en.text))
        }
        #expect(Set(englishBodies).count == 1, "\(englishBodies)", sourceLocation: sourceLocation)
    }

    @Test("401, 404, 405, 400 and 422 answer in Chinese when asked, in English otherwise")
    func throughHTTP() async throws {
        try await Harness.run { h in
            try await Self.expectBilingual(h, .get, "/v1/staff/me", status: .unauthorized, code: "auth.required",
                                           englishTitle: "Authentication required",
                                           englishDetail: "send Authorization: Bearer <token or API key>")
            try await Self.expectBilingual(h, .get, "/v1/nothing-here", status: .notFound, code: "route.not_found",
                                           englishTitle: "Not found", englishDetail: "no such endpoint")
            try await Self.expectBilingual(h, .delete, "/v1/cities", status: .methodNotAllowed, code: "route.method_not_allowed",
                                           englishTitle: "Method not allowed", englishDetail: "DELETE is not allowed on /v1/cities; use GET")
            let admin = try await h.admin()
            try await Self.expectBilingual(h, .post, "/v1/branches", token: admin, raw: "{not json", status: .badRequest,
                                           code: "request.invalid_json", englishTitle: "Malformed request",
                                           englishDetail: "body is not valid JSON")
            try await Self.expectBilingual(h, .post, "/v1/staff/me/password", token: admin,
                                           json: ["current_password": Harness.password, "new_password": Harness.password],
                                           status: .unprocessableContent, code: "password.unchanged",
                                           englishTitle: "Request refused by a business rule",
                                           englishDetail: "new_password must differ from current_password")

            // The English specifics ride along in full-width parentheses; the 405 keeps its Allow.
            let json = try await h.call(.post, "/v1/branches", token: admin, raw: "{not json", headers: Self.chineseBrowser)
            #expect(json.string("detail") == "请求体不是有效的 JSON，或某个字段缺失、类型或取值不正确，请修改后重试。（body is not valid JSON）")
            let wrongMethod = try await h.call(.delete, "/v1/cities", headers: [.acceptLanguage: "zh-TW"])
            #expect(wrongMethod.headers[.allow] == "GET")
            #expect(wrongMethod.headers[.contentLanguage] == "zh")
            #expect(wrongMethod.string("title") == "不支持该请求方法")
            // A 401 still says how to authenticate.
            let unauthenticated = try await h.call(.get, "/v1/staff/me", headers: Self.chineseBrowser)
            #expect(unauthenticated.headers[.wwwAuthenticate] == "Bearer")
            // Garbage in the header is English, never an error of its own.
            let garbage = try await h.call(.get, "/v1/nothing-here", headers: [.acceptLanguage: ";;q=zh,,\u{7F}"])
            #expect(garbage.status == .notFound && garbage.headers[.contentLanguage] == "en")
            #expect(garbage.string("title") == "Not found")
        }
    }

    @Test("the middleware's own problems (413, 500, store.busy) follow Accept-Language too")
    func middlewareProblems() async throws {
        let router = Router(context: AppContext.self)
        router.add(middleware: ProblemMiddleware<AppContext>())
        router.get("/busy") { _, _ -> Response in throw StoreError.writerQueueFull(8_192) }
        router.get("/fault") { _, _ -> Response in throw Fault() }
        router.post("/big") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 4)
            return Response(status: .ok)
        }
        try await Application(router: router).test(.router) { client in
            let zh = HTTPFields([HTTPField(name: .acceptLanguage, value: "zh")])
            let busy = try await client.execute(uri: "/busy", method: .get, headers: zh)
            #expect(busy.status == .serviceUnavailable && busy.headers[.retryAfter] == "1")
            #expect(busy.headers[.contentLanguage] == "zh")
            #expect(String(buffer: busy.body).contains("服务繁忙"))
            #expect(String(buffer: busy.body).contains(#""code":"store.busy""#))
            let fault = try await client.execute(uri: "/fault", method: .get, headers: zh)
            #expect(fault.status == .internalServerError)
            #expect(String(buffer: fault.body).contains("内部错误"))
            let big = try await client.execute(uri: "/big", method: .post, headers: zh, body: ByteBuffer(string: "more than four bytes"))
            #expect(big.status == .contentTooLarge)
            #expect(String(buffer: big.body).contains("请求体过大"))
            let english = try await client.execute(uri: "/busy", method: .get)
            #expect(english.headers[.contentLanguage] == "en")
            #expect(String(buffer: english.body).contains(#""title":"Service busy""#))
        }
    }

    // MARK: helpers

    struct Fault: Error {}

    static func hasCJK(_ text: String) -> Bool {
        text.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) }
    }

    static func withoutRequestID(_ text: String) -> String {
        text.replacingOccurrences(of: #""request_id":"[^"]*",?"#, with: "", options: .regularExpression)
    }
}
