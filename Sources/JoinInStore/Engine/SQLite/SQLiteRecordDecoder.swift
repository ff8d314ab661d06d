import Foundation
import SQLKit

/// Decodes one SQLite row into a record, columns named as `SQLRowDecoder.snake` names them: the
/// same result as SQLKit's `SQLRowDecoder`, without its detours. That decoder reaches every
/// column through generic `decode<T>` calls, a boxed custom key per column and a dynamic cast
/// per value; rows decoded through it were ~13% of the server's CPU on an authenticated read
/// (perf, docs/performance.md). Here strings, integers, booleans and floats are read by their
/// own container methods (which the compiler's synthesized `init(from:)` calls directly), with
/// the conversions of `SQLiteValueDecoder`; any other type (enums, number wrappers, JSON
/// columns) goes through `SQLiteValueDecoder` as before.
///
/// Semantics kept from `SQLRowDecoder`: a missing column is `keyNotFound`, or `nil` for an
/// optional; NULL is `nil` for an optional and a type mismatch otherwise; a record reads one
/// keyed container (no nested, unkeyed or top-level single-value containers).
enum SQLiteRecordDecoder {
    static func decode<D: Decodable>(_ type: D.Type, from row: SQLiteRow) throws -> D {
        let cursor = PlanCursor(plan: row.columns.plan(for: D.self))
        let record = try D(from: RowDecoder(row: row, cursor: cursor))
        if cursor.plan == nil { row.columns.remember(cursor.recorded, for: D.self) }
        return record
    }

    /// Where one record's decoding stands in its type's `PropertyPlan` (or records the plan, the
    /// first time). Names are compared in order, so a type that asks in another order is still
    /// decoded right, through the name lookup.
    private final class PlanCursor {
        let plan: PropertyPlan?
        var next = 0
        var recorded = PropertyPlan()

        init(plan: PropertyPlan?) {
            self.plan = plan
        }

        func position(of name: String, in columns: SQLiteColumnIndex) -> Int? {
            let step = next
            next += 1
            if let plan, step < plan.names.count, plan.names[step] == name {
                let position = plan.positions[step]
                return position >= 0 ? position : nil
            }
            let position = columns.position(ofProperty: name)
            if plan == nil {
                recorded.names.append(name)
                recorded.positions.append(position ?? -1)
            }
            return position
        }
    }

    private struct RowDecoder: Decoder {
        let row: SQLiteRow
        let cursor: PlanCursor
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy _: Key.Type) throws -> KeyedDecodingContainer<Key> {
            KeyedDecodingContainer(Container<Key>(row: row, cursor: cursor))
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw unsupported("an unkeyed container") }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { throw unsupported("a single-value container") }

        private func unsupported(_ what: String) -> DecodingError {
            DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "a row decodes as a keyed record, not as \(what)"))
        }
    }

    private struct Container<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let row: SQLiteRow
        let cursor: PlanCursor
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { [] }

        /// The value of the key's column, or nil when the row has no such column.
        private func value(_ key: Key) -> SQLiteValue? {
            guard let position = cursor.position(of: key.stringValue, in: row.columns) else { return nil }
            return row.values[position]
        }

        private func present(_ key: Key) throws -> SQLiteValue {
            guard let value = value(key) else {
                throw DecodingError.keyNotFound(key, .init(codingPath: [], debugDescription:
                    "No value associated with key \"\(key.stringValue)\" (as \"\(SnakeCaseKeys.column(for: key.stringValue))\")."))
            }
            return value
        }

        private func convert<T>(_ key: Key, _ value: SQLiteValue, _ conversion: (SQLiteValue) -> T?) throws -> T {
            guard let converted = conversion(value) else {
                let mismatch = SQLiteValueDecoder.mismatch(T.self, value)
                if case .typeMismatch(let type, let context) = mismatch {
                    throw DecodingError.typeMismatch(type, .init(codingPath: [key], debugDescription: context.debugDescription))
                }
                throw mismatch
            }
            return converted
        }

        /// nil for a missing column or NULL, as `decodeIfPresent` does with `contains` and `decodeNil`.
        private func optional<T>(_ key: Key, _ conversion: (SQLiteValue) -> T?) throws -> T? {
            guard let value = value(key), value != .null else { return nil }
            return try convert(key, value, conversion)
        }

        func contains(_ key: Key) -> Bool { value(key) != nil }

        func decodeNil(forKey key: Key) throws -> Bool { (value(key) ?? .null) == .null }

        func decode(_: String.Type, forKey key: Key) throws -> String { try convert(key, try present(key), SQLiteValueDecoder.string) }
        func decode(_: Int64.Type, forKey key: Key) throws -> Int64 { try convert(key, try present(key), SQLiteValueDecoder.int64) }
        func decode(_: Int.Type, forKey key: Key) throws -> Int {
            try convert(key, try present(key)) { SQLiteValueDecoder.int64($0).flatMap { Int(exactly: $0) } }
        }
        func decode(_: Bool.Type, forKey key: Key) throws -> Bool { try convert(key, try present(key), SQLiteValueDecoder.bool) }
        func decode(_: Double.Type, forKey key: Key) throws -> Double { try convert(key, try present(key), SQLiteValueDecoder.double) }

        func decodeIfPresent(_: String.Type, forKey key: Key) throws -> String? { try optional(key, SQLiteValueDecoder.string) }
        func decodeIfPresent(_: Int64.Type, forKey key: Key) throws -> Int64? { try optional(key, SQLiteValueDecoder.int64) }
        func decodeIfPresent(_: Int.Type, forKey key: Key) throws -> Int? {
            try optional(key) { SQLiteValueDecoder.int64($0).flatMap { Int(exactly: $0) } }
        }
        func decodeIfPresent(_: Bool.Type, forKey key: Key) throws -> Bool? { try optional(key, SQLiteValueDecoder.bool) }
        func decodeIfPresent(_: Double.Type, forKey key: Key) throws -> Double? { try optional(key, SQLiteValueDecoder.double) }

        func decode<T: Decodable>(_: T.Type, forKey key: Key) throws -> T {
            try generic(T.self, key, try present(key))
        }

        func decodeIfPresent<T: Decodable>(_: T.Type, forKey key: Key) throws -> T? {
            guard let value = value(key), value != .null else { return nil }
            return try generic(T.self, key, value)
        }

        private func generic<T: Decodable>(_: T.Type, _ key: Key, _ value: SQLiteValue) throws -> T {
            do {
                return try SQLiteValueDecoder.decode(T.self, from: value)
            } catch DecodingError.typeMismatch(let type, let context) {
                throw DecodingError.typeMismatch(type, .init(codingPath: [key] + context.codingPath, debugDescription: context.debugDescription))
            } catch DecodingError.dataCorrupted(let context) {
                throw DecodingError.dataCorrupted(.init(codingPath: [key] + context.codingPath, debugDescription: context.debugDescription))
            }
        }

        func nestedContainer<N: CodingKey>(keyedBy _: N.Type, forKey key: Key) throws -> KeyedDecodingContainer<N> {
            throw unsupported(key)
        }
        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { throw unsupported(key) }
        func superDecoder() throws -> any Decoder { throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "rows have no super decoder")) }
        func superDecoder(forKey key: Key) throws -> any Decoder { throw unsupported(key) }

        private func unsupported(_ key: Key) -> DecodingError {
            DecodingError.dataCorrupted(.init(codingPath: [key], debugDescription: "a column decodes as one value, not as a nested container"))
        }
    }
}

extension SQLRow {
    /// This row as a record, columns snake_case (`SQLRowDecoder.snake`); SQLite rows take
    /// `SQLiteRecordDecoder`'s direct path, PostgreSQL rows SQLKit's decoder.
    func record<D: Decodable>(_ type: D.Type) throws -> D {
        if let row = self as? SQLiteRow { return try SQLiteRecordDecoder.decode(D.self, from: row) }
        return try decode(model: D.self, with: .snake)
    }
}

extension SQLQueryFetcher {
    /// The first row as a record (see `SQLRow.record`), or nil.
    func firstRecord<D: Decodable>(_ type: D.Type) async throws -> D? {
        try await first()?.record(D.self)
    }

    /// Every row as a record (see `SQLRow.record`).
    func allRecords<D: Decodable>(_ type: D.Type) async throws -> [D] {
        try await all().map { try $0.record(D.self) }
    }
}
