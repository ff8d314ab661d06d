public import Hummingbird
public import JoinInStore
public import Logging
import Foundation
import HummingbirdBcrypt
import JoinInCore
public import Prometheus
import Synchronization

/// The running platform's shared parts, handed to every handler.
struct JoinIn: Sendable {
    let store: Store
    let config: ServerConfig
    let clock: AppClock
    let keys: CredentialKeys
    let auth: Authenticator
    let registry: PrometheusCollectorRegistry?
    let logger: Logger
    /// Checked when a username does not exist, so a failed sign-in takes as long either way.
    let dummyPasswordHash: String

    var nowMs: Int64 { clock.nowMs() }
    var today: CivilDate { clock.today }

    func newID() -> String { UUID().uuidString.lowercased() }
}

/// Builds the HTTP application over an opened, migrated store.
public func buildApplication(
    store: Store, config: ServerConfig, keys: CredentialKeys, clock: AppClock = .system,
    metricsRegistry: PrometheusCollectorRegistry? = nil, logger: Logger,
    onServerRunning: @escaping @Sendable (Int?) async -> Void = { _ in }
) -> some ApplicationProtocol {
    let router = buildRouter(store: store, config: config, keys: keys, clock: clock, metricsRegistry: metricsRegistry, logger: logger)
    return Application(
        router: router,
        configuration: .init(address: .hostname(config.host, port: config.port), serverName: "JoinIn"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port) },
        logger: logger)
}

/// The router alone (tests drive it without a socket).
public func buildRouter(
    store: Store, config: ServerConfig, keys: CredentialKeys, clock: AppClock = .system,
    metricsRegistry: PrometheusCollectorRegistry? = nil, logger: Logger
) -> Router<AppContext> {
    let app = JoinIn(store: store, config: config, clock: clock, keys: keys, auth: Authenticator(store: store, clock: clock),
                     registry: metricsRegistry, logger: logger,
                     dummyPasswordHash: Bcrypt.hash("not-a-password", cost: config.bcryptCost))
    let router = Router(context: AppContext.self, options: .autoGenerateHeadEndpoints)
    let tableBox = RouteTableBox()
    router.add(middleware: ProblemMiddleware<AppContext>())
    router.add(middleware: ControlCharacterGuardMiddleware())
    router.add(middleware: MethodNotAllowedMiddleware(table: { tableBox.table }))
    router.add(middleware: MetricsMiddleware())
    var registrar = RouteRegistrar(router: router)
    app.registerAll(&registrar)
    tableBox.set(RouteTable(registrar.routes))
    return router
}

extension JoinIn {
    func registerAll(_ registrar: inout RouteRegistrar) {
        registerOperations(&registrar)
        registerStaff(&registrar)
        registerReference(&registrar)
        registerPermits(&registrar)
        registerCards(&registrar)
        registerAudit(&registrar)
        registerECard(&registrar)
        registerCredentials(&registrar)
        registerMoney(&registrar)
        registerPayments(&registrar)
    }
}

/// The route table is complete only after registration; middleware reads it at request time.
final class RouteTableBox: Sendable {
    private let storage = Mutex<RouteTable?>(nil)
    var table: RouteTable? { storage.withLock { $0 } }
    func set(_ table: RouteTable) { storage.withLock { $0 = table } }
}

/// The served operations (method + OpenAPI path), for the spec-coverage test.
public func servedOperations(store: Store, config: ServerConfig, logger: Logger) -> [(method: String, path: String)] {
    let router = Router(context: AppContext.self)
    let app = JoinIn(store: store, config: config, clock: .system, keys: .random(), auth: Authenticator(store: store, clock: .system),
                     registry: nil, logger: logger, dummyPasswordHash: "")
    var registrar = RouteRegistrar(router: router)
    app.registerAll(&registrar)
    return registrar.routes.map { ($0.method.rawValue, $0.path) }
}
