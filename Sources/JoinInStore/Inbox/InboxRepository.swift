public import JoinInCore
import Foundation
import SQLKit

// The e-card inbox (issue 13): messages produced in the transaction of what caused them. The
// body may name personal things (a clerk's note, a book's title): sealed like other personal data.

public struct InboxMessageRecord: Sendable, Equatable {
    public let id: String
    public let personId: String
    public let kind: String
    public let title: LocalizedName
    public let body: LocalizedName
    public let linkType: String?
    public let linkId: String?
    public let createdAtMs: Int64
    public let readAtMs: Int64?

    public var cursor: PageCursor { PageCursor(timeMs: createdAtMs, id: id) }
}

struct InboxRow: Decodable {
    let id: String
    let personId: String
    let kind: String
    let titleEn: String
    let titleZh: String
    let bodySealed: String
    let linkType: String?
    let linkId: String?
    let createdAtMs: Int64
    let readAtMs: Int64?
}

/// A new message: what it says, what it is about, and (for messages a sweep produces) a key that
/// makes a second production of the same message a no-op.
public struct NewInboxMessage: Sendable {
    public let id: String
    public let personID: String
    public let kind: InboxKind
    public let text: InboxText
    public let linkType: String?
    public let linkID: String?
    public let dedupeKey: String?

    public init(id: String, personID: String, kind: InboxKind, text: InboxText, linkType: String? = nil, linkID: String? = nil,
                dedupeKey: String? = nil) {
        self.id = id
        self.personID = personID
        self.kind = kind
        self.text = text
        self.linkType = linkType
        self.linkID = linkID
        self.dedupeKey = dedupeKey
    }
}

extension StoreTx {
    static let inboxBodyColumn = "inbox_messages.body"

    /// Stores a message; false when a message with the same dedupe key was already produced.
    @discardableResult
    public func insertInboxMessage(_ message: NewInboxMessage, atMs: Int64) async throws -> Bool {
        let body = try JSONEncoder().encode(["en": message.text.body.en, "zh": message.text.body.zh])
        let sealed = try seal(String(decoding: body, as: UTF8.self), column: Self.inboxBodyColumn)
        return try await sql.raw("""
            INSERT INTO inbox_messages (id, person_id, kind, title_en, title_zh, body_sealed, link_type, link_id, dedupe_key, created_at_ms)
            VALUES (\(bind: message.id), \(bind: message.personID), \(bind: message.kind.rawValue), \(bind: message.text.title.en),
                \(bind: message.text.title.zh), \(bind: sealed), \(bind: message.linkType), \(bind: message.linkID), \(bind: message.dedupeKey),
                \(bind: atMs))
            ON CONFLICT (person_id, dedupe_key) DO NOTHING RETURNING id
            """).all().count == 1
    }

    func inboxRecord(_ row: InboxRow) throws -> InboxMessageRecord {
        let body = try JSONDecoder().decode([String: String].self, from: Data(try open(row.bodySealed, column: Self.inboxBodyColumn).utf8))
        return InboxMessageRecord(id: row.id, personId: row.personId, kind: row.kind, title: LocalizedName(en: row.titleEn, zh: row.titleZh),
                                  body: LocalizedName(en: body["en"] ?? "", zh: body["zh"] ?? ""), linkType: row.linkType,
                                  linkId: row.linkId, createdAtMs: row.createdAtMs, readAtMs: row.readAtMs)
    }

    /// One person's messages, newest first (optionally unread only).
    public func inboxMessages(personID: String, unreadOnly: Bool, before cursor: PageCursor?, limit: Int) async throws -> [InboxMessageRecord] {
        let (time, id) = cursor.map { ($0.timeMs, $0.id) } ?? (Int64.max, "")
        let unread = unreadOnly ? " AND read_at_ms IS NULL" : ""
        return try await sql.raw("""
            SELECT * FROM inbox_messages WHERE person_id = \(bind: personID)\(unsafeRaw: unread)
                AND created_at_ms <= \(bind: time) AND (created_at_ms < \(bind: time) OR id < \(bind: id))
            ORDER BY created_at_ms DESC, id DESC LIMIT \(bind: max(0, limit))
            """).allRecords(InboxRow.self).map(inboxRecord)
    }

    public func inboxMessage(id: String) async throws -> InboxMessageRecord? {
        try await sql.raw("SELECT * FROM inbox_messages WHERE id = \(bind: id)").firstRecord(InboxRow.self).map(inboxRecord)
    }

    public func unreadInboxCount(personID: String) async throws -> Int {
        Int(try await sql.raw("SELECT COUNT(*) AS n FROM inbox_messages WHERE person_id = \(bind: personID) AND read_at_ms IS NULL")
            .first()?.decode(column: "n", as: Int64.self) ?? 0)
    }

    /// Marks one message read (the first time only); false when it is not this person's.
    public func markInboxRead(id: String, personID: String, atMs: Int64) async throws -> Bool {
        try await sql.raw("""
            UPDATE inbox_messages SET read_at_ms = COALESCE(read_at_ms, \(bind: atMs)) WHERE id = \(bind: id) AND person_id = \(bind: personID)
            RETURNING id
            """).all().count == 1
    }

    /// Marks every message of a person read; returns how many were unread.
    public func markAllInboxRead(personID: String, atMs: Int64) async throws -> Int {
        try await sql.raw("""
            UPDATE inbox_messages SET read_at_ms = \(bind: atMs) WHERE person_id = \(bind: personID) AND read_at_ms IS NULL RETURNING id
            """).all().count
    }

    /// Retention: deletes messages older than `beforeMs`, and beyond the newest `keep` per person;
    /// returns how many went.
    public func sweepInbox(beforeMs: Int64, keep: Int, limit: Int) async throws -> Int {
        var removed = try await sql.raw("""
            DELETE FROM inbox_messages WHERE id IN (SELECT id FROM inbox_messages WHERE created_at_ms < \(bind: beforeMs) LIMIT \(bind: limit))
            RETURNING id
            """).all().count
        let crowded = try await sql.raw("""
            SELECT person_id FROM inbox_messages GROUP BY person_id HAVING COUNT(*) > \(bind: keep) LIMIT 100
            """).all().map { try $0.decode(column: "person_id", as: String.self) }
        for person in crowded {
            removed += try await sql.raw("""
                DELETE FROM inbox_messages WHERE person_id = \(bind: person) AND id NOT IN (
                    SELECT id FROM inbox_messages WHERE person_id = \(bind: person) ORDER BY created_at_ms DESC, id DESC LIMIT \(bind: keep))
                RETURNING id
                """).all().count
        }
        return removed
    }

    // MARK: reminder candidates (the sweeper turns them into messages; dedupe keys stop repeats)

    /// Open loans due between `from` and `to` (inclusive) with no reminder for that due date yet.
    public func loansDueSoon(from: CivilDate, to: CivilDate, limit: Int) async throws -> [(loanID: String, personID: String, title: String, due: String)] {
        try await sql.raw("""
            SELECT l.id, l.person_id, l.due_date, i.title FROM library_loans l
            JOIN library_items i ON i.city_code = l.city_code AND i.barcode = l.barcode
            WHERE l.returned_at_ms IS NULL AND l.due_date >= \(bind: from.description) AND l.due_date <= \(bind: to.description)
              AND NOT EXISTS (SELECT 1 FROM inbox_messages m WHERE m.person_id = l.person_id
                              AND m.dedupe_key = 'loan-due:' || l.id || ':' || l.due_date)
            ORDER BY l.due_date, l.id LIMIT \(bind: limit)
            """).all().map { row in
            (try row.decode(column: "id", as: String.self), try row.decode(column: "person_id", as: String.self),
             try row.decode(column: "title", as: String.self), try row.decode(column: "due_date", as: String.self))
        }
    }

    /// Permits not cancelled whose last valid day is between `from` and `to` and that are still
    /// their person's latest, with no expiry message yet.
    public func permitsExpiring(from: CivilDate, to: CivilDate, limit: Int) async throws -> [(permitID: String, personID: String, validUntil: String)] {
        try await sql.raw("""
            SELECT p.id, p.person_id, p.valid_until FROM permits p
            WHERE p.cancelled_at_ms IS NULL AND p.valid_until >= \(bind: from.description) AND p.valid_until <= \(bind: to.description)
              AND NOT EXISTS (SELECT 1 FROM permits q WHERE q.person_id = p.person_id AND q.issued_at_ms > p.issued_at_ms)
              AND NOT EXISTS (SELECT 1 FROM inbox_messages m WHERE m.person_id = p.person_id AND m.dedupe_key = 'permit-expiring:' || p.id)
            ORDER BY p.valid_until, p.id LIMIT \(bind: limit)
            """).all().map { row in
            (try row.decode(column: "id", as: String.self), try row.decode(column: "person_id", as: String.self),
             try row.decode(column: "valid_until", as: String.self))
        }
    }
}
