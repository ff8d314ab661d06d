public import Hummingbird
public import JoinInStore
public import Logging
import Foundation
import HummingbirdBcrypt
import JoinInCore
public import Prometheus
import Synchronization

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
    let router = Router(context: AppContext.self, options: .autoGenerateHeadEndpoints)
    let tableBox = RouteTableBox()
    router.add(middleware: ProblemMiddleware<AppContext>())
    router.add(middleware: ControlCharacterGuardMiddleware())
    router.add(middleware: MethodNotAllowedMiddleware(table: { tableBox.table }))
    router.add(middleware: MetricsMiddleware())
    let dummyHash = Bcrypt.hash("not-a-password", cost: config.bcryptCost)
    var registrar = RouteRegistrar(router: router, authenticator: Authenticator(store: store, clock: clock))
    Controllers(store: store, config: config, clock: clock, keys: keys, registry: metricsRegistry, dummyPasswordHash: dummyHash)
        .register(&registrar)
    tableBox.set(RouteTable(registrar.routes))
    // The browser apps are served beside the API and call it in-process through the finished router.
    let responders = InternalAPI.ResponderBox()
    WebApp(store: store, config: config, clock: clock, responders: responders).register(router)
    responders.set(router.buildResponder())
    return router
}

/// Every domain's controller, each given only what it needs (Hummingbird's controller pattern:
/// a struct holding its dependencies and registering its routes). A new domain adds its folder
/// and one line here.
struct Controllers {
    let store: Store
    let config: ServerConfig
    let clock: AppClock
    let keys: CredentialKeys
    let registry: PrometheusCollectorRegistry?
    let dummyPasswordHash: String

    func register(_ r: inout RouteRegistrar) {
        let attempts = AttemptGuard(store: store, clock: clock)
        let passwords = Passwords(store: store, config: config, clock: clock, attempts: attempts, dummyPasswordHash: dummyPasswordHash)
        let pins = PINCheck(store: store, attempts: attempts)
        let dynamicCodes = DynamicCodes(keys: keys, clock: clock)
        OperationsController(store: store, registry: registry).register(&r)
        StaffController(store: store, config: config, clock: clock, passwords: passwords).register(&r)
        ReferenceController(store: store, config: config, clock: clock).register(&r)
        PermitController(store: store, config: config, clock: clock).register(&r)
        CardController(store: store, config: config, clock: clock).register(&r)
        AuditController(store: store).register(&r)
        ECardController(store: store, config: config, clock: clock, passwords: passwords, attempts: attempts).register(&r)
        CredentialController(store: store, config: config, clock: clock, keys: keys, dynamicCodes: dynamicCodes).register(&r)
        MoneyController(store: store, clock: clock, pins: pins).register(&r)
        PaymentController(store: store, config: config, clock: clock, pins: pins, dynamicCodes: dynamicCodes).register(&r)
        OfferController(store: store, config: config, clock: clock).register(&r)
        ServiceController(store: store, config: config, clock: clock, pins: pins, dynamicCodes: dynamicCodes, keys: keys).register(&r)
        EventController(store: store, config: config, clock: clock, dynamicCodes: dynamicCodes).register(&r)
        InboxController(store: store, clock: clock).register(&r)
        TransitController(store: store, config: config, clock: clock, keys: keys, feeds: FareFeeds()).register(&r)
        HealthController(store: store, config: config, clock: clock, pins: pins, dynamicCodes: dynamicCodes).register(&r)
        LibraryController(store: store, config: config, clock: clock, circulation: Circulation(store: store, clock: clock, pins: pins)).register(&r)
        VenueController(store: store, config: config, clock: clock, dynamicCodes: dynamicCodes).register(&r)
    }
}

/// The route table is complete only after registration; middleware reads it at request time.
final class RouteTableBox: Sendable {
    private let storage = Mutex<RouteTable?>(nil)
    var table: RouteTable? { storage.withLock { $0 } }
    func set(_ table: RouteTable) { storage.withLock { $0 = table } }
}

/// Every served route with its access declaration, for the spec-coverage and authorization tests.
func servedRoutes(store: Store, config: ServerConfig) -> [RouteTable.Route] {
    let router = Router(context: AppContext.self)
    var registrar = RouteRegistrar(router: router, authenticator: Authenticator(store: store, clock: .system))
    Controllers(store: store, config: config, clock: .system, keys: .random(), registry: nil, dummyPasswordHash: "").register(&registrar)
    return registrar.routes
}

/// The served operations (method + OpenAPI path), for the spec-coverage test.
public func servedOperations(store: Store, config: ServerConfig, logger: Logger) -> [(method: String, path: String)] {
    servedRoutes(store: store, config: config).map { ($0.method.rawValue, $0.path) }
}
