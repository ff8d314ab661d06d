public import Crypto

/// The claims of a signed work permit credential (a JWT with `typ` "joinin-permit+jwt").
public struct PermitClaims: Sendable, Equatable {
    public var issuer: String
    public var permitNumber: String
    public var issuedAt: Int64
    public var expiresAt: Int64
    public var surname: String
    public var givenNames: String
    public var chineseName: String?
    public var nationality: String
    public var category: String
    public var employer: LocalizedName
    public var validFrom: CivilDate
    public var validUntil: CivilDate
    public var maskedCardNumber: String?
    public var statusIndex: Int
    public var statusURI: String

    public init(issuer: String, permitNumber: String, issuedAt: Int64, expiresAt: Int64,
                surname: String, givenNames: String, chineseName: String?, nationality: String,
                category: String, employer: LocalizedName, validFrom: CivilDate, validUntil: CivilDate,
                maskedCardNumber: String?, statusIndex: Int, statusURI: String) {
        self.issuer = issuer
        self.permitNumber = permitNumber
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.surname = surname
        self.givenNames = givenNames
        self.chineseName = chineseName
        self.nationality = nationality
        self.category = category
        self.employer = employer
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.maskedCardNumber = maskedCardNumber
        self.statusIndex = statusIndex
        self.statusURI = statusURI
    }

    /// The same bytes as `json.serialized()`, written directly: issuing is on the hot path, and
    /// building the JSONValue tree first costs a few dozen allocations per credential.
    public func serialized() -> [UInt8] {
        // A value type with mutating methods rather than nested functions capturing the buffer:
        // captured variables pay a dynamic exclusivity check on every append.
        var w = ClaimsWriter()
        w.open()
        w.key("iss", first: true); w.string(issuer)
        w.key("sub"); w.string(permitNumber)
        w.key("iat"); w.number(issuedAt)
        w.key("exp"); w.number(expiresAt)
        w.key("surname"); w.string(surname)
        w.key("given_names"); w.string(givenNames)
        if let chineseName { w.key("chinese_name"); w.string(chineseName) }
        w.key("nationality"); w.string(nationality)
        w.key("category"); w.string(category)
        w.key("employer"); w.open()
        w.key("en", first: true); w.string(employer.en)
        w.key("zh"); w.string(employer.zh); w.close()
        w.key("valid_from"); w.date(validFrom)
        w.key("valid_until"); w.date(validUntil)
        if let maskedCardNumber { w.key("card"); w.string(maskedCardNumber) }
        w.key("status"); w.open()
        w.key("status_list", first: true); w.open()
        w.key("idx", first: true); w.number(Int64(statusIndex))
        w.key("uri"); w.string(statusURI)
        w.close(); w.close(); w.close()
        return w.out
    }

    /// Writes the claims' compact JSON (no whitespace, keys in a fixed order).
    private struct ClaimsWriter {
        var out: [UInt8]

        init() {
            out = []
            out.reserveCapacity(1024)
        }

        mutating func open() { out.append(UInt8(ascii: "{")) }
        mutating func close() { out.append(UInt8(ascii: "}")) }

        mutating func key(_ name: StaticString, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
        }

        mutating func string(_ value: String) { JSONValue.writeString(value, to: &out) }
        mutating func number(_ value: Int64) { JSONValue.writeInteger(value, to: &out) }

        /// As CivilDate.description: "YYYY-MM-DD".
        mutating func date(_ value: CivilDate) {
            out.append(UInt8(ascii: "\""))
            JSONValue.writeInteger(Int64(value.year), width: 4, to: &out)
            out.append(UInt8(ascii: "-"))
            JSONValue.writeInteger(Int64(value.month), width: 2, to: &out)
            out.append(UInt8(ascii: "-"))
            JSONValue.writeInteger(Int64(value.day), width: 2, to: &out)
            out.append(UInt8(ascii: "\""))
        }
    }

    /// Keys in the order iss, sub, iat, exp, surname, given_names, chinese_name?, nationality,
    /// category, employer, valid_from, valid_until, card?, status.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("iss", .string(issuer)),
            ("sub", .string(permitNumber)),
            ("iat", .number(issuedAt)),
            ("exp", .number(expiresAt)),
            ("surname", .string(surname)),
            ("given_names", .string(givenNames)),
        ]
        if let chineseName { members.append(("chinese_name", .string(chineseName))) }
        members.append(("nationality", .string(nationality)))
        members.append(("category", .string(category)))
        members.append(("employer", .object([("en", .string(employer.en)), ("zh", .string(employer.zh))])))
        members.append(("valid_from", .string(validFrom.description)))
        members.append(("valid_until", .string(validUntil.description)))
        if let maskedCardNumber { members.append(("card", .string(maskedCardNumber))) }
        members.append(("status", .object([
            ("status_list", .object([("idx", .number(Int64(statusIndex))), ("uri", .string(statusURI))])),
        ])))
        return .object(members)
    }

    /// Reads claims strictly: every required claim present with its JSON type, optional claims
    /// absent or strings, category A, B or C, nationality three letters A-Z, dates as
    /// `YYYY-MM-DD`, a non-negative status index. Unknown claims are ignored (RFC 7519 §4).
    public init(json: JSONValue) throws {
        guard json.members != nil else { throw CredentialError.malformed("claims are not a JSON object") }
        func string(_ key: String) throws -> String {
            guard let value = json[key]?.string else { throw CredentialError.malformed("claim \(key) missing or not a string") }
            return value
        }
        func optionalString(_ key: String) throws -> String? {
            guard let value = json[key] else { return nil }
            guard let text = value.string else { throw CredentialError.malformed("claim \(key) is not a string") }
            return text
        }
        func int(_ key: String) throws -> Int64 {
            guard let value = json[key]?.int else { throw CredentialError.malformed("claim \(key) missing or not an integer") }
            return value
        }
        func date(_ key: String) throws -> CivilDate {
            guard let value = CivilDate(try string(key)) else { throw CredentialError.malformed("claim \(key) is not a date YYYY-MM-DD") }
            return value
        }

        issuer = try string("iss")
        permitNumber = try string("sub")
        issuedAt = try int("iat")
        expiresAt = try int("exp")
        surname = try string("surname")
        givenNames = try string("given_names")
        chineseName = try optionalString("chinese_name")
        nationality = try string("nationality")
        guard nationality.utf8.count == 3, nationality.utf8.allSatisfy({ (0x41...0x5A).contains($0) }) else {
            throw CredentialError.malformed("claim nationality is not an ISO 3166-1 alpha-3 code")
        }
        category = try string("category")
        guard ["A", "B", "C"].contains(category) else { throw CredentialError.malformed("claim category is not A, B or C") }
        guard let employerJSON = json["employer"], employerJSON.members != nil,
              let en = employerJSON["en"]?.string, let zh = employerJSON["zh"]?.string else {
            throw CredentialError.malformed("claim employer is not {\"en\":…,\"zh\":…}")
        }
        employer = LocalizedName(en: en, zh: zh)
        validFrom = try date("valid_from")
        validUntil = try date("valid_until")
        maskedCardNumber = try optionalString("card")
        guard let statusList = json["status"]?["status_list"], statusList.members != nil,
              let idx = statusList["idx"]?.int, let uri = statusList["uri"]?.string else {
            throw CredentialError.malformed("claim status is not {\"status_list\":{\"idx\":…,\"uri\":…}}")
        }
        guard idx >= 0, let index = Int(exactly: idx) else { throw CredentialError.malformed("claim status idx is negative") }
        statusIndex = index
        statusURI = uri
    }
}

/// The outcome of verifying a permit credential offline.
public enum CredentialVerdict: String, Sendable, CaseIterable {
    case valid
    case expired
    case revoked
    case badSignature = "bad-signature"
    case unknownKey = "unknown-key"
    case malformed
}

/// Issues and verifies permit credentials: compact JWS, EdDSA, `typ` "joinin-permit+jwt".
public enum PermitCredential {
    public static let typ = "joinin-permit+jwt"
    /// How far in the future `iat` may lie (clock skew between issuer and verifier), seconds.
    public static let issuedAtLeeway: Int64 = 300

    public static func issue(_ claims: PermitClaims, kid: String, key: Curve25519.Signing.PrivateKey) throws -> String {
        try JWS.sign(payload: claims.serialized(), kid: kid, typ: typ, key: key)
    }

    public struct Result: Sendable {
        public let verdict: CredentialVerdict
        /// Present whenever the signature verified and the claims could be read.
        public let claims: PermitClaims?
        public let reason: String

        public init(verdict: CredentialVerdict, claims: PermitClaims?, reason: String) {
            self.verdict = verdict
            self.claims = claims
            self.reason = reason
        }
    }

    /// Offline verification. Verdicts in order of precedence: malformed (token unreadable, wrong
    /// `typ`), unknown-key, bad-signature, malformed (claims unreadable, or `iat` more than
    /// `issuedAtLeeway` seconds after `now`), expired (`exp <= now`), revoked (the status list
    /// for the credential's status uri has bit 1 at its index; an index outside the list is
    /// malformed), valid. A status list for another uri is not consulted.
    public static func verify(_ compact: String, keys: [String: Curve25519.Signing.PublicKey], statusList: (uri: String, list: StatusList)?, now: Int64) -> Result {
        let verified: JWS.Verified
        do {
            verified = try JWS.verify(compact, keys: keys, expectedTyp: typ)
        } catch let error as CredentialError {
            switch error {
            case let .malformed(reason): return Result(verdict: .malformed, claims: nil, reason: reason)
            case let .wrongType(found): return Result(verdict: .malformed, claims: nil, reason: "token typ '\(found.prefix(60))' is not \(typ)")
            case let .unknownKey(kid): return Result(verdict: .unknownKey, claims: nil, reason: "no key with kid '\(kid.prefix(60))'")
            case .badSignature: return Result(verdict: .badSignature, claims: nil, reason: "signature does not verify")
            }
        } catch {
            return Result(verdict: .malformed, claims: nil, reason: "token could not be read")
        }

        let claims: PermitClaims
        do {
            claims = try PermitClaims(json: JSONValue.parse(verified.payload))
        } catch let CredentialError.malformed(reason) {
            return Result(verdict: .malformed, claims: nil, reason: reason)
        } catch {
            return Result(verdict: .malformed, claims: nil, reason: "claims could not be read")
        }

        if claims.issuedAt > now, claims.issuedAt - now > issuedAtLeeway {
            return Result(verdict: .malformed, claims: claims, reason: "iat is more than \(issuedAtLeeway) s in the future")
        }
        if claims.expiresAt <= now {
            return Result(verdict: .expired, claims: claims, reason: "expired at \(claims.expiresAt)")
        }
        if let statusList, statusList.uri == claims.statusURI {
            guard let status = statusList.list.status(at: claims.statusIndex) else {
                return Result(verdict: .malformed, claims: claims, reason: "status index \(claims.statusIndex) is outside the status list")
            }
            if status != 0 {
                return Result(verdict: .revoked, claims: claims, reason: "revoked in status list \(statusList.uri)")
            }
        }
        return Result(verdict: .valid, claims: claims, reason: "signature, validity and status checked")
    }
}
