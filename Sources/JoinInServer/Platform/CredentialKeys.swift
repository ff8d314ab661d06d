public import Crypto
public import JoinInCore

/// The Ed25519 keys that sign permit credentials, status lists and dynamic codes. The newest key
/// signs; older keys stay published in the JWKS until every credential they signed has expired.
public struct CredentialKeys: Sendable {
    public struct Key: Sendable {
        public let kid: String
        public let privateKey: Curve25519.Signing.PrivateKey
    }

    /// Oldest first; never empty.
    public let keys: [Key]

    public init(_ keys: [(kid: String, key: Curve25519.Signing.PrivateKey)]) throws {
        guard !keys.isEmpty else { throw DomainError.malformed("keys.none", "no credential signing key") }
        self.keys = keys.map { Key(kid: $0.kid, privateKey: $0.key) }
    }

    public init(kid: String, key: Curve25519.Signing.PrivateKey) {
        self.keys = [Key(kid: kid, privateKey: key)]
    }

    /// One fresh key (tests).
    public static func random(kid: String = "test-key") -> CredentialKeys {
        CredentialKeys(kid: kid, key: Curve25519.Signing.PrivateKey())
    }

    public var signing: Key { keys[keys.count - 1] }

    /// Key ids made by the key directory start with their creation time `YYYYMMDDHHMMSS`.
    static func createdAtSeconds(_ kid: String) -> Int64? {
        let digits = kid.prefix(14)
        guard digits.count == 14, digits.allSatisfy(\.isASCIIDigit), let year = Int(digits.prefix(4)),
              let month = Int(digits.dropFirst(4).prefix(2)), let day = Int(digits.dropFirst(6).prefix(2)),
              let hour = Int64(digits.dropFirst(8).prefix(2)), let minute = Int64(digits.dropFirst(10).prefix(2)),
              let second = Int64(digits.dropFirst(12).prefix(2)), let date = CivilDate(year: year, month: month, day: day) else { return nil }
        return Int64(date.daysSinceEpoch) * 86_400 + hour * 3600 + minute * 60 + second
    }

    /// Keys a verifier may still need at `nowSeconds`: the signing key, and each older key until
    /// the longest-lived credential it could have signed has expired.
    public func published(nowSeconds: Int64) -> [Key] {
        keys.enumerated().filter { offset, _ in
            guard offset + 1 < keys.count, let retired = Self.createdAtSeconds(keys[offset + 1].kid) else { return true }
            return nowSeconds < retired + ECardRules.credentialSecondsMax
        }.map(\.element)
    }

    public func jwks(nowSeconds: Int64) -> JWKS {
        JWKS(keys: published(nowSeconds: nowSeconds).map { JWK(publicKey: $0.privateKey.publicKey, kid: $0.kid) })
    }

    public func verificationKeys(nowSeconds: Int64) -> [String: Curve25519.Signing.PublicKey] {
        Dictionary(published(nowSeconds: nowSeconds).map { ($0.kid, $0.privateKey.publicKey) }, uniquingKeysWith: { first, _ in first })
    }
}
