import Foundation
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore

struct AuditDTO: Encodable {
    let sequence: Int64
    let at: String
    let actor: String
    let action: String
    let objectType: String
    let objectId: String
    let outcome: String
    let detail: String
    let hash: String
}

extension JoinIn {
    func registerAudit(_ r: inout RouteRegistrar) {
        r.on(.get, "/v1/audit-records") { request, _ in
            _ = try await auth.requireStaff(request, roles: [.admin])
            let list = try ListParameters(request)
            var before: Int64?
            if let cursor = list.cursor {
                guard let value = Int64(cursor), value > 0 else {
                    throw DomainError.malformed("list.cursor_invalid", "cursor is not one this server issued")
                }
                before = value
            }
            let start = before
            let rows = try await store.read { tx in try await tx.auditRecords(beforeSequence: start, limit: list.limit + 1) }
            let page = rows.prefix(list.limit)
            let items = page.map {
                AuditDTO(sequence: $0.sequence, at: Timestamps.rfc3339(ms: $0.atMs), actor: $0.actor, action: $0.action,
                         objectType: $0.objectType, objectId: $0.objectId, outcome: $0.outcome, detail: $0.detail, hash: $0.hash)
            }
            return try JSON.response(Page(items: Array(items), nextCursor: rows.count > list.limit ? page.last.map { String($0.sequence) } : nil))
        }
    }
}
