import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import JoinInCore
import JoinInStore
import NIOCore

/// What a transactional handler part produces: status, JSON body, extra headers.
struct Reply: Sendable {
    let status: HTTPResponse.Status
    let body: Data
    var headers: [String: String] = [:]

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .created, headers: [String: String] = [:]) throws -> Reply {
        Reply(status: status, body: Data(try JSON.encode(value)), headers: headers)
    }

    func response(replayed: Bool) -> Response {
        var fields: HTTPFields = [.contentType: "application/json"]
        for (name, value) in headers {
            if let field = HTTPField.Name(name) { fields[field] = value }
        }
        if replayed { fields[.idempotencyReplayed] = "true" }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotencyReplayed = HTTPField.Name("Idempotency-Replayed")!
}

/// DESIGN §4: the record of (principal, key, request hash, response) is written in the same
/// transaction as the effect it guards, so a replay can never disagree with what happened.
enum Idempotency {
    static let keyLengthMax = 255

    static func key(from request: Request, required: Bool) throws -> String? {
        guard let key = request.headers[.idempotencyKey] else {
            if required {
                throw DomainError.malformed("idempotency.key_required", "this operation needs an Idempotency-Key header")
            }
            return nil
        }
        guard (1...keyLengthMax).contains(key.count), key.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else {
            throw DomainError.malformed("idempotency.key_invalid", "Idempotency-Key must be 1-\(keyLengthMax) printable ASCII characters")
        }
        return key
    }

    /// Fields that carry a secret. They never enter a stored fingerprint as themselves: a plain
    /// hash of a body carrying a 6-digit PIN gives the PIN away in 10^6 guesses. Two requests that
    /// differ only in a secret are the same request (a retry with a mistyped PIN replays the
    /// first answer), which is what a retry is.
    static let secretFields: Set<String> = [
        "pin", "new_pin", "password", "current_password", "new_password", "activation_code", "dynamic_code", "api_key", "token",
    ]

    /// Method, path and the canonical JSON body (keys sorted, secret fields removed at any depth),
    /// so formatting does not change the identity of a request.
    static func canonicalRequest(method: HTTPRequest.Method, path: String, body: ByteBuffer, keepingSecrets: Bool = false) -> Data {
        let raw = Data(buffer: body)
        var canonical = Data("\(method.rawValue) \(path)\n".utf8)
        if let object = try? JSONSerialization.jsonObject(with: raw, options: [.fragmentsAllowed]),
           let data = try? JSONSerialization.data(withJSONObject: keepingSecrets ? object : withoutSecrets(object),
                                                  options: [.sortedKeys, .fragmentsAllowed]) {
            canonical.append(data)
        } else {
            // Not JSON: the handler will refuse it; a keyed digest of the bytes is safe to store.
            canonical.append(raw)
        }
        return canonical
    }

    static func withoutSecrets(_ value: Any) -> Any {
        if let object = value as? [String: Any] {
            return object.filter { !secretFields.contains($0.key) }.mapValues(withoutSecrets)
        }
        if let array = value as? [Any] { return array.map(withoutSecrets) }
        return value
    }

    /// The plain SHA-256 that rows written before migration 6 carried (secrets included); only
    /// ever compared in keyed form (`StoreTx.legacyRequestFingerprint`).
    static func legacyHash(method: HTTPRequest.Method, path: String, body: ByteBuffer) -> String {
        Hex.lowercase(SHA256.hash(data: canonicalRequest(method: method, path: path, body: body, keepingSecrets: true)))
    }

    /// Runs `work` in one write transaction, guarded by the request's Idempotency-Key if any.
    static func write(store: Store, request: Request, body: ByteBuffer, principal: String, nowMs: Int64,
                      keyRequired: Bool = false, isolation: WriteIsolation = .serializable,
                      _ work: @escaping @Sendable (StoreTx) async throws -> Reply) async throws -> Response {
        guard let key = try key(from: request, required: keyRequired) else {
            return try await store.write(isolation: isolation, work).response(replayed: false)
        }
        let canonical = canonicalRequest(method: request.method, path: request.uri.path, body: body)
        let method = request.method, path = request.uri.path
        do {
            let (reply, replayed) = try await store.write(isolation: isolation) { tx -> (Reply, Bool) in
                let hash = tx.requestFingerprint(canonical)
                if let record = try await tx.idempotencyRecord(principal: principal, key: key) {
                    let matches = record.requestHash.hasPrefix("legacy:")
                        ? record.requestHash == tx.legacyRequestFingerprint(sha256Hex: legacyHash(method: method, path: path, body: body))
                        : record.requestHash == hash
                    guard matches else {
                        throw DomainError.rule("idempotency.key_reused",
                                               "Idempotency-Key '\(key.prefix(60))' was already used with a different request")
                    }
                    let headers = (try? JSONDecoder().decode([String: String].self, from: Data(record.headers.utf8))) ?? [:]
                    return (Reply(status: HTTPResponse.Status(code: Int(record.status)), body: Data(record.body.utf8), headers: headers), true)
                }
                let reply = try await work(tx)
                let headers = String(decoding: try JSONEncoder().encode(reply.headers), as: UTF8.self)
                try await tx.insertIdempotencyRecord(principal: principal, key: key, requestHash: hash, status: Int(reply.status.code),
                                                     body: String(decoding: reply.body, as: UTF8.self), headers: headers, atMs: nowMs)
                return (reply, false)
            }
            return reply.response(replayed: replayed)
        } catch where isUniqueViolation(error) {
            // Either a concurrent duplicate of this request won the key, or the effect itself raced.
            let keyTaken = try await store.read { tx in try await tx.idempotencyRecord(principal: principal, key: key) } != nil
            guard keyTaken else { throw error }
            throw DomainError.conflict("idempotency.in_progress",
                                       "a request with Idempotency-Key '\(key.prefix(60))' is being processed; retry shortly")
        }
    }
}
