import ArgumentParser
import Crypto
import Foundation
import JoinInCore
import JoinInServer
import JoinInStore

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "keys", abstract: "Credential signing keys.",
                                                    subcommands: [Rotate.self, List.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new signing key. It signs from the next start; older keys stay published until their last credential expires.")
        @Option(help: "Key directory (env JOININ_KEYS; default ./joinin-keys/)") var keys: String?

        func run() async throws {
            let path = keys ?? Environment.value("JOININ_KEYS") ?? "./joinin-keys/"
            try await runReportingErrors {
                let kid = try KeyDirectory.addSigningKey(path: path)
                print("added signing key \(kid); restart the servers to sign with it")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List signing keys, oldest first; the last one signs.")
        @Option(help: "Key directory (env JOININ_KEYS; default ./joinin-keys/)") var keys: String?

        func run() async throws {
            let path = keys ?? Environment.value("JOININ_KEYS") ?? "./joinin-keys/"
            try await runReportingErrors {
                let directory = try KeyDirectory.loadOrCreate(path: path)
                for (offset, key) in directory.signingKeys.enumerated() {
                    let role = offset == directory.signingKeys.count - 1 ? "signing" : "verify-only"
                    print("\(key.kid)  \(role)  x=\(Base64URL.encode(key.key.publicKey.rawRepresentation))")
                }
            }
        }
    }
}

/// `joinin verify`: fully offline, against a JWKS file and optionally a status list token file.
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a permit credential offline. Prints the claims and a verdict; exits 0 only for valid.",
        discussion: "Verdicts: valid, expired, revoked, bad-signature, unknown-key, malformed.")

    @Option(help: "JWKS file (as served at /.well-known/jwks.json)") var jwks: String
    @Option(help: "Status list token file (as served at the credential's status uri)") var statusList: String?
    @Option(help: "Verify as of this Unix time (default: now)") var at: Int64?
    @Argument(help: "The compact credential (JWS), or - to read it from standard input") var credential: String

    func run() async throws {
        let now = at ?? Int64(Date().timeIntervalSince1970)
        let keys: [String: Curve25519.Signing.PublicKey]
        do {
            keys = try JWKS.parse(Array(try Data(contentsOf: URL(fileURLWithPath: jwks)))).keyMap()
        } catch {
            throw CLIError(description: "error: \(jwks) is not a readable JWKS with Ed25519 keys")
        }
        var list: (uri: String, list: StatusList)?
        if let statusList {
            do {
                let token = try String(contentsOfFile: statusList, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                let verified = try StatusListToken.verify(token, keys: keys, now: now)
                list = (verified.uri, verified.list)
            } catch {
                throw CLIError(description: "error: \(statusList) is not a valid status list token for these keys (\(error))")
            }
        }
        var text = credential
        if text == "-" { text = readLine(strippingNewline: true) ?? "" }
        let result = PermitCredential.verify(text.trimmingCharacters(in: .whitespacesAndNewlines), keys: keys, statusList: list, now: now)
        if let claims = result.claims {
            print("permit:      \(claims.permitNumber) (category \(claims.category))")
            print("holder:      \(claims.surname) \(claims.givenNames)\(claims.chineseName.map { " (\($0))" } ?? "") · \(claims.nationality)")
            print("employer:    \(claims.employer.en) / \(claims.employer.zh)")
            print("valid:       \(claims.validFrom) to \(claims.validUntil)")
            print("card:        \(claims.maskedCardNumber ?? "none")")
            print("issuer:      \(claims.issuer)")
            print("credential:  issued \(claims.issuedAt), expires \(claims.expiresAt) (Unix seconds)")
            print("status:      \(claims.statusURI) #\(claims.statusIndex)\(list == nil ? " (not checked: no --status-list)" : "")")
        }
        print("verdict: \(result.verdict.rawValue) — \(result.reason)")
        if result.verdict != .valid { throw ExitCode(1) }
    }
}
