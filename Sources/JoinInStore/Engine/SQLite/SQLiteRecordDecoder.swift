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
        let reader = Reader(row: row, plan: row.columns.plan(for: D.self))
        let record = try D(from: RowDecoder(reader: reader))
        if reader.plan == nil {
            row.columns.remember(PropertyPlan(names: reader.recordedNames, positions: reader.recordedPositions), for: D.self)
        }
        return record
    }

    /// One record's decoding: the row, and where it stands in its type's `PropertyPlan` (or the
    /// plan it records, the first time). Names are compared in order, so a type that asks in
    /// another order is still decoded right, through the name lookup. A class, so the decoder and
    /// its container (copied by value through `Decoder`'s existentials) each hold one reference.
    private final class Reader {
        let values: [SQLiteValue]
        let columns: SQLiteColumnIndex
        let plan: PropertyPlan?
        var next = 0
        var recordedNames: [String] = []
        var recordedPositions: [Int] = []

        init(row: SQLiteRow, plan: PropertyPlan?) {
            values = row.values
            columns = row.columns
            self.plan = plan
        }

        /// The value of the property's column, or nil when the row has no such column.
        func value(ofProperty name: String) -> SQLiteValue? {
            let step = next
            next += 1
            if let plan, step < plan.names.count, plan.names[step] == name {
                let position = plan.positions[step]
                return position >= 0 ? values[position] : nil
            }
            let position = columns.position(ofProperty: name)
            if plan == nil {
                recordedNames.append(name)
                recordedPositions.append(position ?? -1)
            }
            return position.map { values[$0] }
        }
    }

    private struct RowDecoder: Decoder {
        let reader: Reader
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy _: Key.Type) throws -> KeyedDecodingContainer<Key> {
            KeyedDecodingContainer(Container<Key>(reader: reader))
        }

        func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw unsupported("an unkeyed container") }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { throw unsupported("a single-value container") }

        private func unsupported(_ what: String) -> DecodingError {
            DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "a row decodes as a keyed record, not as \(what)"))
        }
    }

    /// Strings, integers, booleans and floats are converted here without generics (a generic
    /// conversion cost a metadata lookup per column: ~1% of an e-card read's CPU).
    private struct Container<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let reader: Reader
        var codingPath: [any CodingKey] { [] }
        var allKeys: [Key] { [] }

        private func value(_ key: Key) -> SQLiteValue? { reader.value(ofProperty: key.stringValue) }

        private func present(_ key: Key) throws -> SQLiteValue {
            guard let value = value(key) else {
                throw DecodingError.keyNotFound(key, .init(codingPath: [], debugDescription:
                    "No value associated with key \"\(key.stringValue)\" (as \"\(SnakeCaseKeys.column(for: key.stringValue))\")."))
            }
            return value
        }

        /// The failure for a value that does not convert to `type` (cold path).
        private func mismatch<T>(_ type: T.Type, _ key: Key, _ value: SQLiteValue) -> DecodingError {
            let mismatch = SQLiteValueDecoder.mismatch(T.self, value)
            if case .typeMismatch(let type, let context) = mismatch {
                return DecodingError.typeMismatch(type, .init(codingPath: [key], debugDescription: context.debugDescription))
            }
            return mismatch
        }

        /// The column's value unless missing or NULL (`decodeIfPresent` as with `contains` and `decodeNil`).
        private func nonNull(_ key: Key) -> SQLiteValue? {
            guard let value = value(key), value != .null else { return nil }
            return value
        }

        private func string(_ key: Key, _ value: SQLiteValue) throws -> String {
            guard let converted = SQLiteValueDecoder.string(value) else { throw mismatch(String.self, key, value) }
            return converted
        }

        private func int64(_ key: Key, _ value: SQLiteValue) throws -> Int64 {
            guard let converted = SQLiteValueDecoder.int64(value) else { throw mismatch(Int64.self, key, value) }
            return converted
        }

        private func int(_ key: Key, _ value: SQLiteValue) throws -> Int {
            guard let converted = SQLiteValueDecoder.int64(value).flatMap({ Int(exactly: $0) }) else { throw mismatch(Int.self, key, value) }
            return converted
        }

        private func bool(_ key: Key, _ value: SQLiteValue) throws -> Bool {
            guard let converted = SQLiteValueDecoder.bool(value) else { throw mismatch(Bool.self, key, value) }
            return converted
        }

        private func double(_ key: Key, _ value: SQLiteValue) throws -> Double {
            guard let converted = SQLiteValueDecoder.double(value) else { throw mismatch(Double.self, key, value) }
            return converted
        }

        func contains(_ key: Key) -> Bool { value(key) != nil }

        func decodeNil(forKey key: Key) throws -> Bool { (value(key) ?? .null) == .null }

        func decode(_: String.Type, forKey key: Key) throws -> String { try string(key, try present(key)) }
        func decode(_: Int64.Type, forKey key: Key) throws -> Int64 { try int64(key, try present(key)) }
        func decode(_: Int.Type, forKey key: Key) throws -> Int { try int(key, try present(key)) }
        func decode(_: Bool.Type, forKey key: Key) throws -> Bool { try bool(key, try present(key)) }
        func decode(_: Double.Type, forKey key: Key) throws -> Double { try double(key, try present(key)) }

        func decodeIfPresent(_: String.Type, forKey key: Key) throws -> String? { try nonNull(key).map { try string(key, $0) } }
        func decodeIfPresent(_: Int64.Type, forKey key: Key) throws -> Int64? { try nonNull(key).map { try int64(key, $0) } }
        func decodeIfPresent(_: Int.Type, forKey key: Key) throws -> Int? { try nonNull(key).map { try int(key, $0) } }
        func decodeIfPresent(_: Bool.Type, forKey key: Key) throws -> Bool? { try nonNull(key).map { try bool(key, $0) } }
        func decodeIfPresent(_: Double.Type, forKey key: Key) throws -> Double? { try nonNull(key).map { try double(key, $0) } }

        func decode<T: Decodable>(_: T.Type, forKey key: Key) throws -> T {
            try generic(T.self, key, try present(key))
        }

        func decodeIfPresent<T: Decodable>(_: T.Type, forKey key: Key) throws -> T? {
            guard let value = nonNull(key) else { return nil }
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
