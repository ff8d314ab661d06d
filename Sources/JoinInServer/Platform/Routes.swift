import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore

/// The operations the server exposes, as (method, OpenAPI path template). Handlers register
/// through here, so the 405 check and the spec-coverage test see exactly what is served.
final class RouteTable: Sendable {
    struct Route: Sendable, Hashable {
        let method: HTTPRequest.Method
        let path: String
        let access: Access
    }

    let routes: [Route]

    init(_ routes: [Route]) {
        self.routes = routes
    }

    /// Methods declared for a concrete request path, for the `Allow` header of a 405.
    func allowedMethods(for path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        return routes.filter { route in
            let template = route.path.split(separator: "/", omittingEmptySubsequences: true)
            guard template.count == segments.count else { return false }
            return zip(template, segments).allSatisfy { pattern, value in pattern.hasPrefix("{") || pattern == value }
        }.map(\.method)
    }
}

/// Collects routes while registering them with the Hummingbird router. Every route declares who
/// may call it; the wrapper registered here authenticates and checks that declaration before the
/// handler runs, and hands the principal to the handler in the context.
struct RouteRegistrar {
    let router: Router<AppContext>
    let authenticator: Authenticator
    fileprivate(set) var routes: [RouteTable.Route] = []

    init(router: Router<AppContext>, authenticator: Authenticator) {
        self.router = router
        self.authenticator = authenticator
    }

    mutating func on(_ method: HTTPRequest.Method, _ path: String, _ access: Access,
                     _ handler: @escaping @Sendable (Request, AppContext) async throws -> Response) {
        routes.append(.init(method: method, path: path, access: access))
        let authenticator = authenticator
        router.on(RouterPath(path), method: method) { request, context in
            guard !access.isPublic else { return try await handler(request, context) }
            return try await handler(request, try Self.admit(try await authenticator.authenticate(request), to: access, context))
        }
    }

    /// The context with the principal in it, once the route's access rule admits it (else 403).
    static func admit(_ principal: Principal, to access: Access, _ context: AppContext) throws -> AppContext {
        try access.check(principal)
        var admitted = context
        admitted.principal = principal
        return admitted
    }
}

extension RouteRegistrar {
    /// A route whose whole work is one lookup (`Store.lookup`): the session check and the
    /// handler's reads run in one lookup (on SQLite one snapshot, one reader and one
    /// BEGIN/COMMIT instead of two; docs/decisions.md §23). Same authentication and access check
    /// as `on`.
    mutating func lookup(_ method: HTTPRequest.Method, _ path: String, _ access: Access,
                         _ handler: @escaping @Sendable (Request, AppContext, StoreTx) async throws -> Response) {
        let authenticator = authenticator, store = authenticator.store
        guard !access.isPublic else {
            on(method, path, access) { request, context in try await store.lookup { tx in try await handler(request, context, tx) } }
            return
        }
        routes.append(.init(method: method, path: path, access: access))
        router.on(RouterPath(path), method: method) { request, context in
            let credential = try authenticator.credential(request)
            return try await store.lookup { tx in
                try await handler(request, try Self.admit(try await authenticator.resolve(credential, in: tx), to: access, context), tx)
            }
        }
    }
}

/// Refuses URIs that carry percent-encoded control characters (`%00`–`%1F`, `%7F`): no path id
/// or query value of ours contains one, and PostgreSQL cannot store NUL.
struct ControlCharacterGuardMiddleware: RouterMiddleware {
    typealias Context = AppContext

    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        let uri = Array(request.uri.description.utf8)
        var index = 0
        while index + 2 < uri.count {
            if uri[index] == UInt8(ascii: "%"), let value = UInt8(String(decoding: uri[(index + 1)...(index + 2)], as: UTF8.self), radix: 16),
               value < 0x20 || value == 0x7F {
                throw DomainError.malformed("request.control_character", "the request URI must not contain control characters")
            }
            index += 1
        }
        return try await next(request, context)
    }
}

/// Turns the router's 404 for a known path with an undeclared method into 405 + `Allow`.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = AppContext
    let table: @Sendable () -> RouteTable?

    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            guard let table = table() else { throw error }
            let allowed = table.allowedMethods(for: request.uri.path)
            guard !allowed.isEmpty, !allowed.contains(request.method) else { throw error }
            let names = Set(allowed.map(\.rawValue)).sorted().joined(separator: ", ")
            var response = Problem.response(
                .init(.malformed, code: "route.method_not_allowed", title: "Method not allowed",
                      detail: "\(request.method.rawValue) is not allowed on \(request.uri.path); use \(names)"),
                path: request.uri.path, requestID: context.requestID, overridingStatus: .methodNotAllowed,
                language: ProblemLanguage.negotiate(request.headers[.acceptLanguage]))
            response.headers[.allow] = names
            return response
        }
    }
}
