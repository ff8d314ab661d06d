import Foundation
import JoinInAPI
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore

/// Reference data: cities (public), bank branches and employers (admin).
struct ReferenceController: Sendable {
    let store: Store
    let config: ServerConfig
    let clock: AppClock

    func register(_ r: inout RouteRegistrar) {
        r.on(.get, "/v1/cities", .anyone) { request, _ in
            let list = try ListParameters(request)
            var interoperable: Bool?
            if let flag = request.uri.queryParameters["interoperable"] {
                guard flag == "true" || flag == "false" else {
                    throw DomainError.malformed("list.filter_invalid", "interoperable must be true or false")
                }
                interoperable = flag == "true"
            }
            if let cursor = list.cursor, !(cursor.count == 6 && cursor.allSatisfy(\.isASCIIDigit)) {
                throw DomainError.malformed("list.cursor_invalid", "cursor is not one this server issued")
            }
            let filter = interoperable
            let cities = try await store.read { tx in
                try await tx.cities(afterCode: list.cursor, interoperable: filter, limit: list.limit + 1)
            }
            let (page, next) = list.page(cities) { $0.code }
            return try JSON.response(Schemas.CityPage(items: page.map { Schemas.City(code: $0.code, name: API.name($0.name),
                                                                                          interoperable: $0.isInteroperable) },
                                                      nextCursor: next))
        }
        r.on(.post, "/v1/branches", .staff(.admin)) { request, context in
            let admin = try context.staff()
            let (body, bytes) = try await JSON.decode(Schemas.NewBranchRequest.self, from: request, limit: config.bodyBytesMax)
            let name = try LocalizedName.validated(en: body.name.en, zh: body.name.zh, field: "name")
            let id = newID()
            let now = clock.nowMs()
            return try await Idempotency.write(store: store, request: request, body: bytes, principal: admin.auditName, nowMs: now) { tx in
                try await tx.requireCity(body.cityCode)
                try await tx.insertBranch(id: id, name: name, cityCode: body.cityCode, atMs: now)
                try await tx.appendAudit(actor: admin.auditName, action: "branch.create", objectType: "branch", objectID: id, atMs: now)
                return try .json(Schemas.Id(id: id))
            }
        }
        r.on(.get, "/v1/branches", .staff(.admin, .bankClerk)) { request, _ in
            let list = try ListParameters(request)
            let cursor = try list.cursor.map(PageCursor.parse)
            let rows = try await store.read { tx in try await tx.branches(before: cursor, limit: list.limit + 1) }
            let (page, next) = list.page(rows) { PageCursor(timeMs: $0.createdAtMs, id: $0.id).encoded }
            return try JSON.response(Schemas.BranchPage(items: page.map { Schemas.Branch(id: $0.id, name: API.name($0.name), cityCode: $0.cityCode) },
                                                        nextCursor: next))
        }
        r.on(.post, "/v1/employers", .staff(.admin)) { request, context in
            let admin = try context.staff()
            let (body, bytes) = try await JSON.decode(Schemas.NewEmployerRequest.self, from: request, limit: config.bodyBytesMax)
            let name = try LocalizedName.validated(en: body.name.en, zh: body.name.zh, field: "name")
            let uscc = try UnifiedSocialCreditCode(validating: body.uscc)
            let id = newID()
            let now = clock.nowMs()
            return try await Idempotency.write(store: store, request: request, body: bytes, principal: admin.auditName, nowMs: now) { tx in
                try await tx.requireCity(body.cityCode)
                guard try await tx.employer(uscc: uscc.value) == nil else {
                    throw DomainError.conflict("employer.uscc_taken", "an employer with uscc \(uscc.value) already exists")
                }
                try await tx.insertEmployer(id: id, name: name, uscc: uscc.value, cityCode: body.cityCode, atMs: now)
                try await tx.appendAudit(actor: admin.auditName, action: "employer.create", objectType: "employer", objectID: id, atMs: now)
                return try .json(Schemas.Id(id: id))
            }
        }
        r.on(.get, "/v1/employers", .staff(.admin, .permitOfficer)) { request, _ in
            let list = try ListParameters(request)
            let cursor = try list.cursor.map(PageCursor.parse)
            let rows = try await store.read { tx in try await tx.employers(before: cursor, limit: list.limit + 1) }
            let (page, next) = list.page(rows) { PageCursor(timeMs: $0.createdAtMs, id: $0.id).encoded }
            return try JSON.response(Schemas.EmployerPage(items: page.map(Self.employer), nextCursor: next))
        }
        r.on(.get, "/v1/employers/{id}", Access.staff(.admin, .permitOfficer, .employer)
            .objects(.owned(by: "an employer account sees only its own employer"))) { request, context in
            let staff = try context.staff()
            let id = try context.parameters.require("id")
            guard let employer = try await store.read({ tx in try await tx.employer(id: id) }),
                  staff.role != .employer || staff.employerID == id else {
                throw DomainError.notFound("employer.not_found", "no employer \(id)")
            }
            return try JSON.response(Self.employer(employer))
        }
    }

    static func employer(_ employer: EmployerRecord) -> Schemas.Employer {
        Schemas.Employer(id: employer.id, name: API.name(employer.name), uscc: employer.uscc, cityCode: employer.cityCode)
    }
}
