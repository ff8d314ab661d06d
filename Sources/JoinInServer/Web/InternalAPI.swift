import Foundation
import HTTPTypes
import Hummingbird
import JoinInCore
import NIOCore
import Synchronization

/// The web pages are a client of the API in the same process: a form post becomes the API
/// request a phone app would send, answered by the same router, middleware, access declarations,
/// rate limits, lockouts, idempotency, audit and Core rules. Nothing the API decides is decided a
/// second time here; pages only turn HTML forms into JSON and JSON into HTML.
struct InternalAPI: Sendable {
    /// The router's responder, set once every route is registered (see `buildRouter`).
    final class ResponderBox: Sendable {
        private let storage = Mutex<RouterResponder<AppContext>?>(nil)
        var responder: RouterResponder<AppContext>? { storage.withLock { $0 } }
        func set(_ responder: RouterResponder<AppContext>) { storage.withLock { $0 = responder } }
    }

    struct Reply: Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: ByteBuffer

        var ok: Bool { (200..<300).contains(status.code) }
        var data: Data { Data(buffer: body) }

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try JSON.decoder.decode(T.self, from: data)
        }

        /// The problem the API answered, as the `DomainError` a page shows (title and detail are
        /// already in the language the call asked for).
        var problem: WebProblem {
            let fields = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
            return WebProblem(status: status, code: fields["code"] as? String ?? "internal",
                              title: fields["title"] as? String ?? "Error", detail: fields["detail"] as? String ?? "")
        }
    }

    let box: ResponderBox

    /// Sends one API request on behalf of the page's user (the session token from their cookie)
    /// and returns the API's answer. `context` is the page request's own: the same peer address
    /// (login throttling) and request id (logs).
    func call(_ method: HTTPRequest.Method, _ path: String, token: String?, language: Language,
              json: Data? = nil, idempotencyKey: String? = nil, accept: String = "application/json",
              context: AppContext) async throws -> Reply {
        guard let responder = box.responder else { throw WebProblem.unavailable }
        var fields: HTTPFields = [.accept: accept, .acceptLanguage: language.rawValue]
        if let token { fields[.authorization] = "Bearer \(token)" }
        if let idempotencyKey { fields[.idempotencyKey] = idempotencyKey }
        var body = ByteBuffer()
        if let json {
            fields[.contentType] = "application/json"
            body = ByteBuffer(bytes: json)
            fields[.contentLength] = String(json.count)
        }
        let head = HTTPRequest(method: method, scheme: "http", authority: "internal", path: path, headerFields: fields)
        var internalContext = context
        internalContext.principal = nil
        let response: Response
        do {
            response = try await responder.respond(to: Request(head: head, body: RequestBody(buffer: body)), context: internalContext)
        } catch let error as DomainError {
            // The router's own 404 for an unknown path arrives as an error, not a response.
            return Self.reply(for: error, language: language)
        }
        let collector = Collector()
        try await response.body.write(collector.writer)
        return Reply(status: response.status, headers: response.headers, body: collector.buffer)
    }

    /// JSON for a request body, from the generated request types.
    static func json(_ value: some Encodable) throws -> Data {
        try JSON.encoder.encode(value)
    }

    private static func reply(for error: DomainError, language: Language) -> Reply {
        let response = Problem.response(error, path: nil, requestID: nil, language: language)
        let localized = ProblemText.localized(error, language)
        let text = (try? JSON.encoder.encode(["code": error.code, "title": localized.title, "detail": localized.detail])) ?? Data()
        return Reply(status: response.status, headers: response.headers, body: ByteBuffer(bytes: text))
    }

    /// Gathers a response body (the API's bodies are small, bounded JSON or HTML).
    final class Collector: Sendable {
        private let storage = Mutex(ByteBuffer())
        var buffer: ByteBuffer { storage.withLock { $0 } }
        var writer: Writer { Writer(collector: self) }

        struct Writer: ResponseBodyWriter {
            let collector: Collector
            mutating func write(_ buffer: ByteBuffer) async throws {
                var buffer = buffer
                collector.storage.withLock { $0.writeBuffer(&buffer) }
            }
            mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
                for buffer in buffers { try await write(buffer) }
            }
            consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
        }
    }
}

/// An API refusal as a page shows it: the code for tests and support, title and detail for people.
struct WebProblem: Error, Sendable {
    let status: HTTPResponse.Status
    let code: String
    let title: String
    let detail: String

    static let unavailable = WebProblem(status: .serviceUnavailable, code: "web.unavailable", title: "Not ready",
                                        detail: "the server is still starting; try again")
}
