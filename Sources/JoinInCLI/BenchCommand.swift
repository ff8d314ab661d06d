import ArgumentParser
import Crypto
import Foundation
import JoinInCore

/// `joinin bench <scenario>`: one JSON line per scenario with throughput, latency percentiles and
/// the ratio against a baseline measured in the same run, because absolute numbers on shared
/// machines are noise. Build with `-c release` for meaningful figures.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmarks (run with swift run -c release).",
                                                    subcommands: [Credentials.self, Ledger.self, Transit.self])

    struct Credentials: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Permit credentials issued/s and verified/s against raw Ed25519 sign/verify of the same bytes.")

        @Option(help: "Operations per measurement (1,000-1,000,000)") var count: Int = 20_000

        func run() async throws {
            guard (1_000...1_000_000).contains(count) else { throw CLIError(description: "error: --count must be 1,000-1,000,000") }
            let key = Curve25519.Signing.PrivateKey()
            let keys = ["bench": key.publicKey]
            let claims = PermitClaims(
                issuer: "http://127.0.0.1:8080", permitNumber: try PermitNumber(cityCode: "330200", year: 2026, serial: 1).value,
                issuedAt: 1_796_097_600, expiresAt: 1_796_184_000, surname: "SMITH", givenNames: "JANE ANN", chineseName: "史珍",
                nationality: "GBR", category: "B", employer: LocalizedName(en: "Ningbo Port Tech", zh: "宁波港科技"),
                validFrom: CivilDate(year: 2026, month: 12, day: 1) ?? CivilDate(daysSinceEpoch: 0),
                validUntil: CivilDate(year: 2028, month: 11, day: 30) ?? CivilDate(daysSinceEpoch: 0),
                maskedCardNumber: "623091*********0014", statusIndex: 1234, statusURI: "http://127.0.0.1:8080/v1/credential-status/1")
            let credential = try PermitCredential.issue(claims, kid: "bench", key: key)
            let parts = credential.split(separator: ".")
            let signingInput = Array("\(parts[0]).\(parts[1])".utf8)
            let signature = try key.signature(for: signingInput)

            let (rawSign, issue) = try measurePair(count, { _ = try key.signature(for: signingInput) },
                                                   { _ = try PermitCredential.issue(claims, kid: "bench", key: key) })
            let (rawVerify, verify) = try measurePair(count, {
                guard key.publicKey.isValidSignature(signature, for: signingInput) else { throw CLIError(description: "baseline failed") }
            }, {
                guard PermitCredential.verify(credential, keys: keys, statusList: nil, now: 1_796_100_000).verdict == .valid else {
                    throw CLIError(description: "verification failed")
                }
            })
            let line: [String: Any] = [
                "scenario": "credentials", "count": count, "credential_bytes": credential.utf8.count,
                "issued_per_s": issue.perSecond, "issue_p50_us": issue.p50, "issue_p99_us": issue.p99,
                "verified_per_s": verify.perSecond, "verify_p50_us": verify.p50, "verify_p99_us": verify.p99,
                "raw_sign_per_s": rawSign.perSecond, "raw_verify_per_s": rawVerify.perSecond,
                "raw_sign_p50_us": rawSign.p50, "raw_verify_p50_us": rawVerify.p50,
                "issue_ratio_to_raw_sign": (issue.perSecond / rawSign.perSecond * 1000).rounded() / 1000,
                "verify_ratio_to_raw_verify": (verify.perSecond / rawVerify.perSecond * 1000).rounded() / 1000,
                // Medians shrug off preemption by other processes, which throughput on a shared
                // 2-core machine does not.
                "issue_ratio_to_raw_sign_p50": (rawSign.p50 / issue.p50 * 1000).rounded() / 1000,
                "verify_ratio_to_raw_verify_p50": (rawVerify.p50 / verify.p50 * 1000).rounded() / 1000,
            ]
            let data = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }

        struct Measurement {
            let perSecond: Double
            let p50: Double
            let p99: Double
        }

        /// Runs `baseline` and `subject` `count` times each after a short warm-up, interleaved in
        /// rounds of 100 so that whatever else the machine does (frequency changes, other
        /// processes) weighs on both alike; per-operation latencies in microseconds, throughput as
        /// operations per second of the time spent in them.
        func measurePair(_ count: Int, _ baseline: () throws -> Void, _ subject: () throws -> Void) throws -> (Measurement, Measurement) {
            for _ in 0..<min(500, count) {
                try baseline()
                try subject()
            }
            let clock = ContinuousClock()
            var latencies = ([Double](), [Double]())
            latencies.0.reserveCapacity(count)
            latencies.1.reserveCapacity(count)
            func microseconds(_ elapsed: Duration) -> Double {
                Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6
            }
            var done = 0
            while done < count {
                let round = min(100, count - done)
                for _ in 0..<round {
                    let began = clock.now
                    try baseline()
                    latencies.0.append(microseconds(clock.now - began))
                }
                for _ in 0..<round {
                    let began = clock.now
                    try subject()
                    latencies.1.append(microseconds(clock.now - began))
                }
                done += round
            }
            func summary(_ values: [Double]) -> Measurement {
                let sorted = values.sorted()
                func percentile(_ p: Double) -> Double { (sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 10).rounded() / 10 }
                let seconds = values.reduce(0, +) / 1e6
                return Measurement(perSecond: (Double(values.count) / seconds).rounded(), p50: percentile(0.5), p99: percentile(0.99))
            }
            return (summary(latencies.0), summary(latencies.1))
        }
    }
}
