import Foundation

/// A response type that writes its own JSON: the same bytes `JSON.encoder` writes (keys sorted,
/// no whitespace, absent optionals left out), without the `Codable` machinery. Only for the
/// hottest reads (the e-card home: `docs/performance.md`); every other type goes through
/// `CompactJSON`. Debug builds compare each response written this way with `JSONEncoder`'s, so a
/// field added to the schema but not to `write` stops the test suite.
protocol JSONWritable: Encodable {
    /// Writes the value as one JSON object, its members in ascending key order.
    func write(to json: inout JSONWriter) throws
}

/// Appends JSON to a byte array. Members are written with `member(_:)` in ascending key order;
/// debug builds check the order.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// True right after an object opens: its first member needs no comma.
    private var opened = false
    #if DEBUG
    /// The last key written in each open object.
    private var lastKeys: [String] = []
    #endif

    init(capacity: Int = 1_024) {
        bytes.reserveCapacity(capacity)
    }

    /// The bytes of `value`, or nil when it holds what only `JSONEncoder` writes (a date outside
    /// the years `CompactJSON.iso8601` covers).
    static func bytes(of value: some JSONWritable) -> [UInt8]? {
        var writer = JSONWriter()
        do {
            try value.write(to: &writer)
        } catch {
            return nil
        }
        return writer.bytes
    }

    mutating func object(_ body: (inout JSONWriter) throws -> Void) rethrows {
        bytes.append(UInt8(ascii: "{"))
        opened = true
        #if DEBUG
        lastKeys.append("")
        #endif
        try body(&self)
        #if DEBUG
        lastKeys.removeLast()
        #endif
        bytes.append(UInt8(ascii: "}"))
        opened = false
    }

    /// The key of the next member (a comma first unless it is the object's first).
    mutating func member(_ key: StaticString) {
        #if DEBUG
        let name = key.description
        if let last = lastKeys.last, !last.isEmpty {
            precondition(last < name, "JSONWriter: key \(name) written after \(last)")
        }
        lastKeys[lastKeys.count - 1] = name
        #endif
        if !opened { bytes.append(UInt8(ascii: ",")) }
        opened = false
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    mutating func field(_ key: StaticString, _ value: String) {
        member(key)
        CompactJSON.writeString(value, to: &bytes)
    }

    mutating func field(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        field(key, value)
    }

    mutating func field(_ key: StaticString, _ value: Bool) {
        member(key)
        let literal: StaticString = value ? "true" : "false"
        bytes.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    mutating func field<Value: RawRepresentable>(_ key: StaticString, _ value: Value) where Value.RawValue == String {
        field(key, value.rawValue)
    }

    mutating func field<Value: RawRepresentable>(_ key: StaticString, _ values: [Value]) where Value.RawValue == String {
        member(key)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            CompactJSON.writeString(value.rawValue, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func field(_ key: StaticString, _ value: Date?) throws {
        guard let value else { return }
        member(key)
        bytes.append(UInt8(ascii: "\""))
        guard CompactJSON.writeISO8601(value, to: &bytes) else { throw CompactJSON.Unsupported() }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func field(_ key: StaticString, _ value: (some JSONWritable)?) throws {
        guard let value else { return }
        member(key)
        try value.write(to: &self)
    }
}
