/// Why a credential, key set, status list or compressed stream could not be accepted.
public enum CredentialError: Error, Sendable, Equatable {
    /// The input cannot be read: syntax, encoding, missing or mistyped field, limits exceeded.
    case malformed(String)
    /// The token names a key id (`kid`) that is not in the verifier's key set.
    case unknownKey(String)
    /// The signature does not verify with the named key.
    case badSignature
    /// The token's `typ` header is not the one expected here (explicit typing, RFC 8725 §3.11).
    case wrongType(String)
}
