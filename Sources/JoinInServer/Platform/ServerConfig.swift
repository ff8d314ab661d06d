public import Foundation
public import JoinInCore

/// Everything the server needs to know about its deployment. Flags fill it; environment
/// variables `JOININ_*` are the fallbacks (see the CLI).
public struct ServerConfig: Sendable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    public var databaseURL: String = "./joinin.sqlite"
    public var keysPath: String = "./joinin-keys/"
    /// Issuer identification prefix of the partner bank's card numbers (6-10 digits).
    public var cardIssuerPrefix: String = "623091"
    public var staffSessionSeconds: Int = 12 * 3600
    public var bodyBytesMax: Int = 1 << 20
    /// bcrypt work factor: 12 in production, lower only in tests.
    public var bcryptCost: UInt8 = 12
    /// Where clients reach this deployment: the credential issuer (`iss`) and the base of status
    /// list URIs. Empty means http://host:port.
    public var publicURLOverride: String = ""

    public var publicURL: String {
        publicURLOverride.isEmpty ? "http://\(host):\(port)" : publicURLOverride
    }

    public init() {}
}

/// The injected clock: every time the server uses comes from here, so tests can set the date.
public struct AppClock: Sendable {
    public let nowMs: @Sendable () -> Int64

    public init(nowMs: @escaping @Sendable () -> Int64) {
        self.nowMs = nowMs
    }

    public static let system = AppClock { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Today's calendar date in Asia/Shanghai.
    public var today: CivilDate { CivilDate.shanghai(unixSeconds: nowMs() / 1000) }

    /// One reading of the clock: the instant and the Shanghai date it falls on, consistent with
    /// each other (two separate reads could straddle midnight). Read once per request.
    public struct Reading: Sendable {
        public let ms: Int64
        public let today: CivilDate
    }

    public func read() -> Reading {
        let ms = nowMs()
        return Reading(ms: ms, today: CivilDate.shanghai(unixSeconds: ms / 1000))
    }
}
