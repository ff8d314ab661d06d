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
        Reply(status: status, body: try JSON.encoder.encode(value), headers: headers)
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

    /// SHA-256 over method, path and the canonical JSON body (keys sorted), so formatting does not
    /// change the identity of a request.
    static func requestHash(method: HTTPRequest.Method, path: String, body: ByteBuffer) -> String {
        let raw = Data(buffer: body)
        let canonical: Data
        if let object = try? JSONSerialization.jsonObject(with: raw, options: [.fragmentsAllowed]),
           let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed]) {
            canonical = data
        } else {
            canonical = raw
        }
        var hasher = SHA256()
        hasher.update(data: Data("\(method.rawValue) \(path)\n".utf8))
        hasher.update(data: canonical)
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Runs `work` in one write transaction, guarded by the request's Idempotency-Key if any.
    static func write(store: Store, request: Request, body: ByteBuffer, principal: String, nowMs: Int64,
                      keyRequired: Bool = false, isolation: WriteIsolation = .serializable,
                      _ work: @escaping @Sendable (StoreTx) async throws -> Reply) async throws -> Response {
        guard let key = try key(from: request, required: keyRequired) else {
            return try await store.write(isolation: isolation, work).response(replayed: false)
        }
        let hash = requestHash(method: request.method, path: request.uri.path, body: body)
        do {
            let (reply, replayed) = try await store.write(isolation: isolation) { tx -> (Reply, Bool) in
                if let record = try await tx.idempotencyRecord(principal: principal, key: key) {
                    guard record.requestHash == hash else {
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
