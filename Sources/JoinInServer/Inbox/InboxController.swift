import Foundation
import JoinInAPI
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore

/// Producing inbox messages: called inside the transaction of the event that causes them, so a
/// message exists exactly when its cause does.
enum Inbox {
    /// Posts one message to a person's inbox; with a `dedupeKey`, a repeat is a no-op.
    @discardableResult
    static func post(_ tx: StoreTx, personID: String, kind: InboxKind, plain: [String: String] = [:], localized: [String: LocalizedName] = [:],
                     link: (type: String, id: String)? = nil, dedupeKey: String? = nil, nowMs: Int64) async throws -> Bool {
        try await tx.insertInboxMessage(NewInboxMessage(id: newID(), personID: personID, kind: kind,
                                                        text: InboxRules.text(kind, plain: plain, localized: localized),
                                                        linkType: link?.type, linkID: link?.id, dedupeKey: dedupeKey), atMs: nowMs)
    }

    /// A large debit from a cardholder's own account (issue 13): one message when a single transfer
    /// takes at least `InboxRules.largeDebitFen`.
    static func noteDebit(_ tx: StoreTx, account: LedgerAccountRecord, amountFen: Int64, what: LocalizedName, nowMs: Int64) async throws {
        guard amountFen >= InboxRules.largeDebitFen, let kind = AccountKind(rawValue: account.kind), kind.isCardholderAccount else { return }
        try await post(tx, personID: account.ownerId, kind: .largeDebit, plain: ["amount": InboxRules.yuan(amountFen)],
                       localized: ["account": InboxRules.accountName(kind), "what": what], nowMs: nowMs)
    }
}

/// The cardholder's inbox: `GET /v1/ecard/inbox`, marking messages read.
struct InboxController: Sendable {
    let store: Store
    let clock: AppClock

    func register(_ r: inout RouteRegistrar) {
        r.on(.get, "/v1/ecard/inbox", .cardholder) { request, context in
            let holder = try context.cardholder()
            let list = try ListParameters(request)
            let cursor = try list.cursor.map(PageCursor.parse)
            let unreadOnly: Bool
            switch request.uri.queryParameters["unread"].map(String.init) {
            case nil, "false"?: unreadOnly = false
            case "true"?: unreadOnly = true
            default: throw DomainError.malformed("inbox.filter_invalid", "unread must be true or false")
            }
            let (rows, unread) = try await store.read { tx in
                (try await tx.inboxMessages(personID: holder.personID, unreadOnly: unreadOnly, before: cursor, limit: list.limit + 1),
                 try await tx.unreadInboxCount(personID: holder.personID))
            }
            let (page, next) = list.page(rows) { $0.cursor.encoded }
            return try JSON.response(Schemas.InboxPage(items: try page.map(Self.view), unreadCount: unread, nextCursor: next),
                                     headers: [.cacheControl: "no-store"])
        }
        r.on(.post, "/v1/ecard/inbox/{id}/read", Access.cardholder.objects(.owned(by: "a holder reads only their own messages"))) { _, context in
            let holder = try context.cardholder()
            let id = try context.parameters.require("id")
            let now = clock.nowMs()
            let message = try await store.write { tx -> InboxMessageRecord in
                guard try await tx.markInboxRead(id: id, personID: holder.personID, atMs: now), let message = try await tx.inboxMessage(id: id) else {
                    throw DomainError.notFound("inbox.message_not_found", "no message \(id.prefix(64))")
                }
                return message
            }
            return try JSON.response(try Self.view(message))
        }
        r.on(.post, "/v1/ecard/inbox/read-all", .cardholder) { _, context in
            let holder = try context.cardholder()
            let now = clock.nowMs()
            let marked = try await store.write { tx in try await tx.markAllInboxRead(personID: holder.personID, atMs: now) }
            return try JSON.response(Schemas.InboxReadAll(marked: marked))
        }
    }

    static func view(_ message: InboxMessageRecord) throws -> Schemas.InboxMessage {
        Schemas.InboxMessage(id: message.id, kind: try API.value(message.kind), title: API.name(message.title), body: API.name(message.body),
                             link: message.linkType.flatMap { type in message.linkId.map { Schemas.InboxMessage.LinkPayload(_type: type, id: $0) } },
                             at: API.instant(ms: message.createdAtMs), read: message.readAtMs != nil)
    }
}
