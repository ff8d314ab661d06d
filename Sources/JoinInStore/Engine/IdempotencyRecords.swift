public import Foundation
import SQLKit

/// DESIGN §4: the stored outcome of a request made with an Idempotency-Key, written in the
/// transaction of the effect it guards.
public struct IdempotencyRecord: Sendable, Equatable {
    /// The keyed request fingerprint; `legacy:`-prefixed for rows written before migration 6.
    public let requestHash: String
    public let status: Int64
    /// The stored reply, opened (it is sealed at rest: replies may carry one-time secrets).
    public let body: String
    public let headers: String
}

extension StoreTx {
    /// Stored replies are sealed with the principal and key as associated data, so a reply copied
    /// to another row does not open.
    static func idempotencyColumn(principal: String, key: String) -> String {
        "idempotency_keys.body\u{0}\(principal)\u{0}\(key)"
    }

    public func idempotencyRecord(principal: String, key: String) async throws -> IdempotencyRecord? {
        guard let row = try await sql.raw("""
            SELECT request_hash, status, body, headers FROM idempotency_keys
            WHERE principal = \(bind: principal) AND idempotency_key = \(bind: key)
            """).first() else { return nil }
        return IdempotencyRecord(
            requestHash: try row.decode(column: "request_hash", as: String.self), status: try row.decode(column: "status", as: Int64.self),
            body: try open(try row.decode(column: "body", as: String.self), column: Self.idempotencyColumn(principal: principal, key: key)),
            headers: try row.decode(column: "headers", as: String.self))
    }

    public func insertIdempotencyRecord(principal: String, key: String, requestHash: String, status: Int,
                                        body: String, headers: String, atMs: Int64) async throws {
        let sealed = try seal(body, column: Self.idempotencyColumn(principal: principal, key: key))
        try await sql.raw("""
            INSERT INTO idempotency_keys (principal, idempotency_key, request_hash, status, body, headers, created_at_ms)
            VALUES (\(bind: principal), \(bind: key), \(bind: requestHash), \(bind: Int64(status)), \(bind: sealed), \(bind: headers), \(bind: atMs))
            """).run()
    }

    /// The keyed fingerprint of a request (method, path, canonical body without secrets).
    public func requestFingerprint(_ canonical: Data) -> String {
        cipher.fingerprint(canonical, domain: "idempotency-request")
    }

    /// What a pre-migration-6 row's fingerprint became: the old plain SHA-256 (hex), keyed.
    public func legacyRequestFingerprint(sha256Hex: String) -> String {
        "legacy:" + cipher.keyedDigest(ofLegacyHex: sha256Hex)
    }
}
