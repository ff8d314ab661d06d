import CSQLite
import Foundation
import Synchronization

/// One value as SQLite stores it.
enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case float(Double)
    case text(String)
    case blob([UInt8])
}

/// A failed SQLite call: the extended result code and SQLite's message. Messages name tables,
/// columns and constraints, never bound values.
public struct SQLiteFailure: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String

    /// The primary result code (SQLITE_CONSTRAINT, SQLITE_BUSY, …).
    public var primaryCode: Int32 { code & 0xFF }

    /// SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY (macros C does not export to Swift).
    public var isUniqueViolation: Bool {
        code == SQLITE_CONSTRAINT | (8 << 8) || code == SQLITE_CONSTRAINT | (6 << 8)
    }

    public var description: String { "SQLite error \(code): \(message)" }
}

/// One libsqlite3 connection and its prepared statements.
///
/// Not thread-safe by itself: exactly one holder uses it at a time — the group-commit writer's
/// drain task, or the reader that checked it out of the pool. The connection is opened in
/// SQLite's multi-thread mode (`SQLITE_OPEN_NOMUTEX`): one connection, one thread at a time,
/// which the holders guarantee. Serialized mode would take the connection's mutex on every
/// call — three per column read, ~3% of the server's CPU on the e-card read — and protect
/// nothing this class does not already need exclusive: its statement cache is plain Swift state.
final class SQLiteHandle: @unchecked Sendable {
    // @unchecked: `db` and `statements` are touched only by the one holder (see above), and
    // `deadlineNs` / the counters are atomics.
    private let db: OpaquePointer
    private var statements: [String: CachedStatement] = [:]
    private var useClock: UInt64 = 0
    private var closed = false
    let path: String

    /// Statements executed since the connection opened (the bench's "statements per operation").
    let statementsRun = Atomic<Int>(0)
    /// Monotonic time (ns) after which a running statement is interrupted; 0 = none.
    let deadlineNs = Atomic<UInt64>(0)
    /// While set (by `SQLiteEngine.lookup`), each newly prepared statement's program is checked
    /// for scratch tables, and the texts of those that build one are kept in
    /// `scratchTableStatements`: a lookup is a few point reads, and a temporary b-tree (a sort the
    /// index does not give, an `IN` list of more than two values) or an automatic index costs
    /// more than the reads themselves (docs/performance.md).
    var auditsScratchTables = false
    let scratchTableStatements = Mutex<Set<String>>([])
    /// Opcodes that open a scratch table (`EXPLAIN`'s opcode column).
    static let scratchTableOpcodes: Set<String> = ["OpenEphemeral", "SorterOpen", "OpenAutoindex"]

    private final class CachedStatement {
        let handle: OpaquePointer
        var lastUse: UInt64
        /// The column names of its last result, kept so that each run does not make new strings
        /// and a new name index; valid while the statement's re-prepare count is still
        /// `columnsPrepared` (SQLite re-prepares a statement after a schema change, and `SELECT *`
        /// may then have more columns).
        var columns: SQLiteColumnIndex?
        var columnsPrepared: Int32 = -1
        init(handle: OpaquePointer, lastUse: UInt64) {
            self.handle = handle
            self.lastUse = lastUse
        }
    }

    /// Most prepared statements kept per connection; the queries of this code base are a few
    /// hundred texts, and multi-row statements of up to 4,000 binds (`bindParametersMax`) repeat
    /// their shape chunk after chunk. Longer texts are prepared, used once and finalized.
    static let cachedStatementsMax = 512
    static let cachedTextLengthMax = 48 * 1_024
    /// SQLite 3.35 (RETURNING) is the oldest library whose SQL this code base speaks.
    static let versionNumberMin: Int32 = 3_035_000

    init(path: String) throws {
        guard sqlite3_libversion_number() >= Self.versionNumberMin else {
            throw SQLiteFailure(code: SQLITE_ERROR, message: "SQLite \(String(cString: sqlite3_libversion())) is too old: 3.35 or later is required")
        }
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI
        let status = sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let handle { sqlite3_close_v2(handle) }
            throw SQLiteFailure(code: status, message: "cannot open \(path): \(message)")
        }
        self.db = handle
        self.path = path
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_progress_handler(handle, 8_192, { context in
            guard let context else { return 0 }
            let connection = Unmanaged<SQLiteHandle>.fromOpaque(context).takeUnretainedValue()
            let deadline = connection.deadlineNs.load(ordering: .relaxed)
            return deadline != 0 && SQLiteHandle.monotonicNs() > deadline ? 1 : 0
        }, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        close()
    }

    /// Finalizes every statement and closes the connection (idempotent).
    func close() {
        guard !closed else { return }
        closed = true
        for statement in statements.values { sqlite3_finalize(statement.handle) }
        statements.removeAll()
        sqlite3_progress_handler(db, 0, nil, nil)
        sqlite3_close_v2(db)
    }

    static func monotonicNs() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// True outside any transaction (SQLite's autocommit mode).
    var isAutocommit: Bool { sqlite3_get_autocommit(db) != 0 }

    /// Runs statements without binds or rows (BEGIN, SAVEPOINT, PRAGMA settings), through the
    /// statement cache like any other.
    func exec(_ sql: String) throws {
        try run(sql, binds: []) { _, _ in }
    }

    /// Prepares (or reuses) `sql`, binds `binds` (1-based, in order), steps it to the end and hands
    /// every row to `onRow` with the result's column names. The statement is reset before
    /// returning, so no read snapshot outlives the call.
    func run(_ sql: String, binds: [SQLiteValue], onRow: (SQLiteColumnIndex, [SQLiteValue]) throws -> Void) throws {
        statementsRun.add(1, ordering: .relaxed)
        let cacheable = sql.utf8.count <= Self.cachedTextLengthMax
        let (statement, cached) = try prepare(sql, cacheable: cacheable)
        defer {
            sqlite3_reset(statement)
            if cacheable { sqlite3_clear_bindings(statement) } else { sqlite3_finalize(statement) }
        }
        for (offset, value) in binds.enumerated() {
            try check(bind(value, at: Int32(offset + 1), to: statement))
        }
        var columns: SQLiteColumnIndex?
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { throw failure(status) }
            let index = columns ?? Self.columns(of: statement, remembered: cached)
            columns = index
            var values: [SQLiteValue] = []
            values.reserveCapacity(index.names.count)
            for position in 0..<Int32(index.names.count) {
                values.append(Self.column(position, of: statement))
            }
            try onRow(index, values)
        }
    }

    /// The statement's column names: the cached statement's last ones while SQLite has not
    /// re-prepared it since they were read (it re-prepares after a schema change, and `SELECT *`
    /// may then have other columns), else read anew and remembered.
    private static func columns(of statement: OpaquePointer, remembered cached: CachedStatement?) -> SQLiteColumnIndex {
        let prepared = sqlite3_stmt_status(statement, SQLITE_STMTSTATUS_REPREPARE, 0)
        if let cached, let known = cached.columns, cached.columnsPrepared == prepared {
            return known
        }
        let index = SQLiteColumnIndex(columnNames(statement))
        cached?.columns = index
        cached?.columnsPrepared = prepared
        return index
    }

    private func prepare(_ sql: String, cacheable: Bool) throws -> (OpaquePointer, CachedStatement?) {
        useClock &+= 1
        if cacheable, let cached = statements[sql] {
            cached.lastUse = useClock
            return (cached.handle, cached)
        }
        var handle: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let status = sql.withCString { text in
            let flags = cacheable ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
            let status = sqlite3_prepare_v3(db, text, -1, flags, &handle, &tail)
            // One statement per call: a second one would silently never run.
            if status == SQLITE_OK, let tail, tail.pointee != 0, !holdsNoStatement(tail) {
                return SQLITE_MISUSE
            }
            return status
        }
        guard status == SQLITE_OK, let handle else {
            if let handle { sqlite3_finalize(handle) }
            if status == SQLITE_MISUSE {
                throw SQLiteFailure(code: SQLITE_MISUSE, message: "more than one statement in one call")
            }
            throw failure(status)
        }
        guard cacheable else { return (handle, nil) }
        if statements.count >= Self.cachedStatementsMax, let oldest = statements.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            sqlite3_finalize(oldest.value.handle)
            statements[oldest.key] = nil
        }
        let cached = CachedStatement(handle: handle, lastUse: useClock)
        statements[sql] = cached
        // A diagnostic: an EXPLAIN that fails does not fail the statement.
        if auditsScratchTables, (try? scratchTables(in: sql))?.isEmpty == false {
            _ = scratchTableStatements.withLock { $0.insert(sql) }
        }
        return (handle, cached)
    }

    /// The scratch-table opcodes of `sql`'s program (`EXPLAIN`), in program order.
    func scratchTables(in sql: String) throws -> [String] {
        var explain: OpaquePointer?
        let status = sqlite3_prepare_v2(db, "EXPLAIN " + sql, -1, &explain, nil)
        guard status == SQLITE_OK, let explain else {
            if let explain { sqlite3_finalize(explain) }
            throw failure(status)
        }
        defer { sqlite3_finalize(explain) }
        var found: [String] = []
        while sqlite3_step(explain) == SQLITE_ROW {
            // EXPLAIN's columns: addr, opcode, p1, p2, p3, p4, p5, comment.
            guard let text = sqlite3_column_text(explain, 1) else { continue }
            let opcode = String(cString: text)
            if Self.scratchTableOpcodes.contains(opcode) { found.append(opcode) }
        }
        return found
    }

    /// True when the text after a statement holds no other one: whitespace, `;` and comments,
    /// which SQLite compiles to no statement at all.
    private func holdsNoStatement(_ tail: UnsafePointer<CChar>) -> Bool {
        var rest: UnsafePointer<CChar>? = tail
        while let text = rest, text.pointee != 0 {
            var statement: OpaquePointer?
            var next: UnsafePointer<CChar>?
            let status = sqlite3_prepare_v2(db, text, -1, &statement, &next)
            if let statement {
                sqlite3_finalize(statement)
                return false
            }
            guard status == SQLITE_OK, let next, next != text else { return status == SQLITE_OK }
            rest = next
        }
        return true
    }

    private func bind(_ value: SQLiteValue, at index: Int32, to statement: OpaquePointer) -> Int32 {
        switch value {
        case .null:
            return sqlite3_bind_null(statement, index)
        case .integer(let number):
            return sqlite3_bind_int64(statement, index, number)
        case .float(let number):
            return sqlite3_bind_double(statement, index, number)
        case .text(let text):
            var text = text
            return text.withUTF8 { bytes in
                guard let base = bytes.baseAddress, !bytes.isEmpty else {
                    return sqlite3_bind_text64(statement, index, "", 0, joinin_sqlite_transient(), UInt8(SQLITE_UTF8))
                }
                return sqlite3_bind_text64(statement, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self),
                                           UInt64(bytes.count), joinin_sqlite_transient(), UInt8(SQLITE_UTF8))
            }
        case .blob(let bytes):
            return bytes.withUnsafeBytes { raw in
                // A zero-length blob still needs a non-null pointer to be a blob, not NULL.
                sqlite3_bind_blob64(statement, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), UInt64(raw.count), joinin_sqlite_transient())
            }
        }
    }

    private static func columnNames(_ statement: OpaquePointer) -> [String] {
        (0..<sqlite3_column_count(statement)).map { index in
            guard let name = sqlite3_column_name(statement, index) else { return "" }
            return String(cString: name)
        }
    }

    private static func column(_ index: Int32, of statement: OpaquePointer) -> SQLiteValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT:
            return .float(sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            // Read through `sqlite3_column_blob`: the same UTF-8 bytes (the database's encoding is
            // checked to be UTF-8 when it opens), but without the NUL-terminated copy that
            // `sqlite3_column_text` allocates for every text value read off a page.
            guard let bytes = sqlite3_column_blob(statement, index) else { return .text("") }  // NULL: zero length
            let count = Int(sqlite3_column_bytes(statement, index))
            return .text(String(decoding: UnsafeRawBufferPointer(start: bytes, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard count > 0, let bytes = sqlite3_column_blob(statement, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            return .null
        }
    }

    private func check(_ status: Int32) throws {
        guard status == SQLITE_OK else { throw failure(status) }
    }

    private func failure(_ status: Int32) -> SQLiteFailure {
        let extended = sqlite3_extended_errcode(db)
        // The step's own code when SQLite's last-error slot belongs to something else.
        let code = (extended & 0xFF) == (status & 0xFF) ? extended : status
        return SQLiteFailure(code: code, message: String(cString: sqlite3_errmsg(db)))
    }
}
