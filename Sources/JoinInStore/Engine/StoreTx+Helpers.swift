import Foundation
import Synchronization
import PostgresNIO
public import SQLKit

extension SQLRowDecoder {
    /// Columns are snake_case, Swift properties camelCase: SQLKit's `convertFromSnakeCase`
    /// conversion, memoized. Converting every key of every decoded row anew was ~8% of the CPU of
    /// an authenticated read (perf, `bench ledger`); property names are a small fixed set.
    static let snake = SQLRowDecoder(keyDecodingStrategy: .custom({ path in
        SnakeCaseKeys.key(for: path.last?.stringValue ?? "")
    }))
}

/// Swift property names to column names, as SQLKit's `convertFromSnakeCase` spells them
/// (Foundation's JSON key algorithm: `ownerId` → `owner_id`, `passportMRZ` → `passport_mrz`).
enum SnakeCaseKeys {
    private static let cache = Mutex<[String: String]>([:])

    struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    static func key(for name: String) -> any CodingKey {
        Key(stringValue: column(for: name))
    }

    /// The column name of a property, converted once per name.
    static func column(for name: String) -> String {
        if let known = cache.withLock({ $0[name] }) { return known }
        let converted = snakeCased(name)
        cache.withLock { $0[name] = converted }
        return converted
    }

    static func snakeCased(_ name: String) -> String {
        guard !name.isEmpty else { return name }
        var words: [Range<String.Index>] = []
        var wordStart = name.startIndex
        var searchIndex = name.index(after: wordStart)
        while let upper = name[searchIndex...].firstIndex(where: \.isUppercase) {
            words.append(wordStart..<upper)
            wordStart = upper
            guard let lower = name[upper...].firstIndex(where: \.isLowercase) else { break }
            searchIndex = lower
            if lower != name.index(after: upper) {
                let beforeLower = name.index(before: lower)
                words.append(upper..<beforeLower)
                wordStart = beforeLower
            }
        }
        words.append(wordStart..<name.endIndex)
        return words.map { word -> String in
            let text = name[word]
            return text.isEmpty ? "" : text[text.startIndex].lowercased() + text.dropFirst()
        }.joined(separator: "_")
    }
}

extension SQLQueryString {
    /// Appends `(?, ?, …), (?, ?, …)`: the VALUES rows of a multi-row statement, one bind per value.
    public mutating func appendRows<Row>(_ rows: some Collection<Row>, _ values: (Row) -> [any Encodable & Sendable]) {
        for (index, row) in rows.enumerated() {
            appendLiteral(index == 0 ? " (" : ", (")
            appendInterpolation(binds: values(row))
            appendLiteral(")")
        }
    }
}

extension StoreTx {
    /// Rows of `table` by their `id` column, keyed by id (ids that name no row are absent).
    func rows<Row: Decodable>(of table: String, ids: Set<String>, as _: Row.Type, id: (Row) -> String) async throws -> [String: Row] {
        var found: [String: Row] = [:]
        for chunk in chunked(ids.sorted(), bindsPerItem: 1) {
            for row in try await sql.raw("SELECT * FROM \(unsafeRaw: table) WHERE id IN (\(binds: Array(chunk)))").allRecords(Row.self) {
                found[id(row)] = row
            }
        }
        return found
    }

    /// Next value of a named counter (1, 2, …), inside the current write transaction.
    public func nextCounter(_ name: String) async throws -> Int64 {
        try await sql.raw("INSERT INTO counters (name, value) VALUES (\(bind: name), 0) ON CONFLICT (name) DO NOTHING").run()
        try await sql.raw("UPDATE counters SET value = value + 1 WHERE name = \(bind: name)").run()
        guard let value = try await sql.raw("SELECT value FROM counters WHERE name = \(bind: name)").first()?
            .decode(column: "value", as: Int64.self) else {
            throw StoreError.corrupt("counter \(name) vanished inside its transaction")
        }
        return value
    }

    /// Blind index of a normalised passport number.
    public func passportIndex(_ passportNumber: String) -> String {
        cipher.blindIndex(passportNumber, domain: "passport")
    }

    func seal(_ plaintext: String, column: String) throws -> String {
        try cipher.seal(plaintext, column: column)
    }

    func open(_ sealed: String, column: String) throws -> String {
        try cipher.open(sealed, column: column)
    }
}

/// True when `error` is a unique-constraint violation on either engine: a concurrent insert won.
public func isUniqueViolation(_ error: any Error) -> Bool {
    if let error = error as? PSQLError {
        return error.serverInfo?[.sqlState] == "23505"
    }
    if let error = error as? SQLiteFailure {
        return error.isUniqueViolation
    }
    return false
}

/// A position in a newest-first list: (time, id) of the last item returned.
public struct PageCursor: Sendable, Equatable {
    public let timeMs: Int64
    public let id: String

    public init(timeMs: Int64, id: String) {
        self.timeMs = timeMs
        self.id = id
    }

    /// Opaque to clients: base64url of "time:id".
    public var encoded: String {
        Data("\(timeMs):\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public init?(encoded: String) {
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard encoded.count <= 200, let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":"), let time = Int64(text[..<colon]),
              !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return nil }
        self.timeMs = time
        self.id = String(text[text.index(after: colon)...])
    }
}
