import Foundation
import HTTPTypes
import Hummingbird
import JoinInCore
import NIOCore

/// JSON on the wire, for the generated API types (their coding keys are the spec's snake_case
/// names): keys sorted for stable output, timestamps RFC 3339 in UTC.
enum JSON {
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        // RFC 3339 date-times, with or without fractional seconds (a client may send either).
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = instant(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an RFC 3339 date-time"))
            }
            return date
        }
        return decoder
    }

    /// An RFC 3339 date-time, with or without fractional seconds.
    static func instant(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// Reads and decodes a request body, turning every decoding failure into a 400 that names the field.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> (T, ByteBuffer) {
        let buffer = try await request.body.collect(upTo: limit)
        if let contentType = request.headers[.contentType], !contentType.lowercased().hasPrefix("application/json") {
            throw DomainError(.unsupportedMediaType, code: "request.unsupported_media_type", title: "Unsupported media type",
                              detail: "send the body as application/json, got \(contentType.prefix(60))")
        }
        guard buffer.readableBytes > 0 else {
            throw DomainError.malformed("request.body_missing", "this endpoint needs a JSON body")
        }
        // An escaped control character (\u0000-\u001f) is legal JSON but never legal in our
        // fields, and PostgreSQL cannot even store NUL: refuse it before decoding.
        if Self.hasEscapedControlCharacter(buffer) {
            throw DomainError.malformed("request.control_character", "text fields must not contain control characters")
        }
        do {
            return (try decoder.decode(T.self, from: Data(buffer: buffer)), buffer)
        } catch let error as DecodingError {
            throw DomainError.malformed("request.invalid_json", describe(error))
        } catch let error as DomainError {
            throw error
        }
    }

    /// The generated types read `null` and an absent member alike; where the schema does not allow
    /// `null` (and absent means "unchanged"), the raw body says which it was.
    static func members(of buffer: ByteBuffer) -> [String: Any] {
        ((try? JSONSerialization.jsonObject(with: Data(buffer: buffer))) as? [String: Any]) ?? [:]
    }

    static func refuseNull(_ buffer: ByteBuffer, members names: [String]) throws {
        let object = members(of: buffer)
        for name in names where object[name] is NSNull {
            throw DomainError.malformed("request.invalid_json", "\(name): must not be null")
        }
    }

    /// Finds `\u00XX` escapes of C0 controls other than tab, LF and CR in a JSON text.
    static func hasEscapedControlCharacter(_ buffer: ByteBuffer) -> Bool {
        let bytes = buffer.readableBytesView
        var index = bytes.startIndex
        var escaped = false
        while index < bytes.endIndex {
            let byte = bytes[index]
            if escaped {
                escaped = false
                if byte == UInt8(ascii: "u"), bytes.distance(from: index, to: bytes.endIndex) >= 5 {
                    let hex = String(decoding: bytes[(index + 1)..<(index + 5)], as: UTF8.self)
                    if let value = UInt32(hex, radix: 16), value < 0x20, value != 0x09, value != 0x0A, value != 0x0D { return true }
                }
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            }
            index += 1
        }
        return false
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey], _ last: (any CodingKey)? = nil) -> String {
            let keys = codingPath + (last.map { [$0] } ?? [])
            let rendered = keys.map { key in key.intValue.map { "[\($0)]" } ?? snakeCase(key.stringValue) }
                .joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
            return rendered.isEmpty ? "body" : rendered
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath, key)) is required"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)) must be \(jsonTypeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)) must be \(jsonTypeName(type)), not null"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "body is not valid JSON" }
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "body could not be decoded"
        }
    }

    static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: return "an integer"
        case is Bool.Type: return "a boolean"
        case is Double.Type: return "a number"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "an object"
        }
    }

    static func snakeCase(_ key: String) -> String {
        var out = ""
        for character in key {
            if character.isUppercase {
                if !out.isEmpty { out.append("_") }
                out.append(contentsOf: character.lowercased())
            } else {
                out.append(character)
            }
        }
        return out
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let bytes = try encode(value)
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// `value` as `encoder` writes it: by its own `JSONWritable.write` or through `CompactJSON`
    /// where they can, `JSONEncoder` where they cannot. Debug builds (every test run) encode with
    /// `JSONEncoder` too and stop on any difference.
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let written: [UInt8]? = if let writable = value as? any JSONWritable { JSONWriter.bytes(of: writable) } else { nil }
        guard let bytes = written ?? CompactJSON.encode(value) else { return Array(try encoder.encode(value)) }
        #if DEBUG
        let reference = Array(try encoder.encode(value))
        if bytes != reference {
            fatalError("JSONWriter or CompactJSON and JSONEncoder disagree on \(T.self):\n\(String(decoding: bytes, as: UTF8.self))\n\(String(decoding: reference, as: UTF8.self))")
        }
        #endif
        return bytes
    }
}

struct ListParameters {
    static let limitMax = 200
    static let limitDefault = 50
    let limit: Int
    let cursor: String?

    init(_ request: Request) throws {
        let query = request.uri.queryParameters
        if let text = query["limit"] {
            guard let value = Int(String(text)), (1...Self.limitMax).contains(value) else {
                throw DomainError.malformed("list.limit_invalid", "limit must be an integer from 1 to \(Self.limitMax)")
            }
            limit = value
        } else {
            limit = Self.limitDefault
        }
        cursor = query["cursor"].map(String.init)
    }

    /// Splits rows fetched with `limit + 1` into this page and the cursor of the next page (nil
    /// on the last page): the extra row only tells whether there is more.
    func page<Row>(_ rows: [Row], cursor: (Row) -> String) -> (rows: [Row], next: String?) {
        let page = Array(rows.prefix(limit))
        return (page, rows.count > limit ? page.last.map(cursor) : nil)
    }
}
