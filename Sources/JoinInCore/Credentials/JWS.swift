public import Crypto

/// The protected header of a verified JWS.
public struct JWSHeader: Sendable, Equatable {
    public let alg: String
    public let kid: String
    public let typ: String
}

/// JWS Compact Serialization (RFC 7515) with Ed25519 signatures only (RFC 8037 "EdDSA", and the
/// fully specified "Ed25519" of RFC 9864 when verifying). Follows the JWT BCP (RFC 8725): the
/// algorithm is fixed, `none` and every other algorithm are refused, and tokens are explicitly
/// typed.
public enum JWS {
    /// Longest compact serialization `verify` accepts, in bytes.
    public static let maxCompactLength = 16 * 1024

    /// Signs `payload`. The header is serialized exactly as `{"alg":"EdDSA","kid":…,"typ":…}`.
    public static func sign(payload: [UInt8], kid: String, typ: String, key: Curve25519.Signing.PrivateKey) throws -> String {
        // The header as JSONValue would serialise {"alg":"EdDSA","kid":…,"typ":…}, written directly.
        var header: [UInt8] = []
        header.reserveCapacity(32 + kid.utf8.count + typ.utf8.count)
        header.append(contentsOf: #"{"alg":"EdDSA","kid":"#.utf8)
        JSONValue.writeString(kid, to: &header)
        header.append(contentsOf: #","typ":"#.utf8)
        JSONValue.writeString(typ, to: &header)
        header.append(UInt8(ascii: "}"))
        // Built as bytes straight into one buffer: the signing input is signed as-is and the
        // signature appended, with one String made at the end.
        var compact: [UInt8] = []
        compact.reserveCapacity(Base64URL.encodedCount(header.count) + Base64URL.encodedCount(payload.count) + 88)
        header.withUnsafeBytes { Base64URL.append(encoding: $0, to: &compact) }
        compact.append(UInt8(ascii: "."))
        payload.withUnsafeBytes { Base64URL.append(encoding: $0, to: &compact) }
        let signature = try key.signature(for: compact)
        compact.append(UInt8(ascii: "."))
        signature.withUnsafeBytes { Base64URL.append(encoding: $0, to: &compact) }
        return String(decoding: compact, as: UTF8.self)
    }

    public struct Verified: Sendable {
        public let header: JWSHeader
        public let payload: [UInt8]
    }

    /// Parses and verifies a compact JWS.
    ///
    /// Checks, in order: length ≤ `maxCompactLength` and exactly three segments; the header is
    /// canonical base64url of a JSON object with string `alg`, `kid` and `typ` and no `crit`;
    /// `alg` is "EdDSA" or "Ed25519" (else `.malformed`); `typ` names `expectedTyp`
    /// (ASCII case-insensitive; an `application/` prefix is ignored as RFC 7515 §4.1.9 says,
    /// else `.wrongType`); `kid` is in `keys` (else `.unknownKey`); the signature segment is
    /// canonical base64url (else `.malformed`) and verifies over the ASCII of the first two
    /// segments (else `.badSignature`); the payload segment is canonical base64url.
    /// `lengthMax`: credentials and codes are small; a signed deny list may be megabytes.
    public static func verify(_ compact: String, keys: [String: Curve25519.Signing.PublicKey], expectedTyp: String,
                              lengthMax: Int = maxCompactLength) throws -> Verified {
        let bytes = Array(compact.utf8)
        guard bytes.count <= lengthMax else { throw CredentialError.malformed("JWS longer than \(lengthMax) bytes") }
        // Exactly two dots; the segments are slices of `bytes`, not copies.
        guard let firstDot = bytes.firstIndex(of: UInt8(ascii: ".")),
              let secondDot = bytes[(firstDot + 1)...].firstIndex(of: UInt8(ascii: ".")),
              !bytes[(secondDot + 1)...].contains(UInt8(ascii: ".")) else {
            throw CredentialError.malformed("JWS must have exactly three segments")
        }
        let headerSegment = bytes[..<firstDot], payloadSegment = bytes[(firstDot + 1)..<secondDot]
        let signatureSegment = bytes[(secondDot + 1)...]

        guard let headerBytes = Base64URL.decode(utf8: headerSegment) else {
            throw CredentialError.malformed("JWS header is not base64url")
        }
        let headerJSON = try JSONValue.parse(headerBytes)
        guard headerJSON.members != nil else { throw CredentialError.malformed("JWS header is not a JSON object") }
        guard let alg = headerJSON["alg"]?.string else { throw CredentialError.malformed("JWS header has no string alg") }
        guard headerJSON["crit"] == nil else { throw CredentialError.malformed("JWS header has crit, which is not supported") }
        guard alg == "EdDSA" || alg == "Ed25519" else { throw CredentialError.malformed("JWS algorithm '\(alg.prefix(20))' is not accepted") }
        guard let kid = headerJSON["kid"]?.string else { throw CredentialError.malformed("JWS header has no string kid") }
        guard let typ = headerJSON["typ"]?.string else { throw CredentialError.malformed("JWS header has no string typ") }
        guard mediaTypeMatches(typ, expectedTyp) else {
            throw CredentialError.wrongType(typ)
        }
        guard let key = keys[kid] else { throw CredentialError.unknownKey(kid) }
        guard let signature = Base64URL.decode(utf8: signatureSegment) else {
            throw CredentialError.malformed("JWS signature is not base64url")
        }
        // The signing input is the compact form up to the second dot: no copy needed.
        let signingInput = bytes[..<(headerSegment.count + 1 + payloadSegment.count)]
        guard signature.count == 64, key.isValidSignature(signature, for: signingInput) else {
            throw CredentialError.badSignature
        }
        guard let payload = Base64URL.decode(utf8: payloadSegment) else {
            throw CredentialError.malformed("JWS payload is not base64url")
        }
        return Verified(header: JWSHeader(alg: alg, kid: kid, typ: typ), payload: payload)
    }

    /// Media type comparison for `typ`: ASCII case-insensitive, with "application/" implied.
    static func mediaTypeMatches(_ a: String, _ b: String) -> Bool {
        normalizedMediaType(a) == normalizedMediaType(b)
    }

    private static func normalizedMediaType(_ text: String) -> [UInt8] {
        var lower = text.utf8.map { (0x41...0x5A).contains($0) ? $0 + 0x20 : $0 }
        let prefix = Array("application/".utf8)
        if lower.starts(with: prefix) { lower.removeFirst(prefix.count) }
        return lower
    }
}
