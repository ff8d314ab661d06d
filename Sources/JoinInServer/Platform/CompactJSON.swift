import Foundation
import JoinInCore

/// Writes the JSON that `JSON.encoder` writes (keys sorted, no whitespace, slashes unescaped,
/// dates as RFC 3339 whole seconds in UTC), byte for byte, at a fraction of its cost: Foundation's
/// `JSONEncoder` was ~11% of the server's CPU on an authenticated read (perf,
/// docs/performance.md). It covers what the API's types are made of: strings, integers, booleans,
/// null, dates, objects and arrays. A value that holds anything else (floating-point numbers,
/// `Data`, `URL`, `Decimal`) makes `encode` return nil, and the caller uses `JSONEncoder`; so does
/// a value that encodes nothing. Debug builds compare every response with `JSONEncoder`'s
/// (`JSON.encode`), so the whole test suite checks that the two agree.
enum CompactJSON {
    static func encode<T: Encodable>(_ value: T) -> [UInt8]? {
        let encoder = ValueEncoder()
        do {
            try encoder.encodeValue(value)
        } catch {
            return nil
        }
        guard let root = encoder.result else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(512)
        write(root, to: &output)
        return output
    }

    /// Thrown when a value needs what this writer does not do; never escapes `encode`.
    struct Unsupported: Error {}

    /// An object's members in the order written; `write` sorts them and keeps the last value
    /// written for a key, as `JSONEncoder` does.
    final class ObjectBox {
        var members: [(key: String, node: Node)] = []

        func set(_ key: String, _ node: Node) { members.append((key, node)) }
    }

    final class ArrayBox {
        var items: [Node] = []
    }

    enum Node {
        case string(String)
        case integer(Int64)
        case unsigned(UInt64)
        case bool(Bool)
        case null
        case object(ObjectBox)
        case array(ArrayBox)
        /// A nested value's encoder; its result is read when the tree is written.
        case deferred(ValueEncoder)
    }

    // MARK: - writing

    static func write(_ node: Node, to output: inout [UInt8]) {
        switch node {
        case .string(let text): writeString(text, to: &output)
        case .integer(let number): output.append(contentsOf: String(number).utf8)
        case .unsigned(let number): output.append(contentsOf: String(number).utf8)
        case .bool(let flag): output.append(contentsOf: flag ? Array("true".utf8) : Array("false".utf8))
        case .null: output.append(contentsOf: "null".utf8)
        case .object(let box):
            output.append(UInt8(ascii: "{"))
            // Sorted by key, then by the order written; of equal keys only the last is written.
            let order = box.members.indices.sorted { left, right in
                let a = box.members[left].key, b = box.members[right].key
                return a == b ? left < right : a < b
            }
            var first = true
            for (position, index) in order.enumerated() {
                let member = box.members[index]
                if position + 1 < order.count, box.members[order[position + 1]].key == member.key { continue }
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                writeString(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                write(member.node, to: &output)
            }
            output.append(UInt8(ascii: "}"))
        case .array(let box):
            output.append(UInt8(ascii: "["))
            for (index, item) in box.items.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                write(item, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .deferred(let encoder):
            // An encoder that produced nothing stands for an empty object, as in JSONEncoder.
            write(encoder.result ?? .object(ObjectBox()), to: &output)
        }
    }

    static func writeString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        // Most strings need no escape: their bytes are copied at once.
        var text = text
        let plain = text.withUTF8 { bytes in
            guard !bytes.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return false }
            output.append(contentsOf: bytes)
            return true
        }
        if plain {
            output.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x00..<0x20:
                let hex: StaticString = "0123456789abcdef"
                output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                           hex.utf8Start[Int(byte >> 4)], hex.utf8Start[Int(byte & 0xF)]])
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// RFC 3339 in UTC, whole seconds rounded down, as `JSONEncoder`'s `.iso8601` writes it;
    /// nil outside years 1900-9999, left to `JSONEncoder` (whose formatter switches to the Julian
    /// calendar before 1582).
    static func iso8601(_ date: Date) -> String? {
        var bytes: [UInt8] = []
        guard writeISO8601(date, to: &bytes) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `iso8601(date)`'s 20 bytes (`YYYY-MM-DDTHH:MM:SSZ`); false, appending nothing,
    /// where it is nil.
    static func writeISO8601(_ date: Date, to bytes: inout [UInt8]) -> Bool {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        guard seconds.isFinite, abs(seconds) < 300_000_000_000 else { return false }
        let whole = Int(seconds)
        let days = whole >= 0 ? whole / 86_400 : -((-whole + 86_399) / 86_400)
        let secondOfDay = whole - days * 86_400
        let date = CivilDate(daysSinceEpoch: days)
        guard (1900...9999).contains(date.year) else { return false }
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(date.year, 4)
        bytes.append(UInt8(ascii: "-"))
        digits(date.month, 2)
        bytes.append(UInt8(ascii: "-"))
        digits(date.day, 2)
        bytes.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3_600, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(secondOfDay % 3_600 / 60, 2)
        bytes.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2)
        bytes.append(UInt8(ascii: "Z"))
        return true
    }

    // MARK: - encoding

    /// The node of a value whose type `JSONEncoder` treats specially or that is a plain scalar;
    /// nil for any other type (it encodes itself). Types are told apart by the value's dynamic
    /// metatype (an existential's content included), so no dynamic cast is tried in vain.
    static func scalar<T: Encodable>(_ value: T) throws -> Node? {
        let type = ObjectIdentifier(Swift.type(of: value) as Any.Type)
        if type == ObjectIdentifier(String.self), let text = value as? String { return .string(text) }
        if type == ObjectIdentifier(Int.self), let number = value as? Int { return .integer(Int64(number)) }
        if type == ObjectIdentifier(Int64.self), let number = value as? Int64 { return .integer(number) }
        if type == ObjectIdentifier(Bool.self), let flag = value as? Bool { return .bool(flag) }
        if type == ObjectIdentifier(Date.self), let date = value as? Date {
            guard let text = iso8601(date) else { throw Unsupported() }
            return .string(text)
        }
        if unsupported.contains(type) { throw Unsupported() }
        return nil
    }

    /// Types `JSONEncoder` writes in its own way (numbers' formatting, base64, absolute URLs).
    private static let unsupported: Set<ObjectIdentifier> = [
        ObjectIdentifier(Double.self), ObjectIdentifier(Float.self), ObjectIdentifier(Data.self), ObjectIdentifier(URL.self),
        ObjectIdentifier(Decimal.self),
    ]

    final class ValueEncoder: Encoder {
        /// The encoder of the enclosing value and this value's key in it: the coding path is
        /// built only when asked for (errors), not as an array per nested value.
        let parent: ValueEncoder?
        let key: (any CodingKey)?
        var userInfo: [CodingUserInfoKey: Any] { [:] }
        var result: Node?

        init(parent: ValueEncoder? = nil, key: (any CodingKey)? = nil) {
            self.parent = parent
            self.key = key
        }

        var codingPath: [any CodingKey] {
            var path: [any CodingKey] = []
            var encoder: ValueEncoder? = self
            while let current = encoder {
                if let key = current.key { path.append(key) }
                encoder = current.parent
            }
            return path.reversed()
        }

        /// Encodes `value` into this encoder, with the types `JSONEncoder` treats specially.
        func encodeValue<T: Encodable>(_ value: T) throws {
            if let node = try CompactJSON.scalar(value) {
                result = node
            } else {
                try value.encode(to: self)
            }
        }

        /// The node a nested value becomes: a scalar directly, anything else through its own encoder.
        func node<T: Encodable>(for value: T, key: (any CodingKey)?) throws -> Node {
            if let node = try CompactJSON.scalar(value) { return node }
            let nested = ValueEncoder(parent: self, key: key)
            try value.encode(to: nested)
            guard let node = nested.result else { throw Unsupported() }  // encoded nothing: left to JSONEncoder
            return node
        }

        func container<Key: CodingKey>(keyedBy _: Key.Type) -> KeyedEncodingContainer<Key> {
            let box: ObjectBox
            if case .object(let existing) = result {
                box = existing
            } else {
                box = ObjectBox()
                result = .object(box)
            }
            return KeyedEncodingContainer(KeyedContainer<Key>(encoder: self, box: box))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            let box: ArrayBox
            if case .array(let existing) = result {
                box = existing
            } else {
                box = ArrayBox()
                result = .array(box)
            }
            return UnkeyedContainer(encoder: self, box: box)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer { SingleValueContainer(encoder: self) }
    }

    struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let encoder: ValueEncoder
        let box: ObjectBox
        var codingPath: [any CodingKey] { encoder.codingPath }

        mutating func encodeNil(forKey key: Key) throws { box.set(key.stringValue, .null) }
        mutating func encode(_ value: String, forKey key: Key) throws { box.set(key.stringValue, .string(value)) }
        mutating func encode(_ value: Bool, forKey key: Key) throws { box.set(key.stringValue, .bool(value)) }
        mutating func encode(_ value: Int, forKey key: Key) throws { box.set(key.stringValue, .integer(Int64(value))) }
        mutating func encode(_ value: Int64, forKey key: Key) throws { box.set(key.stringValue, .integer(value)) }
        mutating func encode(_ value: Int32, forKey key: Key) throws { box.set(key.stringValue, .integer(Int64(value))) }
        mutating func encode(_ value: Double, forKey key: Key) throws { throw Unsupported() }
        mutating func encode(_ value: Float, forKey key: Key) throws { throw Unsupported() }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            box.set(key.stringValue, try encoder.node(for: value, key: key))
        }

        mutating func nestedContainer<N: CodingKey>(keyedBy _: N.Type, forKey key: Key) -> KeyedEncodingContainer<N> {
            let nested = ObjectBox()
            box.set(key.stringValue, .object(nested))
            return KeyedEncodingContainer(KeyedContainer<N>(encoder: ValueEncoder(parent: encoder, key: key), box: nested))
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let nested = ArrayBox()
            box.set(key.stringValue, .array(nested))
            return UnkeyedContainer(encoder: ValueEncoder(parent: encoder, key: key), box: nested)
        }

        mutating func superEncoder() -> any Encoder { superEncoder(named: "super") }
        mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key.stringValue) }

        private func superEncoder(named name: String) -> any Encoder {
            let nested = ValueEncoder(parent: encoder.parent, key: encoder.key)
            box.set(name, .deferred(nested))
            return nested
        }
    }

    struct UnkeyedContainer: UnkeyedEncodingContainer {
        let encoder: ValueEncoder
        let box: ArrayBox
        var codingPath: [any CodingKey] { encoder.codingPath }
        var count: Int { box.items.count }

        mutating func encodeNil() throws { box.items.append(.null) }
        mutating func encode(_ value: String) throws { box.items.append(.string(value)) }
        mutating func encode(_ value: Bool) throws { box.items.append(.bool(value)) }
        mutating func encode(_ value: Int) throws { box.items.append(.integer(Int64(value))) }
        mutating func encode(_ value: Int64) throws { box.items.append(.integer(value)) }
        mutating func encode(_ value: Double) throws { throw Unsupported() }
        mutating func encode(_ value: Float) throws { throw Unsupported() }
        mutating func encode<T: Encodable>(_ value: T) throws { box.items.append(try encoder.node(for: value, key: nil)) }

        mutating func nestedContainer<N: CodingKey>(keyedBy _: N.Type) -> KeyedEncodingContainer<N> {
            let nested = ObjectBox()
            box.items.append(.object(nested))
            return KeyedEncodingContainer(KeyedContainer<N>(encoder: ValueEncoder(parent: encoder.parent, key: encoder.key), box: nested))
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let nested = ArrayBox()
            box.items.append(.array(nested))
            return UnkeyedContainer(encoder: ValueEncoder(parent: encoder.parent, key: encoder.key), box: nested)
        }

        mutating func superEncoder() -> any Encoder {
            let nested = ValueEncoder(parent: encoder.parent, key: encoder.key)
            box.items.append(.deferred(nested))
            return nested
        }
    }

    struct SingleValueContainer: SingleValueEncodingContainer {
        let encoder: ValueEncoder
        var codingPath: [any CodingKey] { encoder.codingPath }

        mutating func encodeNil() throws { encoder.result = .null }
        mutating func encode(_ value: String) throws { encoder.result = .string(value) }
        mutating func encode(_ value: Bool) throws { encoder.result = .bool(value) }
        mutating func encode(_ value: Int) throws { encoder.result = .integer(Int64(value)) }
        mutating func encode(_ value: Int8) throws { encoder.result = .integer(Int64(value)) }
        mutating func encode(_ value: Int16) throws { encoder.result = .integer(Int64(value)) }
        mutating func encode(_ value: Int32) throws { encoder.result = .integer(Int64(value)) }
        mutating func encode(_ value: Int64) throws { encoder.result = .integer(value) }
        mutating func encode(_ value: UInt) throws { encoder.result = .unsigned(UInt64(value)) }
        mutating func encode(_ value: UInt8) throws { encoder.result = .unsigned(UInt64(value)) }
        mutating func encode(_ value: UInt16) throws { encoder.result = .unsigned(UInt64(value)) }
        mutating func encode(_ value: UInt32) throws { encoder.result = .unsigned(UInt64(value)) }
        mutating func encode(_ value: UInt64) throws { encoder.result = .unsigned(value) }
        mutating func encode(_ value: Double) throws { throw Unsupported() }
        mutating func encode(_ value: Float) throws { throw Unsupported() }
        mutating func encode<T: Encodable>(_ value: T) throws { try encoder.encodeValue(value) }
    }
}
