public import Crypto

/// One entry of the hash-chained audit log: who did what to which object, when, with what outcome.
public struct AuditEntry: Sendable, Equatable {
    /// Which chain the entry belongs to (see `AuditChain.laneCount`).
    public let lane: Int64
    public let sequence: Int64
    public let atMs: Int64
    public let actor: String
    public let action: String
    public let objectType: String
    public let objectID: String
    public let outcome: String
    public let detail: String

    public init(sequence: Int64, atMs: Int64, actor: String, action: String, objectType: String, objectID: String,
                outcome: String, detail: String, lane: Int64 = 0) {
        self.lane = lane
        self.sequence = sequence
        self.atMs = atMs
        self.actor = actor
        self.action = action
        self.objectType = objectType
        self.objectID = objectID
        self.outcome = outcome
        self.detail = detail
    }

    /// Length-prefixed fields, so no choice of field contents can make two records encode alike.
    public var canonicalBytes: [UInt8] {
        var bytes: [UInt8] = []
        // Lane 0 encodes as before lanes existed, so single-chain records keep their hashes.
        let laneField = lane == 0 ? [] : ["lane=\(lane)"]
        for field in laneField + [String(sequence), String(atMs), actor, action, objectType, objectID, outcome, detail] {
            let utf8 = Array(field.utf8)
            bytes.append(contentsOf: String(utf8.count).utf8)
            bytes.append(0x3A)
            bytes.append(contentsOf: utf8)
        }
        return bytes
    }
}

public enum AuditChain {
    /// The trail is this many independent chains; a writer appends to one chosen at random, so
    /// concurrent transactions on PostgreSQL seldom contend for the same chain head.
    public static let laneCount = 8

    /// The hash before the first record.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// hash = SHA-256(prev_hash ‖ record), hex.
    public static func hash(previous: String, entry: AuditEntry) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(previous.utf8))
        hasher.update(data: entry.canonicalBytes)
        return Hex.lowercase(hasher.finalize())
    }

    public enum Verdict: Sendable, Equatable {
        case intact(count: Int)
        /// The first record whose stored hash or link does not match.
        case broken(sequence: Int64, reason: String)
    }

    /// Walks records in sequence order and reports the first broken link.
    public static func verify(_ records: some Sequence<(entry: AuditEntry, previousHash: String, hash: String)>,
                              startingAt firstSequence: Int64 = 1, previousHash: String = genesisHash) -> Verdict {
        var expectedPrevious = previousHash
        var expectedSequence = firstSequence
        var count = 0
        for record in records {
            guard record.entry.sequence == expectedSequence else {
                return .broken(sequence: record.entry.sequence, reason: "expected sequence \(expectedSequence): a record is missing or reordered")
            }
            guard record.previousHash == expectedPrevious else {
                return .broken(sequence: record.entry.sequence, reason: "previous hash does not match the record before it")
            }
            guard hash(previous: record.previousHash, entry: record.entry) == record.hash else {
                return .broken(sequence: record.entry.sequence, reason: "record contents do not match its hash")
            }
            expectedPrevious = record.hash
            expectedSequence += 1
            count += 1
        }
        return .intact(count: count)
    }
}
