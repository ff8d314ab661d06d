import Foundation
import JoinInAPI
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore

/// The hash-chained audit trail, newest first, for administrators.
struct AuditController: Sendable {
    let store: Store

    func register(_ r: inout RouteRegistrar) {
        r.on(.get, "/v1/audit-records", .staff(.admin)) { request, _ in
            let list = try ListParameters(request)
            var before: AuditCursor?
            if let cursor = list.cursor {
                guard let value = AuditCursor(encoded: cursor) else {
                    throw DomainError.malformed("list.cursor_invalid", "cursor is not one this server issued")
                }
                before = value
            }
            let start = before
            let rows = try await store.read { tx in try await tx.auditRecords(before: start, limit: list.limit + 1) }
            let (page, next) = list.page(rows) { AuditCursor(atMs: $0.atMs, lane: $0.lane, sequence: $0.sequence).encoded }
            let items = page.map {
                Schemas.AuditRecord(lane: $0.lane, sequence: $0.sequence, at: API.instant(ms: $0.atMs), actor: $0.actor, action: $0.action,
                                    objectType: $0.objectType, objectId: $0.objectId, outcome: $0.outcome, detail: $0.detail, hash: $0.hash)
            }
            return try JSON.response(Schemas.AuditRecordPage(items: items, nextCursor: next))
        }
    }
}
