import Foundation
import JoinInAPI
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore
import Logging
import NIOCore

/// RFC 9457 problem details with our stable machine `code` (the spec's `Problem` schema).
enum Problem {
    static func status(for kind: DomainError.Kind) -> HTTPResponse.Status {
        switch kind {
        case .malformed: return .badRequest
        case .unauthenticated: return .unauthorized
        case .forbidden: return .forbidden
        case .notFound: return .notFound
        case .conflict: return .conflict
        case .tooLarge: return .contentTooLarge
        case .unsupportedMediaType: return .unsupportedMediaType
        case .rule: return .unprocessableContent
        case .rateLimited: return .tooManyRequests
        }
    }

    /// The problem+json response for `error`, its `title` and `detail` in `language` (the caller's
    /// `Accept-Language`, see `ProblemLanguage.negotiate`); `code`, `type` and `status` never change.
    static func response(_ error: DomainError, path: String?, requestID: String?,
                         overridingStatus: HTTPResponse.Status? = nil, language: ProblemLanguage = .en) -> Response {
        let status = overridingStatus ?? status(for: error.kind)
        let text = ProblemText.localized(error, language)
        let problem = Schemas.Problem(_type: "https://joinin.example/problems/\(error.code)", title: text.title, status: Int(status.code),
                                      detail: text.detail, code: error.code, instance: path ?? "", requestId: requestID)
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        headers[.contentLanguage] = language.rawValue
        headers[.vary] = HTTPField.Name.acceptLanguage.rawName
        if let retry = error.retryAfterSeconds { headers[.retryAfter] = String(retry) }
        if error.kind == .unauthenticated { headers[.wwwAuthenticate] = "Bearer" }
        let body = (try? Data(JSON.encode(problem))) ?? Data(#"{"title":"error"}"#.utf8)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Maps every error a handler throws to problem+json. Bad input never reaches the 500 branch:
/// decoding and rule failures are `DomainError`s; only genuine faults are logged as 500.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return Self.response(for: error, request, context)
        }
    }

    /// The problem answer to `error`. The request id and the language are read here, not on every
    /// request: successful answers need neither.
    static func response(for error: any Error, _ request: Request, _ context: Context) -> Response {
        let requestID = context.logger[metadataKey: "hb.request.id"]?.description
        let language = ProblemLanguage.negotiate(request.headers[.acceptLanguage])
        /// 503 `store.busy` with Retry-After: the store did not apply the request.
        func busy(_ message: Logger.Message, _ metadata: Logger.Metadata, detail: String) -> Response {
            var metadata = metadata
            metadata["route"] = "\(context.endpointPath ?? "-")"
            context.logger.warning(message, metadata: metadata)
            let problem = DomainError(.conflict, code: "store.busy", title: "Service busy", detail: detail, retryAfterSeconds: 1)
            return Problem.response(problem, path: request.uri.path, requestID: requestID, overridingStatus: .serviceUnavailable,
                                    language: language)
        }
        switch error {
        case let error as DomainError:
            return Problem.response(error, path: request.uri.path, requestID: requestID, language: language)
        case is NIOTooManyBytesError:
            return Problem.response(DomainError(.tooLarge, code: "request.too_large", title: "Request body too large",
                                                detail: "the request body exceeds the limit for this endpoint"),
                                    path: request.uri.path, requestID: requestID, language: language)
        case _ where isUniqueViolation(error):
            // Two requests raced to create the same thing; the loser may retry and will then see it.
            return Problem.response(.conflict("store.concurrent_conflict", "a concurrent request created the same data; retry the request"),
                                    path: request.uri.path, requestID: requestID, language: language)
        case StoreError.retriesExhausted(let attempts):
            // Heavy contention on the same rows (PostgreSQL serialization failures): nothing was
            // written; the client retries, with the same Idempotency-Key for money.
            return busy("write gave up under contention", ["attempts": "\(attempts)"],
                        detail: "the request conflicted with concurrent updates \(attempts) times and was not applied; retry it")
        case StoreError.writerQueueFull(let limit):
            // Overload: more writes waiting than the bound. Nothing was written; shed load early.
            return busy("write refused: writer queue full", ["queue_length_max": "\(limit)"],
                        detail: "too many writes are waiting; the request was not applied; retry it")
        case StoreError.writeDeadlineExceeded(let seconds):
            // A write ran past its deadline; its batch was rolled back. Nothing was applied.
            return busy("write ran past its deadline", ["deadline_s": "\(seconds)"],
                        detail: "the request took too long in the database and was not applied; retry it")
        case StoreError.lookupDeadlineExceeded(let milliseconds):
            // A point lookup (run on the request's own thread) took far longer than one should.
            return busy("lookup ran past its deadline", ["deadline_ms": "\(milliseconds)"],
                        detail: "the request took too long in the database; retry it")
        case let error as HTTPError:
            return Problem.response(domainError(for: error), path: request.uri.path, requestID: requestID, language: language)
        default:
            // The route template, not the concrete path: paths carry card and permit numbers.
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: type(of: error)))",
                                                               "route": "\(context.endpointPath ?? "-")"])
            return Problem.response(DomainError(.conflict, code: "internal", title: "Internal error",
                                                detail: "an unexpected error occurred; quote request id \(requestID ?? "-")"),
                                    path: request.uri.path, requestID: requestID, overridingStatus: .internalServerError, language: language)
        }
    }

    static func domainError(for error: HTTPError) -> DomainError {
        switch error.status {
        case .notFound:
            return .notFound("route.not_found", "no such endpoint")
        case .methodNotAllowed:
            return DomainError(.malformed, code: "route.method_not_allowed", title: "Method not allowed", detail: error.body ?? "method not allowed")
        case .contentTooLarge:
            return DomainError(.tooLarge, code: "request.too_large", title: "Request body too large", detail: error.body ?? "request body too large")
        case .unauthorized:
            return .unauthenticated("auth.required", error.body ?? "authentication required")
        default:
            return .malformed("request.invalid", error.body ?? "the request could not be processed")
        }
    }
}

