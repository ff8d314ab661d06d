public import Crypto
public import Foundation
import JoinInCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keys that protect data at rest: AES-256-GCM for personal data and stored replies, HMAC-SHA256
/// for blind indexes, and a separate HMAC-SHA256 key for secret digests (session tokens, API keys,
/// idempotency fingerprints), so a copy of the database alone lets nobody test guesses offline.
public struct DataKeys: Sendable {
    public let encryption: SymmetricKey
    public let blindIndex: SymmetricKey
    public let secretDigest: SymmetricKey

    public init(encryption: SymmetricKey, blindIndex: SymmetricKey, secretDigest: SymmetricKey) {
        self.encryption = encryption
        self.blindIndex = blindIndex
        self.secretDigest = secretDigest
    }

    /// Fresh random keys (tests, first start).
    public static func random() -> DataKeys {
        DataKeys(encryption: SymmetricKey(size: .bits256), blindIndex: SymmetricKey(size: .bits256),
                 secretDigest: SymmetricKey(size: .bits256))
    }
}

/// The key directory (`--keys`, default `./joinin-keys/`): created on first start with mode 0700,
/// every key file 0600. Files hold base64 key bytes.
public struct KeyDirectory: Sendable {
    public let path: String
    public let dataKeys: DataKeys
    /// Ed25519 credential signing keys by key id, oldest first.
    public let signingKeys: [(kid: String, key: Curve25519.Signing.PrivateKey)]
    /// True when this call created keys that did not exist before.
    public let created: Bool

    static let encryptionFile = "data-encryption.key"
    static let blindIndexFile = "blind-index.key"
    static let secretDigestFile = "secret-digest.key"
    static let signingDirectory = "signing"

    public static func loadOrCreate(path: String, now: Date = Date()) throws -> KeyDirectory {
        let files = FileManager.default
        var created = false
        if !files.fileExists(atPath: path) {
            // `created` says whether keys were made (below, under the lock), not the folder.
            try files.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let signingPath = path + "/" + signingDirectory
        // Replicas sharing one directory may start at the same moment: without the lock both
        // could find a key missing and each keep its own (the last write wins on disk, each
        // process keeps its key in memory: sessions made on one replica are then unknown on the
        // other). Under the lock the second finds the first one's keys.
        let (encryption, blindIndex, secretDigest, signing) = try withCreationLock(in: path) {
            if !files.fileExists(atPath: signingPath) {
                try files.createDirectory(atPath: signingPath, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            }
            let (encryption, newEncryption) = try loadOrCreateKey(at: path + "/" + encryptionFile) { SymmetricKey(size: .bits256).rawBytes }
            let (blindIndex, newIndex) = try loadOrCreateKey(at: path + "/" + blindIndexFile) { SymmetricKey(size: .bits256).rawBytes }
            // Added after the first release: an existing directory gains it at its next start.
            let (secretDigest, newDigest) = try loadOrCreateKey(at: path + "/" + secretDigestFile) { SymmetricKey(size: .bits256).rawBytes }
            created = created || newEncryption || newIndex || newDigest
            var signing = try loadSigningKeys(in: signingPath)
            if signing.isEmpty {
                let key = Curve25519.Signing.PrivateKey()
                let kid = keyID(for: key, now: now)
                try writeKeyFile(at: signingPath + "/" + kid + ".ed25519", bytes: Array(key.rawRepresentation))
                signing = [(kid, key)]
                created = true
            }
            return (encryption, blindIndex, secretDigest, signing)
        }
        return KeyDirectory(
            path: path,
            dataKeys: DataKeys(encryption: SymmetricKey(data: encryption), blindIndex: SymmetricKey(data: blindIndex),
                               secretDigest: SymmetricKey(data: secretDigest)),
            signingKeys: signing, created: created)
    }

    /// Runs `body` holding an exclusive `flock` on `<path>/.create.lock`: key creation is
    /// serialised between processes (and threads) that share the directory.
    static func withCreationLock<T>(in path: String, _ body: () throws -> T) throws -> T {
        let lockPath = path + "/.create.lock"
        let descriptor = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw KeyError.unwritable(lockPath) }
        defer { close(descriptor) }
        var status: Int32
        repeat { status = flock(descriptor, LOCK_EX) } while status != 0 && errno == EINTR
        guard status == 0 else { throw KeyError.unwritable(lockPath + " (cannot lock)") }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }

    /// Adds a new signing key (it becomes the signing key at the next start) and returns its id.
    public static func addSigningKey(path: String, now: Date = Date()) throws -> String {
        let directory = try loadOrCreate(path: path, now: now)
        let key = Curve25519.Signing.PrivateKey()
        var kid = keyID(for: key, now: now)
        // Ids must sort after every existing one, even when the clock has not moved on.
        if let last = directory.signingKeys.last?.kid, kid <= last {
            kid = keyID(for: key, now: now.addingTimeInterval(1))
            guard kid > last else { throw KeyError.unwritable(path + "/" + signingDirectory + " (clock behind the newest key)") }
        }
        try writeKeyFile(at: path + "/" + signingDirectory + "/" + kid + ".ed25519", bytes: Array(key.rawRepresentation))
        return kid
    }

    /// Key ids sort by creation: `YYYYMMDDHHMMSS-` + 8 hex of the public key's SHA-256.
    static func keyID(for key: Curve25519.Signing.PrivateKey, now: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss"
        let digest = SHA256.hash(data: key.publicKey.rawRepresentation)
        return formatter.string(from: now) + "-" + Hex.lowercase(digest.prefix(4))
    }

    static func loadSigningKeys(in path: String) throws -> [(kid: String, key: Curve25519.Signing.PrivateKey)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".ed25519") }.sorted()
        return try names.map { name in
            let bytes = try readKeyFile(at: path + "/" + name)
            return (String(name.dropLast(".ed25519".count)), try Curve25519.Signing.PrivateKey(rawRepresentation: bytes))
        }
    }

    static func loadOrCreateKey(at path: String, make: () -> [UInt8]) throws -> ([UInt8], Bool) {
        if FileManager.default.fileExists(atPath: path) {
            let bytes = try readKeyFile(at: path)
            guard bytes.count == 32 else { throw KeyError.malformed(path) }
            return (bytes, false)
        }
        let bytes = make()
        try writeKeyFile(at: path, bytes: bytes)
        return (bytes, true)
    }

    static func readKeyFile(at path: String) throws -> [UInt8] {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        if let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw KeyError.permissive(path, mode)
        }
        let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let data = Data(base64Encoded: text) else { throw KeyError.malformed(path) }
        return Array(data)
    }

    static func writeKeyFile(at path: String, bytes: [UInt8]) throws {
        let text = Data(bytes).base64EncodedString() + "\n"
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw KeyError.unwritable(path)
        }
    }

    public enum KeyError: Error, CustomStringConvertible {
        case malformed(String)
        case permissive(String, Int)
        case unwritable(String)
        /// The database was set up with other keys.
        case mismatch

        public var description: String {
            switch self {
            case .malformed(let path): return "key file \(path) is not a base64 32-byte key"
            case .permissive(let path, let mode): return "key file \(path) has mode \(String(mode, radix: 8)); it must be 0600"
            case .unwritable(let path): return "cannot write key file \(path)"
            case .mismatch:
                return "the keys directory does not match this database (it was set up with other keys): start with --keys pointing at the directory the database was created with"
            }
        }
    }
}

extension SymmetricKey {
    var rawBytes: [UInt8] { withUnsafeBytes { Array($0) } }
}

/// Encrypts personal data columns and computes the blind indexes used to look them up.
struct FieldCipher: Sendable {
    let keys: DataKeys
    /// HMAC-SHA256 keyed with `keys.secretDigest`, nothing hashed yet.
    let keyedMAC: HMAC<SHA256>
    static let version = "v1:"

    init(keys: DataKeys) {
        self.keys = keys
        self.keyedMAC = HMAC<SHA256>(key: keys.secretDigest)
    }

    /// AES-256-GCM, random nonce; stored as `v1:` + base64(nonce ‖ ciphertext ‖ tag). The column
    /// name is bound as associated data, so a ciphertext copied to another column does not open.
    func seal(_ plaintext: String, column: String) throws -> String {
        let box = try AES.GCM.seal(Data(plaintext.utf8), using: keys.encryption, authenticating: Data(column.utf8))
        guard let combined = box.combined else { throw StoreError.corrupt("AES-GCM produced no combined form") }
        return Self.version + combined.base64EncodedString()
    }

    func open(_ stored: String, column: String) throws -> String {
        guard stored.hasPrefix(Self.version), let data = Data(base64Encoded: String(stored.dropFirst(Self.version.count))) else {
            throw StoreError.corrupt("\(column) is not a sealed value")
        }
        let box = try AES.GCM.SealedBox(combined: data)
        let plain = try AES.GCM.open(box, using: keys.encryption, authenticating: Data(column.utf8))
        guard let text = String(data: plain, encoding: .utf8) else { throw StoreError.corrupt("\(column) is not UTF-8") }
        return text
    }

    /// The stored form of a bearer secret (session token, terminal API key): HMAC-SHA256 under the
    /// secret-digest key over the hex SHA-256 of the secret. The inner SHA-256 is what earlier
    /// versions stored, so migration 6 re-keys those rows without knowing the secrets.
    func secretDigest(_ secret: String) -> String {
        // Every authenticated request computes this: hashed from the strings' own UTF-8 storage
        // and hexed from the digests' bytes, with no `Data` in between.
        var text = secret
        let inner = text.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        return keyedDigest(ofLegacyHex: inner.withUnsafeBytes { Hex.lowercase($0) })
    }

    func keyedDigest(ofLegacyHex hex: String) -> String {
        // A copy of the keyed state: the key's two blocks are not hashed again per call (the
        // digests copy their context on first write, so the shared original is never changed).
        var mac = keyedMAC
        var text = hex
        text.withUTF8 { mac.update(data: UnsafeRawBufferPointer($0)) }
        return mac.finalize().withUnsafeBytes { Hex.lowercase($0) }
    }

    /// A keyed fingerprint of arbitrary bytes under a domain label (idempotency request fingerprints).
    func fingerprint(_ data: Data, domain: String) -> String {
        var mac = keyedMAC
        mac.update(data: Data((domain + "\u{0}").utf8))
        mac.update(data: data)
        return Hex.lowercase(mac.finalize())
    }

    /// HMAC-SHA256 over a domain label and the normalised value, hex: equal inputs find each other
    /// without the store holding the value.
    func blindIndex(_ value: String, domain: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data((domain + "\u{0}" + value).utf8), using: keys.blindIndex)
        return Hex.lowercase(mac)
    }
}
