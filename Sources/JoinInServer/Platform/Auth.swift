import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import JoinInCore
import JoinInStore
import NIOPosix

/// Who is calling. Staff sign in with username + password; terminals present an API key.
enum Principal: Sendable {
    case staff(StaffPrincipal)
    case terminal(TerminalPrincipal)
    case cardholder(CardholderPrincipal)

    /// Stable id used for audit and idempotency scoping.
    var auditName: String {
        switch self {
        case .staff(let staff): return "staff:\(staff.id)"
        case .terminal(let terminal): return terminal.auditName
        case .cardholder(let holder): return holder.auditName
        }
    }
}

struct CardholderPrincipal: Sendable {
    let id: String
    let personID: String
    let permitNumber: String
    let tokenHash: String

    var auditName: String { "cardholder:\(id)" }
}

struct StaffPrincipal: Sendable {
    let id: String
    let username: String
    let role: StaffRole
    let employerID: String?
    let branchID: String?
    let department: String?
    let merchantID: String?
    let mustChangePassword: Bool
    let tokenHash: String

    var auditName: String { "staff:\(id)" }
}

struct TerminalPrincipal: Sendable {
    let id: String
    let kind: TerminalKind
    let bindingID: String?

    var auditName: String { "terminal:\(id)" }
}

enum Tokens {
    static let staffPrefix = "jis_"
    static let terminalPrefix = "jit_"
    static let cardholderPrefix = "jic_"

    /// 256 random bits, base64url, with a prefix that says what the token is for.
    static func make(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return prefix + base64url(bytes)
    }

    static func base64url(_ bytes: some Sequence<UInt8>) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// A human-typeable one-time password: 20 characters without look-alikes.
    static func oneTimePassword() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}

/// bcrypt runs on NIO's thread pool: it is deliberately slow and must not block an event loop.
/// bcrypt reads only the first 72 bytes, so the secret is first reduced to base64(SHA-256), 44
/// bytes that depend on every byte of it.
enum PasswordHasher {
    static func hash(_ password: String, cost: UInt8) async throws -> String {
        let input = prehash(password)
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(input, cost: cost) }
    }

    static func verify(_ password: String, hash: String) async throws -> Bool {
        let input = prehash(password)
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(input, hash: hash) }
    }

    static func prehash(_ password: String) -> String {
        Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }
}

struct Authenticator: Sendable {
    let store: Store
    let clock: AppClock

    /// The bearer token of a request and its keyed digest (how sessions and keys are stored).
    struct Credential: Sendable {
        let token: String
        let tokenHash: String
    }

    /// Reads the Authorization header, or throws 401.
    func credential(_ request: Request) throws -> Credential {
        // The fields themselves, not `headers[.authorization]`, which joins repeated fields into
        // a new string on every request.
        var header: String?
        for field in request.headers where field.name == .authorization {
            guard header == nil else { throw Self.malformed }
            header = field.value
        }
        guard let header else {
            throw DomainError.unauthenticated("auth.required", "send Authorization: Bearer <token or API key>")
        }
        guard let token = Self.bearerToken(header) else { throw Self.malformed }
        return Credential(token: token, tokenHash: store.secretDigest(token))
    }

    static let malformed = DomainError.unauthenticated("auth.malformed", "Authorization must be one 'Bearer <token>'")

    /// The token of `Bearer <token>` (the scheme in any case, then one or more spaces), at most
    /// 200 characters; nil for anything else. Read on the bytes.
    static func bearerToken(_ header: String) -> String? {
        let bytes = header.utf8
        let scheme = "bearer".utf8
        guard bytes.count > scheme.count + 1 else { return nil }
        var index = bytes.startIndex
        for expected in scheme {
            guard bytes[index] | 0x20 == expected else { return nil }
            index = bytes.index(after: index)
        }
        guard bytes[index] == UInt8(ascii: " ") else { return nil }
        while index < bytes.endIndex, bytes[index] == UInt8(ascii: " ") { index = bytes.index(after: index) }
        guard index < bytes.endIndex else { return nil }
        let token = String(header[index...])
        guard token.utf8.count <= 200 || token.count <= 200 else { return nil }
        return token
    }

    /// Resolves the bearer token to a principal or throws 401: its own lookup.
    func authenticate(_ request: Request) async throws -> Principal {
        let credential = try credential(request)
        return try await store.lookup { tx in try await resolve(credential, in: tx) }
    }

    /// Resolves a credential to a principal inside the caller's transaction, or throws 401.
    func resolve(_ credential: Credential, in tx: StoreTx) async throws -> Principal {
        let tokenHash = credential.tokenHash
        let now = clock.nowMs()
        if credential.token.hasPrefix(Tokens.terminalPrefix) {
            guard let terminal = try await tx.terminal(keyHash: tokenHash), terminal.revokedAtMs == nil, let kind = terminal.terminalKind else {
                throw DomainError.unauthenticated("auth.invalid", "the API key is unknown or revoked")
            }
            return .terminal(TerminalPrincipal(id: terminal.id, kind: kind, bindingID: terminal.bindingId))
        }
        // The session with its cardholder joined (one statement); a staff member is read after.
        let invalid = DomainError.unauthenticated("auth.invalid", "the session is unknown, expired or ended; sign in again")
        guard let (session, holder) = try await tx.sessionAndHolder(tokenHash: tokenHash), session.revokedAtMs == nil,
              session.expiresAtMs > now else {
            throw invalid
        }
        if session.principalKind == "cardholder", let holder {
            return .cardholder(CardholderPrincipal(id: holder.id, personID: holder.personId, permitNumber: holder.permitNumber,
                                                   tokenHash: tokenHash))
        }
        guard session.principalKind == "staff", let staff = try await tx.staff(id: session.principalId), staff.disabledAtMs == nil,
              let role = staff.staffRole else {
            throw invalid
        }
        return .staff(StaffPrincipal(id: staff.id, username: staff.username, role: role, employerID: staff.employerId,
                                     branchID: staff.branchId, department: staff.department, merchantID: staff.merchantId,
                                     mustChangePassword: staff.needsPasswordChange, tokenHash: tokenHash))
    }
}
