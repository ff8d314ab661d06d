public import Foundation
public import JoinInCore
import SQLKit

public struct AuditRecord: Sendable, Equatable, Decodable {
    public let lane: Int64
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
                   objectID: objectId, outcome: outcome, detail: detail, lane: lane)
    }
}

struct AuditHead: Decodable {
    let lane: Int64
    let sequence: Int64
    let hash: String
}

extension StoreTx {
    /// Appends one record to a hash chain inside the current write transaction, so the record
    /// exists exactly when the action it describes does.
    @discardableResult
    public func appendAudit(actor: String, action: String, objectType: String, objectID: String,
                            outcome: String = "ok", detail: String = "", atMs: Int64) async throws -> Int64 {
        let lane = Int64.random(in: 0..<Int64(AuditChain.laneCount))
        /// Appends after `head`; false when the stored head is no longer `head` (only possible
        /// for a remembered head, see `WriterMemo`).
        func append(after head: AuditHead, checkingHash: Bool) async throws -> Int64? {
            let entry = AuditEntry(sequence: head.sequence + 1, atMs: atMs, actor: actor, action: action, objectType: objectType,
                                   objectID: objectID, outcome: outcome, detail: String(detail.prefix(1000)), lane: lane)
            let hash = AuditChain.hash(previous: head.hash, entry: entry)
            // Move the head first: a concurrent appender to the same lane then waits on this row and
            // fails with a serialization error (retried) instead of racing on the record's key.
            var update: SQLQueryString = """
                UPDATE audit_heads SET sequence = \(bind: entry.sequence), hash = \(bind: hash)
                WHERE lane = \(bind: lane) AND sequence = \(bind: head.sequence)
                """
            if checkingHash {
                update.appendLiteral(" AND hash = ")
                update.appendInterpolation(bind: head.hash)
            }
            update.appendLiteral(" RETURNING lane")
            let moved = try await sql.raw(update).all()
            guard moved.count == 1 else { return nil }
            try await sql.raw("""
                INSERT INTO audit_log (lane, sequence, at_ms, actor, action, object_type, object_id, outcome, detail, previous_hash, hash)
                VALUES (\(bind: lane), \(bind: entry.sequence), \(bind: atMs), \(bind: entry.actor), \(bind: action), \(bind: objectType),
                        \(bind: objectID), \(bind: outcome), \(bind: entry.detail), \(bind: head.hash), \(bind: hash))
                """).run()
            writerMemo?.auditHeads[lane] = AuditHead(lane: lane, sequence: entry.sequence, hash: hash)
            return entry.sequence
        }
        // The SQLite writer remembers the heads it stored: no read, and the compare-and-set on
        // (sequence, hash) notices a head that was rolled back or moved by another process.
        if let remembered = writerMemo?.auditHeads[lane] {
            if let sequence = try await append(after: remembered, checkingHash: true) { return sequence }
            writerMemo?.auditHeads[lane] = nil
        }
        // Locked on PostgreSQL: under `.lockedRows` a concurrent appender to this lane waits here.
        guard let head = try await sql.raw("SELECT lane, sequence, hash FROM audit_heads WHERE lane = \(bind: lane)\(unsafeRaw: lockForUpdate)")
            .firstRecord(AuditHead.self) else {
            throw StoreError.corrupt("audit lane \(lane) has no head")
        }
        guard let sequence = try await append(after: head, checkingHash: false) else {
            throw StoreError.corrupt("audit lane \(lane) head moved inside the transaction")
        }
        return sequence
    }

    /// Newest first by time, before the (time, lane, sequence) position of `cursor`.
    public func auditRecords(before cursor: AuditCursor?, limit: Int) async throws -> [AuditRecord] {
        let (time, lane, sequence) = cursor.map { ($0.atMs, $0.lane, $0.sequence) } ?? (Int64.max, Int64.max, Int64.max)
        return try await sql.raw("""
            SELECT * FROM audit_log
            WHERE at_ms < \(bind: time) OR (at_ms = \(bind: time) AND (lane < \(bind: lane) OR (lane = \(bind: lane) AND sequence < \(bind: sequence))))
            ORDER BY at_ms DESC, lane DESC, sequence DESC LIMIT \(bind: limit)
            """).allRecords(AuditRecord.self)
    }

    /// One lane, oldest first, after `afterSequence`, for chain verification in pages.
    public func auditRecords(lane: Int64, afterSequence: Int64, limit: Int) async throws -> [AuditRecord] {
        try await sql.raw("""
            SELECT * FROM audit_log WHERE lane = \(bind: lane) AND sequence > \(bind: afterSequence) ORDER BY sequence LIMIT \(bind: limit)
            """).allRecords(AuditRecord.self)
    }

    func auditHeads() async throws -> [AuditHead] {
        try await sql.raw("SELECT lane, sequence, hash FROM audit_heads ORDER BY lane").allRecords(AuditHead.self)
    }
}

/// A position in the newest-first audit listing.
public struct AuditCursor: Sendable, Equatable {
    public let atMs: Int64
    public let lane: Int64
    public let sequence: Int64

    public init(atMs: Int64, lane: Int64, sequence: Int64) {
        self.atMs = atMs
        self.lane = lane
        self.sequence = sequence
    }

    public init?(encoded: String) {
        let parts = encoded.split(separator: "-")
        guard parts.count == 3, let at = Int64(parts[0]), let lane = Int64(parts[1]), let sequence = Int64(parts[2]) else { return nil }
        self.init(atMs: at, lane: lane, sequence: sequence)
    }

    public var encoded: String { "\(atMs)-\(lane)-\(sequence)" }
}

extension Store {
    /// Verifies every lane of the audit trail page by page: each record's hash, each link, no
    /// gaps, and that each lane ends exactly at its recorded head. Reports the first broken link.
    public func verifyAudit(pageSize: Int = 5000) async throws -> AuditChain.Verdict {
        let heads = try await read { tx in try await tx.auditHeads() }
        guard heads.count == AuditChain.laneCount else {
            return .broken(sequence: 0, reason: "expected \(AuditChain.laneCount) audit lanes, found \(heads.count)")
        }
        var count = 0
        for head in heads {
            var after: Int64 = 0
            var previousHash = AuditChain.genesisHash
            while true {
                let cursor = after
                let page = try await read { tx in try await tx.auditRecords(lane: head.lane, afterSequence: cursor, limit: pageSize) }
                if page.isEmpty { break }
                let verdict = AuditChain.verify(page.map { (entry: $0.entry, previousHash: $0.previousHash, hash: $0.hash) },
                                                startingAt: after + 1, previousHash: previousHash)
                if case .broken(let sequence, let reason) = verdict {
                    return .broken(sequence: sequence, reason: "lane \(head.lane): \(reason)")
                }
                count += page.count
                after = page[page.count - 1].sequence
                previousHash = page[page.count - 1].hash
            }
            guard after == head.sequence, previousHash == head.hash else {
                return .broken(sequence: after + 1,
                               reason: "lane \(head.lane): the chain ends at record \(after) but its head says \(head.sequence); records were removed or the head altered")
            }
        }
        return .intact(count: count)
    }
}
