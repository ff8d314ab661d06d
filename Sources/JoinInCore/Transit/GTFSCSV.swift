/// One GTFS text file (https://gtfs.org/schedule/reference/#file-requirements) read as RFC 4180
/// CSV: UTF-8 with an optional byte-order mark, a header row, comma-separated fields that may be
/// double-quoted (with `""` for a quote inside), CRLF or LF line ends. Every field is trimmed of
/// surrounding spaces and tabs, empty lines are skipped, and each row keeps the 1-based line number
/// it starts on so that errors can name it. Columns not asked for are simply never read.
///
/// Errors are `DomainError.malformed` whose detail starts with the file name (and line, field).
public struct GTFSCSV: Sendable, Equatable {
    public static let fileBytesMax = 64 << 20
    public static let rowsMax = 1_000_000
    public static let fieldBytesMax = 4096

    public struct Row: Sendable, Equatable {
        /// 1-based line of the file where the row starts (a quoted field may span lines).
        public let line: Int
        public let fields: [String]
    }

    public let file: String
    /// Column names, trimmed, in file order.
    public let header: [String]
    /// Line number of the header (1 unless the file starts with empty lines).
    public let headerLine: Int
    public let rows: [Row]
    private let columnIndex: [String: Int]

    /// Parses `bytes` as the GTFS file `file` (used in error details only).
    public init(_ bytes: [UInt8], file: String) throws {
        self.file = file
        guard bytes.count <= GTFSCSV.fileBytesMax else {
            throw DomainError.malformed("gtfs.csv_limit", "\(file): the file is \(bytes.count) bytes, more than the \(GTFSCSV.fileBytesMax) allowed")
        }
        var parser = Parser(bytes: bytes, file: file)
        var records = try parser.records()
        guard !records.isEmpty else {
            header = []
            headerLine = 1
            rows = []
            columnIndex = [:]
            return
        }
        let head = records.removeFirst()
        var index: [String: Int] = [:]
        for (position, name) in head.fields.enumerated() where !name.isEmpty {
            guard index[name] == nil else {
                throw DomainError.malformed("gtfs.csv_invalid", "\(file) line \(head.line), field \(name): the column appears twice in the header")
            }
            index[name] = position
        }
        for record in records where record.fields.count != head.fields.count {
            throw DomainError.malformed("gtfs.csv_invalid",
                                        "\(file) line \(record.line): the row has \(record.fields.count) fields, the header has \(head.fields.count)")
        }
        header = head.fields
        headerLine = head.line
        rows = records
        columnIndex = index
    }

    /// True when the header names `column`.
    public func has(_ column: String) -> Bool { columnIndex[column] != nil }

    /// Throws naming the file and the first column of `columns` the header lacks.
    public func require(_ columns: String...) throws {
        for column in columns where !has(column) {
            throw DomainError.malformed("gtfs.missing_column", "\(file) line \(headerLine), field \(column): required column is missing")
        }
    }

    /// The trimmed value of `column` in `row`; "" when the column is absent or the field empty.
    public func value(_ row: Row, _ column: String) -> String {
        guard let position = columnIndex[column], position < row.fields.count else { return "" }
        return row.fields[position]
    }

    /// The value, or nil when it is empty (GTFS: empty optional field = not given).
    public func optional(_ row: Row, _ column: String) -> String? {
        let text = value(row, column)
        return text.isEmpty ? nil : text
    }

    // MARK: Parser

    private struct Parser {
        let bytes: [UInt8]
        let file: String
        var position = 0
        var line = 1
        /// Column names once the header is read, to name the field in errors.
        var columns: [String]?

        init(bytes: [UInt8], file: String) {
            self.bytes = bytes
            self.file = file
            if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF { position = 3 }
        }

        static let quote = UInt8(ascii: "\"")
        static let comma = UInt8(ascii: ",")
        static let cr = UInt8(ascii: "\r")
        static let lf = UInt8(ascii: "\n")
        static let space = UInt8(ascii: " ")
        static let tab = UInt8(ascii: "\t")

        /// All records, the header first, empty lines left out.
        mutating func records() throws -> [Row] {
            var result: [Row] = []
            while position < bytes.count {
                let start = line
                let fields = try record()
                if fields.count == 1 && fields[0].isEmpty { continue } // an empty (or blank) line
                if columns == nil { columns = fields }
                guard result.count <= GTFSCSV.rowsMax else { // header + rowsMax data rows
                    throw DomainError.malformed("gtfs.csv_limit", "\(file) line \(start): more than \(GTFSCSV.rowsMax) rows")
                }
                result.append(Row(line: start, fields: fields))
            }
            return result
        }

        /// Consumes one record and its line end.
        mutating func record() throws -> [String] {
            var fields: [String] = []
            while true {
                let (field, end) = try self.field(fields.count)
                fields.append(field)
                if end { return fields }
            }
        }

        /// One field; `true` when it ended the record (line end or end of input).
        mutating func field(_ index: Int) throws -> (String, Bool) {
            let fieldLine = line
            var buffer: [UInt8] = []
            // Leading spaces are dropped; a quote after them opens a quoted field.
            while position < bytes.count && (bytes[position] == Parser.space || bytes[position] == Parser.tab) { position += 1 }
            var quoted = false
            if position < bytes.count && bytes[position] == Parser.quote {
                quoted = true
                position += 1
                var closed = false
                while position < bytes.count {
                    let byte = bytes[position]
                    position += 1
                    if byte == Parser.quote {
                        if position < bytes.count && bytes[position] == Parser.quote {
                            buffer.append(Parser.quote)
                            position += 1
                        } else {
                            closed = true
                            break
                        }
                    } else {
                        if byte == Parser.lf { line += 1 }
                        buffer.append(byte)
                    }
                    try checkLength(buffer, line: fieldLine, index)
                }
                guard closed else {
                    throw DomainError.malformed("gtfs.csv_invalid", "\(place(fieldLine, index)): a quoted field is not closed before the end of the file")
                }
                while position < bytes.count && (bytes[position] == Parser.space || bytes[position] == Parser.tab) { position += 1 }
            }
            var ended = true
            while position < bytes.count {
                let byte = bytes[position]
                position += 1
                if byte == Parser.comma {
                    ended = false
                    break
                }
                if byte == Parser.lf {
                    line += 1
                    break
                }
                if byte == Parser.cr {
                    if position < bytes.count && bytes[position] == Parser.lf { position += 1 }
                    line += 1
                    break
                }
                guard !quoted else {
                    throw DomainError.malformed("gtfs.csv_invalid", "\(place(line, index)): unexpected character after the closing quote")
                }
                buffer.append(byte) // a stray quote inside an unquoted field is taken literally
                try checkLength(buffer, line: fieldLine, index)
            }
            guard let text = String(validating: buffer, as: UTF8.self) else {
                throw DomainError.malformed("gtfs.csv_invalid", "\(place(fieldLine, index)): the text is not valid UTF-8")
            }
            return (text.trimmingGTFSSpaces(), ended)
        }

        func checkLength(_ buffer: [UInt8], line: Int, _ index: Int) throws {
            guard buffer.count <= GTFSCSV.fieldBytesMax else {
                throw DomainError.malformed("gtfs.csv_limit", "\(place(line, index)): longer than \(GTFSCSV.fieldBytesMax) bytes")
            }
        }

        /// "file line N, field name" once the header names the column; "file line N, field #k" before or beyond it.
        func place(_ line: Int, _ index: Int) -> String {
            if let columns, index < columns.count, !columns[index].isEmpty {
                return "\(file) line \(line), field \(columns[index])"
            }
            return "\(file) line \(line), field #\(index + 1)"
        }
    }
}

extension String {
    /// Trims spaces and tabs at both ends (GTFS values; line ends inside quoted fields are kept).
    func trimmingGTFSSpaces() -> String {
        let isSpace: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }), let last = scalars.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(scalars[first...last])
    }
}
