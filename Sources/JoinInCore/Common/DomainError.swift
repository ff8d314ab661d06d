/// A rule or input failure with a stable machine code, mapped by the server to RFC 9457
/// problem+json. `kind` decides the HTTP status; `code` never changes once published.
public struct DomainError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// 400: the request cannot be read (syntax, type, missing field, bad format).
        case malformed
        /// 401
        case unauthenticated
        /// 403
        case forbidden
        /// 404, also for objects the principal may not see.
        case notFound
        /// 409: the object is in a state that conflicts with the request.
        case conflict
        /// 413
        case tooLarge
        /// 415
        case unsupportedMediaType
        /// 422: well-formed, but a business rule refuses it.
        case rule
        /// 429
        case rateLimited
    }

    public let kind: Kind
    public let code: String
    public let title: String
    public let detail: String
    public let retryAfterSeconds: Int?

    public init(_ kind: Kind, code: String, title: String, detail: String, retryAfterSeconds: Int? = nil) {
        self.kind = kind
        self.code = code
        self.title = title
        self.detail = detail
        self.retryAfterSeconds = retryAfterSeconds
    }

    public var description: String { "\(code): \(detail)" }

    public static func malformed(_ code: String, _ detail: String) -> DomainError {
        DomainError(.malformed, code: code, title: "Malformed request", detail: detail)
    }

    public static func rule(_ code: String, _ detail: String) -> DomainError {
        DomainError(.rule, code: code, title: "Request refused by a business rule", detail: detail)
    }

    public static func conflict(_ code: String, _ detail: String) -> DomainError {
        DomainError(.conflict, code: code, title: "State conflict", detail: detail)
    }

    public static func notFound(_ code: String, _ detail: String) -> DomainError {
        DomainError(.notFound, code: code, title: "Not found", detail: detail)
    }

    public static func forbidden(_ code: String, _ detail: String) -> DomainError {
        DomainError(.forbidden, code: code, title: "Forbidden", detail: detail)
    }

    public static func unauthenticated(_ code: String, _ detail: String) -> DomainError {
        DomainError(.unauthenticated, code: code, title: "Authentication required", detail: detail)
    }
}
