public import Crypto

/// A Token Status List (IETF draft-ietf-oauth-status-list) with one bit per token:
/// 0 = valid, 1 = invalid (revoked). Token `index` lives in byte `index / 8` at bit
/// `index % 8`, counting from the least significant bit.
///
/// The list covers `bytes.count * 8` indices (capacity rounded up to whole bytes).
public struct StatusList: Sendable, Equatable {
    public static let bits = 1

    public private(set) var bytes: [UInt8]

    /// `capacity` tokens, all valid.
    public init(capacity: Int) {
        bytes = [UInt8](repeating: 0, count: (max(0, capacity) + 7) / 8)
    }

    /// Reads the `lst` value: base64url of the zlib-compressed bytes, at most `limit` bytes.
    public init(lst: String, limit: Int = 1 << 20) throws {
        guard let compressed = Base64URL.decode(lst) else { throw CredentialError.malformed("status list lst is not base64url") }
        bytes = try Zlib.decompress(compressed, limit: limit)
    }

    /// base64url(zlib(bytes)), the `lst` value of a status list token.
    public var lst: String {
        Base64URL.encode(Zlib.compress(bytes))
    }

    /// The status of token `index`, nil when out of range.
    public func status(at index: Int) -> UInt8? {
        guard index >= 0, index / 8 < bytes.count else { return nil }
        return bytes[index / 8] >> UInt8(index % 8) & 1
    }

    /// Sets token `index` to `value` (0 or 1).
    public mutating func setStatus(_ value: UInt8, at index: Int) {
        precondition(value <= 1, "a 1-bit status list holds 0 or 1")
        precondition(index >= 0 && index / 8 < bytes.count, "status index out of range")
        let mask = UInt8(1) << UInt8(index % 8)
        if value == 1 { bytes[index / 8] |= mask } else { bytes[index / 8] &= ~mask }
    }
}

/// The signed form of a status list: a JWT with `typ` "statuslist+jwt".
public enum StatusListToken {
    public static let typ = "statuslist+jwt"

    /// Payload `{"sub":uri,"iat":…,"exp":…,"ttl":…,"status_list":{"bits":1,"lst":…}}`.
    public static func sign(list: StatusList, uri: String, issuedAt: Int64, expiresAt: Int64, ttl: Int64, kid: String, key: Curve25519.Signing.PrivateKey) throws -> String {
        let payload = JSONValue.object([
            ("sub", .string(uri)),
            ("iat", .number(issuedAt)),
            ("exp", .number(expiresAt)),
            ("ttl", .number(ttl)),
            ("status_list", .object([("bits", .number(Int64(StatusList.bits))), ("lst", .string(list.lst))])),
        ])
        return try JWS.sign(payload: payload.serialized(), kid: kid, typ: typ, key: key)
    }

    /// Verifies the signature and type, then reads the claims. `sub`, `iat`, `exp` and
    /// `status_list` (with `bits` 1 and a string `lst`) are required; `ttl`, when present, must
    /// be a non-negative integer. `exp <= now` throws `.malformed("status list expired")`.
    public static func verify(_ compact: String, keys: [String: Curve25519.Signing.PublicKey], now: Int64) throws -> (uri: String, list: StatusList, expiresAt: Int64) {
        let verified = try JWS.verify(compact, keys: keys, expectedTyp: typ)
        let json = try JSONValue.parse(verified.payload)
        guard json.members != nil else { throw CredentialError.malformed("status list payload is not a JSON object") }
        guard let uri = json["sub"]?.string, !uri.isEmpty else { throw CredentialError.malformed("status list has no sub") }
        guard json["iat"]?.int != nil else { throw CredentialError.malformed("status list has no integer iat") }
        guard let exp = json["exp"]?.int else { throw CredentialError.malformed("status list has no integer exp") }
        if let ttl = json["ttl"] {
            guard let t = ttl.int, t >= 0 else { throw CredentialError.malformed("status list ttl is not a non-negative integer") }
        }
        guard let statusList = json["status_list"], statusList.members != nil else {
            throw CredentialError.malformed("status list has no status_list object")
        }
        guard statusList["bits"]?.int == Int64(StatusList.bits) else { throw CredentialError.malformed("status list bits must be 1") }
        guard let lst = statusList["lst"]?.string else { throw CredentialError.malformed("status list has no lst") }
        guard exp > now else { throw CredentialError.malformed("status list expired") }
        let list = try StatusList(lst: lst)
        return (uri, list, exp)
    }
}
