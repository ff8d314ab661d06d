public import Crypto

/// An Ed25519 public key as a JSON Web Key (RFC 7517, RFC 8037 §2).
public struct JWK: Sendable, Equatable {
    public let kid: String
    /// Base64url of the 32-byte public key.
    public let x: String

    public init(publicKey: Curve25519.Signing.PublicKey, kid: String) {
        self.kid = kid
        self.x = Base64URL.encode(Array(publicKey.rawRepresentation))
    }

    /// `{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"use":"sig","alg":"EdDSA"}`
    public var json: JSONValue {
        .object([
            ("kty", .string("OKP")),
            ("crv", .string("Ed25519")),
            ("x", .string(x)),
            ("kid", .string(kid)),
            ("use", .string("sig")),
            ("alg", .string("EdDSA")),
        ])
    }

    /// Reads an OKP/Ed25519 key: `x` must be canonical base64url of 32 bytes and `kid` a
    /// non-empty string. A present `use` must be "sig"; a present `alg` must be "EdDSA" or
    /// "Ed25519"; private keys (`d`) are refused.
    public init(json: JSONValue) throws {
        guard json.members != nil else { throw CredentialError.malformed("JWK is not a JSON object") }
        guard json["kty"]?.string == "OKP" else { throw CredentialError.malformed("JWK kty is not OKP") }
        guard json["crv"]?.string == "Ed25519" else { throw CredentialError.malformed("JWK crv is not Ed25519") }
        guard let x = json["x"]?.string, let raw = Base64URL.decode(x), raw.count == 32 else {
            throw CredentialError.malformed("JWK x is not a base64url 32-byte key")
        }
        guard let kid = json["kid"]?.string, !kid.isEmpty else { throw CredentialError.malformed("JWK has no kid") }
        if let use = json["use"] { guard use.string == "sig" else { throw CredentialError.malformed("JWK use is not sig") } }
        if let alg = json["alg"] {
            guard alg.string == "EdDSA" || alg.string == "Ed25519" else { throw CredentialError.malformed("JWK alg is not EdDSA") }
        }
        guard json["d"] == nil else { throw CredentialError.malformed("JWK contains a private key") }
        self.kid = kid
        self.x = x
    }

    public func publicKey() throws -> Curve25519.Signing.PublicKey {
        guard let raw = Base64URL.decode(x), raw.count == 32 else { throw CredentialError.malformed("JWK x is not a base64url 32-byte key") }
        do {
            return try Curve25519.Signing.PublicKey(rawRepresentation: raw)
        } catch {
            throw CredentialError.malformed("JWK x is not an Ed25519 public key")
        }
    }
}

/// A JWK Set (RFC 7517 §5) of Ed25519 verification keys.
public struct JWKS: Sendable, Equatable {
    public let keys: [JWK]

    public init(keys: [JWK]) {
        self.keys = keys
    }

    /// `{"keys":[…]}`
    public func serialized() -> [UInt8] {
        JSONValue.object([("keys", .array(keys.map(\.json)))]).serialized()
    }

    /// Parses a key set, skipping entries that are not OKP/Ed25519 (other key types are normal in
    /// a shared set). Throws for malformed JSON, a missing `keys` array, an OKP/Ed25519 entry that
    /// `JWK(json:)` refuses, two keys with the same kid, or when no Ed25519 key remains.
    public static func parse(_ bytes: [UInt8]) throws -> JWKS {
        let json = try JSONValue.parse(bytes)
        guard let entries = json["keys"]?.array else { throw CredentialError.malformed("JWKS has no keys array") }
        var keys: [JWK] = []
        var kids = Set<String>()
        for entry in entries {
            // Other key types and curves are skipped; a broken Ed25519 key is an error.
            guard entry["kty"]?.string == "OKP", entry["crv"]?.string == "Ed25519" else { continue }
            let key = try JWK(json: entry)
            guard kids.insert(key.kid).inserted else { throw CredentialError.malformed("JWKS has two keys with kid '\(key.kid.prefix(60))'") }
            keys.append(key)
        }
        guard !keys.isEmpty else { throw CredentialError.malformed("JWKS has no Ed25519 keys") }
        return JWKS(keys: keys)
    }

    /// Keys by kid, for `JWS.verify`. Throws on a duplicate kid or an invalid key.
    public func keyMap() throws -> [String: Curve25519.Signing.PublicKey] {
        var map: [String: Curve25519.Signing.PublicKey] = [:]
        for key in keys {
            guard map[key.kid] == nil else { throw CredentialError.malformed("JWKS has two keys with kid '\(key.kid.prefix(60))'") }
            map[key.kid] = try key.publicKey()
        }
        return map
    }
}
