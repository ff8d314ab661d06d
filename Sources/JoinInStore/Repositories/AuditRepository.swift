public import JoinInCore
import SQLKit

public struct AuditRecord: Sendable, Equatable, Decodable {
    public let sequence: Int64
    public let atMs: Int64
    public let actor: String
    public let action: String
    public let objectType: String
    public let objectId: String
    public let outcome: String
    public let detail: String
    public let previousHash: String
    public let hash: String

    public var entry: AuditEntry {
        AuditEntry(sequence: sequence, atMs: atMs, actor: actor, action: action, objectType: objectType,
                   objectID: objectId, outcome: outcome, detail: detail)
    }
}

extension StoreTx {
    /// Appends one record to the hash chain inside the current write transaction, so the record
    /// exists exactly when the action it describes does.
    @discardableResult
    public func appendAudit(actor: String, action: String, objectType: String, objectID: String,
                            outcome: String = "ok", detail: String = "", atMs: Int64) async throws -> Int64 {
        let last = try await sql.raw("SELECT sequence, hash FROM audit_log ORDER BY sequence DESC LIMIT 1").first()
        let sequence = (try last?.decode(column: "sequence", as: Int64.self) ?? 0) + 1
        let previous = try last?.decode(column: "hash", as: String.self) ?? AuditChain.genesisHash
        let entry = AuditEntry(sequence: sequence, atMs: atMs, actor: actor, action: action, objectType: objectType,
                               objectID: objectID, outcome: outcome, detail: String(detail.prefix(1000)))
        let hash = AuditChain.hash(previous: previous, entry: entry)
        try await sql.raw("""
            INSERT INTO audit_log (sequence, at_ms, actor, action, object_type, object_id, outcome, detail, previous_hash, hash)
            VALUES (\(bind: sequence), \(bind: atMs), \(bind: entry.actor), \(bind: action), \(bind: objectType), \(bind: objectID),
                    \(bind: outcome), \(bind: entry.detail), \(bind: previous), \(bind: hash))
            """).run()
        return sequence
    }

    /// Newest first, before `beforeSequence`.
    public func auditRecords(beforeSequence: Int64?, limit: Int) async throws -> [AuditRecord] {
        try await sql.raw("""
            SELECT * FROM audit_log WHERE sequence < \(bind: beforeSequence ?? Int64.max) ORDER BY sequence DESC LIMIT \(bind: limit)
            """).all(decoding: AuditRecord.self, with: .snake)
    }

    /// Oldest first, from `afterSequence`, for chain verification in pages.
    public func auditRecords(afterSequence: Int64, limit: Int) async throws -> [AuditRecord] {
        try await sql.raw("""
            SELECT * FROM audit_log WHERE sequence > \(bind: afterSequence) ORDER BY sequence LIMIT \(bind: limit)
            """).all(decoding: AuditRecord.self, with: .snake)
    }
}

extension Store {
    /// Verifies the whole audit chain page by page; reports the first broken link.
    public func verifyAudit(pageSize: Int = 5000) async throws -> AuditChain.Verdict {
        var after: Int64 = 0
        var previousHash = AuditChain.genesisHash
        var count = 0
        while true {
            let cursor = after
            let page = try await read { tx in try await tx.auditRecords(afterSequence: cursor, limit: pageSize) }
            if page.isEmpty { return .intact(count: count) }
            // Verify this page as a continuation of the previous one.
            var expectedSequence = after + 1
            for record in page {
                let verdict = AuditChain.verify(
                    [(entry: record.entry, previousHash: record.previousHash, hash: record.hash)],
                    startingAt: expectedSequence, previousHash: previousHash)
                if case .broken = verdict { return verdict }
                previousHash = record.hash
                expectedSequence += 1
                count += 1
            }
            after = page[page.count - 1].sequence
        }
    }
}

public struct IdempotencyRecord: Sendable, Equatable, Decodable {
    public let requestHash: String
    public let status: Int64
    public let body: String
    public let headers: String
}

extension StoreTx {
    public func idempotencyRecord(principal: String, key: String) async throws -> IdempotencyRecord? {
        try await sql.raw("""
            SELECT request_hash, status, body, headers FROM idempotency_keys
            WHERE principal = \(bind: principal) AND idempotency_key = \(bind: key)
            """).first(decoding: IdempotencyRecord.self, with: .snake)
    }

    public func insertIdempotencyRecord(principal: String, key: String, requestHash: String, status: Int,
                                        body: String, headers: String, atMs: Int64) async throws {
        try await sql.raw("""
            INSERT INTO idempotency_keys (principal, idempotency_key, request_hash, status, body, headers, created_at_ms)
            VALUES (\(bind: principal), \(bind: key), \(bind: requestHash), \(bind: Int64(status)), \(bind: body), \(bind: headers), \(bind: atMs))
            """).run()
    }
}
