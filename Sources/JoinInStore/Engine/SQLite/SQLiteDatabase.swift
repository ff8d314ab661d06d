import CSQLite
import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import Synchronization

/// SQLKit over one `SQLiteHandle`: queries are built and serialized by SQLKit as before, then
/// run synchronously on the calling thread (the connection's own thread, see `ConnectionThread`).
/// Never logs statements or bound values.
struct SQLiteDatabase: SQLDatabase {
    let connection: SQLiteHandle
    let logger: Logger

    var eventLoop: any EventLoop { MultiThreadedEventLoopGroup.singleton.any() }
    var dialect: any SQLDialect { SQLiteSQLDialect() }
    var queryLogLevel: Logger.Level? { nil }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        try run(query, onRow)
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        do {
            try run(query, onRow)
            promise.succeed(())
        } catch {
            promise.fail(error)
        }
        return promise.futureResult
    }

    private func run(_ query: any SQLExpression, _ onRow: (any SQLRow) -> ()) throws {
        let (sql, binds) = serialize(query)
        if let keyword = Self.transactionControl(sql) {
            // The engine owns the transaction (the write's savepoint inside the batch, the read's
            // snapshot); a closure ending it would commit or drop its neighbours' writes.
            throw SQLiteFailure(code: SQLITE_MISUSE, message: "\(keyword) belongs to the store engine, not to a write or a read")
        }
        let values = try binds.map { try SQLiteValueEncoder.encode($0) }
        try connection.run(sql, binds: values) { columns, values in
            onRow(SQLiteRow(columns: columns, values: values))
        }
    }
}

extension SQLiteDatabase {
    static let transactionKeywords: [StaticString] = ["BEGIN", "COMMIT", "END", "ROLLBACK", "RELEASE", "SAVEPOINT"]

    /// The statement's first keyword when it is transaction control (compared on the bytes, in
    /// any case: this runs before every statement).
    static func transactionControl(_ sql: String) -> String? {
        let keyword = sql.utf8.drop(while: { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D })
            .prefix(while: { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) })
        guard keyword.count >= 3, keyword.count <= 9 else { return nil }
        for candidate in transactionKeywords where candidate.utf8CodeUnitCount == keyword.count {
            let matches = candidate.withUTF8Buffer { upper in
                zip(upper, keyword).allSatisfy { expected, byte in byte & 0xDF == expected }
            }
            if matches { return candidate.description }
        }
        return nil
    }
}

/// Column names of one result, shared by its rows (and kept with its cached statement).
final class SQLiteColumnIndex: Sendable {
    let names: [String]
    let positions: [String: Int]
    /// Swift property name → position (or -1: no such column), filled as records are decoded:
    /// one lookup per property instead of a snake-case conversion and a second lookup.
    private let properties = Mutex<[String: Int]>([:])

    init(_ names: [String]) {
        self.names = names
        // The first column of a name wins, as SQLite's own name lookup does.
        self.positions = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The position of the column a record property reads (`SnakeCaseKeys`), nil if none.
    func position(ofProperty name: String) -> Int? {
        if let known = properties.withLock({ $0[name] }) { return known >= 0 ? known : nil }
        let position = positions[SnakeCaseKeys.column(for: name)]
        properties.withLock { $0[name] = position ?? -1 }
        return position
    }

    /// Per record type: its properties in the order its `init(from:)` asked for them, with their
    /// positions, so a record's next decode finds each column by comparing names in order
    /// (`SQLiteRecordDecoder`) instead of a locked dictionary lookup per property.
    private let plans = Mutex<[ObjectIdentifier: PropertyPlan]>([:])

    func plan(for type: Any.Type) -> PropertyPlan? { plans.withLock { $0[ObjectIdentifier(type)] } }

    func remember(_ plan: PropertyPlan, for type: Any.Type) { plans.withLock { $0[ObjectIdentifier(type)] = plan } }
}

/// The properties a record type's decoding asked for, in order, and their column positions (-1:
/// the result has no such column). Immutable, shared by reference: handing it to a decoding
/// costs one retain, not two array copies.
final class PropertyPlan: Sendable {
    let names: [String]
    let positions: [Int]

    init(names: [String], positions: [Int]) {
        self.names = names
        self.positions = positions
    }
}

struct SQLiteRow: SQLRow {
    let columns: SQLiteColumnIndex
    let values: [SQLiteValue]

    var allColumns: [String] { columns.names }

    func contains(column: String) -> Bool { columns.positions[column] != nil }

    func decodeNil(column: String) throws -> Bool {
        guard let position = columns.positions[column] else { return true }
        return values[position] == .null
    }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        guard let position = columns.positions[column] else {
            throw DecodingError.keyNotFound(SQLiteColumnKey(column), .init(codingPath: [], debugDescription: "no column \(column) in the result"))
        }
        do {
            return try SQLiteValueDecoder.decode(D.self, from: values[position])
        } catch let error as DecodingError {
            throw error
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: [SQLiteColumnKey(column)], debugDescription: "column \(column): \(error)"))
        }
    }
}

struct SQLiteColumnKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// SQLite's SQL as SQLKit writes it: `?N` placeholders, double-quoted identifiers.
struct SQLiteSQLDialect: SQLDialect {
    var name: String { "sqlite" }
    var identifierQuote: any SQLExpression { SQLRaw("\"") }
    var literalStringQuote: any SQLExpression { SQLRaw("'") }
    func bindPlaceholder(at position: Int) -> any SQLExpression { SQLRaw("?\(position)") }
    func literalBoolean(_ value: Bool) -> any SQLExpression { SQLRaw(value ? "TRUE" : "FALSE") }
    var literalDefault: any SQLExpression { SQLLiteral.null }
    var supportsIfExists: Bool { true }
    var supportsDropBehavior: Bool { false }
    var supportsAutoIncrement: Bool { false }
    var autoIncrementClause: any SQLExpression { SQLRaw("AUTOINCREMENT") }
    var enumSyntax: SQLEnumSyntax { .unsupported }
    var alterTableSyntax: SQLAlterTableSyntax { .init(allowsBatch: false) }
    var upsertSyntax: SQLUpsertSyntax { .standard }
    var supportsReturning: Bool { true }
    var unionFeatures: SQLUnionFeatures { [.union, .unionAll, .intersect, .except] }
}

// MARK: - values

/// A type that wants a container the value coders do not offer: it goes to and from JSON text.
private struct NeedsJSON: Error {}

/// Swift values to SQLite values: integers, floats, text, bytes and NULL directly; anything else
/// through its single-value encoding (raw-value enums, wrappers), or as JSON text when it is a
/// keyed or unkeyed structure.
enum SQLiteValueEncoder {
    static func encode(_ value: any Encodable) throws -> SQLiteValue {
        switch value {
        case let text as String: return .text(text)
        case let number as Int64: return .integer(number)
        case let number as Int: return .integer(Int64(number))
        case let flag as Bool: return .integer(flag ? 1 : 0)
        case let number as Double: return .float(number)
        case let number as Int32: return .integer(Int64(number))
        case let data as Data: return .blob(Array(data))
        case let bytes as [UInt8]: return .blob(bytes)
        case let date as Date: return .float(date.timeIntervalSince1970)
        default:
            let encoder = SingleValueEncoder()
            do {
                try value.encode(to: encoder)
                guard let encoded = encoder.value else {
                    throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(type(of: value)) encoded nothing"))
                }
                return encoded
            } catch is NeedsJSON {
                return .text(String(decoding: try JSONEncoder().encode(value), as: UTF8.self))
            }
        }
    }

    private final class SingleValueEncoder: Encoder, SingleValueEncodingContainer {
        var value: SQLiteValue?
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy _: Key.Type) -> KeyedEncodingContainer<Key> {
            KeyedEncodingContainer(RefusingKeyedContainer<Key>())
        }
        func unkeyedContainer() -> any UnkeyedEncodingContainer { RefusingUnkeyedContainer() }
        func singleValueContainer() -> any SingleValueEncodingContainer { self }

        func encodeNil() throws { value = .null }
        func encode(_ value: Bool) throws { self.value = .integer(value ? 1 : 0) }
        func encode(_ value: String) throws { self.value = .text(value) }
        func encode(_ value: Double) throws { self.value = .float(value) }
        func encode(_ value: Float) throws { self.value = .float(Double(value)) }
        func encode(_ value: Int) throws { self.value = .integer(Int64(value)) }
        func encode(_ value: Int8) throws { self.value = .integer(Int64(value)) }
        func encode(_ value: Int16) throws { self.value = .integer(Int64(value)) }
        func encode(_ value: Int32) throws { self.value = .integer(Int64(value)) }
        func encode(_ value: Int64) throws { self.value = .integer(value) }
        func encode(_ value: UInt) throws { self.value = .integer(try Self.exact(value)) }
        func encode(_ value: UInt8) throws { self.value = .integer(Int64(value)) }
        func encode(_ value: UInt16) throws { self.value = .integer(Int64(value)) }
        func encode(_ value: UInt32) throws { self.value = .integer(Int64(value)) }
        func encode(_ value: UInt64) throws { self.value = .integer(try Self.exact(value)) }
        func encode<T: Encodable>(_ value: T) throws { self.value = try SQLiteValueEncoder.encode(value) }

        private static func exact<T: BinaryInteger>(_ value: T) throws -> Int64 {
            guard let exact = Int64(exactly: value) else {
                throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(value) does not fit a 64-bit integer"))
            }
            return exact
        }
    }

    private struct RefusingKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
        var codingPath: [any CodingKey] { [] }
        mutating func encodeNil(forKey _: Key) throws { throw NeedsJSON() }
        mutating func encode<T: Encodable>(_: T, forKey _: Key) throws { throw NeedsJSON() }
        mutating func nestedContainer<N: CodingKey>(keyedBy _: N.Type, forKey _: Key) -> KeyedEncodingContainer<N> {
            KeyedEncodingContainer(RefusingKeyedContainer<N>())
        }
        mutating func nestedUnkeyedContainer(forKey _: Key) -> any UnkeyedEncodingContainer { RefusingUnkeyedContainer() }
        mutating func superEncoder() -> any Encoder { RefusingEncoder() }
        mutating func superEncoder(forKey _: Key) -> any Encoder { RefusingEncoder() }
    }

    private struct RefusingUnkeyedContainer: UnkeyedEncodingContainer {
        var codingPath: [any CodingKey] { [] }
        var count: Int { 0 }
        mutating func encodeNil() throws { throw NeedsJSON() }
        mutating func encode<T: Encodable>(_: T) throws { throw NeedsJSON() }
        mutating func nestedContainer<N: CodingKey>(keyedBy _: N.Type) -> KeyedEncodingContainer<N> {
            KeyedEncodingContainer(RefusingKeyedContainer<N>())
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { RefusingUnkeyedContainer() }
        mutating func superEncoder() -> any Encoder { RefusingEncoder() }
    }

    /// Reached only by types that encode through a super encoder; their `encode` fails on first use.
    private struct RefusingEncoder: Encoder {
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }
        func container<Key: CodingKey>(keyedBy _: Key.Type) -> KeyedEncodingContainer<Key> {
            KeyedEncodingContainer(RefusingKeyedContainer<Key>())
        }
        func unkeyedContainer() -> any UnkeyedEncodingContainer { RefusingUnkeyedContainer() }
        func singleValueContainer() -> any SingleValueEncodingContainer { RefusingSingleValue() }
    }

    private struct RefusingSingleValue: SingleValueEncodingContainer {
        var codingPath: [any CodingKey] { [] }
        mutating func encodeNil() throws { throw NeedsJSON() }
        mutating func encode<T: Encodable>(_: T) throws { throw NeedsJSON() }
    }
}

/// SQLite values to Swift values, with the conversions sqlite-nio made (so stored data reads back
/// as before): integers only from INTEGER, floats from INTEGER or REAL, text also from numbers,
/// booleans from numbers or 'true'/'false'; a keyed or unkeyed type from JSON text.
enum SQLiteValueDecoder {
    static func decode<T: Decodable>(_ type: T.Type, from value: SQLiteValue) throws -> T {
        if let direct = try primitive(type, from: value) {
            return direct
        }
        do {
            return try T(from: SingleValueDecoder(value: value))
        } catch is NeedsJSON {
            let bytes: [UInt8]
            switch value {
            case .text(let text): bytes = Array(text.utf8)
            case .blob(let blob): bytes = blob
            default: throw mismatch(type, value)
            }
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        }
    }

    /// `nil` when `T` is not a primitive this function knows; throws when it is and `value` does
    /// not convert.
    private static func primitive<T>(_ type: T.Type, from value: SQLiteValue) throws -> T? {
        let converted: Any?
        switch type {
        case is String.Type: converted = string(value)
        case is Int64.Type: converted = int64(value)
        case is Int.Type: converted = int64(value).flatMap { Int(exactly: $0) }
        case is Int32.Type: converted = int64(value).flatMap { Int32(exactly: $0) }
        case is Double.Type: converted = double(value)
        case is Bool.Type: converted = bool(value)
        case is Data.Type:
            if case .blob(let bytes) = value { converted = Data(bytes) } else { converted = nil }
        case is [UInt8].Type:
            if case .blob(let bytes) = value { converted = bytes } else { converted = nil }
        default:
            return nil
        }
        guard let result = converted as? T else { throw mismatch(type, value) }
        return result
    }

    // The conversions themselves, `nil` where a value does not convert (shared with
    // `SQLiteRecordDecoder`, which calls them without a dynamic cast).

    /// Text, or a number written out.
    static func string(_ value: SQLiteValue) -> String? {
        switch value {
        case .text(let text): return text
        case .integer(let number): return String(number)
        case .float(let number): return String(number)
        default: return nil
        }
    }

    /// Only from INTEGER.
    static func int64(_ value: SQLiteValue) -> Int64? {
        if case .integer(let number) = value { return number }
        return nil
    }

    static func double(_ value: SQLiteValue) -> Double? {
        switch value {
        case .integer(let number): return Double(number)
        case .float(let number): return number
        default: return nil
        }
    }

    /// From numbers (non-zero is true) or the texts 'true'/'1' and 'false'/'0'.
    static func bool(_ value: SQLiteValue) -> Bool? {
        switch value {
        case .integer(let number): return number != 0
        case .float(let number): return number != 0
        case .text(let text) where text.lowercased() == "true" || text == "1": return true
        case .text(let text) where text.lowercased() == "false" || text == "0": return false
        default: return nil
        }
    }

    static func mismatch<T>(_ type: T.Type, _ value: SQLiteValue) -> DecodingError {
        let kind: String
        switch value {
        case .null: kind = "NULL"
        case .integer: kind = "an integer"
        case .float: kind = "a float"
        case .text: kind = "text"
        case .blob: kind = "a blob"
        }
        return DecodingError.typeMismatch(T.self, .init(codingPath: [], debugDescription: "cannot read \(T.self) from \(kind)"))
    }

    private struct SingleValueDecoder: Decoder, SingleValueDecodingContainer {
        let value: SQLiteValue
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy _: Key.Type) throws -> KeyedDecodingContainer<Key> { throw NeedsJSON() }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer { throw NeedsJSON() }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

        func decodeNil() -> Bool { value == .null }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try SQLiteValueDecoder.decode(type, from: value)
        }
    }
}
