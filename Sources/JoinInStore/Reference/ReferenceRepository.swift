public import JoinInCore
import SQLKit

public struct CityRecord: Sendable, Equatable, Decodable {
    public let code: String
    public let nameEn: String
    public let nameZh: String
    public let interoperable: Int64

    public var name: LocalizedName { LocalizedName(en: nameEn, zh: nameZh) }
    public var isInteroperable: Bool { interoperable != 0 }
}

public struct BranchRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let nameEn: String
    public let nameZh: String
    public let cityCode: String
    public let createdAtMs: Int64

    public var name: LocalizedName { LocalizedName(en: nameEn, zh: nameZh) }
}

public struct EmployerRecord: Sendable, Equatable, Decodable {
    public let id: String
    public let nameEn: String
    public let nameZh: String
    public let uscc: String
    public let cityCode: String
    public let createdAtMs: Int64

    public var name: LocalizedName { LocalizedName(en: nameEn, zh: nameZh) }
}

public enum UpsertOutcome: Sendable, Equatable {
    case inserted, updated, unchanged
}

extension StoreTx {
    public func upsertCity(code: String, name: LocalizedName, interoperable: Bool, atMs: Int64) async throws -> UpsertOutcome {
        if let existing = try await city(code: code) {
            if existing.name == name && existing.isInteroperable == interoperable { return .unchanged }
            try await sql.raw("""
                UPDATE cities SET name_en = \(bind: name.en), name_zh = \(bind: name.zh),
                    interoperable = \(bind: interoperable.storedFlag), updated_at_ms = \(bind: atMs)
                WHERE code = \(bind: code)
                """).run()
            return .updated
        }
        try await sql.raw("""
            INSERT INTO cities (code, name_en, name_zh, interoperable, updated_at_ms)
            VALUES (\(bind: code), \(bind: name.en), \(bind: name.zh), \(bind: interoperable.storedFlag), \(bind: atMs))
            """).run()
        return .inserted
    }

    public func city(code: String) async throws -> CityRecord? {
        try await sql.raw("SELECT code, name_en, name_zh, interoperable FROM cities WHERE code = \(bind: code)")
            .firstRecord(CityRecord.self)
    }

    /// Cities in code order, after `afterCode`.
    public func cities(afterCode: String?, interoperable: Bool?, limit: Int) async throws -> [CityRecord] {
        let after = afterCode ?? ""
        if let interoperable {
            return try await sql.raw("""
                SELECT code, name_en, name_zh, interoperable FROM cities
                WHERE code > \(bind: after) AND interoperable = \(bind: interoperable.storedFlag)
                ORDER BY code LIMIT \(bind: limit)
                """).allRecords(CityRecord.self)
        }
        return try await sql.raw("""
            SELECT code, name_en, name_zh, interoperable FROM cities WHERE code > \(bind: after)
            ORDER BY code LIMIT \(bind: limit)
            """).allRecords(CityRecord.self)
    }

    public func cityCount() async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS n FROM cities").first()?.decode(column: "n", as: Int.self) ?? 0
    }

    public func insertBranch(id: String, name: LocalizedName, cityCode: String, atMs: Int64) async throws {
        try await sql.raw("""
            INSERT INTO branches (id, name_en, name_zh, city_code, created_at_ms)
            VALUES (\(bind: id), \(bind: name.en), \(bind: name.zh), \(bind: cityCode), \(bind: atMs))
            """).run()
    }

    public func branch(id: String) async throws -> BranchRecord? {
        try await sql.raw("SELECT * FROM branches WHERE id = \(bind: id)").firstRecord(BranchRecord.self)
    }

    public func branches(before cursor: PageCursor?, limit: Int) async throws -> [BranchRecord] {
        let (time, id) = cursor.map { ($0.timeMs, $0.id) } ?? (Int64.max, "")
        return try await sql.raw("""
            SELECT * FROM branches WHERE created_at_ms < \(bind: time) OR (created_at_ms = \(bind: time) AND id < \(bind: id))
            ORDER BY created_at_ms DESC, id DESC LIMIT \(bind: limit)
            """).allRecords(BranchRecord.self)
    }

    public func insertEmployer(id: String, name: LocalizedName, uscc: String, cityCode: String, atMs: Int64) async throws {
        try await sql.raw("""
            INSERT INTO employers (id, name_en, name_zh, uscc, city_code, created_at_ms)
            VALUES (\(bind: id), \(bind: name.en), \(bind: name.zh), \(bind: uscc), \(bind: cityCode), \(bind: atMs))
            """).run()
    }

    public func employer(id: String) async throws -> EmployerRecord? {
        try await sql.raw("SELECT * FROM employers WHERE id = \(bind: id)").firstRecord(EmployerRecord.self)
    }

    public func employer(uscc: String) async throws -> EmployerRecord? {
        try await sql.raw("SELECT * FROM employers WHERE uscc = \(bind: uscc)").firstRecord(EmployerRecord.self)
    }

    public func employers(before cursor: PageCursor?, limit: Int) async throws -> [EmployerRecord] {
        let (time, id) = cursor.map { ($0.timeMs, $0.id) } ?? (Int64.max, "")
        return try await sql.raw("""
            SELECT * FROM employers WHERE created_at_ms < \(bind: time) OR (created_at_ms = \(bind: time) AND id < \(bind: id))
            ORDER BY created_at_ms DESC, id DESC LIMIT \(bind: limit)
            """).allRecords(EmployerRecord.self)
    }
}
