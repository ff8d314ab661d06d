import ArgumentParser
import Foundation
import Hummingbird
import JoinInCore
import JoinInServer
import JoinInStore
import Logging
import Metrics
import Prometheus

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the platform: migrate, load reference data, create keys and the first admin, serve HTTP.")

    @Option(name: .long, help: "Address to bind (env JOININ_HOST; default 127.0.0.1)")
    var host: String?

    @Option(name: .long, help: "Port (env JOININ_PORT; default 8080)")
    var port: Int?

    @Option(name: .long, help: "Card number issuer prefix, 6-10 digits (env JOININ_CARD_PREFIX; default 623091)")
    var cardPrefix: String?

    @Option(name: .long, help: "Public base URL of this deployment, the credential issuer (env JOININ_PUBLIC_URL; default http://HOST:PORT)")
    var publicURL: String?

    @Option(name: .long, help: "Also listen for SIP2 (library self-check kiosks) on this port (env JOININ_SIP2_PORT; default off)")
    var sip2Port: Int?

    @Option(name: .long, help: "Close SIP2 connections silent this long, seconds (env JOININ_SIP2_IDLE_SECONDS; default 300)")
    var sip2IdleSeconds: Int?

    @Flag(help: "On a new database, seed the demo city Ningbo through the API once listening and print how to sign in as each person (docs/demo.md)")
    var demo = false

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let sip2 = try sip2Port ?? Environment.value("JOININ_SIP2_PORT").map {
            guard let value = Int($0) else { throw CLIError(description: "error: JOININ_SIP2_PORT must be 0-65535") }
            return value
        }
        if let sip2, !(0...65535).contains(sip2) { throw CLIError(description: "error: --sip2-port must be 0-65535") }
        let sip2Idle = try sip2IdleSeconds ?? Environment.value("JOININ_SIP2_IDLE_SECONDS").map {
            guard let value = Int($0) else { throw CLIError(description: "error: JOININ_SIP2_IDLE_SECONDS must be 1-86400") }
            return value
        } ?? 300
        guard (1...86_400).contains(sip2Idle) else { throw CLIError(description: "error: --sip2-idle-seconds must be 1-86400") }
        var config = ServerConfig()
        config.publicURLOverride = publicURL ?? Environment.value("JOININ_PUBLIC_URL") ?? ""
        config.host = host ?? Environment.value("JOININ_HOST") ?? config.host
        config.port = try port ?? Environment.value("JOININ_PORT").map {
            guard let value = Int($0), (0...65535).contains(value) else { throw CLIError(description: "error: JOININ_PORT must be 0-65535") }
            return value
        } ?? config.port
        config.databaseURL = store.databaseURL
        config.keysPath = store.keysPath
        config.cardIssuerPrefix = cardPrefix ?? Environment.value("JOININ_CARD_PREFIX") ?? config.cardIssuerPrefix
        guard (6...10).contains(config.cardIssuerPrefix.count), config.cardIssuerPrefix.allSatisfy(\.isASCIIDigit) else {
            throw CLIError(description: "error: the card prefix must be 6-10 digits")
        }
        let configured = config
        let demo = self.demo
        var logger = Logger(label: "joinin")
        logger.logLevel = Environment.value("JOININ_LOG_LEVEL").flatMap(Logger.Level.init(rawValue:)) ?? .info
        let log = logger
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        try await runReportingErrors {
            try await store.withStore(logger: log) { store, keys in
                if keys.created { say("created keys in \(configured.keysPath) (mode 0600; back them up: they decrypt personal data)") }
                let oneTimePassword = try await Provisioning.bootstrapAdmin(store: store, bcryptCost: configured.bcryptCost,
                                                                            nowMs: AppClock.system.nowMs())
                // With --demo the demo city replaces the one-time password and prints the new one.
                if let password = oneTimePassword, !demo {
                    say("""
                    ------------------------------------------------------------------
                    First start: created the administrator account.
                      username: admin
                      one-time password: \(password)
                    It is shown only this once and must be changed at first sign-in.
                    ------------------------------------------------------------------
                    """)
                }
                let signing = try CredentialKeys(keys.signingKeys)
                let (listening, listened) = AsyncStream.makeStream(of: Int.self)
                let app = buildApplication(store: store, config: configured, keys: signing, metricsRegistry: registry, logger: log) { port in
                    let base = "http://\(configured.host):\(port ?? configured.port)"
                    say("""
                    JoinIn listening on \(base)  (database: \(store.kind.rawValue) \(configured.databaseURL.redactingPassword))
                    In a browser: the e-card at \(base)/ and the staff console at \(base)/console (user admin)
                    By the API:  curl -s -X POST \(base)/v1/staff/sessions -H 'content-type: application/json' \\
                                -d '{"username":"admin","password":"<password>"}'
                    Health: \(base)/healthz  Ready: \(base)/readyz  Spec: \(base)/openapi.yaml
                    """)
                    listened.yield(port ?? configured.port)
                    listened.finish()
                }
                // Expired holds, idempotency records, counters, sessions and nonces are swept every 5 s beside the server, and stop with it.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await Sweeper.run(store: store, clock: .system, interval: .seconds(5), logger: log) }
                    if let sip2 {
                        group.addTask {
                            try await SIP2Server(store: store, host: configured.host, port: sip2, idleSeconds: sip2Idle, logger: log).run { port in
                                say("SIP2 listening on \(configured.host):\(port)  (login: CN terminal id, CO its API key; kinds libraryKiosk, libraryDesk)")
                            }
                        }
                    }
                    if demo {
                        try await DemoCity.serve(app, listening: listening, store: store, host: configured.host,
                                                 adminOneTimePassword: oneTimePassword)
                    } else {
                        try await app.runService()
                    }
                    group.cancelAll()
                }
            }
        }
    }
}

extension String {
    /// postgres://user:secret@host → postgres://user:***@host, for printing.
    var redactingPassword: String {
        guard let at = firstIndex(of: "@"), let scheme = range(of: "://"), let colon = self[scheme.upperBound..<at].firstIndex(of: ":") else {
            return self
        }
        return String(self[..<index(after: colon)]) + "***" + String(self[at...])
    }
}

/// Writes a line to standard output unbuffered, so a supervisor reading a pipe sees it at once.
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
